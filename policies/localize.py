"""Fault localization: which statements (and which parts of them) are responsible for the spec requests
the policy decides wrongly.

Why spectrum-style scores: a statement implicated in many failing requests and serving few passing ones is
the likeliest fault; repair tries edits on the most suspicious statements first, which is what keeps the
search small. Each suspect also carries the reason in words, for the CLI and the agent.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from policies.budget import checkpoint
from policies.evaluator import Decision, Evaluation, evaluate
from policies.model import Policy, Spec, SpecCase


@dataclass
class Failure:
    """A spec request decided wrongly, classified by how."""

    case: SpecCase
    evaluation: Evaluation

    @property
    def kind(self) -> str:
        """`over` (allowed, expected deny), `denied` (explicit deny, expected allow) or `missing`
        (implicit deny, expected allow)."""
        if self.evaluation.allowed:
            return "over"
        return "denied" if self.evaluation.decision is Decision.EXPLICIT_DENY else "missing"


@dataclass
class Suspect:
    index: int
    score: float
    reasons: list[str] = field(default_factory=list)


@dataclass
class Localization:
    failures: list[Failure]
    passing: list[tuple[SpecCase, Evaluation]]
    suspects: list[Suspect]

    def order(self) -> list[int]:
        return [s.index for s in self.suspects]


def localize(policy: Policy, spec: Spec) -> Localization:
    """Evaluate every spec request with traces and rank the statements by suspiciousness."""
    failures: list[Failure] = []
    passing: list[tuple[SpecCase, Evaluation]] = []
    for case in spec.cases:
        checkpoint("localizing the faults")
        ev = evaluate(policy, case.request)
        if ev.allowed != case.expect_allow:
            failures.append(Failure(case, ev))
        else:
            passing.append((case, ev))
    blame = [0.0] * len(policy.statements)
    serve = [0] * len(policy.statements)
    reasons: list[list[str]] = [[] for _ in policy.statements]
    for f in failures:
        r = f.case.request
        if f.kind == "over":
            for i in f.evaluation.applying("Allow"):
                blame[i] += 1
                reasons[i].append(f"allows request {f.case.index} ({r.action} on {r.resource}), which the spec denies")
        elif f.kind == "denied":
            for i in f.evaluation.applying("Deny"):
                blame[i] += 1
                reasons[i].append(f"denies request {f.case.index} ({r.action} on {r.resource}), which the spec allows")
        else:
            near = sorted((t for t in f.evaluation.traces if t.effect == "Allow"), key=lambda t: t.misses)
            best = near[0].misses if near else None
            for t in near:
                if t.misses == best:
                    blame[t.index] += 0.5
                    parts = [n for n, ok in (("action", t.action), ("resource", t.resource),
                                             ("principal", t.principal)) if not ok]
                    parts += [f"condition {policy.statements[t.index].conditions[j].describe()}"
                              for j, ok in enumerate(t.conditions) if not ok]
                    reasons[t.index].append(f"nearly allows request {f.case.index} ({r.action} on {r.resource}); "
                                            f"fails on {', '.join(parts)}")
    for case, ev in passing:
        for i in ev.applying("Allow" if case.expect_allow else "Deny"):
            serve[i] += 1
    suspects = []
    total_fail = max(1, len(failures))
    for i, b in enumerate(blame):
        if b <= 0:
            continue
        # Ochiai: failing involvement over sqrt(total failing * (failing + passing involvement))
        score = b / ((total_fail * (b + serve[i])) ** 0.5)
        suspects.append(Suspect(i, round(score, 3), reasons[i]))
    suspects.sort(key=lambda s: (-s.score, s.index))
    return Localization(failures, passing, suspects)
