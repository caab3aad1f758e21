"""Set the replica count of one or several named Deployments or StatefulSets: "scale web to 4 and orders to 2 in shop",
"bring web in shop down to 2 replicas", "scale the db statefulset in the data namespace to 3", "halve the number of
web replicas in shop (round up if it's odd)", "bump web in shop up to 5 pods", "scale both web and checkout to 3",
"add one more replica to payments", "scale checkout down by one", "shrink frontend to a single pod".

Why a registry fast path beside the scaling agent's own `scale` rule: that rule reads one workload the context found
and one number, so two workloads with a count each, a StatefulSet the context did not find, a count said relative to
the current one, or "bring … down to" were not understood. This path reads each count from its own phrase ("web to
4", "orders to 2"; a single workload may take the request's one number; a list of workloads said before one count,
"web and checkout to 3", takes that count each), acts on what the own rule does not already take (the agent asks its
own rules first), and states every count as the goal. A count relative to the live one (halved, doubled, "one more",
"down by 2") is computed at plan time and the goal is the absolute result; an odd count halved needs the rounding said.

What keeps it tight: every number of the request must be read by one of its phrases (a stray "and 4" is a pairing it
cannot make), the words of a relative count ("add", "remove", "more", "fewer", "by") only count inside their phrase,
verbs other than "scale"/"bring" need a unit ("pods", "replicas") to be about replicas at all, and a direction said
("lower", "up") that the live count contradicts is not acted on.
"""

from __future__ import annotations

import math
import re
from typing import Any

from agents.coverage import FILLER
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
from agents.residue import told_counts_dropped, without_told
from agents.state import AgentResult
from tools.k8s.client import KubeError
from tools.k8s.kinds import SCALABLE

AGENT = "scaling"
_KIND = r"(?:deployment|deploy|statefulset|sts|stateful\s+set)"
_UNIT = r"(?:replicas?|pods?|instances?|copies|copy)"
_IN_NS = rf"(?:(?:in|from)\s+(?:the\s+)?{NAME}\s+(?:namespace\s+)?)?"
_PAIR = re.compile(rf"['\"]?({NAME})['\"]?\s+(?:{_KIND}\s+)?{_IN_NS}"
                   r"(?:(?:down|up|back)\s+)?(?:to|=|->|at)\s+(\d+)\b")
# Several workloads said before one count: "web and checkout in shop to 3", "both web, cart and checkout to 3".
_LIST = re.compile(rf"((?:['\"]?{NAME}['\"]?\s*(?:,\s*(?:and\s+)?|\s+and\s+|\s*&\s*)(?:the\s+)?)+['\"]?{NAME}['\"]?)\s+"
                   rf"(?:{_KIND}s?\s+)?{_IN_NS}(?:(?:down|up|back)\s+)?(?:to|=|at)\s+(\d+)\b")
# "make it 3", "set them to 5": the one workload named elsewhere in the request, to a count
_IT_COUNT = re.compile(r"\b(?:make|set|put|bring|take|get|have|bump|raise|lower|increase|decrease|reduce|drop|scale|grow|"
                       r"shrink)\s+(?:it|them)\s+(?:(?:up|down|back)\s+)?(?:to\s+|at\s+)?(\d+)\b(?!\s*%|\.\d)")
_COUNT = re.compile(rf"\b(?:to|=|at)\s+(\d+)\b(?:\s+{_UNIT})?|\b(\d+)\s+{_UNIT}\b")
# A count relative to the live one: (sign word, how many, the workload it names or None).
_ONE = r"(?P<n>\d+|an?|another)"
_TARGET = rf"(?:\s+(?:to|from|for|on|of)\s+(?:the\s+)?(?:{_KIND}\s+)?['\"]?(?P<target>{NAME})['\"]?)?"
_DELTAS = (re.compile(rf"\b(?P<word>add|remove|drop)\s+{_ONE}\s+(?:more\s+|extra\s+)?{_UNIT}\b{_TARGET}"),
           re.compile(rf"\b{_ONE}\s+(?P<word>more|fewer|less|extra)\s+{_UNIT}\b{_TARGET}"),
           re.compile(rf"\bby\s+(?P<n>\d+|an?(?=\s+{_UNIT}))(?:\s+{_UNIT}\b)?"))
_SIGN = {"add": 1, "more": 1, "extra": 1, "remove": -1, "drop": -1, "fewer": -1, "less": -1}
# Words a relative count consumes: outside its phrase they say something this path does not do.
_DELTA_WORDS = frozenset("add adding added remove removing removed drop more fewer less extra another by".split())
# The direction a verb says; a count the live one contradicts ("lower web to 5" when it runs 3) is not acted on.
_UP = frozenset("up increase increased raise raised bump bumped grow more add".split())
_DOWN = frozenset("down decrease decreased reduce reduced lower lowered shrink fewer less remove drop".split())
# Counts said relative to the current one: the factor, and whether rounding must be said for an odd count.
RELATIVE = {"halve": 0.5, "half": 0.5, "double": 2.0, "triple": 3.0}
TRIGGERS = ("scale", "scaled", "rescale", "replicas", "replica", "halve", "double", "triple", "bring")
UNITS = ("replicas", "replica", "pods", "pod", "instances", "instance", "copies", "copy")
_AUTOSCALE = ("autoscale", "autoscaling", "autoscaler", "hpa", "horizontal", "between", "min", "max", "minimum",
              "maximum")
# "bump web to 4", "take checkout down to 1": a whole number a workload is brought to is its replica count (an image
# version has a dot or a letter, a quantity a unit, a percentage a sign)
_BARE_COUNT = re.compile(r"\b(?:bump|raise|lower|increase|decrease|reduce|bring|take|put|set|drop|grow|shrink)\s+"
                         r"(?:the\s+)?(?:deployment\s+|statefulset\s+)?['\"]?[a-z0-9][a-z0-9-]*['\"]?"
                         r"(?:\s+(?:deployment|statefulset))?(?:\s+in\s+[a-z0-9][a-z0-9-]*)?\s+(?:(?:up|down|back)\s+)?to\s+\d+"
                         r"(?![\w.%:/])")
_DROP_TO = re.compile(r"\b(drop|remove|cut|add)\s+(?:(?:it|them|the|[a-z0-9][a-z0-9-]*)\s+){0,3}?(?:down\s+|up\s+|back\s+)?"
                      r"to\s+\d+(?![\w.%:/])")
_STANDALONE = re.compile(r"(?<![\w.:/@=-])\d+(?![\w.:/@=-])")


def _count_text(text: str) -> str:
    """The request lower-cased with number words as digits and "a single pod" as "1 pod"."""
    return re.sub(rf"(?:\b(?:a|an|1)\s+)?\bsingle\s+(?={_UNIT}\b)", "1 ", digits(text))


def _blank(low: str, spans: list[tuple[int, int]]) -> str:
    """`low` with the read spans blanked out (same length), to see what no phrase read."""
    chars = list(low)
    for a, b in spans:
        chars[a:b] = " " * (b - a)
    return "".join(chars)


def _deltas(low: str) -> tuple[list[tuple[str | None, int]], list[tuple[int, int]]] | None:
    """The relative counts said ((workload named or None, signed change)) and their spans; None when one's direction
    is not said ("scale web by 2") or is said both ways."""
    out, spans = [], []
    rest = low
    for pat in _DELTAS:
        for m in pat.finditer(rest):
            parts = m.groupdict()
            word, n, target = parts.get("word"), parts["n"], parts.get("target")
            size = int(n) if n.isdigit() else 1
            if word:
                sign = _SIGN[word]
            else:  # "by N": the direction is the request's one direction word
                said = set(re.findall(r"[a-z]+", _blank(low, [m.span()])))
                up, down = bool(said & _UP), bool(said & _DOWN)
                if up == down:
                    return None
                sign = 1 if up else -1
            out.append((target, sign * size))
            spans.append(m.span())
        rest = _blank(low, spans)
    return out, spans


def _direction(low: str) -> int:
    """+1 when the request says only "up" words, -1 only "down" words, 0 otherwise."""
    said = set(re.findall(r"[a-z]+", low))
    up, down = bool(said & _UP), bool(said & _DOWN)
    return 0 if up == down else (1 if up else -1)


def _absolute(low: str, by_name: dict[str, tuple[str, str]], ns: str) -> tuple[dict[tuple[str, str], int],
                                                                              list[tuple[int, int]]] | None:
    """Each workload's count from its own phrase or from a list said before one count; None on two counts for one."""
    counts: dict[tuple[str, str], int] = {}
    spans: list[tuple[int, int]] = []
    found = [(n, int(c), m.span()) for m in _PAIR.finditer(low) for n, c in [m.groups()] if n in by_name]
    for m in _LIST.finditer(low):
        names = [n for n in re.split(r"[\s,&'\"]+", m.group(1)) if n and n not in ("and", "the")
                 and n not in UNITS and not n.isdigit()]  # "web to 2 replicas and checkout to 1": the list is checkout
        if len(names) < 2:
            continue
        if all(n in by_name for n in names):
            found += [(n, int(m.group(2)), m.span()) for n in names]
        elif any(not n.isdigit() and n not in FILLER and n != ns for n in names[:-1]):
            return None  # "cart and web to 3" with no workload cart: not half of it
    for n, c, span in found:
        if counts.setdefault(by_name[n], c) != c:
            return None
        spans.append(span)
    return counts, spans


class Scale:
    agent = AGENT
    intent = "scale-replicas"
    vocabulary = frozenset("""scale scaled rescale scaling bring down up back to replicas replica pods pod instances copies
        set run running number count halve half double triple round rounding odd even deployment deployments deploy
        statefulset statefulsets sts both each respectively bump bumped increase raise lower reduce decrease shrink
        grow add remove drop more fewer less extra another by single make""".split()) | COMMON | frozenset({
        "if it odd", "if it is odd", "if odd", "if it is an odd number", "if the count is odd",
        "leave everything else as it is", "leave everything else exactly as it is", "leave the rest as it is",
        "nothing else", "do not touch anything else", "stateful set"})

    def match(self, ctx: Any) -> dict[str, Any] | None:
        # counts are read from what the person asks, not from what they tell ("payments is running 1 pod and that's
        # too few for prod. please make it 3"); the workloads and the namespace from the whole request
        low = _count_text(told_counts_dropped(ctx.text))
        if not (has(ctx, *TRIGGERS) or has(ctx, *UNITS) or _BARE_COUNT.search(low)) or has(ctx, *_AUTOSCALE):
            return None
        ns = namespace(ctx)
        objs = named(ctx, SCALABLE, ns)
        if not objs:
            return None
        by_name = {n: key for key, (_, _, w) in objs.items() for n in (key[1], w)}
        absolute, deltas = _absolute(low, by_name, ns), _deltas(low)
        if absolute is None or deltas is None:
            return None
        (counts, spans), (changes, dspans) = absolute, deltas
        told = set(re.findall(r"[a-z]+", low)) - set(re.findall(r"[a-z]+", _count_text(without_told(ctx.text))))
        absolute_to = [m.span(1) for m in _DROP_TO.finditer(low)]  # "drop it to 1 replica": a count, not a delta
        if (set(re.findall(r"[a-z]+", _blank(low, dspans + absolute_to))) - told) & _DELTA_WORDS:
            # "add", "more", "by" outside a relative count: something this path does not do (in a clause that only
            # tells, "we're adding read replicas", they are the person's story, not an order)
            return None
        relative = [f for w, f in RELATIVE.items() if re.search(rf"\b{w}\b", low)]
        if relative and not has(ctx, "replicas", "replica", "pods", "instances", "copies", "scale"):
            return None  # "double orders" is not clearly about replicas
        delta: dict[tuple[str, str], int] = {}
        for target, change in changes:
            key = by_name.get(target) if target else (next(iter(objs)) if len(objs) == 1 and len(changes) == 1
                                                      else None)
            if key is None or key in counts or delta.setdefault(key, change) != change:
                return None  # a relative count whose workload is not clear, or two counts for one workload
        if relative and (counts or delta):
            return None
        if len(objs) > 1:
            if relative or set(counts) | set(delta) != set(objs):
                return None  # every workload needs its own count
        elif not counts and not delta:
            said = {int(a or b): m.span() for m in _COUNT.finditer(low) for a, b in [m.groups()]}
            said |= {int(m.group(1)): m.span() for m in _IT_COUNT.finditer(low)}
            if relative and not said and len(relative) == 1:
                pass
            elif len(said) == 1 and not relative:
                (value, span), = said.items()
                counts, spans = {next(iter(objs)): value}, [span]
            else:
                return None
        if _STANDALONE.search(_blank(low, spans + dspans)):
            return None  # a number no phrase read: a pairing this path cannot make ("web and checkout to 3 and 4")
        rounding = "up" if re.search(r"\bround(?:ing)?\s+(?:it\s+)?up\b", low) else \
            "down" if re.search(r"\bround(?:ing)?\s+(?:it\s+)?down\b", low) else None
        order = sorted(objs, key=lambda key: low.find(objs[key][2]))  # as the request says them
        targets = [{"kind": k, "name": n, "replicas": counts.get((k, n)), "delta": delta.get((k, n))}
                   for k, n in order]
        values = {abs(v) for v in [*counts.values(), *delta.values()]}
        said = [w for _, _, w in objs.values()] + [w for w, v in NUMBER_WORDS.items() if v in values and
                                                   re.search(rf"\b{w}\b", norm(ctx.text))]
        return {"namespace": ns, "targets": targets, "factor": relative[0] if relative else None,
                "rounding": rounding, "direction": 0 if relative else _direction(_blank(low, dspans)), "said": said}

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
            want, refusal = _wanted(t, current, slots)
            if refusal:
                return AgentResult(AGENT, f"I did not act: {cite(kind, ns, name)} has {current} replicas, so {refusal}",
                                   evidence)
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


def _wanted(t: dict[str, Any], current: int, slots: dict[str, Any]) -> tuple[int, str]:
    """The absolute count a target asks for, from the live one; or a reason not to act (an odd count halved with no
    rounding said, a relative count that leaves no pod or fewer than none, a direction the live count contradicts)."""
    if t["replicas"] is not None:
        want = int(t["replicas"])
        way = slots.get("direction", 0)
        if way and want != current and (want > current) != (way > 0):
            return want, (f"{want} would be {'fewer' if want < current else 'more'}, not "
                          f"{'more' if way > 0 else 'fewer'}; say 'scale to {want}' if that is what you want.")
        return want, ""
    if t.get("delta") is not None:
        want = current + int(t["delta"])
        if want <= 0:
            return want, (f"that leaves {max(want, 0)}; say 'scale to 0' if you mean to stop it." if want == 0 else
                          f"it cannot lose {-int(t['delta'])}.")
        return want, ""
    exact = current * slots["factor"]
    if exact != int(exact) and slots["rounding"] is None:
        return 0, f"that makes {exact:g}; say whether to round up or down."
    return (math.ceil(exact) if slots["rounding"] == "up" else math.floor(exact)), ""


register(Scale())
