"""Which cluster kubesage acts on: kubectl's sources in kubectl's order, against real sandbox API servers.

The bug this guards: with KUBECONFIG naming a cluster, `kubesage ask "scale web to 4"` scaled web in kubesage's
embedded sandbox instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubesage import cli, cluster, settings
from sandbox.server import SandboxServer
from tools.k8s.client import Kube

DEPLOY = "/apis/apps/v1/namespaces/shop/deployments"


def _web() -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}},
                                  "spec": {"containers": [{"name": "web", "image": "nginx:1.25"}]}}}}


def _kubeconfig(server: SandboxServer, path: Path, name: str, namespace: str, current: bool = True) -> Path:
    """The server's kubeconfig with its cluster, user and context renamed (two servers' files can then merge)."""
    doc = server.kubeconfig(namespace)
    doc["clusters"][0]["name"] = doc["contexts"][0]["context"]["cluster"] = name
    doc["users"][0]["name"] = doc["contexts"][0]["context"]["user"] = name
    doc["contexts"][0]["name"] = name
    if current:
        doc["current-context"] = name
    else:
        del doc["current-context"]
    path.write_text(yaml.safe_dump(doc))
    return path


class Clusters:
    """Two real sandbox API servers, "prod" and "stage", each with deployment shop/web at 1 replica."""

    def __init__(self, tmp: Path) -> None:
        self.servers = {name: SandboxServer(scenarios=["default"], behaviour=False).start()
                        for name in ("prod", "stage")}
        self.files = {name: _kubeconfig(s, tmp / f"{name}.yaml", name, "shop") for name, s in self.servers.items()}
        for name in self.servers:
            kube = self.kube(name)
            kube.request("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                                         "metadata": {"name": "shop"}})
            kube.request("POST", DEPLOY, _web())

    def kube(self, name: str) -> Kube:
        return Kube.from_kubeconfig(str(self.files[name]))

    def replicas(self, name: str) -> int:
        return self.kube(name).request("GET", f"{DEPLOY}/web")["spec"]["replicas"]

    def close(self) -> None:
        for s in self.servers.values():
            s.stop()


@pytest.fixture(scope="module")
def clusters(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clusters]:
    c = Clusters(tmp_path_factory.mktemp("clusters"))
    yield c
    c.close()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A clean environment: its own KUBESAGE_HOME and HOME, no KUBECONFIG, no service account."""
    for var in ("KUBECONFIG", "KUBESAGE_KUBECONFIG", "KUBESAGE_CONTEXT", "KUBERNETES_SERVICE_HOST",
                "KUBERNETES_SERVICE_PORT"):
        monkeypatch.delenv(var, raising=False)
    values = {"KUBESAGE_HOME": str(tmp_path / "ks"), "HOME": str(tmp_path / "home"),
              "KUBESAGE_SERVICEACCOUNT_DIR": str(tmp_path / "sa"), "KUBESAGE_HEALTH_STABLE_S": "0.1",
              "KUBESAGE_HEALTH_TIMEOUT_S": "2", "KUBESAGE_LOG_LEVEL": "error"}
    for k, v in values.items():
        monkeypatch.setenv(k, v)
    return values


def _find(env: dict[str, str], **kw: Any) -> cluster.Choice | None:
    import os

    return cluster.find(settings.load(dict(os.environ)), **kw)


def _config(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    assert cli.main(["config", *args]) == 0
    return json.loads(capsys.readouterr().out)["cluster"]


def test_kubeconfig_env_is_the_cluster_acted_on(clusters, env, monkeypatch, capsys):
    monkeypatch.setenv("KUBECONFIG", str(clusters.files["prod"]))
    assert cli.main(["ask", "--yes", "scale web to 4"]) == 0
    out = capsys.readouterr()
    assert clusters.replicas("prod") == 4 and clusters.replicas("stage") == 1
    assert not (Path(env["KUBESAGE_HOME"]) / "sandbox-embedded").exists(), "the embedded sandbox was started"
    server = clusters.servers["prod"].url
    assert f'Acted on context "prod" ({server}), namespace "shop".' in out.out, out.out
    assert "embedded" not in out.err
    assert _config(capsys) == {"source": "KUBECONFIG", "kubeconfig": [str(clusters.files["prod"])],
                               "context": "prod", "server": server, "namespace": "shop"}


def test_kubeconfig_list_merges_as_kubectl(clusters, env, tmp_path, monkeypatch, capsys):
    """First file that sets current-context wins (the client's merger would take the last); maps merge, first name
    wins; a missing file in the list is skipped."""
    no_current = _kubeconfig(clusters.servers["prod"], tmp_path / "a.yaml", "prod", "shop", current=False)
    shadow = _kubeconfig(clusters.servers["prod"], tmp_path / "shadow.yaml", "stage", "other")  # a second "stage"
    files = [str(no_current), str(tmp_path / "missing.yaml"), str(clusters.files["stage"]), str(shadow)]
    monkeypatch.setenv("KUBECONFIG", ":".join(files))
    got = _config(capsys)
    assert got["source"] == "KUBECONFIG" and got["kubeconfig"] == [files[0], files[2], files[3]]
    assert got["context"] == "stage" and got["server"] == clusters.servers["stage"].url and got["namespace"] == "shop"
    assert _config(capsys, "--context", "prod")["server"] == clusters.servers["prod"].url  # from the first file
    assert cli.main(["config", "current-context"]) == 0 and capsys.readouterr().out.strip() == "stage"


def test_each_source_in_kubectl_order(clusters, env, tmp_path, monkeypatch):
    home_config = Path(env["HOME"]) / ".kube" / "config"
    home_config.parent.mkdir(parents=True)
    _kubeconfig(clusters.servers["stage"], home_config, "home", "shop")
    assert _find(env).source == "~/.kube/config"
    monkeypatch.setenv("KUBECONFIG", str(clusters.files["prod"]))
    assert _find(env).source == "KUBECONFIG"
    monkeypatch.setenv("KUBESAGE_KUBECONFIG", str(clusters.files["stage"]))
    assert (_find(env).source, _find(env).context) == ("KUBESAGE_KUBECONFIG", "stage")
    got = _find(env, kubeconfig=str(clusters.files["prod"]), namespace="kube-system")
    assert (got.source, got.context, got.namespace) == ("--kubeconfig", "prod", "kube-system")


def test_in_cluster_service_account(clusters, env, tmp_path, monkeypatch, capsys):
    server = clusters.servers["stage"]
    sa = Path(env["KUBESAGE_SERVICEACCOUNT_DIR"])
    sa.mkdir()
    (sa / "token").write_text(server.token)
    (sa / "ca.crt").write_bytes(server.ca_file.read_bytes())
    (sa / "namespace").write_text("shop\n")
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", server.host)
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", str(server.port))
    got = _config(capsys)
    assert (got["source"], got["server"], got["namespace"]) == ("in-cluster", server.url, "shop")
    choice = _find(env)
    kube = Kube.from_kubeconfig(choice.kubeconfig, choice.context)
    assert kube.request("GET", f"{DEPLOY}/web")["metadata"]["name"] == "web"  # the token and CA really work


def test_context_flag_picks_the_other_cluster(clusters, env, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KUBECONFIG", f"{clusters.files['prod']}:{clusters.files['stage']}")
    assert _config(capsys)["context"] == "prod"
    got = _config(capsys, "--context", "stage", "-n", "kube-system")
    assert (got["server"], got["namespace"]) == (clusters.servers["stage"].url, "kube-system")
    assert cli.main(["config", "--context", "nope"]) == 1
    err = capsys.readouterr().err
    assert err.strip() == 'error: context "nope" does not exist' and "Traceback" not in err
    assert cli.main(["ask", "--kubeconfig", str(tmp_path / "nope.yaml"), "list pods"]) == 1
    assert "error: --kubeconfig" in capsys.readouterr().err


def test_nothing_found_means_the_embedded_sandbox_and_it_says_so(env, capsys):
    assert _find(env) is None
    got = _config(capsys)
    assert got["source"] == "embedded sandbox" and "no kubeconfig found" in got["server"]
    assert cli.main(["ask", "how many nodes are there?"]) == 0
    out = capsys.readouterr()
    assert "Using kubesage's embedded sandbox cluster: no kubeconfig found (--kubeconfig, KUBESAGE_KUBECONFIG, " \
           "KUBECONFIG, ~/.kube/config, in-cluster)" in out.err
