"""The OpenAPI documents the API server publishes: /openapi/v2 (one document) and /openapi/v3 (one document
per group-version), generated from the official definitions and the served resource types.

Why: kubectl reads them for `explain`, for the patch strategy of client-side `apply`, and to find out whether
the server supports `fieldValidation` and `dryRun`; they must describe exactly what the sandbox serves.
"""

from __future__ import annotations

import functools
import hashlib
import json
from typing import Any

from sandbox import schema
from sandbox.resources import Registry, ResourceType

META = "io.k8s.apimachinery.pkg.apis.meta.v1"
SPECIAL = {
    "io.k8s.apimachinery.pkg.util.intstr.IntOrString": {
        "description": "IntOrString is a type that can hold an int32 or a string.  When used in JSON or YAML "
                       "marshalling and unmarshalling, it produces or consumes the inner type.  This allows you "
                       "to have, for example, a JSON field that can accept a name or number.",
        "type": "string", "format": "int-or-string"},
    "io.k8s.apimachinery.pkg.api.resource.Quantity": {
        "description": "Quantity is a fixed-point representation of a number (e.g. 500m, 128Mi).", "type": "string"},
}


def _convert(node: Any, ref_prefix: str, v3: bool) -> Any:
    if isinstance(node, list):
        return [_convert(x, ref_prefix, v3) for x in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for k, v in node.items():
        if k in ("$schema", "$id"):
            continue
        if k == "$ref" and isinstance(v, str) and v.startswith(schema.REF_PREFIX):
            out[k] = ref_prefix + v[len(schema.REF_PREFIX):]
        elif k == "type" and isinstance(v, list):
            types = [t for t in v if t != "null"]
            if len(types) == 1:
                out[k] = types[0]
        elif k in ("properties", "definitions", "patternProperties") and isinstance(v, dict):
            out[k] = {pk: _convert(pv, ref_prefix, v3) for pk, pv in v.items()}
        else:
            out[k] = _convert(v, ref_prefix, v3)
    if "oneOf" in out and all(isinstance(x, dict) and set(x) <= {"type"} for x in out["oneOf"]):
        out.pop("oneOf")
        out.update({"type": "string", "format": "int-or-string"} if any(
            x.get("type") == "integer" for x in node["oneOf"] if isinstance(x.get("type"), str)) else {"type": "string"})
    if v3 and "$ref" in out and len(out) > 1:
        ref = out.pop("$ref")
        out = {"allOf": [{"$ref": ref}], **out}
    return out


@functools.cache
def _definitions(v3: bool) -> dict[str, Any]:
    prefix = "#/components/schemas/" if v3 else "#/definitions/"
    defs = {name: _convert(d, prefix, v3) for name, d in schema.definitions().items()}
    defs.update(SPECIAL)
    return defs


def _refs(node: Any, found: set[str], defs: dict[str, Any], prefix: str) -> None:
    stack = [node]
    while stack:
        cur = stack.pop()
        if isinstance(cur, dict):
            ref = cur.get("$ref")
            if isinstance(ref, str) and ref.startswith(prefix):
                name = ref[len(prefix):]
                if name not in found and name in defs:
                    found.add(name)
                    stack.append(defs[name])
            stack.extend(cur.values())
        elif isinstance(cur, list):
            stack.extend(cur)


def custom_definition_name(rt: ResourceType) -> str:
    return ".".join(reversed(rt.group.split("."))) + f".{rt.version}.{rt.kind}"


def _custom_schema(rt: ResourceType, prefix: str) -> dict[str, Any]:
    sch = json.loads(json.dumps(rt.crd_schema or {"type": "object"}))
    props = sch.setdefault("properties", {})
    props["apiVersion"] = {"type": "string", "description": "APIVersion defines the versioned schema of this "
                                                            "representation of an object."}
    props["kind"] = {"type": "string", "description": "Kind is a string value representing the REST resource "
                                                      "this object represents."}
    props["metadata"] = {"allOf": [{"$ref": f"{prefix}{META}.ObjectMeta"}]} if "components" in prefix else \
        {"$ref": f"{prefix}{META}.ObjectMeta"}
    sch["type"] = "object"
    sch["x-kubernetes-group-version-kind"] = [{"group": rt.group, "version": rt.version, "kind": rt.kind}]
    return sch


def _params(names: list[str], v3: bool) -> list[dict[str, Any]]:
    descr = {
        "dryRun": "When present, indicates that modifications should not be persisted.",
        "fieldManager": "fieldManager is a name associated with the actor or entity that is making these changes.",
        "fieldValidation": "fieldValidation instructs the server on how to handle objects in the request "
                           "containing unknown or duplicate fields. Valid values are: Ignore, Warn, Strict.",
        "force": "Force is going to \"force\" Apply requests.",
        "pretty": "If 'true', then the output is pretty printed.",
    }
    out = []
    for n in names:
        p: dict[str, Any] = {"name": n, "in": "query", "description": descr.get(n, n), "uniqueItems": True}
        if v3:
            p["schema"] = {"type": "boolean" if n == "force" else "string", "uniqueItems": True}
        else:
            p["type"] = "boolean" if n == "force" else "string"
        out.append(p)
    return out


def _paths(rt: ResourceType, ref: str, v3: bool) -> dict[str, Any]:
    gvk = {"group": rt.group, "version": rt.version, "kind": rt.kind}

    def op(action: str, params: list[str]) -> dict[str, Any]:
        o: dict[str, Any] = {"operationId": f"{action}{rt.kind}", "x-kubernetes-action": action,
                             "x-kubernetes-group-version-kind": gvk, "parameters": _params(params, v3),
                             "tags": [rt.group or "core"]}
        if v3:
            o["responses"] = {"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": ref}}}}}
        else:
            o["responses"] = {"200": {"description": "OK", "schema": {"$ref": ref}}}
        return o

    write = ["dryRun", "fieldManager", "fieldValidation", "pretty"]
    item = {"get": op("get", ["pretty"]), "put": op("put", write), "patch": op("patch", [*write, "force"]),
            "delete": op("delete", ["dryRun", "pretty"])}
    collection = {"get": op("list", ["pretty"]), "post": op("post", write)}
    if "deletecollection" in rt.verbs:
        collection["delete"] = op("deletecollection", ["dryRun", "pretty"])
    if rt.verbs == ("create",):
        return {rt.base_path(): {"post": op("post", write)}}
    base = rt.base_path("{namespace}") if rt.namespaced else rt.base_path()
    return {base: collection, base + "/{name}": item}


class OpenAPI:
    """Builds and caches the documents; call `invalidate()` when the set of served types changes."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self._cache: dict[str, tuple[bytes, str]] = {}

    def invalidate(self) -> None:
        self._cache.clear()

    def _cached(self, key: str, build: Any) -> tuple[bytes, str]:
        if key not in self._cache:
            body = json.dumps(build(), separators=(",", ":")).encode()
            self._cache[key] = (body, hashlib.sha512(body).hexdigest()[:64].upper())
        return self._cache[key]

    def v2(self) -> bytes:
        def build() -> dict[str, Any]:
            defs = dict(_definitions(False))
            paths: dict[str, Any] = {}
            for rt in self.registry.all():
                if rt.is_custom and rt.crd_schema is not None:
                    name = custom_definition_name(rt)
                    defs[name] = _convert(_custom_schema(rt, "#/definitions/"), "#/definitions/", False)
                else:
                    name = rt.definition or ""
                paths.update(_paths(rt, f"#/definitions/{name}", False))
            return {"swagger": "2.0", "info": {"title": "Kubernetes", "version": "v1.37.0"}, "paths": paths,
                    "definitions": defs}
        return self._cached("v2", build)[0]

    def _gv_doc(self, group: str, version: str) -> dict[str, Any]:
        prefix = "#/components/schemas/"
        defs = _definitions(True)
        found: set[str] = set()
        extra: dict[str, Any] = {}
        paths: dict[str, Any] = {}
        for rt in self.registry.all():
            if rt.group != group or rt.version != version:
                continue
            if rt.crd_schema is not None:
                name = custom_definition_name(rt)
                extra[name] = _convert(_custom_schema(rt, prefix), prefix, True)
                _refs(extra[name], found, defs, prefix)
            else:
                name = rt.definition or ""
                if name in defs:
                    found.add(name)
                    _refs(defs[name], found, defs, prefix)
            paths.update(_paths(rt, prefix + name, True))
        for common in ("Status", "DeleteOptions", "APIResourceList", "Patch", "WatchEvent"):
            n = f"{META}.{common}"
            if n in defs:
                found.add(n)
                _refs(defs[n], found, defs, prefix)
        schemas = {n: defs[n] for n in sorted(found)}
        schemas.update(extra)
        return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "v1.37.0"}, "paths": paths,
                "components": {"schemas": schemas}}

    def v3_group_versions(self) -> list[str]:
        out = []
        for group, versions in self.registry.groups().items():
            for v in versions:
                out.append(f"api/{v}" if not group else f"apis/{group}/{v}")
        return out

    def v3_root(self) -> bytes:
        paths = {}
        for gv in self.v3_group_versions():
            _, h = self.v3(gv)
            paths[gv] = {"serverRelativeURL": f"/openapi/v3/{gv}?hash={h}"}
        return json.dumps({"paths": paths}, separators=(",", ":")).encode()

    def v3(self, gv: str) -> tuple[bytes, str]:
        """(document, hash) for a group-version path such as "apis/apps/v1"; KeyError when not served."""
        parts = gv.strip("/").split("/")
        if parts[0] == "api" and len(parts) == 2:
            group, version = "", parts[1]
        elif parts[0] == "apis" and len(parts) == 3:
            group, version = parts[1], parts[2]
        else:
            raise KeyError(gv)
        if gv.strip("/") not in self.v3_group_versions():
            raise KeyError(gv)
        return self._cached(f"v3:{group}/{version}", lambda: self._gv_doc(group, version))
