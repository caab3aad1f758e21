"""The account model on a moto account (21 principals, 12 resource policies, an SCP file): read through boto3
(`tools/iam_account.py`), every request of a grid decided by the model and by `@cloud-copilot/iam-simulate`
(safe engine) with 0 disagreements, and every proven question cross-checked request by request."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import boto3
import pytest

from evals.iam_bench.account import ACCOUNT, ORG, PARTNER, SCP, build_moto_account
from evals.iam_bench.account_check import CONTEXTS, cross_check, grid, simulator_case, targets
from evals.iam_bench.simulator import simulate
from policies import parse_policy
from policies.account import NamedPolicy, account_from_snapshot, decide_in_account
from policies.account_questions import can, is_public, new_access, outside_access, unused_actions, who_can
from policies.model import Request
from tools.iam_account import read_account


@pytest.fixture(scope="module")
def moto_account(tmp_path_factory, simulator_prefix):
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    _reset(url)   # moto's state is per process: start clean, and leave nothing behind for other suites
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")
    arns = build_moto_account(session, url)
    scp = tmp_path_factory.mktemp("scp") / "scp.json"
    scp.write_text(json.dumps(SCP))
    snapshot = read_account(session, scp_files=[scp], endpoint_url=url, org_id=ORG)
    out = tmp_path_factory.mktemp("cli") / "snapshot.json"
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    cli = subprocess.run([sys.executable, "-m", "kubesage.cli", "iam", "account-read", "--endpoint-url", url,
                          "--scp", str(scp), "--org-id", ORG, "--out", str(out)], capture_output=True, text=True,
                         env=env, timeout=120)
    assert cli.returncode == 0, cli.stderr
    assert json.loads(out.read_text()) == json.loads(json.dumps(snapshot))
    _reset(url)
    server.stop()
    return account_from_snapshot(snapshot), arns, snapshot


def _reset(url: str) -> None:
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"), timeout=30).read()


def test_snapshot_reads_the_whole_account(moto_account):
    account, _arns, snapshot = moto_account
    json.dumps(snapshot)   # JSON-ready: the contract between tools/ and policies/
    assert account.account_id == ACCOUNT and len(account.principals) >= 20
    assert sum(r.policy is not None for r in account.resources) >= 10
    viewer = account.principal("viewer1")
    assert viewer.groups == ("readers",) and any(np.name.startswith("group readers") for np in viewer.policies)
    assert account.principal("bounded-role").boundary is not None
    assert account.principal("tagger").tags == (("team", "blue"),)
    assert [s.name for s in account.scps] == ["SCP scp.json"]


def test_every_request_of_the_grid_agrees_with_the_simulator(moto_account):
    account, _arns, _ = moto_account
    requests = grid(account)
    result = cross_check(account, requests)
    assert result["requests"] >= 2000 and 0 < result["allowed"] < result["requests"]
    assert result["errors"] == [] and result["disagreements"] == []


def test_who_can_is_proven_and_cross_checked(moto_account):
    account, arns, _ = moto_account
    decisions = {}
    for p, r in grid(account):
        decisions.setdefault((p.arn, r.action, r.resource), []).append(decide_in_account(account, p, r).allowed)
    allowed_cases, answers = [], []
    for action, resource in targets(account):
        for ans in who_can(account, action, resource):
            answers.append((action, resource, ans))
            if ans.allowed:
                assert ans.responsible and ans.request.principal == ans.principal
                allowed_cases.append(simulator_case(account, account.principal(ans.principal), ans.request))
            else:
                # proven for every context: none of the grid's contexts may allow it
                assert not any(decisions[(ans.principal, action, resource)]), (ans.principal, action, resource)
    sims = simulate(allowed_cases)
    assert allowed_cases and all(s == "Allowed" for s in sims)

    def allowed(who, action, resource):
        return next(a for ac, r, a in answers if ac == action and r == resource and a.principal.endswith(who)).allowed

    rep, home = "arn:aws:s3:::reports/blue/q1.csv", "arn:aws:s3:::home/dev1/notes.txt"
    assert allowed("role/analyst", "s3:GetObject", rep)              # the bucket policy names the role
    assert allowed("user/tagger", "s3:GetObject", rep)               # ${aws:PrincipalTag/team} = blue
    assert not allowed("user/tagger", "s3:GetObject", "arn:aws:s3:::reports/red/q1.csv")
    assert not allowed("user/noreports", "s3:GetObject", rep)        # NotResource
    assert allowed("user/dev1", "s3:PutObject", home)                # ${aws:username} in the bucket policy
    assert not allowed("user/dev1", "s3:PutObject", "arn:aws:s3:::home/dev2/notes.txt")
    assert not allowed("role/bounded-role", "s3:GetObject", "arn:aws:s3:::audit-logs/2024/file.txt")
    assert not allowed("user/admin", "s3:DeleteBucket", "arn:aws:s3:::scratch")   # the SCP
    assert allowed("user/kms-user", "kms:Decrypt", arns["key:delegating"])
    assert not allowed("user/kms-user", "kms:Decrypt", arns["key:closed"])       # key policy does not delegate
    assert allowed("role/kms-admin", "kms:Decrypt", arns["key:closed"])
    assert not allowed("user/intern", "kms:Decrypt", arns["key:delegating"])      # NotAction kms:*


def test_session_policies_limit_roles(moto_account):
    account, _arns, _ = moto_account
    session = NamedPolicy("session", parse_policy({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::reports/red/*"}]}))
    roles = [p for p in account.principals if p.kind == "role"]
    requests = [(p, r) for p, r in grid(account) if p in roles]
    result = cross_check(account, requests, session)
    assert result["errors"] == [] and result["disagreements"] == [] and result["allowed"] > 0
    ci = account.principal("ci")
    assert can(account, ci, "s3:GetObject", "arn:aws:s3:::scratch/a", session).allowed
    assert not can(account, ci, "s3:PutObject", "arn:aws:s3:::scratch/a", session).allowed
    assert not can(account, ci, "s3:GetObject", "arn:aws:s3:::reports/red/a", session).allowed
    assert can(account, ci, "s3:PutObject", "arn:aws:s3:::scratch/a").allowed


def test_outside_and_public_questions(moto_account):
    account, arns, _ = moto_account
    site = outside_access(account, "arn:aws:s3:::public-site/index.html")
    assert not site.passed and not is_public(account, "arn:aws:s3:::public-site/index.html").passed
    partner = outside_access(account, "arn:aws:s3:::partner-drop/x", "s3:PutObject")
    assert not partner.passed and PARTNER in partner.counterexample.principal
    assert is_public(account, "arn:aws:s3:::partner-drop/x").passed      # a named partner is not the public
    assert outside_access(account, "arn:aws:s3:::org-shared/x", trusted_org=ORG).passed
    assert not outside_access(account, "arn:aws:s3:::org-shared/x").passed   # same org, another account
    assert outside_access(account, "arn:aws:s3:::reports/x").passed
    assert outside_access(account, "arn:aws:s3:::audit-logs/x").passed
    assert not outside_access(account, arns["key:partner"], "kms:Decrypt").passed
    assert outside_access(account, arns["key:partner"], "kms:Encrypt").passed
    events = outside_access(account, arns["queue:events"])
    assert events.passed            # only SNS, from this account's topic (an outsider has no source ARN)
    open_q = outside_access(account, arns["queue:open"], "sqs:SendMessage")
    assert not open_q.passed and open_q.responsible
    for outcome in (site, partner, open_q):
        x = outcome.counterexample
        res = account.resource_for(x.resource)
        from policies import decide

        assert decide(res.policy.policy, x).allowed


def test_new_access_and_unused_actions(moto_account):
    account, _arns, _ = moto_account
    same = parse_policy({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": "*"}]})
    wider = parse_policy({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket", "s3:PutObject"], "Resource": "*"}]})
    assert [a.allowed for a in new_access(account, "group readers: read", same)] == [False, False]
    got = new_access(account, "group readers: read", wider)
    assert len(got) == 2 and all(a.allowed and a.request.action == "s3:PutObject" for a in got)
    for a in got:
        p = account.principal(a.principal)
        assert not decide_in_account(account, p, a.request).allowed
    op = account.principal("operator")
    used = unused_actions(account, op, "arn:aws:s3:::scratch/2024/file.txt", ["s3:GetObject", "s3:PutObject"])
    assert used.complete and used.unused and "proved" in used.proposal_proof
    assert not any(u in ("s3:GetObject", "s3:PutObject") for u in used.unused)
    for ctx in CONTEXTS:
        r = Request.make("s3:PutObject", "arn:aws:s3:::scratch/2024/file.txt", op.arn, ctx)
        assert decide_in_account(account, op, r).allowed


def test_lifting_a_deny_is_new_access_through_a_resource_policy():
    deny = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::site/*"}]}
    snapshot = {"account_id": ACCOUNT, "principals": [
        {"arn": f"arn:aws:iam::{ACCOUNT}:user/u", "kind": "user", "policies": [{"name": "guard", "document": deny}]}],
        "resources": [{"arn": "arn:aws:s3:::site", "policy": {"name": "site", "document": {
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                                                   "Resource": "arn:aws:s3:::site/*"}]}}}]}
    account = account_from_snapshot(snapshot)
    empty = parse_policy({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Action": "s3:PutObject", "Resource": "*"}]})
    (answer,) = new_access(account, "guard", empty)
    assert answer.allowed and answer.request.action == "s3:GetObject" and "site" in answer.request.resource
    (same,) = new_access(account, "guard", parse_policy(deny))
    assert not same.allowed and "unsat" in same.proof


def test_account_questions_from_the_command_line(moto_account, tmp_path):
    account, _arns, snapshot = moto_account
    snap = tmp_path / "snapshot.json"
    snap.write_text(json.dumps(snapshot))

    def iam(*args):
        return subprocess.run([sys.executable, "-m", "kubesage.cli", "iam", *map(str, args)], capture_output=True,
                              text=True, timeout=120)

    out = iam("who-can", snap, "--action", "s3:GetObject", "--resource", "arn:aws:s3:::reports/blue/q1.csv", "--json")
    data = json.loads(out.stdout)
    assert out.returncode == 0 and any(a["allowed"] and a["principal"].endswith("role/analyst") for a in data["answers"])
    assert not any(a["allowed"] and a["principal"].endswith("user/noreports") for a in data["answers"])
    out = iam("outside-access", snap, "--resource", "arn:aws:s3:::partner-drop/x")
    assert out.returncode == 1 and PARTNER in out.stdout and "(Partner)" in out.stdout
    assert iam("outside-access", snap, "--resource", "arn:aws:s3:::org-shared/x", "--trusted-org", ORG).returncode == 0
    wider = tmp_path / "wider.json"
    wider.write_text(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket", "s3:PutObject"], "Resource": "*"}]}))
    out = iam("new-access", snap, wider, "--policy-name", "group readers: read")
    assert out.returncode == 1 and "2 of 2 principals" in out.stdout and "s3:PutObject" in out.stdout
    assert iam("new-access", snap, wider, "--policy-name", "nope").returncode == 2
    trail = tmp_path / "trail.json"
    rec = {"eventSource": "s3.amazonaws.com", "userIdentity": {"arn": f"arn:aws:iam::{ACCOUNT}:user/operator"},
           "requestParameters": {"bucketName": "scratch", "key": "2024/file.txt"}}
    trail.write_text(json.dumps({"Records": [
        {**rec, "eventName": "GetObject"}, {**rec, "eventName": "PutObject"},
        {**rec, "eventName": "DeleteObject", "errorCode": "AccessDenied"}]}))
    proposal = tmp_path / "least.json"
    out = iam("unused", snap, "--principal", "operator", "--resource", "arn:aws:s3:::scratch/2024/file.txt",
              "--usage", trail, "--out", proposal, "--json")
    data = json.loads(out.stdout)
    assert out.returncode == 0 and data["used"] == ["s3:GetObject", "s3:PutObject"] and data["complete"]
    assert json.loads(proposal.read_text())["Statement"][0]["Action"] == ["s3:GetObject", "s3:PutObject"]
    assert "proved" in data["proposal_proof"]


def test_cloudtrail_usage_maps_sessions_and_skips_errors():
    from policies.usage import used_actions

    doc = {"Records": [
        {"eventSource": "s3.amazonaws.com", "eventName": "GetObject",
         "userIdentity": {"arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/ci/build-7"}, "resources": [{"ARN": "arn:aws:s3:::b/x"}]},
        {"eventSource": "kms.amazonaws.com", "eventName": "Decrypt", "errorCode": "AccessDenied",
         "userIdentity": {"arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/ci/build-8"}},
        {"eventSource": "s3.amazonaws.com", "eventName": "PutObject",
         "userIdentity": {"arn": f"arn:aws:iam::{ACCOUNT}:user/other"}, "resources": [{"ARN": "arn:aws:s3:::b/x"}]}]}
    assert used_actions(doc, f"arn:aws:iam::{ACCOUNT}:role/ci") == ["s3:GetObject"]
    assert used_actions(doc, f"arn:aws:iam::{ACCOUNT}:role/ci", "arn:aws:s3:::other/y") == []


def test_outside_and_new_access_answers_agree_with_the_simulator(moto_account):
    """Outsiders run their own accounts (their identity policy allows everything): the simulator must allow
    every counterexample outsider, and deny the representative outsiders where a pass was proven."""
    account, arns, _ = moto_account
    admin = [{"name": "own-admin", "policy": {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"}]}}]

    def case(resource_arn, request):
        res = account.resource_for(resource_arn)
        from policies.parser import policy_to_json

        return {"kind": "account", "identityPolicies": admin, "serviceControlPolicies": [],
                "resourcePolicy": policy_to_json(res.policy.policy), "resourceAccount": ACCOUNT,
                "request": request.to_json()}

    questions = [("arn:aws:s3:::public-site/index.html", "s3:GetObject"), ("arn:aws:s3:::partner-drop/x", "s3:PutObject"),
                 (arns["key:partner"], "kms:Decrypt"), (arns["queue:open"], "sqs:SendMessage"),
                 ("arn:aws:s3:::reports/x", "s3:GetObject"), ("arn:aws:s3:::audit-logs/x", "s3:GetObject"),
                 (arns["key:partner"], "kms:Encrypt"), (arns["queue:jobs"], "sqs:ReceiveMessage")]
    fails, passes = [], []
    for resource, action in questions:
        outcome = outside_access(account, resource, action)
        if outcome.passed:
            for who in (f"arn:aws:iam::{PARTNER}:role/etl", "arn:aws:iam::000000000000:role/kubesage-outsider"):
                for ctx in CONTEXTS:
                    passes.append(case(resource, Request.make(action, resource, who, ctx)))
        else:
            x = outcome.counterexample
            fails.append(case(resource, Request.make(x.action, x.resource, x.principal,
                                                     {x.key_names.get(k, k): v for k, v in x.context.items()})))
    assert len(fails) == 4 and len(passes) == 16
    assert simulate(fails) == ["Allowed"] * len(fails)
    assert all(d != "Allowed" for d in simulate(passes))
    wider = parse_policy({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket", "s3:PutObject"], "Resource": "*"}]})
    from policies.account import NamedPolicy as NP

    for a in new_access(account, "group readers: read", wider):
        p = account.principal(a.principal)
        swapped = p.__class__(p.arn, p.kind, tuple(NP(n.name, wider) if n.name == "group readers: read" else n
                                                   for n in p.policies), p.boundary, p.groups, p.tags)
        r = a.request if a.request.resource.startswith("arn:") else Request.make(
            a.request.action, "arn:aws:s3:::scratch/new.txt", p.arn,
            {a.request.key_names.get(k, k): v for k, v in a.request.context.items()})
        assert decide_in_account(account, swapped, r).allowed and not decide_in_account(account, p, r).allowed
        assert simulate([simulator_case(account, swapped, r), simulator_case(account, p, r)])[0] == "Allowed"
        assert simulate([simulator_case(account, p, r)])[0] != "Allowed"
