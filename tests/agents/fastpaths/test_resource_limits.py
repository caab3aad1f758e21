"""set-resources: requests and limits read with the role they belong to, patched on the one container, with a goal
per field; requests above limits are refused; unclear or extra clauses leave it not confident."""

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

NS = "fp-res"
AGENT, INTENT = "resources", "set-resources"


@pytest.fixture(scope="module", autouse=True)
def objects(kube):
    web = [{"name": "web", "image": "nginx:1.27", "resources": {"limits": {"memory": "256Mi"}}}]
    two = [{"name": "app", "image": "nginx:1.27"}, {"name": "sidecar", "image": "busybox:1.36"}]
    create(kube, namespace(NS), deployment(NS, "web", containers=web), deployment(NS, "api", containers=two),
           deployment(NS, "worker"))


def _fields(r):
    (m,) = r.mutations
    return m, {g["path"].rsplit(".", 2)[-2] + "." + g["path"].rsplit(".", 1)[-1]: g["value"] for g in m.goal}


@pytest.mark.parametrize("text,want", [
    ("set cpu limit 500m and memory limit 512Mi on deployment web in fp-res",
     {"limits.cpu": "500m", "limits.memory": "512Mi"}),
    ("Could you please give the 'web' deployment in namespace fp-res a cpu request of 100m, a memory request of 128Mi, "
     "a cpu limit of 500m and a memory limit of 256Mi? Thanks!",
     {"requests.cpu": "100m", "requests.memory": "128Mi", "limits.cpu": "500m", "limits.memory": "256Mi"}),
    ("raise the memroy limit of web -n fp-res to 1Gi", {"limits.memory": "1Gi"}),
    ("set requests and limits of 0.5 cpu on the app container of api in fp-res",
     {"requests.cpu": "500m", "limits.cpu": "500m"}),
])
def test_wordings_become_one_resources_patch(kube, text, want):
    m, got = _fields(plan(kube, text, AGENT, INTENT))
    assert (m.verb, m.kind, m.namespace) == ("patch", "Deployment", NS)
    assert got == want
    assert m.body["spec"]["template"]["spec"]["containers"][0]["resources"]


def test_a_request_above_its_limit_is_refused(kube):
    r = plan(kube, "set the memory request of web in fp-res to 1Gi", AGENT, INTENT)
    assert not r.mutations and "above its limit" in r.answer


def test_already_so(kube):
    r = plan(kube, "set memory limit 256Mi on web in fp-res", AGENT, INTENT)
    assert not r.mutations and r.answer.startswith("Already so")


@pytest.mark.parametrize("text", [
    "set cpu limit 500m on web in fp-res but only on weekdays",
    "set cpu limit 500m on web in fp-res and also expose it on port 80",
    "give web in fp-res 2 cores and 4gb of ram",  # request or limit?
    "set cpu limit 500m on api in fp-res",  # two containers
    "set cpu limit 500m and scale web in fp-res to 3 replicas",
])
def test_extra_or_unclear_clauses_are_not_understood(kube, text):
    assert not_confident(kube, text, AGENT, INTENT)


def test_applied_through_the_supervisor_the_fields_are_set(kube, runtime):
    text = "please set a cpu request of 50m and a memory limit of 128Mi on the worker deployment in fp-res"
    r = plan(kube, text, AGENT, INTENT)
    out = approve(runtime, text, AGENT)
    assert [o["status"] for o in out["outcomes"]] == ["applied"] and out["outcomes"][0].get("verified") is True
    assert goal_holds(kube, goals(r)) == []
    assert plan(kube, text, AGENT, INTENT).answer.startswith("Already so")
