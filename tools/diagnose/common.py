"""Helpers several checks share: grouping pod problems by workload, structured fixes, reading log tails."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from tools.diagnose import util
from tools.diagnose.base import Snapshot
from tools.k8s.kinds import WORKLOADS
from tools.k8s.objects import waiting_reason


def waiting_in(snapshot: Snapshot, reasons: tuple[str, ...] | frozenset[str] | set[str]
               ) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(pod, container status) of every container waiting with one of `reasons`."""
    return [(pod, cs) for pod in snapshot.pods for cs in util.container_statuses(pod)
            if waiting_reason(cs) in reasons]


def group_by_workload(snapshot: Snapshot, items: list[tuple[dict[str, Any], Any]]
                      ) -> dict[tuple[str, str, str], list[tuple[dict[str, Any], Any]]]:
    """{(namespace, kind, name): [(pod, item), ...]} keeping the input order."""
    groups: dict[tuple[str, str, str], list[tuple[dict[str, Any], Any]]] = defaultdict(list)
    for pod, item in items:
        kind, name = snapshot.workload_of(pod)
        groups[(util.ns_of(pod), kind, name)].append((pod, item))
    return groups


def pod_template(snapshot: Snapshot, kind: str, ns: str, name: str, pod: dict[str, Any]) -> dict[str, Any]:
    """The pod spec that a fix would change: the workload's template, or the pod's own spec for a bare pod."""
    w = snapshot.workload(kind, ns, name)
    if w is not None and kind in WORKLOADS:
        return ((w.get("spec") or {}).get("template") or {}).get("spec") or {}
    return pod.get("spec") or {}


def find_container(spec: dict[str, Any], pod: dict[str, Any], name: str) -> dict[str, Any]:
    """A container (or init container) by name in the template spec, else in the pod itself; {} if absent."""
    for c in list(spec.get("containers") or []) + list(spec.get("initContainers") or []):
        if c.get("name") == name:
            return c
    return util.container_spec(pod, name)


def container_fix(kind: str, ns: str, name: str, container: str, body: dict[str, Any],
                  spec: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """A strategic-merge patch of one container in a workload's pod template (an init container when `spec`
    lists it under initContainers); None for kinds whose pods cannot be changed in place (a bare Pod, a Job)."""
    if kind not in WORKLOADS:
        return None
    init = any(c.get("name") == container for c in (spec or {}).get("initContainers") or [])
    key = "initContainers" if init else "containers"
    return {"action": "patch", "kind": kind, "namespace": ns, "name": name, "patch_type": "strategic",
            "patch": {"spec": {"template": {"spec": {key: [{"name": container, **body}]}}}}}


def template_fix(kind: str, ns: str, name: str, spec_body: dict[str, Any]) -> dict[str, Any] | None:
    if kind not in WORKLOADS:
        return None
    return {"action": "patch", "kind": kind, "namespace": ns, "name": name, "patch_type": "strategic",
            "patch": {"spec": {"template": {"spec": spec_body}}}}


def restart_of(kind: str, ns: str, name: str) -> dict[str, str] | None:
    """The workload to rollout-restart (pod template annotation), when that kind supports it."""
    return {"kind": kind, "namespace": ns, "name": name} if kind in WORKLOADS else None


def workload_label(kind: str, ns: str, name: str) -> str:
    return f"{kind.lower()}/{name}" if kind != "Pod" else f"pod {ns}/{name}"


def log_tail(snapshot: Snapshot, pod: dict[str, Any], container: str, prefer_previous: bool,
             n: int = 400) -> tuple[list[str], bool]:
    """(last n lines, whether they are the previous instance's): the previous instance first when asked (a
    crashed container's story is in its previous logs), else the current one."""
    ns, pname = util.ns_of(pod), util.name_of(pod)
    order = (True, False) if prefer_previous else (False,)
    for prev in order:
        lines = snapshot.read_logs(ns, pname, container, prev)
        if lines:
            return [ln for ln in lines[-n:]], prev
    return [], False


def log_evidence(pod: dict[str, Any], container: str, previous: bool, line: str) -> str:
    which = " (previous)" if previous else ""
    return f"logs {util.ns_of(pod)}/{util.name_of(pod)}/{container}{which}: {line}"


def pod_refs(pods: list[dict[str, Any]]) -> list[str]:
    return [util.ref("Pod", util.ns_of(p), util.name_of(p)) for p in pods]


def requests_of(c: dict[str, Any]) -> dict[str, Any]:
    res = c.get("resources") or {}
    req = dict(res.get("requests") or {})
    for k, v in (res.get("limits") or {}).items():  # requests default to limits when unset
        req.setdefault(k, v)
    return req


def pod_requests(spec: dict[str, Any]) -> tuple[int, int]:
    """(millicores, bytes) a pod requests: the sum over containers, or the largest init container if larger."""
    cpu = mem = 0
    for c in spec.get("containers") or []:
        r = requests_of(c)
        cpu += util.millicores(r.get("cpu")) or 0
        mem += util.bytes_(r.get("memory")) or 0
    for c in spec.get("initContainers") or []:
        r = requests_of(c)
        cpu = max(cpu, util.millicores(r.get("cpu")) or 0)
        mem = max(mem, util.bytes_(r.get("memory")) or 0)
    return cpu, mem


def tolerates(tolerations: list[dict[str, Any]], taint: dict[str, Any]) -> bool:
    for t in tolerations or []:
        if t.get("effect") and t.get("effect") != taint.get("effect"):
            continue
        if t.get("operator") == "Exists":
            if not t.get("key") or t.get("key") == taint.get("key"):
                return True
        elif t.get("key") == taint.get("key") and (t.get("value") or "") == (taint.get("value") or ""):
            return True
    return False
