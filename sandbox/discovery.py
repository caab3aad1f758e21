"""Discovery documents: legacy (/api, /apis, per group-version lists) and aggregated (apidiscovery.k8s.io/v2).

Why: kubectl resolves every resource name (`deploy`, `crd`, `widgets.example.com`) and every
`api-resources` row from these documents, so they must list exactly what the sandbox serves.
"""

from __future__ import annotations

from typing import Any

from sandbox.resources import Registry, ResourceType

SERVER_VERSION = {
    "major": "1", "minor": "37", "emulationMajor": "1", "emulationMinor": "37",
    "minCompatibilityMajor": "1", "minCompatibilityMinor": "36",
    "gitVersion": "v1.37.0-kubesage", "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean", "buildDate": "2026-11-01T00:00:00Z", "goVersion": "go1.25.0",
    "compiler": "gc", "platform": "linux/amd64",
}

AGGREGATED_V2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
AGGREGATED_V2BETA1 = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"

SUBRESOURCE_VERBS = {
    "status": ["get", "patch", "update"], "scale": ["get", "patch", "update"], "log": ["get"],
    "eviction": ["create"], "exec": ["create", "get"], "attach": ["create", "get"],
    "portforward": ["create", "get"], "binding": ["create"], "proxy": ["create", "delete", "get", "patch", "update"],
    "finalize": ["update"], "token": ["create"], "ephemeralcontainers": ["get", "patch", "update"],
}
SUBRESOURCE_KINDS = {"scale": ("autoscaling", "v1", "Scale"), "eviction": ("policy", "v1", "Eviction"),
                     "binding": ("", "v1", "Binding"), "token": ("authentication.k8s.io", "v1", "TokenRequest"),
                     "exec": ("", "v1", "PodExecOptions"), "attach": ("", "v1", "PodAttachOptions"),
                     "portforward": ("", "v1", "PodPortForwardOptions"), "proxy": ("", "v1", "PodProxyOptions")}


def api_versions() -> dict[str, Any]:
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}]}


def api_group(group: str, versions: list[str]) -> dict[str, Any]:
    vs = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
    return {"kind": "APIGroup", "apiVersion": "v1", "name": group, "versions": vs, "preferredVersion": vs[0]}


def api_group_list(reg: Registry) -> dict[str, Any]:
    return {"kind": "APIGroupList", "apiVersion": "v1",
            "groups": [api_group(g, vs) for g, vs in reg.groups().items() if g]}


def resource_list(reg: Registry, group: str, version: str) -> dict[str, Any] | None:
    types = [rt for rt in reg.all() if rt.group == group and rt.version == version]
    if not types:
        return None
    resources: list[dict[str, Any]] = []
    for rt in types:
        entry: dict[str, Any] = {"name": rt.plural, "singularName": rt.singular, "namespaced": rt.namespaced,
                                 "kind": rt.kind, "verbs": list(rt.verbs)}
        if rt.short_names:
            entry["shortNames"] = list(rt.short_names)
        if rt.categories:
            entry["categories"] = list(rt.categories)
        resources.append(entry)
        for sub in rt.subresources:
            sg, sv, sk = SUBRESOURCE_KINDS.get(sub, (rt.group, rt.version, rt.kind))
            sub_entry: dict[str, Any] = {"name": f"{rt.plural}/{sub}", "singularName": "", "namespaced": rt.namespaced,
                                         "kind": sk, "verbs": SUBRESOURCE_VERBS.get(sub, ["get"])}
            if sub in SUBRESOURCE_KINDS:
                sub_entry["group"], sub_entry["version"] = sg, sv
            resources.append(sub_entry)
    gv = f"{group}/{version}" if group else version
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}


def _aggregated_resource(rt: ResourceType) -> dict[str, Any]:
    out: dict[str, Any] = {
        "resource": rt.plural, "responseKind": {"group": rt.group, "version": rt.version, "kind": rt.kind},
        "scope": "Namespaced" if rt.namespaced else "Cluster", "singularResource": rt.singular,
        "verbs": list(rt.verbs),
    }
    if rt.short_names:
        out["shortNames"] = list(rt.short_names)
    if rt.categories:
        out["categories"] = list(rt.categories)
    subs = []
    for sub in rt.subresources:
        g, v, k = SUBRESOURCE_KINDS.get(sub, (rt.group, rt.version, rt.kind))
        subs.append({"subresource": sub, "responseKind": {"group": g, "version": v, "kind": k},
                     "verbs": SUBRESOURCE_VERBS.get(sub, ["get"])})
    if subs:
        out["subresources"] = subs
    return out


def aggregated(reg: Registry, legacy: bool, api_version: str = "apidiscovery.k8s.io/v2") -> dict[str, Any]:
    """APIGroupDiscoveryList for /api (legacy=True: the core group) or /apis (every named group)."""
    items = []
    for group, versions in reg.groups().items():
        if (group == "") != legacy:
            continue
        vitems = []
        for v in versions:
            types = [rt for rt in reg.all() if rt.group == group and rt.version == v]
            vitems.append({"version": v, "resources": [_aggregated_resource(rt) for rt in types],
                           "freshness": "Current"})
        items.append({"metadata": {"name": group, "creationTimestamp": None}, "versions": vitems})
    return {"kind": "APIGroupDiscoveryList", "apiVersion": api_version, "metadata": {}, "items": items}
