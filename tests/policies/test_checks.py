"""The three CI-gate checks against hand-written expectations: each case says, from reading the policies,
whether the check must pass, and (when it fails) what a counterexample must look like. Every failure's
counterexample is also re-decided here with the evaluator, and the responsible statements are checked."""

from __future__ import annotations

import pytest

from policies import decide, parse_policy
from policies.checks import check_access_not_granted, check_no_new_access, check_no_public_access

B = "arn:aws:s3:::reports"
ME = "111122223333"
ORG = "o-abc123"


def st(effect="Allow", action=None, resource=None, **kw):
    out = {"Effect": effect}
    if "not_action" in kw:
        out["NotAction"] = kw.pop("not_action")
    else:
        out["Action"] = action if action is not None else "s3:GetObject"
    if "not_resource" in kw:
        out["NotResource"] = kw.pop("not_resource")
    elif resource is not False:
        out["Resource"] = resource if resource is not None else f"{B}/*"
    for k in ("Sid", "Principal", "NotPrincipal", "Condition"):
        if k.lower() in kw:
            out[k] = kw.pop(k.lower())
    assert not kw, kw
    return out


def pol(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


ONE = pol(st(sid="Read"))
# (name, old, new, passes, a request the new policy must allow and the old must not when it fails)
NO_NEW = [
    ("same", ONE, ONE, True),
    ("narrower resource", ONE, pol(st(resource=f"{B}/2024/*")), True),
    ("wider resource", ONE, pol(st(resource=f"{B}*")), False),
    ("extra action", ONE, pol(st(action=["s3:GetObject", "s3:PutObject"])), False),
    ("action wildcard same set", pol(st(action="s3:GetObject")), pol(st(action="s3:GetObjec?")), False),
    ("case of action", pol(st(action="s3:GetObject")), pol(st(action="S3:getobject")), True),
    ("NotAction is wider", ONE, pol(st(not_action="s3:DeleteObject")), False),
    ("NotAction narrower than star", pol(st(action="*")), pol(st(not_action="iam:*")), True),
    ("NotResource", pol(st(resource="*")), pol(st(not_resource=f"{B}/secret/*")), True),
    ("NotResource opens others", ONE, pol(st(not_resource=f"{B}/secret/*")), False),
    ("deny added", ONE, pol(st(sid="Read"), st("Deny", resource=f"{B}/secret/*")), True),
    ("deny removed", pol(st(), st("Deny", resource=f"{B}/secret/*")), ONE, False),
    ("deny narrowed", pol(st(), st("Deny", resource=f"{B}/secret/*")),
     pol(st(), st("Deny", resource=f"{B}/secret/top/*")), False),
    ("condition added", ONE, pol(st(condition={"Bool": {"aws:SecureTransport": "true"}})), True),
    ("condition removed", pol(st(condition={"Bool": {"aws:SecureTransport": "true"}})), ONE, False),
    ("IfExists widens", pol(st(condition={"StringEquals": {"aws:PrincipalTag/team": "a"}})),
     pol(st(condition={"StringEqualsIfExists": {"aws:PrincipalTag/team": "a"}})), False),
    ("IfExists dropped narrows", pol(st(condition={"StringEqualsIfExists": {"aws:PrincipalTag/team": "a"}})),
     pol(st(condition={"StringEquals": {"aws:PrincipalTag/team": "a"}})), True),
    ("extra condition value", pol(st(condition={"StringEquals": {"aws:PrincipalTag/team": "a"}})),
     pol(st(condition={"StringEquals": {"aws:PrincipalTag/team": ["a", "b"]}})), False),
    ("ip narrowed", pol(st(condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})),
     pol(st(condition={"IpAddress": {"aws:SourceIp": "10.1.0.0/16"}})), True),
    ("ip widened", pol(st(condition={"IpAddress": {"aws:SourceIp": "10.1.0.0/16"}})),
     pol(st(condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})), False),
    ("variable home dirs vs bucket", pol(st(resource=f"{B}/home/${{aws:username}}/*")), ONE, False),
    ("bucket vs variable home dirs", ONE, pol(st(resource=f"{B}/home/${{aws:username}}/*")), True),
    ("variable default", pol(st(resource=f"{B}/home/${{aws:username}}/*")),
     pol(st(resource=f"{B}/home/${{aws:username, 'shared'}}/*")), False),
    ("arn account wildcard", pol(st(action="sqs:SendMessage", resource=f"arn:aws:sqs:us-east-1:{ME}:q")),
     pol(st(action="sqs:SendMessage", resource="arn:aws:sqs:us-east-1:*:q")), False),
    ("arn region wildcard narrowed", pol(st(action="sqs:SendMessage", resource="arn:aws:sqs:*:*:q")),
     pol(st(action="sqs:SendMessage", resource=f"arn:aws:sqs:us-*:{ME}:q")), True),
    ("numeric bound tightened", pol(st(condition={"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}})),
     pol(st(condition={"NumericLessThan": {"aws:MultiFactorAuthAge": "600"}})), True),
    ("ForAllValues to ForAnyValue", pol(st(condition={"ForAllValues:StringEquals": {"aws:TagKeys": ["a", "b"]}})),
     pol(st(condition={"ForAnyValue:StringEquals": {"aws:TagKeys": ["a", "b"]}})), False),
    ("principal added", pol(st(principal={"AWS": f"arn:aws:iam::{ME}:role/r"})),
     pol(st(principal={"AWS": [f"arn:aws:iam::{ME}:role/r", "arn:aws:iam::444455556666:root"]})), False),
    ("principal account to role", pol(st(principal={"AWS": ME})),
     pol(st(principal={"AWS": f"arn:aws:iam::{ME}:role/r"})), True),
    ("deny notprincipal removed", pol(st(principal="*"), st("Deny", resource=f"{B}/*", notprincipal={"AWS": ME})),
     pol(st(principal="*")), False),
    ("deny notprincipal kept", pol(st(principal="*"), st("Deny", resource=f"{B}/*", notprincipal={"AWS": ME})),
     pol(st(principal={"AWS": ME})), True),
]

# (name, policy, actions, resources, passes)
NOT_GRANTED = [
    ("plain read, delete asked", ONE, ["s3:DeleteObject"], None, True),
    ("plain read, read asked", ONE, ["s3:GetObject"], None, False),
    ("read elsewhere", ONE, ["s3:GetObject"], ["arn:aws:s3:::other/*"], True),
    ("read on a sub path", ONE, ["s3:GetObject"], [f"{B}/2024/q1.csv"], False),
    ("wildcard action asked", ONE, ["s3:Delete*"], None, True),
    ("NotAction allows delete", pol(st(not_action="iam:*", resource="*")), ["s3:DeleteBucket"], None, False),
    ("NotAction excludes iam", pol(st(not_action="iam:*", resource="*")), ["iam:CreateUser"], None, True),
    ("NotResource excludes", pol(st(action="s3:*", not_resource=f"{B}/*")), ["s3:GetObject"], [f"{B}/x"], True),
    ("NotResource other bucket", pol(st(action="s3:*", not_resource=f"{B}/*")), ["s3:GetObject"],
     ["arn:aws:s3:::logs/x"], False),
    ("denied explicitly", pol(st(action="s3:*", resource="*"), st("Deny", action="s3:Delete*", resource="*")),
     ["s3:DeleteObject"], None, True),
    ("deny with condition leaves a gap", pol(st(action="s3:*", resource="*"),
                                             st("Deny", action="s3:Delete*", resource="*",
                                                condition={"Bool": {"aws:MultiFactorAuthPresent": "false"}})),
     ["s3:DeleteObject"], None, False),
    ("deny IfExists closes absent key", pol(st(action="s3:*", resource="*"),
                                            st("Deny", action="s3:Delete*", resource="*",
                                               condition={"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}})),
     ["s3:DeleteObject"], None, False),
    ("condition never true", pol(st(condition={"StringEquals": {"aws:username": "a"}}),
                                 st("Deny", condition={"StringEquals": {"aws:username": "a"}})),
     ["s3:GetObject"], None, True),
    ("variable path", pol(st(action="s3:PutObject", resource=f"{B}/home/${{aws:username}}/*")),
     ["s3:PutObject"], [f"{B}/home/alice/x"], False),
    ("variable path other prefix", pol(st(action="s3:PutObject", resource=f"{B}/home/${{aws:username}}/*")),
     ["s3:PutObject"], [f"{B}/public/x"], True),
    ("arn wildcard region", pol(st(action="sqs:*", resource=f"arn:aws:sqs:*:{ME}:jobs")), ["sqs:DeleteQueue"],
     [f"arn:aws:sqs:eu-west-1:{ME}:jobs"], False),
    ("arn other account", pol(st(action="sqs:*", resource=f"arn:aws:sqs:*:{ME}:jobs")), ["sqs:DeleteQueue"],
     ["arn:aws:sqs:eu-west-1:999988887777:jobs"], True),
    ("iam passrole star", pol(st(action="iam:PassRole", resource="*")), ["iam:PassRole"],
     [f"arn:aws:iam::{ME}:role/admin"], False),
    ("star policy", pol(st(action="*", resource="*")), ["kms:ScheduleKeyDeletion"], None, False),
    ("ip negated deny", pol(st(action="s3:*", resource="*"),
                            st("Deny", action="*", resource="*",
                               condition={"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}})),
     ["s3:DeleteObject"], None, False),
]

OUT = "arn:aws:iam::444455556666:root"
# (name, resource policy, passes)
PUBLIC = [
    ("star principal", pol(st(principal="*")), False),
    ("star in AWS", pol(st(principal={"AWS": "*"})), False),
    ("own account", pol(st(principal={"AWS": ME})), True),
    ("named partner", pol(st(principal={"AWS": OUT})), True),
    ("service principal", pol(st(principal={"Service": "cloudtrail.amazonaws.com"})), True),
    ("star with org", pol(st(principal="*", condition={"StringEquals": {"aws:PrincipalOrgID": ORG}})), True),
    ("star with org IfExists", pol(st(principal="*", condition={"StringEqualsIfExists": {"aws:PrincipalOrgID": ORG}})), False),
    ("star with account key", pol(st(principal="*", condition={"StringEquals": {"aws:PrincipalAccount": ME}})), True),
    ("star with not-account key", pol(st(principal="*", condition={"StringNotEquals": {"aws:PrincipalAccount": ME}})), False),
    ("star with source arn", pol(st(principal="*", condition={"ArnLike": {"aws:SourceArn": f"arn:aws:sns:*:{ME}:t"}})), True),
    ("star with principal arn wildcard account", pol(st(principal="*", condition={
        "ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/deployer"}})), False),
    ("star with principal arn own account", pol(st(principal="*", condition={
        "ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{ME}:role/*"}})), True),
    ("star with vpc", pol(st(principal="*", condition={"StringEquals": {"aws:SourceVpc": "vpc-1a2b"}})), True),
    ("star with ip only", pol(st(principal="*", condition={"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}})), False),
    ("star with secure transport", pol(st(principal="*", condition={"Bool": {"aws:SecureTransport": "true"}})), False),
    ("star denied to others by NotPrincipal", pol(st(principal="*"), st("Deny", action="*", resource="*",
                                                                      notprincipal={"AWS": ME})), True),
    ("NotPrincipal deny leaves a role session of another account", pol(
        st(principal="*"), st("Deny", action="*", resource="*", notprincipal={"AWS": f"arn:aws:iam::{ME}:role/r"})), True),
    ("deny NotAction narrows nothing", pol(st(principal="*"), st("Deny", not_action="s3:GetObject", resource="*",
                                                                  principal="*")), False),
    ("public but denied outside the org", pol(st(principal="*"), st(
        "Deny", action="*", resource="*", principal="*", condition={"StringNotEquals": {"aws:PrincipalOrgID": ORG}})), True),
    ("public denied by org IfExists-free absent", pol(st(principal="*"), st(
        "Deny", action="*", resource="*", principal="*",
        condition={"StringNotEqualsIfExists": {"aws:PrincipalOrgID": ORG}, "Null": {"aws:PrincipalOrgID": "false"}})), False),
]


def _confirm_fail(outcome, policy):
    assert outcome.counterexample is not None and outcome.responsible
    assert decide(policy, outcome.counterexample).allowed
    for r in outcome.responsible:
        if r.role == "allows it":
            assert policy.statements[r.index].effect == "Allow"


@pytest.mark.parametrize("name,old,new,passes", NO_NEW, ids=[c[0] for c in NO_NEW])
def test_check_no_new_access(name, old, new, passes):
    a, b = parse_policy(old), parse_policy(new)
    out = check_no_new_access(a, b)
    assert out.passed is passes, out.text()
    if not passes:
        _confirm_fail(out, b)
        assert not decide(a, out.counterexample).allowed


@pytest.mark.parametrize("name,policy,actions,resources,passes", NOT_GRANTED, ids=[c[0] for c in NOT_GRANTED])
def test_check_access_not_granted(name, policy, actions, resources, passes):
    p = parse_policy(policy)
    out = check_access_not_granted(p, actions, resources)
    assert out.passed is passes, out.text()
    if not passes:
        _confirm_fail(out, p)


@pytest.mark.parametrize("name,policy,passes", PUBLIC, ids=[c[0] for c in PUBLIC])
def test_check_no_public_access(name, policy, passes):
    p = parse_policy(policy)
    out = check_no_public_access(p)
    assert out.passed is passes, out.text()
    if not passes:
        _confirm_fail(out, p)
        assert ME not in (out.counterexample.principal or "")


def test_count_of_hand_written_cases():
    assert len(NO_NEW) + len(NOT_GRANTED) + len(PUBLIC) >= 60
