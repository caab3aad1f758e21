"""One model call as the gateway sees it, and the cache keys derived from it.

Why OpenAI-shaped dicts inside: both tiers speak that shape (llama-cpp-python's chat API and the `openai` SDK),
and hashing plain JSON gives stable cache keys. LangChain messages are converted once, at the edge
(llm/chat_model.py).
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from memory import CacheKey, Partition

# A caller's check on an answer: return None/True to accept, a reason string (or False) to reject.
Verifier = Callable[[Any], "str | bool | None"]


@dataclass
class ChatRequest:
    """Messages plus everything that decides the answer (tools, schema, parameters) and how to route it."""

    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]] = field(default_factory=list)
    tool_choice: str | dict[str, Any] | None = None
    schema: dict[str, Any] | None = None  # JSON schema the answer's content must satisfy
    schema_name: str = "answer"
    max_tokens: int | None = None
    temperature: float | None = None
    stop: list[str] | None = None
    category: str = "general"
    principal: str = "anonymous"  # the cache scope (principal or tenant), see principal_scope()
    policy: str | None = None  # overrides the category's policy
    verifier: Verifier | None = None
    min_similarity: float | None = None  # a request may only tighten its cache threshold
    use_cache: bool = True

    def forced_tool(self) -> dict[str, Any] | None:
        """The one tool the caller requires, if the request pins one (with_structured_output does)."""
        tc = self.tool_choice
        if isinstance(tc, dict):
            name = (tc.get("function") or {}).get("name") or tc.get("name")
            return next((t for t in self.tools if t["function"]["name"] == name), None)
        if tc in ("any", "required") and len(self.tools) == 1:
            return self.tools[0]
        if isinstance(tc, str) and tc not in ("auto", "none", "any", "required"):
            return next((t for t in self.tools if t["function"]["name"] == tc), None)
        return None

    def tools_active(self) -> bool:
        return bool(self.tools) and self.tool_choice != "none"


def openai_body(req: ChatRequest, model: str, structured: str = "json_schema") -> dict[str, Any]:
    """The chat-completions request body for an OpenAI-compatible server (the cloud tier and deployed backends).
    `structured`: how a JSON schema is asked for — "json_schema" (OpenAI) or "json_object_schema" (llama.cpp)."""
    body: dict[str, Any] = {"model": model, "messages": req.messages}
    if req.max_tokens:
        body["max_tokens"] = req.max_tokens
    if req.temperature is not None:
        body["temperature"] = req.temperature
    if req.stop:
        body["stop"] = req.stop
    if req.tools_active():
        body["tools"] = req.tools
        forced = req.forced_tool()
        if forced is not None:
            body["tool_choice"] = {"type": "function", "function": {"name": forced["function"]["name"]}}
        elif req.tool_choice:
            body["tool_choice"] = "required" if req.tool_choice in ("any", "required") else req.tool_choice
    elif req.schema is not None:
        if structured == "json_object_schema":  # llama.cpp server's dialect
            body["response_format"] = {"type": "json_object", "schema": req.schema}
        else:
            body["response_format"] = {"type": "json_schema",
                                       "json_schema": {"name": req.schema_name or "answer", "schema": req.schema}}
    return body


def principal_scope(principal: Any, tenant: str = "") -> str:
    """The cache scope of a principal: a string as given, or `user` plus sorted `groups` of a Principal-like
    object (answers may depend on group permissions, so the groups are part of who asks)."""
    if principal is None or principal == "":
        base = "anonymous"
    elif isinstance(principal, str):
        base = principal
    else:
        user = getattr(principal, "user", None) or (principal.get("user") if isinstance(principal, dict) else None)
        groups = getattr(principal, "groups", None)
        if groups is None and isinstance(principal, dict):
            groups = principal.get("groups")
        base = f"{user or 'anonymous'}|{','.join(sorted(groups or []))}"
    return f"{tenant}/{base}" if tenant else base


def _norm_text(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).split())


def normalize_message(m: dict[str, Any]) -> dict[str, Any]:
    """The parts of a message that decide the answer, whitespace- and Unicode-normalized."""
    content = m.get("content")
    if isinstance(content, list):  # content blocks: keep the text, in order
        content = "\n".join(b.get("text", "") if isinstance(b, dict) else str(b) for b in content)
    out: dict[str, Any] = {"role": m.get("role"), "content": _norm_text(content or "")}
    if m.get("tool_calls"):
        out["tool_calls"] = [{"name": (tc.get("function") or tc).get("name"),
                              "arguments": (tc.get("function") or tc).get("arguments")} for tc in m["tool_calls"]]
    if m.get("role") == "tool":
        out["name"] = m.get("name", "")
    return out


def _digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()


def tools_fingerprint(tools: list[dict[str, Any]]) -> str:
    """Hash of the tool schemas offered: a cached tool call is only valid for the same tools."""
    return _digest(tools)[:24] if tools else ""


def cache_key(req: ChatRequest, model_id: str, policy: str) -> CacheKey | None:
    """Exact key over the whole normalized request; compatibility fingerprint over all of it but the last user
    message; semantic text = that message (only when the request ends with a user turn)."""
    if not req.messages:
        return None
    msgs = [normalize_message(m) for m in req.messages]
    tools_fp = tools_fingerprint(req.tools)
    params = {"schema": req.schema, "tool_choice": req.tool_choice, "max_tokens": req.max_tokens,
              "temperature": req.temperature, "stop": req.stop, "policy": policy}
    exact = _digest({"messages": msgs, "tools": tools_fp, "params": params})
    last = msgs[-1]
    text = last["content"] if last["role"] == "user" and last["content"] else None
    compat = _digest({"context": msgs[:-1], "last_role": last["role"], "tools": tools_fp, "params": params})
    part = Partition(scope=req.principal, category=req.category, model=model_id, tools=tools_fp)
    return CacheKey(part, exact=exact, compat=compat, text=text, min_similarity=req.min_similarity)
