"""AWS IAM tools (boto3): read the policies of a user or role, and put a repaired inline policy.

Why the write needs an `Approval`: putting a policy changes who can do what. The tool never runs on its
own say-so: the caller first asks `preview_put_inline_policy` for the change (current and proposed
document, and the SHA-256 of the exact proposed JSON), shows it to the person, and only after they accept
builds an `Approval` for that digest. `put_inline_policy` refuses a missing approval, an approval for a
different document, or an empty token. In the agents' graph the preview is what the LangGraph `interrupt()`
carries, and the resume value becomes the `Approval` (the approval flow itself belongs to the agents issue).

The tools import nothing of ours (the `tools` room sits below `agents`); they take and return policy
documents as JSON-ready dicts, and verification lives in `policies`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from tools.tool import Tool


class ApprovalRequired(PermissionError):
    """A mutation was attempted without a valid approval for exactly this change."""


@dataclass(frozen=True)
class Approval:
    """A person's consent to one change: the digest of the document they saw, who approved, and an opaque
    token from the approval flow (e.g. the LangGraph interrupt id)."""

    digest: str
    approved_by: str
    token: str


@dataclass
class ToolResult:
    """What every tool returns: data for programs and a short text for people."""

    data: dict[str, Any]
    text: str
    mutated: bool = False


ToolSpec = Tool  # the one Tool contract (tools/tool.py): name, description, mutating, iam_actions, ...


TOOLS = (
    ToolSpec("iam_read_principal_policies",
             "List the inline and attached managed policies of an IAM user or role, with their documents. "
             "Example: 'what can ci-bot do?', 'show alice's policies'.", False,
             ("iam:ListUserPolicies", "iam:GetUserPolicy", "iam:ListAttachedUserPolicies", "iam:GetPolicy",
              "iam:GetPolicyVersion", "iam:ListRolePolicies", "iam:GetRolePolicy", "iam:ListAttachedRolePolicies")),
    ToolSpec("iam_put_inline_policy",
             "Replace (or create) an inline policy of a user or role with a repaired document. Mutates: needs "
             "the person's approval of the exact document.", True, ("iam:PutUserPolicy", "iam:PutRolePolicy")),
)


def iam_client(endpoint_url: str | None = None, region: str = "us-east-1", **kwargs: Any) -> Any:
    """A boto3 IAM client (an `endpoint_url` points it at a local server such as moto)."""
    import boto3

    return boto3.client("iam", endpoint_url=endpoint_url, region_name=region, **kwargs)


def digest(document: dict[str, Any] | str) -> str:
    """SHA-256 of the canonical JSON of a policy document: what an approval is for."""
    if isinstance(document, str):
        document = json.loads(document)
    return hashlib.sha256(json.dumps(document, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _doc(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    return json.loads(unquote(value))


def _who(user: str | None, role: str | None) -> tuple[str, str]:
    if bool(user) == bool(role):
        raise ValueError("give exactly one of user= or role=")
    return ("user", user) if user else ("role", role)  # type: ignore[return-value]


def read_principal_policies(client: Any, *, user: str | None = None, role: str | None = None) -> ToolResult:
    """Inline and attached managed policies (default versions) of a user or role."""
    kind, name = _who(user, role)
    Kind = kind.capitalize()
    inline = []
    for page in client.get_paginator(f"list_{kind}_policies").paginate(**{f"{Kind}Name": name}):
        for pname in page["PolicyNames"]:
            got = getattr(client, f"get_{kind}_policy")(**{f"{Kind}Name": name, "PolicyName": pname})
            inline.append({"name": pname, "document": _doc(got["PolicyDocument"])})
    attached = []
    for page in client.get_paginator(f"list_attached_{kind}_policies").paginate(**{f"{Kind}Name": name}):
        for ap in page["AttachedPolicies"]:
            meta = client.get_policy(PolicyArn=ap["PolicyArn"])["Policy"]
            version = client.get_policy_version(PolicyArn=ap["PolicyArn"], VersionId=meta["DefaultVersionId"])
            attached.append({"name": ap["PolicyName"], "arn": ap["PolicyArn"],
                             "document": _doc(version["PolicyVersion"]["Document"])})
    text = (f"{kind} {name}: {len(inline)} inline polic{'y' if len(inline) == 1 else 'ies'}"
            f" ({', '.join(p['name'] for p in inline) or 'none'}), {len(attached)} attached"
            f" ({', '.join(p['name'] for p in attached) or 'none'})")
    return ToolResult({"kind": kind, "name": name, "inline": inline, "attached": attached}, text)


def preview_put_inline_policy(client: Any, *, name: str, document: dict[str, Any], user: str | None = None,
                              role: str | None = None) -> ToolResult:
    """The change a put would make (dry run): current and proposed documents and the digest to approve."""
    kind, who = _who(user, role)
    Kind = kind.capitalize()
    current = None
    try:
        got = getattr(client, f"get_{kind}_policy")(**{f"{Kind}Name": who, "PolicyName": name})
        current = _doc(got["PolicyDocument"])
    except client.exceptions.NoSuchEntityException:
        current = None
    d = digest(document)
    verb = "create" if current is None else ("keep" if digest(current) == d else "replace")
    return ToolResult({"kind": kind, "name": who, "policy_name": name, "current": current, "proposed": document,
                       "digest": d, "change": verb},
                      f"{verb} inline policy {name} of {kind} {who} (approve digest {d[:12]}…)")


def put_inline_policy(client: Any, *, name: str, document: dict[str, Any], approval: Approval | None,
                      user: str | None = None, role: str | None = None) -> ToolResult:
    """Put an inline policy, only with an approval for exactly this document."""
    kind, who = _who(user, role)
    d = digest(document)
    if approval is None:
        raise ApprovalRequired("putting a policy needs the person's approval; call preview_put_inline_policy, "
                               "show the change, and pass the resulting Approval")
    if not approval.token or not approval.approved_by:
        raise ApprovalRequired("the approval has no token or approver")
    if approval.digest != d:
        raise ApprovalRequired("the approval is for a different document (digest mismatch); preview again")
    Kind = kind.capitalize()
    getattr(client, f"put_{kind}_policy")(**{f"{Kind}Name": who, "PolicyName": name,
                                             "PolicyDocument": json.dumps(document)})
    return ToolResult({"kind": kind, "name": who, "policy_name": name, "digest": d,
                       "approved_by": approval.approved_by}, f"put inline policy {name} on {kind} {who}",
                      mutated=True)
