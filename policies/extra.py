"""What a best-effort repair allows beyond (original ∪ spec), enumerated and proven complete with Z3.

Why classes rather than single requests: the encoding reads an action or a resource only through the
patterns the two policies and the spec mention, so the request space falls into finitely many regions (see
`policies.atoms`). Each extra found is reported with its region ("every action matching `s3:Get*` and no
other pattern, on every resource matching `arn:aws:s3:::b/*`"), that region is excluded, and the search goes
on until Z3 answers unsat: then the list is provably all the repair adds. Each example request is re-checked
with the concrete evaluator, as everywhere in this room.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import z3

from policies.encoding import Desc, Encoder, StrVar, SymbolicRequest, Universe
from policies.evaluator import decide
from policies.model import Policy, Request, Spec
from policies.patterns import render
from policies.verify import DEFAULT_TIMEOUT_MS, in_spec_class, solve


def _desc_text(desc: Desc) -> str:
    return desc[1] if desc[0] == "lit" else render(desc[1])


def region_patterns(sv: StrVar, text: str) -> list[str] | None:
    """The patterns (of the policies and spec) that `text` matches: the region it stands for. None when the
    string is not abstracted into regions (policy variables tie it to other strings)."""
    if sv.atoms is None:
        return None
    idx = sv.atoms.index_of(text)
    return sorted({_desc_text(d) for d, j in sv.space.descs.items() if idx in sv.atoms.members[j]})


@dataclass
class ExtraClass:
    """One region of extra requests: an example and the patterns every request of the region matches."""

    example: Request
    actions: list[str] | None
    resources: list[str] | None

    def describe(self) -> str:
        def like(what: str, pats: list[str] | None, value: str) -> str:
            if pats is None:
                return f"{what} {value}"
            wild = [p for p in pats if p != value]
            if not wild:
                return f"{what} {value}"
            return f"every {what} matching {' and '.join(wild)} (and no narrower pattern), e.g. {value}"
        return (f"{like('action', self.actions, self.example.action)} on "
                f"{like('resource', self.resources, self.example.resource)} — example request: "
                f"{self.example.describe()}")

    def to_json(self) -> dict[str, Any]:
        return {"example": self.example.to_json(), "action_patterns": self.actions,
                "resource_patterns": self.resources, "text": self.describe()}


@dataclass
class Extra:
    """The extra requests of a candidate; `complete` when Z3 proved there are no others."""

    classes: list[ExtraClass] = field(default_factory=list)
    complete: bool = False
    seconds: float = 0.0

    def summary(self) -> str:
        if not self.classes:
            return "Z3 proved it allows nothing beyond the original policy and the spec"
        head = (f"it allows {len(self.classes)} kind(s) of request beyond the original policy and the spec "
                + ("(Z3 proved the list complete: every extra request has the action and resource of one "
                   "of these)" if self.complete else "(at least these; the list may not be complete)"))
        return head + ":\n" + "\n".join("  - " + c.describe() for c in self.classes)

    def to_json(self) -> dict[str, Any]:
        return {"complete": self.complete, "classes": [c.to_json() for c in self.classes],
                "seconds": round(self.seconds, 3)}


def extra_allowed(original: Policy, repaired: Policy, spec: Spec, limit: int = 12,
                  timeout_ms: int = DEFAULT_TIMEOUT_MS) -> Extra:
    """Every region of requests `repaired` allows that `original` does not and no expect-allow spec request
    covers, up to `limit` regions."""
    t0 = time.perf_counter()
    allowed = [c.request for c in spec.cases if c.expect_allow]
    universe = Universe.of([original, repaired], [c.request for c in spec.cases])
    req = SymbolicRequest(universe)
    enc = Encoder(req)
    constraints = req.domain() + [enc.allows(repaired), z3.Not(enc.allows(original))]
    constraints += [z3.Not(req.same_as(r)) for r in allowed]
    out = Extra()
    confirmed_all = True
    while len(out.classes) < limit:
        res, model = solve(constraints, timeout_ms)
        if res == z3.unsat:
            out.complete = confirmed_all
            break
        if res != z3.sat:
            break
        x = req.concretize(model)
        ok = decide(repaired, x).allowed and not decide(original, x).allowed and not in_spec_class(
            x, spec, [original, repaired])
        if ok:
            out.classes.append(ExtraClass(x, region_patterns(req.action, x.action.lower()),
                                          region_patterns(req.resource, x.resource)))
        confirmed_all = confirmed_all and ok
        constraints.append(z3.Not(z3.And(req.action.equals(x.action.lower()), req.resource.equals(x.resource))))
    out.seconds = time.perf_counter() - t0
    return out
