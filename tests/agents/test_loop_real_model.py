"""The agent loop with a real model: the bundled SmolLM2-135M served by a real `llama_cpp.server` as the cloud tier
(native tool calls, and the constrained-JSON shim over `response_format`), and in process as the local tier with
the shim (llama.cpp grammars).

The claim is plumbing, not quality: the loop runs end to end on a real model, ends within its budget, proposes
nothing that is applied, and returns a result. What the tiny model actually did is printed (run with -s) and
recorded in docs/architecture.md (Agent loop). The two shim runs cost a minute or more each on two shared cores
(grammar-constrained decoding of a ~2k-token prompt), so they run when KUBESAGE_REAL_SHIM_TESTS=1; the native
tool-call run is always on."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agents.context import AgentContext
from agents.entities import Entities
from agents.loop import Budget, run_loop, tools_for
from llm.accounting import Metrics
from llm.config import LLMConfig
from llm.gateway import Gateway
from llm.local import LocalTier
from sandbox.server import SandboxServer
from tests.llm.conftest import CLOUD_ALIAS, make_cloud, start_llama_server, stop_process
from tools.k8s.client import Kube

BUDGET = Budget(max_steps=2, wall_s=120.0, observation_tokens=500, completion_tokens=96)
SHIM_ON = os.environ.get("KUBESAGE_REAL_SHIM_TESTS") == "1"
slow_shim = pytest.mark.skipif(not SHIM_ON, reason="set KUBESAGE_REAL_SHIM_TESTS=1 (a minute or more per run)")
TEXT = "why is checkout crashing in shop?"


@pytest.fixture(scope="module")
def kube(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kube]:
    server = SandboxServer(scenarios=["demo-shop"], speed=50.0).start()
    kc: Path = server.write_kubeconfig(tmp_path_factory.mktemp("real") / "kubeconfig")
    time.sleep(1.5)
    yield Kube.from_kubeconfig(str(kc))
    server.stop()


@pytest.fixture(scope="module")
def llama_url(local_model, tmp_path_factory) -> Iterator[str]:
    proc, url = start_llama_server(local_model.path, tmp_path_factory.mktemp("srv") / "server.log")
    yield url
    stop_process(proc)


@pytest.fixture(scope="module")
def local_model(tmp_path_factory):
    from llm.local import resolve_model

    return resolve_model("smollm2", tmp_path_factory.mktemp("models"))


def _run(kube: Kube, gateway: Gateway) -> Any:
    ctx = AgentContext(kube, TEXT, Entities(namespace="shop"), llm=gateway)
    toolset = [t for t in tools_for("logs") if t.name in ("k8s_list", "k8s_logs", "k8s_describe")]
    generation = kube.get("Deployment", "shop", "checkout")["metadata"]["generation"]
    res = run_loop(ctx, "logs", budget=BUDGET, tools=toolset)
    assert res is not None
    loop = res.data["loop"]
    print(f"\n{loop['mode']} via {loop['policy']}: steps={loop['steps']} tokens={loop['tokens']} "
          f"stopped_by={loop['stopped_by']} calls={[(c['tool'], bool(c.get('error'))) for c in loop['calls']]} "
          f"model_ms={loop['model_ms']:.0f} answer={res.answer[:120]!r}")
    assert loop["steps"] <= BUDGET.max_steps
    assert loop["stopped_by"] in ("answer", "max_steps", "max_tokens", "wall_time", "repeat")
    assert res.answer
    assert kube.get("Deployment", "shop", "checkout")["metadata"]["generation"] == generation  # nothing applied
    return res


@pytest.mark.parametrize("shim", [False, pytest.param(True, marks=slow_shim)], ids=["native-tools", "json-shim"])
def test_loop_against_llama_cpp_server(kube, llama_url, monkeypatch, shim):
    monkeypatch.setenv("KUBESAGE_LLM_CLOUD_BASE_URL", llama_url)
    monkeypatch.setenv("KUBESAGE_LOOP_SHIM", "1" if shim else "0")
    gw = Gateway(LLMConfig(use_cache=False), local=None, cloud=make_cloud(llama_url, retries=0, timeout_s=60),
                 metrics=Metrics())
    res = _run(kube, gw)
    assert res.data["loop"]["mode"] == ("shim" if shim else "tools")
    assert gw.cloud.name == CLOUD_ALIAS


@slow_shim
def test_loop_on_the_local_tier_with_the_shim(kube, local_model, monkeypatch):
    monkeypatch.delenv("KUBESAGE_LLM_CLOUD_BASE_URL", raising=False)
    monkeypatch.setenv("KUBESAGE_LOOP_LOCAL", "1")
    tier = LocalTier(local_model, n_ctx=4096, threads=1, max_tokens=64)
    res = _run(kube, Gateway(LLMConfig(use_cache=False), local=tier, metrics=Metrics()))
    assert res.data["loop"]["mode"] == "shim" and res.data["loop"]["policy"] == "local-only"
