"""unschedulable: pods the scheduler cannot place (PodScheduled=False, reason Unschedulable / FailedScheduling).

Parses the scheduler's message ("0/3 nodes are available: 1 node(s) had untolerated taint {...}, 2 Insufficient
cpu."), then recomputes the fit itself: the pod's requests against each node's allocatable minus what is already
requested there, counting only nodes whose taints the pod tolerates and whose labels match its nodeSelector.
Too-large requests: the fix lowers them to fit the largest eligible node with headroom (at most half its
allocatable and 80% of its free capacity). A nodeSelector one typo away from a node's label: the fix corrects it.
"""

from __future__ import annotations

import re
from typing import Any

from tools.diagnose import common, util
from tools.diagnose.base import Finding, Snapshot, register
from tools.k8s.kinds import POD_OWNERS

_ITEM = re.compile(r"(\d+) (Insufficient ([\w/-]+(?:\.[\w/-]+)*)|node\(s\) had untolerated taint \{([^}]*)\}|"
                   r"node\(s\) didn't match Pod's node affinity/selector|node\(s\) didn't match pod (?:anti-)?affinity "
                   r"rules|node\(s\) had volume node affinity conflict|node\(s\) were unschedulable|"
                   r"node\(s\) didn't have free ports[^,.]*|node\(s\) had [^,.]*)")


def parse_message(msg: str) -> list[tuple[int, str, str]]:
    """[(count, kind, detail)]: kind is insufficient|taint|selector|affinity|volume|cordoned|ports|other."""
    head = msg.split(" preemption:")[0]
    out = []
    for m in _ITEM.finditer(head):
        n, text = int(m.group(1)), m.group(2)
        if m.group(3):
            out.append((n, "insufficient", m.group(3)))
        elif m.group(4) is not None:
            out.append((n, "taint", m.group(4)))
        elif "node affinity/selector" in text:
            out.append((n, "selector", ""))
        elif "affinity rules" in text:
            out.append((n, "affinity", text))
        elif "volume node affinity" in text:
            out.append((n, "volume", ""))
        elif "unschedulable" in text:
            out.append((n, "cordoned", ""))
        elif "free ports" in text:
            out.append((n, "ports", text))
        else:
            out.append((n, "other", text))
    return out


def _floor(v: float, step: int) -> int:
    return int(v // step * step)


@register
class UnschedulableCheck:
    name = "unschedulable"
    kinds = POD_OWNERS

    def run(self, snapshot: Snapshot) -> list[Finding]:
        items = []
        for pod in snapshot.pods:
            cond = util.condition(pod, "PodScheduled")
            if (pod.get("spec") or {}).get("nodeName"):
                continue
            if cond and cond.get("status") == "False" and cond.get("reason") in ("Unschedulable", "SchedulerError"):
                items.append((pod, cond))
            elif any(e.get("reason") == "FailedScheduling"
                     for e in snapshot.events_for("Pod", util.ns_of(pod), util.name_of(pod))):
                items.append((pod, cond or {}))
        return [self._finding(snapshot, ns, kind, name, group)
                for (ns, kind, name), group in common.group_by_workload(snapshot, items).items()]

    def _nodes(self, snapshot: Snapshot, spec: dict[str, Any]) -> list[dict[str, Any]]:
        """Nodes the pod could go to ignoring resources: schedulable, taints tolerated, nodeSelector matched."""
        sel = spec.get("nodeSelector") or {}
        out = []
        for node in snapshot.nodes:
            ns = node.get("spec") or {}
            if ns.get("unschedulable"):
                continue
            taints = [t for t in ns.get("taints") or [] if t.get("effect") in ("NoSchedule", "NoExecute")]
            if any(not common.tolerates(spec.get("tolerations") or [], t) for t in taints):
                continue
            labels = util.meta(node).get("labels") or {}
            if any(labels.get(k) != v for k, v in sel.items()):
                continue
            out.append(node)
        return out

    def _used(self, snapshot: Snapshot, node: str) -> tuple[int, int]:
        cpu = mem = 0
        for p in snapshot.pods:
            if (p.get("spec") or {}).get("nodeName") == node and (p.get("status") or {}).get("phase") not in (
                    "Succeeded", "Failed"):
                c, m = common.pod_requests(p.get("spec") or {})
                cpu, mem = cpu + c, mem + m
        return cpu, mem

    def _finding(self, snapshot: Snapshot, ns: str, kind: str, name: str,
                 group: list[tuple[dict[str, Any], dict[str, Any]]]) -> Finding:
        pod, cond = group[0]
        pname = util.name_of(pod)
        events = [e for e in snapshot.events_for("Pod", ns, pname) if e.get("reason") == "FailedScheduling"]
        message = cond.get("message") or (events[-1].get("message", "") if events else "")
        parts = parse_message(message)
        spec = common.pod_template(snapshot, kind, ns, name, pod)
        req_cpu, req_mem = common.pod_requests(spec)
        wl = common.workload_label(kind, ns, name)
        evidence = [f"pod {ns}/{pname}: PodScheduled=False {cond.get('reason', '')}: {message}"]
        if events:
            e = events[-1]
            evidence.append(f"event FailedScheduling (x{e.get('count', 1)}): {e.get('message', '')}")
        evidence.append(f"pod requests: cpu {util.fmt_cpu(req_cpu) if req_cpu else 'none'}, memory "
                        f"{util.fmt_mem(req_mem) if req_mem else 'none'}")
        f = Finding(check=self.name, severity="critical", kind=kind, namespace=ns, name=name, reason="Unschedulable",
                    summary=f"{len(group)} pod(s) of {wl} cannot be scheduled: " +
                            (", ".join(f"{n} {k if k != 'insufficient' else 'insufficient ' + d}"
                                       for n, k, d in parts) or message),
                    evidence=evidence, related=common.pod_refs([p for p, _ in group]) + [util.ref(kind, ns, name)])
        eligible = self._nodes(snapshot, spec)
        insufficient = {d for _, k, d in parts if k == "insufficient"}
        if insufficient & {"cpu", "memory"} and eligible:
            self._resources(snapshot, f, kind, ns, name, spec, eligible, req_cpu, req_mem, insufficient)
        elif not eligible and (spec.get("nodeSelector") or any(k == "selector" for _, k, _ in parts)):
            self._selector(snapshot, f, kind, ns, name, spec)
        elif not eligible and any(k == "taint" for _, k, _ in parts):
            taints = sorted({d for _, k, d in parts if k == "taint"})
            f.root_cause = f"every node that could take it has a taint the pod does not tolerate: {'; '.join(taints)}"
            f.suggested_fix = (f"add a matching toleration to {wl} only if it is meant to run on those nodes, or make "
                               "untainted capacity available")
            f.confidence = "medium"
        else:
            f.root_cause = f"the scheduler finds no node for it: {message}"
            f.suggested_fix = "address the constraints the scheduler lists (resources, affinity, ports, volumes)"
            f.confidence = "low"
        return f

    def _resources(self, snapshot: Snapshot, f: Finding, kind: str, ns: str, name: str, spec: dict[str, Any],
                   eligible: list[dict[str, Any]], req_cpu: int, req_mem: int, insufficient: set[str]) -> None:
        wl = common.workload_label(kind, ns, name)
        rows = []
        for node in eligible:
            alloc = (node.get("status") or {}).get("allocatable") or {}
            a_cpu, a_mem = util.millicores(alloc.get("cpu")) or 0, util.bytes_(alloc.get("memory")) or 0
            u_cpu, u_mem = self._used(snapshot, util.name_of(node))
            rows.append((util.name_of(node), a_cpu, a_mem, a_cpu - u_cpu, a_mem - u_mem))
        largest = max(rows, key=lambda r: (r[1], r[2]))
        f.evidence.append(f"largest eligible node {largest[0]}: allocatable cpu {util.fmt_cpu(largest[1])}, memory "
                          f"{util.fmt_mem(largest[2])}; free after other pods' requests: cpu "
                          f"{util.fmt_cpu(max(0, largest[3]))}, memory {util.fmt_mem(max(0, largest[4]))}")
        changes: dict[str, tuple[int, int]] = {}
        causes = []
        too_big = False
        if "cpu" in insufficient and req_cpu:
            max_alloc = max(r[1] for r in rows)
            max_free = max(r[3] for r in rows)
            if req_cpu > max_free:
                too_big |= req_cpu > max_alloc
                target = min(_floor(0.5 * max_alloc, 100), _floor(0.8 * max(0, max_free), 100))
                causes.append(f"it requests {util.fmt_cpu(req_cpu)} CPU but the largest eligible node has "
                              f"{util.fmt_cpu(max_alloc)} allocatable ({util.fmt_cpu(max(0, max_free))} free)")
                if target >= 100:
                    changes["cpu"] = (req_cpu, target)
        if "memory" in insufficient and req_mem:
            max_alloc = max(r[2] for r in rows)
            max_free = max(r[4] for r in rows)
            if req_mem > max_free:
                too_big |= req_mem > max_alloc
                target = min(_floor(0.5 * max_alloc, 64 * util.Mi), _floor(0.8 * max(0, max_free), 64 * util.Mi))
                causes.append(f"it requests {util.fmt_mem(req_mem)} memory but the largest eligible node has "
                              f"{util.fmt_mem(max_alloc)} allocatable ({util.fmt_mem(max(0, max_free))} free)")
                if target >= 64 * util.Mi:
                    changes["memory"] = (req_mem, target)
        f.root_cause = "; ".join(causes) or "the nodes lack free capacity for its requests"
        if not changes:
            f.suggested_fix = "add node capacity, or free it by scaling down other workloads"
            f.confidence = "medium"
            return
        f.suggested_fix = ("lower the requests of " + wl + " to fit the largest node with headroom: " +
                           ", ".join(f"{r} {util.fmt_cpu(a) if r == 'cpu' else util.fmt_mem(a)} -> "
                                     f"{util.fmt_cpu(b) if r == 'cpu' else util.fmt_mem(b)}"
                                     for r, (a, b) in changes.items()) +
                           ("" if too_big else " (or add node capacity: it would fit an empty node)"))
        f.confidence = "high" if too_big else "medium"
        patch_containers = []
        for c in spec.get("containers") or []:
            reqs = common.requests_of(c)
            limits = (c.get("resources") or {}).get("limits") or {}
            new_req: dict[str, str] = {}
            new_lim: dict[str, str] = {}
            for r, (old, new) in changes.items():
                mine = (util.millicores if r == "cpu" else util.bytes_)(reqs.get(r)) or 0
                if not mine:
                    continue
                scaled = mine * new / old
                v = util.fmt_cpu(max(10, _floor(scaled, 10))) if r == "cpu" else util.fmt_mem(scaled)
                new_req[r] = v
                lim = (util.millicores if r == "cpu" else util.bytes_)(limits.get(r))
                if lim is not None and lim < ((util.millicores if r == "cpu" else util.bytes_)(v) or 0):
                    new_lim[r] = v
            if new_req:
                res: dict[str, Any] = {"requests": new_req}
                if new_lim:
                    res["limits"] = new_lim
                patch_containers.append({"name": c.get("name"), "resources": res})
        if patch_containers:
            f.fix = common.template_fix(kind, ns, name, {"containers": patch_containers})

    def _selector(self, snapshot: Snapshot, f: Finding, kind: str, ns: str, name: str, spec: dict[str, Any]) -> None:
        wl = common.workload_label(kind, ns, name)
        sel = spec.get("nodeSelector") or {}
        fixes: dict[str, str] = {}
        for k, v in sel.items():
            values = {(util.meta(n).get("labels") or {}).get(k) for n in snapshot.nodes} - {None}
            if v in values:
                continue
            close = sorted(x for x in values if util.near(x, v))
            if len(close) == 1:
                fixes[k] = close[0]
                f.evidence.append(f"nodeSelector {k}={v}: no node has it; node label {k}={close[0]} exists")
            else:
                f.evidence.append(f"nodeSelector {k}={v}: no node has it (values on nodes: "
                                  f"{', '.join(sorted(values)) or 'none'})")
        f.root_cause = f"no schedulable node matches the nodeSelector {sel}" if sel else \
            "no node matches the pod's required node affinity"
        if fixes:
            f.suggested_fix = f"correct the nodeSelector of {wl}: " + ", ".join(f"{k}={v}" for k, v in fixes.items())
            f.fix = common.template_fix(kind, ns, name, {"nodeSelector": fixes})
            f.confidence = "medium"
        else:
            f.suggested_fix = f"label a node to match, or correct/remove the nodeSelector/affinity of {wl}"
            f.confidence = "medium"
