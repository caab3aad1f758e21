"""`state`: assertions over cluster objects read (as admin) through the Kubernetes API after the last turn.

Why poll (`wait_s`): an approved fix takes sandbox time to roll out; the assertion is about where the cluster
ends up, not about the instant the answer came back.
"""

from __future__ import annotations

import re
import time
from typing import Any

from evals.harness.graders import Grader, Verdict, register
from evals.harness.graders._params import mapping
from evals.harness.trace import Trace

KEYS = {"kind", "namespace", "name", "selector", "path", "op", "value", "exists", "absent", "wait_s", "can"}
CAN_KEYS = {"user", "groups", "verb", "resource", "namespace", "group", "name"}
OPS = ("eq", "ne", "ge", "le", "gt", "lt", "contains", "not_contains", "matches", "exists", "missing")
_MISSING = object()


def resolve(obj: Any, path: str | None) -> Any:
    """`a.b.0.c` into nested dicts/lists; _MISSING when a step is absent."""
    if not path:
        return obj
    for part in path.split("."):
        if isinstance(obj, dict) and part in obj:
            obj = obj[part]
        elif isinstance(obj, list) and part.lstrip("-").isdigit() and -len(obj) <= int(part) < len(obj):
            obj = obj[int(part)]
        else:
            return _MISSING
    return obj


def _num(v: Any) -> float:
    if isinstance(v, bool):
        return float(v)
    return float(v)


def compare(got: Any, op: str, want: Any) -> bool:
    if op in ("exists", "missing"):  # the path itself is (not) there; value is ignored
        present = got is not _MISSING and got not in (None, [], {}, "")
        return present if op == "exists" else not present
    if got is _MISSING:
        return op == "ne"
    if op in ("ge", "le", "gt", "lt"):
        try:
            g, w = _num(got), _num(want)
        except (TypeError, ValueError):
            return False
        return {"ge": g >= w, "le": g <= w, "gt": g > w, "lt": g < w}[op]
    if op == "eq":
        return got == want or str(got) == str(want)
    if op == "ne":
        return not (got == want or str(got) == str(want))
    if op == "not_contains":
        return not compare(got, "contains", want)
    if op == "contains":
        if isinstance(got, dict):
            return want in got
        if isinstance(got, list):
            return want in got or str(want) in [str(x) for x in got]
        return str(want).lower() in str(got).lower()
    return bool(re.search(str(want), str(got), re.I))


def _one(a: dict[str, Any], trace: Trace) -> tuple[bool, str]:
    reader = trace.reader
    if reader is None:
        return False, "no cluster reader (the case did not run against a cluster)"
    if "can" in a:
        c = a["can"]
        allowed = reader.access(c["user"], list(c.get("groups") or []), c["verb"], c["resource"], c.get("namespace"),
                                c.get("group", ""), c.get("name"))
        want = bool(a.get("value", True))
        where = f"in {c['namespace']}" if c.get("namespace") else "cluster-wide"
        return allowed == want, (f"{c['user']} {'can' if allowed else 'cannot'} {c['verb']} {c['resource']} {where} "
                                 f"(want {'can' if want else 'cannot'})")
    kind, ns, name = a["kind"], a.get("namespace"), a.get("name")
    what = f"{kind} {ns + '/' if ns else ''}{name or '[' + str(a.get('selector') or '') + ']'}"
    if name:
        obj = reader.get(kind, ns, name)
    else:
        items = reader.list(kind, ns, a.get("selector"))
        obj = {"count": len(items), "items": items}
    if a.get("absent"):
        return obj is None, f"{what} {'is absent' if obj is None else 'exists'}"
    if obj is None:
        return False, f"{what} does not exist"
    if a.get("exists") and "path" not in a:
        return True, f"{what} exists"
    op = a.get("op", "eq")
    got = resolve(obj, a.get("path"))
    shown = "missing" if got is _MISSING else repr(got)[:120]
    ok = compare(got, op, a.get("value"))
    return ok, f"{what} {a.get('path')} = {shown} ({op} {a.get('value')!r}: {'holds' if ok else 'fails'})"


@register
class StateGrader(Grader):
    name = "state"

    @classmethod
    def validate(cls, params: Any) -> None:
        items = params if isinstance(params, list) else [params]
        if not items:
            raise ValueError("state needs at least one assertion")
        for a in items:
            a = mapping(a, KEYS, "state")
            if "can" in a:
                c = mapping(a["can"], CAN_KEYS, "state can")
                if not all(isinstance(c.get(k), str) for k in ("user", "verb", "resource")):
                    raise ValueError("state can needs user, verb and resource")
                if set(a) - {"can", "value", "wait_s"} or not isinstance(a.get("value", True), bool):
                    raise ValueError("a can assertion is {can: {user, groups, verb, resource, namespace, group}, "
                                     "value: true|false}")
                continue
            if not a.get("kind"):
                raise ValueError("state assertion needs kind")
            if not (a.get("name") or "selector" in a):
                raise ValueError(f"state assertion on {a['kind']} needs name or selector")
            if a.get("op", "eq") not in OPS:
                raise ValueError(f"op must be one of {', '.join(OPS)}")
            if not (a.get("exists") or a.get("absent") or "path" in a):
                raise ValueError("state assertion needs path (+ op, value), exists: true or absent: true")
            if a.get("op") == "matches":
                re.compile(str(a.get("value")))

    @classmethod
    def grade(cls, params: Any, trace: Trace) -> Verdict:
        items = params if isinstance(params, list) else [params]
        details, ok_all = [], True
        for a in items:
            deadline = time.monotonic() + float(a.get("wait_s") or 0)
            while True:
                ok, detail = _one(a, trace)
                if ok or time.monotonic() >= deadline:
                    break
                if trace.reader is not None:
                    trace.reader.wait(0.25)
            ok_all &= ok
            details.append(detail)
        return Verdict(ok_all, "; ".join(details))
