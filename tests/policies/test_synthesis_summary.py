"""Synthesis of least-permissive policies from a spec, and summaries derived from the model."""

from __future__ import annotations

from policies import check, parse_policy, parse_spec, prove_bound
from policies.summary import summarize
from policies.synthesize import synthesize
from tests.policies.cases import allow, cond, deny, pol

SPEC = {"requests": [
    {"action": "s3:GetObject", "resource": "arn:aws:s3:::reports/q1.csv", "expect": "allow"},
    {"action": "s3:GetObject", "resource": "arn:aws:s3:::reports/q2.csv", "expect": "allow"},
    {"action": "s3:ListBucket", "resource": "arn:aws:s3:::reports", "expect": "allow"},
    {"action": "s3:PutObject", "resource": "arn:aws:s3:::reports/q1.csv", "expect": "deny"},
    {"action": "s3:GetObject", "resource": "arn:aws:s3:::reports/q3.csv", "context": {"aws:SourceIp": "8.8.8.8"},
     "expect": "deny"},
    {"action": "s3:GetObject", "resource": "arn:aws:s3:::reports/q3.csv", "context": {"aws:SourceIp": "10.0.0.1"},
     "expect": "allow"},
]}


def test_synthesized_policy_meets_the_spec_and_allows_nothing_else():
    spec = parse_spec(SPEC)
    res = synthesize(spec)
    assert res.ok and check(res.policy, spec).holds
    empty = parse_policy(pol(deny("s3:*", "*")))
    assert prove_bound(empty, res.policy, spec).proven
    # merged: the two q1/q2 reads share one statement
    assert any(len(s.resources or ()) == 2 for s in res.policy.statements)
    ip = [c for s in res.policy.statements for c in s.conditions if c.key == "aws:SourceIp"]
    assert any(c.op.base == "IpAddress" for c in ip)


def test_nothing_to_synthesize():
    res = synthesize(parse_spec({"requests": [{"action": "s3:GetObject", "resource": "x", "expect": "deny"}]}))
    assert not res.ok and "allows nothing" in res.message


def test_summary_patterns_exceptions_and_findings():
    p = parse_policy(pol(allow("s3:*", "*"), allow("s3:Get*", "arn:aws:s3:::b/*"),
                         deny("s3:GetObject", "arn:aws:s3:::b/secret/*", Sid="NoSecrets"),
                         allow("ec2:StartInstances", "*", **cond("Bool", "aws:MultiFactorAuthPresent", "true")),
                         deny("ec2:*", "*")))
    s = summarize(p)
    text = s.text(p)
    assert "ALLOW s3:* ON *" in text and "EXCEPT where statement 2 (NoSecrets)" in text
    assert any("redundant" in f for f in s.findings)
    assert any("statement 3 allows nothing" in f for f in s.findings)
    assert s.to_json()["allows"][0]["except"] == [2]
    admin = parse_policy(pol(allow("*", "*")))
    assert any("every action on every resource" in f for f in summarize(admin).findings)
