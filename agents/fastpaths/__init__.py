"""Deterministic fast paths: one module per intent, each a small object behind one interface, in one registry.

Why a registry of small objects (the shape of k8sgpt's analyzers): adding an intent touches one file, and the
domain agent's control path is the same for all of them: ask every fast path of the domain to `match`; keep the
matches whose `Understanding` is confident (every content word of the request accounted for, see
`agents.coverage`); act only when exactly one is; otherwise hand the request to the tool-calling loop or abstain.

A fast path:
- `agent`: the domain label it serves (`scaling`, `resources`, `rbac`, ...);
- `intent`: a short name (`create-hpa`, `set-env`, ...);
- `vocabulary`: the words its intent consumes (besides slot values and filler) — keep it tight: a word here is a
  word this fast path claims to fully act on;
- `match(ctx) -> dict | None`: the slots it filled from the request (names, namespace, numbers...), or None when the
  request is not of its intent or a slot it needs is missing;
- `plan(ctx, slots) -> AgentResult`: the answer and the Mutations (each with its `goal`, the request's own goal
  in checkable form), or a read answer with its evidence. Writes never apply here: the supervisor's approval path
  does that.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any, Protocol

from agents.coverage import Understanding, understand
from agents.state import AgentResult


class FastPath(Protocol):
    agent: str
    intent: str
    vocabulary: frozenset[str]

    def match(self, ctx: Any) -> dict[str, Any] | None: ...

    def plan(self, ctx: Any, slots: dict[str, Any]) -> AgentResult: ...


REGISTRY: list[FastPath] = []


def register(fp: FastPath) -> FastPath:
    """Add a fast path (instance) to the registry; used as `register(MyPath())` at module end."""
    REGISTRY.append(fp)
    return fp


_LOADED = False


def _load() -> None:
    global _LOADED
    if not _LOADED:
        for mod in pkgutil.iter_modules(__path__):
            importlib.import_module(f"{__name__}.{mod.name}")
        _LOADED = True


def candidates(ctx: Any, agent: str) -> list[tuple[FastPath, Understanding]]:
    """Every fast path of `agent` that matched, with what it understood (confident or not)."""
    from agents.fastpaths._words import retold
    from agents.residue import told_counts_dropped

    _load()
    # the paths read their slots with the counts the person only tells blanked ("payments is running 1 pod … make it
    # 3"); the whole text is still accounted for (a told count is context)
    asked = retold(ctx, told_counts_dropped(ctx.text))
    out = []
    for fp in REGISTRY:
        if fp.agent != agent:
            continue
        slots = fp.match(asked)
        if slots is not None:
            out.append((fp, understand(ctx.text, agent, fp.intent, slots, fp.vocabulary,
                                       getattr(ctx, "known", frozenset()))))
    return out


def best(ctx: Any, agent: str) -> tuple[FastPath | None, Understanding | None]:
    """The one confident fast path for this request, else (None, the closest understanding for the reply).

    Kept on the context for its request: an agent asks more than once (which path it is, then to act), and every
    path's `match` reads the cluster."""
    memo = ctx.__dict__.setdefault("_fastpaths_best", {})
    key = (agent, ctx.text)
    if key not in memo:
        found = candidates(ctx, agent)
        sure = [(fp, u) for fp, u in found if u.confident]
        memo[key] = sure[0] if len(sure) == 1 else \
            (None, min(found, key=lambda fu: len(fu[1].unused), default=(None, None))[1])
    return memo[key]


def best_intent(ctx: Any, agent: str) -> str | None:
    """The intent of the one fast path of `agent` that understood the whole request, if there is one."""
    fp, _ = best(ctx, agent)
    return fp.intent if fp is not None else None


def answer(ctx: Any, fp: FastPath, understood: Understanding) -> AgentResult:
    """The fast path's plan, marked with what it understood (and the context it passed over, for a takeover)."""
    res = fp.plan(ctx, understood.slots)
    res.data.setdefault("understood", understood.summary())
    res.data.setdefault("loose", list(understood.loose))
    return res
