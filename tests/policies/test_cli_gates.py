"""`kubesage iam` as a pipeline uses it: the CI gates' exit codes and JSON, `repair --out` always writing the
result, syntax errors with their obvious repair, best-effort repairs, and budgets that are budgets."""

from __future__ import annotations

import json
import time

from evals.iam_bench.large import many_conditions, many_statements
from policies import check, decide, parse_policy, parse_spec
from policies.repair import repair
from policies.verify import in_spec_class
from tests.policies.test_cli import run, write

READ = {"Version": "2012-10-17", "Statement": [
    {"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::reports/*"}]}
WIDER = {"Version": "2012-10-17", "Statement": [
    {"Sid": "Read", "Effect": "Allow", "Action": "s3:Get*", "Resource": "arn:aws:s3:::reports/*"}]}
PUBLIC = {"Version": "2012-10-17", "Statement": [
    {"Sid": "Open", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::site/*"}]}


def test_gates_exit_codes_and_json(tmp_path):
    old, new, pub = (write(tmp_path, n, d) for n, d in (("old.json", READ), ("new.json", WIDER), ("pub.json", PUBLIC)))
    assert run("check-no-new-access", new, old).returncode == 0
    out = run("check-no-new-access", old, new, "--json")
    data = json.loads(out.stdout)
    assert out.returncode == 1 and data["result"] == "FAIL"
    assert data["counterexample"]["action"].lower().startswith("s3:get") and data["responsible"][0]["sid"] == "Read"
    assert run("check-access-not-granted", old, "--actions", "s3:DeleteObject").returncode == 0
    out = run("check-access-not-granted", old, "--actions", "s3:GetObject", "--resources", "arn:aws:s3:::reports/a")
    assert out.returncode == 1 and "Read" in out.stdout and "counterexample" in out.stdout
    out = run("check-no-public-access", pub, "--json")
    assert out.returncode == 1 and json.loads(out.stdout)["responsible"][0]["sid"] == "Open"
    out = run("check-no-public-access", old)
    assert out.returncode == 2 and "not a resource policy" in out.stderr and "Traceback" not in out.stderr
    assert run("check-access-not-granted", old, "--actions", "GetObject").returncode == 2


def test_repair_out_is_written_when_the_policy_already_holds(tmp_path):
    pol = write(tmp_path, "p.json", READ)
    spec = write(tmp_path, "s.json", {"requests": [
        {"action": "s3:GetObject", "resource": "arn:aws:s3:::reports/a", "expect": "allow"}]})
    out_file = tmp_path / "out.json"
    out = run("repair", pol, "--spec", spec, "--out", out_file)
    assert out.returncode == 0 and "wrote" in out.stdout
    assert json.loads(out_file.read_text()) == READ


def test_syntax_errors_name_the_problem_and_offer_the_obvious_repair(tmp_path):
    bad = ('{"Version": "2012-10-17", "Statement": [{"Sid": "Read", "Effect": "allow", "Actions": "s3:GetObject",'
           ' "Resource": "arn:aws:s3:::reports/*",}]}')
    pol = write(tmp_path, "bad.json", bad)
    spec = write(tmp_path, "s.json", {"requests": [
        {"action": "s3:GetObject", "resource": "arn:aws:s3:::reports/a", "expect": "allow"}]})
    out = run("repair", pol, "--spec", spec)
    assert out.returncode == 2 and "not valid JSON" in out.stderr and "trailing commas" in out.stderr
    assert "renamed 'Actions' to 'Action'" in out.stderr and '"allow" -> "Allow"' in out.stderr
    assert "--fix-syntax" in out.stderr and "Traceback" not in out.stderr
    fixed = tmp_path / "fixed.json"
    out = run("repair", pol, "--spec", spec, "--fix-syntax", "--out", fixed)
    assert out.returncode == 0, out.stderr
    assert json.loads(fixed.read_text())["Statement"][0] == READ["Statement"][0]
    out = run("check", write(tmp_path, "worse.json", '{"Statement": [{"Effect": "Allow"}]}'), "--spec", spec)
    assert out.returncode == 2 and "Action" in out.stderr and "--fix-syntax" not in out.stderr


def test_repairs_write_star_not_the_escape():
    policy = parse_policy({"Version": "2012-10-17", "Statement": [
        {"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::reports/*"}]})
    spec = parse_spec({"requests": [
        {"action": "s3:ListAllMyBuckets", "resource": "*", "expect": "allow"},
        {"action": "s3:GetObject", "resource": "arn:aws:s3:::reports/a", "expect": "allow"},
        {"action": "s3:GetObject", "resource": "arn:aws:s3:::other/a", "expect": "deny"}]})
    res = repair(policy, spec)
    assert res.status == "repaired", res.message
    text = json.dumps(res.to_json()["policy"])
    assert "${*}" not in text and '"*"' in text and '"Sid": "Read"' in text
    assert check(res.policy, spec).holds


def test_best_effort_states_its_extra_proven(tmp_path):
    # IAM cannot say "logs* except logs/a" in one Resource: no repair stays within original ∪ spec, so the
    # least over-permissive one is offered with its extra, listed and proven complete by Z3
    doc = {"Version": "2012-10-17", "Statement": [
        {"Sid": "All", "Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Sid": "NoLogs", "Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::logs*"}]}
    spec_doc = {"requests": [
        {"action": "s3:GetObject", "resource": "arn:aws:s3:::logs/a", "expect": "allow"},
        {"action": "s3:GetObject", "resource": "arn:aws:s3:::data/x", "expect": "allow"},
        {"action": "s3:GetObject", "resource": "arn:aws:s3:::logs/b", "expect": "deny"}]}
    policy, spec = parse_policy(doc), parse_spec(spec_doc)
    res = repair(policy, spec, time_budget=20)
    assert res.status == "best-effort" and not res.ok and check(res.policy, spec).holds
    assert res.extra is not None and res.extra.complete and res.extra.classes
    for cls in res.extra.classes:
        x = cls.example
        assert decide(res.policy, x).allowed and not decide(policy, x).allowed
        assert not in_spec_class(x, spec, [policy, res.policy])
    assert [s.sid for s in res.policy.statements][:1] == ["All"]
    out_file = tmp_path / "best.json"
    out = run("repair", write(tmp_path, "p.json", doc), "--spec", write(tmp_path, "s.json", spec_doc),
              "--out", out_file, "--json")
    data = json.loads(out.stdout)
    assert out.returncode == 1 and data["status"] == "best-effort" and data["extra"]["complete"]
    assert json.loads(out_file.read_text()) == data["policy"]


def _times_out_closed(doc, spec_doc, seconds: float) -> None:
    policy, spec = parse_policy(doc), parse_spec(spec_doc)
    t = time.monotonic()
    res = repair(policy, spec, time_budget=seconds, memory_mb=4096)
    took = time.monotonic() - t
    assert res.status == "out-of-budget" and not res.ok, (res.status, res.message)
    assert f"time budget ({seconds:g} s) ran out during" in res.message and "no repair was proven" in res.message
    assert took < seconds + 5     # the budget is honoured (generous margin for a loaded machine)


def test_budget_stops_500_keys_by_20_values_closed():
    _times_out_closed(*many_conditions(500, 20), seconds=2)


def test_budget_stops_5000_statements_closed(tmp_path):
    _times_out_closed(*many_statements(5000), seconds=2)
    doc, spec = many_statements(5000)
    out = run("repair", write(tmp_path, "big.json", doc), "--spec", write(tmp_path, "s.json", spec),
              "--time-budget", "2", "--out", tmp_path / "o.json")
    assert out.returncode == 1 and "time budget (2 s) ran out" in out.stdout and "nothing written" in out.stdout
    assert not (tmp_path / "o.json").exists()


def test_input_limits_are_clear_errors(tmp_path):
    from policies.parser import MAX_STATEMENTS

    doc = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::b/{i}"} for i in range(MAX_STATEMENTS + 1)]}
    out = run("check-access-not-granted", write(tmp_path, "huge.json", doc), "--actions", "s3:GetObject")
    assert out.returncode == 2 and "kubesage reads at most" in out.stderr and "Traceback" not in out.stderr
    deep = '{"Statement": ' + "[" * 100_000 + "]" * 100_000 + "}"
    out = run("check-no-public-access", write(tmp_path, "deep.json", deep))
    assert out.returncode == 2 and "nests too deeply" in out.stderr


def test_memory_budget_fails_closed_too():
    doc, spec_doc = many_conditions(50, 20)
    res = repair(parse_policy(doc), parse_spec(spec_doc), time_budget=60, memory_mb=1)
    assert res.status == "out-of-budget" and "memory budget (1 MiB) ran out" in res.message
    assert repair(parse_policy(READ), parse_spec({"requests": [
        {"action": "s3:GetObject", "resource": "arn:aws:s3:::reports/a", "expect": "allow"}]})).status == "holds"
