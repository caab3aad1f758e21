"""Obvious repairs of policies the AWS parser rejects: a misspelt element or operator, an Effect in the
wrong case, an unknown Version, a bare ARN as Principal, a duplicate Sid, trailing commas.

Why only obvious ones: a syntax repair is offered to a person next to the error, never applied silently
(the CLI applies it with `--fix-syntax`); it must be the reading nobody would dispute. Each fixer answers
one kind of `PolicyError` at its JSON path and says what it changed; the document is re-parsed after each.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from policies.errors import PolicyError
from policies.model import Policy
from policies.parser import parse_policy

_STEP = re.compile(r'\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]')
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")


@dataclass
class SyntaxFix:
    """The repaired document, its parse, and what was changed (one line per change)."""

    document: dict[str, Any]
    policy: Policy
    changes: list[str] = field(default_factory=list)


def _steps(path: str) -> list[str | int] | None:
    if not path.startswith("$"):
        return None
    out: list[str | int] = []
    rest = path[1:]
    while rest:
        m = _STEP.match(rest)
        if not m:
            return None
        out.append(m.group(1) if m.group(1) else int(m.group(2)) if m.group(2) else json.loads(m.group(3)))
        rest = rest[m.end():]
    return out


def _parent(doc: Any, steps: list[str | int]) -> tuple[Any, str | int] | None:
    node = doc
    for s in steps[:-1]:
        try:
            node = node[s]
        except (KeyError, IndexError, TypeError):
            return None
    return (node, steps[-1]) if steps else None


def _rename(doc: Any, err: PolicyError) -> str | None:
    m = re.search(r"did you mean '([^']+)'\?", err.message)
    loc = _parent(doc, _steps(err.path) or [])
    if not m or loc is None or not isinstance(loc[0], dict) or loc[1] not in loc[0]:
        return None
    node, old = loc
    new = m.group(1)
    if new in node:
        return None
    items = [(new if k == old else k, v) for k, v in node.items()]
    node.clear()
    node.update(items)   # same place in the document: the layout is kept
    return f"{err.path}: renamed {old!r} to {new!r}"


def _effect(doc: Any, err: PolicyError) -> str | None:
    if not err.path.endswith(".Effect"):
        return None
    loc = _parent(doc, _steps(err.path) or [])
    if loc is None:
        return None
    node, key = loc
    value = node.get(key) if isinstance(node, dict) else None
    fixed = {"allow": "Allow", "deny": "Deny"}.get(str(value).strip().lower())
    if fixed is None:
        return None
    node[key] = fixed
    return f"{err.path}: {json.dumps(value)} -> {json.dumps(fixed)}"


def _version(doc: Any, err: PolicyError) -> str | None:
    if err.path != "$.Version" or not isinstance(doc, dict):
        return None
    old = doc["Version"]
    doc["Version"] = "2012-10-17"
    return f"$.Version: {json.dumps(old)} -> \"2012-10-17\" (the current policy language version)"


def _principal(doc: Any, err: PolicyError) -> str | None:
    loc = _parent(doc, _steps(err.path) or [])
    if loc is None or not str(loc[1]).endswith("Principal"):
        return None
    node, key = loc
    value = node.get(key) if isinstance(node, dict) else None
    values = value if isinstance(value, list) else [value]
    if not values or not all(isinstance(v, str) and (v.startswith("arn:") or re.fullmatch(r"\d{12}", v))
                             for v in values):
        return None
    node[key] = {"AWS": value}
    return f"{err.path}: {json.dumps(value)} -> {json.dumps(node[key])} (principals are typed)"


def _duplicate_sid(doc: Any, err: PolicyError) -> str | None:
    m = re.match(r"duplicate Sid (\".*\")", err.message)
    if not m or not isinstance(doc, dict) or not isinstance(doc.get("Statement"), list):
        return None
    sid = json.loads(m.group(1))
    used = {s.get("Sid") for s in doc["Statement"] if isinstance(s, dict)}
    seen = 0
    for i, s in enumerate(doc["Statement"]):
        if isinstance(s, dict) and s.get("Sid") == sid:
            seen += 1
            if seen > 1:
                n = 2
                while f"{sid}{n}" in used:
                    n += 1
                s["Sid"] = f"{sid}{n}"
                used.add(s["Sid"])
                return f"$.Statement[{i}].Sid: duplicate {json.dumps(sid)} -> {json.dumps(s['Sid'])}"
    return None


def _whitespace(doc: Any, err: PolicyError) -> str | None:
    if "contains whitespace" not in err.message:
        return None
    loc = _parent(doc, _steps(err.path) or [])
    if loc is None:
        return None
    node, key = loc
    old = node[key]
    node[key] = "".join(old.split())
    return f"{err.path}: {json.dumps(old)} -> {json.dumps(node[key])}"


_FIXERS: tuple[Callable[[Any, PolicyError], str | None], ...] = (
    _rename, _effect, _version, _principal, _duplicate_sid, _whitespace)


def suggest_fix(text: str | dict[str, Any], max_steps: int = 20) -> SyntaxFix | None:
    """The obvious repair of a rejected policy (JSON text or a decoded document), or None when some error
    has no obvious repair. A policy that parses needs none (None as well)."""
    changes: list[str] = []
    if isinstance(text, str):
        try:
            doc = json.loads(text)
        except RecursionError:
            return None
        except json.JSONDecodeError:
            stripped = _TRAILING_COMMA.sub(r"\1", text)
            try:
                doc = json.loads(stripped)
            except json.JSONDecodeError:
                return None
            changes.append("removed trailing commas (JSON allows none)")
    else:
        doc = copy.deepcopy(text)
    for _ in range(max_steps):
        try:
            policy = parse_policy(doc)
        except PolicyError as err:
            change = next((c for c in (f(doc, err) for f in _FIXERS) if c), None)
            if change is None:
                return None
            changes.append(change)
            continue
        return SyntaxFix(doc, policy, changes) if changes else None
    return None
