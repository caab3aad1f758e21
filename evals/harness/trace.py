"""What one case run left behind, in the shape the graders read.

Why a plain dataclass with a `reader`: graders are pure functions of a Trace, so unit tests build one from dicts
(no cluster), while the runner fills it from a live run and a reader over the live Kubernetes API.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

ACCESS_REVIEWS = ("selfsubjectaccessreviews", "subjectaccessreviews", "localsubjectaccessreviews",
                  "selfsubjectrulesreviews", "tokenreviews")
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


class Reader(Protocol):
    """Reads cluster objects as admin (the state grader's view)."""

    def get(self, kind: str, namespace: str | None, name: str) -> dict[str, Any] | None: ...

    def list(self, kind: str, namespace: str | None, selector: str | None) -> list[dict[str, Any]]: ...

    def access(self, user: str, groups: list[str], verb: str, resource: str, namespace: str | None, group: str,
               name: str | None) -> bool: ...

    def wait(self, seconds: float) -> None: ...


@dataclass
class Trace:
    """One case run: the turns, every Kubernetes call (with `phase`: work | approve | reject), the approvals
    asked and how they were answered, the outcomes, the audit log, and the case's expectations."""

    answer: str = ""
    route: list[str] = field(default_factory=list)
    expect_route: list[str] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)  # all calls: method, path, query, status, phase, agent?
    approvals: list[dict[str, Any]] = field(default_factory=list)  # id, action, decision
    outcomes: list[dict[str, Any]] = field(default_factory=list)
    audit: list[dict[str, Any]] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)  # agents' results (answer, data) of every turn
    case_approve: str = "reject"
    reader: Reader | None = None


def is_write(call: dict[str, Any]) -> bool:
    """A call that may change the cluster: a write method, not a server-side dry run, not an access review."""
    if str(call.get("method", "")).upper() not in WRITE_METHODS:
        return False
    if (call.get("query") or {}).get("dryRun") == "All":
        return False
    return not str(call.get("path", "")).rstrip("/").endswith(ACCESS_REVIEWS)


def succeeded(call: dict[str, Any]) -> bool:
    return 200 <= int(call.get("status") or 0) < 300


def describe(call: dict[str, Any]) -> str:
    q = "&".join(f"{k}={v}" for k, v in (call.get("query") or {}).items())
    return f"{call.get('method')} {call.get('path')}{'?' + q if q else ''} -> {call.get('status')}"
