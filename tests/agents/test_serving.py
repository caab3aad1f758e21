"""The serving loop end to end on the sandbox, all real: the supervisor proposes a llama.cpp Deployment and
Service, the person approves, two real llama_cpp.server processes answer completions through the Service (the
API server's service proxy) and through BackendTier (pod proxy, prefix-aware), "scale it to 3" gives 3 ready
pods and 3 processes, the gateway is served by the backend, and no process outlives the sandbox."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from kubesage import settings as settings_mod
from kubesage.runtime import Runtime
from llm.backends import BackendTier, gateway_with_backend
from llm.request import ChatRequest
from sandbox.server import SandboxServer
from tests.waiting import until as _until
from tools import serving as S
from tools.k8s.client import Principal

ADMIN = Principal()
NS = "ml"
LEFT: list[int] = []  # process ids seen during the module, checked after the sandbox stopped


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SandboxServer, Path]]:
    server = SandboxServer(scenarios=["default"], speed=50.0).start()
    kc = server.write_kubeconfig(tmp_path_factory.mktemp("serving") / "kubeconfig")
    server.cluster.store  # noqa: B018 - the namespace is created through the API below
    from kubernetes import client, config

    client.CoreV1Api(config.new_client_from_config(config_file=str(kc))).create_namespace({"metadata": {"name": NS}})
    yield server, kc
    LEFT.extend(server.behaviour.kubelet.serving.pids())
    server.stop()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(p) for p in LEFT):
        time.sleep(0.1)
    assert not [p for p in LEFT if _alive(p)], "llama processes outlived the sandbox"


@pytest.fixture(scope="module")
def runtime(cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    cfg = settings_mod.load({"KUBESAGE_HOME": str(tmp_path_factory.mktemp("home"))})
    rt = Runtime(cfg, kubeconfig=str(cluster[1]))
    yield rt
    rt.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False



def _ready(server: SandboxServer, name: str) -> int:
    d = server.cluster.store.get("apps/deployments", NS, name) or {}
    return int((d.get("status") or {}).get("readyReplicas") or 0)


def _endpoints(server: SandboxServer, name: str) -> int:
    ep = server.cluster.store.get("/endpoints", NS, name) or {}
    return sum(len(s.get("addresses") or []) for s in ep.get("subsets") or [])


def _served(server: SandboxServer) -> dict[str, int]:
    return {b.pod: b.requests_total for b in server.behaviour.kubelet.serving.backends() if b.alive}


def test_deploy_approve_serve_scale_and_use_as_tier(cluster, runtime):
    server, _ = cluster
    tid = uuid.uuid4().hex[:10]
    r = runtime.supervisor.start("deploy the small model with 2 replicas", ADMIN, tid, namespace=NS)
    assert r["route"]["agents"] == ["serving"]
    # the Deployment and its Service are one plan: one approval showing both diffs, applied in order
    assert [c["action"] for c in r["approval"]["changes"]] == [f"create Deployment {NS}/smollm2",
                                                              f"create Service {NS}/smollm2"]
    assert "llama.cpp:server" in r["approval"]["changes"][0]["diff"]
    r = runtime.supervisor.resume(tid, "approve")
    assert r["approval"] is None
    assert [o["status"] for o in r["outcomes"]] == ["applied", "applied"], r["outcomes"]
    _until(lambda: _ready(server, "smollm2") == 2 and _endpoints(server, "smollm2") == 2, what="2 ready replicas")
    assert len(server.behaviour.kubelet.serving.pids()) == 2
    LEFT.extend(server.behaviour.kubelet.serving.pids())

    # both replicas answer completions through the Service (the API server's service proxy)
    kube = runtime.kube(ADMIN)
    before = _served(server)
    for i in range(2):
        status, text = S.proxy(kube, NS, "services", "smollm2", 8080, "/v1/completions", "POST",
                               {"prompt": f"Kubernetes is {i}", "max_tokens": 4, "temperature": 0})
        assert status == 200 and '"text_completion"' in text, text
    # the count is taken when the replica's response has been relayed: allow the relay to finish
    _until(lambda: len(_served(server)) == 2 and all(n > before.get(p, 0) for p, n in _served(server).items()),
           timeout=20, what=f"both replicas served (before {before}, now {_served(server)})")

    # BackendTier spreads conversations over the replicas by prefix, through the pod proxy as the principal
    auth = S.proxy_auth(kube)
    tier = BackendTier(lambda: S.backend_replicas(kube, NS, "smollm2"), "smollm2", headers=auth["headers"],
                       verify=auth["verify"])
    for i in range(8):
        out = tier.complete(ChatRequest(messages=[{"role": "user", "content": f"Conversation {i}: hello"}],
                                        max_tokens=4, temperature=0.0))
        assert out.content and out.completion_tokens >= 1
        if len(tier.stats.requests) == 2:
            break
    assert len(tier.stats.requests) == 2 and tier.stats.spilled == 0, tier.stats.as_dict()

    # "scale it to 3" in the same thread: "it" is the model server the previous turn deployed
    r = runtime.supervisor.start("scale it to 3", ADMIN, tid, namespace=NS)
    assert r["route"]["agents"] == ["serving"] and r["approval"]["action"] == f"scale Deployment {NS}/smollm2"
    assert "replicas: 3" in r["approval"]["diff"] and not r["approval"]["dry_run_error"]
    r = runtime.supervisor.resume(tid, "approve")
    assert r["outcomes"][0]["status"] == "applied", r["outcomes"]
    _until(lambda: _ready(server, "smollm2") == 3, what="3 ready replicas")
    assert len(server.behaviour.kubelet.serving.pids()) == 3
    LEFT.extend(server.behaviour.kubelet.serving.pids())

    # the gateway uses the backend as its secondary tier
    gw = gateway_with_backend(tier)
    res = gw.complete(ChatRequest(messages=[{"role": "user", "content": "Say hello."}], max_tokens=6,
                                  policy="cloud-only", use_cache=False))
    assert res.record.served_by == "backend" and res.output.model.startswith("smollm2@smollm2-")
    tier.close()

    # and the agent reports on it with numbers and a recommendation
    r = runtime.supervisor.start("how is the model server doing", ADMIN, uuid.uuid4().hex[:10], namespace=NS)
    assert r["route"]["agents"] == ["serving"]
    assert "3/3 replicas ready" in r["answer"] and "KV cache" in r["answer"] and "Recommendation:" in r["answer"]


@pytest.mark.parametrize(("text", "name"), [
    ("spin up a llama.cpp server for the small model, call it 'desk-llm', in default", "desk-llm"),
    ("deploy the bundled model named chat in models", "chat"),
    ("serve the small model and name it \"qa-bot\"", "qa-bot"),
])
def test_the_name_a_new_server_is_given(text: str, name: str) -> None:
    from agents.serving import _NAME_SAID

    assert _NAME_SAID.search(text.lower()).group(1) == name
