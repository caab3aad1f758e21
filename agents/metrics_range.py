"""Range questions for the metrics agent: trends, averages and peaks, restarts, top-N, percentiles, request rates
and comparisons of two workloads over a window, answered from Prometheus (tools/prometheus.py).

Why here and not in `agents/metrics.py`: current usage (metrics.k8s.io) needs no Prometheus; these questions do,
and they have their own words. Each intent is one row of `INTENTS`: the words that say it (a reading is built only
when one of them is in the request), its vocabulary (agents.decide: a reading acts only when every word of the
request is accounted for) and what answers it. Every answer states the exact PromQL it ran and the time it was
evaluated at, gives the numbers, and a trend also carries a sparkline and a PNG (`data["chart"]`).
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from agents import charts
from agents.coverage import tokens
from agents.decide import Reading, reading
from agents.state import AgentResult
from tools.k8s.client import KubeError
from tools.k8s.kinds import WORKLOADS
from tools.prometheus import (
    POINTS,
    Prometheus,
    PrometheusError,
    Result,
    duration,
    matchers,
    pod_regex,
    render,
)

NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
           "nine": 9, "ten": 10, "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30}
UNITS = {"s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1, "m": 60, "min": 60, "mins": 60, "minute": 60,
         "minutes": 60, "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600, "d": 86400, "day": 86400,
         "days": 86400, "w": 604800, "week": 604800, "weeks": 604800}
# "over the last 30 minutes", "past 2h", "in the previous hour", "during the last half hour"
WINDOW = re.compile(r"\b(?:(?:over|during|in|within|for|across|from)\s+)?(?:the\s+)?(?:last|past|previous|preceding)\s+"
                    r"(?:(half)\s+(?:an?\s+)?|(\d+(?:\.\d+)?|" + "|".join(NUMBERS) + r")\s*)?"
                    r"(" + "|".join(sorted(UNITS, key=len, reverse=True)) + r")\b")
SINCE_YESTERDAY = re.compile(r"\bsince\s+yesterday\b")  # read as the last day
# Words that say a time; one outside the window read means a window this agent did not understand ("this week",
# "since the deploy"): no range reading is built rather than one over another window.
TIME_WORDS = frozenset("""yesterday today tonight morning evening night weekend week weeks month months year years
day days hour hours minute minutes ago since until before after earlier""".split())
QUANTILE = re.compile(r"\bp(\d{2,3})\b|\b(\d{1,2}(?:\.\d+)?)(?:st|nd|rd|th)\s+percentile\b|\b(median)\b")
TOP_N = re.compile(r"\b(?:top|which|what|the|show|list|first|busiest)\s+(\d{1,3}|" + "|".join(NUMBERS) + r")\b"
                   r"(?!\s*(?:" + "|".join(UNITS) + r")\b)")

# What each measure is called, how a value is shown (scale, unit), and the words that name it.
MEASURES: dict[str, tuple[str, float, str, frozenset[str]]] = {
    "cpu": ("CPU", 1000.0, "m", frozenset("cpu cpu-wise processor cores core".split())),
    "memory": ("memory", 1 / 2**20, " MiB", frozenset("memory ram mem".split())),
    "latency": ("latency", 1000.0, " ms", frozenset("latency latencies percentile quantile slow slowest median "
                                                     "duration response".split())),
    "restarts": ("restarts", 1.0, "", frozenset("restart restarts restarted restarting crash crashes crashed "
                                                 "crashing".split())),
    "requests": ("request rate", 1.0, " req/s", frozenset("rps qps throughput".split())),
}
TREND = frozenset("""trend trends trending changed change changes changing evolved evolve evolving evolution grow grew
grown growing growth rise rose risen rising drop dropped dropping fall fell falling fallen develop developed history
timeline chart graph plot sparkline""".split())
TOP = frozenset("top most highest heaviest biggest largest busiest hungriest hungry greediest".split())
PEAK = frozenset("peak max maximum highest".split())
AVERAGE = frozenset("average avg mean typical typically rate".split())
COMPARE = frozenset("""compare compared comparing comparison versus vs against between and more less than higher lower
bigger smaller difference differ differs heavier lighter faster slower better worse which one who""".split())

# Words every range question may use: what is measured and where, and the verbs of asking for numbers.
BASE = frozenset("""cpu cpu-wise cores core processor memory ram mem working set usage use uses used using consume
consumes consumed consuming consumption pod pods container containers deployment deployments workload workloads app
apps service services show see tell give list report display draw value values number numbers""".split())
_LATENCY = frozenset("""latency latencies percentile percentiles quantile response responses time times request
requests took take takes taking tail median average mean avg ms milliseconds seconds served serving slow slowest
duration durations""".split())
_REQUESTS = frozenset("""requests request per second rate rps qps throughput traffic many served serve serves serving
receive receives received getting get handle handles handled handling""".split())
_RESTARTS = frozenset("restart restarts restarted restarting crash crashes crashed crashing many times often count "
                      "number total increase increased".split())
# The window of a question that says none, by measure: a percentile or a request rate as dashboards show them; a
# trend over an hour. (Averages, peaks, restarts and top-N without a window are questions about now.)
DEFAULT_WINDOW_S = {"latency": 300, "requests": 300}
ASK = (" Over a window (with Prometheus): 'how has memory of payments changed over the last 30 minutes?', "
       "'p99 latency of web over the past hour', 'compare CPU of web and report-cruncher over the last 2h'.")
NOT_CONFIGURED = ("Prometheus is not configured, so I cannot answer questions over time (trends, rates, percentiles, "
                  "top consumers over a window, comparisons). Set prometheus_url (environment KUBESAGE_PROMETHEUS_URL, "
                  "for example http://prometheus.monitoring:9090). What I can answer without it is current usage "
                  "from metrics.k8s.io, for example 'which pods use the most CPU in shop?'.")


@dataclass
class Ask:
    """What a range question asks, read from its words (the slots of every range reading)."""

    namespace: str | None
    workloads: list[tuple[str, str]] = field(default_factory=list)  # (kind, name), in the order said
    window_s: int | None = None
    window_said: str = ""
    measure: str | None = None  # a MEASURES key
    n: int = 5
    n_said: str = ""
    quantile: float | None = None
    quantile_said: str = ""
    words: frozenset[str] = frozenset()
    text: str = ""  # the request's words, space-separated (for phrases)
    unread_time: bool = False  # a time word outside the window read

    @property
    def peak(self) -> bool:
        return bool(self.words & PEAK)

    def slots(self) -> dict[str, Any]:
        out: dict[str, Any] = {"namespace": self.namespace, "workloads": [n for _, n in self.workloads],
                               "window": self.window_said, "measure": self.measure}
        if self.n_said:
            out["n"] = self.n_said
        if self.quantile_said:
            out["quantile"] = self.quantile_said
        return out

    def window(self) -> tuple[int, str]:
        """The window in seconds and how the answer names it (a default one is said to be a default)."""
        if self.window_s:
            return self.window_s, f"the last {duration(self.window_s)}"
        s = DEFAULT_WINDOW_S.get(self.measure or "", 3600)
        return s, f"the last {duration(s)} (no window was said)"


def parse(ctx: Any) -> Ask:
    """Read the window, the measure, the workloads, N and the quantile from the request."""
    low = ctx.text.lower()
    words = frozenset(tokens(ctx.text))
    ask = Ask(ctx.namespace, words=words, text=" ".join(tokens(ctx.text)))
    m = WINDOW.search(low)
    if m:
        half, num, unit = m.groups()
        count = 0.5 if half else (float(NUMBERS.get(num, 0) or num) if num else 1.0)
        ask.window_s, ask.window_said = max(1, int(count * UNITS[unit])), m.group(0)
    elif y := SINCE_YESTERDAY.search(low):
        ask.window_s, ask.window_said = 86400, y.group(0)
    ask.unread_time = bool(words & TIME_WORDS - set(tokens(ask.window_said)))
    q = QUANTILE.search(low)
    if q:
        p, nth, median = q.groups()
        ask.quantile = 0.5 if median else (int(p) / 10 ** len(p) if p else float(nth) / 100)
        ask.quantile_said = q.group(0)
    n = TOP_N.search(low)
    if n and (n.group(1).isdigit() or n.group(1) not in ("a", "an")):
        ask.n, ask.n_said = int(n.group(1)) if n.group(1).isdigit() else NUMBERS[n.group(1)], n.group(1)
    if ask.quantile is not None or words & {"latency", "latencies"} or "response time" in ask.text:
        ask.measure = "latency"
    elif "per second" in ask.text or "request rate" in ask.text or words & {"rps", "qps", "throughput"}:
        ask.measure = "requests"  # "traffic" alone is context ("traffic is low this week"), not the question
    else:
        ask.measure = next((k for k, (_, _, _, ws) in MEASURES.items() if words & ws), None)
    named = _workloads(ctx)
    ask.workloads = [(kind, name) for kind, name, _ in named]
    ask.namespace = ask.namespace or next((ns for *_, ns in named if ns), None)
    return ask


def _workloads(ctx: Any) -> list[tuple[str, str, str]]:
    """Workloads (and pods) named in the request, in the order said: (kind, name, namespace). The entity resolver's
    workload (which forgives a typo) comes first; other names count only when written exactly."""
    found: dict[str, tuple[str, str, str]] = {}
    ent = ctx.entities
    if ent.workload and ent.workload_kind in (*WORKLOADS, "Pod", "Service"):
        kind = "Deployment" if ent.workload_kind == "Service" else ent.workload_kind
        found[ent.workload] = (kind, ent.workload, ent.namespace or "")
    words = tokens(ctx.text)
    for kind in (*WORKLOADS, "Pod"):
        with contextlib.suppress(KubeError):
            for o in ctx.kube.list(kind, ctx.namespace):
                name = o["metadata"]["name"]
                if name in words and name not in found:
                    found[name] = (kind, name, o["metadata"].get("namespace", ""))
    return sorted(found.values(), key=lambda w: words.index(w[1]) if w[1] in words else -1)


# -- answers --------------------------------------------------------------------------------------------------------

def _fmt(measure: str, value: float) -> str:
    _, scale, unit, _ = MEASURES[measure]
    if math.isnan(value):
        return "no data"
    return f"{value * scale:.1f}{unit}"


def _when(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _sel(ask: Ask, workload: tuple[str, str] | None) -> str:
    return matchers(ask.namespace, pod_regex(*workload) if workload else None)


def _where(ask: Ask, workload: tuple[str, str] | None) -> str:
    if workload:
        return f"{workload[1]}" + (f" in {ask.namespace}" if ask.namespace else "")
    return f"namespace {ask.namespace}" if ask.namespace else "the cluster"


def _result(agent_answer: list[str], results: list[Result], at: float, data: dict[str, Any] | None = None
            ) -> AgentResult:
    lines = list(agent_answer)
    lines += [f"PromQL: {r.query}" for r in results]
    lines.append(f"(evaluated at {_when(at)}, time={at:.3f})")
    evidence = [f"PromQL {r.describe()}" for r in results]
    payload = {"prometheus": [dict(r.params) for r in results], **(data or {})}
    return AgentResult("metrics", "\n".join(lines), evidence, data=payload)


def _coverage(prom: Prometheus, kind: str, sel: str, at: float, secs: int) -> tuple[str, dict[str, Any]]:
    """A note when Prometheus has samples for only a part of the window (a new Prometheus, a new workload): the
    numbers are right for the data there is, and the note says how much that is."""
    res, first = prom.first_sample(kind, sel, at - secs, at)
    data = {"query": res.query, "params": dict(res.params), "first_sample": first}
    if first is None or at - first >= 0.9 * secs:
        return "", data
    return (f" (Prometheus has samples for only about the last {duration(max(at - first, 1))} of that window; a rate "
            "over the window counts the rest as nothing.)"), data


def _value(r: Result) -> float:
    vals = [s.value for s in r.series]
    return vals[0] if vals else math.nan


_WINDOW_KIND = {("cpu", False): ("cpu_rate", "Average CPU"), ("memory", False): ("memory_avg", "Average memory"),
                ("memory", True): ("memory_max", "Peak memory"), ("restarts", False): ("restarts", "Restarts"),
                ("requests", False): ("request_rate", "Requests per second"), ("latency", False): ("latency_avg",
                                                                                              "Average latency")}


def _window_kind(ask: Ask) -> tuple[str, str] | None:
    """The template and label of one number over a window for the measure asked (None: not one this answers,
    such as a peak of CPU)."""
    return _WINDOW_KIND.get((ask.measure or "", ask.peak and ask.measure == "memory")) if not (
        ask.peak and ask.measure != "memory") else None


def _over_window(prom: Prometheus, ask: Ask) -> AgentResult:
    """One number over the window: average or peak CPU/memory, restarts, request rate, latency (a percentile or the
    average)."""
    at = prom.now()
    secs, said = ask.window()
    workload = ask.workloads[0] if ask.workloads else None
    if ask.measure == "latency" and (ask.quantile is not None or not ask.words & {"average", "mean", "avg"}):
        q = ask.quantile if ask.quantile is not None else 0.99
        kind, label = "latency_quantile", f"p{_pct(q)} latency" + ("" if ask.quantile is not None else
                                                                  " (no percentile was said)")
    else:
        kind, label = _window_kind(ask) or ("cpu_rate", "Average CPU")
        q = 0.99
    r = prom.query(render(kind, sel=_sel(ask, workload), window=duration(secs), q=q), at)
    v = _value(r)
    text = f"{label} of {_where(ask, workload)} over {said}: {_fmt(ask.measure or 'cpu', v)}."
    if math.isnan(v):
        return _result([text + " Prometheus has no samples for it in that window (it did not run, serve requests or "
                        "get scraped then)."], [r], at, {"value": None})
    if kind == "restarts":
        text += " (Prometheus's increase() extrapolates to the window's edges, so it may not be a whole number.)"
    note, coverage = _coverage(prom, kind, _sel(ask, workload), at, secs)
    return _result([text + note], [r], at, {"value": v, "coverage": coverage})


def _pct(q: float) -> str:
    return f"{q * 100:g}".replace(".", "")


def _top(prom: Prometheus, ask: Ask) -> AgentResult:
    at = prom.now()
    secs, said = ask.window()
    measure = ask.measure if ask.measure in ("cpu", "memory", "restarts") else "cpu"
    r = prom.query(render(f"top_{measure}", sel=_sel(ask, None), window=duration(secs), n=ask.n), at)
    ranked = sorted(((s.labels.get("pod", "?"), s.value) for s in r.series), key=lambda x: -x[1])
    how = {"cpu": "average CPU", "memory": "average memory", "restarts": "restarts"}[measure]
    if not ranked:
        return _result([f"Prometheus has no {how} samples for pods in {_where(ask, None)} over {said}."], [r], at,
                       {"ranking": []})
    text = f"Top {ask.n} pods by {how} in {_where(ask, None)} over {said}: " + ", ".join(
        f"{i}. {pod} {_fmt(measure, v)}" for i, (pod, v) in enumerate(ranked, 1)) + "."
    note, coverage = _coverage(prom, f"top_{measure}", _sel(ask, None), at, secs)
    return _result([text + note], [r], at, {"ranking": ranked, "coverage": coverage})


def _compare(prom: Prometheus, ask: Ask) -> AgentResult:
    at = prom.now()
    secs, said = ask.window()
    measure = ask.measure or "cpu"
    if measure == "latency":
        q = ask.quantile if ask.quantile is not None else 0.99
        kind, label = "latency_quantile", f"p{_pct(q)} latency"
    else:
        kind, label = _window_kind(ask) or ("cpu_rate", "Average CPU")
        q = 0.99
    results = [prom.query(render(kind, sel=_sel(ask, w), window=duration(secs), q=q), at) for w in ask.workloads[:2]]
    (a, va), (b, vb) = ((w[1], _value(r)) for w, r in zip(ask.workloads[:2], results, strict=True))
    text = f"{label} over {said}" + (f" in {ask.namespace}" if ask.namespace else "") + \
        f": {a} {_fmt(measure, va)}, {b} {_fmt(measure, vb)}."
    if not (math.isnan(va) or math.isnan(vb)) and va != vb:
        hi, lo, vhi, vlo = (a, b, va, vb) if va > vb else (b, a, vb, va)
        text += f" {hi} is higher by {_fmt(measure, vhi - vlo)}"
        text += f" ({vhi / vlo:.1f}x {lo})." if vlo > 0 else "."
    elif not (math.isnan(va) or math.isnan(vb)):
        text += " They are equal."
    note, coverage = _coverage(prom, kind, matchers(ask.namespace, "|".join(pod_regex(*w) for w in ask.workloads[:2])),
                               at, secs)
    return _result([text + note], results, at, {"values": {a: None if math.isnan(va) else va,
                                                           b: None if math.isnan(vb) else vb}, "coverage": coverage})


def _trend(prom: Prometheus, ask: Ask) -> AgentResult:
    at = prom.now()
    secs, said = ask.window()
    step = max(1, round(secs / POINTS))
    workload = ask.workloads[0] if ask.workloads else None
    measure = ask.measure if ask.measure in ("cpu", "memory") else "memory"
    kind = "cpu_trend" if measure == "cpu" else "memory_trend"
    r = prom.query_range(render(kind, sel=_sel(ask, workload), rate=duration(max(60, 4 * step))),
                         at - secs, at, step)
    points = r.series[0].points if r.series else []
    name, scale, unit, _ = MEASURES[measure]
    title = f"{name} of {_where(ask, workload)} over {said}"
    if not points:
        return _result([f"Prometheus has no {name} samples for {_where(ask, workload)} over {said}."], [r], at)
    vals = [v for _, v in points]
    first, last = vals[0], vals[-1]
    change = last - first
    text = [f"{title[0].upper()}{title[1:]} ({len(points)} point{'s' if len(points) != 1 else ''}, every {duration(step)}): start "
            f"{_fmt(measure, first)}, end {_fmt(measure, last)}, min {_fmt(measure, min(vals))}, max "
            f"{_fmt(measure, max(vals))}, avg {_fmt(measure, sum(vals) / len(vals))}; "
            f"{'up' if change > 0 else 'down' if change < 0 else 'no change'}"
            + (f" {_fmt(measure, abs(change))}" + (f" ({change / first * 100:+.1f}%)" if first else "")
               if change else "") + ".",
            charts.sparkline(vals)]
    covered = at - points[0][0]
    if covered < secs - 2 * step:
        text.append(f"(Prometheus has samples for only the last {duration(max(covered, 1))} of that window.)")
    chart = charts.png(points, title, unit.strip(), scale)
    return _result(text, [r], at, {"series": points, "chart": chart})


Answer = Callable[[Prometheus, Ask], AgentResult]


@dataclass(frozen=True)
class Intent:
    """One kind of range question: when it is read (`when`), its own words, and what answers it."""

    name: str
    when: Callable[[Ask], bool]
    vocabulary: frozenset[str]
    answer: Answer


_ALL_MEASURES = frozenset().union(*(ws for *_, ws in MEASURES.values()))


def _one(ask: Ask) -> bool:
    """At most one workload named: a question about one workload or a namespace (two are a comparison)."""
    return len(ask.workloads) <= 1


# In order: the first confident reading acts (a comparison of two workloads before one workload's number).
INTENTS: tuple[Intent, ...] = (
    Intent("compare", lambda a: len(a.workloads) >= 2 and (a.measure == "latency" or _window_kind(a) is not None)
           and bool(a.window_s or a.measure in DEFAULT_WINDOW_S),  # no window: two workloads' usage now
           BASE | COMPARE | _ALL_MEASURES | _LATENCY | _RESTARTS | _REQUESTS | AVERAGE | PEAK, _compare),
    Intent("latency", lambda a: _one(a) and a.measure == "latency", BASE | _LATENCY, _over_window),
    Intent("requests", lambda a: _one(a) and a.measure == "requests", BASE | _REQUESTS, _over_window),
    Intent("top", lambda a: not a.workloads and bool(a.window_s and a.words & TOP),
           BASE | TOP | _RESTARTS | AVERAGE | frozenset("which rank ranked ranking by sorted sort on".split()), _top),
    Intent("trend", lambda a: _one(a) and a.measure in ("cpu", "memory") and bool(a.words & TREND or
                                                                                    "over time" in a.text),
           BASE | TREND | frozenset("look looked looks like gone went over time".split()), _trend),
    Intent("restarts", lambda a: _one(a) and bool(a.window_s) and a.measure == "restarts", BASE | _RESTARTS,
           _over_window),
    Intent("window", lambda a: _one(a) and bool(a.window_s) and a.measure in ("cpu", "memory")
           and _window_kind(a) is not None, BASE | AVERAGE | PEAK, _over_window),
)


def readings(ctx: Any, prometheus: Prometheus | None) -> list[Reading]:
    """One reading per range intent the request's words say; none for a question about now."""
    ask = parse(ctx)
    if ask.unread_time:
        return []
    out = []
    for intent in INTENTS:
        if intent.when(ask):
            out.append(reading(ctx, "metrics", intent.name, ask.slots(), intent.vocabulary,
                               _acting(prometheus, ask, intent)))
    return out


def _acting(prometheus: Prometheus | None, ask: Ask, intent: Intent) -> Callable[[], AgentResult]:
    def act() -> AgentResult:
        if prometheus is None:
            # no answer was given: an abstention (nothing changed; the reply says what is missing and how to add it)
            return AgentResult("metrics", NOT_CONFIGURED, data={
                "prometheus": "not configured", "intent": intent.name,
                "abstain": {"understood": [intent.name], "not_understood": [],
                            "ask": "Set prometheus_url, or ask about current usage."}})
        try:
            return intent.answer(prometheus, ask)
        except PrometheusError as e:
            return AgentResult("metrics", f"I could not query Prometheus: {e}", [str(e)],
                               data={"prometheus": "error", "intent": intent.name})
    return act
