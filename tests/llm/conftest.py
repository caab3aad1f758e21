"""Real models and servers for the gateway tests, started once per session.

- `local_tier`: the bundled SmolLM2-135M GGUF through llama-cpp-python (one thread: the "cloud" runs beside it).
- `cloud_server`: `python -m llama_cpp.server` with the same GGUF on loopback, as the OpenAI-compatible cloud.
- `proxy`: a FaultProxy in front of it, reset before every test.
- `make_gateway`: a gateway wired to those, with its own cache directory per test.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from llm.accounting import Metrics
from llm.breaker import CircuitBreaker
from llm.cloud import CloudTier
from llm.config import LLMConfig
from llm.gateway import Gateway
from llm.local import LocalTier, resolve_model
from memory import CacheConfig, SemanticCache
from tests.llm.fault_proxy import FaultProxy

CLOUD_ALIAS = "cloud-smollm2"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_llama_server(model_path: Path, log_path: Path) -> tuple[subprocess.Popen, str]:
    """A real llama_cpp.server on a free loopback port; returns the process and its /v1 base URL."""
    port = _free_port()
    log = open(log_path, "wb")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(model_path), "--model_alias", CLOUD_ALIAS,
         "--host", "127.0.0.1", "--port", str(port), "--n_threads", "1", "--n_ctx", "2048", "--verbose", "False"],
        stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.time() + 90
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"llama_cpp.server exited: {log_path.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(url + "/models", timeout=2) as r:
                if r.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("llama_cpp.server did not start in 90 s")


def stop_process(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="session")
def local_model(tmp_path_factory):
    return resolve_model("smollm2", tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="session")
def local_tier(local_model) -> LocalTier:
    tier = LocalTier(local_model, n_ctx=2048, threads=1, max_tokens=48)
    tier.load()
    return tier


@pytest.fixture(scope="session")
def cloud_server(local_model, tmp_path_factory):
    proc, url = start_llama_server(local_model.path, tmp_path_factory.mktemp("cloud") / "server.log")
    yield url
    stop_process(proc)


@pytest.fixture(scope="session")
def _proxy(cloud_server):
    p = FaultProxy(cloud_server)
    yield p
    p.close()


@pytest.fixture
def proxy(_proxy) -> FaultProxy:
    _proxy.reset()
    return _proxy


def make_cloud(url: str, *, timeout_s: float = 20.0, retries: int = 2, breaker: CircuitBreaker | None = None,
               slow_s: float = 10.0) -> CloudTier:
    # tiny backoff: the tests prove the retries happen, not that they take long
    return CloudTier(url, "test-key", CLOUD_ALIAS, timeout_s=timeout_s, retries=retries, backoff_s=0.02,
                     backoff_max_s=0.1, structured="json_object_schema",
                     breaker=breaker or CircuitBreaker(50, 30.0), slow_s=slow_s)


@pytest.fixture
def make_gateway(local_tier, proxy, tmp_path):
    """make_gateway(cloud=True, cache=True, config=LLMConfig(...), cloud_kw={...}) -> Gateway."""
    made = []

    def make(*, cloud: bool = True, cache: bool = True, config: LLMConfig | None = None,
             cloud_kw: dict | None = None, cache_env: dict | None = None) -> Gateway:
        config = config or LLMConfig(price_cloud_input=0.15, price_cloud_output=0.60)
        c = None
        if cache:
            env = {"KUBESAGE_HOME": str(tmp_path), **(cache_env or {})}
            c = SemanticCache(CacheConfig.from_env(env, home=tmp_path / f"home{len(made)}"))
        gw = Gateway(config, local=local_tier, cloud=make_cloud(proxy.url, **(cloud_kw or {})) if cloud else None,
                     cache=c, metrics=Metrics())
        made.append(gw)
        return gw

    yield make
    for gw in made:
        gw.close()
