"""Authorization by the RBAC objects in the store, with the real API server's semantics and messages.

Why: "can ci-bot delete secrets in prod?" must be answered by the same rules a real cluster enforces, and
every request to the sandbox is checked by them, so a mistake in a Role shows up as a real 403.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sandbox.selectors import labels_match, selector_from_label_selector

RBAC = "rbac.authorization.k8s.io"


@dataclass(frozen=True)
class UserInfo:
    name: str
    groups: tuple[str, ...] = ()
    uid: str = ""
    extra: dict[str, list[str]] = field(default_factory=dict, compare=False, hash=False)

    @property
    def is_master(self) -> bool:
        return "system:masters" in self.groups


@dataclass(frozen=True)
class Attributes:
    """What a request wants to do (the authorizer's input)."""

    verb: str
    namespace: str = ""
    group: str = ""
    resource: str = ""
    subresource: str = ""
    name: str = ""
    path: str = ""  # non-resource requests only

    @property
    def is_resource(self) -> bool:
        return not self.path


def service_account_user(namespace: str, name: str) -> UserInfo:
    return UserInfo(f"system:serviceaccount:{namespace}:{name}",
                    ("system:serviceaccounts", f"system:serviceaccounts:{namespace}", "system:authenticated"))


def _match(values: Iterable[str] | None, want: str) -> bool:
    return any(v == "*" or v == want for v in (values or ()))


def _resource_match(rule: dict[str, Any], a: Attributes) -> bool:
    combined = f"{a.resource}/{a.subresource}" if a.subresource else a.resource
    for r in rule.get("resources") or ():
        if r == "*" or r == combined:
            return True
        if a.subresource and r == f"*/{a.subresource}":
            return True
    return False


def rule_allows(rule: dict[str, Any], a: Attributes) -> bool:
    if not _match(rule.get("verbs"), a.verb):
        return False
    if a.is_resource:
        if not _match(rule.get("apiGroups"), a.group) or not _resource_match(rule, a):
            return False
        names = rule.get("resourceNames")
        return not names or a.name in names
    for url in rule.get("nonResourceURLs") or ():
        if url == "*" or url == a.path or (url.endswith("*") and a.path.startswith(url[:-1])):
            return True
    return False


def subject_matches(subject: dict[str, Any], user: UserInfo, binding_ns: str) -> bool:
    kind = subject.get("kind")
    name = subject.get("name")
    if kind == "User":
        return name == user.name
    if kind == "Group":
        return name in user.groups
    if kind == "ServiceAccount":
        ns = subject.get("namespace") or binding_ns
        return user.name == f"system:serviceaccount:{ns}:{name}"
    return False


Lister = Callable[[str, str | None], list[dict[str, Any]]]  # (resource key, namespace or None) -> objects


class Authorizer:
    """Evaluates RBAC for a user; reads Roles and bindings through `lister` on every call."""

    def __init__(self, lister: Lister) -> None:
        self._list = lister

    def _cluster_role_rules(self, name: str) -> list[dict[str, Any]]:
        roles = {r["metadata"]["name"]: r for r in self._list(f"{RBAC}/clusterroles", None)}
        role = roles.get(name)
        if role is None:
            return []
        rules = list(role.get("rules") or [])
        agg = role.get("aggregationRule")
        if agg:
            for sel in agg.get("clusterRoleSelectors") or []:
                reqs = selector_from_label_selector(sel)
                for other in roles.values():
                    if other is not role and labels_match(reqs, other["metadata"].get("labels")):
                        rules.extend(other.get("rules") or [])
        return rules

    def _role_rules(self, ref: dict[str, Any], binding_ns: str) -> list[dict[str, Any]]:
        if ref.get("kind") == "ClusterRole":
            return self._cluster_role_rules(ref.get("name", ""))
        for r in self._list(f"{RBAC}/roles", binding_ns):
            if r["metadata"]["name"] == ref.get("name"):
                return list(r.get("rules") or [])
        return []

    def rules_for(self, user: UserInfo, namespace: str) -> list[tuple[dict[str, Any], str]]:
        """Every rule that applies to `user` in `namespace` ("" = cluster scope), with the binding that grants it."""
        out: list[tuple[dict[str, Any], str]] = []
        for b in self._list(f"{RBAC}/clusterrolebindings", None):
            if any(subject_matches(s, user, "") for s in b.get("subjects") or []):
                why = f'RBAC: allowed by ClusterRoleBinding "{b["metadata"]["name"]}" of ClusterRole "{b.get("roleRef", {}).get("name")}"'
                out.extend((r, why) for r in self._role_rules(b.get("roleRef") or {}, ""))
        if namespace:
            for b in self._list(f"{RBAC}/rolebindings", namespace):
                if any(subject_matches(s, user, namespace) for s in b.get("subjects") or []):
                    ref = b.get("roleRef") or {}
                    why = (f'RBAC: allowed by RoleBinding "{b["metadata"]["name"]}/{namespace}" of '
                           f'{ref.get("kind")} "{ref.get("name")}"')
                    out.extend((r, why) for r in self._role_rules(ref, namespace))
        return out

    def authorize(self, user: UserInfo, a: Attributes) -> tuple[bool, str]:
        """(allowed, reason)."""
        if user.is_master:
            return True, ""
        for rule, why in self.rules_for(user, a.namespace):
            if rule_allows(rule, a):
                return True, why
        return False, ""


def forbidden_message(user: UserInfo, a: Attributes) -> str:
    """The exact text the real API server uses in a 403."""
    if not a.is_resource:
        return f'forbidden: User "{user.name}" cannot {a.verb} path "{a.path}"'
    res = f"{a.resource}/{a.subresource}" if a.subresource else a.resource
    qualified = f"{a.resource}.{a.group}" if a.group else a.resource
    head = f'{qualified} "{a.name}" is forbidden' if a.name else f"{qualified} is forbidden"
    where = f'in the namespace "{a.namespace}"' if a.namespace else "at the cluster scope"
    return f'{head}: User "{user.name}" cannot {a.verb} resource "{res}" in API group "{a.group}" {where}'


def bootstrap_policy() -> list[dict[str, Any]]:
    """The default ClusterRoles and bindings every cluster starts with (trimmed to what matters here)."""
    def cr(name: str, rules: list[dict[str, Any]], labels: dict[str, str] | None = None,
           agg: list[dict[str, str]] | None = None) -> dict[str, Any]:
        obj: dict[str, Any] = {"apiVersion": f"{RBAC}/v1", "kind": "ClusterRole",
                               "metadata": {"name": name, "labels": {"kubernetes.io/bootstrapping": "rbac-defaults", **(labels or {})}},
                               "rules": rules}
        if agg:
            obj["aggregationRule"] = {"clusterRoleSelectors": [{"matchLabels": m} for m in agg]}
        return obj

    def crb(name: str, role: str, groups: list[str]) -> dict[str, Any]:
        return {"apiVersion": f"{RBAC}/v1", "kind": "ClusterRoleBinding",
                "metadata": {"name": name, "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"}},
                "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": role},
                "subjects": [{"apiGroup": RBAC, "kind": "Group", "name": g} for g in groups]}

    read = ["get", "list", "watch"]
    write = ["create", "delete", "deletecollection", "patch", "update"]
    view_rules = [
        {"apiGroups": [""], "resources": ["configmaps", "endpoints", "persistentvolumeclaims", "pods", "pods/log",
                                         "pods/status", "replicationcontrollers", "services", "services/status",
                                         "serviceaccounts", "events", "namespaces", "namespaces/status", "limitranges",
                                         "resourcequotas", "persistentvolumeclaims/status"], "verbs": read},
        {"apiGroups": ["apps"], "resources": ["deployments", "deployments/scale", "deployments/status", "replicasets",
                                             "replicasets/scale", "replicasets/status", "statefulsets",
                                             "statefulsets/scale", "statefulsets/status", "daemonsets",
                                             "daemonsets/status", "controllerrevisions"], "verbs": read},
        {"apiGroups": ["batch"], "resources": ["jobs", "jobs/status", "cronjobs", "cronjobs/status"], "verbs": read},
        {"apiGroups": ["autoscaling"], "resources": ["horizontalpodautoscalers", "horizontalpodautoscalers/status"], "verbs": read},
        {"apiGroups": ["networking.k8s.io"], "resources": ["ingresses", "ingresses/status", "networkpolicies"], "verbs": read},
        {"apiGroups": ["policy"], "resources": ["poddisruptionbudgets", "poddisruptionbudgets/status"], "verbs": read},
        {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": read},
        {"apiGroups": ["events.k8s.io"], "resources": ["events"], "verbs": read},
        {"apiGroups": ["metrics.k8s.io"], "resources": ["pods", "nodes"], "verbs": read},
    ]
    edit_rules = [
        {"apiGroups": [""], "resources": ["pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy",
                                         "pods/eviction", "configmaps", "endpoints", "persistentvolumeclaims",
                                         "replicationcontrollers", "replicationcontrollers/scale", "secrets",
                                         "serviceaccounts", "services", "services/proxy"], "verbs": write},
        {"apiGroups": [""], "resources": ["secrets"], "verbs": read},
        {"apiGroups": [""], "resources": ["serviceaccounts/token"], "verbs": ["create"]},
        {"apiGroups": ["apps"], "resources": ["deployments", "deployments/rollback", "deployments/scale",
                                             "replicasets", "replicasets/scale", "statefulsets", "statefulsets/scale",
                                             "daemonsets"], "verbs": write},
        {"apiGroups": ["batch"], "resources": ["jobs", "cronjobs"], "verbs": write},
        {"apiGroups": ["autoscaling"], "resources": ["horizontalpodautoscalers"], "verbs": write},
        {"apiGroups": ["networking.k8s.io"], "resources": ["ingresses", "networkpolicies"], "verbs": write},
        {"apiGroups": ["policy"], "resources": ["poddisruptionbudgets"], "verbs": write},
    ]
    admin_rules = [
        {"apiGroups": [RBAC], "resources": ["roles", "rolebindings"], "verbs": read + write},
        {"apiGroups": ["authorization.k8s.io"], "resources": ["localsubjectaccessreviews"], "verbs": ["create"]},
    ]
    return [
        cr("cluster-admin", [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
                             {"nonResourceURLs": ["*"], "verbs": ["*"]}]),
        cr("admin", [], agg=[{"rbac.authorization.k8s.io/aggregate-to-admin": "true"}]),
        cr("edit", [], {"rbac.authorization.k8s.io/aggregate-to-admin": "true"},
           agg=[{"rbac.authorization.k8s.io/aggregate-to-edit": "true"}]),
        cr("view", [], {"rbac.authorization.k8s.io/aggregate-to-edit": "true"},
           agg=[{"rbac.authorization.k8s.io/aggregate-to-view": "true"}]),
        cr("system:aggregate-to-admin", admin_rules, {"rbac.authorization.k8s.io/aggregate-to-admin": "true"}),
        cr("system:aggregate-to-edit", edit_rules, {"rbac.authorization.k8s.io/aggregate-to-edit": "true"}),
        cr("system:aggregate-to-view", view_rules, {"rbac.authorization.k8s.io/aggregate-to-view": "true"}),
        cr("system:discovery", [{"nonResourceURLs": ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez",
                                                     "/openapi", "/openapi/*", "/readyz", "/version", "/version/"],
                                 "verbs": ["get"]}]),
        cr("system:public-info-viewer", [{"nonResourceURLs": ["/healthz", "/livez", "/readyz", "/version", "/version/"],
                                          "verbs": ["get"]}]),
        cr("system:basic-user", [
            {"apiGroups": ["authorization.k8s.io"], "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
             "verbs": ["create"]},
            {"apiGroups": ["authentication.k8s.io"], "resources": ["selfsubjectreviews"], "verbs": ["create"]}]),
        crb("cluster-admin", "cluster-admin", ["system:masters"]),
        crb("system:discovery", "system:discovery", ["system:authenticated"]),
        crb("system:basic-user", "system:basic-user", ["system:authenticated"]),
        crb("system:public-info-viewer", "system:public-info-viewer", ["system:authenticated", "system:unauthenticated"]),
    ]
