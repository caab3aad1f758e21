"""tools.serving: manifests with each engine's arguments, Prometheus parsing, the replica rule and its
hysteresis, and LoRA adapters loaded into a (simulated) vLLM on the sandbox as an approved action."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from agents import serving as serving_agent
from agents.context import build_context
from sandbox.server import SandboxServer
from tools import serving as S
from tools.k8s.actions import run_action
from tools.k8s.client import Kube, KubeError


def test_manifests_carry_each_engines_arguments():
    dep, svc = S.manifests(S.ModelServerSpec("smol", "ml", replicas=2))
    c = dep["spec"]["template"]["spec"]["containers"][0]
    assert c["image"] == S.LLAMA_IMAGE and dep["spec"]["replicas"] == 2
    assert {"-m", "--port", "8080", "--host", "0.0.0.0", "--metrics", "--slots"} <= set(c["args"])
    assert svc["spec"]["ports"][0]["port"] == 8080 and S.engine_of(dep) == "llama.cpp"
    dep, _ = S.manifests(S.ModelServerSpec("v", "ml", engine="vllm", model="Qwen/Qwen2.5-0.5B", enable_lora=True))
    c = dep["spec"]["template"]["spec"]["containers"][0]
    assert c["args"][:2] == ["--model", "Qwen/Qwen2.5-0.5B"] and "--enable-lora" in c["args"]
    assert "--served-model-name" in c["args"] and c["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert S.port_of(dep) == 8000 and S.engine_of(dep) == "vllm"
    with pytest.raises(ValueError):
        S.manifests(S.ModelServerSpec("x", "ml", engine="tgi"))


def test_parse_prometheus_sums_label_sets():
    text = ('# HELP vllm:num_requests_running x\nvllm:num_requests_running{model_name="a"} 2.0\n'
            'vllm:num_requests_running{model_name="b"} 1\nvllm:gpu_cache_usage_perc{model_name="a"} 0.5\n'
            'garbage line\n')
    assert S.parse_prometheus(text) == {"vllm:num_requests_running": 3.0, "vllm:gpu_cache_usage_perc": 0.5}


def _r(running: float, waiting: float, kv: float, slots: int = 1) -> S.ReplicaMetrics:
    return S.ReplicaMetrics("p", running, waiting, kv, slots)


def test_recommender_scales_up_on_queue_or_kv_and_down_only_after_sustained_idle():
    rec = S.Recommender(max_replicas=6, down_after=3)
    up = rec.recommend(2, [_r(1, 3, 0.3), _r(1, 2, 0.3)])
    assert (up.action, up.replicas) == ("up", 6) and "queueing" in up.reason  # ceil(7 / 1) clamped to 6
    kv = rec.recommend(2, [_r(1, 0, 0.9), _r(1, 0, 0.2)])
    assert (kv.action, kv.replicas) == ("up", 3) and "KV" in kv.reason
    band = rec.recommend(3, [_r(1, 0, 0.6)] * 3)
    assert band.action == "hold"  # 60% KV sits between the thresholds: no change either way
    idle = [_r(0, 0, 0.05)] * 3
    assert [rec.recommend(3, idle).action for _ in range(3)] == ["hold", "hold", "down"]
    assert rec.recommend(3, [_r(0, 0, 0.05)] * 3).action == "hold", "the idle count restarts after a step"
    assert S.Recommender().recommend(1, idle[:1]).action == "hold", "never below min_replicas"
    assert S.Recommender().recommend(2, [S.ReplicaMetrics("p", error="down")]).reason == "no replica reported metrics"


@pytest.fixture(scope="module")
def vllm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SandboxServer, Kube]]:
    server = SandboxServer(scenarios=["default"], speed=50.0).start()
    kc = server.write_kubeconfig(tmp_path_factory.mktemp("tools-serving") / "kubeconfig")
    kube = Kube.from_kubeconfig(str(kc))
    kube.request("POST", "/api/v1/namespaces", {"metadata": {"name": "ml"}})
    dep, svc = S.manifests(S.ModelServerSpec("vllm-server", "ml", engine="vllm", model="Qwen/Qwen2.5-0.5B",
                                             replicas=2, enable_lora=True))
    kube.request("POST", "/apis/apps/v1/namespaces/ml/deployments", dep)
    kube.request("POST", "/api/v1/namespaces/ml/services", svc)
    deadline = time.monotonic() + 60
    while len(S.ready_pods(kube, dep)) < 2:
        assert time.monotonic() < deadline, "vLLM replicas not ready"
        time.sleep(0.3)
    yield server, kube
    server.stop()


def test_load_and_unload_adapter_through_the_agent_and_approval(vllm):
    _, kube = vllm
    res = serving_agent.run(build_context(kube, "load adapter sql-lora into vllm-server", "ml"))
    (m,) = res.mutations
    assert m.verb == "action" and m.body["action"] == "serving.load_adapter"
    assert m.body["args"] == {"namespace": "ml", "name": "vllm-server", "lora_name": "sql-lora",
                              "lora_path": "/adapters/sql-lora"}
    assert m.diff.count("+ pod ml/vllm-server-") == 2
    out = run_action(kube, m)  # what the supervisor runs after the person approves
    assert len(out) == 2 and all(r["status"] == 200 for r in out.values())
    dep = kube.get("Deployment", "ml", "vllm-server")
    assert set(map(tuple, S.loaded_adapters(kube, dep).values())) == {("sql-lora",)}
    listed = serving_agent.run(build_context(kube, "which lora adapters are loaded", "ml"))
    assert "sql-lora" in listed.answer
    with pytest.raises(KubeError) as e:
        run_action(kube, m)  # loading it twice: vLLM's own refusal, per replica
    assert "already been loaded" in e.value.message
    un = serving_agent.run(build_context(kube, "unload the lora adapter called sql-lora from vllm-server", "ml"))
    run_action(kube, un.mutations[0])
    assert set(map(tuple, S.loaded_adapters(kube, dep).values())) == {()}


def test_metrics_and_recommendation_of_a_simulated_vllm(vllm):
    _, kube = vllm
    dep = kube.get("Deployment", "ml", "vllm-server")
    replicas = S.scrape(kube, dep)
    assert len(replicas) == 2 and all(not r.error and r.waiting == 0 and r.slots == 8 for r in replicas)
    res = serving_agent.run(build_context(kube, "how many requests are waiting on vllm-server", "ml"))
    assert "0 waiting" in res.answer and "Recommendation: scale down to 1 replica" in res.answer  # idle


def test_adapters_need_a_vllm_server(vllm, tmp_path: Path):
    _, kube = vllm
    with pytest.raises(KubeError) as e:
        S.load_adapter(kube, "ml", "missing", "x", "/x")
    assert e.value.status == 404
