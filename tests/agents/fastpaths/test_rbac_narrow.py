"""narrow-access: one resource taken away, the others said kept. Rights from a ClusterRole (or a Role others share)
become a Role of exactly what is kept, its binding, then the old binding deleted or the subject patched out of it;
a Role only this subject uses loses the resource; rights from a group or a ClusterRoleBinding are not changed."""

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

NS, GNS = "fp-narrow", "fp-narrow-g"
AGENT, INTENT = "rbac", "narrow-access"
RBAC = "rbac.authorization.k8s.io"


def _sa(name: str, ns: str = NS) -> dict:
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": ns}}


def _subject(s: str, ns: str = NS) -> dict:
    if s.startswith("group:"):
        return {"kind": "Group", "name": s[6:], "apiGroup": RBAC}
    return {"kind": "ServiceAccount", "name": s, "namespace": ns}


def _bind(name: str, kind: str, role: str, *subjects: str, ns: str = NS) -> dict:
    return {"apiVersion": f"{RBAC}/v1", "kind": "RoleBinding", "metadata": {"name": name, "namespace": ns},
            "roleRef": {"apiGroup": RBAC, "kind": kind, "name": role},
            "subjects": [_subject(s, ns) for s in subjects]}


@pytest.fixture(scope="module", autouse=True)
def objects(kube):
    solo_rules = [{"apiGroups": [""], "resources": ["pods", "secrets"], "verbs": ["get", "list"]},
                  {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "update"]}]
    create(kube, namespace(NS), namespace(GNS), *[_sa(n) for n in ("ci-bot", "solo", "pair-x", "pair-y", "wide")],
           _sa("grouped", GNS), _bind("ci-bot-edit", "ClusterRole", "edit", "ci-bot"),
           {"apiVersion": f"{RBAC}/v1", "kind": "Role", "metadata": {"name": "solo-role", "namespace": NS},
            "rules": solo_rules},
           _bind("solo", "Role", "solo-role", "solo"), _bind("shared-edit", "ClusterRole", "edit", "pair-x", "pair-y"),
           {"apiVersion": f"{RBAC}/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "fp-narrow-wide-view"},
            "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": "view"},
            "subjects": [_subject("wide")]},
           _bind("sa-edit", "ClusterRole", "edit", f"group:system:serviceaccounts:{GNS}", ns=GNS),
           _bind("devs-edit", "ClusterRole", "edit", "group:devs", ns=GNS))


def _can(kube, sa: str, verb: str, resource: str, group: str = "") -> bool:
    return kube.subject_can(f"system:serviceaccount:{NS}:{sa}", ["system:serviceaccounts",
                            f"system:serviceaccounts:{NS}", "system:authenticated"], verb, resource, NS, group)[0]


@pytest.mark.parametrize("text,removed,kept", [
    ("pair-x shouldn't be able to touch secrets in fp-narrow any more; it still needs to manage deployments and "
     "configmaps there", ["secrets"], {"deployments": 7, "configmaps": 7}),
    ("take secrets away from pair-x in fp-narrow but keep its access to deployments", ["secrets"], {"deployments": 7}),
    ("remove pair-x's access to secrets in fp-narrow, it only needs to read pods and services",
     ["secrets"], {"pods": 3, "services": 3}),
    ("pair-x no longer needs secrets in fp-narrow -- remove them, but it should keep managing configmaps",
     ["secrets"], {"configmaps": 7}),
])
def test_wordings_read_what_goes_and_what_stays(kube, text, removed, kept):
    r = plan(kube, text, AGENT, INTENT)
    role, binding, old = r.mutations
    assert (role.verb, role.kind, binding.verb, binding.kind) == ("create", "Role", "create", "RoleBinding")
    granted = {res: len(rule["verbs"]) for rule in role.body["rules"] for res in rule["resources"]}
    assert granted == kept
    assert (old.verb, old.kind, old.name, old.patch_type) == ("patch", "RoleBinding", "shared-edit", "json")
    assert old.body[1]["value"] == [_subject("pair-y")]  # pair-y keeps edit
    denied = {(g["can"]["verb"], g["can"]["resource"]) for g in goals(r) if "can" in g and not g["value"]}
    assert {("get", "secrets"), ("list", "secrets"), ("delete", "secrets")} <= denied
    assert all(not g["value"] for g in goals(r) if "can" in g and g["can"]["resource"] in removed)


def test_rights_from_a_cluster_role_become_a_role_of_what_is_kept_and_hold_after_apply(kube, runtime):
    text = "ci-bot shouldn't be able to touch secrets in fp-narrow any more; it still needs to manage deployments " \
           "and configmaps there"
    r = plan(kube, text, AGENT, INTENT)
    assert [(m.verb, m.kind, m.name) for m in r.mutations] == [
        ("create", "Role", "ci-bot-deployments-configmaps"), ("create", "RoleBinding", "ci-bot-deployments-configmaps"),
        ("delete", "RoleBinding", "ci-bot-edit")]
    assert "also loses" in r.answer  # what edit gave besides is said
    held(approve(runtime, text, AGENT), 3)
    assert goal_holds(kube, goals(r)) == []
    assert not _can(kube, "ci-bot", "get", "secrets") and not _can(kube, "ci-bot", "delete", "secrets")
    assert _can(kube, "ci-bot", "create", "deployments", "apps") and _can(kube, "ci-bot", "update", "configmaps")


def test_a_role_only_the_subject_uses_loses_the_resource(kube, runtime):
    text = "solo shouldn't see secrets in fp-narrow any more, it still needs to read pods"
    r = plan(kube, text, AGENT, INTENT)
    (m,) = r.mutations
    assert (m.verb, m.kind, m.name, m.patch_type) == ("patch", "Role", "solo-role", "json")
    assert m.body[0]["op"] == "test"
    assert m.body[1]["value"][0]["resources"] == ["pods"] and m.body[1]["value"][1]["resources"] == ["configmaps"]
    held(approve(runtime, text, AGENT), 1)
    assert goal_holds(kube, goals(r)) == []
    assert not _can(kube, "solo", "get", "secrets") and _can(kube, "solo", "list", "pods")
    assert _can(kube, "solo", "update", "configmaps")  # the rest of its Role stays


@pytest.mark.parametrize("text,says", [
    ("grouped shouldn't be able to touch secrets in fp-narrow-g any more; it still needs to read deployments",
     "comes from a group"),
    ("user dave shouldn't be able to touch secrets in fp-narrow-g any more; he still needs to read deployments",
     "comes from a group"),
    ("wide shouldn't be able to see configmaps in fp-narrow any more; it still needs to read pods",
     "ClusterRoleBinding"),
    ("pair-y must not read secrets in fp-narrow anymore, it should still be able to manage deployments",
     "can also"),  # it can also write secrets: say whether that goes too
    ("solo shouldn't touch deployments in fp-narrow any more, it still needs to read pods", "Nothing to take away"),
    ("pair-y shouldn't touch secrets in fp-narrow any more, it still needs to manage nodes", "keeping it would be"),
])
def test_rights_a_binding_of_its_own_does_not_give_are_not_changed(kube, text, says):
    r = plan(kube, text, AGENT, INTENT)
    assert says in r.answer and not r.mutations, r.answer


@pytest.mark.parametrize("text", [
    "pair-y shouldn't touch secrets in fp-narrow any more",  # what stays?
    "pair-y shouldn't touch secrets in fp-narrow any more; it still needs secrets",  # both
    "pair-y shouldn't touch secrets in fp-narrow from tomorrow; it still needs to read pods",
    "can pair-y still read pods in fp-narrow if it shouldn't touch secrets?",
])
def test_unclear_narrowing_is_not_understood(kube, text):
    assert not_confident(kube, text, AGENT, INTENT)
