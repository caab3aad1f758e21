"""The sandbox through the official kubernetes Python client: API semantics, errors, auth, persistence."""

from __future__ import annotations

import json
import ssl
import threading
import time
import urllib.request

import pytest
from kubernetes import client, watch
from kubernetes.client.rest import ApiException

from sandbox.server import SandboxServer
from tests.sandbox.conftest import client_as


def _cm(name: str, labels: dict | None = None, **data: str) -> client.V1ConfigMap:
    return client.V1ConfigMap(metadata=client.V1ObjectMeta(name=name, labels=labels), data=data or {"k": "v"})


def _raw(sandbox: SandboxServer, method: str, path: str, body: bytes | None = None,
         content_type: str = "application/json", token: str | None = None) -> tuple[int, dict]:
    """A raw HTTPS request, for inputs the typed client would refuse to send."""
    ctx = ssl.create_default_context(cafile=str(sandbox.ca_file))
    req = urllib.request.Request(sandbox.url + path, data=body, method=method,
                                 headers={"Authorization": f"Bearer {token or sandbox.token}",
                                          "Content-Type": content_type, "Accept": "application/json"})
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=10) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def test_crud_and_resource_versions(api_client, ns):
    core = client.CoreV1Api(api_client)
    created = core.create_namespaced_config_map(ns, _cm("a", a="1"))
    assert created.metadata.uid and created.metadata.creation_timestamp
    rv1 = int(created.metadata.resource_version)
    created.data["a"] = "2"
    updated = core.replace_namespaced_config_map("a", ns, created)
    assert int(updated.metadata.resource_version) > rv1
    created.data["a"] = "3"  # stale resourceVersion
    with pytest.raises(ApiException) as err:
        core.replace_namespaced_config_map("a", ns, created)
    assert err.value.status == 409
    assert json.loads(err.value.body)["message"].startswith('Operation cannot be fulfilled on configmaps "a"')
    with pytest.raises(ApiException) as err:
        core.create_namespaced_config_map(ns, _cm("a"))
    assert err.value.status == 409 and json.loads(err.value.body)["reason"] == "AlreadyExists"
    core.delete_namespaced_config_map("a", ns)
    with pytest.raises(ApiException) as err:
        core.read_namespaced_config_map("a", ns)
    body = json.loads(err.value.body)
    assert err.value.status == 404 and body["message"] == 'configmaps "a" not found' and body["kind"] == "Status"


def test_generate_name(api_client, ns):
    core = client.CoreV1Api(api_client)
    made = core.create_namespaced_config_map(ns, client.V1ConfigMap(metadata=client.V1ObjectMeta(generate_name="gen-")))
    assert made.metadata.name.startswith("gen-") and len(made.metadata.name) == 9


def test_list_selectors_and_pagination(api_client, ns):
    core = client.CoreV1Api(api_client)
    for i in range(7):
        core.create_namespaced_config_map(ns, _cm(f"cm-{i}", {"tier": "web" if i % 2 else "db", "n": str(i)}))
    names = lambda items: [c.metadata.name for c in items]  # noqa: E731
    assert names(core.list_namespaced_config_map(ns, label_selector="tier=web").items) == ["cm-1", "cm-3", "cm-5"]
    assert names(core.list_namespaced_config_map(ns, label_selector="tier!=web,n in (0,2)").items) == ["cm-0", "cm-2"]
    assert names(core.list_namespaced_config_map(ns, field_selector="metadata.name=cm-4").items) == ["cm-4"]
    with pytest.raises(ApiException) as err:
        core.list_namespaced_config_map(ns, field_selector="data.k=v")
    assert err.value.status == 400 and "field label not supported: data.k" in err.value.body
    with pytest.raises(ApiException) as err:
        core.list_namespaced_config_map(ns, label_selector="tier in web")
    assert err.value.status == 400
    page = core.list_namespaced_config_map(ns, label_selector="n", limit=3)
    seen = names(page.items)
    assert len(seen) == 3 and page.metadata._continue and page.metadata.remaining_item_count == 4
    while page.metadata._continue:
        page = core.list_namespaced_config_map(ns, label_selector="n", limit=3, _continue=page.metadata._continue)
        seen += names(page.items)
    assert seen == [f"cm-{i}" for i in range(7)]


def test_watch_from_resource_version(api_client, ns):
    core = client.CoreV1Api(api_client)
    start = core.list_namespaced_config_map(ns).metadata.resource_version
    core.create_namespaced_config_map(ns, _cm("w1"))
    core.patch_namespaced_config_map("w1", ns, {"data": {"k": "changed"}})
    core.delete_namespaced_config_map("w1", ns)
    events = []
    w = watch.Watch()
    for ev in w.stream(core.list_namespaced_config_map, ns, resource_version=start, timeout_seconds=5):
        if ev["object"].metadata.name == "w1":
            events.append((ev["type"], (ev["object"].data or {}).get("k")))
        if len(events) == 3:
            w.stop()
    assert events == [("ADDED", "v"), ("MODIFIED", "changed"), ("DELETED", "changed")]


def test_watch_live_event_and_bad_version(sandbox, api_client, ns):
    core = client.CoreV1Api(api_client)
    got: list[str] = []

    def run() -> None:
        w = watch.Watch()
        for ev in w.stream(core.list_namespaced_config_map, ns, label_selector="live=yes", timeout_seconds=10):
            got.append(f'{ev["type"]}:{ev["object"].metadata.name}')
            w.stop()

    t = threading.Thread(target=run)
    t.start()
    time.sleep(0.5)
    core.create_namespaced_config_map(ns, _cm("ignored"))
    core.create_namespaced_config_map(ns, _cm("seen", {"live": "yes"}))
    t.join(timeout=15)
    assert got == ["ADDED:seen"]
    status, body = _raw(sandbox, "GET", f"/api/v1/namespaces/{ns}/configmaps?watch=true&resourceVersion=abc")
    assert status == 400 and body["reason"] == "BadRequest"


def test_bad_input_gets_clear_errors(sandbox, ns):
    status, body = _raw(sandbox, "POST", f"/api/v1/namespaces/{ns}/configmaps", b'{"metadata": {"name": ')
    assert status == 400 and body["kind"] == "Status" and "error decoding JSON body" in body["message"]
    status, body = _raw(sandbox, "POST", f"/api/v1/namespaces/{ns}/configmaps", b"metadata: [unclosed",
                        "application/yaml")
    assert status == 400 and "YAML" in body["message"]
    status, body = _raw(sandbox, "POST", f"/api/v1/namespaces/{ns}/configmaps",
                        json.dumps({"metadata": {"name": "Bad_Name"}}).encode())
    assert status == 422 and body["reason"] == "Invalid"
    assert body["message"].startswith('ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": '
                                      "a lowercase RFC 1123 subdomain")
    status, body = _raw(sandbox, "POST", f"/apis/apps/v1/namespaces/{ns}/deployments", json.dumps({
        "metadata": {"name": "d"}, "spec": {"replicas": "two"}}).encode())
    assert status == 400 and "cannot unmarshal string" in body["message"]
    status, body = _raw(sandbox, "POST", f"/apis/apps/v1/namespaces/{ns}/deployments", json.dumps({
        "metadata": {"name": "d"}, "spec": {"selector": {"matchLabels": {"app": "x"}},
                                            "template": {"metadata": {"labels": {"app": "y"}},
                                                         "spec": {"containers": [{"name": "c"}]}}}}).encode())
    assert status == 422
    assert "spec.template.metadata.labels" in body["message"] and "spec.template.spec.containers[0].image: Required value" in body["message"]
    status, body = _raw(sandbox, "GET", f"/apis/example.com/v1/namespaces/{ns}/gizmos")
    assert status == 404 and body["reason"] == "NotFound"
    status, body = _raw(sandbox, "POST", "/api/v1/namespaces/does-not-exist/configmaps",
                        json.dumps({"metadata": {"name": "x"}}).encode())
    assert status == 404 and body["message"] == 'namespaces "does-not-exist" not found'
    status, body = _raw(sandbox, "GET", "/api/v1/namespaces", token="wrong-token")
    assert status == 401 and body["reason"] == "Unauthorized"
    status, body = _raw(sandbox, "PATCH", f"/api/v1/namespaces/{ns}/configmaps/x", b"{}", "text/plain")
    assert status in (404, 415)
    # Nothing half-written: none of the rejected objects exist.
    status, body = _raw(sandbox, "GET", f"/api/v1/namespaces/{ns}/configmaps")
    assert [i["metadata"]["name"] for i in body["items"]] == ["kube-root-ca.crt"]


def test_finalizers_hold_deletion_until_removed(api_client, ns):
    core = client.CoreV1Api(api_client)
    core.create_namespaced_config_map(ns, client.V1ConfigMap(metadata=client.V1ObjectMeta(
        name="held", finalizers=["example.com/hold"])))
    core.delete_namespaced_config_map("held", ns)
    held = core.read_namespaced_config_map("held", ns)
    assert held.metadata.deletion_timestamp is not None
    core.patch_namespaced_config_map("held", ns, {"metadata": {"finalizers": None}})
    with pytest.raises(ApiException) as err:
        core.read_namespaced_config_map("held", ns)
    assert err.value.status == 404


def test_namespace_termination(sandbox, api_client):
    core = client.CoreV1Api(api_client)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name="doomed")))
    core.create_namespaced_config_map("doomed", _cm("inside"))
    core.delete_namespace("doomed")
    with pytest.raises(ApiException) as err:
        core.create_namespaced_config_map("doomed", _cm("late"))
    assert err.value.status in (403, 404)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            core.read_namespace("doomed")
        except ApiException as e:
            assert e.status == 404
            break
        time.sleep(0.05)
    else:
        pytest.fail("namespace was not removed")
    assert sandbox.cluster.store.get("/configmaps", "doomed", "inside") is None


def test_rbac_impersonation_and_reviews(sandbox, api_client, ns):
    rbac = client.RbacAuthorizationV1Api(api_client)
    rbac.create_namespaced_role(ns, client.V1Role(metadata=client.V1ObjectMeta(name="cm-reader"), rules=[
        client.V1PolicyRule(api_groups=[""], resources=["configmaps"], verbs=["get", "list"])]))
    rbac.create_namespaced_role_binding(ns, client.V1RoleBinding(
        metadata=client.V1ObjectMeta(name="alice-reads"),
        role_ref=client.V1RoleRef(api_group="rbac.authorization.k8s.io", kind="Role", name="cm-reader"),
        subjects=[client.RbacV1Subject(kind="User", name="alice", api_group="rbac.authorization.k8s.io")]))
    alice = client.CoreV1Api(client_as(sandbox, "alice-token"))
    assert [c.metadata.name for c in alice.list_namespaced_config_map(ns).items] == ["kube-root-ca.crt"]
    with pytest.raises(ApiException) as err:
        alice.create_namespaced_config_map(ns, _cm("nope"))
    assert err.value.status == 403
    assert json.loads(err.value.body)["message"] == (
        f'configmaps is forbidden: User "alice" cannot create resource "configmaps" in API group "" in the namespace "{ns}"')
    impersonating = client_as(sandbox, "alice-token")
    impersonating.set_default_header("Impersonate-User", "bob")
    with pytest.raises(ApiException) as err:  # alice may not impersonate
        client.CoreV1Api(impersonating).list_namespaced_config_map(ns)
    assert err.value.status == 403
    assert json.loads(err.value.body)["message"] == (
        'users "bob" is forbidden: User "alice" cannot impersonate resource "users" in API group "" at the cluster scope')
    as_alice = client.ApiClient(_config(sandbox))
    as_alice.set_default_header("Impersonate-User", "alice")
    assert len(client.CoreV1Api(as_alice).list_namespaced_config_map(ns).items) == 1  # the admin may
    with pytest.raises(ApiException) as err:
        client.CoreV1Api(as_alice).list_namespaced_secret(ns)
    assert err.value.status == 403 and 'User "alice" cannot list resource "secrets"' in json.loads(err.value.body)["message"]

    authz = client.AuthorizationV1Api(api_client)
    review = authz.create_subject_access_review(client.V1SubjectAccessReview(spec=client.V1SubjectAccessReviewSpec(
        user="alice", resource_attributes=client.V1ResourceAttributes(namespace=ns, verb="list", resource="configmaps"))))
    assert review.status.allowed and "alice-reads" in review.status.reason
    review = authz.create_subject_access_review(client.V1SubjectAccessReview(spec=client.V1SubjectAccessReviewSpec(
        user="alice", resource_attributes=client.V1ResourceAttributes(namespace=ns, verb="delete", resource="configmaps"))))
    assert not review.status.allowed
    self_review = client.AuthorizationV1Api(client_as(sandbox, "alice-token")).create_self_subject_rules_review(
        client.V1SelfSubjectRulesReview(spec=client.V1SelfSubjectRulesReviewSpec(namespace=ns)))
    assert any(r.resources == ["configmaps"] and r.verbs == ["get", "list"] for r in self_review.status.resource_rules)


def test_service_account_tokens_authenticate(sandbox, api_client, ns):
    core = client.CoreV1Api(api_client)
    core.create_namespaced_service_account(ns, client.V1ServiceAccount(metadata=client.V1ObjectMeta(name="bot")))
    token = core.create_namespaced_service_account_token("bot", ns, client.AuthenticationV1TokenRequest(
        spec=client.V1TokenRequestSpec(audiences=[]))).status.token
    who = client.AuthenticationV1Api(client_as(sandbox, token)).create_self_subject_review(client.V1SelfSubjectReview())
    assert who.status.user_info.username == f"system:serviceaccount:{ns}:bot"
    assert f"system:serviceaccounts:{ns}" in who.status.user_info.groups
    with pytest.raises(ApiException) as err:
        client.CoreV1Api(client_as(sandbox, token)).list_namespaced_secret(ns)
    assert err.value.status == 403


def test_scale_status_and_eviction_subresources(api_client, ns):
    apps = client.AppsV1Api(api_client)
    apps.create_namespaced_deployment(ns, {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "web", "image": "nginx:1.25"}]}}}})
    scale = apps.read_namespaced_deployment_scale("web", ns)
    assert scale.spec.replicas == 1 and scale.status.selector == "app=web"
    apps.patch_namespaced_deployment_scale("web", ns, {"spec": {"replicas": 3}})
    assert apps.read_namespaced_deployment("web", ns).spec.replicas == 3
    apps.patch_namespaced_deployment_status("web", ns, {"status": {"replicas": 3, "readyReplicas": 2}})
    dep = apps.read_namespaced_deployment("web", ns)
    assert dep.status.ready_replicas == 2 and dep.metadata.generation == 2  # status writes leave generation alone
    apps.patch_namespaced_deployment("web", ns, {"status": {"readyReplicas": 0}})  # main resource ignores status
    assert apps.read_namespaced_deployment("web", ns).status.ready_replicas == 2

    core = client.CoreV1Api(api_client)
    core.create_namespaced_pod(ns, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                                    "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]}})
    pod = core.read_namespaced_pod("p", ns)
    assert pod.spec.restart_policy == "Always" and pod.status.qos_class == "BestEffort"
    core.create_namespaced_pod_eviction("p", ns, client.V1Eviction(metadata=client.V1ObjectMeta(name="p", namespace=ns)))
    with pytest.raises(ApiException):
        core.read_namespaced_pod("p", ns)


def test_persistence_across_restart(tmp_path):
    state = tmp_path / "state"
    with SandboxServer(state_dir=state) as first:
        api = client.ApiClient(_config(first))
        core = client.CoreV1Api(api)
        core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name="kept")))
        made = core.create_namespaced_config_map("kept", _cm("survivor", {"a": "b"}))
        rv = made.metadata.resource_version
        api.close()
    with SandboxServer(state_dir=state) as second:
        api = client.ApiClient(_config(second))
        core = client.CoreV1Api(api)
        again = core.read_namespaced_config_map("survivor", "kept")
        assert again.metadata.resource_version == rv and again.metadata.uid == made.metadata.uid
        newer = core.create_namespaced_config_map("kept", _cm("after"))
        assert int(newer.metadata.resource_version) > int(rv)
        api.close()


def _config(server: SandboxServer) -> client.Configuration:
    cfg = client.Configuration()
    cfg.host = server.url
    cfg.ssl_ca_cert = str(server.ca_file)
    cfg.api_key = {"authorization": f"Bearer {server.token}"}
    return cfg


def test_concurrent_writers_get_distinct_versions(api_client, ns):
    core = client.CoreV1Api(api_client)
    versions: list[int] = []
    errors: list[Exception] = []

    def writer(w: int) -> None:
        try:
            for i in range(15):
                versions.append(int(core.create_namespaced_config_map(ns, _cm(f"w{w}-{i}")).metadata.resource_version))
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(versions) == 60 and len(set(versions)) == 60
    assert len(core.list_namespaced_config_map(ns).items) == 61
