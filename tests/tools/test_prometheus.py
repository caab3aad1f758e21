"""tools/prometheus.py: the query templates, the names of windows and pods, and the client against the real
Prometheus; and the latency histogram the sandbox exports for its Service-backed pods."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest

from sandbox.server import SandboxServer
from tests.prometheus_server import prometheus
from tools.prometheus import QUERIES, Prometheus, PrometheusError, duration, matchers, pod_regex, render


@pytest.fixture(scope="module")
def prom(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prometheus]:
    """The real Prometheus, scraping nothing: the HTTP API and the PromQL parser are what is tested here."""
    with prometheus(None, tmp_path_factory.mktemp("prom-tools")) as url:
        yield Prometheus(url)


@pytest.mark.parametrize(("seconds", "text"), [(1800, "30m"), (7200, "2h"), (90, "90s"), (86400, "1d"),
                                               (604800, "1w"), (5400, "90m"), (0, "1s")])
def test_a_window_is_a_prometheus_duration(seconds: int, text: str) -> None:
    assert duration(seconds) == text


def test_the_series_of_a_workload_are_its_pods_names() -> None:
    assert pod_regex("Deployment", "web") == "web-[a-z0-9]+-[a-z0-9]+"
    assert pod_regex("StatefulSet", "db") == "db-[0-9]+"
    assert pod_regex("Pod", "web-1.x") == "web-1\\.x"
    assert matchers("shop", pod_regex("Deployment", "web")) == 'namespace="shop",pod=~"web-[a-z0-9]+-[a-z0-9]+"'
    assert matchers(None, None, service='a"b') == 'service="a\\"b"'  # a quote cannot end the string early
    assert render("top_cpu", sel="", n=3, window="1h") == \
        "topk(3, sum by (pod) (rate(container_cpu_usage_seconds_total[1h])))"
    with pytest.raises(KeyError):
        render("no-such-question", sel="")


@pytest.mark.parametrize("kind", sorted(QUERIES))
def test_every_template_is_promql_prometheus_accepts(prom: Prometheus, kind: str) -> None:
    promql = render(kind, sel=matchers("shop", pod_regex("Deployment", "web")), window="30m", n=3, q=0.99,
                    rate="1m", metric="up")
    res = prom.query(promql, time.time())
    assert res.query == promql and res.series == []  # nothing is scraped: valid, and empty


def test_instant_and_range_queries_return_prometheus_numbers(prom: Prometheus) -> None:
    at = 1_800_000_000.5
    res = prom.query("vector(2) * 3", at)
    assert [s.value for s in res.series] == [6.0] and res.params == {"query": "vector(2) * 3", "time": f"{at:.3f}"}
    assert "time=1800000000.500" in res.describe()
    rng = prom.query_range("time()", at - 10, at, 5)
    assert rng.series[0].points == [(at - 10, at - 10), (at - 5, at - 5), (at, at)]


def test_a_query_prometheus_refuses_is_a_clear_error(prom: Prometheus) -> None:
    with pytest.raises(PrometheusError, match=r"refused the query \(bad_data\)"):
        prom.query("sum(rate(container_cpu_usage_seconds_total[5m]", time.time())


@pytest.mark.parametrize(("url", "says"), [("http://127.0.0.1:9", "could not be reached"),
                                           ("prometheus:9090", "is not an http(s) URL"),
                                           ("", "is not an http(s) URL")])
def test_a_prometheus_that_cannot_answer_is_a_clear_error(url: str, says: str) -> None:
    with pytest.raises(PrometheusError, match=re.escape(says)):
        Prometheus(url, timeout_s=2).query("up", time.time())


def _histograms(text: str) -> dict[str, dict[str, float]]:
    """pod -> {le or "count" or "sum": value} of http_request_duration_seconds."""
    out: dict[str, dict[str, float]] = {}
    for m in re.finditer(r'^http_request_duration_seconds_(bucket|sum|count)\{([^}]*)\} (\S+)', text, re.M):
        labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(2)))
        key = labels.get("le", m.group(1))
        out.setdefault(labels["pod"], {})[key] = float(m.group(3))
        assert labels["namespace"] == "shop" and labels["service"]
    return out


def test_the_sandbox_exports_a_latency_histogram_per_service_backed_pod() -> None:
    server = SandboxServer(scenarios=["demo-shop"], speed=50.0).start()
    try:
        server.behaviour.idle(10)
        time.sleep(0.5)  # some simulated time for requests to be counted
        first = _histograms(server.behaviour.metrics.prometheus())
        time.sleep(0.3)
        later = _histograms(server.behaviour.metrics.prometheus())
    finally:
        server.stop()
    assert any(p.startswith("web-") for p in first)
    assert not any(p.startswith(("orders-", "worker-", "report-cruncher-")) for p in first)  # no Service selects them
    for pod, h in first.items():
        les = sorted((k for k in h if k not in ("sum", "count")), key=float)  # "+Inf" sorts last
        assert len(les) > 5 and les[-1] == "+Inf"
        counts = [h[le] for le in les]
        assert counts == sorted(counts) and h["+Inf"] == h["count"] > 0, (pod, h)  # cumulative buckets
        if pod in later:  # counters only grow while the pod runs
            assert all(later[pod][k] >= v for k, v in h.items() if k != "sum"), (pod, h, later[pod])
