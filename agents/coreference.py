"""What the parts of a split request share: the namespace said once, and "it" for the object an earlier part named.

Why: the router cuts "set the image of web in shop to nginx:1.28 and then scale it to 4" into two parts, one per
agent, and each agent reads only its own part. "scale it to 4" names no workload and no namespace, so the scaling
agent could not act, and one request said once became two halves, one of them not understood. A person writes the
namespace once ("scale web to 4 and restart checkout in shop") and refers back with a pronoun; this module writes
each part out in full before the agents read it:

- a namespace said in exactly one way across the parts is added to the parts that say none;
- "it"/"them" in a later part that names no workload of its own stands for the one workload the part before named.

Nothing is guessed: two namespaces said, or an earlier part that named no single workload, leave the parts as
written (and an agent that does not understand its part abstains, as before).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

_NS_SAID = re.compile(r"(?:\bin(?:to)?|\bnamespace|\bns|-n|--namespace)\s+(?:the\s+)?(?:namespace\s+|ns\s+)?['\"]?"
                      r"([a-z0-9][a-z0-9-]*)|['\"]?([a-z0-9][a-z0-9-]*)['\"]?\s+(?:namespace|ns)\b")
_PRONOUN = re.compile(r"\b(it|them|its|their)\b", re.I)
# a namespace a part names, existing or made there ("create namespace qa", "a new 'qa' namespace"), and a later part's
# "in it" / "into it" / "in there" / "there"
_NS_NAMED = (re.compile(r"\bnamespace\s+(?:(?:called|named)\s+)?['\"]?([a-z0-9][a-z0-9-]*)"),
             re.compile(r"['\"]?([a-z0-9][a-z0-9-]*)['\"]?\s+namespace\b"))
_NOT_NAMES = frozenset("""a an the new that this same its which each every any create make add set up setup delete
    remove whole entire own separate dedicated""".split())
_IN_IT = re.compile(r"\b(in|into|inside)\s+(?:it|there)\b|\b(?<!over\s)(?<!is\s)(?<!are\s)(?<!was\s)(?<!were\s)(?<!get\s)(there)\b(?!\s+(?:is|are|was|were)\b)", re.I)


def said_namespaces(text: str, known: Sequence[str]) -> list[str]:
    """The cluster's namespaces `text` names with "in X", "-n X" or "the X namespace"."""
    out = []
    for m in _NS_SAID.finditer(text.lower()):
        name = m.group(1) or m.group(2)
        if name in known and name not in out:
            out.append(name)
    return out


def resolve_parts(texts: Sequence[str], namespaces: Sequence[str],
                  workload_of: Callable[[str], str | None]) -> list[str]:
    """The parts written out in full (see the module docstring). `workload_of(text)` is the one workload a text
    names, or None."""
    out = list(texts)
    if len(out) < 2:
        return out
    said = [said_namespaces(t, namespaces) for t in out]
    distinct = {n for s in said for n in s}
    if len(distinct) == 1:
        ns = distinct.pop()
        out = [t if s else f"{t.rstrip(' .?!')} in {ns}" for t, s in zip(out, said, strict=True)]
    for i in range(1, len(out)):
        where = ({m.group(1) for pattern in _NS_NAMED for m in pattern.finditer(out[i - 1].lower())} |
                 set(said_namespaces(out[i - 1], namespaces))) - _NOT_NAMES
        if len(where) == 1 and _IN_IT.search(out[i]):
            # "create namespace qa and deploy nginx in it": the place is the namespace the part before named
            ns = where.pop()
            out[i] = _IN_IT.sub(lambda m, ns=ns: f"{m.group(1) or 'in'} {ns}", out[i], count=1)
            continue
        if len(_PRONOUN.findall(out[i])) != 1 or workload_of(out[i]):
            continue
        before = workload_of(out[i - 1])
        if before:
            out[i] = _PRONOUN.sub(lambda m, w=before: w + "'s" if m.group(1).lower() in ("its", "their") else w,
                                  out[i], count=1)
    return out


def workload_reader(kube: Any, default_ns: str | None) -> Callable[[str], str | None]:
    """`workload_of` for `resolve_parts` over the live cluster (the context's own name resolution)."""
    from agents.context import build_context

    seen: dict[str, str | None] = {}  # each part is asked about again for every cut point

    def workload_of(text: str) -> str | None:
        if text not in seen:
            seen[text] = build_context(kube, text, default_ns).entities.workload
        return seen[text]

    return workload_of
