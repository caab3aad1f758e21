"""pod-node: where a workload's pods (or one pod) run, from the live pods' spec.nodeName; a list of nodes or a usage
ranking is never the answer to it."""

from __future__ import annotations

import pytest

from agents import resources
from tests.agents.fastpaths.conftest import create, ctx_of, deployment, namespace, not_confident, plan
from tests.waiting import until

NS = "fp-where"
AGENT, INTENT = "resources", "pod-node"


@pytest.fixture(scope="module", autouse=True)
def objects(kube):
    create(kube, namespace(NS), deployment(NS, "shopfront", replicas=2))
    until(lambda: sum(1 for p in kube.list("Pod", NS) if (p.get("spec") or {}).get("nodeName")) == 2, 60,
          "two scheduled pods")


@pytest.mark.parametrize("text", [
    f"which node is shopfront in {NS} running on?",
    f"where are the shopfront pods in {NS} scheduled?",
    f"on which node does shopfront run, namespace {NS}",
])
def test_the_answer_is_each_pods_node(kube, text):
    r = plan(kube, text, AGENT, INTENT)
    nodes = {p["metadata"]["name"]: p["spec"]["nodeName"] for p in kube.list("Pod", NS)}
    assert r.data["nodes"] == nodes and all(n in r.answer for n in nodes.values())
    assert not r.mutations


def test_a_pod_by_its_own_name(kube):
    pod = kube.list("Pod", NS)[0]
    r = plan(kube, f"which node is the {pod['metadata']['name']} pod on in {NS}?", AGENT, INTENT)
    assert r.data["nodes"] == {pod["metadata"]["name"]: pod["spec"]["nodeName"]}


def test_not_a_placement_question_or_more_than_one(kube):
    assert not_confident(kube, f"which node is shopfront in {NS} running on, and restart it", AGENT, INTENT)
    assert not_confident(kube, f"show the shopfront pods in {NS}", AGENT, INTENT)


def test_the_resources_agent_never_answers_it_with_a_list_of_nodes(kube):
    res = resources.run(ctx_of(kube, f"what node does shopfront in {NS} run on"))
    assert "Node(s)" not in res.answer and res.data.get("nodes")
