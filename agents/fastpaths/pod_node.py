"""Where a pod, or a workload's pods, run (a read): "which node is db-0 running on?", "where are the web pods in shop
scheduled?", "what node does checkout run on".

Why its own fast path: the question names a node and "running", so the usage answer (top pods and the busiest node)
took it for a metrics question and never said where the pod runs. The answer is each pod's `spec.nodeName` (and
"not scheduled yet" for a pod without one), read from the live pods.
"""

from __future__ import annotations

import re
from typing import Any

from agents.fastpaths import register
from agents.fastpaths._words import COMMON, cite, namespace, norm, one, resolve
from agents.state import AgentResult
from tools.k8s.health import pods_of
from tools.k8s.kinds import WORKLOADS

AGENT = "resources"
ASKS = re.compile(r"\b(?:which|what)\s+nodes?\b.*\b(?:on|scheduled|placed|running|runs|run|live|lives|landed|lands|"
                  r"sit|sits|hosted|located)\b|\bwhere\b.*\b(?:running|runs|run|scheduled|placed|hosted|located|live|"
                  r"lives)\b|\bon\s+(?:which|what)\s+nodes?\b")


class PodNode:
    agent = AGENT
    intent = "pod-node"
    vocabulary = frozenset("""which what where node nodes on is are does do run runs running scheduled placed live
        lives landed lands sit sits hosted located pod pods deployment statefulset daemonset the its their currently
        right now each every end ends ended up tell show""".split()) | COMMON

    def match(self, ctx: Any) -> dict[str, Any] | None:
        if not ASKS.search(norm(ctx.text)):
            return None
        ns = namespace(ctx)
        # the workload first ("the web pods": web's pods), then a pod by its own name ("db-0")
        found = one(resolve(ctx, WORKLOADS, ns)) or one(resolve(ctx, ["Pod"], ns))
        if found is None:
            return None
        kind, obj, word = found
        return {"namespace": obj["metadata"]["namespace"], "kind": kind, "name": obj["metadata"]["name"],
                "said": [word]}

    def plan(self, ctx: Any, slots: dict[str, Any]) -> AgentResult:
        ns, kind, name = slots["namespace"], slots["kind"], slots["name"]
        pods = pods_of(ctx.kube, kind, ctx.kube.get(kind, ns, name))
        if not pods:
            return AgentResult(AGENT, f"{cite(kind, ns, name)} has no pods, so it runs on no node.",
                               [f"{cite(kind, ns, name)}: 0 pods"])
        rows = [(p["metadata"]["name"], (p.get("spec") or {}).get("nodeName"), (p.get("status") or {}).get("phase"))
                for p in sorted(pods, key=lambda p: p["metadata"]["name"])]
        lines = [f"pod {ns}/{pod}: " + (f"on node {node}" if node else "not scheduled to a node yet") + f" ({phase})"
                 for pod, node, phase in rows]
        nodes = sorted({node for _, node, _ in rows if node})
        head = (f"{cite(kind, ns, name)} runs on {', '.join(nodes)}" if nodes else
                f"{cite(kind, ns, name)} has no pod on a node yet") + ":"
        return AgentResult(AGENT, head + "\n" + "\n".join(f"- {line}" for line in lines), lines,
                           data={"nodes": {pod: node for pod, node, _ in rows}})


register(PodNode())
