"""Will N more replicas fit? A CP-SAT model (OR-Tools) of pod requests against what each node has free, its
taints and the pod's node selector — the answer says where they would go, or which resource blocks them.

Why a solver and not first-fit: with several resources per node, greedy placement can answer "no" where a
placement exists; the model answers exactly, and re-solving with one resource relaxed names the blocker.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tools.diagnose.common import tolerates
from tools.k8s.objects import bytes_, condition_true, millicores


def _cpu(v: Any) -> int:
    return millicores(v or "0") or 0


def _mem(v: Any) -> int:
    return (bytes_(v or "0") or 0) // 2**20  # MiB keeps the model small


def pod_requests(spec: dict[str, Any]) -> tuple[int, int]:
    cpu = mem = 0
    for c in spec.get("containers") or []:
        r = (c.get("resources") or {}).get("requests") or (c.get("resources") or {}).get("limits") or {}
        cpu += _cpu(r.get("cpu"))
        mem += _mem(r.get("memory"))
    return cpu, mem


def eligible(spec: dict[str, Any], node: dict[str, Any]) -> bool:
    if (node.get("spec") or {}).get("unschedulable"):
        return False
    if not condition_true(node, "Ready"):
        return False
    labels = node["metadata"].get("labels") or {}
    if any(labels.get(k) != v for k, v in (spec.get("nodeSelector") or {}).items()):
        return False
    return all(tolerates(spec.get("tolerations") or [], t) for t in (node.get("spec") or {}).get("taints") or []
               if t.get("effect") in ("NoSchedule", "NoExecute"))


@dataclass
class FitResult:
    fits: bool
    placed: int
    wanted: int
    placement: dict[str, int] = field(default_factory=dict)
    blocking: list[str] = field(default_factory=list)  # "cpu", "memory", "pods", "eligible nodes"

    def explain(self, cpu: int, mem: int) -> str:
        where = ", ".join(f"{n}: {k}" for n, k in sorted(self.placement.items()) if k)
        if self.fits:
            return f"{self.wanted} more replica(s) fit ({cpu}m CPU, {mem}Mi each){': ' + where if where else ''}"
        return (f"only {self.placed} of {self.wanted} more replica(s) fit: blocked by "
                f"{' and '.join(self.blocking) or 'capacity'}")


def _solve(nodes: list[tuple[str, int, int, int]], cpu: int, mem: int, want: int) -> tuple[int, dict[str, int]]:
    # Imported here, not at module import: OR-Tools (and the pandas it loads) cost 0.5 s for every command.
    from ortools.sat.python import cp_model

    model = cp_model.CpModel()
    xs = {}
    for name, fcpu, fmem, fpods in nodes:
        cap = want
        if cpu:
            cap = min(cap, max(fcpu, 0) // cpu)
        if mem:
            cap = min(cap, max(fmem, 0) // mem)
        cap = min(cap, max(fpods, 0))
        xs[name] = model.NewIntVar(0, max(cap, 0), name)
    total = sum(xs.values()) if xs else 0
    model.Add(total <= want)
    peak = model.NewIntVar(0, want, "peak")
    for x in xs.values():
        model.Add(x <= peak)
    model.Maximize(total * (want + 1) - peak)  # place as many as possible, then spread them
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = 2.0
    solver.parameters.num_workers = 1
    if solver.Solve(model) not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return 0, {}
    placement = {n: int(solver.Value(x)) for n, x in xs.items()}
    return sum(placement.values()), placement


def will_fit(template_spec: dict[str, Any], extra: int, nodes: list[dict[str, Any]],
             pods: list[dict[str, Any]]) -> tuple[FitResult, int, int]:
    """Can `extra` more pods of `template_spec` be scheduled? (result, cpu m, memory Mi per replica)."""
    cpu, mem = pod_requests(template_spec)
    used: dict[str, list[int]] = {}
    for p in pods:
        node = (p.get("spec") or {}).get("nodeName")
        if node and (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed"):
            c, m = pod_requests(p.get("spec") or {})
            u = used.setdefault(node, [0, 0, 0])
            u[0], u[1], u[2] = u[0] + c, u[1] + m, u[2] + 1
    table = []
    ok_nodes = [n for n in nodes if eligible(template_spec, n)]
    for n in ok_nodes:
        a = (n.get("status") or {}).get("allocatable") or {}
        u = used.get(n["metadata"]["name"], [0, 0, 0])
        table.append((n["metadata"]["name"], _cpu(a.get("cpu")) - u[0], _mem(a.get("memory")) - u[1],
                      int(str(a.get("pods", "110"))) - u[2]))
    if extra <= 0:
        return FitResult(True, 0, 0), cpu, mem
    placed, placement = _solve(table, cpu, mem, extra)
    result = FitResult(placed >= extra, placed, extra, placement)
    if not result.fits:
        if not ok_nodes:
            result.blocking = ["eligible nodes (taints or node selector)"]
        big = 10**9
        for name, relax in (("cpu", lambda t: (t[0], big, t[2], t[3])), ("memory", lambda t: (t[0], t[1], big, t[3])),
                            ("pods", lambda t: (t[0], t[1], t[2], big))):
            if ok_nodes and _solve([relax(t) for t in table], cpu, mem, extra)[0] > placed:
                result.blocking.append(name)
    return result, cpu, mem
