"""Validation of incoming objects the way the API server does it: decoding (types, unknown fields) first,
then field validation (names, required values, kind rules), each with the real status and message.

Why: agents and users learn from these messages; a sandbox that accepts what a real cluster rejects would
teach them wrong habits and let evals pass that would fail for real.
"""

from __future__ import annotations

import re
from typing import Any

from sandbox import schema
from sandbox.errors import ApiError, bad_request, invalid
from sandbox.selectors import labels_match, selector_from_label_selector

DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
DNS1035_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")
QUALIFIED_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")

MSG_LABEL = ("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
             "start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
             "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
MSG_SUBDOMAIN = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
                 "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
                 "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
MSG_1035 = ("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
            "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', "
            "regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')")

# Kinds whose names must be DNS labels rather than subdomains.
LABEL_NAMED = {"Namespace"}
DNS1035_NAMED = {"Service"}
PATH_SEGMENT_NAMED = {"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"}

_GO_TYPES = {"integer": "int64", "number": "float64", "string": "string", "boolean": "bool",
             "object": "map[string]interface {}", "array": "[]interface {}"}


def name_errors(kind: str, name: str) -> list[str]:
    """Messages for an invalid metadata.name of `kind` (empty when valid)."""
    if kind in PATH_SEGMENT_NAMED:
        if name in (".", "..") or "/" in name or "%" in name:
            return [f'Invalid value: "{name}": may not contain \'/\' or \'%\'']
        return []
    if kind in DNS1035_NAMED:
        ok, msg, limit = DNS1035_LABEL.fullmatch(name), MSG_1035, 63
    elif kind in LABEL_NAMED:
        ok, msg, limit = DNS1123_LABEL.fullmatch(name), MSG_LABEL, 63
    else:
        ok, msg, limit = DNS1123_SUBDOMAIN.fullmatch(name), MSG_SUBDOMAIN, 253
    errs = []
    if len(name) > limit:
        errs.append(f'Invalid value: "{name}": must be no more than {limit} characters')
    if not ok:
        errs.append(f'Invalid value: "{name}": {msg}')
    return errs


def _label_errors(labels: Any, path: str) -> list[tuple[str, str]]:
    errs: list[tuple[str, str]] = []
    if not isinstance(labels, dict):
        return errs
    for k, v in labels.items():
        prefix, _, nm = k.rpartition("/")
        if not QUALIFIED_NAME.fullmatch(nm or "") or len(nm) > 63 or (prefix and not DNS1123_SUBDOMAIN.fullmatch(prefix)):
            errs.append((path, f'Invalid value: "{k}": name part must consist of alphanumeric characters, \'-\', \'_\' or \'.\', and must start and end with an alphanumeric character'))
        if not isinstance(v, str) or len(v) > 63 or not LABEL_VALUE.fullmatch(v):
            errs.append((f"{path}", f'Invalid value: "{v}": a valid label must be an empty string or consist of alphanumeric characters, \'-\', \'_\' or \'.\', and must start and end with an alphanumeric character'))
    return errs


class Decoded:
    """Result of decoding an object against its schema."""

    def __init__(self) -> None:
        self.unknown: list[str] = []
        self.duplicate: list[str] = []


def _type_ok(value: Any, types: set[str], fmt: str | None) -> bool:
    if not types:
        return True
    if value is None:
        return True
    if isinstance(value, bool):
        return "boolean" in types
    if isinstance(value, int):
        return bool(types & {"integer", "number"}) or (fmt == "int-or-string")
    if isinstance(value, float):
        return "number" in types or ("integer" in types and value.is_integer())
    if isinstance(value, str):
        return "string" in types
    if isinstance(value, dict):
        return "object" in types
    if isinstance(value, list):
        return "array" in types
    return False


def _decode(value: Any, sch: dict[str, Any], path: str, kind: str, api_version: str, out: Decoded,
            parent_type: str) -> Any:
    """Check types and drop unknown fields (returns the pruned value)."""
    sch = schema.resolve(sch)
    if "oneOf" in sch:  # IntOrString, Quantity: any scalar is accepted
        if isinstance(value, (dict, list)):
            raise bad_request(f'{kind} in version "{api_version}" cannot be handled as a {kind}: json: cannot '
                              f"unmarshal {'object' if isinstance(value, dict) else 'array'} into Go struct field "
                              f"{parent_type}.{path} of type intstr.IntOrString")
        return value
    types = schema.types_of(sch)
    if not _type_ok(value, types, sch.get("format")):
        got = "number" if isinstance(value, (int, float)) and not isinstance(value, bool) else \
            {str: "string", bool: "bool", dict: "object", list: "array"}.get(type(value), "value")
        want = _GO_TYPES.get(next(iter(sorted(types))), "value")
        if sch.get("format") == "int32":
            want = "int32"
        raise bad_request(f'{kind} in version "{api_version}" cannot be handled as a {kind}: json: cannot '
                          f"unmarshal {got} into Go struct field {parent_type}.{path} of type {want}")
    if isinstance(value, dict) and "object" in types:
        props = sch.get("properties")
        addl = sch.get("additionalProperties")
        if props is None and not isinstance(addl, dict):
            return value  # free-form object
        name = parent_type
        out_obj: dict[str, Any] = {}
        for k, v in value.items():
            sub_path = f"{path}.{k}" if path else k
            if props is not None and k in props:
                out_obj[k] = _decode(v, props[k], sub_path, kind, api_version, out, name)
            elif isinstance(addl, dict):
                out_obj[k] = _decode(v, addl, sub_path, kind, api_version, out, name)
            else:
                out.unknown.append(sub_path)
        return out_obj
    if isinstance(value, list) and "array" in types:
        items = sch.get("items") or {}
        return [_decode(v, items, f"{path}[{i}]", kind, api_version, out, parent_type) for i, v in enumerate(value)]
    return value


def decode(obj: dict[str, Any], definition: str | None, kind: str, api_version: str) -> tuple[dict[str, Any], list[str]]:
    """Type-check `obj` against its definition; returns the object without unknown fields, and those fields."""
    out = Decoded()
    if definition is None:
        return obj, []
    sch = schema.definitions().get(definition)
    if not sch:
        return obj, []
    pruned = _decode(obj, sch, "", kind, api_version, out, definition.rsplit(".", 1)[-1])
    return pruned, out.unknown


def _required(value: Any, sch: dict[str, Any], path: str, errs: list[tuple[str, str]], depth: int = 0) -> None:
    sch = schema.resolve(sch)
    if depth > 30:
        return
    if isinstance(value, dict):
        props = sch.get("properties") or {}
        if depth > 0:
            for req in sch.get("required") or []:
                if value.get(req) in (None, "", [], {}) and req in props:
                    if "boolean" in schema.types_of(schema.resolve(props[req])) and value.get(req) is False:
                        continue
                    if isinstance(value.get(req), (int, float)) and not isinstance(value.get(req), bool):
                        continue
                    errs.append((f"{path}.{req}" if path else req, "Required value"))
        for k, v in value.items():
            if depth == 0 and k in ("status", "metadata"):
                continue  # the server does not validate these against the schema's required lists
            if k in props:
                _required(v, props[k], f"{path}.{k}" if path else k, errs, depth + 1)
    elif isinstance(value, list):
        items = sch.get("items") or {}
        for i, v in enumerate(value):
            _required(v, items, f"{path}[{i}]", errs, depth + 1)


def _pod_spec_errors(spec: Any, path: str) -> list[tuple[str, str]]:
    errs: list[tuple[str, str]] = []
    if not isinstance(spec, dict):
        return [(path, "Required value")]
    containers = spec.get("containers")
    if not containers:
        errs.append((f"{path}.containers", "Required value"))
    names: set[str] = set()
    for group in ("initContainers", "containers"):
        for i, c in enumerate(spec.get(group) or []):
            if not isinstance(c, dict):
                continue
            cname = c.get("name") or ""
            if cname and not DNS1123_LABEL.fullmatch(cname):
                errs.append((f"{path}.{group}[{i}].name", f'Invalid value: "{cname}": {MSG_LABEL}'))
            if cname in names:
                errs.append((f"{path}.{group}[{i}].name", f'Duplicate value: "{cname}"'))
            names.add(cname)
            if not c.get("image"):
                errs.append((f"{path}.{group}[{i}].image", "Required value"))
    rp = spec.get("restartPolicy")
    if rp is not None and rp not in ("Always", "OnFailure", "Never"):
        errs.append((f"{path}.restartPolicy", f'Unsupported value: "{rp}": supported values: "Always", "OnFailure", "Never"'))
    return errs


def _workload_errors(obj: dict[str, Any]) -> list[tuple[str, str]]:
    spec = obj.get("spec") or {}
    errs: list[tuple[str, str]] = []
    sel = spec.get("selector")
    tmpl_labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    if not sel:
        errs.append(("spec.selector", "Required value"))
    elif not (sel.get("matchLabels") or sel.get("matchExpressions")):
        errs.append(("spec.selector", "Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment"))
    elif not labels_match(selector_from_label_selector(sel), tmpl_labels):
        errs.append(("spec.template.metadata.labels", f"Invalid value: {tmpl_labels!r}: `selector` does not match template `labels`"))
    errs.extend(_pod_spec_errors((spec.get("template") or {}).get("spec"), "spec.template.spec"))
    replicas = spec.get("replicas")
    if isinstance(replicas, int) and replicas < 0:
        errs.append(("spec.replicas", f"Invalid value: {replicas}: must be greater than or equal to 0"))
    return errs


def _service_errors(obj: dict[str, Any]) -> list[tuple[str, str]]:
    spec = obj.get("spec") or {}
    errs: list[tuple[str, str]] = []
    if spec.get("type", "ClusterIP") != "ExternalName" and not spec.get("ports") and spec.get("clusterIP") != "None":
        errs.append(("spec.ports", "Required value"))
    for i, p in enumerate(spec.get("ports") or []):
        port = p.get("port") if isinstance(p, dict) else None
        if not isinstance(port, int) or not 1 <= port <= 65535:
            errs.append((f"spec.ports[{i}].port", f"Invalid value: {port}: must be between 1 and 65535, inclusive"))
    t = spec.get("type")
    if t is not None and t not in ("ClusterIP", "NodePort", "LoadBalancer", "ExternalName"):
        errs.append(("spec.type", f'Unsupported value: "{t}": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"'))
    return errs


KIND_RULES = {
    ("", "Pod"): lambda o: _pod_spec_errors(o.get("spec"), "spec"),
    ("apps", "Deployment"): _workload_errors,
    ("apps", "ReplicaSet"): _workload_errors,
    ("apps", "StatefulSet"): _workload_errors,
    ("apps", "DaemonSet"): _workload_errors,
    ("", "Service"): _service_errors,
    ("batch", "Job"): lambda o: _pod_spec_errors(((o.get("spec") or {}).get("template") or {}).get("spec"), "spec.template.spec"),
}


def validate(obj: dict[str, Any], group: str, kind: str, definition: str | None, namespaced: bool) -> None:
    """Raise 422 Invalid with every field error found (names, labels, required values, kind rules)."""
    meta = obj.get("metadata") or {}
    name = meta.get("name") or ""
    errs: list[tuple[str, str]] = []
    if not name:
        errs.append(("metadata.name", "Required value: name or generateName is required"))
    else:
        errs.extend(("metadata.name", m) for m in name_errors(kind, name))
    errs.extend(_label_errors(meta.get("labels"), "metadata.labels"))
    if definition:
        _required(obj, schema.definitions().get(definition, {}), "", errs)
    rule = KIND_RULES.get((group, kind))
    if rule:
        errs.extend(rule(obj))
    if errs:
        raise invalid(kind, group, name or meta.get("generateName", ""), errs)


def check_is_object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise bad_request("the object provided is unrecognized (must be of type object)")
    return body


__all__ = ["ApiError", "decode", "validate", "name_errors", "check_is_object"]
