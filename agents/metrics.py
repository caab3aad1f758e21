"""The metrics agent: CPU and memory from metrics.k8s.io (what `kubectl top` shows), with numbers."""

from __future__ import annotations

import contextlib
import re
from typing import Any

from agents import metrics_range
from agents.context import AgentContext
from agents.decide import decide, reading
from agents.fastpaths.pod_node import ASKS as PLACEMENT
from agents.state import AgentResult
from tools.diagnose import util
from tools.k8s.client import KubeError


def _cpu(q: str) -> int:
    return util.millicores(q) or 0


def _mem(q: str) -> int:
    return util.bytes_(q) or 0


# The words the usage answer (top pods and nodes by CPU or memory, one workload's or node's share) fully answers;
# anything else ("restart count", "limit", "last week") is a question this answer does not answer (agents.decide).
VOCAB = frozenset("""cpu cpu-wise memory ram mem usage use using uses used top most busiest busy loaded load node nodes
pod pods eating eats consume consumes consuming consumption consumer consumers processor time noisiest noisy per each
sorted sort by highest high utilisation utilization share much lot whole across heavy heaviest show see which who
kubectl n resource resources rank ranking biggest largest hungry hog hogs hogging workload workloads deployment app
how list current currently compare compared comparing comparison versus vs against than footprint roughly
approximately only least lowest fewest smallest idlest quietest statefulset sts daemonset replicaset total sum
altogether overall combined all loaded utilized utilised tell give""".split())
# Words that ask for the other end of the ranking: "which node has the least memory used", and the most of what is
# left ("the most CPU headroom", "the most free memory") is the least used.
LEAST = re.compile(r"\b(?:least|lowest|fewest|smallest|idlest|quietest)\b|\b(?:free|spare|headroom|unused|available|"
                   r"idle|room|capacity\s+left)\b")
# "top 3", "the three busiest": how many rows the ranking shows
_TOP_N = re.compile(r"\btop\s+(\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten)\b|"
                                  r"\b(\d{1,2}|two|three|four|five|six|seven|eight|nine|ten)\s+(?:busiest|biggest|"
                                  r"heaviest|hungriest|largest|most)\b")
_NUMBERS = {w: i for i, w in enumerate("zero one two three four five six seven eight nine ten".split())}
# A question about where a pod runs, not about usage (agents.fastpaths.pod_node answers it): its own question,
# when no usage word is in it ("which node uses the most memory" stays a usage question).
USAGE_WORDS = re.compile(r"\b(?:most|least|busiest|highest|lowest|heaviest|usage|using|uses|use|cpu|memory|loaded|"
                         r"load)\b")
# "total", "altogether", "overall": the sum over what was asked about, said first.
TOTAL = re.compile(r"\b(?:total|sum|altogether|overall|combined|in\s+all)\b")
CONTROL_PLANE = ("node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/master")
ASK = ("I answer CPU and memory usage (top pods and nodes, one workload's or node's share): ask for that, for example "
       "'which pods use the most CPU in shop?', or say the other question in its own words.")


def run(ctx: AgentContext, prometheus: Any = None) -> AgentResult:
    """Range questions (a window, a trend, a percentile, a comparison) from Prometheus when `prometheus` (a
    tools.prometheus.Prometheus, wired by the runtime from `prometheus_url`) is given; current usage otherwise."""
    nodes: list[str] = []
    with contextlib.suppress(KubeError):
        nodes = [n["metadata"]["name"] for n in ctx.kube.list("Node")]
    said = [n for n in nodes if n in ctx.text.lower()]
    others = _other_workloads(ctx)
    m = _TOP_N.search(ctx.text.lower())
    n = None
    if m:
        w = m.group(1) or m.group(2)
        n = int(w) if w.isdigit() else _NUMBERS[w]
    slots = {"namespace": ctx.namespace, "workload": ctx.entities.workload, "node": said, "others": others, "top": n}
    own = metrics_range.readings(ctx, prometheus)
    low = ctx.text.lower()
    if not PLACEMENT.search(low) or USAGE_WORDS.search(low):  # "which node is db-0 running on": where, not how much
        own.append(reading(ctx, "metrics", "usage", slots, VOCAB, lambda: _usage(ctx, others, n or 5, said)))
    return decide(ctx, "metrics", own, ASK + metrics_range.ASK)


def _other_workloads(ctx: AgentContext) -> list[str]:
    """Workloads named besides the main one ("report-cruncher compared with the web pods"): each gets its own line."""
    from agents.coverage import tokens
    from tools.k8s.kinds import WORKLOADS

    words = set(tokens(ctx.text))
    out: list[str] = []
    for kind in WORKLOADS:
        with contextlib.suppress(KubeError):
            for o in ctx.kube.list(kind, ctx.namespace):
                name = o["metadata"]["name"]
                if name in words and name != ctx.entities.workload and name not in out:
                    out.append(name)
    return out


def _usage(ctx: AgentContext, others: list[str] | None = None, top_n: int = 5,
           nodes_said: list[str] | None = None) -> AgentResult:
    ns = ctx.namespace
    try:
        pods = ctx.kube.top_pods(ns)
        nodes = ctx.kube.top_nodes()
    except KubeError as e:
        return AgentResult("metrics", f"I could not read metrics: {e.message}")
    rows = []
    for p in pods:
        cpu = sum(_cpu(c["usage"]["cpu"]) for c in p.get("containers") or [])
        mem = sum(_mem(c["usage"]["memory"]) for c in p.get("containers") or [])
        rows.append((cpu, mem, p["metadata"]["namespace"], p["metadata"]["name"]))
    want_mem = "memory" in ctx.text.lower() or "ram" in ctx.text.lower()
    least = bool(LEAST.search(ctx.text.lower()))
    rows.sort(key=lambda r: (r[1] if want_mem else r[0], r[0], r[1]), reverse=not least)
    alloc: dict[str, tuple[int, int]] = {}
    workers_only = bool(re.search(r"\bworker\s+nodes?\b", ctx.text.lower()))  # "which worker node": no control plane
    try:
        for n in ctx.kube.list("Node"):
            a = (n.get("status") or {}).get("allocatable") or {}
            if workers_only and any(k in (n["metadata"].get("labels") or {}) for k in CONTROL_PLANE):
                continue
            alloc[n["metadata"]["name"]] = (_cpu(str(a.get("cpu", "0"))), _mem(str(a.get("memory", "0"))))
    except KubeError:
        pass
    node_rows = []
    for n in nodes:
        name = n["metadata"]["name"]
        if workers_only and name not in alloc:
            continue
        cpu, mem = _cpu(n["usage"]["cpu"]), _mem(n["usage"]["memory"])
        cap = alloc.get(name, (0, 0))
        share = f" ({100 * cpu // cap[0]}% of allocatable)" if cap[0] else ""
        # what is left: allocatable minus usage (the headroom asked for by "most free", "most headroom")
        left = (cap[0] - cpu if cap[0] else -cpu, cap[1] - mem if cap[1] else -mem)
        node_rows.append((cpu, mem, name, share, left))
    if least:  # the least used is the one with the most left of what it can allocate
        node_rows.sort(key=lambda r: (r[4][1] if want_mem else r[4][0], -r[0]), reverse=True)
    else:
        node_rows.sort(key=lambda r: (r[1] if want_mem else r[0], r[0]), reverse=True)
    lines = []
    low = ctx.text.lower()
    for target in [w for w in [ctx.entities.workload, *(others or [])] if w and not re.search(
            rf"\b{re.escape(w)}\s+nodes?\b", low)]:  # "which worker node": a kind of node, not the workload "worker"
        mine = [r for r in rows if r[3].startswith(target + "-") or r[3] == target]
        if mine:
            total = (sum(r[0] for r in mine), sum(r[1] for r in mine) // 1024 // 1024)
            lines.append(f"{target}: " + "; ".join(f"{r[3]} uses {r[0]}m CPU and {r[1] // 1024 // 1024}Mi memory"
                                                   for r in mine) +
                         (f" (together {total[0]}m CPU, {total[1]}Mi)" if len(mine) > 1 else ""))
        else:  # the answer is about what was asked: no number for it is said as such, not replaced by others'
            lines.append(f"{target}: no CPU or memory metrics for its pods right now (none of them is running and "
                         "measured; a pod that keeps restarting has none between restarts).")
    where = f"namespace {ns}" if ns else "the cluster"
    top = rows[:top_n]
    by = "memory" if want_mem else "CPU"
    if TOTAL.search(low) and rows:
        lines.insert(0, f"Total in {where}: {sum(r[0] for r in rows)}m CPU and "
                        f"{sum(r[1] for r in rows) // 1024 // 1024}Mi memory over {len(rows)} measured pod(s).")
    for name in nodes_said or []:  # "how loaded is sandbox-worker-2": that node's line first
        row = next((r for r in node_rows if r[2] == name), None)
        lines.insert(0, f"{name}: {row[0]}m CPU{row[3]} and {row[1] // 1024 // 1024}Mi memory in use." if row else
                     f"{name}: no metrics for this node right now.")
    if top:
        lines.append(f"{'Least-using' if least else 'Top'} pods by {by} in {where}: " + ", ".join(
            f"{r[3]} {r[0]}m CPU / {r[1] // 1024 // 1024}Mi" for r in top) + ".")
    if node_rows:
        first = node_rows[0]
        if want_mem or least:
            left = f" ({first[4][1] // 1024 // 1024}Mi memory left to allocate)" if want_mem else \
                f" ({first[4][0]}m CPU left to allocate)"
            lines.append(f"Node using the {'least' if least else 'most'} {by}: {first[2]} at {first[0]}m CPU"
                         f"{first[3]} / {first[1] // 1024 // 1024}Mi memory{left if least else ''}; " + ", ".join(
                             f"{r[2]} {r[0]}m / {r[1] // 1024 // 1024}Mi" for r in node_rows[1:]) + ".")
        else:
            lines.append(f"Busiest node: {first[2]} at {first[0]}m CPU{first[3]}; "
                         + ", ".join(f"{r[2]} {r[0]}m" for r in node_rows[1:]) + ".")
    evidence = [f"kubectl top pods: {r[3]} {r[0]}m {r[1] // 1024 // 1024}Mi" for r in top] + \
               [f"kubectl top nodes: {r[2]} {r[0]}m" for r in node_rows]
    return AgentResult("metrics", "\n".join(lines) or f"No metrics are available in {where}.", evidence,
                       data={"pods": rows, "nodes": node_rows})
