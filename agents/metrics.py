"""The metrics agent: CPU and memory from metrics.k8s.io (what `kubectl top` shows), with numbers."""

from __future__ import annotations

import contextlib
import re
from typing import Any

from agents import metrics_range
from agents.context import AgentContext
from agents.coverage import tokens
from agents.decide import decide, reading
from agents.fastpaths.pod_node import ASKS as PLACEMENT
from agents.pod_states import grouped, not_running, pod_name
from agents.state import AgentResult
from tools.diagnose import util
from tools.k8s.client import KubeError
from tools.k8s.kinds import WORKLOADS
from tools.k8s.objects import label_selector_matches


def _cpu(q: str) -> int:
    return util.millicores(q) or 0


def _mem(q: str) -> int:
    return util.bytes_(q) or 0


# "now", said in other words ("these days" is not a window: no number over one is asked)
NOW = ("these days", "at the moment", "at present", "right now", "as of now")
# The words the usage answer (top pods and nodes by CPU or memory, one workload's or node's share) fully answers;
# anything else ("restart count", "limit", "last week") is a question this answer does not answer (agents.decide).
VOCAB = frozenset("""cpu cpu-wise memory ram mem usage use using uses used top most busiest busy loaded load node nodes
pod pods eating eats consume consumes consuming consumption consumer consumers processor time noisiest noisy per each
sorted sort by highest high utilisation utilization share much lot whole across heavy heaviest show see which who
kubectl n resource resources rank ranking biggest largest hungry hog hogs hogging workload workloads deployment app
how list current currently compare compared comparing comparison versus vs against than footprint roughly
approximately only least lowest fewest smallest idlest quietest statefulset sts daemonset replicaset total sum
altogether overall combined all loaded utilized utilised tell give hungriest greediest hungry greedy hottest hot""".split()) | set(NOW)
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
    if _span_said(low):
        pass  # "how much CPU did catalog use since the last deploy": a span of time, which usage now does not answer
    elif not PLACEMENT.search(low) or USAGE_WORDS.search(low):  # "which node is db-0 running on": where, not how much
        sizing = RIGHT_SIZE.search(low)  # "… I want to right-size its requests": why it is asked, and answered
        vocab = VOCAB | {sizing.group(0)} if sizing else VOCAB
        own.append(reading(ctx, "metrics", "usage", slots, vocab, lambda: _usage(ctx, others, n or 5, said)))
    return decide(ctx, "metrics", own, ASK + metrics_range.ASK)


# Words that say a span of time ("since the last deploy", "over the past hour", "yesterday"); "before"/"after" also
# order steps ("scale web, then check cpu after")
SPAN = (metrics_range.TIME_WORDS - {"before", "after"}) | {"last", "past", "previous", "lately", "recently"}


def _span_said(low: str) -> bool:
    for phrase in NOW:
        low = low.replace(phrase, " ")
    return bool(set(tokens(low)) & SPAN)


def _other_workloads(ctx: AgentContext) -> list[str]:
    """Workloads named besides the main one ("report-cruncher compared with the web pods"): each gets its own line."""
    words = set(tokens(ctx.text))
    out: list[str] = []
    for kind in WORKLOADS:
        with contextlib.suppress(KubeError):
            for o in ctx.kube.list(kind, ctx.namespace):
                name = o["metadata"]["name"]
                if name in words and name != ctx.entities.workload and name not in out:
                    out.append(name)
    return out


def _pods(ctx: AgentContext) -> list[dict[str, Any]]:
    """The pods of the namespace asked about (all namespaces when none): what the usage rows are checked against, so
    a pod with no metrics is named, with why, and never silently left out."""
    try:
        return ctx.kube.list("Pod", ctx.namespace)
    except KubeError:
        return []


def _owned(ctx: AgentContext, target: str, pods: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The pods of the workload `target`: those its selector picks when it is found in the namespace, else the pods
    named after it (`target-…`)."""
    said = getattr(ctx.entities, "workload_kind", None) if target == ctx.entities.workload else None
    for kind in dict.fromkeys([said, *WORKLOADS] if ctx.namespace else []):
        if kind not in WORKLOADS:
            continue
        try:
            obj = ctx.kube.get(kind, ctx.namespace, target)
        except KubeError:
            continue
        sel = (obj.get("spec") or {}).get("selector") or {}
        return [p for p in pods if label_selector_matches(sel, (p.get("metadata") or {}).get("labels"))]
    return [p for p in pods if pod_name(p) == target or pod_name(p).startswith(target + "-")]


def _workload_line(ctx: AgentContext, target: str, rows: list[tuple[int, int, str, str]],
                   pods: list[dict[str, Any]]) -> tuple[str, set[str]]:
    """(the line about one workload asked for, the pods it names). Its measured pods with their usage; each pod that
    is not running named with its waiting reason ("catalog-x is not running (ImagePullBackOff): no usage to
    report"): a pod with no metrics is said as such, never replaced by other pods' numbers nor left out."""
    owned = _owned(ctx, target, pods)
    names = {pod_name(p) for p in owned}
    mine = [r for r in rows if r[3] in names] if owned else \
        [r for r in rows if r[3].startswith(target + "-") or r[3] == target]
    measured = {r[3] for r in mine}
    state = {pod_name(p): why for p in owned if (why := not_running(p))}  # measured between two crashes
    parts = [f"{r[3]} uses {r[0]}m CPU and {r[1] // 1024 // 1024}Mi memory" +
             (f" (now {state[r[3]]})" if r[3] in state else "") for r in mine]
    idle = [(n, why) for n, why in state.items() if n not in measured]
    parts += [f"{n} is not running ({why}): no usage to report" for n, why in idle]
    parts += [f"{pod_name(p)} is running but has no metrics yet" for p in owned
              if pod_name(p) not in measured and not not_running(p)]
    total = (sum(r[0] for r in mine), sum(r[1] for r in mine) // 1024 // 1024)
    if not parts:
        line = f"{target}: no CPU or memory metrics for its pods right now (none of them is running and measured; a " \
               "pod that keeps restarting has none between restarts)." if not pods else \
               f"{target}: it has no pods right now, so there is no CPU or memory usage to report."
    elif not mine and idle and len(idle) == len(owned):
        line = f"{target}: its pods are not running, so there is no CPU or memory usage to report: " + "; ".join(parts)
    else:
        line = f"{target}: " + "; ".join(parts) + (f" (together {total[0]}m CPU, {total[1]}Mi)" if len(mine) > 1 else "")
    sizing = _right_size(ctx, owned, mine)
    return line + (f"\n{sizing}" if sizing else ""), names | measured


# "I want to right-size its requests", "to size the requests properly": why the usage is asked; the answer then
# also gives the requests it would be compared with (the words of the phrase are understood, not others').
RIGHT_SIZE = re.compile(r"\b(?:(?:right|re)[- ]?siz(?:e|ing)|siz(?:e|ing)|tun(?:e|ing)|adjust(?:ing)?)\s+"
                        r"(?:(?:its|their|the|our|my|his|her|cpu|memory|and|resource|pod|container)\s+){0,4}"
                        r"requests?(?:\s+(?:properly|correctly|better|right))?\b")


def _right_size(ctx: AgentContext, owned: list[dict[str, Any]], mine: list[tuple[int, int, str, str]]) -> str:
    """What the person sizing requests compares: the requests per pod (from a pod's spec) beside the usage now."""
    if not RIGHT_SIZE.search(ctx.text.lower()) or not owned:
        return ""
    reqs = [(c.get("resources") or {}).get("requests") or {} for c in (owned[0].get("spec") or {}).get("containers") or []]
    cpu, mem = sum(_cpu(str(r.get("cpu", "0"))) for r in reqs), sum(_mem(str(r.get("memory", "0"))) for r in reqs)
    asked = f"Requests per pod: {cpu}m CPU and {mem // 1024 // 1024}Mi memory" if cpu or mem else \
        "Its pods set no requests"
    if not mine:
        return f"{asked}; with no pod running there is no usage to size them against yet (make the pods run first)."
    peak = (max(r[0] for r in mine), max(r[1] for r in mine) // 1024 // 1024)
    return f"{asked}; the busiest pod uses {peak[0]}m CPU and {peak[1]}Mi now (one reading: size against the peak " \
           "over a window, e.g. 'peak cpu of this workload over the last day' with Prometheus)."


def _unmeasured(pods: list[dict[str, Any]], rows: list[tuple[int, int, str, str]], said: set[str],
                ns: str | None) -> str:
    """The pods with no usage row that no workload line named, grouped by why ("catalog-a, catalog-b
    (ImagePullBackOff); worker-x (Pending: Unschedulable)"); "" when every pod is measured."""
    measured = {(r[2], r[3]) for r in rows}
    out = []
    for p in pods:
        key = (p["metadata"].get("namespace", ""), pod_name(p))
        if key in measured or key[1] in said:
            continue
        name = key[1] if ns else f"{key[0]}/{key[1]}"
        why = not_running(p)
        out.append((name, f"not running: {why}" if why else "running, not measured yet"))
    return grouped(out)


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
    lines: list[str] = []
    low = ctx.text.lower()
    listed = _pods(ctx)
    said: set[str] = set()  # pods a workload's own line already accounts for
    for target in [w for w in [ctx.entities.workload, *(others or [])] if w and not re.search(
            rf"\b{re.escape(w)}\s+nodes?\b", low)]:  # "which worker node": a kind of node, not the workload "worker"
        line, covered = _workload_line(ctx, target, rows, listed)
        lines.append(line)
        said |= covered
    where = f"namespace {ns}" if ns else "the cluster"
    top = rows[:top_n]
    by = "memory" if want_mem else "CPU"
    if TOTAL.search(low) and rows and not lines:  # a workload said: its own line gives its total ("together …")
        lines.insert(0, f"Total in {where}: {sum(r[0] for r in rows)}m CPU and "
                        f"{sum(r[1] for r in rows) // 1024 // 1024}Mi memory over {len(rows)} measured pod(s).")
    for name in nodes_said or []:  # "how loaded is sandbox-worker-2": that node's line first
        row = next((r for r in node_rows if r[2] == name), None)
        lines.insert(0, f"{name}: {row[0]}m CPU{row[3]} and {row[1] // 1024 // 1024}Mi memory in use." if row else
                     f"{name}: no metrics for this node right now.")
    if top:
        lines.append(f"{'Least-using' if least else 'Top'} pods by {by} in {where}: " + ", ".join(
            f"{r[3]} {r[0]}m CPU / {r[1] // 1024 // 1024}Mi" for r in top) + ".")
    missing = _unmeasured(listed, rows, said, ns)
    if missing:  # never leave a pod out of a ranking silently: the ones with no metrics, and why, in one line
        lines.append(f"Not in these numbers (no metrics): {missing}.")
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
    evidence += [f"pod {p['metadata'].get('namespace', '')}/{pod_name(p)}: not running ({why})"
                 for p in listed if (why := not_running(p))]
    return AgentResult("metrics", "\n".join(lines) or f"No metrics are available in {where}.", evidence,
                       data={"pods": rows, "nodes": node_rows,
                             "not_running": {pod_name(p): why for p in listed if (why := not_running(p))}})
