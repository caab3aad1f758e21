"""Repeats and flakiness, the summary's rates, and the progress line — from plain records, no cluster."""

from __future__ import annotations

import io

from evals.harness.progress import Progress
from evals.harness.report import summarize
from evals.harness.runner import _merge_repeats


def _rec(cid: str, domain: str, passed: bool, served: dict | None = None) -> dict:
    return {"id": cid, "domain": domain, "passed": passed, "error": None, "latency_s": 1.0,
            "graders": [{"name": "answer", "passed": passed, "detail": "" if passed else "does not mention 'x'"}],
            "llm": {"served_by": served or {}, "prompt_tokens": 10, "completion_tokens": 2, "cache_hits": 0}}


def test_repeats_that_disagree_are_flaky_and_fail():
    merged = _merge_repeats([_rec("a", "logs", True), _rec("a", "logs", False)])
    assert merged["flaky"] and not merged["passed"] and len(merged["repeats"]) == 2
    steady = _merge_repeats([_rec("b", "logs", True), _rec("b", "logs", True)])
    assert not steady["flaky"] and steady["passed"]


def test_summary_rates_failures_and_cloud_share():
    recs = [_rec("a", "logs", True, {"local": 3}), _rec("b", "logs", False, {"cloud": 1}), _rec("c", "rbac", True)]
    s = summarize(recs, {"model_policy": "local-first"})
    assert (s["cases"], s["passed"], s["domains"]["logs"]["pass_rate"], s["domains"]["rbac"]["pass_rate"]) == (3, 2, 0.5, 1.0)
    assert s["failures"] == [{"id": "b", "domain": "logs", "reason": "answer: does not mention 'x'"}]
    assert s["llm"]["calls"] == 4 and s["llm"]["cloud_share"] == 0.25


def test_progress_counts_passes():
    out = io.StringIO()
    p = Progress(2, out)
    p.update(_rec("a", "logs", True))
    p.update(_rec("b", "logs", False))
    lines = out.getvalue().splitlines()
    assert "1/2 pass 1 (100%)" in lines[0] and "2/2 pass 1 (50%)" in lines[1] and "FAIL b" in lines[1]
