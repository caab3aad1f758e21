"""Read an AWS account (or a moto one) through boto3 into a JSON-ready snapshot for `policies.account`.

Why a snapshot of plain dicts: the `tools` room imports nothing of ours (it sits below `agents`), and the
`policies` room must stay free of boto3. The snapshot is the contract between them:

    {"account_id": "...", "org_id": null,
     "principals": [{"arn", "kind": "user"|"role", "groups": [...], "tags": [{"Key", "Value"}],
                     "policies": [{"name", "document"}], "boundary": {"name", "document"} | null}],
     "resources": [{"arn", "account", "policy": {"name", "document"} | null}],
     "scps": [{"name", "document"}]}

A user's policies include those of its groups (inline and attached), named `group NAME: POLICY`; managed
policies are read at their default version. Resources: S3 buckets, KMS keys and SQS queues with their
resource policies. SCPs are not readable from a member account, so they come from files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from botocore.exceptions import ClientError


def _doc(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    return json.loads(unquote(value))


def _pages(client: Any, op: str, key: str, **kw: Any) -> list[Any]:
    out: list[Any] = []
    for page in client.get_paginator(op).paginate(**kw):
        out += page.get(key, [])
    return out


def _managed(iam: Any, arn: str, cache: dict[str, dict[str, Any]]) -> dict[str, Any]:
    if arn not in cache:
        meta = iam.get_policy(PolicyArn=arn)["Policy"]
        version = iam.get_policy_version(PolicyArn=arn, VersionId=meta["DefaultVersionId"])
        cache[arn] = _doc(version["PolicyVersion"]["Document"])
    return cache[arn]


def _own_policies(iam: Any, kind: str, name: str, cache: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    Kind = kind.capitalize()
    out = []
    for pname in _pages(iam, f"list_{kind}_policies", "PolicyNames", **{f"{Kind}Name": name}):
        got = getattr(iam, f"get_{kind}_policy")(**{f"{Kind}Name": name, "PolicyName": pname})
        out.append({"name": f"{kind} {name}: {pname}", "document": _doc(got["PolicyDocument"])})
    for ap in _pages(iam, f"list_attached_{kind}_policies", "AttachedPolicies", **{f"{Kind}Name": name}):
        out.append({"name": f"{kind} {name}: {ap['PolicyName']}", "arn": ap["PolicyArn"],
                    "document": _managed(iam, ap["PolicyArn"], cache)})
    return out


def _boundary(iam: Any, entity: dict[str, Any], cache: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    pb = entity.get("PermissionsBoundary")
    if not pb:
        return None
    arn = pb["PermissionsBoundaryArn"]
    return {"name": f"boundary {arn.rsplit('/', 1)[-1]}", "arn": arn, "document": _managed(iam, arn, cache)}


def read_principals(iam: Any) -> list[dict[str, Any]]:
    """Users (with their groups' policies) and roles, each with identity policies and boundary."""
    cache: dict[str, dict[str, Any]] = {}
    groups: dict[str, list[dict[str, Any]]] = {}
    out = []
    for user in _pages(iam, "list_users", "Users"):
        name = user["UserName"]
        full = iam.get_user(UserName=name)["User"]
        gnames = [g["GroupName"] for g in _pages(iam, "list_groups_for_user", "Groups", UserName=name)]
        policies = _own_policies(iam, "user", name, cache)
        for g in gnames:
            if g not in groups:
                groups[g] = _own_policies(iam, "group", g, cache)
            policies += groups[g]
        out.append({"arn": user["Arn"], "kind": "user", "groups": gnames, "policies": policies,
                    "boundary": _boundary(iam, full, cache),
                    "tags": _pages(iam, "list_user_tags", "Tags", UserName=name)})
    for role in _pages(iam, "list_roles", "Roles"):
        name = role["RoleName"]
        full = iam.get_role(RoleName=name)["Role"]
        out.append({"arn": role["Arn"], "kind": "role", "groups": [],
                    "policies": _own_policies(iam, "role", name, cache), "boundary": _boundary(iam, full, cache),
                    "tags": _pages(iam, "list_role_tags", "Tags", RoleName=name)})
    return out


def read_resources(account_id: str, s3: Any = None, kms: Any = None, sqs: Any = None) -> list[dict[str, Any]]:
    """S3 buckets, KMS keys and SQS queues with their resource policies (None where a bucket has none)."""
    out: list[dict[str, Any]] = []
    if s3 is not None:
        for b in s3.list_buckets().get("Buckets", []):
            name = b["Name"]
            try:
                doc = _doc(s3.get_bucket_policy(Bucket=name)["Policy"])
            except ClientError as e:
                if e.response.get("Error", {}).get("Code") != "NoSuchBucketPolicy":
                    raise
                doc = None
            out.append({"arn": f"arn:aws:s3:::{name}", "account": account_id,
                        "policy": {"name": f"bucket policy of {name}", "document": doc} if doc else None})
    if kms is not None:
        for k in _pages(kms, "list_keys", "Keys"):
            doc = _doc(kms.get_key_policy(KeyId=k["KeyId"], PolicyName="default")["Policy"])
            out.append({"arn": k["KeyArn"], "account": account_id,
                        "policy": {"name": f"key policy of {k['KeyId']}", "document": doc}})
    if sqs is not None:
        for url in sqs.list_queues().get("QueueUrls", []):
            attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn", "Policy"])["Attributes"]
            doc = _doc(attrs["Policy"]) if attrs.get("Policy") else None
            out.append({"arn": attrs["QueueArn"], "account": account_id,
                        "policy": {"name": f"queue policy of {url.rsplit('/', 1)[-1]}", "document": doc} if doc else None})
    return out


def read_scps(paths: list[str | Path]) -> list[dict[str, Any]]:
    """SCP documents from files (a member account cannot read its organization's SCPs)."""
    return [{"name": f"SCP {Path(p).name}", "document": json.loads(Path(p).read_text(encoding="utf-8"))}
            for p in paths]


def read_account(session: Any, *, scp_files: list[str | Path] = (), org_id: str | None = None,
                 endpoint_url: str | None = None) -> dict[str, Any]:
    """The whole snapshot from a boto3 Session (an `endpoint_url` points every client at moto)."""
    def client(name: str) -> Any:
        return session.client(name, endpoint_url=endpoint_url)

    account_id = client("sts").get_caller_identity()["Account"]
    return {"account_id": account_id, "org_id": org_id, "principals": read_principals(client("iam")),
            "resources": read_resources(account_id, client("s3"), client("kms"), client("sqs")),
            "scps": read_scps(list(scp_files))}
