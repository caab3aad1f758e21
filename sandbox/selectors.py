"""Label and field selectors with the real API's syntax and error messages."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sandbox.errors import bad_request

Requirement = tuple[str, str, tuple[str, ...]]  # key, operator, values

_KEY = r"[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?"
_TOKEN = re.compile(r"\s*(!=|==|=|!|\(|\)|,|notin\b|in\b|[^\s!=(),]+)")


def _tokens(text: str) -> list[str]:
    out, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            if text[pos:].strip() == "":
                break
            raise bad_request(f"unable to parse requirement: {text!r}")
        out.append(m.group(1))
        pos = m.end()
    return out


def parse_label_selector(text: str | None) -> list[Requirement]:
    """Parse `a=b,c!=d,e in (x,y),f notin (z),g,!h` into requirements; 400 on bad syntax."""
    if not text or not text.strip():
        return []
    toks = _tokens(text)
    reqs: list[Requirement] = []
    i = 0

    def fail(msg: str) -> Exception:
        return bad_request(f"unable to parse requirement: {msg}")

    while i < len(toks):
        if toks[i] == "!":
            if i + 1 >= len(toks):
                raise fail("missing key after '!'")
            reqs.append((toks[i + 1], "!", ()))
            i += 2
        else:
            key = toks[i]
            if not re.fullmatch(_KEY, key):
                raise fail(f"invalid label key {key!r}")
            i += 1
            if i >= len(toks) or toks[i] == ",":
                reqs.append((key, "exists", ()))
            elif toks[i] in ("=", "==", "!="):
                op = "!=" if toks[i] == "!=" else "="
                val = toks[i + 1] if i + 1 < len(toks) and toks[i + 1] not in (",",) else ""
                i += 2 if val else 1
                reqs.append((key, op, (val,)))
            elif toks[i] in ("in", "notin"):
                op = toks[i]
                if i + 1 >= len(toks) or toks[i + 1] != "(":
                    raise fail(f"found '{toks[i + 1] if i + 1 < len(toks) else ''}', expected: '('")
                i += 2
                vals = []
                while i < len(toks) and toks[i] != ")":
                    if toks[i] != ",":
                        vals.append(toks[i])
                    i += 1
                if i >= len(toks):
                    raise fail("found '', expected: ')'")
                i += 1
                reqs.append((key, op, tuple(vals)))
            else:
                raise fail(f"found '{toks[i]}', expected: '=', '!=', '==', 'in', notin'")
        if i < len(toks):
            if toks[i] != ",":
                raise fail(f"found '{toks[i]}', expected: ','")
            i += 1
    return reqs


def labels_match(reqs: list[Requirement], labels: dict[str, str] | None) -> bool:
    labels = labels or {}
    for key, op, vals in reqs:
        present = key in labels
        if op == "exists" and not present:
            return False
        if op == "!" and present:
            return False
        if op == "=" and labels.get(key) != vals[0]:
            return False
        if op == "!=" and present and labels[key] == vals[0]:
            return False
        if op == "in" and (not present or labels[key] not in vals):
            return False
        if op == "notin" and present and labels[key] in vals:
            return False
    return True


def selector_from_label_selector(sel: dict[str, Any] | None) -> list[Requirement]:
    """A metav1.LabelSelector (matchLabels + matchExpressions) as requirements."""
    if not sel:
        return []
    reqs: list[Requirement] = [(k, "=", (str(v),)) for k, v in (sel.get("matchLabels") or {}).items()]
    for expr in sel.get("matchExpressions") or []:
        op = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!"}.get(expr.get("operator", ""))
        if op:
            reqs.append((expr.get("key", ""), op, tuple(expr.get("values") or ())))
    return reqs


def format_label_selector(sel: dict[str, Any] | None) -> str:
    """metav1.LabelSelector → the string form (as `status.selector` of a Scale shows it)."""
    parts = []
    for k, op, vals in selector_from_label_selector(sel):
        if op == "=":
            parts.append(f"{k}={vals[0]}")
        elif op in ("in", "notin"):
            parts.append(f"{k} {op} ({','.join(sorted(vals))})")
        elif op == "exists":
            parts.append(k)
        else:
            parts.append(f"!{k}")
    return ",".join(sorted(parts))


# Field selectors: every kind supports metadata.name and metadata.namespace; some add their own.
FIELD_LABELS: dict[str, tuple[str, ...]] = {
    "/pods": ("spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
              "spec.hostNetwork", "status.phase", "status.podIP", "status.podIPs", "status.nominatedNodeName"),
    "/events": ("involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
                "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath",
                "reason", "reportingComponent", "source", "type"),
    "events.k8s.io/events": ("regarding.kind", "regarding.namespace", "regarding.name", "regarding.uid",
                             "reason", "type", "reportingController"),
    "/secrets": ("type",),
    "/nodes": ("spec.unschedulable",),
    "/namespaces": ("status.phase",),
    "apps/replicasets": ("status.replicas",),
    "batch/jobs": ("status.successful",),
    "/replicationcontrollers": ("status.replicas",),
}


def _get_path(obj: dict[str, Any], path: str) -> str:
    cur: Any = obj
    for part in path.split("."):
        if not isinstance(cur, dict):
            return ""
        cur = cur.get(part)
    if cur is None:
        return ""
    if isinstance(cur, bool):
        return "true" if cur else "false"
    if path == "source" and isinstance(cur, dict):
        return str(cur.get("component", ""))
    return str(cur)


def parse_field_selector(text: str | None, resource_key: str) -> Callable[[dict[str, Any]], bool]:
    """A predicate for `fieldSelector`; 400 with the real message for unsupported labels."""
    if not text or not text.strip():
        return lambda obj: True
    allowed = {"metadata.name", "metadata.namespace"} | set(FIELD_LABELS.get(resource_key, ()))
    terms: list[tuple[str, bool, str]] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        m = re.fullmatch(r"([^=!]+?)\s*(==|!=|=)\s*(.*)", part)
        if not m:
            raise bad_request(f"invalid selector: '{text}'; can't understand '{part}'")
        field, op, value = m.group(1).strip(), m.group(2), m.group(3).strip()
        if field not in allowed:
            plural = resource_key.split("/", 1)[1]
            raise bad_request(f'field label not supported: {field}' if plural else f"field label not supported: {field}")
        terms.append((field, op != "!=", value))

    def pred(obj: dict[str, Any]) -> bool:
        for field, eq, value in terms:
            if (_get_path(obj, field) == value) != eq:
                return False
        return True

    return pred
