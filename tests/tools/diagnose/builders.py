"""Hand-built API objects (plain dicts shaped as the API serves them) for the per-check unit tests."""

from __future__ import annotations

from typing import Any

from tools.diagnose.base import Snapshot

NS = "shop"


def container(name: str = "app", image: str = "example/app:1.0", ports: list[int] | None = None,
              requests: dict[str, str] | None = None, limits: dict[str, str] | None = None,
              **extra: Any) -> dict[str, Any]:
    c: dict[str, Any] = {"name": name, "image": image}
    if ports:
        c["ports"] = [{"containerPort": p} for p in ports]
    res: dict[str, Any] = {}
    if requests:
        res["requests"] = requests
    if limits:
        res["limits"] = limits
    if res:
        c["resources"] = res
    c.update(extra)
    return c


def deployment(name: str, containers: list[dict[str, Any]] | None = None, labels: dict[str, str] | None = None,
               ns: str = NS, replicas: int = 1, pod_spec: dict[str, Any] | None = None,
               conditions: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    labels = labels or {"app": name}
    spec = {"containers": containers or [container(name)], **(pod_spec or {})}
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": ns, "labels": labels, "uid": f"uid-{name}"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels}, "spec": spec}},
            "status": {"replicas": replicas, "conditions": conditions or []}}


def replicaset(deploy: dict[str, Any], suffix: str = "abc12", revision: int = 1,
               template: dict[str, Any] | None = None) -> dict[str, Any]:
    name = deploy["metadata"]["name"]
    tmpl = template or deploy["spec"]["template"]
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": f"{name}-{suffix}", "namespace": deploy["metadata"]["namespace"],
                         "annotations": {"deployment.kubernetes.io/revision": str(revision)},
                         "ownerReferences": [{"kind": "Deployment", "name": name, "controller": True}]},
            "spec": {"template": {"metadata": {"labels": {**tmpl["metadata"]["labels"], "pod-template-hash": suffix}},
                                  "spec": tmpl["spec"]}}}


def pod(name: str, *, ns: str = NS, labels: dict[str, str] | None = None, rs: str | None = None,
        spec: dict[str, Any] | None = None, statuses: list[dict[str, Any]] | None = None, node: str | None = "node-1",
        phase: str = "Running", ready: bool | None = None, conditions: list[dict[str, Any]] | None = None,
        service_account: str | None = None) -> dict[str, Any]:
    spec = dict(spec or {"containers": [container()]})
    if node:
        spec["nodeName"] = node
    if service_account:
        spec["serviceAccountName"] = service_account
    md: dict[str, Any] = {"name": name, "namespace": ns, "labels": labels or {}}
    if rs:
        md["ownerReferences"] = [{"kind": "ReplicaSet", "name": rs, "controller": True}]
    statuses = statuses if statuses is not None else [running(c["name"]) for c in spec.get("containers") or []]
    if ready is None:
        ready = all(s.get("ready") for s in statuses) and phase == "Running"
    conds = conditions if conditions is not None else [{"type": "Ready", "status": "True" if ready else "False"}]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": md, "spec": spec,
            "status": {"phase": phase, "conditions": conds, "containerStatuses": statuses}}


def pod_of(deploy: dict[str, Any], index: int = 0, suffix: str = "abc12", **kw: Any) -> dict[str, Any]:
    name = deploy["metadata"]["name"]
    labels = {**deploy["spec"]["template"]["metadata"]["labels"], "pod-template-hash": suffix}
    kw.setdefault("spec", dict(deploy["spec"]["template"]["spec"]))
    return pod(f"{name}-{suffix}-{index:05d}", ns=deploy["metadata"]["namespace"], labels=labels,
               rs=f"{name}-{suffix}", **kw)


def running(name: str = "app", ready: bool = True, restarts: int = 0, last: dict[str, Any] | None = None
            ) -> dict[str, Any]:
    return {"name": name, "ready": ready, "restartCount": restarts, "image": "example/app:1.0",
            "state": {"running": {"startedAt": "2025-01-01T00:00:00Z"}}, "lastState": last or {}}


def waiting(name: str, reason: str, message: str = "", restarts: int = 0, last: dict[str, Any] | None = None,
            image: str = "example/app:1.0") -> dict[str, Any]:
    w = {"reason": reason}
    if message:
        w["message"] = message
    return {"name": name, "ready": False, "restartCount": restarts, "image": image, "state": {"waiting": w},
            "lastState": last or {}}


def terminated(code: int, reason: str = "Error") -> dict[str, Any]:
    return {"terminated": {"exitCode": code, "reason": reason, "finishedAt": "2025-01-01T00:01:00Z"}}


def event(kind: str, name: str, reason: str, message: str, *, ns: str = NS, type_: str = "Warning", count: int = 1,
          field_path: str | None = None, ts: str = "2025-01-01T00:00:00Z") -> dict[str, Any]:
    io: dict[str, Any] = {"kind": kind, "name": name, "namespace": ns}
    if field_path:
        io["fieldPath"] = field_path
    return {"apiVersion": "v1", "kind": "Event", "metadata": {"name": f"{name}.{reason}", "namespace": ns},
            "involvedObject": io, "reason": reason, "message": message, "type": type_, "count": count,
            "lastTimestamp": ts}


def node(name: str, cpu: str = "4", memory: str = "8Gi", labels: dict[str, str] | None = None,
         taints: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, **(labels or {})}},
            "spec": {"taints": taints} if taints else {},
            "status": {"allocatable": {"cpu": cpu, "memory": memory, "pods": "110"},
                       "capacity": {"cpu": cpu, "memory": memory, "pods": "110"}}}


def service(name: str, selector: dict[str, str], ns: str = NS, port: int = 80, target: int | str = 8080
            ) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": ns},
            "spec": {"selector": selector, "ports": [{"name": "http", "port": port, "targetPort": target}]}}


def endpoints(name: str, ready: list[str] = (), not_ready: list[str] = (), ns: str = NS) -> dict[str, Any]:
    subsets = []
    if ready or not_ready:
        s: dict[str, Any] = {"ports": [{"port": 8080}]}
        if ready:
            s["addresses"] = [{"ip": f"10.0.0.{i}", "targetRef": {"kind": "Pod", "name": p}} for i, p in enumerate(ready)]
        if not_ready:
            s["notReadyAddresses"] = [{"ip": f"10.0.1.{i}", "targetRef": {"kind": "Pod", "name": p}}
                                      for i, p in enumerate(not_ready)]
        subsets.append(s)
    return {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": name, "namespace": ns}, "subsets": subsets}


def configmap(name: str, data: dict[str, str], ns: str = NS) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": ns}, "data": data}


def role(name: str, rules: list[dict[str, Any]], ns: str = NS) -> dict[str, Any]:
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": name, "namespace": ns},
            "rules": rules}


def clusterrole(name: str, rules: list[dict[str, Any]]) -> dict[str, Any]:
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": name},
            "rules": rules}


def rule(resources: list[str], verbs: list[str], groups: list[str] = ("",)) -> dict[str, Any]:
    return {"apiGroups": list(groups), "resources": resources, "verbs": verbs}


def rolebinding(name: str, role_name: str, sa: str, ns: str = NS, role_kind: str = "Role") -> dict[str, Any]:
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": name, "namespace": ns},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role_name},
            "subjects": [{"kind": "ServiceAccount", "name": sa, "namespace": ns}]}


def snapshot(logs: dict[tuple[str, str, bool], list[str]] | None = None, **kw: Any) -> Snapshot:
    """A Snapshot whose logs come from {(pod, container, previous): lines}."""
    table = logs or {}

    def read(ns: str, pod_name: str, cname: str, previous: bool) -> list[str] | None:
        return table.get((pod_name, cname, previous))
    return Snapshot(logs=read, **kw)
