"""The resources agent's lists show the columns a request asks for (labels, a node's kubelet and OS), and the words
that asked for them are understood only then."""

from __future__ import annotations

from agents.context import build_context
from agents.resources import run
from tests.agents.fastpaths.conftest import create, deployment, namespace

NS = "fp-cols"


def test_pods_with_their_labels(kube):
    create(kube, namespace(NS), deployment(NS, "web"))
    r = run(build_context(kube, f"list every pod in the {NS} namespace together with its labels, I'm tidying selectors"))
    assert "abstain" not in r.data, r.answer
    assert "labels app=web" in r.answer



def test_node_versions(kube):
    r = run(build_context(kube, "which kubelet version and OS image do the nodes run? it's for the upgrade plan"))
    assert "abstain" not in r.data, r.answer
    node = kube.list("Node")[0]
    info = node["status"]["nodeInfo"]
    assert info["kubeletVersion"] in r.answer and info["osImage"] in r.answer
    assert "image(s) running" not in r.answer  # not the containers' images
