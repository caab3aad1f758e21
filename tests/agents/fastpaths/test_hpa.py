"""create-hpa: "autoscale between MIN and MAX above N% CPU" becomes an HPA with exactly those bounds and target,
never a scale to the maximum; extra clauses it cannot act on leave it not confident."""

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

NS = "fp-hpa"
AGENT, INTENT = "scaling", "create-hpa"


@pytest.fixture(scope="module", autouse=True)
def objects(kube):
    res = [{"name": "web", "image": "nginx:1.27", "resources": {"requests": {"cpu": "100m"}}}]
    create(kube, namespace(NS), deployment(NS, "web", containers=res), deployment(NS, "api"),
           deployment(NS, "batch-runner"))


def _hpa(r):
    (m,) = r.mutations
    return m, {(g["path"]): g["value"] for g in m.goal}


@pytest.mark.parametrize("text,lo,hi,target", [
    ("let the web deployment in fp-hpa autoscale between 2 and 8 replicas when CPU goes above 70%", 2, 8, 70),
    ("Hi! Could you please set up autoscaling for 'web' in namespace fp-hpa: minimum 3, maximum 10 pods, target "
     "60% cpu utilization. Thanks!", 3, 10, 60),
    ("autoscale deploymnet web -n fp-hpa from two to six replicas at 50 percent CPU", 2, 6, 50),
    ("hpa for web in fp-hpa, min 1 max 4", 1, 4, 80),
    ("I need web in the fp-hpa namespace to autoscale: at least 2 and at most 5 instances, scale up when average cpu "
     "usage exceeds 75%", 2, 5, 75),
    ("web in fp-hpa should never go below 2 pods or above 8, scale on cpu at 75%", 2, 8, 75),
    ("web (fp-hpa) is getting hammered, let it autoscale from 3 up to 9 pods whenever cpu goes above 80%", 3, 9, 80),
])
def test_wordings_become_one_hpa_with_the_asked_bounds(kube, text, lo, hi, target):
    r = plan(kube, text, AGENT, INTENT)
    m, g = _hpa(r)
    assert (m.verb, m.kind, m.namespace, m.name) == ("create", "HorizontalPodAutoscaler", NS, "web")
    assert g["spec.minReplicas"] == lo and g["spec.maxReplicas"] == hi
    assert g["spec.metrics.0.resource.target.averageUtilization"] == target
    assert g["spec.scaleTargetRef.name"] == "web"
    assert m.body["spec"]["minReplicas"] == lo and m.body["spec"]["maxReplicas"] == hi
    assert f"between {lo} and {hi}" in r.answer


@pytest.mark.parametrize("text", [
    "autoscale web in fp-hpa between 2 and 8 replicas above 70% CPU but only on weekdays",
    "autoscale web in fp-hpa between 2 and 8 replicas above 70% CPU and also expose it on port 80",
    "autoscale web in fp-hpa between 2 and 8 replicas above 70% CPU and 80% memory",
    "autoscale web in fp-hpa to 8",  # no bounds
    "scale web in fp-hpa to 8 replicas",  # not autoscaling
    "scale web in fp-hpa on cpu, never below 2 pods",  # no maximum
    "autoscale it between 2 and 8 above 70% cpu",  # which workload?
])
def test_extra_or_missing_clauses_are_not_understood(kube, text):
    assert not_confident(kube, text, AGENT, INTENT)


def test_memory_target(kube):
    m, g = _hpa(plan(kube, "autoscale api in fp-hpa between 1 and 3 replicas at 70% memory", AGENT, INTENT))
    assert g["spec.metrics.0.resource.name"] == "memory"


def test_min_above_max_is_refused(kube):
    r = plan(kube, "autoscale api in fp-hpa between 9 and 3 replicas above 70% cpu", AGENT, INTENT)
    assert not r.mutations and "minimum" in r.answer


def test_applied_through_the_supervisor_the_goal_holds_and_again_is_already_so(kube, runtime):
    text = "please autoscale batch-runner in fp-hpa between 2 and 6 replicas above 65% CPU"
    r = plan(kube, text, AGENT, INTENT)
    out = approve(runtime, text, AGENT)
    assert [o["status"] for o in out["outcomes"]] == ["applied"]
    assert goal_holds(kube, goals(r)) == []
    assert kube.get("Deployment", NS, "batch-runner")["spec"]["replicas"] == 1  # not scaled to the max
    again = plan(kube, text, AGENT, INTENT)
    assert not again.mutations and again.answer.startswith("Already so")
    changed = plan(kube, "autoscale batch-runner in fp-hpa between 2 and 9 replicas above 65% CPU", AGENT, INTENT)
    (m,) = changed.mutations
    assert m.verb == "patch" and m.name == "batch-runner"
