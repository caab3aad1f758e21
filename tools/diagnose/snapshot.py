"""Build a diagnosis `Snapshot` from a live cluster through the official `kubernetes` client.

Objects are read as the API serves them (raw JSON, not the client's models), so checks see exactly the fields a
`kubectl get -o json` shows. A list the caller may not read (403) or a kind the server lacks (404) becomes an empty
list plus a note in `snapshot.errors`; diagnosis goes on with what it can see. Secret values are never kept: only
their names, types and keys.
"""

from __future__ import annotations

import json
from typing import Any

from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from tools.diagnose.base import Snapshot
from tools.diagnose.util import bytes_, millicores

LOG_TAIL = 500
LOG_LIMIT_BYTES = 2 * 1024 * 1024

# snapshot field -> (api class name in kubernetes.client, namespaced list method, cluster-wide list method); names:
# touching an API class at import loads the client's models (0.5 s for every command, snapshot or not)
_LISTS: dict[str, tuple[str, str | None, str]] = {
    "pods": ("CoreV1Api", "list_namespaced_pod", "list_pod_for_all_namespaces"),
    "services": ("CoreV1Api", "list_namespaced_service", "list_service_for_all_namespaces"),
    "endpoints": ("CoreV1Api", "list_namespaced_endpoints", "list_endpoints_for_all_namespaces"),
    "events": ("CoreV1Api", "list_namespaced_event", "list_event_for_all_namespaces"),
    "configmaps": ("CoreV1Api", "list_namespaced_config_map", "list_config_map_for_all_namespaces"),
    "secrets": ("CoreV1Api", "list_namespaced_secret", "list_secret_for_all_namespaces"),
    "serviceaccounts": ("CoreV1Api", "list_namespaced_service_account", "list_service_account_for_all_namespaces"),
    "pvcs": ("CoreV1Api", "list_namespaced_persistent_volume_claim",
             "list_persistent_volume_claim_for_all_namespaces"),
    "nodes": ("CoreV1Api", None, "list_node"),
    "deployments": ("AppsV1Api", "list_namespaced_deployment", "list_deployment_for_all_namespaces"),
    "replicasets": ("AppsV1Api", "list_namespaced_replica_set", "list_replica_set_for_all_namespaces"),
    "statefulsets": ("AppsV1Api", "list_namespaced_stateful_set", "list_stateful_set_for_all_namespaces"),
    "daemonsets": ("AppsV1Api", "list_namespaced_daemon_set", "list_daemon_set_for_all_namespaces"),
    "roles": ("RbacAuthorizationV1Api", "list_namespaced_role", "list_role_for_all_namespaces"),
    "rolebindings": ("RbacAuthorizationV1Api", "list_namespaced_role_binding",
                     "list_role_binding_for_all_namespaces"),
    "clusterroles": ("RbacAuthorizationV1Api", None, "list_cluster_role"),
    "clusterrolebindings": ("RbacAuthorizationV1Api", None, "list_cluster_role_binding"),
    "storageclasses": ("StorageV1Api", None, "list_storage_class"),
}


def _raw(resp: Any) -> Any:
    data = resp.data if hasattr(resp, "data") else resp
    return json.loads(data) if data else {}


def _strip_secret(s: dict[str, Any]) -> dict[str, Any]:
    meta = dict(s.get("metadata") or {})
    ann = dict(meta.get("annotations") or {})
    ann.pop("kubectl.kubernetes.io/last-applied-configuration", None)
    meta["annotations"] = ann
    meta.pop("managedFields", None)
    keys = set(s.get("data") or {}) | set(s.get("stringData") or {})
    return {"apiVersion": s.get("apiVersion", "v1"), "kind": "Secret", "metadata": meta, "type": s.get("type"),
            "data": {k: "" for k in sorted(keys)}}


# The lists a health verdict rests on: when one of them could not be read, "nothing wrong" cannot be said.
ESSENTIAL = ("pods", "events", "deployments", "replicasets", "statefulsets", "daemonsets")


def unreadable(snap: Snapshot) -> dict[str, str]:
    """What the snapshot could not read and why ({"pods": "HTTP 403 Forbidden", ...}), from `snap.errors`."""
    out: dict[str, str] = {}
    for err in snap.errors:
        what, _, why = err.partition(": ")
        out.setdefault(what.removeprefix("list "), why)
    return out


def _describe_error(e: Exception) -> str:
    if isinstance(e, ApiException):
        return f"HTTP {e.status} {e.reason}"
    return f"{type(e).__name__}: {e}"


def snapshot_from_client(api_client: k8s.ApiClient, namespace: str | None, *, with_logs: bool = True,
                         log_tail: int = LOG_TAIL, with_metrics: bool = True,
                         request_timeout: float = 20.0) -> Snapshot:
    """Read what the checks need from one namespace (or all, with namespace=None).

    Logs are read lazily, when a check asks (`snapshot.read_logs`), at most `log_tail` lines per container;
    metrics come from metrics.k8s.io when the server offers it.
    """
    snap = Snapshot(namespace=namespace)
    apis: dict[str, Any] = {}
    for field_name, (cls, ns_method, all_method) in _LISTS.items():
        api = apis.setdefault(cls, getattr(k8s, cls)(api_client))
        try:
            if ns_method and namespace:
                resp = getattr(api, ns_method)(namespace, _preload_content=False, _request_timeout=request_timeout)
            else:
                resp = getattr(api, all_method)(_preload_content=False, _request_timeout=request_timeout)
            items = list(_raw(resp).get("items") or [])
        except Exception as e:  # noqa: BLE001 - a list we cannot read is reported, not fatal
            snap.errors.append(f"list {field_name}: {_describe_error(e)}")
            items = []
        if field_name == "secrets":
            items = [_strip_secret(s) for s in items]
        setattr(snap, field_name, items)

    if with_metrics:
        custom = k8s.CustomObjectsApi(api_client)
        try:
            if namespace:
                pm = custom.list_namespaced_custom_object("metrics.k8s.io", "v1beta1", namespace, "pods",
                                                          _request_timeout=request_timeout)
            else:
                pm = custom.list_cluster_custom_object("metrics.k8s.io", "v1beta1", "pods",
                                                       _request_timeout=request_timeout)
            for item in pm.get("items") or []:
                md = item.get("metadata") or {}
                snap.metrics[f"{md.get('namespace', '')}/{md.get('name', '')}"] = {
                    c.get("name", ""): (millicores((c.get("usage") or {}).get("cpu")) or 0,
                                        bytes_((c.get("usage") or {}).get("memory")) or 0)
                    for c in item.get("containers") or []}
        except Exception as e:  # noqa: BLE001
            snap.errors.append(f"pod metrics: {_describe_error(e)}")
        try:
            nm = custom.list_cluster_custom_object("metrics.k8s.io", "v1beta1", "nodes",
                                                   _request_timeout=request_timeout)
            for item in nm.get("items") or []:
                u = item.get("usage") or {}
                snap.node_metrics[(item.get("metadata") or {}).get("name", "")] = (
                    millicores(u.get("cpu")) or 0, bytes_(u.get("memory")) or 0)
        except Exception as e:  # noqa: BLE001
            snap.errors.append(f"node metrics: {_describe_error(e)}")

    if with_logs:
        core = apis.setdefault(k8s.CoreV1Api, k8s.CoreV1Api(api_client))

        def read(ns: str, pod: str, container: str, previous: bool) -> list[str] | None:
            try:
                resp = core.read_namespaced_pod_log(pod, ns, container=container, previous=previous,
                                                    tail_lines=log_tail, limit_bytes=LOG_LIMIT_BYTES,
                                                    _preload_content=False, _request_timeout=request_timeout)
            except ApiException as e:
                if e.status in (401, 403):  # kept: a log the principal may not read is not a quiet container
                    snap.errors.append(f"logs of pod {pod}: {_describe_error(e)}")
                return None
            data = resp.data if hasattr(resp, "data") else resp
            text = data.decode("utf-8", "replace") if isinstance(data, bytes) else str(data)
            return text.splitlines() or None

        snap.logs = read
    return snap
