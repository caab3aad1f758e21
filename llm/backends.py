"""A deployed model backend as a gateway tier: requests spread over its replicas, prefix- and load-aware.

Why a tier of its own and not CloudTier with a load balancer URL: a Service spreads requests blindly, so a
conversation's KV-cache prefix is recomputed on whichever replica it lands, and a replica with a long queue
gets as much new work as an idle one. `BackendTier` picks the replica itself (AIBrix's prefix- and load-aware
routing), then speaks plain OpenAI-compatible HTTP to that replica (through the Kubernetes API server's pod
proxy on the sandbox, or any URL on a real cluster).

The rule (`choose`), for a request whose conversation prefix is P (its messages up to the first user message,
at most `prefix_chars` characters; `prefix_of`):
1. prefix affinity: rank replicas by rendezvous (highest-random-weight) hashing of (P, replica name); the first
   is P's home. Rendezvous hashing is consistent: adding or removing a replica moves only the prefixes whose
   home it was.
2. load: a replica's load is its running + waiting requests: this tier's own in-flight count, or the larger
   figure its /metrics last reported (`observe`, e.g. from tools.serving.scrape), whichever is higher.
3. the home wins unless its load exceeds the least-loaded replica's by more than `margin` (default 2); then the
   least-loaded replica wins (ties: the better-ranked one). The margin keeps affinity under light imbalance and
   gives it up only when a queue forms.

Imports nothing outside llm/ (llm may only import memory): replica URLs and credentials come in as plain
values (tools.serving.backend_replicas and proxy_auth produce them).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from llm.breaker import CircuitBreaker
from llm.request import ChatRequest, openai_body
from llm.tiers import CloudError, TierOutput, parse_arguments

Replicas = Callable[[], list[dict[str, str]]]  # [{"name": ..., "url": OpenAI base without /v1}, ...]


def prefix_of(messages: list[dict[str, Any]], chars: int = 256) -> str:
    """The conversation prefix that decides affinity: roles and text of the messages up to and including the first
    user message, at most `chars` characters. Every later turn of a conversation repeats it (same replica, whose
    KV cache holds it), and requests sharing a long system prompt share it too."""
    parts = []
    for m in messages:
        content = m.get("content") or ""
        if isinstance(content, list):
            content = " ".join(b.get("text", "") if isinstance(b, dict) else str(b) for b in content)
        parts.append(f"{m.get('role', 'user')}:{content}")
        if m.get("role") == "user":
            break
    return "\n".join(parts)[:chars]


def rendezvous(prefix: str, names: list[str]) -> list[str]:
    """Replica names ranked for a prefix, best first (highest-random-weight hashing)."""
    def weight(name: str) -> int:
        return int.from_bytes(hashlib.blake2b(f"{prefix}\x00{name}".encode(), digest_size=8).digest(), "big")
    return sorted(names, key=weight, reverse=True)


@dataclass
class RoutingStats:
    """How choices went: per replica requests, how often the prefix's home won, how often load overrode it."""

    requests: dict[str, int] = field(default_factory=dict)
    affinity: int = 0
    spilled: int = 0

    def as_dict(self) -> dict[str, Any]:
        total = self.affinity + self.spilled
        counts = list(self.requests.values())
        mean = sum(counts) / len(counts) if counts else 0.0
        return {"requests": dict(self.requests), "affinity_hits": self.affinity, "spilled": self.spilled,
                "affinity_rate": round(self.affinity / total, 4) if total else 0.0,
                "max_over_mean": round(max(counts) / mean, 4) if mean else 0.0}


class BackendTier:
    """OpenAI-compatible replicas of one deployed backend, as a gateway tier (`complete(req) -> TierOutput`)."""

    tier = "backend"

    def __init__(self, replicas: Replicas | list[dict[str, str]], model: str, headers: dict[str, str] | None = None,
                 verify: Any = True, cert: Any = None, timeout_s: float = 120.0, margin: float = 2.0,
                 prefix_chars: int = 256, structured: str = "json_object_schema", refresh_s: float = 5.0,
                 breaker: CircuitBreaker | None = None) -> None:
        self.name = model
        self._replicas = replicas if callable(replicas) else (lambda: list(replicas))
        self.margin = margin
        self.prefix_chars = prefix_chars
        self.structured = structured
        self.refresh_s = refresh_s
        self.breaker = breaker or CircuitBreaker()
        self.stats = RoutingStats()
        self._client = httpx.Client(headers=headers or {}, verify=verify, cert=cert, timeout=timeout_s)
        self._lock = threading.RLock()  # choose() reads loads while complete() holds it
        self._in_flight: dict[str, int] = {}
        self._reported: dict[str, float] = {}
        self._cache: tuple[float, list[dict[str, str]]] = (0.0, [])

    # -- replicas and load -------------------------------------------------------------------------------------
    def replicas(self) -> list[dict[str, str]]:
        """The current replicas (re-read at most every `refresh_s` seconds)."""
        t, cached = self._cache
        if cached and time.monotonic() - t < self.refresh_s:
            return cached
        fresh = self._replicas()
        self._cache = (time.monotonic(), fresh)
        return fresh

    def observe(self, name: str, running: float, waiting: float) -> None:
        """A replica's own report (from /metrics or /slots): running + waiting requests."""
        with self._lock:
            self._reported[name] = running + waiting

    def load(self, name: str) -> float:
        with self._lock:
            return max(float(self._in_flight.get(name, 0)), self._reported.get(name, 0.0))

    def choose(self, prefix: str, names: list[str]) -> tuple[str, bool]:
        """(replica, whether it is the prefix's home) by the rule in the module docstring."""
        ranked = rendezvous(prefix, names)
        home = ranked[0]
        loads = {n: self.load(n) for n in ranked}
        least = min(ranked, key=lambda n: (loads[n], ranked.index(n)))
        if loads[home] - loads[least] > self.margin:
            return least, False
        return home, True

    # -- the tier ----------------------------------------------------------------------------------------------
    def pressure(self) -> float:
        """0 healthy … 1 unusable (the gateway's cache reads it): 1 while the breaker is not closed."""
        return 0.0 if self.breaker.state == "closed" else 1.0

    def complete(self, req: ChatRequest) -> TierOutput:
        """One answer from the chosen replica; CloudError (so the gateway falls back) when none can answer."""
        if not self.breaker.allow():
            raise CloudError("breaker_open", f"backend {self.name}: circuit breaker open", 0)
        try:
            replicas = self.replicas()
        except Exception as e:  # noqa: BLE001 - listing endpoints failed: say so, let the gateway fall back
            self.breaker.record_failure()
            raise CloudError("connection", f"backend {self.name}: cannot list replicas: {e}", 0) from None
        if not replicas:
            self.breaker.record_failure()
            raise CloudError("connection", f"backend {self.name}: no ready replica", 0)
        urls = {r["name"]: r["url"].rstrip("/") for r in replicas}
        with self._lock:
            name, home = self.choose(prefix_of(req.messages, self.prefix_chars), sorted(urls))
            self._in_flight[name] = self._in_flight.get(name, 0) + 1
            self.stats.requests[name] = self.stats.requests.get(name, 0) + 1
            if home:
                self.stats.affinity += 1
            else:
                self.stats.spilled += 1
        t0 = time.perf_counter()
        try:
            resp = self._client.post(f"{urls[name]}/v1/chat/completions", json=openai_body(req, self.name, self.structured))
        except httpx.TimeoutException as e:
            self.breaker.record_failure()
            raise CloudError("timeout", f"backend {self.name} replica {name}: {e}", 1) from None
        except httpx.HTTPError as e:
            self.breaker.record_failure()
            raise CloudError("connection", f"backend {self.name} replica {name}: {e}", 1) from None
        finally:
            with self._lock:
                self._in_flight[name] -= 1
        latency = (time.perf_counter() - t0) * 1000
        if resp.status_code >= 400:
            retryable = resp.status_code >= 500 or resp.status_code == 429
            if retryable:
                self.breaker.record_failure()
            kind = "server" if resp.status_code >= 500 else ("rate_limit" if resp.status_code == 429 else "client")
            raise CloudError(kind, f"backend {self.name} replica {name}: {resp.status_code} {resp.text[:200]}", 1,
                             retryable=retryable)
        self.breaker.record_success()
        try:
            return self._output(resp.json(), latency, name)
        except (ValueError, KeyError, IndexError, TypeError) as e:
            raise CloudError("server", f"backend {self.name} replica {name}: unusable response: {e}", 1) from None

    def _output(self, doc: dict[str, Any], latency_ms: float, replica: str) -> TierOutput:
        choice = doc["choices"][0]
        msg = choice.get("message") or {}
        calls = []
        for tc in msg.get("tool_calls") or []:
            fn = tc.get("function") or {}
            args, err = parse_arguments(fn.get("arguments"))
            call = {"id": tc.get("id") or f"call_{len(calls)}", "name": fn.get("name", ""), "args": args,
                    "raw": fn.get("arguments") if isinstance(fn.get("arguments"), str) else json.dumps(args)}
            if err:
                call["error"] = err
            calls.append(call)
        usage = doc.get("usage") or {}
        return TierOutput(tier=self.tier, model=f"{self.name}@{replica}", content=msg.get("content") or "",
                          tool_calls=calls, prompt_tokens=int(usage.get("prompt_tokens") or 0),
                          completion_tokens=int(usage.get("completion_tokens") or 0),
                          finish_reason=choice.get("finish_reason") or "", latency_ms=latency_ms)

    def close(self) -> None:
        self._client.close()


def gateway_with_backend(tier: BackendTier, config: Any = None, local: Any = None, cache: Any = None) -> Any:
    """A gateway whose secondary ("cloud") tier is the backend: `cloud-first`/`cloud-only` requests and local
    escalations go to it; outages fall back to `local` when there is one."""
    from llm.accounting import Metrics
    from llm.config import LLMConfig
    from llm.gateway import Gateway

    return Gateway(config or LLMConfig.from_env({}), local=local, cloud=tier, cache=cache, metrics=Metrics())
