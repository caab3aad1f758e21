"""fix-role-resource: the live rules decide which of the two named resources is wrong; the patch swaps it (same
verbs), and the goal is the rules plus the bound subjects' access to the right resource."""

from __future__ import annotations

import pytest

from tests.agents.fastpaths.conftest import approve, create, goal_holds, goals, namespace, not_confident, plan

NS = "fp-role"
AGENT, INTENT = "rbac", "fix-role-resource"
RBAC = "rbac.authorization.k8s.io"


def role(name: str, resources: list[str], verbs=("get", "list", "watch")) -> dict:
    return {"apiVersion": f"{RBAC}/v1", "kind": "Role", "metadata": {"name": name, "namespace": NS},
            "rules": [{"apiGroups": [""], "resources": resources, "verbs": list(verbs)}]}


def binding(name: str, role_name: str, sa: str) -> dict:
    return {"apiVersion": f"{RBAC}/v1", "kind": "RoleBinding", "metadata": {"name": name, "namespace": NS},
            "roleRef": {"apiGroup": RBAC, "kind": "Role", "name": role_name},
            "subjects": [{"kind": "ServiceAccount", "name": sa, "namespace": NS}]}


@pytest.fixture(scope="module", autouse=True)
def objects(kube):
    create(kube, namespace(NS), {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "orders",
                                                                                           "namespace": NS}},
           role("pod-reader", ["configmaps"]), binding("orders-read", "pod-reader", "orders"),
           role("cm-reader", ["pods"]), role("secret-reader", ["pods", "services"]))


@pytest.mark.parametrize("text,name,wrong,right", [
    ("the role pod-reader in fp-role grants configmaps instead of pods, fix it", "pod-reader", "configmaps", "pods"),
    ("Hi, could you please fix role 'cm-reader' in namespace fp-role? It should grant configmaps, not pods. Thanks",
     "cm-reader", "pods", "configmaps"),
    ("pod-reader -n fp-role gives access to configmaps but should be pods", "pod-reader", "configmaps", "pods"),
    ("change the cm-reader role in fp-role so it grants configmaps", "cm-reader", "pods", "configmaps"),
])
def test_wordings_swap_the_wrong_resource(kube, text, name, wrong, right):
    r = plan(kube, text, AGENT, INTENT)
    (m,) = r.mutations
    assert (m.verb, m.kind, m.name, m.patch_type) == ("patch", "Role", name, "json")
    assert m.body[-1]["value"][0]["resources"] == [right]
    assert {(g["op"], g["value"]) for g in m.goal if "path" in g} == {("contains", right), ("not_contains", wrong)}


@pytest.mark.parametrize("text", [
    "the role pod-reader in fp-role grants configmaps instead of pods, fix it and also expose web on port 80",
    "fix role pod-reader in fp-role so it grants pods but only on weekdays",
    "fix role secret-reader in fp-role so it grants secrets",  # two resources granted: which one goes?
    "fix role pod-reader in fp-role: configmaps, pods",  # which is wrong?
    "fix the role in fp-role that grants configmaps instead of pods",  # which role? (two could)
])
def test_extra_or_ambiguous_clauses_are_not_understood(kube, text):
    assert not_confident(kube, text, AGENT, INTENT)


def test_applied_through_the_supervisor_the_bound_account_can_read_pods(kube, runtime):
    text = "please fix the role pod-reader in fp-role: it grants configmaps instead of pods"
    r = plan(kube, text, AGENT, INTENT)
    assert any("can" in g and g["can"]["user"] == f"system:serviceaccount:{NS}:orders" for g in goals(r))
    out = approve(runtime, text, AGENT)
    assert [o["status"] for o in out["outcomes"]] == ["applied"]
    assert goal_holds(kube, goals(r)) == []
    assert plan(kube, text, AGENT, INTENT).answer.startswith("Already so")
