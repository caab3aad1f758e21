"""The scheduler: binds pending pods to nodes by requests vs allocatable, nodeSelector, required node affinity,
taints and tolerations, and explains failures in the real scheduler's words.
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Hashable
from typing import Any

from sandbox.cluster import SYSTEM, Cluster, WriteOptions
from sandbox.controllers import quantity
from sandbox.controllers.events import EventRecorder
from sandbox.errors import ApiError

TERMINAL = ("Succeeded", "Failed")


def pod_requests(pod: dict[str, Any]) -> tuple[int, int]:
    """(CPU millicores, memory bytes) the scheduler counts for a pod: max(sum of containers, max init container)."""
    spec = pod.get("spec") or {}

    def req(c: dict[str, Any]) -> tuple[int, int]:
        r = (c.get("resources") or {}).get("requests") or (c.get("resources") or {}).get("limits") or {}
        return quantity.millicores(r.get("cpu", 0)), quantity.bytes_(r.get("memory", 0))

    cpu = mem = 0
    for c in spec.get("containers") or []:
        a, b = req(c)
        cpu, mem = cpu + a, mem + b
    for c in spec.get("initContainers") or []:
        a, b = req(c)
        cpu, mem = max(cpu, a), max(mem, b)
    return cpu, mem


def _tolerates(tolerations: list[dict[str, Any]], taint: dict[str, Any]) -> bool:
    for t in tolerations or []:
        if t.get("effect") and t.get("effect") != taint.get("effect"):
            continue
        if t.get("operator") == "Exists":
            if not t.get("key") or t.get("key") == taint.get("key"):
                return True
        elif t.get("key") == taint.get("key") and (t.get("value") or "") == (taint.get("value") or ""):
            return True
    return False


def _expr_matches(expr: dict[str, Any], labels: dict[str, str]) -> bool:
    key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
    val = labels.get(key)
    if op == "In":
        return val in values
    if op == "NotIn":
        return val not in values
    if op == "Exists":
        return key in labels
    if op == "DoesNotExist":
        return key not in labels
    try:
        if op == "Gt":
            return val is not None and int(val) > int(values[0])
        if op == "Lt":
            return val is not None and int(val) < int(values[0])
    except (ValueError, IndexError):
        return False
    return False


def node_matches(pod: dict[str, Any], node: dict[str, Any]) -> bool:
    spec = pod.get("spec") or {}
    labels = node["metadata"].get("labels") or {}
    for k, v in (spec.get("nodeSelector") or {}).items():
        if labels.get(k) != v:
            return False
    required = (((spec.get("affinity") or {}).get("nodeAffinity") or {})
                .get("requiredDuringSchedulingIgnoredDuringExecution") or {})
    terms = required.get("nodeSelectorTerms") or []
    if terms:
        fields = {"metadata.name": node["metadata"]["name"]}
        ok = any(all(_expr_matches(e, labels) for e in t.get("matchExpressions") or [])
                 and all(_expr_matches(e, fields) for e in t.get("matchFields") or []) for t in terms)
        if not ok:
            return False
    return True


class Scheduler:
    name = "scheduler"
    watches = ("/pods", "/nodes", "/persistentvolumeclaims")

    def __init__(self, cluster: Cluster, events: EventRecorder) -> None:
        self.cluster = cluster
        self.events = events
        self.pods = cluster.rt("", "v1", "pods")
        self._used: dict[str, tuple[int, int, int]] | None = None  # node -> requests in use (cached)
        self._bound: set[str] = set()

    def keys_for(self, resource: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> list[Hashable]:
        if resource == "/pods":
            obj = new or old
            if new is not None and not (new.get("spec") or {}).get("nodeName"):
                return [(obj["metadata"]["namespace"], obj["metadata"]["name"])]
            if new is None or (old and (old.get("status") or {}).get("phase") != (new.get("status") or {}).get("phase")) \
                    or (old is None and (new.get("spec") or {}).get("nodeName")) or \
                    (old and not (old.get("spec") or {}).get("nodeName") and (new.get("spec") or {}).get("nodeName")
                     and (new["metadata"].get("uid") not in self._bound)):
                self._used = None  # capacity changed behind the scheduler's back
                return self._pending() if new is None or old is not None else []
            return []
        self._used = None
        return self._pending()

    def _pending(self) -> list[Hashable]:
        return [(p["metadata"]["namespace"], p["metadata"]["name"]) for p in self.cluster.store.list("/pods")[0]
                if not (p.get("spec") or {}).get("nodeName") and not p["metadata"].get("deletionTimestamp")]

    def _usage(self) -> dict[str, tuple[int, int, int]]:
        if self._used is not None:
            return self._used
        used: dict[str, tuple[int, int, int]] = {}
        for p in self.cluster.store.list("/pods")[0]:
            node = (p.get("spec") or {}).get("nodeName")
            if node and (p.get("status") or {}).get("phase") not in TERMINAL:
                cpu, mem = pod_requests(p)
                c, m, n = used.get(node, (0, 0, 0))
                used[node] = (c + cpu, m + mem, n + 1)
        self._used = used
        return used

    def reconcile(self, key: Hashable) -> float | None:
        ns, name = key  # type: ignore[misc]
        pod = self.cluster.store.get("/pods", ns, name)
        if pod is None or (pod.get("spec") or {}).get("nodeName") or pod["metadata"].get("deletionTimestamp"):
            return None
        if (pod.get("spec") or {}).get("schedulerName", "default-scheduler") != "default-scheduler":
            return None
        nodes = self.cluster.store.list("/nodes")[0]
        reasons: Counter[str] = Counter()
        preempt: Counter[str] = Counter()
        volume_problem = self._volume_problem(pod)
        fits: list[tuple[float, str]] = []
        used = self._usage()
        cpu, mem = pod_requests(pod)
        for node in nodes:
            nname = node["metadata"]["name"]
            if volume_problem:
                reasons[volume_problem] += 1
                preempt["Preemption is not helpful for scheduling"] += 1
                continue
            node_reasons = []
            if (node.get("spec") or {}).get("unschedulable"):
                node_reasons.append("node(s) were unschedulable")
            ready = any(c.get("type") == "Ready" and c.get("status") == "True"
                        for c in (node.get("status") or {}).get("conditions") or [])
            if not ready:
                node_reasons.append("node(s) had untolerated taint {node.kubernetes.io/not-ready: }")
            for taint in (node.get("spec") or {}).get("taints") or []:
                if taint.get("effect") in ("NoSchedule", "NoExecute") and not _tolerates(
                        (pod.get("spec") or {}).get("tolerations") or [], taint):
                    node_reasons.append(f"node(s) had untolerated taint {{{taint.get('key')}: {taint.get('value', '')}}}")
            if not node_matches(pod, node):
                node_reasons.append("node(s) didn't match Pod's node affinity/selector")
            if node_reasons:
                for r in node_reasons:
                    reasons[r] += 1
                preempt["Preemption is not helpful for scheduling"] += 1
                continue
            alloc = (node.get("status") or {}).get("allocatable") or {}
            a_cpu, a_mem = quantity.millicores(alloc.get("cpu", 0)), quantity.bytes_(alloc.get("memory", 0))
            a_pods = int(quantity.parse(alloc.get("pods", 110)))
            u_cpu, u_mem, u_pods = used.get(nname, (0, 0, 0))
            res_reasons = []
            if u_pods + 1 > a_pods:
                res_reasons.append("Too many pods")
            if cpu and u_cpu + cpu > a_cpu:
                res_reasons.append("Insufficient cpu")
            if mem and u_mem + mem > a_mem:
                res_reasons.append("Insufficient memory")
            if res_reasons:
                for r in res_reasons:
                    reasons[r] += 1
                preempt["No preemption victims found for incoming pod"] += 1
                continue
            free = ((a_cpu - u_cpu - cpu) / a_cpu if a_cpu else 0) + ((a_mem - u_mem - mem) / a_mem if a_mem else 0)
            fits.append((-free, nname))
        if fits:
            node_name = sorted(fits)[0][1]
            self._bound.add(pod["metadata"]["uid"])
            try:
                self.cluster.bind(ns, name, {"target": {"kind": "Node", "name": node_name}})
            except ApiError:
                self._used = None
                return None
            if self._used is not None:
                c, m, n = self._used.get(node_name, (0, 0, 0))
                self._used[node_name] = (c + cpu, m + mem, n + 1)
            self.events.emit(pod, "Normal", "Scheduled", f"Successfully assigned {ns}/{name} to {node_name}",
                             "default-scheduler")
            return None
        total = len(nodes)
        # A PreFilter rejection (the pod's claims) names no node count, as the real scheduler's message does.
        detail = volume_problem or ", ".join(sorted(f"{n} {r}" for r, n in reasons.items()))
        message = f"0/{total} nodes are available: {detail}." if total else "no nodes available to schedule pods"
        if total and preempt:
            pdetail = ", ".join(sorted(f"{n} {r}" for r, n in preempt.items()))
            message += f" preemption: 0/{total} nodes are available: {pdetail}."
        self._mark_unschedulable(pod, message)
        return 30.0

    def _volume_problem(self, pod: dict[str, Any]) -> str | None:
        ns = pod["metadata"]["namespace"]
        for v in (pod.get("spec") or {}).get("volumes") or []:
            claim = (v.get("persistentVolumeClaim") or {}).get("claimName")
            if not claim:
                continue
            pvc = self.cluster.store.get("/persistentvolumeclaims", ns, claim)
            if pvc is None:
                return f'persistentvolumeclaim "{claim}" not found'
            if (pvc.get("status") or {}).get("phase") != "Bound" and not self._wait_for_consumer(pvc):
                return "pod has unbound immediate PersistentVolumeClaims"
        return None

    def _wait_for_consumer(self, pvc: dict[str, Any]) -> bool:
        sc_name = (pvc.get("spec") or {}).get("storageClassName")
        sc = self.cluster.store.get("storage.k8s.io/storageclasses", "", sc_name) if sc_name else None
        return bool(sc and sc.get("volumeBindingMode") == "WaitForFirstConsumer")

    def _mark_unschedulable(self, pod: dict[str, Any], message: str) -> None:
        conds = (pod.get("status") or {}).get("conditions") or []
        current = next((c for c in conds if c.get("type") == "PodScheduled"), None)
        if not (current and current.get("status") == "False" and current.get("message") == message):
            new = copy.deepcopy(pod)
            status = new.setdefault("status", {})
            status["phase"] = "Pending"
            status["conditions"] = [c for c in conds if c.get("type") != "PodScheduled"] + [{
                "type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": message,
                "lastProbeTime": None, "lastTransitionTime": self.cluster.clock.rfc3339()}]
            try:
                self.cluster.update(self.pods, pod["metadata"]["namespace"], pod["metadata"]["name"], new, SYSTEM,
                                    WriteOptions(field_manager="kube-scheduler"), "status")
            except ApiError:
                return
        self.events.emit(pod, "Warning", "FailedScheduling", message, "default-scheduler")
