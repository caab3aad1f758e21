"""The cloud tier: any OpenAI-compatible endpoint through the `openai` SDK, with bounded retries and a breaker.

Why retries live here and not in the SDK (`max_retries=0`): the gateway must know how many attempts were made,
feed each failure to the circuit breaker, honour a short Retry-After, and give up within a bounded time so the
turn can still be answered locally. Backoff is "full jitter": sleep uniform(0, min(cap, base·2^attempt)).
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable
from typing import Any

from llm.breaker import CircuitBreaker
from llm.request import ChatRequest, openai_body
from llm.tiers import CloudError, TierOutput, parse_arguments


class _Health:
    """Moving averages of cloud failures and latency: the load signal for the cache's adaptive thresholds."""

    def __init__(self, alpha: float = 0.3) -> None:
        self.alpha = alpha
        self.fail = 0.0
        self.latency_s = 0.0
        self._lock = threading.Lock()

    def observe(self, ok: bool, latency_s: float) -> None:
        with self._lock:
            self.fail = (1 - self.alpha) * self.fail + self.alpha * (0.0 if ok else 1.0)
            self.latency_s = (1 - self.alpha) * self.latency_s + self.alpha * latency_s


class CloudTier:
    """Calls an OpenAI-compatible chat endpoint; raises CloudError once retries are spent or the breaker is open."""

    tier = "cloud"

    def __init__(self, base_url: str, api_key: str, model: str, timeout_s: float = 30.0, retries: int = 2,
                 backoff_s: float = 0.5, backoff_max_s: float = 8.0, structured: str = "json_schema",
                 breaker: CircuitBreaker | None = None, slow_s: float = 10.0,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        import openai

        self.name = model
        self.base_url = base_url
        self.retries = max(0, retries)
        self.backoff_s = backoff_s
        self.backoff_max_s = backoff_max_s
        self.structured = structured
        self.breaker = breaker or CircuitBreaker()
        self.slow_s = slow_s
        self.health = _Health()
        self._sleep = sleep
        self._client = openai.OpenAI(base_url=base_url, api_key=api_key or "sk-no-key-set", timeout=timeout_s,
                                     max_retries=0)

    def pressure(self) -> float:
        """0 healthy … 1 unusable: 1 while the breaker is not closed, else the larger of the recent failure rate
        and how far recent latency is past half of `slow_s`."""
        if self.breaker.state != "closed":
            return 1.0
        half = self.slow_s / 2
        slow = min(1.0, max(0.0, (self.health.latency_s - half) / half)) if half > 0 else 0.0
        return max(self.health.fail, slow)

    def _request(self, req: ChatRequest) -> dict[str, Any]:
        return openai_body(req, self.name, self.structured)

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        delay = random.uniform(0, min(self.backoff_max_s, self.backoff_s * (2 ** attempt)))
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.backoff_max_s))
        return delay

    def complete(self, req: ChatRequest) -> TierOutput:
        """One answer from the cloud, or CloudError saying what failed and after how many attempts."""
        import openai

        kw = self._request(req)
        attempts = 0
        for attempt in range(self.retries + 1):
            if not self.breaker.allow():
                raise CloudError("breaker_open", f"circuit breaker open, next trial in "
                                 f"{self.breaker.retry_in():.1f}s", attempts)
            attempts += 1
            t0 = time.perf_counter()
            retry_after = None
            try:
                resp = self._client.chat.completions.create(**kw)
            except openai.APITimeoutError as e:
                kind, detail, retryable = "timeout", str(e) or "request timed out", True
            except openai.APIConnectionError as e:
                kind, detail, retryable = "connection", str(e.__cause__ or e), True
            except openai.RateLimitError as e:
                kind, detail, retryable = "rate_limit", f"429 {_short(e)}", True
                retry_after = _retry_after(e)
            except openai.APIStatusError as e:
                if e.status_code >= 500 or e.status_code in (408, 409):
                    kind, detail, retryable = "server", f"{e.status_code} {_short(e)}", True
                else:
                    kind, detail, retryable = "client", f"{e.status_code} {_short(e)}", False
            except (openai.APIError, json.JSONDecodeError, ValueError) as e:
                kind, detail, retryable = "server", f"unusable response: {e}", True
            else:
                latency = time.perf_counter() - t0
                self.breaker.record_success()
                self.health.observe(True, latency)
                return self._output(resp, latency * 1000, attempts)
            latency = time.perf_counter() - t0
            if not retryable:
                # the service answered: our request was wrong (bad model name, key, payload), not the cloud
                self.breaker.record_success()
                raise CloudError(kind, detail, attempts, retryable=False)
            self.health.observe(False, latency)
            self.breaker.record_failure()
            if attempt < self.retries:
                self._sleep(self._backoff(attempt, retry_after))
                continue
            raise CloudError(kind, detail, attempts)
        raise CloudError("server", "no attempt made", attempts)  # unreachable: the loop returns or raises

    def _output(self, resp: Any, latency_ms: float, attempts: int) -> TierOutput:
        if not getattr(resp, "choices", None):
            raise CloudError("server", "response has no choices", attempts)
        choice = resp.choices[0]
        msg = choice.message
        calls = []
        for tc in msg.tool_calls or []:
            fn = getattr(tc, "function", None)
            if fn is None:
                continue
            args, err = parse_arguments(fn.arguments)
            call = {"id": tc.id or f"call_{len(calls)}", "name": fn.name, "args": args, "raw": fn.arguments or ""}
            if err:
                call["error"] = err
            calls.append(call)
        usage = resp.usage
        return TierOutput(tier="cloud", model=getattr(resp, "model", None) or self.name, content=msg.content or "",
                          tool_calls=calls, prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
                          completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
                          finish_reason=choice.finish_reason or "", latency_ms=latency_ms, attempts=attempts)


def _short(e: Exception) -> str:
    text = getattr(e, "message", None) or str(e)
    return text[:200]


def _retry_after(e: Any) -> float | None:
    try:
        value = e.response.headers.get("retry-after")
        return float(value) if value is not None else None
    except (AttributeError, ValueError, TypeError):
        return None
