"""Repair: fixes faulty policies with few edits, and never allows more than (original ∪ spec-allowed)."""

from __future__ import annotations

import random

import pytest

from evals.iam_bench.generate import generate
from policies import check, decide, parse_policy, parse_spec, prove_bound
from policies.localize import localize
from policies.repair import repair
from tests.policies.cases import allow, cond, deny, pol

ACCT = "111122223333"


def spec(*rows):
    return parse_spec({"requests": [dict(r) for r in rows]})


def r(action, resource, expect, **context):
    out = {"action": action, "resource": resource, "expect": expect}
    if context:
        out["context"] = {k.replace("__", ":").replace("_", "/"): v for k, v in context.items()}
    return out


def test_already_correct_policy_is_left_alone():
    p = parse_policy(pol(allow("s3:GetObject", "arn:aws:s3:::b/*")))
    res = repair(p, spec(r("s3:GetObject", "arn:aws:s3:::b/k", "allow")))
    assert res.status == "holds" and res.policy == p


def test_overbroad_action_is_narrowed():
    p = parse_policy(pol(allow("s3:*", "arn:aws:s3:::reports/*")))
    s = spec(r("s3:GetObject", "arn:aws:s3:::reports/q1.csv", "allow"),
             r("s3:GetObjectVersion", "arn:aws:s3:::reports/q1.csv", "allow"),
             r("s3:DeleteObject", "arn:aws:s3:::reports/q1.csv", "deny"))
    res = repair(p, s)
    assert res.status == "repaired" and res.proof and res.proof.proven
    assert len(res.edits) == 1 and "narrow s3:* to s3:GetObject*" in res.edits[0].text
    assert check(res.policy, s).holds


def test_overbroad_resource_is_narrowed_to_the_common_prefix():
    p = parse_policy(pol(allow("s3:GetObject", "arn:aws:s3:::acme/*")))
    s = spec(r("s3:GetObject", "arn:aws:s3:::acme/reports/a.csv", "allow"),
             r("s3:GetObject", "arn:aws:s3:::acme/reports/b.csv", "allow"),
             r("s3:GetObject", "arn:aws:s3:::acme/private/salaries.csv", "deny"))
    res = repair(p, s)
    assert res.status == "repaired"
    assert res.policy.statements[0].resources == ("arn:aws:s3:::acme/reports/*",)


def test_missing_condition_is_restored_from_the_spec():
    p = parse_policy(pol(allow("s3:PutObject", "arn:aws:s3:::drop/*")))
    s = spec(r("s3:PutObject", "arn:aws:s3:::drop/a", "allow", aws__SourceIp="10.1.2.3"),
             r("s3:PutObject", "arn:aws:s3:::drop/a", "deny", aws__SourceIp="8.8.8.8"))
    res = repair(p, s)
    assert res.status == "repaired" and check(res.policy, s).holds
    assert any(c.key == "aws:SourceIp" for c in res.policy.statements[0].conditions)


def test_widening_opens_exactly_the_spec_request():
    # the typo "bucket" instead of "bucket/*": the repair may not open the whole bucket, only what the spec asks
    p = parse_policy(pol(allow(["s3:GetObject", "s3:PutObject"], "arn:aws:s3:::bucket")))
    s = spec(r("s3:GetObject", "arn:aws:s3:::bucket/a.txt", "allow"),
             r("s3:PutObject", "arn:aws:s3:::bucket", "allow"))
    res = repair(p, s)
    assert res.status == "repaired" and check(res.policy, s).holds
    assert not decide(res.policy, parse_spec({"requests": [r("s3:PutObject", "arn:aws:s3:::bucket/a.txt", "deny")]}).cases[0].request).allowed
    assert not decide(res.policy, parse_spec({"requests": [r("s3:GetObject", "arn:aws:s3:::bucket/b.txt", "deny")]}).cases[0].request).allowed


def test_a_deny_that_blocks_too_much_is_split():
    p = parse_policy(pol(allow("s3:*", "arn:aws:s3:::scratch/*"), deny("s3:Delete*", "*")))
    s = spec(r("s3:DeleteObject", "arn:aws:s3:::scratch/tmp", "allow"),
             r("s3:DeleteObject", "arn:aws:s3:::scratch/keep", "deny"),
             r("s3:PutObject", "arn:aws:s3:::scratch/tmp", "allow"))
    res = repair(p, s)
    assert res.status == "repaired" and check(res.policy, s).holds and res.proof.proven


def test_contradictory_spec_is_reported():
    p = parse_policy(pol(allow("s3:GetObject", "*")))
    s = spec(r("s3:GetObject", "arn:aws:s3:::b/k", "allow"), r("s3:GetObject", "arn:aws:s3:::b/k", "deny"))
    res = repair(p, s)
    assert res.status == "failed" and "contradicts" in res.message


def test_localization_blames_the_faulty_statement():
    p = parse_policy(pol(allow("s3:GetObject", "arn:aws:s3:::b/*"), allow("s3:*", "*"),
                         deny("iam:*", "*", **cond("Bool", "aws:MultiFactorAuthPresent", "false"))))
    s = spec(r("s3:GetObject", "arn:aws:s3:::b/k", "allow"), r("s3:DeleteBucket", "arn:aws:s3:::b", "deny"))
    loc = localize(p, s)
    assert loc.order()[0] == 1 and "allows request 1" in loc.suspects[0].reasons[0]


@pytest.fixture(scope="module")
def bench_items():
    items = generate(8)
    return random.Random(1).sample(items, 12)


def test_benchmark_sample_is_repaired_and_never_over_permissive(bench_items):
    for item in bench_items:
        policy, s = parse_policy(item["policy"]), parse_spec(item["spec"])
        res = repair(policy, s, time_budget=10)
        assert res.status == "repaired", item["id"]
        assert check(res.policy, s).holds
        assert prove_bound(policy, res.policy, s).proven


def test_screen_finds_concrete_counterexamples():
    from policies.screen import Screen
    from policies.verify import in_spec_class

    p = parse_policy(pol(allow("s3:GetObject", "arn:aws:s3:::b/*")))
    s = spec(r("s3:PutObject", "arn:aws:s3:::b/k", "allow"), r("s3:GetObject", "arn:aws:s3:::b/k", "allow"))
    too_wide = parse_policy(pol(allow("s3:*", "arn:aws:s3:::b/*")))
    x = Screen(p, s).counterexample(too_wide)
    assert x is not None and decide(too_wide, x).allowed and not decide(p, x).allowed
    assert not in_spec_class(x, s, [p, too_wide])
    exact = parse_policy(pol(allow("s3:GetObject", "arn:aws:s3:::b/*"), allow("s3:PutObject", "arn:aws:s3:::b/k")))
    assert Screen(p, s).counterexample(exact) is None and prove_bound(p, exact, s).proven


def test_model_proposals_go_through_the_same_proof():
    p = parse_policy(pol(allow("s3:*", "arn:aws:s3:::reports/*")))
    s = spec(r("s3:GetObject", "arn:aws:s3:::reports/q1.csv", "allow"),
             r("s3:DeleteObject", "arn:aws:s3:::reports/q1.csv", "deny"))
    wrong = parse_policy(pol(allow("s3:Get*", "*")))               # meets the spec, but opens every bucket
    right = parse_policy(pol(allow("s3:GetObject", "arn:aws:s3:::reports/*")))
    res = repair(p, s, extra_candidates=[wrong, right])
    assert res.status == "repaired" and res.policy == right and res.edits[0].kind == "proposed"
