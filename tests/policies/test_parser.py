"""Parsing: malformed documents give one line with a JSON path, never a traceback; printing keeps shapes."""

from __future__ import annotations

import json

import pytest

from policies import PolicyError, SpecError, dumps_policy, parse_policy, parse_spec


@pytest.mark.parametrize("doc,path,words", [
    ("{", "$", "not valid JSON"),
    ("[]", "$", "must be a JSON object"),
    ({"Statement": []}, "$.Statement", "empty"),
    ({"Version": "2020-01-01", "Statement": {}}, "$.Version", "2012-10-17"),
    ({"Statement": [{"Effect": "Allow", "Actions": "s3:*"}]}, "$.Statement[0].Actions", "did you mean 'Action'"),
    ({"Statement": [{"Effect": "allow", "Action": "s3:*", "Resource": "*"}]}, "$.Statement[0].Effect", "Allow"),
    ({"Statement": [{"Effect": "Allow", "Resource": "*"}]}, "$.Statement[0]", "Action"),
    ({"Statement": [{"Effect": "Allow", "Action": "s3:*", "NotAction": "x:y", "Resource": "*"}]}, "$.Statement[0]", "exactly one"),
    ({"Statement": [{"Effect": "Allow", "Action": "GetObject", "Resource": "*"}]}, "$.Statement[0].Action", "service:Action"),
    ({"Statement": [{"Effect": "Allow", "Action": ["s3:*", 3], "Resource": "*"}]}, "$.Statement[0].Action[1]", "string"),
    ({"Statement": [{"Effect": "Allow", "Action": "s3:*"}]}, "$.Statement[0]", "Resource"),
    ({"Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*",
                    "Condition": {"StringEqualz": {"aws:username": "a"}}}}, "$.Statement.Condition.StringEqualz", "StringEquals"),
    ({"Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*",
                    "Condition": {"NumericLessThan": {"s3:max-keys": "ten"}}}}, '$.Statement.Condition.NumericLessThan["s3:max-keys"]', "not a number"),
    ({"Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*",
                    "Condition": {"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "10.0.0.300"]}}}},
     '$.Statement.Condition.IpAddress["aws:SourceIp"][1]', "IP address"),
    ({"Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*",
                    "Condition": {"DateLessThan": {"aws:CurrentTime": "soon"}}}}, '$.Statement.Condition.DateLessThan["aws:CurrentTime"]', "date"),
    ({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*",
                    "Condition": {"NumericEquals": {"aws:MultiFactorAuthAge": "${aws:x}"}}}}, '$.Statement.Condition.NumericEquals["aws:MultiFactorAuthAge"]', "variables"),
    ({"Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"Null": {"aws:x": "maybe"}}}},
     '$.Statement.Condition.Null["aws:x"]', "true"),
    ({"Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Principal": {"Aws": "*"}}},
     "$.Statement.Principal.Aws", "did you mean 'AWS'"),
    ({"Statement": [{"Sid": "A", "Effect": "Allow", "Action": "s3:*", "Resource": "*"},
                    {"Sid": "A", "Effect": "Deny", "Action": "s3:*", "Resource": "*"}]}, "$.Statement", "duplicate Sid"),
])
def test_malformed_policies_name_the_place(doc, path, words):
    with pytest.raises(PolicyError) as err:
        parse_policy(doc if isinstance(doc, str) else json.dumps(doc))
    assert err.value.path == path and words in str(err.value)


def test_round_trip_keeps_shapes():
    doc = {"Version": "2012-10-17", "Id": "x", "Statement": {
        "Sid": "S", "Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::111122223333:root"]},
        "Action": "s3:GetObject", "Resource": ["arn:aws:s3:::b/*"],
        "Condition": {"StringEquals": {"aws:username": "a"}, "IpAddress": {"aws:SourceIp": ["10.0.0.0/8"]}}}}
    assert json.loads(dumps_policy(parse_policy(doc))) == doc


def test_json_scalars_become_strings():
    p = parse_policy({"Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*",
                                    "Condition": {"Bool": {"aws:SecureTransport": True}, "NumericLessThan": {"s3:max-keys": 10}}}})
    assert [c.values for c in p.statements[0].conditions] == [("true",), ("10",)]


@pytest.mark.parametrize("doc,path", [
    ({"request": []}, "$.request"),
    ({"requests": {}}, "$.requests"),
    ({"requests": [{"action": "s3:GetObject", "resource": "x"}]}, "$.requests[0]"),
    ({"requests": [{"action": "s3:GetObject", "resource": "x", "expect": "maybe"}]}, "$.requests[0].expect"),
    ({"requests": [{"action": "GetObject", "resource": "x", "expect": "allow"}]}, "$.requests[0].action"),
    ({"requests": [{"action": "s3:GetObject", "resource": "x", "expect": "allow", "context": {"a:b": {"x": 1}}}]},
     '$.requests[0].context["a:b"]'),
    ({"requests": [{"action": "s3:GetObject", "resource": "x", "expect": "allow",
                    "context": {"aws:x": "1", "AWS:X": "2"}}]}, '$.requests[0].context["AWS:X"]'),
])
def test_malformed_specs_name_the_place(doc, path):
    with pytest.raises(SpecError) as err:
        parse_spec(doc)
    assert err.value.path == path


def test_spec_context_values():
    spec = parse_spec({"requests": [{"action": "s3:GetObject", "resource": "x", "expect": "deny",
                                     "context": {"aws:TagKeys": ["a", "b"], "aws:SecureTransport": True}}]})
    r = spec.cases[0].request
    assert r.get("AWS:TAGKEYS") == ("a", "b") and r.get("aws:securetransport") == "true"
    assert r.to_json()["context"]["aws:TagKeys"] == ["a", "b"]
