"""The one rule every domain agent follows before it acts or answers: never on a partial understanding.

Why one function: eight agents must decide the same way, or the weakest one decides for the product. A request
is read by every fast path of its domain — the agent's own rules (each stating its intent, the slots it filled and
its vocabulary, see `agents.coverage`) and the registry's (`agents.fastpaths`). The agent acts, or answers a read,
only through a fast path that accounted for every word of the request. Otherwise the tool-calling loop takes the
request (when a configured model can run it), and failing that the agent abstains: it says what it understood,
what it did not, and asks a concrete question. Nothing changes on an abstention.

Order: the agent's own paths first (they are what the existing task sets were measured on), then the registry's.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from agents import fastpaths
from agents.coverage import Understanding, abstain, understand
from agents.state import AgentResult

try:  # the tool-calling loop (issue 15, part 3); absent until it lands
    from agents.loop import run_loop
except ImportError:  # pragma: no cover - depends on what is installed
    run_loop = None


@dataclass
class Reading:
    """One of the agent's own fast paths applied to the request: what it took the request to mean (`understood`)
    and how it would act on that (`act`, called only when the understanding is confident)."""

    understood: Understanding
    act: Callable[[], AgentResult]


def reading(ctx: Any, agent: str, intent: str, slots: dict[str, Any], vocabulary: Sequence[str] | frozenset[str],
            act: Callable[[], AgentResult]) -> Reading:
    """Account for the request's words under one of the agent's own intents."""
    return Reading(understand(ctx.text, agent, intent, slots, vocabulary, getattr(ctx, "known", frozenset())), act)


def decide(ctx: Any, agent: str, own: Sequence[Reading], ask: str, why: str = "") -> AgentResult:
    """Act through the first confident reading of the agent's own, else the registry's one confident fast path,
    else the tool-calling loop, else abstain with `ask` (a concrete question or rephrasing)."""
    fp, closest = None, None
    for r in own:
        if r.understood.confident:
            res = r.act()
            if (res.data or {}).get("abstain") or _asks_back(res):
                # the reading found, acting, that it lacks something ("which key=value?"): a registry path that
                # fully understood the request ("switch catalog to nginx:1.27, the current tag doesn't exist" is an
                # image, not a label) answers instead; with none, the reading's own question stands
                fp, closest = fastpaths.best(ctx, agent)
                if fp is None or closest is None:
                    return res
                break
            res.data.setdefault("understood", r.understood.summary())
            res.data.setdefault("loose", list(r.understood.loose))
            return res
    if fp is None:
        fp, closest = fastpaths.best(ctx, agent)
    if fp is not None and closest is not None:
        return fastpaths.answer(ctx, fp, closest)
    candidates = [r.understood for r in own] + ([closest] if closest is not None else [])
    nearest = min(candidates, key=lambda u: len(u.unused), default=None)
    if run_loop is not None and not getattr(ctx, "no_loop", False):
        res = run_loop(ctx, agent, nearest)
        if res is not None:
            return res
    res = abstain(agent, nearest, ask, why)
    note = _rights_note(ctx, [r for r in own if r.understood is nearest])
    if note:
        res.answer += " " + note
        res.data["abstain"]["rights"] = note
    return res


def _asks_back(res: AgentResult) -> bool:
    """A reading that, acting, only asked what to do ("I understood you want to change cronjob batch/nightly-report,
    but not what"): not an answer when a registry path understood the whole request."""
    return not res.mutations and "but not what" in res.answer


def _rights_note(ctx: Any, readings: Sequence[Reading]) -> str:
    """Whether the part that was understood would have been refused anyway: the principal's missing rights (a
    SelfSubjectAccessReview per proposed change, or the read the answer needed). Reads only; nothing is proposed."""
    from tools.k8s.client import KubeError

    for r in readings:
        try:
            res = r.act()
        except Exception:  # noqa: BLE001 - a note is optional; the abstention stands without it
            return ""
        if re.search(r"forbidden|not allowed|cannot list|cannot get", res.answer) and not res.mutations:
            return f"(Even so: {res.answer.strip().splitlines()[0]})"
        for m in res.mutations:
            if m.verb == "action":
                continue
            try:
                allowed, _ = ctx.kube.can_i("patch" if m.verb in ("scale", "patch") else m.verb, m.kind,
                                            m.namespace or None, None if m.verb == "create" else m.name,
                                            subresource="scale" if m.verb == "scale" else "")
            except KubeError:
                continue
            if not allowed:
                return (f"(Even so, you ({ctx.kube.principal.label}) are not allowed to {m.verb} {m.kind.lower()} "
                        f"{m.namespace + '/' if m.namespace else ''}{m.name}.)")
    return ""
