"""role-add: what an operation needs (rollout restart, scale, logs, exec, port-forward, undo, a plain verb) is added
to the existing Role that is named, or to the one Role bound to the named subject; a Role shared with others, a
ClusterRole, several roles or no role: nothing is proposed and the answer says why."""

from __future__ import annotations

import pytest

from tests.agents.fastpaths.conftest import (
    approve,
    create,
    goal_holds,
    goals,
    held,
    namespace,
    not_confident,
    plan,
)

NS = "fp-adjust"
AGENT, INTENT = "rbac", "role-add"
RBAC = "rbac.authorization.k8s.io"
SAS = ["system:serviceaccounts", f"system:serviceaccounts:{NS}"]


def _sa(name: str) -> dict:
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": NS}}


def _role(name: str, *rules: tuple[str, str, list[str]]) -> dict:
    return {"apiVersion": f"{RBAC}/v1", "kind": "Role", "metadata": {"name": name, "namespace": NS},
            "rules": [{"apiGroups": [g], "resources": [r], "verbs": v} for g, r, v in rules]}


def _bind(name: str, kind: str, role: str, *sas: str) -> dict:
    return {"apiVersion": f"{RBAC}/v1", "kind": "RoleBinding", "metadata": {"name": name, "namespace": NS},
            "roleRef": {"apiGroup": RBAC, "kind": kind, "name": role},
            "subjects": [{"kind": "ServiceAccount", "name": s, "namespace": NS} for s in sas]}


@pytest.fixture(scope="module", autouse=True)
def objects(kube):
    create(kube, namespace(NS), *[_sa(n) for n in ("restarter", "deployer", "log-bot", "multi", "pair-a", "pair-b",
                                                    "edit-bot")],
           _role("restarter", ("apps", "deployments", ["get", "list"])), _bind("restarter", "Role", "restarter",
                                                                               "restarter"),
           _role("deployer", ("apps", "deployments", ["get", "list", "update"])),
           _bind("deployer", "Role", "deployer", "deployer"),
           _role("log-reader", ("", "pods", ["get", "list"])), _bind("log-bot", "Role", "log-reader", "log-bot"),
           _role("cm-reader", ("", "configmaps", ["get"])), _role("pod-getter", ("", "pods", ["get"])),
           _bind("multi-a", "Role", "pod-getter", "multi"),
           _bind("multi-b", "Role", "cm-reader", "multi"),
           _role("shared", ("", "pods", ["get"])), _bind("pair", "Role", "shared", "pair-a", "pair-b"),
           _bind("edit-bot", "ClusterRole", "edit", "edit-bot"))


def _can(kube, sa: str, verb: str, resource: str, group: str = "") -> bool:
    return kube.subject_can(f"system:serviceaccount:{NS}:{sa}", SAS + ["system:authenticated"], verb, resource, NS,
                            group)[0]


@pytest.mark.parametrize("text,role,added", [
    ("the restarter SA in fp-adjust should be able to do `kubectl rollout restart` on deployments but its role only "
     "has get/list; add what's needed, and only that", "restarter", [("patch", "deployments")]),
    ("let the deployer role in fp-adjust also scale deployments", "deployer",
     [("get", "deployments/scale"), ("patch", "deployments/scale")]),
    ("the log-reader role in fp-adjust is missing the verb for logs", "log-reader", [("get", "pods/log")]),
    ("log-bot in fp-adjust can't read pod logs, can you add that to its role?", "log-reader", [("get", "pods/log")]),
    ("please add exec on pods to the 'log-reader' role in fp-adjust", "log-reader", [("create", "pods/exec")]),
    ("restarter needs to port-forward to pods in fp-adjust, extend its role with just that", "restarter",
     [("create", "pods/portforward")]),
    ("add delete pods to the log-reader role in fp-adjust", "log-reader", [("delete", "pods")]),
    ("the deployer SA should also be able to do rollout undo in fp-adjust", "deployer",
     [("patch", "deployments"), ("list", "replicasets")]),
])
def test_the_operation_becomes_the_verbs_it_needs_on_that_role(kube, text, role, added):
    r = plan(kube, text, AGENT, INTENT)
    (m,) = r.mutations
    assert (m.verb, m.kind, m.namespace, m.name, m.patch_type) == ("patch", "Role", NS, role, "json")
    assert m.body[0]["op"] == "test"
    new = m.body[1]["value"]
    granted = {(v, res) for rule in new for res in rule["resources"] for v in rule["verbs"]}
    before = {(v, res) for rule in m.body[0]["value"] for res in rule["resources"] for v in rule["verbs"]}
    assert granted - before == set(added), r.answer
    asked = {(g["can"]["verb"], g["can"]["resource"]) for g in goals(r) if "can" in g and g["value"]}
    assert asked == set(added)


def test_a_verb_joins_the_rule_of_its_resource_and_the_goal_holds_after_apply(kube, runtime):
    text = "the restarter SA in fp-adjust should be able to do `kubectl rollout restart` on deployments; add it to its role"
    r = plan(kube, text, AGENT, INTENT)
    (m,) = r.mutations
    assert m.body[1]["value"] == [{"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get", "list", "patch"]}]
    denied = {(g["can"]["verb"], g["can"]["resource"]) for g in m.goal if "can" in g and not g["value"]}
    assert {("create", "deployments"), ("delete", "deployments"), ("update", "deployments")} <= denied  # only that
    held(approve(runtime, text, AGENT), 1)
    assert goal_holds(kube, goals(r)) == []
    assert _can(kube, "restarter", "patch", "deployments", "apps")
    assert not _can(kube, "restarter", "delete", "deployments", "apps")


@pytest.mark.parametrize("text,says", [
    ("multi in fp-adjust needs to exec into pods; add that to its role", "several roles"),  # which one?
    ("pair-a in fp-adjust needs to delete pods, add it to its role", "also bound to ServiceAccount fp-adjust/pair-b"),
    ("the edit-bot SA should also be able to port-forward to pods in fp-adjust, add it to its role", "ClusterRole edit"),
    ("the 'deployer' role in fp-adjust needs patch on deployments -- add it to the restarter's role", "not bound"),
])
def test_an_unclear_or_shared_role_is_not_changed(kube, text, says):
    r = plan(kube, text, AGENT, INTENT)
    assert says in r.answer and not r.mutations, r.answer


def test_already_granted_is_said(kube):
    r = plan(kube, "add list pods to the log-reader role in fp-adjust", AGENT, INTENT)
    assert r.answer.startswith("Already so") and not r.mutations


@pytest.mark.parametrize("text", [
    "add exec to the log-reader role in fp-adjust tonight",
    "add exec to the log-reader role in fp-adjust and delete the deployer role",
    "let the deployer role in fp-adjust also restart deployments and statefulsets",  # two kinds for one operation
    "can the log-reader role in fp-adjust read logs?",  # a question
    "add get to the log-reader role in fp-adjust",  # a verb on what?
])
def test_extra_or_missing_parts_are_not_understood(kube, text):
    assert not_confident(kube, text, AGENT, INTENT)


def test_a_grant_without_a_role_is_not_this_path_and_grant_leaves_named_roles_alone(kube):
    assert not_confident(kube, "let deployer in fp-adjust delete pods", AGENT, INTENT)
    assert not_confident(kube, "let the deployer role in fp-adjust delete pods", AGENT, "grant-access")
