"""The RBAC agent on demo-shop + toolsmith, asked the way people ask: "who is allowed to …" is a who-can (never a
can-i for the person asking), "what can X do" lists X's rights, "is X allowed / able / does X have permission" is a
can-i, a named ClusterRole ("edit rights", "an admin of") is bound as it is, reading logs is get on pods/log, and a
request with a condition, a time or no namespace is not acted on."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from agents.context import build_context
from agents.rbac import run
from agents.state import AgentResult
from sandbox.server import SandboxServer
from tools.k8s.client import Kube, Principal


@pytest.fixture(scope="module")
def kubeconfig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = SandboxServer(scenarios=["demo-shop", "toolsmith"], speed=50.0).start()
    kc = server.write_kubeconfig(tmp_path_factory.mktemp("rbac-wordings") / "kubeconfig")
    time.sleep(1.0)  # the aggregated ClusterRoles (view, edit, admin) get their rules
    yield str(kc)
    server.stop()


def ask(kubeconfig: str, text: str, user: str | None = None) -> AgentResult:
    kube = Kube.from_kubeconfig(kubeconfig, principal=Principal(user) if user else None)
    return run(build_context(kube, text, None, None))


@pytest.mark.parametrize("text,who,not_who", [
    ("who is allowed to read secrets in web?", ["User alice (via RoleBinding alice-edit", "Group ops"], []),
    ("who can read secrets in web", ["User alice (via RoleBinding alice-edit"], []),
    ("which users can delete pods in shop", ["ServiceAccount shop/ci-bot"], ["alice"]),
    ("who has access to configmaps in shop", ["User alice: get, list, watch", "ServiceAccount shop/ci-bot"], []),
    ("who's able to delete deployments in web?", ["User alice"], []),
])
def test_who_questions_list_every_subject_not_the_caller(kubeconfig, text, who, not_who):
    r = ask(kubeconfig, text)
    assert r.answer.startswith(("Who can", "Who has access")), r.answer
    assert "kubeconfig-user" not in r.answer and not r.mutations
    assert all(w in r.answer for w in who), r.answer
    assert not any(w in r.answer for w in not_who), r.answer


@pytest.mark.parametrize("text,user,says", [
    ("what can the ci-bot service account do in shop?", None,
     ["ServiceAccount shop/ci-bot", "secrets", "deployments.apps", "RoleBinding shop/ci-bot-edit -> ClusterRole edit"]),
    ("what am I allowed to do in shop?", "bob", ["You (bob) may do nothing in namespace shop"]),
    ("list alice's permissions in web", None, ["User alice", "deployments.apps", "alice-edit", "groups alice belongs"]),
    ("what permissions does the orders service account have", None,
     ["ServiceAccount shop/orders may do in namespace shop: get, list, watch: pods", "Role pod-reader"]),
])
def test_what_a_subject_may_do_is_listed(kubeconfig, text, user, says):
    r = ask(kubeconfig, text, user)
    assert all(s in r.answer for s in says), r.answer
    assert not r.answer.startswith(("Yes", "No")) and not r.mutations


@pytest.mark.parametrize("text,answer", [
    ("is bob allowed to create deployments in the web namespace?", "No: bob cannot create deployments in namespace web"),
    ("does alice have permission to delete pods in shop?", "No: alice cannot delete pods in namespace shop"),
    ("is ci-bot able to read secrets in shop?", "Yes: system:serviceaccount:shop:ci-bot can get secrets"),
])
def test_permission_questions_are_can_i(kubeconfig, text, answer):
    r = ask(kubeconfig, text)
    assert r.answer.startswith(answer), r.answer


def _only(r: AgentResult, kind: str):
    assert [m.kind for m in r.mutations if m.kind == kind], r.answer
    return next(m for m in r.mutations if m.kind == kind)


@pytest.mark.parametrize("text,ns,role,subject", [
    ("make carol an admin of the batch namespace", "batch", "admin", "carol"),
    ("give bob edit rights in shop", "shop", "edit", "bob"),
])
def test_a_named_clusterrole_is_bound_in_the_namespace(kubeconfig, text, ns, role, subject):
    r = ask(kubeconfig, text)
    (m,) = r.mutations
    assert (m.verb, m.kind, m.namespace) == ("create", "RoleBinding", ns)
    assert m.body["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role}
    assert m.body["subjects"] == [{"kind": "User", "name": subject, "apiGroup": "rbac.authorization.k8s.io"}]
    assert any("can" in g and not g["value"] and g["can"]["namespace"] != ns for g in m.goal)  # nothing elsewhere


def test_a_resource_named_is_a_least_privilege_role(kubeconfig):
    r = ask(kubeconfig, "let alice view deployments in the data namespace")
    role = _only(r, "Role")
    assert role.namespace == "data"
    assert role.body["rules"] == [{"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get", "list",
                                                                                                 "watch"]}]


def test_seeing_logs_is_get_on_pods_log_and_finding_the_pods(kubeconfig):
    r = ask(kubeconfig, "bob needs to be able to see logs of pods in shop, please set that up")
    role = _only(r, "Role")
    assert sorted((tuple(x["resources"]), tuple(x["verbs"])) for x in role.body["rules"]) == [
        (("pods",), ("get", "list")), (("pods/log",), ("get",))]
    assert _only(r, "RoleBinding").body["subjects"][0]["name"] == "bob"


@pytest.mark.parametrize("text", [
    "give bob admin everywhere",  # no namespace: cluster-admin is not asked of a namespace's admin
    "let alice delete pods in shop if she is on call",
    "remove alice's access tonight",
    "can alice grant roles in shop?",  # a question: never a grant (it once proposed a Role)
])
def test_conditions_times_and_questions_change_nothing(kubeconfig, text):
    r = ask(kubeconfig, text)
    assert not r.mutations, r.answer
    assert "abstain" in r.data or not r.answer.startswith("Proposed"), r.answer


def test_remove_access_through_the_agent_is_the_revoke(kubeconfig):
    r = ask(kubeconfig, "remove alice's view access in shop")
    (m,) = r.mutations
    assert (m.verb, m.kind, m.namespace, m.name) == ("delete", "RoleBinding", "shop", "alice-view")
    r = ask(kubeconfig, "revoke bob's edit rights in shop")
    assert r.answer.startswith("Nothing to revoke") and not r.mutations
