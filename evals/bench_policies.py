"""`make bench` (IAM part): repair the faulty-policy benchmark and the hand-written "people" set, ask
proven account questions on 1,000 principals × 1,000 resources, hold `iam repair` to its time budget on large
generated policies, and run the differential suite at scale.

Prints, on this machine:
- repair: fixed % (every spec request decided as expected and the bound re-proven by a fresh Z3 query),
  over-permissive repairs (must be 0; checked independently of the repair's own proof by deciding 300
  requests drawn from the template's request space with the evaluator), median and p95 repair time, per
  spec size (5, 10, 15 requests);
- differential: 10,000+ generated cases decided by the evaluator, the Z3 encoding and the independent
  simulator `@cloud-copilot/iam-simulate`; disagreements (must be 0) and how many cases fall under each
  documented ambiguity.
Numbers are measured, never asserted; tests do not depend on them. Results go to
`$KUBESAGE_HOME/bench/policies.json`. `IAM_BENCH_DIFF=N` changes the number of differential cases.
"""

from __future__ import annotations

import collections
import json
import os
import random
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from evals.bench_sandbox import machine
from evals.iam_bench.differential import generate_cases
from evals.iam_bench.generate import _pool_request, generate
from evals.iam_bench.simulator import ensure_installed, simulate
from evals.iam_bench.templates import TEMPLATES
from policies import AMBIGUITIES, check, decide, parse_policy, parse_request, parse_spec, prove_bound
from policies.repair import repair
from policies.verify import in_spec_class, z3_decisions

SIM = {"Allowed": "allow", "ExplicitlyDenied": "explicit-deny", "ImplicitlyDenied": "implicit-deny"}


def _over_permissive(item: dict, faulty, repaired, spec, rng: random.Random, n: int = 300) -> bool:
    template = next(t for t in TEMPLATES if t["name"] == item["template"])
    requests = [parse_request(_pool_request(rng, template["pool"])) for _ in range(n)]
    requests += [c.request for c in spec.cases]
    for r in requests:
        if decide(repaired, r).allowed and not decide(faulty, r).allowed and not in_spec_class(r, spec, [faulty, repaired]):
            return True
    return False


def bench_repair(per_size: int = 80) -> dict:
    items = generate(per_size)
    rng = random.Random(7)
    rows = []
    for item in items:
        faulty, spec = parse_policy(item["policy"]), parse_spec(item["spec"])
        t = time.perf_counter()
        res = repair(faulty, spec)
        dt = time.perf_counter() - t
        fixed = res.status == "repaired" and check(res.policy, spec, use_z3=False).holds and \
            prove_bound(faulty, res.policy, spec).proven
        over = fixed and _over_permissive(item, faulty, res.policy, spec, rng)
        rows.append({"id": item["id"], "size": item["size"], "mutation": item["mutation"].split("@")[0],
                     "fixed": fixed, "over_permissive": over, "seconds": round(dt, 4),
                     "changes": len(res.edits), "edits": [e.text for e in res.edits]})
    out = {"items": len(rows)}
    for label, sel in [("all", rows)] + [(f"size_{s}", [r for r in rows if r["size"] == s]) for s in (5, 10, 15)]:
        ts = sorted(r["seconds"] for r in sel)
        out[label] = {"items": len(sel), "fixed_pct": round(100 * sum(r["fixed"] for r in sel) / len(sel), 1),
                      "over_permissive": sum(r["over_permissive"] for r in sel),
                      "median_s": round(statistics.median(ts), 3), "p95_s": round(ts[max(0, int(0.95 * len(ts)) - 1)], 3),
                      "mean_changes": round(statistics.mean(r["changes"] for r in sel if r["fixed"]), 2)}
    out["unfixed"] = [r["id"] for r in rows if not r["fixed"]]
    out["by_mutation"] = dict(collections.Counter(r["mutation"] for r in rows))
    out["rows"] = rows
    return out


def _stats(times: list[float]) -> dict[str, float]:
    ts = sorted(times)
    return {"n": len(ts), "median_s": round(statistics.median(ts), 4) if ts else None,
            "p95_s": round(ts[max(0, int(0.95 * len(ts)) - 1)], 4) if ts else None}


def bench_people() -> dict:
    """The hand-written "people" set (`evals/iam_bench/people.py`): proven, best-effort, failed, time."""
    from evals.iam_bench.people import cases
    from policies import PolicyError
    from policies.parser import dumps_policy
    from policies.syntax import suggest_fix

    rows = []
    for name, text, spec_doc in cases():
        spec = parse_spec(spec_doc)
        t = time.perf_counter()
        syntax = False
        try:
            policy = parse_policy(text)
        except PolicyError:
            fix = suggest_fix(text)
            if fix is None:
                rows.append({"name": name, "status": "syntax-unfixable", "seconds": time.perf_counter() - t})
                continue
            policy, syntax = fix.policy, True
        res = repair(policy, spec, time_budget=30)
        dt = time.perf_counter() - t
        meets = res.policy is not None and check(res.policy, spec, use_z3=False).holds
        proven = res.status in ("repaired", "holds") and meets and prove_bound(policy, res.policy, spec).proven
        rows.append({"name": name, "status": res.status, "syntax_fixed": syntax, "meets_spec": meets,
                     "proven_within_bound": proven, "extra_complete": bool(res.extra and res.extra.complete),
                     "extra_classes": len(res.extra.classes) if res.extra else 0, "changes": len(res.edits),
                     "escape_written": res.policy is not None and "${*}" in dumps_policy(res.policy),
                     "seconds": round(dt, 4)})
    count = collections.Counter(r["status"] for r in rows)
    return {"cases": len(rows), "proven": sum(r.get("proven_within_bound", False) for r in rows),
            "best_effort_with_stated_extra": sum(r["status"] == "best-effort" and r["extra_complete"] for r in rows),
            "syntax_fixed": sum(r.get("syntax_fixed", False) for r in rows), "by_status": dict(count),
            "escape_written": sum(r.get("escape_written", False) for r in rows),
            **_stats([r["seconds"] for r in rows]), "rows": rows}


def bench_account(principals: int = 1000, resources: int = 1000, questions: int = 20) -> dict:
    """Proven account questions on a generated account: median and p95 per kind of question."""
    from evals.iam_bench.account import generated_snapshot
    from policies.account import account_from_snapshot
    from policies.account_questions import is_public, new_access, outside_access, unused_actions, who_can

    t = time.perf_counter()
    account = account_from_snapshot(generated_snapshot(principals, resources))
    load = time.perf_counter() - t
    rng = random.Random(11)
    picks = [(rng.choice(account.resources), rng.choice(account.principals)) for _ in range(questions)]
    kinds = {
        "who_can": lambda r, p: who_can(account, rng.choice(["s3:GetObject", "s3:PutObject"]), r.arn + "/data/x"),
        "outside_access": lambda r, p: outside_access(account, r.arn + "/data/x"),
        "is_public": lambda r, p: is_public(account, r.arn + "/data/x"),
        "new_access": lambda r, p: new_access(account, p.policies[0].name, parse_policy({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": r.arn + "/*"}]})),
        "unused_actions": lambda r, p: unused_actions(account, p, r.arn + "/data/x", ["s3:GetObject"]),
    }
    out: dict = {"principals": principals, "resources": resources, "load_s": round(load, 3)}
    for kind, ask in kinds.items():
        times = []
        for r, p in picks:
            t = time.perf_counter()
            ask(r, p)
            times.append(time.perf_counter() - t)
        out[kind] = _stats(times)
    return out


def bench_budget(budgets: tuple[float, ...] = (5.0, 15.0, 90.0)) -> dict:
    """`kubesage iam repair --time-budget B` on the large generated policies of issue 20 (500 condition keys
    × 20 values; 5,000 statements): wall time and peak memory of the process against the budget."""
    import subprocess
    import sys
    import tempfile

    from evals.iam_bench.large import many_conditions, many_statements

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for shape, (doc, spec) in (("500 keys x 20 values", many_conditions()), ("5000 statements", many_statements())):
            pol, sp = Path(tmp) / "policy.json", Path(tmp) / "spec.json"
            pol.write_text(json.dumps(doc))
            sp.write_text(json.dumps(spec))
            for b in budgets:
                t = time.perf_counter()
                proc = subprocess.Popen([sys.executable, "-m", "kubesage.cli", "iam", "repair", str(pol), "--spec", str(sp),
                                         "--time-budget", str(b), "--json"], stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL)
                out = proc.stdout.read() if proc.stdout else b""
                _pid, wstatus, rusage = os.wait4(proc.pid, 0)   # this child's own peak memory (KiB on Linux)
                wall = time.perf_counter() - t
                try:
                    status = json.loads(out)["status"]
                except (ValueError, KeyError):
                    status = "?"
                rows.append({"shape": shape, "budget_s": b, "wall_s": round(wall, 2),
                             "exit": os.waitstatus_to_exitcode(wstatus), "status": status,
                             "peak_rss_mb": round(rusage.ru_maxrss / 1024, 1)})
    return {"rows": rows}


def _decide_chunk(cases: list[dict]) -> list[tuple[str, str, bool, list[str]]]:
    compat = frozenset(AMBIGUITIES)
    out = []
    for c in cases:
        policy, request = parse_policy(c["policy"]), parse_request(c["request"])
        ours = decide(policy, request)
        z = z3_decisions(policy, [request])[0]
        amb = [k for k in AMBIGUITIES if decide(policy, request, frozenset([k])) != ours]
        out.append((ours.value, decide(policy, request, compat).value, z, amb))
    return out


def bench_differential(n: int = 10_000, seed: int = 2024) -> dict:
    prefix = ensure_installed()
    t = time.perf_counter()
    cases = generate_cases(seed, n)
    sim = simulate(cases, prefix)
    t_sim = time.perf_counter() - t
    chunks = [cases[i:i + 250] for i in range(0, n, 250)]
    with ProcessPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1))) as pool:
        ours = [row for chunk in pool.map(_decide_chunk, chunks) for row in chunk]
    bad_z3 = bad_sim = sim_errors = 0
    explained: collections.Counter = collections.Counter()
    for (value, compat_value, z, amb), theirs in zip(ours, sim, strict=False):
        if z != (value == "allow"):
            bad_z3 += 1
        if isinstance(theirs, dict):
            sim_errors += 1
            continue
        if compat_value != SIM[theirs]:
            bad_sim += 1
        elif value != SIM[theirs]:
            explained.update(amb)
    return {"cases": n, "evaluator_vs_z3_disagreements": bad_z3, "simulator_disagreements": bad_sim,
            "simulator_rejected_cases": sim_errors, "explained_by_ambiguity": dict(explained),
            "seconds": round(time.perf_counter() - t, 1), "simulator_seconds": round(t_sim, 1)}


def main() -> None:
    results: dict = {"machine": machine()}
    print("IAM policy benchmark on", results["machine"])
    rep = bench_repair()
    results["repair"] = rep
    a = rep["all"]
    print(f"  repair: {rep['items']} faulty policies (specs of 5, 10, 15 requests): {a['fixed_pct']}% fixed, "
          f"{a['over_permissive']} over-permissive repairs, median {a['median_s']} s, p95 {a['p95_s']} s, "
          f"{a['mean_changes']} changes on average")
    for s in (5, 10, 15):
        r = rep[f"size_{s}"]
        print(f"    spec of {s:2d}: {r['fixed_pct']}% fixed, {r['over_permissive']} over-permissive, "
              f"median {r['median_s']} s, p95 {r['p95_s']} s")
    if rep["unfixed"]:
        print("    not fixed:", ", ".join(rep["unfixed"]))
    people = bench_people()
    results["people"] = people
    print(f"  repair, hand-written people set: {people['cases']} policies ({people['syntax_fixed']} needing a syntax "
          f"repair first): {people['proven']} proven within original ∪ spec, "
          f"{people['best_effort_with_stated_extra']} best effort with the extra stated and proven complete, "
          f"statuses {people['by_status']}, `${{*}}` written {people['escape_written']} times; "
          f"median {people['median_s']} s, p95 {people['p95_s']} s")
    acct = bench_account()
    results["account"] = acct
    print(f"  account questions on {acct['principals']} principals x {acct['resources']} resources "
          f"(loaded in {acct['load_s']} s), per question:")
    for kind in ("who_can", "outside_access", "is_public", "new_access", "unused_actions"):
        st = acct[kind]
        print(f"    {kind:15s} median {st['median_s']} s, p95 {st['p95_s']} s ({st['n']} questions)")
    budget = bench_budget()
    results["budget"] = budget
    print("  iam repair --time-budget on large generated policies (CLI process, wall and peak memory):")
    for r in budget["rows"]:
        print(f"    {r['shape']:22s} budget {r['budget_s']:5.1f} s: {r['wall_s']:6.2f} s, {r['peak_rss_mb']:7.1f} MB, "
              f"exit {r['exit']}, {r['status']}")
    n = int(os.environ.get("IAM_BENCH_DIFF", "10000"))
    diff = bench_differential(n)
    results["differential"] = diff
    print(f"  differential: {diff['cases']} cases, evaluator vs Z3: {diff['evaluator_vs_z3_disagreements']} "
          f"disagreements, vs iam-simulate: {diff['simulator_disagreements']} unexplained disagreements "
          f"({diff['simulator_rejected_cases']} cases rejected by the simulator); documented ambiguities: "
          f"{diff['explained_by_ambiguity']} ({diff['seconds']} s)")
    out = Path(os.environ.get("KUBESAGE_HOME", Path.home() / ".kubesage")) / "bench" / "policies.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"  written to {out}")


if __name__ == "__main__":
    main()
