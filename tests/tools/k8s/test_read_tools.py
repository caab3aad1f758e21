"""Each read tool on a real sandbox API server (demo-shop): what it returns, that cluster text is fenced, that
secrets are redacted, and that refusals and bad arguments come back as observations, never exceptions."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.server import SandboxServer
from tools.k8s import fieldpath
from tools.k8s.client import Kube, Principal
from tools.k8s.read_tools import READ_TOOLS, summarize_log
from tools.k8s.redact import MASK, Redactor
from tools.tool import Tool

T: dict[str, Tool] = {t.name: t for t in READ_TOOLS}
FENCE = "```untrusted cluster data"


@pytest.fixture(scope="module")
def kc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    server = SandboxServer(scenarios=["demo-shop"], speed=50.0).start()
    path = server.write_kubeconfig(tmp_path_factory.mktemp("rt") / "kubeconfig")
    kube = Kube.from_kubeconfig(str(path))
    kube.request("POST", "/api/v1/namespaces/shop/secrets", {
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "api-key", "namespace": "shop"},
        "stringData": {"token": "tok-ABCDEF123456"}})
    time.sleep(2.5)  # crash loops and restarts happen in sandbox time
    yield path
    server.stop()


@pytest.fixture()
def kube(kc: Path) -> Kube:
    return Kube.from_kubeconfig(str(kc))


def test_declarations_are_complete_and_schemas_are_plain_json():
    for t in READ_TOOLS:
        assert t.name.startswith("k8s_") and not t.mutating and "Example" in t.description
        s = t.schema()["function"]["parameters"]
        assert s["type"] == "object" and "title" not in s


def test_list_with_selectors_where_and_columns(kube):
    r = T["k8s_list"].call(kube, {"kind": "pods", "namespace": "shop", "label_selector": "app=web"})
    assert r.data["count"] == 3 and r.text.startswith(FENCE) and "READY  STATUS  RESTARTS" in r.text
    r = T["k8s_list"].call(kube, {"kind": "Pod", "namespace": "shop", "where": ["status.phase!=Running"]})
    assert all(not row["name"].startswith("web-") for row in r.data["items"])
    r = T["k8s_list"].call(kube, {"kind": "deploy", "namespace": "shop", "fields": ["spec.replicas"]})
    assert r.data["kind"] == "Deployment" and "spec.replicas" in r.text


def test_get_fields_by_jsonpath_like_paths(kube):
    r = T["k8s_get"].call(kube, {"kind": "Deployment", "name": "web", "namespace": "shop",
                                 "fields": ["spec.template.spec.containers[name=web].image", "{.spec.replicas}",
                                            "spec.nope"]})
    assert r.data["fields"]["spec.template.spec.containers[name=web].image"] == "nginx:1.27"
    assert r.data["fields"]["spec.nope"] is None and "(absent)" in r.text


def test_describe_has_states_and_events(kube):
    pod = next(p["metadata"]["name"] for p in kube.list("Pod", "shop", "app=checkout"))
    r = T["k8s_describe"].call(kube, {"kind": "Pod", "name": pod, "namespace": "shop"})
    assert "CrashLoopBackOff" in r.text and "Events:" in r.text and r.text.startswith(FENCE)


def test_events_and_warnings(kube):
    r = T["k8s_events"].call(kube, {"namespace": "shop", "warnings_only": True})
    assert r.data["events"] and all(e.startswith("Warning") for e in r.data["events"])


def test_logs_by_workload_name_and_previous_container(kube):
    r = T["k8s_logs"].call(kube, {"namespace": "shop", "pod": "checkout", "previous": True})
    assert not r.error and r.data["pod"].startswith("checkout-") and "(previous container)" in r.text
    assert any(t["error"] for t in r.data["templates"])


def test_log_summary_fits_the_budget_and_keeps_the_failure():
    lines = [f"INFO served /items/{i % 31} in {i % 17}ms id={i:08x}" for i in range(50_000)]
    lines[-1] = "FATAL out of disk space writing /var/lib/db"
    text, data = summarize_log("\n".join(lines), max_tokens=1000)
    assert len(text) / 3.5 <= 1000 and "FATAL out of disk space" in text and data["lines"] == 50_000


def test_top_can_i_who_can(kube):
    assert T["k8s_top"].call(kube, {"namespace": "shop"}).data["rows"][0]["name"].startswith("report-cruncher")
    r = T["k8s_can_i"].call(kube, {"verb": "list", "resource": "configmaps", "namespace": "shop",
                                   "user": "system:serviceaccount:shop:orders"})
    assert r.data["allowed"] is False and r.text.startswith("no:")
    assert T["k8s_can_i"].call(kube, {"verb": "delete", "resource": "pods", "namespace": "shop"}).data["allowed"]
    r = T["k8s_who_can"].call(kube, {"verb": "delete", "resource": "secrets", "namespace": "shop"})
    assert any(s["subject"] == "ServiceAccount shop/ci-bot" for s in r.data["subjects"])


def test_discovery_explain_history_diff(kube):
    assert "Deployment" in T["k8s_api_resources"].call(kube, {"group": "apps"}).data["resources"]
    r = T["k8s_explain"].call(kube, {"kind": "Deployment", "field": "spec.replicas"})
    assert "integer" in r.text
    r = T["k8s_rollout_history"].call(kube, {"name": "web", "namespace": "shop"})
    assert r.data["revisions"][0]["images"] == "nginx:1.27"
    before = kube.get("ConfigMap", "shop", "checkout-config")
    r = T["k8s_diff"].call(kube, {"manifest": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: checkout-config, "
                                              "namespace: shop}\ndata: {LOG_LEVEL: debug}\n"})
    assert "+  LOG_LEVEL: debug" in r.data["diff"]
    assert kube.get("ConfigMap", "shop", "checkout-config")["data"] == before["data"]  # a dry run only


def test_secrets_are_redacted_everywhere(kube):
    r = T["k8s_get"].call(kube, {"kind": "Secret", "name": "api-key", "namespace": "shop"})
    assert "tok-ABCDEF123456" not in r.text + str(r.data) and MASK in r.text


def test_refusals_and_bad_arguments_are_observations(kc):
    bob = Kube.from_kubeconfig(str(kc), principal=Principal("bob"))
    r = T["k8s_list"].call(bob, {"kind": "Secret", "namespace": "shop"})
    assert r.error and r.text.startswith("ERROR: Forbidden (403)")
    assert T["k8s_get"].call(bob, {"kind": "Deployment"}).text.startswith("ERROR: invalid arguments")
    assert "no resource type" in T["k8s_list"].call(bob, {"kind": "widgets"}).text
    assert "not valid JSON" in T["k8s_list"].call(bob, '{"kind": ').text
    assert "cannot read the condition" in T["k8s_list"].call(bob, {"kind": "Pod", "where": ["phase"]}).text


def test_redactor_by_kind_name_and_shape():
    red = Redactor()
    obj = red.any({"kind": "Secret", "data": {"p": "aHVudGVyMi1wYXNzd29yZA=="}})
    assert obj["data"] == {"p": MASK}
    assert red.text("user typed hunter2-password here") == f"user typed {MASK} here"  # remembered value
    env = red.any({"env": [{"name": "DB_PASSWORD", "value": "x1"}, {"name": "MODE", "value": "prod"}]})
    assert env["env"][0]["value"] == MASK and env["env"][1]["value"] == "prod"
    assert MASK in red.text("key AKIAIOSFODNN7EXAMPLE and api_key=abc and Bearer eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl")
    assert red.text("pod checkout-7d9f8b6c5d-x2x9z restarted") == "pod checkout-7d9f8b6c5d-x2x9z restarted"


def test_fieldpath_numeric_form_and_conditions():
    obj = {"spec": {"containers": [{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]}, "status": {}}
    assert fieldpath.numeric(obj, "spec.containers[name=b].image") == "spec.containers.1.image"
    assert fieldpath.get(obj, "spec.containers[*].image") == ["x", "y"]
    assert fieldpath.holds(obj, fieldpath.condition("status.succeeded!=1"))
    assert not fieldpath.holds(obj, fieldpath.condition("status.succeeded>=1"))
