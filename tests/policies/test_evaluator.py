"""The concrete evaluator against the table of documented semantics (`cases.py`)."""

from __future__ import annotations

import pytest

from policies import AMBIGUITIES, decide, evaluate, parse_policy, parse_request
from policies.values import format_date, parse_cidr, parse_date, parse_ip, parse_number
from tests.policies.cases import CASES, allow, cond, pol, req


@pytest.mark.parametrize("name,policy,request_,expected", CASES, ids=[c[0] for c in CASES])
def test_semantics(name, policy, request_, expected):
    assert decide(parse_policy(policy), parse_request(request_)).value == expected


def test_traces_name_the_failing_parts():
    p = parse_policy(pol(allow("s3:GetObject", "arn:aws:s3:::b/*", **cond("Bool", "aws:SecureTransport", "true"))))
    ev = evaluate(p, parse_request(req("s3:PutObject", context={"aws:SecureTransport": "false"})))
    t = ev.traces[0]
    assert (t.action, t.resource, t.conditions, t.misses) == (False, True, [False], 2)


def test_ambiguities_can_be_decided_the_simulators_way():
    p = parse_policy(pol(allow(**cond("ForAnyValue:StringLikeIfExists", "aws:TagKeys", ["prod*"]))))
    r = parse_request(req())
    assert decide(p, r).allowed and not decide(p, r, frozenset({"A1"})).allowed
    assert set(AMBIGUITIES) == {"A1", "A2", "A3", "A4"}


def test_value_readers():
    assert parse_number("1.50") == parse_number("1.5") and parse_number("1e3") is None
    assert parse_date("2024-01-01T00:00:00Z") == 1704067200000 == parse_date("1704067200")
    assert parse_date("2024-02-30") is None and parse_date("yesterday") is None
    assert format_date(parse_date("2024-06-15T12:30:00.250Z")) == "2024-06-15T12:30:00.250Z"
    assert parse_ip("10.0.0.1") == (4, 167772161) and parse_ip("10.0.0.0/8") is None
    assert parse_cidr("10.1.2.3/8") == (4, 167772160, 8) and parse_cidr("2001:db8::1")[2] == 128
