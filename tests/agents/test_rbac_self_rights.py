"""The caller's own rights on demo-shop: "what am I allowed to do in shop", "bob here — what are my permissions",
"which permissions do I have" list what the signed-in principal may do (the API server's SelfSubjectRulesReview),
never a can-i and never another subject's bindings; with nothing there, the answer says so plainly. Narrowing and
extending wordings are not read as a can-i about what the subject may do now."""

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
    server = SandboxServer(scenarios=["demo-shop"], speed=50.0).start()
    kc = server.write_kubeconfig(tmp_path_factory.mktemp("rbac-self") / "kubeconfig")
    time.sleep(1.0)  # the aggregated ClusterRoles (view, edit) get their rules
    yield str(kc)
    server.stop()


def ask(kubeconfig: str, text: str, user: str | None = None, ns: str | None = None) -> AgentResult:
    kube = Kube.from_kubeconfig(kubeconfig, principal=Principal(user) if user else None)
    ctx = build_context(kube, text, ns, None)
    ctx.no_loop = True
    return run(ctx)


@pytest.mark.parametrize("text,user,ns", [
    ("what am I allowed to do in shop", "bob", None),
    ("bob here — what are my permissions in shop", "bob", None),
    ("show me my rights in shop", "bob", None),
    ("what can I do here?", "bob", "shop"),
    ("which permissions do I have in shop?", "bob", None),
])
def test_a_caller_with_nothing_is_told_so_plainly(kubeconfig, text, user, ns):
    r = ask(kubeconfig, text, user, ns)
    assert r.answer.startswith("You (bob) may do nothing in namespace shop: no permissions there"), r.answer
    assert not r.mutations and r.evidence
    assert r.data.get("understood", "").startswith("list-rights")


@pytest.mark.parametrize("text,user,says", [
    ("which permissions do I have in shop?", "alice", ["What you (alice) may do in namespace shop: get, list, watch"]),
    ("alice here: what can I do in shop?", "alice", ["What you (alice) may do", "deployments.apps"]),
    ("what exactly can I do in shop?", "system:serviceaccount:shop:ci-bot",
     ["What you (system:serviceaccount:shop:ci-bot) may do", "secrets"]),
    ("carol here — what are my permissions in shop?", "bob", ["You are signed in as bob, not carol",
                                                              "You (bob) may do nothing"]),
])
def test_the_callers_own_rights_are_listed(kubeconfig, text, user, says):
    r = ask(kubeconfig, text, user)
    assert all(s in r.answer for s in says), r.answer
    assert not r.answer.startswith(("Yes", "No")) and not r.mutations


@pytest.mark.parametrize("text", [
    "ci-bot shouldn't be able to touch secrets in shop any more; it still needs to manage deployments",
    "the orders sa must not see pods anymore, it should still read configmaps in shop",
])
def test_narrowing_is_not_a_can_i(kubeconfig, text):
    r = ask(kubeconfig, text)
    assert not r.answer.startswith(("Yes", "No:")), r.answer


def test_a_named_role_is_not_a_grant_on_roles(kubeconfig):
    r = ask(kubeconfig, "let the pod-reader role in shop also delete pods")
    assert not any(m.kind == "Role" and "roles" in str(m.body) for m in r.mutations), r.answer
