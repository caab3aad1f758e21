"""What a plan that deletes and recreates needs from tools/k8s, on a real sandbox API server: a delete's body is sent
as DeleteOptions (propagationPolicy honoured), a create of an object still terminating waits for it to be gone, and a
goal on a status field is polled until it holds (or its patience is spent), not read once."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sandbox.server import SandboxServer
from tools.k8s.client import Kube, KubeError, Mutation
from tools.k8s.goals import patience, settled_verdicts
from tools.k8s.mutations import delete_options

NS = "recreate"


@pytest.fixture(scope="module")
def kube(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kube]:
    server = SandboxServer(scenarios=["default"], speed=50.0).start()
    path: Path = server.write_kubeconfig(tmp_path_factory.mktemp("rc") / "kubeconfig")
    k = Kube.from_kubeconfig(str(path))
    k.request("POST", k.path("Namespace", None), {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
    yield k
    k.api.close()  # no keep-alive connection left open: the server stops at once
    server.stop()


def _deployment(name: str) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": NS},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}}, "template": {
                "metadata": {"labels": {"app": name}}, "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]}}}}


def _replicasets(kube: Kube, app: str) -> list[dict[str, Any]]:
    return kube.list("ReplicaSet", NS, label_selector=f"app={app}")


def _eventually(pred: Any, timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while not pred():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def test_delete_options_keep_only_what_a_delete_takes():
    assert delete_options({"propagationPolicy": "Background", "other": 1}) == {
        "apiVersion": "v1", "kind": "DeleteOptions", "propagationPolicy": "Background"}
    assert delete_options(None) is None and delete_options(3) is None


def test_a_delete_sends_its_propagation_policy(kube):
    """Orphan keeps the ReplicaSet a Deployment owns; the default removes it: the body reached the server."""
    for name in ("orphaned", "plain"):
        kube.execute(Mutation("create", "Deployment", NS, name, body=_deployment(name)))
        assert _eventually(lambda name=name: _replicasets(kube, name))
    kube.execute(Mutation("delete", "Deployment", NS, "orphaned", body={"propagationPolicy": "Orphan"}))
    kube.execute(Mutation("delete", "Deployment", NS, "plain"))
    assert _eventually(lambda: not _replicasets(kube, "plain"))
    assert _eventually(lambda: all(not r["metadata"].get("ownerReferences") for r in _replicasets(kube, "orphaned")))
    assert _replicasets(kube, "orphaned")  # still there, orphaned


def test_a_create_waits_for_the_object_it_replaces_to_finish_terminating(kube):
    old = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "held", "namespace": NS,
                                                                  "finalizers": ["example.com/hold"]}, "data": {"v": "1"}}
    kube.execute(Mutation("create", "ConfigMap", NS, "held", body=old))
    kube.execute(Mutation("delete", "ConfigMap", NS, "held"))
    assert kube.get("ConfigMap", NS, "held")["metadata"].get("deletionTimestamp")  # terminating, not gone

    def release() -> None:
        time.sleep(1.0)
        kube.execute(Mutation("patch", "ConfigMap", NS, "held", patch_type="merge",
                              body={"metadata": {"finalizers": None}}))

    threading.Thread(target=release, daemon=True).start()
    new = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "held", "namespace": NS}, "data": {"v": "2"}}
    kube.execute(Mutation("create", "ConfigMap", NS, "held", body=new))
    assert kube.get("ConfigMap", NS, "held")["data"] == {"v": "2"}


def test_a_create_of_an_object_that_is_not_terminating_still_conflicts(kube):
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "taken", "namespace": NS}}
    kube.execute(Mutation("create", "ConfigMap", NS, "taken", body=body))
    with pytest.raises(KubeError) as e:
        kube.execute(Mutation("create", "ConfigMap", NS, "taken", body=body))
    assert e.value.status == 409


class _Reader:
    """A goal reader whose claim becomes Bound on the third read."""

    def __init__(self) -> None:
        self.reads = 0

    def get(self, kind: str, namespace: str | None, name: str) -> dict[str, Any]:
        self.reads += 1
        return {"spec": {"storageClassName": "standard"}, "status": {"phase": "Bound" if self.reads >= 3 else "Pending"}}

    def list(self, *a: Any) -> list[dict[str, Any]]:
        return []

    def access(self, *a: Any) -> bool:
        return True


def _claim(path: str, value: str, **kw: Any) -> dict[str, Any]:
    return {"kind": "PersistentVolumeClaim", "namespace": NS, "name": "c", "path": path, "value": value, **kw}


def test_a_status_goal_is_polled_until_it_holds():
    r = _Reader()
    found = settled_verdicts(r, [_claim("spec.storageClassName", "standard"), _claim("status.phase", "Bound")],
                             sleep=lambda s: None)
    assert [ok for ok, _ in found] == [True, True] and r.reads == 3  # the set field once, the status twice


def test_a_set_field_is_read_once_and_a_status_goal_gives_up_after_its_patience():
    r = _Reader()
    found = settled_verdicts(r, [_claim("spec.storageClassName", "gold"), _claim("status.phase", "Lost", wait_s=0.3)],
                             poll_s=0.05, sleep=time.sleep)
    assert [ok for ok, _ in found] == [False, False]
    assert patience(_claim("spec.x", "y")) == 0 and patience(_claim("status.phase", "Bound")) > 0
