"""Helpers shared by the workload controllers: owner references, pod readiness, template hashes, writes."""

from __future__ import annotations

import copy
import json
import math
from typing import Any

from sandbox.cluster import SYSTEM, Cluster, WriteOptions
from sandbox.errors import ApiError
from sandbox.selectors import labels_match, selector_from_label_selector

SAFE = "bcdfghjklmnpqrstvwxz2456789"


def safe_hash(value: Any, length: int = 10) -> str:
    """A stable short hash of a JSON value, in the alphabet Kubernetes uses for generated names (FNV-1a 32)."""
    data = json.dumps(value, sort_keys=True, separators=(",", ":")).encode()
    h = 0x811C9DC5
    for b in data:
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    digits = str(h)
    return "".join(SAFE[int(d) % len(SAFE)] if i % 2 else SAFE[(int(d) * 3 + i) % len(SAFE)]
                   for i, d in enumerate(digits))[:length]


def controller_ref(owner: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": owner["apiVersion"], "kind": owner["kind"], "name": owner["metadata"]["name"],
            "uid": owner["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}


def owner_uid(obj: dict[str, Any]) -> str | None:
    for ref in obj["metadata"].get("ownerReferences") or []:
        if ref.get("controller"):
            return ref.get("uid")
    return None


def owner_key(obj: dict[str, Any], kind: str) -> tuple[str, str] | None:
    for ref in obj["metadata"].get("ownerReferences") or []:
        if ref.get("controller") and ref.get("kind") == kind:
            return obj["metadata"].get("namespace", ""), ref.get("name", "")
    return None


def owned(cluster: Cluster, resource: str, owner: dict[str, Any]) -> list[dict[str, Any]]:
    uid = owner["metadata"]["uid"]
    ns = owner["metadata"].get("namespace")
    return [o for o in cluster.store.list(resource, ns)[0] if owner_uid(o) == uid]


def selects(selector: dict[str, Any] | None, obj: dict[str, Any]) -> bool:
    reqs = selector_from_label_selector(selector)
    return bool(reqs) and labels_match(reqs, obj["metadata"].get("labels"))


def pod_ready(pod: dict[str, Any]) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (pod.get("status") or {}).get("conditions") or [])


def pod_active(pod: dict[str, Any]) -> bool:
    return not pod["metadata"].get("deletionTimestamp") and \
        (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed")


def scaled(value: Any, total: int, round_up: bool) -> int:
    """An int-or-percent (maxSurge, maxUnavailable) against a total."""
    if isinstance(value, str) and value.endswith("%"):
        try:
            pct = float(value[:-1]) / 100.0
        except ValueError:
            return 0
        return math.ceil(pct * total) if round_up else math.floor(pct * total)
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def create_pod(cluster: Cluster, owner: dict[str, Any], template: dict[str, Any], *, name: str | None = None,
               generate: str | None = None, labels: dict[str, str] | None = None,
               extra_spec: dict[str, Any] | None = None, manager: str = "kube-controller-manager") -> dict[str, Any] | None:
    ns = owner["metadata"]["namespace"]
    meta = copy.deepcopy(template.get("metadata") or {})
    meta["labels"] = {**(meta.get("labels") or {}), **(labels or {})}
    meta["ownerReferences"] = [controller_ref(owner)]
    meta.pop("name", None)
    if name:
        meta["name"] = name
    else:
        meta["generateName"] = generate or f"{owner['metadata']['name']}-"
    spec = copy.deepcopy(template.get("spec") or {})
    spec.update(extra_spec or {})
    try:
        return cluster.create(cluster.rt("", "v1", "pods"), ns, {"metadata": meta, "spec": spec}, SYSTEM,
                              WriteOptions(field_manager=manager)).obj
    except ApiError:
        return None


def write_status(cluster: Cluster, rt: Any, obj: dict[str, Any], status: dict[str, Any],
                 manager: str = "kube-controller-manager") -> None:
    if (obj.get("status") or {}) == status:
        return
    new = copy.deepcopy(obj)
    new["status"] = status
    new["metadata"].pop("resourceVersion", None)
    try:
        cluster.update(rt, obj["metadata"].get("namespace", ""), obj["metadata"]["name"], new, SYSTEM,
                       WriteOptions(field_manager=manager), "status")
    except ApiError:
        pass


def patch_spec(cluster: Cluster, rt: Any, obj: dict[str, Any], changes: dict[str, Any],
               manager: str = "kube-controller-manager") -> dict[str, Any] | None:
    try:
        return cluster.patch(rt, obj["metadata"].get("namespace", ""), obj["metadata"]["name"], "merge", changes,
                             SYSTEM, WriteOptions(field_manager=manager)).obj
    except ApiError:
        return None


def delete(cluster: Cluster, rt: Any, obj: dict[str, Any]) -> bool:
    try:
        cluster.delete(rt, obj["metadata"].get("namespace", ""), obj["metadata"]["name"], SYSTEM)
        return True
    except ApiError:
        return False


def condition(conds: list[dict[str, Any]], ctype: str, status: str, reason: str, message: str, now: str,
              update_time: bool = True) -> list[dict[str, Any]]:
    """Set one condition, keeping lastTransitionTime when the status did not change."""
    out = [c for c in conds if c.get("type") != ctype]
    prev = next((c for c in conds if c.get("type") == ctype), None)
    transition = prev["lastTransitionTime"] if prev and prev.get("status") == status and prev.get("lastTransitionTime") else now
    c = {"type": ctype, "status": status, "reason": reason, "message": message, "lastTransitionTime": transition}
    if update_time:
        c["lastUpdateTime"] = prev.get("lastUpdateTime", now) if prev and prev.get("status") == status and \
            prev.get("reason") == reason and prev.get("message") == message else now
    out.append(c)
    return out
