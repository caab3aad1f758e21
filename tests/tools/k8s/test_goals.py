"""Goal assertions against a real API server (the embedded sandbox): fields by dotted path with list indices,
`contains` on mappings and lists, quantities written two ways, selectors, existence, and access by
SubjectAccessReview; a goal the principal cannot read is reported as unchecked, not as held."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sandbox.server import SandboxServer
from tools.k8s import goals
from tools.k8s.client import Kube, Principal

NS = "goals"


@pytest.fixture(scope="module")
def kube(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kube]:
    server = SandboxServer(scenarios=["default"], speed=50.0).start()
    kc = server.write_kubeconfig(tmp_path_factory.mktemp("goals") / "kubeconfig")
    k = Kube.from_kubeconfig(str(kc))
    k.request("POST", k.path("Namespace", None), {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
    k.request("POST", k.path("Deployment", NS), {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": NS,
                                                                    "labels": {"app": "web", "tier": "front"}},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}}, "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "web", "image": "nginx:1.27", "env": [{"name": "MODE", "value": "fast"}],
                                     "resources": {"limits": {"cpu": "500m", "memory": "1Gi"}}}]}}}})
    k.request("POST", k.path("Role", NS), {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "pod-reader", "namespace": NS},
        "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}]})
    k.request("POST", k.path("RoleBinding", NS), {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": "dana-reads", "namespace": NS},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "pod-reader"},
        "subjects": [{"kind": "User", "name": "dana", "apiGroup": "rbac.authorization.k8s.io"}]})
    yield k
    server.stop()


def web(path: str, op: str = "eq", value: object = None) -> dict:
    return {"kind": "Deployment", "namespace": NS, "name": "web", "path": path, "op": op, "value": value}


C0 = "spec.template.spec.containers.0"


@pytest.mark.parametrize(("assertion", "holds"), [
    (web(f"{C0}.image", value="nginx:1.27"), True),
    (web(f"{C0}.image", value="nginx:1.28"), False),
    (web("spec.replicas", "ge", 2), True),
    (web("spec.replicas", "gt", 2), False),
    (web("metadata.labels", "contains", "tier"), True),  # a mapping contains a key
    (web("metadata.labels", "not_contains", "canary"), True),
    (web(f"{C0}.env", "contains", "MODE"), True),  # a list contains an item by name
    (web(f"{C0}.env", "contains", {"name": "MODE", "value": "fast"}), True),
    (web(f"{C0}.env", "contains", {"name": "MODE", "value": "slow"}), False),
    (web(f"{C0}.env", "not_contains", "DEBUG"), True),
    (web(f"{C0}.resources.limits.cpu", value="0.5"), True),  # the same quantity written two ways
    (web(f"{C0}.resources.limits.memory", value="1024Mi"), True),
    (web(f"{C0}.resources.limits.memory", value="2Gi"), False),
    (web(f"{C0}.resources.requests.cpu", value="500m"), True),  # defaulted from the limit by the API
    (web(f"{C0}.livenessProbe", "missing"), True),
    (web("spec.template.spec.containers.1.image", "exists"), False),
    ({"kind": "Deployment", "namespace": NS, "name": "web", "exists": True}, True),
    ({"kind": "Deployment", "namespace": NS, "name": "gone", "absent": True}, True),
    ({"kind": "Deployment", "namespace": NS, "name": "gone", "path": "spec.replicas", "value": 1}, False),
    ({"kind": "Role", "namespace": NS, "selector": "", "path": "count", "value": 1}, True),
    ({"can": {"user": "dana", "verb": "list", "resource": "pods", "namespace": NS}, "value": True}, True),
    ({"can": {"user": "dana", "verb": "delete", "resource": "pods", "namespace": NS}, "value": False}, True),
    ({"can": {"user": "dana", "verb": "list", "resource": "secrets", "namespace": NS}, "value": True}, False),
])
def test_each_assertion_on_the_live_cluster(kube, assertion, holds):
    ((ok, detail),) = goals.check(kube, [assertion])
    assert ok is holds, detail


def test_what_failed_is_said_in_words(kube):
    failed = goals.failed(kube, [web(f"{C0}.image", value="nginx:1.27"), web(f"{C0}.image", value="nginx:1.28")])
    assert failed == ["Deployment goals/web spec.template.spec.containers.0.image = 'nginx:1.27' "
                      "(eq 'nginx:1.28': fails)"]


def test_a_goal_the_principal_cannot_read_is_unchecked_not_held(kube):
    nobody = Kube(kube.api.__class__(kube.api.configuration), Principal("nobody"))
    nobody.api.set_default_header("Impersonate-User", "nobody")
    found = goals.verdicts(nobody, [web("spec.replicas", value=2)])
    assert found[0][0] is None and "could not check" in found[0][1]
    assert goals.check(nobody, [web("spec.replicas", value=2)])[0][0] is False


def test_a_malformed_assertion_fails_instead_of_raising(kube):
    assert goals.check(kube, [{"path": "spec.replicas"}])[0][0] is False
    assert goals.check(kube, None) == []
