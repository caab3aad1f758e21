"""delete-jobs: the Jobs of a namespace chosen by their conditions (Complete / Failed), one delete each, and a goal
that the asked ones are gone and the others stay; nothing to delete is "already so"."""

from __future__ import annotations

import pytest

from tests.agents.fastpaths.conftest import approve, create, goal_holds, goals, namespace, not_confident, plan
from tests.waiting import until

NS = "fp-jobs"
AGENT, INTENT = "resources", "delete-jobs"


def job(name: str, command: list[str], ns: str = NS) -> dict:
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name, "namespace": ns},
            "spec": {"backoffLimit": 0, "template": {"spec": {"restartPolicy": "Never", "containers": [
                {"name": "run", "image": "busybox:1.36", "command": command}]}}}}


def _state(kube, name, ns=NS):
    conds = (kube.get("Job", ns, name).get("status") or {}).get("conditions") or []
    return {c["type"] for c in conds if c.get("status") == "True"}


@pytest.fixture(scope="module", autouse=True)
def objects(kube):
    create(kube, namespace(NS), job("ok-1", ["true"]), job("ok-2", ["true"]), job("bad-1", ["false"]),
           job("busy", ["sleep", "3600"]), namespace("fp-jobs-2"), job("done", ["true"], "fp-jobs-2"),
           job("oops", ["false"], "fp-jobs-2"))
    until(lambda: all(_state(kube, n) for n in ("ok-1", "ok-2", "bad-1")) and _state(kube, "done", "fp-jobs-2")
          and _state(kube, "oops", "fp-jobs-2"), timeout=30)


def _names(r):
    return sorted(m.name for m in r.mutations if m.verb == "delete" and m.kind == "Job")


@pytest.mark.parametrize("text,want", [
    ("delete the completed jobs in namespace fp-jobs", ["ok-1", "ok-2"]),
    ("Hi! Could you please clean up all the failed jobs in the fp-jobs namespace? thanks", ["bad-1"]),
    ("remove every finished job -n fp-jobs", ["bad-1", "ok-1", "ok-2"]),
    ("purge succeded jobs from fp-jobs", ["ok-1", "ok-2"]),
    ("please delete the failed jobs in fp-jobs, but keep any that succeeded", ["bad-1"]),
    ("clean up the completed jobs in fp-jobs and keep the failed ones", ["ok-1", "ok-2"]),
    # a reason told, not asked (agents.residue): context
    ("delete the failed jobs in fp-jobs, but keep any that succeeded, we archive those", ["bad-1"]),
])
def test_wordings_pick_the_jobs_by_status(kube, text, want):
    r = plan(kube, text, AGENT, INTENT)
    assert _names(r) == want
    g = goals(r)
    assert {a["name"] for a in g if a.get("absent")} == set(want)
    assert "busy" in {a["name"] for a in g if a.get("op") == "eq"}  # the running one stays


@pytest.mark.parametrize("text", [
    "delete the completed jobs in fp-jobs older than 2 days",
    "delete the completed jobs in fp-jobs and also expose web on port 80",
    "delete the completed jobs in fp-jobs except ok-1",
    "delete the failed jobs in fp-jobs but keep the failed ones",  # contradicts itself
    "delete the jobs in fp-jobs",  # which ones?
    "delete the completed cronjobs in fp-jobs",
])
def test_extra_or_missing_clauses_are_not_understood(kube, text):
    assert not_confident(kube, text, AGENT, INTENT)


def test_applied_through_the_supervisor_only_the_completed_are_gone(kube, runtime):
    text = "please delete the completed jobs in fp-jobs-2"
    r = plan(kube, text, AGENT, INTENT)
    assert _names(r) == ["done"]
    out = approve(runtime, text, AGENT)
    assert [o["status"] for o in out["outcomes"]] == ["applied"]
    assert goal_holds(kube, goals(r)) == []
    assert plan(kube, text, AGENT, INTENT).answer.startswith("Already so")

