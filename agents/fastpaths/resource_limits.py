"""Set CPU/memory requests and limits on a workload's container ("set a 500m CPU limit and 512Mi memory limit on web").

Why its own fast path: a request with a limit in it was split into a metrics question. The quantities are read
with the request/limit they belong to (a quantity whose kind or role is not said is not guessed); the patch names
only those fields; the goal is each field at the asked value (as the API server writes it back); a request below
its limit is checked before anything is proposed.
"""

from __future__ import annotations

from typing import Any

from agents.fastpaths import register
from agents.fastpaths._words import (
    COMMON,
    QUANTITY_VOCAB,
    cite,
    container,
    expect,
    healthy,
    live_container,
    mutation,
    namespace,
    one,
    quantities,
    resolve,
    template_path,
    wrap,
)
from agents.state import AgentResult
from tools.k8s.kinds import WORKLOADS
from tools.k8s.objects import parse_quantity

AGENT = "resources"


class SetResources:
    agent = AGENT
    intent = "set-resources"
    vocabulary = QUANTITY_VOCAB | frozenset("""set add put give change update raise increase bump lower reduce decrease
        adjust configure apply to on of at container containers deployment deploy statefulset sts daemonset each
        per""".split()) | COMMON

    def match(self, ctx: Any) -> dict[str, Any] | None:
        parsed = quantities(ctx.text)
        if not parsed or not parsed[0]:
            return None
        wanted, said = parsed
        found = one(resolve(ctx, WORKLOADS, namespace(ctx)))
        if found is None:
            return None
        kind, obj, word = found
        picked = container(ctx, obj, kind)
        if picked is None:
            return None
        return {"kind": kind, "name": obj["metadata"]["name"], "namespace": obj["metadata"]["namespace"],
                "container": picked[1]["name"], "index": picked[0], "requests": wanted.get("requests") or {},
                "limits": wanted.get("limits") or {}, "said": [word, *said]}

    def plan(self, ctx: Any, slots: dict[str, Any]) -> AgentResult:
        kind, ns, name, cname, ci = slots["kind"], slots["namespace"], slots["name"], slots["container"], slots["index"]
        live_c, refused = live_container(ctx, slots, AGENT)
        if refused is not None:
            return refused
        live = live_c.get("resources") or {}
        evidence = [f"{cite(kind, ns, name)} container {cname}: requests={live.get('requests') or {}} "
                    f"limits={live.get('limits') or {}}"]
        want = {w: dict(slots[w]) for w in ("requests", "limits") if slots[w]}
        final = {w: {**(live.get(w) or {}), **want.get(w, {})} for w in ("requests", "limits")}
        for res in ("cpu", "memory"):
            req, lim = final["requests"].get(res), final["limits"].get(res)
            if req and lim and parse_quantity(req) > parse_quantity(lim):
                return AgentResult(AGENT, f"I did not act: the {res} request would be {req}, above its limit {lim}; "
                                          "a request cannot exceed its limit. Say both values.", evidence)
        changed = {w: {r: v for r, v in vals.items() if parse_quantity((live.get(w) or {}).get(r)) !=
                       parse_quantity(v)} for w, vals in want.items()}
        said = ", ".join(f"{r} {w[:-1]} {v}" for w, vals in want.items() for r, v in vals.items())
        if not any(changed.values()):
            return AgentResult(AGENT, f"Already so: container {cname} of {cite(kind, ns, name)} has {said}. Nothing to "
                                      "change.", evidence, data={"already": True})
        path = f"{template_path(kind)}.containers.{ci}.resources"
        goal = [expect(kind, ns, name, f"{path}.{w}.{r}", v) for w, vals in want.items() for r, v in vals.items()]
        patch = wrap(kind, {"containers": [{"name": cname, "resources": want}]})
        m = mutation("patch", kind, ns, name, goal, f"resources of container {cname}: {said}", body=patch,
                     verify=healthy(kind, ns, name))
        return AgentResult(AGENT, f"Proposed: set {said} on container {cname} of {cite(kind, ns, name)} (a rolling "
                                  "restart follows; the change is undone if the rollout does not become healthy).",
                           evidence, [m])


register(SetResources())
