"""Synthesis: the least-permissive policy that decides every spec request as expected.

Why it reuses repair: synthesizing from a spec is repairing the empty policy (which allows nothing) under the
same proof obligation — allow(result) ⊆ allow(empty) ∪ spec-allowed = spec-allowed. The exact patch gives
one pinned Allow per expect-allow request; statements are then merged (same conditions and principal:
union of actions when the resources agree, or of resources when the actions agree) as long as the proof
still holds, so the result reads like a policy a person would write.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from policies.evaluator import decide
from policies.model import Policy, Spec, Statement
from policies.parser import policy_to_json
from policies.repair import _exact_patch, _pin
from policies.verify import BoundProof, prove_bound


@dataclass
class SynthesisResult:
    ok: bool
    policy: Policy | None
    proof: BoundProof | None
    seconds: float = 0.0
    message: str = ""
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "policy": policy_to_json(self.policy) if self.policy else None,
                "proof": self.proof.summary() if self.proof else None, "seconds": round(self.seconds, 3),
                "message": self.message}


def _meets(policy: Policy, spec: Spec) -> bool:
    return all(decide(policy, c.request).allowed == c.expect_allow for c in spec.cases)


def _merge_once(policy: Policy, spec: Spec, empty: Policy) -> Policy | None:
    sts = list(policy.statements)
    for i in range(len(sts)):
        for j in range(i + 1, len(sts)):
            a, b = sts[i], sts[j]
            if (a.effect, a.conditions, a.principal, a.not_action, a.not_resource) != (
                    b.effect, b.conditions, b.principal, b.not_action, b.not_resource):
                continue
            merged: Statement | None = None
            if a.resources == b.resources:
                acts = tuple(sorted(set(a.actions) | set(b.actions)))
                merged = a.with_(actions=acts, action_list=len(acts) > 1)
            elif a.actions == b.actions and a.resources is not None and b.resources is not None:
                res = tuple(sorted(set(a.resources) | set(b.resources)))
                merged = a.with_(resources=res, resource_list=len(res) > 1)
            if merged is None:
                continue
            cand = policy.with_statements(sts[:i] + [merged] + sts[i + 1:j] + sts[j + 1:])
            if _meets(cand, spec) and prove_bound(empty, cand, spec).proven:
                return cand
    return None


def synthesize(spec: Spec, *, merge: bool = True) -> SynthesisResult:
    """The least-permissive policy meeting `spec`, proven to allow nothing beyond its expect-allow requests."""
    t0 = time.perf_counter()
    empty = Policy((), "2012-10-17")
    if not spec.allowed:
        return SynthesisResult(False, None, None, time.perf_counter() - t0,
                               "the spec allows nothing: every policy without an Allow meets it")
    principal = spec.uses_principal()
    patch = _exact_patch(empty, spec, principal)
    assert patch is not None
    proof, cand, _ = _pin(empty, patch, spec, 20_000)
    if not (proof.proven and _meets(cand.policy, spec)):
        return SynthesisResult(False, None, proof, time.perf_counter() - t0,
                               "no policy can meet this spec: two requests the policy language cannot tell apart "
                               "expect different decisions")
    policy = cand.policy
    while merge:
        merged = _merge_once(policy, spec, empty)
        if merged is None:
            break
        policy = merged
    # stable Sids for the result
    sts = [s.with_(sid=f"Allow{i + 1}" if s.allow else f"Deny{i + 1}") for i, s in enumerate(policy.statements)]
    policy = policy.with_statements(sts)
    final = prove_bound(empty, policy, spec)
    return SynthesisResult(final.proven and _meets(policy, spec), policy, final, time.perf_counter() - t0,
                           "" if final.proven else "the merged policy could not be proven; this is a bug")

