"""An account to ask questions about: a moto account with 20 principals and 11 resource policies (for the
tests' cross-check against `@cloud-copilot/iam-simulate`), and generated snapshots of 1,000 principals ×
1,000 resources (for `make bench`).

Why hand-written policies in the moto account: each principal and resource exercises one rule of AWS's
evaluation (group policies, boundaries, SCP denies, NotAction, NotResource, IfExists, policy variables,
account vs ARN principals in resource policies, cross-account grants, Deny with NotPrincipal, KMS key
policies that do or do not delegate to the account).
"""

from __future__ import annotations

import json
import random
from typing import Any

ACCOUNT = "123456789012"           # moto's account
PARTNER = "444455556666"
ORG = "o-kubesage1"
V = "2012-10-17"


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": V, "Statement": list(statements)})


def allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


SCP = {"Version": V, "Statement": [
    {"Sid": "All", "Effect": "Allow", "Action": "*", "Resource": "*"},
    {"Sid": "KeepBuckets", "Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"}]}

BUCKETS = ["reports", "public-site", "partner-drop", "org-shared", "audit-logs", "home", "scratch"]


def _bucket_policies() -> dict[str, str]:
    a = f"arn:aws:iam::{ACCOUNT}"
    return {
        "reports": doc({"Sid": "Analysts", "Effect": "Allow", "Principal": {"AWS": f"{a}:role/analyst"},
                        "Action": ["s3:GetObject", "s3:ListBucket"],
                        "Resource": ["arn:aws:s3:::reports", "arn:aws:s3:::reports/*"]}),
        "public-site": doc({"Sid": "Public", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                            "Resource": "arn:aws:s3:::public-site/*"}),
        "partner-drop": doc({"Sid": "Partner", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{PARTNER}:root"},
                             "Action": "s3:PutObject", "Resource": "arn:aws:s3:::partner-drop/*"}),
        "org-shared": doc({"Sid": "Org", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                           "Resource": "arn:aws:s3:::org-shared/*",
                           "Condition": {"StringEquals": {"aws:PrincipalOrgID": ORG}}}),
        "audit-logs": doc({"Sid": "OnlyAuditor", "Effect": "Deny", "NotPrincipal": {"AWS": [f"{a}:user/auditor", f"{a}:root"]},
                           "Action": "s3:*", "Resource": ["arn:aws:s3:::audit-logs", "arn:aws:s3:::audit-logs/*"]},
                          {"Sid": "Account", "Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "s3:GetObject",
                           "Resource": "arn:aws:s3:::audit-logs/*"}),
        "home": doc({"Sid": "Home", "Effect": "Allow", "Principal": {"AWS": f"{a}:user/dev1"}, "Action": "s3:*",
                     "Resource": "arn:aws:s3:::home/${aws:username}/*"}),
    }


def _identity() -> dict[str, list[tuple[str, str]]]:
    """Inline policies per user/role/group name."""
    return {
        "group:readers": [("read", doc(allow(["s3:GetObject", "s3:ListBucket"], "*")))],
        "group:ops": [("ops", doc(allow("s3:*", "*"), deny("s3:Delete*", "*",
                                                          Condition={"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}})))],
        "user:admin": [("admin", doc(allow("*", "*")))],
        "user:auditor": [("audit", doc(allow("s3:GetObject", "arn:aws:s3:::audit-logs/*")))],
        "user:dev1": [("dev", doc(allow("s3:PutObject", "arn:aws:s3:::scratch/*")))],
        "user:dev2": [("dev", doc(allow("s3:*", "arn:aws:s3:::scratch/*",
                                        Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})))],
        "user:intern": [("notaction", doc({"Effect": "Allow", "NotAction": ["s3:Delete*", "kms:*"], "Resource": "*"}))],
        "user:tagger": [("tagged", doc(allow("s3:GetObject", "arn:aws:s3:::reports/${aws:PrincipalTag/team}/*")))],
        "user:noreports": [("most", doc({"Effect": "Allow", "Action": "s3:GetObject",
                                          "NotResource": "arn:aws:s3:::reports/*"}))],
        "user:bounded": [("wide", doc(allow("s3:*", "*")))],
        "user:queue-writer": [("sqs", doc(allow("sqs:SendMessage", "*")))],
        "user:kms-user": [("kms", doc(allow(["kms:Decrypt", "kms:Encrypt"], "*")))],
        "role:analyst": [],
        "role:deployer": [("deploy", doc(allow(["s3:PutObject", "s3:DeleteObject"], "arn:aws:s3:::public-site/*")))],
        "role:ci": [("ci", doc(allow("s3:*", "*",
                                     Condition={"StringEqualsIfExists": {"aws:RequestedRegion": "us-east-1"}})))],
        "role:reader": [("read", doc(allow("s3:Get*", "*")))],
        "role:lambda-exec": [("logs", doc(allow("sqs:ReceiveMessage", "*")))],
        "role:kms-admin": [("kms", doc(allow("kms:*", "*")))],
        "role:bounded-role": [("wide", doc(allow("*", "*")))],
        "role:empty": [],
    }


GROUPS = {"readers": ["viewer1", "viewer2"], "ops": ["operator"]}
USERS = ["admin", "auditor", "dev1", "dev2", "intern", "tagger", "noreports", "bounded", "queue-writer", "kms-user",
         "viewer1", "viewer2", "operator"]
ROLES = ["analyst", "deployer", "ci", "reader", "lambda-exec", "kms-admin", "bounded-role", "empty"]
BOUNDARY = doc(allow(["s3:GetObject", "s3:ListBucket", "sqs:*"], "*"))
TRUST = json.dumps({"Version": V, "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                                                 "Action": "sts:AssumeRole"}]})


def build_moto_account(session: Any, endpoint_url: str) -> dict[str, str]:
    """Create the principals, groups, policies, boundaries, buckets, keys and queues; return the ARNs of
    the KMS keys and SQS queues by name."""
    iam = session.client("iam", endpoint_url=endpoint_url)
    s3 = session.client("s3", endpoint_url=endpoint_url)
    kms = session.client("kms", endpoint_url=endpoint_url)
    sqs = session.client("sqs", endpoint_url=endpoint_url)
    policies = _identity()
    boundary_arn = iam.create_policy(PolicyName="ReadOnlyBoundary", PolicyDocument=BOUNDARY)["Policy"]["Arn"]
    shared = iam.create_policy(PolicyName="ListAll", PolicyDocument=doc(allow("s3:ListAllMyBuckets", "*")))["Policy"]["Arn"]
    for g in GROUPS:
        iam.create_group(GroupName=g)
        for pname, d in policies[f"group:{g}"]:
            iam.put_group_policy(GroupName=g, PolicyName=pname, PolicyDocument=d)
        iam.attach_group_policy(GroupName=g, PolicyArn=shared)
    for u in USERS:
        kw = {"PermissionsBoundary": boundary_arn} if u == "bounded" else {}
        iam.create_user(UserName=u, Tags=[{"Key": "team", "Value": "blue"}] if u == "tagger" else [], **kw)
        for pname, d in policies.get(f"user:{u}", []):
            iam.put_user_policy(UserName=u, PolicyName=pname, PolicyDocument=d)
    for g, members in GROUPS.items():
        for m in members:
            iam.add_user_to_group(GroupName=g, UserName=m)
    for r in ROLES:
        kw = {"PermissionsBoundary": boundary_arn} if r == "bounded-role" else {}
        iam.create_role(RoleName=r, AssumeRolePolicyDocument=TRUST, **kw)
        for pname, d in policies[f"role:{r}"]:
            iam.put_role_policy(RoleName=r, PolicyName=pname, PolicyDocument=d)
    bucket_policies = _bucket_policies()
    for b in BUCKETS:
        s3.create_bucket(Bucket=b)
        if b in bucket_policies:
            s3.put_bucket_policy(Bucket=b, Policy=bucket_policies[b])
    out: dict[str, str] = {}
    root = f"arn:aws:iam::{ACCOUNT}:root"
    key_policies = {
        "delegating": doc({"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": root}, "Action": "kms:*", "Resource": "*"}),
        "closed": doc({"Sid": "AdminOnly", "Effect": "Allow",
                       "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/kms-admin"}, "Action": "kms:*", "Resource": "*"}),
        "partner": doc({"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": root}, "Action": "kms:*", "Resource": "*"},
                       {"Sid": "PartnerDecrypt", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{PARTNER}:role/etl"},
                        "Action": "kms:Decrypt", "Resource": "*"}),
    }
    for name, kp in key_policies.items():
        meta = kms.create_key(Policy=kp, Description=name)["KeyMetadata"]
        out[f"key:{name}"] = meta["Arn"]
    for q in ("jobs", "events", "open"):
        url = sqs.create_queue(QueueName=q)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        out[f"queue:{q}"] = arn
        qp = {
            "jobs": doc({"Sid": "Lambda", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/lambda-exec"},
                         "Action": "sqs:ReceiveMessage", "Resource": arn}),
            "events": doc({"Sid": "FromTopic", "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
                           "Action": "sqs:SendMessage", "Resource": arn,
                           "Condition": {"ArnEquals": {"aws:SourceArn": f"arn:aws:sns:us-east-1:{ACCOUNT}:events"}}}),
            "open": doc({"Sid": "Anyone", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sqs:SendMessage",
                         "Resource": arn, "Condition": {"Bool": {"aws:SecureTransport": "true"}}}),
        }[q]
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": qp})
    return out


# -- generated snapshots for the benchmark -----------------------------------------------------------------
def generated_snapshot(principals: int = 1000, resources: int = 1000, seed: int = 5) -> dict[str, Any]:
    """A synthetic account snapshot: principals with 1-3 policies drawn from templates (some with
    conditions, NotAction, variables, boundaries), buckets with resource policies (some public, some
    cross-account, some account-delegating)."""
    rng = random.Random(seed)
    buckets = [f"data-{i:04d}" for i in range(resources)]

    def identity(i: int) -> dict[str, Any]:
        b = rng.choice(buckets)
        return rng.choice([
            {"Version": V, "Statement": [allow(["s3:GetObject", "s3:ListBucket"], [f"arn:aws:s3:::{b}", f"arn:aws:s3:::{b}/*"])]},
            {"Version": V, "Statement": [allow("s3:*", f"arn:aws:s3:::{b[:-1]}*/*",
                                               Condition={"IpAddress": {"aws:SourceIp": f"10.{i % 250}.0.0/16"}})]},
            {"Version": V, "Statement": [{"Effect": "Allow", "NotAction": "s3:Delete*", "Resource": f"arn:aws:s3:::{b}/*"}]},
            {"Version": V, "Statement": [allow("s3:PutObject", f"arn:aws:s3:::{b}/home/${{aws:username}}/*")]},
            {"Version": V, "Statement": [allow("s3:GetObject", "*"), deny("s3:GetObject", f"arn:aws:s3:::{b}/*")]},
        ])

    ps = []
    for i in range(principals):
        kind = "role" if i % 3 == 0 else "user"
        arn = f"arn:aws:iam::{ACCOUNT}:{kind}/p{i:04d}"
        pols = [{"name": f"p{i}-{j}", "document": identity(i)} for j in range(1 + i % 3)]
        boundary = {"name": "boundary", "document": {"Version": V, "Statement": [allow("s3:Get*", "*")]}} if i % 17 == 0 else None
        ps.append({"arn": arn, "kind": kind, "groups": [], "policies": pols, "boundary": boundary})
    rs = []
    for j, b in enumerate(buckets):
        who = rng.choice(["*", {"AWS": f"arn:aws:iam::{PARTNER}:root"}, {"AWS": ACCOUNT},
                          {"AWS": f"arn:aws:iam::{ACCOUNT}:user/p{rng.randrange(principals):04d}"}])
        st: dict[str, Any] = {"Effect": "Allow", "Principal": who, "Action": rng.choice(["s3:GetObject", "s3:PutObject"]),
                              "Resource": f"arn:aws:s3:::{b}/*"}
        if who == "*" and j % 2:
            st["Condition"] = {"StringEquals": {"aws:PrincipalOrgID": ORG}}
        rs.append({"arn": f"arn:aws:s3:::{b}", "account": ACCOUNT,
                   "policy": {"name": f"bucket policy of {b}", "document": {"Version": V, "Statement": [st]}}})
    return {"account_id": ACCOUNT, "org_id": ORG, "principals": ps, "resources": rs,
            "scps": [{"name": "SCP", "document": SCP}]}
