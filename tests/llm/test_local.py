"""The local tier: the bundled SmolLM2 GGUF through llama-cpp-python, grammar-constrained when asked."""

from __future__ import annotations

import json

import jsonschema

from llm.request import ChatRequest
from llm.verify import verify

SCALE = {"type": "object", "properties": {"deployment": {"type": "string"}, "replicas": {"type": "integer"}},
         "required": ["deployment", "replicas"]}
SCALE_TOOL = {"type": "function", "function": {"name": "scale", "description": "Scale a deployment.",
                                               "parameters": SCALE}}
LIST_TOOL = {"type": "function", "function": {"name": "list_pods", "description": "List the pods of a namespace.",
                                              "parameters": {"type": "object",
                                                             "properties": {"namespace": {"type": "string"}},
                                                             "required": ["namespace"]}}}


def ask(text: str, **kw) -> ChatRequest:
    return ChatRequest(messages=[{"role": "user", "content": text}], **kw)


def test_local_answers_and_measures_confidence(local_tier):
    out = local_tier.complete(ask("What is a Kubernetes pod? One sentence.", max_tokens=16))
    assert out.tier == "local" and out.content.strip()
    assert out.prompt_tokens > 5 and 0 < out.completion_tokens <= 16
    assert out.mean_logprob is not None and -10 < out.mean_logprob < 0
    assert verify(ask("x"), out) == []


def test_structured_output_is_valid_json_for_the_schema(local_tier):
    out = local_tier.complete(ask("Scale deployment web to 3 replicas.", schema=SCALE, max_tokens=40))
    jsonschema.validate(json.loads(out.content), SCALE)


def test_forced_tool_call_has_schema_valid_arguments(local_tier):
    req = ask("Scale deployment web to 3 replicas.", tools=[SCALE_TOOL], tool_choice="any", max_tokens=40)
    out = local_tier.complete(req)
    assert out.content == "" and [c["name"] for c in out.tool_calls] == ["scale"]
    jsonschema.validate(out.tool_calls[0]["args"], SCALE)
    assert verify(req, out) == []


def test_tool_choice_auto_gives_a_real_tool_or_an_answer(local_tier):
    req = ask("List the pods in namespace shop.", tools=[SCALE_TOOL, LIST_TOOL], tool_choice="auto", max_tokens=40)
    out = local_tier.complete(req)
    assert out.tool_calls or out.content
    assert all(c["name"] in ("scale", "list_pods") for c in out.tool_calls)


def test_truncated_structured_output_is_rejected_with_a_reason(local_tier):
    req = ask("Scale deployment web to 3 replicas.", schema=SCALE, max_tokens=3)
    reasons = verify(req, local_tier.complete(req))
    assert reasons and reasons[0].startswith(("format:", "schema:"))
