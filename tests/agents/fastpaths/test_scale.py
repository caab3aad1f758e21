"""scale-replicas: each named Deployment or StatefulSet to the count said for it (several at once, a StatefulSet
the context did not find, "bring … down to", halved or doubled from the live count with the rounding said), one
goal per count; a name it would have to guess, a count without its workload and extra clauses leave it not
confident. The scaling agent's own `scale` rule keeps the plain single case."""

from __future__ import annotations

import uuid

import pytest

from agents.router import Route
from tests.agents.fastpaths.conftest import (
    approve,
    create,
    deployment,
    goal_holds,
    goals,
    held,
    namespace,
    not_confident,
    plan,
)
from tools.k8s.client import Principal

NS = "fp-scale"
AGENT, INTENT = "scaling", "scale-replicas"


def _statefulset(name: str, replicas: int = 1) -> dict:
    d = deployment(NS, name, replicas=replicas, serviceName=name)
    d["kind"] = "StatefulSet"
    return d


@pytest.fixture(scope="module", autouse=True)
def objects(kube):
    create(kube, namespace(NS), deployment(NS, "web", replicas=3), deployment(NS, "orders"),
           deployment(NS, "catalog", replicas=2), _statefulset("db"), deployment(NS, "checkout"))


def _counts(r):
    return [(m.verb, m.kind, m.name, m.body) for m in r.mutations]


@pytest.mark.parametrize("text,want", [
    ("scale web to 4 and orders to 2 in fp-scale, and leave everything else exactly as it is",
     [("scale", "Deployment", "web", 4), ("scale", "Deployment", "orders", 2)]),
    ("Could you bring web in fp-scale down to 2 replicas? thanks a lot!", [("scale", "Deployment", "web", 2)]),
    ("please scale the db statefulset in the fp-scale namespace to 3 replicas", [("scale", "StatefulSet", "db", 3)]),
    ("halve the number of web replicas in fp-scale (round up if it's odd)", [("scale", "Deployment", "web", 2)]),
    ("halve the number of web replicas in fp-scale, round down", [("scale", "Deployment", "web", 1)]),
    ("double the replicas of catalog in fp-scale", [("scale", "Deployment", "catalog", 4)]),
    # a reason told, not asked (agents.residue): context
    ("scale web in fp-scale to 4 replicas, traffic is low this week", [("scale", "Deployment", "web", 4)]),
    ("scale web in fp-scale to five and catalog to 3", [("scale", "Deployment", "web", 5),
                                                        ("scale", "Deployment", "catalog", 3)]),
])
def test_wordings_become_one_scale_per_workload(kube, text, want):
    r = plan(kube, text, AGENT, INTENT)
    assert _counts(r) == want
    assert [(g["name"], g["path"], g["value"]) for g in goals(r)] == [(n, "spec.replicas", c) for _, _, n, c in want]


def test_an_odd_count_halved_needs_the_rounding(kube):
    r = plan(kube, "halve the web replicas in fp-scale", AGENT, INTENT)
    assert not r.mutations and "round up or down" in r.answer


def test_a_count_already_there_is_already_so(kube):
    r = plan(kube, "scale web to 3 and catalog to 2 in fp-scale", AGENT, INTENT)
    assert not r.mutations and r.answer.startswith("Already so")


@pytest.mark.parametrize("text", [
    "scale the 'webb' deployment in fp-scale to 6 replicas",  # no such deployment: never web
    "scale webb in fp-scale to 6 replicas",
    "scale web to 5 and catalog to 0 in fp-scale. Actually, skip catalog - just do web.",
    "scale web to 4 and orders in fp-scale",  # orders: to what?
    "scale web in fp-scale to 4 replicas or 5",
    "scale web in fp-scale to 4 replicas at night",
    "double orders in fp-scale",  # orders of what?
    "autoscale web in fp-scale between 2 and 6",
])
def test_extra_or_unclear_clauses_are_not_understood(kube, text):
    assert not_confident(kube, text, AGENT, INTENT)


def test_applied_through_the_supervisor_every_count_holds(kube, runtime):
    text = "scale checkout to 2 and the db statefulset to 2 in fp-scale"
    r = plan(kube, text, AGENT, INTENT)
    out = approve(runtime, text, AGENT)
    held(out, 2)
    assert goal_holds(kube, goals(r)) == []
    assert kube.get("Deployment", NS, "web")["spec"]["replicas"] == 3  # nothing else changed
    assert plan(kube, text, AGENT, INTENT).answer.startswith("Already so")


class _Split:
    """A router that cuts the request at its sentence, as the embedding router may."""

    agent = "scaling"

    def route(self, text: str) -> Route:
        if ". " not in text:
            return Route(["scaling"], 1.0, 1.0, "rule", [(text, "scaling")])
        first, rest = text.split(". ", 1)
        return Route(["scaling", "resources"], 0.6, 0.01, "embedding", [(first, "scaling"), (rest, "resources")])


def _split(runtime, text: str) -> dict:
    sup = runtime.supervisor
    forced, sup.router = sup.router, _Split()
    try:
        return sup.start(text, Principal(), uuid.uuid4().hex[:10])
    finally:
        sup.router = forced


@pytest.mark.parametrize("text", [
    "scale web to 5 and catalog to 0 in fp-scale. no wait, that isn't right",
    "scale web to 5 and catalog to 0 in fp-scale. Actually, make catalog 1 instead",
])
def test_a_split_request_whose_other_part_may_take_it_back_changes_nothing(kube, runtime, text):
    out = _split(runtime, text)
    assert not out.get("approval") and "Not proposed" in out["answer"]
    assert kube.get("Deployment", NS, "catalog")["spec"]["replicas"] == 2


def test_a_correction_that_takes_one_object_out_is_the_request(kube, runtime):
    """agents.corrections: "Actually, skip catalog - just do web" leaves "scale web to 5 in fp-scale"."""
    out = _split(runtime, "scale web to 5 and catalog to 0 in fp-scale. Actually, skip catalog - just do web.")
    assert out.get("approval") and "Read with your correction" in out["answer"]
    assert out["approval"]["action"] == "scale Deployment fp-scale/web"


def test_a_split_request_whose_other_part_was_not_understood_proposes_nothing(kube, runtime):
    """A part that was not understood means the whole request was not: nothing is asked."""
    out = _split(runtime, "Could you bring web in fp-scale down to 2 replicas. rotate the frobnicator keys too, thanks")
    assert not out.get("approval") and "Not proposed" in out["answer"]
