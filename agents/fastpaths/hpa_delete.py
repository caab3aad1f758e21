"""Delete the HorizontalPodAutoscaler of a workload: "remove the autoscaler on checkout in shop", "delete the hpa for
web", "get rid of the checkout autoscaler", "drop checkout's hpa".

Why its own fast path: "remove the autoscaler on checkout, we'll manage replicas manually" was read as an autoscale
request with a word it did not know. The autoscaler meant is the one whose scaleTargetRef is the named workload
(found as create-hpa finds it, `hpa.autoscalers_of`), whatever its own name; an HPA named directly ("delete the hpa
checkout-hpa") is taken as named. The goal is that autoscaler gone; the workload keeps the replicas it has. With none
there is nothing to delete, and nothing is proposed.

What keeps it tight: the verb must govern the autoscaler in one phrase ("remove the autoscaler on X", "delete X's
hpa"), and no verb of deleting or kind word may stand outside that phrase ("delete checkout and its hpa" asks for the
deployment too, and is not understood here).
"""

from __future__ import annotations

import re
from typing import Any

from agents.coverage import FILLER
from agents.fastpaths import register
from agents.fastpaths._words import COMMON, NAME, absent, cite, listed, mutation, named, namespace, norm
from agents.fastpaths.hpa import autoscalers_of
from agents.state import AgentResult
from tools.k8s.client import KubeError
from tools.k8s.kinds import SCALABLE

AGENT = "scaling"
HPA = "HorizontalPodAutoscaler"
_KIND = r"(?:deployment|deploy|statefulset|sts|stateful\s+set)"
_NOUN = r"(?:horizontal\s+pod\s+autoscaler|autoscaler|hpa)"
_VERB = r"(?:remove|delete|drop|get\s+rid\s+of)"
_WHO = rf"(?:the\s+)?(?:{_KIND}\s+)?['\"]?(?P<name>{NAME})['\"]?(?:\s+{_KIND})?"
_PHRASES = (re.compile(rf"\b{_VERB}\s+(?:the\s+|its\s+)?{_NOUN}\s+(?:on|of|for|from|targeting|attached\s+to)\s+{_WHO}"),
            re.compile(rf"\b{_VERB}\s+(?:the\s+)?(?:{_KIND}\s+)?['\"]?(?P<name>{NAME})['\"]?(?:'s)?\s+(?:{_KIND}\s+)?"
                       rf"{_NOUN}\b"),
            re.compile(rf"\b{_VERB}\s+(?:the\s+)?{_NOUN}\s+(?!(?:on|of|for|from|targeting|attached|in)\b)"
                       rf"['\"]?(?P<name>{NAME})['\"]?"))
# Words the phrase consumes: anywhere else they ask for a deletion or name a kind this path does not act on.
_OWN = re.compile(rf"\b(?:remove|removing|delete|deleting|drop|rid|{_NOUN}s?|{_KIND}s?)\b")


class DeleteHPA:
    agent = AGENT
    intent = "delete-hpa"
    vocabulary = frozenset("""remove delete drop get rid autoscaler hpa horizontal pod deployment deploy statefulset sts
        targeting attached its""".split()) | COMMON | frozenset({"stateful set"})

    def match(self, ctx: Any) -> dict[str, Any] | None:
        low = norm(ctx.text)
        found = [m for pat in _PHRASES for m in pat.finditer(low) if m.group("name") not in FILLER]
        spans = {m.span() for m in found}
        if not found or len({m.group("name") for m in found}) != 1 or _outside(low, spans):
            return None
        word = found[0].group("name")
        ns = namespace(_Said(ctx, _blank(low, spans)))  # "the autoscaler on web in shop": web is what, shop where
        objs = {key: o for key, o in (named(ctx, SCALABLE, ns) or {}).items() if word in (key[1], o[2])}
        if len(objs) == 1:
            (kind, name), = objs
            return {"namespace": ns, "kind": kind, "name": name, "hpa": None, "said": [word]}
        hpas = [h["metadata"]["name"] for h in listed(ctx, HPA, ns) if h["metadata"]["name"] == word]
        if not objs and hpas:
            return {"namespace": ns, "kind": None, "name": None, "hpa": word, "said": [word]}
        return None

    def plan(self, ctx: Any, slots: dict[str, Any]) -> AgentResult:
        ns, kind, name = slots["namespace"], slots["kind"], slots["name"]
        try:
            hpas = ctx.kube.list(HPA, ns)
        except KubeError as e:
            return AgentResult(AGENT, f"I could not list the autoscalers in {ns}: {e.message}", [e.message])
        mine = autoscalers_of(hpas, kind, name) if kind else [h for h in hpas if h["metadata"]["name"] == slots["hpa"]]
        what = cite(kind, ns, name) if kind else f"{HPA} {ns}/{slots['hpa']}"
        evidence = [f"{HPA} {ns}/{h['metadata']['name']}: targets {_target(h)}" for h in hpas]
        if not mine:
            return AgentResult(AGENT, f"Already so: no autoscaler targets {what} (autoscalers in {ns}: "
                                      f"{', '.join(h['metadata']['name'] for h in hpas) or 'none'}). Nothing to delete.",
                               evidence, data={"already": True})
        if len(mine) > 1:
            names = ", ".join(h["metadata"]["name"] for h in mine)
            return AgentResult(AGENT, f"I did not act: {len(mine)} autoscalers target {what} ({names}); say which one "
                                      "to delete.", evidence)
        hpa = mine[0]["metadata"]["name"]
        spec = mine[0].get("spec") or {}
        m = mutation("delete", HPA, ns, hpa, [absent(HPA, ns, hpa)], f"stop autoscaling {_target(mine[0])}")
        return AgentResult(AGENT, f"Proposed: delete the autoscaler {ns}/{hpa} (it keeps {_target(mine[0])} between "
                                  f"{spec.get('minReplicas', 1)} and {spec.get('maxReplicas')} replicas). The workload "
                                  "keeps the replicas it has now; nothing scales it automatically after that.",
                           evidence, [m])


def _target(hpa: dict[str, Any]) -> str:
    ref = (hpa.get("spec") or {}).get("scaleTargetRef") or {}
    return cite(ref.get("kind", "?"), hpa["metadata"].get("namespace"), ref.get("name", "?"))


def _blank(low: str, spans: set[tuple[int, int]]) -> str:
    chars = list(low)
    for a, b in spans:
        chars[a:b] = " " * (b - a)
    return "".join(chars)


def _outside(low: str, spans: set[tuple[int, int]]) -> bool:
    """A deleting verb, an autoscaler or a kind word outside the phrases read: more is asked than this path does."""
    return bool(_OWN.search(_blank(low, spans)))


class _Said:
    """The request's context with only part of its text, for reading the namespace from the words around the
    phrase (a workload named like a namespace is not the namespace)."""

    def __init__(self, ctx: Any, text: str) -> None:
        self._ctx, self.text = ctx, text

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._ctx, attr)


register(DeleteHPA())
