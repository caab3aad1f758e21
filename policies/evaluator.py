"""Concrete evaluation of one policy on one request, with AWS's semantics.

Why a concrete evaluator next to the Z3 encoding: it is the fast path (repair tries thousands of candidates
against a spec), the reference the encoding is tested against, and it explains decisions statement by
statement for fault localization.

Semantics (each line is tested; see `policies/__init__.py` for the documented ambiguities):
- explicit Deny beats Allow beats the implicit deny;
- a statement applies when its action, resource, principal and every condition match;
- actions match case-insensitively with `*`/`?`; resources case-sensitively, per ARN segment;
- condition operators: keys AND, values OR (negated operators: NOR); a key absent from the request makes the
  condition false, except for negated operators, `...IfExists` and `ForAllValues` (true) and `Null`;
- `ForAllValues`/`ForAnyValue` test every request value; a multivalued request value under a plain
  operator does not match (a set qualifier is required);
- a request value that does not parse as the operator's type (number, date, IP, boolean) makes the test
  false, negated or not; a policy variable that cannot be resolved (absent or multivalued key, no default)
  matches nothing, so negated operators hold.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from policies.model import Condition, Policy, Principal, Request, Statement
from policies.patterns import (
    Tokens,
    Var,
    match_arn,
    match_tokens,
    resolve,
    split_arn,
    split_arn_tokens,
    tokenize,
)
from policies.values import ip_in_cidr, parse_bool, parse_cidr, parse_date, parse_ip, parse_number


class Decision(enum.StrEnum):
    ALLOW = "allow"
    EXPLICIT_DENY = "explicit-deny"
    IMPLICIT_DENY = "implicit-deny"

    @property
    def allowed(self) -> bool:
        return self is Decision.ALLOW


@dataclass
class StatementTrace:
    """Why one statement did or did not apply to a request."""

    index: int
    effect: str
    action: bool
    resource: bool
    principal: bool
    conditions: list[bool] = field(default_factory=list)

    @property
    def applies(self) -> bool:
        return self.action and self.resource and self.principal and all(self.conditions)

    @property
    def misses(self) -> int:
        """How many parts fail (0 when the statement applies): a closeness measure for localization."""
        return (not self.action) + (not self.resource) + (not self.principal) + self.conditions.count(False)


@dataclass
class Evaluation:
    decision: Decision
    traces: list[StatementTrace]

    @property
    def allowed(self) -> bool:
        return self.decision.allowed

    def applying(self, effect: str | None = None) -> list[int]:
        return [t.index for t in self.traces if t.applies and (effect is None or t.effect == effect)]


def _tokens(text: str, policy: Policy, wildcards: bool = True) -> Tokens:
    return tokenize(text, wildcards, policy.variables_enabled)


def action_matches(patterns: tuple[str, ...], action: str) -> bool:
    low = action.lower()
    for p in patterns:
        if p == "*" or match_tokens(tokenize(p.lower(), True, False), low):
            return True
    return False


def resource_matches(patterns: tuple[str, ...], resource: str, request: Request, policy: Policy) -> bool:
    lookup = request.single
    for p in patterns:
        if match_arn(_tokens(p, policy), resource, lookup):
            return True
    return False


def _simulator_unresolved(fam: str, pv: str, value: str, policy: Policy, request: Request) -> bool:
    """(Ambiguity A2, the simulator's reading) whether an unresolvable policy variable in `pv` makes the
    value fail. For ARN operators the simulator compares segments in order and stops at the first mismatch,
    so a variable only counts when every earlier segment matched."""
    if not _unresolvable(pv, policy, request):
        return False
    if fam != "Arn":
        return True
    parts = split_arn_tokens(_tokens(pv, policy))
    got = split_arn(value)
    if parts is None or got is None:
        return True
    for pp, gp in zip(parts[1:], got[1:], strict=False):
        if any(isinstance(t, Var) for t in pp):
            return True
        if not match_tokens(pp, gp):
            return False
    return True


def _unresolvable(text: str, policy: Policy, request: Request) -> bool:
    toks = _tokens(text, policy)
    return any(isinstance(t, Var) for t in toks) and resolve(toks, request.single) is None


def _account_prefixes(value: str) -> tuple[str, ...] | None:
    """For an account principal (`123456789012` or `arn:<partition>:iam::123456789012:root`), the ARN
    prefixes of the principals it covers; `None` if `value` is not an account principal."""
    if value.isdigit() and len(value) == 12:
        return (f"arn:aws:iam::{value}:", f"arn:aws:sts::{value}:")
    parts = split_arn(value)
    if parts and parts[2] == "iam" and parts[5] == "root" and parts[3] == "":
        return (f"arn:{parts[1]}:iam::{parts[4]}:", f"arn:{parts[1]}:sts::{parts[4]}:")
    return None


def role_session_prefix(value: str) -> str | None:
    """`arn:p:iam::acct:role/path/name` -> `arn:p:sts::acct:assumed-role/name/` (sessions of the role)."""
    parts = split_arn(value)
    if parts and parts[2] == "iam" and parts[5].startswith("role/"):
        name = parts[5].rsplit("/", 1)[-1]
        return f"arn:{parts[1]}:sts::{parts[4]}:assumed-role/{name}/"
    return None


def principal_entry_matches(ptype: str, value: str, principal: str | None) -> bool:
    if value == "*":
        return True
    if principal is None:
        return False
    if ptype == "AWS":
        prefixes = _account_prefixes(value)
        if prefixes is not None:
            return principal.startswith(prefixes)
        session = role_session_prefix(value)
        if session is not None and principal.startswith(session):
            return True
    return principal == value


def principal_matches(element: Principal, principal: str | None) -> bool:
    return any(principal_entry_matches(t, v, principal) for t, v in element.entries)


def _typed_single(cond: Condition, value: str, request: Request, policy: Policy,
                  compat: frozenset[str] = frozenset()) -> bool:
    """One request value against the condition's values: OR for positive operators, NOR for negated."""
    op = cond.op
    fam, cmp = op.family, op.compare
    if fam == "String" or fam == "Arn":
        if op.negated and "A2" in compat and any(_simulator_unresolved(fam, pv, value, policy, request)
                                                 for pv in cond.values):
            return False
        hits = False
        for pv in cond.values:
            toks = _tokens(pv, policy, wildcards=cmp == "like")
            if fam == "Arn":
                hit = match_arn(toks, value, request.single)
            else:
                resolved = resolve(toks, request.single)
                hit = resolved is not None and match_tokens(resolved, value, ignore_case=cmp == "eq_ci")
            if hit:
                hits = True
                break
        return not hits if op.negated else hits
    if fam == "Binary":
        return value in cond.values
    if fam == "Bool":
        got = parse_bool(value)
        if got is None:
            return False
        for pv in cond.values:
            resolved = resolve(_tokens(pv, policy, wildcards=False), request.single)
            if resolved is None:
                continue
            want = parse_bool("".join(t.text for t in resolved))  # type: ignore[union-attr]
            if want is not None and want == got:
                return True
        return False
    if fam == "Ip":
        ip = parse_ip(value)
        if ip is None:
            return False
        if op.negated and "A4" in compat and any(
                "/" not in pv and parse_cidr(pv)[0] != ip[0] for pv in cond.values):  # type: ignore[index]
            return False
        hit = any(ip_in_cidr(ip, parse_cidr(pv)) for pv in cond.values)  # type: ignore[arg-type]
        return not hit if op.negated else hit
    parse = parse_number if fam == "Numeric" else parse_date
    got_n = parse(value)
    if got_n is None:
        return False
    wants = [parse(pv) for pv in cond.values]
    if cmp == "eq":
        hit = any(got_n == w for w in wants)
        return not hit if op.negated else hit
    test = {"lt": lambda a, b: a < b, "le": lambda a, b: a <= b,
            "gt": lambda a, b: a > b, "ge": lambda a, b: a >= b}[cmp]
    return any(test(got_n, w) for w in wants)


def condition_holds(cond: Condition, request: Request, policy: Policy,
                    compat: frozenset[str] = frozenset()) -> bool:
    op = cond.op
    value = request.get(cond.key)
    if op.family == "Null":
        want_absent = value is None
        return any(parse_bool(v) == want_absent for v in cond.values)
    if value is None:
        if op.set_op == "ForAllValues":
            return True
        if op.set_op == "ForAnyValue" and "A1" in compat:
            return False
        return op.if_exists or (op.negated and op.set_op is None)
    if op.set_op is None:
        if isinstance(value, tuple):
            return False
        return _typed_single(cond, value, request, policy, compat)
    values = (value,) if isinstance(value, str) else value
    if op.set_op == "ForAllValues":
        return all(_typed_single(cond, v, request, policy, compat) for v in values)
    return any(_typed_single(cond, v, request, policy, compat) for v in values)


def trace_statement(st: Statement, index: int, request: Request, policy: Policy) -> StatementTrace:
    act = action_matches(st.actions, request.action) != st.not_action
    if st.resources is None:
        res = True
    else:
        res = resource_matches(st.resources, request.resource, request, policy) != st.not_resource
    if st.principal is None:
        pri = True
    else:
        pri = principal_matches(st.principal, request.principal) != st.not_principal
    conds = [condition_holds(c, request, policy) for c in st.conditions]
    return StatementTrace(index, st.effect, act, res, pri, conds)


def statement_applies(st: Statement, request: Request, policy: Policy,
                      compat: frozenset[str] = frozenset()) -> bool:
    if action_matches(st.actions, request.action) == st.not_action:
        return False
    if st.resources is not None:
        if resource_matches(st.resources, request.resource, request, policy) == st.not_resource:
            return False
        if st.not_resource and "A3" in compat and request.resource != "*" and any(
                _unresolvable(r, policy, request) for r in st.resources):
            return False
    if st.principal is not None and (
            principal_matches(st.principal, request.principal) == st.not_principal):
        return False
    return all(condition_holds(c, request, policy, compat) for c in st.conditions)


def decide(policy: Policy, request: Request, compat: frozenset[str] = frozenset()) -> Decision:
    """The decision, without traces (the fast path). `compat` names documented ambiguities (see
    `policies.AMBIGUITIES`) to decide the other way, as the simulator used in differential tests does."""
    allowed = False
    for st in policy.statements:
        if st.allow and allowed:
            continue
        if statement_applies(st, request, policy, compat):
            if not st.allow:
                return Decision.EXPLICIT_DENY
            allowed = True
    return Decision.ALLOW if allowed else Decision.IMPLICIT_DENY


def evaluate(policy: Policy, request: Request) -> Evaluation:
    """The decision with a trace of every statement (for explanations and fault localization)."""
    traces = [trace_statement(st, i, request, policy) for i, st in enumerate(policy.statements)]
    if any(t.applies and t.effect == "Deny" for t in traces):
        decision = Decision.EXPLICIT_DENY
    elif any(t.applies for t in traces):
        decision = Decision.ALLOW
    else:
        decision = Decision.IMPLICIT_DENY
    return Evaluation(decision, traces)


def is_allowed(policy: Policy, request: Request) -> bool:
    return decide(policy, request).allowed
