"""ReplicaSet controller: keeps `replicas` pods alive from the template and reports how many are ready."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from sandbox.cluster import Cluster
from sandbox.controllers import common
from sandbox.controllers.events import EventRecorder


def _delete_rank(pod: dict[str, Any]) -> tuple:
    """Which pods go first when scaling down: unscheduled, pending, not ready, then the newest."""
    status = pod.get("status") or {}
    restarts = sum(c.get("restartCount", 0) for c in status.get("containerStatuses") or [])
    return (bool((pod.get("spec") or {}).get("nodeName")), status.get("phase") == "Running", common.pod_ready(pod),
            -restarts, pod["metadata"].get("creationTimestamp", ""), pod["metadata"]["name"])


class ReplicaSetController:
    name = "replicaset"
    watches = ("apps/replicasets", "/pods")

    def __init__(self, cluster: Cluster, events: EventRecorder) -> None:
        self.cluster = cluster
        self.events = events
        self.rt = cluster.rt("apps", "v1", "replicasets")
        self.pods = cluster.rt("", "v1", "pods")

    def keys_for(self, resource: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> list[Hashable]:
        obj = new or old
        if resource == "apps/replicasets":
            return [(obj["metadata"]["namespace"], obj["metadata"]["name"])]
        key = common.owner_key(obj, "ReplicaSet")
        return [key] if key else []

    def reconcile(self, key: Hashable) -> float | None:
        ns, name = key  # type: ignore[misc]
        rs = self.cluster.store.get(self.rt.key, ns, name)
        if rs is None or rs["metadata"].get("deletionTimestamp"):
            return None
        spec = rs.get("spec") or {}
        want = int(spec.get("replicas", 1))
        pods = [p for p in common.owned(self.cluster, "/pods", rs) if common.pod_active(p)]
        if len(pods) < want:
            for _ in range(want - len(pods)):
                made = common.create_pod(self.cluster, rs, spec.get("template") or {}, manager="kube-controller-manager")
                if made is None:
                    self.events.emit(rs, "Warning", "FailedCreate", "Error creating: pods could not be created",
                                     "replicaset-controller")
                    break
                self.events.emit(rs, "Normal", "SuccessfulCreate", f"Created pod: {made['metadata']['name']}",
                                 "replicaset-controller")
        elif len(pods) > want:
            for pod in sorted(pods, key=_delete_rank)[: len(pods) - want]:
                if common.delete(self.cluster, self.pods, pod):
                    self.events.emit(rs, "Normal", "SuccessfulDelete", f"Deleted pod: {pod['metadata']['name']}",
                                     "replicaset-controller")
        pods = [p for p in common.owned(self.cluster, "/pods", rs) if common.pod_active(p)]
        ready = [p for p in pods if common.pod_ready(p)]
        labels = (spec.get("template") or {}).get("metadata", {}).get("labels") or {}
        status: dict[str, Any] = {
            "replicas": len(pods),
            "fullyLabeledReplicas": sum(1 for p in pods if all((p["metadata"].get("labels") or {}).get(k) == v
                                                               for k, v in labels.items())),
            "observedGeneration": rs["metadata"].get("generation", 1),
        }
        if ready:
            status["readyReplicas"] = len(ready)
            status["availableReplicas"] = len(ready)
        status["terminatingReplicas"] = 0
        common.write_status(self.cluster, self.rt, rs, status)
        return None
