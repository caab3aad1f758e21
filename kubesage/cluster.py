"""Which cluster kubesage acts on, found as kubectl finds it.

Why this exists: a user whose `KUBECONFIG` names a cluster must never be told about one cluster and have kubesage
act on another. The sources are tried in kubectl's order (`--kubeconfig`, then kubesage's own `kubeconfig`
setting, then `KUBECONFIG` with its list-of-files semantics, then `~/.kube/config`, then the in-cluster service
account); a running `kubesage sandbox serve`, and last the embedded sandbox, are used only when none exists, and the
CLI says so. `KUBECONFIG` files are merged by the `kubernetes` client's own `KubeConfigMerger` (the first file that
names a cluster, context or user wins); only `current-context` is taken from the first file that sets it, as
kubectl does (the client's merger lets the last one win).
"""

from __future__ import annotations

import os
import socket
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml

from kubesage.settings import Settings

EMBEDDED = "embedded sandbox"
RUNNING_SANDBOX = "kubesage sandbox serve"
IN_CLUSTER = "in-cluster"
IN_CLUSTER_CONTEXT = "in-cluster"


class ClusterError(ValueError):
    """A kubeconfig or context that cannot be used; the message reads like kubectl's (`context "x" does not
    exist`)."""


@dataclass(frozen=True)
class Choice:
    """The cluster a command acts on, and why: what `kubesage config` shows and every acting answer names."""

    source: str                # which rule won (a flag, a variable, a file, in-cluster, a sandbox)
    files: tuple[str, ...]     # the kubeconfig file(s) read, in order
    context: str
    server: str
    namespace: str             # -n, else the context's namespace, else "default"
    # The namespace the user's context points at, the agents' default for a request that names none, as kubectl's;
    # "" when it is "default" or unset (or a kubesage sandbox's), where agents keep looking in every namespace, as
    # they did before contexts were read (a name found in one namespace only is that one).
    context_namespace: str = ""

    @property
    def kubeconfig(self) -> str:
        """The files as one `KUBECONFIG`-style path list (what `kubernetes.config` merges)."""
        return os.pathsep.join(self.files)

    @property
    def embedded(self) -> bool:
        return self.source == EMBEDDED

    def describe(self) -> dict[str, Any]:
        return {"source": self.source, "kubeconfig": list(self.files), "context": self.context,
                "server": self.server, "namespace": self.namespace}


# -- the sources, in kubectl's order: each returns the files it names, or None when it names none ----------------

def _explicit(path: str, what: str) -> list[str]:
    if not Path(path).expanduser().is_file():
        raise ClusterError(f"{what} {path}: no such file")
    return [str(Path(path).expanduser())]


def _from_flag(flag: str | None, settings: Settings, env: Mapping[str, str]) -> list[str] | None:
    return _explicit(flag, "--kubeconfig") if flag else None


def _from_setting(flag: str | None, settings: Settings, env: Mapping[str, str]) -> list[str] | None:
    what = "KUBESAGE_KUBECONFIG" if env.get("KUBESAGE_KUBECONFIG") else "the kubeconfig setting:"
    return _explicit(settings.kubeconfig, what) if settings.kubeconfig else None


def _from_env(flag: str | None, settings: Settings, env: Mapping[str, str]) -> list[str] | None:
    """kubectl's list semantics: separated by `:`, files that do not exist are skipped, each file once."""
    files: list[str] = []
    for part in (env.get("KUBECONFIG") or "").split(os.pathsep):
        path = str(Path(part).expanduser()) if part else ""
        if path and Path(path).is_file() and path not in files:
            files.append(path)
    return files or None


def _from_home(flag: str | None, settings: Settings, env: Mapping[str, str]) -> list[str] | None:
    home = env.get("HOME")
    path = Path(home) / ".kube" / "config" if home else Path.home() / ".kube" / "config"
    return [str(path)] if path.is_file() else None


def _from_service_account(flag: str | None, settings: Settings, env: Mapping[str, str]) -> list[str] | None:
    """In a pod: a kubeconfig written from the service account (token and CA as file paths, never copied), so every
    consumer of a kubeconfig path works unchanged and a rotated token file is the one read."""
    sa = Path(settings.serviceaccount_dir)
    host, port = env.get("KUBERNETES_SERVICE_HOST"), env.get("KUBERNETES_SERVICE_PORT") or "443"
    if not host or not (sa / "token").is_file():
        return None
    namespace = (sa / "namespace").read_text().strip() if (sa / "namespace").is_file() else "default"
    cluster: dict[str, Any] = {"server": f"https://{f'[{host}]' if ':' in host else host}:{port}"}
    if (sa / "ca.crt").is_file():
        cluster["certificate-authority"] = str(sa / "ca.crt")
    doc = {"apiVersion": "v1", "kind": "Config", "current-context": IN_CLUSTER_CONTEXT,
           "clusters": [{"name": IN_CLUSTER_CONTEXT, "cluster": cluster}],
           "users": [{"name": IN_CLUSTER_CONTEXT, "user": {"tokenFile": str(sa / "token")}}],
           "contexts": [{"name": IN_CLUSTER_CONTEXT, "context": {"cluster": IN_CLUSTER_CONTEXT, "user": IN_CLUSTER_CONTEXT,
                                                                  "namespace": namespace}}]}
    path = settings.home / "in-cluster.kubeconfig"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return [str(path)]


def _from_running_sandbox(flag: str | None, settings: Settings, env: Mapping[str, str]) -> list[str] | None:
    return [str(settings.sandbox_kubeconfig)] if _reachable(settings.sandbox_kubeconfig) else None


Source = Callable[[str | None, Settings, Mapping[str, str]], "list[str] | None"]
SOURCES: tuple[tuple[str, Source], ...] = (
    ("--kubeconfig", _from_flag),
    ("KUBESAGE_KUBECONFIG", _from_setting),
    ("KUBECONFIG", _from_env),
    ("~/.kube/config", _from_home),
    (IN_CLUSTER, _from_service_account),
    (RUNNING_SANDBOX, _from_running_sandbox),
)
ORDER = ", ".join(name for name, _ in SOURCES[:5])  # what the "none found" notice lists


def _reachable(kubeconfig: Path) -> bool:
    try:
        cfg = yaml.safe_load(kubeconfig.read_text())
        url = urlparse(cfg["clusters"][0]["cluster"]["server"])
        with socket.create_connection((url.hostname, url.port or 443), timeout=0.5):
            return True
    except (OSError, KeyError, IndexError, TypeError, ValueError, yaml.YAMLError, ssl.SSLError):
        return False


def merged(files: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """The files merged as kubectl merges `KUBECONFIG`: maps by the client's KubeConfigMerger (first name wins),
    `current-context` from the first file that sets one."""
    from kubernetes.config.config_exception import ConfigException
    from kubernetes.config.kube_config import KubeConfigMerger

    try:
        merger = KubeConfigMerger(os.pathsep.join(files))
    except (ConfigException, yaml.YAMLError, OSError) as e:
        raise ClusterError(f"error loading config file(s) {', '.join(files)}: {e}") from None
    if merger.config is None:
        raise ClusterError(f"no configuration found in {', '.join(files)}")
    doc = {k: _plain(merger.config.value.get(k) or []) for k in ("clusters", "contexts", "users")}
    doc["current-context"] = next((c for c in (_current(f) for f in merger.paths) if c), "")
    return doc


def _plain(items: list[Any]) -> list[dict[str, Any]]:
    return [getattr(i, "value", i) for i in items]


def _current(path: str) -> str:
    try:
        doc = yaml.safe_load(Path(path).read_text()) or {}
    except (OSError, yaml.YAMLError):
        return ""
    return str(doc.get("current-context") or "") if isinstance(doc, dict) else ""


def choose(doc: dict[str, Any], files: tuple[str, ...], source: str, context: str | None,
           namespace: str | None) -> Choice:
    """Pick the context (--context, the context setting, else current-context) and read its server and namespace."""
    name = context or doc.get("current-context") or ""
    if not name:
        raise ClusterError(f"current-context is not set in {', '.join(files)}; pass --context")
    ctx = next((c.get("context") or {} for c in doc.get("contexts") or [] if c.get("name") == name), None)
    if ctx is None:
        raise ClusterError(f'context "{name}" does not exist')
    cluster = next((c.get("cluster") or {} for c in doc.get("clusters") or [] if c.get("name") == ctx.get("cluster")),
                   None)
    if cluster is None:
        raise ClusterError(f'context "{name}": cluster "{ctx.get("cluster")}" does not exist')
    ns = str(ctx.get("namespace") or "")
    preset = "" if source in (EMBEDDED, RUNNING_SANDBOX) or ns == "default" else ns
    return Choice(source, files, name, str(cluster.get("server") or ""),
                  namespace or ns or "default", preset)


def find(settings: Settings, kubeconfig: str | None = None, context: str | None = None,
         namespace: str | None = None, env: Mapping[str, str] | None = None) -> Choice | None:
    """The cluster kubeconfig sources name, first source that names one; None when none does (the embedded
    sandbox's turn). ClusterError when the winner cannot be used (a missing file, an unknown context)."""
    env = os.environ if env is None else env
    for source, names in SOURCES:
        files = names(kubeconfig, settings, env)
        if files:
            return choose(merged(files), tuple(files), source, context or settings.context or None, namespace)
    return None


def embedded(kubeconfig_path: Path, context: str | None, namespace: str | None) -> Choice:
    """The embedded sandbox's choice, once it has written its kubeconfig."""
    doc = yaml.safe_load(kubeconfig_path.read_text())
    return choose(doc, (str(kubeconfig_path),), EMBEDDED, context, namespace)


def notice(choice: Choice) -> str | None:
    """The line that says a sandbox was used because no kubeconfig names a cluster (None for a real one)."""
    if choice.source == EMBEDDED:
        return (f"Using kubesage's embedded sandbox cluster: no kubeconfig found ({ORDER}). "
                "Point KUBECONFIG or --kubeconfig at a cluster to act on it.")
    if choice.source == RUNNING_SANDBOX:
        return (f"Using the sandbox cluster of a running `kubesage sandbox serve` ({choice.server}): no kubeconfig "
                f"found ({ORDER}).")
    return None
