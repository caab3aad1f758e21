"""An event recorder like client-go's: core/v1 Events, aggregated by (object, reason, message) into a count.

Why: `kubectl describe` and `kubectl get events`, and every diagnosis agent, read these; their reasons and
messages must be the ones a real scheduler, kubelet and controller manager emit.
"""

from __future__ import annotations

import copy
import hashlib
from typing import Any

from sandbox.cluster import SYSTEM, Cluster, WriteOptions
from sandbox.errors import ApiError


class EventRecorder:
    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.rt = cluster.rt("", "v1", "events")
        self._opts = WriteOptions(field_manager="event-recorder")

    def emit(self, obj: dict[str, Any], etype: str, reason: str, message: str, component: str,
             host: str = "", field_path: str = "") -> None:
        """Record an event about `obj` (count it up when the same one was seen before)."""
        meta = obj.get("metadata") or {}
        ns = meta.get("namespace") or "default"
        digest = hashlib.sha256(f"{meta.get('uid')}/{reason}/{message}/{component}".encode()).hexdigest()[:16]
        name = f"{meta.get('name')}.{digest}"
        now = self.cluster.clock.rfc3339()
        existing = self.cluster.store.get(self.rt.key, ns, name)
        try:
            if existing is not None:
                new = copy.deepcopy(existing)
                new["count"] = int(existing.get("count") or 1) + 1
                new["lastTimestamp"] = now
                new["metadata"].pop("resourceVersion", None)
                self.cluster.update(self.rt, ns, name, new, SYSTEM, self._opts)
                return
            involved = {"kind": obj.get("kind"), "namespace": meta.get("namespace"), "name": meta.get("name"),
                        "uid": meta.get("uid"), "apiVersion": obj.get("apiVersion"),
                        "resourceVersion": meta.get("resourceVersion")}
            if field_path:
                involved["fieldPath"] = field_path
            source = {"component": component, **({"host": host} if host else {})}
            body = {"metadata": {"name": name, "namespace": ns},
                    "involvedObject": {k: v for k, v in involved.items() if v},
                    "reason": reason, "message": message, "source": source, "type": etype,
                    "firstTimestamp": now, "lastTimestamp": now, "count": 1,
                    "reportingComponent": component, "reportingInstance": host or ""}
            self.cluster.create(self.rt, ns, body, SYSTEM, self._opts)
        except ApiError:
            pass  # events are best effort, as in a real cluster (e.g. the namespace is terminating)
