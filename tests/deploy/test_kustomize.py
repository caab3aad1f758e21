"""deploy/ against the embedded sandbox with the real kubectl (its built-in kustomize).

What must hold for kubesage to run as a team's service in the cluster it manages: both overlays are accepted by
the API server (server-side dry run, strict field validation); the pods keep the restricted rules and read their
settings from a ConfigMap and their secrets from a Secret that kubesage's own settings loader accepts; and the
ClusterRole lets kubesage's ServiceAccount read what kubesage reads and impersonate the person who asked, and
nothing else, so every change lands with that person's rights (SubjectAccessReviews, then real calls through
kubesage's own client in in-cluster mode).
"""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubesage import cluster as cluster_mod
from kubesage import settings as settings_mod
from sandbox.server import SandboxServer
from tests.sandbox.conftest import Kubectl
from tests.waiting import until
from tools.k8s.client import Kube, KubeError, Principal
from tools.k8s.read_tools import READ_TOOLS
from tools.k8s.write_tools import WRITE_TOOLS

ROOT = Path(__file__).resolve().parents[2]
OVERLAYS = ("sandbox", "production")
NS = "kubesage"
SA = f"system:serviceaccount:{NS}:kubesage"
SA_GROUPS = ["system:serviceaccounts", f"system:serviceaccounts:{NS}", "system:authenticated"]
RBAC_KINDS = ("Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding")

# (verb, group, resource[/subresource], namespace) kubesage's own identity must be allowed: what it reads, the
# SubjectAccessReviews that answer "can dana …", and impersonating the person who asked.
ALLOWED = [
    ("list", "", "pods", "shop"), ("watch", "", "pods", ""), ("get", "", "pods/log", "shop"),
    ("list", "", "events", "shop"), ("list", "events.k8s.io", "events", ""), ("list", "", "nodes", ""),
    ("get", "", "configmaps", "shop"), ("list", "", "services", "shop"), ("list", "", "endpoints", "shop"),
    ("list", "", "persistentvolumeclaims", "shop"), ("list", "", "persistentvolumes", ""),
    ("list", "", "namespaces", ""), ("list", "", "serviceaccounts", "shop"),
    ("get", "apps", "deployments", "shop"), ("get", "apps", "deployments/scale", "shop"),
    ("list", "apps", "replicasets", ""), ("list", "apps", "statefulsets", "shop"), ("list", "apps", "daemonsets", ""),
    ("list", "apps", "controllerrevisions", "shop"), ("list", "batch", "jobs", "shop"),
    ("list", "batch", "cronjobs", "shop"), ("list", "autoscaling", "horizontalpodautoscalers", "shop"),
    ("list", "networking.k8s.io", "ingresses", "shop"), ("list", "networking.k8s.io", "networkpolicies", "shop"),
    ("list", "rbac.authorization.k8s.io", "roles", "shop"), ("list", "rbac.authorization.k8s.io", "rolebindings", ""),
    ("list", "rbac.authorization.k8s.io", "clusterroles", ""),
    ("list", "rbac.authorization.k8s.io", "clusterrolebindings", ""),
    ("list", "storage.k8s.io", "storageclasses", ""), ("list", "policy", "poddisruptionbudgets", "shop"),
    ("list", "discovery.k8s.io", "endpointslices", "shop"), ("list", "metrics.k8s.io", "pods", "shop"),
    ("list", "metrics.k8s.io", "nodes", ""), ("list", "apiextensions.k8s.io", "customresourcedefinitions", ""),
    ("create", "authorization.k8s.io", "subjectaccessreviews", ""),
    ("impersonate", "", "users", ""), ("impersonate", "", "groups", ""), ("impersonate", "", "serviceaccounts", "shop"),
]
# ... and denied: every write (they are the approving person's, by impersonation), Secret values in any form,
# exec/port-forward, tokens, and the RBAC verbs that would let it grant itself more.
DENIED = [
    ("get", "", "secrets", "shop"), ("list", "", "secrets", ""), ("watch", "", "secrets", "shop"),
    ("create", "", "secrets", "shop"), ("delete", "apps", "deployments", "shop"),
    ("patch", "apps", "deployments", "shop"), ("update", "apps", "deployments/scale", "shop"),
    ("create", "apps", "deployments", "shop"), ("create", "", "pods", "shop"), ("delete", "", "pods", "shop"),
    ("deletecollection", "", "pods", "shop"), ("create", "", "pods/exec", "shop"),
    ("create", "", "pods/portforward", "shop"), ("get", "", "pods/proxy", "shop"),
    ("patch", "", "configmaps", "shop"), ("create", "", "services", "shop"),
    ("create", "autoscaling", "horizontalpodautoscalers", "shop"), ("patch", "batch", "cronjobs", "shop"),
    ("create", "batch", "jobs", "shop"), ("delete", "", "persistentvolumeclaims", "shop"),
    ("create", "", "namespaces", ""), ("delete", "", "namespaces", ""), ("patch", "", "nodes", ""),
    ("create", "", "serviceaccounts/token", "shop"),
    ("create", "rbac.authorization.k8s.io", "roles", "shop"), ("create", "rbac.authorization.k8s.io", "rolebindings", "shop"),
    ("create", "rbac.authorization.k8s.io", "clusterrolebindings", ""),
    ("escalate", "rbac.authorization.k8s.io", "clusterroles", ""), ("bind", "rbac.authorization.k8s.io", "clusterroles", ""),
    ("escalate", "rbac.authorization.k8s.io", "roles", "shop"), ("bind", "rbac.authorization.k8s.io", "roles", "shop"),
    ("impersonate", "authentication.k8s.io", "userextras", ""),
]


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxServer]:
    server = SandboxServer(scenarios=["default"], behaviour=False).start()  # API semantics alone, no controllers
    server.kubeconfig_path = server.write_kubeconfig(tmp_path_factory.mktemp("deploy-kube") / "config")
    yield server
    gc.collect()  # a refused call's response, still referenced from its exception, holds a connection open
    server.stop()


@pytest.fixture(scope="module")
def kubectl(sandbox: SandboxServer) -> Kubectl:
    return Kubectl(sandbox.kubeconfig_path)


@pytest.fixture(scope="module")
def admin(sandbox: SandboxServer) -> Iterator[Kube]:
    kube = Kube.from_kubeconfig(str(sandbox.kubeconfig_path))
    yield kube
    kube.api.close()  # an open keep-alive connection holds the sandbox's shutdown for 10 s


@pytest.fixture(scope="module")
def rbac_applied(kubectl: Kubectl) -> None:
    """A real apply of the sandbox overlay's identity objects (namespace, ServiceAccount, ClusterRole, binding)."""
    docs = [d for d in render(kubectl, "sandbox") if d["kind"] in RBAC_KINDS]
    out = kubectl("apply", "-f", "-", stdin=yaml.safe_dump_all(docs))
    assert "clusterrole.rbac.authorization.k8s.io/kubesage" in out, out


def render(kubectl: Kubectl, overlay: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(kubectl("kustomize", str(ROOT / "deploy" / "overlays" / overlay))) if d]


def one(docs: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    found = [d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
    return found[0]


def allowed(admin: Kube, verb: str, group: str, resource: str, namespace: str) -> bool:
    """A SubjectAccessReview for kubesage's ServiceAccount, sent by the admin (the authorization API)."""
    res, _, sub = resource.partition("/")
    attrs = {"verb": verb, "group": group, "resource": res, "subresource": sub, "namespace": namespace}
    body = {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
            "spec": {"user": SA, "groups": SA_GROUPS, "resourceAttributes": attrs}}
    return bool(admin.request("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", body)["status"]["allowed"])


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_is_accepted_by_a_server_dry_run(kubectl: Kubectl, overlay: str) -> None:
    kubectl.run("create", "namespace", NS, check=False)  # a dry run creates nothing, so the namespace must exist
    docs = render(kubectl, overlay)
    proc = kubectl.run("apply", "-k", str(ROOT / "deploy" / "overlays" / overlay), "--dry-run=server", check=False)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    for d in docs:
        group = d["apiVersion"].rpartition("/")[0]
        ref = f"{d['kind'].lower()}{'.' + group if group else ''}/{d['metadata']['name']}"
        assert any(line.startswith(ref + " ") and line.endswith("(server dry run)") for line in lines), \
            f"{ref} not in:\n{proc.stdout}"
    # nothing was persisted
    gone = kubectl.run("get", "deployment", "kubesage", "-n", NS, check=False)
    assert gone.returncode == 1 and "NotFound" in gone.stderr


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_pods_are_restricted_and_probed_and_configured_from_a_configmap_and_a_secret(kubectl: Kubectl,
                                                                                    overlay: str) -> None:
    docs = render(kubectl, overlay)
    deploy = one(docs, "Deployment", "kubesage")
    assert deploy["spec"]["replicas"] == 3
    pod = deploy["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "kubesage" and not pod.get("hostNetwork") and not pod.get("hostPID")
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert all("hostPath" not in v for v in pod.get("volumes") or [])
    (c,) = pod["containers"]
    sc = c["securityContext"]
    assert (sc["readOnlyRootFilesystem"], sc["allowPrivilegeEscalation"], sc["capabilities"]) == \
        (True, False, {"drop": ["ALL"]})
    assert sc["seccompProfile"] == {"type": "RuntimeDefault"}
    assert c["args"] == ["serve"] and c["resources"]["requests"] and c["resources"]["limits"]["memory"]
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert c[probe]["httpGet"]["path"] == "/healthz" and c[probe]["httpGet"]["port"] in ports, probe

    svc = one(docs, "Service", "kubesage")
    assert svc["spec"]["selector"].items() <= deploy["spec"]["template"]["metadata"]["labels"].items()
    assert svc["spec"]["ports"][0]["targetPort"] in ports

    refs = {k: next(e[k]["name"] for e in c["envFrom"] if k in e) for k in ("configMapRef", "secretRef")}
    cm = one(docs, "ConfigMap", refs["configMapRef"])
    env = dict(cm["data"])
    assert int(env["KUBESAGE_SERVER_PORT"]) == ports["http"] and env["KUBESAGE_SERVER_HOST"] == "0.0.0.0"
    mounts = {m["mountPath"] for m in c["volumeMounts"]}
    assert env["KUBESAGE_HOME"] in mounts and "/tmp" in mounts  # the root filesystem is read-only
    assert not any(w in k for k in env for w in ("KEY", "TOKEN", "PASSWORD", "DATABASE_URL", "SECRET"))
    if overlay == "sandbox":  # the Secret is generated; kubesage's own loader must accept what the pods get
        import base64
        secret = one(docs, "Secret", refs["secretRef"])
        values = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
        assert {"KUBESAGE_DATABASE_URL", "KUBESAGE_LLM_CLOUD_API_KEY", "KUBESAGE_API_TOKENS"} <= set(values)
        cfg = settings_mod.load({**env, **values})
        assert (cfg.server_host, cfg.server_port, str(cfg.home)) == ("0.0.0.0", 8080, env["KUBESAGE_HOME"])
        assert cfg.api_tokens, "the sandbox overlay's token must map to a principal"
        pg = one(docs, "StatefulSet", "postgres")
        assert "postgres.kubesage.svc" in values["KUBESAGE_DATABASE_URL"] and pg["spec"]["serviceName"] == "postgres"
    else:  # made by `kubectl create secret generic kubesage-secrets` (README: Deploy)
        assert refs["secretRef"] == "kubesage-secrets" and not [d for d in docs if d["kind"] == "Secret"]


def test_cluster_role_allows_the_reads_and_impersonation(admin: Kube, rbac_applied: None) -> None:
    refused = [row for row in ALLOWED if not allowed(admin, *row)]
    assert not refused, f"kubesage's ServiceAccount may not: {refused}"


def test_cluster_role_denies_writes_secrets_and_escalation(admin: Kube, rbac_applied: None) -> None:
    granted = [row for row in DENIED if allowed(admin, *row)]
    assert not granted, f"kubesage's ServiceAccount may: {granted}"


def test_kubectl_auth_can_i_agrees(kubectl: Kubectl, rbac_applied: None) -> None:
    """The same answers through `kubectl auth can-i --as` (a SelfSubjectAccessReview under impersonation)."""
    for args, want in ((("list", "pods", "-n", "shop"), "yes"), (("get", "pods", "--subresource=log"), "yes"),
                       (("impersonate", "users"), "yes"), (("get", "secrets", "-n", "shop"), "no"),
                       (("delete", "deployments.apps", "-n", "shop"), "no"),
                       (("escalate", "clusterroles.rbac.authorization.k8s.io"), "no")):
        proc = kubectl.run("auth", "can-i", *args, f"--as={SA}", check=False)
        assert proc.stdout.strip() == want and proc.returncode == (0 if want == "yes" else 1), (args, proc.stdout)


def test_every_read_tool_is_covered_and_no_write_tool_is(admin: Kube, rbac_applied: None) -> None:
    """The ClusterRole follows the code: each concrete RBAC triple a read tool declares is allowed, each a write
    tool declares is not (writes are the approving person's)."""
    def concrete(tools: Any) -> set[tuple[str, str, str]]:
        return {(v, g, r) for t in tools for v, r, g in t.rbac if "*" not in (r, g)}

    reads, writes = concrete(READ_TOOLS), concrete(WRITE_TOOLS)
    assert reads and writes
    assert not [r for r in sorted(reads) if not allowed(admin, *r, "shop")]
    assert not [w for w in sorted(writes) if allowed(admin, *w, "shop")]


def test_in_cluster_kubesage_reads_as_itself_and_writes_only_as_the_person(
        sandbox: SandboxServer, kubectl: Kubectl, rbac_applied: None, tmp_path: Path) -> None:
    """kubesage in a pod: the in-cluster source (a service-account directory and KUBERNETES_SERVICE_HOST) with the
    ServiceAccount's real token. Its own identity reads and cannot write; impersonating a person bound to `edit`
    it can, one with no binding it cannot, and Secrets stay unreadable to it."""
    kubectl("create", "namespace", "team")
    kubectl("create", "deployment", "web", "--image=nginx:1.25", "-n", "team")
    kubectl("create", "rolebinding", "dana-edit", "--clusterrole=edit", "--user=dana", "-n", "team")
    kubectl("create", "secret", "generic", "db", "--from-literal=password=hunter2", "-n", "team")
    sa = tmp_path / "sa"
    sa.mkdir()
    (sa / "token").write_text(sandbox.cluster.service_account_token(NS, "kubesage"))
    (sa / "ca.crt").write_bytes(sandbox.ca_file.read_bytes())
    (sa / "namespace").write_text(NS)
    cfg = settings_mod.load({"KUBESAGE_HOME": str(tmp_path / "home"), "KUBESAGE_SERVICEACCOUNT_DIR": str(sa)})
    choice = cluster_mod.find(cfg, env={"KUBERNETES_SERVICE_HOST": sandbox.host,
                                        "KUBERNETES_SERVICE_PORT": str(sandbox.port), "HOME": str(tmp_path)})
    assert choice is not None and (choice.source, choice.namespace) == ("in-cluster", NS)

    made: list[Kube] = []

    def kube(user: str | None = None) -> Kube:
        made.append(Kube.from_kubeconfig(choice.kubeconfig, choice.context, Principal(user)))
        return made[-1]

    scale = "/apis/apps/v1/namespaces/team/deployments/web/scale"
    patch = {"spec": {"replicas": 2}}
    assert kube().get("Deployment", "team", "web")["spec"]["replicas"] == 1  # reads as itself
    for who in (None, "erin"):  # its own identity, and a person with no rights there
        with pytest.raises(KubeError) as e:
            kube(who).request("PATCH", scale, patch, content_type="application/merge-patch+json")
        assert e.value.status == 403 and (who or SA) in str(e.value), e.value
    kube("dana").request("PATCH", scale, patch, content_type="application/merge-patch+json")
    assert kube().get("Deployment", "team", "web")["spec"]["replicas"] == 2  # the person's change, applied
    with pytest.raises(KubeError) as e:
        kube().list("Secret", "team")
    assert e.value.status == 403
    # the admin's token is not what did it: the ServiceAccount's own kubeconfig names only its token file
    doc = yaml.safe_load(Path(choice.kubeconfig).read_text())
    assert doc["users"][0]["user"] == {"tokenFile": str(sa / "token")}
    for k in made:
        k.api.close()



def test_sandbox_overlay_runs_three_ready_replicas_and_postgres(tmp_path: Path) -> None:
    """A real apply on a sandbox whose kubelet runs pods (clock x10): the image is one its registry holds, the three
    replicas pass their /healthz probes behind the Service, and the overlay's Postgres is ready on its volume."""
    server = SandboxServer(scenarios=["default"], speed=10.0).start()
    try:
        kubectl = Kubectl(server.write_kubeconfig(tmp_path / "config"))
        kubectl("apply", "-k", str(ROOT / "deploy" / "overlays" / "sandbox"))

        def status(kind: str, name: str) -> dict[str, Any]:
            return json.loads(kubectl("get", kind, name, "-n", NS, "-o", "json")).get("status") or {}

        until(lambda: status("deployment", "kubesage").get("availableReplicas") == 3, 60, "3 available replicas")
        until(lambda: status("statefulset", "postgres").get("readyReplicas") == 1, 60, "postgres ready")
        pods = json.loads(kubectl("get", "pods", "-n", NS, "-l", "app.kubernetes.io/name=kubesage", "-o", "json"))
        assert len(pods["items"]) == 3
        for pod in pods["items"]:
            assert pod["spec"]["serviceAccountName"] == "kubesage"
            assert [c["ready"] for c in pod["status"]["containerStatuses"]] == [True]
        ready = json.loads(kubectl("get", "endpoints", "kubesage", "-n", NS, "-o", "json"))
        assert sum(len(s.get("addresses") or []) for s in ready.get("subsets") or []) == 3
    finally:
        server.stop()
