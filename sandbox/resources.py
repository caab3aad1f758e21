"""The resource types the sandbox serves: built-in kinds plus the custom resources of live CRDs.

Why one table: discovery, OpenAPI paths, RBAC, routing and printing all ask the same questions (plural,
scope, verbs, subresources) about a type; answering them from one place keeps them consistent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sandbox import schema

ALL_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
CREATE_ONLY = ["create"]


@dataclass(frozen=True)
class ResourceType:
    """One REST resource (e.g. apps/v1 deployments)."""

    group: str
    version: str
    kind: str
    plural: str
    singular: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    verbs: tuple[str, ...] = tuple(ALL_VERBS)
    subresources: tuple[str, ...] = ()
    definition: str | None = None
    # For custom resources: the CRD version's openAPIV3Schema, printer columns and scale paths.
    crd_schema: dict[str, Any] | None = field(default=None, compare=False, hash=False)
    printer_columns: tuple[Any, ...] = field(default=(), compare=False, hash=False)
    scale_paths: tuple[str, str, str] | None = None  # spec replicas, status replicas, label selector

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def key(self) -> str:
        """Storage key: group and plural (version-independent)."""
        return f"{self.group}/{self.plural}"

    @property
    def list_kind(self) -> str:
        return self.kind + "List"

    @property
    def is_custom(self) -> bool:
        return self.crd_schema is not None or self.definition is None

    def base_path(self, namespace: str | None = None) -> str:
        prefix = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            return f"{prefix}/namespaces/{namespace}/{self.plural}"
        return f"{prefix}/{self.plural}"


def _rt(group: str, version: str, kind: str, plural: str, namespaced: bool, short: tuple[str, ...] = (),
        categories: tuple[str, ...] = (), verbs: list[str] | None = None,
        subresources: tuple[str, ...] = ("status",)) -> ResourceType:
    return ResourceType(
        group=group, version=version, kind=kind, plural=plural, singular=kind.lower(),
        namespaced=namespaced, short_names=short, categories=categories,
        verbs=tuple(verbs or ALL_VERBS), subresources=subresources,
        definition=schema.definition_for_gvk(group, version, kind),
    )


ALL = ("all",)
BUILTIN: list[ResourceType] = [
    _rt("", "v1", "Namespace", "namespaces", False, ("ns",),
        verbs=["create", "delete", "get", "list", "patch", "update", "watch"], subresources=("status", "finalize")),
    _rt("", "v1", "Pod", "pods", True, ("po",), ALL,
        subresources=("status", "log", "eviction", "exec", "attach", "portforward", "binding", "ephemeralcontainers",
                      "proxy")),
    _rt("", "v1", "Service", "services", True, ("svc",), ALL,
        verbs=["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
        subresources=("status", "proxy")),
    _rt("", "v1", "Endpoints", "endpoints", True, ("ep",), subresources=()),
    _rt("", "v1", "ConfigMap", "configmaps", True, ("cm",), subresources=()),
    _rt("", "v1", "Secret", "secrets", True, subresources=()),
    _rt("", "v1", "ServiceAccount", "serviceaccounts", True, ("sa",), subresources=("token",)),
    _rt("", "v1", "PersistentVolume", "persistentvolumes", False, ("pv",)),
    _rt("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", True, ("pvc",)),
    _rt("", "v1", "Node", "nodes", False, ("no",), subresources=("status", "proxy")),
    _rt("", "v1", "Event", "events", True, ("ev",), subresources=()),
    _rt("", "v1", "ReplicationController", "replicationcontrollers", True, ("rc",), ALL,
        subresources=("status", "scale")),
    _rt("apps", "v1", "Deployment", "deployments", True, ("deploy",), ALL, subresources=("status", "scale")),
    _rt("apps", "v1", "ReplicaSet", "replicasets", True, ("rs",), ALL, subresources=("status", "scale")),
    _rt("apps", "v1", "StatefulSet", "statefulsets", True, ("sts",), ALL, subresources=("status", "scale")),
    _rt("apps", "v1", "DaemonSet", "daemonsets", True, ("ds",), ALL),
    _rt("apps", "v1", "ControllerRevision", "controllerrevisions", True, subresources=()),
    _rt("batch", "v1", "Job", "jobs", True, (), ALL),
    _rt("batch", "v1", "CronJob", "cronjobs", True, ("cj",), ALL),
    _rt("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", True, ("hpa",), ALL),
    # stored as v2 (listed first: the preferred version), served as v1 too through sandbox/conversion.py
    _rt("autoscaling", "v1", "HorizontalPodAutoscaler", "horizontalpodautoscalers", True, ("hpa",), ALL),
    _rt("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", True, subresources=()),
    _rt("events.k8s.io", "v1", "Event", "events", True, ("ev",), subresources=()),
    _rt("networking.k8s.io", "v1", "Ingress", "ingresses", True, ("ing",)),
    _rt("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", True, ("netpol",), subresources=()),
    _rt("networking.k8s.io", "v1", "IngressClass", "ingressclasses", False, subresources=()),
    _rt("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", True, ("pdb",)),
    _rt("rbac.authorization.k8s.io", "v1", "Role", "roles", True, subresources=()),
    _rt("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", False, subresources=()),
    _rt("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", True, subresources=()),
    _rt("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", False, subresources=()),
    _rt("storage.k8s.io", "v1", "StorageClass", "storageclasses", False, ("sc",), subresources=()),
    _rt("coordination.k8s.io", "v1", "Lease", "leases", True, subresources=()),
    _rt("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions", False,
        ("crd", "crds"), subresources=("status",)),
    _rt("authorization.k8s.io", "v1", "SelfSubjectAccessReview", "selfsubjectaccessreviews", False,
        verbs=CREATE_ONLY, subresources=()),
    _rt("authorization.k8s.io", "v1", "SelfSubjectRulesReview", "selfsubjectrulesreviews", False,
        verbs=CREATE_ONLY, subresources=()),
    _rt("authorization.k8s.io", "v1", "SubjectAccessReview", "subjectaccessreviews", False,
        verbs=CREATE_ONLY, subresources=()),
    _rt("authorization.k8s.io", "v1", "LocalSubjectAccessReview", "localsubjectaccessreviews", True,
        verbs=CREATE_ONLY, subresources=()),
    _rt("authentication.k8s.io", "v1", "SelfSubjectReview", "selfsubjectreviews", False,
        verbs=CREATE_ONLY, subresources=()),
    _rt("authentication.k8s.io", "v1", "TokenReview", "tokenreviews", False, verbs=CREATE_ONLY, subresources=()),
]

# Kinds that are answered, never stored (reviews).
VIRTUAL_KINDS = {"SelfSubjectAccessReview", "SelfSubjectRulesReview", "SubjectAccessReview",
                 "LocalSubjectAccessReview", "SelfSubjectReview", "TokenReview"}

# Preferred order of groups in discovery (core first, as the real server lists them).
GROUP_ORDER = ["", "apps", "events.k8s.io", "authentication.k8s.io", "authorization.k8s.io", "autoscaling",
               "batch", "networking.k8s.io", "policy", "rbac.authorization.k8s.io", "storage.k8s.io",
               "apiextensions.k8s.io", "coordination.k8s.io", "discovery.k8s.io", "metrics.k8s.io"]

SCALE_PATHS = (".spec.replicas", ".status.replicas", ".status.selector")


def from_crd(crd: dict[str, Any]) -> list[ResourceType]:
    """The served resource types of a CustomResourceDefinition (one per served version)."""
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    out = []
    for ver in spec.get("versions") or []:
        if not ver.get("served", True):
            continue
        subs = ver.get("subresources") or {}
        sub_names = tuple(n for n in ("status", "scale") if n in subs)
        scale = subs.get("scale")
        out.append(ResourceType(
            group=spec.get("group", ""), version=ver.get("name", "v1"), kind=names.get("kind", ""),
            plural=names.get("plural", ""), singular=names.get("singular") or names.get("kind", "").lower(),
            namespaced=spec.get("scope", "Namespaced") == "Namespaced",
            short_names=tuple(names.get("shortNames") or ()), categories=tuple(names.get("categories") or ()),
            subresources=sub_names, definition=None,
            crd_schema=((ver.get("schema") or {}).get("openAPIV3Schema") or {}),
            printer_columns=tuple(ver.get("additionalPrinterColumns") or ()),
            scale_paths=(scale.get("specReplicasPath", ".spec.replicas"),
                         scale.get("statusReplicasPath", ".status.replicas"),
                         scale.get("labelSelectorPath") or "") if isinstance(scale, dict) else None,
        ))
    return out


class Registry:
    """Lookup of resource types by path (group, version, plural) and by kind, including live CRDs."""

    def __init__(self) -> None:
        self._builtin = list(BUILTIN)
        self._custom: dict[str, list[ResourceType]] = {}  # CRD name -> types

    def add(self, rt: ResourceType) -> None:
        """Serve an extra type (e.g. the metrics API once the kubelet model runs)."""
        if rt not in self._builtin:
            self._builtin.append(rt)

    def set_crd(self, crd: dict[str, Any]) -> None:
        self._custom[crd["metadata"]["name"]] = from_crd(crd)

    def drop_crd(self, name: str) -> None:
        self._custom.pop(name, None)

    def all(self) -> list[ResourceType]:
        out = list(self._builtin)
        for types in self._custom.values():
            out.extend(types)
        return out

    def lookup(self, group: str, version: str, plural: str) -> ResourceType | None:
        for rt in self.all():
            if rt.group == group and rt.version == version and rt.plural == plural:
                return rt
        return None

    def by_kind(self, group: str, version: str, kind: str) -> ResourceType | None:
        for rt in self.all():
            if rt.group == group and rt.version == version and rt.kind == kind:
                return rt
        return None

    def by_key(self, key: str) -> ResourceType | None:
        for rt in self.all():
            if rt.key == key:
                return rt
        return None

    def groups(self) -> dict[str, list[str]]:
        """Group name -> served versions (preferred first), in discovery order."""
        found: dict[str, list[str]] = {}
        for rt in self.all():
            versions = found.setdefault(rt.group, [])
            if rt.version not in versions:
                versions.append(rt.version)
        ordered = [g for g in GROUP_ORDER if g in found] + sorted(g for g in found if g not in GROUP_ORDER)
        return {g: found[g] for g in ordered}
