"""The kind tuples of kubesage, written once.

Why one table: "is this a workload?" was answered in a dozen places with slightly different tuples, and a kind
added to one (a ReplicaSet, a DaemonSet) silently missed the others. Every module asks these names instead.
"""

from __future__ import annotations

# The built-in kinds kubesage knows without asking the server (others, CRDs included, come from discovery):
# kind -> (group, version, plural, namespaced).
KINDS: dict[str, tuple[str, str, str, bool]] = {
    "Pod": ("", "v1", "pods", True), "Service": ("", "v1", "services", True),
    "ConfigMap": ("", "v1", "configmaps", True), "Secret": ("", "v1", "secrets", True),
    "ServiceAccount": ("", "v1", "serviceaccounts", True), "Endpoints": ("", "v1", "endpoints", True),
    "Event": ("", "v1", "events", True), "Node": ("", "v1", "nodes", False), "Namespace": ("", "v1", "namespaces", False),
    "PersistentVolumeClaim": ("", "v1", "persistentvolumeclaims", True),
    "Deployment": ("apps", "v1", "deployments", True), "ReplicaSet": ("apps", "v1", "replicasets", True),
    "StatefulSet": ("apps", "v1", "statefulsets", True), "DaemonSet": ("apps", "v1", "daemonsets", True),
    "Job": ("batch", "v1", "jobs", True), "CronJob": ("batch", "v1", "cronjobs", True),
    "HorizontalPodAutoscaler": ("autoscaling", "v2", "horizontalpodautoscalers", True),
    "Role": ("rbac.authorization.k8s.io", "v1", "roles", True),
    "RoleBinding": ("rbac.authorization.k8s.io", "v1", "rolebindings", True),
    "ClusterRole": ("rbac.authorization.k8s.io", "v1", "clusterroles", False),
    "ClusterRoleBinding": ("rbac.authorization.k8s.io", "v1", "clusterrolebindings", False),
    "Ingress": ("networking.k8s.io", "v1", "ingresses", True),
    "NetworkPolicy": ("networking.k8s.io", "v1", "networkpolicies", True),
}

# Controllers that own pods through a pod template and roll them out: what a rollout restart, a template patch
# and the health wait (rolled out, ready, restarts steady) apply to.
WORKLOADS: tuple[str, ...] = ("Deployment", "StatefulSet", "DaemonSet")

# Kinds whose `spec.template` is a pod template (a CronJob keeps one under spec.jobTemplate.spec.template).
POD_TEMPLATED: tuple[str, ...] = WORKLOADS + ("ReplicaSet", "Job")

# Kinds the scaling agent scales (spec.replicas through the scale subresource): the owners, never the
# ReplicaSets a Deployment manages.
SCALABLE: tuple[str, ...] = ("Deployment", "StatefulSet")

# Kinds whose spec.replicas / status.readyReplicas describe their size (ReplicaSets included).
REPLICATED: tuple[str, ...] = ("Deployment", "StatefulSet", "ReplicaSet")

# Kinds that run containers and so need an image: a bare Pod, the workloads, and batch.
RUNS_CONTAINERS: tuple[str, ...] = ("Pod",) + WORKLOADS + ("Job", "CronJob")

# What the diagnosis checks attribute a pod problem to: the workload that owns the pod, or the bare Pod.
POD_OWNERS: tuple[str, ...] = ("Pod",) + WORKLOADS

# What a person names when something "is broken" and whose health kubesage can verify after a change:
# the workloads, the Service in front of them, a bare Pod (most specific first).
TARGETS: tuple[str, ...] = WORKLOADS + ("Service", "Pod")
