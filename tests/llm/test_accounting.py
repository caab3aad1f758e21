"""Accounting: cost estimates and the counters a /metrics endpoint serves."""

from __future__ import annotations

from llm.accounting import CallRecord, Metrics, estimate_cost


def test_cost_uses_per_million_token_prices():
    prices = {"cloud_input": 0.15, "cloud_output": 0.60}
    assert estimate_cost("cloud", 1_000_000, 1_000_000, prices) == 0.75
    assert estimate_cost("local", 1000, 1000, prices) == 0.0


def test_prometheus_text_has_every_counter():
    m = Metrics()
    m.record(CallRecord("local", "explain", "local-first", "smol", latency_ms=120,
                        tiers=[{"tier": "local", "prompt_tokens": 40, "completion_tokens": 10, "cost_usd": 0.0}]))
    m.record(CallRecord("cloud", "iam", "local-first", "gpt", latency_ms=900, escalations=["low confidence: x"],
                        tiers=[{"tier": "local", "prompt_tokens": 40, "completion_tokens": 10, "cost_usd": 0.0},
                               {"tier": "cloud", "prompt_tokens": 40, "completion_tokens": 10, "cost_usd": 1e-5}]))
    m.record(CallRecord("cache-semantic", "explain", "local-first", "smol", latency_ms=3, saved_usd=2e-5))
    text = m.prometheus({"kubesage_llm_breaker_open": 0.0})
    assert 'kubesage_llm_requests_total{served_by="cache-semantic",category="explain"} 1' in text
    assert 'kubesage_llm_tokens_total{tier="local",kind="prompt"} 80' in text
    assert 'kubesage_llm_escalations_total{reason="low confidence"} 1' in text
    assert 'kubesage_llm_latency_ms_bucket{served_by="cloud",le="1000"} 1' in text
    assert "kubesage_llm_cache_saved_usd_total 2e-05" in text and "kubesage_llm_breaker_open 0.0" in text
    assert m.snapshot()["requests"]["local/explain"] == 1
