"""The LLM tie-breaker for the supervisor's router: `llm_route(text, candidates) -> label | None`.

Why here: it is the one place that knows how to ask the gateway for a JSON-schema-constrained choice. The
schema's `enum` holds only the candidates, so even the 135M local model can only answer with one of them; the
`routing` category's policy and confidence bar decide whether the cloud is asked instead. `agents.router.Router`
takes the returned callable as its `llm_route`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from langchain_core.messages import HumanMessage, SystemMessage

from llm.chat_model import GatewayChatModel

_SYSTEM = ("You route requests about Kubernetes and AWS IAM to the agent that handles them. "
           "Answer with the name of exactly one agent from the allowed list.")


def make_llm_route(model: GatewayChatModel, principal: Any = None,
                   descriptions: dict[str, str] | None = None) -> Callable[[str, list[str]], str | None]:
    """A router callable backed by the gateway (category `routing`, cached per principal like any call).
    `descriptions` (label -> one line) help the model tell the candidates apart."""
    routed = model.for_call(category="routing", max_tokens=24,
                            **({"principal": principal} if principal is not None else {}))

    def llm_route(text: str, candidates: list[str]) -> str | None:
        if not candidates:
            return None
        schema = {"type": "object", "properties": {"agent": {"type": "string", "enum": list(candidates)}},
                  "required": ["agent"], "additionalProperties": False}
        listing = "\n".join(f"- {c}: {(descriptions or {}).get(c, '')}".rstrip(": ") for c in candidates)
        msg = routed.bind(response_format={"type": "json_schema",
                                           "json_schema": {"name": "route", "schema": schema}}).invoke(
            [SystemMessage(f"{_SYSTEM}\nAllowed agents:\n{listing}"), HumanMessage(text)])
        try:
            choice = json.loads(msg.content).get("agent")
        except (json.JSONDecodeError, AttributeError):
            return None
        return choice if choice in candidates else None

    return llm_route
