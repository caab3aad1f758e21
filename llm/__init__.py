"""kubesage room: llm — the model gateway (cache → bundled local model → OpenAI-compatible cloud).

Public surface:
- `create_chat_model(**defaults)` → `GatewayChatModel`, a LangChain `BaseChatModel` (bind_tools and
  with_structured_output work); per-call settings: category, principal, tenant, policy, verifier, …
- `create_gateway()` → `Gateway` with `.complete(ChatRequest)` for callers that do not use LangChain.
- `make_llm_route(chat_model)` → the `llm_route(text, candidates)` tie-breaker `agents.router.Router` takes.
- `LLMConfig` (`KUBESAGE_LLM_*`), `CallRecord` (served_by, latency, tokens, cost, escalations, fallback).
Imports `memory/` (the cache) and nothing else of ours.
"""

from llm.accounting import CallRecord, Metrics
from llm.chat_model import GatewayChatModel
from llm.config import LLMConfig
from llm.factory import create_chat_model, create_gateway
from llm.gateway import Gateway, GatewayResult
from llm.request import ChatRequest, principal_scope
from llm.routing import make_llm_route
from llm.tiers import CloudError, GatewayError, LocalError

__all__ = ["CallRecord", "ChatRequest", "CloudError", "Gateway", "GatewayChatModel", "GatewayError",
           "GatewayResult", "LLMConfig", "LocalError", "Metrics", "create_chat_model", "create_gateway",
           "make_llm_route", "principal_scope"]
