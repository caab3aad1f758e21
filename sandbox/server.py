"""Running the sandbox: an HTTP server (uvicorn) over one cluster, its kubeconfig, and its scenarios.

Why a thread-friendly server object: tests, benchmarks and `make demo` start a sandbox in-process on a free
port and talk to it with the real kubectl and kubernetes client; `kubesage sandbox serve` runs the same
object in the foreground.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import socket
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import uvicorn
import yaml

from sandbox import pod_io
from sandbox.api import SandboxAPI
from sandbox.clock import Clock
from sandbox.cluster import SYSTEM, Cluster, WriteOptions
from sandbox.controllers import ClusterBehaviour
from sandbox.errors import ApiError
from sandbox.metrics import NODE_METRICS, POD_METRICS
from sandbox.store import Store
from sandbox.tls import ensure_certs

CONTEXT = "kubesage-sandbox"
ADMIN_USER = "kubernetes-admin"
SCENARIO_DIR = Path(__file__).parent / "scenarios"


class ScenarioError(ValueError):
    """A scenario file that cannot be loaded (message says what and where)."""


def scenario_path(name_or_file: str) -> Path:
    p = Path(name_or_file)
    if p.suffix in (".yaml", ".yml") and p.exists():
        return p
    builtin = SCENARIO_DIR / f"{name_or_file}.yaml"
    if builtin.exists():
        return builtin
    known = ", ".join(sorted(x.stem for x in SCENARIO_DIR.glob("*.yaml")))
    raise ScenarioError(f"unknown scenario {name_or_file!r} (built in: {known}; or give a path to a .yaml file)")


def _read_scenario(name_or_file: str) -> tuple[Path, dict[str, Any]]:
    path = scenario_path(name_or_file)
    try:
        doc = yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        raise ScenarioError(f"{path}: not valid YAML: {e}") from None
    if not isinstance(doc, dict):
        raise ScenarioError(f"{path}: a scenario is a mapping with keys name, users, objects")
    return path, doc


def load_scenario(cluster: Cluster, name_or_file: str) -> dict[str, Any]:
    """Apply a scenario: users and their tokens, then every object in order (existing ones are left alone)."""
    path, doc = _read_scenario(name_or_file)
    return apply_scenario(cluster, path, doc)


def apply_scenario(cluster: Cluster, path: Path, doc: dict[str, Any]) -> dict[str, Any]:
    for i, u in enumerate(doc.get("users") or []):
        if not isinstance(u, dict) or not u.get("name") or not u.get("token"):
            raise ScenarioError(f"{path}: users[{i}] needs name and token")
        cluster.add_user(str(u["token"]), str(u["name"]), [str(g) for g in u.get("groups") or []])
    opts = WriteOptions(field_manager="kubesage-scenario")
    for i, obj in enumerate(doc.get("objects") or []):
        if not isinstance(obj, dict) or "apiVersion" not in obj or "kind" not in obj:
            raise ScenarioError(f"{path}: objects[{i}] needs apiVersion and kind")
        group, _, version = obj["apiVersion"].rpartition("/")
        rt = cluster.registry.by_kind(group, version, obj["kind"])
        if rt is None:
            raise ScenarioError(f"{path}: objects[{i}]: unknown kind {obj['apiVersion']}/{obj['kind']}")
        meta = obj.get("metadata") or {}
        if cluster.store.get(rt.key, meta.get("namespace", "default") if rt.namespaced else "", meta.get("name", "")):
            continue
        try:
            cluster.create(rt, meta.get("namespace", "default") if rt.namespaced else "", obj, SYSTEM, opts)
        except ApiError as e:
            raise ScenarioError(f"{path}: objects[{i}] ({obj['kind']} {meta.get('name')}): {e.message}") from None
        cluster.settle()
    return doc


def admin_token(cluster: Cluster) -> str:
    """The admin's bearer token: derived from the cluster's signing key, so it survives restarts with --state."""
    return hmac.new(cluster._secret, b"kubernetes-admin", hashlib.sha256).hexdigest()


def kubeconfig(url: str, token: str, ca_pem: bytes, namespace: str = "default") -> dict[str, Any]:
    return {
        "apiVersion": "v1", "kind": "Config", "preferences": {},
        "clusters": [{"name": CONTEXT, "cluster": {"server": url,
                                                   "certificate-authority-data": base64.b64encode(ca_pem).decode()}}],
        "users": [{"name": ADMIN_USER, "user": {"token": token}}],
        "contexts": [{"name": CONTEXT, "context": {"cluster": CONTEXT, "user": ADMIN_USER, "namespace": namespace}}],
        "current-context": CONTEXT,
    }


class SandboxServer:
    """An embedded API server on 127.0.0.1; start() returns once it accepts connections."""

    def __init__(self, port: int = 0, state_dir: str | Path | None = None, scenarios: list[str] | None = None,
                 host: str = "127.0.0.1", speed: float = 1.0, seed: int | None = None, behaviour: bool = True) -> None:
        self.host = host
        docs = [_read_scenario(sc) for sc in scenarios or []]
        if seed is None:
            seed = next((int(d["seed"]) for _, d in docs if isinstance(d.get("seed"), int)), 0)
        self.seed = seed
        self.cluster = Cluster(Store(state_dir), Clock(speed), seed=seed)
        self.token = admin_token(self.cluster)
        self.cluster.add_user(self.token, ADMIN_USER, ["system:masters"])
        self.app = SandboxAPI(self.cluster)
        self.behaviour = None
        if behaviour:
            self.behaviour = ClusterBehaviour(self.cluster, seed)
            self.app.kubelet = self.behaviour.kubelet
            self.behaviour.kubelet.resolver_factory = lambda ns: pod_io.resolver(self.app, ns)
            self.app.subresource_handlers["log"] = pod_io.log_handler
            self.app.subresource_handlers["websocket"] = pod_io.exec_websocket
            self.app.subresource_handlers["proxy"] = pod_io.proxy_handler  # services/proxy, pods/proxy
            for rt in (NODE_METRICS, POD_METRICS):
                self.cluster.registry.add(rt)
                self.app.virtual[rt.key] = self.behaviour.metrics.list
            self.app.prometheus = self.behaviour.metrics.prometheus
            self.behaviour.start()
        for path, doc in docs:
            apply_scenario(self.cluster, path, doc)
        if self.behaviour is not None:
            self.behaviour.idle(30)
        self._tmp = None if state_dir else tempfile.TemporaryDirectory(prefix="kubesage-sandbox-")
        self.ca_file, self.cert_file, self.key_file = ensure_certs(Path(state_dir or self._tmp.name) / "pki")
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, port))
        self._sock.listen(128)  # connections queue up from here on, even before uvicorn serves them
        self.port = self._sock.getsockname()[1]
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"https://{self.host}:{self.port}"

    def kubeconfig(self, namespace: str = "default") -> dict[str, Any]:
        return kubeconfig(self.url, self.token, self.ca_file.read_bytes(), namespace)

    def write_kubeconfig(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(self.kubeconfig(), sort_keys=False))
        path.chmod(0o600)
        return path

    def _config(self) -> uvicorn.Config:
        return uvicorn.Config(self.app, log_level="warning", lifespan="off", access_log=False,
                              timeout_keep_alive=30, timeout_graceful_shutdown=2, ws="websockets-sansio", ssl_certfile=str(self.cert_file),
                              ssl_keyfile=str(self.key_file))

    def serve_forever(self) -> None:
        """Run in the foreground until interrupted."""
        self._server = uvicorn.Server(self._config())
        try:
            self._server.run(sockets=[self._sock])
        finally:
            if self.behaviour is not None:
                self.behaviour.stop()
            self.cluster.close()

    def start(self) -> SandboxServer:
        self._server = uvicorn.Server(self._config())
        self._server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._sock]},
                                        name="sandbox-http", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("sandbox server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        # Clients' idle keep-alive connections (a finished test's API clients) would hold uvicorn's shutdown until
        # the join's timeout: give them 2 s (timeout_graceful_shutdown), without uvicorn's error line about it.
        quiet = logging.getLogger("uvicorn.error")
        level = quiet.level
        quiet.setLevel(logging.CRITICAL)
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        quiet.setLevel(level)
        if self.behaviour is not None:
            self.behaviour.stop()
        self.cluster.close()
        try:
            self._sock.close()
        except OSError:
            pass
        if self._tmp is not None:
            self._tmp.cleanup()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


logging.getLogger("uvicorn.error").setLevel(logging.WARNING)
