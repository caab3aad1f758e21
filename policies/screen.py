"""A concrete pre-screen for repair candidates: requests near the spec, decided by the evaluator.

Why: a candidate that allows some request the original policy denies, outside the spec's allowed requests,
is over-permissive, and the evaluator can often show it in microseconds by trying requests that differ from
a spec request in one part (another action, resource, principal or context value seen in the policy or the
spec). Only candidates that survive go to Z3, whose proof stays the one and only acceptance criterion; the
screen just saves Z3 calls where they are slow (string-theory queries, when policy variables are involved).
"""

from __future__ import annotations

import random

from policies.budget import checkpoint
from policies.evaluator import decide
from policies.model import Policy, Request, Spec
from policies.patterns import Lit, QMark, Star, is_all, tokenize
from policies.verify import in_spec_class


def _instances(text: str) -> list[str]:
    toks = tokenize(text, True, False)
    if is_all(toks):
        return []
    outs = ["", "x", "example/x"]
    return ["".join(t.text if isinstance(t, Lit) else (fill if isinstance(t, Star) else "x") for t in toks)
            for fill in outs] if any(isinstance(t, (Star, QMark)) for t in toks) else [text]


def _checked(value: bool) -> bool:
    checkpoint("screening candidates")
    return value


def _variant(base: Request, part: str, value, extra) -> Request:
    """`base` with one part replaced (a context key set to `extra`, or removed when `extra` is None)."""
    if part == "action":
        return Request(value, base.resource, base.principal, base.context, base.key_names)
    if part == "resource":
        return Request(base.action, value, base.principal, base.context, base.key_names)
    if part == "principal":
        return Request(base.action, base.resource, value, base.context, base.key_names)
    ctx = dict(base.context)
    if extra is None:
        ctx.pop(value, None)
    else:
        ctx[value] = extra
    return Request(base.action, base.resource, base.principal, ctx, base.key_names)


class Screen:
    def __init__(self, original: Policy, spec: Spec, limit: int = 1500, seed: int = 0) -> None:
        self.original = original
        self.spec = spec
        rng = random.Random(seed)
        actions = {c.request.action for c in spec.cases}
        resources = {c.request.resource for c in spec.cases}
        principals = {c.request.principal for c in spec.cases}
        values: dict[str, set] = {}
        for c in spec.cases:
            for k, v in c.request.context.items():
                values.setdefault(k, set()).add(v)
        for st in original.statements:
            for a in st.actions:
                actions.update(x for x in _instances(a) if ":" in x)
            for r in st.resources or ():
                if "${" not in r:
                    resources.update(_instances(r))
            if st.principal:
                principals.update(v for _, v in st.principal.entries if v != "*")
            for cond in st.conditions:
                vals = values.setdefault(cond.lkey, set())
                vals.update(v for v in cond.values if "${" not in v and "*" not in v and "?" not in v)
        for k in original.context_keys():
            values.setdefault(k, set()).add(None)
        # variants are described first and built only once sampled: with hundreds of keys, building every
        # variant (a copy of the whole context each) took hundreds of MB
        described: list[tuple[Request, str, object, object]] = []
        for c in spec.cases:
            checkpoint("screening candidates")
            base = c.request
            described += [(base, "action", a, None) for a in actions]
            described += [(base, "resource", r, None) for r in resources]
            described += [(base, "principal", p, None) for p in principals]
            described += [(base, "key", k, v) for k, vs in values.items() for v in vs]
        if len(described) > limit:
            described = rng.sample(described, limit)
        self.samples = [_variant(*d) for d in described]
        # only requests the original policy denies can show over-permissiveness
        self.samples = [r for r in self.samples if _checked(not decide(original, r).allowed)]

    def counterexample(self, candidate: Policy) -> Request | None:
        for r in self.samples:
            checkpoint("screening candidates")
            if decide(candidate, r).allowed and not in_spec_class(r, self.spec, [self.original, candidate]):
                return r
        return None

