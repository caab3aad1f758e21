"""What the MCP read tools return: kinds resolved from the names people and models use, compact one-line views of
listed objects, and single objects cleaned for reading (Secret values never leave the server).

Why compact: an MCP client feeds these results to a model; a list of pods as full API objects costs thousands of
tokens per pod, while name, phase, readiness and restarts answer most questions.
"""

from __future__ import annotations

import copy
from typing import Any

from tools.k8s.kinds import KINDS, REPLICATED
from tools.k8s.objects import condition, ready_containers, restarts, waiting_reason

SHORT_NAMES = {
    "po": "Pod", "svc": "Service", "cm": "ConfigMap", "sa": "ServiceAccount", "ep": "Endpoints", "ev": "Event",
    "no": "Node", "ns": "Namespace", "pvc": "PersistentVolumeClaim", "deploy": "Deployment", "rs": "ReplicaSet",
    "sts": "StatefulSet", "ds": "DaemonSet", "cj": "CronJob", "hpa": "HorizontalPodAutoscaler", "ing": "Ingress",
    "netpol": "NetworkPolicy", "rb": "RoleBinding", "crb": "ClusterRoleBinding",
}
MAX_ITEMS = 500


class UnknownKind(ValueError):
    """A kind kubesage does not know; the message lists the ones it does."""


def resolve_kind(kind: str) -> str:
    """`pods`, `pod`, `Pod`, `po`, `deployments.apps` → the canonical kind name in tools.k8s.client.KINDS."""
    k = (kind or "").strip().split(".")[0]
    if k in KINDS:
        return k
    low = k.lower()
    for name, (_, _, plural, _) in KINDS.items():
        if low in (name.lower(), plural):
            return name
    if low in SHORT_NAMES:
        return SHORT_NAMES[low]
    raise UnknownKind(f"unknown kind {kind!r}; known kinds: {', '.join(sorted(KINDS))}")


def resource_of(kind_or_resource: str) -> tuple[str, str, str]:
    """(API group, resource plural, subresource) for an RBAC question: `deployments/scale`, `pods/log`, `Secret`,
    `secrets`; an unknown name is passed through as a core resource (RBAC allows any resource name)."""
    name, _, sub = (kind_or_resource or "").strip().partition("/")
    try:
        group, _, plural, _ = KINDS[resolve_kind(name)]
    except UnknownKind:
        return "", name.lower(), sub
    return group, plural, sub


def namespaced(kind: str) -> bool:
    return KINDS[kind][3]


def summarize(kind: str, obj: dict[str, Any]) -> dict[str, Any]:
    """One listed object as a few fields that say what state it is in."""
    meta = obj.get("metadata") or {}
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    out: dict[str, Any] = {"name": meta.get("name")}
    if meta.get("namespace"):
        out["namespace"] = meta["namespace"]
    if kind == "Pod":
        statuses = status.get("containerStatuses") or []
        out.update(phase=status.get("phase"), ready=ready_containers(obj), restarts=restarts(obj),
                   node=spec.get("nodeName"))
        waiting = [r for r in map(waiting_reason, statuses) if r]
        if waiting:
            out["waiting"] = waiting
    elif kind in REPLICATED:
        out.update(replicas=spec.get("replicas"), ready=status.get("readyReplicas", 0),
                   available=status.get("availableReplicas", 0))
    elif kind == "DaemonSet":
        out.update(desired=status.get("desiredNumberScheduled"), ready=status.get("numberReady"))
    elif kind == "Service":
        out.update(type=spec.get("type"), cluster_ip=spec.get("clusterIP"), selector=spec.get("selector"))
    elif kind == "Node":
        out.update(ready=(condition(obj, "Ready") or {}).get("status"), allocatable=status.get("allocatable"))
    elif kind == "Event":
        out.update(type=obj.get("type"), reason=obj.get("reason"), message=obj.get("message"),
                   object=f"{(obj.get('involvedObject') or {}).get('kind')}/{(obj.get('involvedObject') or {}).get('name')}",
                   count=obj.get("count"))
    elif kind in ("ConfigMap", "Secret"):
        out["keys"] = sorted((obj.get("data") or {}) | (obj.get("binaryData") or {}))
    elif kind == "PersistentVolumeClaim":
        out.update(phase=status.get("phase"), storage_class=spec.get("storageClassName"))
    elif kind == "Job":
        out.update(succeeded=status.get("succeeded", 0), failed=status.get("failed", 0), active=status.get("active", 0))
    return out


def clean(kind: str, obj: dict[str, Any]) -> dict[str, Any]:
    """An object for reading: no managedFields or last-applied copy; Secret values replaced by a marker."""
    obj = copy.deepcopy(obj)
    meta = obj.get("metadata") or {}
    meta.pop("managedFields", None)
    (meta.get("annotations") or {}).pop("kubectl.kubernetes.io/last-applied-configuration", None)
    if kind == "Secret":
        for field in ("data", "stringData"):
            if isinstance(obj.get(field), dict):
                obj[field] = {k: "<redacted>" for k in obj[field]}
    return obj
