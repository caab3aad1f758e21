"""Rolling restart of several named workloads at once, or of one the context did not find: "restart web and orders
in shop", "do a rolling restart of the db statefulset in data".

Why a registry fast path beside the scaling agent's own `restart` rule: that rule restarts the one workload the
context found, so a second name, or a StatefulSet the context missed, left it not understood. Each restart is the one
restart patch (`tools.k8s.mutations.restart`, what `kubectl rollout restart` sends), must become healthy (else the
plan is undone), and its goal is the template's restartedAt stamp as proposed: the pods were replaced.
"""

from __future__ import annotations

import re
from typing import Any

from agents.fastpaths import register
from agents.fastpaths._words import COMMON, cite, expect, has, healthy, named, namespace
from agents.state import AgentResult
from tools.k8s.kinds import WORKLOADS
from tools.k8s.mutations import RESTARTED_AT, restart

AGENT = "scaling"
TRIGGERS = ("restart", "bounce", "recycle", "redeploy")  # not "restarts": a count is asked with it


class RolloutRestart:
    agent = AGENT
    intent = "rollout-restart"
    vocabulary = frozenset("""restart bounce recycle redeploy rolling rollout do a both each all
        deployment deployments deploy statefulset statefulsets sts daemonset daemonsets ds pods""".split()
                           ) | COMMON | frozenset({"stateful set", "daemon set"})

    def match(self, ctx: Any) -> dict[str, Any] | None:
        if not has(ctx, *TRIGGERS):
            return None
        ns = namespace(ctx)
        objs = named(ctx, WORKLOADS, ns)
        if not objs:
            return None
        low = ctx.text.lower()
        order = sorted(objs, key=lambda key: low.find(objs[key][2]))
        return {"namespace": ns, "targets": [{"kind": k, "name": n} for k, n in order],
                "said": [objs[key][2] for key in order]}

    def plan(self, ctx: Any, slots: dict[str, Any]) -> AgentResult:
        ns, muts = slots["namespace"], []
        for t in slots["targets"]:
            kind, name = t["kind"], t["name"]
            m = restart(kind, ns, name, verify=healthy(kind, ns, name))
            stamp = m.body["spec"]["template"]["metadata"]["annotations"][RESTARTED_AT]
            m.goal = [expect(kind, ns, name, "spec.template.metadata.annotations",
                             re.escape(f"'{RESTARTED_AT}': '{stamp}'"), "matches")]
            muts.append(m)
        names = ", ".join(cite(t["kind"], ns, t["name"]) for t in slots["targets"])
        return AgentResult(AGENT, f"Proposed: a rolling restart of {names} (each must become healthy again, or the "
                                  "restarts are undone).", [names], muts)


register(RolloutRestart())
