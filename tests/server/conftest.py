"""Fixtures for the HTTP API tests: a demo-shop sandbox, a Runtime on it, and the app under a real uvicorn server
on a loopback port."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from kubesage import settings as settings_mod
from kubesage.runtime import Runtime
from sandbox.server import SandboxServer
from server.app import create_app
from server.loopback import LoopbackServer

# ops impersonates a cluster admin (system:masters); alice may only view shop; bob has no rights.
TOKENS = {"ops-token": {"user": "ops", "groups": ["system:masters"]},
          "alice-token": {"user": "alice", "groups": ["shop-devs"]},
          "bob-token": {"user": "bob", "groups": []}}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Api:
    url: str
    runtime: Runtime
    sandbox: SandboxServer | None

    def client(self, token: str = "ops-token", **kw) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=bearer(token), timeout=120, **kw)


def start_api(kubeconfig: Path, home: Path, sandbox: SandboxServer | None, **env: str) -> tuple[Api, LoopbackServer]:
    cfg = settings_mod.load({"KUBESAGE_HOME": str(home), "KUBESAGE_API_TOKENS": json.dumps(TOKENS), **env})
    rt = Runtime(cfg, kubeconfig=str(kubeconfig))
    srv = LoopbackServer(create_app(rt, cfg)).start()
    return Api(srv.url, rt, sandbox), srv


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SandboxServer, Path]]:
    server = SandboxServer(scenarios=["demo-shop"], speed=50.0).start()
    kc = server.write_kubeconfig(tmp_path_factory.mktemp("server-shop") / "kubeconfig")
    time.sleep(1.0)  # let the sandbox schedule pods and report metrics
    yield server, kc
    server.stop()


@pytest.fixture(scope="module")
def api(shop, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    a, srv = start_api(shop[1], tmp_path_factory.mktemp("server-home"), shop[0])
    yield a
    srv.stop()
    a.runtime.close()
