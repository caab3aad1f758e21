"""set-image: the live image is read first; the patch names exactly the asked image; a request for what already
runs is "already so"; a wrong "from" is said, not applied; extra clauses leave it not confident."""

from __future__ import annotations

import pytest

from tests.agents.fastpaths.conftest import (
    approve,
    create,
    deployment,
    goal_holds,
    goals,
    namespace,
    not_confident,
    plan,
)
from tools.k8s.health import status_of

NS = "fp-image"
AGENT, INTENT = "resources", "set-image"


@pytest.fixture(scope="module", autouse=True)
def objects(kube):
    two = [{"name": "app", "image": "registry.example.com/shop/api:2.3.0"}, {"name": "proxy", "image": "envoy:1.30"}]
    create(kube, namespace(NS), deployment(NS, "web", "nginx:1.27"), deployment(NS, "api", containers=two),
           deployment(NS, "front", "nginx:1.25"))


@pytest.mark.parametrize("text,want", [
    ("please move deployment web in fp-image from nginx:1.27 to nginx:1.28", "nginx:1.28"),
    ("Could you upgrade 'web' in namespace fp-image from 1.27 to 1.28 with no downtime? thanks", "nginx:1.28"),
    ("set image of web -n fp-image to nginx:1.29", "nginx:1.29"),
    ("bump the web deploymnet in fp-image to version 1.28.1", "nginx:1.28.1"),
    ("update the app container of api in fp-image to registry.example.com/shop/api:2.4.0",
     "registry.example.com/shop/api:2.4.0"),
    ("upgrade envoy in the api deployment in fp-image to envoy:1.31", "envoy:1.31"),
    # the repository and the version written apart; the running version said as the broken one
    ("upgrade front in fp-image from nginx 1.25 to 1.25.5", "nginx:1.25.5"),
    ("1.25 of front is broken. please roll the front deployment in fp-image back to version 1.24 of the same image",
     "nginx:1.24"),
])
def test_wordings_become_one_image_patch(kube, text, want):
    r = plan(kube, text, AGENT, INTENT)
    (m,) = r.mutations
    assert (m.verb, m.kind, m.namespace) == ("patch", "Deployment", NS)
    (img,) = [g for g in m.goal if g["path"].endswith(".image")]
    assert img["value"] == want
    c = m.body["spec"]["template"]["spec"]["containers"][0]
    assert c["image"] == want and img["path"] == f"spec.template.spec.containers.{int(c['name'] == 'proxy')}.image"
    was_ok, _, _ = status_of(kube, m.kind, kube.get(m.kind, NS, m.name))
    assert (m.verify is not None and m.verify["name"] == m.name) == was_ok  # undone on failure only if it was healthy
    assert want in r.answer


def test_the_version_already_running_is_already_so(kube):
    r = plan(kube, "update web in fp-image to nginx:1.27", AGENT, INTENT)
    assert not r.mutations and r.answer.startswith("Already so")


def test_a_from_version_that_is_not_running_is_said_and_nothing_changes(kube):
    r = plan(kube, "move web in fp-image from nginx:1.26 to nginx:1.28", AGENT, INTENT)
    assert not r.mutations and "runs nginx:1.27, not nginx:1.26" in r.answer


@pytest.mark.parametrize("text", [
    "upgrade web in fp-image to nginx:1.28 but only on weekdays",
    "upgrade web in fp-image to nginx:1.28 and also expose it on port 80",
    "upgrade web in fp-image to nginx:1.28 and scale it to 3 replicas",
    "upgrade api in fp-image to 2.4.0",  # two containers, a bare version: which one?
    "upgrade nginx to 1.28",  # which workload?
    "1.23 of front is broken. roll front in fp-image back to 1.24",  # 1.23 is not what runs: not a "from"
])
def test_extra_or_missing_clauses_are_not_understood(kube, text):
    assert not_confident(kube, text, AGENT, INTENT)


def test_applied_through_the_supervisor_the_new_version_runs(kube, runtime):
    text = "move the front deployment in fp-image from nginx:1.25 to nginx:1.26 without downtime"
    r = plan(kube, text, AGENT, INTENT)
    out = approve(runtime, text, AGENT)
    assert [o["status"] for o in out["outcomes"]] == ["applied"] and out["outcomes"][0].get("verified") is True
    assert goal_holds(kube, goals(r)) == []
    assert plan(kube, text.replace("1.25", "1.26").replace("to nginx:1.26", "to nginx:1.26"), AGENT,
                INTENT).answer.startswith(("Already so", "I did not act"))


def test_a_workload_already_broken_is_not_rolled_back_to_broken(kube):
    create(kube, deployment(NS, "broken", "nginx:9.99.99"))  # a tag that does not exist: never ready
    r = plan(kube, "roll broken in fp-image back to nginx:1.27", AGENT, INTENT)
    (m,) = r.mutations
    assert m.verify is None and "reported, not undone" in r.answer
    assert [g["value"] for g in m.goal if g["path"].endswith(".image")] == ["nginx:1.27"]
