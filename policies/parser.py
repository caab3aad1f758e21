"""Read policy and spec documents into the model, and write policies back as JSON.

Why strict: a repair is only as good as the reading of the policy. Unknown elements, misspelt operators,
values of the wrong type (`NumericLessThan` of "ten") are reported with their JSON path instead of being
ignored, the way IAM's own validator refuses them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from policies.errors import PolicyError, SpecError
from policies.model import Condition, Policy, Principal, Request, Spec, SpecCase, Statement
from policies.operators import VARIABLE_FAMILIES, parse_operator
from policies.patterns import tokenize, variables
from policies.values import parse_bool, parse_cidr, parse_date, parse_number

_TOP = {"Version", "Id", "Statement"}
_STATEMENT = {"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Principal", "NotPrincipal",
              "Condition"}
_VERSIONS = {"2012-10-17", "2008-10-17"}
_PRINCIPAL_TYPES = {"AWS", "Service", "Federated", "CanonicalUser"}
_KEY = re.compile(r"[A-Za-z0-9_.-]+:\S+")
# Input limits (issue 20: a budget needs bounded input). Far above AWS's own limits (6,144 characters for a
# managed policy, 10,240 for an inline role policy), so that generated stress policies still load.
MAX_CHARS = 16_000_000
MAX_STATEMENTS = 20_000
MAX_CONDITION_VALUES = 500_000


def _key_path(path: str, key: str) -> str:
    return f"{path}.{key}" if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key) else f"{path}[{json.dumps(key)}]"


def load_json(source: str | bytes | Path | Mapping[str, Any], what: str = "policy",
              error: type[PolicyError] = PolicyError) -> Any:
    """Decode JSON from text, bytes, a file path or an already-decoded mapping."""
    if isinstance(source, Mapping):
        return source
    if isinstance(source, Path):
        try:
            source = source.read_text(encoding="utf-8")
        except OSError as e:
            raise error("", f"cannot read {what} file: {e.strerror or e}") from None
        except UnicodeDecodeError:
            raise error("", f"{what} file is not UTF-8 text") from None
    if isinstance(source, bytes):
        try:
            source = source.decode("utf-8")
        except UnicodeDecodeError:
            raise error("", f"{what} is not UTF-8 text") from None
    if len(source) > MAX_CHARS:
        raise error("$", f"{what} is {len(source):,} characters; kubesage reads at most {MAX_CHARS:,} (AWS's own "
                    "limit for a managed policy is 6,144)")
    try:
        return json.loads(source)
    except json.JSONDecodeError as e:
        raise error("$", f"{what} is not valid JSON: {e.msg} at line {e.lineno} column {e.colno}") from None
    except RecursionError:
        raise error("$", f"{what} nests too deeply to be a {what}") from None


def _strings(value: Any, path: str, *, allow_empty: bool = False) -> tuple[tuple[str, ...], bool]:
    """A string or list of strings -> (tuple, written_as_list)."""
    if isinstance(value, str):
        return (value,), False
    if isinstance(value, list):
        if not value and not allow_empty:
            raise PolicyError(path, "must not be an empty list")
        for i, v in enumerate(value):
            if not isinstance(v, str):
                raise PolicyError(f"{path}[{i}]", f"must be a string, not {_kind(v)}")
        return tuple(value), True
    raise PolicyError(path, f"must be a string or a list of strings, not {_kind(value)}")


def _kind(v: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null",
            int: "a number", float: "a number"}.get(type(v), type(v).__name__)


def _suggest(name: str, known: set[str]) -> str:
    import difflib

    lower = {k.lower(): k for k in known}
    close = difflib.get_close_matches(name.lower(), sorted(lower), n=1, cutoff=0.6)
    return f" (did you mean '{lower[close[0]]}'?)" if close else ""


def parse_policy(source: str | bytes | Path | Mapping[str, Any]) -> Policy:
    """Parse a policy document; raise `PolicyError` (with a JSON path) if it is malformed."""
    doc = load_json(source, "policy")
    if not isinstance(doc, dict):
        raise PolicyError("$", f"a policy must be a JSON object, not {_kind(doc)}")
    for key in doc:
        if key not in _TOP:
            raise PolicyError(_key_path("$", key), f"unknown policy element{_suggest(key, _TOP)}")
    version = doc.get("Version")
    if version is not None and version not in _VERSIONS:
        raise PolicyError("$.Version", f"must be \"2012-10-17\" or \"2008-10-17\", not {json.dumps(version)}")
    pid = doc.get("Id")
    if pid is not None and not isinstance(pid, str):
        raise PolicyError("$.Id", "must be a string")
    if "Statement" not in doc:
        raise PolicyError("$", "missing \"Statement\"")
    raw = doc["Statement"]
    if isinstance(raw, dict):
        raws, listed = [raw], False
    elif isinstance(raw, list):
        raws, listed = raw, True
        if not raw:
            raise PolicyError("$.Statement", "must not be an empty list")
    else:
        raise PolicyError("$.Statement", f"must be an object or a list of objects, not {_kind(raw)}")
    variables_on = version == "2012-10-17"
    if len(raws) > MAX_STATEMENTS:
        raise PolicyError("$.Statement", f"{len(raws):,} statements; kubesage reads at most {MAX_STATEMENTS:,}")
    statements = []
    for i, st in enumerate(raws):
        path = f"$.Statement[{i}]" if listed else "$.Statement"
        statements.append(_parse_statement(st, path, variables_on))
    values = sum(len(c.values) for st in statements for c in st.conditions)
    if values > MAX_CONDITION_VALUES:
        raise PolicyError("$.Statement", f"{values:,} condition values; kubesage reads at most {MAX_CONDITION_VALUES:,}")
    seen: set[str] = set()
    for st in statements:    # a set: with thousands of statements, list.count was quadratic
        if st.sid in seen:
            raise PolicyError("$.Statement", f"duplicate Sid {json.dumps(st.sid)}")
        if st.sid:
            seen.add(st.sid)
    return Policy(tuple(statements), version, pid, listed)


def _parse_statement(st: Any, path: str, variables_on: bool) -> Statement:
    if not isinstance(st, dict):
        raise PolicyError(path, f"a statement must be an object, not {_kind(st)}")
    for key in st:
        if key not in _STATEMENT:
            raise PolicyError(_key_path(path, key), f"unknown statement element{_suggest(key, _STATEMENT)}")
    sid = st.get("Sid")
    if sid is not None and not isinstance(sid, str):
        raise PolicyError(f"{path}.Sid", "must be a string")
    effect = st.get("Effect")
    if effect is None:
        raise PolicyError(path, "missing \"Effect\"")
    if effect not in ("Allow", "Deny"):
        raise PolicyError(f"{path}.Effect", f"must be \"Allow\" or \"Deny\", not {json.dumps(effect)}")
    if ("Action" in st) == ("NotAction" in st):
        raise PolicyError(path, "needs exactly one of \"Action\" and \"NotAction\"")
    akey = "Action" if "Action" in st else "NotAction"
    actions, alist = _strings(st[akey], f"{path}.{akey}")
    for i, a in enumerate(actions):
        apath = f"{path}.{akey}" + (f"[{i}]" if alist else "")
        if a != "*" and (":" not in a or not a.split(":", 1)[0] or not a.split(":", 1)[1]):
            raise PolicyError(apath, f"{json.dumps(a)} is not an action (expected \"service:Action\" or \"*\")")
        if any(ch.isspace() for ch in a):
            raise PolicyError(apath, f"{json.dumps(a)} contains whitespace")
    if "Resource" in st and "NotResource" in st:
        raise PolicyError(path, "has both \"Resource\" and \"NotResource\"")
    resources: tuple[str, ...] | None = None
    rlist = True
    rkey = "Resource" if "Resource" in st else "NotResource" if "NotResource" in st else None
    if rkey:
        resources, rlist = _strings(st[rkey], f"{path}.{rkey}")
        for i, r in enumerate(resources):
            if not r:
                raise PolicyError(f"{path}.{rkey}" + (f"[{i}]" if rlist else ""), "is empty")
    if "Principal" in st and "NotPrincipal" in st:
        raise PolicyError(path, "has both \"Principal\" and \"NotPrincipal\"")
    principal = None
    pkey = "Principal" if "Principal" in st else "NotPrincipal" if "NotPrincipal" in st else None
    if pkey:
        principal = _parse_principal(st[pkey], f"{path}.{pkey}")
    if rkey is None and principal is None:
        raise PolicyError(path, "missing \"Resource\" (only resource-based policies with a Principal may omit it)")
    conditions: tuple[Condition, ...] = ()
    if "Condition" in st:
        conditions = _parse_conditions(st["Condition"], f"{path}.Condition", variables_on)
    return Statement(effect=effect, actions=actions, not_action=akey == "NotAction", resources=resources,
                     not_resource=rkey == "NotResource", conditions=conditions, principal=principal,
                     not_principal=pkey == "NotPrincipal", sid=sid, action_list=alist, resource_list=rlist)


def _parse_principal(value: Any, path: str) -> Principal:
    if value == "*":
        return Principal((("*", "*"),), star=True)
    if not isinstance(value, dict):
        raise PolicyError(path, f"must be \"*\" or an object such as {{\"AWS\": \"arn:...\"}}, not {_kind(value)}")
    if not value:
        raise PolicyError(path, "must not be empty")
    entries = []
    shapes = []
    for ptype, v in value.items():
        if ptype not in _PRINCIPAL_TYPES:
            raise PolicyError(_key_path(path, ptype), f"unknown principal type{_suggest(ptype, _PRINCIPAL_TYPES)}")
        vals, listed = _strings(v, _key_path(path, ptype))
        shapes.append((ptype, listed))
        for i, one in enumerate(vals):
            if not one:
                raise PolicyError(_key_path(path, ptype) + (f"[{i}]" if listed else ""), "is empty")
            entries.append((ptype, one))
    return Principal(tuple(entries), shapes=tuple(shapes))


def _parse_conditions(value: Any, path: str, variables_on: bool) -> tuple[Condition, ...]:
    if not isinstance(value, dict):
        raise PolicyError(path, f"must be an object of operators, not {_kind(value)}")
    out: list[Condition] = []
    for opname, block in value.items():
        opath = _key_path(path, opname)
        op = parse_operator(opname)
        if op is None:
            from policies.operators import BASE_NAMES

            raise PolicyError(opath, f"unknown condition operator{_suggest(opname, set(BASE_NAMES))}")
        if not isinstance(block, dict) or not block:
            raise PolicyError(opath, "must be a non-empty object of context keys")
        for key, raw in block.items():
            kpath = _key_path(opath, key)
            if not _KEY.fullmatch(key):
                raise PolicyError(kpath, "is not a context key (expected \"prefix:name\")")
            if isinstance(raw, list):
                if not raw:
                    raise PolicyError(kpath, "must not be an empty list")
                items, single = raw, False
            else:
                items, single = [raw], True
            values = []
            for i, item in enumerate(items):
                vpath = kpath if single else f"{kpath}[{i}]"
                if isinstance(item, bool):
                    item = "true" if item else "false"
                elif isinstance(item, (int, float)):
                    item = json.dumps(item)
                elif not isinstance(item, str):
                    raise PolicyError(vpath, f"must be a string, number or boolean, not {_kind(item)}")
                _check_value(op.family, op.base, item, vpath, variables_on)
                values.append(item)
            out.append(Condition(op, key, tuple(values), single))
    return tuple(out)


def _check_value(family: str, base: str, value: str, path: str, variables_on: bool) -> None:
    if variables_on and family not in VARIABLE_FAMILIES and variables(tokenize(value)):
        raise PolicyError(path, f"{base} does not accept policy variables")
    if family == "Numeric" and parse_number(value) is None:
        raise PolicyError(path, f"{json.dumps(value)} is not a number")
    if family == "Date" and parse_date(value) is None:
        raise PolicyError(path, f"{json.dumps(value)} is not an ISO 8601 date or epoch time")
    if family == "Ip" and parse_cidr(value) is None:
        raise PolicyError(path, f"{json.dumps(value)} is not an IP address or CIDR block")
    if family in ("Null",) and parse_bool(value) is None:
        raise PolicyError(path, f"Null takes \"true\" or \"false\", not {json.dumps(value)}")
    if family == "Bool" and parse_bool(value) is None and not (variables_on and variables(tokenize(value))):
        raise PolicyError(path, f"Bool takes \"true\" or \"false\", not {json.dumps(value)}")


def policy_to_json(policy: Policy) -> dict[str, Any]:
    """The policy as a JSON-ready dict, keeping the shapes it was written in (string vs list)."""
    doc: dict[str, Any] = {}
    if policy.version is not None:
        doc["Version"] = policy.version
    if policy.id is not None:
        doc["Id"] = policy.id
    sts = [statement_to_json(s) for s in policy.statements]
    doc["Statement"] = sts if policy.statement_list or len(sts) != 1 else sts[0]
    return doc


def statement_to_json(st: Statement) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if st.sid:
        out["Sid"] = st.sid
    out["Effect"] = st.effect
    if st.principal is not None:
        out["NotPrincipal" if st.not_principal else "Principal"] = st.principal.to_json()
    acts = list(st.actions)
    out["NotAction" if st.not_action else "Action"] = acts if st.action_list or len(acts) != 1 else acts[0]
    if st.resources is not None:
        res = list(st.resources)
        out["NotResource" if st.not_resource else "Resource"] = (
            res if st.resource_list or len(res) != 1 else res[0])
    if st.conditions:
        cond: dict[str, dict[str, Any]] = {}
        for c in st.conditions:
            vals: Any = c.values[0] if c.single_value and len(c.values) == 1 else list(c.values)
            cond.setdefault(c.op.name, {})[c.key] = vals
        out["Condition"] = cond
    return out


def dumps_policy(policy: Policy) -> str:
    return json.dumps(policy_to_json(policy), indent=2)


def parse_request(obj: Any, path: str = "$", error: type[PolicyError] = SpecError) -> Request:
    """A request object `{"action", "resource", "principal"?, "context"?}`."""
    if not isinstance(obj, dict):
        raise error(path, f"a request must be an object, not {_kind(obj)}")
    for key in ("action", "resource"):
        if not isinstance(obj.get(key), str) or not obj.get(key):
            raise error(f"{path}.{key}" if key in obj else path,
                        f"\"{key}\" must be a non-empty string" if key in obj else f"missing \"{key}\"")
    action = obj["action"]
    if action != "*" and ":" not in action:
        raise error(f"{path}.action", f"{json.dumps(action)} is not an action (expected \"service:Action\")")
    principal = obj.get("principal")
    if principal is not None and (not isinstance(principal, str) or not principal):
        raise error(f"{path}.principal", "must be a non-empty string (an ARN, account or service principal)")
    context = obj.get("context", {})
    if not isinstance(context, dict):
        raise error(f"{path}.context", f"must be an object, not {_kind(context)}")
    lowered: dict[str, str] = {}
    for key, value in context.items():
        kpath = _key_path(f"{path}.context", key)
        if key.lower() in lowered:
            raise error(kpath, f"duplicates context key {json.dumps(lowered[key.lower()])} (keys ignore case)")
        lowered[key.lower()] = key
        items = value if isinstance(value, list) else [value]
        for i, item in enumerate(items):
            if not isinstance(item, (str, int, float, bool)) or item is None:
                raise error(kpath + (f"[{i}]" if isinstance(value, list) else ""),
                            f"must be a string, number or boolean, not {_kind(item)}")
    return Request.make(action, obj["resource"], principal, context)


def parse_spec(source: str | bytes | Path | Mapping[str, Any]) -> Spec:
    """Parse a spec `{"requests": [{"action", "resource", "principal"?, "context"?, "expect"}]}`."""
    doc = load_json(source, "spec", SpecError)
    if not isinstance(doc, dict):
        raise SpecError("$", f"a spec must be a JSON object with \"requests\", not {_kind(doc)}")
    extra = set(doc) - {"requests", "description"}
    if extra:
        raise SpecError(_key_path("$", sorted(extra)[0]), "unknown spec element (expected \"requests\")")
    reqs = doc.get("requests")
    if not isinstance(reqs, list):
        raise SpecError("$.requests" if "requests" in doc else "$",
                        "\"requests\" must be a list" if "requests" in doc else "missing \"requests\"")
    cases = []
    for i, obj in enumerate(reqs):
        path = f"$.requests[{i}]"
        if isinstance(obj, dict):
            unknown = set(obj) - {"action", "resource", "principal", "context", "expect", "description"}
            if unknown:
                raise SpecError(_key_path(path, sorted(unknown)[0]), "unknown request element")
            expect = obj.get("expect")
            if expect not in ("allow", "deny"):
                raise SpecError(f"{path}.expect" if "expect" in obj else path,
                                "\"expect\" must be \"allow\" or \"deny\"" if "expect" in obj
                                else "missing \"expect\" (\"allow\" or \"deny\")")
        request = parse_request(obj, path)
        cases.append(SpecCase(request, obj["expect"] == "allow", i))
    return Spec(tuple(cases))


def spec_to_json(spec: Spec) -> dict[str, Any]:
    return {"requests": [{**c.request.to_json(), "expect": c.expect} for c in spec.cases]}
