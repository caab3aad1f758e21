"""grant-access: a Role (or ClusterRole) with exactly the asked verbs and resources and its binding to the named
subject, one plan; the goal is access itself (can do what was asked, still cannot write when not asked)."""

from __future__ import annotations

import pytest

from tests.agents.fastpaths.conftest import approve, create, goal_holds, goals, namespace, not_confident, plan

NS = "fp-rbac"
AGENT, INTENT = "rbac", "grant-access"
SA = f"system:serviceaccount:{NS}:ci-bot"


def sa(name: str) -> dict:
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": NS}}


@pytest.fixture(scope="module", autouse=True)
def objects(kube):
    create(kube, namespace(NS), sa("ci-bot"), sa("deployer"), sa("reporter"))


def _grant(r):
    role, binding = r.mutations
    return role, binding


@pytest.mark.parametrize("text,verbs,resources,subject", [
    ("create a read-only Role for pods in fp-rbac bound to the service account ci-bot", ["get", "list", "watch"],
     ["pods"], "ci-bot"),
    ("Could you please give the 'ci-bot' service account in namespace fp-rbac rights to read configmaps? Thanks!",
     ["get", "list", "watch"], ["configmaps"], "ci-bot"),
    ("allow sa deployer in fp-rbac to get, list, update and patch deployments", ["get", "list", "update", "patch"],
     ["deployments"], "deployer"),
    ("let user alice view pods and services in fp-rbac", ["get", "list", "watch"], ["pods", "services"], "alice"),
    ("grant group qa-team permission to delete pods in fp-rbac", ["delete"], ["pods"], "qa-team"),
])
def test_wordings_become_one_role_and_binding(kube, text, verbs, resources, subject):
    r = plan(kube, text, AGENT, INTENT)
    role, binding = _grant(r)
    assert (role.verb, role.kind, role.namespace) == ("create", "Role", NS)
    assert (binding.kind, binding.body["roleRef"]["name"]) == ("RoleBinding", role.name)
    assert sorted(v for rule in role.body["rules"] for v in rule["verbs"]) == sorted(verbs * len(role.body["rules"]))
    assert sorted(x for rule in role.body["rules"] for x in rule["resources"]) == sorted(resources)
    assert binding.body["subjects"][0]["name"] == subject
    asked = {(g["can"]["verb"], g["can"]["resource"]) for g in goals(r) if "can" in g and g["value"]}
    assert asked == {(v, x) for v in verbs for x in resources}


def test_read_only_keeps_writes_denied_in_the_goal(kube):
    r = plan(kube, "create a read-only role for pods bound to service account ci-bot in fp-rbac", AGENT, INTENT)
    denied = {(g["can"]["verb"], g["can"]["resource"]) for g in goals(r) if "can" in g and not g["value"]}
    assert {("create", "pods"), ("delete", "pods"), ("update", "pods"), ("patch", "pods")} <= denied


def test_cluster_wide_is_a_cluster_role(kube):
    role, binding = _grant(plan(kube, "give service account reporter in fp-rbac read access to nodes cluster-wide",
                                AGENT, INTENT))
    assert (role.kind, binding.kind) == ("ClusterRole", "ClusterRoleBinding")
    assert binding.body["subjects"][0] == {"kind": "ServiceAccount", "name": "reporter", "namespace": NS}


def test_a_quoted_role_name_names_the_role(kube):
    r = plan(kube, "please make a ClusterRole 'pod-peeker' that can get and list nodes, bind it cluster-wide to group "
                   "qa-team; they should not be able to change nodes", AGENT, INTENT)
    role, binding = _grant(r)
    assert (role.kind, role.name, binding.body["roleRef"]["name"]) == ("ClusterRole", "pod-peeker", "pod-peeker")
    assert sorted(role.body["rules"][0]["verbs"]) == ["get", "list"]


@pytest.mark.parametrize("text", [
    "give service account ci-bot in fp-rbac read access to pods but only on weekdays",
    "give service account ci-bot in fp-rbac read access to pods and also expose web on port 80",
    "give service account ci-bot in fp-rbac read access to pods except in kube-system",
    "give service account nobody-here in fp-rbac read access to pods",  # no such subject
    "give ci-bot in fp-rbac access",  # which verbs, which resources?
    "can service account ci-bot in fp-rbac read pods?",  # a question
])
def test_extra_or_missing_clauses_are_not_understood(kube, text):
    assert not_confident(kube, text, AGENT, INTENT)


def test_applied_through_the_supervisor_the_subject_can_exactly_that(kube, runtime):
    text = "please create a read-only role for configmaps in fp-rbac and bind it to the serviceaccount reporter"
    r = plan(kube, text, AGENT, INTENT)
    out = approve(runtime, text, AGENT)
    assert [o["status"] for o in out["outcomes"]] == ["applied", "applied"]
    assert goal_holds(kube, goals(r)) == []
    assert plan(kube, text, AGENT, INTENT).answer.startswith("Already so")


def test_the_namespace_said_as_a_place_is_no_resource_and_brackets_spell_out_verbs(kube):
    r = plan(kube, "give user carol view access to the fp-rbac namespace", AGENT, INTENT)
    (binding,) = r.mutations
    assert (binding.kind, binding.body["roleRef"]) == ("RoleBinding", {"apiGroup": "rbac.authorization.k8s.io",
                                                                       "kind": "ClusterRole", "name": "view"})
    role, _ = _grant(plan(kube, "let the deployer service account in fp-rbac read (get and list) secrets", AGENT,
                          INTENT))
    assert role.body["rules"][0]["verbs"] == ["get", "list"]


def test_a_service_account_of_another_namespace_is_granted_where_asked(kube):
    create(kube, namespace("fp-rbac-jobs"))
    role, binding = _grant(plan(kube, "reporter needs to be able to create jobs in fp-rbac-jobs, please set that up",
                                AGENT, INTENT))
    assert role.namespace == "fp-rbac-jobs"
    assert binding.body["subjects"] == [{"kind": "ServiceAccount", "name": "reporter", "namespace": NS}]


def test_needed_access_is_a_grant_and_what_is_refused_is_not_granted(kube):
    role, _ = _grant(plan(kube, 'the new intern (user "dave") needs read-only access to pods in fp-rbac, nothing else',
                          AGENT, INTENT))
    assert role.body["rules"][0]["resources"] == ["pods"]
    role, _ = _grant(plan(kube, "give the deployer service account in fp-rbac permission to create and delete "
                                "configmaps, but nothing on secrets", AGENT, INTENT))
    assert [r["resources"] for r in role.body["rules"]] == [["configmaps"]]


def test_wanting_a_subject_to_be_able_to_is_a_grant(kube):
    role, _ = _grant(plan(kube, 'I want the "deployer" service account in fp-rbac to be able to list and watch '
                                "configmaps there. Just that.", AGENT, INTENT))
    assert role.body["rules"][0]["verbs"] == ["list", "watch"]
