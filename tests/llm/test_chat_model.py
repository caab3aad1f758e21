"""The gateway as a LangChain chat model: invoke, bind_tools, with_structured_output, per-call settings, cache
partitions, and a LangGraph node using it unchanged."""

from __future__ import annotations

from typing import TypedDict

import pytest
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.tools import tool
from pydantic import BaseModel

from llm.chat_model import GatewayChatModel


@tool
def list_pods(namespace: str) -> str:
    """List the pods in a namespace."""
    return ""


@tool
def get_logs(pod: str, namespace: str) -> str:
    """Get the logs of a pod."""
    return ""


class Scale(BaseModel):
    """Scale a deployment to a number of replicas."""

    deployment: str
    replicas: int


@pytest.fixture
def model(make_gateway):
    return GatewayChatModel(gateway=make_gateway(cloud=False), category="explain", principal="alice",
                            max_tokens=12, policy="local-only")


def test_invoke_returns_an_ai_message_that_says_who_served_it(model):
    msg = model.invoke("What is a Kubernetes pod? One sentence.")
    assert isinstance(msg, AIMessage) and msg.content
    assert msg.response_metadata["served_by"] == "local"
    assert msg.usage_metadata["input_tokens"] > 0 and msg.usage_metadata["output_tokens"] > 0
    rec = msg.response_metadata["kubesage"]
    assert rec["category"] == "explain" and rec["latency_ms"] > 0 and rec["model"].startswith("smollm2")


def test_cache_hits_respect_the_principal(model):
    q = "What is a Kubernetes pod? One sentence."
    first = model.invoke(q)
    if not first.response_metadata["kubesage"]["verified"]:
        pytest.skip("the local answer failed its confidence bar, so it was rightly not cached")
    assert model.invoke(q).response_metadata["served_by"] == "cache-exact"
    assert model.invoke("explain what a pod is in kubernetes, one sentence").response_metadata["served_by"] \
        in ("cache-semantic", "local")
    assert model.bind(principal="bob").invoke(q).response_metadata["served_by"] == "local"


def test_bind_tools_forced_returns_a_tool_call(model):
    msg = model.bind_tools([list_pods, get_logs], tool_choice="list_pods").bind(category="routing") \
        .invoke("list the pods in namespace shop")
    assert [c["name"] for c in msg.tool_calls] == ["list_pods"]
    assert isinstance(msg.tool_calls[0]["args"].get("namespace"), str) and msg.tool_calls[0]["id"]


def test_bind_tools_auto_is_structurally_valid(model):
    msg = model.bind_tools([list_pods, get_logs]).invoke("show me the logs of pod api-1 in namespace shop")
    assert msg.tool_calls or msg.content
    assert {c["name"] for c in msg.tool_calls} <= {"list_pods", "get_logs"}


@pytest.mark.parametrize("method", ["function_calling", "json_schema"])
def test_with_structured_output_returns_the_pydantic_object(model, method):
    out = model.with_structured_output(Scale, method=method).bind(category="plan", max_tokens=40) \
        .invoke("Scale deployment web to 3 replicas.")
    assert isinstance(out, Scale) and isinstance(out.replicas, int)


def test_structured_output_include_raw(model):
    # per-call settings that must reach the model inside a structured-output chain: set them on the model
    out = model.for_call(max_tokens=40).with_structured_output(Scale, include_raw=True) \
        .invoke("Scale deployment web to 3 replicas.")
    assert isinstance(out["raw"], AIMessage) and out["parsing_error"] is None and isinstance(out["parsed"], Scale)


def test_per_call_settings_and_principal_objects(model):
    class Principal:
        user, groups = "carol", ["dev", "admins"]

    msg = model.for_call(category="diagnosis", principal=Principal()).invoke([HumanMessage("Say hi.")])
    assert msg.response_metadata["kubesage"]["category"] == "diagnosis"
    with pytest.raises(TypeError, match="unknown per-call"):
        model.for_call(colour="blue")
    with pytest.raises(TypeError, match="unsupported arguments"):
        model.invoke("hi", colour="blue")


def test_a_langgraph_node_uses_it_unchanged(model):
    from langgraph.graph import END, START, StateGraph

    class State(TypedDict):
        question: str
        answer: str
        served_by: str

    def node(state: State) -> dict:
        msg = model.invoke(state["question"])
        return {"answer": msg.content, "served_by": msg.response_metadata["served_by"]}

    g = StateGraph(State)
    g.add_node("answer", node)
    g.add_edge(START, "answer")
    g.add_edge("answer", END)
    out = g.compile().invoke({"question": "What is a namespace? One sentence.", "answer": "", "served_by": ""})
    assert out["answer"] and out["served_by"] == "local"


def test_llm_route_only_ever_answers_a_candidate(model):
    from llm.routing import make_llm_route

    route = make_llm_route(model, descriptions={"logs": "reads pod logs", "rbac": "checks permissions"})
    choice = route("show me the logs of pod api-1", ["logs", "rbac"])
    assert choice in ("logs", "rbac")
    assert route("anything", []) is None
