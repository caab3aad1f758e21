"""The Z3 encoding decides like the evaluator, and answers containment, equivalence and difference."""

from __future__ import annotations

import pytest

from policies import UnsupportedError, contains, decide, difference, equivalent, parse_policy, parse_request
from policies.atoms import build, compile_arn, compile_glob
from policies.patterns import tokenize
from policies.verify import z3_decisions
from tests.policies.cases import CASES, allow, cond, deny, pol


@pytest.mark.parametrize("name,policy,request_,expected", CASES, ids=[c[0] for c in CASES])
def test_z3_agrees_with_the_table(name, policy, request_, expected):
    assert z3_decisions(parse_policy(policy), [parse_request(request_)]) == [expected == "allow"]


def test_atoms_are_the_regions_of_the_patterns():
    pats = tuple(compile_glob(tokenize(p, True, False)) for p in ["s3:get*", "s3:getobject", "s3:*"])
    atoms = build(pats)
    # no pattern / s3 only / s3:get* but not getobject / getobject
    assert len(atoms.witnesses) == 4
    assert atoms.index_of("s3:getobject") == atoms.index_of(atoms.witnesses[atoms.index_of("s3:getobject")])
    arn = build((compile_arn(tokenize("arn:aws:s3:*:*:b")),))
    assert len(arn.witnesses) == 2 and any(w.endswith(":b") for w in arn.witnesses)


def test_equivalent_policies():
    a = parse_policy(pol(allow("s3:GetObject*", "arn:aws:s3:::b/*")))
    b = parse_policy(pol(allow(["s3:GetObject", "s3:GetObjectVersion"], "arn:aws:s3:::b/*")))
    same = parse_policy(pol(allow("s3:GetObject*", "arn:aws:s3:::b/*"), deny("s3:GetObject", "arn:aws:s3:::c/*")))
    assert equivalent(a, same)
    d = difference(a, b)
    assert not d.equivalent and not d.only_b and d.complete_b
    assert all(decide(a, r).allowed and not decide(b, r).allowed for r in d.only_a)


def test_containment_with_counterexample():
    narrow = parse_policy(pol(allow("s3:GetObject", "arn:aws:s3:::b/reports/*",
                                    **cond("IpAddress", "aws:SourceIp", "10.0.0.0/16"))))
    wide = parse_policy(pol(allow("s3:Get*", "arn:aws:s3:::b/*", **cond("IpAddress", "aws:SourceIp", "10.0.0.0/8"))))
    assert contains(wide, narrow) == (True, None)
    ok, example = contains(narrow, wide)
    assert not ok and decide(wide, example).allowed and not decide(narrow, example).allowed


def test_difference_with_variables_and_sets():
    a = parse_policy(pol(allow("s3:*", "arn:aws:s3:::home/${aws:username}/*",
                               **cond("ForAllValues:StringEquals", "aws:TagKeys", ["env", "team"]))))
    b = parse_policy(pol(allow("s3:*", "arn:aws:s3:::home/${aws:username}/*",
                               **cond("ForAnyValue:StringEquals", "aws:TagKeys", ["env", "team"]))))
    d = difference(a, b)
    assert d.only_a and d.only_b
    for r in d.only_a:
        assert decide(a, r).allowed and not decide(b, r).allowed


def test_unsupported_constructs_are_refused_not_approximated():
    p = parse_policy(pol(allow(**cond("StringEqualsIgnoreCase", "aws:PrincipalTag/team", "${aws:username}"))))
    with pytest.raises(UnsupportedError):
        z3_decisions(p, [parse_request({"action": "s3:GetObject", "resource": "x"})])
