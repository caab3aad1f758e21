"""The side panel's renderings, the gateway-usage diff (on the gateway's real counters), kubeconfig contexts, and
the `kubesage chat` command line."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import yaml

from kubesage.cli import build_parser
from llm.accounting import CallRecord, Metrics
from tui.format import (
    NO_LLM,
    call_detail,
    call_title,
    error_text,
    kube_contexts,
    llm_snapshot,
    llm_usage,
    route_text,
)


def test_route_and_call_renderings():
    text = route_text({"agents": ["logs", "rbac"], "confidence": 0.875, "margin": 0.1, "method": "embedding",
                       "unsupported": ["iam"]})
    assert text.splitlines() == ["agents: logs, rbac", "confidence: 0.88 (margin 0.10)", "method: embedding",
                                 "not available: iam"]
    call = {"method": "GET", "path": "/api/v1/namespaces/shop/pods", "query": {"labelSelector": "app=web"},
            "status": 403, "agent": "logs"}
    assert call_title(call) == "GET /api/v1/namespaces/shop/pods → 403"
    assert "  labelSelector=app=web" in call_detail(call) and "status: 403 (error)" in call_detail(call)
    assert call_title({**call, "status": 0}).endswith("no response")


def test_llm_usage_counts_only_this_turns_calls():
    metrics = Metrics()
    llm = SimpleNamespace(gateway=SimpleNamespace(metrics=metrics))
    metrics.record(CallRecord(served_by="local", category="diagnosis", policy="local-first", model="m"))
    before = llm_snapshot(llm)
    assert llm_usage(before, llm_snapshot(llm)) == NO_LLM
    metrics.record(CallRecord(served_by="cache-semantic", category="diagnosis", policy="local-first", model="m"))
    metrics.record(CallRecord(served_by="local", category="diagnosis", policy="local-first", model="m"))
    metrics.record(CallRecord(served_by="cloud", category="routing", policy="local-first", model="c"))
    assert llm_usage(before, llm_snapshot(llm)).splitlines() == [
        "cache-semantic/diagnosis: 1", "cloud/routing: 1", "local/diagnosis: 1"]
    assert llm_snapshot(None) is None and llm_usage(None, None) == NO_LLM


def test_kube_contexts(tmp_path: Path):
    kc = tmp_path / "kc"
    kc.write_text(yaml.safe_dump({"contexts": [{"name": "a", "context": {}}, {"name": "b", "context": {}}],
                                  "current-context": "b"}))
    assert kube_contexts(kc) == (["a", "b"], "b")
    assert kube_contexts(tmp_path / "missing") == ([], None)
    (tmp_path / "bad").write_text("{: not yaml")
    assert kube_contexts(tmp_path / "bad") == ([], None)


def test_error_text_is_one_line():
    assert error_text(RuntimeError("boom\n  at line 3")) == "Something went wrong: boom"
    assert error_text(ValueError()) == "Something went wrong: ValueError"


def test_chat_command_is_registered():
    args = build_parser().parse_args(["chat", "--as", "alice", "-n", "shop", "--context", "c", "--scenario",
                                      "demo-shop"])
    assert (args.as_user, args.namespace, args.context, args.scenario) == ("alice", "shop", "c", "demo-shop")
    assert args.func.__module__ == "kubesage.cli_tui"
