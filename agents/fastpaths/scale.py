"""Set the replica count of one or several named Deployments or StatefulSets: "scale web to 4 and orders to 2 in shop",
"bring web in shop down to 2 replicas", "scale the db statefulset in the data namespace to 3", "halve the number of
web replicas in shop (round up if it's odd)".

Why a registry fast path beside the scaling agent's own `scale` rule: that rule reads one workload the context found
and one number, so two workloads with a count each, a StatefulSet the context did not find, a count said relative to
the current one, or "bring … down to" were not understood. This path reads each count from its own phrase ("web to
4", "orders to 2"; a single workload may take the request's one number), acts on what the own rule does not already
take (the agent asks its own rules first), and states every count as the goal. A relative count is computed from the
live replicas; an odd count halved needs the rounding said.
"""

from __future__ import annotations

import math
import re
from typing import Any

from agents.fastpaths import register
from agents.fastpaths._words import (
    COMMON,
    NAME,
    NUMBER_WORDS,
    cite,
    digits,
    expect,
    has,
    mutation,
    named,
    namespace,
    norm,
)
from agents.state import AgentResult
from tools.k8s.client import KubeError
from tools.k8s.kinds import SCALABLE

AGENT = "scaling"
_KIND = r"(?:deployment|deploy|statefulset|sts|stateful\s+set)"
_PAIR = re.compile(rf"['\"]?({NAME})['\"]?\s+(?:{_KIND}\s+)?(?:(?:in|from)\s+(?:the\s+)?{NAME}\s+(?:namespace\s+)?)?"
                   r"(?:(?:down|up|back)\s+)?(?:to|=|->|at)\s+(\d+)\b")
_COUNT = re.compile(r"\b(?:to|=|at)\s+(\d+)\b(?:\s+(?:replicas?|pods?|instances?|copies))?|\b(\d+)\s+(?:replicas?|pods?|"
                    r"instances?|copies)\b")
# Counts said relative to the current one: the factor, and whether rounding must be said for an odd count.
RELATIVE = {"halve": 0.5, "half": 0.5, "double": 2.0, "triple": 3.0}
TRIGGERS = ("scale", "scaled", "rescale", "replicas", "replica", "halve", "double", "triple", "bring")
_AUTOSCALE = ("autoscale", "autoscaling", "autoscaler", "hpa", "horizontal", "between", "min", "max", "minimum",
              "maximum")


class Scale:
    agent = AGENT
    intent = "scale-replicas"
    vocabulary = frozenset("""scale scaled rescale scaling bring down up back to replicas replica pods pod instances copies
        set run running number count halve half double triple round rounding odd even deployment deployments deploy
        statefulset statefulsets sts both each respectively""".split()) | COMMON | frozenset({
        "if it odd", "if it is odd", "if odd", "if it is an odd number", "if the count is odd",
        "leave everything else as it is", "leave everything else exactly as it is", "leave the rest as it is",
        "nothing else", "do not touch anything else", "stateful set"})

    def match(self, ctx: Any) -> dict[str, Any] | None:
        low = digits(ctx.text)
        if not has(ctx, *TRIGGERS) or has(ctx, *_AUTOSCALE):
            return None
        ns = namespace(ctx)
        objs = named(ctx, SCALABLE, ns)
        if not objs:
            return None
        by_name = {n: key for key, (_, _, w) in objs.items() for n in (key[1], w)}
        pairs = [(by_name[n], int(c)) for n, c in _PAIR.findall(low) if n in by_name]
        counts: dict[tuple[str, str], int] = {}
        for key, c in pairs:
            if counts.setdefault(key, c) != c:
                return None
        relative = [f for w, f in RELATIVE.items() if re.search(rf"\b{w}\b", low)]
        if relative and not has(ctx, "replicas", "replica", "pods", "instances", "copies", "scale"):
            return None  # "double orders" is not clearly about replicas
        if len(objs) > 1:
            if relative or set(counts) != set(objs):
                return None  # every workload needs its own count
        elif not counts:
            said = {int(a or b) for a, b in _COUNT.findall(low)}
            if relative and not said and len(relative) == 1:
                counts = {}
            elif len(said) == 1 and not relative:
                counts = {next(iter(objs)): said.pop()}
            else:
                return None
        elif relative:
            return None
        rounding = "up" if re.search(r"\bround(?:ing)?\s+(?:it\s+)?up\b", low) else \
            "down" if re.search(r"\bround(?:ing)?\s+(?:it\s+)?down\b", low) else None
        order = sorted(objs, key=lambda key: low.find(objs[key][2]))  # as the request says them
        targets = [{"kind": k, "name": n, "replicas": counts.get((k, n))} for k, n in order]
        said = [w for _, _, w in objs.values()] + [w for w in NUMBER_WORDS if re.search(rf"\b{w}\b", norm(ctx.text))]
        return {"namespace": ns, "targets": targets, "factor": relative[0] if relative else None,
                "rounding": rounding, "said": said}

    def plan(self, ctx: Any, slots: dict[str, Any]) -> AgentResult:
        from agents.scaling import fits

        ns, muts, evidence, notes = slots["namespace"], [], [], []
        for t in slots["targets"]:
            kind, name = t["kind"], t["name"]
            try:
                obj = ctx.kube.get(kind, ns, name)
            except KubeError as e:
                return AgentResult(AGENT, f"I could not read {cite(kind, ns, name)}: {e.message}", [e.message])
            current = int((obj.get("spec") or {}).get("replicas", 1))
            evidence.append(f"{cite(kind, ns, name)}: spec.replicas={current}")
            want = t["replicas"]
            if want is None:
                exact = current * slots["factor"]
                if exact != int(exact) and slots["rounding"] is None:
                    return AgentResult(AGENT, f"I did not act: {cite(kind, ns, name)} has {current} replicas, so that "
                                              f"makes {exact:g}; say whether to round up or down.", evidence)
                want = math.ceil(exact) if slots["rounding"] == "up" else math.floor(exact)
            if want == current:
                notes.append(f"{cite(kind, ns, name)} already has {current} replicas")
                continue
            ok, why = fits(ctx, obj, max(want - current, 0))
            if not ok:
                return AgentResult(AGENT, f"I did not act: scaling {cite(kind, ns, name)} to {want} would not fit: "
                                          f"{why}.", evidence + [why])
            muts.append(mutation("scale", kind, ns, name, [expect(kind, ns, name, "spec.replicas", want)],
                                 f"scale from {current} to {want}", body=want))
        done = f" ({'; '.join(notes)})" if notes else ""
        if not muts:
            return AgentResult(AGENT, f"Already so: {'; '.join(notes)}. Nothing to change.", evidence,
                               data={"already": True})
        what = "; ".join(f"{m.kind.lower()} {ns}/{m.name} {m.why.replace('scale ', '')}" for m in muts)
        return AgentResult(AGENT, f"Proposed: scale {what}{done}. Nothing else changes.", evidence, muts)


register(Scale())
