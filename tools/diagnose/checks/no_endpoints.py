"""no_endpoints: a Service whose selector matches no pod (or no ready pod), so it has no endpoints.

When no pod matches, it looks for workloads whose pod labels nearly match the selector (app=order vs
app=orders) and proposes correcting the Service's selector to the labels they carry (merge patch of
spec.selector; a workload's own selector is immutable, the Service's is not). When pods match but none is ready,
it names them and their state: the fix is theirs.
"""

from __future__ import annotations

from typing import Any

from tools.diagnose import util
from tools.diagnose.base import Finding, Snapshot, register


def _ready_addresses(ep: dict[str, Any] | None) -> tuple[int, int]:
    if not ep:
        return 0, 0
    ready = sum(len(s.get("addresses") or []) for s in ep.get("subsets") or [])
    not_ready = sum(len(s.get("notReadyAddresses") or []) for s in ep.get("subsets") or [])
    return ready, not_ready


def _pod_ready(pod: dict[str, Any]) -> bool:
    c = util.condition(pod, "Ready")
    return bool(c and c.get("status") == "True")


@register
class NoEndpointsCheck:
    name = "no_endpoints"
    kinds = ("Service",)

    def run(self, snapshot: Snapshot) -> list[Finding]:
        out = []
        for svc in snapshot.services:
            spec = svc.get("spec") or {}
            sel = spec.get("selector") or {}
            if not sel or spec.get("type") == "ExternalName":
                continue
            ns, name = util.ns_of(svc), util.name_of(svc)
            ep = snapshot.get("endpoints", ns, name)
            matched = [p for p in snapshot.pods if util.ns_of(p) == ns and
                       util.selector_matches(sel, util.meta(p).get("labels")) and
                       not util.meta(p).get("deletionTimestamp")]
            ready, not_ready = _ready_addresses(ep)
            if ep is None:
                ready = sum(1 for p in matched if _pod_ready(p))
            if ready:
                continue
            if not matched:
                out.append(self._no_match(snapshot, svc, sel, ep))
            else:
                out.append(self._not_ready(snapshot, svc, matched, not_ready))
        return out

    def _candidates(self, snapshot: Snapshot, ns: str, sel: dict[str, str]) -> list[tuple[str, str, dict[str, str]]]:
        """[(kind, name, labels)] of workloads (or bare pods) whose pod labels nearly match the selector."""
        seen: dict[tuple[str, str], dict[str, str]] = {}
        for coll, kind in (("deployments", "Deployment"), ("statefulsets", "StatefulSet"), ("daemonsets", "DaemonSet")):
            for w in getattr(snapshot, coll):
                if util.ns_of(w) == ns:
                    labels = ((((w.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels")) or {}
                    seen[(kind, util.name_of(w))] = labels
        for p in snapshot.pods:
            if util.ns_of(p) == ns:
                kind, name = snapshot.workload_of(p)
                seen.setdefault((kind, name), util.meta(p).get("labels") or {})
        out = []
        for (kind, name), labels in seen.items():
            exact = near = 0
            for k, v in sel.items():
                have = labels.get(k)
                if have == v:
                    exact += 1
                elif have is not None and util.near(have, v):
                    near += 1
                else:
                    break
            else:
                if near:
                    out.append((kind, name, labels))
        return out

    def _no_match(self, snapshot: Snapshot, svc: dict[str, Any], sel: dict[str, str],
                  ep: dict[str, Any] | None) -> Finding:
        ns, name = util.ns_of(svc), util.name_of(svc)
        sel_txt = ",".join(f"{k}={v}" for k, v in sel.items())
        evidence = [f"Service {ns}/{name} selector: {sel_txt}",
                    f"Endpoints {ns}/{name}: " + ("no addresses" if ep is not None else "not found"),
                    f"pods in {ns} matching {sel_txt}: none"]
        f = Finding(check=self.name, severity="critical", kind="Service", namespace=ns, name=name,
                    reason="NoEndpoints", summary=f"Service {ns}/{name} has no endpoints: its selector {sel_txt} "
                                                  "matches no pod",
                    evidence=evidence, related=[util.ref("Endpoints", ns, name)])
        cands = self._candidates(snapshot, ns, sel)
        for kind, wname, labels in cands:
            shown = ",".join(f"{k}={labels[k]}" for k in sel if k in labels)
            f.evidence.append(f"{kind.lower()} {ns}/{wname} pods carry {shown}")
            f.related.append(util.ref(kind, ns, wname))
            for p in snapshot.pods_of(kind, ns, wname):
                f.related.append(util.ref("Pod", ns, util.name_of(p)))
        if len(cands) == 1:
            kind, wname, labels = cands[0]
            new = {k: labels[k] for k, v in sel.items() if labels.get(k) != v}
            f.root_cause = (f"the selector {sel_txt} of Service {ns}/{name} nearly matches the pods of "
                            f"{kind.lower()}/{wname} ({', '.join(f'{k}={v}' for k, v in new.items())}): a label typo")
            f.suggested_fix = (f"change the selector of Service {ns}/{name} to "
                               f"{','.join(f'{k}={labels.get(k, v)}' for k, v in sel.items())}")
            f.fix = {"action": "patch", "kind": "Service", "namespace": ns, "name": name, "patch_type": "merge",
                     "patch": {"spec": {"selector": new}}}
            self._port_note(snapshot, f, svc, kind, ns, wname)
        elif cands:
            f.root_cause = (f"the selector {sel_txt} matches no pod; several workloads nearly match: "
                            f"{', '.join(f'{k.lower()}/{n}' for k, n, _ in cands)}")
            f.suggested_fix = f"set the selector of Service {ns}/{name} to the labels of the workload it should serve"
            f.confidence = "medium"
        else:
            f.root_cause = f"no pod in {ns} carries the labels {sel_txt}, and none nearly does"
            f.suggested_fix = (f"deploy the workload Service {ns}/{name} is meant for, or correct its selector "
                               "to that workload's pod labels")
            f.confidence = "medium"
        return f

    @staticmethod
    def _port_note(snapshot: Snapshot, f: Finding, svc: dict[str, Any], kind: str, ns: str, wname: str) -> None:
        w = snapshot.workload(kind, ns, wname)
        spec = ((((w or {}).get("spec") or {}).get("template") or {}).get("spec")) or {}
        declared = {p.get("containerPort") for c in spec.get("containers") or [] for p in c.get("ports") or []}
        names = {p.get("name") for c in spec.get("containers") or [] for p in c.get("ports") or []}
        for sp in (svc.get("spec") or {}).get("ports") or []:
            tp = sp.get("targetPort", sp.get("port"))
            if declared and tp not in declared and tp not in names:
                f.evidence.append(f"Service port {sp.get('port')} targets {tp}, but the pods declare "
                                  f"{', '.join(str(d) for d in sorted(x for x in declared if x))}")

    def _not_ready(self, snapshot: Snapshot, svc: dict[str, Any], matched: list[dict[str, Any]],
                   not_ready: int) -> Finding:
        ns, name = util.ns_of(svc), util.name_of(svc)
        sel_txt = ",".join(f"{k}={v}" for k, v in ((svc.get("spec") or {}).get("selector") or {}).items())
        evidence = [f"Service {ns}/{name} selector {sel_txt} matches {len(matched)} pod(s), none ready "
                    f"({not_ready} not-ready address(es))"]
        workloads = []
        for p in matched[:5]:
            states = "; ".join(f"{cs.get('name')}: {util.describe_state(cs)}" for cs in util.container_statuses(p))
            evidence.append(f"pod {ns}/{util.name_of(p)}: phase {(p.get('status') or {}).get('phase')}, {states}")
            wk = snapshot.workload_of(p)
            if wk not in workloads:
                workloads.append(wk)
        related = [util.ref("Endpoints", ns, name)] + [util.ref("Pod", ns, util.name_of(p)) for p in matched] + \
            [util.ref(k, ns, n) for k, n in workloads]
        return Finding(check=self.name, severity="warning", kind="Service", namespace=ns, name=name,
                       reason="NoReadyEndpoints",
                       summary=f"Service {ns}/{name} has no ready endpoints: its {len(matched)} pod(s) are not ready",
                       evidence=evidence, related=related,
                       root_cause="the pods behind the Service are not ready (see their findings: "
                                  + ", ".join(f"{k.lower()}/{n}" for k, n in workloads) + ")",
                       suggested_fix="fix the pods' own problem; the Service recovers when they become ready",
                       confidence="medium")
