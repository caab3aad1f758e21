"""The diagnosis contract: what a check reads (`Snapshot`), what it returns (`Finding`), how checks are found
(`REGISTRY`) and run (`run_all`).

The shape is k8sgpt's analyzers: one check per module under `tools/diagnose/checks/`, each a small object
with `name`, `kinds` and `run(snapshot) -> list[Finding]`, registered with `@register`. Adding a check touches
one module and its test.

Cluster text (log lines, event messages, annotations) is data: a Finding quotes it as evidence (cleaned and cut
by `util.quote`, enforced again here) and a check never derives an action from what such text *asks*; fixes are
built from the objects' structure (specs, bindings, labels) and from fixed patterns only.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, runtime_checkable

from tools.diagnose import util

SEVERITIES = ("critical", "warning", "info")

LogReader = Callable[[str, str, str, bool], "list[str] | None"]


def _no_logs(namespace: str, pod: str, container: str, previous: bool) -> list[str] | None:
    return None


@dataclass
class Finding:
    """One diagnosed problem, with the evidence it rests on and a proposed change.

    `kind/namespace/name` is the object to look at (the workload, not one of its pods, when all its pods share the
    problem). `fix` is a structured change that `tools.diagnose.fixes.apply_fix` can apply:
    `{"action": "patch", "kind", "namespace", "name", "patch_type": "strategic"|"merge"|"json", "patch"}` or
    `{"action": "create", "manifest": {...}}` (or `"manifests": [...]`, created in order). `restart` names a
    workload to rollout-restart after the fix (a ConfigMap or RBAC change only reaches running pods that way).
    """

    check: str
    severity: str
    kind: str
    namespace: str
    name: str
    reason: str
    summary: str
    evidence: list[str] = field(default_factory=list)
    root_cause: str = ""
    suggested_fix: str = ""
    fix: dict[str, Any] | None = None
    restart: dict[str, str] | None = None
    related: list[str] = field(default_factory=list)
    confidence: str = "high"

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, got {self.severity!r}")
        self.evidence = [util.quote(e) for e in self.evidence if str(e).strip()]
        self.summary = util.quote(self.summary, 400)
        self.root_cause = util.clean(self.root_cause)
        self.suggested_fix = util.clean(self.suggested_fix)

    @property
    def ref(self) -> str:
        return util.ref(self.kind, self.namespace, self.name)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def text(self) -> str:
        """A compact rendering for a person or a small model: summary, evidence, cause, fix."""
        lines = [f"[{self.severity}] {self.kind} {self.namespace + '/' if self.namespace else ''}{self.name}: "
                 f"{self.reason} - {self.summary}"]
        lines += [f"  evidence: {e}" for e in self.evidence]
        if self.root_cause:
            lines.append(f"  root cause: {self.root_cause}")
        if self.suggested_fix:
            lines.append(f"  fix: {self.suggested_fix}")
        return "\n".join(lines)


@dataclass
class Snapshot:
    """What the checks read: API objects as plain dicts (exactly as the API serves them), a log reader and metrics.

    `logs(namespace, pod, container, previous)` returns the lines or None when there are none (or they cannot be
    read); read through `read_logs`, which memoizes and never raises. `metrics` maps a pod ('ns/pod', or just
    'pod') to {container: (millicores, bytes)}; `node_metrics` maps a node to (millicores, bytes). Both may be
    empty. `errors` lists what could not be read (a forbidden list, an absent metrics API).
    """

    pods: list[dict[str, Any]] = field(default_factory=list)
    deployments: list[dict[str, Any]] = field(default_factory=list)
    replicasets: list[dict[str, Any]] = field(default_factory=list)
    statefulsets: list[dict[str, Any]] = field(default_factory=list)
    daemonsets: list[dict[str, Any]] = field(default_factory=list)
    services: list[dict[str, Any]] = field(default_factory=list)
    endpoints: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    nodes: list[dict[str, Any]] = field(default_factory=list)
    configmaps: list[dict[str, Any]] = field(default_factory=list)
    secrets: list[dict[str, Any]] = field(default_factory=list)
    serviceaccounts: list[dict[str, Any]] = field(default_factory=list)
    roles: list[dict[str, Any]] = field(default_factory=list)
    rolebindings: list[dict[str, Any]] = field(default_factory=list)
    clusterroles: list[dict[str, Any]] = field(default_factory=list)
    clusterrolebindings: list[dict[str, Any]] = field(default_factory=list)
    pvcs: list[dict[str, Any]] = field(default_factory=list)
    storageclasses: list[dict[str, Any]] = field(default_factory=list)
    logs: LogReader = _no_logs
    metrics: dict[str, dict[str, tuple[int, int]]] = field(default_factory=dict)
    node_metrics: dict[str, tuple[int, int]] = field(default_factory=dict)
    namespace: str | None = None
    errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._log_cache: dict[tuple[str, str, str, bool], list[str] | None] = {}
        self._index: dict[str, tuple[list[dict[str, Any]], int, dict[tuple[str, str], dict[str, Any]]]] = {}
        self._events: dict[tuple[str, str, str], list[dict[str, Any]]] | None = None
        self._events_key: tuple[int, int] = (0, 0)

    # -- lookups ---------------------------------------------------------------------------------------
    def get(self, collection: str, namespace: str, name: str) -> dict[str, Any] | None:
        """An object by collection ('configmaps', 'roles', 'nodes', ...), namespace ('' if cluster-scoped), name."""
        items = getattr(self, collection)
        cached = self._index.get(collection)
        if cached is None or cached[0] is not items or cached[1] != len(items):  # rebuilt when the list changes
            cached = (items, len(items), {(util.ns_of(o), util.name_of(o)): o for o in items})
            self._index[collection] = cached
        return cached[2].get((namespace, name))

    def events_for(self, kind: str, namespace: str, name: str) -> list[dict[str, Any]]:
        """Events about one object, newest last."""
        if self._events is None or self._events_key != (id(self.events), len(self.events)):
            self._events_key = (id(self.events), len(self.events))
            idx: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
            for e in self.events:
                io = e.get("involvedObject") or e.get("regarding") or {}
                idx[(io.get("kind", ""), io.get("namespace", "") or util.ns_of(e), io.get("name", ""))].append(e)
            for evs in idx.values():
                evs.sort(key=_event_time)
            self._events = idx
        return self._events.get((kind, namespace, name), [])

    def read_logs(self, namespace: str, pod: str, container: str, previous: bool = False) -> list[str] | None:
        key = (namespace, pod, container, previous)
        if key not in self._log_cache:
            try:
                lines = self.logs(namespace, pod, container, previous)
            except Exception:  # noqa: BLE001 - a log that cannot be read is simply absent
                lines = None
            self._log_cache[key] = list(lines) if lines else None
        return self._log_cache[key]

    def usage(self, namespace: str, pod: str) -> dict[str, tuple[int, int]]:
        """{container: (millicores, bytes)} from metrics.k8s.io, or {} when unknown."""
        return self.metrics.get(f"{namespace}/{pod}") or self.metrics.get(pod) or {}

    def workload_of(self, pod: dict[str, Any]) -> tuple[str, str]:
        """(kind, name) of the controller that owns a pod, following ReplicaSet -> Deployment; ('Pod', name)
        for a bare pod."""
        ns = util.ns_of(pod)
        owner = next((o for o in util.meta(pod).get("ownerReferences") or [] if o.get("controller")),
                     util.first(util.meta(pod).get("ownerReferences") or []))
        if not owner:
            return "Pod", util.name_of(pod)
        kind, name = owner.get("kind", ""), owner.get("name", "")
        if kind == "ReplicaSet":
            rs = self.get("replicasets", ns, name)
            if rs is not None:
                up = next((o for o in util.meta(rs).get("ownerReferences") or [] if o.get("kind") == "Deployment"),
                          None)
                return ("Deployment", up["name"]) if up else ("ReplicaSet", name)
            h = (util.meta(pod).get("labels") or {}).get("pod-template-hash")
            if h and name.endswith("-" + h) and self.get("deployments", ns, name[: -len(h) - 1]) is not None:
                return "Deployment", name[: -len(h) - 1]
            return "ReplicaSet", name
        if kind == "Job":
            return "Job", name
        return kind, name

    def pods_of(self, kind: str, namespace: str, name: str) -> list[dict[str, Any]]:
        return [p for p in self.pods if util.ns_of(p) == namespace and self.workload_of(p) == (kind, name)]

    def workload(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        coll = {"Deployment": "deployments", "StatefulSet": "statefulsets", "DaemonSet": "daemonsets",
                "ReplicaSet": "replicasets", "Pod": "pods"}.get(kind)
        return self.get(coll, namespace, name) if coll else None


def _event_time(e: dict[str, Any]) -> str:
    return (e.get("lastTimestamp") or e.get("eventTime") or util.meta(e).get("creationTimestamp") or "")


@runtime_checkable
class Check(Protocol):
    """One diagnosis: `name` (registry key), `kinds` (object kinds it reports on), `run`."""

    name: str
    kinds: tuple[str, ...]

    def run(self, snapshot: Snapshot) -> list[Finding]: ...


REGISTRY: dict[str, Check] = {}


def register(check: Any) -> Any:
    """Class decorator: instantiate the check and add it to REGISTRY under its name."""
    inst = check() if isinstance(check, type) else check
    if not isinstance(inst, Check):
        raise TypeError(f"{check!r} does not implement Check (name, kinds, run)")
    REGISTRY[inst.name] = inst
    return check


def load_checks() -> dict[str, Check]:
    """Import every module of tools.diagnose.checks (each registers itself) and return REGISTRY."""
    pkg = importlib.import_module("tools.diagnose.checks")
    for mod in pkgutil.iter_modules(pkg.__path__):
        importlib.import_module(f"{pkg.__name__}.{mod.name}")
    return REGISTRY


_RANK = {s: i for i, s in enumerate(SEVERITIES)}


def run_all(snapshot: Snapshot, namespace: str | None = None, target: str | None = None,
            checks: list[str] | None = None) -> list[Finding]:
    """Run every registered check (or the named ones) and return their findings, most severe first.

    `namespace` keeps findings in that namespace (and cluster-scoped ones that relate to it); `target` narrows to
    one workload: a Deployment/StatefulSet/DaemonSet name, a pod name or name prefix, or a Service (with the pods
    it selects or nearly selects), plus findings whose related objects include those.
    A check that fails yields an 'info' finding with reason CheckFailed rather than hiding the others.
    """
    registry = load_checks()
    names = checks or list(registry)
    findings: list[Finding] = []
    for n in names:
        check = registry[n]
        try:
            findings.extend(check.run(snapshot))
        except Exception as e:  # noqa: BLE001 - one broken check must not hide the others
            findings.append(Finding(check=n, severity="info", kind="Check", namespace="", name=n,
                                    reason="CheckFailed", summary=f"check {n} failed: {type(e).__name__}: {e}"))
    if namespace:
        findings = [f for f in findings if f.namespace == namespace or
                    (not f.namespace and any(f"/{namespace}/" in r for r in f.related)) or f.kind == "Check"]
    if target:
        refs = target_refs(snapshot, target, namespace)
        findings = [f for f in findings if f.ref in refs or any(r in refs for r in f.related)]
    findings.sort(key=lambda f: (_RANK[f.severity], f.namespace, f.kind, f.name, f.check))
    return findings


def target_refs(snapshot: Snapshot, target: str, namespace: str | None = None) -> set[str]:
    """The objects a target names: workloads of that name and their pods and ReplicaSets, pods with that name
    or prefix and their workloads, Services of that name and the pods they select, any other object so named."""
    refs: set[str] = set()

    def in_ns(o: dict[str, Any]) -> bool:
        return namespace is None or util.ns_of(o) == namespace

    def add_pod(p: dict[str, Any]) -> None:
        ns = util.ns_of(p)
        refs.add(util.ref("Pod", ns, util.name_of(p)))
        kind, name = snapshot.workload_of(p)
        refs.add(util.ref(kind, ns, name))
        for o in util.meta(p).get("ownerReferences") or []:
            refs.add(util.ref(o.get("kind", ""), ns, o.get("name", "")))

    for coll, kind in (("deployments", "Deployment"), ("statefulsets", "StatefulSet"), ("daemonsets", "DaemonSet"),
                       ("replicasets", "ReplicaSet")):
        for w in getattr(snapshot, coll):
            if util.name_of(w) == target and in_ns(w):
                refs.add(util.ref(kind, util.ns_of(w), target))
                for p in snapshot.pods_of(kind, util.ns_of(w), target):
                    add_pod(p)
    for p in snapshot.pods:
        n = util.name_of(p)
        if in_ns(p) and (n == target or n.startswith(target + "-")):
            add_pod(p)
    for s in snapshot.services:
        if util.name_of(s) == target and in_ns(s):
            ns = util.ns_of(s)
            refs.add(util.ref("Service", ns, target))
            refs.add(util.ref("Endpoints", ns, target))
            sel = (s.get("spec") or {}).get("selector") or {}
            for p in snapshot.pods:
                if util.ns_of(p) == ns and util.selector_matches(sel, util.meta(p).get("labels")):
                    add_pod(p)
    for coll, kind in (("configmaps", "ConfigMap"), ("secrets", "Secret"), ("serviceaccounts", "ServiceAccount"),
                       ("pvcs", "PersistentVolumeClaim")):
        for o in getattr(snapshot, coll):
            if util.name_of(o) == target and in_ns(o):
                refs.add(util.ref(kind, util.ns_of(o), target))
    return refs
