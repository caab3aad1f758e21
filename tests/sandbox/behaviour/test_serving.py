"""Real llama.cpp servers behind sandbox pods: one process per replica, Ready only when it answers, reachable
through the API server's service and pod proxies (official kubernetes client and kubectl), killed with the pod
and with the sandbox; the simulated vLLM keeps the LoRA adapters loaded into it."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client, config

from sandbox.behaviour.serving import bundled_gguf, parse_llama_args
from sandbox.server import SandboxServer
from tests.sandbox.conftest import Kubectl
from tests.waiting import until as _until

NS = "llm"
IMAGE = "ghcr.io/ggml-org/llama.cpp:server"


def _deployment(name: str, replicas: int, image: str = IMAGE, args: list[str] | None = None,
                env: list[dict] | None = None, port: int = 8080, limits: dict | None = None) -> dict:
    c = {"name": "server", "image": image, "args": args or ["-m", "/models/smollm2.gguf", "--port", str(port),
                                                            "--host", "0.0.0.0", "--metrics", "--slots",
                                                            "--alias", "smol"],
         "ports": [{"name": "http", "containerPort": port}],
         "resources": {"requests": {"cpu": "250m", "memory": "512Mi"}, "limits": limits or {"memory": "2Gi"}}}
    if env:
        c["env"] = env
        c["readinessProbe"] = {"httpGet": {"path": "/health", "port": port}, "periodSeconds": 5}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": NS},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [c]}}}}


def _service(name: str, port: int = 8080) -> dict:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": NS},
            "spec": {"selector": {"app": name}, "ports": [{"name": "http", "port": port, "targetPort": "http"}]}}


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SandboxServer, Path]]:
    server = SandboxServer(scenarios=["default"], speed=50.0).start()
    kc = server.write_kubeconfig(tmp_path_factory.mktemp("serving") / "kubeconfig")
    api = _api(kc)
    client.CoreV1Api(api).create_namespace({"metadata": {"name": NS}})
    yield server, kc
    server.stop()


def _api(kc: Path) -> client.ApiClient:
    return config.new_client_from_config(config_file=str(kc))


def _post(api: client.ApiClient, path: str, body: dict) -> tuple[int, str]:
    """POST JSON through the official client's transport (auth, CA) and return (status, body)."""
    m, url, hdrs, data, _ = api.param_serialize("POST", path, header_params={"Content-Type": "application/json"},
                                                body=body, auth_settings=["BearerToken"])
    resp = api.call_api(m, url, header_params=hdrs, body=data)
    return resp.status, resp.read().decode()



def _ready_pods(server: SandboxServer, app: str) -> list[dict]:
    pods = [p for p in server.cluster.store.list("/pods", NS)[0] if p["metadata"]["labels"].get("app") == app]
    return [p for p in pods if any(c["type"] == "Ready" and c["status"] == "True"
                                   for c in (p.get("status") or {}).get("conditions") or [])]


def _endpoints(server: SandboxServer, svc: str) -> list[dict]:
    ep = server.cluster.store.get("/endpoints", NS, svc) or {}
    return [a for sub in ep.get("subsets") or [] for a in sub.get("addresses") or []]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:  # a zombie is dead too
        return f.read().split(")")[-1].split()[0] != "Z"


def test_llama_args_map_to_the_bundled_model():
    a = parse_llama_args(["/app/llama-server", "-m", "/models/x-7b.gguf", "--port", "9000", "-c", "100000",
                          "--metrics"])
    assert (a.port, a.ctx, a.metrics, a.slots, a.alias) == (9000, 2048, True, False, "x-7b.gguf")
    assert parse_llama_args([], {"LLAMA_ARG_MODEL": "m.gguf", "LLAMA_ARG_PORT": "81"}).port == 81
    assert bundled_gguf() is not None and bundled_gguf().stat().st_size > 10_000_000


def test_replicas_run_real_servers_reachable_through_the_service(sandbox):
    server, kc = sandbox
    api = _api(kc)
    apps, core = client.AppsV1Api(api), client.CoreV1Api(api)
    apps.create_namespaced_deployment(NS, _deployment("smol", 2))
    core.create_namespaced_service(NS, _service("smol"))
    serving = server.behaviour.kubelet.serving
    # a pod is Ready only once its process answers: Ready pods and healthy processes agree
    pods = _until(lambda: len(_ready_pods(server, "smol")) == 2 and _ready_pods(server, "smol"), what="2 ready")
    assert len(serving.pids()) == 2 and all(b.healthy for b in serving.backends())
    _until(lambda: len(_endpoints(server, "smol")) == 2, what="2 endpoints")
    # the service proxy spreads over both ready endpoints (round robin) and answers with the real model
    seen = set()
    for i in range(2):
        body = {"prompt": f"Count: {i}, ", "max_tokens": 4, "temperature": 0}
        status, raw = _post(api, f"/api/v1/namespaces/{NS}/services/smol:http/proxy/v1/completions", body)
        out = json.loads(raw)
        assert status == 200
        assert out["choices"][0]["text"] and out["usage"]["completion_tokens"] >= 1
    for b in serving.backends():
        seen.add(b.pod) if b.requests_total else None
    assert len(seen) == 2, "each replica served one request"
    # the pod proxy reaches one replica; llama-server's /metrics and /slots are answered
    pod = pods[0]["metadata"]["name"]
    text = core.connect_get_namespaced_pod_proxy_with_path(f"{pod}:8080", NS, "metrics")
    assert "llamacpp:requests_processing 0" in text and "llamacpp:prompt_tokens_total" in text
    models = core.connect_get_namespaced_service_proxy_with_path("smol:http", NS, "v1/models")
    assert "smol" in models
    # kubectl speaks the same proxy
    out = Kubectl(kc).run("get", "--raw", f"/api/v1/namespaces/{NS}/services/smol:8080/proxy/health").stdout
    assert '"ok"' in out


def test_scale_and_delete_start_and_kill_processes(sandbox):
    server, kc = sandbox
    apps = client.AppsV1Api(_api(kc))
    apps.create_namespaced_deployment(NS, _deployment("grow", 1, args=["-m", "tiny.gguf", "--port", "8081"],
                                                      port=8081))
    serving = server.behaviour.kubelet.serving
    _until(lambda: len(_ready_pods(server, "grow")) == 1, what="1 ready")
    mine = lambda: [b for b in serving.backends() if b.args.port == 8081]  # noqa: E731
    apps.patch_namespaced_deployment_scale("grow", NS, {"spec": {"replicas": 3}})
    _until(lambda: len(_ready_pods(server, "grow")) == 3, what="3 ready")
    assert len([b for b in mine() if b.alive]) == 3
    pids = [b.proc.pid for b in mine()]
    apps.patch_namespaced_deployment_scale("grow", NS, {"spec": {"replicas": 1}})
    _until(lambda: len(mine()) == 1, what="scaled down")
    _until(lambda: sum(_alive(p) for p in pids) == 1, what="processes of deleted pods killed")
    apps.delete_namespaced_deployment("grow", NS)
    _until(lambda: not mine() and not any(_alive(p) for p in pids), what="all killed")


def test_metrics_and_slots_need_their_flags(sandbox):
    server, kc = sandbox
    core = client.CoreV1Api(_api(kc))
    client.AppsV1Api(_api(kc)).create_namespaced_deployment(
        NS, _deployment("plain", 1, args=["-m", "m.gguf", "--port", "8082"], port=8082))
    pod = _until(lambda: _ready_pods(server, "plain"), what="ready")[0]["metadata"]["name"]
    with pytest.raises(client.ApiException) as e:
        core.connect_get_namespaced_pod_proxy_with_path(f"{pod}:8082", NS, "metrics")
    assert e.value.status == 501 and "--metrics" in e.value.body
    with pytest.raises(client.ApiException) as e:
        core.connect_get_namespaced_pod_proxy_with_path(f"{pod}:8082", NS, "slots")
    assert e.value.status == 501


def test_unready_service_and_rbac_refusals(sandbox):
    server, kc = sandbox
    core = client.CoreV1Api(_api(kc))
    core.create_namespaced_service(NS, _service("nobody"))
    with pytest.raises(client.ApiException) as e:
        core.connect_get_namespaced_service_proxy_with_path("nobody:http", NS, "v1/models")
    assert e.value.status == 503 and "no endpoints available" in e.value.body
    server.cluster.add_user("carol-token", "carol", [])
    cfg = client.Configuration()
    base = _api(kc).configuration
    cfg.host, cfg.ssl_ca_cert, cfg.api_key = base.host, base.ssl_ca_cert, {"authorization": "Bearer carol-token"}
    with pytest.raises(client.ApiException) as e:
        client.CoreV1Api(client.ApiClient(cfg)).connect_get_namespaced_service_proxy_with_path("smol:http", NS,
                                                                                               "v1/models")
    assert e.value.status == 403 and "services/proxy" in e.value.body


def test_simulated_vllm_records_lora_adapters(sandbox):
    server, kc = sandbox
    api = _api(kc)
    args = ["--model", "Qwen/Qwen2.5-0.5B-Instruct", "--served-model-name", "qwen", "--enable-lora",
            "--max-loras", "4", "--port", "8000"]
    env = [{"name": "VLLM_ALLOW_RUNTIME_LORA_UPDATING", "value": "True"}]
    dep = _deployment("vllm", 1, image="vllm/vllm-openai:v0.10.0", args=args, env=env, port=8000,
                      limits={"nvidia.com/gpu": "1", "memory": "8Gi"})
    client.AppsV1Api(api).create_namespaced_deployment(NS, dep)
    pod = _until(lambda: _ready_pods(server, "vllm"), what="vllm ready")[0]["metadata"]["name"]
    assert server.behaviour.kubelet.serving.route(_ready_pods(server, "vllm")[0]["status"]["podIP"], 8000) is None
    base = f"/api/v1/namespaces/{NS}/pods/{pod}:8000/proxy"

    def post(path: str, body: dict) -> tuple[int, str]:
        return _post(api, base + path, body)

    assert post("/v1/load_lora_adapter", {"lora_name": "sql", "lora_path": "/adapters/sql"})[0] == 200
    assert post("/v1/load_lora_adapter", {"lora_name": "sql", "lora_path": "/adapters/sql"})[0] == 400
    core = client.CoreV1Api(api)
    models = json.loads(core.connect_get_namespaced_pod_proxy_with_path(f"{pod}:8000", NS, "v1/models")
                        .replace("'", '"'))
    assert {m["id"] for m in models["data"]} == {"qwen", "sql"}
    metrics = core.connect_get_namespaced_pod_proxy_with_path(f"{pod}:8000", NS, "metrics")
    assert 'running_lora_adapters="sql"' in metrics and "vllm:num_requests_waiting" in metrics
    assert post("/v1/unload_lora_adapter", {"lora_name": "sql"})[0] == 200
    assert post("/v1/unload_lora_adapter", {"lora_name": "sql"})[0] == 404


def test_stopping_the_sandbox_leaves_no_process(tmp_path):
    server = SandboxServer(scenarios=["default"], speed=50.0).start()
    kc = server.write_kubeconfig(tmp_path / "kubeconfig")
    try:
        api = _api(kc)
        client.CoreV1Api(api).create_namespace({"metadata": {"name": NS}})
        client.AppsV1Api(api).create_namespaced_deployment(NS, _deployment("short", 2))
        _until(lambda: len(server.behaviour.kubelet.serving.pids()) == 2, what="2 processes")
        pids = server.behaviour.kubelet.serving.pids()
    finally:
        server.stop()
    _until(lambda: not any(_alive(p) for p in pids), timeout=10, what="no process left")
