"""Server-side apply (SSA) and ``metadata.managedFields`` tracking, as the kube-apiserver does them.

Why: ``kubectl apply --server-side``, ``kubectl scale/edit/label`` and the Python client all read or write
managedFields, and SSA conflicts are an error an agent must learn to handle. This module re-implements,
on plain JSON dicts and the official OpenAPI definitions (``sandbox.schema``), the parts of
sigs.k8s.io/structured-merge-diff (SMD: merge, compare, prune, ownership) and
k8s.io/apimachinery/pkg/util/managedfields (manager identity, stripped fields, timestamps, encoding)
that a sandboxed API server needs.

As in SMD, a *field set* is a set of paths; a path is a tuple of path elements, written in fieldsV1 as:

    ("f", name)                   a struct field or map key     "f:name"
    ("k", ((key, json), ...))     a list-map item (keys sorted)  'k:{"containerPort":80,"protocol":"TCP"}'
    ("v", json)                   a set-list item                'v:"x"'
    ("i", index)                  a list index (only read back)  "i:0"

Struct fields are members of a set only when they are leaves; list items and map keys always are (that
is what the ``"."`` entry of fieldsV1 records for a node that also has children).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any

from sandbox import schema

FieldPath = tuple[tuple[Any, ...], ...]
_Children = dict[tuple[Any, ...], tuple[Any, dict[str, Any], bool]]

_MISSING: Any = object()

# Keys SMD fills from the schema's `default` when an item omits them; the bundled schemas carry no
# defaults, and `protocol` (ports) is the one list-map key Kubernetes defaults.
_KEY_DEFAULTS = {"protocol": "TCP"}

# A custom resource without a schema: ObjectMeta is still typed (the apiserver embeds it), spec and
# status are declared fields as in any CRD, and everything below is "deduced" (lists atomic, maps granular).
_CR_ROOT: dict[str, Any] = {"properties": {
    "apiVersion": {"type": "string"},
    "kind": {"type": "string"},
    "metadata": {"$ref": schema.REF_PREFIX + "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"},
    "spec": {},
    "status": {},
}}

# Never recorded as owned (managedfields' stripMetaManager); removed as members only, not recursively.
_STRIPPED: set[FieldPath] = {(("f", "apiVersion"),), (("f", "kind"),), (("f", "metadata"),)} | {
    (("f", "metadata"), ("f", name)) for name in (
        "name", "namespace", "creationTimestamp", "selfLink", "uid", "clusterName", "generation",
        "managedFields", "resourceVersion")}

# Non-pointer struct fields of the built-in types, present (empty) in Go's zero value of an object.
_ZERO_STRUCTS = ("metadata", "spec", "status", "template", "jobTemplate", "strategy", "updateStrategy")

_LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"

# Server-owned metadata an apply configuration cannot set.
_IGNORED_META = ("managedFields", "resourceVersion", "uid", "creationTimestamp", "generation", "selfLink")


class ApplyConflict(Exception):
    """An apply would change fields other managers own; the server answers 409 Conflict.

    ``conflicts`` lists (manager, field path) pairs; ``causes`` are the Status ``details.causes`` the real
    server returns (reason ``FieldManagerConflict``, message naming the manager as the error text does).
    """

    def __init__(self, message: str, conflicts: list[tuple[str, str]], causes: list[dict[str, str]]):
        super().__init__(message)
        self.conflicts = conflicts
        self.causes = causes


# --------------------------------------------------------------------------- schema lookups

def _root(definition: str | None) -> dict[str, Any]:
    return _CR_ROOT if definition is None else {"$ref": schema.REF_PREFIX + definition}


def _annotation(raw: dict[str, Any], name: str) -> Any:
    """A property's own annotation wins over its referenced type's (e.g. claimRef is granular)."""
    return raw[name] if name in raw else schema.resolve(raw).get(name)


def _child(raw: dict[str, Any], key: str) -> tuple[dict[str, Any], bool]:
    """The schema of ``key`` in an object, and whether it is a declared (struct) field."""
    resolved = schema.resolve(raw)
    props = resolved.get("properties") or {}
    if key in props:
        return props[key], True
    extra = resolved.get("additionalProperties")
    return (extra if isinstance(extra, dict) else {}), False


def _items(raw: dict[str, Any]) -> dict[str, Any]:
    items = schema.resolve(raw).get("items")
    return items if isinstance(items, dict) else {}


def _list_keys(raw: dict[str, Any]) -> list[str] | None:
    """None for an atomic list, [] for a set, the keys for a list-map (SMD's schemaconv rules)."""
    list_type = _annotation(raw, "x-kubernetes-list-type")
    if list_type == "map":
        return list(_annotation(raw, "x-kubernetes-list-map-keys") or [])
    if list_type == "set":
        return []
    if list_type is not None:
        return None
    if "merge" in str(_annotation(raw, "x-kubernetes-patch-strategy") or "").split(","):
        key = _annotation(raw, "x-kubernetes-patch-merge-key")
        return [key] if key else []
    return None


def _json(value: Any) -> str:
    """Compact JSON as Go writes it (HTML characters escaped); also the canonical form of key values."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _item_element(item: Any, keys: list[str], item_raw: dict[str, Any]) -> tuple[Any, ...]:
    if not keys:
        return ("v", _json(item))
    if not isinstance(item, dict):
        raise ValueError("associative list with keys may not have non-map elements")
    fields = []
    for key in keys:
        if key in item:
            value = item[key]
        else:
            prop = _child(item_raw, key)[0]
            value = prop.get("default", schema.resolve(prop).get("default", _KEY_DEFAULTS.get(key, _MISSING)))
            if value is _MISSING:
                raise ValueError(f'associative list with keys has an element that omits key field "{key}" '
                                 "(and doesn't have default value)")
        fields.append((key, _json(value)))
    return ("k", tuple(sorted(fields)))


def _granular(value: Any, raw: dict[str, Any]) -> _Children | None:
    """A granular node's children: {path element: (value, schema, declared)}; None for a leaf.

    Leaves are scalars, atomic maps and atomic lists; duplicate list items keep their first occurrence.
    """
    if isinstance(value, dict):
        if _atomic_map_type(raw):
            return None
        return {("f", k): (v, *_child(raw, k)) for k, v in value.items()}
    if isinstance(value, list):
        keys = _list_keys(raw)
        if keys is None:
            return None
        item_raw = _items(raw)
        children: _Children = {}
        for item in value:
            children.setdefault(_item_element(item, keys, item_raw), (item, item_raw, False))
        return children
    return None


def _atomic_map_type(raw: dict[str, Any]) -> bool:
    return _annotation(raw, "x-kubernetes-map-type") == "atomic"


# --------------------------------------------------------------------------- field sets

def _field_set(value: Any, raw: dict[str, Any], path: FieldPath = ()) -> set[FieldPath]:
    """SMD ToFieldSet: leaves, list items and map keys of a value."""
    children = _granular(value, raw)
    if children is None:
        return {path} if path else set()
    out: set[FieldPath] = set()
    for element, (child, child_raw, declared) in children.items():
        child_path = path + (element,)
        out |= _field_set(child, child_raw, child_path)
        if not declared:
            out.add(child_path)
    return out


def _with_named_fields(paths: set[FieldPath], root: dict[str, Any]) -> set[FieldPath]:
    """SMD EnsureNamedFieldsAreMembers: struct fields above a member count as members (used by prune)."""
    out = set(paths)
    lookup: dict[FieldPath, tuple[dict[str, Any], bool]] = {(): (root, False)}
    for path in paths:
        for i in range(1, len(path)):
            prefix = path[:i]
            if prefix not in lookup:
                parent, element = lookup[path[:i - 1]][0], path[i - 1]
                lookup[prefix] = _child(parent, element[1]) if element[0] == "f" else (_items(parent), False)
            if lookup[prefix][1]:
                out.add(prefix)
    return out


def _without(paths: set[FieldPath], ignored: set[FieldPath]) -> set[FieldPath]:
    """SMD RecursiveDifference: drop the ignored paths and everything below them."""
    return {p for p in paths if not any(p[:len(i)] == i for i in ignored)}


# --------------------------------------------------------------------------- merge, compare, remove

def _merge(lhs: Any, rhs: Any, raw: dict[str, Any]) -> Any:
    """SMD Merge with keep-RHS leaves: maps union, list-maps and sets merge by key, the rest is replaced."""
    if rhs is _MISSING:
        return lhs
    if lhs is _MISSING or type(lhs) is not type(rhs):
        return rhs
    left, right = _granular(lhs, raw), _granular(rhs, raw)
    if left is None or right is None or not (left or right):
        return rhs
    if isinstance(rhs, dict):
        out = {e[1]: _merge(v, right[e][0] if e in right else _MISSING, r) for e, (v, r, _) in left.items()}
        out.update((e[1], v) for e, (v, _, _) in right.items() if e not in left)
        return out
    from_rhs = {e: _merge(left[e][0] if e in left else _MISSING, v, r) for e, (v, r, _) in right.items()}
    return _merge_list_order(list(left), list(right), from_rhs, {e: v for e, (v, _, _) in left.items()})


def _merge_list_order(lorder: list[Any], rorder: list[Any], from_rhs: dict[Any, Any],
                      from_lhs: dict[Any, Any]) -> list[Any]:
    """SMD's list ordering: live-only items keep their place, applied items follow the applied order."""
    shared = [e for e in rorder if e in from_lhs]
    out: list[Any] = []
    li = ri = si = 0
    while li < len(lorder) or ri < len(rorder):
        if li < len(lorder) and ri < len(rorder):
            element = lorder[li]
            if element == rorder[ri]:
                out.append(from_rhs[element])
                li, ri, si = li + 1, ri + 1, si + 1
                continue
            if element in from_rhs and si < len(shared) and shared[si] != element:
                li += 1  # a shared item the applied order places later
                continue
        if li < len(lorder) and lorder[li] not in from_rhs:
            out.append(from_lhs[lorder[li]])
            li += 1
        elif ri < len(rorder):
            element = rorder[ri]
            out.append(from_rhs[element])
            ri += 1
            if si < len(shared) and shared[si] == element:
                si += 1
        else:
            li += 1  # a shared item already emitted in applied order
    return out


def _compare(lhs: Any, rhs: Any, raw: dict[str, Any], path: FieldPath,
             added: set[FieldPath], removed: set[FieldPath], modified: set[FieldPath]) -> None:
    """SMD Compare: leaves added/removed/modified, plus granular nodes that appear or disappear."""
    # As in Go, a null container compares like an empty one.
    left = _granular(_null_as_empty(lhs, rhs), raw) if lhs is not _MISSING else None
    right = _granular(_null_as_empty(rhs, lhs), raw) if rhs is not _MISSING else None
    leaf = ((lhs is not _MISSING and left is None) or (rhs is not _MISSING and right is None)
            or not (left or right))
    if not leaf:
        left, right = left or {}, right or {}
        for element in left.keys() | right.keys():
            child_raw = (left.get(element) or right[element])[1]
            _compare(left[element][0] if element in left else _MISSING,
                     right[element][0] if element in right else _MISSING,
                     child_raw, path + (element,), added, removed, modified)
    if not path:
        return
    if lhs is _MISSING:
        added.add(path)
    elif rhs is _MISSING:
        removed.add(path)
    elif leaf and _json(lhs) != _json(rhs):
        modified.add(path)


def _null_as_empty(value: Any, other: Any) -> Any:
    return type(other)() if value is None and isinstance(other, dict | list) else value


def _diff(old: Any, new: Any, root: dict[str, Any],
          ignored: set[FieldPath]) -> tuple[set[FieldPath], set[FieldPath], set[FieldPath]]:
    """(added, removed, modified) from old to new, ignored fields left out (Comparison.ExcludeFields)."""
    added: set[FieldPath] = set()
    removed: set[FieldPath] = set()
    modified: set[FieldPath] = set()
    _compare(old, new, root, (), added, removed, modified)
    return _without(added, ignored), _without(removed, ignored), _without(modified, ignored)


def _remove(value: Any, raw: dict[str, Any], doomed: set[FieldPath]) -> Any:
    """SMD RemoveItems: drop each doomed path with its subtree; a container emptied this way goes too."""
    prefixes = {p[:i] for p in doomed for i in range(1, len(p))}

    def walk(node: Any, node_raw: dict[str, Any], path: FieldPath) -> Any:
        children = _granular(node, node_raw)
        if children is None:
            return node
        kept = []
        for element, (child, child_raw, _) in children.items():
            child_path = path + (element,)
            if child_path in doomed:
                continue
            child = walk(child, child_raw, child_path) if child_path in prefixes else child
            if child is not _MISSING:
                kept.append((element, child))
        if not kept:
            return _MISSING
        return {e[1]: v for e, v in kept} if isinstance(node, dict) else [v for _, v in kept]

    result = walk(value, raw, ())
    return {} if result is _MISSING else result


def _prune(merged: Any, root: dict[str, Any], last: set[FieldPath], owned: set[FieldPath]) -> Any:
    """SMD prune: remove what the applier applied last time but not now, unless someone still owns it.

    A literal port of prune/addBackOwnedItems/addBackDanglingItems, so that fields nobody owns but the
    applier never set (defaults, other writers) are left alone.
    """
    if not last:
        return merged
    last = _with_named_fields(last, root)
    owned = _with_named_fields(owned, root)
    merged_set = _with_named_fields(_field_set(merged, root), root)
    pruned = _remove(merged, root, last)
    pruned_set = _with_named_fields(_field_set(pruned, root), root)
    pruned = _remove(merged, root, merged_set - (pruned_set | owned))
    pruned_set = _with_named_fields(_field_set(pruned, root), root)
    return _remove(merged, root, (merged_set - pruned_set) & last)


# --------------------------------------------------------------------------- managedFields entries

@dataclass
class _Manager:
    manager: str
    operation: str
    api_version: str
    subresource: str = ""
    time: str | None = None
    fields: set[FieldPath] = field(default_factory=set)

    @property
    def identity(self) -> str:
        """managedfields' BuildManagerIdentifier: appliers keep one entry across API versions."""
        ident = {"manager": self.manager, "operation": self.operation}
        if self.operation != "Apply" and self.api_version:
            ident["apiVersion"] = self.api_version
        if self.subresource:
            ident["subresource"] = self.subresource
        return json.dumps(ident, separators=(",", ":"))

    def describe(self) -> str:
        """How conflict messages name a manager (printManager)."""
        text = json.dumps(self.manager)
        if self.subresource:
            text += f" with subresource {json.dumps(self.subresource)}"
        if self.operation == "Update":
            text += f" using {self.api_version}"
        return text

    def entry(self) -> dict[str, Any]:
        out: dict[str, Any] = {"manager": self.manager, "operation": self.operation}
        if self.api_version:
            out["apiVersion"] = self.api_version
        if self.time:
            out["time"] = self.time
        out["fieldsType"] = "FieldsV1"
        out["fieldsV1"] = _encode(self.fields)
        if self.subresource:
            out["subresource"] = self.subresource
        return out


def _decode_element(text: str) -> tuple[Any, ...] | None:
    kind, _, body = text.partition(":")
    try:
        if kind == "f":
            return ("f", body)
        if kind == "v":
            return ("v", _json(json.loads(body)))
        if kind == "k":
            keys = json.loads(body)
            if isinstance(keys, dict):
                return ("k", tuple(sorted((k, _json(v)) for k, v in keys.items())))
        if kind == "i":
            return ("i", int(body))
    except ValueError:
        return None
    return None  # unknown kinds are dropped, as SMD does


def _decode(tree: Any, prefix: FieldPath = ()) -> set[FieldPath]:
    out: set[FieldPath] = set()
    if not isinstance(tree, dict):
        return out
    for key, sub in tree.items():
        element = None if key == "." else _decode_element(key)
        if element is None:
            continue
        path = prefix + (element,)
        below = _decode(sub, path)
        if not below or (isinstance(sub, dict) and "." in sub):
            out.add(path)
        out |= below
    return out


def _element_order(element: tuple[Any, ...]) -> tuple[Any, ...]:
    """SMD PathElement order: fields < keys < values < indexes; values numbers < strings < bools < ..."""
    def value_order(text: str) -> tuple[int, Any]:
        value = json.loads(text)
        if isinstance(value, bool):
            return (2, value)
        if isinstance(value, int | float):
            return (0, value)
        if isinstance(value, str):
            return (1, value)
        return ({list: 3, dict: 4}.get(type(value), 5), text)

    kind, body = element
    if kind == "k":
        return (1, [(k, value_order(v)) for k, v in body])
    return ({"f": 0, "v": 2, "i": 3}[kind], value_order(body) if kind == "v" else body)


def _element_text(element: tuple[Any, ...]) -> str:
    kind, body = element
    if kind == "k":
        return "k:{" + ",".join(f"{_json(k)}:{v}" for k, v in body) + "}"
    return f"{kind}:{body}"


def _encode(paths: set[FieldPath]) -> dict[str, Any]:
    """The fieldsV1 JSON of a set, children in SMD order, "." first where a node is also a member."""
    tree: dict[Any, Any] = {}
    for path in paths:
        node = tree
        for element in path[:-1]:
            node = node.setdefault(element, [False, {}])[1]
        node.setdefault(path[-1], [False, {}])[0] = True

    def emit(node: dict[Any, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for element in sorted(node, key=_element_order):
            member, children = node[element]
            body = emit(children)
            out[_element_text(element)] = {".": {}, **body} if member and children else body
        return out

    return emit(tree)


def _path_text(path: FieldPath) -> str:
    """fieldpath.FieldPath.String(): .spec.containers[name="web"].image"""
    def scalar(text: str) -> str:
        value = json.loads(text)
        return json.dumps(value, ensure_ascii=False) if isinstance(value, str) else text

    parts = []
    for kind, body in path:
        if kind == "f":
            parts.append("." + body)
        elif kind == "k":
            parts.append("[" + ",".join(f"{k}={scalar(v)}" for k, v in body) + "]")
        elif kind == "v":
            parts.append(f"[={scalar(body)}]")
        else:
            parts.append(f"[{body}]")
    return "".join(parts)


def _iteration_order(path: FieldPath) -> tuple[Any, ...]:
    """Set.Iterate order: at each level members first, then children, each sorted."""
    return tuple((0 if i == len(path) - 1 else 1, _element_order(e)) for i, e in enumerate(path))


def _read_managers(entries: Any) -> dict[str, _Manager]:
    managers: dict[str, _Manager] = {}
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            continue
        manager = _Manager(str(entry.get("manager", "")), str(entry.get("operation", "")),
                           str(entry.get("apiVersion", "")), str(entry.get("subresource", "")),
                           entry.get("time"), _decode(entry.get("fieldsV1") or {}))
        managers[manager.identity] = manager
    return managers


def _write_managers(obj: dict[str, Any], managers: dict[str, _Manager]) -> dict[str, Any]:
    """Store the non-empty entries in the apiserver's order: Apply before Update, then time, manager."""
    live = [m for m in managers.values() if m.fields]
    live.sort(key=lambda m: (m.operation, m.time or "", m.manager, m.api_version, m.subresource))
    metadata = obj.setdefault("metadata", {})
    metadata.pop("managedFields", None)
    if live:
        metadata["managedFields"] = [m.entry() for m in live]
    return obj


def _take_managed(obj: dict[str, Any]) -> list[Any]:
    metadata = obj.get("metadata")
    return (metadata.pop("managedFields", None) or []) if isinstance(metadata, dict) else []


def _ignored(subresource: str | None, ignore_status: bool) -> set[FieldPath]:
    """The strategy's reset fields: status on the main resource, spec on /status."""
    if subresource == "status":
        return {(("f", "spec"),)}
    return {(("f", "status"),)} if ignore_status and not subresource else set()


def _baseline(raw: dict[str, Any], depth: int = 0) -> dict[str, Any]:
    """What a create is compared against: Go's zero value of a built-in object, approximated.

    It already holds the non-pointer structs (metadata, spec, template...) and null required fields, so
    a creator owns their contents but not the nodes themselves (no "." in fieldsV1), as on a real server.
    """
    resolved = schema.resolve(raw)
    props = resolved.get("properties") or {}
    zero: dict[str, Any] = {name: None for name in resolved.get("required") or [] if name in props}
    for name in _ZERO_STRUCTS:
        if name in props and schema.resolve(props[name]).get("properties") and depth < 8:
            zero[name] = _baseline(props[name], depth + 1)
    return zero


def _last_applied_text(applied: dict[str, Any]) -> str:
    config = copy.deepcopy(applied)
    annotations = (config.get("metadata") or {}).get("annotations")
    if isinstance(annotations, dict):
        annotations.pop(_LAST_APPLIED, None)
    return json.dumps(config, separators=(",", ":"), sort_keys=True) + "\n"


def _last_applied_fields(live: dict[str, Any], root: dict[str, Any], api_version: str) -> set[FieldPath]:
    """The fields of kubectl's last-applied-configuration annotation whose value the live object still has."""
    annotations = (live.get("metadata") or {}).get("annotations") or {}
    try:
        last = json.loads(annotations.get(_LAST_APPLIED) or "null")
        if not isinstance(last, dict) or last.get("apiVersion") != api_version:
            return set()
        added, removed, modified = _diff(last, live, root, set())
        return _field_set(last, root) - added - removed - modified
    except ValueError:
        return set()


def _record_update(managers: dict[str, _Manager], old: Any, new: Any, root: dict[str, Any],
                   ignored: set[FieldPath], me: _Manager, now: str) -> None:
    """SMD Update under a fresh manager, then merged into ``me`` (managedFieldsUpdater)."""
    added, removed, modified = _diff(old, new, root, ignored)
    for manager in managers.values():
        manager.fields -= added | modified | removed
    changed = (added | modified) - removed - _STRIPPED
    if changed:
        mine = managers.setdefault(me.identity, me)
        mine.fields |= changed
        mine.api_version, mine.time = me.api_version, now


# --------------------------------------------------------------------------- public API

def server_side_apply(live: dict[str, Any] | None, applied: dict[str, Any], *, manager: str, force: bool,
                      definition: str | None, api_version: str, now: str, subresource: str | None = None,
                      ignore_status: bool = True) -> dict[str, Any]:
    """Apply ``applied`` for ``manager`` and return the new object with managedFields updated.

    Raises ApplyConflict when a value changes for a field another manager owns (unless ``force``, which
    moves the ownership), and ValueError for a configuration SMD cannot type (a list-map item without
    its key). Inputs are never modified.
    """
    root = _root(definition)
    ignored = _ignored(subresource, ignore_status)
    config = copy.deepcopy(applied)
    _take_managed(config)
    if isinstance(config.get("metadata"), dict):
        for key in _IGNORED_META:
            config["metadata"].pop(key, None)
    for path in ignored:
        config.pop(path[0][1], None)

    current = copy.deepcopy(live) if live is not None else {}
    managers = _read_managers(_take_managed(current))
    if live is not None and not managers:
        # An object nobody tracked yet: its fields belong to "before-first-apply" (skipNonAppliedManager).
        _record_update(managers, _baseline(root), current, root, ignored,
                       _Manager("before-first-apply", "Update", api_version), now)

    me = _Manager(manager, "Apply", api_version, subresource or "")
    previous = managers.pop(me.identity, None)
    me.fields = _without(_field_set(config, root), ignored)
    owned = set(me.fields).union(*(m.fields for m in managers.values()))
    merged = _prune(_merge(current, config, root), root, previous.fields if previous else set(), owned)

    added, removed, modified = _diff(current, merged, root, ignored)
    conflicts = sorted(((m, p) for m in managers.values() for p in m.fields & (added | modified)),
                       key=lambda c: (c[0].identity, _iteration_order(c[1])))
    if conflicts and not force and manager == "kubectl":
        # kubectl upgrading from client-side apply (lastAppliedManager): fields its last-applied
        # annotation still matches count as its own, so they are taken over without a conflict.
        allowed = _last_applied_fields(current, root, api_version)
        conflicts = [(m, p) for m, p in conflicts if p not in allowed]
        force = not conflicts
    if conflicts and not force:
        raise _conflict_error(conflicts)
    for other in managers.values():
        other.fields -= added | modified | removed

    me.fields -= _STRIPPED
    changed = live is None or _json(current) != _json(merged)
    metadata = merged.get("metadata") or {}
    annotations = metadata.get("annotations") or {}
    if manager == "kubectl" and annotations.get(_LAST_APPLIED):
        # lastAppliedUpdater: keep the client-side annotation in step, so a later client-side apply
        # diffs against this configuration.
        annotations = {**annotations, _LAST_APPLIED: _last_applied_text(applied)}
        merged["metadata"] = {**metadata, "annotations": annotations}
    me.time = now if changed else (previous.time if previous else None)
    managers[me.identity] = me
    return _write_managers(merged, managers)


def track_update(old: dict[str, Any] | None, new: dict[str, Any], *, manager: str, operation: str,
                 definition: str | None, api_version: str, now: str, subresource: str | None = None,
                 ignore_status: bool = True) -> dict[str, Any]:
    """Record a create/update/patch by ``manager``: it takes every field that changed from the others.

    managedFields sent in ``new`` replace the live ones (``[{}]`` resets them), as the apiserver allows,
    except on subresources. If the object cannot be typed, managedFields are dropped rather than kept
    wrong (the apiserver's UpdateNoErrors).
    """
    root = _root(definition)
    result = copy.deepcopy(new)
    sent = _take_managed(result)
    before = copy.deepcopy(old) if old is not None else _baseline(root)
    live_entries = _take_managed(before)
    managers = _read_managers(sent if sent and not subresource else live_entries)
    try:
        _record_update(managers, before, result, root, _ignored(subresource, ignore_status),
                       _Manager(manager, operation, api_version, subresource or ""), now)
    except ValueError:
        managers = {}
    return _write_managers(result, managers)


def fields_v1(obj: dict[str, Any], definition: str | None) -> dict[str, Any]:
    """The fieldsV1 encoding of every field ``obj`` sets, less the fields the API never records."""
    value = copy.deepcopy(obj)
    _take_managed(value)
    return _encode(_field_set(value, _root(definition)) - _STRIPPED)


def _conflict_error(conflicts: list[tuple[_Manager, FieldPath]]) -> ApplyConflict:
    """The apiserver's message: one line for one conflict, else grouped by manager."""
    if len(conflicts) == 1:
        manager, path = conflicts[0]
        message = f"Apply failed with 1 conflict: conflict with {manager.describe()}: {_path_text(path)}"
    else:
        lines: list[str] = []
        for i, (manager, path) in enumerate(conflicts):
            if i == 0 or conflicts[i - 1][0] is not manager:
                lines.append(f"conflicts with {manager.describe()}:")
            lines.append(f"- {_path_text(path)}")
        message = f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)
    return ApplyConflict(
        message,
        [(m.manager, _path_text(p)) for m, p in conflicts],
        [{"reason": "FieldManagerConflict", "message": f"conflict with {m.describe()}", "field": _path_text(p)}
         for m, p in conflicts])
