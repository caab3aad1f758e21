"""A repair benchmark of policies the way people write them when they ask for help: the policy they have
(sometimes not even valid), what they want allowed and denied, written for this benchmark in the style of
public forum questions and AWS documentation examples (not taken from CloudFix, which measures kubesage
independently).

Each case is (name, policy text, spec). `evals/bench_policies.py` repairs each (applying the obvious syntax
repair first when the parser rejects the policy) and counts: proven repairs (meet the spec and proven within
original ∪ spec), best-effort repairs (meet the spec, extra allowed listed and proven complete), failures,
and the time taken.
"""

from __future__ import annotations

import json
from typing import Any

V = "2012-10-17"
ACCT = "111122223333"


def _p(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": V, "Statement": list(statements)}, indent=2)


def _r(action: str, resource: str, expect: str, **context: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"action": action, "resource": resource, "expect": expect}
    if context:
        out["context"] = {k.replace("__", ":").replace("_SLASH_", "/"): v for k, v in context.items()}
    return out


def cases() -> list[tuple[str, str, dict[str, Any]]]:
    b = "arn:aws:s3:::acme-reports"
    return [
        ("list needs the bucket ARN", _p({"Sid": "Read", "Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetObject"],
                                          "Resource": f"{b}/*"}),
         {"requests": [_r("s3:ListBucket", b, "allow"), _r("s3:GetObject", f"{b}/q1.csv", "allow"),
                       _r("s3:PutObject", f"{b}/q1.csv", "deny")]}),
        ("ListAllMyBuckets needs *", _p({"Sid": "Console", "Effect": "Allow", "Action": ["s3:ListAllMyBuckets", "s3:GetObject"],
                                         "Resource": f"{b}/*"}),
         {"requests": [_r("s3:ListAllMyBuckets", "*", "allow"), _r("s3:GetObject", f"{b}/a", "allow"),
                       _r("s3:GetObject", "arn:aws:s3:::other/a", "deny")]}),
        ("misspelt action", _p({"Sid": "Get", "Effect": "Allow", "Action": "s3:GetObjects", "Resource": f"{b}/*"}),
         {"requests": [_r("s3:GetObject", f"{b}/a", "allow"), _r("s3:DeleteObject", f"{b}/a", "deny")]}),
        ("s3:* is too much", _p({"Sid": "Reports", "Effect": "Allow", "Action": "s3:*", "Resource": [b, f"{b}/*"]}),
         {"requests": [_r("s3:GetObject", f"{b}/a", "allow"), _r("s3:ListBucket", b, "allow"),
                       _r("s3:DeleteObject", f"{b}/a", "deny"), _r("s3:PutBucketPolicy", b, "deny")]}),
        ("office IP missing from the fence", _p(
            {"Sid": "S3", "Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{b}/*"},
            {"Sid": "Fence", "Effect": "Deny", "Action": "*", "Resource": "*",
             "Condition": {"NotIpAddress": {"aws:SourceIp": ["192.0.2.0/24"]}}}),
         {"requests": [_r("s3:GetObject", f"{b}/a", "allow", aws__SourceIp="192.0.2.7"),
                       _r("s3:GetObject", f"{b}/a", "allow", aws__SourceIp="198.51.100.9"),
                       _r("s3:GetObject", f"{b}/a", "deny", aws__SourceIp="203.0.113.5")]}),
        ("MFA test inverted", _p({"Sid": "Admin", "Effect": "Allow", "Action": "iam:*", "Resource": "*",
                                  "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "false"}}}),
         {"requests": [_r("iam:CreateUser", f"arn:aws:iam::{ACCT}:user/x", "allow", aws__MultiFactorAuthPresent="true"),
                       _r("iam:CreateUser", f"arn:aws:iam::{ACCT}:user/x", "deny", aws__MultiFactorAuthPresent="false")]}),
        ("Actions and allow (syntax)", '{"Version": "2012-10-17", "Statement": [{"Sid": "Read", "Effect": "allow", '
         f'"Actions": ["s3:GetObject"], "Resource": "{b}/*"}}]}}',
         {"requests": [_r("s3:GetObject", f"{b}/a", "allow"), _r("s3:PutObject", f"{b}/a", "deny")]}),
        ("trailing comma (syntax)", '{"Version": "2012-10-17", "Statement": [{"Sid": "Logs", "Effect": "Allow", '
         '"Action": ["logs:PutLogEvents", "logs:CreateLogStream",], "Resource": '
         f'"arn:aws:logs:us-east-1:{ACCT}:log-group:/app",}}]}}',
         {"requests": [_r("logs:PutLogEvents", f"arn:aws:logs:us-east-1:{ACCT}:log-group:/app:log-stream:s1", "allow"),
                       _r("logs:DeleteLogGroup", f"arn:aws:logs:us-east-1:{ACCT}:log-group:/app", "deny")]}),
        ("dynamodb leading keys", _p({"Sid": "Own", "Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:PutItem"],
                                      "Resource": f"arn:aws:dynamodb:us-east-1:{ACCT}:table/users",
                                      "Condition": {"ForAnyValue:StringEquals": {"dynamodb:LeadingKeys": ["${aws:userid}"]}}}),
         {"requests": [_r("dynamodb:GetItem", f"arn:aws:dynamodb:us-east-1:{ACCT}:table/users", "allow",
                          aws__userid="AIDA1", dynamodb__LeadingKeys=["AIDA1"]),
                       _r("dynamodb:GetItem", f"arn:aws:dynamodb:us-east-1:{ACCT}:table/users", "deny",
                          aws__userid="AIDA1", dynamodb__LeadingKeys=["AIDA1", "AIDA2"])]}),
        ("region fence blocks global IAM", _p(
            {"Sid": "All", "Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Sid": "Region", "Effect": "Deny", "Action": "*", "Resource": "*",
             "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1"]}}}),
         {"requests": [_r("iam:ListRoles", "*", "allow", aws__RequestedRegion="us-east-1"),
                       _r("ec2:RunInstances", f"arn:aws:ec2:us-east-1:{ACCT}:instance/*", "deny", aws__RequestedRegion="us-east-1"),
                       _r("ec2:RunInstances", f"arn:aws:ec2:eu-west-1:{ACCT}:instance/*", "allow", aws__RequestedRegion="eu-west-1")]}),
        ("kms only via s3", _p({"Sid": "Kms", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                                "Resource": f"arn:aws:kms:us-east-1:{ACCT}:key/k1"}),
         {"requests": [_r("kms:Decrypt", f"arn:aws:kms:us-east-1:{ACCT}:key/k1", "allow", kms__ViaService="s3.us-east-1.amazonaws.com"),
                       _r("kms:Decrypt", f"arn:aws:kms:us-east-1:{ACCT}:key/k1", "deny")]}),
        ("ec2 by team tag", _p({"Sid": "Team", "Effect": "Allow", "Action": ["ec2:StartInstances", "ec2:StopInstances"],
                                "Resource": f"arn:aws:ec2:*:{ACCT}:instance/*",
                                "Condition": {"StringEquals": {"ec2:ResourceTag/team": "blue"}}}),
         {"requests": [_r("ec2:StartInstances", f"arn:aws:ec2:us-east-1:{ACCT}:instance/i-1", "allow",
                          ec2__ResourceTag_SLASH_team="red", aws__PrincipalTag_SLASH_team="red"),
                       _r("ec2:StartInstances", f"arn:aws:ec2:us-east-1:{ACCT}:instance/i-2", "deny",
                          ec2__ResourceTag_SLASH_team="blue", aws__PrincipalTag_SLASH_team="red")]}),
        ("queue policy without the sender", _p({"Sid": "Topic", "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
                                                "Action": "sqs:SendMessage", "Resource": f"arn:aws:sqs:us-east-1:{ACCT}:jobs"}),
         {"requests": [_r("sqs:SendMessage", f"arn:aws:sqs:us-east-1:{ACCT}:jobs", "allow",
                          aws__SourceArn=f"arn:aws:sns:us-east-1:{ACCT}:events") | {"principal": "sns.amazonaws.com"},
                       _r("sqs:SendMessage", f"arn:aws:sqs:us-east-1:{ACCT}:jobs", "deny",
                          aws__SourceArn="arn:aws:sns:us-east-1:999988887777:spam") | {"principal": "sns.amazonaws.com"}]}),
        ("logs but not one group (inexpressible)", _p(
            {"Sid": "All", "Effect": "Allow", "Action": "s3:*", "Resource": "*"},
            {"Sid": "NoLogs", "Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::logs*"}),
         {"requests": [_r("s3:GetObject", "arn:aws:s3:::logs/a", "allow"), _r("s3:GetObject", "arn:aws:s3:::data/x", "allow"),
                       _r("s3:GetObject", "arn:aws:s3:::logs/b", "deny")]}),
        ("ssm path without the parameter", _p({"Sid": "Params", "Effect": "Allow", "Action": "ssm:GetParametersByPath",
                                               "Resource": f"arn:aws:ssm:us-east-1:{ACCT}:parameter/app/prod/*"}),
         {"requests": [_r("ssm:GetParametersByPath", f"arn:aws:ssm:us-east-1:{ACCT}:parameter/app/prod", "allow"),
                       _r("ssm:GetParametersByPath", f"arn:aws:ssm:us-east-1:{ACCT}:parameter/app/dev", "deny")]}),
        ("passrole to any service", _p({"Sid": "Pass", "Effect": "Allow", "Action": "iam:PassRole",
                                        "Resource": f"arn:aws:iam::{ACCT}:role/lambda-*"}),
         {"requests": [_r("iam:PassRole", f"arn:aws:iam::{ACCT}:role/lambda-exec", "allow", iam__PassedToService="lambda.amazonaws.com"),
                       _r("iam:PassRole", f"arn:aws:iam::{ACCT}:role/lambda-exec", "deny", iam__PassedToService="ec2.amazonaws.com")]}),
        ("expired window", _p({"Sid": "Window", "Effect": "Allow", "Action": "s3:PutObject", "Resource": f"{b}/*",
                               "Condition": {"DateLessThan": {"aws:CurrentTime": "2024-01-01T00:00:00Z"}}}),
         {"requests": [_r("s3:PutObject", f"{b}/a", "allow", aws__CurrentTime="2025-03-01T10:00:00Z"),
                       _r("s3:PutObject", f"{b}/a", "deny", aws__CurrentTime="2031-01-01T00:00:00Z")]}),
        ("secrets except prod", _p({"Sid": "Secrets", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
                                    "NotResource": f"arn:aws:secretsmanager:us-east-1:{ACCT}:secret:*"}),
         {"requests": [_r("secretsmanager:GetSecretValue", f"arn:aws:secretsmanager:us-east-1:{ACCT}:secret:dev-db", "allow"),
                       _r("secretsmanager:GetSecretValue", f"arn:aws:secretsmanager:us-east-1:{ACCT}:secret:prod-db", "deny")]}),
        ("metrics namespace", _p({"Sid": "Metrics", "Effect": "Allow", "Action": "cloudwatch:PutMetricData", "Resource": "*",
                                  "Condition": {"StringEquals": {"cloudwatch:namespace": "App"}}}),
         {"requests": [_r("cloudwatch:PutMetricData", "*", "allow", cloudwatch__namespace="App/Prod"),
                       _r("cloudwatch:PutMetricData", "*", "deny", cloudwatch__namespace="AWS/EC2")]}),
        ("bucket policy for https only", _p({"Sid": "Read", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCT}:role/app"},
                                             "Action": "s3:GetObject", "Resource": f"{b}/*"}),
         {"requests": [_r("s3:GetObject", f"{b}/a", "allow", aws__SecureTransport="true") | {"principal": f"arn:aws:iam::{ACCT}:role/app"},
                       _r("s3:GetObject", f"{b}/a", "deny", aws__SecureTransport="false") | {"principal": f"arn:aws:iam::{ACCT}:role/app"}]}),
    ]
