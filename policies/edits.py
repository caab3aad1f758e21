"""Candidate edits for repair: small, typed changes to one statement (or one added statement), each with a
cost and a sentence that says what it does.

Why generators keyed on failure kinds: a request wrongly allowed can only be fixed by narrowing an Allow
that applies to it (or adding a Deny); one wrongly denied, by narrowing the Deny that applies or widening an
Allow that nearly applies. Generating only those edits, on the statements localization blames, keeps the
candidate set small enough to check every candidate concretely and prove the survivors with Z3.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from policies.budget import checkpoint
from policies.evaluator import (
    action_matches,
    condition_holds,
    decide,
    resource_matches,
    statement_applies,
)
from policies.localize import Failure, Localization
from policies.model import Condition, Policy, Principal, Request, Spec, SpecCase, Statement
from policies.operators import negation_of
from policies.patterns import glob_escape, resource_text, split_arn
from policies.values import format_ip, parse_bool, parse_date, parse_ip, parse_number

SID_PREFIX = "Kubesage"


@dataclass(frozen=True)
class Edit:
    """One change, described for people and machines."""

    kind: str
    text: str
    statement: int | None = None
    cost: int = 1
    pin_request: Request | None = field(default=None, compare=False)   # added statement that may need pins
    carved: tuple[Request, ...] = field(default=(), compare=False)     # requests a split Deny lets through
    deny: Statement | None = field(default=None, compare=False)        # the Deny that was split

    def to_json(self) -> dict:
        return {"kind": self.kind, "statement": self.statement, "text": self.text, "cost": self.cost}


@dataclass(frozen=True)
class Candidate:
    policy: Policy
    edits: tuple[Edit, ...]

    @property
    def cost(self) -> int:
        return sum(e.cost for e in self.edits)


# -- small helpers ------------------------------------------------------------------------------------------
def with_statement(policy: Policy, index: int, st: Statement | None) -> Policy:
    sts = list(policy.statements)
    if st is None:
        del sts[index]
    else:
        sts[index] = st
    return policy.with_statements(sts)


def with_added(policy: Policy, *sts: Statement) -> Policy:
    return policy.with_statements(list(policy.statements) + list(sts))


def add_condition(st: Statement, cond: Condition) -> Statement | None:
    """`st` with `cond` added; None if the statement already tests that operator on that key (JSON cannot
    hold two) or already has this very condition."""
    for c in st.conditions:
        if c.op.name == cond.op.name and c.lkey == cond.lkey:
            return None
    return st.with_(conditions=st.conditions + (cond,))


def put_condition(st: Statement, cond: Condition) -> Statement:
    """`st` with `cond`, replacing a condition with the same operator and key (pins are exact, so the pin
    is the narrower of the two for the request it is made from)."""
    kept = tuple(c for c in st.conditions if not (c.op.name == cond.op.name and c.lkey == cond.lkey))
    return st.with_(conditions=kept + (cond,))


def new_sid(policy: Policy, effect: str) -> str:
    used = {s.sid for s in policy.statements}
    n = 1
    while f"{SID_PREFIX}{effect}{n}" in used:
        n += 1
    return f"{SID_PREFIX}{effect}{n}"


def label(policy: Policy, i: int) -> str:
    return policy.statements[i].label(i)


def _fmt(values: list[str] | tuple[str, ...]) -> str:
    return ", ".join(values) if values else "(nothing)"


def cond_of(opname: str, key: str, values: list[str]) -> Condition:
    from policies.operators import parse_operator

    op = parse_operator(opname)
    assert op is not None, opname
    return Condition(op, key, tuple(values), single_value=len(values) == 1)


def canonical_action(action: str, spec: Spec) -> str:
    for c in spec.cases:
        if c.request.action.lower() == action.lower():
            return c.request.action
    return action


def lcp(strings: list[str]) -> str:
    return os.path.commonprefix(strings) if strings else ""


def action_globs(needed: list[str], exclude: list[str]) -> list[str]:
    """Wildcard patterns (longest common prefix + `*`) covering `needed` actions and none of `exclude`."""
    out: list[str] = []
    services = {a.split(":", 1)[0].lower() for a in needed}
    if len(services) != 1 or len(needed) < 2:
        return out
    prefix = lcp([a.lower() for a in needed])
    svc = next(iter(services))
    names = [a.split(":", 1)[1] for a in needed]
    name_prefix = lcp(names)
    for cut in (len(name_prefix),):
        if cut < 2 or len(prefix) <= len(svc) + 1:
            continue
        pat = f"{needed[0].split(':', 1)[0]}:{names[0][:cut]}*"
        if not any(action_matches((pat,), x) for x in exclude):
            out.append(pat)
    return out


def resource_globs(needed: list[str], exclude: list[str]) -> list[str]:
    """Wildcard patterns covering the `needed` resources and none of `exclude`: the longest common prefix
    cut at a path separator (`arn:aws:s3:::bucket/reports/*`), then the prefix itself."""
    if not needed:
        return []
    prefix = lcp(needed)
    outs = []
    for sep in ("/", ":"):
        cut = prefix.rfind(sep)
        if cut > len("arn:aws:s3:::"):
            outs.append(glob_escape(prefix[:cut + 1]) + "*")
    if prefix and prefix not in needed:
        outs.append(glob_escape(prefix) + "*")
    good = []
    for pat in outs:
        if pat in good or split_arn(pat) is None:
            continue
        if any(resource_matches((pat,), x, Request("", x), Policy((), "2012-10-17")) for x in exclude):
            continue
        good.append(pat)
    return good


def similarity(a: str, b: str) -> float:
    import difflib

    return difflib.SequenceMatcher(None, a.lower(), b.lower()).ratio()


def served(policy: Policy, index: int, spec: Spec) -> list[SpecCase]:
    """Spec cases decided correctly only thanks to statement `index`: without it they would flip."""
    st = policy.statements[index]
    without = with_statement(policy, index, None)
    out = []
    for c in spec.cases:
        if not statement_applies(st, c.request, policy):
            continue
        good_now = decide(policy, c.request).allowed == c.expect_allow
        good_without = decide(without, c.request).allowed == c.expect_allow
        if good_now and not good_without:
            out.append(c)
    return out


def keys_read(policy: Policy) -> set[str]:
    return policy.context_keys()


# -- conditions that tell requests apart ----------------------------------------------------------------
def _family_of_key(policy: Policy, lkey: str) -> str | None:
    for st in policy.statements:
        for c in st.conditions:
            if c.lkey == lkey and c.op.family != "Null":
                return c.op.family
    if policy.variables_enabled and lkey in policy.context_keys():
        return "String"   # read through a policy variable
    return _GLOBAL_FAMILY.get(lkey)


def _display_key(policy: Policy, spec: Spec, lkey: str) -> str:
    for st in policy.statements:
        for c in st.conditions:
            if c.lkey == lkey:
                return c.key
    from policies.patterns import tokenize, variables

    for st in policy.statements:
        for r in st.resources or ():
            for v in variables(tokenize(r)):
                if v.key == lkey and v.name:
                    return v.name
    return spec.key_name(lkey) or _GLOBAL_KEY_NAMES.get(lkey, lkey)


# AWS global condition keys and the operator family their values take (AWS global condition context keys)
_GLOBAL_KEYS = {
    "aws:SourceIp": "Ip", "aws:VpcSourceIp": "Ip", "aws:CurrentTime": "Date", "aws:EpochTime": "Date",
    "aws:TokenIssueTime": "Date", "aws:MultiFactorAuthAge": "Numeric", "aws:MultiFactorAuthPresent": "Bool",
    "aws:SecureTransport": "Bool", "aws:ViaAWSService": "Bool", "aws:PrincipalIsAWSService": "Bool",
    "aws:SourceArn": "Arn", "aws:PrincipalArn": "Arn",
}
_GLOBAL_KEY_NAMES = {k.lower(): k for k in _GLOBAL_KEYS}
_GLOBAL_FAMILY = {k.lower(): f for k, f in _GLOBAL_KEYS.items()}


def _cover_cidr(ips: list[tuple[int, int]], exclude: tuple[int, int] | None) -> list[str]:
    """Smallest CIDR blocks covering all `ips` (one version) and not `exclude`; also the /32 list."""
    if not ips or len({v for v, _ in ips}) != 1:
        return []
    version = ips[0][0]
    bits = 32 if version == 4 else 128
    out = []
    for plen in range(bits, 0, -1):
        mask = ((1 << plen) - 1) << (bits - plen)
        nets = {ip & mask for _, ip in ips}
        if len(nets) == 1:
            net = nets.pop()
            if exclude is not None and exclude[0] == version and (exclude[1] & mask) == net:
                break
            text = str(ipaddress.ip_network((net, plen)))
            out = [text]
            if plen in (8, 12, 16, 24):
                break
        else:
            break
    return out


def separating_conditions(policy: Policy, spec: Spec, keep: list[Request], exclude: list[Request]) -> list[Condition]:
    """Conditions true for every `keep` request and false for every `exclude` request."""
    out: list[Condition] = []
    seen: set[tuple] = set()

    def offer(c: Condition) -> None:
        sig = (c.op.name, c.lkey, c.values)
        if sig in seen:
            return
        if all(condition_holds(c, q, policy) for q in keep) and not any(
                condition_holds(c, x, policy) for x in exclude):
            seen.add(sig)
            out.append(c)

    # conditions the policy already uses elsewhere (a removed condition often survives in a sibling)
    for st in policy.statements:
        for c in st.conditions:
            offer(c)
    keys = sorted({k for r in keep + exclude for k in r.context} | keys_read(policy))
    for k in keys:
        name = _display_key(policy, spec, k)
        kvals = [q.get(k) for q in keep]
        xvals = [x.get(k) for x in exclude]
        if all(v is not None for v in kvals) and all(v is None for v in xvals):
            offer(cond_of("Null", name, ["false"]))
        if all(v is None for v in kvals) and all(v is not None for v in xvals):
            offer(cond_of("Null", name, ["true"]))
        singles = [v for v in kvals if isinstance(v, str)]
        if len(singles) != len(kvals) or not singles:
            lists = [v for v in kvals if isinstance(v, tuple)]
            if lists and all(v is None or isinstance(v, tuple) for v in kvals):
                union = sorted({x for v in lists for x in v})
                if union:
                    offer(cond_of("ForAllValues:StringEquals", name, union))
                if all(v is not None for v in kvals):
                    common = set(lists[0]).intersection(*map(set, lists[1:]))
                    xlists = [set(v) for v in xvals if isinstance(v, tuple)]
                    only = sorted(x for x in common if not any(x in xl for xl in xlists))
                    if only:
                        offer(cond_of("ForAnyValue:StringEquals", name, only[:1]))
            continue
        fam = _family_of_key(policy, k)
        ips = [parse_ip(v) for v in singles]
        if (fam in (None, "Ip")) and all(ips):
            xi = [parse_ip(v) for v in xvals if isinstance(v, str)]
            for block in _cover_cidr(ips, xi[0] if len(xi) == 1 else None):  # type: ignore[arg-type]
                offer(cond_of("IpAddress", name, [block]))
            offer(cond_of("IpAddress", name, sorted({format_ip(*ip) + ("/32" if ip[0] == 4 else "/128")
                                                     for ip in ips})))  # type: ignore[misc]
            continue
        bools = [parse_bool(v) for v in singles]
        if fam in (None, "Bool") and all(b is not None for b in bools) and len(set(bools)) == 1:
            offer(cond_of("Bool", name, ["true" if bools[0] else "false"]))
            continue
        nums = [parse_number(v) for v in singles]
        if fam in (None, "Numeric") and all(n is not None for n in nums) and not any(
                parse_date(v) is not None and "-" in v for v in singles):
            xs = [parse_number(v) for v in xvals if isinstance(v, str)]
            xs = [x for x in xs if x is not None]
            hi, lo = max(nums), min(nums)  # type: ignore[type-var]
            if xs and all(x > hi for x in xs):
                offer(cond_of("NumericLessThanEquals", name, [_num(hi)]))
            if xs and all(x < lo for x in xs):
                offer(cond_of("NumericGreaterThanEquals", name, [_num(lo)]))
            offer(cond_of("NumericEquals", name, sorted({_num(n) for n in nums})))  # type: ignore[arg-type]
            continue
        dates = [parse_date(v) for v in singles]
        if fam in (None, "Date") and all(d is not None for d in dates):
            xs = [parse_date(v) for v in xvals if isinstance(v, str)]
            xs = [x for x in xs if x is not None]
            if xs and all(x > max(dates) for x in xs):  # type: ignore[type-var]
                offer(cond_of("DateLessThanEquals", name, [singles[dates.index(max(dates))]]))  # type: ignore
            if xs and all(x < min(dates) for x in xs):  # type: ignore[type-var]
                offer(cond_of("DateGreaterThanEquals", name, [singles[dates.index(min(dates))]]))  # type: ignore
            continue
        distinct = sorted(set(singles))
        if fam == "Arn" or all(v.startswith("arn:") for v in singles):
            offer(cond_of("ArnEquals", name, [glob_escape(v) for v in distinct]))
        offer(cond_of("StringEquals", name, [glob_escape(v) if "*" in v or "?" in v else v for v in distinct]))
        lp = lcp(distinct)
        if len(distinct) > 1 and len(lp) >= 2:
            offer(cond_of("StringLike", name, [glob_escape(lp) + "*"]))
    return out


def _num(n) -> str:
    from policies.values import format_number

    return format_number(n)


def admitting_changes(policy: Policy, cond: Condition, request: Request) -> list[tuple[Condition | None, str]]:
    """Changes to a condition that make it true for `request`: (new condition or None to drop, text)."""
    out: list[tuple[Condition | None, str]] = [(None, f"remove condition {cond.describe()}")]
    op = cond.op
    value = request.get(cond.key)
    if value is None and op.family != "Null" and not op.if_exists and op.set_op != "ForAllValues":
        out.append((replace(cond, op=op.with_(if_exists=True)), f"make {cond.describe()} apply only if the key exists"))
    if op.family == "Null":
        out.append((replace(cond, values=("false" if parse_bool(cond.values[0]) else "true",)),
                    f"flip {cond.describe()}"))
        return out
    neg = negation_of(op)
    if neg is not None:
        out.append((replace(cond, op=neg), f"change {op.name} to {neg.name} in {cond.describe()}"))
    if op.set_op:
        other = "ForAnyValue" if op.set_op == "ForAllValues" else "ForAllValues"
        out.append((replace(cond, op=op.with_(set_op=other)), f"change {op.set_op} to {other} in {cond.describe()}"))
    if op.family == "Bool":
        flipped = tuple("false" if parse_bool(v) else "true" for v in cond.values if parse_bool(v) is not None)
        if flipped:
            out.append((replace(cond, values=flipped), f"flip {cond.describe()}"))
    if isinstance(value, str) and not op.negated:
        add: str | None = None
        if op.family == "Ip":
            ip = parse_ip(value)
            if ip:
                add = format_ip(*ip) + ("/32" if ip[0] == 4 else "/128")
                for pv in cond.values:
                    from policies.values import parse_cidr

                    c = parse_cidr(pv)
                    if c and c[0] == ip[0]:
                        block = _cover_cidr([ip, (c[0], c[1])], None)
                        if block:
                            widened = tuple(block[0] if v == pv else v for v in cond.values)
                            out.append((replace(cond, values=widened, single_value=False),
                                        f"widen {pv} to {block[0]} in {cond.describe()}"))
        elif op.family in ("String", "Arn", "Binary"):
            add = glob_escape(value) if op.compare == "like" else value
        elif op.family in ("Numeric", "Date") and op.compare in ("lt", "le", "gt", "ge"):
            new_op = op.with_(base=op.base if op.base.endswith("Equals") else op.base + "Equals")
            out.append((replace(cond, op=new_op, values=(value,), single_value=True),
                        f"move the bound of {cond.describe()} to {value}"))
        elif op.family in ("Numeric", "Date"):
            add = value
        if add is not None and add not in cond.values:
            out.append((replace(cond, values=cond.values + (add,), single_value=False),
                        f"add {add} to {cond.describe()}"))
    return out


def excluding_changes(policy: Policy, cond: Condition, keep: list[Request], exclude: Request) -> list[tuple[Condition | None, str]]:
    """Changes to a condition that make it false for `exclude` (kept true for `keep` by the caller's check)."""
    out: list[tuple[Condition | None, str]] = []
    op = cond.op
    if op.if_exists:
        out.append((replace(cond, op=op.with_(if_exists=False)), f"drop IfExists from {cond.describe()}"))
    neg = negation_of(op)
    if neg is not None:
        out.append((replace(cond, op=neg), f"change {op.name} to {neg.name} in {cond.describe()}"))
    if op.set_op:
        other = "ForAnyValue" if op.set_op == "ForAllValues" else "ForAllValues"
        out.append((replace(cond, op=op.with_(set_op=other)), f"change {op.set_op} to {other} in {cond.describe()}"))
    if op.family in ("Bool", "Null"):
        flipped = tuple("false" if parse_bool(v) else "true" for v in cond.values if parse_bool(v) is not None)
        out.append((replace(cond, values=flipped), f"flip {cond.describe()}"))
    if len(cond.values) > 1 and not op.negated:
        for v in cond.values:
            rest = tuple(x for x in cond.values if x != v)
            out.append((replace(cond, values=rest, single_value=len(rest) == 1), f"remove {v} from {cond.describe()}"))
    if op.family == "Ip" and not op.negated:
        ips = [parse_ip(v) for q in keep for v in [q.get(cond.key)] if isinstance(v, str)]
        ips = [i for i in ips if i]
        ex = exclude.get(cond.key)
        xip = parse_ip(ex) if isinstance(ex, str) else None
        for block in _cover_cidr(ips, xip):  # type: ignore[arg-type]
            out.append((replace(cond, values=(block,), single_value=True), f"narrow {cond.describe()} to {block}"))
    if op.family in ("Numeric", "Date") and op.compare in ("lt", "le", "gt", "ge") and keep:
        parse = parse_number if op.family == "Numeric" else parse_date
        vals = [q.get(cond.key) for q in keep]
        if all(isinstance(v, str) and parse(v) is not None for v in vals):
            bound = (max if op.compare in ("lt", "le") else min)(vals, key=lambda v: parse(v))  # type: ignore
            base = op.base if op.base.endswith("Equals") else op.base + "Equals"
            out.append((replace(cond, op=op.with_(base=base), values=(bound,), single_value=True),
                        f"move the bound of {cond.describe()} to {bound}"))
    return out


# -- edit generators ----------------------------------------------------------------------------------------
def _set_list(st: Statement, field_name: str, values: list[str]) -> Statement:
    values = list(dict.fromkeys(values))
    if field_name == "actions":
        return st.with_(actions=tuple(values), action_list=st.action_list or len(values) > 1)
    return st.with_(resources=tuple(values), resource_list=st.resource_list or len(values) > 1)


def _narrowings(policy: Policy, spec: Spec, i: int, r: Request, field_name: str) -> Iterator[tuple[Statement, str]]:
    """Replace the patterns of statement i's Action/Resource that match `r` so that they no longer do,
    while still matching what the statement must keep matching."""
    st = policy.statements[i]
    keep = [c.request for c in served(policy, i, spec)]
    if field_name == "actions":
        pats, negated = list(st.actions), st.not_action
        matches = lambda p, q: action_matches((p,), q.action)  # noqa: E731
        value = lambda q: canonical_action(q.action, spec)  # noqa: E731
    else:
        if st.resources is None:
            return
        pats, negated = list(st.resources), st.not_resource
        matches = lambda p, q: resource_matches((p,), q.resource, q, policy)  # noqa: E731
        value = lambda q: resource_text(q.resource)  # noqa: E731
    what = "Action" if field_name == "actions" else "Resource"
    if negated:
        extra = value(r)
        if extra not in pats:
            yield _set_list(st, field_name, pats + [extra]), f"add {extra} to Not{what} of {label(policy, i)}"
        return
    for p in pats:
        if not matches(p, r):
            continue
        others = [x for x in pats if x != p]
        needed = [q for q in keep if matches(p, q) and not any(matches(o, q) for o in others)]
        needed_vals = sorted({value(q) for q in needed})
        if not needed:
            if others:
                yield _set_list(st, field_name, others), f"remove {p} from {what} of {label(policy, i)}"
            continue
        if field_name == "actions":
            globs = action_globs(needed_vals, [r.action])
        else:
            globs = resource_globs([q.resource for q in needed], [r.resource])
        for g in globs:
            if g != p:
                yield (_set_list(st, field_name, [g if x == p else x for x in pats]),
                       f"narrow {p} to {g} in {what} of {label(policy, i)}")
        exact = [x for x in needed_vals]
        new = [x for x in pats if x != p] + exact
        yield _set_list(st, field_name, new), f"narrow {p} to {_fmt(exact)} in {what} of {label(policy, i)}"


def _widenings(policy: Policy, spec: Spec, i: int, r: Request, field_name: str) -> Iterator[tuple[Statement, str]]:
    """Make statement i's Action/Resource match `r`."""
    st = policy.statements[i]
    what = "Action" if field_name == "actions" else "Resource"
    if field_name == "actions":
        pats, negated = list(st.actions), st.not_action
        target = canonical_action(r.action, spec)
        matches = lambda p: action_matches((p,), r.action)  # noqa: E731
    else:
        if st.resources is None:
            return
        pats, negated = list(st.resources), st.not_resource
        target = resource_text(r.resource)
        matches = lambda p: resource_matches((p,), r.resource, r, policy)  # noqa: E731
    if negated:
        rest = [p for p in pats if not matches(p)]
        if rest and len(rest) < len(pats):
            yield _set_list(st, field_name, rest), f"remove {_fmt([p for p in pats if matches(p)])} from Not{what} of {label(policy, i)}"
        return
    yield _set_list(st, field_name, pats + [target]), f"add {target} to {what} of {label(policy, i)}"
    closest = sorted(pats, key=lambda p: -similarity(p, target))[:2]
    for p in closest:
        options = [target]
        if field_name == "resources":
            keep = [c.request for c in served(policy, i, spec) if resource_matches((p,), c.request.resource, c.request, policy)]
            options += resource_globs([q.resource for q in keep] + [r.resource], [])
            if "*" not in p and r.resource.startswith(p):
                options += [p + "*", p + "/*"]
        for new in options:
            if new == p:
                continue
            cand = _set_list(st, field_name, [new if x == p else x for x in pats])
            if field_name == "resources" and not resource_matches(cand.resources, r.resource, r, policy):  # type: ignore
                continue
            yield cand, f"replace {p} with {new} in {what} of {label(policy, i)}"


def exact_statement(policy: Policy, effect: str, requests: list[Request], spec: Spec,
                    principal: bool) -> Statement:
    """A statement for exactly these requests' actions and resources (and principals when relevant)."""
    actions = sorted({canonical_action(r.action, spec) for r in requests})
    resources = sorted({resource_text(r.resource) for r in requests})
    st = Statement(effect=effect, actions=tuple(actions), resources=tuple(resources),
                   sid=new_sid(policy, effect), action_list=len(actions) > 1, resource_list=len(resources) > 1)
    principals = sorted({r.principal for r in requests if r.principal})
    if principal and principals:
        st = st.with_(principal=Principal(tuple(("AWS", p) for p in principals), shapes=(("AWS", len(principals) > 1),)))
    return st


def add_exact_allows(policy: Policy, spec: Spec, requests: list[Request], principal: bool) -> tuple[Policy, list[Edit]]:
    """One exact Allow per distinct request (they are pinned apart later, when the proof needs it)."""
    edits = []
    seen = set()
    for r in requests:
        sig = (r.action.lower(), r.resource, r.principal, tuple(sorted(r.context.items())))
        if sig in seen:
            continue
        seen.add(sig)
        allow = exact_allow(policy, spec, r, principal)
        when = (" when " + " and ".join(c.describe() for c in allow.conditions)) if allow.conditions else ""
        policy = with_added(policy, allow)
        edits.append(Edit("add-statement", f"add statement {allow.sid}: Allow {r.action} on {r.resource}{when}",
                          None, cost=2, pin_request=r))
    return policy, edits


def exact_allow(policy: Policy, spec: Spec, r: Request, principal: bool) -> Statement:
    """An Allow for exactly `r`'s action and resource, pinned (one context key each) away from the spec's
    expect-deny requests with the same action and resource."""
    return exact_for(policy, spec, r, principal, "Allow")


def exact_for(policy: Policy, spec: Spec, r: Request, principal: bool, effect: str) -> Statement:
    """An Allow (Deny) for exactly `r`'s action and resource, with conditions that keep it off the spec's
    requests expecting the other decision on the same action and resource."""
    st = exact_statement(policy, effect, [r], spec, principal)
    want_allow = effect == "Deny"
    conflicts = [c.request for c in spec.cases if c.expect_allow == want_allow
                 and c.request.action.lower() == r.action.lower() and c.request.resource == r.resource
                 and (not principal or c.request.principal == r.principal)]
    keys = sorted(keys_read(policy) | set(r.context) | {k for q in conflicts for k in q.context})
    for q in conflicts:
        if any(not condition_holds(c, q, policy) for c in st.conditions):
            continue
        options = [pin_condition(policy, spec, k, r) for k in keys if q.get(k) != r.get(k)]
        options += separating_conditions(policy, spec, [r], [q])
        for c in options:
            new = add_condition(st, c) if c else None
            if new is not None and all(condition_holds(x, r, policy) for x in new.conditions) and not all(
                    condition_holds(x, q, policy) for x in new.conditions):
                st = new
                break
    return st


def pin_conditions(policy: Policy, spec: Spec, lkey: str, request: Request) -> list[Condition]:
    """Conditions that together hold exactly when the key has `request`'s value (absent, a single value,
    or the same set of values), in the operator family the policy reads the key with."""
    name = _display_key(policy, spec, lkey)
    v = request.get(lkey)
    if v is None:
        return [cond_of("Null", name, ["true"])]
    if isinstance(v, tuple):
        vals = sorted(set(v))
        out = [cond_of("Null", name, ["false"])]
        out.append(cond_of("ForAllValues:StringEquals", name, vals) if vals
                   else cond_of("ForAllValues:StringNotLike", name, ["*"]))
        # "contains x" once per value: each needs its own operator name (JSON allows one per key), and these
        # all test exact equality of one value (Like and Arn with every wildcard escaped)
        contains = ("ForAnyValue:StringEquals", "ForAnyValue:StringLike", "ForAnyValue:StringEqualsIfExists",
                    "ForAnyValue:StringLikeIfExists", "ForAnyValue:ArnEquals", "ForAnyValue:ArnLike",
                    "ForAnyValue:ArnEqualsIfExists", "ForAnyValue:ArnLikeIfExists", "ForAnyValue:BinaryEquals",
                    "ForAnyValue:BinaryEqualsIfExists")
        for op, x in zip(contains, vals, strict=False):
            literal = ("String" in op and "Like" not in op) or "Binary" in op
            out.append(cond_of(op, name, [x if literal else glob_escape(x)]))
        return out
    fam = _family_of_key(policy, lkey)
    if fam == "Ip" and parse_ip(v):
        ip = parse_ip(v)
        return [cond_of("IpAddress", name, [format_ip(*ip) + ("/32" if ip[0] == 4 else "/128")])]  # type: ignore
    if fam == "Numeric" and parse_number(v) is not None:
        return [cond_of("NumericEquals", name, [v])]
    if fam == "Date" and parse_date(v) is not None:
        return [cond_of("DateEquals", name, [v])]
    if fam == "Arn":
        return [cond_of("ArnEquals", name, [glob_escape(v)])]
    if fam == "Bool" and parse_bool(v) is not None:
        return [cond_of("Bool", name, [v.lower()]), cond_of("StringEquals", name, [v])]
    return [cond_of("StringEquals", name, [v])]


def pin_condition(policy: Policy, spec: Spec, lkey: str, request: Request) -> Condition | None:
    """The first of `pin_conditions` (enough to tell `request` from most others)."""
    out = pin_conditions(policy, spec, lkey, request)
    return out[0] if out else None


def unpin_options(policy: Policy, spec: Spec, lkey: str, request: Request) -> list[Condition]:
    """Conditions each true only when the key's value differs from `request`'s (absent counts as different)."""
    name = _display_key(policy, spec, lkey)
    v = request.get(lkey)
    if v is None:
        return [cond_of("Null", name, ["false"])]
    if isinstance(v, tuple):
        vals = sorted(set(v))
        out = [cond_of("Null", name, ["true"])]
        if vals:
            out.append(cond_of("ForAnyValue:StringNotEquals", name, vals))
            out += [cond_of("ForAllValues:StringNotEquals", name, [x]) for x in vals[:1]]
        else:
            out.append(cond_of("ForAnyValue:StringLike", name, ["*"]))
        return out
    fam = _family_of_key(policy, lkey)
    out = []
    if fam == "Ip" and parse_ip(v):
        ip = parse_ip(v)
        out.append(cond_of("NotIpAddress", name, [format_ip(*ip) + ("/32" if ip[0] == 4 else "/128")]))  # type: ignore
    elif fam == "Numeric" and parse_number(v) is not None:
        out.append(cond_of("NumericNotEquals", name, [v]))
    elif fam == "Date" and parse_date(v) is not None:
        out.append(cond_of("DateNotEquals", name, [v]))
    elif fam == "Arn":
        out.append(cond_of("ArnNotEquals", name, [glob_escape(v)]))
    else:
        out.append(cond_of("StringNotEquals", name, [v]))
    out += [cond_of("ForAllValues:StringNotEquals", name, [v]), cond_of("ForAnyValue:StringNotEquals", name, [v])]
    return out


def _same(a, b) -> bool:
    if isinstance(a, tuple) or isinstance(b, tuple):
        sa = set(a) if isinstance(a, tuple) else {a} if a is not None else None
        sb = set(b) if isinstance(b, tuple) else {b} if b is not None else None
        return sa == sb
    return a == b


_NOT_OP = {"Ip": "NotIpAddress", "Numeric": "NumericNotEquals", "Date": "DateNotEquals", "Arn": "ArnNotEquals"}


def _apart(policy: Policy, k: str, x: Request, e: Request) -> tuple[str, list[str]] | None:
    """One (operator, values) on key k that holds for `x` and fails for `e` (they differ on k)."""
    xv, ev = x.get(k), e.get(k)
    fam = _family_of_key(policy, k)
    if xv is None:
        return "Null", ["true"]
    if ev is None:
        return "Null", ["false"]
    if isinstance(xv, str):
        if not isinstance(ev, str):
            return "StringLike", ["*"]          # a single-valued test is false on a list
        op = _NOT_OP.get(fam or "", "StringNotEquals")
        if op == "NotIpAddress":
            ip = parse_ip(ev)
            return ("NotIpAddress", [format_ip(*ip) + ("/32" if ip[0] == 4 else "/128")]) if ip else \
                ("StringNotEquals", [ev])
        if op in ("NumericNotEquals", "DateNotEquals"):
            ok = (parse_number if op == "NumericNotEquals" else parse_date)(ev) is not None
            return (op, [ev]) if ok else ("StringNotEquals", [ev])
        return op, [glob_escape(ev) if op == "ArnNotEquals" else ev]
    xs = set(xv)
    if isinstance(ev, str):
        return ("ForAnyValue:StringNotEquals" if ev in xs else "ForAllValues:StringNotEquals"), [ev]
    extra, missing = sorted(xs - set(ev)), sorted(set(ev) - xs)
    if extra:
        return "ForAnyValue:StringNotEquals", sorted(ev) or ["<none>"]
    if missing:
        return "ForAllValues:StringNotEquals", missing[:1]
    return None


def separate_from(policy: Policy, spec: Spec, x: Request, group: list[Request]) -> list[Condition] | None:
    """Conditions that all hold for `x` while each request of `group` fails at least one: what a Deny needs
    to deny `x` (and its like) but none of `group`. None when some member cannot be told apart from `x`.
    Greedy: one key per member, values merged per operator (merging only makes a negated test stricter,
    so members already excluded stay excluded); every step is checked concretely."""
    read = keys_read(policy)
    keys = sorted(set(x.context) | {k for e in group for k in e.context} | read, key=lambda k: (k not in read, k))
    by_op: dict[tuple[str, str], list[str]] = {}

    def build(table: dict[tuple[str, str], list[str]]) -> list[Condition]:
        return [cond_of(op, _display_key(policy, spec, k), vals) for (op, k), vals in table.items()]

    for e in group:
        placed = False
        for k in [k for k in keys if not _same(x.get(k), e.get(k))]:
            got = _apart(policy, k, x, e)
            if got is None:
                continue
            op, vals = got
            trial = {key: list(v) for key, v in by_op.items()}
            merged = trial.setdefault((op, k), [])
            merged += [v for v in vals if v not in merged]
            conds = build(trial)
            if all(condition_holds(c, x, policy) for c in conds) and not all(
                    condition_holds(c, e, policy) for c in conds):
                by_op, placed = trial, True
                break
        if not placed:
            return None
    return build(by_op)


def unpin_conditions(policy: Policy, spec: Spec, lkey: str, request: Request) -> Condition | None:
    out = unpin_options(policy, spec, lkey, request)
    return out[0] if out else None


def _has_wild(text: str) -> bool:
    return "*" in text or "?" in text or "${" in text


def carve_out(policy: Policy, spec: Spec, i: int, requests: list[Request]) -> Iterator[tuple[list[Statement], str]]:
    """Replace Deny statement i by statements that deny what it denied except these requests' (action,
    resource) pairs. Literal patterns subtract exactly; where IAM cannot subtract (a wildcard minus one
    value) the variants either deny a little more (safe: never more permissive, but it may deny something
    the spec allows, which the spec check catches) or a little less (kept only if Z3 proves it)."""
    d = policy.statements[i]
    res_set = sorted({r.resource for r in requests})
    esc = [resource_text(x) for x in res_set]
    lab = label(policy, i)
    spec_keep = [c.request for c in spec.cases if not c.expect_allow and statement_applies(d, c.request, policy)]
    # D1: what D denied on other resources
    d1_variants: list[tuple[Statement | None, str]] = []
    if d.not_resource:
        d1_variants.append((d.with_(resources=tuple(list(d.resources or ()) + esc), resource_list=True), "exact"))
    else:
        pats = list(d.resources) if d.resources is not None else ["*"]
        hits = [pt for pt in pats if any(resource_matches((pt,), x, r, policy)
                                         for x, r in zip(res_set, requests, strict=False))]
        kept = [pt for pt in pats if pt not in hits]
        if not any(_has_wild(pt) for pt in hits):
            d1_variants.append((d.with_(resources=tuple(kept), resource_list=True) if kept else None, "exact"))
        else:
            every = "*" in hits
            d1_variants.append((d.with_(resources=tuple(esc), not_resource=True, resource_list=True),
                                "exact" if every else "over"))
            extra = sorted({resource_text(q.resource) for q in spec_keep if q.resource not in res_set})
            under = kept + [x for x in extra if x not in kept]
            if not every:
                d1_variants.append((d.with_(resources=tuple(under), resource_list=True) if under else None, "under"))
    # D2: what D denied on those resources, other actions
    d2_variants: dict[str, list[Statement]] = {"exact": [], "over": [], "under": []}
    for res in res_set:
        acts = sorted({canonical_action(r.action, spec) for r in requests if r.resource == res})
        base = dict(resources=(resource_text(res),), not_resource=False, resource_list=False, sid=None)
        if d.not_action:
            d2 = d.with_(actions=tuple(list(d.actions) + acts), **base)
            for v in d2_variants.values():
                v.append(d2)
            continue
        hits = [a for a in d.actions if any(action_matches((a,), x) for x in acts)]
        kept_acts = [a for a in d.actions if a not in hits]
        if not any(_has_wild(a) for a in hits):
            for v in d2_variants.values():
                if kept_acts:
                    v.append(d.with_(actions=tuple(kept_acts), **base))
            continue
        allowed_here = sorted({canonical_action(c.request.action, spec) for c in spec.cases
                               if c.expect_allow and c.request.resource == res})
        over = d.with_(actions=tuple(sorted(set(acts) | set(allowed_here))), not_action=True, **base)
        under_acts = kept_acts + sorted({canonical_action(q.action, spec) for q in spec_keep if q.resource == res
                                         and not any(action_matches((a,), q.action) for a in kept_acts)})
        d2_variants["exact"].append(over if "*" in hits else over)
        d2_variants["over"].append(over)
        if under_acts:
            d2_variants["under"].append(d.with_(actions=tuple(under_acts), **base))
    # D3: keep denying the spec's expect-deny requests on the same action and resource in other contexts
    d3s: list[Statement] = []
    for q in spec_keep:
        group = [r for r in requests if r.action.lower() == q.action.lower() and r.resource == q.resource]
        if not group:
            continue
        conds = separate_from(policy, spec, q, group)
        if conds is None:
            continue
        d3 = d.with_(actions=(canonical_action(q.action, spec),), not_action=False, action_list=False,
                     resources=(resource_text(q.resource),), not_resource=False, resource_list=False,
                     conditions=tuple(conds), sid=None)
        if d3 not in d3s:
            d3s.append(d3)
    what = ", ".join(sorted({f"{canonical_action(r.action, spec)} on {r.resource}" for r in requests}))
    seen: list[list[Statement]] = []
    for d1, kind1 in d1_variants:
        for kind2 in ("exact", "over", "under"):
            sts = ([d1] if d1 is not None else []) + d2_variants[kind2] + d3s
            if sts in seen:
                continue
            if not sts:     # everything D denied is let through: the split removes it
                seen.append(sts)
                yield [], f"remove {lab} (everything it denies is what the spec allows)"
                continue
            seen.append(sts)
            named = [s.with_(sid=(d.sid + (f"Split{k}" if k else "")) if d.sid else None) for k, s in enumerate(sts)]
            note = {"exact": "", "over": " (denying a little more)", "under": " (denying a little less)"}
            kind = "under" if "under" in (kind1, kind2) else "over" if "over" in (kind1, kind2) else "exact"
            yield named, f"split {lab} so that it no longer denies {what}" + note[kind]


def generate(policy: Policy, spec: Spec, loc: Localization, principal: bool) -> Iterator[Candidate]:
    """Single-edit candidates for the failures of `loc` (most suspicious statements first)."""
    order = {idx: n for n, idx in enumerate(loc.order())}
    failures = sorted(loc.failures, key=lambda f: f.case.index)
    yielded: set[str] = set()

    def emit(new: Policy, edit: Edit) -> Iterator[Candidate]:
        from policies.parser import dumps_policy

        checkpoint("generating repair candidates")
        key = dumps_policy(new)
        if key not in yielded:
            yielded.add(key)
            yield Candidate(new, (edit,))

    def stmt_edits(i: int, f: Failure) -> Iterator[Candidate]:
        st = policy.statements[i]
        r = f.case.request
        narrowing = f.kind in ("over", "denied")
        lab = label(policy, i)
        if narrowing:
            for fld in ("actions", "resources"):
                for new_st, text in _narrowings(policy, spec, i, r, fld):
                    yield from emit(with_statement(policy, i, new_st), Edit("narrow", text, i))
            keep = [c.request for c in served(policy, i, spec)]
            for j, c in enumerate(st.conditions):
                for new_c, text in excluding_changes(policy, c, keep, r):
                    conds = list(st.conditions)
                    if new_c is None:
                        del conds[j]
                    else:
                        conds[j] = new_c
                    yield from emit(with_statement(policy, i, st.with_(conditions=tuple(conds))),
                                    Edit("condition", f"{text} in {lab}", i))
            for c in separating_conditions(policy, spec, keep, [r]):
                new_st = add_condition(st, c)
                if new_st is not None:
                    yield from emit(with_statement(policy, i, new_st),
                                    Edit("add-condition", f"add condition {c.describe()} to {lab}", i))
            yield from emit(with_statement(policy, i, None), Edit("remove-statement", f"remove {lab}", i))
            other = "Deny" if st.allow else "Allow"
            yield from emit(with_statement(policy, i, st.with_(effect=other)),
                            Edit("effect", f"change the Effect of {lab} to {other}", i))
            if st.principal is not None and r.principal and not st.not_principal:
                entries = tuple(e for e in st.principal.entries if e[1] != r.principal)
                if entries and len(entries) < len(st.principal.entries):
                    yield from emit(with_statement(policy, i, st.with_(principal=replace(st.principal, entries=entries))),
                                    Edit("principal", f"remove {r.principal} from the Principal of {lab}", i))
            if not st.allow:
                for sts, text in carve_out(policy, spec, i, [r]):
                    new = policy.with_statements(list(policy.statements[:i]) + sts + list(policy.statements[i + 1:]))
                    yield from emit(new, Edit("carve-out", text, i, cost=len(sts), carved=(r,), deny=st))
        else:
            tr = f.evaluation.traces[i]
            if not tr.action:
                for new_st, text in _widenings(policy, spec, i, r, "actions"):
                    yield from emit(with_statement(policy, i, new_st), Edit("widen", text, i))
            if not tr.resource:
                for new_st, text in _widenings(policy, spec, i, r, "resources"):
                    yield from emit(with_statement(policy, i, new_st), Edit("widen", text, i))
            if not tr.principal and st.principal is not None and r.principal:
                if st.not_principal:
                    entries = tuple(e for e in st.principal.entries if e[1] != r.principal)
                    if entries:
                        yield from emit(with_statement(policy, i, st.with_(principal=replace(st.principal, entries=entries))),
                                        Edit("principal", f"remove {r.principal} from the NotPrincipal of {lab}", i))
                else:
                    entries = st.principal.entries + (("AWS", r.principal),)
                    yield from emit(with_statement(policy, i, st.with_(principal=replace(st.principal, entries=entries, star=False))),
                                    Edit("principal", f"add {r.principal} to the Principal of {lab}", i))
            for j, ok in enumerate(tr.conditions):
                if ok:
                    continue
                c = st.conditions[j]
                for new_c, text in admitting_changes(policy, c, r):
                    conds = list(st.conditions)
                    if new_c is None:
                        del conds[j]
                    else:
                        conds[j] = new_c
                    yield from emit(with_statement(policy, i, st.with_(conditions=tuple(conds))),
                                    Edit("condition", f"{text} in {lab}", i))

    for f in failures:
        r = f.case.request
        if f.kind == "over":
            culprits = sorted(f.evaluation.applying("Allow"), key=lambda i: order.get(i, 99))
        elif f.kind == "denied":
            culprits = sorted(f.evaluation.applying("Deny"), key=lambda i: order.get(i, 99))
        else:
            traces = [t for t in f.evaluation.traces if t.effect == "Allow"]
            best = min((t.misses for t in traces), default=0)
            culprits = [t.index for t in sorted(traces, key=lambda t: (t.misses, order.get(t.index, 99)))
                        if t.misses <= best + 1]
        for i in culprits:
            yield from stmt_edits(i, f)
        if f.kind == "over":
            deny = exact_for(policy, spec, r, principal, "Deny")
            when = (" when " + " and ".join(c.describe() for c in deny.conditions)) if deny.conditions else ""
            yield from emit(with_added(policy, deny), Edit("add-statement", f"add statement {deny.sid}: Deny "
                                                       f"{r.action} on {r.resource}{when}", None, cost=2))
        elif f.kind == "missing":
            group = [g.case.request for g in failures if g.kind == "missing"
                     and g.case.request.action.lower() == r.action.lower() and g.case.request.resource == r.resource
                     and (not principal or g.case.request.principal == r.principal)]
            if group[0] is not r:
                continue
            new, edits = add_exact_allows(policy, spec, group, principal)
            yield from emit(new, edits[0]) if len(edits) == 1 else iter(())
            if len(edits) > 1:
                from policies.parser import dumps_policy

                key = dumps_policy(new)
                if key not in yielded:
                    yielded.add(key)
                    yield Candidate(new, tuple(edits))
