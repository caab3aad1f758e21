"""Modelled pods/s here against an older commit, measured in one run, alternating (issue 16's "must not drop").

`python -m evals.compare_sandbox_pods [--old COMMIT] [--runs N]` checks COMMIT out into a temporary git worktree
(default: the parent of the first commit that touched `sandbox/jail/`, i.e. the sandbox before real processes),
then runs the same measurement in both trees N times each, old and new alternating so that a busy shared machine
weighs on both alike: a 1,000-replica nginx Deployment from nothing to all Ready at speed 100 (the
`pods_ready_per_s` of `evals/bench_sandbox.py`), and the sandbox process's CPU time per pod over the same span
(what other load on a shared machine changes least). Each measurement is a fresh interpreter whose working directory
is the tree measured, so it imports that tree's `sandbox/`. Prints each run, the medians and new/old; removes the
worktree. Numbers are measured, never asserted.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Runs inside the tree measured; uses only helpers both trees have.
MEASURE = """
import json, sys, time
import sandbox
from evals.bench_sandbox import _deployment, _nodes, _wait_rollout
from sandbox.cluster import SYSTEM, WriteOptions
from sandbox.server import SandboxServer
n = int(sys.argv[1])
with SandboxServer(speed=100.0) as server:
    _nodes(server, 10)
    c = server.cluster
    c.create(c.rt("", "v1", "namespaces"), "", {"metadata": {"name": "b"}}, SYSTEM, WriteOptions())
    t, cpu = time.perf_counter(), time.process_time()
    c.create(c.rt("apps", "v1", "deployments"), "b", _deployment("many", n), SYSTEM, WriteOptions())
    _wait_rollout(server, "b", "many", n, 600)
    dt, cpu = time.perf_counter() - t, time.process_time() - cpu
print(json.dumps({"pods_per_s": n / dt, "seconds": dt, "cpu_ms_per_pod": cpu * 1000 / n, "sandbox": sandbox.__file__}))
"""


def first_jail_commit() -> str:
    out = subprocess.run(["git", "log", "--format=%H", "--", "sandbox/jail"], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout.split()
    if not out:
        raise SystemExit("no commit touches sandbox/jail: pass --old")
    return out[-1] + "^"


def measure(tree: Path, n: int) -> dict:
    done = subprocess.run([sys.executable, "-c", MEASURE, str(n)], cwd=tree, capture_output=True, text=True,
                          timeout=900)
    if done.returncode != 0:
        raise SystemExit(f"measurement in {tree} failed:\n{done.stderr[-2000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if not result["sandbox"].startswith(str(tree)):  # the tree's own package, not an installed one
        raise SystemExit(f"{tree} imported {result['sandbox']}")
    return result


def main() -> None:
    from evals.bench_sandbox import machine

    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--old", help="commit to compare against (default: before the real-process work)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--pods", type=int, default=1000)
    opts = ap.parse_args()
    old = subprocess.run(["git", "rev-parse", "--short", opts.old or first_jail_commit()], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout.strip()
    new = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout.strip()
    wt = Path(tempfile.mkdtemp(prefix="kubesage-old-")) / "tree"
    subprocess.run(["git", "worktree", "add", "--detach", str(wt), old], cwd=ROOT, check=True, capture_output=True)
    runs: dict[str, list[float]] = {"old": [], "new": []}
    cpu: dict[str, list[float]] = {"old": [], "new": []}
    try:
        print(f"modelled pods/s ({opts.pods}-replica nginx Deployment to Ready, speed 100) on {machine()}")
        for i in range(opts.runs):
            for label, tree in (("old", wt), ("new", ROOT)) if i % 2 == 0 else (("new", ROOT), ("old", wt)):
                r = measure(tree, opts.pods)
                runs[label].append(r["pods_per_s"])
                cpu[label].append(r["cpu_ms_per_pod"])
                print(f"  run {i + 1} {label} ({old if label == 'old' else new + ' + working tree'}): "
                      f"{r['pods_per_s']:.1f} pods/s ({r['seconds']:.2f} s), {r['cpu_ms_per_pod']:.1f} CPU ms/pod",
                      flush=True)
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(wt)], cwd=ROOT, check=False)
    mo, mn = statistics.median(runs["old"]), statistics.median(runs["new"])
    co, cn = statistics.median(cpu["old"]), statistics.median(cpu["new"])
    print(f"  median old {old}: {mo:.1f} pods/s, {co:.1f} CPU ms/pod; median new {new}: {mn:.1f} pods/s, "
          f"{cn:.1f} CPU ms/pod; pods/s new/old = {mn / mo:.3f}, CPU per pod new/old = {cn / co:.3f}")


if __name__ == "__main__":
    main()
