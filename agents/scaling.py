"""The scaling agent: scale, rollout status/restart/undo, autoscale — with a "will it fit" check first."""

from __future__ import annotations

import re

from agents.context import AgentContext
from agents.state import AgentResult
from tools.capacity import will_fit
from tools.k8s.client import KubeError, Mutation
from tools.k8s.kinds import SCALABLE
from tools.k8s.mutations import restart


def fits(ctx: AgentContext, dep: dict, extra: int) -> tuple[bool, str]:
    """Will `extra` more replicas schedule? Exact answer from the CP-SAT model in tools.capacity."""
    spec = (dep.get("spec") or {}).get("template", {}).get("spec") or {}
    try:
        nodes = ctx.kube.list("Node")
        pods = ctx.kube.list("Pod")
    except KubeError as e:
        return True, f"(could not check capacity: {e.message})"
    result, cpu, mem = will_fit(spec, extra, nodes, pods)
    return result.fits, result.explain(cpu, mem)


def run(ctx: AgentContext) -> AgentResult:
    e = ctx.entities
    text = ctx.text.lower()
    name, ns = e.workload, e.namespace
    kind = e.workload_kind if e.workload_kind in SCALABLE else "Deployment"
    if not name:
        try:
            allowed, _ = ctx.kube.can_i("list", "Deployment", ns)
        except KubeError:
            allowed = True
        if not allowed:
            return AgentResult("scaling", f"You ({ctx.kube.principal.label}) are not allowed to list deployments"
                                          f"{' in namespace ' + ns if ns else ''}, so I cannot act on them.")
        return AgentResult("scaling", "Which workload? I could not find a Deployment or StatefulSet named in the request.")
    try:
        dep = ctx.kube.get(kind, ns, name)
    except KubeError as ex:
        return AgentResult("scaling", f"I cannot read {kind.lower()} {ns}/{name}: {ex.message}", [ex.message])
    status = dep.get("status") or {}
    current = int((dep.get("spec") or {}).get("replicas", 1))
    state = (f"{kind.lower()} {ns}/{name}: {status.get('readyReplicas', 0)}/{current} ready, "
             f"{status.get('updatedReplicas', 0)} up to date, {status.get('availableReplicas', 0)} available")
    if re.search(r"\b(restart|bounce|recycle)\b", text):
        m = restart(kind, ns, name)
        return AgentResult("scaling", f"Proposed: a rolling restart of {kind.lower()} {ns}/{name}. Now: {state}.",
                           [state], [m])
    if re.search(r"\b(undo|roll ?back|revert)\b", text):
        return _undo(ctx, dep, kind, state)
    if re.search(r"\bautoscal|\bhpa\b", text):
        nums = [int(x) for x in re.findall(r"\b(\d{1,3})\b", text)]
        lo, hi = (nums[0], nums[1]) if len(nums) >= 2 else (max(current, 1), max(current * 3, 3))
        target = nums[2] if len(nums) >= 3 else 80
        hpa = {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": name, "namespace": ns},
               "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": kind, "name": name}, "minReplicas": lo,
                        "maxReplicas": hi, "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {
                            "type": "Utilization", "averageUtilization": target}}}]}}
        return AgentResult("scaling", f"Proposed: an HPA for {ns}/{name} between {lo} and {hi} replicas at "
                                      f"{target}% CPU.", [state], [Mutation("create", "HorizontalPodAutoscaler", ns, name,
                                                                             body=hpa, why="autoscale on CPU")])
    if e.number is not None and re.search(r"\bscale|replica|instances|copies", text):
        want = e.number
        ok, why = fits(ctx, dep, max(want - current, 0))
        if not ok:
            return AgentResult("scaling", f"Scaling {ns}/{name} to {want} would not fit: {why}. Now: {state}.", [state, why])
        m = Mutation("scale", kind, ns, name, body=want, why=f"scale from {current} to {want} ({why})")
        return AgentResult("scaling", f"Proposed: scale {kind.lower()} {ns}/{name} from {current} to {want} replicas "
                                      f"({why}).", [state, why], [m])
    conds = "; ".join(f"{c.get('type')}={c.get('status')} ({c.get('reason')})" for c in status.get("conditions") or [])
    return AgentResult("scaling", f"Rollout status of {state}. Conditions: {conds or 'none'}.", [state, conds])


def _undo(ctx: AgentContext, dep: dict, kind: str, state: str) -> AgentResult:
    ns, name = dep["metadata"]["namespace"], dep["metadata"]["name"]
    try:
        rss = [r for r in ctx.kube.list("ReplicaSet", ns) if any(o.get("uid") == dep["metadata"]["uid"]
                                                                  for o in r["metadata"].get("ownerReferences") or [])]
    except KubeError as ex:
        return AgentResult("scaling", f"I cannot read the rollout history: {ex.message}")
    rss.sort(key=lambda r: int((r["metadata"].get("annotations") or {}).get("deployment.kubernetes.io/revision", "0")))
    if len(rss) < 2:
        return AgentResult("scaling", f"{ns}/{name} has no previous revision to roll back to.")
    prev = rss[-2]
    tmpl = prev["spec"]["template"]
    labels = dict((tmpl.get("metadata") or {}).get("labels") or {})
    labels.pop("pod-template-hash", None)
    tmpl = {**tmpl, "metadata": {**(tmpl.get("metadata") or {}), "labels": labels}}
    rev = (prev["metadata"].get("annotations") or {}).get("deployment.kubernetes.io/revision")
    m = Mutation("patch", kind, ns, name, patch_type="json",
                 body=[{"op": "replace", "path": "/spec/template", "value": tmpl}], why=f"roll back to revision {rev}")
    return AgentResult("scaling", f"Proposed: roll {ns}/{name} back to revision {rev}. Now: {state}.", [state], [m])
