"""A table of (statement, request, expected decision) pairs pinning AWS's documented semantics, one row per
rule; the evaluator and the Z3 encoding are both checked against it."""

from __future__ import annotations

ACCT = "111122223333"


def pol(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action="s3:GetObject", resource="*", **extra):
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action="s3:GetObject", resource="*", **extra):
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def req(action="s3:GetObject", resource="arn:aws:s3:::b/k", context=None, principal=None):
    out = {"action": action, "resource": resource}
    if context is not None:
        out["context"] = context
    if principal is not None:
        out["principal"] = principal
    return out


def cond(op, key, value):
    return {"Condition": {op: {key: value}}}


# (name, policy, request, expected decision)
CASES = [
    # evaluation order
    ("implicit deny", pol(allow("s3:PutObject")), req(), "implicit-deny"),
    ("allow", pol(allow()), req(), "allow"),
    ("deny beats allow", pol(allow(), deny()), req(), "explicit-deny"),
    ("deny beats allow, order", pol(deny(), allow()), req(), "explicit-deny"),
    # actions
    ("action case-insensitive", pol(allow("S3:getobject")), req(), "allow"),
    ("action wildcard", pol(allow("s3:Get*")), req(), "allow"),
    ("action ?", pol(allow("s3:GetObjec?")), req(), "allow"),
    ("action ? needs a char", pol(allow("s3:GetObject?")), req(), "implicit-deny"),
    ("action other service", pol(allow("ec2:*")), req(), "implicit-deny"),
    ("action *", pol(allow("*")), req(), "allow"),
    ("NotAction", pol({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}), req(), "allow"),
    ("NotAction excludes", pol({"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"}), req(), "implicit-deny"),
    # resources
    ("resource exact", pol(allow(resource="arn:aws:s3:::b/k")), req(), "allow"),
    ("resource case-sensitive", pol(allow(resource="arn:aws:s3:::B/k")), req(), "implicit-deny"),
    ("resource wildcard", pol(allow(resource="arn:aws:s3:::b/*")), req(), "allow"),
    ("resource ? ", pol(allow(resource="arn:aws:s3:::?/k")), req(), "allow"),
    ("resource missing /*", pol(allow(resource="arn:aws:s3:::b")), req(), "implicit-deny"),
    ("region * stays in segment", pol(allow("dynamodb:GetItem", f"arn:aws:dynamodb:*:{ACCT}:table/t")),
     req("dynamodb:GetItem", f"arn:aws:dynamodb:us-east-1:{ACCT}:table/t"), "allow"),
    ("segment * does not cross a colon", pol(allow("s3:GetObject", "arn:aws:s3:*:*:b")),
     req("s3:GetObject", "arn:aws:s3:::x:b"), "implicit-deny"),
    ("short ARN is a whole-string pattern", pol(allow("dynamodb:GetItem", "arn:aws:dynamodb:*:table/t")),
     req("dynamodb:GetItem", f"arn:aws:dynamodb:us-east-1:{ACCT}:table/t"), "allow"),
    ("resource part * crosses colons", pol(allow("logs:PutLogEvents", f"arn:aws:logs:us-east-1:{ACCT}:log-group:*")),
     req("logs:PutLogEvents", f"arn:aws:logs:us-east-1:{ACCT}:log-group:g:log-stream:s"), "allow"),
    ("NotResource", pol({"Effect": "Allow", "Action": "s3:*", "NotResource": "arn:aws:s3:::secret/*"}),
     req(), "allow"),
    ("NotResource excludes", pol({"Effect": "Allow", "Action": "s3:*", "NotResource": "arn:aws:s3:::b/*"}),
     req(), "implicit-deny"),
    ("variable in resource", pol(allow(resource="arn:aws:s3:::b/${aws:username}")),
     req(resource="arn:aws:s3:::b/alice", context={"aws:username": "alice"}), "allow"),
    ("variable other user", pol(allow(resource="arn:aws:s3:::b/${aws:username}")),
     req(resource="arn:aws:s3:::b/bob", context={"aws:username": "alice"}), "implicit-deny"),
    ("variable absent matches nothing", pol(allow(resource="arn:aws:s3:::b/${aws:username}")),
     req(resource="arn:aws:s3:::b/${aws:username}"), "implicit-deny"),
    ("variable default", pol(allow(resource="arn:aws:s3:::b/${aws:PrincipalTag/team, 'shared'}/*")),
     req(resource="arn:aws:s3:::b/shared/x"), "allow"),
    ("variable literal escapes", pol(allow(resource="arn:aws:s3:::b/${*}")), req(resource="arn:aws:s3:::b/*"), "allow"),
    ("escaped * is literal", pol(allow(resource="arn:aws:s3:::b/${*}")), req(resource="arn:aws:s3:::b/k"),
     "implicit-deny"),
    ("2008 version: no variables", {"Version": "2008-10-17", "Statement": [allow(resource="arn:aws:s3:::b/${aws:username}")]},
     req(resource="arn:aws:s3:::b/alice", context={"aws:username": "alice"}), "implicit-deny"),
    # conditions: strings
    ("StringEquals", pol(allow(**cond("StringEquals", "aws:username", "alice"))), req(context={"aws:username": "alice"}), "allow"),
    ("StringEquals case", pol(allow(**cond("StringEquals", "aws:username", "alice"))), req(context={"aws:username": "Alice"}), "implicit-deny"),
    ("StringEqualsIgnoreCase", pol(allow(**cond("StringEqualsIgnoreCase", "aws:username", "alice"))), req(context={"aws:username": "ALICE"}), "allow"),
    ("StringEquals no wildcard", pol(allow(**cond("StringEquals", "aws:username", "a*"))), req(context={"aws:username": "alice"}), "implicit-deny"),
    ("StringLike", pol(allow(**cond("StringLike", "aws:username", "a*"))), req(context={"aws:username": "alice"}), "allow"),
    ("context key names ignore case", pol(allow(**cond("StringEquals", "AWS:UserName", "alice"))), req(context={"aws:username": "alice"}), "allow"),
    ("values OR", pol(allow(**cond("StringEquals", "aws:username", ["bob", "alice"]))), req(context={"aws:username": "alice"}), "allow"),
    ("negated values NOR", pol(allow(**cond("StringNotEquals", "aws:username", ["bob", "alice"]))), req(context={"aws:username": "alice"}), "implicit-deny"),
    ("negated values NOR holds", pol(allow(**cond("StringNotEquals", "aws:username", ["bob", "alice"]))), req(context={"aws:username": "carol"}), "allow"),
    ("keys AND", pol(allow(Condition={"StringEquals": {"aws:username": "alice", "aws:PrincipalTag/team": "data"}})),
     req(context={"aws:username": "alice", "aws:PrincipalTag/team": "web"}), "implicit-deny"),
    ("absent key: positive false", pol(allow(**cond("StringEquals", "aws:username", "alice"))), req(), "implicit-deny"),
    ("absent key: negated true", pol(allow(**cond("StringNotEquals", "aws:username", "alice"))), req(), "allow"),
    ("absent key: IfExists true", pol(allow(**cond("StringEqualsIfExists", "aws:username", "alice"))), req(), "allow"),
    ("present key: IfExists tests", pol(allow(**cond("StringEqualsIfExists", "aws:username", "alice"))), req(context={"aws:username": "bob"}), "implicit-deny"),
    ("variable in condition", pol(allow(**cond("StringEquals", "aws:PrincipalTag/team", "${aws:username}"))),
     req(context={"aws:username": "data", "aws:PrincipalTag/team": "data"}), "allow"),
    ("unresolved variable: negated holds (A2)", pol(allow(**cond("StringNotEquals", "aws:PrincipalTag/team", "${aws:username}"))),
     req(context={"aws:PrincipalTag/team": "data"}), "allow"),
    # numbers, dates, booleans, binary
    ("NumericLessThan", pol(allow(**cond("NumericLessThan", "aws:MultiFactorAuthAge", "3600"))), req(context={"aws:MultiFactorAuthAge": "120"}), "allow"),
    ("NumericLessThan fails", pol(allow(**cond("NumericLessThan", "aws:MultiFactorAuthAge", "3600"))), req(context={"aws:MultiFactorAuthAge": "3600"}), "implicit-deny"),
    ("Numeric decimal", pol(allow(**cond("NumericGreaterThanEquals", "aws:MultiFactorAuthAge", "1.5"))), req(context={"aws:MultiFactorAuthAge": "1.50"}), "allow"),
    ("Numeric not a number", pol(allow(**cond("NumericNotEquals", "aws:MultiFactorAuthAge", "5"))), req(context={"aws:MultiFactorAuthAge": "abc"}), "implicit-deny"),
    ("DateLessThan", pol(allow(**cond("DateLessThan", "aws:CurrentTime", "2024-07-01T00:00:00Z"))), req(context={"aws:CurrentTime": "2024-06-30T23:59:59Z"}), "allow"),
    ("Date zones", pol(allow(**cond("DateEquals", "aws:CurrentTime", "2024-01-01T02:00:00+02:00"))), req(context={"aws:CurrentTime": "2024-01-01T00:00:00Z"}), "allow"),
    ("Date epoch", pol(allow(**cond("DateGreaterThan", "aws:CurrentTime", "1704067200"))), req(context={"aws:CurrentTime": "2024-01-02T00:00:00Z"}), "allow"),
    ("Bool", pol(allow(**cond("Bool", "aws:SecureTransport", "true"))), req(context={"aws:SecureTransport": "TRUE"}), "allow"),
    ("Bool JSON boolean", pol(allow(**cond("Bool", "aws:SecureTransport", False))), req(context={"aws:SecureTransport": False}), "allow"),
    ("Bool not a boolean", pol(allow(**cond("Bool", "aws:SecureTransport", "false"))), req(context={"aws:SecureTransport": "maybe"}), "implicit-deny"),
    ("BinaryEquals", pol(allow(**cond("BinaryEquals", "aws:UserAgent", "QmluYXJ5"))), req(context={"aws:UserAgent": "QmluYXJ5"}), "allow"),
    # IP addresses
    ("IpAddress", pol(allow(**cond("IpAddress", "aws:SourceIp", "203.0.113.0/24"))), req(context={"aws:SourceIp": "203.0.113.9"}), "allow"),
    ("IpAddress outside", pol(allow(**cond("IpAddress", "aws:SourceIp", "203.0.113.0/24"))), req(context={"aws:SourceIp": "203.0.114.9"}), "implicit-deny"),
    ("IpAddress bare is /32", pol(allow(**cond("IpAddress", "aws:SourceIp", "203.0.113.9"))), req(context={"aws:SourceIp": "203.0.113.9"}), "allow"),
    ("IpAddress IPv6", pol(allow(**cond("IpAddress", "aws:SourceIp", "2001:db8::/32"))), req(context={"aws:SourceIp": "2001:db8:1::5"}), "allow"),
    ("IPv4 block vs IPv6 address", pol(allow(**cond("IpAddress", "aws:SourceIp", "10.0.0.0/8"))), req(context={"aws:SourceIp": "2001:db8::1"}), "implicit-deny"),
    ("NotIpAddress", pol(allow(**cond("NotIpAddress", "aws:SourceIp", "10.0.0.0/8"))), req(context={"aws:SourceIp": "192.0.2.1"}), "allow"),
    ("NotIpAddress invalid value", pol(allow(**cond("NotIpAddress", "aws:SourceIp", "10.0.0.0/8"))), req(context={"aws:SourceIp": "nope"}), "implicit-deny"),
    ("NotIpAddress absent", pol(allow(**cond("NotIpAddress", "aws:SourceIp", "10.0.0.0/8"))), req(), "allow"),
    # ARNs
    ("ArnLike", pol(allow(**cond("ArnLike", "aws:SourceArn", f"arn:aws:sns:*:{ACCT}:topic-*"))),
     req(context={"aws:SourceArn": f"arn:aws:sns:us-east-1:{ACCT}:topic-a"}), "allow"),
    ("ArnLike per segment", pol(allow(**cond("ArnLike", "aws:SourceArn", f"arn:aws:someservice:*:{ACCT}:finance/*"))),
     req(context={"aws:SourceArn": f"arn:aws:someservice:us-east-2:999999999999:store/abc:{ACCT}:finance/doc"}), "implicit-deny"),
    ("StringLike crosses segments", pol(allow(**cond("StringLike", "aws:SourceArn", f"arn:aws:someservice:*:{ACCT}:finance/*"))),
     req(context={"aws:SourceArn": f"arn:aws:someservice:us-east-2:999999999999:store/abc:{ACCT}:finance/doc"}), "allow"),
    ("ArnNotEquals absent", pol(allow(**cond("ArnNotEquals", "aws:SourceArn", "arn:aws:sns:us-east-1:1:t"))), req(), "allow"),
    # Null
    ("Null true: absent", pol(allow(**cond("Null", "aws:TokenIssueTime", "true"))), req(), "allow"),
    ("Null true: present", pol(allow(**cond("Null", "aws:TokenIssueTime", "true"))), req(context={"aws:TokenIssueTime": "2024-01-01T00:00:00Z"}), "implicit-deny"),
    ("Null false: present", pol(allow(**cond("Null", "aws:TokenIssueTime", "false"))), req(context={"aws:TokenIssueTime": "2024-01-01T00:00:00Z"}), "allow"),
    # sets
    ("ForAllValues subset", pol(allow(**cond("ForAllValues:StringEquals", "aws:TagKeys", ["env", "owner"]))), req(context={"aws:TagKeys": ["env"]}), "allow"),
    ("ForAllValues not subset", pol(allow(**cond("ForAllValues:StringEquals", "aws:TagKeys", ["env", "owner"]))), req(context={"aws:TagKeys": ["env", "x"]}), "implicit-deny"),
    ("ForAllValues empty set", pol(allow(**cond("ForAllValues:StringEquals", "aws:TagKeys", ["env"]))), req(context={"aws:TagKeys": []}), "allow"),
    ("ForAllValues absent", pol(allow(**cond("ForAllValues:StringEquals", "aws:TagKeys", ["env"]))), req(), "allow"),
    ("ForAnyValue hit", pol(allow(**cond("ForAnyValue:StringLike", "aws:TagKeys", ["prod*"]))), req(context={"aws:TagKeys": ["env", "prod-x"]}), "allow"),
    ("ForAnyValue absent", pol(allow(**cond("ForAnyValue:StringLike", "aws:TagKeys", ["prod*"]))), req(), "implicit-deny"),
    ("ForAnyValue empty", pol(allow(**cond("ForAnyValue:StringLike", "aws:TagKeys", ["*"]))), req(context={"aws:TagKeys": []}), "implicit-deny"),
    ("ForAnyValue IfExists absent (A1)", pol(allow(**cond("ForAnyValue:StringLikeIfExists", "aws:TagKeys", ["prod*"]))), req(), "allow"),
    ("ForAllValues negated", pol(allow(**cond("ForAllValues:StringNotEquals", "aws:TagKeys", ["secret"]))), req(context={"aws:TagKeys": ["env", "owner"]}), "allow"),
    ("ForAnyValue negated", pol(allow(**cond("ForAnyValue:StringNotEquals", "aws:TagKeys", ["env"]))), req(context={"aws:TagKeys": ["env"]}), "implicit-deny"),
    ("multivalued under a plain operator", pol(allow(**cond("StringEquals", "aws:TagKeys", "env"))), req(context={"aws:TagKeys": ["env"]}), "implicit-deny"),
    ("set operator on a single value", pol(allow(**cond("ForAnyValue:StringEquals", "aws:username", "alice"))), req(context={"aws:username": "alice"}), "allow"),
    # principals (resource policies)
    ("Principal ARN", pol(allow(Principal={"AWS": f"arn:aws:iam::{ACCT}:user/alice"})),
     req(principal=f"arn:aws:iam::{ACCT}:user/alice"), "allow"),
    ("Principal other", pol(allow(Principal={"AWS": f"arn:aws:iam::{ACCT}:user/alice"})),
     req(principal=f"arn:aws:iam::{ACCT}:user/bob"), "implicit-deny"),
    ("Principal account", pol(allow(Principal={"AWS": ACCT})), req(principal=f"arn:aws:iam::{ACCT}:role/r"), "allow"),
    ("Principal account root", pol(allow(Principal={"AWS": f"arn:aws:iam::{ACCT}:root"})), req(principal=f"arn:aws:sts::{ACCT}:assumed-role/r/s"), "allow"),
    ("Principal role covers sessions", pol(allow(Principal={"AWS": f"arn:aws:iam::{ACCT}:role/path/r"})),
     req(principal=f"arn:aws:sts::{ACCT}:assumed-role/r/session"), "allow"),
    ("Principal service", pol(allow(Principal={"Service": "sns.amazonaws.com"})), req(principal="sns.amazonaws.com"), "allow"),
    ("Principal * and anonymous", pol(allow(Principal="*")), req(), "allow"),
    ("Principal ARN and anonymous", pol(allow(Principal={"AWS": f"arn:aws:iam::{ACCT}:user/alice"})), req(), "implicit-deny"),
    ("NotPrincipal", pol(deny(NotPrincipal={"AWS": f"arn:aws:iam::{ACCT}:user/alice"}), allow(Principal="*")),
     req(principal=f"arn:aws:iam::{ACCT}:user/bob"), "explicit-deny"),
]
