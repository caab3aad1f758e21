"""Accounting: what each call cost and who served it, plus process-wide counters ready for a /metrics endpoint.

Why in the gateway: it is the one place every model call passes, so cost, latency and cache savings are
measured once, the same way, for the CLI, the server and the evals.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

SERVED_BY = ("cache-exact", "cache-semantic", "local", "cloud")
_LATENCY_BUCKETS_MS = (5, 25, 100, 250, 500, 1000, 2500, 5000, 10000, 30000)


@dataclass
class CallRecord:
    """One gateway call: who served it, how long it took, what it cost, and every decision on the way."""

    served_by: str
    category: str
    policy: str
    model: str
    latency_ms: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    saved_usd: float = 0.0  # for cache hits: what the reused answer cost when it was made
    verified: bool = True
    escalations: list[str] = field(default_factory=list)  # why the local answer was not good enough
    fallback: str | None = None  # why the preferred tier was not used (cloud error, breaker open, no cloud)
    rejected: list[str] = field(default_factory=list)  # reasons the returned answer itself failed verification
    mean_logprob: float | None = None
    similarity: float | None = None
    cache_threshold: float | None = None
    cloud_attempts: int = 0
    tiers: list[dict[str, Any]] = field(default_factory=list)  # per tier: tier, model, tokens, latency

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def estimate_cost(tier: str, prompt_tokens: int, completion_tokens: int, prices: dict[str, float]) -> float:
    """USD for one tier's tokens at the configured per-million-token prices."""
    return (prompt_tokens * prices.get(f"{tier}_input", 0.0)
            + completion_tokens * prices.get(f"{tier}_output", 0.0)) / 1e6


class Metrics:
    """Thread-safe counters; `prometheus()` renders them in the text exposition format."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: dict[tuple[str, str], int] = defaultdict(int)  # (served_by, category)
        self.tokens: dict[tuple[str, str], int] = defaultdict(int)  # (tier, prompt|completion)
        self.cost_usd: dict[str, float] = defaultdict(float)  # tier
        self.saved_usd = 0.0
        self.escalations: dict[str, int] = defaultdict(int)  # reason kind
        self.fallbacks: dict[str, int] = defaultdict(int)  # reason kind
        self.unverified = 0
        self.latency_buckets: dict[str, list[int]] = defaultdict(lambda: [0] * (len(_LATENCY_BUCKETS_MS) + 1))
        self.latency_sum_ms: dict[str, float] = defaultdict(float)

    def record(self, rec: CallRecord) -> None:
        """Count one finished call."""
        with self._lock:
            self.requests[(rec.served_by, rec.category)] += 1
            for t in rec.tiers:
                self.tokens[(t["tier"], "prompt")] += t.get("prompt_tokens", 0)
                self.tokens[(t["tier"], "completion")] += t.get("completion_tokens", 0)
                self.cost_usd[t["tier"]] += t.get("cost_usd", 0.0)
            self.saved_usd += rec.saved_usd
            for r in rec.escalations:
                self.escalations[r.split(":", 1)[0]] += 1
            if rec.fallback:
                self.fallbacks[rec.fallback.split(":", 1)[0]] += 1
            if not rec.verified:
                self.unverified += 1
            buckets = self.latency_buckets[rec.served_by]
            i = next((i for i, b in enumerate(_LATENCY_BUCKETS_MS) if rec.latency_ms <= b), len(_LATENCY_BUCKETS_MS))
            buckets[i] += 1
            self.latency_sum_ms[rec.served_by] += rec.latency_ms

    def snapshot(self) -> dict[str, Any]:
        """A JSON-friendly copy of every counter."""
        with self._lock:
            return {
                "requests": {f"{s}/{c}": n for (s, c), n in self.requests.items()},
                "tokens": {f"{t}/{k}": n for (t, k), n in self.tokens.items()},
                "cost_usd": dict(self.cost_usd), "saved_usd": self.saved_usd,
                "escalations": dict(self.escalations), "fallbacks": dict(self.fallbacks),
                "unverified": self.unverified,
            }

    def prometheus(self, extra: dict[str, float] | None = None) -> str:
        """Prometheus text format (`kubesage_llm_*`); `extra` adds gauges such as breaker state or cache stats."""
        lines: list[str] = []

        def metric(name: str, kind: str, help_: str, samples: list[tuple[str, float]]) -> None:
            lines.append(f"# HELP {name} {help_}")
            lines.append(f"# TYPE {name} {kind}")
            lines.extend(f"{name}{labels} {value}" for labels, value in samples)

        with self._lock:
            metric("kubesage_llm_requests_total", "counter", "Gateway calls by who served them.",
                   [(f'{{served_by="{s}",category="{c}"}}', n) for (s, c), n in sorted(self.requests.items())])
            metric("kubesage_llm_tokens_total", "counter", "Tokens by tier and kind.",
                   [(f'{{tier="{t}",kind="{k}"}}', n) for (t, k), n in sorted(self.tokens.items())])
            metric("kubesage_llm_cost_usd_total", "counter", "Estimated spend by tier.",
                   [(f'{{tier="{t}"}}', round(v, 8)) for t, v in sorted(self.cost_usd.items())])
            metric("kubesage_llm_cache_saved_usd_total", "counter", "Estimated spend avoided by cache hits.",
                   [("", round(self.saved_usd, 8))])
            metric("kubesage_llm_escalations_total", "counter", "Local answers escalated, by reason.",
                   [(f'{{reason="{r}"}}', n) for r, n in sorted(self.escalations.items())])
            metric("kubesage_llm_fallbacks_total", "counter", "Calls served by a fallback tier, by reason.",
                   [(f'{{reason="{r}"}}', n) for r, n in sorted(self.fallbacks.items())])
            metric("kubesage_llm_unverified_total", "counter", "Answers returned although verification failed.",
                   [("", self.unverified)])
            hist: list[tuple[str, float]] = []
            for served, buckets in sorted(self.latency_buckets.items()):
                acc = 0
                for b, n in zip((*_LATENCY_BUCKETS_MS, "+Inf"), buckets, strict=True):
                    acc += n
                    hist.append((f'_bucket{{served_by="{served}",le="{b}"}}', acc))
                hist.append((f'_sum{{served_by="{served}"}}', round(self.latency_sum_ms[served], 3)))
                hist.append((f'_count{{served_by="{served}"}}', acc))
            metric("kubesage_llm_latency_ms", "histogram", "Gateway call latency.", hist)
        for name, value in sorted((extra or {}).items()):
            metric(name, "gauge", name.replace("_", " "), [("", value)])
        return "\n".join(lines) + "\n"
