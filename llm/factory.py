"""Build a gateway (and its chat model) from the environment: the one place the tiers are wired together."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from llm.accounting import Metrics
from llm.breaker import CircuitBreaker
from llm.chat_model import GatewayChatModel
from llm.cloud import CloudTier
from llm.config import LLMConfig
from llm.gateway import Gateway
from llm.local import LocalTier, resolve_model
from memory import CacheConfig, SemanticCache


def kubesage_home(env: Mapping[str, str] | None = None) -> Path:
    """$KUBESAGE_HOME, else ~/.kubesage: every file the gateway writes lives under it."""
    env = os.environ if env is None else env
    return Path(env.get("KUBESAGE_HOME") or Path.home() / ".kubesage").expanduser()


def create_gateway(env: Mapping[str, str] | None = None, home: Path | None = None,
                   config: LLMConfig | None = None, cache_config: CacheConfig | None = None,
                   cache: SemanticCache | None = None, local: LocalTier | None = None) -> Gateway:
    """A gateway configured from `KUBESAGE_LLM_*` / `KUBESAGE_CACHE_*` (or the objects passed in). The local model
    loads on first use; the cloud tier exists only when a base URL is set."""
    env = os.environ if env is None else env
    home = home or kubesage_home(env)
    config = config or LLMConfig.from_env(env)
    if local is None:
        model = resolve_model(config.local_model, home, config.local_chat_format)
        local = LocalTier(model, n_ctx=config.local_ctx, threads=config.local_threads,
                          max_tokens=config.max_tokens, temperature=config.temperature)
    cloud = None
    if config.cloud_base_url:
        cloud = CloudTier(config.cloud_base_url, config.cloud_api_key, config.cloud_model,
                          timeout_s=config.cloud_timeout_s, retries=config.cloud_retries,
                          backoff_s=config.backoff_s, backoff_max_s=config.backoff_max_s,
                          structured=config.cloud_structured,
                          breaker=CircuitBreaker(config.breaker_failures, config.breaker_cooldown_s),
                          slow_s=config.slow_s)
    if cache is None and config.use_cache:
        cache = SemanticCache(cache_config or CacheConfig.from_env(env, home=home))
    return Gateway(config, local=local, cloud=cloud, cache=cache, metrics=Metrics())


def create_chat_model(gateway: Gateway | None = None, **defaults: Any) -> GatewayChatModel:
    """The gateway as a LangChain chat model; `defaults` are per-call settings (category, principal, …)."""
    return GatewayChatModel(gateway=gateway or create_gateway(), **defaults)
