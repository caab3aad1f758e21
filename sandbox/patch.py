"""The three PATCH formats of the Kubernetes API, as pure functions over JSON-like values.

Why: the sandbox API server must answer ``kubectl patch``, ``kubectl edit`` and client-side ``kubectl apply``
(which sends strategic merge patches) the way a real kube-apiserver does, so that what an agent sees in
the sandbox is what it would see on a cluster.

* :func:`json_patch` -- RFC 6902 (``application/json-patch+json``).
* :func:`merge_patch` -- RFC 7386 (``application/merge-patch+json``).
* :func:`strategic_merge_patch` -- ``application/strategic-merge-patch+json``; a port of
  ``k8s.io/apimachinery/pkg/util/strategicpatch`` (``mergeMap``, ``mergeSlice``, ``mergePatchIntoOriginal``,
  ``normalizeElementOrder``), driven by the patch metadata of the official OpenAPI definitions
  (``x-kubernetes-patch-strategy`` / ``x-kubernetes-patch-merge-key``).

Nothing here mutates its inputs, and every invalid patch raises :class:`PatchError`.
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Callable
from typing import Any

from sandbox import schema as k8s_schema


class PatchError(ValueError):
    """The patch cannot be applied (malformed patch, bad pointer, bad directive, ...)."""


class PatchTestFailed(PatchError):
    """A JSON patch ``test`` operation did not hold (the API server answers 422 for it)."""


def _guarded(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Report anything a malformed patch trips over as a PatchError, so callers handle a single type."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except PatchError:
            raise
        except (KeyError, TypeError, IndexError, AttributeError, RecursionError) as exc:
            raise PatchError(f"invalid patch: {exc!r}") from exc

    return wrapper


# --------------------------------------------------------------------------- JSON values


def _kind(value: Any) -> str:
    """The JSON type of a value (bool is not a number, int and float are the same number type)."""
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    raise PatchError(f"not a JSON value: {type(value).__name__}")


def _equal(a: Any, b: Any) -> bool:
    """JSON equality: 1 == 1.0, but True != 1 (Python's == says otherwise)."""
    kind = _kind(a)
    if kind != _kind(b):
        return False
    if kind == "object":
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if kind == "array":
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    return a == b


# --------------------------------------------------------------------------- RFC 6902 JSON patch

_ARRAY_INDEX = re.compile(r"0|[1-9][0-9]*")
_BAD_ESCAPE = re.compile(r"~(?![01])")


def _parse_pointer(pointer: Any) -> list[str]:
    """RFC 6901 reference tokens of a JSON pointer ("" is the whole document)."""
    if not isinstance(pointer, str):
        raise PatchError(f"JSON pointer must be a string, got {pointer!r}")
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise PatchError(f"invalid JSON pointer {pointer!r}: it must start with '/'")
    tokens = []
    for raw in pointer[1:].split("/"):
        if _BAD_ESCAPE.search(raw):
            raise PatchError(f"invalid JSON pointer {pointer!r}: '~' must be followed by '0' or '1'")
        tokens.append(raw.replace("~1", "/").replace("~0", "~"))
    return tokens


def _array_index(token: str, array: list[Any], pointer: str, *, insert: bool) -> int:
    """The array position a token names; ``insert`` allows len(array) and "-" (add only)."""
    if insert and token == "-":
        return len(array)
    if not _ARRAY_INDEX.fullmatch(token):
        raise PatchError(f"invalid array index {token!r} in {pointer!r}")
    index = int(token)
    if index > len(array) or (index == len(array) and not insert):
        raise PatchError(f"array index {index} out of range in {pointer!r}")
    return index


def _child(node: Any, token: str, pointer: str) -> Any:
    if isinstance(node, dict):
        if token not in node:
            raise PatchError(f"path {pointer!r} does not exist")
        return node[token]
    if isinstance(node, list):
        return node[_array_index(token, node, pointer, insert=False)]
    raise PatchError(f"path {pointer!r} does not exist")


def _get(doc: Any, pointer: str) -> Any:
    node = doc
    for token in _parse_pointer(pointer):
        node = _child(node, token, pointer)
    return node


def _parent(doc: Any, tokens: list[str], pointer: str) -> Any:
    node = doc
    for token in tokens[:-1]:
        node = _child(node, token, pointer)
    if not isinstance(node, dict | list):
        raise PatchError(f"path {pointer!r} does not exist")
    return node


def _add(doc: Any, pointer: str, value: Any) -> Any:
    tokens = _parse_pointer(pointer)
    if not tokens:
        return value
    parent = _parent(doc, tokens, pointer)
    if isinstance(parent, dict):
        parent[tokens[-1]] = value
    else:
        parent.insert(_array_index(tokens[-1], parent, pointer, insert=True), value)
    return doc


def _remove(doc: Any, pointer: str) -> Any:
    """Remove the target and return it."""
    tokens = _parse_pointer(pointer)
    if not tokens:
        raise PatchError("cannot remove the whole document")
    parent = _parent(doc, tokens, pointer)
    if isinstance(parent, dict):
        if tokens[-1] not in parent:
            raise PatchError(f"cannot remove {pointer!r}: path does not exist")
        return parent.pop(tokens[-1])
    return parent.pop(_array_index(tokens[-1], parent, pointer, insert=False))


def _replace(doc: Any, pointer: str, value: Any) -> Any:
    tokens = _parse_pointer(pointer)
    if not tokens:
        return value
    parent = _parent(doc, tokens, pointer)
    if isinstance(parent, dict):
        if tokens[-1] not in parent:
            raise PatchError(f"cannot replace {pointer!r}: path does not exist")
        parent[tokens[-1]] = value
    else:
        parent[_array_index(tokens[-1], parent, pointer, insert=False)] = value
    return doc


def _operand(op: dict[str, Any], name: str, index: int) -> Any:
    if name not in op:
        raise PatchError(f"operation {index} ({op.get('op')}): missing {name!r}")
    return op[name]


@_guarded
def json_patch(doc: Any, ops: Any) -> Any:
    """Apply an RFC 6902 JSON patch; all operations succeed or the patch fails as a whole."""
    if not isinstance(ops, list):
        raise PatchError("a JSON patch must be a list of operations")
    result = copy.deepcopy(doc)
    for i, op in enumerate(ops):
        if not isinstance(op, dict):
            raise PatchError(f"operation {i} must be an object, got {op!r}")
        name = op.get("op")
        path = _operand(op, "path", i)
        if not isinstance(path, str):
            raise PatchError(f"operation {i}: 'path' must be a string")
        if name == "add":
            result = _add(result, path, copy.deepcopy(_operand(op, "value", i)))
        elif name == "remove":
            _remove(result, path)
        elif name == "replace":
            result = _replace(result, path, copy.deepcopy(_operand(op, "value", i)))
        elif name in ("move", "copy"):
            source = _operand(op, "from", i)
            value = _get(result, source)  # also validates `from`
            if name == "copy":
                result = _add(result, path, copy.deepcopy(value))
                continue
            src, dst = _parse_pointer(source), _parse_pointer(path)
            if src == dst:
                continue
            if dst[: len(src)] == src:
                raise PatchError(f"cannot move {source!r} into its own child {path!r}")
            result = _add(result, path, _remove(result, source))
        elif name == "test":
            expected = _operand(op, "value", i)
            _parse_pointer(path)  # a malformed pointer is a bad patch, not a failed test
            try:
                actual = _get(result, path)
            except PatchError as exc:
                raise PatchTestFailed(f"test failed: {exc}") from exc
            if not _equal(actual, expected):
                raise PatchTestFailed(f"test failed: value at {path!r} is {actual!r}, not {expected!r}")
        else:
            raise PatchError(f"operation {i}: unknown op {name!r}")
    return result


# --------------------------------------------------------------------------- RFC 7386 JSON merge patch


def _merge_into(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if not isinstance(target, dict):
        target = {}
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        else:
            target[key] = _merge_into(target.get(key), value)
    return target


@_guarded
def merge_patch(doc: Any, patch: Any) -> Any:
    """Apply an RFC 7386 JSON merge patch: objects merge, ``null`` deletes, anything else replaces."""
    return _merge_into(copy.deepcopy(doc), patch)


# --------------------------------------------------------------------------- strategic merge patch

_PATCH = "$patch"
_RETAIN_KEYS = "$retainKeys"
_SET_ORDER = "$setElementOrder/"
_DELETE_PRIMITIVES = "$deleteFromPrimitiveList/"
_X_STRATEGY = "x-kubernetes-patch-strategy"
_X_MERGE_KEY = "x-kubernetes-patch-merge-key"
_DELETED = object()  # what a map with `$patch: delete` merges to: its key is dropped from the parent


class _Meta:
    """Patch metadata of one field: the schema of its value (of its items, for lists), strategy, merge key."""

    def __init__(self, schema: dict[str, Any], strategy: str, merge_key: str) -> None:
        self.schema, self.strategy, self.merge_key = schema, strategy, merge_key


def _lookup(parent: dict[str, Any], key: str, *, is_list: bool) -> _Meta:
    """Patch metadata of field ``key`` of an object schema; unknown fields have none."""
    resolved_parent = k8s_schema.resolve(parent)
    raw = (resolved_parent.get("properties") or {}).get(key)
    if raw is None:
        addl = resolved_parent.get("additionalProperties")
        raw = addl if isinstance(addl, dict) else {}
    # The extensions may sit next to a $ref (DeploymentSpec.strategy), which resolving would lose.
    resolved = k8s_schema.resolve(raw)
    strategies = str(raw.get(_X_STRATEGY) or resolved.get(_X_STRATEGY) or "")
    merge_key = str(raw.get(_X_MERGE_KEY) or resolved.get(_X_MERGE_KEY) or "")
    # `retainKeys` only tells clients to send $retainKeys; the server acts on the other strategy.
    parts = [p for p in strategies.split(",") if p]
    others = [p for p in parts if p != "retainKeys"]
    if len(parts) > 2 or len(others) > 1:
        raise PatchError(f"unexpected patch strategy {strategies!r} for field {key!r}")
    sub = k8s_schema.items_schema(resolved) if is_list else resolved
    return _Meta(sub, others[0] if others else "", merge_key)


def _is_directive_key(key: str) -> bool:
    return key.startswith(_SET_ORDER) or key.startswith(_DELETE_PRIMITIVES)


def _directive_field(key: str, prefix: str) -> str:
    field = key[len(prefix):]
    if not field:
        raise PatchError(f"directive {key!r} names no field")
    return field


def _merge_map(original: dict[str, Any], patch: dict[str, Any], schema: dict[str, Any]) -> Any:
    """mergeMap: merge ``patch`` into ``original`` (both private copies, mutated); may return _DELETED."""
    if _PATCH in patch:
        directive = patch.pop(_PATCH)
        if directive == "replace":
            return _merge_map({}, patch, schema)  # the rest of the patch, with its own directives applied
        if directive == "delete":
            return _DELETED
        raise PatchError(f"invalid value for $patch in a map: {directive!r} (want 'replace' or 'delete')")
    _apply_retain_keys(original, patch)
    _apply_set_element_order(original, patch, schema)
    for key, value in patch.items():
        delete_list = key.startswith(_DELETE_PRIMITIVES)
        if delete_list:
            key = _directive_field(key, _DELETE_PRIMITIVES)
        if value is None:
            original.pop(key, None)
            continue
        current = original.get(key)
        if isinstance(current, dict) and isinstance(value, dict) and not delete_list:
            meta = _lookup(schema, key, is_list=False)
            if meta.strategy == "replace":  # e.g. PodDisruptionBudgetSpec.selector
                _store(original, key, _merge_map({}, value, meta.schema))
            else:
                _store(original, key, _merge_map(current, value, meta.schema))
        elif isinstance(current, list) and isinstance(value, list):
            meta = _lookup(schema, key, is_list=True)
            original[key] = _merge_list_field(current, value, meta, delete_list)
        elif not delete_list:  # absent, different types, or scalars: the patch value wins
            _store(original, key, _fresh(value, schema, key))
    return original


def _store(target: dict[str, Any], key: str, value: Any) -> None:
    if value is _DELETED:
        target.pop(key, None)
    else:
        target[key] = value


def _fresh(value: Any, schema: dict[str, Any], key: str) -> Any:
    """A patch value for a field the original lacks: applied to nothing, so no directive or null survives."""
    if isinstance(value, dict):
        return _merge_map({}, value, _lookup(schema, key, is_list=False).schema)
    if isinstance(value, list):
        return _merge_list_field([], value, _lookup(schema, key, is_list=True), False)
    return value


def _fresh_items(items: list[Any], item_schema: dict[str, Any]) -> list[Any]:
    out = []
    for item in items:
        if isinstance(item, dict):
            item = _merge_map({}, item, item_schema)
            if item is _DELETED:
                continue
        elif isinstance(item, list):  # no Kubernetes field nests lists, but keep directives out anyway
            item = _fresh_items(item, {})
        out.append(item)
    return out


def _apply_retain_keys(original: dict[str, Any], patch: dict[str, Any]) -> None:
    """$retainKeys: drop every key of ``original`` not listed (used with the retainKeys strategy)."""
    if _RETAIN_KEYS not in patch:
        return
    keep = patch.pop(_RETAIN_KEYS)
    if not isinstance(keep, list):
        raise PatchError("$retainKeys must be a list of field names")
    for key, value in patch.items():
        if value is not None and not _is_directive_key(key) and key not in keep:
            raise PatchError(f"field {key!r} is in the patch but not in its $retainKeys list {keep!r}")
    for key in list(original):
        if key not in keep:
            del original[key]


def _apply_set_element_order(original: dict[str, Any], patch: dict[str, Any], schema: dict[str, Any]) -> None:
    """mergePatchIntoOriginal: merge each list that has a $setElementOrder and order it as asked."""
    for directive in [k for k in patch if k.startswith(_SET_ORDER)]:
        order = patch.pop(directive)
        field = _directive_field(directive, _SET_ORDER)
        if not isinstance(order, list):
            raise PatchError(f"{directive} must be a list")
        live = original.get(field)
        change = patch.get(field)
        if live is not None and not isinstance(live, list):
            raise PatchError(f"{directive}: field {field!r} is not a list")
        if change is not None and not isinstance(change, list):
            raise PatchError(f"{directive}: the patch value of {field!r} is not a list")
        meta = _lookup(schema, field, is_list=True)
        _validate_order(change or [], order, meta.merge_key)
        if change is None:
            if live is None:
                continue
            merged = live
        else:
            merged = _merge_list_field(live or [], change, meta, False)
            del patch[field]
        if merged:
            key_of = _key_function(merged, meta.merge_key, directive)
            in_order, server_only = _partition(merged, order, key_of)
            merged = _normalize_order(in_order, server_only, order, live or [], key_of)
        original[field] = merged


def _validate_order(change: list[Any], order: list[Any], merge_key: str) -> None:
    """validatePatchWithSetOrderList: patch items must appear in $setElementOrder, in the same order."""
    def key(item: Any) -> Any:
        if not merge_key:
            return item
        if not isinstance(item, dict) or merge_key not in item:
            raise PatchError(f"$setElementOrder: item {item!r} has no merge key {merge_key!r}")
        return item[merge_key]

    items = [i for i in change if not (isinstance(i, dict) and _PATCH in i)]
    pos = 0
    for wanted in order:
        if pos < len(items) and _equal(key(items[pos]), key(wanted)):
            pos += 1
    if pos < len(items):
        raise PatchError(f"the order of the patch list {change!r} does not match $setElementOrder {order!r}")


def _merge_list_field(live: list[Any], change: list[Any], meta: _Meta, delete_list: bool) -> list[Any]:
    """mergeSliceHandler: only lists with the "merge" strategy merge; the rest are replaced.

    As in the real server, a ``$deleteFromPrimitiveList/<field>`` aimed at a list without the merge
    strategy replaces the list with the values to delete.
    """
    if meta.strategy != "merge":
        return _fresh_items(change, meta.schema)
    return _merge_list(live, change, meta, delete_list)


def _element_kind(*lists: list[Any]) -> str:
    kinds = {_kind(v) for lst in lists for v in lst}
    if "array" in kinds:
        raise PatchError("lists of lists cannot be merged")
    if len(kinds) > 1:
        raise PatchError(f"list element types are not identical: {sorted(kinds)}")
    return kinds.pop()


def _key_function(items: list[Any], merge_key: str, where: str) -> Callable[[Any], Any]:
    """What identifies a list element: its merge key value (objects) or itself (primitives)."""
    if _element_kind(items) != "object":
        return lambda item: item
    if not merge_key:
        raise PatchError(f"{where}: cannot merge a list of objects without a merge key")

    def key_of(item: Any) -> Any:
        if not isinstance(item, dict) or merge_key not in item:
            raise PatchError(f"{where}: element {item!r} has no merge key {merge_key!r}")
        return item[merge_key]

    return key_of


def _merge_list(live: list[Any], change: list[Any], meta: _Meta, delete_list: bool) -> list[Any]:
    """mergeSlice: merge a "merge"-strategy list, then order it like the real server does."""
    if not live and not change:
        return live
    where = f"list with merge key {meta.merge_key!r}" if meta.merge_key else "list"
    if _element_kind(live, change) != "object":
        if delete_list:  # $deleteFromPrimitiveList
            return [v for v in live if not any(_equal(v, d) for d in change)]
        merged: list[Any] = []
        for value in live + change:
            if not any(_equal(value, m) for m in merged):
                merged.append(value)
        key_of = _key_function(merged, "", where)
    else:
        key_of = _key_function(live + change, meta.merge_key, where)
        live, change = _apply_list_directives(live, change, key_of, meta)
        merged = list(live)
        for item in change:
            index = _index(merged, item, key_of)
            if index < 0:
                merged.append(_merge_map({}, item, meta.schema))
            else:
                merged[index] = _merge_map(merged[index], item, meta.schema)
    in_patch, server_only = _partition(merged, change, key_of)
    return _normalize_order(in_patch, server_only, change, live, key_of)


def _apply_list_directives(
    live: list[Any], change: list[Any], key_of: Callable[[Any], Any], meta: _Meta
) -> tuple[list[Any], list[Any]]:
    """mergeSliceWithSpecialElements: apply ``$patch`` elements; returns (live, remaining patch items)."""
    remaining, replace = [], False
    for item in change:
        if _PATCH not in item:
            remaining.append(item)
            continue
        directive = item[_PATCH]
        if directive == "delete":
            key = key_of(item)
            live = [v for v in live if not _equal(key_of(v), key)]
        elif directive == "replace":
            replace = True
        elif directive == "merge":
            raise PatchError("merging lists cannot yet be specified in the patch")
        else:
            raise PatchError(f"invalid value for $patch in a list: {directive!r} (want 'replace' or 'delete')")
    if replace:
        return _fresh_items(remaining, meta.schema), []
    return live, remaining


def _index(items: list[Any], item: Any, key_of: Callable[[Any], Any]) -> int:
    key = key_of(item)
    for i, candidate in enumerate(items):
        if _equal(key_of(candidate), key):
            return i
    return -1


def _partition(items: list[Any], by: list[Any], key_of: Callable[[Any], Any]) -> tuple[list[Any], list[Any]]:
    """Split into (items present in ``by``, the others), keeping order."""
    present, absent = [], []
    for item in items:
        (present if _index(by, item, key_of) >= 0 else absent).append(item)
    return present, absent


def _normalize_order(
    patch_items: list[Any],
    server_only: list[Any],
    patch_order: list[Any],
    server_order: list[Any],
    key_of: Callable[[Any], Any],
) -> list[Any]:
    """normalizeElementOrder + mergeSortedSlice of strategicpatch.

    Patch items follow ``patch_order``, server-only items keep their live order, and the two are
    interleaved by live position. A server-only item goes first only when it sits before the next patch
    item in the live list, so items new to the list land *before* the remaining server-only ones (the
    real server prepends an added container; ``kubectl apply`` avoids that by sending $setElementOrder).
    """

    def sort(items: list[Any], order: list[Any]) -> list[Any]:
        def rank(pair: tuple[int, Any]) -> tuple[int, int]:
            index = _index(order, pair[1], key_of)
            return (0, index) if index >= 0 else (1, pair[0])

        return [item for _, item in sorted(enumerate(items), key=rank)]

    left, right = sort(server_only, server_order), sort(patch_items, patch_order)
    out, i, j = [], 0, 0
    while i < len(left) or j < len(right):
        if j >= len(right):
            out.append(left[i])
            i += 1
        elif i >= len(left):
            out.append(right[j])
            j += 1
        else:
            li, ri = _index(server_order, left[i], key_of), _index(server_order, right[j], key_of)
            if 0 <= li < ri:
                out.append(left[i])
                i += 1
            else:
                out.append(right[j])
                j += 1
    return out


@_guarded
def strategic_merge_patch(doc: dict[str, Any], patch: dict[str, Any], definition: str | None) -> dict[str, Any]:
    """Apply a Kubernetes strategic merge patch to an object of OpenAPI definition ``definition``.

    ``definition`` is None for custom resources, which have no patch metadata; the real server refuses
    those with 415 Unsupported Media Type, and so does the caller on the PatchError raised here.
    """
    if definition is None:
        raise PatchError("strategic merge patch is not supported for custom resources")
    if not isinstance(doc, dict):
        raise PatchError("the object to patch must be a JSON object")
    if not isinstance(patch, dict):
        raise PatchError("a strategic merge patch must be a JSON object")
    root = k8s_schema.definitions().get(definition)
    if root is None:
        raise PatchError(f"unknown OpenAPI definition {definition!r}")
    result = _merge_map(copy.deepcopy(doc), copy.deepcopy(patch), root)
    return {} if result is _DELETED else result
