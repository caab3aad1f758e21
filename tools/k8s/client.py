"""Kubernetes access for the agents: the official `kubernetes` client, one per (kubeconfig, context, principal).

Why a wrapper: every call must run as the person who asked (impersonation), be checked against their rights
first (SelfSubjectAccessReview, so a refusal is explained before anything is tried), and mutations must be
previewed with a server-side dry run before anyone approves them.
"""

from __future__ import annotations

import copy
import difflib
import json
from dataclasses import dataclass, field
from typing import Any

import yaml
from kubernetes import client, config
from kubernetes.client.rest import ApiException

from tools.k8s.discovery import ResourceInfo, discover


@dataclass(frozen=True)
class Principal:
    """Who asks: maps to Impersonate-User / Impersonate-Group on every call (None user: the kubeconfig's own)."""

    user: str | None = None
    groups: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return self.user or "kubeconfig-user"


class KubeError(Exception):
    """A Kubernetes call that failed, with the API's own message (never a traceback for the person)."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message


def _error(e: ApiException) -> KubeError:
    try:
        body = json.loads(e.body or "{}")
    except (ValueError, TypeError):
        body = {}
    return KubeError(e.status or 0, body.get("reason") or e.reason or "", body.get("message") or str(e.reason))


# kind -> (group, version, plural, namespaced)
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

_CATALOGS: dict[str, Any] = {}  # API server URL -> tools.k8s.discovery.Catalog

PATCH_CONTENT = {"strategic": "application/strategic-merge-patch+json", "merge": "application/merge-patch+json",
                 "json": "application/json-patch+json"}


@dataclass
class Mutation:
    """A change a tool proposes; it runs only after approval."""

    verb: str  # patch | create | delete | scale | action (body: {"handler": "tools.mod:fn", "args": {...}})
    kind: str
    namespace: str
    name: str
    patch_type: str = "strategic"
    body: Any = None
    why: str = ""
    diff: str = ""
    dry_run_error: str = ""
    # After the apply, wait for this object ({kind, namespace, name, timeout_s?, stable_s?}) to be healthy; undo the
    # change (`rollback`, filled by `preview` from the live object) when it does not become so.
    verify: dict[str, Any] | None = None
    rollback: dict[str, Any] | None = None

    def describe(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.verb} {self.kind} {where}{self.name}"

    def to_dict(self) -> dict[str, Any]:
        return {"verb": self.verb, "kind": self.kind, "namespace": self.namespace, "name": self.name,
                "patch_type": self.patch_type, "body": self.body, "why": self.why, "diff": self.diff,
                "dry_run_error": self.dry_run_error, "verify": self.verify, "rollback": self.rollback}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Mutation:
        return cls(**{k: d.get(k) for k in ("verb", "kind", "namespace", "name", "patch_type", "body", "why",
                                             "diff", "dry_run_error", "verify", "rollback") if k in d})


@dataclass
class Kube:
    """A Kubernetes connection acting as `principal`."""

    api: client.ApiClient
    principal: Principal = field(default_factory=Principal)
    read_only: bool = False
    # Every API call this connection made: what the interfaces show as tool calls and the eval graders check.
    calls: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_kubeconfig(cls, path: str, context: str | None = None, principal: Principal | None = None,
                        read_only: bool = False) -> Kube:
        api = config.new_client_from_config(config_file=path, context=context or None)
        p = principal or Principal()
        if p.user:
            api.set_default_header("Impersonate-User", p.user)
            if p.groups:
                # The Python client sends one value per header name; the first group is impersonated.
                api.set_default_header("Impersonate-Group", p.groups[0])
        return cls(api, p, read_only)

    # -- generic access ----------------------------------------------------------------------------
    def catalog(self) -> Any:
        """The kinds this API serves (tools.k8s.discovery.Catalog), discovered once per server."""
        host = self.api.configuration.host
        if host not in _CATALOGS:
            _CATALOGS[host] = discover(lambda method, path: self.request(method, path))
        return _CATALOGS[host]

    def info(self, kind: str) -> tuple[str, str, str, bool]:
        """(group, version, plural, namespaced) of a kind: the fixed table, else discovery (CRDs)."""
        if kind in KINDS:
            return KINDS[kind]
        r = self.catalog().by_kind(kind)
        if r is None:
            _CATALOGS.pop(self.api.configuration.host, None)  # maybe a CRD created since: look again once
            r = self.catalog().by_kind(kind)
        if r is None:
            raise KubeError(404, "NotFound", f"the server doesn't have a resource type \"{kind}\"")
        return r.group, r.version, r.plural, r.namespaced

    def _path(self, kind: str, namespace: str | None, name: str | None = None, sub: str = "") -> str:
        return ResourceInfo(kind, *self.info(kind)).path(namespace, name, sub)

    def _call(self, method: str, path: str, query: list[tuple[str, str]], headers: dict[str, str],
              body: Any = None) -> bytes:
        call = {"method": method, "path": path, "query": dict(query), "status": 0}
        self.calls.append(call)
        try:
            m, url, hdrs, data, _ = self.api.param_serialize(method, path, query_params=query, header_params=headers,
                                                             body=body, auth_settings=["BearerToken"])
            resp = self.api.call_api(m, url, header_params=hdrs, body=data)
            raw = resp.read()
        except ApiException as e:
            call["status"] = e.status or 0
            raise _error(e) from None
        except Exception as e:  # noqa: BLE001 - connection errors: say what failed, no traceback
            raise KubeError(0, "ConnectionError", f"cannot reach the Kubernetes API: {e}") from None
        call["status"] = resp.status
        if not 200 <= resp.status < 300:
            raise _error(ApiException(status=resp.status, reason=resp.reason, http_resp=resp))
        return raw

    def request(self, method: str, path: str, body: Any = None, query: list[tuple[str, str]] | None = None,
                content_type: str = "application/json") -> Any:
        data = self._call(method, path, query or [], {"Content-Type": content_type, "Accept": "application/json"},
                          body)
        return json.loads(data) if data else None

    def get(self, kind: str, namespace: str | None, name: str) -> dict[str, Any]:
        return self.request("GET", self._path(kind, namespace, name))

    def list(self, kind: str, namespace: str | None = None, label_selector: str | None = None,
             field_selector: str | None = None) -> list[dict[str, Any]]:
        q = [(k, v) for k, v in (("labelSelector", label_selector), ("fieldSelector", field_selector)) if v]
        return (self.request("GET", self._path(kind, namespace), query=q) or {}).get("items", [])

    def logs(self, namespace: str, pod: str, container: str | None = None, previous: bool = False,
             tail: int | None = None) -> str | None:
        q = [("previous", "true")] if previous else []
        if container:
            q.append(("container", container))
        if tail:
            q.append(("tailLines", str(tail)))
        try:
            return self._call("GET", self._path("Pod", namespace, pod, "log"), q, {"Accept": "text/plain"}).decode(
                "utf-8", "replace")
        except KubeError:
            return None

    def top_pods(self, namespace: str | None) -> list[dict[str, Any]]:
        path = f"/apis/metrics.k8s.io/v1beta1{'/namespaces/' + namespace if namespace else ''}/pods"
        return (self.request("GET", path) or {}).get("items", [])

    def top_nodes(self) -> list[dict[str, Any]]:
        return (self.request("GET", "/apis/metrics.k8s.io/v1beta1/nodes") or {}).get("items", [])

    # -- rights ------------------------------------------------------------------------------------
    def can_i(self, verb: str, kind_or_resource: str, namespace: str | None = None, name: str | None = None,
              group: str | None = None, subresource: str = "") -> tuple[bool, str]:
        """SelfSubjectAccessReview as the principal: (allowed, reason)."""
        if kind_or_resource[:1].isupper():
            group, _, resource, _ = self.info(kind_or_resource)
        else:
            resource = kind_or_resource
        attrs = {"verb": verb, "resource": resource, "group": group or "", "subresource": subresource}
        if namespace:
            attrs["namespace"] = namespace
        if name:
            attrs["name"] = name
        body = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                "spec": {"resourceAttributes": attrs}}
        out = self.request("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", body) or {}
        status = out.get("status") or {}
        return bool(status.get("allowed")), status.get("reason", "")

    def subject_can(self, user: str, groups: list[str], verb: str, resource: str, namespace: str | None,
                    group: str = "", name: str | None = None) -> tuple[bool, str]:
        attrs = {"verb": verb, "resource": resource, "group": group}
        if namespace:
            attrs["namespace"] = namespace
        if name:
            attrs["name"] = name
        body = {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
                "spec": {"user": user, "groups": groups, "resourceAttributes": attrs}}
        out = self.request("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", body) or {}
        status = out.get("status") or {}
        return bool(status.get("allowed")), status.get("reason", "")

    # -- mutations ---------------------------------------------------------------------------------
    def preview(self, m: Mutation, new_namespaces: frozenset[str] | set[str] = frozenset()) -> Mutation:
        """Server-side dry run: fills `diff` (or `dry_run_error`) without changing anything. `new_namespaces`: ones
        an earlier change of the same proposal creates (the dry run cannot see them yet; the object is then checked
        when it is created, right after its namespace)."""
        m = copy.deepcopy(m)
        if m.verb == "action":  # not a Kubernetes write: the proposing agent wrote the preview itself
            return m
        if m.verb == "create" and m.namespace in new_namespaces:
            m.diff = _diff({}, m.body or {}) + f"\n(validated when created, after namespace {m.namespace})"
            return m
        try:
            before = self.get(m.kind, m.namespace, m.name) if m.verb != "create" else {}
        except KubeError as e:
            if m.verb != "create":
                m.dry_run_error = e.message
                return m
            before = {}
        try:
            after = self._apply(m, dry_run=True)
        except KubeError as e:
            m.dry_run_error = e.message
            return m
        if m.verb == "scale":  # the dry run answered a Scale: show it on the workload itself
            after = copy.deepcopy(before)
            after.setdefault("spec", {})["replicas"] = int(m.body)
        m.diff = _diff(before, after if m.verb != "delete" else {})
        from tools.k8s.health import rollback_for

        m.rollback = rollback_for(m, before)
        return m

    def execute(self, m: Mutation) -> dict[str, Any]:
        if self.read_only:
            raise KubeError(403, "ReadOnly", "kubesage is in read-only mode: no changes are made")
        if m.verb == "action":
            return run_action(self, m)
        return self._apply(m, dry_run=False)

    def restart(self, kind: str, namespace: str, name: str) -> dict[str, Any]:
        from datetime import UTC, datetime

        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        patch = {"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": now}}}}}
        return self.request("PATCH", self._path(kind, namespace, name), patch, content_type=PATCH_CONTENT["strategic"])

    def _apply(self, m: Mutation, dry_run: bool) -> dict[str, Any]:
        q = [("dryRun", "All")] if dry_run else []
        q.append(("fieldManager", "kubesage"))
        if m.verb in ("create", "patch"):
            q.append(("fieldValidation", "Strict"))  # a misspelt field is an error, not silently dropped
        body = m.body
        if m.verb == "create":
            return self.request("POST", self._path(m.kind, m.namespace), body, q)
        if m.verb == "delete":
            return self.request("DELETE", self._path(m.kind, m.namespace, m.name), None, q)
        if m.verb == "scale":
            return self.request("PATCH", self._path(m.kind, m.namespace, m.name, "scale"),
                                {"spec": {"replicas": int(body)}}, q, PATCH_CONTENT["merge"])
        return self.request("PATCH", self._path(m.kind, m.namespace, m.name), body, q,
                            PATCH_CONTENT.get(m.patch_type, PATCH_CONTENT["strategic"]))


def run_action(kube: Kube, m: Mutation) -> Any:
    """Run an approved non-Kubernetes change (load a LoRA adapter, put an IAM policy, run a mutating synthesized
    tool). The body names a handler `tools.<module>:<function>`; only the tools room may be named, so a
    checkpoint edited on disk cannot make the approval step import arbitrary code."""
    import importlib

    handler = str((m.body or {}).get("handler", ""))
    mod, _, fn = handler.partition(":")
    if not (mod.startswith("tools.") and fn.isidentifier() and not fn.startswith("_")):
        raise KubeError(400, "BadAction", f"not an approved action handler: {handler!r}")
    try:
        func = getattr(importlib.import_module(mod), fn)
    except (ImportError, AttributeError) as e:
        raise KubeError(400, "BadAction", f"unknown action handler {handler!r}: {e}") from None
    return func(kube, **((m.body or {}).get("args") or {}))


def _clean(obj: dict[str, Any]) -> dict[str, Any]:
    obj = copy.deepcopy(obj or {})
    meta = obj.get("metadata") or {}
    for k in ("managedFields", "resourceVersion", "generation", "uid", "creationTimestamp"):
        meta.pop(k, None)
    (meta.get("annotations") or {}).pop("kubectl.kubernetes.io/last-applied-configuration", None)
    obj.pop("status", None)
    return obj


def _diff(before: dict[str, Any], after: dict[str, Any]) -> str:
    a = yaml.safe_dump(_clean(before), sort_keys=True).splitlines() if before else []
    b = yaml.safe_dump(_clean(after), sort_keys=True).splitlines() if after else []
    return "\n".join(difflib.unified_diff(a, b, "live", "proposed", lineterm="", n=2))
