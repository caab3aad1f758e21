"""Escalation local → cloud when a verifier rejects the local answer, with the reason recorded; per-category
policies; only verified answers are cached. Real local model, real llama_cpp.server as the cloud."""

from __future__ import annotations

from dataclasses import replace

import pytest

from llm.config import CategoryRoute, LLMConfig
from llm.request import ChatRequest
from llm.tiers import GatewayError

SCHEMA = {"type": "object", "properties": {"deployment": {"type": "string"}, "replicas": {"type": "integer"}},
          "required": ["deployment", "replicas"]}


def ask(text: str = "What is a Kubernetes pod? One sentence.", **kw) -> ChatRequest:
    kw.setdefault("max_tokens", 10)
    kw.setdefault("category", "explain")
    return ChatRequest(messages=[{"role": "user", "content": text}], **kw)


def no_confidence_bar() -> LLMConfig:
    cfg = LLMConfig()
    return replace(cfg, routes={k: replace(r, min_logprob=None) for k, r in cfg.routes.items()})


def test_verified_local_answer_is_served_locally_and_cached(make_gateway, proxy):
    gw = make_gateway(config=no_confidence_bar())
    first = gw.complete(ask()).record
    assert first.served_by == "local" and first.verified and first.escalations == [] and proxy.hits == 0
    assert gw.complete(ask()).record.served_by == "cache-exact"


def test_caller_check_rejection_escalates_to_the_cloud(make_gateway, proxy):
    seen = []

    def must_mention_quota(msg) -> str | None:
        seen.append(msg.content)
        return None if "quota" in msg.content.lower() else "the answer must mention the quota"

    gw = make_gateway(config=no_confidence_bar())
    res = gw.complete(ask(verifier=must_mention_quota))
    rec = res.record
    assert rec.escalations == ["caller check: the answer must mention the quota"]
    assert rec.served_by == "cloud" and proxy.hits == 1 and len(seen) == 2  # local answer, then the cloud's
    assert [t["tier"] for t in rec.tiers] == ["local", "cloud"]
    # the cloud's answer was judged too; an answer that fails is returned, marked, and never cached
    assert rec.verified == ("quota" in res.content.lower())
    if not rec.verified:
        assert gw.complete(ask(verifier=must_mention_quota)).record.served_by != "cache-exact"


def test_low_confidence_escalates_with_the_measured_logprob(make_gateway, proxy):
    cfg = LLMConfig()
    cfg = replace(cfg, routes={**cfg.routes, "explain": CategoryRoute("local-first", min_logprob=-0.01)})
    rec = make_gateway(config=cfg).complete(ask()).record
    assert len(rec.escalations) == 1 and rec.escalations[0].startswith("low confidence: mean logprob -")
    assert rec.served_by == "cloud" and rec.mean_logprob < -0.01 and proxy.hits == 1


def test_schema_failure_escalates(make_gateway, proxy):
    rec = make_gateway(config=no_confidence_bar()).complete(
        ask("Scale deployment web to 3 replicas.", schema=SCHEMA, max_tokens=3, category="plan")).record
    assert rec.escalations and rec.escalations[0].startswith(("format:", "schema:"))
    assert rec.served_by == "cloud" and proxy.hits == 1


def test_local_only_never_calls_the_cloud(make_gateway, proxy):
    rec = make_gateway().complete(ask(verifier=lambda m: "never good enough", policy="local-only")).record
    assert rec.served_by == "local" and proxy.hits == 0 and rec.escalations == []
    assert rec.rejected == ["caller check: never good enough"] and not rec.verified


def test_escalation_with_the_cloud_down_returns_the_local_answer_marked(make_gateway, proxy):
    proxy.reset("500")
    res = make_gateway(cloud_kw={"retries": 1}).complete(ask(verifier=lambda m: False))
    rec = res.record
    assert rec.served_by == "local" and res.content and proxy.hits == 2
    assert rec.escalations == ["caller check: rejected"] and rec.fallback.startswith("server")
    assert not rec.verified


def test_cloud_first_policy_from_the_category(make_gateway, proxy):
    cfg = LLMConfig()
    cfg = replace(cfg, routes={**cfg.routes, "iam": CategoryRoute("cloud-first", None)})
    rec = make_gateway(config=cfg).complete(ask("Can alice read the reports bucket?", category="iam")).record
    assert rec.served_by == "cloud" and rec.policy == "cloud-first" and proxy.hits == 1


def test_without_a_cloud_tier_escalation_is_recorded_not_attempted(make_gateway):
    rec = make_gateway(cloud=False).complete(ask(verifier=lambda m: "no")).record
    assert rec.served_by == "local" and rec.fallback.startswith("not_configured") and not rec.verified
    with pytest.raises(GatewayError):
        make_gateway(cloud=False).complete(ask(policy="cloud-only"))


def test_load_pressure_from_a_failing_cloud_reaches_the_cache(make_gateway, proxy):
    gw = make_gateway(cloud_kw={"retries": 0})
    proxy.reset("500")
    for _ in range(3):
        gw.complete(ask("Say hi.", policy="cloud-first", category="general"))
    gw.complete(ask("Say hi.", category="explain", policy="local-only"))
    assert gw.cloud.pressure() > 0.5 and gw.cache.thresholds.pressure == pytest.approx(gw.cloud.pressure())
