"""kubesage room: llm — the model gateway (cache → bundled local model → OpenAI-compatible cloud).

Public surface:
- `create_chat_model(**defaults)` → `GatewayChatModel`, a LangChain `BaseChatModel` (bind_tools and
  with_structured_output work); per-call settings: category, principal, tenant, policy, verifier, …
- `create_gateway()` → `Gateway` with `.complete(ChatRequest)` for callers that do not use LangChain.
- `make_llm_route(chat_model)` → the `llm_route(text, candidates)` tie-breaker `agents.router.Router` takes.
- `LLMConfig` (`KUBESAGE_LLM_*`), `CallRecord` (served_by, latency, tokens, cost, escalations, fallback).
Imports `memory/` (the cache) and nothing else of ours.

Why the names are resolved on first use (PEP 562) rather than imported here: every `kubesage ask` reads
`llm.config` to learn whether a cloud tier is configured, and importing this package must not load LangChain's chat
model classes for that (~0.1 s of CPU); most turns never call a model (issue 18).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from llm.accounting import CallRecord, Metrics
    from llm.chat_model import GatewayChatModel
    from llm.config import LLMConfig
    from llm.factory import create_chat_model, create_gateway
    from llm.gateway import Gateway, GatewayResult
    from llm.request import ChatRequest, principal_scope
    from llm.routing import make_llm_route
    from llm.tiers import CloudError, GatewayError, LocalError

# public name -> the module that defines it
_EXPORTS: dict[str, str] = {
    "CallRecord": "llm.accounting", "Metrics": "llm.accounting", "GatewayChatModel": "llm.chat_model",
    "LLMConfig": "llm.config", "create_chat_model": "llm.factory", "create_gateway": "llm.factory",
    "Gateway": "llm.gateway", "GatewayResult": "llm.gateway", "ChatRequest": "llm.request",
    "principal_scope": "llm.request", "make_llm_route": "llm.routing", "CloudError": "llm.tiers",
    "GatewayError": "llm.tiers", "LocalError": "llm.tiers",
}

__all__ = ["CallRecord", "ChatRequest", "CloudError", "Gateway", "GatewayChatModel", "GatewayError",
           "GatewayResult", "LLMConfig", "LocalError", "Metrics", "create_chat_model", "create_gateway",
           "make_llm_route", "principal_scope"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'llm' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # the next lookup is a plain module attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
