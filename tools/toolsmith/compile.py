"""Compile a validated plan (tools.toolsmith.plan) into the Python source of a tool: `def main(kube, **args)`.

Why generated source and not an interpreter: the registry stores, shows and sandboxes every tool the same way,
whatever produced it (a plan or free-form code), and the sandboxed runner only accepts source that passes the
AST allowlist. The helpers for quantities ("500m", "128Mi"), durations ("1d", "2h") and RFC 3339 timestamps
are inlined, so a tool imports only `re`, `json` and `datetime`.
"""

from __future__ import annotations

from typing import Any

from tools.k8s.client import KINDS
from tools.toolsmith.plan import segments, split_func

_HELPERS = r'''
_UNITS = {"n": 1e-9, "u": 1e-6, "m": 1e-3, "": 1.0, "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15,
          "E": 1e18, "Ki": 2.0 ** 10, "Mi": 2.0 ** 20, "Gi": 2.0 ** 30, "Ti": 2.0 ** 40, "Pi": 2.0 ** 50,
          "Ei": 2.0 ** 60}
_QTY = re.compile(r"^\s*([+-]?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)\s*(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|K|M|G|T|P|E)?\s*$")
_DUR = re.compile(r"(\d+(?:\.\d+)?)\s*(w|d|h|m|s)")
_SECONDS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}


def _num(x):
    """A number from an int, a float or a Kubernetes quantity string ("500m" is 0.5, "128Mi" is 134217728)."""
    if isinstance(x, bool) or x is None:
        return None
    if isinstance(x, (int, float)):
        return x
    m = _QTY.match(str(x))
    if not m:
        return None
    return float(m.group(1)) * _UNITS[m.group(2) or ""]


def _dur(s):
    return sum(float(n) * _SECONDS[u] for n, u in _DUR.findall(str(s)))


def _ts(x):
    if not isinstance(x, str) or not x:
        return None
    try:
        t = datetime.datetime.fromisoformat(x.replace("Z", "+00:00"))
    except ValueError:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=datetime.timezone.utc)
    return t.timestamp()


def _now():
    return datetime.datetime.now(datetime.timezone.utc).timestamp()


def _walk(obj, segs):
    vals = [obj]
    for name, sel in segs:
        nxt = []
        for v in vals:
            x = v.get(name) if isinstance(v, dict) else None
            if sel is None:
                nxt.append(x)
            elif isinstance(x, list):
                if sel == "*":
                    nxt.extend(x)
                else:
                    nxt.extend(e for e in x if isinstance(e, dict) and str(e.get(sel[0])) == sel[1])
            else:
                nxt.append(None)
        vals = nxt
    return vals


def _size(v):
    if v is None:
        return 0
    if isinstance(v, dict):
        return sum(_size(x) for x in v.values())
    if isinstance(v, list):
        return sum(_size(x) for x in v)
    return len(str(v).encode("utf-8"))


def _vals(obj, path):
    func, segs = FIELDS[path]
    vals = _walk(obj, segs)
    if not func:
        return vals
    if func == "len":
        if len(vals) == 1 and isinstance(vals[0], (list, dict, str)):
            return [len(vals[0])]
        return [sum(1 for v in vals if v is not None)]
    if func == "size":
        return [sum(_size(v) for v in vals)]
    nums = [n for n in (_num(v) for v in vals) if n is not None]
    if func == "sum":
        return [sum(nums)]
    if not nums:
        return [None]
    return [max(nums) if func == "max" else min(nums)]


def _norm(x):
    if isinstance(x, bool):
        return "true" if x else "false"
    return str(x).lower()


def _empty(v):
    return v is None or v == "" or v == [] or v == {}


def _test(op, v, want):
    if op == "exists":
        return not _empty(v)
    if op == "missing":
        return _empty(v)
    if op in ("older_than", "newer_than"):
        t = _ts(v)
        if t is None:
            return False
        age = _now() - t
        return age > _dur(want) if op == "older_than" else age <= _dur(want)
    if op == "contains":
        if isinstance(v, list):
            return any(_norm(e) == _norm(want) for e in v)
        if isinstance(v, dict):
            return str(want) in v
        return v is not None and _norm(want) in _norm(v)
    if op == "matches":
        return v is not None and re.search(str(want), str(v)) is not None
    if op == "in":
        return _norm(v) in [_norm(w) for w in want] if v is not None else None in want
    if v is None or want is None:
        if op == "eq":
            return v is None and want is None
        if op == "ne":
            return (v is None) != (want is None)
        return False
    a, b = _num(v), _num(want)
    if a is None or b is None:
        a, b = _norm(v), _norm(want)
    if op == "eq":
        return a == b
    if op == "ne":
        return a != b
    if isinstance(a, str) != isinstance(b, str):
        return False
    return {"gt": a > b, "lt": a < b, "ge": a >= b, "le": a <= b}[op]


def _keep(obj, f):
    vals = _vals(obj, f["field"])
    has_default = "default" in f
    if has_default:
        vals = [f["default"] if v is None else v for v in vals] or [f["default"]]
    op = f["op"]
    if not vals:
        return op == "missing"
    want = f.get("value")
    if isinstance(want, dict):
        other = [w for w in _vals(obj, want["field"]) if w is not None]
        want = other[0] if other else (f["default"] if has_default else None)
    tests = [_test(op, v, want) for v in vals]
    if f.get("quantifier") == "all":
        return all(tests)
    return any(tests)


def _row(obj):
    row = {}
    for path in PLAN["project"]:
        vals = _vals(obj, path)
        row[path] = vals[0] if LISTY.get(path) is False else [v for v in vals if v is not None]
    return row


def _sortkey(obj, path):
    vals = [v for v in _vals(obj, path) if v is not None]
    if not vals:
        return (2, 0, "")
    n = _num(vals[0])
    return (0, n, "") if n is not None else (1, 0, str(vals[0]))


def _labels_match(obj, selector):
    labels = (obj.get("metadata") or {}).get("labels") or {}
    for term in [t.strip() for t in (selector or "").split(",") if t.strip()]:
        if "!=" in term:
            k, v = [s.strip() for s in term.split("!=", 1)]
            if labels.get(k) == v:
                return False
        elif "=" in term:
            k, v = [s.strip() for s in term.replace("==", "=").split("=", 1)]
            if labels.get(k) != v:
                return False
        elif term.startswith("!"):
            if term[1:].strip() in labels:
                return False
        elif term not in labels:
            return False
    return True


def _items(kube, ns, selector):
    if LISTABLE:
        return kube.list(PLAN["kind"], ns, label_selector=selector or None)
    path = API_PATH + ("/namespaces/" + ns if NAMESPACED and ns else "") + "/" + PLURAL
    got = kube.request("GET", path) or {}
    return [o for o in got.get("items") or [] if _labels_match(o, selector)]


def main(kube, **args):
    ns = args.get("namespace", PLAN["namespace"]) if NAMESPACED else None
    selector = args.get("label_selector", PLAN.get("label_selector"))
    objs = [o for o in _items(kube, ns, selector) if all(_keep(o, f) for f in PLAN["filters"])]
    sort_by = PLAN.get("sort_by")
    if sort_by:
        desc = sort_by.startswith("-")
        path = sort_by.lstrip("-")
        present = [o for o in objs if _sortkey(o, path)[0] < 2]
        absent = [o for o in objs if _sortkey(o, path)[0] == 2]
        objs = sorted(present, key=lambda o: _sortkey(o, path), reverse=desc) + absent
    if PLAN.get("limit"):
        objs = objs[: PLAN["limit"]]
    rows = [_row(o) for o in objs]
    out = {"kind": PLAN["kind"], "namespace": ns, "items": rows, "count": len(rows)}
    agg, _, field = (PLAN.get("aggregate") or "").partition(":")
    if agg == "sum":
        out["sum"] = sum(n for n in (_num(v) for o in objs for v in _vals(o, field)) if n is not None)
    elif agg == "group_count":
        groups = {}
        for o in objs:
            keys = [v for v in _vals(o, field) if v is not None] or ["<none>"]
            for k in dict.fromkeys(str(k) for k in keys):
                groups[k] = groups.get(k, 0) + 1
        out["groups"] = dict(sorted(groups.items(), key=lambda kv: (-kv[1], kv[0])))
    elif agg == "distinct":
        out["values"] = sorted({str(v) for o in objs for v in _vals(o, field) if v is not None})
    return out
'''


def _paths(plan: dict[str, Any]) -> list[str]:
    paths = list(plan.get("project") or [])
    for f in plan.get("filters") or []:
        paths.append(f["field"])
        if isinstance(f.get("value"), dict):
            paths.append(f["value"]["field"])
    if plan.get("sort_by"):
        paths.append(plan["sort_by"].lstrip("-"))
    agg = plan.get("aggregate") or ""
    if ":" in agg:
        paths.append(agg.partition(":")[2])
    return list(dict.fromkeys(paths))


def compile_plan(plan: dict[str, Any], catalog: Any = None) -> str:
    """Python source for a validated plan. `catalog` supplies where a kind outside tools.k8s.client.KINDS is served."""
    kind = plan["kind"]
    fields: dict[str, Any] = {}
    listy: dict[str, bool] = {}
    for p in _paths(plan):
        func, inner = split_func(p)
        segs = segments(inner)
        fields[p] = (func, [[name, sel] for name, sel in segs])
        listy[p] = not func and any(sel is not None for _, sel in segs)
    if kind in KINDS:
        group, version, plural, namespaced = KINDS[kind]
        api_path = f"/apis/{group}/{version}" if group else f"/api/{version}"
    else:
        info = catalog.kinds[kind] if catalog is not None else None
        if info is None:
            raise ValueError(f"no API path known for kind {kind}")
        api_path, plural, namespaced = info.api_path, info.plural, info.namespaced
    head = (
        f'"""Generated from a plan by the kubesage toolsmith: {kind}."""\n'
        "import datetime\nimport json\nimport re\n\n"
        f"PLAN = json.loads({json_literal(plan)})\n"
        f"FIELDS = {fields!r}\n"
        f"LISTY = {listy!r}\n"
        f"LISTABLE = {kind in KINDS!r}\n"
        f"NAMESPACED = {namespaced!r}\n"
        f"API_PATH = {api_path!r}\n"
        f"PLURAL = {plural!r}\n"
    )
    return head + _HELPERS


def json_literal(obj: Any) -> str:
    import json

    return repr(json.dumps(obj, sort_keys=True))
