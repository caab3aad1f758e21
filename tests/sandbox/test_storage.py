"""Storage as a cluster shows it, through kubectl: StorageClasses' binding modes, a claim naming a missing class
(the real ProvisioningFailed / FailedScheduling events) that heals when recreated, and a bound claim's
immutable spec."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.server import SandboxServer
from tests.sandbox.conftest import Kubectl
from tests.waiting import until

NS = "store"


@pytest.fixture(scope="module")
def k(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kubectl]:
    server = SandboxServer(scenarios=["default"], speed=20.0).start()
    kubectl = Kubectl(Path(server.write_kubeconfig(tmp_path_factory.mktemp("store") / "config")))
    kubectl("create", "namespace", NS)
    yield kubectl
    server.stop()


def apply(k: Kubectl, *docs: dict) -> None:
    k("apply", "-n", NS, "-f", "-", stdin="\n---\n".join(json.dumps(d) for d in docs))


def claim(name: str, sc: str | None = None) -> dict:
    spec: dict = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
    if sc:
        spec["storageClassName"] = sc
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name}, "spec": spec}


def user(name: str, claim_name: str) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [{"name": "app", "image": "nginx:1.27",
                                     "volumeMounts": [{"name": "d", "mountPath": "/data"}]}],
                     "volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": claim_name}}]}}


def phase(k: Kubectl, kind: str, name: str) -> str:
    return json.loads(k("get", kind, name, "-n", NS, "-o", "json")).get("status", {}).get("phase", "")


def events(k: Kubectl, name: str, reason: str) -> list[str]:
    items = json.loads(k("get", "events", "-n", NS, "-o", "json"))["items"]
    return [e["message"] for e in items if e["involvedObject"]["name"] == name and e["reason"] == reason]


def test_default_class_waits_for_first_consumer_and_immediate_binds_at_once(k):
    classes = json.loads(k("get", "storageclass", "-o", "json"))["items"]
    default = [c for c in classes if (c["metadata"].get("annotations") or {}).get(
        "storageclass.kubernetes.io/is-default-class") == "true"]
    assert [c["volumeBindingMode"] for c in default] == ["WaitForFirstConsumer"]
    k("apply", "-f", "-", stdin=json.dumps({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
                                            "metadata": {"name": "fast-immediate"},
                                            "provisioner": "rancher.io/local-path",
                                            "volumeBindingMode": "Immediate"}))
    apply(k, claim("waits"), claim("now", "fast-immediate"))
    until(lambda: phase(k, "pvc", "now") == "Bound", 20, "the Immediate claim to bind")
    assert phase(k, "pvc", "waits") == "Pending"
    until(lambda: events(k, "waits", "WaitForFirstConsumer"), 20, "the WaitForFirstConsumer event")


def test_missing_class_stays_pending_with_real_events_and_heals_when_recreated(k):
    apply(k, claim("data", "does-not-exist"), user("db", "data"))
    msgs = until(lambda: events(k, "data", "ProvisioningFailed"), 20, "ProvisioningFailed")
    assert msgs[0] == 'storageclass.storage.k8s.io "does-not-exist" not found'
    sched = until(lambda: events(k, "db", "FailedScheduling"), 20, "FailedScheduling")
    assert sched[0].startswith("0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims.")
    assert phase(k, "pvc", "data") == "Pending" and phase(k, "pod", "db") == "Pending"
    k("delete", "pvc", "data", "-n", NS, "--wait=false")
    until(lambda: k.run("get", "pvc", "data", "-n", NS, check=False).returncode != 0, 20, "the claim to go")
    apply(k, claim("data", "standard"))
    until(lambda: phase(k, "pod", "db") == "Running", 30, "the pod to run once the claim exists")
    assert phase(k, "pvc", "data") == "Bound"


def test_bound_claims_spec_is_immutable_except_requests(k):
    until(lambda: phase(k, "pvc", "now") == "Bound", 20, "the claim to bind")
    out = k.run("patch", "pvc", "now", "-n", NS, "--type=merge", "-p",
                '{"spec": {"accessModes": ["ReadWriteMany"]}}', check=False)
    assert out.returncode != 0
    assert ('spec: Forbidden: spec is immutable after creation except resources.requests and '
            'volumeAttributesClassName for bound claims') in out.stderr
