"""scale-replicas on fresh wordings: other verbs with a unit ("bump … up to 5 pods", "lower … to 2 pods"), a count
relative to the live one ("add one more replica", "one fewer pod", "down by one": the goal is the absolute result),
one count for a list of workloads ("both web and checkout to 4"), "a single pod". Still not understood: conditions,
times, no count, a workload without its count, counts it cannot pair, "by N" with no direction; and a direction the
live count contradicts, or a relative count that leaves no pod, is not acted on."""

from __future__ import annotations

import pytest

from agents.context import build_context
from agents.scaling import run
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

NS = "fp-scalew"
AGENT, INTENT = "scaling", "scale-replicas"


@pytest.fixture(scope="module", autouse=True)
def objects(kube):
    create(kube, namespace(NS), deployment(NS, "web", replicas=3), deployment(NS, "payments"),
           deployment(NS, "checkout", replicas=2), deployment(NS, "frontend", replicas=2),
           deployment(NS, "catalog", replicas=2), deployment(NS, "orders"))


def _counts(r):
    return [(m.name, m.body) for m in r.mutations]


@pytest.mark.parametrize("text,want", [
    (f"bump web in {NS} up to 5 pods please", [("web", 5)]),
    (f"increase web in {NS} to 5 replicas", [("web", 5)]),
    (f"raise web in {NS} to 5 pods", [("web", 5)]),
    (f"lower web in {NS} to 2 pods", [("web", 2)]),
    (f"reduce web in {NS} to 2 pods", [("web", 2)]),
    (f"take web in {NS} to 4 pods", [("web", 4)]),
    # a whole number a workload is brought to is its replica count
    (f"bump web in {NS} up to 5", [("web", 5)]),
    (f"bump web to 4 in {NS}", [("web", 4)]),
    (f"checkout is overprovisioned, drop it to 1 replica in {NS}", [("checkout", 1)]),
    (f"set web to 2 replicas and checkout to 1 in {NS}", [("web", 2), ("checkout", 1)]),
    (f"the 'web' deployment in {NS} only has 3 replicas. Could you bump it to 6?", [("web", 6)]),
    (f"shrink the frontend deployment in {NS} to a single pod", [("frontend", 1)]),
    # relative to the live count (web 3, payments 1, checkout 2)
    (f"add one more replica to payments in {NS}", [("payments", 2)]),
    (f"add 2 replicas to web in {NS}", [("web", 5)]),
    (f"one fewer pod for web in {NS}", [("web", 2)]),
    (f"remove a replica from checkout in {NS}", [("checkout", 1)]),
    (f"scale web in {NS} up by 2", [("web", 5)]),
    (f"scale checkout in {NS} down by one", [("checkout", 1)]),
    (f"increase web in {NS} by 2 replicas", [("web", 5)]),
    # one count for a list of workloads
    (f"please scale both web and checkout in {NS} to 4 replicas", [("web", 4), ("checkout", 4)]),
    (f"scale web and checkout in {NS} to 4", [("web", 4), ("checkout", 4)]),
    (f"scale web, checkout and catalog in {NS} to 4", [("web", 4), ("checkout", 4), ("catalog", 4)]),
    (f"scale checkout to 1 in {NS} and web to 4", [("checkout", 1), ("web", 4)]),
    (f"scale web to 5 and add a replica to checkout in {NS}", [("web", 5), ("checkout", 3)]),
])
def test_wordings_become_one_absolute_scale_per_workload(kube, text, want):
    r = plan(kube, text, AGENT, INTENT)
    assert _counts(r) == want, r.answer
    assert [(g["name"], g["path"], g["value"]) for g in goals(r)] == [(n, "spec.replicas", c) for n, c in want]


@pytest.mark.parametrize("text", [
    f"scale web in {NS} to 3 if it is healthy",
    f"scale web in {NS} to 5 tonight",
    f"bump web in {NS}",  # no count
    f"bump web in {NS} up to 5.1",  # a version, not a count
    f"bump web in {NS} up to 5%",
    f"scale web to 5 and catalog in {NS}",  # catalog: to what?
    f"scale web and checkout in {NS} to 3 and 4",  # which gets which?
    f"scale web and checkout in {NS} to three and four",
    f"add a replica to web in {NS} unless it's already at 5",
    f"scale web in {NS} by 2",  # up or down?
    f"scale web in {NS} to 5 by noon",
    f"scale cart and web in {NS} to 3",  # no workload cart: not half of it
    f"add a replica to web and checkout in {NS}",  # a relative count said once for two
    f"add a replica to web in {NS} and remove the configmap",
    f"add 2 replicas to web in {NS} and 1 to checkout",
])
def test_unclear_or_extra_wordings_are_not_understood(kube, text):
    assert not_confident(kube, text, AGENT, INTENT)


def test_a_direction_the_live_count_contradicts_is_not_acted_on(kube):
    r = plan(kube, f"lower web in {NS} to 5 pods", AGENT, INTENT)
    assert not r.mutations and "not fewer" in r.answer


def test_a_relative_count_that_leaves_no_pod_is_not_acted_on(kube):
    r = plan(kube, f"remove a replica from payments in {NS}", AGENT, INTENT)
    assert not r.mutations and "leaves 0" in r.answer


@pytest.mark.parametrize("text,name,want", [
    (f"bump web in {NS} up to 5 pods please", "web", 5),
    (f"add one more replica to payments in {NS}", "payments", 2),
    (f"please scale both web and checkout in {NS} to 4 replicas", "checkout", 4),
])
def test_the_scaling_agent_proposes_them(kube, text, name, want):
    r = run(build_context(kube, text))
    assert (name, want) in _counts(r), r.answer


@pytest.mark.parametrize("text", [f"scale web in {NS} up by 2 replicas", f"increase web in {NS} by 2 replicas"])
def test_the_scaling_agent_reads_up_by_as_relative(kube, text):
    r = run(build_context(kube, text))
    assert _counts(r) == [("web", 5)], r.answer


def test_a_deadline_is_not_a_count(kube):
    r = run(build_context(kube, f"scale web in {NS} to 5 replicas by noon"))
    assert not r.mutations and (r.data or {}).get("abstain"), r.answer


def test_applied_through_the_supervisor_the_absolute_goal_holds(kube, runtime):
    text = f"add one more replica to orders in {NS}"
    r = plan(kube, text, AGENT, INTENT)
    held(approve(runtime, text, AGENT), 1)
    assert goal_holds(kube, goals(r)) == []
    assert kube.get("Deployment", NS, "orders")["spec"]["replicas"] == 2
    assert kube.get("Deployment", NS, "web")["spec"]["replicas"] == 3  # nothing else changed


def test_a_count_told_is_not_the_count_asked(kube):
    text = f"ok so payments in {NS} is running 1 pod and that's too few for prod. please make it 3. nothing else"
    r = run(build_context(kube, text))
    assert _counts(r) == [("payments", 3)], r.answer
