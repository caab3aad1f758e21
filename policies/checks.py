"""Access-Analyzer-style checks for CI gates, proven with Z3: no new access, access not granted, no public
access. Each answers pass, or fail with a counterexample request (confirmed by the concrete evaluator) and
the statements responsible.

Why these three: they are the questions a pipeline asks before deploying a policy change ("does this change
grant anything new?", "can this policy ever delete the audit bucket?", "does this bucket policy open the
bucket to the world?"). AWS answers them in a paid analyzer; here each is one satisfiability query over the
same encoding the repair proofs use, so a pass is a proof, not a sample.

Public access (resource policies): a request is public when a principal of an account the policy never names
(an outsider), or an anonymous caller, is allowed. The outsider calls directly (no `aws:SourceArn`,
`aws:SourceAccount`, `aws:SourceOwner`), from its own organization, VPCs and endpoints (fresh values), and
chooses everything else it can: other context keys are free, `aws:SourceIp` included (an address range is not
an identity: a policy open to the world from some addresses counts as public).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import z3

from policies.encoding import Encoder, SymbolicRequest, Universe
from policies.errors import PolicyError
from policies.evaluator import action_matches, decide, evaluate, resource_matches
from policies.model import Condition, Policy, Request, Statement
from policies.operators import parse_operator
from policies.verify import DEFAULT_TIMEOUT_MS, contains, solve


@dataclass
class Responsible:
    """A statement that makes (or, removed, lets) the counterexample happen."""

    policy: str
    index: int
    sid: str | None
    role: str          # "allows it" | "no longer denies it"

    def describe(self) -> str:
        sid = f" ({self.sid})" if self.sid else ""
        return f"{self.policy} statement {self.index}{sid} {self.role}"

    def to_json(self) -> dict[str, Any]:
        return {"policy": self.policy, "statement": self.index, "sid": self.sid, "role": self.role}


@dataclass
class CheckOutcome:
    """The answer of one check; `passed` is proven by Z3 (unsat), a failure by a confirmed request."""

    check: str
    passed: bool
    message: str
    counterexample: Request | None = None
    responsible: list[Responsible] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 0 if self.passed else 1

    def text(self) -> str:
        lines = [("PASS" if self.passed else "FAIL") + f" {self.check}: {self.message}"]
        if self.counterexample is not None:
            lines.append("  counterexample: " + self.counterexample.describe())
        lines += ["  " + r.describe() for r in self.responsible]
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {"check": self.check, "result": "PASS" if self.passed else "FAIL", "message": self.message,
                "counterexample": self.counterexample.to_json() if self.counterexample else None,
                "responsible": [r.to_json() for r in self.responsible]}


def _allowing(policy: Policy, request: Request, name: str) -> list[Responsible]:
    ev = evaluate(policy, request)
    return [Responsible(name, i, policy.statements[i].sid, "allows it") for i in ev.applying("Allow")]


def check_no_new_access(old: Policy, new: Policy, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> CheckOutcome:
    """Pass when `new` allows nothing `old` does not (for every principal, resource and context)."""
    ok, x = contains(old, new, timeout_ms)
    if ok:
        return CheckOutcome("check-no-new-access", True, "Z3 proved the new policy allows nothing the old one "
                            "does not")
    assert x is not None
    resp = _allowing(new, x, "new")
    old_ev = evaluate(old, x)
    resp += [Responsible("old", i, old.statements[i].sid, "denied it and has no counterpart in the new policy")
             for i in old_ev.applying("Deny")]
    return CheckOutcome("check-no-new-access", False, "the new policy grants access the old one did not", x, resp)


def check_access_not_granted(policy: Policy, actions: list[str], resources: list[str] | None = None,
                             timeout_ms: int = DEFAULT_TIMEOUT_MS) -> CheckOutcome:
    """Pass when no request for one of `actions` (names or wildcards) on one of `resources` (ARN patterns;
    none: any resource) is allowed, in any context and for any principal."""
    if not actions:
        raise PolicyError("--actions", "give at least one action")
    for a in actions:
        if a != "*" and ":" not in a:
            raise PolicyError("--actions", f"{a!r} is not an action (expected \"service:Action\")")
    probe = Statement("Allow", tuple(actions), resources=tuple(resources) if resources else ("*",))
    probe_policy = Policy((probe,), policy.version)
    universe = Universe.of([policy, probe_policy])
    req = SymbolicRequest(universe)
    enc = Encoder(req)
    constraints = req.domain() + [enc.statement(probe, probe_policy), enc.allows(policy)]
    res, model = solve(constraints, timeout_ms)
    what = ", ".join(actions) + (" on " + ", ".join(resources) if resources else " on any resource")
    if res == z3.unsat:
        return CheckOutcome("check-access-not-granted", True, f"Z3 proved the policy never allows {what}")
    if res != z3.sat:
        raise TimeoutError("Z3 could not decide the check in time")
    x = req.concretize(model)
    if not (decide(policy, x).allowed and action_matches(probe.actions, x.action)
            and resource_matches(probe.resources or ("*",), x.resource, x, probe_policy)):
        raise AssertionError(f"unconfirmed counterexample {x.describe()}; please report it")
    return CheckOutcome("check-access-not-granted", False, f"the policy allows {what}", x,
                        _allowing(policy, x, "policy"))


# -- public access ----------------------------------------------------------------------------------------
_ACCOUNT = re.compile(r"(?<!\d)\d{12}(?!\d)")


def _named_accounts(policy: Policy) -> set[str]:
    text = repr(policy)
    return set(_ACCOUNT.findall(text))


def _fresh_account(policy: Policy) -> str:
    named = _named_accounts(policy)
    for n in range(1000):
        acct = f"{n:012d}"
        if acct not in named:
            return acct
    raise PolicyError("", "cannot find an account number the policy does not name")


def _cond(op: str, key: str, values: list[str]) -> Condition:
    parsed = parse_operator(op)
    assert parsed is not None, op
    return Condition(parsed, key, tuple(values))


_OWN_KEYS = ("aws:SourceVpc", "aws:SourceVpce", "aws:userid", "aws:PrincipalServiceName")


def outsider_conditions(account: str, anonymous: bool, org: str | None = "", exact_arn: str | None = None
                        ) -> list[Condition]:
    """What is true of an outsider's (or an anonymous caller's) request context, as conditions: its own
    account (and principal ARN in it: `exact_arn`, or any), its own VPCs and endpoints, no source ARN or
    account (it calls directly). `org`: its organization ("" a fresh one, None: any, the trusted one
    included — when only an account is trusted)."""
    fresh = f"kubesage-outsider-{account}"
    out = [_cond("Null", k, ["true"]) for k in ("aws:SourceArn", "aws:SourceAccount", "aws:SourceOwner")]
    out += [_cond("StringEqualsIfExists", k, [fresh]) for k in _OWN_KEYS]
    if org is not None:
        org = org or fresh
        out.append(_cond("StringEqualsIfExists", "aws:PrincipalOrgID", [org]))
        out.append(_cond("ForAllValues:StringLike", "aws:PrincipalOrgPaths", [f"{org}/*"]))
    out.append(_cond("BoolIfExists", "aws:PrincipalIsAWSService", ["false"]))
    if anonymous:
        out += [_cond("Null", k, ["true"]) for k in ("aws:PrincipalArn", "aws:PrincipalAccount")]
    else:
        out.append(_cond("StringEquals", "aws:PrincipalAccount", [account]))
        arns = [exact_arn.replace("*", "${*}").replace("?", "${?}")] if exact_arn else [
            f"arn:aws:iam::{account}:*", f"arn:aws:sts::{account}:*"]
        out.append(_cond("ArnLike", "aws:PrincipalArn", arns))
    return out


def check_no_public_access(policy: Policy, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> CheckOutcome:
    """Pass when neither an outsider (a principal of an account the policy never names) nor an anonymous
    caller is allowed anything (see the module docstring for what an outsider controls)."""
    if not policy.uses_principal():
        raise PolicyError("$.Statement", "not a resource policy: no statement has a Principal (identity "
                          "policies cannot grant public access)")
    account = _fresh_account(policy)
    who = {False: f"arn:aws:iam::{account}:role/kubesage-outsider", True: ""}
    for anonymous in (False, True):
        keys = policy.context_keys()
        conds = tuple(c for c in outsider_conditions(account, anonymous) if c.lkey in keys)
        probe = Statement("Allow", ("*",), resources=("*",), conditions=conds)
        probe_policy = Policy((probe,), "2012-10-17")
        seed = Request(action="s3:GetObject", resource="*", principal=who[anonymous] or None)
        universe = Universe.of([policy, probe_policy], [seed])
        req = SymbolicRequest(universe)
        enc = Encoder(req)
        constraints = req.domain() + [enc.statement(probe, probe_policy), enc.allows(policy),
                                      req.principal.equals(who[anonymous])]
        res, model = solve(constraints, timeout_ms)
        if res == z3.unknown:
            raise TimeoutError("Z3 could not decide the check in time")
        if res == z3.sat:
            x = req.concretize(model)
            x = Request(x.action, x.resource, who[anonymous] or None, x.context, x.key_names)
            if not decide(policy, x).allowed:
                raise AssertionError(f"unconfirmed counterexample {x.describe()}; please report it")
            caller = "an anonymous caller" if anonymous else f"a principal of account {account}, which the policy never names"
            return CheckOutcome("check-no-public-access", False, f"the policy allows {caller}", x,
                                _allowing(policy, x, "policy"))
    return CheckOutcome("check-no-public-access", True, "Z3 proved no outsider and no anonymous caller is "
                        "allowed anything")
