"""The Kubernetes API's type definitions, read from the installed `kubernetes-validate` package.

Why: the sandbox must serve the same OpenAPI documents a real API server serves (kubectl needs them for
`explain`, `apply` and validation), and it needs the same patch metadata (merge keys, list types) to
apply strategic merge patches and server-side apply. `kubernetes-validate` ships the official schemas
as JSON, so nothing is downloaded at run time.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

KUBE_VERSION = "v1.37.0"
REF_PREFIX = "#/$defs/"


def _schema_dir() -> Path:
    import kubernetes_validate

    root = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
    preferred = root / f"{KUBE_VERSION}-local"
    if preferred.is_dir():
        return preferred
    candidates = sorted(p for p in root.iterdir() if p.name.endswith("-local"))
    if not candidates:  # pragma: no cover - broken install
        raise RuntimeError(f"no Kubernetes schemas found under {root}")
    return candidates[-1]


@functools.cache
def definitions() -> dict[str, dict[str, Any]]:
    """All definitions by their OpenAPI name (e.g. ``io.k8s.api.apps.v1.Deployment``).

    References inside them are written ``{"$ref": "#/$defs/NAME"}``; JSON-Schema types are written as
    ``["string", "null"]`` lists (the package's nullable style).
    """
    with open(_schema_dir() / "_definitions.json", encoding="utf-8") as fh:
        return json.load(fh)["$defs"]


def ref_name(schema: dict[str, Any]) -> str | None:
    """The definition name a ``$ref`` schema points at, or None."""
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith(REF_PREFIX):
        return ref[len(REF_PREFIX):]
    return None


def resolve(schema: dict[str, Any] | None) -> dict[str, Any]:
    """Follow ``$ref`` (and single-element ``allOf``) until a concrete schema is reached."""
    seen = 0
    while schema and seen < 32:
        name = ref_name(schema)
        if name is not None:
            schema = definitions().get(name, {})
        elif "allOf" in schema and len(schema["allOf"]) == 1:
            schema = schema["allOf"][0]
        else:
            return schema
        seen += 1
    return schema or {}


def types_of(schema: dict[str, Any]) -> set[str]:
    """The JSON types a schema admits, without the nullable ``"null"`` marker."""
    t = schema.get("type")
    if t is None:
        return set()
    if isinstance(t, str):
        return {t}
    return {x for x in t if x != "null"}


@functools.cache
def definition_for_gvk(group: str, version: str, kind: str) -> str | None:
    """The definition name of a top-level kind, by its group/version/kind."""
    for name, schema in definitions().items():
        for gvk in schema.get("x-kubernetes-group-version-kind", []) or []:
            if gvk.get("group", "") == group and gvk.get("version") == version and gvk.get("kind") == kind:
                return name
    return None


def field_schema(schema: dict[str, Any], key: str) -> dict[str, Any]:
    """The (resolved) schema of property ``key`` of an object schema; {} when unknown."""
    schema = resolve(schema)
    props = schema.get("properties") or {}
    if key in props:
        return resolve(props[key])
    addl = schema.get("additionalProperties")
    if isinstance(addl, dict):
        return resolve(addl)
    return {}


def items_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The (resolved) schema of an array's items; {} when unknown."""
    items = resolve(schema).get("items")
    return resolve(items) if isinstance(items, dict) else {}
