"""pod-restarts (a read): the restart count of every pod, as kubectl's RESTARTS column, cited per pod; a restart
request is not a read; extra clauses leave it not confident."""

from __future__ import annotations

import re

import pytest

from tests.agents.fastpaths.conftest import create, deployment, namespace, not_confident, plan, understood
from tests.waiting import until

NS = "fp-restarts"
AGENT, INTENT = "resources", "pod-restarts"


@pytest.fixture(scope="module", autouse=True)
def objects(kube):
    crash = [{"name": "crash", "image": "busybox:1.36", "command": ["sh", "-c", "exit 1"]}]
    create(kube, namespace(NS), deployment(NS, "web", replicas=2), deployment(NS, "crasher", containers=crash),
           deployment(NS, "badimg", image="nginx:1.277"))
    until(lambda: any(int(c.get("restartCount") or 0) > 0 for p in kube.list("Pod", NS)
                      for c in (p.get("status") or {}).get("containerStatuses") or []), timeout=20)
    until(lambda: any(c.get("state", {}).get("waiting", {}).get("reason") in ("ErrImagePull", "ImagePullBackOff")
                      for p in kube.list("Pod", NS) for c in (p.get("status") or {}).get("containerStatuses") or []),
          timeout=20)


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


@pytest.mark.parametrize(("text", "agent"), [
    # a question about the pods, sent wherever the router sends it: the same read answers (agents.fastpaths.restarts)
    ("did the web pods in fp-restarts restart at all?", "logs"),
    ("have any of the web pods in fp-restarts restarted since the last deploy? a number per pod please", "resources"),
    ("so, did web restart since we last rolled it out in fp-restarts?", "scaling"),
    ("restart counts of the web pods in fp-restarts", "scaling"),
    ("per-pod restart numbers for web in fp-restarts", "metrics"),
])
def test_a_question_whether_pods_restarted_lists_every_pod_with_0(kube, text, agent):
    r = plan(kube, text, agent, INTENT)
    assert not r.mutations and r.agent == AGENT
    assert len(r.data["restarts"]) == 2 and set(r.data["restarts"].values()) == {0}
    assert r.answer.startswith("No restarts: none of the 2 pod(s) in deployment fp-restarts/web has restarted.")
    assert all(f"{key}: 0 restarts" in r.answer for key in r.data["restarts"])
    assert ("Since the last deploy: a rollout replaces the pods" in r.answer) == ("since" in text)


def test_restarts_of_a_crashing_workload_are_counted_per_pod(kube):
    r = plan(kube, "have crasher's pods in fp-restarts been restarting?", AGENT, INTENT)
    (key, n), = r.data["restarts"].items()
    assert n > 0 and r.answer.startswith("1 of the 1 pod(s) in deployment fp-restarts/crasher restarted")
    assert f"{key}: {n} restart" in r.answer


def test_a_pod_that_never_started_says_so_beside_its_0(kube):
    r = plan(kube, "did the badimg pods in fp-restarts restart?", "logs", INTENT)
    (key, n), = r.data["restarts"].items()
    assert n == 0 and "But 1 of them is not running" in r.answer
    assert re.search(rf"{re.escape(key)}: 0 restarts, not running \((?:ErrImagePull|ImagePullBackOff)\)", r.answer)


@pytest.mark.parametrize("text", [
    "did you restart web in fp-restarts?",  # about an action, not the pods
    "do I need to restart web in fp-restarts?",
    "did web in fp-restarts restart since yesterday?",  # a window this read does not keep
    "have the web pods in fp-restarts restarted since the last deploy, and how much memory do they use?",
])
def test_questions_this_read_does_not_answer(kube, text):
    for agent in ("resources", "scaling", "logs", "metrics"):
        assert not_confident(kube, text, agent, INTENT), agent
