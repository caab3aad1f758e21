"""Request and response bodies of the HTTP API: the OpenAPI schema at /openapi.json is generated from these, so
clients and schemathesis check real responses against them.

Agent-specific parts (route details, results, outcomes, history turns) are open objects: they carry whatever the
supervisor reports, and their keys are documented by agents/supervisor.py rather than frozen here.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

# A Kubernetes namespace name (RFC 1123 label): anything else can only fail in the cluster.
NAMESPACE = Field(default=None, min_length=1, max_length=63, pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
                  description="Kubernetes namespace the question is about (default: inferred from the text).")
THREAD_ID = r"^[A-Za-z0-9_-]{1,64}$"


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=4000, pattern=r"\S",
                      description="The question or request, in plain words (not only whitespace).")
    namespace: str | None = NAMESPACE


class ThreadCreateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str | None = Field(default=None, min_length=1, max_length=4000, pattern=r"\S",
                             description="Optional first message, answered in the same request.")
    namespace: str | None = NAMESPACE


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: Literal["approve", "reject"]
    approval_id: str = Field(min_length=1, max_length=64,
                             description="The id of the approval being decided (from approval_required); a stale "
                             "id gets 409, so a decision never lands on a change the caller did not see.")


class Approval(BaseModel):
    """A proposed change waiting for a person: the server-side dry-run diff says what would change."""

    model_config = ConfigDict(extra="allow")
    id: str
    action: str
    why: str | None = None
    diff: Any = None
    dry_run_error: str | None = None


class TurnOut(BaseModel):
    thread_id: str
    answer: str | None = None
    route: dict[str, Any] | None = None
    results: list[dict[str, Any]] | None = None
    outcomes: list[dict[str, Any]] | None = None
    approval: Approval | None = Field(default=None, description="Set when the turn waits for an approval.")
    cached: bool = Field(default=False, description="True when a recent identical read-only answer was reused.")


class ThreadOut(BaseModel):
    thread_id: str
    created: float = Field(description="Unix time.")
    title: str = Field(description="The thread's first question.")
    waiting: bool = Field(description="Whether the thread waits for an approval.")
    turns: int


class ThreadCreated(BaseModel):
    thread: ThreadOut
    turn: TurnOut | None = None


class ThreadList(BaseModel):
    threads: list[ThreadOut]


class ThreadDetail(BaseModel):
    thread: ThreadOut
    history: list[dict[str, Any]] = Field(description="Finished turns, oldest first: text, answer, route, outcomes.")
    approval: Approval | None = None


class PendingApproval(BaseModel):
    thread_id: str
    approval: Approval


class ApprovalList(BaseModel):
    approvals: list[PendingApproval]


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    problems: list[str] = Field(default_factory=list, description="What does not work (e.g. a damaged database "
                                "file, and how to recover); empty when status is ok.")
