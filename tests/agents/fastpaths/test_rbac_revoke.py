"""revoke: taking a subject's rights away removes the RoleBinding that gives them (or just the subject from it) and
nothing else; rights that come from a ClusterRoleBinding or a group, or that no binding gives, are said and nothing
is proposed."""

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
from tests.agents.fastpaths.conftest import understood as understood_by

NS = "fp-revoke"
AGENT, INTENT = "rbac", "revoke"
RBAC = "rbac.authorization.k8s.io"


def _binding(name: str, role: str, *subjects: dict, cluster: bool = False) -> dict:
    meta = {"name": name} if cluster else {"name": name, "namespace": NS}
    return {"apiVersion": f"{RBAC}/v1", "kind": "ClusterRoleBinding" if cluster else "RoleBinding", "metadata": meta,
            "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": role}, "subjects": list(subjects)}


def _user(name: str) -> dict:
    return {"kind": "User", "name": name, "apiGroup": RBAC}


@pytest.fixture(scope="module", autouse=True)
def objects(kube):
    create(kube, namespace(NS),
           {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "bot1", "namespace": NS}},
           _binding("bot1-edit", "edit", {"kind": "ServiceAccount", "name": "bot1", "namespace": NS}),
           _binding("shared-view", "view", _user("dana"), _user("erin")),
           _binding("frank-view", "view", _user("frank"), cluster=True),
           _binding("qa-edit", "edit", {"kind": "Group", "name": "qa", "apiGroup": RBAC}),
           _binding("ivy-admin", "admin", _user("ivy")),
           _binding("leads-admin", "admin", {"kind": "Group", "name": "leads", "apiGroup": RBAC}))


def _can(kube, user: str, verb: str, resource: str, groups: list[str] | None = None) -> bool:
    return kube.subject_can(user, (groups or []) + ["system:authenticated"], verb, resource, NS)[0]


def test_the_only_subject_of_a_binding_gets_it_deleted_and_loses_exactly_that(kube, runtime):
    text = "take away bot1's edit rights in fp-revoke"
    r = plan(kube, text, AGENT, INTENT)
    assert [(m.verb, m.kind, m.namespace, m.name) for m in r.mutations] == [("delete", "RoleBinding", NS, "bot1-edit")]
    sa = f"system:serviceaccount:{NS}:bot1"
    assert {(g["can"]["verb"], g["can"]["resource"]) for g in goals(r) if "can" in g and not g["value"]} >= {
        ("create", "pods")}
    out = approve(runtime, text, AGENT)
    held(out, 1)
    assert goal_holds(kube, goals(r)) == []
    assert not _can(kube, sa, "create", "pods", ["system:serviceaccounts", f"system:serviceaccounts:{NS}"])
    assert _can(kube, "dana", "get", "pods")  # nothing else changed


def test_a_shared_binding_loses_only_that_subject(kube, runtime):
    text = "remove dana's view access in fp-revoke"
    r = plan(kube, text, AGENT, INTENT)
    (m,) = r.mutations
    assert (m.verb, m.kind, m.name, m.patch_type) == ("patch", "RoleBinding", "shared-view", "json")
    assert m.body[0]["op"] == "test" and m.body[1]["value"] == [_user("erin")]
    assert any("can" in g and g["can"]["user"] == "erin" and g["value"] for g in m.goal)  # erin keeps it
    out = approve(runtime, text, AGENT)
    held(out, 1)
    assert goal_holds(kube, goals(r)) == []
    assert not _can(kube, "dana", "get", "pods") and _can(kube, "erin", "get", "pods")


@pytest.mark.parametrize("text,says", [
    ("remove frank's view access in fp-revoke", "ClusterRoleBinding frank-view"),  # cluster-wide: not widened
    ("revoke gina's view rights in fp-revoke", "Nothing to revoke"),  # no binding gives it
    ("remove hank's edit access in fp-revoke", "Group qa"),  # hank may have it through group qa's binding
    ("remove ivy's admin access in fp-revoke", "Group leads"),  # ivy may keep it through group leads' binding
])
def test_rights_a_namespace_binding_does_not_give_are_said_and_nothing_proposed(kube, text, says):
    r = plan(kube, text, AGENT, INTENT)
    assert says in r.answer and not r.mutations, r.answer


@pytest.mark.parametrize("text", [
    "remove erin's access tonight",  # later, and where?
    "remove erin's view access in fp-revoke if she leaves the team",
    "remove erin's access to secrets in fp-revoke",  # a part of a role: a binding cannot take that away
    "remove erin's view access in fp-revoke and give her edit",
    "remove erin's view and edit access in fp-revoke",
])
def test_conditions_times_and_parts_are_not_understood(kube, text):
    assert not_confident(kube, text, AGENT, INTENT)


def test_a_question_is_not_a_revoke(kube):
    _, u, _ = understood_by(kube, "can erin remove pods in fp-revoke?", AGENT, INTENT)
    assert u is None
