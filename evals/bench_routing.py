"""`make bench` (router part): how often the supervisor's router sends a request to the right agent(s), and how
fast it decides.

Runs agents/router.py's `Router` (rules + MiniLM embedding router, no LLM tie-breaker) over every query of
evals/sets/routing.yaml, one query at a time, and prints (and writes to $KUBESAGE_HOME/bench/routing.json):
- accuracy: exact ordered agent list, for one-intent and two-intent queries, by source (written / typo / multi),
  for the held-out queries (ids `h-…`, written after the router was frozen), and per label (one-intent queries),
  with the confusions;
- how each query was decided (rule / embedding), and how many fall under the LLM tie-breaker's margin;
- latency per query in ms, p50/p99, overall and for queries with / without a place to split; the share of it
  spent inside the embedder; the one-off cost of embedding the exemplars.
tests/agents/test_router.py uses `load_set` and `evaluate` too, with accuracy floors; here nothing is asserted.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import yaml

SET = Path(__file__).parent / "sets" / "routing.yaml"


def load_set(path: Path = SET) -> list[dict[str, Any]]:
    """The routing set: [{id, query, expect: [labels], source}]."""
    entries = yaml.safe_load(path.read_text())
    if not isinstance(entries, list):
        raise ValueError(f"{path}: expected a list of entries")
    return entries


def _acc(ok: int, n: int) -> dict[str, Any]:
    return {"n": n, "correct": ok, "accuracy": round(ok / n, 4) if n else None}


def evaluate(route, entries: list[dict[str, Any]]) -> dict[str, Any]:
    """Route every entry with `route(text) -> Route` and score exact ordered label lists.

    Returns one-intent/two-intent/by-source/held-out accuracy, per-label accuracy and confusions (one-intent
    queries; a prediction of several agents is written "a+b"), how each query was decided, the wrong answers, and
    per-query wall time in ms."""
    groups: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    per_label: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    confusion: dict[str, Counter] = defaultdict(Counter)
    methods: Counter = Counter()
    errors, latency, margins = [], [], []
    for e in entries:
        t = time.perf_counter()
        r = route(e["query"])
        latency.append((time.perf_counter() - t) * 1000)
        ok = r.agents == list(e["expect"])
        keys = ["single" if len(e["expect"]) == 1 else "multi", f"source:{e['source']}",
                "heldout" if str(e["id"]).startswith("h-") else "dev", "all"]
        for k in keys:
            groups[k][0] += ok
            groups[k][1] += 1
        methods[r.method] += 1
        if len(e["expect"]) == 1:
            label = e["expect"][0]
            per_label[label][0] += ok
            per_label[label][1] += 1
            confusion[label]["+".join(r.agents)] += 1
            if r.method == "embedding" and len(r.agents) == 1:
                margins.append((r.margin, ok))
        if not ok:
            errors.append({"id": e["id"], "query": e["query"], "expect": e["expect"], "got": r.agents,
                           "method": r.method, "margin": round(r.margin, 4),
                           "parts": [p for p, _ in r.parts] if len(r.parts) > 1 else []})
    return {
        "groups": {k: _acc(*v) for k, v in sorted(groups.items())},
        "per_label": {k: _acc(*v) for k, v in sorted(per_label.items())},
        "confusion": {k: dict(v.most_common()) for k, v in sorted(confusion.items())},
        "methods": dict(methods),
        "margins": margins,
        "errors": errors,
        "latency_ms": latency,
    }


def print_accuracy(ev: dict, indent: str = "  ") -> None:
    """Accuracy per group and label, and the confusions, as the bench and the test print them."""
    g = ev["groups"]
    for k in ("single", "multi", "source:written", "source:typo", "source:multi", "dev", "heldout", "all"):
        if k in g:
            print(f"{indent}{k:>14}: {g[k]['correct']}/{g[k]['n']} = {g[k]['accuracy']}")
    print(f"{indent}per label (one-intent): " + ", ".join(f"{k} {v['correct']}/{v['n']}"
                                                          for k, v in ev["per_label"].items()))
    for label, row in ev["confusion"].items():
        wrong = {k: v for k, v in row.items() if k != label}
        if wrong:
            print(f"{indent}confused {label} -> {wrong}")


def _pct(xs: list[float], p: float) -> float:
    return round(float(np.percentile(xs, p)), 2) if xs else float("nan")


class _TimedEmbedder:
    """Wraps an embedder and adds up the time spent inside `embed`."""

    def __init__(self, inner) -> None:
        self.inner, self.dim, self.name = inner, inner.dim, inner.name
        self.seconds = 0.0
        self.calls = 0

    def embed(self, texts):
        t = time.perf_counter()
        try:
            return self.inner.embed(texts)
        finally:
            self.seconds += time.perf_counter() - t
            self.calls += 1


def main() -> None:
    from agents.router import EmbeddingRouter, Router, split_points
    from evals.bench_sandbox import machine
    from memory.embeddings import MiniLMEmbedder

    results: dict[str, Any] = {"machine": machine(), "set": str(SET.name)}
    print("routing benchmark on", results["machine"], flush=True)
    entries = load_set()
    emb = _TimedEmbedder(MiniLMEmbedder())
    emb.embed(["warm up the onnx session"])
    t = time.perf_counter()
    er = EmbeddingRouter(emb).warm()
    results["exemplars"] = {"n": len(er.texts), "labels": len(er.labels),
                            "embed_s": round(time.perf_counter() - t, 3)}
    router = Router(er)  # no LLM: the embedding router alone (what carries the load)
    for e in entries[:10]:
        router.route(e["query"])  # warm caches (tokenizer, numpy)
    emb.seconds, emb.calls = 0.0, 0
    t = time.perf_counter()
    ev = evaluate(router.route, entries)
    total = time.perf_counter() - t
    lat = ev["latency_ms"]
    splittable = [bool(split_points(" ".join(e["query"].split()), er.starters)) for e in entries]
    results["accuracy"] = ev["groups"]
    results["per_label"] = ev["per_label"]
    results["confusion"] = ev["confusion"]
    results["methods"] = ev["methods"]
    low = [ok for m, ok in ev["margins"] if m < router.min_margin]
    results["llm_tiebreak"] = {"min_margin": router.min_margin, "queries_below": len(low),
                               "embedding_right_below": sum(low)}
    results["latency"] = {
        "ms_p50": _pct(lat, 50), "ms_p99": _pct(lat, 99), "ms_mean": round(float(np.mean(lat)), 2),
        "no_split_point_ms_p50": _pct([x for x, s in zip(lat, splittable, strict=True) if not s], 50),
        "no_split_point_ms_p99": _pct([x for x, s in zip(lat, splittable, strict=True) if not s], 99),
        "with_split_points_ms_p50": _pct([x for x, s in zip(lat, splittable, strict=True) if s], 50),
        "with_split_points_ms_p99": _pct([x for x, s in zip(lat, splittable, strict=True) if s], 99),
        "embedding_share": round(emb.seconds / total, 3) if total else None,
        "embed_calls_per_query": round(emb.calls / len(entries), 2),
    }
    results["errors"] = ev["errors"]

    print(f"  {len(entries)} queries; exemplars: {results['exemplars']['n']} over {results['exemplars']['labels']} "
          f"labels, embedded once in {results['exemplars']['embed_s']} s", flush=True)
    print_accuracy(ev, "    ")
    print(f"    decided by: {ev['methods']}; below the LLM margin {router.min_margin}: {len(low)} queries "
          f"(embedding right on {sum(low)})")
    la = results["latency"]
    print(f"  latency per query: p50 {la['ms_p50']} ms, p99 {la['ms_p99']} ms (no split point: p50 "
          f"{la['no_split_point_ms_p50']} / p99 {la['no_split_point_ms_p99']} ms; with split points: p50 "
          f"{la['with_split_points_ms_p50']} / p99 {la['with_split_points_ms_p99']} ms); "
          f"{la['embedding_share']:.0%} of it inside the embedder ({la['embed_calls_per_query']} calls/query)",
          flush=True)
    out = Path(os.environ.get("KUBESAGE_HOME", Path.home() / ".kubesage")) / "bench" / "routing.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({k: v for k, v in results.items()}, indent=2))
    print(f"  wrote {out}")


if __name__ == "__main__":
    main()
