"""An AWS account as policies: principals with their identity policies, permission boundaries and groups,
resources with their resource policies, SCPs, and the concrete evaluation that combines them as AWS does.

Why a model of its own (no boto3 here): the room stays a library that imports z3 only. `tools/iam_account.py`
reads a real (or moto) account into these types; the questions (`policies.account_questions`) prove things
about them with Z3; this module is the concrete reference both are tested against.

How a request is decided (AWS "policy evaluation logic", one account plus outsiders):
- an explicit Deny in any policy that applies (SCPs, identity, boundary, session, resource) denies;
- identity path: some identity policy allows, and every SCP, the boundary (if any) and the session policy
  (if any) allow;
- resource path (the resource has a policy): a statement that names the principal itself (its ARN, a session
  of its role, or "*") grants directly; within the account that is enough for a user, while a role also needs
  its boundary, and every SCP and the session policy must allow. A statement that matches only through an
  account principal (`123456789012`, `...:root`) delegates to that account: the identity path must allow too;
- a principal of another account needs both its identity path and the resource policy;
- KMS keys: identity policies count only when the key policy delegates to the account (AWS key policies).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from policies.evaluator import _account_prefixes, decide, evaluate
from policies.model import Policy, Request, Statement
from policies.patterns import split_arn


@dataclass(frozen=True)
class NamedPolicy:
    """A policy document and where it comes from (shown as the owner of responsible statements)."""

    name: str
    policy: Policy


@dataclass(frozen=True)
class AccountPrincipal:
    """A user or role: its ARN, identity policies (inline, attached, and its groups'), and boundary."""

    arn: str
    kind: str                                      # "user" | "role"
    policies: tuple[NamedPolicy, ...] = ()
    boundary: NamedPolicy | None = None
    groups: tuple[str, ...] = ()
    tags: tuple[tuple[str, str], ...] = ()

    @property
    def account(self) -> str:
        parts = split_arn(self.arn)
        return parts[4] if parts else ""

    @property
    def name(self) -> str:
        return self.arn.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class AccountResource:
    """A resource (bucket, key, queue...) with its resource policy, if any."""

    arn: str
    account: str
    policy: NamedPolicy | None = None

    @property
    def service(self) -> str:
        parts = split_arn(self.arn)
        return parts[2] if parts else ""

    @property
    def covers(self) -> tuple[str, ...]:
        """ARN patterns of the requests this resource's policy governs (a bucket's policy also governs its
        objects)."""
        if self.service == "s3" and "/" not in self.arn:
            return (self.arn, self.arn + "/*")
        return (self.arn,)


@dataclass
class Account:
    account_id: str
    principals: list[AccountPrincipal] = field(default_factory=list)
    resources: list[AccountResource] = field(default_factory=list)
    scps: list[NamedPolicy] = field(default_factory=list)
    org_id: str | None = None

    def principal(self, name_or_arn: str) -> AccountPrincipal:
        for p in self.principals:
            if name_or_arn in (p.arn, p.name):
                return p
        raise KeyError(f"no user or role {name_or_arn!r} in account {self.account_id}")

    def resource_for(self, arn: str) -> AccountResource | None:
        """The resource whose policy governs requests on `arn` (a bucket for its objects). Indexed: account
        questions look resources up once per principal."""
        index = self.__dict__.get("_index")
        if index is None or len(index) != len(self.resources):
            index = {r.arn: r for r in self.resources}
            self.__dict__["_index"] = index
        found = index.get(arn)
        if found is None and arn.startswith("arn:aws:s3:::") and "/" in arn:
            found = index.get(arn.split("/", 1)[0])
        return found


# -- what AWS puts in every request of a principal -----------------------------------------------------------
IDENTITY_PREFIXES = ("aws:principaltag/",)
IDENTITY_KEYS = ("aws:username", "aws:principalarn", "aws:principalaccount", "aws:principaltype",
                 "aws:principalorgid")


def identity_context(account: Account, principal: AccountPrincipal) -> dict[str, str]:
    """The context keys AWS sets from the principal itself (a request cannot choose them): its ARN, account,
    type, user name (users only), organization and tags."""
    ctx = {"aws:PrincipalArn": principal.arn, "aws:PrincipalAccount": principal.account,
           "aws:PrincipalType": "User" if principal.kind == "user" else "AssumedRole"}
    if principal.kind == "user":
        ctx["aws:username"] = principal.name
    if account.org_id:
        ctx["aws:PrincipalOrgID"] = account.org_id
    for k, v in principal.tags:
        ctx[f"aws:PrincipalTag/{k}"] = v
    return ctx


def is_identity_key(lkey: str) -> bool:
    return lkey in IDENTITY_KEYS or lkey.startswith(IDENTITY_PREFIXES)


def with_identity(account: Account, principal: AccountPrincipal, request: Request) -> Request:
    """`request` as `principal` makes it: its ARN as principal and the identity keys set (others kept)."""
    ctx = {request.key_names.get(k, k): v for k, v in request.context.items() if not is_identity_key(k)}
    ctx.update(identity_context(account, principal))
    return Request.make(request.action, request.resource, principal.arn, ctx)


# -- resource policies split by how they grant -------------------------------------------------------------
_NOBODY = "kubesage:no-principal"   # a principal entry that matches no request


def _is_account_entry(ptype: str, value: str) -> bool:
    return ptype == "AWS" and value != "*" and _account_prefixes(value) is not None


def as_seen_by(principal: AccountPrincipal, policy: Policy) -> Policy:
    """The resource policy as it applies to `principal`. AWS: a Deny with NotPrincipal "will always deny any
    IAM principal that has a permissions boundary policy attached, regardless of the values specified in the
    NotPrincipal element" (permissions boundaries, IAM User Guide)."""
    if principal.boundary is None or not any(not s.allow and s.not_principal for s in policy.statements):
        return policy
    return policy.with_statements([s.with_(principal=None, not_principal=False) if not s.allow and s.not_principal
                                   else s for s in policy.statements])


def split_resource_policy(policy: Policy) -> tuple[Policy, Policy]:
    """(direct, delegated): the Allows that name principals themselves, and those that name accounts; the
    Denies are kept in both (they deny whoever they match)."""
    direct: list[Statement] = []
    account: list[Statement] = []
    for st in policy.statements:
        if not st.allow or st.principal is None or st.not_principal:
            direct.append(st)
            account.append(st)
            continue
        own = tuple(e for e in st.principal.entries if not _is_account_entry(*e))
        acct = tuple(e for e in st.principal.entries if _is_account_entry(*e))
        direct.append(st.with_(principal=replace(st.principal, entries=own or (("AWS", _NOBODY),), star=False)))
        account.append(st.with_(principal=replace(st.principal, entries=acct or (("AWS", _NOBODY),), star=False)))
    return policy.with_statements(direct), policy.with_statements(account)


# -- concrete evaluation -----------------------------------------------------------------------------------
@dataclass
class AccountDecision:
    allowed: bool
    path: str                                      # "identity" | "resource" | "delegated" | "denied" | "none"
    responsible: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"allowed": self.allowed, "path": self.path, "responsible": self.responsible}


def _labels(np: NamedPolicy, request: Request, effect: str) -> list[str]:
    ev = evaluate(np.policy, request)
    return [f"{np.name}: {np.policy.statements[i].label(i)}" for i in ev.applying(effect)]


def _allows(np: NamedPolicy | None, request: Request) -> bool:
    """Some Allow statement applies (Denies are counted separately)."""
    if np is None:
        return False
    allow_only = np.policy.with_statements([s for s in np.policy.statements if s.allow])
    return decide(allow_only, request).allowed


def merged_identity(principal: AccountPrincipal) -> NamedPolicy:
    """All identity policies as one (AWS unions their allows and any deny denies: the same as one policy)."""
    sts = [s for np in principal.policies for s in np.policy.statements]
    return NamedPolicy(f"identity policies of {principal.name}", Policy(tuple(sts), "2012-10-17"))


def decide_in_account(account: Account, principal: AccountPrincipal, request: Request,
                      session: NamedPolicy | None = None) -> AccountDecision:
    """The decision for `principal` making `request` (its principal field is replaced by the principal's
    ARN), with the statements responsible (allowing, or the explicit Denies)."""
    request = with_identity(account, principal, request)
    resource = account.resource_for(request.resource)
    scps = account.scps if principal.account == account.account_id else []
    if resource is not None and resource.policy is not None:
        resource = replace(resource, policy=NamedPolicy(resource.policy.name,
                                                        as_seen_by(principal, resource.policy.policy)))
    every = [*scps, *principal.policies, *([principal.boundary] if principal.boundary else []),
             *([session] if session else []), *([resource.policy] if resource and resource.policy else [])]
    denies = [lab for np in every for lab in _labels(np, request, "Deny")]
    if denies:
        return AccountDecision(False, "denied", denies)
    guards = all(_allows(s, request) for s in scps) and (session is None or _allows(session, request))
    bounded = principal.boundary is None or _allows(principal.boundary, request)
    identity = merged_identity(principal)
    identity_ok = _allows(identity, request) and guards and bounded
    direct = delegated = False
    if resource is not None and resource.policy is not None:
        d, a = split_resource_policy(resource.policy.policy)
        direct = _allows(NamedPolicy("", d), request)
        delegated = _allows(NamedPolicy("", a), request)
    same = resource is None or resource.account == principal.account
    kms = resource is not None and resource.service == "kms"
    rp = [resource.policy] if resource is not None and resource.policy is not None else []
    owners = [lab for np in principal.policies for lab in _labels(np, request, "Allow")]
    owners_r = [lab for np in rp for lab in _labels(np, request, "Allow")]
    if same:
        if identity_ok and not kms:
            return AccountDecision(True, "identity", owners)
        if direct and guards and (principal.kind == "user" or bounded):
            return AccountDecision(True, "resource", owners_r)
        if delegated and identity_ok:
            return AccountDecision(True, "delegated", owners_r + owners)
        return AccountDecision(False, "none")
    if identity_ok and (direct or delegated):
        return AccountDecision(True, "delegated", owners_r + owners)
    return AccountDecision(False, "none")


def account_from_snapshot(snapshot: dict[str, Any]) -> Account:
    """The account from the JSON snapshot `tools/iam_account.py` reads (see its docstring for the format).
    Every document is parsed strictly; an error names the principal or resource it belongs to."""
    from policies.errors import PolicyError
    from policies.parser import parse_policy

    def named(obj: dict[str, Any] | None, owner: str) -> NamedPolicy | None:
        if not obj:
            return None
        try:
            return NamedPolicy(obj["name"], parse_policy(obj["document"]))
        except PolicyError as e:
            raise PolicyError(e.path, f"{owner}, {obj['name']}: {e.message}") from None

    principals = [AccountPrincipal(p["arn"], p["kind"],
                                   tuple(n for n in (named(d, p["arn"]) for d in p.get("policies", [])) if n),
                                   named(p.get("boundary"), p["arn"]), tuple(p.get("groups", [])),
                                   tuple(sorted((t["Key"], t["Value"]) for t in p.get("tags", []))))
                  for p in snapshot.get("principals", [])]
    resources = [AccountResource(r["arn"], r.get("account", snapshot["account_id"]), named(r.get("policy"), r["arn"]))
                 for r in snapshot.get("resources", [])]
    scps = [n for n in (named(s, "SCP") for s in snapshot.get("scps", [])) if n]
    return Account(snapshot["account_id"], principals, resources, scps, snapshot.get("org_id"))
