"""Traces: one turn through the real supervisor, the real agent loop, the real gateway (a scripted OpenAI-compatible
server over real HTTP as its cloud tier) and the real tools against a real sandbox API server produces one trace
whose spans nest turn → route and turn → agent → model / tool → Kubernetes request, with the model call's tier,
tokens and cache flag; the trace id is in the audit log and in the HTTP API's `X-Trace-Id` header, and a caller's
`traceparent` is continued. Tracing off, `span()` is the shared no-op and nothing is recorded."""

from __future__ import annotations

import gc
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from langgraph.checkpoint.memory import InMemorySaver
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from agents.audit import AuditLog
from agents.loop import Budget, run_loop
from agents.router import Route
from agents.supervisor import Supervisor
from evals.scripted_openai import Script, ScriptedOpenAI
from kubesage import settings as settings_mod
from kubesage.runtime import Runtime
from llm.factory import create_chat_model, create_gateway
from memory import tracing
from sandbox.server import SandboxServer
from server.app import create_app
from server.loopback import LoopbackServer
from tools.k8s.client import Kube, Principal

QUESTION = "checkout keeps falling over, what is going on?"
LIST_PODS = {"name": "k8s_list", "arguments": {"kind": "Pod", "namespace": "shop", "label_selector": "app=checkout"}}


class FixedRouter:
    """Every request to the logs agent: this test is about spans, not routing."""

    def route(self, text: str) -> Route:
        return Route(["logs"], 1.0, 1.0, "rule", [(text, "logs")])


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    server = SandboxServer(scenarios=["demo-shop"], speed=50.0).start()
    home = tmp_path_factory.mktemp("tracing")
    kc = server.write_kubeconfig(home / "kubeconfig")
    scripted = ScriptedOpenAI([Script([{"tool_calls": [LIST_PODS]}, {"content": "checkout is crash-looping."}],
                                      repeat_last=False)]).start()
    env = {"KUBESAGE_LLM_CLOUD_BASE_URL": scripted.url, "KUBESAGE_LLM_CLOUD_RETRIES": "0",
           "KUBESAGE_LLM_CACHE": "0", "KUBESAGE_HOME": str(home)}
    model = create_chat_model(create_gateway(env=env, home=home))
    audit = AuditLog(home / "audit.log")
    sup = Supervisor(kube_for=lambda p: Kube.from_kubeconfig(str(kc), principal=p), router=FixedRouter(),
                     audit=audit, checkpointer=InMemorySaver(), llm=model,
                     agents={"logs": lambda ctx: run_loop(ctx, "logs", budget=Budget(max_steps=4))})
    mp = pytest.MonkeyPatch()
    mp.setenv("KUBESAGE_LLM_CLOUD_BASE_URL", scripted.url)  # the loop's tier choice reads it
    mp.delenv("KUBESAGE_LOOP_SHIM", raising=False)
    yield {"sup": sup, "audit": audit, "kc": kc, "home": home, "scripted": scripted}
    mp.undo()
    scripted.close()
    gc.collect()  # finished API clients' idle keep-alive TLS connections would hold the sandbox's shutdown 10 s
    server.stop()


@pytest.fixture()
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    tracing.configure(exporter=exporter)
    yield exporter
    tracing.reset()


def _tree(exporter: InMemorySpanExporter) -> tuple[Any, dict[int, Any], dict[int, list[Any]]]:
    found = exporter.get_finished_spans()
    by_id = {s.context.span_id: s for s in found}
    children: dict[int, list[Any]] = {}
    for s in found:
        if s.parent is not None:
            children.setdefault(s.parent.span_id, []).append(s)
    roots = [s for s in found if s.parent is None]
    assert len(roots) == 1, [s.name for s in roots]
    assert {s.context.trace_id for s in found} == {roots[0].context.trace_id}
    return roots[0], by_id, children


def _names(spans: list[Any]) -> list[str]:
    return [s.name for s in sorted(spans, key=lambda s: s.start_time)]


def test_one_turn_is_one_trace_nested_turn_route_agent_tool_model(world, spans):
    thread = uuid.uuid4().hex[:10]
    r = world["sup"].start(QUESTION, Principal(), thread, namespace="shop")
    assert r["answer"] and "crash-looping" in r["answer"]
    turn, _, children = _tree(spans)
    assert turn.name == "turn" and turn.attributes["kubesage.thread_id"] == thread
    kids = children[turn.context.span_id]
    assert _names(kids) == ["route", "agent logs"]
    assert kids[0].attributes["kubesage.route.agents"] == ("logs",)
    agent = kids[1]
    below = children[agent.context.span_id]
    assert [n for n in _names(below) if not n.startswith("k8s ")] == ["model agent", "tool k8s_list", "model agent"]
    models = [s for s in below if s.name == "model agent"]
    for m in models:
        assert m.attributes["kubesage.tier"] == "cloud" and m.attributes["kubesage.cache_hit"] is False
        assert m.attributes["gen_ai.usage.input_tokens"] > 0 and m.attributes["gen_ai.usage.output_tokens"] > 0
    tool = next(s for s in below if s.name == "tool k8s_list")
    requests = children[tool.context.span_id]
    assert [(s.attributes["http.request.method"], s.attributes["url.path"]) for s in requests] == \
        [("GET", "/api/v1/namespaces/shop/pods")]
    assert requests[0].attributes["http.response.status_code"] == 200
    assert tool.attributes["kubesage.tool.error"] is False
    # The audit line of this turn names the trace.
    trace_id = format(turn.context.trace_id, "032x")
    lines = [e for e in world["audit"].entries() if e.get("thread_id") == thread]
    assert lines and all(e.get("trace_id") == trace_id for e in lines)


def test_untraced_turns_record_nothing_and_spans_are_the_shared_no_op(world):
    assert not tracing.enabled() and tracing.span("x") is tracing.NO_SPAN and tracing.trace_id() is None
    thread = uuid.uuid4().hex[:10]
    world["sup"].start(QUESTION, Principal(), thread, namespace="shop")
    lines = [e for e in world["audit"].entries() if e.get("thread_id") == thread]
    assert lines and not any("trace_id" in e for e in lines)


def test_http_answers_carry_the_trace_id_and_continue_the_callers_trace(world, spans, tmp_path: Path):
    cfg = settings_mod.load({"KUBESAGE_HOME": str(tmp_path),
                             "KUBESAGE_API_TOKENS": json.dumps({"t": {"user": "ops", "groups": ["system:masters"]}})})
    rt = Runtime(cfg, kubeconfig=str(world["kc"]))
    rt._supervisor = world["sup"]
    srv = LoopbackServer(create_app(rt, cfg)).start()
    try:
        caller_trace = uuid.uuid4().hex
        parent = f"00-{caller_trace}-{uuid.uuid4().hex[:16]}-01"
        r = httpx.post(srv.url + "/v1/threads", json={"text": QUESTION, "namespace": "shop"}, timeout=60,
                       headers={"Authorization": "Bearer t", "traceparent": parent})
        assert r.status_code == 201, r.text
        assert r.headers["x-trace-id"] == caller_trace
        turn = next(s for s in spans.get_finished_spans() if s.name == "turn")
        assert format(turn.context.trace_id, "032x") == caller_trace
        http = next(s for s in spans.get_finished_spans() if s.name == "http POST")
        assert turn.parent.span_id == http.context.span_id and http.attributes["http.route"] == "/v1/threads"
        thread = r.json()["thread"]["thread_id"]
        assert {e.get("trace_id") for e in world["audit"].entries() if e.get("thread_id") == thread} == {caller_trace}
        # A streamed turn (SSE, run in a worker thread) is in the request's trace too.
        r3 = httpx.post(srv.url + f"/v1/threads/{thread}/messages?stream=true", json={"text": QUESTION + " again"},
                        headers={"Authorization": "Bearer t"}, timeout=60)
        assert r3.status_code == 200 and "event: answer" in r3.text
        streamed = r3.headers["x-trace-id"]
        assert streamed != caller_trace
        assert any(s.name == "turn" and format(s.context.trace_id, "032x") == streamed
                   for s in spans.get_finished_spans())
        # Without a traceparent the request starts its own trace, and says which.
        r2 = httpx.get(srv.url + "/v1/threads", headers={"Authorization": "Bearer t"}, timeout=30)
        assert len(r2.headers["x-trace-id"]) == 32 and r2.headers["x-trace-id"] != caller_trace
    finally:
        srv.stop()
        rt.close()


def test_otlp_endpoint_from_the_setting_or_the_standard_variables():
    assert tracing.endpoint_from("http://collector:4318", {}) == ("http://collector:4318", False)
    assert tracing.endpoint_from("", {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}) == ("http://c:4318", False)
    assert tracing.endpoint_from("", {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318",
                                      "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://t:4318/v1/traces"}) == \
        ("http://t:4318/v1/traces", True)
    assert tracing.configure("", env={}) is False and not tracing.enabled()
    assert tracing.configure("", env={"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_SDK_DISABLED": "true"}) \
        is False
    with pytest.raises(tracing.TracingError, match="not supported"):
        tracing.configure("http://c:4318", env={"OTEL_EXPORTER_OTLP_PROTOCOL": "carrier-pigeon"})
    assert not tracing.enabled()


def test_spans_reach_an_otlp_http_collector(world):
    """The real OTLP/HTTP exporter against a loopback receiver that decodes what arrives (protobuf)."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from threading import Thread

    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    got: list[tuple[str, str, bytes]] = []

    class Collector(BaseHTTPRequestHandler):
        def log_message(self, *a: Any) -> None:
            pass

        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            got.append((self.path, self.headers.get("content-type", ""),
                        self.rfile.read(int(self.headers.get("content-length") or 0))))
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

    collector = ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    Thread(target=collector.serve_forever, daemon=True).start()
    try:
        assert tracing.configure(f"http://127.0.0.1:{collector.server_address[1]}", env={"OTEL_SERVICE_NAME": "ks"})
        thread = uuid.uuid4().hex[:10]
        world["sup"].start(QUESTION, Principal(), thread, namespace="shop")
        tracing.reset()  # shuts the provider down: the batch is flushed
    finally:
        collector.shutdown()
    assert got and all(path == "/v1/traces" and ctype == "application/x-protobuf" for path, ctype, _ in got)
    names, services = [], set()
    for _, _, body in got:
        req = ExportTraceServiceRequest.FromString(body)
        for rs in req.resource_spans:
            services |= {a.value.string_value for a in rs.resource.attributes if a.key == "service.name"}
            names += [s.name for ss in rs.scope_spans for s in ss.spans]
    assert services == {"ks"}
    assert {"turn", "route", "agent logs", "model agent", "tool k8s_list"} <= set(names)
