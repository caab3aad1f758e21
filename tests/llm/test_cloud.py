"""The cloud tier against a real llama_cpp.server on loopback, fronted by a proxy that injects 429/500/slowness,
plus a server that a test stops: retries, the circuit breaker and the fallback to the local tier."""

from __future__ import annotations

import time

import pytest

from llm.breaker import CircuitBreaker
from llm.config import LLMConfig
from llm.gateway import Gateway
from llm.request import ChatRequest
from llm.tiers import GatewayError
from tests.llm.conftest import make_cloud, start_llama_server, stop_process


def ask(text: str = "Say hello.", **kw) -> ChatRequest:
    kw.setdefault("max_tokens", 8)
    kw.setdefault("category", "general")
    return ChatRequest(messages=[{"role": "user", "content": text}], **kw)


def test_cloud_answers_through_the_real_server(make_gateway, proxy):
    gw = make_gateway()
    res = gw.complete(ask(policy="cloud-only"))
    rec = res.record
    assert rec.served_by == "cloud" and rec.model == "cloud-smollm2" and res.content
    assert rec.prompt_tokens > 0 and rec.completion_tokens > 0 and rec.cost_usd > 0
    assert rec.cloud_attempts == 1 and proxy.hits == 1 and rec.fallback is None


def test_cloud_structured_output_with_the_llama_server_dialect(make_gateway):
    schema = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}
    res = make_gateway().complete(ask("Is a pod a Kubernetes object? Answer in JSON.", schema=schema,
                                      max_tokens=12, policy="cloud-only"))
    assert res.record.served_by == "cloud" and res.record.rejected == []


def test_429_is_retried_then_succeeds(make_gateway, proxy):
    proxy.script("429")
    rec = make_gateway().complete(ask(policy="cloud-first")).record
    assert rec.served_by == "cloud" and rec.cloud_attempts == 2 and proxy.hits == 2 and rec.fallback is None


def test_5xx_exhausts_bounded_retries_then_falls_back_to_local(make_gateway, proxy):
    proxy.reset("500")
    res = make_gateway(cloud_kw={"retries": 2}).complete(ask(policy="cloud-first"))
    rec = res.record
    assert rec.served_by == "local" and res.content
    assert rec.fallback.startswith("server: 500") and rec.cloud_attempts == 3 and proxy.hits == 3


def test_connection_drop_falls_back_to_local(make_gateway, proxy):
    proxy.reset("drop")
    rec = make_gateway(cloud_kw={"retries": 1}).complete(ask(policy="cloud-first")).record
    assert rec.served_by == "local" and rec.fallback.startswith("connection") and proxy.hits == 2


def test_slow_cloud_times_out_and_falls_back(make_gateway, proxy):
    proxy.reset("slow:3")
    rec = make_gateway(cloud_kw={"timeout_s": 0.4, "retries": 1}).complete(ask(policy="cloud-first")).record
    assert rec.served_by == "local" and rec.fallback.startswith("timeout") and rec.cloud_attempts == 2
    before_local_ms = rec.latency_ms - rec.tiers[-1]["latency_ms"]
    assert before_local_ms < 2500  # two bounded 0.4 s attempts and a short backoff, not the proxy's 3 s each


def test_breaker_opens_skips_the_cloud_and_recovers_after_cooldown(make_gateway, proxy):
    breaker = CircuitBreaker(failure_threshold=2, cooldown_s=0.6)
    gw = make_gateway(cloud_kw={"retries": 1, "breaker": breaker})
    proxy.reset("500")
    first = gw.complete(ask(policy="cloud-first")).record
    assert first.served_by == "local" and breaker.state == "open" and proxy.hits == 2
    second = gw.complete(ask("Say hi.", policy="cloud-first")).record
    assert second.served_by == "local" and second.fallback.startswith("breaker_open") and proxy.hits == 2
    assert gw.cloud.pressure() == 1.0
    proxy.reset("pass")
    time.sleep(0.7)
    third = gw.complete(ask("Say hey.", policy="cloud-first")).record
    assert third.served_by == "cloud" and breaker.state == "closed" and proxy.hits == 1
    assert "kubesage_llm_breaker_opened_total 1.0" in gw.prometheus()


def test_cloud_only_fails_loudly_when_the_cloud_is_down(make_gateway, proxy):
    proxy.reset("500")
    with pytest.raises(GatewayError, match="cloud-only"):
        make_gateway(cloud_kw={"retries": 0}).complete(ask(policy="cloud-only"))


def test_stopped_server_falls_back_to_local(local_model, local_tier, tmp_path):
    proc, url = start_llama_server(local_model.path, tmp_path / "server.log")
    try:
        gw = Gateway(LLMConfig(), local=local_tier, cloud=make_cloud(url, retries=1))
        assert gw.complete(ask(policy="cloud-first")).record.served_by == "cloud"
    finally:
        stop_process(proc)
    rec = gw.complete(ask("Say hi.", policy="cloud-first")).record
    assert rec.served_by == "local" and rec.fallback.startswith("connection") and rec.cloud_attempts == 2
