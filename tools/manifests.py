"""Manifests from slots: the frequent kinds built from a few named values, and YAML a person would write.

Why a slot-filler: a manifest for "an nginx pod named web in demo" has perhaps five facts in it; everything else
is convention (labels that match selectors, container names, ports on Services). Deterministic builders get those
conventions right every time, so neither a small local model nor no model at all can produce a Service whose
selector misses its pods. Anything the builders do not cover goes through the gateway and a server dry run.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from tools.k8s.kinds import RUNS_CONTAINERS


@dataclass
class Slots:
    name: str = ""
    namespace: str = ""
    image: str = ""
    replicas: int | None = None
    ports: list[int] = field(default_factory=list)
    target_port: int | None = None
    env: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    selector: dict[str, str] = field(default_factory=dict)
    command: list[str] = field(default_factory=list)
    requests: dict[str, str] = field(default_factory=dict)
    limits: dict[str, str] = field(default_factory=dict)
    storage: str = ""
    storage_class: str = ""  # a PersistentVolumeClaim's storageClassName, when said
    schedule: str = ""
    service_type: str = ""
    data: dict[str, str] = field(default_factory=dict)
    mount_path: str = ""
    host: str = ""
    path: str = "/"
    target: str = ""  # another object the new one refers to (Service → Deployment, HPA → Deployment, binding → role)
    subject: str = ""  # RoleBinding subject: user, group:NAME or serviceaccount:NAME
    verbs: list[str] = field(default_factory=list)
    resources: list[str] = field(default_factory=list)
    min_replicas: int | None = None
    max_replicas: int | None = None
    cpu_percent: int | None = None
    probe: dict[str, Any] = field(default_factory=dict)  # {kind: readiness|liveness, path, port}
    secret_type: str = ""
    policy: str = ""  # NetworkPolicy: deny-all | allow-from
    from_labels: dict[str, str] = field(default_factory=dict)


BUILT = (*RUNS_CONTAINERS, "Service", "ConfigMap", "Secret", "PersistentVolumeClaim", "NetworkPolicy", "Ingress",
         "HorizontalPodAutoscaler", "Role", "RoleBinding", "ServiceAccount", "Namespace")


class SlotError(ValueError):
    """A manifest cannot be built: the message says which fact is missing."""


def _meta(s: Slots, namespaced: bool = True) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": s.name}
    if namespaced and s.namespace:
        meta["namespace"] = s.namespace
    return meta


def _container(s: Slots, name: str | None = None) -> dict[str, Any]:
    if not s.image:
        raise SlotError("which image should it run? (say e.g. 'with image nginx:1.27')")
    c: dict[str, Any] = {"name": name or _container_name(s), "image": s.image}
    if s.command:
        c["command"] = list(s.command)
    if s.ports:
        c["ports"] = [{"containerPort": p} for p in s.ports]
    if s.env:
        c["env"] = [{"name": k, "value": v} for k, v in s.env.items()]
    res = {k: v for k, v in (("requests", s.requests), ("limits", s.limits)) if v}
    if res:
        c["resources"] = copy.deepcopy(res)
    if s.probe:
        c.update(probe_spec(s.probe))
    if s.mount_path and s.storage:
        c["volumeMounts"] = [{"name": "data", "mountPath": s.mount_path}]
    return c


def _container_name(s: Slots) -> str:
    base = s.image.rsplit("/", 1)[-1].split(":")[0].split("@")[0]
    return re.sub(r"[^a-z0-9-]", "-", base.lower()).strip("-") or s.name


def probe_spec(p: dict[str, Any]) -> dict[str, Any]:
    kind = p.get("kind", "readiness")
    body: dict[str, Any]
    if p.get("path"):
        body = {"httpGet": {"path": p["path"], "port": int(p.get("port") or 80)}}
    elif p.get("command"):
        body = {"exec": {"command": list(p["command"])}}
    else:
        body = {"tcpSocket": {"port": int(p.get("port") or 80)}}
    body.update({"initialDelaySeconds": int(p.get("delay", 5)), "periodSeconds": int(p.get("period", 10))})
    return {f"{kind}Probe": body}


def _app_labels(s: Slots) -> dict[str, str]:
    return dict(s.labels) or {"app": s.name}


def _pod_template(s: Slots) -> dict[str, Any]:
    return {"metadata": {"labels": _app_labels(s)}, "spec": {"containers": [_container(s)]}}


def build(kind: str, s: Slots) -> dict[str, Any]:
    """The manifest of `kind` from slots; SlotError names what is missing."""
    if not s.name:
        raise SlotError(f"what should the {kind} be called? (say e.g. 'named web')")
    if kind not in BUILT:
        raise SlotError(f"no builder for {kind}")
    fn = globals()[f"_build_{kind.lower()}"]
    return fn(s)


def _build_namespace(s: Slots) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": s.name, **({"labels": s.labels} if s.labels
                                                                                        else {})}}


def _build_pod(s: Slots) -> dict[str, Any]:
    meta = _meta(s)
    meta["labels"] = _app_labels(s)
    spec: dict[str, Any] = {"containers": [_container(s, s.name)]}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec}


def _build_deployment(s: Slots) -> dict[str, Any]:
    labels = _app_labels(s)
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {**_meta(s), "labels": labels},
            "spec": {"replicas": s.replicas if s.replicas is not None else 1, "selector": {"matchLabels": labels},
                     "template": _pod_template(s)}}


def _build_daemonset(s: Slots) -> dict[str, Any]:
    labels = _app_labels(s)
    return {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {**_meta(s), "labels": labels},
            "spec": {"selector": {"matchLabels": labels}, "template": _pod_template(s)}}


def _build_statefulset(s: Slots) -> dict[str, Any]:
    labels = _app_labels(s)
    tmpl = _pod_template(s)
    spec: dict[str, Any] = {"serviceName": s.target or s.name, "replicas": s.replicas if s.replicas is not None else 1,
                            "selector": {"matchLabels": labels}, "template": tmpl}
    if s.storage:
        c = tmpl["spec"]["containers"][0]
        c["volumeMounts"] = [{"name": "data", "mountPath": s.mount_path or _default_data_path(s.image)}]
        spec["volumeClaimTemplates"] = [{"metadata": {"name": "data"}, "spec": {
            "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": s.storage}}}}]
    return {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {**_meta(s), "labels": labels}, "spec": spec}


def _default_data_path(image: str) -> str:
    base = image.rsplit("/", 1)[-1].split(":")[0]
    return {"postgres": "/var/lib/postgresql/data", "mysql": "/var/lib/mysql", "mariadb": "/var/lib/mysql",
            "redis": "/data", "mongo": "/data/db", "elasticsearch": "/usr/share/elasticsearch/data"}.get(base, "/data")


def _build_service(s: Slots) -> dict[str, Any]:
    selector = dict(s.selector) or {"app": s.target or s.name}
    port = s.ports[0] if s.ports else (s.target_port or 80)
    sp: dict[str, Any] = {"selector": selector, "ports": [{"name": f"port-{port}", "port": port,
                                                           "targetPort": s.target_port or port, "protocol": "TCP"}]}
    kind = {"nodeport": "NodePort", "loadbalancer": "LoadBalancer", "clusterip": "ClusterIP"}.get(s.service_type.lower())
    if s.service_type.lower() == "headless":
        sp["clusterIP"] = "None"
    elif kind:
        sp["type"] = kind
    return {"apiVersion": "v1", "kind": "Service", "metadata": _meta(s), "spec": sp}


def _build_configmap(s: Slots) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta(s), "data": dict(s.data or s.env)}


def _build_secret(s: Slots) -> dict[str, Any]:
    data = dict(s.data or s.env)
    if not data:
        raise SlotError("which keys and values should the Secret hold? (say e.g. 'with password=...')")
    return {"apiVersion": "v1", "kind": "Secret", "metadata": _meta(s), "type": s.secret_type or "Opaque",
            "stringData": data}


def _job_spec(s: Slots) -> dict[str, Any]:
    c = _container(s)
    return {"backoffLimit": 2, "template": {"metadata": {"labels": {"job-name": s.name}},
                                            "spec": {"restartPolicy": "OnFailure", "containers": [c]}}}


def _build_job(s: Slots) -> dict[str, Any]:
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": _meta(s), "spec": _job_spec(s)}


def _build_cronjob(s: Slots) -> dict[str, Any]:
    if not s.schedule:
        raise SlotError("how often should it run? (say e.g. 'every 5 minutes' or 'nightly at 2am')")
    return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": _meta(s),
            "spec": {"schedule": s.schedule, "jobTemplate": {"spec": _job_spec(s)}}}


def _build_persistentvolumeclaim(s: Slots) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": _meta(s),
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": s.storage or "1Gi"}},
                     **({"storageClassName": s.storage_class} if s.storage_class else {})}}


def _build_networkpolicy(s: Slots) -> dict[str, Any]:
    pod_sel = {"matchLabels": dict(s.selector)} if s.selector else {}
    spec: dict[str, Any] = {"podSelector": pod_sel, "policyTypes": ["Ingress"]}
    if s.from_labels:
        rule: dict[str, Any] = {"from": [{"podSelector": {"matchLabels": dict(s.from_labels)}}]}
        if s.ports:
            rule["ports"] = [{"port": p, "protocol": "TCP"} for p in s.ports]
        spec["ingress"] = [rule]
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": _meta(s), "spec": spec}


def _build_ingress(s: Slots) -> dict[str, Any]:
    if not s.target:
        raise SlotError("which Service should the Ingress send traffic to? (say e.g. 'to service web')")
    rule: dict[str, Any] = {"http": {"paths": [{"path": s.path or "/", "pathType": "Prefix", "backend": {
        "service": {"name": s.target, "port": {"number": s.ports[0] if s.ports else 80}}}}]}}
    if s.host:
        rule["host"] = s.host
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": _meta(s), "spec": {"rules": [rule]}}


def _build_horizontalpodautoscaler(s: Slots) -> dict[str, Any]:
    target = s.target or s.name
    lo = s.min_replicas or 1
    return {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": _meta(s),
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": target},
                     "minReplicas": lo, "maxReplicas": max(s.max_replicas or lo * 3, lo),
                     "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {
                         "type": "Utilization", "averageUtilization": s.cpu_percent or 80}}}]}}


def _build_role(s: Slots) -> dict[str, Any]:
    verbs = s.verbs or ["get", "list", "watch"]
    resources = s.resources or ["pods"]
    rules = []
    by_group: dict[str, list[str]] = {}
    for r in resources:
        group, _, plural = r.rpartition("/")
        by_group.setdefault(group, []).append(plural)
    for group, plurals in by_group.items():
        rules.append({"apiGroups": [group], "resources": sorted(set(plurals)), "verbs": list(verbs)})
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": _meta(s), "rules": rules}


def _build_rolebinding(s: Slots) -> dict[str, Any]:
    if not s.target or not s.subject:
        raise SlotError("which role, and for whom? (say e.g. 'bind role pod-reader to user alice')")
    kind, _, name = s.subject.partition(":") if ":" in s.subject else ("user", "", s.subject)
    subj: dict[str, Any]
    if kind == "serviceaccount":
        subj = {"kind": "ServiceAccount", "name": name, "namespace": s.namespace}
    else:
        subj = {"kind": "Group" if kind == "group" else "User", "name": name, "apiGroup": "rbac.authorization.k8s.io"}
    role_kind = "ClusterRole" if s.target.startswith("clusterrole:") else "Role"
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": _meta(s),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind,
                        "name": s.target.split(":", 1)[-1]}, "subjects": [subj]}


def _build_serviceaccount(s: Slots) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta(s)}


NOISE_META = ("managedFields", "resourceVersion", "generation", "uid", "creationTimestamp", "selfLink")


def tidy(obj: dict[str, Any]) -> dict[str, Any]:
    """The object as a person would write it: no status, no server bookkeeping, no empty defaults."""
    obj = copy.deepcopy(obj or {})
    obj.pop("status", None)
    meta = obj.get("metadata") or {}
    for k in NOISE_META:
        meta.pop(k, None)
    ann = meta.get("annotations") or {}
    for k in [k for k in ann if k.startswith("kubectl.kubernetes.io/last-applied") or
              k == "deployment.kubernetes.io/revision"]:
        ann.pop(k)
    if not ann:
        meta.pop("annotations", None)
    return _drop_empty(obj)


# Values the API server fills in when a manifest leaves them out: a person would not write them.
DEFAULTS = {"terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
            "dnsPolicy": "ClusterFirst", "schedulerName": "default-scheduler", "terminationGracePeriodSeconds": 30,
            "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600, "sessionAffinity": "None",
            "internalTrafficPolicy": "Cluster", "ipFamilyPolicy": "SingleStack", "successThreshold": 1,
            "failureThreshold": 3, "timeoutSeconds": 1, "restartPolicy": "Always", "imagePullPolicy": "IfNotPresent",
            "protocol": "TCP", "defaultMode": 420, "scheme": "HTTP", "volumeMode": "Filesystem",
            "enableServiceLinks": True, "preemptionPolicy": "PreemptLowerPriority", "priority": 0,
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}}
SERVER_SET = ("clusterIP", "clusterIPs", "ipFamilies", "nodeName", "serviceAccount", "finalizers")


def _drop_empty(v: Any) -> Any:
    if isinstance(v, dict):
        out = {k: _drop_empty(x) for k, x in v.items() if k not in SERVER_SET and DEFAULTS.get(k, object()) != x}
        return {k: x for k, x in out.items() if x not in ({}, [], None)}
    if isinstance(v, list):
        return [_drop_empty(x) for x in v]
    return v


def to_yaml(obj: dict[str, Any]) -> str:
    return yaml.safe_dump(tidy(obj), sort_keys=False, default_flow_style=False)
