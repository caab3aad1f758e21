"""Questions answered with Z3: does a policy meet a spec, is one policy contained in another, where do two
policies differ, and is a repair no more permissive than (original ∪ spec-allowed requests).

Why every counterexample is re-checked with the concrete evaluator: the encoding over-approximates in one
documented place (typed views of one key are not linked); a counterexample the evaluator does not confirm
is dropped and the search continues with it blocked, so reported requests are always real.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import z3

from policies.budget import BudgetExceeded, checkpoint, solver_timeout_ms
from policies.encoding import Encoder, SymbolicRequest, Universe
from policies.errors import UnsupportedError
from policies.evaluator import Decision, decide, evaluate
from policies.model import Policy, Request, Spec, SpecCase

DEFAULT_TIMEOUT_MS = 20_000


def solve(constraints: list, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> tuple[z3.CheckSatResult, z3.ModelRef | None]:
    """One fresh solver per question: Z3's incremental mode (push/pop, re-checking after new assertions) is
    two orders of magnitude slower on these string constraints than a fresh non-incremental check."""
    checkpoint("a Z3 query")
    solver = z3.Solver()
    solver.set("timeout", solver_timeout_ms(timeout_ms))
    solver.add(constraints)
    res = solver.check()
    if res == z3.unknown:
        checkpoint("a Z3 query")   # unknown because the budget cut the solver short: say so
    return res, (solver.model() if res == z3.sat else None)


@dataclass
class Violation:
    case: SpecCase
    got: Decision
    statements: list[int]          # statements that applied (for an unexpected allow or explicit deny)

    def describe(self) -> str:
        r = self.case.request
        why = ""
        if self.statements:
            why = " by statement(s) " + ", ".join(str(i) for i in self.statements)
        return f"request {self.case.index}: {r.describe()} — expected {self.case.expect}, got {self.got.value}{why}"


@dataclass
class CheckResult:
    violations: list[Violation]
    decisions: list[Decision]
    proved_by_z3: bool = False
    note: str = ""                 # why Z3 did not cross-check (budget), when it did not

    @property
    def holds(self) -> bool:
        return not self.violations


def check(policy: Policy, spec: Spec, use_z3: bool = True) -> CheckResult:
    """Decide every spec request; with `use_z3`, each decision is also derived from the Z3 encoding and the
    two must agree (a disagreement is a bug and raises)."""
    decisions = []
    violations = []
    for case in spec.cases:
        checkpoint("checking the spec")
        ev = evaluate(policy, case.request)
        decisions.append(ev.decision)
        if ev.allowed != case.expect_allow:
            effect = "Allow" if ev.allowed else "Deny" if ev.decision is Decision.EXPLICIT_DENY else None
            violations.append(Violation(case, ev.decision, ev.applying(effect) if effect else []))
    if use_z3:
        try:
            z3_allowed = z3_decisions(policy, [c.request for c in spec.cases])
        except UnsupportedError:   # a construct the encoding refuses: the evaluator's answer stands alone
            return CheckResult(violations, decisions, False)
        except BudgetExceeded as e:   # the evaluator decided every request; only the cross-check is missing
            return CheckResult(violations, decisions, False,
                               f"decided by the evaluator; {e} before Z3 could cross-check the decisions")
        for case, d, zd in zip(spec.cases, decisions, z3_allowed, strict=False):
            if d.allowed != zd:
                raise AssertionError(f"evaluator and Z3 disagree on request {case.index}: {case.request.describe()}")
    return CheckResult(violations, decisions, use_z3)


def z3_decisions(policy: Policy, requests: list[Request]) -> list[bool]:
    """Allowed or not, for each request, decided by the Z3 encoding alone."""
    universe = Universe.of([policy], requests)
    req = SymbolicRequest(universe)
    enc = Encoder(req)
    domain = req.domain()
    allows = enc.allows(policy)
    out = []
    for r in requests:
        res = solve(domain + [req.same_as(r, exact=True), allows], DEFAULT_TIMEOUT_MS)[0]
        if res == z3.unknown:
            raise TimeoutError(f"Z3 could not decide {r.describe()}")
        out.append(res == z3.sat)
    return out


@dataclass
class Difference:
    """Requests one policy allows and the other does not (each confirmed by the evaluator)."""

    only_a: list[Request] = field(default_factory=list)
    only_b: list[Request] = field(default_factory=list)
    complete_a: bool = True        # no (further) request exists in `only_a`'s direction
    complete_b: bool = True

    @property
    def equivalent(self) -> bool:
        return not self.only_a and not self.only_b and self.complete_a and self.complete_b


def _find(universe: Universe, build, confirm, limit: int, timeout_ms: int) -> tuple[list[Request], bool]:
    """Up to `limit` confirmed requests satisfying `build(encoder)`; also whether the search was exhaustive
    (no further request satisfies it)."""
    req = SymbolicRequest(universe)
    enc = Encoder(req)
    constraints = req.domain() + [build(enc)]
    found: list[Request] = []
    tries = 0
    while len(found) < limit and tries < limit * 4 + 4:
        tries += 1
        res, model = solve(constraints, timeout_ms)
        if res == z3.unsat:
            return found, True
        if res == z3.unknown:
            raise TimeoutError("Z3 gave up (timeout); the question is too hard for the time limit")
        concrete = req.concretize(model)
        if confirm(concrete):
            found.append(concrete)
        # block this (action, resource) pair so the next answer shows a different pattern
        constraints.append(z3.Not(z3.And(req.action.equals(concrete.action.lower()),
                                         req.resource.equals(concrete.resource))))
    return found, False


def difference(a: Policy, b: Policy, limit: int = 5, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> Difference:
    """Requests allowed by `a` but not `b`, and by `b` but not `a` (up to `limit` each)."""
    universe = Universe.of([a, b])
    only_a, done_a = _find(universe, lambda e: z3.And(e.allows(a), z3.Not(e.allows(b))),
                           lambda r: decide(a, r).allowed and not decide(b, r).allowed, limit, timeout_ms)
    only_b, done_b = _find(universe, lambda e: z3.And(e.allows(b), z3.Not(e.allows(a))),
                           lambda r: decide(b, r).allowed and not decide(a, r).allowed, limit, timeout_ms)
    return Difference(only_a, only_b, done_a and not only_a, done_b and not only_b)


def contains(a: Policy, b: Policy, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> tuple[bool, Request | None]:
    """Whether `b` allows nothing `a` does not allow; else a request showing it."""
    universe = Universe.of([a, b])
    found, done = _find(universe, lambda e: z3.And(e.allows(b), z3.Not(e.allows(a))),
                        lambda r: decide(b, r).allowed and not decide(a, r).allowed, 1, timeout_ms)
    if found:
        return False, found[0]
    if done:
        return True, None
    raise TimeoutError("Z3 found only unconfirmed counterexamples; containment is undecided")


def equivalent(a: Policy, b: Policy, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> bool:
    return difference(a, b, limit=1, timeout_ms=timeout_ms).equivalent


@dataclass
class BoundProof:
    """The result of proving allow(repaired) ⊆ allow(original) ∪ spec-allowed (modulo unread keys)."""

    proven: bool
    counterexample: Request | None = None
    unknown: bool = False
    keys: list[str] = field(default_factory=list)
    principal: bool = False
    seconds: float = 0.0

    def summary(self) -> str:
        if self.proven:
            scope = "action, resource"
            if self.principal:
                scope += ", principal"
            if self.keys:
                scope += " and context keys " + ", ".join(self.keys)
            return (f"Z3 proved (unsat in {self.seconds * 1000:.0f} ms): every request the repaired policy allows is allowed by the "
                    f"original policy or equals an expect-allow request of the spec on {scope} (everything either "
                    "policy reads).")
        if self.unknown:
            return "Z3 could not decide the bound in time; the candidate is not accepted."
        return f"over-permissive: the candidate allows {self.counterexample.describe() if self.counterexample else '?'}"


def _key_names(policies: list[Policy], spec: Spec, keys) -> list[str]:
    names: dict[str, str] = {}
    for p in policies:
        for st in p.statements:
            for c in st.conditions:
                names.setdefault(c.lkey, c.key)
    return [names.get(k) or spec.key_name(k) or k for k in keys]


def prove_bound(original: Policy, repaired: Policy, spec: Spec, timeout_ms: int = DEFAULT_TIMEOUT_MS,
                extra_allowed: list[Request] | None = None) -> BoundProof:
    """Prove that `repaired` allows nothing beyond what `original` allows plus the spec's allowed requests."""
    import time

    t0 = time.perf_counter()
    allowed = [c.request for c in spec.cases if c.expect_allow] + list(extra_allowed or [])
    universe = Universe.of([original, repaired], [c.request for c in spec.cases])
    req = SymbolicRequest(universe)
    enc = Encoder(req)
    constraints = req.domain() + [enc.allows(repaired), z3.Not(enc.allows(original))]
    constraints += [z3.Not(req.same_as(r)) for r in allowed]
    res, model = solve(constraints, timeout_ms)
    proof = BoundProof(res == z3.unsat, keys=sorted(_key_names([original, repaired], spec, universe.keys)),
                       principal=universe.principal)
    if res == z3.sat:
        proof.counterexample = req.concretize(model)
    elif res == z3.unknown:
        proof.unknown = True
    proof.seconds = time.perf_counter() - t0
    return proof


def in_spec_class(request: Request, spec: Spec, policies: list[Policy]) -> bool:
    """Whether `request` equals an expect-allow request of `spec` on everything the policies read (the
    concrete form of the class `prove_bound` uses): action, resource, principal when a policy has a Principal,
    and the set of values of every context key a policy reads. A spec request on the resource `*` covers its
    action on every resource: `*` is how AWS names the resource of an action without resource-level
    permissions, and how a person says "on everything"; the repair then writes `"Resource": "*"`."""
    keys = set().union(*(p.context_keys() for p in policies)) if policies else set()
    principal = any(p.uses_principal() for p in policies)

    def values(r: Request, k: str):
        v = r.get(k)
        return None if v is None else frozenset((v,) if isinstance(v, str) else v)

    from policies.evaluator import role_session_prefix

    for case in spec.cases:
        if not case.expect_allow:
            continue
        s = case.request
        if s.action.lower() != request.action.lower() or s.resource not in (request.resource, "*"):
            continue
        if principal and s.principal != request.principal:
            session = role_session_prefix(s.principal or "")
            if not (session and (request.principal or "").startswith(session)):
                continue
        if all(values(s, k) == values(request, k) for k in keys):
            return True
    return False
