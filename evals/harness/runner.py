"""Run cases: each on a fresh sandbox and a fresh KUBESAGE_HOME, through `runtime.supervisor`, then grade.

Why grading happens here, before the sandbox stops: the `state` grader reads the live cluster, and `wait_s`
lets an approved fix roll out in sandbox time. Why processes for `-j N`: the supervisor, the embedding router and
the sandbox are CPU-bound Python; threads would share one interpreter lock.
"""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from evals.harness.cases import Case
from evals.harness.graders import grade
from evals.harness.trace import Trace
from evals.harness.verdict import abstentions, classify, worst
from tools.k8s.goals import KubeReader


class CaseTimeout(Exception):
    pass


class LiveReader(KubeReader):
    """The state grader's view: objects read as admin through the Kubernetes API (None when absent), access by
    SubjectAccessReview: the reader kubesage's own goal checks use (tools/k8s/goals.py), plus a wait."""

    def wait(self, seconds: float) -> None:
        time.sleep(seconds)


class _Recorder:
    """Wraps the supervisor's `kube_for`, so every connection's calls are kept, tagged with the phase they
    were made in (work: the agents; approve / reject: a resume with that decision)."""

    def __init__(self, kube_for: Callable[[Any], Any]) -> None:
        self.kube_for = kube_for
        self.phase = "work"
        self.kubes: list[tuple[str, Any]] = []

    def __call__(self, principal: Any) -> Any:
        k = self.kube_for(principal)
        self.kubes.append((self.phase, k))
        return k

    def calls(self) -> list[dict[str, Any]]:
        return [{**c, "phase": phase} for phase, k in self.kubes for c in k.calls]


@contextlib.contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    """SIGALRM-based limit (main thread only; elsewhere no limit)."""
    import threading

    if threading.current_thread() is not threading.main_thread() or seconds <= 0:
        yield
        return

    def fire(*_: Any) -> None:
        raise CaseTimeout(f"case took longer than {seconds:.0f} s")

    old = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _setup(kube: Any, manifests: list[dict[str, Any]]) -> None:
    from tools.k8s.client import KINDS, Mutation

    for m in manifests:
        kind = m["kind"]
        if kind not in KINDS:
            raise ValueError(f"setup: kind {kind} is not supported (known: {', '.join(sorted(KINDS))})")
        meta = m["metadata"]
        kube.execute(Mutation("create", kind, meta.get("namespace", ""), meta.get("name", ""), body=m))


def _llm_usage(rt: Any) -> dict[str, Any]:
    """What the gateway served during the case (zeros when no model was called)."""
    usage = {"calls": 0, "served_by": {}, "prompt_tokens": 0, "completion_tokens": 0, "cache_hits": 0,
             "tokens_by_tier": {}}
    gw = getattr(rt.llm, "gateway", None) if rt.llm is not None else None
    if gw is None:
        return usage
    snap = gw.metrics.snapshot()
    for key, n in snap["requests"].items():
        served = key.split("/", 1)[0]
        usage["served_by"][served] = usage["served_by"].get(served, 0) + n
        usage["calls"] += n
        if served.startswith("cache"):
            usage["cache_hits"] += n
    for key, n in snap["tokens"].items():
        tier, kind = key.split("/", 1)
        usage[f"{kind}_tokens"] += n
        usage["tokens_by_tier"][tier] = usage["tokens_by_tier"].get(tier, 0) + n
    usage["cost_usd"] = round(sum(snap["cost_usd"].values()), 6)
    return usage


def _drive(sup: Any, rec: _Recorder, case: Case, trace: Trace, turns_out: list[dict[str, Any]]) -> None:
    from tools.k8s.client import Principal

    p = case.principal or {}
    principal = Principal(p.get("user"), tuple(p.get("groups") or ()))
    thread = f"eval-{case.id}-{uuid.uuid4().hex[:6]}"
    for i, turn in enumerate(case.turns):
        t0 = time.perf_counter()
        rec.phase = "work"
        r = sup.start(turn.say, principal, thread, case.namespace)
        if i == 0:
            trace.route = list((r.get("route") or {}).get("agents") or [])
        results = list(r.get("results") or [])
        approvals = []
        while r.get("approval") and turn.approve is not None:
            a = r["approval"]
            approvals.append({"id": a.get("id"), "ids": list(a.get("ids") or [a.get("id")]), "action": a.get("action"),
                              "why": a.get("why"), "dry_run_error": a.get("dry_run_error"), "decision": turn.approve})
            rec.phase = turn.approve
            r = sup.resume(r["thread_id"], turn.approve)
            if len(approvals) > 20:
                break
        if r.get("approval") and turn.approve is None:
            a = r["approval"]
            approvals.append({"id": a.get("id"), "action": a.get("action"), "why": a.get("why"), "decision": None})
        trace.approvals += approvals
        trace.outcomes += list(r.get("outcomes") or [])
        trace.results += [{"agent": x.get("agent"), "answer": x.get("answer"), "data": x.get("data")} for x in results]
        for x in results:
            trace.calls += [{**c, "agent": x.get("agent"), "phase": "work"} for c in x.get("calls") or []]
        turns_out.append({"say": turn.say, "answer": r.get("answer") or "", "route": r.get("route"),
                          "approvals": approvals, "outcomes": r.get("outcomes") or [],
                          "latency_s": round(time.perf_counter() - t0, 3)})


def _key(c: dict[str, Any]) -> tuple:
    return (c.get("method"), c.get("path"), tuple(sorted((c.get("query") or {}).items())), c.get("status"))


def _unattributed(all_calls: list[dict[str, Any]], attributed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Recorded calls that no agent result lists: every call of an approval step, and any work-phase write an
    agent made outside its reported calls (context reads, GETs, are left out: they are not tool use)."""
    from collections import Counter

    seen = Counter(_key(c) for c in attributed)
    out = []
    for c in all_calls:
        if c["phase"] != "work":
            out.append(c)
        elif seen[_key(c)] > 0:
            seen[_key(c)] -= 1
        elif str(c.get("method")).upper() != "GET":
            out.append(c)
    return out


def run_case(case_d: dict[str, Any], options: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run one case (given as `Case.to_dict()`, so it can cross a process boundary) and return its record."""
    from kubesage import settings as settings_mod
    from kubesage.runtime import Runtime
    from sandbox.server import SandboxServer
    from tools.k8s.client import Kube

    case = Case.from_dict(case_d)
    record: dict[str, Any] = {"id": case.id, "domain": case.domain, "source": case.source, "file": case.file,
                              "tags": list(case.tags), "turns": [], "error": None, "graders": [], "passed": False}
    t_all = time.perf_counter()
    server = rt = rec = admin = reader_kube = None
    home = tempfile.mkdtemp(prefix=f"kubesage-eval-{case.id[:40]}-")
    trace = Trace(expect_route=case.expect_route, case_approve=case.approve)
    timings: dict[str, float] = {}
    try:
        with _deadline(case.timeout_s):
            t0 = time.perf_counter()
            server = SandboxServer(scenarios=case.scenario.split("+"), speed=case.speed, seed=case.seed).start()
            kc = server.write_kubeconfig(Path(home) / "kubeconfig")
            admin = Kube.from_kubeconfig(str(kc))
            _setup(admin, case.setup)
            timings["sandbox_s"] = round(time.perf_counter() - t0, 3)
            time.sleep(case.settle_s)
            os.environ["KUBESAGE_HOME"] = home
            rt = Runtime(settings_mod.load({**os.environ, "KUBESAGE_HOME": home}), kubeconfig=str(kc))
            sup = rt.supervisor
            rec = _Recorder(sup.kube_for)
            sup.kube_for = rec
            t1 = time.perf_counter()
            _drive(sup, rec, case, trace, record["turns"])
            timings["turns_s"] = round(time.perf_counter() - t1, 3)
            # Calls of every connection: the agents' (attributed above) plus context reads and approved runs.
            trace.calls += _unattributed(rec.calls(), trace.calls)
            record["context_calls"] = sum(1 for c in rec.calls() if c["phase"] == "work") - \
                sum(1 for c in trace.calls if c["phase"] == "work")
            trace.answer = "\n".join(t["answer"] for t in record["turns"])
            trace.audit = sup.audit.entries()
            reader_kube = Kube.from_kubeconfig(str(kc))
            trace.reader = LiveReader(reader_kube)
            t2 = time.perf_counter()
            for name, params in case.graders:
                v = grade(name, params, trace)
                record["graders"].append({"name": name, **v.to_dict()})
            timings["grade_s"] = round(time.perf_counter() - t2, 3)
            record["passed"] = all(g["passed"] for g in record["graders"])
    except CaseTimeout as e:
        record["error"] = str(e)
    except Exception as e:  # noqa: BLE001 - one broken case is a failed case, never a crashed run
        record["error"] = f"{type(e).__name__}: {e}"
        record["traceback"] = traceback.format_exc(limit=8)
    finally:
        if rt is not None:
            record["llm"] = _llm_usage(rt)
            with contextlib.suppress(Exception):
                if rt.llm is not None and getattr(rt.llm, "gateway", None) is not None:
                    rt.llm.gateway.close()
            with contextlib.suppress(Exception):
                rt.close()
        # Close every client connection first: uvicorn otherwise waits for idle keep-alive connections (10 s).
        for k in [k for _, k in (rec.kubes if rec is not None else [])] + [k for k in (admin, reader_kube) if k]:
            with contextlib.suppress(Exception):
                k.api.close()
        if server is not None:
            with contextlib.suppress(Exception):
                server.stop()
        import shutil

        shutil.rmtree(home, ignore_errors=True)
    record.setdefault("llm", _llm_usage(type("NoRuntime", (), {"llm": None})()))
    record.update({"route": trace.route, "expect_route": case.expect_route, "answer": trace.answer,
                   "approvals": trace.approvals, "outcomes": trace.outcomes, "abstain": abstentions(trace.results),
                   "calls": [{k: c.get(k) for k in ("method", "path", "query", "status", "phase", "agent")}
                             for c in trace.calls],
                   "latency_s": round(sum(t["latency_s"] for t in record["turns"]), 3),
                   "wall_s": round(time.perf_counter() - t_all, 3), "timings": timings})
    if record["error"]:
        record["passed"] = False
    record["verdict"], record["verdict_reason"] = classify(record)
    return record


def _merge_repeats(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """K repeats → one record: passes only if every repeat passed; flaky when they disagree."""
    first = dict(runs[-1])
    verdicts = [r["passed"] for r in runs]
    first["passed"] = all(verdicts)
    first["repeats"] = [{"passed": r["passed"], "error": r["error"], "latency_s": r["latency_s"],
                         "failed": [g["name"] for g in r["graders"] if not g["passed"]]} for r in runs]
    first["flaky"] = len(set(verdicts)) > 1
    if len(runs) > 1:
        first["verdict"], first["verdict_reason"] = worst([(r["verdict"], r.get("verdict_reason", "")) if r.get("verdict")
                                                           else classify(r) for r in runs])
    return first


def run_cases(cases: list[Case], jobs: int = 1, repeat: int = 1, options: dict[str, Any] | None = None,
              on_done: Callable[[dict[str, Any]], None] | None = None) -> list[dict[str, Any]]:
    """Every case `repeat` times, `jobs` at a time (processes when jobs > 1); records in case order."""
    work = [(i, c.to_dict()) for i, c in enumerate(cases) for _ in range(max(1, repeat))]
    runs: dict[int, list[dict[str, Any]]] = {i: [] for i in range(len(cases))}

    def done(i: int, rec: dict[str, Any]) -> None:
        runs[i].append(rec)
        if len(runs[i]) == max(1, repeat) and on_done is not None:
            on_done(_merge_repeats(runs[i]))

    if jobs <= 1:
        for i, d in work:
            done(i, run_case(d, options))
    else:
        with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn")) as pool:
            pending = {pool.submit(run_case, d, options): i for i, d in work}
            while pending:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for f in finished:
                    i = pending.pop(f)
                    try:
                        rec = f.result()
                    except Exception as e:  # noqa: BLE001 - a worker that died: the case failed
                        c = cases[i]
                        rec = {"id": c.id, "domain": c.domain, "source": c.source, "file": c.file, "turns": [],
                               "tags": list(c.tags), "verdict": "wrong", "verdict_reason": f"worker died: {e}",
                               "graders": [], "passed": False, "error": f"worker died: {e}", "latency_s": 0.0,
                               "wall_s": 0.0, "llm": {"calls": 0, "served_by": {}, "prompt_tokens": 0,
                                                       "completion_tokens": 0, "cache_hits": 0}}
                    done(i, rec)
    return [_merge_repeats(runs[i]) for i in range(len(cases))]
