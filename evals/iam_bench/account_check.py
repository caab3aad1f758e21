"""Cross-check the account model against the independent simulator `@cloud-copilot/iam-simulate`: a grid of
requests (every principal × every resource × the resource's actions × two contexts), decided by
`policies.account.decide_in_account` and by the simulator's safe engine (`runSimulation`, given the
principal's identity policies, boundary, the SCPs and the resource policy), request by request.
"""

from __future__ import annotations

from typing import Any

from evals.iam_bench.simulator import simulate
from policies.account import Account, AccountPrincipal, NamedPolicy, decide_in_account, with_identity
from policies.model import Request
from policies.parser import policy_to_json

CONTEXTS = [
    {"aws:SecureTransport": "true", "aws:MultiFactorAuthPresent": "true", "aws:SourceIp": "10.1.2.3",
     "aws:RequestedRegion": "us-east-1"},
    {"aws:SecureTransport": "false", "aws:MultiFactorAuthPresent": "false", "aws:SourceIp": "203.0.113.5",
     "aws:RequestedRegion": "eu-west-1"},
]
ACTIONS = {
    "s3-object": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
    "s3-bucket": ["s3:ListBucket", "s3:DeleteBucket"],
    "kms": ["kms:Decrypt", "kms:Encrypt"],
    "sqs": ["sqs:SendMessage", "sqs:ReceiveMessage"],
}


def targets(account: Account) -> list[tuple[str, str]]:
    """(action, resource ARN) pairs covering every resource of the account."""
    out = []
    for r in account.resources:
        if r.service == "s3":
            bucket = r.arn.split(":::", 1)[1]
            keys = {"home": ["dev1/notes.txt", "dev2/notes.txt"], "reports": ["blue/q1.csv", "red/q1.csv"]}
            for key in keys.get(bucket, ["2024/file.txt"]):
                out += [(a, f"{r.arn}/{key}") for a in ACTIONS["s3-object"]]
            out += [(a, r.arn) for a in ACTIONS["s3-bucket"]]
        elif r.service in ACTIONS:
            out += [(a, r.arn) for a in ACTIONS[r.service]]
    return out


def grid(account: Account) -> list[tuple[AccountPrincipal, Request]]:
    return [(p, with_identity(account, p, Request.make(a, res, p.arn, ctx)))
            for p in account.principals for a, res in targets(account) for ctx in CONTEXTS]


def simulator_case(account: Account, principal: AccountPrincipal, request: Request,
                   session: NamedPolicy | None = None) -> dict[str, Any]:
    resource = account.resource_for(request.resource)
    scps = account.scps if principal.account == account.account_id else []
    return {
        "kind": "account",
        "identityPolicies": [{"name": f"p{i}", "policy": policy_to_json(np.policy)} for i, np in enumerate(principal.policies)],
        "permissionBoundaryPolicies": ([{"name": "boundary", "policy": policy_to_json(principal.boundary.policy)}]
                                       if principal.boundary else None),
        "serviceControlPolicies": ([{"orgIdentifier": account.org_id or "o-unknown",
                                     "policies": [{"name": f"scp{i}", "policy": policy_to_json(s.policy)}
                                                  for i, s in enumerate(scps)]}] if scps else []),
        "resourcePolicy": policy_to_json(resource.policy.policy) if resource and resource.policy else None,
        "resourceAccount": resource.account if resource else account.account_id,
        "sessionPolicy": policy_to_json(session.policy) if session else None,
        "request": request.to_json(),
    }


def cross_check(account: Account, requests: list[tuple[AccountPrincipal, Request]],
                session: NamedPolicy | None = None) -> dict[str, Any]:
    """Decide every request both ways; return the counts and the disagreements (with both decisions)."""
    ours = [decide_in_account(account, p, r, session) for p, r in requests]
    theirs = simulate([simulator_case(account, p, r, session) for p, r in requests])
    disagreements, errors = [], []
    for (p, r), d, t in zip(requests, ours, theirs, strict=False):
        if isinstance(t, dict):
            errors.append({"principal": p.arn, "request": r.to_json(), "error": t})
            continue
        if d.allowed != (t == "Allowed"):
            disagreements.append({"principal": p.arn, "request": r.to_json(), "kubesage": d.to_json(), "simulator": t})
    allowed = sum(d.allowed for d in ours)
    return {"requests": len(requests), "allowed": allowed, "disagreements": disagreements, "errors": errors}
