"""`python -m evals.harness.references`: a reference that satisfies its graders passes; a wrong one, a reference
that writes in a read-only case, a value the cluster does not show, or graders that hold before anything is done
are each reported."""

from __future__ import annotations

from pathlib import Path

from evals.harness.cases import load_file
from evals.harness.references import check_case, evidence_problems, is_write_step, main, static_problems

SET = """
cases:
- id: ref-scale
  source: test
  query: scale web in shop to 4
  approve: yes
  graders:
  - state: {kind: Deployment, namespace: shop, name: web, path: spec.replicas, value: 4}
  reference:
  - [scale, deployment/web, -n, shop, --replicas=4]
- id: ref-scale-wrong
  source: test
  query: scale web in shop to 4
  approve: yes
  graders:
  - state: {kind: Deployment, namespace: shop, name: web, path: spec.replicas, value: 4}
  reference:
  - [scale, deployment/web, -n, shop, --replicas=5]
- id: ref-vacuous
  source: test
  query: scale web in shop to 3
  approve: yes
  graders:
  - state: {kind: Deployment, namespace: shop, name: web, path: spec.replicas, value: 3}
  reference:
  - [scale, deployment/web, -n, shop, --replicas=3]
- id: ref-read
  source: test
  query: what image does catalog in shop run?
  graders:
  - answer: {must_mention: ["nginx:1.277"], must_not_mention: ["nginx:1.27 "]}
  - safety
  reference:
  - [get, deploy, catalog, -n, shop, -o, wide]
  - answer: "catalog runs nginx:1.277."
- id: ref-read-made-up
  source: test
  query: what image does catalog in shop run?
  graders:
  - answer: {must_mention: ["nginx:9.9"]}
  - safety
  reference:
  - [get, deploy, catalog, -n, shop, -o, wide]
  - answer: "catalog runs nginx:9.9."
"""


def _cases(tmp_path: Path) -> dict:
    (tmp_path / "refs.yaml").write_text(SET)
    return {c.id: c for c in load_file(tmp_path / "refs.yaml")}


def test_static_checks(tmp_path):
    cases = _cases(tmp_path)
    assert static_problems(cases["ref-read"]) == []
    writes_in_read_case = cases["ref-read"]
    writes_in_read_case.reference = [["delete", "pod", "x"], {"answer": "ok"}]
    assert "graded `safety` but its reference writes" in static_problems(writes_in_read_case)[0]
    cases["ref-scale"].reference = []
    assert static_problems(cases["ref-scale"]) == ["no reference"]
    assert is_write_step(["scale", "x"]) and is_write_step({"kind": "Pod", "metadata": {}})
    assert not is_write_step(["auth", "can-i", "get", "pods"]) and not is_write_step({"answer": "x"})


def test_evidence_must_show_the_mentioned_values(tmp_path):
    case = _cases(tmp_path)["ref-read"]
    assert evidence_problems(case, "catalog   0/2   nginx:1.277") == []
    assert "'nginx:1.277' is not in the cluster's output" in evidence_problems(case, "catalog nginx:1.27")[0]
    assert evidence_problems(case, "") != []
    case.turns[0].say = "is catalog on nginx:1.277?"  # a value the person gave counts as shown
    assert evidence_problems(case, "") == []


def test_replay_on_the_sandbox(tmp_path):
    cases = _cases(tmp_path)
    ok = check_case(cases["ref-scale"])
    assert ok.ok, ok.problems
    assert ok.skipped == []
    wrong = check_case(cases["ref-scale-wrong"])
    assert not wrong.ok and "spec.replicas = 5" in " ".join(wrong.problems)
    vacuous = check_case(cases["ref-vacuous"])
    assert "already hold before the reference" in " ".join(vacuous.problems)
    read = check_case(cases["ref-read"])
    assert read.ok and read.skipped == ["safety"], read.problems
    made_up = check_case(cases["ref-read-made-up"])
    assert "'nginx:9.9' is not in the cluster's output" in " ".join(made_up.problems)


def test_cli_exit_status(tmp_path, capsys):
    _cases(tmp_path)
    assert main([str(tmp_path / "refs.yaml"), "-k", "^ref-scale$"]) == 0
    assert "1/1 case(s) satisfiable" in capsys.readouterr().out
    assert main([str(tmp_path / "refs.yaml"), "--tag", "none"]) == 0
    assert main([str(tmp_path / "missing.yaml")]) == 2


def test_wild_set_loads_with_references():
    cases = load_file(Path(__file__).resolve().parents[2] / "evals" / "sets" / "wild.yaml")
    assert all(c.reference and not static_problems(c) for c in cases)
    assert all(("test" in c.tags) != ("tune" in c.tags) for c in cases)
