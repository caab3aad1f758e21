"""HTTP metrics in Prometheus text format, and the ASGI middleware that records them.

Why hand-rolled: a few counters and one histogram do not justify a dependency, and the LLM gateway already renders
its own counters in the same format (`Gateway.prometheus()`), which `/metrics` appends.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from typing import Any

# Upper bounds in seconds: the cached path answers in about a millisecond, a whole turn in up to seconds.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def _escape(v: str) -> str:
    return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class HttpMetrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: dict[tuple[str, str, int], int] = defaultdict(int)
        self.latency: dict[str, list[int]] = {}
        self.latency_sum: dict[str, float] = defaultdict(float)
        self.cache: dict[str, int] = defaultdict(int)
        self.turns: dict[str, int] = defaultdict(int)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        with self._lock:
            self.requests[(method, route, status)] += 1
            buckets = self.latency.setdefault(route, [0] * (len(BUCKETS) + 1))
            i = next((i for i, b in enumerate(BUCKETS) if seconds <= b), len(BUCKETS))
            buckets[i] += 1
            self.latency_sum[route] += seconds

    def cache_event(self, kind: str) -> None:
        """`hit`, `miss`, `store`, or `skip` (the turn proposed a change, so it is never cached)."""
        with self._lock:
            self.cache[kind] += 1

    def turn(self, outcome: str) -> None:
        with self._lock:
            self.turns[outcome] += 1

    def render(self) -> str:
        out: list[str] = []
        with self._lock:
            out += ["# HELP kubesage_http_requests_total HTTP requests by route template and status.",
                    "# TYPE kubesage_http_requests_total counter"]
            out += [f'kubesage_http_requests_total{{method="{m}",route="{_escape(r)}",status="{s}"}} {n}'
                    for (m, r, s), n in sorted(self.requests.items())]
            out += ["# HELP kubesage_http_request_duration_seconds Request latency by route template.",
                    "# TYPE kubesage_http_request_duration_seconds histogram"]
            for route, buckets in sorted(self.latency.items()):
                r, acc = _escape(route), 0
                for bound, n in zip((*BUCKETS, "+Inf"), buckets, strict=True):
                    acc += n
                    out.append(f'kubesage_http_request_duration_seconds_bucket{{route="{r}",le="{bound}"}} {acc}')
                out.append(f'kubesage_http_request_duration_seconds_sum{{route="{r}"}} {self.latency_sum[route]:.6f}')
                out.append(f'kubesage_http_request_duration_seconds_count{{route="{r}"}} {acc}')
            out += ["# HELP kubesage_http_answer_cache_total Answer-cache lookups and stores by kind.",
                    "# TYPE kubesage_http_answer_cache_total counter"]
            out += [f'kubesage_http_answer_cache_total{{kind="{k}"}} {n}' for k, n in sorted(self.cache.items())]
            out += ["# HELP kubesage_http_turns_total Supervisor turns run by the server, by outcome.",
                    "# TYPE kubesage_http_turns_total counter"]
            out += [f'kubesage_http_turns_total{{outcome="{k}"}} {n}' for k, n in sorted(self.turns.items())]
        return "\n".join(out) + "\n"


class MetricsMiddleware:
    """Pure ASGI middleware (no per-request task overhead): counts every response by route template and status."""

    def __init__(self, app: Any, metrics: HttpMetrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_status(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = scope.get("route")
            self.metrics.observe(scope.get("method", ""), getattr(route, "path", None) or "unmatched", status,
                                 time.perf_counter() - start)
