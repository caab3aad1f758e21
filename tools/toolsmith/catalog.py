"""The toolsmith's catalog: the installed `kubernetes` client's API surface, indexed for plan building.

Why: a request such as "cronjobs in batch that have not run for a day" becomes a plan (an API call, filters, a
projection) only if the planner knows which kinds exist and which JSON fields each kind has. The official client
already encodes this: every `*Api` class method (e.g. `CoreV1Api.list_namespaced_pod`) with its parameters, its
REST path, and its response model, whose `openapi_types`/`attribute_map` give the wire (camelCase) field names.
The live API's discovery adds what the client does not know (CRDs), with the served plural and scope.

The client index is static for an installed client version, so it is computed once and cached as JSON under
`$KUBESAGE_HOME/toolsmith/` (no network); discovery is read through the `Kube` once per cluster per process.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import json
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

SCALARS = {"str": "str", "int": "int", "float": "float", "bool": "bool", "datetime": "datetime", "date": "datetime",
           "bytes": "str", "object": "any", "Dict[str, object]": "any"}
MAX_DEPTH = 9
CACHE_VERSION = 4

# Words people use for kinds, beyond the kind's own name and plural.
ALIASES: dict[str, str] = {
    "po": "Pod", "container": "Pod", "containers": "Pod", "svc": "Service", "cm": "ConfigMap", "config map": "ConfigMap",
    "config maps": "ConfigMap", "configuration map": "ConfigMap", "sa": "ServiceAccount", "service account": "ServiceAccount",
    "service accounts": "ServiceAccount", "ns": "Namespace", "no": "Node", "pvc": "PersistentVolumeClaim",
    "pvcs": "PersistentVolumeClaim", "claim": "PersistentVolumeClaim", "claims": "PersistentVolumeClaim",
    "volume claim": "PersistentVolumeClaim", "volume claims": "PersistentVolumeClaim",
    "persistent volume claim": "PersistentVolumeClaim", "persistent volume claims": "PersistentVolumeClaim",
    "pv": "PersistentVolume", "pvs": "PersistentVolume", "persistent volume": "PersistentVolume",
    "persistent volumes": "PersistentVolume", "deploy": "Deployment", "deployments": "Deployment",
    "rs": "ReplicaSet", "replica set": "ReplicaSet", "replica sets": "ReplicaSet", "sts": "StatefulSet",
    "stateful set": "StatefulSet", "stateful sets": "StatefulSet", "ds": "DaemonSet", "daemon set": "DaemonSet",
    "daemon sets": "DaemonSet", "cron job": "CronJob", "cron jobs": "CronJob", "cj": "CronJob",
    "hpa": "HorizontalPodAutoscaler", "hpas": "HorizontalPodAutoscaler", "autoscaler": "HorizontalPodAutoscaler",
    "autoscalers": "HorizontalPodAutoscaler", "ing": "Ingress", "netpol": "NetworkPolicy",
    "network policy": "NetworkPolicy", "network policies": "NetworkPolicy", "netpols": "NetworkPolicy",
    "pdb": "PodDisruptionBudget", "pdbs": "PodDisruptionBudget", "disruption budget": "PodDisruptionBudget",
    "disruption budgets": "PodDisruptionBudget", "pod disruption budgets": "PodDisruptionBudget",
    "role binding": "RoleBinding", "role bindings": "RoleBinding", "cluster role": "ClusterRole",
    "cluster roles": "ClusterRole", "cluster role binding": "ClusterRoleBinding",
    "cluster role bindings": "ClusterRoleBinding", "storage class": "StorageClass", "storage classes": "StorageClass",
    "sc": "StorageClass", "crd": "CustomResourceDefinition", "crds": "CustomResourceDefinition",
    "custom resource definitions": "CustomResourceDefinition", "ev": "Event", "image": "Pod", "images": "Pod",
    "ingress class": "IngressClass", "ingress classes": "IngressClass", "lease": "Lease", "leases": "Lease",
    "endpoint": "Endpoints", "endpoints": "Endpoints", "priority class": "PriorityClass",
    "priority classes": "PriorityClass", "resource quota": "ResourceQuota", "resource quotas": "ResourceQuota",
    "quota": "ResourceQuota", "quotas": "ResourceQuota", "limit range": "LimitRange", "limit ranges": "LimitRange",
    "workload": "Deployment", "workloads": "Deployment",
}


@dataclass
class MethodInfo:
    """One client API method: `CoreV1Api.list_namespaced_pod`, its verb, REST path, parameters and response."""

    api: str
    name: str
    verb: str
    path: str
    params: list[str]
    response: str
    kind: str
    description: str

    def text(self) -> str:
        """What is embedded for retrieval: the method in words plus its kind."""
        return f"{self.name.replace('_', ' ')} {self.kind}: {self.description}"


@dataclass
class KindInfo:
    """A kind the planner can query: where it is served and which fields (wire paths) it has."""

    kind: str
    group: str
    version: str
    plural: str
    namespaced: bool
    model: str = ""  # the client's model class (empty for CRDs known only from discovery)
    fields: dict[str, str] = field(default_factory=dict)  # "spec.containers[*].image" -> "str"

    @property
    def api_path(self) -> str:
        return f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"

    def list_path(self, namespace: str | None) -> str:
        where = f"/namespaces/{namespace}" if self.namespaced and namespace else ""
        return f"{self.api_path}{where}/{self.plural}"


def _model(name: str) -> Any:
    import kubernetes.client as kc

    return getattr(kc, name, None)


def _walk(model_name: str, prefix: str, out: dict[str, str], stack: tuple[str, ...]) -> None:
    """Wire paths under a model: lists get `[*]`, maps are leaves of type `map`."""
    cls = _model(model_name)
    if cls is None or len(stack) > MAX_DEPTH or model_name in stack:
        return
    types: dict[str, str] = getattr(cls, "openapi_types", {}) or {}
    wire: dict[str, str] = getattr(cls, "attribute_map", {}) or {}
    for attr, typ in types.items():
        path = f"{prefix}.{wire.get(attr, attr)}" if prefix else wire.get(attr, attr)
        _add(typ, path, out, (*stack, model_name))


def _add(typ: str, path: str, out: dict[str, str], stack: tuple[str, ...]) -> None:
    if typ in SCALARS:
        out[path] = SCALARS[typ]
    elif typ.startswith("List["):
        out[path] = "list"
        _add(typ[5:-1], f"{path}[*]", out, stack)
    elif typ.startswith("Dict["):
        out[path] = "map"
    else:
        out[path] = "object"
        _walk(typ, path, out, stack)


_SERIALIZE = re.compile(r"def _(\w+)_serialize\(.*?method='(\w+)',\s*resource_path='([^']+)'", re.S)
_PARAM_DOC = re.compile(r":param (\w+):")


def _client_index() -> dict[str, Any]:
    """Every `*Api` method of the installed client, and every kind's model fields (slow: ~1 s; cached)."""
    import kubernetes
    import kubernetes.client as kc

    methods: list[dict[str, Any]] = []
    kinds: dict[str, dict[str, Any]] = {}
    api_dir = Path(kc.__file__).parent / "api"
    for fname in sorted(api_dir.glob("*_api.py")):
        mod = importlib.import_module(f"kubernetes.client.api.{fname.stem}")
        cls_name = next((n for n, c in vars(mod).items() if inspect.isclass(c) and n.endswith("Api")
                         and c.__module__ == mod.__name__), None)
        if cls_name is None:
            continue
        cls = getattr(mod, cls_name)
        routes = {m.group(1): (m.group(2), m.group(3)) for m in _SERIALIZE.finditer(fname.read_text())}
        for name, fn in vars(cls).items():
            if name.startswith("_") or name.endswith(("_with_http_info", "_without_preload_content")) or \
                    not callable(fn) or name not in routes:
                continue
            verb, path = routes[name]
            ret = (getattr(fn, "__annotations__", {}) or {}).get("return")
            response = getattr(ret, "__name__", str(ret or ""))
            doc = [ln.strip() for ln in (fn.__doc__ or "").splitlines() if ln.strip()]
            desc = doc[1] if len(doc) > 1 and not doc[1].startswith(":") else name.replace("_", " ")
            params = [p for p in _PARAM_DOC.findall(fn.__doc__ or "") if not p.startswith("_")]
            kind = ""
            resp_cls = _model(response)
            if response.endswith("List") and resp_cls is not None:
                item = (getattr(resp_cls, "openapi_types", {}) or {}).get("items", "")
                if item.startswith("List["):
                    item_model = item[5:-1]
                    kind = re.sub(r"^(?:[A-Z][a-z]+)*V\d+(?:(?:alpha|beta)\d+)?", "", item_model)
                    m = re.match(r"/apis?/(?:([^/]+)/)?(v[^/]+)/(?:namespaces/\{namespace\}/)?([a-z0-9]+)$", path)
                    if m and verb == "GET":
                        group = m.group(1) or ""
                        if path.startswith("/api/"):
                            group = ""
                        info = kinds.get(kind)
                        stable = not re.search(r"(alpha|beta)", m.group(2))
                        better = info is None or (stable and re.search(r"(alpha|beta)", info["version"])) or \
                            (stable and not re.search(r"(alpha|beta)", info["version"])
                             and int(m.group(2)[1:]) > int(re.sub(r"\D.*", "", info["version"][1:]) or 0))
                        if better:
                            kinds[kind] = {"kind": kind, "group": group, "version": m.group(2), "plural": m.group(3),
                                           "namespaced": "{namespace}" in path or kinds.get(kind, {}).get("namespaced",
                                                                                                         False),
                                           "model": item_model}
                        elif "{namespace}" in path and info["version"] == m.group(2):
                            info["namespaced"] = True
            elif resp_cls is not None:
                kind = re.sub(r"^(?:[A-Z][a-z]+)*V\d+(?:(?:alpha|beta)\d+)?", "", response)
            methods.append({"api": cls_name, "name": name, "verb": verb, "path": path, "params": params,
                            "response": response, "kind": kind, "description": desc})
    for info in kinds.values():
        out: dict[str, str] = {}
        _walk(info["model"], "", out, ())
        info["fields"] = out
    return {"cache_version": CACHE_VERSION, "client_version": kubernetes.__version__, "methods": methods,
            "kinds": kinds}


def _home() -> Path:
    return Path(os.environ.get("KUBESAGE_HOME") or Path.home() / ".kubesage").expanduser()


class Catalog:
    """Kinds, their wire fields and the client methods; `search` finds candidate kinds/methods by meaning."""

    def __init__(self, index: dict[str, Any]) -> None:
        self.client_version = index.get("client_version", "")
        self.methods = [MethodInfo(**m) for m in index["methods"]]
        self.kinds: dict[str, KindInfo] = {k: KindInfo(**v) for k, v in index["kinds"].items()}
        self._embedder: Any = None
        self._method_vecs: np.ndarray | None = None
        self._field_vecs: dict[str, tuple[list[str], np.ndarray]] = {}
        self._lock = threading.Lock()
        self.discovered: set[str] = set()

    # -- building ------------------------------------------------------------------------------------
    @classmethod
    def load(cls, home: Path | None = None) -> Catalog:
        """The client index from the JSON cache (built and written on first use for this client version)."""
        import kubernetes

        path = (home or _home()) / "toolsmith" / f"catalog-{kubernetes.__version__}.json"
        index = None
        if path.exists():
            try:
                index = json.loads(path.read_text())
                if index.get("cache_version") != CACHE_VERSION:
                    index = None
            except (OSError, ValueError):
                index = None
        if index is None:
            index = _client_index()
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(".tmp")
                tmp.write_text(json.dumps(index))
                tmp.replace(path)
            except OSError:
                pass  # a read-only home: the index still works for this process
        return cls(index)

    def add_discovery(self, kube: Any) -> list[str]:
        """Kinds the live API serves (CRDs included) that the client does not know: read through the Kube's
        discovery endpoints. Returns the kinds added. Failures leave the client index as it is."""
        added: list[str] = []
        try:
            groups = [("", "v1")]
            for g in (kube.request("GET", "/apis") or {}).get("groups") or []:
                pref = (g.get("preferredVersion") or {}).get("version") or ((g.get("versions") or [{}])[0]).get("version")
                if pref:
                    groups.append((g["name"], pref))
        except Exception:  # noqa: BLE001 - discovery is best effort: the client index still answers
            return added
        for group, version in groups:
            path = f"/apis/{group}/{version}" if group else f"/api/{version}"
            try:
                resources = (kube.request("GET", path) or {}).get("resources") or []
            except Exception:  # noqa: BLE001 - one group failing should not hide the others
                continue
            for r in resources:
                if "/" in r.get("name", "") or "list" not in (r.get("verbs") or []):
                    continue
                kind = r.get("kind", "")
                self.discovered.add(kind)
                known = self.kinds.get(kind)
                if known is None:
                    self.kinds[kind] = KindInfo(kind, group, version, r["name"], bool(r.get("namespaced")))
                    for short in r.get("shortNames") or []:
                        ALIASES.setdefault(short.lower(), kind)
                    if r.get("singularName"):
                        ALIASES.setdefault(r["singularName"].lower(), kind)
                    added.append(kind)
                elif (known.group, known.version) != (group, version) and known.group == group:
                    known.version = version  # serve the version this cluster prefers
        return added

    # -- lookup --------------------------------------------------------------------------------------
    def resolve_kind(self, word: str) -> str | None:
        """A kind from a word people use: `CronJob`, `cronjobs`, `cron jobs`, `pvc`, a CRD's plural."""
        w = word.strip().lower()
        if not w:
            return None
        if w in ALIASES and ALIASES[w] in self.kinds:
            return ALIASES[w]
        for k, info in sorted(self.kinds.items(), key=lambda kv: not kv[1].model):
            if w in (k.lower(), info.plural, k.lower() + "s", k.lower() + "es"):
                return k
        if w.endswith("ies"):
            return self.resolve_kind(w[:-3] + "y")
        return None

    def kind_words(self) -> dict[str, str]:
        """Every phrase that names a kind (aliases, names, plurals), longest first for greedy matching."""
        words: dict[str, str] = {}
        # the client's kinds first: a discovered kind never takes their words (metrics.k8s.io serves "pods" too)
        for k, info in sorted(self.kinds.items(), key=lambda kv: not kv[1].model):
            for w in (k.lower(), info.plural, re.sub(r"(?<!^)([A-Z])", r" \1", k).lower()):
                words.setdefault(w, k)
        for a, k in ALIASES.items():
            if k in self.kinds:
                words[a] = k
        return dict(sorted(words.items(), key=lambda kv: -len(kv[0])))

    def fields(self, kind: str) -> dict[str, str]:
        info = self.kinds.get(kind)
        return dict(info.fields) if info else {}

    def field_type(self, kind: str, path: str) -> tuple[str | None, str]:
        """The type of a wire path (`[*]` for list elements, `[k=v]` selects elements); a path below a map is
        a map key (`metadata.labels.app`). Returns (type or None, the matched known path)."""
        info = self.kinds.get(kind)
        if info is None:
            return None, ""
        if not info.fields:  # known only from discovery: any path may exist
            return "any", path
        norm = re.sub(r"\[[^\]*]+=[^\]]*\]", "[*]", path)
        if norm in info.fields:
            return info.fields[norm], norm
        parts = norm.split(".")
        for i in range(len(parts) - 1, 0, -1):
            head = ".".join(parts[:i])
            typ = info.fields.get(head)
            if typ == "map":
                return "str", head
            if typ == "any":
                return "any", head
        return None, ""

    def suggest(self, kind: str, path: str, n: int = 3) -> list[str]:
        """Known paths close to a wrong one (by spelling, then by the last segment)."""
        paths = [p for p, t in self.fields(kind).items() if t != "object"]
        close = difflib.get_close_matches(path, paths, n=8, cutoff=0.6)
        last = path.rsplit(".", 1)[-1].lower()

        def score(p: str) -> float:  # the whole path and its last segment both count ("lastRun" ~ "lastScheduleTime")
            tail = p.rsplit(".", 1)[-1].lower()
            return difflib.SequenceMatcher(None, path, p).ratio() + difflib.SequenceMatcher(None, last, tail).ratio() \
                + (0.3 if tail.startswith(last[:4]) else 0.0)

        got = sorted(close, key=score, reverse=True)[:n]
        if not got:
            got = [p for p in paths if p.rsplit(".", 1)[-1].lower().startswith(last[:6])][:n]
        return got

    # -- retrieval -----------------------------------------------------------------------------------
    def _embed(self, texts: list[str]) -> np.ndarray:
        if self._embedder is None:
            from memory.embeddings import shared_embedder

            self._embedder = shared_embedder()
        return self._embedder.embed(texts)

    def search(self, text: str, k: int = 5) -> list[tuple[MethodInfo, float]]:
        """Client methods (list/read of a kind) nearest in meaning to a request: candidate kinds for a plan."""
        listing = [m for m in self.methods if m.verb == "GET" and m.kind in self.kinds and m.name.startswith("list_")]
        with self._lock:
            if self._method_vecs is None:
                self._method_vecs = self._embed([m.text() for m in listing])
        q = self._embed([text])[0]
        scores = self._method_vecs @ q
        order = np.argsort(-scores)
        seen: set[str] = set()
        out: list[tuple[MethodInfo, float]] = []
        for i in order:
            m = listing[int(i)]
            if m.kind in seen:
                continue
            seen.add(m.kind)
            out.append((m, float(scores[i])))
            if len(out) >= k:
                break
        return out

    def search_fields(self, kind: str, text: str, k: int = 5) -> list[tuple[str, float]]:
        """A kind's leaf fields nearest in meaning to some words ("last run" → status.lastScheduleTime)."""
        with self._lock:
            if kind not in self._field_vecs:
                # Leaf fields up to four levels deep: the ones people name; embedding a Pod's 1,600 paths costs ~10 s.
                paths = [p for p, t in self.fields(kind).items() if t not in ("object",) and p.count(".") <= 3
                         and "managedFields" not in p and not p.startswith(("apiVersion", "kind"))]
                words = [re.sub(r"(?<!^)([A-Z])", r" \1", p.replace("[*]", "").replace(".", " ")).lower()
                         for p in paths]
                self._field_vecs[kind] = (paths, self._embed(words) if paths else np.zeros((0, 384), np.float32))
        paths, vecs = self._field_vecs[kind]
        if not paths:
            return []
        scores = vecs @ self._embed([text])[0]
        order = np.argsort(-scores)[:k]
        return [(paths[int(i)], float(scores[i])) for i in order]


_shared: dict[str, Catalog] = {}
_shared_lock = threading.Lock()


def shared_catalog(kube: Any = None, home: Path | None = None) -> Catalog:
    """One catalog per process, with the discovery of each cluster it was handed merged in once."""
    with _shared_lock:
        cat = _shared.get("client")
        if cat is None:
            cat = _shared["client"] = Catalog.load(home)
        if kube is not None:
            host = getattr(getattr(getattr(kube, "api", None), "configuration", None), "host", "") or id(kube)
            key = f"discovered:{host}"
            if key not in _shared:
                cat.add_discovery(kube)
                _shared[key] = cat
        return cat
