"""The IAM tools against a real moto server on loopback (no mocks): read, preview, approve, put."""

from __future__ import annotations

import json

import pytest

from tools.iam import (
    Approval,
    ApprovalRequired,
    digest,
    iam_client,
    preview_put_inline_policy,
    put_inline_policy,
    read_principal_policies,
)

DOC = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
FIXED = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                                                 "Resource": "arn:aws:s3:::reports/*"}]}


@pytest.fixture(scope="module")
def iam():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    client = iam_client(f"http://{host}:{port}", aws_access_key_id="testing", aws_secret_access_key="testing")
    client.create_user(UserName="ci-bot")
    client.put_user_policy(UserName="ci-bot", PolicyName="s3", PolicyDocument=json.dumps(DOC))
    arn = client.create_policy(PolicyName="ReadLogs", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "logs:Get*", "Resource": "*"}]}))["Policy"]["Arn"]
    client.attach_user_policy(UserName="ci-bot", PolicyArn=arn)
    client.create_role(RoleName="deployer", AssumeRolePolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                                 "Action": "sts:AssumeRole"}]}))
    yield client
    server.stop()


def test_read_user_policies(iam):
    res = read_principal_policies(iam, user="ci-bot")
    assert not res.mutated
    assert res.data["inline"] == [{"name": "s3", "document": DOC}]
    assert res.data["attached"][0]["name"] == "ReadLogs"
    assert res.data["attached"][0]["document"]["Statement"][0]["Action"] == "logs:Get*"
    assert "1 inline policy (s3), 1 attached (ReadLogs)" in res.text


def test_put_needs_an_approval_for_exactly_this_document(iam):
    preview = preview_put_inline_policy(iam, user="ci-bot", name="s3", document=FIXED)
    assert preview.data["change"] == "replace" and preview.data["current"] == DOC
    with pytest.raises(ApprovalRequired):
        put_inline_policy(iam, user="ci-bot", name="s3", document=FIXED, approval=None)
    with pytest.raises(ApprovalRequired, match="different document"):
        put_inline_policy(iam, user="ci-bot", name="s3", document=FIXED,
                          approval=Approval(digest(DOC), "alice", "interrupt-1"))
    with pytest.raises(ApprovalRequired, match="token"):
        put_inline_policy(iam, user="ci-bot", name="s3", document=FIXED,
                          approval=Approval(preview.data["digest"], "alice", ""))
    assert read_principal_policies(iam, user="ci-bot").data["inline"][0]["document"] == DOC
    res = put_inline_policy(iam, user="ci-bot", name="s3", document=FIXED,
                            approval=Approval(preview.data["digest"], "alice", "interrupt-1"))
    assert res.mutated and res.data["approved_by"] == "alice"
    assert read_principal_policies(iam, user="ci-bot").data["inline"][0]["document"] == FIXED


def test_roles_and_new_policies(iam):
    preview = preview_put_inline_policy(iam, role="deployer", name="deploy", document=FIXED)
    assert preview.data["change"] == "create" and preview.data["current"] is None
    put_inline_policy(iam, role="deployer", name="deploy", document=FIXED,
                      approval=Approval(preview.data["digest"], "bob", "t"))
    assert read_principal_policies(iam, role="deployer").data["inline"] == [{"name": "deploy", "document": FIXED}]
    with pytest.raises(ValueError):
        read_principal_policies(iam, user="a", role="b")
