"""Repair: the fewest edits that make a policy decide every spec request as expected, proven by Z3 to
allow nothing beyond (the original policy's allows ∪ the spec's expect-allow requests).

How: localize the faulty statements, generate single edits for the failing requests (narrow or widen an
Action/Resource/Principal, add, drop or adjust a condition, flip an Effect, remove a statement, add an exact
Allow or Deny, split a Deny), check every candidate concretely against the spec (microseconds), and prove the
cheapest passing ones with Z3. When no single edit passes, a beam search applies edits that reduce the
failures and continues from there. An added exact Allow is pinned, counterexample by counterexample, to the
context of the request it serves when the proof shows it would open more than that request. A last-resort
exact patch (Deny what must be denied, split what denies too much, Allow exactly what must be allowed)
makes the search complete for every consistent spec it can express. Before each Z3 call, a concrete
screen (`policies.screen`) tries requests next to the spec's and rejects a candidate it can show to be over-
permissive; the Z3 proof stays the only way a candidate is accepted. Added exact statements are merged
afterwards where the proof still holds, so the result reads like a policy a person would write.

What "nothing beyond the spec" means: a request is covered by an expect-allow spec request when it agrees
with it on action, resource, principal (when a policy has a Principal) and the value of every context key
either policy reads. Widening a wildcard is therefore only accepted when everything it opens is the spec's;
otherwise the repair allows exactly the spec's requests (pinned to their context) — least privilege.

Known limit: a Deny whose wildcard covers an expect-allow request and also resources the policy allows
elsewhere can only be split by denying a little more or a little less than before; when the first breaks the
spec and the second is not proven, no repair is reported (the CLI says so, exit 1).

An LLM may propose candidates (`extra_candidates`); they go through the same check and proof.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from policies.budget import BudgetExceeded, budget, checkpoint
from policies.edits import (
    Candidate,
    Edit,
    add_exact_allows,
    canonical_action,
    carve_out,
    exact_for,
    generate,
    new_sid,
    pin_conditions,
    put_condition,
    separate_from,
    with_added,
)
from policies.errors import UnsupportedError
from policies.evaluator import decide, statement_applies
from policies.extra import Extra, extra_allowed
from policies.localize import localize
from policies.model import Policy, Principal, Request, Spec
from policies.parser import dumps_policy, policy_to_json
from policies.patterns import resource_text
from policies.screen import Screen
from policies.verify import BoundProof, Violation, check, prove_bound


@dataclass
class RepairResult:
    status: str                          # "holds" | "repaired" | "best-effort" | "failed" | "out-of-budget"
    original: Policy
    policy: Policy | None = None
    edits: list[Edit] = field(default_factory=list)
    proof: BoundProof | None = None
    violations: list[Violation] = field(default_factory=list)   # of the original policy
    seconds: float = 0.0
    candidates: int = 0
    proofs: int = 0
    message: str = ""
    checked: bool = False                # the spec check finished (violations are known)
    extra: Extra | None = None           # best effort: what it allows beyond original ∪ spec (Z3)
    best_effort: Policy | None = field(default=None, repr=False)
    best_effort_edits: list[Edit] = field(default_factory=list, repr=False)

    @property
    def ok(self) -> bool:
        """A policy that meets the spec and is proven within the bound (a best effort is not ok)."""
        return self.status in ("holds", "repaired")

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "violations": [v.describe() for v in self.violations],
            "edits": [e.to_json() for e in self.edits],
            "changes": len(self.edits),
            "policy": policy_to_json(self.policy) if self.policy is not None else None,
            "proof": self.proof.summary() if self.proof else None,
            "seconds": round(self.seconds, 3),
            "candidates_checked": self.candidates,
            "proofs_attempted": self.proofs,
            "message": self.message,
            "extra": self.extra.to_json() if self.extra is not None and self.status == "best-effort" else None,
        }


def _failing(policy: Policy, spec: Spec) -> int:
    return sum(decide(policy, c.request).allowed != c.expect_allow for c in spec.cases)


def _pin(original: Policy, cand: Candidate, spec: Spec, timeout_ms: int,
         screen: Screen | None = None) -> tuple[BoundProof, Candidate, int]:
    """Prove the bound. Where an added exact Allow opens more than its request, pin it to that request's
    context; where a split Deny lets a request through in more contexts than the spec's, deny the other
    contexts again. One key per counterexample, until Z3 proves the bound or nothing is left to pin."""
    policy = cand.policy
    edits = list(cand.edits)
    tries = 0
    keys = sorted(original.context_keys() | policy.context_keys())
    pinnable = any(e.pin_request is not None or e.carved for e in edits)
    limit = (len(keys) + 1) * (1 + sum(1 for e in edits if e.pin_request is not None)
                               + sum(len(e.carved) for e in edits)) + 2
    while True:
        checkpoint("proving a candidate")
        tries += 1
        x_concrete = screen.counterexample(policy) if screen is not None else None
        if x_concrete is not None:
            proof = BoundProof(False, counterexample=x_concrete)
        else:
            proof = prove_bound(original, policy, spec, timeout_ms)
        if proof.proven or proof.unknown or not pinnable or tries > max(limit, 40):
            return proof, Candidate(policy, tuple(edits)), tries
        x = proof.counterexample
        assert x is not None
        keys = sorted(original.context_keys() | policy.context_keys())   # pins add keys as they go
        step = _pin_allow(policy, spec, edits, x, keys) or _pin_carve(policy, spec, edits, x, keys)
        if step is None:
            return proof, Candidate(policy, tuple(edits)), tries
        policy, edits = step


def _pin_allow(policy: Policy, spec: Spec, edits: list[Edit], x: Request, keys: list[str]):
    by_sid = {e.text.split(":")[0].split()[-1]: e for e in edits if e.pin_request is not None}
    for idx, st in enumerate(policy.statements):
        e = by_sid.get(st.sid or "")
        if e is None or not statement_applies(st, x, policy):
            continue
        r = e.pin_request
        assert r is not None
        differing = [k for k in keys if not _same_value(x.get(k), r.get(k))]
        if len(differing) > _BATCH_PINS:
            step = _pin_all(policy, spec, edits, e, idx, st, r, x, differing)
            if step is not None:
                return step
        for k in differing:
            new_st = st
            added = []
            for c in pin_conditions(policy, spec, k, r):
                if c not in new_st.conditions:
                    new_st, added = put_condition(new_st, c), added + [c]
            if not added or statement_applies(new_st, x, policy) or not statement_applies(new_st, r, policy):
                continue
            sts = list(policy.statements)
            sts[idx] = new_st
            when = " and ".join(c.describe() for c in added)
            glue = " and " if " when " in e.text else " when "
            new_edit = Edit(e.kind, e.text + glue + when, e.statement, e.cost, e.pin_request)
            return policy.with_statements(sts), [new_edit if y is e else y for y in edits]
    return None


# Above this many context keys on which a counterexample differs from the request an added Allow serves,
# pin them all in one step: one key per proof took hundreds of proofs on policies with hundreds of keys.
_BATCH_PINS = 4


def _pin_all(policy: Policy, spec: Spec, edits: list[Edit], e: Edit, idx: int, st, r: Request, x: Request,
             keys: list[str]):
    new_st = st
    added = 0
    for k in keys:
        for c in pin_conditions(policy, spec, k, r):
            if c not in new_st.conditions:
                new_st, added = put_condition(new_st, c), added + 1
    if not added or statement_applies(new_st, x, policy) or not statement_applies(new_st, r, policy):
        return None
    sts = list(policy.statements)
    sts[idx] = new_st
    glue = " and " if " when " in e.text else " when "
    names = ", ".join(keys[:3]) + (f" and {len(keys) - 3} more" if len(keys) > 3 else "")
    new_edit = Edit(e.kind, e.text + glue + f"the context keys {names} have the request's values", e.statement,
                    e.cost, e.pin_request)
    return policy.with_statements(sts), [new_edit if y is e else y for y in edits]


def _same_value(a, b) -> bool:
    if isinstance(a, tuple) or isinstance(b, tuple):
        sa = set(a) if isinstance(a, tuple) else {a} if a is not None else None
        sb = set(b) if isinstance(b, tuple) else {b} if b is not None else None
        return sa == sb
    return a == b


def _pin_carve(policy: Policy, spec: Spec, edits: list[Edit], x: Request, keys: list[str]):
    for e in edits:
        if not e.carved or e.deny is None:
            continue
        for r in e.carved:
            if r.action.lower() != x.action.lower() or r.resource != x.resource:
                continue
            if policy.uses_principal() and x.principal != r.principal:
                here = sorted({q.principal for q in e.carved if q.principal and q.action.lower() == r.action.lower()
                               and q.resource == r.resource})
                if here:
                    d = e.deny
                    again = d.with_(actions=(canonical_action(r.action, spec),), not_action=False,
                                    action_list=False, resources=(resource_text(r.resource),), not_resource=False,
                                    resource_list=False, sid=new_sid(policy, "Deny"), not_principal=True,
                                    principal=Principal(tuple(("AWS", q) for q in here), shapes=(("AWS", len(here) > 1),)))
                    if statement_applies(again, x, policy) and not statement_applies(again, r, policy):
                        new_edit = Edit(e.kind, e.text + f", still denying it to principals other than {', '.join(here)}",
                                        e.statement, e.cost + 1, carved=e.carved, deny=e.deny)
                        return with_added(policy, again), [new_edit if y is e else y for y in edits]
            group = [q for q in e.carved if q.action.lower() == x.action.lower() and q.resource == x.resource]
            conds = separate_from(policy, spec, x, group)
            if conds is None:
                continue
            d = e.deny
            again = d.with_(actions=(canonical_action(r.action, spec),), not_action=False, action_list=False,
                            resources=(resource_text(r.resource),), not_resource=False, resource_list=False,
                            conditions=tuple(conds), sid=new_sid(policy, "Deny"))
            if not statement_applies(again, x, policy):
                continue
            when = " and ".join(c.describe() for c in conds)
            new_edit = Edit(e.kind, e.text + f", still denying it when {when}", e.statement, e.cost + 1,
                            carved=e.carved, deny=e.deny)
            return with_added(policy, again), [new_edit if y is e else y for y in edits]
    return None


def _merge_added(original: Policy, cand: Candidate, proof: BoundProof, spec: Spec, screen: Screen,
                 timeout_ms: int, max_tries: int = 12) -> tuple[Candidate, BoundProof]:
    """Merge the exact statements a repair added (same effect, conditions and principal: one Action list
    when the resources agree, one Resource list when the actions agree), each merge re-proven."""
    policy, edits = cand.policy, list(cand.edits)
    tries = 0
    merged_any = True
    while merged_any and tries < max_tries:
        checkpoint("merging added statements")
        merged_any = False
        sts = list(policy.statements)
        added = [i for i, s in enumerate(sts) if (s.sid or "").startswith("Kubesage")]
        for a_i in added:
            for b_i in added:
                if b_i <= a_i:
                    continue
                a, b = sts[a_i], sts[b_i]
                if (a.effect, a.conditions, a.principal, a.not_action, a.not_resource) != (
                        b.effect, b.conditions, b.principal, b.not_action, b.not_resource):
                    continue
                if a.resources == b.resources:
                    acts = tuple(sorted(set(a.actions) | set(b.actions)))
                    m = a.with_(actions=acts, action_list=len(acts) > 1)
                elif a.actions == b.actions and a.resources is not None and b.resources is not None:
                    res = tuple(sorted(set(a.resources) | set(b.resources)))
                    m = a.with_(resources=res, resource_list=len(res) > 1)
                else:
                    continue
                tries += 1
                new = policy.with_statements(sts[:a_i] + [m] + sts[a_i + 1:b_i] + sts[b_i + 1:])
                if _failing(new, spec) or screen.counterexample(new) is not None:
                    continue
                p2 = prove_bound(original, new, spec, timeout_ms)
                if not p2.proven:
                    continue
                gone = {a.sid, b.sid}
                keep = [e for e in edits if not any(f" {sid}:" in e.text for sid in gone if sid)]
                merged_edit = Edit("add-statement", f"add statement {m.sid}: {m.effect} "
                                   f"{', '.join(m.actions)} on {', '.join(m.resources or ['*'])}"
                                   + ((" when " + " and ".join(c.describe() for c in m.conditions)) if m.conditions else ""),
                                   None, 2)
                policy, edits, proof, merged_any = new, keep + [merged_edit], p2, True
                break
            if merged_any:
                break
    return Candidate(policy, tuple(edits)), proof


def _exact_patches(policy: Policy, spec: Spec, principal: bool, variants: int = 4) -> list[Candidate]:
    """Deny exactly the wrongly allowed requests, split the Denies that block expect-allow requests, and
    Allow exactly the expect-allow requests still denied; one patch per way of splitting the Denies."""
    out = []
    for v in range(variants):
        patch = _exact_patch(policy, spec, principal, v)
        if patch is not None and patch not in out:
            out.append(patch)
    return out


def _exact_patch(policy: Policy, spec: Spec, principal: bool, variant: int = 0) -> Candidate | None:
    edits: list[Edit] = []
    loc = localize(policy, spec)
    for f in loc.failures:
        if f.kind != "over":
            continue
        r = f.case.request
        if decide(policy, r).allowed is False:
            continue
        deny = exact_for(policy, spec, r, principal, "Deny")
        when = (" when " + " and ".join(c.describe() for c in deny.conditions)) if deny.conditions else ""
        policy = with_added(policy, deny)
        edits.append(Edit("add-statement", f"add statement {deny.sid}: Deny {r.action} on {r.resource}{when}", None, 2))
    loc = localize(policy, spec)
    blocked: dict[int, list[Request]] = {}
    for f in loc.failures:
        if f.kind == "denied":
            for i in f.evaluation.applying("Deny"):
                blocked.setdefault(i, []).append(f.case.request)
    used_variant = False
    for i in sorted(blocked, reverse=True):
        options = list(carve_out(policy, spec, i, blocked[i]))
        if not options:
            continue
        k = min(variant, len(options) - 1)
        used_variant = used_variant or k == variant
        sts, text = options[k]
        deny = policy.statements[i]
        policy = policy.with_statements(list(policy.statements[:i]) + sts + list(policy.statements[i + 1:]))
        edits.append(Edit("carve-out", text, i, len(sts), carved=tuple(blocked[i]), deny=deny))
    if variant and not used_variant:
        return None
    loc = localize(policy, spec)
    missing = [f.case.request for f in loc.failures if f.kind == "missing"]
    policy, added = add_exact_allows(policy, spec, missing, principal)
    return Candidate(policy, tuple(edits + added))


def repair(policy: Policy, spec: Spec, *, max_depth: int = 3, beam: int = 6, time_budget: float = 30.0,
           max_proofs: int = 60, timeout_ms: int = 20_000, memory_mb: int | None = None,
           extra_candidates: list[Policy] | None = None, best_effort: bool = True) -> RepairResult:
    """Repair `policy` against `spec`; see the module docstring. `time_budget` (seconds) and `memory_mb`
    bound the whole run (check, localization, search, proofs): when either runs out the result says so
    (status "out-of-budget") and what was and was not proven; nothing unproven is ever reported repaired."""
    t0 = time.perf_counter()
    result = RepairResult("failed", policy)
    try:
        with budget(time_budget, memory_mb):
            _repair(policy, spec, result, max_depth=max_depth, beam=beam, search_until=0.6 * time_budget,
                    max_proofs=max_proofs, timeout_ms=timeout_ms, extra_candidates=extra_candidates,
                    best_effort=best_effort, t0=t0)
    except UnsupportedError as e:
        base = check(policy, spec, use_z3=False)
        result = RepairResult("failed", policy, violations=base.violations,
                              message=f"no repair can be proven: {e.message}")
    except BudgetExceeded as e:
        result.status, result.policy = "out-of-budget", result.best_effort
        known = (f"the policy violates {len(result.violations)} spec request(s)" if result.checked
                 else "the spec check did not finish")
        extra = (f"; the best-effort candidate found so far is NOT proven: {result.extra.summary()}"
                 if result.extra is not None and result.best_effort is not None else "")
        result.message = (f"the {e.reason} budget ({_budget_text(time_budget, memory_mb, e.reason)}) ran out "
                          f"during {e.stage}: {known}; no repair was proven{extra}")
    result.seconds = time.perf_counter() - t0
    return result


def _budget_text(seconds: float, memory_mb: int | None, reason: str) -> str:
    if reason == "memory":
        return f"{memory_mb} MiB"
    return f"{seconds:g} s"


def _repair(policy: Policy, spec: Spec, result: RepairResult, *, max_depth: int, beam: int, search_until: float,
            max_proofs: int, timeout_ms: int, extra_candidates: list[Policy] | None, best_effort: bool,
            t0: float) -> None:
    base = check(policy, spec, use_z3=False)
    result.violations, result.checked = base.violations, True
    if base.holds:
        result.status, result.policy, result.message = "holds", policy, "the policy already meets the spec"
        return
    principal = policy.uses_principal()
    seen = {dumps_policy(policy)}
    # candidates are screened concretely before Z3 (see policies.screen): cheaper than a proof that fails
    screen = Screen(policy, spec)
    unproven: list[tuple[Candidate, BoundProof]] = []   # meet the spec, bound not proven: best-effort pool

    def attempt(cands: list[Candidate], last: bool = False) -> bool:
        for cand in cands:
            if not last and (result.proofs >= max_proofs or time.perf_counter() - t0 > search_until):
                return False
            proof, final, tries = _pin(policy, cand, spec, timeout_ms, screen)
            result.proofs += tries
            if proof.proven and _failing(final.policy, spec) == 0:
                final, proof = _merge_added(policy, final, proof, spec, screen, timeout_ms)
                result.status, result.policy, result.edits, result.proof = "repaired", final.policy, list(final.edits), proof
                return True
            if _failing(final.policy, spec) == 0 and not proof.unknown:
                unproven.append((final, proof))
        return False

    if extra_candidates:
        extra = [Candidate(p, (Edit("proposed", "candidate proposed by the model", None, 1),))
                 for p in extra_candidates]
        result.candidates += len(extra)
        if attempt([c for c in extra if _failing(c.policy, spec) == 0]):
            return

    frontier = [(len(base.violations), Candidate(policy, ()))]
    for _depth in range(max_depth):
        level: list[tuple[int, int, int, Candidate]] = []
        for parent_fail, state in frontier:
            loc = localize(state.policy, spec)
            for _n, cand in enumerate(generate(state.policy, spec, loc, principal)):
                key = dumps_policy(cand.policy)
                if key in seen:
                    continue
                seen.add(key)
                full = Candidate(cand.policy, state.edits + cand.edits)
                nfail = _failing(full.policy, spec)
                result.candidates += 1
                if nfail < parent_fail:
                    level.append((nfail, full.cost, len(level), full))
                if time.perf_counter() - t0 > search_until:
                    break
            if time.perf_counter() - t0 > search_until:
                break
        level.sort(key=lambda x: (x[0], x[1], x[2]))
        passing = [c for nfail, _, _, c in level if nfail == 0]
        if attempt(passing):
            return
        frontier = [(nfail, c) for nfail, _, _, c in level if nfail > 0][:beam]
        if not frontier or time.perf_counter() - t0 > search_until:
            break
    # last resort: the exact patch
    for patch in _exact_patches(policy, spec, principal):
        result.candidates += 1
        if _failing(patch.policy, spec) == 0 and attempt([patch], last=True):
            return
    contradictory = _contradictory(spec, policy)
    result.message = ("no repair found: " + ("the spec contradicts itself (two requests that the policies "
                      "cannot tell apart expect different decisions)" if contradictory
                      else "no candidate both met the spec and was proven no more permissive"))
    if best_effort and unproven and not contradictory:
        _choose_best_effort(policy, spec, unproven, result, timeout_ms)


def _choose_best_effort(policy: Policy, spec: Spec, unproven: list[tuple[Candidate, BoundProof]],
                        result: RepairResult, timeout_ms: int, tries: int = 4) -> None:
    """Among candidates that meet the spec but exceed the bound, the one whose extra (proven by Z3 and
    listed as request classes) is smallest; ties go to the fewest, cheapest edits (widening a list before
    adding statements)."""
    pool = sorted(unproven, key=lambda cp: (cp[0].cost, len(cp[0].policy.statements)))
    best: tuple[tuple, Candidate, Extra] | None = None
    seen: set[str] = set()
    for cand, _proof in pool:
        key = dumps_policy(cand.policy)
        if key in seen:
            continue
        seen.add(key)
        if len(seen) > tries:
            break
        extra = extra_allowed(policy, cand.policy, spec, timeout_ms=timeout_ms)
        rank = (not extra.complete, len(extra.classes), cand.cost)
        if best is None or rank < best[0]:
            best = (rank, cand, extra)
            result.best_effort, result.best_effort_edits, result.extra = cand.policy, list(cand.edits), extra
    if best is not None:
        _, cand, extra = best
        result.status, result.policy, result.edits = "best-effort", cand.policy, list(cand.edits)
        result.message += ("; best effort: a repair that meets the spec but is not within the original policy "
                           "and the spec: " + extra.summary())


def _contradictory(spec: Spec, policy: Policy) -> bool:
    keys = policy.context_keys() | spec.context_keys()
    seen: dict[tuple, bool] = {}
    for c in spec.cases:
        r = c.request
        who = r.principal if policy.uses_principal() else None
        sig = (r.action.lower(), r.resource, who, tuple((k, r.get(k)) for k in sorted(keys)))
        if sig in seen and seen[sig] != c.expect_allow:
            return True
        seen[sig] = c.expect_allow
    return False
