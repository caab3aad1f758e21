"""set-labels: labels or annotations on each named object (one merge patch of its own metadata, never the pod
template), keys removed when asked, every object of a kind matching a selector when "all" is said; the goal is each
key's value on each object; extra clauses and unclear targets leave it not confident."""

from __future__ import annotations

import pytest

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

NS = "fp-labels"
AGENT, INTENT = "resources", "set-labels"


def _service(name: str) -> dict:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": NS},
            "spec": {"selector": {"app": name}, "ports": [{"port": 80}]}}


def _labelled(name: str, **labels: str) -> dict:
    d = deployment(NS, name)
    d["metadata"]["labels"] = {"app": name, **labels}
    return d


@pytest.fixture(scope="module", autouse=True)
def objects(kube):
    create(kube, namespace(NS), _labelled("web", tier="frontend"), _service("web"), _labelled("api", tier="backend"),
           _labelled("worker", tier="backend"), _labelled("cron-runner"))


def _targets(r):
    return {(m.kind, m.name): m.body["metadata"] for m in r.mutations}


@pytest.mark.parametrize("text,want", [
    ("please annotate both the web deployment and the web service in fp-labels with owner=team-storefront",
     {("Deployment", "web"): {"annotations": {"owner": "team-storefront"}},
      ("Service", "web"): {"annotations": {"owner": "team-storefront"}}}),
    ("label the api deployment in fp-labels with team=payments", {("Deployment", "api"): {"labels": {"team": "payments"}}}),
    ("Could you add the labels env=prod and cost-center=42 to deployment 'worker' in namespace fp-labels? thanks!",
     {("Deployment", "worker"): {"labels": {"env": "prod", "cost-center": "42"}}}),
    ("change the label tier on the web deployment from frontend to edge in fp-labels",
     {("Deployment", "web"): {"labels": {"tier": "edge"}}}),
    ("remove the tier label from the api deployment in fp-labels", {("Deployment", "api"): {"labels": {"tier": None}}}),
    ("label all deployments matching tier=backend in fp-labels with team=core",
     {("Deployment", "api"): {"labels": {"team": "core"}}, ("Deployment", "worker"): {"labels": {"team": "core"}}}),
    ("annotate the cron-runner deployment in fp-labels with app.kubernetes.io/part-of=batch",
     {("Deployment", "cron-runner"): {"annotations": {"app.kubernetes.io/part-of": "batch"}}}),
])
def test_wordings_become_metadata_patches_of_each_object(kube, text, want):
    r = plan(kube, text, AGENT, INTENT)
    assert _targets(r) == want
    assert all(m.verb == "patch" and m.patch_type == "merge" and m.namespace == NS for m in r.mutations)
    assert all(set(m.body) == {"metadata"} for m in r.mutations)  # never the pod template: no restarts


def test_goal_names_each_key_on_each_object(kube):
    r = plan(kube, "annotate both the web deployment and the web service in fp-labels with owner=a", AGENT, INTENT)
    assert {(g["kind"], g["path"], g["op"], g["value"]) for g in goals(r)} == {
        ("Deployment", "metadata.annotations.owner", "eq", "a"), ("Service", "metadata.annotations.owner", "eq", "a")}


def test_a_label_already_set_is_already_so(kube):
    r = plan(kube, "label the web deployment in fp-labels with tier=frontend", AGENT, INTENT)
    assert not r.mutations and r.answer.startswith("Already so")


@pytest.mark.parametrize("text", [
    "label web in fp-labels with tier=edge",  # a Deployment and a Service are both called web
    "label the web deployment in fp-labels with tier=edge and scale it to 3",
    "label the web deployment in fp-labels with tier=edge but only if it is healthy",
    "annotate the web deployment in fp-labels with owner=a and label it with tier=b",  # both fields: which?
    "label the web deployment in fp-labels with tier=edge for a week",
    "remove the owner label from the api deployment in fp-labels",  # no such label: nothing understood to remove
    "label all deployments matching tier=backend and team=x in fp-labels with env=prod",
])
def test_extra_or_unclear_clauses_are_not_understood(kube, text):
    assert not_confident(kube, text, AGENT, INTENT)


def test_applied_through_the_supervisor_both_objects_are_annotated(kube, runtime):
    text = "please annotate both the web deployment and the web service in fp-labels with owner=team-storefront"
    r = plan(kube, text, AGENT, INTENT)
    out = approve(runtime, text, AGENT)
    held(out, 2)
    assert goal_holds(kube, goals(r)) == []
    assert "annotations" not in (kube.get("Deployment", NS, "web")["spec"]["template"].get("metadata") or {})
    assert plan(kube, text, AGENT, INTENT).answer.startswith("Already so")


# -- the resources agent's own label rule: the kind said wins; a name two kinds share is not guessed ------------------
KIND_NS = "fp-labels-kind"


@pytest.fixture(scope="module")
def shared_name(kube):
    """A Deployment and a Service both called web (each labelled app=web), and a Deployment api alone."""
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": KIND_NS, "labels": {"app": "web"}},
           "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}}
    web, api = deployment(KIND_NS, "web"), deployment(KIND_NS, "api")
    web["metadata"]["labels"], api["metadata"]["labels"] = {"app": "web"}, {"app": "api"}
    create(kube, namespace(KIND_NS), web, svc, api)


def _resources(kube, text: str):
    from agents.resources import run
    from tests.agents.fastpaths.conftest import ctx_of

    return run(ctx_of(kube, text))


@pytest.mark.parametrize("text,want", [
    ("remove the label app from the web service in fp-labels-kind", ("Service", "web", {"labels": {"app": None}})),
    ("label the web service in fp-labels-kind with team=payments", ("Service", "web", {"labels": {"team": "payments"}})),
    ("label the web deployment in fp-labels-kind with team=payments",
     ("Deployment", "web", {"labels": {"team": "payments"}})),
    ("label api in fp-labels-kind with team=payments", ("Deployment", "api", {"labels": {"team": "payments"}})),
])
def test_the_kind_said_is_the_kind_labelled(kube, shared_name, text, want):
    r = _resources(kube, text)
    assert [(m.kind, m.name, m.body["metadata"]) for m in r.mutations] == [want], r.answer


@pytest.mark.parametrize("text", ["label web in fp-labels-kind with team=payments",
                                  "remove the label app from web in fp-labels-kind"])
def test_a_name_two_kinds_share_is_not_guessed(kube, shared_name, text):
    r = _resources(kube, text)
    assert not r.mutations and r.answer.startswith("I did not act:"), r.answer
