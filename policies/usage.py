"""What a principal actually did, from CloudTrail-style records: the input of "which allowed actions were
never used" (`policies.account_questions.unused_actions`).

Why a reader of its own: CloudTrail names an action by service endpoint and event (`s3.amazonaws.com`,
`GetObject`) and a role by its session (`arn:aws:sts::…:assumed-role/NAME/SESSION`); IAM names them
`s3:GetObject` and `arn:aws:iam::…:role/NAME`. Accepted shapes: `{"Records": [...]}` (a CloudTrail log file),
a list of records, or a list of `{"principal", "action", "resource"}` objects.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from policies.errors import PolicyError

_SESSION = re.compile(r"arn:(?P<p>[^:]+):sts::(?P<a>\d+):assumed-role/(?P<name>[^/]+)/.*")


def _principal(record: dict[str, Any]) -> str | None:
    ident = record.get("userIdentity") or {}
    arn = ident.get("arn") or record.get("principal")
    if not isinstance(arn, str):
        return None
    m = _SESSION.fullmatch(arn)
    return f"arn:{m['p']}:iam::{m['a']}:role/{m['name']}" if m else arn


def _action(record: dict[str, Any]) -> str | None:
    if isinstance(record.get("action"), str):
        return record["action"]
    source, name = record.get("eventSource"), record.get("eventName")
    if not isinstance(source, str) or not isinstance(name, str):
        return None
    return f"{source.split('.', 1)[0]}:{name}"


def _resources(record: dict[str, Any]) -> list[str]:
    if isinstance(record.get("resource"), str):
        return [record["resource"]]
    out = [r["ARN"] for r in record.get("resources") or [] if isinstance(r, dict) and isinstance(r.get("ARN"), str)]
    params = record.get("requestParameters") or {}
    if isinstance(params, dict) and isinstance(params.get("bucketName"), str):
        key = params.get("key")
        out.append(f"arn:aws:s3:::{params['bucketName']}" + (f"/{key}" if isinstance(key, str) else ""))
    return out


def records(doc: Any) -> list[dict[str, Any]]:
    if isinstance(doc, dict) and isinstance(doc.get("Records"), list):
        doc = doc["Records"]
    if not isinstance(doc, list) or not all(isinstance(r, dict) for r in doc):
        raise PolicyError("$", "a usage file is a CloudTrail log ({\"Records\": [...]}) or a list of records")
    return doc


def used_actions(doc: Any, principal: str, resource: str | None = None) -> list[str]:
    """The actions `principal` (a user or role ARN; its role sessions count) used, on `resource` (or on
    the resource's objects, for a bucket) when given; errored calls (`errorCode`) do not count."""
    name = principal.rsplit("/", 1)[-1]
    out: set[str] = set()
    for rec in records(doc):
        who = _principal(rec)
        if who is None or rec.get("errorCode"):
            continue
        if who != principal and not (":role/" in principal and who.endswith(f":role/{name}")):
            continue
        action = _action(rec)
        if action is None:
            continue
        if resource is not None:
            prefix = resource.split("/", 1)[0] if resource.startswith("arn:aws:s3:::") else resource
            if not any(r == resource or r.startswith(prefix) for r in _resources(rec)):
                continue
        out.add(action)
    return sorted(out)


def all_principals(doc: Any) -> Iterable[str]:
    return sorted({p for p in (_principal(r) for r in records(doc)) if p})
