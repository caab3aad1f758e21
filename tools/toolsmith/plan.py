"""The plan form: a small, validated JSON description of a read-only query, and its JSON schema.

Why a plan and not code: a plan is one list call, filters and a projection, so a small local model can produce it
under a JSON-schema grammar, every field in it can be checked against the client's models before anything runs
("CronJob has no field status.lastRun; did you mean status.lastScheduleTime?"), and it can never mutate.
`tools.toolsmith.compile` turns a valid plan into the Python source of a tool.

    {"kind": "CronJob", "namespace": "batch" | null, "label_selector"?: "app=web",
     "filters": [{"field": "status.lastScheduleTime", "op": "older_than", "value": "1d"}],
     "project": ["metadata.name", "spec.containers[*].image"], "sort_by"?: "-status.restartCount",
     "limit"?: 5, "aggregate"?: "count" | "sum:<field>" | "group_count:<field>" | "distinct:<field>"}

Field paths are wire (camelCase) paths: `[*]` walks a list, `[type=Ready]` keeps the list elements whose `type` is
`Ready`, a path below a map is a key (`metadata.labels.app`, or `metadata.labels["app.kubernetes.io/name"]`),
and `len(p)`, `size(p)` (bytes of a map's values or a string), `sum(p)`, `max(p)`, `min(p)` compute on a path.
A filter may carry `"default"` (the value when the field is missing, e.g. 0 for a replica count), `"quantifier":
"all"` (every list element must pass; the default is any), and a value `{"field": "<path>"}` to compare two fields.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

OPS = ("older_than", "newer_than", "eq", "ne", "gt", "lt", "ge", "le", "contains", "matches", "exists", "missing",
       "in")
FUNCS = ("len", "size", "sum", "max", "min")
AGGREGATES = ("count", "sum", "group_count", "distinct")
DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?\s*(?:w|d|h|m|s)\s*)+$")


class PlanError(ValueError):
    """A plan that cannot be compiled; `problems` lists every reason, each saying what to change."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def plan_schema(kinds: list[str] | None = None) -> dict[str, Any]:
    """The JSON schema of a plan, for constrained decoding (an enum of kinds keeps a small model on the map)."""
    kind: dict[str, Any] = {"type": "string"}
    if kinds:
        kind["enum"] = sorted(kinds)
    return {
        "type": "object",
        "properties": {
            "kind": kind,
            "namespace": {"type": ["string", "null"]},
            "label_selector": {"type": "string"},
            "filters": {"type": "array", "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "op": {"type": "string", "enum": list(OPS)},
                               "value": {}, "default": {}, "quantifier": {"type": "string", "enum": ["any", "all"]}},
                "required": ["field", "op"]}},
            "project": {"type": "array", "items": {"type": "string"}},
            "sort_by": {"type": "string"},
            "limit": {"type": "integer", "minimum": 1},
            "aggregate": {"type": "string"},
        },
        "required": ["kind", "filters", "project"],
    }


# -- paths -------------------------------------------------------------------------------------------
_SEG = re.compile(r'\["((?:[^"\\]|\\.)*)"\]|([^.\[\]]+)(\[(?:\*|[^\]=]+=[^\]]*)\])?|\.')


def split_func(path: str) -> tuple[str, str]:
    """`sum(status.x[*].y)` → ("sum", "status.x[*].y"); a bare path → ("", path)."""
    m = re.fullmatch(r"\s*(\w+)\((.+)\)\s*", path)
    if m and m.group(1) in FUNCS:
        return m.group(1), m.group(2).strip()
    return "", path.strip()


def segments(path: str) -> list[list[Any]]:
    """A path as [name, selector] pairs: selector None, "*" or [key, value]."""
    out: list[list[Any]] = []
    pos = 0
    while pos < len(path):
        m = _SEG.match(path, pos)
        if m is None or m.end() == pos:
            raise PlanError([f"cannot read the field path {path!r} near {path[pos:]!r}"])
        pos = m.end()
        if m.group(1) is not None:
            out.append([m.group(1).replace('\\"', '"'), None])
        elif m.group(2) is not None:
            sel = m.group(3)
            if sel is None:
                out.append([m.group(2), None])
            elif sel == "[*]":
                out.append([m.group(2), "*"])
            else:
                k, _, v = sel[1:-1].partition("=")
                out.append([m.group(2), [k.strip(), v.strip()]])
    return out


def join(segs: list[list[Any]]) -> str:
    parts = []
    for name, sel in segs:
        s = name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else json.dumps(name)
        s = f"[{s}]" if s.startswith('"') else s
        if sel == "*":
            s += "[*]"
        elif sel:
            s += f"[{sel[0]}={sel[1]}]"
        parts.append(s)
    return ".".join(parts).replace(".[", "[")


def _fix_path(catalog: Any, kind: str, path: str, problems: list[str], what: str) -> str:
    """Check a path against the kind's fields; add `[*]` where a list is walked without it; map keys quoted."""
    func, inner = split_func(path)
    try:
        segs = segments(inner)
    except PlanError as e:
        problems.extend(e.problems)
        return path
    if not segs:
        problems.append(f"{what}: empty field path")
        return path
    fields = catalog.fields(kind) if catalog is not None else {}
    if not fields:  # a kind known only from discovery (a CRD): any path may exist
        return path
    fixed: list[list[Any]] = []
    i = 0
    while i < len(segs):
        name, sel = segs[i]
        head = join([*fixed, [name, None]]).replace("[*]", "[*]")
        norm = re.sub(r"\[[^\]*]+=[^\]]*\]", "[*]", head)
        typ = fields.get(norm)
        if typ is None:
            sugg = catalog.suggest(kind, n=2, path=re.sub(r"\[[^\]*]+=[^\]]*\]", "[*]", join([*fixed, *segs[i:]])))
            wrong = join([*fixed, *segs[i:]])
            problems.append(f"{kind} has no field {wrong}" + (f"; did you mean {' or '.join(sugg)}?" if sugg else ""))
            return path
        if typ == "map":
            fixed.append([name, None])
            if i + 1 < len(segs):
                key = ".".join(s[0] for s in segs[i + 1:])
                fixed.append([key, None])
            break
        if typ == "list" and sel is None and i + 1 < len(segs):
            sel = "*"
        if sel is not None and typ != "list":
            problems.append(f"{what}: {norm} is not a list, so it cannot take [{'*' if sel == '*' else '='.join(sel)}]")
            return path
        fixed.append([name, sel])
        i += 1
    out = join(fixed)
    return f"{func}({out})" if func else out


def _is_duration(v: Any) -> bool:
    return isinstance(v, str) and bool(DURATION.match(v))


def validate(plan: Any, catalog: Any = None) -> dict[str, Any]:
    """A normalized copy of `plan`, or PlanError listing every problem (unknown kind or field, bad operator or
    value), each with the fix when one is close."""
    problems: list[str] = []
    if not isinstance(plan, dict):
        raise PlanError(["a plan is a JSON object with kind, filters and project"])
    unknown = set(plan) - {"kind", "namespace", "label_selector", "filters", "project", "sort_by", "limit", "aggregate"}
    if unknown:
        problems.append(f"unknown plan keys: {', '.join(sorted(unknown))}")
    kind = plan.get("kind")
    if not isinstance(kind, str) or not kind:
        raise PlanError(["the plan needs a kind (e.g. \"Pod\", \"CronJob\")"])
    if catalog is not None and kind not in catalog.kinds:
        resolved = catalog.resolve_kind(kind)
        if resolved is None:
            import difflib

            close = difflib.get_close_matches(kind, list(catalog.kinds), n=2, cutoff=0.6)
            raise PlanError([f"unknown kind {kind!r}" + (f"; did you mean {' or '.join(close)}?" if close else "")])
        kind = resolved
    out: dict[str, Any] = {"kind": kind}
    ns = plan.get("namespace")
    info = catalog.kinds.get(kind) if catalog is not None else None
    if ns is not None and not (isinstance(ns, str) and re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", ns or "x")):
        problems.append(f"namespace must be a DNS label or null, got {ns!r}")
    out["namespace"] = (ns or None) if (info is None or info.namespaced) else None
    if plan.get("label_selector"):
        ls = plan["label_selector"]
        if not isinstance(ls, str) or not re.fullmatch(r"[\w./-]+\s*(!=|==|=)?\s*[\w.-]*(\s*,\s*!?[\w./-]+\s*(!=|==|=)?"
                                                       r"\s*[\w.-]*)*", ls):
            problems.append(f"label_selector must look like 'app=web,tier!=db', got {ls!r}")
        out["label_selector"] = ls
    filters = plan.get("filters") or []
    if not isinstance(filters, list):
        problems.append("filters must be a list")
        filters = []
    out["filters"] = []
    for n, f in enumerate(filters):
        if not isinstance(f, dict) or "field" not in f or "op" not in f:
            problems.append(f"filter {n + 1} needs field and op")
            continue
        op = f["op"]
        if op not in OPS:
            problems.append(f"filter {n + 1}: unknown op {op!r} (one of {', '.join(OPS)})")
            continue
        nf: dict[str, Any] = {"field": _fix_path(catalog, kind, str(f["field"]), problems, f"filter {n + 1}"), "op": op}
        v = f.get("value")
        if op in ("older_than", "newer_than"):
            if not _is_duration(v):
                problems.append(f"filter {n + 1}: {op} needs a duration such as \"1d\", \"2h\", \"30m\", got {v!r}")
        elif op in ("exists", "missing"):
            v = None
        elif op == "in":
            if not isinstance(v, list):
                problems.append(f"filter {n + 1}: in needs a list of values, got {v!r}")
        elif op == "matches":
            try:
                re.compile(str(v))
            except re.error as e:
                problems.append(f"filter {n + 1}: matches needs a regular expression: {e}")
        elif isinstance(v, dict):
            if set(v) != {"field"}:
                problems.append(f"filter {n + 1}: a value object must be {{\"field\": \"<path>\"}}")
            else:
                v = {"field": _fix_path(catalog, kind, str(v["field"]), problems, f"filter {n + 1} value")}
        elif v is None and op not in ("eq", "ne"):
            problems.append(f"filter {n + 1}: {op} needs a value")
        if v is not None:
            nf["value"] = v
        if "default" in f:
            nf["default"] = f["default"]
        if f.get("quantifier") in ("any", "all"):
            nf["quantifier"] = f["quantifier"]
        elif f.get("quantifier") is not None:
            problems.append(f"filter {n + 1}: quantifier is any or all")
        out["filters"].append(nf)
    project = plan.get("project") or []
    if not isinstance(project, list) or not all(isinstance(p, str) for p in project):
        problems.append("project must be a list of field paths")
        project = []
    base = ["metadata.namespace", "metadata.name"] if (info is None or info.namespaced) else ["metadata.name"]
    out["project"] = list(dict.fromkeys(base + [_fix_path(catalog, kind, p, problems, "project") for p in project]))
    if plan.get("sort_by"):
        sb = str(plan["sort_by"])
        desc = sb.startswith("-")
        out["sort_by"] = ("-" if desc else "") + _fix_path(catalog, kind, sb.lstrip("-"), problems, "sort_by")
    if plan.get("limit") is not None:
        lim = plan["limit"]
        if not isinstance(lim, int) or isinstance(lim, bool) or lim < 1:
            problems.append(f"limit must be a positive integer, got {lim!r}")
        else:
            out["limit"] = lim
    if plan.get("aggregate"):
        agg = str(plan["aggregate"])
        name, _, fld = agg.partition(":")
        if name not in AGGREGATES:
            problems.append(f"aggregate must be count, sum:<field>, group_count:<field> or distinct:<field>, "
                            f"got {agg!r}")
        elif name == "count":
            out["aggregate"] = "count"
        elif not fld:
            problems.append(f"aggregate {name} needs a field: {name}:<field>")
        else:
            out["aggregate"] = f"{name}:{_fix_path(catalog, kind, fld, problems, 'aggregate')}"
    if problems:
        raise PlanError(problems)
    return out


def fingerprint(plan: dict[str, Any]) -> str:
    """What makes two plans the same tool: everything but the namespace (that is an argument)."""
    body = {k: v for k, v in plan.items() if k != "namespace"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]


def describe(plan: dict[str, Any]) -> str:
    """The plan in one line of words, for answers and the registry description."""
    where = f" in {plan['namespace']}" if plan.get("namespace") else ""
    parts = [f"{plan['kind']}{where}"]
    for f in plan.get("filters") or []:
        v = f.get("value")
        v = f"field {v['field']}" if isinstance(v, dict) else json.dumps(v) if v is not None else ""
        parts.append(f"where {f['field']} {f['op'].replace('_', ' ')} {v}".rstrip())
    if plan.get("label_selector"):
        parts.append(f"labels {plan['label_selector']}")
    if plan.get("sort_by"):
        parts.append(f"sorted by {plan['sort_by']}")
    if plan.get("limit"):
        parts.append(f"first {plan['limit']}")
    if plan.get("aggregate"):
        parts.append(f"aggregate {plan['aggregate']}")
    return ", ".join(parts)


def result_schema(plan: dict[str, Any]) -> dict[str, Any]:
    """The JSON schema a compiled plan's result must satisfy (checked when the tool is tested)."""
    row = {"type": "object", "required": ["metadata.name"], "properties": {"metadata.name": {"type": "string"}}}
    props: dict[str, Any] = {"kind": {"type": "string"}, "items": {"type": "array", "items": row},
                             "count": {"type": "integer", "minimum": 0}}
    req = ["kind", "items", "count"]
    agg = (plan.get("aggregate") or "").partition(":")[0]
    if agg == "sum":
        props["sum"] = {"type": "number"}
        req.append("sum")
    elif agg == "group_count":
        props["groups"] = {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}}
        req.append("groups")
    elif agg == "distinct":
        props["values"] = {"type": "array"}
        req.append("values")
    return {"type": "object", "required": req, "properties": props}
