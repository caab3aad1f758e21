"""rollout-restart: the one restart patch on each named workload (several at once, or a StatefulSet the context did
not find), each verified healthy, with the restartedAt stamp as its goal; unclear names and extra clauses leave it
not confident. The scaling agent's own `restart` rule keeps the single workload it finds."""

from __future__ import annotations

import pytest

from tests.agents.fastpaths.conftest import (
    approve,
    create,
    deployment,
    held,
    namespace,
    not_confident,
    plan,
)
from tools.k8s.mutations import RESTARTED_AT

NS = "fp-restart"
AGENT, INTENT = "scaling", "rollout-restart"


@pytest.fixture(scope="module", autouse=True)
def objects(kube):
    db = deployment(NS, "db", serviceName="db")
    db["kind"] = "StatefulSet"
    create(kube, namespace(NS), deployment(NS, "web"), deployment(NS, "orders"), db)


@pytest.mark.parametrize("text,want", [
    ("restart web and orders in fp-restart", [("Deployment", "web"), ("Deployment", "orders")]),
    ("please do a rolling restart of the db statefulset in fp-restart", [("StatefulSet", "db")]),
    ("could you bounce both the orders deployment and the db statefulset in fp-restart? thanks",
     [("Deployment", "orders"), ("StatefulSet", "db")]),
])
def test_each_named_workload_gets_the_restart_patch(kube, text, want):
    r = plan(kube, text, AGENT, INTENT)
    assert [(m.kind, m.name) for m in r.mutations] == want
    for m in r.mutations:
        assert RESTARTED_AT in m.body["spec"]["template"]["metadata"]["annotations"]
        assert m.verify and m.verify["name"] == m.name
        assert m.goal and m.goal[0]["op"] == "matches"


@pytest.mark.parametrize("text", [
    "restart webb and orders in fp-restart",  # webb is not web
    "restart web and orders in fp-restart tonight at 2am",
    "restart web and orders in fp-restart and scale web to 3",
    "how many restarts does web in fp-restart have",
])
def test_extra_or_unclear_clauses_are_not_understood(kube, text):
    assert not_confident(kube, text, AGENT, INTENT)


def test_applied_through_the_supervisor_both_are_restarted(kube, runtime):
    text = "restart web and orders in fp-restart"
    before = kube.get("Deployment", NS, "web")["metadata"].get("generation")
    out = approve(runtime, text, AGENT)
    held(out, 2)
    assert all(o["goal"]["held"] and o["verified"] for o in out["outcomes"])  # its own stamp, checked by the supervisor
    web = kube.get("Deployment", NS, "web")
    assert RESTARTED_AT in web["spec"]["template"]["metadata"]["annotations"] and web["metadata"]["generation"] > before
