"""delete-hpa: the autoscaler whose scaleTargetRef is the named workload is deleted (goal: it is absent), whatever its
own name; with none there, nothing is proposed; a request that also deletes something else, or says when, is not
understood. And create-hpa reads bounds said as "2 to 8 pods", "from 2 to 8 replicas", "min 2 max 8"."""

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

NS = "fp-hpadel"
AGENT, INTENT = "scaling", "delete-hpa"
HPA = "HorizontalPodAutoscaler"


def _hpa(name: str, target: str) -> dict:
    return {"apiVersion": "autoscaling/v2", "kind": HPA, "metadata": {"name": name, "namespace": NS},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": target},
                     "minReplicas": 2, "maxReplicas": 5, "metrics": [{"type": "Resource", "resource": {
                         "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}]}}


@pytest.fixture(scope="module", autouse=True)
def objects(kube):
    # a namespace named like a workload: "the autoscaler on hdweb in fp-hpadel" means the workload hdweb
    create(kube, namespace(NS), namespace("hdweb"), deployment(NS, "checkout", replicas=2), deployment(NS, "hdweb"),
           deployment(NS, "cart"), deployment(NS, "api"), _hpa("checkout-hpa", "checkout"), _hpa("cart", "cart"))


@pytest.mark.parametrize("text", [
    f"could you remove the autoscaler on checkout in {NS}? we'll manage replicas manually",
    f"delete the hpa for checkout in {NS}",
    f"get rid of the checkout autoscaler in {NS}",
    f"drop checkout's hpa in {NS}",
    f"remove the horizontal pod autoscaler of the checkout deployment in the {NS} namespace",
    f"delete the hpa checkout-hpa in {NS}",  # named by its own name
])
def test_wordings_delete_the_autoscaler_of_the_workload(kube, text):
    r = plan(kube, text, AGENT, INTENT)
    (m,) = r.mutations
    assert (m.verb, m.kind, m.namespace, m.name) == ("delete", HPA, NS, "checkout-hpa")
    assert m.goal == [{"kind": HPA, "namespace": NS, "name": "checkout-hpa", "absent": True}]


@pytest.mark.parametrize("text", [f"remove the autoscaler on hdweb in {NS}", f"delete the hpa of api in {NS}"])
def test_no_autoscaler_proposes_nothing(kube, text):
    r = plan(kube, text, AGENT, INTENT)
    assert not r.mutations and "no autoscaler targets Deployment" in r.answer


@pytest.mark.parametrize("text", [
    f"delete checkout and its hpa in {NS}",  # the deployment too
    f"delete the autoscaler on checkout in {NS} and the deployment too",
    f"remove the autoscaler on checkout in {NS} tonight",
    f"remove the autoscaler on checkout in {NS} if traffic is low",
    f"remove the autoscaler on checkout and cart in {NS}",
])
def test_more_or_other_than_one_deletion_is_not_understood(kube, text):
    assert not_confident(kube, text, AGENT, INTENT)


def test_applied_through_the_supervisor_the_autoscaler_is_gone_and_the_workload_stays(kube, runtime):
    text = f"please delete the autoscaler for cart in {NS}"
    r = plan(kube, text, AGENT, INTENT)
    out = approve(runtime, text, AGENT)
    assert [o["status"] for o in out["outcomes"]] == ["applied"], out["answer"]
    assert goal_holds(kube, goals(r)) == []
    assert kube.get("Deployment", NS, "cart")["metadata"]["name"] == "cart"
    again = plan(kube, text, AGENT, INTENT)
    assert not again.mutations and again.answer.startswith("Already so")


@pytest.mark.parametrize("text", [
    f"set up an HPA for api in {NS}: 2 to 8 pods at 70% cpu",
    f"autoscale api in {NS} from 2 to 8 replicas at 70% cpu",
    f"create an hpa for api in {NS}, min 2 max 8, 70% cpu",
])
def test_create_hpa_reads_bounds_said_as_a_range(kube, text):
    r = plan(kube, text, AGENT, "create-hpa")
    (m,) = r.mutations
    spec = m.body["spec"]
    assert (m.verb, spec["minReplicas"], spec["maxReplicas"]) == ("create", 2, 8)
    assert spec["metrics"][0]["resource"]["target"]["averageUtilization"] == 70


def test_get_rid_of_is_a_delete_never_an_autoscaler_created(kube):
    from agents.scaling import run
    from tests.agents.fastpaths.conftest import ctx_of

    r = run(ctx_of(kube, f"please get rid of the hpa on api in {NS}"))  # api has none: nothing to delete
    assert not any(m.verb == "create" for m in r.mutations), r.answer
