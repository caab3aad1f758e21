"""Condition operator names: `[ForAllValues:|ForAnyValue:]<Base>[IfExists]` and `Null`.

Why parse names once: the evaluator and the Z3 encoding branch on the same few facts (family, negated,
set qualifier, IfExists, comparison), so an operator is a small record, not a string compared everywhere.
Operator names are matched case-insensitively and printed in AWS's canonical spelling.
"""

from __future__ import annotations

from dataclasses import dataclass

# base name -> (family, negated, comparison)
_BASES: dict[str, tuple[str, bool, str]] = {
    "StringEquals": ("String", False, "eq"),
    "StringNotEquals": ("String", True, "eq"),
    "StringEqualsIgnoreCase": ("String", False, "eq_ci"),
    "StringNotEqualsIgnoreCase": ("String", True, "eq_ci"),
    "StringLike": ("String", False, "like"),
    "StringNotLike": ("String", True, "like"),
    "NumericEquals": ("Numeric", False, "eq"),
    "NumericNotEquals": ("Numeric", True, "eq"),
    "NumericLessThan": ("Numeric", False, "lt"),
    "NumericLessThanEquals": ("Numeric", False, "le"),
    "NumericGreaterThan": ("Numeric", False, "gt"),
    "NumericGreaterThanEquals": ("Numeric", False, "ge"),
    "DateEquals": ("Date", False, "eq"),
    "DateNotEquals": ("Date", True, "eq"),
    "DateLessThan": ("Date", False, "lt"),
    "DateLessThanEquals": ("Date", False, "le"),
    "DateGreaterThan": ("Date", False, "gt"),
    "DateGreaterThanEquals": ("Date", False, "ge"),
    "Bool": ("Bool", False, "eq"),
    "BinaryEquals": ("Binary", False, "eq"),
    "IpAddress": ("Ip", False, "in"),
    "NotIpAddress": ("Ip", True, "in"),
    "ArnEquals": ("Arn", False, "like"),
    "ArnLike": ("Arn", False, "like"),
    "ArnNotEquals": ("Arn", True, "like"),
    "ArnNotLike": ("Arn", True, "like"),
    "Null": ("Null", False, "null"),
}
_BY_LOWER = {name.lower(): name for name in _BASES}
BASE_NAMES = tuple(_BASES)

# Families whose values may hold policy variables (AWS: String, Bool, Arn; not Numeric, Date, Ip, Binary, Null).
VARIABLE_FAMILIES = frozenset({"String", "Bool", "Arn"})


@dataclass(frozen=True)
class Operator:
    """One parsed condition operator."""

    base: str            # canonical base name, e.g. "StringLike"
    family: str          # String | Numeric | Date | Bool | Binary | Ip | Arn | Null
    negated: bool        # StringNotEquals, NotIpAddress, ...: values combine as NOR, absent key is true
    compare: str         # eq | eq_ci | like | lt | le | gt | ge | in | null
    set_op: str | None = None   # "ForAllValues" | "ForAnyValue" | None
    if_exists: bool = False

    @property
    def name(self) -> str:
        prefix = f"{self.set_op}:" if self.set_op else ""
        return prefix + self.base + ("IfExists" if self.if_exists else "")

    def with_(self, **changes) -> Operator:
        data = {"base": self.base, "set_op": self.set_op, "if_exists": self.if_exists, **changes}
        op = make_operator(data["base"], data["set_op"], data["if_exists"])
        assert op is not None
        return op


def make_operator(base: str, set_op: str | None = None, if_exists: bool = False) -> Operator | None:
    canonical = _BY_LOWER.get(base.lower())
    if canonical is None:
        return None
    family, negated, compare = _BASES[canonical]
    if family == "Null" and (if_exists or set_op):
        return None
    return Operator(canonical, family, negated, compare, set_op, if_exists)


def parse_operator(name: str) -> Operator | None:
    """Parse an operator name; `None` if it is not one AWS knows."""
    rest = name
    set_op = None
    low = rest.lower()
    if low.startswith("forallvalues:"):
        set_op, rest = "ForAllValues", rest[len("forallvalues:"):]
    elif low.startswith("foranyvalue:"):
        set_op, rest = "ForAnyValue", rest[len("foranyvalue:"):]
    if_exists = False
    if rest.lower().endswith("ifexists") and rest.lower() != "ifexists":
        candidate = rest[: -len("ifexists")]
        if candidate.lower() in _BY_LOWER and candidate.lower() != "null":
            rest, if_exists = candidate, True
    return make_operator(rest, set_op, if_exists)


def negation_of(op: Operator) -> Operator | None:
    """The operator with the opposite test (StringEquals <-> StringNotEquals, DateLessThan <->
    DateGreaterThanEquals, IpAddress <-> NotIpAddress...), keeping the qualifiers; `None` if there is none."""
    pairs = {
        "StringEquals": "StringNotEquals", "StringEqualsIgnoreCase": "StringNotEqualsIgnoreCase",
        "StringLike": "StringNotLike", "NumericEquals": "NumericNotEquals", "NumericLessThan":
        "NumericGreaterThanEquals", "NumericGreaterThan": "NumericLessThanEquals", "DateEquals": "DateNotEquals",
        "DateLessThan": "DateGreaterThanEquals", "DateGreaterThan": "DateLessThanEquals",
        "IpAddress": "NotIpAddress", "ArnEquals": "ArnNotEquals", "ArnLike": "ArnNotLike",
    }
    pairs.update({v: k for k, v in list(pairs.items())})
    other = pairs.get(op.base)
    if other is None:
        return None
    return make_operator(other, op.set_op, op.if_exists)
