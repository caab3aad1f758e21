"""The IAM agent: pasted policies with requirements in JSON or words are repaired with a Z3 proof; the result is
checked here with the policies room's own evaluator, not by reading the agent's text."""

from __future__ import annotations

import json
from types import SimpleNamespace

from agents.iam import run, spec_from_sentence
from policies import is_allowed, parse_policy, parse_request

WIDE = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}


def _allowed(policy: dict, action: str, resource: str) -> bool:
    return is_allowed(parse_policy(policy), parse_request({"action": action, "resource": resource}))


def test_sentence_repair_keeps_the_bucket_readable_and_nothing_else():
    res = run(SimpleNamespace(text=f"fix this IAM policy so alice can only read the reports bucket: {json.dumps(WIDE)}"))
    fixed = res.data["repaired_policy"]
    assert _allowed(fixed, "s3:GetObject", "arn:aws:s3:::reports/2026/q1.csv")
    assert _allowed(fixed, "s3:ListBucket", "arn:aws:s3:::reports")
    assert not _allowed(fixed, "s3:PutObject", "arn:aws:s3:::reports/2026/q1.csv")
    assert not _allowed(fixed, "s3:GetObject", "arn:aws:s3:::payroll/salaries.csv")
    assert "proven" in res.answer


def test_listed_requirements_in_words_become_a_spec():
    text = ("Fix this IAM policy so that these requests are allowed: s3:GetObject on arn:aws:s3:::a/x as "
            "arn:aws:iam::1:user/u (context: aws:SecureTransport=true); s3:ListBucket on arn:aws:s3:::a. And these "
            "must be denied: s3:DeleteObject on arn:aws:s3:::a/x.")
    spec = spec_from_sentence(text)
    assert spec == {"requests": [
        {"action": "s3:GetObject", "resource": "arn:aws:s3:::a/x", "principal": "arn:aws:iam::1:user/u",
         "context": {"aws:SecureTransport": "true"}, "expect": "allow"},
        {"action": "s3:ListBucket", "resource": "arn:aws:s3:::a", "expect": "allow"},
        {"action": "s3:DeleteObject", "resource": "arn:aws:s3:::a/x", "expect": "deny"}]}


def test_policy_that_already_holds_and_bad_input():
    ok = run(SimpleNamespace(text="fix this policy so bob can read the logs bucket " + json.dumps(WIDE)))
    assert "nothing to repair" in ok.answer
    bad = run(SimpleNamespace(text='repair {"Statement": [{"Effect": "Perhaps", "Action": "s3:*", "Resource": "*"}]} '
                                   "so bob can read the logs bucket"))
    assert "not valid" in bad.answer and "repaired_policy" not in bad.data
    none = run(SimpleNamespace(text="fix the iam policy for the reports bucket"))
    assert "Paste the IAM policy" in none.answer


def test_a_listed_context_key_with_several_values_is_a_list() -> None:
    from agents.iam import _listed

    (req,) = _listed("ec2:CreateTags on arn:aws:ec2:us-east-1:111122223333:instance/i-1 (context: "
                     "aws:RequestTag/env=dev, aws:TagKeys=['env', 'owner'])", "allow")
    assert req["context"] == {"aws:RequestTag/env": "dev", "aws:TagKeys": ["env", "owner"]}
