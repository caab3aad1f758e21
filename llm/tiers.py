"""What every tier returns, and the errors tiers raise. Shared by llm/local.py, llm/cloud.py and the gateway."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class TierOutput:
    """One answer from one tier, before verification."""

    tier: str  # "local" or "cloud"
    model: str
    content: str
    tool_calls: list[dict[str, Any]] = field(default_factory=list)  # {"id", "name", "args" (dict), "raw"}
    prompt_tokens: int = 0
    completion_tokens: int = 0
    mean_logprob: float | None = None
    finish_reason: str = ""
    latency_ms: float = 0.0
    attempts: int = 1
    format_error: str | None = None  # constrained output that did not come out as complete JSON

    def payload(self) -> dict[str, Any]:
        """What the cache keeps: the answer, not the bookkeeping."""
        return {"content": self.content, "tool_calls": self.tool_calls, "model": self.model, "tier": self.tier,
                "prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens}


def parse_arguments(raw: str | dict | None) -> tuple[dict[str, Any], str | None]:
    """Tool-call arguments as a dict, plus an error when they were not a JSON object."""
    if isinstance(raw, dict):
        return raw, None
    try:
        args = json.loads(raw or "{}")
    except json.JSONDecodeError as e:
        return {}, f"arguments are not valid JSON ({e.msg} at {e.pos})"
    if not isinstance(args, dict):
        return {}, "arguments are not a JSON object"
    return args, None


class TierError(RuntimeError):
    """A tier could not answer at all."""


class LocalError(TierError):
    """The local model failed (e.g. the prompt does not fit its context)."""


class CloudError(TierError):
    """The cloud tier failed after its retries. `kind`: timeout, rate_limit, server, connection, breaker_open,
    client (4xx other than 429), not_configured."""

    def __init__(self, kind: str, detail: str, attempts: int = 0, retryable: bool = True) -> None:
        super().__init__(f"cloud {kind}: {detail}")
        self.kind = kind
        self.detail = detail
        self.attempts = attempts
        self.retryable = retryable


class GatewayError(RuntimeError):
    """No tier the policy allows could answer; the message says which failed and why."""
