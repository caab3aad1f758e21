"""Prometheus: range questions as PromQL, from a table of templates, over the documented HTTP API.

Why a table: each question kind the metrics agent answers is one PromQL template here, so the query an answer
states is exactly the one that ran, and a new kind of question is a new row, not a new branch.

Why one evaluation time per question (`at`, a little behind now): Prometheus appends a scrape a moment after its
timestamp, so the same query at the same `time` gives the same numbers only once that scrape is written. The
answer names the query and that time; anyone can run it again (`/api/v1/query?query=…&time=…`) and get the
same numbers.

The client speaks `/api/v1/query` and `/api/v1/query_range` with httpx (the HTTP API's JSON is all it needs, and
it keeps pandas, which `prometheus-api-client` imports, out of the CLI's start-up).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

# How far behind now a question is evaluated: longer than one scrape takes to be written, so a re-run at the same
# time sees the same samples.
SETTLE_S = 2.0
POINTS = 60  # a trend's range query: about this many steps over the window
COVERAGE_POINTS = 600  # how finely `first_sample` looks for a window's first sample
DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}

# Question kind -> PromQL. {sel}: the series' label matchers (namespace, and the workload's pods or Service);
# {window}: a Prometheus duration ("30m"); {n}: how many; {q}: a quantile; {rate}: a trend's rate window.
QUERIES: dict[str, str] = {
    "memory_trend": "sum(container_memory_working_set_bytes{{{sel}}})",
    "cpu_trend": "sum(rate(container_cpu_usage_seconds_total{{{sel}}}[{rate}]))",
    "cpu_rate": "sum(rate(container_cpu_usage_seconds_total{{{sel}}}[{window}]))",
    "memory_avg": "sum(avg_over_time(container_memory_working_set_bytes{{{sel}}}[{window}]))",
    "memory_max": "max(max_over_time(container_memory_working_set_bytes{{{sel}}}[{window}]))",
    "restarts": "sum(increase(kube_pod_container_status_restarts_total{{{sel}}}[{window}]))",
    "top_cpu": "topk({n}, sum by (pod) (rate(container_cpu_usage_seconds_total{{{sel}}}[{window}])))",
    "top_memory": "topk({n}, sum by (pod) (avg_over_time(container_memory_working_set_bytes{{{sel}}}[{window}])))",
    "top_restarts": "topk({n}, sum by (pod) (increase(kube_pod_container_status_restarts_total{{{sel}}}[{window}])))",
    "latency_quantile": "histogram_quantile({q}, sum by (le) (rate(http_request_duration_seconds_bucket{{{sel}}}"
                        "[{window}])))",
    "latency_avg": "sum(rate(http_request_duration_seconds_sum{{{sel}}}[{window}])) / "
                   "sum(rate(http_request_duration_seconds_count{{{sel}}}[{window}]))",
    "request_rate": "sum(rate(http_request_duration_seconds_count{{{sel}}}[{window}]))",
    "first_sample": "min(timestamp({metric}{{{sel}}}))",  # per step: the sample time seen (Prometheus.first_sample)
}

# The series each question kind reads: how much of a window Prometheus has samples for (`Prometheus.first_sample`).
SERIES = {kind: metric for metric, kinds in {
    "container_memory_working_set_bytes": ("memory_trend", "memory_avg", "memory_max", "top_memory"),
    "container_cpu_usage_seconds_total": ("cpu_trend", "cpu_rate", "top_cpu"),
    "kube_pod_container_status_restarts_total": ("restarts", "top_restarts"),
    "http_request_duration_seconds_count": ("latency_quantile", "latency_avg", "request_rate"),
}.items() for kind in kinds}


class PrometheusError(Exception):
    """Prometheus could not answer: not reachable, or it refused the query; the message says which."""


@dataclass(frozen=True)
class Series:
    """One series of a result: its labels and its (unix time, value) points (one point for an instant query)."""

    labels: dict[str, str]
    points: list[tuple[float, float]] = field(default_factory=list)

    @property
    def value(self) -> float:
        return self.points[-1][1] if self.points else math.nan


@dataclass(frozen=True)
class Result:
    """A query as it ran: the PromQL and its parameters (what re-runs it) and the series it returned."""

    query: str
    params: dict[str, Any]
    series: list[Series]

    def describe(self) -> str:
        """The query as one line a person can paste into Prometheus (with the time it was evaluated at)."""
        when = " ".join(f"{k}={v}" for k, v in self.params.items() if k != "query")
        return f"{self.query}  [{when}]"


def duration(seconds: float) -> str:
    """A Prometheus duration for a whole number of seconds: 1800 -> "30m", 7200 -> "2h", 90 -> "90s"."""
    s = max(int(seconds), 1)
    for unit, size in sorted(DURATION_UNITS.items(), key=lambda kv: -kv[1]):
        if s % size == 0:
            return f"{s // size}{unit}"
    return f"{s}s"


def string(value: str) -> str:
    """A PromQL string literal's contents (backslashes and double quotes escaped)."""
    return value.replace("\\", "\\\\").replace('"', '\\"')


def matchers(namespace: str | None = None, pod_regex: str | None = None, **exact: str) -> str:
    """Label matchers: namespace="…", pod=~"…" (a regular expression, anchored by Prometheus), and exact ones."""
    out = [f'namespace="{string(namespace)}"'] if namespace else []
    out += [f'{k}="{string(v)}"' for k, v in exact.items()]
    if pod_regex:
        out.append(f'pod=~"{string(pod_regex)}"')
    return ",".join(out)


# The pod names a controller gives: what a workload's series are selected by (the names outlive the objects).
_POD_NAMES = {"Deployment": "{}-[a-z0-9]+-[a-z0-9]+", "StatefulSet": "{}-[0-9]+", "DaemonSet": "{}-[a-z0-9]+",
              "ReplicaSet": "{}-[a-z0-9]+", "Job": "{}-[a-z0-9]+", "Pod": "{}"}


def pod_regex(kind: str, name: str) -> str:
    """The regular expression of the pods a workload of `kind` named `name` runs."""
    return _POD_NAMES.get(kind, _POD_NAMES["Deployment"]).format(name.replace(".", "\\."))  # DNS names: [a-z0-9.-]


def render(kind: str, **values: Any) -> str:
    """The PromQL of one question kind (QUERIES) with its values filled in; KeyError for an unknown kind. No
    matchers at all (the whole cluster) is the bare metric name."""
    return QUERIES[kind].format(**values).replace("{}", "")


class Prometheus:
    """A thin client over Prometheus's HTTP API (`/api/v1/query`, `/api/v1/query_range`)."""

    def __init__(self, url: str, timeout_s: float = 10.0) -> None:
        self.url = (url or "").rstrip("/")
        self.timeout_s = timeout_s

    @staticmethod
    def now() -> float:
        """The evaluation time of a question asked now (SETTLE_S behind, whole milliseconds)."""
        return round(time.time() - SETTLE_S, 3)

    def query(self, promql: str, at: float) -> Result:
        """An instant query evaluated at `at` (unix seconds)."""
        params = {"query": promql, "time": f"{at:.3f}"}
        return Result(promql, params, self._series(self._get("/api/v1/query", params)))

    def query_range(self, promql: str, start: float, end: float, step_s: float) -> Result:
        """A range query from `start` to `end` every `step_s` seconds."""
        params = {"query": promql, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step_s:g}"}
        return Result(promql, params, self._series(self._get("/api/v1/query_range", params)))

    def first_sample(self, kind: str, sel: str, start: float, end: float) -> tuple[Result, float | None]:
        """When, within [start, end], the series a question kind reads (SERIES) were first sampled (to within
        1/COVERAGE_POINTS of the window: the first step that sees a sample sees one from the step before it at the
        earliest); None when never. A rate over a window Prometheus has only a part of counts the rest as nothing,
        so an answer says how much it had."""
        promql = render("first_sample", sel=sel, metric=SERIES[kind])
        res = self.query_range(promql, start, end, max(1.0, round((end - start) / COVERAGE_POINTS)))
        times = [v for s in res.series for _, v in s.points]
        return res, (min(times) if times else None)

    def _get(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        import httpx  # lazily: the CLI starts without it

        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in self.url):
            raise PrometheusError(f"prometheus_url {self.url!r} is not an http(s) URL "
                                  "(for example http://prometheus.monitoring:9090)")
        try:
            r = httpx.get(self.url + path, params=params, timeout=self.timeout_s)
        except httpx.HTTPError as e:
            raise PrometheusError(f"Prometheus at {self.url} could not be reached: {e}") from None
        try:
            body = r.json()
        except ValueError:
            raise PrometheusError(f"Prometheus at {self.url} answered HTTP {r.status_code} without JSON "
                                  f"(is it Prometheus?)") from None
        if body.get("status") != "success":
            raise PrometheusError(f"Prometheus refused the query ({body.get('errorType', r.status_code)}): "
                                  f"{body.get('error', 'no reason given')}")
        return body.get("data") or {}

    @staticmethod
    def _series(data: dict[str, Any]) -> list[Series]:
        kind, result = data.get("resultType"), data.get("result") or []
        if kind == "scalar":
            return [Series({}, [(float(result[0]), float(result[1]))])]
        out = []
        for r in result:
            pts = r.get("values") or ([r["value"]] if "value" in r else [])
            out.append(Series(dict(r.get("metric") or {}), [(float(t), float(v)) for t, v in pts]))
        return out
