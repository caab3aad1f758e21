"""The gateway as a LangChain chat model, so LangGraph nodes, `bind_tools` and `with_structured_output` work
unchanged.

How a caller passes who asks and what kind of request it is — as fields (defaults for every call) or per call
through `.bind(...)` / `invoke(..., key=value)`:

    model = create_chat_model()                                  # llm.factory
    diag = model.bind(category="diagnosis", principal=turn.principal)
    diag.invoke("why is checkout crashing in shop?")
    model.bind_tools([list_pods]).bind(category="routing").invoke(...)
    model.with_structured_output(Plan).bind(category="plan", verifier=check_plan).invoke(...)

Per-call keys: category, principal (a string or an object with `user`/`groups`), tenant, policy, verifier
(callable(AIMessage) -> None/True to accept, or a reason string/False to reject), min_similarity, use_cache (bool),
max_tokens, temperature. Every answer's `response_metadata["served_by"]` is cache-exact, cache-semantic, local
or cloud, and `response_metadata["kubesage"]` holds the full CallRecord (latency, tokens, cost, escalations,
fallback).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage, convert_to_openai_messages
from langchain_core.output_parsers import JsonOutputParser, PydanticOutputParser
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable, RunnableMap, RunnablePassthrough
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_json_schema, convert_to_openai_tool
from pydantic import BaseModel, ConfigDict, Field

from llm.gateway import Gateway
from llm.request import ChatRequest, principal_scope

_CALL_KEYS = ("category", "principal", "tenant", "policy", "verifier", "min_similarity", "use_cache",
              "max_tokens", "temperature")


class GatewayChatModel(BaseChatModel):
    """A LangChain `BaseChatModel` backed by the kubesage gateway (cache → local → cloud)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    gateway: Any = Field(exclude=True)
    category: str = "general"
    principal: Any = "anonymous"
    tenant: str = ""
    policy: str | None = None
    verifier: Callable[[Any], Any] | None = Field(default=None, exclude=True)
    min_similarity: float | None = None
    use_cache: bool = True  # ask kubesage's semantic cache (LangChain's own `cache` field stays unused)
    max_tokens: int | None = None
    temperature: float | None = None

    @property
    def _llm_type(self) -> str:
        return "kubesage-gateway"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model": getattr(self.gateway, "model_id", ""), "category": self.category}

    def for_call(self, **kw: Any) -> GatewayChatModel:
        """A copy with other defaults, e.g. `model.for_call(category="iam", principal=p)`."""
        unknown = set(kw) - set(_CALL_KEYS)
        if unknown:
            raise TypeError(f"unknown per-call settings: {sorted(unknown)} (known: {', '.join(_CALL_KEYS)})")
        return self.model_copy(update=kw)

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        req = self._request(messages, stop, kwargs)
        gw: Gateway = self.gateway
        result = gw.complete(req)
        rec = result.record
        out = result.output
        meta = {"served_by": rec.served_by, "model_name": rec.model, "kubesage": rec.as_dict()}
        msg = AIMessage(content=out.content,
                        tool_calls=[{"name": c["name"], "args": c["args"], "id": c["id"], "type": "tool_call"}
                                    for c in out.tool_calls],
                        usage_metadata={"input_tokens": rec.prompt_tokens, "output_tokens": rec.completion_tokens,
                                        "total_tokens": rec.prompt_tokens + rec.completion_tokens},
                        response_metadata=meta)
        return ChatResult(generations=[ChatGeneration(message=msg)], llm_output={"kubesage": rec.as_dict()})

    def _request(self, messages: list[BaseMessage], stop: list[str] | None, kw: dict[str, Any]) -> ChatRequest:
        kw.pop("ls_structured_output_format", None)
        schema, schema_name = None, "answer"
        rf = kw.pop("response_format", None)
        if isinstance(rf, dict):
            if rf.get("type") == "json_schema":
                js = rf.get("json_schema") or {}
                schema, schema_name = js.get("schema") or {}, js.get("name") or "answer"
            elif rf.get("type") == "json_object":
                schema = rf.get("schema") or {"type": "object"}
        tool_choice = kw.pop("tool_choice", None)
        if isinstance(tool_choice, bool):
            tool_choice = "required" if tool_choice else None
        unknown = set(kw) - set(_CALL_KEYS) - {"tools"}
        if unknown:
            raise TypeError(f"unsupported arguments for the kubesage gateway: {sorted(unknown)}")
        get = lambda k: kw[k] if k in kw else getattr(self, k)  # noqa: E731 - per-call value, else the field
        return ChatRequest(
            messages=convert_to_openai_messages(messages), tools=list(kw.get("tools") or []),
            tool_choice=tool_choice, schema=schema, schema_name=schema_name, max_tokens=get("max_tokens"),
            temperature=get("temperature"), stop=stop, category=get("category"),
            principal=principal_scope(get("principal"), get("tenant")), policy=get("policy"),
            verifier=get("verifier"), min_similarity=get("min_similarity"), use_cache=bool(get("use_cache")))

    def bind_tools(self, tools: Sequence[dict[str, Any] | type | Callable | BaseTool], *,
                   tool_choice: str | dict | bool | None = None,
                   **kwargs: Any) -> Runnable[LanguageModelInput, AIMessage]:
        """Offer tools; `tool_choice` may be a tool name, "auto", "none", "any"/"required" or True."""
        kwargs.pop("parallel_tool_calls", None)  # one call per turn is what the local tier produces anyway
        kwargs.pop("strict", None)  # arguments are always validated against the schema
        formatted = [convert_to_openai_tool(t) for t in tools]
        names = {t["function"]["name"] for t in formatted}
        if isinstance(tool_choice, str) and tool_choice in names:
            tool_choice = {"type": "function", "function": {"name": tool_choice}}
        elif tool_choice is True:
            tool_choice = "required"
        return self.bind(tools=formatted, tool_choice=tool_choice, **kwargs)

    def with_structured_output(self, schema: dict[str, Any] | type, *, include_raw: bool = False,
                               method: str = "function_calling", **kwargs: Any) -> Runnable:
        """Structured answers. `function_calling` (default) forces a tool shaped like `schema`;
        `json_schema` asks for a JSON answer constrained by the schema. Both are grammar-constrained locally."""
        if method != "json_schema":
            return super().with_structured_output(schema, include_raw=include_raw, **kwargs)
        is_model = isinstance(schema, type) and issubclass(schema, BaseModel)
        json_schema = convert_to_json_schema(schema)
        name = json_schema.get("title", "answer")
        llm = self.bind(response_format={"type": "json_schema", "json_schema": {"name": name, "schema": json_schema}},
                        ls_structured_output_format={"kwargs": {"method": "json_schema"}, "schema": schema},
                        **kwargs)
        parser = PydanticOutputParser(pydantic_object=schema) if is_model else JsonOutputParser()
        if include_raw:
            assign = RunnablePassthrough.assign(parsed=itemgetter("raw") | parser, parsing_error=lambda _: None)
            fallback = RunnablePassthrough.assign(parsed=lambda _: None)
            return RunnableMap(raw=llm) | assign.with_fallbacks([fallback], exception_key="parsing_error")
        return llm | parser
