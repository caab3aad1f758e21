"""Apply a Finding's structured fix through the official `kubernetes` client.

`apply_fix(api_client, fix)` applies one fix dict (patch / create / restart); `apply_finding` applies a finding's
fix and then its rollout restart. With `dry_run=True` the server validates and returns the would-be objects
without persisting anything (`dryRun=All`), which is what an approval prompt shows. Every mutation goes through
here, so a caller (the agents' approval gate) has one place to intercept.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from kubernetes import client as k8s

from tools.diagnose.base import Finding
from tools.k8s.mutations import PATCH_CONTENT, restart_patch

CONTENT_TYPES = PATCH_CONTENT

# kind -> (api class name in kubernetes.client, snake name, namespaced); names, not classes: touching an API class
# loads the client's models, which cost 0.7 s at import for every command that never applies a fix
KINDS: dict[str, tuple[str, str, bool]] = {
    "Deployment": ("AppsV1Api", "deployment", True),
    "StatefulSet": ("AppsV1Api", "stateful_set", True),
    "DaemonSet": ("AppsV1Api", "daemon_set", True),
    "ReplicaSet": ("AppsV1Api", "replica_set", True),
    "ConfigMap": ("CoreV1Api", "config_map", True),
    "Secret": ("CoreV1Api", "secret", True),
    "Service": ("CoreV1Api", "service", True),
    "Pod": ("CoreV1Api", "pod", True),
    "ServiceAccount": ("CoreV1Api", "service_account", True),
    "PersistentVolumeClaim": ("CoreV1Api", "persistent_volume_claim", True),
    "Role": ("RbacAuthorizationV1Api", "role", True),
    "RoleBinding": ("RbacAuthorizationV1Api", "role_binding", True),
    "ClusterRole": ("RbacAuthorizationV1Api", "cluster_role", False),
    "ClusterRoleBinding": ("RbacAuthorizationV1Api", "cluster_role_binding", False),
}


class FixError(ValueError):
    """A fix dict that cannot be applied as written (unknown kind or action, missing fields)."""


def restart_fix(kind: str, namespace: str, name: str, when: dt.datetime | None = None) -> dict[str, Any]:
    """The rollout restart as a fix dict (the patch is tools.k8s.mutations.restart_patch)."""
    return {"action": "patch", "kind": kind, "namespace": namespace, "name": name, "patch_type": "strategic",
            "patch": restart_patch(when)}


def _kind(kind: str) -> tuple[type, str, bool]:
    if kind not in KINDS:
        raise FixError(f"kind {kind!r} is not supported by apply_fix (supported: {', '.join(sorted(KINDS))})")
    api, snake, namespaced = KINDS[kind]
    return getattr(k8s, api), snake, namespaced


def _json(resp: Any) -> dict[str, Any]:
    data = resp.data if hasattr(resp, "data") else resp
    return json.loads(data) if data else {}


def apply_fix(api_client: k8s.ApiClient, fix: dict[str, Any], *, dry_run: bool = False,
              field_manager: str = "kubesage") -> list[dict[str, Any]]:
    """Apply one fix dict; returns the objects the server answered with (one per object written)."""
    action = fix.get("action") or ("create" if "manifest" in fix or "manifests" in fix else "patch")
    opts: dict[str, Any] = {"field_manager": field_manager, "_preload_content": False}
    if dry_run:
        opts["dry_run"] = "All"
    if action == "restart":
        return apply_fix(api_client, restart_fix(fix["kind"], fix["namespace"], fix["name"]), dry_run=dry_run,
                         field_manager=field_manager)
    if action == "patch":
        for k in ("kind", "name", "patch"):
            if k not in fix:
                raise FixError(f"a patch fix needs {k!r}")
        cls, snake, namespaced = _kind(fix["kind"])
        ptype = fix.get("patch_type", "strategic")
        if ptype not in CONTENT_TYPES:
            raise FixError(f"patch_type must be one of {', '.join(CONTENT_TYPES)}, got {ptype!r}")
        api = cls(api_client)
        if namespaced:
            method = getattr(api, f"patch_namespaced_{snake}")
            resp = method(fix["name"], fix["namespace"], fix["patch"], _content_type=CONTENT_TYPES[ptype], **opts)
        else:
            method = getattr(api, f"patch_{snake}")
            resp = method(fix["name"], fix["patch"], _content_type=CONTENT_TYPES[ptype], **opts)
        return [_json(resp)]
    if action == "create":
        manifests = fix.get("manifests") or ([fix["manifest"]] if fix.get("manifest") else [])
        if not manifests:
            raise FixError("a create fix needs 'manifest' or 'manifests'")
        out = []
        for m in manifests:
            cls, snake, namespaced = _kind(m.get("kind", ""))
            api = cls(api_client)
            if namespaced:
                ns = (m.get("metadata") or {}).get("namespace") or fix.get("namespace")
                if not ns:
                    raise FixError(f"{m.get('kind')} {(m.get('metadata') or {}).get('name')} needs a namespace")
                out.append(_json(getattr(api, f"create_namespaced_{snake}")(ns, m, **opts)))
            else:
                out.append(_json(getattr(api, f"create_{snake}")(m, **opts)))
        return out
    raise FixError(f"unknown fix action {action!r} (patch, create, restart)")


def apply_finding(api_client: k8s.ApiClient, finding: Finding, *, dry_run: bool = False,
                  field_manager: str = "kubesage") -> list[dict[str, Any]]:
    """Apply a finding's fix, then its rollout restart (if any). Raises FixError when there is nothing to apply."""
    if finding.fix is None and finding.restart is None:
        raise FixError(f"finding {finding.reason} on {finding.ref} has no structured fix")
    out: list[dict[str, Any]] = []
    if finding.fix is not None:
        out += apply_fix(api_client, finding.fix, dry_run=dry_run, field_manager=field_manager)
    if finding.restart is not None:
        r = finding.restart
        out += apply_fix(api_client, restart_fix(r["kind"], r["namespace"], r["name"]), dry_run=dry_run,
                         field_manager=field_manager)
    return out
