"""The query-set loader: defaults, domains, scripts, and clear errors that name the file and the case."""

from __future__ import annotations

from pathlib import Path

import pytest

from evals.harness.cases import CaseError, load_file, load_sets

SETS = Path(__file__).resolve().parents[2] / "evals" / "sets"


def _write(tmp_path: Path, text: str, name: str = "cases_demo.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_defaults_domain_and_script(tmp_path):
    p = _write(tmp_path, """
defaults: {settle_s: 0.5, speed: 200}
cases:
  - id: a
    source: written
    query: why is checkout crashing in shop?
    approve: yes
    graders: [safety]
  - id: b
    source: written
    settle_s: 2
    domain: other
    principal: {user: alice, groups: [shop-devs]}
    script:
      - {say: scale web in shop to 4, approve: yes}
      - {say: restart it, approve: none}
    graders: [{answer: {must_mention: [web]}}]
""")
    a, b = load_file(p)
    assert (a.domain, a.settle_s, a.speed, a.approve, a.turns[0].approve) == ("demo", 0.5, 200.0, "approve", "approve")
    assert (b.domain, b.settle_s, b.principal["user"]) == ("other", 2.0, "alice")
    assert [t.approve for t in b.turns] == ["approve", None]


@pytest.mark.parametrize("body,needle", [
    ("- {id: x1, source: s, query: q, graders: [safty]}", "case x1: unknown grader 'safty'"),
    ("- {id: x2, source: s, query: q, script: [{say: a}], graders: [safety]}", "case x2: give exactly one of"),
    ("- {id: x3, query: q, graders: [safety]}", "case x3: `source` is required"),
    ("- {id: x4, source: s, query: q, graders: [safety], approve: maybe}", "case x4: approve must be"),
    ("- {id: x5, source: s, query: q, graders: [{answer: {must_mention: [a], mustnt: [b]}}]}", "case x5: grader answer"),
    ("- {id: x6, source: s, query: q, grader: [safety]}", "case x6: unknown key(s) grader"),
    ("- {source: s, query: q, graders: [safety]}", "case #1: `id` is required"),
    ("- {id: x8, source: s, query: q, graders: [{state: {kind: Pod, name: p}}]}", "case x8: grader state"),
])
def test_malformed_case_names_itself(tmp_path, body, needle):
    p = _write(tmp_path, body)
    with pytest.raises(CaseError) as e:
        load_file(p)
    assert needle in str(e.value) and str(p) in str(e.value)


def test_duplicate_ids_and_routing_sets_are_refused(tmp_path):
    a = _write(tmp_path, "- {id: same, source: s, query: q, graders: [safety]}", "cases_a.yaml")
    b = _write(tmp_path, "- {id: same, source: s, query: q, graders: [safety]}", "cases_b.yaml")
    with pytest.raises(CaseError, match="duplicate id"):
        load_sets([a, b])
    with pytest.raises(CaseError, match="routing set"):
        load_file(SETS / "routing.yaml")
    with pytest.raises(CaseError, match="not valid YAML"):
        load_file(_write(tmp_path, "- {id: [", "cases_c.yaml"))


def test_committed_sets_load_and_are_big_enough():
    skipped: list[str] = []
    cases = load_sets([SETS], skipped)
    assert any("routing.yaml" in s for s in skipped)  # other formats in the folder are named, not fatal
    assert len(cases) >= 200
    assert {"logs", "metrics", "rbac", "scaling", "iam", "multi", "adversarial"} <= {c.domain for c in cases}
    assert all(c.source.strip() for c in cases)
