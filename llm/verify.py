"""Verification of an answer before it is returned or cached; every rejection is a reason string.

Why reasons and not booleans: an escalation to the cloud is paid for, so each one records why it happened
(`schema: 'replicas' is a required property`, `low confidence: mean logprob -2.31 < -1.40`, `caller check: the
named tool does not exist`), and the counters group them by their prefix.
"""

from __future__ import annotations

import json
from typing import Any

from langchain_core.messages import AIMessage

from llm.request import ChatRequest
from llm.tiers import TierOutput


def _schema_error(instance: Any, schema: dict[str, Any]) -> str | None:
    import jsonschema  # installed with kubernetes-validate and chromadb

    try:
        jsonschema.validate(instance, schema)
    except jsonschema.ValidationError as e:
        where = "/".join(str(p) for p in e.absolute_path)
        return f"{e.message}" + (f" at {where}" if where else "")
    except jsonschema.SchemaError as e:
        return f"the schema itself is invalid: {e.message}"
    return None


def to_message(out: TierOutput) -> AIMessage:
    """The answer as the LangChain message a caller's verifier (and the chat model) sees."""
    return AIMessage(content=out.content,
                     tool_calls=[{"name": c["name"], "args": c["args"], "id": c["id"], "type": "tool_call"}
                                 for c in out.tool_calls])


def structural_reasons(req: ChatRequest, out: TierOutput) -> list[str]:
    """Format checks: constrained output complete, tool calls real and well-formed, schema satisfied."""
    reasons = []
    if out.format_error:
        reasons.append(f"format: {out.format_error}")
    if req.tools_active():
        names = {t["function"]["name"]: t for t in req.tools}
        forced = req.forced_tool()
        if (forced is not None or req.tool_choice in ("any", "required")) and not out.tool_calls:
            reasons.append("tools: a tool call was required and none was made")
        for call in out.tool_calls:
            tool = names.get(call["name"])
            if tool is None:
                reasons.append(f"tools: no tool named {call['name']!r}")
            elif call.get("error"):
                reasons.append(f"tools: {call['name']}: {call['error']}")
            elif err := _schema_error(call["args"], tool["function"].get("parameters") or {"type": "object"}):
                reasons.append(f"schema: {call['name']} arguments: {err}")
    elif req.schema is not None:
        try:
            value = json.loads(out.content)
        except json.JSONDecodeError as e:
            reasons.append(f"schema: answer is not valid JSON ({e.msg})")
        else:
            if err := _schema_error(value, req.schema):
                reasons.append(f"schema: {err}")
    if not out.content.strip() and not out.tool_calls and not reasons:
        reasons.append("empty: no content and no tool call")
    return reasons


def caller_reasons(req: ChatRequest, out: TierOutput) -> list[str]:
    """The caller's own check (e.g. "the named tool exists", "Z3 verified the policy")."""
    if req.verifier is None:
        return []
    try:
        verdict = req.verifier(to_message(out))
    except Exception as e:  # noqa: BLE001 - a crashing check rejects the answer, it must not crash the turn
        return [f"caller check raised {type(e).__name__}: {e}"]
    if verdict is None or verdict is True:
        return []
    return ["caller check: " + ("rejected" if verdict is False else str(verdict))]


def confidence_reasons(out: TierOutput, min_logprob: float | None) -> list[str]:
    """Low confidence: the local model's mean token log-probability under the category's bar."""
    if min_logprob is None or out.mean_logprob is None:
        return []
    if out.mean_logprob < min_logprob:
        return [f"low confidence: mean logprob {out.mean_logprob:.2f} < {min_logprob:.2f}"]
    return []


def verify(req: ChatRequest, out: TierOutput, min_logprob: float | None = None) -> list[str]:
    """All reasons to reject `out` (empty: accepted). The caller's check runs only on well-formed answers."""
    reasons = structural_reasons(req, out)
    if not reasons:
        reasons += caller_reasons(req, out)
    return reasons + confidence_reasons(out, min_logprob)
