"""recreate-pvc: a claim whose StorageClass does not exist is deleted and created again with an existing class (the
one named, or the default), with the bare pods that mount it deleted before and created again after, as one ordered
plan; never on a Bound claim or under a controller's pods; extra clauses leave it not confident."""

from __future__ import annotations

from typing import Any

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

NS = "fp-pvc"
AGENT, INTENT = "resources", "recreate-pvc"


def _claim(name: str, cls: str = "gold", size: str = "5Gi") -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name, "namespace": NS},
            "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": cls,
                     "resources": {"requests": {"storage": size}}}}


def _pod(name: str, claim: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": NS, "labels": {"app": name}},
            "spec": {"containers": [{"name": "c", "image": "nginx:1.27",
                                     "volumeMounts": [{"name": "data", "mountPath": "/data"}]}],
                     "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": claim}}]}}


@pytest.fixture(scope="module", autouse=True)
def objects(kube):
    create(kube, namespace(NS), _claim("reports-cache"), _claim("uploads"), _pod("uploader", "uploads"),
           _claim("fine", cls="standard"), _claim("scratch"))


def test_a_claim_without_pods_is_deleted_then_created_with_the_named_class_and_size(kube):
    r = plan(kube, "the reports-cache PVC in fp-pvc is stuck because the 'gold' storage class doesn't exist here. "
                   "please recreate it with the standard class and make it 10Gi instead of 5Gi while you're at it",
             AGENT, INTENT)
    assert [m.describe() for m in r.mutations] == ["delete PersistentVolumeClaim fp-pvc/reports-cache",
                                                   "create PersistentVolumeClaim fp-pvc/reports-cache"]
    spec = r.mutations[1].body["spec"]
    assert spec["storageClassName"] == "standard" and spec["resources"]["requests"]["storage"] == "10Gi"
    assert {g["path"]: g["value"] for g in goals(r)} == {"spec.storageClassName": "standard",
                                                         "spec.resources.requests.storage": "10Gi"}


def test_the_default_class_when_none_is_named_and_the_pod_around_it(kube):
    r = plan(kube, "recreate the uploads pvc in fp-pvc with the default storage class, its class does not exist",
             AGENT, INTENT)
    assert [m.describe() for m in r.mutations] == [
        "delete Pod fp-pvc/uploader", "delete PersistentVolumeClaim fp-pvc/uploads",
        "create PersistentVolumeClaim fp-pvc/uploads", "create Pod fp-pvc/uploader"]
    assert r.mutations[2].body["spec"]["storageClassName"] == "standard"
    assert r.mutations[3].body["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"] == "uploads"
    assert {"kind": "PersistentVolumeClaim", "namespace": NS, "name": "uploads", "path": "status.phase", "op": "eq",
            "value": "Bound"} in goals(r)  # a pod consumes it: it must bind


def test_a_claim_whose_class_exists_is_left_alone(kube):
    r = plan(kube, "recreate the fine pvc in fp-pvc with the standard class", AGENT, INTENT)
    assert not r.mutations and "exists" in r.answer


def test_a_wrong_old_size_is_not_acted_on(kube):
    r = plan(kube, "recreate the reports-cache pvc in fp-pvc with the standard class, 10Gi instead of 8Gi",
             AGENT, INTENT)
    assert not r.mutations and "not 8Gi" in r.answer


@pytest.mark.parametrize("text", [
    "recreate the reports-cache pvc in fp-pvc",  # with which class?
    "recreate the reports-cache pvc in fp-pvc with the platinum class",  # no such class either
    "recreate the reports-cache pvc in fp-pvc with the standard class and scale web to 3",
    "recreate the reports-cache pvc in fp-pvc with the standard class and keep a backup of the data",
    "recreate the reports-cache pvc in fp-pvc with the standard class, 10Gi or 20Gi",
])
def test_extra_or_missing_clauses_are_not_understood(kube, text):
    assert not_confident(kube, text, AGENT, INTENT)


def test_applied_through_the_supervisor_claim_and_pod_are_recreated_and_bound(kube, runtime):
    create(kube, _claim("media"), _pod("media-server", "media"))
    text = "please recreate the media PVC in fp-pvc with the standard storage class, gold does not exist"
    r = plan(kube, text, AGENT, INTENT)
    assert len(r.mutations) == 4
    out = approve(runtime, text, AGENT)
    held(out, 4)
    assert goal_holds(kube, goals(r)) == []
    assert kube.get("PersistentVolumeClaim", NS, "media")["status"]["phase"] == "Bound"
    again = plan(kube, "please recreate the media PVC in fp-pvc with the standard storage class", AGENT, INTENT)
    assert not again.mutations and "Bound" in again.answer  # it may hold data now: never deleted
