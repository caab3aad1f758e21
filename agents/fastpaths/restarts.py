"""Restart counts per pod (a read): "what is the restart count of every pod in shop?", "which pods restarted most?".

Why its own fast path: this request once got a CPU ranking. The count is kubectl's RESTARTS column (the sum of the
containers' restartCount), read from the live pods and cited per pod and container, most restarts first.
"""

from __future__ import annotations

import re
from typing import Any

from agents.fastpaths import register
from agents.fastpaths._words import COMMON, has, listed, namespace, norm, one, resolve
from agents.state import AgentResult
from tools.k8s.kinds import WORKLOADS
from tools.k8s.objects import container_statuses, label_selector_matches, restarts

AGENT = "resources"
_ASKS = re.compile(r"\brestart\s*counts?\b|\bhow\s+(?:many|often)\b.*\brestart|\bnumber\s+of\s+restarts\b|"
                   r"\brestarts\b|\brestarted\s+(?:the\s+)?(?:most|least)\b|\b(?:most|many)\s+restarts\b|"
                   r"\brestarted\s+at\s+least\s+once\b|\bnever\s+restarted\b")
_IMPERATIVE = re.compile(r"^\s*(?:please\s+|can you\s+|could you\s+)?(?:restart(?!\s*counts?\b)|bounce|recycle)\b")
_ALL_NS = re.compile(r"\b(?:all|every|each)\s+namespaces?\b|\bcluster[- ]wide\b|\bacross\s+(?:the\s+)?cluster\b|"
                     r"\bin\s+the\s+(?:whole\s+|entire\s+)?cluster\b|\ball-namespaces\b|(?:^|\s)-a\b")


class PodRestarts:
    agent = AGENT
    intent = "pod-restarts"
    vocabulary = frozenset("""restart restarts restarted restarting count counts number times many often pod pods every
        all each per container containers show list display print tell report give table sorted sort order ordered
        most least highest by far so how across whole entire cluster cluster-wide all-namespaces a namespaces
        deployment deploy statefulset sts daemonset belonging belong owned ones overview""".split()) | COMMON | {
        # which pods restarted and which did not: the table of counts says both (0 is "never restarted")
        "at least once", "never restarted", "have restarted"}

    def match(self, ctx: Any) -> dict[str, Any] | None:
        low = norm(ctx.text)
        if not _ASKS.search(low) or _IMPERATIVE.search(low) or not has(ctx, "restart", "restarts", "restarted"):
            return None
        if _ALL_NS.search(low):
            return {"namespace": None, "workload": None, "said": []}
        ns = namespace(ctx)
        found = resolve(ctx, WORKLOADS, ns)
        if found and one(found) is None:
            return None
        kind, obj, word = found[0] if found else (None, None, None)
        return {"namespace": ns, "workload": f"{kind}/{obj['metadata']['name']}" if obj else None,
                "said": [word] if word else []}

    def plan(self, ctx: Any, slots: dict[str, Any]) -> AgentResult:
        ns, workload = slots["namespace"], slots["workload"]
        pods = listed(ctx, "Pod", ns)
        where = f"namespace {ns}" if ns else "all namespaces"
        if workload:
            kind, name = workload.split("/", 1)
            owner = next((o for o in listed(ctx, kind, ns) if o["metadata"]["name"] == name), None)
            sel = ((owner or {}).get("spec") or {}).get("selector") or {}
            pods = [p for p in pods if label_selector_matches(sel, (p.get("metadata") or {}).get("labels"))]
            where = f"{kind.lower()} {ns}/{name}"
        rows = sorted(((restarts(p), f"{p['metadata'].get('namespace', '')}/{p['metadata']['name']}", p) for p in pods),
                      key=lambda r: (-r[0], r[1]))
        if not rows:
            return AgentResult(AGENT, f"There are no pods in {where}.", data={"restarts": {}})
        lines = []
        for n, key, p in rows:
            per = [f"{c.get('name')}: {int(c.get('restartCount') or 0)}" for c in container_statuses(p, init=False)]
            lines.append(f"{key}: {n}" + (f" ({', '.join(per)})" if len(per) > 1 else ""))
        total = sum(n for n, _, _ in rows)
        answer = f"Restart counts of the {len(rows)} pod(s) in {where} (most first; {total} in all):\n" + "\n".join(
            f"- {line}" for line in lines)
        again, never = [key for n, key, _ in rows if n], [key for n, key, _ in rows if not n]
        answer += (f"\nRestarted at least once: {', '.join(again) or 'none'}."
                   f"\nNever restarted (0 restarts): {', '.join(never) or 'none'}.")
        return AgentResult(AGENT, answer, lines, data={"restarts": {key: n for n, key, _ in rows}})


register(PodRestarts())
