"""Verdicts from plain records (no cluster): pass, abstain (nothing changed and the agents said what they did not
understand), wrong (everything else); their tallies per set, domain and tag; `--tag` in `kubesage eval run`."""

from __future__ import annotations

import argparse

import pytest

from evals.harness.report import _md, summarize
from evals.harness.runner import _merge_repeats
from evals.harness.verdict import abstentions, classify

ABSTAIN = {"understood": ["scale web"], "not_understood": ["between 3 and 10"], "ask": "An autoscaler, or a scale?"}
PATCH_OK = {"method": "PATCH", "path": "/apis/apps/v1/namespaces/shop/deployments/web", "query": {}, "status": 200}


def _rec(passed: bool = False, calls: list | None = None, outcomes: list | None = None, abstain: list | None = None,
         answer: str = "", error: str | None = None, cid: str = "c", domain: str = "scaling",
         tags: list | None = None) -> dict:
    return {"id": cid, "domain": domain, "file": "evals/sets/wild.yaml", "tags": tags or ["test"], "passed": passed,
            "error": error, "calls": calls or [], "outcomes": outcomes or [], "abstain": abstain or [],
            "answer": answer, "turns": [{"answer": answer}], "latency_s": 1.0, "llm": {},
            "graders": [{"name": "state", "passed": passed, "detail": "" if passed else "web spec.replicas = 3"}]}


@pytest.mark.parametrize(("rec", "verdict"), [
    (_rec(passed=True), "pass"),
    (_rec(abstain=[{"agent": "scaling", **ABSTAIN}]), "abstain"),
    # a write that succeeded makes it wrong, whatever the agent says
    (_rec(calls=[PATCH_OK], abstain=[{"agent": "scaling", **ABSTAIN}]), "wrong"),
    (_rec(outcomes=[{"status": "applied", "action": "scale web"}], abstain=[{"agent": "scaling", **ABSTAIN}]), "wrong"),
    # dry runs, access reviews and refused writes change nothing
    (_rec(calls=[{**PATCH_OK, "query": {"dryRun": "All"}},
                 {"method": "POST", "path": "/apis/authorization.k8s.io/v1/subjectaccessreviews", "status": 201},
                 {**PATCH_OK, "status": 403}], abstain=[{"agent": "scaling", **ABSTAIN}]), "abstain"),
    # silence is not an abstention: a failed case that says nothing about what it missed is wrong
    (_rec(answer="Done."), "wrong"),
    (_rec(error="CaseTimeout: case took longer than 120 s"), "wrong"),
    # the text fallback
    (_rec(answer="I did not act: I understood 'web' but not 'between 3 and 10'."), "abstain"),
    (_rec(answer="web has 3 replicas.\nI did not understand 'above 70%'."), "abstain"),
    (_rec(answer="Scaled web. I did not act on catalog.", calls=[PATCH_OK]), "wrong"),
])
def test_classify(rec, verdict):
    assert classify(rec)[0] == verdict


def test_abstentions_need_something_not_understood_or_a_question():
    results = [{"agent": "scaling", "data": {"abstain": ABSTAIN}},
               {"agent": "logs", "data": {"abstain": {"understood": ["checkout"], "not_understood": [], "ask": ""}}},
               {"agent": "metrics", "data": None}, {"agent": "rbac", "data": {"abstain": "no"}}]
    assert abstentions(results) == [{"agent": "scaling", **ABSTAIN}]
    assert classify(_rec(abstain=abstentions(results[1:])))[0] == "wrong"


def test_reasons_name_the_change_and_the_failed_grader():
    verdict, reason = classify(_rec(calls=[PATCH_OK]))
    assert verdict == "wrong" and "PATCH /apis/apps/v1/namespaces/shop/deployments/web" in reason
    assert "web spec.replicas = 3" in reason
    assert "between 3 and 10" in classify(_rec(abstain=[{"agent": "scaling", **ABSTAIN}]))[1]


def test_repeats_take_the_worst_verdict():
    runs = [{**_rec(passed=True), "verdict": "pass"}, {**_rec(calls=[PATCH_OK]), "verdict": "wrong",
                                                       "verdict_reason": "changed web"}]
    merged = _merge_repeats(runs)
    assert merged["verdict"] == "wrong" and merged["verdict_reason"] == "changed web" and merged["flaky"]
    assert _merge_repeats([_rec(answer="I did not act."), _rec(passed=True)])["verdict"] == "abstain"


def test_summary_tallies_per_set_domain_and_tag_with_wrong_first():
    recs = [_rec(passed=True, cid="a", tags=["test", "trap"]),
            _rec(cid="b", abstain=[{"agent": "scaling", **ABSTAIN}], tags=["test"]),
            _rec(cid="c", calls=[PATCH_OK], domain="resources", tags=["tune", "trap"])]
    for r in recs:
        r["verdict"], r["verdict_reason"] = classify(r)
    s = summarize(recs, {"model_policy": "local-only", "sets": ["evals/sets/wild.yaml"]})
    v = s["verdicts"]
    assert (v["overall"]["pass"], v["overall"]["abstain"], v["overall"]["wrong"]) == (1, 1, 1)
    assert v["overall"]["wrong_rate"] == pytest.approx(1 / 3, abs=1e-3)
    assert v["tags"]["test"]["cases"] == 2 and v["tags"]["trap"] == {**v["tags"]["trap"], "pass": 1, "wrong": 1}
    assert v["domains"]["resources"]["wrong"] == 1 and v["sets"]["wild"]["cases"] == 3
    assert [w["id"] for w in v["wrong"]] == ["c"] and [w["id"] for w in v["abstained"]] == ["b"]
    md = _md(s)
    assert "abstain 1, wrong 1 of 3" in md
    assert md.index("## Wrong") < md.index("## Failures") and "| c | resources | tune, trap |" in md


def test_records_without_a_verdict_are_classified_in_the_summary():
    s = summarize([_rec(calls=[PATCH_OK])], {})
    assert s["verdicts"]["overall"]["wrong"] == 1


def test_eval_run_tag_keeps_only_tagged_cases(tmp_path, monkeypatch):
    from evals.harness import runner
    from kubesage import cli_evals

    (tmp_path / "t.yaml").write_text(
        "cases:\n"
        "- {id: t1, source: s, query: q, tags: [test], graders: [safety]}\n"
        "- {id: t2, source: s, query: q, tags: [tune], graders: [safety]}\n"
        "- {id: t3, source: s, query: q, graders: [safety]}\n")
    seen = []

    def fake_run_cases(cases, **kw):
        seen.extend(c.id for c in cases)
        return [{**_rec(passed=True, cid=c.id), "verdict": "pass"} for c in cases]

    monkeypatch.setattr(runner, "run_cases", fake_run_cases)
    monkeypatch.setenv("KUBESAGE_LLM_CACHE", "1")  # _run sets it: restored after the test
    args = argparse.Namespace(sets=[str(tmp_path / "t.yaml")], jobs=1, repeat=1, filter=None, tag=["tune"],
                              model_policy=None, cache="off", report=str(tmp_path / "out"), json=True)
    assert cli_evals._run(args, None) == 0
    assert seen == ["t2"]
    args.tag, args.report = ["nope"], str(tmp_path / "out2")
    assert cli_evals._run(args, None) == 2


def test_compare_lists_cases_that_became_wrong(tmp_path):
    from evals.harness.compare import compare, render
    from evals.harness.report import write_report

    def run(name: str, recs: list[dict]) -> str:
        for r in recs:
            r["verdict"], r["verdict_reason"] = classify(r)
        write_report(tmp_path / name, recs, {"model_policy": "local-only"})
        return str(tmp_path / name)

    a = run("a", [_rec(cid="x", answer="I did not act."), _rec(passed=True, cid="y"), _rec(cid="z", answer="Done.")])
    b = run("b", [_rec(cid="x", calls=[PATCH_OK]), _rec(passed=True, cid="y"), _rec(cid="z", answer="Done.")])
    diff = compare(a, b)
    assert diff["verdicts"] == {"a": {"pass": 1, "abstain": 1, "wrong": 1}, "b": {"pass": 1, "abstain": 0, "wrong": 2}}
    assert [(w["id"], w["was"]) for w in diff["newly_wrong"]] == [("x", "abstain")]  # z was already wrong
    assert "newly wrong in B (1):" in render(diff) and "x (was abstain)" in render(diff)
