"""`kubesage iam ...` as a person runs it: exit codes 0 / 1 / 2, messages, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys

KUBESAGE = [sys.executable, "-m", "kubesage.cli", "iam"]

POLICY = {"Version": "2012-10-17", "Statement": [
    {"Sid": "ReadReports", "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
     "Resource": ["arn:aws:s3:::reports", "arn:aws:s3:::reports/*"]},
    {"Sid": "Scratch", "Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::scratch/*",
     "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}]}
SPEC = {"requests": [
    {"action": "s3:GetObject", "resource": "arn:aws:s3:::reports/q1.csv", "expect": "allow"},
    {"action": "s3:PutObject", "resource": "arn:aws:s3:::scratch/a", "context": {"aws:SourceIp": "10.1.1.1"},
     "expect": "allow"},
    {"action": "s3:DeleteObject", "resource": "arn:aws:s3:::scratch/a", "context": {"aws:SourceIp": "10.1.1.1"},
     "expect": "deny"}]}


def run(*args, stdin=None):
    return subprocess.run([*KUBESAGE, *map(str, args)], capture_output=True, text=True, input=stdin, timeout=120)


def write(tmp_path, name, doc):
    path = tmp_path / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return path


def test_check_repair_diff_explain(tmp_path):
    pol = write(tmp_path, "policy.json", POLICY)
    spec = write(tmp_path, "spec.json", SPEC)
    out = run("check", pol, "--spec", spec)
    assert out.returncode == 1 and "request 2: s3:DeleteObject" in out.stdout and "1 violation" in out.stdout
    fixed = tmp_path / "fixed.json"
    out = run("repair", pol, "--spec", spec, "--out", fixed)
    assert out.returncode == 0, out.stderr
    assert "narrow s3:* to s3:PutObject" in out.stdout and "Z3 proved" in out.stdout
    assert run("check", fixed, "--spec", spec).returncode == 0
    out = run("repair", fixed, "--spec", spec)
    assert out.returncode == 0 and "already meets" in out.stdout
    out = run("diff", pol, fixed)
    assert out.returncode == 1 and "allowed by" in out.stdout and "allows nothing that" in out.stdout
    assert run("diff", pol, pol).returncode == 0
    out = run("explain", fixed, "--json")
    assert out.returncode == 0 and json.loads(out.stdout)["allows"][1]["actions"] == ["s3:PutObject"]


def test_repair_json_and_synthesize(tmp_path):
    pol = write(tmp_path, "policy.json", POLICY)
    spec = write(tmp_path, "spec.json", SPEC)
    data = json.loads(run("repair", pol, "--spec", spec, "--json").stdout)
    assert data["status"] == "repaired" and data["changes"] == 1 and "Z3 proved" in data["proof"]
    out = run("synthesize", "--spec", spec, "--json")
    assert out.returncode == 0 and json.loads(out.stdout)["ok"]


def test_unrepairable_spec_exits_1(tmp_path):
    pol = write(tmp_path, "policy.json", POLICY)
    spec = write(tmp_path, "spec.json", {"requests": [
        {"action": "s3:GetObject", "resource": "arn:aws:s3:::x", "expect": "allow"},
        {"action": "s3:GetObject", "resource": "arn:aws:s3:::x", "expect": "deny"}]})
    out = run("repair", pol, "--spec", spec)
    assert out.returncode == 1 and "contradicts" in out.stdout


def test_bad_input_exits_2_without_traceback(tmp_path):
    spec = write(tmp_path, "spec.json", SPEC)
    bad = write(tmp_path, "bad.json", {"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*",
                                                      "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.300"}}}]})
    for args in (("check", bad, "--spec", spec), ("check", tmp_path / "missing.json", "--spec", spec),
                 ("repair", bad, "--spec", write(tmp_path, "s2.json", "{not json")), ("diff", bad, bad),
                 ("explain", write(tmp_path, "list.json", "[]"))):
        out = run(*args)
        assert out.returncode == 2, (args, out.stdout, out.stderr)
        assert out.stderr.startswith("error: ") and "Traceback" not in out.stderr
    out = run("check", bad, "--spec", spec)
    assert '$.Statement[0].Condition.IpAddress["aws:SourceIp"]' in out.stderr


def test_policy_from_stdin():
    out = run("explain", "-", stdin=json.dumps(POLICY))
    assert out.returncode == 0 and out.stdout.startswith("ALLOW s3:GetObject, s3:ListBucket")
