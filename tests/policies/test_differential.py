"""Differential testing: the evaluator, the Z3 encoding and the independent simulator
`@cloud-copilot/iam-simulate` decide generated cases alike.

A sample of generated cases runs here (`make bench` runs 10,000+). Every case must satisfy:
- evaluator (AWS documentation) == Z3 encoding, always;
- evaluator with the documented ambiguities decided the simulator's way == simulator, always (so every
  disagreement between kubesage and the simulator is one of `policies.AMBIGUITIES`, nothing else).
"""

from __future__ import annotations

import collections

from evals.iam_bench.differential import generate_cases
from evals.iam_bench.simulator import simulate
from policies import AMBIGUITIES, decide, parse_policy, parse_request
from policies.verify import z3_decisions

SIM = {"Allowed": "allow", "ExplicitlyDenied": "explicit-deny", "ImplicitlyDenied": "implicit-deny"}
SAMPLE = 300


def test_generated_cases_cover_every_feature():
    features = collections.Counter(f for c in generate_cases(7, SAMPLE) for f in c["features"])
    for needed in ["Allow", "Deny", "NotAction", "NotResource", "Principal", "IfExists", "ForAllValues",
                   "ForAnyValue", "variable", "StringEquals", "StringNotEquals", "StringEqualsIgnoreCase",
                   "StringNotEqualsIgnoreCase", "StringLike", "StringNotLike", "NumericLessThan",
                   "NumericGreaterThanEquals", "NumericNotEquals", "DateLessThan", "DateGreaterThan", "DateEquals",
                   "Bool", "BinaryEquals", "IpAddress", "NotIpAddress", "ArnLike", "ArnEquals", "ArnNotLike",
                   "ArnNotEquals", "Null"]:
        assert features[needed] > 0, needed


def test_evaluator_z3_and_simulator_agree(simulator_prefix):
    cases = generate_cases(7, SAMPLE)
    decisions = simulate(cases, simulator_prefix)
    compat = frozenset(AMBIGUITIES)
    explained = collections.Counter()
    for case, theirs in zip(cases, decisions, strict=False):
        policy, request = parse_policy(case["policy"]), parse_request(case["request"])
        ours = decide(policy, request)
        assert z3_decisions(policy, [request]) == [ours.allowed], case
        assert not isinstance(theirs, dict), (case, theirs)        # the simulator accepted the case
        assert decide(policy, request, compat).value == SIM[theirs], case
        if ours.value != SIM[theirs]:
            explained.update(k for k in AMBIGUITIES if decide(policy, request, frozenset([k])) != ours)
    assert set(explained) <= set(AMBIGUITIES)
