"""Proven questions about an account (`policies.account`): who can do A on R, can anyone outside an
account or organization do A on R, is R public, does a new policy grant anything the old one did not (for
every principal that has it), which allowed actions were never used (and a least-privilege proposal).

Why one Z3 formula per (principal, resource) rather than per account: a principal's effective access is the
combination of a handful of policies (its identity policies, boundary, SCPs, the resource's policy), so each
query stays small; principals whose policies cannot match the action and resource even ignoring conditions
are answered "no" concretely first (a sound filter: conditions only ever narrow). Every Z3 answer "yes" comes
with a request (its context chosen by Z3) that the concrete evaluator re-decides; "no" is an unsat proof.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

import z3

from policies.account import (
    Account,
    AccountPrincipal,
    AccountResource,
    NamedPolicy,
    as_seen_by,
    decide_in_account,
    identity_context,
    is_identity_key,
    merged_identity,
    split_resource_policy,
    with_identity,
)
from policies.budget import checkpoint
from policies.checks import CheckOutcome, check_no_public_access, outsider_conditions
from policies.encoding import Encoder, SymbolicRequest, Universe
from policies.evaluator import action_matches, decide, principal_matches, resource_matches
from policies.model import Condition, Policy, Request, Statement
from policies.operators import parse_operator
from policies.patterns import glob_escape
from policies.verify import DEFAULT_TIMEOUT_MS, solve


@dataclass
class Answer:
    """One principal's answer: allowed (with a confirmed request and the responsible statements) or proven
    not (unsat, or no statement could match)."""

    principal: str
    allowed: bool
    request: Request | None = None
    responsible: list[str] = field(default_factory=list)
    proof: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"principal": self.principal, "allowed": self.allowed, "proof": self.proof,
                "request": self.request.to_json() if self.request else None, "responsible": self.responsible}


class _Query:
    """The Z3 formula "principal P may make the request" over one symbolic request (action, context and,
    unless pinned, resource), combining the policies as `policies.account.decide_in_account` does."""

    def __init__(self, account: Account, principal: AccountPrincipal, resources: list[AccountResource],
                 identities: list[NamedPolicy], seeds: list[Request], probes: list[Statement] = (),
                 session: NamedPolicy | None = None) -> None:
        self.account, self.principal, self.resources = account, principal, resources
        self.scps = [s.policy for s in account.scps] if principal.account == account.account_id else []
        self.session = session.policy if session else None
        self.boundary = principal.boundary.policy if principal.boundary else None
        self.identities = [i.policy for i in identities]
        self.splits = [split_resource_policy(as_seen_by(principal, r.policy.policy)) if r.policy else None
                       for r in resources]
        self.cover = [Statement("Allow", ("*",), resources=r.covers) for r in resources]
        self.probe = Policy(tuple(self.cover) + tuple(probes), "2012-10-17")
        everything = [*self.scps, *self.identities, self.probe, *([self.session] if self.session else []),
                      *([self.boundary] if self.boundary else []),
                      *[p for sp in self.splits if sp for p in sp]]
        read = set().union(*(p.context_keys() for p in everything))
        pins = _identity_pins(account, principal, read)
        pin_policy = Policy((Statement("Allow", ("*",), resources=("*",), conditions=tuple(pins)),), "2012-10-17")
        self.universe = Universe.of(everything + [pin_policy], seeds)
        self.req = SymbolicRequest(self.universe)
        self.enc = Encoder(self.req)
        self.domain = self.req.domain() + [self.req.principal.equals(principal.arn),
                                           self.enc.statement(pin_policy.statements[0], pin_policy)]

    def _allow(self, policy: Policy) -> z3.BoolRef:
        return z3.Or([self.enc.statement(s, policy) for s in policy.statements if s.allow] or [z3.BoolVal(False)])

    def allowed(self, identity: Policy) -> z3.BoolRef:
        enc = self.enc
        inside = [enc.statement(c, self.probe) for c in self.cover]
        deny = [enc.denies_explicitly(p) for p in (*self.scps, identity, *([self.boundary] if self.boundary else []),
                                                   *([self.session] if self.session else []))]
        deny += [z3.And(i, enc.denies_explicitly(sp[0])) for i, sp in zip(inside, self.splits, strict=False) if sp]
        guards = z3.And([self._allow(p) for p in (*self.scps, *([self.session] if self.session else []))]
                        or [z3.BoolVal(True)])
        bounded = self._allow(self.boundary) if self.boundary else z3.BoolVal(True)
        identity_ok = z3.And(self._allow(identity), guards, bounded)
        kms = [i for i, r in zip(inside, self.resources, strict=False) if r.service == "kms"]
        paths = [z3.And(identity_ok, z3.Not(z3.Or(kms))) if kms else identity_ok]
        needs_bound = bounded if self.principal.kind == "role" else z3.BoolVal(True)
        for i, sp in zip(inside, self.splits, strict=False):
            if sp:
                paths.append(z3.And(i, z3.Or(z3.And(self._allow(sp[0]), guards, needs_bound),
                                             z3.And(self._allow(sp[1]), identity_ok))))
        return z3.And(z3.Not(z3.Or(deny)), z3.Or(paths))


def _identity_pins(account: Account, principal: AccountPrincipal, read: set[str]) -> list[Condition]:
    """Conditions fixing the identity keys the policies read to the principal's values (absent when AWS
    does not set them for this principal)."""
    ctx = {k.lower(): (k, v) for k, v in identity_context(account, principal).items()}
    out = []
    for lkey in sorted(read):
        if not is_identity_key(lkey):
            continue
        if lkey in ctx:
            name, value = ctx[lkey]
            out.append(Condition(parse_operator("StringEquals"), name, (glob_escape(value),)))   # type: ignore[arg-type]
        else:
            out.append(Condition(parse_operator("Null"), lkey, ("true",)))   # type: ignore[arg-type]
    return out


_VARIABLE = re.compile(r"\$\{[^}]*\}")


def _might(st: Statement, action: str, resource: str, principal: str) -> bool:
    """Whether a statement could apply to (action, resource, principal) in some context (conditions and
    policy variables are read as "maybe")."""
    if action_matches(st.actions, action) == st.not_action:
        return False
    if st.resources is not None:
        # a policy variable stands for some string: `*` in its place matches at least what it can
        widened = tuple(_VARIABLE.sub("*", r) for r in st.resources)
        if widened != st.resources and st.not_resource:
            pass     # NotResource with a variable: the wider reading excludes more; keep "maybe"
        else:
            probe = Request(action, resource, principal)
            if resource_matches(widened, resource, probe, Policy((st,))) == st.not_resource:
                return False
    if st.principal is not None and principal_matches(st.principal, principal) == st.not_principal:
        return False
    return True


def _candidate(account: Account, p: AccountPrincipal, action: str, resource: str,
               res: AccountResource | None) -> bool:
    own = any(s.allow and _might(s, action, resource, p.arn) for np in p.policies for s in np.policy.statements)
    if own or res is None or res.policy is None:
        return own
    # without an identity grant, only a statement naming the principal itself can grant (one naming its
    # account delegates back to the identity policies)
    direct, _ = split_resource_policy(res.policy.policy)
    return any(s.allow and _might(s, action, resource, p.arn) for s in direct.statements)


_UNSET = AccountResource("", "")


def _context_free(account: Account, p: AccountPrincipal, action: str, resource: str,
                  res: AccountResource | None, session: NamedPolicy | None) -> bool:
    """Whether every statement that could apply to (action, resource, principal) ignores the context (no
    conditions, no policy variables): then one concrete decision holds for every context."""
    scps = account.scps if p.account == account.account_id else []
    involved = [*scps, *p.policies, *([p.boundary] if p.boundary else []), *([session] if session else []),
                *([res.policy] if res is not None and res.policy is not None else [])]
    for np in involved:
        for st in np.policy.statements:
            if _might(st, action, resource, p.arn) and (st.conditions or any(
                    "${" in r for r in st.resources or ())):
                return False
    return True


def can(account: Account, principal: AccountPrincipal, action: str, resource: str,
        session: NamedPolicy | None = None, timeout_ms: int = DEFAULT_TIMEOUT_MS,
        res: AccountResource | None = _UNSET) -> Answer:
    """Can `principal` (in a session limited by `session`, if given) do `action` on `resource` in some
    context? Proven either way. (`res`: the resource governing `resource`, when the caller looked it up.)"""
    checkpoint("an account question")
    if res is _UNSET:
        res = account.resource_for(resource)
    if not _candidate(account, principal, action, resource, res):
        return Answer(principal.arn, False, proof="no statement of its policies or the resource's can match")
    # fast path: allowed without any chosen context (the evaluator's answer is the witness)
    plain = Request.make(action, resource, principal.arn)
    d = decide_in_account(account, principal, plain, session)
    if d.allowed:
        return Answer(principal.arn, True, with_identity(account, principal, plain), d.responsible,
                      proof=f"allowed through the {d.path} path (in every context that sets no other key)")
    if _context_free(account, principal, action, resource, res, session):
        return Answer(principal.arn, False, proof="denied, and no statement that could apply reads the request "
                      "context, so no context can change it")
    seed = Request(action, resource, principal.arn)
    q = _Query(account, principal, [res] if res else [], [merged_identity(principal)], [seed], session=session)
    pins = [q.req.action.equals(action.lower()), q.req.resource.equals(resource)]
    sat, model = solve(q.domain + pins + [q.allowed(q.identities[0])], timeout_ms)
    if sat == z3.unsat:
        return Answer(principal.arn, False, proof="Z3 proved no context allows it (unsat)")
    if sat != z3.sat:
        raise TimeoutError(f"Z3 could not decide whether {principal.arn} can {action} on {resource}")
    x = q.req.concretize(model)
    x = with_identity(account, principal, replace(x, action=action, resource=resource))
    d = decide_in_account(account, principal, x, session)
    if not d.allowed:
        raise AssertionError(f"evaluator refuses Z3's request {x.describe()}; please report it")
    return Answer(principal.arn, True, x, d.responsible, proof=f"allowed through the {d.path} path")


def who_can(account: Account, action: str, resource: str) -> list[Answer]:
    """Every principal of the account, with its proven answer for `action` on `resource`."""
    res = account.resource_for(resource)
    return [can(account, p, action, resource, res=res) for p in account.principals]


def outside_access(account: Account, resource: str, action: str | None = None,
                   trusted_accounts: list[str] | None = None, trusted_org: str | None = None,
                   timeout_ms: int = DEFAULT_TIMEOUT_MS) -> CheckOutcome:
    """Can a principal outside `trusted_accounts` (default: this account) — and outside `trusted_org`
    when given — do `action` (default: anything) on `resource`? Outsiders run their own accounts, so their
    identity policies are assumed to allow everything: only the resource policy stands between them and R.
    Representatives: each principal ARN the policy names in another account, a fresh principal of each such
    account, a principal of an account the policy never names, and an anonymous caller."""
    trusted = set(trusted_accounts or [account.account_id])
    res = account.resource_for(resource)
    name = "outside-access"
    if res is None or res.policy is None:
        return CheckOutcome(name, True, f"{resource} has no resource policy: only principals of its account "
                            "can be granted access (by their identity policies)")
    policy = res.policy.policy
    from policies.checks import _fresh_account, _named_accounts

    accounts = sorted(a for a in _named_accounts(policy) if a not in trusted) + [_fresh_account(policy)]
    named = sorted({v for s in policy.statements if s.principal for t, v in s.principal.entries
                    if t == "AWS" and v.startswith("arn:") and v.split(":")[4] not in trusted})
    reps: list[tuple[str | None, str]] = [(v, v.split(":")[4]) for v in named]
    reps += [(f"arn:aws:iam::{a}:role/kubesage-outsider", a) for a in accounts] + [(None, "")]
    for arn, acct in reps:
        checkpoint("an account question")
        conds = outsider_conditions(acct, arn is None, org=None if trusted_org is None else f"kubesage-outsider-{acct}",
                                    exact_arn=arn if arn in named else None)
        keys = policy.context_keys()
        probe = Statement("Allow", (action or "*",), resources=("*",), conditions=tuple(c for c in conds if c.lkey in keys))
        probe_policy = Policy((probe,), "2012-10-17")
        seed = Request(action or "s3:GetObject", resource, arn)
        universe = Universe.of([policy, probe_policy], [seed])
        req = SymbolicRequest(universe)
        enc = Encoder(req)
        cons = req.domain() + [enc.statement(probe, probe_policy), enc.allows(policy),
                               req.principal.equals(arn or ""), req.resource.equals(resource)]
        sat, model = solve(cons, timeout_ms)
        if sat == z3.unknown:
            raise TimeoutError("Z3 could not decide the question in time")
        if sat == z3.sat:
            x = req.concretize(model)
            x = Request(x.action, resource, arn, x.context, x.key_names)
            if not decide(policy, x).allowed:
                raise AssertionError(f"unconfirmed request {x.describe()}; please report it")
            who = arn or "an anonymous caller"
            from policies.checks import Responsible

            resp = [Responsible(res.policy.name, i, policy.statements[i].sid, "allows it") for i in _applying(policy, x)]
            return CheckOutcome(name, False, f"{who} (outside {', '.join(sorted(trusted))}"
                                + (f" and organization {trusted_org}" if trusted_org else "") + f") can act on {resource}",
                                x, resp)
    return CheckOutcome(name, True, f"Z3 proved no principal outside {', '.join(sorted(trusted))}"
                        + (f" or organization {trusted_org}" if trusted_org else "")
                        + f" can {action or 'do anything'} on {resource}")


def _applying(policy: Policy, x: Request) -> list[int]:
    from policies.evaluator import evaluate

    return evaluate(policy, x).applying("Allow")


def is_public(account: Account, resource: str) -> CheckOutcome:
    """Is the resource open to an outsider or anonymous caller (see `policies.checks`)?"""
    res = account.resource_for(resource)
    if res is None or res.policy is None:
        return CheckOutcome("check-no-public-access", True, f"{resource} has no resource policy")
    return check_no_public_access(res.policy.policy)


def new_access(account: Account, policy_name: str, new: Policy,
               timeout_ms: int = DEFAULT_TIMEOUT_MS) -> list[Answer]:
    """For every principal that has the policy `policy_name`: does replacing it by `new` let the principal do
    anything it could not do before (any action, any resource, any context)? Proven per principal."""
    out = []
    for p in account.principals:
        if not any(np.name == policy_name for np in p.policies):
            continue
        checkpoint("an account question")
        old_id = merged_identity(p)
        swapped = replace(p, policies=tuple(NamedPolicy(np.name, new) if np.name == policy_name else np
                                            for np in p.policies))
        new_id = merged_identity(swapped)
        quick = _identity_difference(account, p, swapped, old_id, new_id, timeout_ms)
        if quick is not None:
            out.append(quick)
            continue
        q = _Query(account, p, account.resources, [old_id, new_id], [Request("s3:GetObject", "*", p.arn)])
        sat, model = solve(q.domain + [q.allowed(new_id.policy), z3.Not(q.allowed(old_id.policy))], timeout_ms)
        if sat == z3.unsat:
            out.append(Answer(p.arn, False, proof="Z3 proved it grants this principal nothing new (unsat)"))
            continue
        if sat != z3.sat:
            raise TimeoutError(f"Z3 could not decide new access for {p.arn}")
        x = with_identity(account, p, q.req.concretize(model))
        after, before = decide_in_account(account, swapped, x), decide_in_account(account, p, x)
        if not after.allowed or before.allowed:
            raise AssertionError(f"evaluator refuses Z3's request {x.describe()}; please report it")
        out.append(Answer(p.arn, True, x, after.responsible, proof="new access (confirmed by the evaluator)"))
    return out


def _identity_difference(account: Account, p: AccountPrincipal, swapped: AccountPrincipal, old_id: NamedPolicy,
                         new_id: NamedPolicy, timeout_ms: int, tries: int = 4) -> Answer | None:
    """The identity path alone first (no resource policies in the formula): if the new identity policies
    allow nothing the old ones do not (with the same SCPs and boundary) and lift no Deny, nothing new can be
    allowed on any path (resource policies add the same direct grants to both, or delegate to the identity
    path, and an explicit Deny blocks every path): a proof.
    Otherwise a difference the evaluator confirms on the whole account is the answer. None: undecided
    here (the caller builds the full formula)."""
    q = _Query(account, p, [], [old_id, new_id], [Request("s3:GetObject", "*", p.arn)])
    lifted = z3.And(z3.Not(q.enc.denies_explicitly(new_id.policy)), q.enc.denies_explicitly(old_id.policy))
    # either the identity path grows, or a Deny is lifted (which could unblock a resource-policy grant)
    cons = q.domain + [z3.Or(z3.And(q.allowed(new_id.policy), z3.Not(q.allowed(old_id.policy))), lifted)]
    for _ in range(tries):
        sat, model = solve(cons, timeout_ms)
        if sat == z3.unsat:
            return Answer(p.arn, False, proof="Z3 proved its identity policies allow nothing new and lift no "
                          "Deny (unsat), so no path can")
        if sat != z3.sat:
            return None
        x = with_identity(account, p, q.req.concretize(model))
        after, before = decide_in_account(account, swapped, x), decide_in_account(account, p, x)
        if after.allowed and not before.allowed:
            return Answer(p.arn, True, x, after.responsible, proof="new access (confirmed by the evaluator)")
        cons.append(z3.Not(z3.And(q.req.action.equals(x.action.lower()), q.req.resource.equals(x.resource))))
    return None


@dataclass
class Unused:
    """Actions a principal may do on a resource but never used, and a least-privilege proposal."""

    principal: str
    resource: str
    used: list[str]
    unused: list[str]                 # action patterns / examples Z3 found allowed and unused
    complete: bool                    # Z3 proved nothing else is allowed and unused
    proposal: Policy
    proposal_proof: str

    def to_json(self) -> dict[str, Any]:
        from policies.parser import policy_to_json

        return {"principal": self.principal, "resource": self.resource, "used": self.used, "unused": self.unused,
                "complete": self.complete, "proposal": policy_to_json(self.proposal),
                "proposal_proof": self.proposal_proof}


def unused_actions(account: Account, principal: AccountPrincipal, resource: str, used: list[str],
                   limit: int = 25, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> Unused:
    """Which actions `principal` may do on `resource` that it never used (`used`: action names from a
    CloudTrail-style log), each found by Z3 and blocked until unsat, and a proposal that allows exactly the
    used actions on the resource, proven to grant nothing the principal could not already do."""
    from policies.extra import region_patterns

    res = account.resource_for(resource)
    seeds = [Request(a, resource, principal.arn) for a in used] or [Request("s3:GetObject", resource, principal.arn)]
    probe = Statement("Allow", tuple(used) or ("kubesage:none",), resources=("*",))
    q = _Query(account, principal, [res] if res else [], [merged_identity(principal)], seeds, [probe])
    cons = q.domain + [q.req.resource.equals(resource), q.allowed(q.identities[0]),
                       z3.Not(q.enc.statement(probe, q.probe))]
    found: dict[tuple[str, ...], list[str]] = {}     # region patterns -> example actions
    complete = False
    while sum(map(len, found.values())) < limit:
        checkpoint("an account question")
        sat, model = solve(cons, timeout_ms)
        if sat == z3.unsat:
            complete = True
            break
        if sat != z3.sat:
            break
        x = q.req.concretize(model)
        pats = region_patterns(q.req.action, x.action.lower()) or []
        wild = tuple(p for p in pats if p.lower() != x.action.lower())
        found.setdefault(wild, []).append(x.action)
        cons.append(z3.Not(q.req.action.equals(x.action.lower())))
    unused = [f"every other action matching {' and '.join(w)} (e.g. {', '.join(xs)})" if w else ", ".join(xs)
              for w, xs in found.items()]
    proposal = Policy((Statement("Allow", tuple(sorted(set(used))) or ("kubesage:none",), resources=(resource,),
                                 sid="UsedOnly", action_list=True, resource_list=False),), "2012-10-17")
    proof = _prove_no_wider(account, principal, proposal, resource, timeout_ms)
    return Unused(principal.arn, resource, sorted(set(used)), unused, complete, proposal, proof)


def _prove_no_wider(account: Account, principal: AccountPrincipal, proposal: Policy, resource: str,
                    timeout_ms: int) -> str:
    swapped = replace(principal, policies=(NamedPolicy("proposal", proposal),))
    old_id, new_id = merged_identity(principal), merged_identity(swapped)
    res = account.resource_for(resource)
    q = _Query(account, principal, [res] if res else [], [old_id, new_id], [Request("s3:GetObject", resource, principal.arn)])
    sat, _ = solve(q.domain + [q.allowed(new_id.policy), z3.Not(q.allowed(old_id.policy))], timeout_ms)
    if sat == z3.unsat:
        return "Z3 proved the proposal grants nothing the principal could not already do (unsat)"
    return "the proposal is NOT contained in the current access (the used actions were not all allowed)"
