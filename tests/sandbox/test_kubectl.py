"""The sandbox through the real kubectl binary: every command a person types against a cluster."""

from __future__ import annotations

import json
import time

import yaml

MANIFEST = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
data:
  greeting: hello
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.25
        ports:
        - containerPort: 80
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
  - port: 80
    targetPort: 80
"""


def test_create_namespace(kubectl):
    out = kubectl("create", "namespace", "kubectl-made")
    assert out.strip() == "namespace/kubectl-made created"
    got = json.loads(kubectl("get", "namespace", "kubectl-made", "-o", "json"))
    assert got["status"]["phase"] == "Active"
    assert got["metadata"]["labels"]["kubernetes.io/metadata.name"] == "kubectl-made"
    again = kubectl.run("create", "namespace", "kubectl-made", check=False)
    assert again.returncode == 1
    assert 'namespaces "kubectl-made" already exists' in again.stderr


def test_apply_multi_document_and_output_formats(kubectl, ns):
    out = kubectl("apply", "-n", ns, "-f", "-", stdin=MANIFEST)
    assert out.splitlines() == ["configmap/web-config created", "deployment.apps/web created", "service/web created"]

    as_json = json.loads(kubectl("get", "deploy", "web", "-n", ns, "-o", "json"))
    assert as_json["spec"]["replicas"] == 2
    assert as_json["spec"]["strategy"]["rollingUpdate"]["maxSurge"] == "25%"  # server defaulting
    as_yaml = yaml.safe_load(kubectl("get", "svc", "web", "-n", ns, "-o", "yaml"))
    assert as_yaml["spec"]["clusterIP"].startswith("10.96.")
    assert as_yaml["spec"]["ports"][0]["protocol"] == "TCP"

    wide = kubectl("get", "deploy", "-n", ns, "-o", "wide").splitlines()
    assert wide[0].split() == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"]
    assert wide[1].split()[0] == "web" and "nginx:1.25" in wide[1] and "app=web" in wide[1]

    image = kubectl("get", "deploy", "web", "-n", ns, "-o", "jsonpath={.spec.template.spec.containers[0].image}")
    assert image == "nginx:1.25"
    cols = kubectl("get", "cm", "-n", ns, "-o", "custom-columns=NAME:.metadata.name,HELLO:.data.greeting").splitlines()
    assert cols[0].split() == ["NAME", "HELLO"]
    assert ["web-config", "hello"] in [line.split() for line in cols[1:]]


def test_label_annotate_and_three_patch_kinds(kubectl, ns):
    kubectl("apply", "-n", ns, "-f", "-", stdin=MANIFEST)
    assert kubectl("label", "deploy", "web", "-n", ns, "tier=frontend").strip() == "deployment.apps/web labeled"
    assert kubectl("annotate", "deploy", "web", "-n", ns, "owner=team-a").strip() == "deployment.apps/web annotated"
    kubectl("patch", "deploy", "web", "-n", ns, "-p",
            '{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:1.26"}]}}}}')
    kubectl("patch", "deploy", "web", "-n", ns, "--type=merge", "-p", '{"metadata":{"labels":{"patched":"merge"}}}')
    kubectl("patch", "deploy", "web", "-n", ns, "--type=json", "-p", '[{"op":"replace","path":"/spec/replicas","value":4}]')
    got = json.loads(kubectl("get", "deploy", "web", "-n", ns, "-o", "json"))
    assert got["metadata"]["labels"] == {"app": "web", "tier": "frontend", "patched": "merge"}
    assert got["metadata"]["annotations"]["owner"] == "team-a"
    container = got["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "nginx:1.26" and container["ports"] == [{"containerPort": 80, "protocol": "TCP"}]
    assert got["spec"]["replicas"] == 4
    assert got["metadata"]["generation"] == 3  # image and replicas changed the spec; labels did not

    bad = kubectl.run("patch", "deploy", "web", "-n", ns, "--type=json", "-p", '[{"op":"test","path":"/spec/replicas","value":9}]', check=False)
    assert bad.returncode != 0
    label_removed = kubectl("label", "deploy", "web", "-n", ns, "tier-")
    assert "unlabeled" in label_removed


def test_apply_twice_then_change_then_server_side(kubectl, ns):
    first = kubectl("apply", "-n", ns, "-f", "-", stdin=MANIFEST)
    assert "deployment.apps/web created" in first
    second = kubectl("apply", "-n", ns, "-f", "-", stdin=MANIFEST)
    assert second.splitlines() == ["configmap/web-config unchanged", "deployment.apps/web unchanged", "service/web unchanged"]
    third = kubectl("apply", "-n", ns, "-f", "-", stdin=MANIFEST.replace("nginx:1.25", "nginx:1.27"))
    assert "deployment.apps/web configured" in third and "service/web unchanged" in third
    assert kubectl("get", "deploy", "web", "-n", ns, "-o", "jsonpath={.spec.template.spec.containers[0].image}") == "nginx:1.27"

    cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  a: '1'\n"
    assert "serverside-applied" in kubectl("apply", "--server-side", "-n", ns, "-f", "-", stdin=cm)
    managed = json.loads(kubectl("get", "cm", "ssa", "-n", ns, "-o", "json", "--show-managed-fields"))["metadata"]["managedFields"]
    assert [(m["manager"], m["operation"]) for m in managed] == [("kubectl", "Apply")]
    assert managed[0]["fieldsV1"] == {"f:data": {"f:a": {}}}
    conflict = kubectl.run("apply", "--server-side", "--field-manager=other", "-n", ns, "-f", "-",
                           stdin=cm.replace("'1'", "'2'"), check=False)
    assert conflict.returncode != 0
    assert 'conflict with "kubectl"' in conflict.stderr and ".data.a" in conflict.stderr
    kubectl("apply", "--server-side", "--force-conflicts", "--field-manager=other", "-n", ns, "-f", "-",
            stdin=cm.replace("'1'", "'2'"))
    assert kubectl("get", "cm", "ssa", "-n", ns, "-o", "jsonpath={.data.a}") == "2"


def test_scale(kubectl, ns):
    kubectl("apply", "-n", ns, "-f", "-", stdin=MANIFEST)
    assert kubectl("scale", "deploy", "web", "-n", ns, "--replicas=5").strip() == "deployment.apps/web scaled"
    assert kubectl("get", "deploy", "web", "-n", ns, "-o", "jsonpath={.spec.replicas}") == "5"
    bad = kubectl.run("scale", "deploy", "web", "-n", ns, "--replicas=-1", check=False)
    assert bad.returncode != 0


def _owned_configmap(kubectl, ns: str, owner_uid: str, name: str) -> None:
    kubectl("apply", "-n", ns, "-f", "-", stdin=yaml.safe_dump({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web",
                                                        "uid": owner_uid, "controller": True,
                                                        "blockOwnerDeletion": True}]},
        "data": {"key": "value"}}))


def _gone(kubectl, ns: str, kind: str, name: str, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if kubectl.run("get", kind, name, "-n", ns, check=False).returncode != 0:
            return True
        time.sleep(0.1)
    return False


def test_delete_cascades_background_foreground_and_orphan(kubectl, ns):
    for policy, survives in (("background", False), ("foreground", False), ("orphan", True)):
        kubectl("apply", "-n", ns, "-f", "-", stdin=MANIFEST)
        uid = kubectl("get", "deploy", "web", "-n", ns, "-o", "jsonpath={.metadata.uid}")
        _owned_configmap(kubectl, ns, uid, f"dep-{policy}")
        out = kubectl("delete", "deploy", "web", "-n", ns, f"--cascade={policy}")
        assert 'deployment.apps "web" deleted' in out
        assert _gone(kubectl, ns, "deploy", "web")
        if survives:
            time.sleep(0.3)
            left = json.loads(kubectl("get", "cm", f"dep-{policy}", "-n", ns, "-o", "json"))
            assert "ownerReferences" not in left["metadata"]
        else:
            assert _gone(kubectl, ns, "cm", f"dep-{policy}")


def test_auth_can_i_as_several_identities(kubectl, ns):
    assert kubectl("auth", "can-i", "delete", "secrets", "-n", ns).strip() == "yes"
    no = kubectl.run("auth", "can-i", "list", "pods", "-n", ns, "--as", "alice", check=False)
    assert no.stdout.strip() == "no" and no.returncode == 1
    kubectl("create", "rolebinding", "alice-view", "--clusterrole=view", "--user=alice", "-n", ns)
    assert kubectl("auth", "can-i", "list", "pods", "-n", ns, "--as", "alice").strip() == "yes"
    assert kubectl.run("auth", "can-i", "delete", "pods", "-n", ns, "--as", "alice", check=False).stdout.strip() == "no"
    kubectl("create", "rolebinding", "devs-edit", "--clusterrole=edit", "--group=dev", "-n", ns)
    assert kubectl("auth", "can-i", "delete", "pods", "-n", ns, "--as", "bob", "--as-group", "dev").strip() == "yes"
    assert kubectl.run("auth", "can-i", "delete", "pods", "-n", ns, "--as", "bob", check=False).stdout.strip() == "no"
    kubectl("create", "serviceaccount", "ci-bot", "-n", ns)
    sa = f"system:serviceaccount:{ns}:ci-bot"
    assert kubectl.run("auth", "can-i", "get", "secrets", "-n", ns, "--as", sa, check=False).stdout.strip() == "no"

    listing = kubectl("auth", "can-i", "--list", "-n", ns, "--as", "alice")
    header = listing.splitlines()[0].split()
    assert header[:2] == ["Resources", "Non-Resource"]
    assert any(line.split()[0] == "pods" and "[get list watch]" in line for line in listing.splitlines())
    admin = kubectl("auth", "can-i", "--list", "-n", ns)
    assert any(line.split()[0] == "*.*" for line in admin.splitlines()[1:])


def test_forbidden_message_is_the_real_one(kubectl, ns):
    out = kubectl.run("get", "pods", "-n", ns, "--as", "bob", check=False)
    assert out.returncode == 1
    assert (f'pods is forbidden: User "bob" cannot list resource "pods" in API group "" in the namespace "{ns}"'
            in out.stderr)


def test_dry_run_server_changes_nothing(kubectl, ns):
    out = kubectl("apply", "--dry-run=server", "-n", ns, "-f", "-", stdin=MANIFEST)
    assert "deployment.apps/web created (server dry run)" in out
    assert kubectl.run("get", "deploy", "web", "-n", ns, check=False).returncode == 1
    kubectl("apply", "-n", ns, "-f", "-", stdin=MANIFEST)
    kubectl("scale", "deploy", "web", "-n", ns, "--replicas=7", "--dry-run=server")
    assert kubectl("get", "deploy", "web", "-n", ns, "-o", "jsonpath={.spec.replicas}") == "2"
    kubectl("delete", "deploy", "web", "-n", ns, "--dry-run=server")
    assert kubectl.run("get", "deploy", "web", "-n", ns, check=False).returncode == 0


def test_wait_for_jsonpath_and_delete(kubectl, ns):
    kubectl("apply", "-n", ns, "-f", "-", stdin=MANIFEST)
    waiter = kubectl.popen("wait", "--for=jsonpath={.spec.paused}=true", "deploy/web", "-n", ns, "--timeout=30s")
    time.sleep(0.5)
    kubectl("patch", "deploy", "web", "-n", ns, "-p", '{"spec":{"paused":true}}')
    out, err = waiter.communicate(timeout=40)
    assert waiter.returncode == 0, err
    assert "condition met" in out
    waiter = kubectl.popen("wait", "--for=delete", "cm/web-config", "-n", ns, "--timeout=30s")
    time.sleep(0.5)
    kubectl("delete", "cm", "web-config", "-n", ns)
    out, err = waiter.communicate(timeout=40)
    assert waiter.returncode == 0, err


def test_explain_and_api_resources(kubectl):
    explained = kubectl("explain", "deployment.spec.strategy")
    assert "KIND:       Deployment" in explained and "FIELD: strategy <DeploymentStrategy>" in explained
    assert "rollingUpdate\t<RollingUpdateDeployment>" in explained
    rows: dict[str, list[str]] = {}
    for line in kubectl("api-resources").splitlines()[1:]:
        rows.setdefault(line.split()[0], line.split())  # first wins: core "nodes" before metrics.k8s.io "nodes"
    for name in ("pods", "deployments", "horizontalpodautoscalers", "customresourcedefinitions", "leases",
                 "networkpolicies", "ingresses", "clusterrolebindings", "endpointslices", "storageclasses"):
        assert name in rows, name
    assert rows["deployments"][1:] == ["deploy", "apps/v1", "true", "Deployment"]
    assert rows["nodes"][1:] == ["no", "v1", "false", "Node"]


def test_get_events(kubectl, ns):
    kubectl("apply", "-n", ns, "-f", "-", stdin=yaml.safe_dump({
        "apiVersion": "v1", "kind": "Event", "metadata": {"name": "web.1"},
        "involvedObject": {"kind": "Pod", "name": "web-1", "namespace": ns},
        "reason": "BackOff", "message": "Back-off restarting failed container web", "type": "Warning",
        "count": 3, "source": {"component": "kubelet"}}))
    rows = kubectl("get", "events", "-n", ns).splitlines()
    assert rows[0].split() == ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    assert "Warning" in rows[1] and "BackOff" in rows[1] and "pod/web-1" in rows[1]
    field = kubectl("get", "events", "-n", ns, "--field-selector", "reason=BackOff", "-o", "name")
    assert field.strip() == "event/web.1"


def test_get_watch_sees_a_change(kubectl, ns):
    kubectl("apply", "-n", ns, "-f", "-", stdin=MANIFEST)
    watcher = kubectl.popen("get", "cm", "-n", ns, "-w", "--output-watch-events")
    time.sleep(1.0)
    kubectl("create", "configmap", "watched", "-n", ns, "--from-literal=a=b")
    kubectl("label", "cm", "watched", "-n", ns, "seen=yes")
    kubectl("delete", "cm", "watched", "-n", ns)
    time.sleep(1.0)
    watcher.terminate()
    out, _ = watcher.communicate(timeout=10)
    events = [line.split()[:2] for line in out.splitlines() if "watched" in line]
    assert ["ADDED", "watched"] in events and ["MODIFIED", "watched"] in events and ["DELETED", "watched"] in events


CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wg]}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer}
              color: {type: string}
    additionalPrinterColumns:
    - {name: Size, type: integer, jsonPath: .spec.size}
    - {name: Age, type: date, jsonPath: .metadata.creationTimestamp}
"""


def test_crd_and_custom_resource(kubectl, ns):
    kubectl("apply", "-f", "-", stdin=CRD)
    kubectl("wait", "--for=condition=Established", "crd/widgets.example.com", "--timeout=20s")
    widget = "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w1\nspec:\n  size: 3\n  color: red\n  extra: x\n"
    strict = kubectl.run("apply", "-n", ns, "-f", "-", stdin=widget, check=False)
    assert strict.returncode != 0 and 'strict decoding error: unknown field "spec.extra"' in strict.stderr
    warned = kubectl.run("apply", "--validate=warn", "-n", ns, "-f", "-", stdin=widget)
    assert "widget.example.com/w1 created" in warned.stdout
    assert 'unknown field "spec.extra"' in warned.stderr
    rows = kubectl("get", "wg", "-n", ns).splitlines()
    assert rows[0].split() == ["NAME", "SIZE", "AGE"] and rows[1].split()[:2] == ["w1", "3"]
    got = json.loads(kubectl("get", "widget", "w1", "-n", ns, "-o", "json"))
    assert got["spec"] == {"size": 3, "color": "red"}  # pruned by the structural schema
    kubectl("patch", "widget", "w1", "-n", ns, "--type=merge", "-p", '{"spec":{"size":5}}')
    assert kubectl("get", "widget", "w1", "-n", ns, "-o", "jsonpath={.spec.size}") == "5"
    kubectl("delete", "crd", "widgets.example.com")
    assert _gone(kubectl, "", "crd", "widgets.example.com")
    assert kubectl.run("get", "widgets", "-n", ns, check=False).returncode != 0
