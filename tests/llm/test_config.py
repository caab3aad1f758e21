"""`KUBESAGE_LLM_*` and `KUBESAGE_CACHE_*` settings: defaults, overrides, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from llm.config import ENV_VARS, LLMConfig, LLMConfigError
from memory.config import ENV_VARS as CACHE_ENV_VARS
from memory.config import CacheConfig, CacheConfigError


def test_defaults_are_offline_and_local_first():
    cfg = LLMConfig.from_env({})
    assert cfg.local_model == "smollm2" and cfg.cloud_base_url == "" and cfg.default_policy == "local-first"
    assert cfg.route("iam").policy == "local-first" and cfg.route("unknown").min_logprob is None


def test_overrides_and_per_category_routes():
    cfg = LLMConfig.from_env({"KUBESAGE_LLM_CLOUD_BASE_URL": "http://127.0.0.1:9/v1", "KUBESAGE_LLM_CLOUD_RETRIES": "4",
                              "KUBESAGE_LLM_IAM_POLICY": "cloud-first", "KUBESAGE_LLM_EXPLAIN_MIN_LOGPROB": "-2.5",
                              "KUBESAGE_LLM_ROUTING_MIN_LOGPROB": "none", "OPENAI_API_KEY": "sk-x",
                              "KUBESAGE_LLM_CACHE": "0"})
    assert cfg.cloud_retries == 4 and cfg.cloud_api_key == "sk-x" and not cfg.use_cache
    assert cfg.route("iam").policy == "cloud-first" and cfg.route("explain").min_logprob == -2.5
    assert cfg.route("routing").min_logprob is None


@pytest.mark.parametrize("env,match", [
    ({"KUBESAGE_LLM_POLICY": "sometimes"}, "KUBESAGE_LLM_POLICY"),
    ({"KUBESAGE_LLM_IAM_POLICY": "maybe"}, "KUBESAGE_LLM_IAM_POLICY"),
    ({"KUBESAGE_LLM_CLOUD_TIMEOUT": "soon"}, "KUBESAGE_LLM_CLOUD_TIMEOUT"),
])
def test_bad_values_name_the_variable(env, match):
    with pytest.raises(LLMConfigError, match=match):
        LLMConfig.from_env(env)


def test_cache_config_lives_under_kubesage_home_and_takes_category_overrides(tmp_path):
    cfg = CacheConfig.from_env({"KUBESAGE_HOME": str(tmp_path), "KUBESAGE_CACHE_EXPLAIN_TTL": "60",
                                "KUBESAGE_CACHE_RUNBOOK_CACHEABLE": "1", "KUBESAGE_CACHE_THRESHOLD_FLOOR": "0.9"})
    assert cfg.dir == tmp_path / "cache" and cfg.threshold_floor == 0.9
    assert cfg.policy("explain").ttl_s == 60 and cfg.policy("runbook").cacheable
    assert not cfg.policy("never-heard-of-it").cacheable
    with pytest.raises(CacheConfigError, match="KUBESAGE_CACHE_IAM_QUOTA"):
        CacheConfig.from_env({"KUBESAGE_CACHE_IAM_QUOTA": "lots"}, home=Path("/tmp"))


def test_every_variable_is_documented():
    assert all(k.startswith(("KUBESAGE_LLM_", "KUBESAGE_LOOP_")) for k in ENV_VARS)
    # KUBESAGE_CHROMA_URL: the shared cache server is a deployment setting beside KUBESAGE_DATABASE_URL
    assert all(k.startswith("KUBESAGE_CACHE_") or k == "KUBESAGE_CHROMA_URL" for k in CACHE_ENV_VARS)
