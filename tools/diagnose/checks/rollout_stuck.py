"""rollout_stuck: Deployments whose rollout stopped (Progressing=False, ProgressDeadlineExceeded).

Names the new ReplicaSet's pods and their states (the pod checks say why each fails). When an older revision
exists, it proposes rolling back to it (what `kubectl rollout undo` does: the previous ReplicaSet's template put
back with a JSON patch), with medium confidence: fixing forward may be right instead.
"""

from __future__ import annotations

import copy
from typing import Any

from tools.diagnose import util
from tools.diagnose.base import Finding, Snapshot, register

REV = "deployment.kubernetes.io/revision"


def _revision(rs: dict[str, Any]) -> int:
    try:
        return int((util.meta(rs).get("annotations") or {}).get(REV, "0"))
    except ValueError:
        return 0


@register
class RolloutStuckCheck:
    name = "rollout_stuck"
    kinds = ("Deployment",)

    def run(self, snapshot: Snapshot) -> list[Finding]:
        out = []
        for dep in snapshot.deployments:
            cond = util.condition(dep, "Progressing")
            if not cond or cond.get("status") != "False" or cond.get("reason") != "ProgressDeadlineExceeded":
                continue
            out.append(self._finding(snapshot, dep, cond))
        return out

    def _finding(self, snapshot: Snapshot, dep: dict[str, Any], cond: dict[str, Any]) -> Finding:
        ns, name = util.ns_of(dep), util.name_of(dep)
        st = dep.get("status") or {}
        rss = [rs for rs in snapshot.replicasets if util.ns_of(rs) == ns and any(
            o.get("kind") == "Deployment" and o.get("name") == name for o in util.meta(rs).get("ownerReferences") or [])]
        rss.sort(key=_revision)
        evidence = [f"Deployment {ns}/{name} Progressing=False {cond.get('reason')}: {cond.get('message', '')}",
                    f"replicas {st.get('replicas', 0)}, updated {st.get('updatedReplicas', 0)}, ready "
                    f"{st.get('readyReplicas', 0)}, available {st.get('availableReplicas', 0)}, unavailable "
                    f"{st.get('unavailableReplicas', 0)}"]
        related = []
        if rss:
            new = rss[-1]
            for p in snapshot.pods:
                if util.ns_of(p) == ns and any(o.get("name") == util.name_of(new)
                                               for o in util.meta(p).get("ownerReferences") or []):
                    states = "; ".join(f"{cs.get('name')}: {util.describe_state(cs)}"
                                       for cs in util.container_statuses(p)) or (p.get("status") or {}).get("phase")
                    evidence.append(f"new ReplicaSet pod {ns}/{util.name_of(p)}: {states}")
                    related.append(util.ref("Pod", ns, util.name_of(p)))
        f = Finding(check=self.name, severity="warning", kind="Deployment", namespace=ns, name=name,
                    reason="ProgressDeadlineExceeded",
                    summary=f"the rollout of deployment {ns}/{name} exceeded its progress deadline",
                    evidence=evidence, related=related,
                    root_cause="the new ReplicaSet's pods do not become available (see the pods' own findings)",
                    confidence="medium")
        older = [rs for rs in rss[:-1] if _revision(rs) > 0]
        if older:
            prev = older[-1]
            tmpl = copy.deepcopy((prev.get("spec") or {}).get("template") or {})
            labels = (tmpl.get("metadata") or {}).get("labels") or {}
            labels.pop("pod-template-hash", None)
            f.suggested_fix = (f"fix the new pods' problem and roll forward, or roll back to revision {_revision(prev)} "
                               f"(ReplicaSet {util.name_of(prev)})")
            f.fix = {"action": "patch", "kind": "Deployment", "namespace": ns, "name": name, "patch_type": "json",
                     "patch": [{"op": "replace", "path": "/spec/template", "value": tmpl}]}
        else:
            f.suggested_fix = "fix the new pods' problem (first revision: there is nothing to roll back to)"
        return f
