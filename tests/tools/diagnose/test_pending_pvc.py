"""pending_pvc: claims that stay Pending (missing class, no default), and the normal WaitForFirstConsumer case."""

from __future__ import annotations

from tests.tools.diagnose import builders as b
from tools.diagnose.base import REGISTRY, load_checks

load_checks()
CHECK = REGISTRY["pending_pvc"]

STANDARD = {"metadata": {"name": "standard", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
            "volumeBindingMode": "WaitForFirstConsumer"}


def pvc(name: str, sc: str | None):
    spec = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
    if sc:
        spec["storageClassName"] = sc
    return {"metadata": {"name": name, "namespace": "shop"}, "spec": spec, "status": {"phase": "Pending"}}


def user_of(claim: str, node: str | None = "node-1"):
    return b.pod("db-0", spec={"containers": [b.container("db")],
                               "volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": claim}}]}, node=node)


def test_missing_storage_class():
    ev = b.event("PersistentVolumeClaim", "data", "ProvisioningFailed", 'storageclass.storage.k8s.io "fast" not found')
    snap = b.snapshot(pvcs=[pvc("data", "fast")], storageclasses=[STANDARD], events=[ev], pods=[user_of("data")])
    [f] = CHECK.run(snap)
    assert (f.reason, f.name, f.severity) == ("PVCPending", "data", "critical")
    assert any('"fast" not found' in e for e in f.evidence)
    assert "fast does not exist" in f.root_cause and "standard" in f.suggested_fix and f.fix is None


def test_waiting_for_first_consumer_is_normal():
    snap = b.snapshot(pvcs=[pvc("data", "standard")], storageclasses=[STANDARD])
    assert CHECK.run(snap) == []


def test_no_class_and_no_default():
    [f] = CHECK.run(b.snapshot(pvcs=[pvc("data", None)], storageclasses=[]))
    assert "no default" in f.root_cause
