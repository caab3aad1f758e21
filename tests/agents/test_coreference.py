"""The parts of a split request, written out in full: a namespace said once, and "it" for the earlier part's
workload; nothing guessed when two namespaces are said or the earlier part names no single workload."""

from __future__ import annotations

from agents.coreference import resolve_parts, said_namespaces

NAMESPACES = ["shop", "web", "data"]
WORKLOADS = {"web", "checkout", "api"}


def _workload_of(text: str) -> str | None:
    named = [w for w in text.lower().replace(",", " ").split() if w in WORKLOADS]
    return named[0] if len(set(named)) == 1 else None


def test_it_is_the_earlier_parts_workload_and_the_namespace_is_shared():
    out = resolve_parts(["set the image of checkout in shop to nginx:1.28", "scale it to 4"], NAMESPACES, _workload_of)
    assert out == ["set the image of checkout in shop to nginx:1.28", "scale checkout to 4 in shop"]


def test_a_namespace_said_at_the_end_reaches_the_first_part():
    out = resolve_parts(["scale checkout to 4", "restart api in web"], NAMESPACES, _workload_of)
    assert out[0] == "scale checkout to 4 in web"


def test_nothing_is_guessed():
    two_ns = ["scale checkout in shop to 4", "restart it in web"]
    assert resolve_parts(two_ns, NAMESPACES, _workload_of)[0] == two_ns[0]
    unnamed = ["show me the busiest node", "restart it"]
    assert resolve_parts(unnamed, NAMESPACES, _workload_of) == unnamed
    own = ["scale checkout in shop to 4", "and restart api, it is stuck"]
    assert resolve_parts(own, NAMESPACES, _workload_of)[1] == "and restart api, it is stuck in shop"


def test_said_namespaces_reads_in_dash_n_and_the_x_namespace():
    assert said_namespaces("scale web -n shop and the data namespace", NAMESPACES) == ["shop", "data"]
    assert said_namespaces("the web deployment", NAMESPACES) == []


def test_its_is_the_earlier_parts_workload_and_in_it_the_namespace_it_made():
    assert resolve_parts(["restart checkout in shop", "then show me its logs"], NAMESPACES, _workload_of)[1] == \
        "then show me checkout's logs in shop"
    made = resolve_parts(["create namespace qa", "deploy nginx:1.27 in it as smoke"], NAMESPACES, _workload_of)
    assert made[1] == "deploy nginx:1.27 in qa as smoke"
    assert resolve_parts(["create namespace qa", "is there a pod"], NAMESPACES, _workload_of)[1] == "is there a pod"
