"""LLM serving backends on Kubernetes: deploy vLLM or llama.cpp servers, read their metrics, recommend replica
counts, load and unload LoRA adapters.

Why through the API server's proxies (`services/{name}:{port}/proxy`, `pods/{name}:{port}/proxy`): they run as the
principal (impersonation and RBAC on `services/proxy` and `pods/proxy`), need no network path from kubesage to
the pods, and work the same on the sandbox and on a real cluster.

The replica rule (`Recommender`), per sample over the ready replicas (n of them, `slots` concurrent requests
each):
- scale UP at once when requests queue (waiting > `up_waiting` per replica) or a KV cache is nearly full
  (max KV usage > `kv_high`, 80%): to max(n + 1, ceil((running + waiting) / slots));
- scale DOWN by one only after `down_after` consecutive idle samples: nothing waiting, max KV usage below
  `kv_low` (40%), and the running requests would fit in half of n - 1 replicas' slots;
- otherwise HOLD. The gap between 40% and 80% KV and the consecutive-sample rule are the hysteresis: a
  recommendation does not flap when load sits near a threshold. Results are clamped to [min, max] replicas.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from tools.k8s.actions import action
from tools.k8s.client import Kube, KubeError
from tools.k8s.objects import is_ready, selector_string

LLAMA_IMAGE = "ghcr.io/ggml-org/llama.cpp:server"
VLLM_IMAGE = "vllm/vllm-openai:v0.10.0"
SMALL_MODEL = "/models/SmolLM2-135M-Instruct.Q4_1.gguf"  # the sandbox serves its bundled GGUF for any path
COMPONENT = ("app.kubernetes.io/component", "model-server")
ENGINE_LABEL = "kubesage.io/engine"
PORTS = {"llama.cpp": 8080, "vllm": 8000}


@dataclass(frozen=True)
class ModelServerSpec:
    """What to deploy: a name, an engine (llama.cpp or vllm), the model, how many replicas."""

    name: str
    namespace: str
    engine: str = "llama.cpp"
    model: str = SMALL_MODEL
    replicas: int = 1
    alias: str = ""  # the served model name (default: the deployment's name)
    enable_lora: bool = False  # vLLM only
    max_loras: int = 4
    ctx: int = 512  # llama.cpp context size


def manifests(spec: ModelServerSpec) -> tuple[dict[str, Any], dict[str, Any]]:
    """(Deployment, Service) for a model server, with the engine's documented arguments, a readiness probe on
    /health, and labels that let kubesage find it again."""
    if spec.engine not in PORTS:
        raise ValueError(f"unknown engine {spec.engine!r}: use llama.cpp or vllm")
    port, alias = PORTS[spec.engine], spec.alias or spec.name
    labels = {"app.kubernetes.io/name": spec.name, COMPONENT[0]: COMPONENT[1], ENGINE_LABEL: spec.engine}
    container: dict[str, Any] = {"name": "server", "ports": [{"name": "http", "containerPort": port}],
                                 "readinessProbe": {"httpGet": {"path": "/health", "port": "http"},
                                                    "periodSeconds": 5, "failureThreshold": 3}}
    if spec.engine == "llama.cpp":
        container.update(image=LLAMA_IMAGE, args=["-m", spec.model, "--alias", alias, "--host", "0.0.0.0",
                                                  "--port", str(port), "-c", str(spec.ctx), "--metrics", "--slots"],
                         resources={"requests": {"cpu": "250m", "memory": "512Mi"}, "limits": {"memory": "2Gi"}})
    else:
        args = ["--model", spec.model, "--served-model-name", alias, "--port", str(port)]
        if spec.enable_lora:
            args += ["--enable-lora", "--max-loras", str(spec.max_loras)]
            container["env"] = [{"name": "VLLM_ALLOW_RUNTIME_LORA_UPDATING", "value": "True"}]
        container.update(image=VLLM_IMAGE, args=args,
                         resources={"requests": {"cpu": "1", "memory": "4Gi", "nvidia.com/gpu": "1"},
                                    "limits": {"memory": "8Gi", "nvidia.com/gpu": "1"}})
    meta = {"name": spec.name, "namespace": spec.namespace, "labels": labels,
            "annotations": {"kubesage.io/model": spec.model}}
    dep = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta,
           "spec": {"replicas": spec.replicas, "selector": {"matchLabels": {"app.kubernetes.io/name": spec.name}},
                    "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}}}}
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": spec.name, "namespace": spec.namespace,
                                                               "labels": labels},
           "spec": {"selector": {"app.kubernetes.io/name": spec.name},
                    "ports": [{"name": "http", "port": port, "targetPort": "http"}]}}
    return dep, svc


# ------------------------------------------------------------------------------------------------ finding them

def engine_of(dep: dict[str, Any]) -> str | None:
    """llama.cpp, vllm, or None when the Deployment does not run a model server."""
    labels = (dep.get("metadata") or {}).get("labels") or {}
    if labels.get(ENGINE_LABEL) in PORTS:
        return labels[ENGINE_LABEL]
    for c in ((dep.get("spec") or {}).get("template") or {}).get("spec", {}).get("containers") or []:
        image = str(c.get("image", ""))
        if "llama.cpp" in image:
            return "llama.cpp"
        if "vllm" in image:
            return "vllm"
    return None


def find_model_servers(kube: Kube, namespace: str | None) -> list[dict[str, Any]]:
    """Deployments that run vLLM or llama.cpp servers (labelled by kubesage or recognised by image)."""
    return [d for d in kube.list("Deployment", namespace) if engine_of(d)]


def port_of(dep: dict[str, Any]) -> int:
    for c in ((dep.get("spec") or {}).get("template") or {}).get("spec", {}).get("containers") or []:
        for p in c.get("ports") or []:
            if p.get("containerPort"):
                return int(p["containerPort"])
    return PORTS.get(engine_of(dep) or "", 8080)


def ready_pods(kube: Kube, dep: dict[str, Any]) -> list[dict[str, Any]]:
    """The Deployment's pods whose Ready condition is True, by name."""
    sel = (dep.get("spec") or {}).get("selector") or {}
    pods = kube.list("Pod", dep["metadata"]["namespace"], selector_string(sel))
    return sorted((p for p in pods if is_ready(p)), key=lambda p: p["metadata"]["name"])


# ------------------------------------------------------------------------------------------------ the proxy

def proxy(kube: Kube, namespace: str, kind: str, name: str, port: int | str, path: str, method: str = "GET",
          body: Any = None) -> tuple[int, str]:
    """(status, body) of an HTTP request to a Service ("services") or Pod ("pods") through the API server's
    proxy, as the principal. Status 0: the API server could not be reached."""
    url = f"/api/v1/namespaces/{namespace}/{kind}/{name}:{port}/proxy/{path.lstrip('/')}"
    headers = {"Accept": "*/*"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    try:
        raw = kube._call(method, url, [], headers, body)  # noqa: SLF001 - the same room's raw transport
    except KubeError as e:
        return e.status, e.message
    return 200, raw.decode("utf-8", "replace")


def parse_prometheus(text: str) -> dict[str, float]:
    """Prometheus text exposition → {metric name: value summed over its label sets}."""
    out: dict[str, float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)", line)
        if not m:
            continue
        try:
            value = float(m.group(3))
        except ValueError:
            continue
        out[m.group(1)] = out.get(m.group(1), 0.0) + value
    return out


@dataclass
class ReplicaMetrics:
    """What one replica reports: requests running and waiting, KV-cache usage (0..1), its slots."""

    pod: str
    running: float = 0.0
    waiting: float = 0.0
    kv_usage: float = 0.0
    slots: int = 1
    error: str = ""

    def text(self) -> str:
        if self.error:
            return f"{self.pod}: {self.error}"
        return (f"{self.pod}: {self.running:g} running, {self.waiting:g} waiting, KV cache "
                f"{self.kv_usage * 100:.0f}% used")


def scrape(kube: Kube, dep: dict[str, Any]) -> list[ReplicaMetrics]:
    """Metrics of every ready replica: vLLM's vllm:num_requests_running / _waiting / gpu_cache_usage_perc,
    llama.cpp's llamacpp:requests_processing / _deferred / kv_cache_usage_ratio (and /slots for the slot count)."""
    ns, engine, port = dep["metadata"]["namespace"], engine_of(dep), port_of(dep)
    out = []
    for pod in ready_pods(kube, dep):
        name = pod["metadata"]["name"]
        status, text = proxy(kube, ns, "pods", name, port, "/metrics")
        if status != 200:
            out.append(ReplicaMetrics(name, error=f"/metrics answered {status}: {text[:120]}"))
            continue
        m = parse_prometheus(text)
        if engine == "vllm":
            r = ReplicaMetrics(name, m.get("vllm:num_requests_running", 0.0), m.get("vllm:num_requests_waiting", 0.0),
                               m.get("vllm:gpu_cache_usage_perc", m.get("vllm:kv_cache_usage_perc", 0.0)), slots=8)
        else:
            r = ReplicaMetrics(name, m.get("llamacpp:requests_processing", 0.0),
                               m.get("llamacpp:requests_deferred", 0.0), m.get("llamacpp:kv_cache_usage_ratio", 0.0))
            status, slots = proxy(kube, ns, "pods", name, port, "/slots")
            if status == 200:
                try:
                    r.slots = max(1, len(json.loads(slots)))
                except ValueError:
                    pass
        out.append(r)
    return out


# ------------------------------------------------------------------------------------------------ the rule

@dataclass
class Recommendation:
    replicas: int
    action: str  # "up" | "down" | "hold"
    reason: str


@dataclass
class Recommender:
    """Replica counts from queue depth and KV-cache usage, with hysteresis (see the module docstring)."""

    min_replicas: int = 1
    max_replicas: int = 8
    up_waiting: float = 0.5
    kv_high: float = 0.80
    kv_low: float = 0.40
    down_after: int = 3
    _idle: int = field(default=0, repr=False)

    def recommend(self, current: int, replicas: list[ReplicaMetrics]) -> Recommendation:
        ok = [r for r in replicas if not r.error]
        n = max(current, 1)
        if not ok:
            self._idle = 0
            return Recommendation(current, "hold", "no replica reported metrics")
        running = sum(r.running for r in ok)
        waiting = sum(r.waiting for r in ok)
        kv = max(r.kv_usage for r in ok)
        slots = max(1, min(r.slots for r in ok))
        facts = f"{running:g} running, {waiting:g} waiting over {len(ok)} replicas, max KV cache {kv * 100:.0f}%"
        if waiting / n > self.up_waiting or kv > self.kv_high:
            self._idle = 0
            want = self._clamp(max(n + 1, math.ceil((running + waiting) / slots)))
            why = "requests are queueing" if waiting / n > self.up_waiting else "a KV cache is nearly full"
            return Recommendation(want, "up" if want > current else "hold", f"{why} ({facts})")
        if waiting == 0 and kv < self.kv_low and n > self.min_replicas and running <= slots * (n - 1) * 0.5:
            self._idle += 1
            if self._idle >= self.down_after:
                self._idle = 0
                return Recommendation(self._clamp(n - 1), "down", f"idle for {self.down_after} sample(s) in a row ({facts})")
            return Recommendation(current, "hold", f"idle, {self.down_after - self._idle} more idle samples before "
                                                   f"scaling down ({facts})")
        self._idle = 0
        return Recommendation(self._clamp(current), "hold", f"load is within the band ({facts})")

    def _clamp(self, n: int) -> int:
        return max(self.min_replicas, min(self.max_replicas, n))


# ------------------------------------------------------------------------------------------------ LoRA adapters

def _deployment(kube: Kube, namespace: str, name: str) -> dict[str, Any]:
    dep = kube.get("Deployment", namespace, name)
    if engine_of(dep) != "vllm":
        raise KubeError(400, "BadRequest", f"{namespace}/{name} is not a vLLM server: LoRA adapters are loaded "
                                           "into vLLM (started with --enable-lora)")
    return dep


def _each_replica(kube: Kube, namespace: str, name: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    dep = _deployment(kube, namespace, name)
    pods = ready_pods(kube, dep)
    if not pods:
        raise KubeError(503, "ServiceUnavailable", f"{namespace}/{name} has no ready replica")
    results = {}
    for pod in pods:
        status, text = proxy(kube, namespace, "pods", pod["metadata"]["name"], port_of(dep), path, "POST", body)
        results[pod["metadata"]["name"]] = {"status": status, "message": text[:300]}
    failed = {p: r for p, r in results.items() if r["status"] != 200}
    if failed:
        detail = "; ".join(f"{p}: {r['status']} {r['message']}" for p, r in failed.items())
        raise KubeError(502, "AdapterError", f"{path} failed on {len(failed)} of {len(pods)} replicas: {detail}")
    return results


@action("serving.load_adapter")
def load_adapter(kube: Kube, namespace: str, name: str, lora_name: str, lora_path: str) -> dict[str, Any]:
    """Approved action: POST /v1/load_lora_adapter on every ready replica of a vLLM Deployment."""
    return _each_replica(kube, namespace, name, "/v1/load_lora_adapter", {"lora_name": lora_name,
                                                                          "lora_path": lora_path})


@action("serving.unload_adapter")
def unload_adapter(kube: Kube, namespace: str, name: str, lora_name: str) -> dict[str, Any]:
    """Approved action: POST /v1/unload_lora_adapter on every ready replica of a vLLM Deployment."""
    return _each_replica(kube, namespace, name, "/v1/unload_lora_adapter", {"lora_name": lora_name})


def loaded_adapters(kube: Kube, dep: dict[str, Any]) -> dict[str, list[str]]:
    """Per ready replica: the LoRA adapters it serves (models of /v1/models that have a parent)."""
    out = {}
    for pod in ready_pods(kube, dep):
        status, text = proxy(kube, dep["metadata"]["namespace"], "pods", pod["metadata"]["name"], port_of(dep),
                             "/v1/models")
        try:
            models = json.loads(text).get("data") or [] if status == 200 else []
        except ValueError:
            models = []
        out[pod["metadata"]["name"]] = [m["id"] for m in models if m.get("parent")]
    return out


# ------------------------------------------------------------------------------------------------ as a model tier

def backend_replicas(kube: Kube, namespace: str, service: str) -> list[dict[str, str]]:
    """The ready endpoints of a model Service as OpenAI-compatible base URLs through the pod proxy
    ({"name": pod, "url": .../pods/{pod}:{port}/proxy}); what llm/backends.py's BackendTier spreads requests over."""
    try:
        ep = kube.get("Endpoints", namespace, service)
    except KubeError as e:
        if e.status == 404:  # the endpoints controller has not written them yet: no ready replica
            return []
        raise
    host = kube.api.configuration.host.rstrip("/")
    out = []
    for subset in ep.get("subsets") or []:
        port = next((p.get("port") for p in subset.get("ports") or []), None)
        for a in subset.get("addresses") or []:
            pod = (a.get("targetRef") or {}).get("name")
            if pod and port:
                out.append({"name": pod, "url": f"{host}/api/v1/namespaces/{namespace}/pods/{pod}:{port}/proxy"})
    return sorted(out, key=lambda r: r["name"])


def proxy_auth(kube: Kube) -> dict[str, Any]:
    """How an HTTP client outside the kubernetes library reaches those URLs as the same principal: headers
    (bearer token, impersonation) and `verify`: an SSL context with the cluster's CA (and the kubeconfig's client
    certificate, if it uses one), or the kubeconfig's verify flag."""
    cfg = kube.api.configuration
    headers = {}
    token = (cfg.api_key or {}).get("authorization") or (cfg.api_key or {}).get("BearerToken")
    if token:
        prefix = (cfg.api_key_prefix or {}).get("authorization", "")
        headers["Authorization"] = f"{prefix} {token}".strip() if prefix else token
    for k in ("Impersonate-User", "Impersonate-Group"):
        if k in kube.api.default_headers:
            headers[k] = kube.api.default_headers[k]
    verify: Any = cfg.verify_ssl
    if cfg.ssl_ca_cert and cfg.verify_ssl:
        import ssl

        verify = ssl.create_default_context(cafile=cfg.ssl_ca_cert)
        if cfg.cert_file and cfg.key_file:
            verify.load_cert_chain(cfg.cert_file, cfg.key_file)
    return {"headers": headers, "verify": verify}
