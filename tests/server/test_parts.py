"""The server's small parts on their own: answer cache (TTL, partitions, never a proposed change), token auth,
the new settings, and the Prometheus text."""

from __future__ import annotations

import json

import pytest

from kubesage import settings as settings_mod
from server.answer_cache import AnswerCache
from server.auth import TokenAuth
from server.errors import ApiError
from server.metrics import HttpMetrics

READ = {"answer": "3 pods", "approval": None, "outcomes": []}


def test_answer_cache_ttl_partitions_and_normalization():
    now = [100.0]
    cache = AnswerCache(ttl_s=15, clock=lambda: now[0])
    assert cache.put(cache.key("alice|", "What fails in shop?", "shop"), READ)
    assert cache.get(cache.key("alice|", "  what   FAILS in shop ", "shop")) == READ
    assert cache.get(cache.key("bob|", "what fails in shop", "shop")) is None          # another principal
    assert cache.get(cache.key("alice|admins", "what fails in shop", "shop")) is None  # other groups, other rights
    assert cache.get(cache.key("alice|", "what fails in shop", "prod")) is None        # another namespace
    now[0] += 15.01
    assert cache.get(cache.key("alice|", "what fails in shop", "shop")) is None        # expired


def test_answer_cache_never_stores_changes():
    cache = AnswerCache(ttl_s=15)
    k = cache.key("alice|", "scale web to 3", None)
    assert not cache.put(k, {**READ, "approval": {"id": "a1", "action": "scale"}})
    assert not cache.put(k, {**READ, "outcomes": [{"status": "applied"}]})
    assert cache.get(k) is None
    assert not AnswerCache(ttl_s=0).put(k, READ)  # ttl 0 turns the cache off


def test_answer_cache_is_bounded():
    cache = AnswerCache(ttl_s=15, max_entries=2)
    for q in ("a", "b", "c"):
        cache.put(cache.key("u|", q, None), READ)
    assert cache.get(cache.key("u|", "a", None)) is None and cache.get(cache.key("u|", "c", None)) == READ


def test_token_auth():
    auth = TokenAuth({"s3cret": {"user": "alice", "groups": ["shop-devs"]}})
    who = auth.resolve("Bearer s3cret")
    assert who.principal.user == "alice" and who.principal.groups == ("shop-devs",) and who.scope == json.dumps(["alice", ["shop-devs"]], separators=(",", ":"))
    for header in (None, "", "Basic s3cret", "Bearer", "Bearer s3cre", "Bearer s3cret2"):
        with pytest.raises(ApiError) as e:
            auth.resolve(header)
        assert e.value.status == 401
    with pytest.raises(ApiError, match="no API tokens configured"):
        TokenAuth({}).resolve("Bearer s3cret")


def test_settings_server_fields(tmp_path):
    (tmp_path / "config.yaml").write_text("api_tokens:\n  t1: {user: alice, groups: [shop-devs]}\n"
                                          "slack_users:\n  U123: {user: bob}\nserver_port: 9000\n")
    cfg = settings_mod.load({"KUBESAGE_HOME": str(tmp_path), "KUBESAGE_MAX_REQUEST_BYTES": "1024"})
    assert cfg.api_tokens == {"t1": {"user": "alice", "groups": ["shop-devs"]}}
    assert cfg.slack_users == {"U123": {"user": "bob", "groups": []}}
    assert (cfg.server_port, cfg.max_request_bytes, cfg.server_host) == (9000, 1024, "127.0.0.1")
    assert (cfg.slack_api_url, cfg.answer_cache_ttl) == ("https://slack.com/api/", 15.0)
    assert "t1" not in cfg.describe()["api_tokens"] and "alice" in cfg.describe()["api_tokens"]
    env = settings_mod.load({"KUBESAGE_HOME": str(tmp_path), "KUBESAGE_API_TOKENS": '{"t2": {"user": "carol"}}'})
    assert env.api_tokens == {"t2": {"user": "carol", "groups": []}}  # environment beats file


@pytest.mark.parametrize("value, message", [
    ("{not json", "JSON object"), ('["t"]', "mapping"), ('{"t": {"groups": []}}', "needs a `user`"),
    ('{"t": {"user": "a", "groups": "admins"}}', "list of strings")])
def test_settings_bad_tokens_are_clear_errors(tmp_path, value, message):
    with pytest.raises(settings_mod.SettingsError, match=message):
        settings_mod.load({"KUBESAGE_HOME": str(tmp_path), "KUBESAGE_API_TOKENS": value})


def test_prometheus_text():
    m = HttpMetrics()
    m.observe("GET", "/v1/threads", 200, 0.003)
    m.observe("GET", "/v1/threads", 200, 0.3)
    m.cache_event("hit")
    text = m.render()
    assert 'kubesage_http_requests_total{method="GET",route="/v1/threads",status="200"} 2' in text
    assert 'kubesage_http_request_duration_seconds_bucket{route="/v1/threads",le="0.005"} 1' in text
    assert 'kubesage_http_request_duration_seconds_bucket{route="/v1/threads",le="+Inf"} 2' in text
    assert 'kubesage_http_answer_cache_total{kind="hit"} 1' in text


def test_metrics_include_the_llm_gateway_when_the_runtime_has_one(tmp_path):
    from types import SimpleNamespace

    from fastapi.testclient import TestClient

    from llm.accounting import Metrics
    from llm.config import LLMConfig
    from llm.factory import create_chat_model
    from llm.gateway import Gateway
    from server.app import create_app

    cfg = settings_mod.load({"KUBESAGE_HOME": str(tmp_path)})
    runtime = SimpleNamespace(supervisor=SimpleNamespace(), llm=None)
    with TestClient(create_app(runtime, cfg)) as c:
        assert "kubesage_llm_requests_total" not in c.get("/metrics").text
        runtime.llm = create_chat_model(Gateway(LLMConfig.from_env({}), local=None, cache=None, metrics=Metrics()))
        text = c.get("/metrics").text
    assert "# TYPE kubesage_llm_requests_total counter" in text and "# TYPE kubesage_llm_tokens_total" in text
    assert "kubesage_http_requests_total" in text
