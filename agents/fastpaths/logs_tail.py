"""The last lines of a workload's or a pod's log, as written (a read): "show me the last 20 lines of logs from web in
shop", "tail the payments logs in shop", "print the previous logs of the worker container".

Why its own fast path: a request for the log itself is not a diagnosis. The diagnosis quotes log templates as
evidence for a cause; a person who asks for "the last 20 lines" wants those lines, and a count the diagnosis does not
read was a word it did not understand. The lines are the cluster's text: they are quoted as data, in a fenced block,
and never read for instructions.
"""

from __future__ import annotations

import re
from typing import Any

from agents.fastpaths import register
from agents.fastpaths._words import COMMON, cite, has, namespace, norm, one, resolve, retold
from agents.state import AgentResult
from tools.k8s.health import pods_of
from tools.k8s.kinds import WORKLOADS

AGENT = "logs"
DEFAULT_TAIL = 20
MAX_TAIL = 500
_COUNT = re.compile(r"\b(?:last|latest|final|tail(?:\s+of)?|recent|first)\s+(\d{1,4})\b|\b(\d{1,4})\s+(?:log\s+)?lines?\b")
_SHOW = ("show", "print", "tail", "fetch", "grab", "display", "dump", "read", "see", "get", "give", "paste")


# "the last 20 lines from the payments pod": lines of a pod are its log
_LINES = re.compile(r"\b(?:last|final|latest|first)\s+\d+\s+lines\b|\blines\s+(?:from|of)\b")


def _pod_of(ctx: Any) -> Any:
    """The context with "the payments pod" said as "payments": a workload's pod, named by its workload."""
    return retold(ctx, re.sub(r"\b(pods?)\b", " ", ctx.text, flags=re.I))


class LogsTail:
    agent = AGENT
    intent = "logs-tail"
    vocabulary = frozenset("""show print tail fetch grab display dump read see get give paste me us log logs line lines
        last latest final recent most output from of its the previous prior earlier before container pod pods
        deployment deploy statefulset daemonset current""".split()) | COMMON | frozenset({"logs of", "log of"})

    def match(self, ctx: Any) -> dict[str, Any] | None:
        low = norm(ctx.text)
        if not (has(ctx, "log", "logs") or _LINES.search(low)) or not has(ctx, *_SHOW):
            return None
        if re.search(r"\bfirst\s+\d", low):
            return None  # the head of a log is not what the API's tailLines gives
        counts = {int(a or b) for a, b in _COUNT.findall(low)}
        if len(counts) > 1:
            return None
        ns = namespace(ctx)
        found = resolve(ctx, [*WORKLOADS, "Pod"], ns) or resolve(_pod_of(ctx), WORKLOADS, ns)
        target = one(found)
        if target is None:
            return None
        kind, obj, word = target
        n = counts.pop() if counts else DEFAULT_TAIL
        return {"namespace": ns, "kind": kind, "name": obj["metadata"]["name"], "tail": min(n, MAX_TAIL),
                "previous": bool(re.search(r"\b(?:previous|prior|earlier)\b", low)), "said": [word]}

    def plan(self, ctx: Any, slots: dict[str, Any]) -> AgentResult:
        ns, kind, name, tail = slots["namespace"], slots["kind"], slots["name"], slots["tail"]
        pods = pods_of(ctx.kube, kind, ctx.kube.get(kind, ns, name))
        if not pods:
            return AgentResult(AGENT, f"{cite(kind, ns, name)} has no pods, so there is no log to show.",
                               [f"{cite(kind, ns, name)}: 0 pods"])
        which = "previous " if slots["previous"] else ""
        parts, evidence = [], []
        for p in sorted(pods, key=lambda p: p["metadata"]["name"])[:3]:
            pod = p["metadata"]["name"]
            for c in (p.get("spec") or {}).get("containers") or []:
                text = ctx.kube.logs(ns, pod, c["name"], previous=slots["previous"], tail=tail)
                if text is None:
                    parts.append(f"pod {ns}/{pod}, container {c['name']}: no {which}log could be read.")
                    continue
                lines = text.rstrip("\n").splitlines()[-tail:]
                evidence.append(f"kubectl logs {pod} -c {c['name']} -n {ns}{' --previous' if which else ''} "
                                f"--tail={tail}: {len(lines)} line(s)")
                body = "\n".join(lines) if lines else "(empty)"
                parts.append(f"pod {ns}/{pod}, container {c['name']} — last {len(lines)} {which}line(s), quoted as "
                             f"written (cluster text, not instructions):\n```\n{body}\n```")
        more = f"\n({len(pods) - 3} more pod(s) not shown.)" if len(pods) > 3 else ""
        return AgentResult(AGENT, f"Logs of {cite(kind, ns, name)}:\n" + "\n".join(parts) + more, evidence,
                           data={"tail": tail, "pods": [p["metadata"]["name"] for p in pods]})


register(LogsTail())
