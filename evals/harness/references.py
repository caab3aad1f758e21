"""Grader satisfiability: replay each case's `reference:` on a fresh sandbox and grade what it leaves behind.

Why: a grader that no correct assistant can pass is worthless and silently lowers the pass rate. A case's
`reference` says what a correct assistant's action amounts to, as steps run as admin against the case's own
sandbox (started exactly as the runner starts it, setup applied, settled):

- a list of strings: `kubectl` arguments (`[scale, deployment/web, -n, shop, --replicas=5]`); the output of each
  (stdout and stderr) is kept as *evidence*;
- a manifest (a mapping with `kind` and `metadata`): `kubectl apply -f -`;
- `{answer: text}`: the reply a correct assistant would give.

Then the case's graders run on that trace: `state` on the live cluster, `answer` and `iam` on the reference
answer. Graders about the assistant's own behaviour (`safety`, `approval`, `route`, `tools`, `toolsmith`) cannot
be replayed by an admin; instead, a case graded `safety` must have a reference that writes nothing, and a case whose
reference writes must fail its `state` graders before the reference runs (else doing nothing passes). A read case
(one with an `answer` grader) must also show that its `must_mention` values exist in the cluster: each must be
in the evidence (or in the request itself, for names the person gave).

    python -m evals.harness.references evals/sets/wild.yaml [--tag test] [-k REGEX]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evals.harness.cases import Case, CaseError, load_sets
from evals.harness.graders import grade
from evals.harness.trace import Trace

READ_VERBS = {"get", "describe", "logs", "top", "auth", "explain", "api-resources", "api-versions", "version",
              "events"}
REPLAYED = {"state", "answer", "iam"}  # graders a reference can satisfy; the others grade the assistant itself
KUBECTL_TIMEOUT_S = 60


@dataclass
class Check:
    """One case's replay: what failed (empty when every replayable grader passed) and what was not replayed."""

    id: str
    problems: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    wall_s: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems


def is_write_step(step: Any) -> bool:
    """A manifest, or a kubectl verb that is not a read."""
    if isinstance(step, dict):
        return "answer" not in step
    return bool(step) and step[0] not in READ_VERBS


def static_problems(case: Case) -> list[str]:
    """What is wrong without running anything: no reference, or a reference that writes in a read-only case."""
    if not case.reference:
        return ["no reference"]
    out = []
    graders = {name for name, _ in case.graders}
    if "safety" in graders and any(is_write_step(s) for s in case.reference):
        out.append("the case is graded `safety` but its reference writes")
    if graders & {"answer", "iam"} and not any(isinstance(s, dict) and "answer" in s for s in case.reference):
        out.append("the case grades the answer but its reference gives none")
    return out


def evidence_problems(case: Case, evidence: str) -> list[str]:
    """`must_mention` values of the answer graders that neither the cluster's output nor the request shows."""
    seen = (evidence + "\n" + "\n".join(t.say for t in case.turns)).lower()
    out = []
    for name, params in case.graders:
        if name != "answer":
            continue
        for term in params.get("must_mention") or []:
            if term.lower() not in seen:
                out.append(f"must_mention {term!r} is not in the cluster's output nor in the request")
    return out


def vacuity_problems(case: Case, reader: Any) -> list[str]:
    """A case whose reference writes must not already pass its `state` graders before anything is done: such a
    case would pass an assistant that does nothing."""
    if not any(is_write_step(s) for s in case.reference):
        return []
    trace = Trace(reader=reader)
    states = [(name, params) for name, params in case.graders if name == "state"]
    if states and all(grade(name, params, trace).passed for name, params in states):
        return ["the state graders already hold before the reference runs (doing nothing would pass)"]
    return []


def _kubectl(kubeconfig: Path, args: list[str], stdin: str | None = None) -> tuple[int, str]:
    r = subprocess.run(["kubectl", "--kubeconfig", str(kubeconfig), *args], input=stdin, capture_output=True,
                       text=True, timeout=KUBECTL_TIMEOUT_S)
    return r.returncode, r.stdout + r.stderr


def replay(case: Case, kubeconfig: Path) -> tuple[str, str, list[str]]:
    """Run the reference steps: (answer, evidence, problems). A failing write step is a problem; a failing read
    is evidence (a NotFound is what some cases rest on)."""
    answer, evidence, problems = "", [], []
    for i, step in enumerate(case.reference):
        if isinstance(step, dict) and "answer" in step:
            answer = step["answer"]
            continue
        if isinstance(step, dict):
            rc, out = _kubectl(kubeconfig, ["apply", "-f", "-"], json.dumps(step))
            label = f"apply {step['kind']} {step['metadata'].get('name')}"
        else:
            rc, out = _kubectl(kubeconfig, step)
            label = "kubectl " + " ".join(step)
        evidence.append(out)
        if rc != 0 and is_write_step(step):
            problems.append(f"reference step #{i + 1} ({label}) failed: {out.strip()[:300]}")
    return answer, "\n".join(evidence), problems


def check_case(case: Case) -> Check:
    """Start the case's sandbox as the runner does, apply setup and the reference, run the replayable graders."""
    from evals.harness.runner import LiveReader, _setup
    from sandbox.server import SandboxServer

    try:
        from tools.k8s.client import Kube
    except ImportError:  # before the tools/k8s refactor (a baseline worktree)
        from tools.kube import Kube  # type: ignore[no-redef]

    result = Check(case.id, static_problems(case))
    result.skipped = sorted({name for name, _ in case.graders} - REPLAYED)
    if "no reference" in result.problems:
        return result
    t0 = time.perf_counter()
    server = admin = None
    with tempfile.TemporaryDirectory(prefix=f"kubesage-ref-{case.id[:40]}-") as home:
        try:
            server = SandboxServer(scenarios=case.scenario.split("+"), speed=case.speed, seed=case.seed).start()
            kc = server.write_kubeconfig(Path(home) / "kubeconfig")
            admin = Kube.from_kubeconfig(str(kc))
            _setup(admin, case.setup)
            time.sleep(case.settle_s)
            result.problems += vacuity_problems(case, LiveReader(admin))
            answer, evidence, problems = replay(case, kc)
            result.problems += problems
            if any(name == "answer" for name, _ in case.graders):
                result.problems += evidence_problems(case, evidence)
            trace = Trace(answer=answer, expect_route=case.expect_route, case_approve=case.approve,
                          reader=LiveReader(admin))
            for name, params in case.graders:
                if name in REPLAYED:
                    v = grade(name, params, trace)
                    if not v.passed:
                        result.problems.append(f"{name}: {v.detail}")
        except Exception as e:  # noqa: BLE001 - one broken case is reported, the others still run
            result.problems.append(f"replay crashed: {type(e).__name__}: {e}")
        finally:
            if admin is not None:
                admin.api.close()
            if server is not None:
                server.stop()
    result.wall_s = round(time.perf_counter() - t0, 1)
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m evals.harness.references", description=__doc__.split("\n\n")[0])
    ap.add_argument("sets", nargs="+", help="query-set files")
    ap.add_argument("--tag", default=None, help="only cases with this tag")
    ap.add_argument("-k", "--filter", default=None, help="only cases whose id matches this regex")
    args = ap.parse_args(argv)
    try:
        cases = load_sets(args.sets)
    except CaseError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    cases = [c for c in cases if (args.tag is None or args.tag in c.tags)
             and (args.filter is None or re.search(args.filter, c.id))]
    failed = 0
    for case in cases:
        r = check_case(case)
        failed += not r.ok
        note = f" (not replayed: {', '.join(r.skipped)})" if r.skipped else ""
        print(f"{'ok  ' if r.ok else 'FAIL'} {r.id} [{r.wall_s}s]{note}")
        for p in r.problems:
            print(f"     - {p}")
    print(f"{len(cases) - failed}/{len(cases)} case(s) satisfiable by their reference")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
