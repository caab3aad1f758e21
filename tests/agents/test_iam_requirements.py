"""Requirements in plain words around a pasted IAM policy: read into a spec, repaired and proven by the IAM agent.

Each case checks the repaired policy with the policies room's own evaluator (not the agent's text), or that the
agent abstained (a clause it could not read, a resource it cannot place, two services in one clause)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from agents.iam import run
from agents.iam_requirements import read
from policies import is_allowed, parse_policy, parse_request

A = "arn:aws"


def P(*sts: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(sts)})


def S(effect: str, action: str | list[str], resource: str | list[str]) -> dict:
    return {"Effect": effect, "Action": action, "Resource": resource}


K1 = f"{A}:kms:us-east-1:444455556666:key/aaaa1111-2222-3333-4444-555566667777"
T = f"{A}:dynamodb:us-east-1:444455556666:table"
Q = f"{A}:sqs:eu-central-1:999988887777"
N = f"{A}:sns:eu-central-1:999988887777"
L = f"{A}:logs:us-west-2:123456789012:log-group"
SEC = f"{A}:secretsmanager:us-east-1:444455556666:secret"
CASES = [
 ("s3-only-read", "the reporting job should only read the 'metrics' bucket, no writes. policy:\n" + P(S("Allow", "s3:*", ["arn:aws:s3:::metrics", "arn:aws:s3:::metrics/*"])),
  [("s3:GetObject", "arn:aws:s3:::metrics/2026/a.csv", True), ("s3:ListBucket", "arn:aws:s3:::metrics", True), ("s3:PutObject", "arn:aws:s3:::metrics/a", False), ("s3:DeleteObject", "arn:aws:s3:::metrics/a", False)]),
 ("s3-typo-bucket", "uploads to the backups bucket must work again, I think the bucket name is wrong:\n" + P(S("Allow", "s3:PutObject", "arn:aws:s3:::bakups/*")),
  [("s3:PutObject", "arn:aws:s3:::backups/db/x.gz", True), ("s3:PutObject", "arn:aws:s3:::bakups/x", False)]),
 ("ddb-missing-action", "the worker needs to delete items in the DynamoDB table sessions too (DeleteItem), but must not delete the table.\n" + P(S("Allow", ["dynamodb:GetItem", "dynamodb:PutItem"], f"{T}/sessions")),
  [("dynamodb:DeleteItem", f"{T}/sessions", True), ("dynamodb:GetItem", f"{T}/sessions", True), ("dynamodb:DeleteTable", f"{T}/sessions", False), ("dynamodb:DeleteItem", f"{T}/other", False)]),
 ("kms-encrypt-full-action", "let it use kms:Encrypt on " + K1 + " and nothing more.\n" + P(S("Allow", "kms:Decrypt", K1)),
  [("kms:Encrypt", K1, True), ("kms:Decrypt", K1, True), ("kms:Encrypt", K1.replace("aaaa", "bbbb"), False)]),
 ("sqs-send", "the api must be able to send messages to the queue orders-events. policy:\n" + P(S("Allow", "sqs:ReceiveMessage", f"{Q}:billing")),
  [("sqs:SendMessage", f"{Q}:orders-events", True), ("sqs:ReceiveMessage", f"{Q}:billing", True), ("sqs:SendMessage", f"{Q}:billing", False)]),
 ("sqs-no-purge", "consumers must still receive messages from the queue jobs, but purges must stay blocked.\n" + P(S("Allow", "sqs:*", f"{Q}:jobs")),
  [("sqs:ReceiveMessage", f"{Q}:jobs", True), ("sqs:PurgeQueue", f"{Q}:jobs", False)]),
 ("sns-publish-deny-wide", "publishing to the topic alerts fails with AccessDenied. the Deny was meant to stop deletes only.\n" + P(S("Allow", "sns:Publish", f"{N}:alerts"), S("Deny", "sns:*", f"{N}:alerts")),
  [("sns:Publish", f"{N}:alerts", True), ("sns:DeleteTopic", f"{N}:alerts", False)]),
 ("secrets-fetch", "the app needs to read the secret db-pass. policy:\n" + P(S("Allow", "secretsmanager:DescribeSecret", f"{SEC}:db-pass-Xy12Ab")),
  [("secretsmanager:GetSecretValue", f"{SEC}:db-pass-Xy12Ab", True), ("secretsmanager:DescribeSecret", f"{SEC}:db-pass-Xy12Ab", True)]),
 ("logs-write", "the lambda must write logs to the log group /aws/lambda/api (CreateLogStream and PutLogEvents) and nothing more.\n" + P(S("Allow", "logs:CreateLogGroup", f"{L}:/aws/lambda/api")),
  [("logs:PutLogEvents", f"{L}:/aws/lambda/api:log-stream:2026/x", True), ("logs:CreateLogStream", f"{L}:/aws/lambda/api", True), ("logs:PutLogEvents", f"{L}:/aws/lambda/other:log-stream:x", False), ("logs:DeleteLogGroup", f"{L}:/aws/lambda/api", False)]),
 ("abstain-logs-nowhere", "the lambda must write logs to the log group /aws/lambda/api.\n" + P(S("Allow", "logs:CreateLogGroup", "*")), "ABSTAIN"),
 ("ec2-describe", "the monitoring role should be able to describe instances in ec2.\n" + P(S("Allow", "cloudwatch:GetMetricData", "*")),
  [("ec2:DescribeInstances", "*", True), ("cloudwatch:GetMetricData", "*", True), ("ec2:StopInstances", "*", False)]),
 ("abstain-weekend", "reads from the 'invoices' bucket must work again, except on weekends.\n" + P(S("Deny", "s3:*", "*")), "ABSTAIN"),
 ("abstain-unknown-verb", "it must be able to replicate the 'invoices' bucket to another region.\n" + P(S("Allow", "s3:GetObject", "arn:aws:s3:::invoices/*")), "ABSTAIN"),
 ("abstain-two-services", "the app needs to read the 'docs' bucket and the table docs.\n" + P(S("Allow", "s3:GetObject", "arn:aws:s3:::docs/*")), "ABSTAIN"),
 ("ddb-only-read", "the analytics user must only read items in the table events, no writes and no deletes.\n" + P(S("Allow", "dynamodb:*", f"{T}/events")),
  [("dynamodb:GetItem", f"{T}/events", True), ("dynamodb:Query", f"{T}/events", True), ("dynamodb:PutItem", f"{T}/events", False), ("dynamodb:DeleteItem", f"{T}/events", False), ("dynamodb:DeleteTable", f"{T}/events", False)]),
]


def _allowed(policy: dict, action: str, resource: str) -> bool:
    return is_allowed(parse_policy(policy), parse_request({"action": action, "resource": resource}))


@pytest.mark.parametrize(("text", "checks"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_plain_requirements_are_repaired_or_abstained(text: str, checks) -> None:
    res = run(SimpleNamespace(text=text, no_loop=True))
    fixed = res.data.get("repaired_policy")
    if checks == "ABSTAIN":
        assert fixed is None and "abstain" in res.data, res.answer
        return
    assert fixed is not None, res.answer
    for action, resource, allowed in checks:
        assert _allowed(fixed, action, resource) is allowed, (action, resource, res.answer)


def test_the_reader_names_what_it_read_and_what_it_did_not() -> None:
    policy = {"Version": "2012-10-17", "Statement": [S("Allow", "dynamodb:GetItem", f"{T}/order")]}
    text = ('the service needs to read items in the table "orders" (GetItem) but gets AccessDenied. '
            "it must not delete the table.")
    got = read(text, policy)
    assert not got.unread
    kinds = [c.kind for c in got.clauses]
    assert "allow" in kinds and "deny" in kinds and "context" in kinds
    assert {"action": "dynamodb:GetItem", "resource": f"{T}/orders", "expect": "allow"} in got.requests
    assert {"action": "dynamodb:DeleteTable", "resource": f"{T}/orders", "expect": "deny"} in got.requests
    assert {"action": "dynamodb:GetItem", "resource": f"{T}/order", "expect": "deny"} in got.requests  # the typo
    assert got.notes and "order" in got.notes[0]


def test_nothing_more_keeps_what_the_policy_allows_and_only_takes_the_rest_away() -> None:
    keep = read(f"let it encrypt with {K1} and nothing more. " + P(S("Allow", "kms:Decrypt", K1)),
                {"Version": "2012-10-17", "Statement": [S("Allow", "kms:Decrypt", K1)]})
    assert {"action": "kms:Decrypt", "resource": K1, "expect": "deny"} not in keep.requests
    only = read("it must only read the 'm' bucket.", {"Version": "2012-10-17", "Statement": [
        S("Allow", "s3:*", "arn:aws:s3:::m/*")]})
    assert {"action": "s3:PutObject", "resource": "arn:aws:s3:::m/any-object", "expect": "deny"} in only.requests


def test_the_answer_shows_the_requests_and_the_diff() -> None:
    res = run(SimpleNamespace(text=CASES[1][1], no_loop=True))
    assert "Requirements read from your words" in res.answer and "Diff:" in res.answer
    assert "allow s3:PutObject on arn:aws:s3:::backups/any-object" in res.answer
    assert json.dumps(res.data["repaired_policy"])


def test_a_bucket_named_like_a_verb_is_the_bucket():
    text = ('this policy is way too broad, it lets the app do anything in S3. it only needs to put objects into the '
            'uploads bucket: {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", '
            '"Resource": "*"}]}')
    reqs = read(text, json.loads(text[text.index("{"):]))
    assert not reqs.unread
    assert {"action": "s3:PutObject", "resource": "arn:aws:s3:::uploads/any-object", "expect": "allow"} in reqs.requests
    assert any(r["expect"] == "deny" and r["action"] == "s3:DeleteObject" for r in reqs.requests)
