"""`kubesage eval run SET...` and `kubesage eval compare RUN_A RUN_B`: the eval harness (evals/harness)."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

from kubesage.settings import Settings

POLICIES = ("local-only", "cloud-only", "local-first", "cloud-first")


def register(sub: Any) -> None:
    ev = sub.add_parser("eval", help="run benchmark query sets and compare runs")
    evsub = ev.add_subparsers(dest="eval_command", metavar="SUBCOMMAND")
    run = evsub.add_parser("run", help="run query sets, each case on a fresh sandbox, and write a report")
    run.add_argument("sets", nargs="+", metavar="SET", help="query-set files (or folders of cases_*.yaml)")
    run.add_argument("--model-policy", choices=POLICIES, default=None,
                     help="LLM tier policy for the run (sets KUBESAGE_LLM_POLICY; default: as configured)")
    run.add_argument("--cache", choices=("on", "off"), default="on", help="the gateway's semantic cache")
    run.add_argument("--report", default=None, help="report folder (default evals/reports/<date>-<policy>)")
    run.add_argument("-j", "--jobs", type=int, default=1, help="cases run in parallel (processes)")
    run.add_argument("--repeat", type=int, default=1, help="run each case K times and flag flaky ones")
    run.add_argument("-k", "--filter", default=None, help="only cases whose id matches this regex")
    run.add_argument("--tag", action="append", default=None, metavar="TAG",
                     help="only cases with this tag (e.g. test or tune of evals/sets/wild.yaml); repeat for any of several")
    run.add_argument("--json", action="store_true", help="print the summary as JSON")
    run.set_defaults(func=_run)
    cmp_ = evsub.add_parser("compare", help="per-case differences and rate deltas between two reports")
    cmp_.add_argument("run_a")
    cmp_.add_argument("run_b")
    cmp_.add_argument("--json", action="store_true")
    cmp_.set_defaults(func=_compare)
    ev.set_defaults(func=lambda args, cfg: (ev.print_help(), 2)[1])


def _run(args: argparse.Namespace, cfg: Settings) -> int:
    from evals.harness.cases import CaseError, load_sets
    from evals.harness.progress import Progress
    from evals.harness.report import write_case, write_report
    from evals.harness.runner import run_cases

    if args.jobs < 1 or args.repeat < 1:
        print("error: -j and --repeat must be at least 1", file=sys.stderr)
        return 2
    skipped: list[str] = []
    try:
        cases = load_sets(args.sets, skipped)
    except CaseError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for why in skipped:
        print(f"skipped: {why}", file=sys.stderr)
    if args.filter:
        try:
            rx = re.compile(args.filter)
        except re.error as e:
            print(f"error: --filter: {e}", file=sys.stderr)
            return 2
        cases = [c for c in cases if rx.search(c.id)]
    if args.tag:
        cases = [c for c in cases if set(args.tag) & set(c.tags)]
    if not cases:
        print("error: no cases to run", file=sys.stderr)
        return 2
    if args.model_policy:
        os.environ["KUBESAGE_LLM_POLICY"] = args.model_policy
    os.environ["KUBESAGE_LLM_CACHE"] = "1" if args.cache == "on" else "0"
    policy = os.environ.get("KUBESAGE_LLM_POLICY") or "local-first"
    out = Path(args.report or f"evals/reports/{time.strftime('%Y-%m-%d')}-{policy}")
    cloud = os.environ.get("KUBESAGE_LLM_CLOUD_BASE_URL")
    meta = {"run": out.name, "sets": [str(s) for s in args.sets], "tags": args.tag, "model_policy": policy,
            "cache": args.cache,
            "jobs": args.jobs, "repeat": args.repeat, "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "cloud": f"{cloud} (model {os.environ.get('KUBESAGE_LLM_CLOUD_MODEL', 'default')})" if cloud else None,
            "local_model": os.environ.get("KUBESAGE_LLM_LOCAL_MODEL") or "smollm2 (bundled default)"}
    print(f"running {len(cases)} case(s) from {len(args.sets)} set(s), -j {args.jobs}, repeat {args.repeat}, "
          f"policy {policy}, cache {args.cache} → {out}", file=sys.stderr)
    progress = Progress(len(cases))
    t0 = time.perf_counter()

    def done(rec: dict[str, Any]) -> None:
        write_case(out, rec)
        progress.update(rec)

    records = run_cases(cases, jobs=args.jobs, repeat=args.repeat, on_done=done)
    meta["wall_s"] = round(time.perf_counter() - t0, 1)
    summary = write_report(out, records, meta)
    if args.json:
        print(json.dumps(summary, indent=2, default=str))
    else:
        print((out / "summary.md").read_text())
        print(f"report: {out}")
    return 0


def _compare(args: argparse.Namespace, cfg: Settings) -> int:
    from evals.harness.compare import compare, render

    try:
        diff = compare(args.run_a, args.run_b)
    except (FileNotFoundError, ValueError, KeyError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(json.dumps(diff, indent=2) if args.json else render(diff))
    return 0
