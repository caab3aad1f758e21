"""JSONPath-like field paths and conditions over Kubernetes objects, in the form people and models write them.

Why not full JSONPath: a model asks for one field or filters on one; `spec.template.spec.containers[name=web].image`,
`status.containerStatuses[0].restartCount`, `{.metadata.labels.app}` and `status.succeeded>=1` cover what the tools
need, and the same path converts to the numeric dot form (`spec.template.spec.containers.0.image`) the goal
assertions use (evals/harness/graders/state.py `resolve`).
"""

from __future__ import annotations

import re
from typing import Any

MISSING = object()
_STEP = re.compile(r"([^.\[\]]+)|\[(\d+|-\d+|\*)\]|\[([^\]=]+)=([^\]]*)\]")
_COND = re.compile(r"^\s*(?P<path>[^=!<>~]+?)\s*(?P<op>==|=|!=|>=|<=|>|<|~=)\s*(?P<value>.*?)\s*$")


class PathError(ValueError):
    """A path or condition that does not parse (the message shows the accepted form)."""


def steps(path: str) -> list[tuple[str, Any]]:
    """`a.b[0].c[name=x]` → [("key","a"), ("key","b"), ("index",0), ("key","c"), ("match",("name","x"))]."""
    p = path.strip()
    if p.startswith("{") and p.endswith("}"):
        p = p[1:-1]
    p = p.lstrip("$").lstrip(".")
    out: list[tuple[str, Any]] = []
    pos = 0
    while pos < len(p):
        if p[pos] == ".":
            pos += 1
            continue
        m = _STEP.match(p, pos)
        if m is None:
            raise PathError(f"cannot read the field path {path!r} at {p[pos:]!r}; write it like "
                            "spec.template.spec.containers[name=web].image or status.containerStatuses[0].ready")
        if m.group(1) is not None:
            word = m.group(1)
            out.append(("index", int(word)) if word.lstrip("-").isdigit() else ("key", word))
        elif m.group(2) is not None:
            out.append(("all", None) if m.group(2) == "*" else ("index", int(m.group(2))))
        else:
            out.append(("match", (m.group(3).strip(), m.group(4).strip().strip("'\""))))
        pos = m.end()
    return out


def get(obj: Any, path: str) -> Any:
    """The value at `path`, MISSING when a step is absent; `[*]` gives a list of the values under each item."""
    return _walk(obj, steps(path))


def _walk(obj: Any, st: list[tuple[str, Any]]) -> Any:
    for i, (kind, arg) in enumerate(st):
        if kind == "key":
            if not isinstance(obj, dict) or arg not in obj:
                return MISSING
            obj = obj[arg]
        elif kind == "index":
            if not isinstance(obj, list) or not -len(obj) <= arg < len(obj):
                return MISSING
            obj = obj[arg]
        elif kind == "match":
            if not isinstance(obj, list):
                return MISSING
            key, want = arg
            obj = next((x for x in obj if isinstance(x, dict) and str(x.get(key)) == want), MISSING)
            if obj is MISSING:
                return MISSING
        else:  # all
            if not isinstance(obj, list):
                return MISSING
            vals = [_walk(x, st[i + 1:]) for x in obj]
            return [v for v in vals if v is not MISSING]
    return obj


def numeric(obj: Any, path: str) -> str | None:
    """The goal-assertion form of `path` on this object (list filters turned into positions), None if absent."""
    out: list[str] = []
    for kind, arg in steps(path):
        if kind == "key":
            if not isinstance(obj, dict):
                return None
            out.append(arg)
            obj = obj.get(arg, MISSING)
        elif kind == "index":
            if not isinstance(obj, list) or not -len(obj) <= arg < len(obj):
                return None
            out.append(str(arg))
            obj = obj[arg]
        elif kind == "match":
            key, want = arg
            idx = next((i for i, x in enumerate(obj if isinstance(obj, list) else [])
                        if isinstance(x, dict) and str(x.get(key)) == want), None)
            if idx is None:
                return None
            out.append(str(idx))
            obj = obj[idx]
        else:
            return None
    return ".".join(out)


def condition(text: str) -> tuple[str, str, str]:
    """`status.succeeded>=1` → (path, op, value); ops: = (or ==), !=, >=, <=, >, <, ~= (contains)."""
    m = _COND.match(text)
    if m is None:
        raise PathError(f"cannot read the condition {text!r}; write it like status.phase=Succeeded or "
                        "status.succeeded>=1")
    op = "=" if m.group("op") == "==" else m.group("op")
    steps(m.group("path"))  # validates the path
    return m.group("path").strip(), op, m.group("value").strip().strip("'\"")


def holds(obj: Any, cond: tuple[str, str, str]) -> bool:
    """Does `obj` satisfy the condition? An absent field equals "" (so `status.succeeded!=1` holds without it)."""
    path, op, want = cond
    got = get(obj, path)
    got_s = "" if got is MISSING or got is None else str(got).lower() if isinstance(got, bool) else str(got)
    if op == "=":
        return got_s == want
    if op == "!=":
        return got_s != want
    if op == "~=":
        return want.lower() in got_s.lower()
    try:
        g, w = float(got_s or 0), float(want)
    except ValueError:
        return False
    return {">=": g >= w, "<=": g <= w, ">": g > w, "<": g < w}[op]
