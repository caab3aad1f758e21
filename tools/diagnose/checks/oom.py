"""oom: containers killed by the kernel's OOM killer (reason OOMKilled, exit 137).

Compares the memory limit with what is known of the usage (metrics.k8s.io working set, a JVM -Xmx in the logs).
After an OOM kill the true peak is unknown (the process wanted more than the limit), so the proposal is
2x max(limit, observed working set) rounded up to a power-of-two Mi, and at least 512Mi; for a JVM at least
1.25x its -Xmx. The fix raises limits.memory in the workload's pod template (which also rolls it out).
"""

from __future__ import annotations

import re
from typing import Any

from tools.diagnose import common, util
from tools.diagnose.base import Finding, Snapshot, register
from tools.k8s.kinds import POD_OWNERS

FLOOR = 512 * util.Mi
_XMX = re.compile(r"-Xmx(\d+)([kKmMgG]?)\b")


def _oom(cs: dict[str, Any]) -> dict[str, Any] | None:
    for which in ("state", "lastState"):
        t = (cs.get(which) or {}).get("terminated") or {}
        if t.get("reason") == "OOMKilled":
            return t
    return None


def _xmx_bytes(lines: list[str]) -> tuple[int, str] | None:
    for ln in lines[:200]:
        m = _XMX.search(ln)
        if m:
            n = int(m.group(1))
            mult = {"k": 1024, "m": util.Mi, "g": 1024 * util.Mi, "": 1}[m.group(2).lower()]
            return n * mult, ln
    return None


def proposed_limit(limit: int | None, observed: int | None, xmx: int | None = None) -> int:
    base = max(limit or 0, observed or 0)
    want = util.pow2_mi(2 * base) if base else FLOOR
    want = max(want, FLOOR)
    if xmx:
        want = max(want, util.pow2_mi(xmx * 1.25))
    return want


@register
class OOMCheck:
    name = "oom"
    kinds = POD_OWNERS

    def run(self, snapshot: Snapshot) -> list[Finding]:
        items = [(pod, cs) for pod in snapshot.pods for cs in util.container_statuses(pod) if _oom(cs)]
        out = []
        for (ns, kind, name), group in common.group_by_workload(snapshot, items).items():
            seen: set[str] = set()
            for pod, cs in sorted(group, key=lambda x: -(x[1].get("restartCount") or 0)):
                if cs.get("name") in seen:
                    continue
                seen.add(cs.get("name", ""))
                out.append(self._finding(snapshot, ns, kind, name, pod, cs,
                                         [p for p, c in group if c.get("name") == cs.get("name")]))
        return out

    def _finding(self, snapshot: Snapshot, ns: str, kind: str, name: str, pod: dict[str, Any],
                 cs: dict[str, Any], pods: list[dict[str, Any]]) -> Finding:
        cname = cs.get("name", "")
        term = _oom(cs) or {}
        spec = common.pod_template(snapshot, kind, ns, name, pod)
        c = common.find_container(spec, pod, cname)
        res = c.get("resources") or {}
        limit = util.bytes_((res.get("limits") or {}).get("memory"))
        request = util.bytes_((res.get("requests") or {}).get("memory"))
        observed = max((snapshot.usage(util.ns_of(p), util.name_of(p)).get(cname, (0, 0))[1] for p in pods),
                       default=0) or None
        lines, prev = common.log_tail(snapshot, pod, cname, prefer_previous=True, n=2000)
        xmx = _xmx_bytes(lines)
        wl = common.workload_label(kind, ns, name)
        restarts = cs.get("restartCount") or 0
        evidence = [f"pod {ns}/{util.name_of(pod)} container {cname}: {util.describe_state(cs, 'lastState')}"
                    if (cs.get("lastState") or {}).get("terminated") else
                    f"pod {ns}/{util.name_of(pod)} container {cname}: {util.describe_state(cs)}",
                    f"restartCount: {restarts}",
                    f"memory limit: {(res.get('limits') or {}).get('memory', 'none')}, "
                    f"request: {(res.get('requests') or {}).get('memory', 'none')}"]
        if observed:
            evidence.append(f"metrics.k8s.io working set of the current instance: {util.fmt_mem(observed)}")
        if xmx:
            evidence.append(common.log_evidence(pod, cname, prev, xmx[1]))
        heap_oom = next((ln for ln in reversed(lines) if "OutOfMemoryError" in ln), None)
        if heap_oom:
            evidence.append(common.log_evidence(pod, cname, prev, heap_oom))
        related = common.pod_refs(pods) + [util.ref(kind, ns, name)]
        f = Finding(check=self.name, severity="critical", kind=kind, namespace=ns, name=name, reason="OOMKilled",
                    summary=(f"container {cname} of {wl} was OOM-killed (exit code {term.get('exitCode', 137)}) "
                             f"at its {util.fmt_mem(limit) if limit else 'unset'} memory limit; {restarts} restarts"),
                    evidence=evidence, related=related)
        if not limit:
            f.root_cause = (f"container {cname} has no memory limit: the node itself ran out of memory and the kernel "
                            "killed it")
            f.suggested_fix = (f"set a memory request for {cname} that covers its real usage so the scheduler places it "
                               "on a node with room, and a limit above it")
            f.confidence = "medium"
            return f
        want = proposed_limit(limit, observed, xmx[0] if xmx else None)
        why = [f"the kernel killed it when it reached its memory limit {util.fmt_mem(limit)}"]
        if xmx:
            why.append(f"the JVM may grow its heap to {util.fmt_mem(xmx[0])} (-Xmx), above the limit")
        f.root_cause = f"container {cname} needs more memory than its limit allows: " + "; ".join(why)
        basis = (f"2x max(limit {util.fmt_mem(limit)}"
                 + (f", working set {util.fmt_mem(observed)}" if observed else "")
                 + "), rounded up to a power of two, at least 512Mi"
                 + (", and 1.25x the -Xmx heap" if xmx else ""))
        f.suggested_fix = (f"raise the memory limit of container {cname} in {wl} from {util.fmt_mem(limit)} to "
                           f"{util.fmt_mem(want)} ({basis}); the template change rolls out new pods")
        body: dict[str, Any] = {"resources": {"limits": {"memory": util.fmt_mem(want)}}}
        if request and request > want:
            body["resources"]["requests"] = {"memory": util.fmt_mem(want)}
        f.fix = common.container_fix(kind, ns, name, cname, body, spec)
        if f.fix is None:
            f.suggested_fix += f" (a bare pod cannot be changed in place: recreate {util.name_of(pod)} with it)"
        return f
