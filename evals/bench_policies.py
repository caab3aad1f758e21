"""`make bench` (IAM part): repair the faulty-policy benchmark and run the differential suite at scale.

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
