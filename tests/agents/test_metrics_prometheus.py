"""Range questions through the metrics agent, answered by the REAL Prometheus scraping the demo-shop sandbox.

Each question is written in plain words; the test states the PromQL it expects (written here by hand, not taken
from the agent), checks that the answer ran and names exactly that query, then runs the same query directly on
Prometheus's HTTP API at the evaluation time the answer gives and checks every number of the answer against it.
"""

from __future__ import annotations

import base64
import contextlib
import math
import re
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from agents import metrics, metrics_range
from agents.charts import BARS
from agents.context import build_context
from kubesage import settings as settings_mod
from kubesage.runtime import Runtime
from sandbox.server import SandboxServer
from tests.prometheus_server import prometheus, query
from tools.k8s.client import Kube, Principal
from tools.prometheus import Prometheus, duration

WEB = 'namespace="shop",pod=~"web-[a-z0-9]+-[a-z0-9]+"'
SEARCH = 'namespace="shop",pod=~"search-[a-z0-9]+-[a-z0-9]+"'
ORDERS = 'namespace="shop",pod=~"orders-[a-z0-9]+-[a-z0-9]+"'
CRUNCHER = 'namespace="shop",pod=~"report-cruncher-[a-z0-9]+-[a-z0-9]+"'
CHECKOUT = 'namespace="shop",pod=~"checkout-[a-z0-9]+-[a-z0-9]+"'


def p99(sel: str, window: str, q: str = "0.99") -> str:
    return f"histogram_quantile({q}, sum by (le) (rate(http_request_duration_seconds_bucket{{{sel}}}[{window}])))"


# (question, intent, the PromQL expected, how the numbers are checked, unit of the numbers)
SCENARIO = Path(__file__).with_name("prometheus_scenario.yaml")
CASES: list[tuple[str, str, list[str], str, str]] = [
    ("How has memory of orders changed over the last minute?", "trend",
     [f"sum(container_memory_working_set_bytes{{{ORDERS}}})"], "trend", "memory"),
    ("Plot CPU usage of report-cruncher in shop during the past 90 seconds", "trend",
     [f"sum(rate(container_cpu_usage_seconds_total{{{CRUNCHER}}}[1m]))"], "trend", "cpu"),
    ("What was the average CPU rate of report-cruncher over the last 15 minutes?", "window",
     [f"sum(rate(container_cpu_usage_seconds_total{{{CRUNCHER}}}[15m]))"], "value", "cpu"),
    ("What was the peak memory of search in the past hour?", "window",
     [f"max(max_over_time(container_memory_working_set_bytes{{{SEARCH}}}[1h]))"], "value", "memory"),
    ("How many times did checkout restart in the last 10 minutes?", "restarts",
     [f"sum(increase(kube_pod_container_status_restarts_total{{{CHECKOUT}}}[10m]))"], "value", "restarts"),
    ("Top 3 pods by CPU in shop over the last 30 minutes", "top",
     ['topk(3, sum by (pod) (rate(container_cpu_usage_seconds_total{namespace="shop"}[30m])))'], "ranking", "cpu"),
    ("Which 4 pods in shop used the most memory over the past hour?", "top",
     ['topk(4, sum by (pod) (avg_over_time(container_memory_working_set_bytes{namespace="shop"}[1h])))'],
     "ranking", "memory"),
    ("Which pods restarted the most in shop over the last hour?", "top",
     ['topk(5, sum by (pod) (increase(kube_pod_container_status_restarts_total{namespace="shop"}[1h])))'],
     "ranking", "restarts"),
    ("What's the p99 latency of web over the last 10 minutes?", "latency", [p99(WEB, "10m")], "value", "latency"),
    ("95th percentile response time for search in the past 30m", "latency", [p99(SEARCH, "30m", "0.95")],
     "value", "latency"),
    ("median latency of web in shop", "latency", [p99(WEB, "5m", "0.5")], "value", "latency"),
    ("How many requests per second did web serve over the last 5 minutes?", "requests",
     [f"sum(rate(http_request_duration_seconds_count{{{WEB}}}[5m]))"], "value", "requests"),
    ("Compare CPU of web and report-cruncher over the last hour", "compare",
     [f"sum(rate(container_cpu_usage_seconds_total{{{WEB}}}[1h]))",
      f"sum(rate(container_cpu_usage_seconds_total{{{CRUNCHER}}}[1h]))"], "compare", "cpu"),
    ("web vs orders memory over the past 30 minutes", "compare",
     [f"sum(avg_over_time(container_memory_working_set_bytes{{{WEB}}}[30m]))",
      f"sum(avg_over_time(container_memory_working_set_bytes{{{ORDERS}}}[30m]))"], "compare", "memory"),
    ("Is web's p99 latency higher than search's over the last 10 minutes?", "compare",
     [p99(WEB, "10m"), p99(SEARCH, "10m")], "compare", "latency"),
]

# How the answer shows a value of each unit (the test's own statement of it).
SHOW = {"cpu": lambda v: f"{v * 1000:.1f}m", "memory": lambda v: f"{v / 2**20:.1f} MiB",
        "latency": lambda v: f"{v * 1000:.1f} ms", "restarts": lambda v: f"{v:.1f}",
        "requests": lambda v: f"{v:.1f} req/s"}


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    """demo-shop at real speed (its samples carry wall-clock times) and Prometheus scraping it every second."""
    work = tmp_path_factory.mktemp("prom-agent")
    server = SandboxServer(scenarios=["demo-shop", str(SCENARIO)], speed=1.0).start()
    kubeconfig = server.write_kubeconfig(work / "kubeconfig")
    kube = Kube.from_kubeconfig(str(kubeconfig))
    try:
        started = time.time()
        with prometheus(server, work, scrapes=7) as url:
            yield SimpleNamespace(kube=kube, url=url, prom=Prometheus(url), kubeconfig=kubeconfig, started=started)
    finally:
        with contextlib.suppress(AttributeError):  # close the client's keep-alive connections: a quick shutdown
            kube.api.rest_client.pool_manager.clear()
        server.stop()


def ask(shop: SimpleNamespace, text: str, prom: Any = "real") -> Any:
    return metrics.run(build_context(shop.kube, text, None), prometheus=shop.prom if prom == "real" else prom)


def _values(data: dict[str, Any]) -> list[tuple[dict[str, str], float]]:
    return [(r["metric"], float(r["value"][1])) for r in data["result"]]


@pytest.mark.parametrize(("text", "intent", "promql", "check", "unit"), CASES, ids=[c[0][:40] for c in CASES])
def test_a_range_question_gives_the_numbers_prometheus_gives(shop: SimpleNamespace, text: str, intent: str,
                                                              promql: list[str], check: str, unit: str) -> None:
    res = ask(shop, text)
    assert res.data.get("understood", "").startswith(intent), (res.data, res.answer)
    ran = res.data["prometheus"]
    assert [p["query"] for p in ran] == promql, res.answer
    for q in promql:
        assert f"PromQL: {q}" in res.answer
    show = SHOW[unit]
    direct = [query(shop.url, p) for p in ran]  # the same PromQL, the same time, straight from the HTTP API
    if check == "value":
        (labels, v), = _values(direct[0])
        assert not math.isnan(v), f"no data for {promql[0]}: the question is about nothing"
        assert f": {show(v)}." in res.answer, (show(v), res.answer)
    elif check == "compare":
        names = [re.search(r'pod=~"([a-z-]+?)-\[', q).group(1) for q in promql]
        for name, d in zip(names, direct, strict=True):
            (_, v), = _values(d)
            assert not math.isnan(v)
            assert f"{name} {show(v)}" in res.answer, (name, show(v), res.answer)
    elif check == "ranking":
        ranked = sorted(((m["pod"], v) for m, v in _values(direct[0])), key=lambda x: -x[1])
        assert len(ranked) == int(promql[0].split("(")[1].split(",")[0])  # as many pods as asked for
        said = ", ".join(f"{i}. {pod} {show(v)}" for i, (pod, v) in enumerate(ranked, 1))
        assert said in res.answer, (said, res.answer)
    if check != "trend":  # the note on how much of the window Prometheus has: from the same data, said
        cov = res.data["coverage"]
        first = min(float(v) for r in query(shop.url, cov["params"])["result"] for _, v in r["values"])
        assert cov["first_sample"] == first and cov["query"] == cov["params"]["query"]
        at = float(ran[0]["time"])
        assert f"Prometheus has samples for only about the last {duration(max(at - first, 1))} of that window" \
            in res.answer
        # never longer than Prometheus has scraped; a series that began late (a pod started after the first
        # scrapes, as on a loaded machine) may cover less than a few seconds
        assert 0 <= at - first <= time.time() - shop.started
    if check == "trend":  # a trend: every number of the answer from the range query's points
        (series,) = direct[0]["result"]
        vals = [float(v) for _, v in series["values"]]
        assert len(vals) >= 3, "a trend needs points"
        for word, v in (("start", vals[0]), ("end", vals[-1]), ("min", min(vals)), ("max", max(vals)),
                        ("avg", sum(vals) / len(vals))):
            assert f"{word} {show(v)}" in res.answer, (word, show(v), res.answer)
        spark = next(line for line in res.answer.splitlines() if line and set(line) <= set(BARS))
        assert len(spark) == min(len(vals), 40)
        png = base64.b64decode(res.data["chart"]["base64"])
        assert png.startswith(b"\x89PNG\r\n\x1a\n") and res.data["chart"]["media_type"] == "image/png"


def test_a_word_the_range_answer_does_not_answer_is_not_guessed(shop: SimpleNamespace) -> None:
    res = ask(shop, "How has memory of web changed against its limit over the last 30 minutes?")
    assert "abstain" in res.data and "limit" in res.data["abstain"]["not_understood"], res.answer
    assert "prometheus" not in res.data


def test_a_question_about_now_is_still_current_usage(shop: SimpleNamespace) -> None:
    res = ask(shop, "which pods use the most CPU in shop?")
    assert res.data["understood"].startswith("usage") and "Top pods by CPU" in res.answer


def test_without_prometheus_a_range_question_says_so(shop: SimpleNamespace) -> None:
    res = ask(shop, "What's the p99 latency of web over the last 10 minutes?", prom=None)
    assert res.answer.startswith("Prometheus is not configured") and "prometheus_url" in res.answer
    assert "current usage" in res.answer and not res.mutations
    assert res.data["abstain"]["ask"]  # not an answer: graded as an abstention, never as a (false) answer


def test_an_unreachable_prometheus_is_said(shop: SimpleNamespace) -> None:
    res = ask(shop, "Top 3 pods by CPU in shop over the last 30 minutes", prom=Prometheus("http://127.0.0.1:9"))
    assert res.answer.startswith("I could not query Prometheus") and "could not be reached" in res.answer


def test_the_runtime_gives_the_metrics_agent_prometheus_url(tmp_path: Path) -> None:
    s = settings_mod.load({"KUBESAGE_HOME": str(tmp_path), "KUBESAGE_PROMETHEUS_URL": "http://prom.example:9090"})
    assert s.prometheus_url == "http://prom.example:9090" and "prometheus_url" in s.describe()
    wired = Runtime._prometheus_agents(SimpleNamespace(settings=s), {"metrics": metrics.run})  # noqa: SLF001
    assert wired["metrics"].keywords["prometheus"].url == "http://prom.example:9090"
    unset = settings_mod.load({"KUBESAGE_HOME": str(tmp_path)})
    assert Runtime._prometheus_agents(SimpleNamespace(settings=unset), {"metrics": metrics.run}) == {}  # noqa: SLF001


def test_through_the_supervisor_with_prometheus_url_set(shop: SimpleNamespace, tmp_path: Path) -> None:
    """The setting reaches the metrics agent through the runtime (the path of the CLI, HTTP, Slack and the TUI)."""
    s = settings_mod.load({"KUBESAGE_HOME": str(tmp_path), "KUBESAGE_PROMETHEUS_URL": shop.url})
    rt = Runtime(s, kubeconfig=str(shop.kubeconfig))
    try:
        r = rt.supervisor.start("What's the p99 latency of web over the last 10 minutes?", Principal(), "prom-1")
    finally:
        rt.close()
    assert r["route"]["agents"] == ["metrics"], r["route"]
    (res,) = r["results"]
    (ran,) = res["data"]["prometheus"]
    assert ran["query"] == p99(WEB, "10m") and f"PromQL: {ran['query']}" in r["answer"]
    (_, v), = _values(query(shop.url, ran))
    assert f": {SHOW['latency'](v)}." in r["answer"]


class _NoObjects:
    def list(self, kind: str, namespace: str | None = None) -> list[dict[str, Any]]:
        return []


@pytest.mark.parametrize(("text", "seconds", "said"), [
    ("memory of web over the last 30 minutes", 1800, "over the last 30 minutes"),
    ("cpu of web in the past 2h", 7200, "in the past 2h"),
    ("cpu trend of web during the last half hour", 1800, "during the last half hour"),
    ("memory of web over the previous 1.5 hours", 5400, "over the previous 1.5 hours"),
    ("memory of web since yesterday", 86400, "since yesterday"),
    ("p99 latency of web", None, ""),
])
def test_a_window_is_read_as_said(text: str, seconds: int | None, said: str) -> None:
    ctx = SimpleNamespace(text=text, namespace="shop", kube=_NoObjects(),
                          entities=SimpleNamespace(workload=None, workload_kind=None, namespace="shop"))
    ask = metrics_range.parse(ctx)
    assert (ask.window_s, ask.window_said, ask.unread_time) == (seconds, said, False)


@pytest.mark.parametrize("text", [
    "what's the memory of web compared with orders in shop?",  # no window: the two workloads' usage now
    "we're expecting a traffic spike on web in shop, how busy is it?",  # 'traffic' is not a request-rate question
    "how has web's memory in shop changed this week?",  # a time not read as a window: not another window
])
def test_a_question_that_is_not_a_range_question_gets_no_range_answer(shop: SimpleNamespace, text: str) -> None:
    res = ask(shop, text)
    assert "prometheus" not in res.data, res.answer
    assert res.data.get("understood", "usage").startswith("usage"), res.data
