"""pod-restarts (a read): the restart count of every pod, as kubectl's RESTARTS column, cited per pod; a restart
request is not a read; extra clauses leave it not confident."""

from __future__ import annotations

import pytest

from tests.agents.fastpaths.conftest import create, deployment, namespace, not_confident, plan, understood
from tests.waiting import until

NS = "fp-restarts"
AGENT, INTENT = "resources", "pod-restarts"


@pytest.fixture(scope="module", autouse=True)
def objects(kube):
    crash = [{"name": "crash", "image": "busybox:1.36", "command": ["sh", "-c", "exit 1"]}]
    create(kube, namespace(NS), deployment(NS, "web"), deployment(NS, "crasher", containers=crash))
    until(lambda: any(int(c.get("restartCount") or 0) > 0 for p in kube.list("Pod", NS)
                      for c in (p.get("status") or {}).get("containerStatuses") or []), timeout=20)


def _live(kube, ns=NS):
    return {f"{p['metadata']['namespace']}/{p['metadata']['name']}":
            sum(int(c.get("restartCount") or 0) for c in (p.get("status") or {}).get("containerStatuses") or [])
            for p in kube.list("Pod", ns)}


@pytest.mark.parametrize("text", [
    "what is the restart count of every pod in fp-restarts?",
    "Hi, could you show me how many times each pod in the fp-restarts namespace has restarted? thanks",
    "list restart counts for all pods -n fp-restarts",
    "which pods in fp-restarts restarted the most?",
    "which pods in fp-restarts have restarted at least once? and which ones have never restarted? a quick overview",
])
def test_wordings_read_the_live_counts(kube, text):
    r = plan(kube, text, AGENT, INTENT)
    assert not r.mutations
    got = r.data["restarts"]
    live = _live(kube)
    assert set(got) == set(live) and all(abs(got[k] - live[k]) <= 2 for k in got)  # counts keep rising
    assert "Never restarted (0 restarts): " in r.answer and "/web-" in r.answer.rsplit("Never restarted", 1)[1]
    first = next(iter(got))
    assert first.startswith(f"{NS}/crasher-") and got[first] > 0
    assert first in r.answer


def test_one_workload_only(kube):
    r = plan(kube, "restart counts of the pods of deployment web in fp-restarts", AGENT, INTENT)
    assert r.data["restarts"] and all(k.startswith(f"{NS}/web-") for k in r.data["restarts"])


def test_all_namespaces(kube):
    r = plan(kube, "restart count of every pod across all namespaces", AGENT, INTENT)
    assert set(_live(kube)) <= set(r.data["restarts"])


@pytest.mark.parametrize("text", [
    "restart the web deployment in fp-restarts",  # a write, not a read
    "what is the restart count of every pod in fp-restarts and their cpu usage?",
    "restart count of every pod in fp-restarts but only on weekdays",
])
def test_not_this_read(kube, text):
    fp, u, _ = understood(kube, text, AGENT, INTENT)
    assert u is None or not u.confident
    assert not_confident(kube, text, AGENT, INTENT)
