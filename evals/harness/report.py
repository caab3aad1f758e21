"""Reports: one JSON per case, `summary.json`, `summary.md` and the plots.

Why the summary is derived only from the case records: `compare` and the plots read the same files a person
reads, so a number in the Markdown can always be traced to the case that produced it.
"""

from __future__ import annotations

import json
import re
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

from evals.harness.verdict import VERDICTS, classify, failure_reason, tally

__all__ = ["failure_reason", "load_report", "summarize", "write_case", "write_report"]


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    return round(s[min(len(s) - 1, int(q * (len(s) - 1) + 0.5))], 3)


def _grouped(records: list[dict[str, Any]], keys: Any) -> dict[str, dict[str, Any]]:
    """Verdict tallies per group; `keys(record)` names the groups a record belongs to (a case with several tags
    counts in each)."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        for k in keys(r):
            groups[k].append(r)
    return {k: tally(rs) for k, rs in sorted(groups.items())}


def verdicts(records: list[dict[str, Any]]) -> dict[str, Any]:
    """pass / abstain / wrong overall, per set (file), per domain and per tag; the wrong cases first."""
    for r in records:
        if not r.get("verdict"):
            r["verdict"], r["verdict_reason"] = classify(r)
    listed = [{"id": r["id"], "domain": r["domain"], "tags": r.get("tags") or [], "verdict": r["verdict"],
               "reason": r.get("verdict_reason", "")} for r in records if r["verdict"] != "pass"]
    return {"overall": tally(records),
            "sets": _grouped(records, lambda r: [Path(str(r.get("file") or "?")).stem]),
            "domains": _grouped(records, lambda r: [r["domain"]]),
            "tags": _grouped(records, lambda r: r.get("tags") or ["(untagged)"]),
            "wrong": [x for x in listed if x["verdict"] == "wrong"],
            "abstained": [x for x in listed if x["verdict"] == "abstain"]}


def summarize(records: list[dict[str, Any]], meta: dict[str, Any]) -> dict[str, Any]:
    """Pass rates overall and per domain, per-grader pass rates, latency, LLM use, failures, flaky cases."""
    by_domain: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        by_domain[r["domain"]].append(r)
    graders: dict[str, list[bool]] = defaultdict(list)
    for r in records:
        for g in r.get("graders") or []:
            graders[g["name"]].append(g["passed"])
    lat = [r.get("latency_s", 0.0) for r in records if not r.get("error")]
    served: dict[str, int] = defaultdict(int)
    tokens = {"prompt": 0, "completion": 0}
    cache_hits = 0
    for r in records:
        llm = r.get("llm") or {}
        for k, n in (llm.get("served_by") or {}).items():
            served[k] += n
        tokens["prompt"] += llm.get("prompt_tokens", 0)
        tokens["completion"] += llm.get("completion_tokens", 0)
        cache_hits += llm.get("cache_hits", 0)
    llm_calls = sum(served.values())
    n = len(records)
    passed = sum(r["passed"] for r in records)
    return {
        **meta,
        "cases": n, "passed": passed, "pass_rate": round(passed / n, 4) if n else 0.0,
        "errors": sum(1 for r in records if r.get("error")),
        "domains": {d: {"cases": len(rs), "passed": sum(r["passed"] for r in rs),
                        "pass_rate": round(sum(r["passed"] for r in rs) / len(rs), 4)} for d, rs in sorted(by_domain.items())},
        "graders": {g: {"checks": len(v), "passed": sum(v), "pass_rate": round(sum(v) / len(v), 4)}
                    for g, v in sorted(graders.items())},
        "latency_s": {"p50": _pct(lat, 0.5), "p90": _pct(lat, 0.9), "p99": _pct(lat, 0.99), "max": max(lat, default=0.0),
                      "mean": round(statistics.fmean(lat), 3) if lat else 0.0},
        "llm": {"calls": llm_calls, "served_by": dict(served), "tokens": tokens, "cache_hits": cache_hits,
                "cloud_share": round(served.get("cloud", 0) / llm_calls, 4) if llm_calls else 0.0},
        "flaky": [r["id"] for r in records if r.get("flaky")],
        "failures": [{"id": r["id"], "domain": r["domain"], "reason": failure_reason(r)} for r in records if not r["passed"]],
        "verdicts": verdicts(records),
    }


def _cell(text: str, n: int = 300) -> str:
    return re.sub(r"\s+", " ", text).replace("|", "\\|")[:n]


def _verdict_md(v: dict[str, Any], policy: str | None) -> list[str]:
    """The verdict tables (set, domain, tag), then the wrong cases with their reasons: what to read first."""
    o = v["overall"]
    lines = [f"**Verdicts (model policy {policy}): pass {o['pass']}, abstain {o['abstain']}, wrong {o['wrong']} "
             f"of {o['cases']}** (pass {100 * o['pass_rate']:.1f}%, abstain {100 * o['abstain_rate']:.1f}%, "
             f"wrong {100 * o['wrong_rate']:.1f}%)", ""]
    for title, key in (("set", "sets"), ("domain", "domains"), ("tag", "tags")):
        lines += [f"| {title} | cases | " + " | ".join(VERDICTS) + " | wrong rate |",
                  "|---|---:|" + "---:|" * (len(VERDICTS) + 1)]
        lines += [f"| {k} | {t['cases']} | " + " | ".join(str(t[x]) for x in VERDICTS) +
                  f" | {100 * t['wrong_rate']:.1f}% |" for k, t in v[key].items()]
        lines.append("")
    if v["wrong"]:
        lines += ["## Wrong (a change or an answer that should not have been)", "", "| case | domain | tags | reason |",
                  "|---|---|---|---|"]
        lines += [f"| {w['id']} | {w['domain']} | {', '.join(w['tags'])} | {_cell(w['reason'])} |" for w in v["wrong"]]
        lines.append("")
    return lines


def _md(summary: dict[str, Any]) -> str:
    s = summary
    lines = [f"# Eval run {s.get('run', '')}", "",
             f"- sets: {', '.join(s.get('sets') or [])}"
             + (f" (only cases tagged {' or '.join(s['tags'])})" if s.get("tags") else ""),
             f"- model policy: {s.get('model_policy')}; cache: {s.get('cache')}; jobs: {s.get('jobs')}; "
             f"repeat: {s.get('repeat')}",
             f"- cloud tier: {s.get('cloud') or 'none configured'}",
             f"- wall time: {s.get('wall_s', 0):.0f} s; started {s.get('started', '')}",
             "", f"**Pass rate: {s['passed']}/{s['cases']} = {100 * s['pass_rate']:.1f}%** "
             f"({s['errors']} case(s) errored)", "",
             *_verdict_md(s["verdicts"], s.get("model_policy")),
             "| domain | cases | passed | pass rate |", "|---|---:|---:|---:|"]
    lines += [f"| {d} | {v['cases']} | {v['passed']} | {100 * v['pass_rate']:.1f}% |" for d, v in s["domains"].items()]
    lines += ["", "| grader | checks | passed | pass rate |", "|---|---:|---:|---:|"]
    lines += [f"| {g} | {v['checks']} | {v['passed']} | {100 * v['pass_rate']:.1f}% |" for g, v in s["graders"].items()]
    lat, llm = s["latency_s"], s["llm"]
    lines += ["", f"Latency per case (turns incl. approvals, s): p50 {lat['p50']}, p90 {lat['p90']}, "
              f"p99 {lat['p99']}, max {lat['max']}.", "",
              f"LLM use (gateway accounting): {llm['calls']} call(s)"
              + (f", served by {', '.join(f'{k} {v}' for k, v in sorted(llm['served_by'].items()))}"
                 if llm["calls"] else " — no agent or router step called a model in this run")
              + f"; tokens prompt {llm['tokens']['prompt']}, completion {llm['tokens']['completion']}; "
              f"cache hits {llm['cache_hits']}; cloud share {100 * llm['cloud_share']:.1f}%.", ""]
    if s.get("flaky"):
        lines += [f"Flaky (repeats disagree): {', '.join(s['flaky'])}", ""]
    if s["failures"]:
        verdict = {w["id"]: w["verdict"] for w in s["verdicts"]["wrong"] + s["verdicts"]["abstained"]}
        lines += ["## Failures", "", "| case | domain | verdict | reason |", "|---|---|---|---|"]
        for f in s["failures"]:
            lines.append(f"| {f['id']} | {f['domain']} | {verdict.get(f['id'], '')} | {_cell(f['reason'])} |")
    return "\n".join(lines) + "\n"


def write_case(out: Path, rec: dict[str, Any]) -> None:
    (out / "cases").mkdir(parents=True, exist_ok=True)
    (out / "cases" / f"{rec['id']}.json").write_text(json.dumps(rec, indent=1, default=str))


def write_report(out: Path, records: list[dict[str, Any]], meta: dict[str, Any]) -> dict[str, Any]:
    """Every file of a report; returns the summary."""
    out.mkdir(parents=True, exist_ok=True)
    for rec in records:
        write_case(out, rec)
    summary = summarize(records, meta)
    (out / "summary.json").write_text(json.dumps(summary, indent=1, default=str))
    (out / "summary.md").write_text(_md(summary))
    from evals.harness.plots import write_plots

    summary["plots"] = write_plots(out, records, summary)
    (out / "summary.json").write_text(json.dumps(summary, indent=1, default=str))
    return summary


def load_report(path: str | Path) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """A report folder → (summary, {case id: record})."""
    p = Path(path)
    if not (p / "summary.json").exists():
        raise FileNotFoundError(f"{p}: not an eval report (no summary.json)")
    summary = json.loads((p / "summary.json").read_text())
    cases = {}
    for f in sorted((p / "cases").glob("*.json")):
        rec = json.loads(f.read_text())
        cases[rec["id"]] = rec
    return summary, cases
