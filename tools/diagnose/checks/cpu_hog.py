"""cpu_hog: a pod using at least 80% of its node's allocatable CPU, or the node's top consumer when it has no
CPU limit and uses at least a quarter of the node (metrics.k8s.io).

The fix caps the container: limits.cpu at a quarter of the node's allocatable (and a request of half that, unless
it already requests less), in the workload's pod template. That throttles the workload, so confidence is
'medium': a person decides whether it deserves the CPU.
"""

from __future__ import annotations

from typing import Any

from tools.diagnose import common, util
from tools.diagnose.base import Finding, Snapshot, register
from tools.k8s.kinds import POD_OWNERS

HOG = 0.8
UNLIMITED_TOP = 0.25


@register
class CpuHogCheck:
    name = "cpu_hog"
    kinds = POD_OWNERS

    def run(self, snapshot: Snapshot) -> list[Finding]:
        if not snapshot.metrics:
            return []
        nodes = {util.name_of(n): n for n in snapshot.nodes}
        per_node: dict[str, list[tuple[int, dict[str, Any], dict[str, tuple[int, int]]]]] = {}
        for pod in snapshot.pods:
            node = (pod.get("spec") or {}).get("nodeName")
            usage = snapshot.usage(util.ns_of(pod), util.name_of(pod))
            if not node or not usage:
                continue
            per_node.setdefault(node, []).append((sum(u[0] for u in usage.values()), pod, usage))
        out = []
        for node, rows in per_node.items():
            alloc = util.millicores(((nodes.get(node) or {}).get("status") or {}).get("allocatable", {}).get("cpu"))
            if not alloc:
                continue
            rows.sort(key=lambda r: -r[0])
            for i, (cpu, pod, usage) in enumerate(rows):
                frac = cpu / alloc
                unlimited = not any(((c.get("resources") or {}).get("limits") or {}).get("cpu")
                                    for c in (pod.get("spec") or {}).get("containers") or [])
                if frac >= HOG or (i == 0 and unlimited and frac >= UNLIMITED_TOP):
                    out.append(self._finding(snapshot, node, alloc, rows, pod, cpu, usage, unlimited))
        return out

    def _finding(self, snapshot: Snapshot, node: str, alloc: int, rows: list[tuple[int, dict[str, Any], Any]],
                 pod: dict[str, Any], cpu: int, usage: dict[str, tuple[int, int]], unlimited: bool) -> Finding:
        ns, pname = util.ns_of(pod), util.name_of(pod)
        kind, name = snapshot.workload_of(pod)
        wl = common.workload_label(kind, ns, name)
        pct = round(100 * cpu / alloc)
        evidence = [f"metrics.k8s.io: pod {ns}/{pname} uses {util.fmt_cpu(cpu)} CPU = {pct}% of node {node}'s "
                    f"allocatable {util.fmt_cpu(alloc)}"]
        others = [f"{util.ns_of(p)}/{util.name_of(p)} {util.fmt_cpu(c)}" for c, p, _ in rows if p is not pod][:3]
        if others:
            evidence.append(f"next on {node}: {', '.join(others)}")
        if node in snapshot.node_metrics:
            nc = snapshot.node_metrics[node][0]
            evidence.append(f"node {node} CPU usage: {util.fmt_cpu(nc)} ({round(100 * nc / alloc)}%)")
        spec = common.pod_template(snapshot, kind, ns, name, pod)
        top_c = max(usage.items(), key=lambda kv: kv[1][0])[0]
        c = common.find_container(spec, pod, top_c)
        res = c.get("resources") or {}
        evidence.append(f"container {top_c}: requests cpu {(res.get('requests') or {}).get('cpu', 'none')}, limits "
                        f"cpu {(res.get('limits') or {}).get('cpu', 'none')}")
        lines, prev = common.log_tail(snapshot, pod, top_c, prefer_previous=False, n=3)
        if lines:
            evidence.append(common.log_evidence(pod, top_c, prev, lines[-1]))
        f = Finding(check=self.name, severity="critical" if cpu / alloc >= HOG else "warning", kind=kind,
                    namespace=ns, name=name, reason="CPUHog",
                    summary=f"{wl} uses {util.fmt_cpu(cpu)} CPU, {pct}% of node {node}"
                            + (" with no CPU limit" if unlimited else ""),
                    evidence=evidence, related=[util.ref("Pod", ns, pname), util.ref("Node", "", node)],
                    confidence="medium")
        limit = max(100, int(alloc * UNLIMITED_TOP) // 100 * 100)
        req = util.millicores((res.get("requests") or {}).get("cpu"))
        new_req = min(req, limit) if req else max(100, limit // 2 // 100 * 100)
        f.root_cause = (f"container {top_c} of {wl} consumes {util.fmt_cpu(cpu)} CPU on {node}"
                        + (" and nothing caps it (no CPU limit)" if unlimited else "")
                        + ", starving the node's other pods")
        f.suggested_fix = (f"cap container {top_c} of {wl}: limits.cpu {util.fmt_cpu(limit)} (a quarter of {node}), "
                           f"requests.cpu {util.fmt_cpu(new_req)}; or move it to a dedicated node if it needs the CPU")
        f.fix = common.container_fix(kind, ns, name, top_c, {"resources": {"limits": {"cpu": util.fmt_cpu(limit)},
                                                                           "requests": {"cpu": util.fmt_cpu(new_req)}}},
                                     spec)
        return f
