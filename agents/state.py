"""The state of one turn in the supervisor graph, and what a domain agent returns."""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from typing import Annotated, Any, TypedDict


class TurnState(TypedDict, total=False):
    text: str
    principal: dict[str, Any]  # {"user": str | None, "groups": [str]}
    namespace: str | None
    route: dict[str, Any]
    results: list[dict[str, Any]]  # one per agent: agent, answer, evidence, findings
    pending: list[dict[str, Any]]  # proposed mutations waiting for approval (Mutation.to_dict())
    outcomes: list[dict[str, Any]]  # what happened to each proposal
    answer: str
    history: Annotated[list[dict[str, Any]], operator.add]  # finished turns of this thread


@dataclass
class AgentResult:
    agent: str
    answer: str
    evidence: list[str] = field(default_factory=list)
    mutations: list[Any] = field(default_factory=list)  # tools.k8s.client.Mutation
    data: dict[str, Any] = field(default_factory=dict)
