"""Generated (policy, request) cases for differential testing: the concrete evaluator, the Z3 encoding and
the independent simulator `@cloud-copilot/iam-simulate` must decide each the same way.

Every feature of the issue is exercised: Allow/Deny, NotAction/NotResource, `*`/`?` wildcards (actions in
mixed case, resources per segment), policy variables with and without defaults, every operator family,
`...IfExists`, `ForAllValues`/`ForAnyValue` (with empty and absent sets), negated operators on absent keys,
IPv4/IPv6 CIDRs, invalid typed request values, and resource policies with principals.

Cases stay inside what the simulator validates: real actions, resources of the action's type, global
condition keys given with their declared shape (lists only for multivalued keys). Where AWS's documentation
and the simulator differ, the case is classified by `policies.AMBIGUITIES` (see `classify`).
"""

from __future__ import annotations

import random
from typing import Any

from evals.iam_bench import catalog as cat


def _pick_names(rng: random.Random) -> dict[str, str]:
    return {k: rng.choice(v) for k, v in cat.NAMES.items()}


def _case_variant(rng: random.Random, text: str) -> str:
    r = rng.random()
    if r < 0.15:
        return text.upper()
    if r < 0.3:
        return text.lower()
    return text


def _action_pattern(rng: random.Random, service: str, action: str) -> str:
    r = rng.random()
    if r < 0.45:
        return f"{service}:{_case_variant(rng, action)}"
    if r < 0.6:
        return f"{service}:*"
    if r < 0.75:
        cut = rng.randint(1, max(1, len(action) - 1))
        return f"{service}:{action[:cut]}*"
    if r < 0.85:
        i = rng.randrange(len(action))
        return f"{service}:{action[:i]}?{action[i + 1:]}"
    if r < 0.9:
        return "*"
    return f"{service}:*{action[-3:]}"


def _resource_pattern(rng: random.Random, kind: str, names: dict[str, str], region: str) -> str:
    if kind == "*":
        return "*"
    concrete = cat.arn(kind, names, region)
    r = rng.random()
    if r < 0.3:
        return concrete
    if r < 0.4:
        return "*"
    if r < 0.55:  # wildcard at the end of the resource part
        parts = concrete.split(":", 5)
        res = parts[5]
        cut = rng.randint(len(res) // 2, len(res))
        return ":".join(parts[:5] + [res[:cut] + "*"])
    if r < 0.65 and kind not in ("object", "bucket"):  # wildcards in region / account segments
        parts = concrete.split(":", 5)
        parts[3] = rng.choice(["*", "us-*", "??-west-?", parts[3]])
        parts[4] = rng.choice(["*", parts[4], "1111*"])
        return ":".join(parts)
    if r < 0.75:  # ? inside the resource part
        parts = concrete.split(":", 5)
        res = parts[5]
        i = rng.randrange(len(res) // 2, len(res))
        return ":".join(parts[:5] + [res[:i] + "?" + res[i + 1:]])
    if r < 0.9 and kind == "object":  # policy variables
        return rng.choice([
            f"arn:aws:s3:::{names['bucket']}/home/${{aws:username}}/*",
            f"arn:aws:s3:::{names['bucket']}/${{aws:PrincipalTag/team, 'shared'}}/*",
            f"arn:aws:s3:::{names['bucket']}/home/${{aws:username}}*",
            "arn:aws:s3:::*/home/${aws:username}/notes.txt",
        ])
    if r < 0.9 and kind == "table":
        return f"arn:aws:dynamodb:*:{cat.ACCOUNT}:table/${{aws:PrincipalTag/project}}*"
    # a different name of the same kind
    return cat.arn(kind, _pick_names(rng), rng.choice(cat.REGIONS))


def _condition(rng: random.Random, features: set[str]) -> tuple[str, str, Any]:
    """(operator, key, value or values)."""
    family = rng.choice(["String", "String", "Arn", "Bool", "Numeric", "Date", "Ip", "Ip", "Null", "Set",
                         "Set", "Binary", "Var"])
    ifx = "IfExists" if rng.random() < 0.2 else ""
    many = rng.random() < 0.35
    if family == "String" or family == "Var":
        key = rng.choice(cat.STRING_KEYS)
        op = rng.choice(["StringEquals", "StringNotEquals", "StringEqualsIgnoreCase",
                         "StringNotEqualsIgnoreCase", "StringLike", "StringNotLike"])
        pool = cat.STRING_VALUES[key]
        vals = rng.sample(pool, k=min(len(pool), 2 if many else 1))
        if "Like" in op and rng.random() < 0.6:
            vals = [v[: max(1, len(v) // 2)] + rng.choice(["*", "?*", "*" + v[-1:]]) for v in vals]
        if family == "Var":
            key = rng.choice(["aws:PrincipalTag/team", "aws:RequestTag/env", "aws:username", "aws:userid"])
            vals = [rng.choice(["${aws:username}", "${aws:PrincipalTag/project}", "home-${aws:username}",
                                "${aws:PrincipalTag/team, 'data'}", "${aws:username}*"])]
            op = rng.choice(["StringEquals", "StringLike", "StringNotEquals", "StringNotLike"])
            if "*" in vals[0] and "Like" not in op:
                vals = ["${aws:username}"]
            features.add("variable")
        features.add(op)
        return op + ifx, key, vals if many or rng.random() < 0.5 else vals[0]
    if family == "Arn":
        key = rng.choice(cat.ARN_KEYS)
        op = rng.choice(["ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike"])
        v = rng.choice(cat.ARN_VALUES[key])
        parts = v.split(":", 5)
        r = rng.random()
        if r < 0.3:
            parts[3] = "*" if parts[3] else parts[3]
            parts[5] = parts[5][: len(parts[5]) // 2] + "*"
        elif r < 0.45:
            parts[4] = "*"
        elif r < 0.55:
            parts[5] = "user/${aws:username}" if key == "aws:PrincipalArn" else parts[5]
            features.add("variable")
        features.add(op)
        return op + ifx, key, ":".join(parts)
    if family == "Bool":
        key = rng.choice(cat.BOOL_KEYS)
        features.add("Bool")
        return "Bool" + ifx, key, rng.choice(["true", "false", "True", True, False])
    if family == "Numeric":
        op = rng.choice(["NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals",
                         "NumericGreaterThan", "NumericGreaterThanEquals"])
        features.add(op)
        vals = rng.sample(cat.NUMBERS, k=2 if many else 1)
        return op + ifx, cat.NUMERIC_KEYS[0], vals if many else vals[0]
    if family == "Date":
        op = rng.choice(["DateEquals", "DateNotEquals", "DateLessThan", "DateLessThanEquals", "DateGreaterThan",
                         "DateGreaterThanEquals"])
        features.add(op)
        vals = rng.sample(cat.DATES, k=2 if many else 1)
        return op + ifx, rng.choice(cat.DATE_KEYS), vals if many else vals[0]
    if family == "Ip":
        op = rng.choice(["IpAddress", "NotIpAddress"])
        features.add(op)
        pool = cat.IPV4_CIDRS + cat.IPV6_CIDRS
        vals = rng.sample(pool, k=2 if many else 1)
        return op + ifx, rng.choice(cat.IP_KEYS), vals if many else vals[0]
    if family == "Binary":
        features.add("BinaryEquals")
        return "BinaryEquals" + ifx, "aws:UserAgent", rng.choice(cat.STRING_VALUES["aws:UserAgent"])
    if family == "Null":
        features.add("Null")
        key = rng.choice(cat.STRING_KEYS + cat.IP_KEYS + cat.LIST_KEYS + cat.BOOL_KEYS)
        return "Null", key, rng.choice(["true", "false"])
    # set operators (on multivalued keys, sometimes on single-valued ones)
    qual = rng.choice(["ForAllValues", "ForAnyValue"])
    features.add(qual)
    if rng.random() < 0.8:
        key = rng.choice(cat.LIST_KEYS)
        pool = cat.LIST_VALUES[key]
        op = rng.choice(["StringEquals", "StringLike", "StringNotEquals", "StringNotLike", "StringEqualsIgnoreCase"])
        vals = rng.sample(pool, k=min(len(pool), rng.randint(1, 3)))
        if "Like" in op and rng.random() < 0.5:
            vals = [v[:3] + "*" for v in vals]
    else:
        key = rng.choice(cat.STRING_KEYS)
        op = rng.choice(["StringEquals", "StringNotEquals"])
        vals = rng.sample(cat.STRING_VALUES[key], k=1)
    return f"{qual}:{op}{ifx}", key, vals


def _context_value(rng: random.Random, key: str, policy_values: list[str]) -> Any:
    if key in cat.LIST_KEYS:
        pool = cat.LIST_VALUES[key]
        return rng.sample(pool, k=rng.randint(0, min(3, len(pool))))
    if key in cat.BOOL_KEYS:
        return rng.choice(["true", "false", "TRUE", "maybe"])
    if key in cat.NUMERIC_KEYS:
        return rng.choice(cat.NUMBERS + ["12", "abc"])
    if key in cat.DATE_KEYS:
        return rng.choice(cat.DATES + ["2024-03-01T08:00:00Z", "yesterday"])
    if key in cat.IP_KEYS:
        return rng.choice(cat.IPS + ["not-an-ip"])
    if key in cat.ARN_KEYS:
        options = list(cat.ARN_VALUES[key]) + [f"arn:aws:iam::{cat.ACCOUNT}:user/{rng.choice(['alice', 'bob'])}"]
        return rng.choice(options)
    pool = list(cat.STRING_VALUES.get(key, ["x"]))
    if policy_values and rng.random() < 0.3:
        pool += [v.replace("*", "abc").replace("?", "z") for v in policy_values if "${" not in v]
    return rng.choice(pool)


def generate_case(rng: random.Random) -> dict[str, Any]:
    """One random (policy, request) case with the features it exercises."""
    features: set[str] = set()
    resource_policy = rng.random() < 0.12
    services = rng.sample(sorted(cat.ACTIONS), k=rng.randint(1, 2))
    statements = []
    names = _pick_names(rng)
    region = rng.choice(cat.REGIONS)
    principal = rng.choice([f"arn:aws:iam::{cat.ACCOUNT}:user/alice", f"arn:aws:iam::{cat.ACCOUNT}:user/bob",
                            f"arn:aws:iam::{cat.ACCOUNT}:role/ci-deploy"])
    for _ in range(rng.randint(1, 3)):
        svc = rng.choice(services)
        acts = rng.sample(cat.ACTIONS[svc], k=rng.randint(1, min(3, len(cat.ACTIONS[svc]))))
        st: dict[str, Any] = {"Effect": "Allow" if rng.random() < 0.7 else "Deny"}
        if rng.random() < 0.1:
            st["NotAction"] = [_action_pattern(rng, svc, a) for a, _ in acts]
            features.add("NotAction")
        else:
            st["Action"] = [_action_pattern(rng, svc, a) for a, _ in acts]
        kinds = sorted({k for _, k in acts})
        res = [_resource_pattern(rng, k, names if rng.random() < 0.7 else _pick_names(rng), region) for k in kinds]
        if rng.random() < 0.1:
            st["NotResource"] = res
            features.add("NotResource")
        else:
            st["Resource"] = res if len(res) > 1 or rng.random() < 0.5 else res[0]
        if resource_policy:
            st["Principal"] = rng.choice(["*", {"AWS": principal}, {"AWS": [principal,
                                          f"arn:aws:iam::{cat.ACCOUNT}:user/carol"]},
                                          {"AWS": f"arn:aws:iam::{cat.ACCOUNT}:user/mallory"}])
            features.add("Principal")
        nconds = rng.choice([0, 0, 1, 1, 2, 3])
        if nconds:
            cond: dict[str, dict[str, Any]] = {}
            for _ in range(nconds):
                op, key, value = _condition(rng, features)
                cond.setdefault(op, {})[key] = value
                if "IfExists" in op:
                    features.add("IfExists")
            st["Condition"] = cond
        features.add(st["Effect"])
        statements.append(st)
    policy = {"Version": "2012-10-17", "Statement": statements}
    # the request: usually something the policy talks about
    svc = rng.choice(services)
    action, kind = rng.choice(cat.ACTIONS[svc])
    req_names = names if rng.random() < 0.6 else _pick_names(rng)
    resource = cat.arn(kind, req_names, region if rng.random() < 0.8 else rng.choice(cat.REGIONS))
    keys: dict[str, list[str]] = {}
    for st in statements:
        for block in st.get("Condition", {}).values():
            for k, v in block.items():
                keys.setdefault(k, []).extend(str(x) for x in (v if isinstance(v, list) else [v]))
    for extra in ("aws:username", "aws:PrincipalTag/team", "aws:PrincipalTag/project"):
        if rng.random() < 0.5:
            keys.setdefault(extra, [])
    context: dict[str, Any] = {}
    for k, vals in keys.items():
        if rng.random() < 0.8:
            context[k] = _context_value(rng, k, vals)
    if "aws:username" in context and rng.random() < 0.5:
        context["aws:PrincipalArn"] = f"arn:aws:iam::{cat.ACCOUNT}:user/{context['aws:username']}"
    request = {"action": f"{svc}:{action}", "resource": resource, "context": context}
    if resource_policy:
        request["principal"] = principal
    return {"policy": policy, "kind": "resource" if resource_policy else "identity", "request": request,
            "features": sorted(features)}


def generate_cases(seed: int, n: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [generate_case(rng) for _ in range(n)]
