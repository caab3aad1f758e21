"""The policy and request model: immutable records the parser builds and every other module reads.

Why immutable: repair makes thousands of candidate policies by small edits; `dataclasses.replace` on frozen
records shares everything unchanged and lets candidates be hashed and deduplicated.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from policies.operators import Operator

CONTEXT_VALUE = str | tuple[str, ...]
_SHOWN_KEYS = 12


@dataclass(frozen=True)
class Condition:
    """One (operator, key, values) test. Values of one key OR together (NOR for negated operators)."""

    op: Operator
    key: str                      # as written (context keys are case-insensitive)
    values: tuple[str, ...]
    single_value: bool = False    # written as a string rather than a list (kept for printing)

    @property
    def lkey(self) -> str:
        return self.key.lower()

    def describe(self) -> str:
        vals = self.values[0] if len(self.values) == 1 else "[" + ", ".join(self.values) + "]"
        return f"{self.op.name} {self.key} {vals}"


@dataclass(frozen=True)
class Principal:
    """A Principal/NotPrincipal element: `(type, value)` pairs; type is "*" for the bare `"*"`."""

    entries: tuple[tuple[str, str], ...]
    star: bool = False            # written as the bare string "*"
    shapes: tuple[tuple[str, bool], ...] = ()   # (type, written as list) for printing

    def to_json(self) -> Any:
        if self.star and self.entries == (("*", "*"),):
            return "*"
        out: dict[str, Any] = {}
        listed = dict(self.shapes)
        for ptype, value in self.entries:
            out.setdefault(ptype, []).append(value)
        return {t: (v if len(v) > 1 or listed.get(t) else v[0]) for t, v in out.items()}


@dataclass(frozen=True)
class Statement:
    """One statement. `resources is None` means the element is absent (trust policies): any resource."""

    effect: str                                  # "Allow" | "Deny"
    actions: tuple[str, ...]
    not_action: bool = False
    resources: tuple[str, ...] | None = ("*",)
    not_resource: bool = False
    conditions: tuple[Condition, ...] = ()
    principal: Principal | None = None
    not_principal: bool = False
    sid: str | None = None
    action_list: bool = True                     # printing: list or single string
    resource_list: bool = True

    @property
    def allow(self) -> bool:
        return self.effect == "Allow"

    def label(self, index: int) -> str:
        return f"statement {index}" + (f" ({self.sid})" if self.sid else "")

    def with_(self, **changes: Any) -> Statement:
        return replace(self, **changes)


@dataclass(frozen=True)
class Policy:
    """A policy document."""

    statements: tuple[Statement, ...]
    version: str | None = "2012-10-17"
    id: str | None = None
    statement_list: bool = True

    @property
    def variables_enabled(self) -> bool:
        """Policy variables are substituted only under Version 2012-10-17 (otherwise `${...}` is literal)."""
        return self.version == "2012-10-17"

    def with_statements(self, statements: tuple[Statement, ...] | list[Statement]) -> Policy:
        return replace(self, statements=tuple(statements), statement_list=True)

    def context_keys(self) -> set[str]:
        """Lower-cased context keys the policy reads (conditions and policy variables). Memoized on the
        (immutable) policy: localization, the screen and the encoding ask for every condition of large
        policies, which made this quadratic."""
        cached = self.__dict__.get("_context_keys")
        if cached is None:
            cached = frozenset(self._read_keys())
            object.__setattr__(self, "_context_keys", cached)
        return set(cached)

    def _read_keys(self) -> set[str]:
        from policies.patterns import tokenize, variables

        keys: set[str] = set()
        for st in self.statements:
            for c in st.conditions:
                keys.add(c.lkey)
                if self.variables_enabled:
                    for v in c.values:
                        keys.update(var.key for var in variables(tokenize(v)))
            if self.variables_enabled and st.resources:
                for r in st.resources:
                    keys.update(var.key for var in variables(tokenize(r)))
        return keys

    def uses_principal(self) -> bool:
        return any(st.principal is not None for st in self.statements)


def normalize_context(context: Mapping[str, Any] | None) -> dict[str, CONTEXT_VALUE]:
    """Lower-cased keys; JSON scalars become strings (`true` -> "true"), lists become tuples."""
    out: dict[str, CONTEXT_VALUE] = {}
    for k, v in (context or {}).items():
        out[k.lower()] = tuple(_scalar(x) for x in v) if isinstance(v, (list, tuple)) else _scalar(v)
    return out


def _scalar(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return ""
    return str(v)


@dataclass(frozen=True)
class Request:
    """One request: action, resource, principal (None: anonymous / not given) and context."""

    action: str
    resource: str
    principal: str | None = None
    context: Mapping[str, CONTEXT_VALUE] = field(default_factory=dict)
    key_names: Mapping[str, str] = field(default_factory=dict, compare=False, hash=False)  # lower -> as written

    @classmethod
    def make(cls, action: str, resource: str, principal: str | None = None,
             context: Mapping[str, Any] | None = None) -> Request:
        names = {k.lower(): k for k in (context or {})}
        return cls(action, resource, principal, normalize_context(context), names)

    def get(self, key: str) -> CONTEXT_VALUE | None:
        return self.context.get(key.lower())

    def single(self, key: str) -> str | None:
        """The single value of `key` (None when absent or multivalued): what a policy variable resolves to."""
        v = self.context.get(key)
        return v if isinstance(v, str) else None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"action": self.action, "resource": self.resource}
        if self.principal is not None:
            out["principal"] = self.principal
        if self.context:
            out["context"] = {self.key_names.get(k, k): (list(v) if isinstance(v, tuple) else v)
                              for k, v in self.context.items()}
        return out

    def describe(self) -> str:
        text = f"{self.action} on {self.resource}"
        if self.principal:
            text += f" by {self.principal}"
        if self.context:
            items = sorted(self.context.items())
            ctx = ", ".join(f"{self.key_names.get(k, k)}={list(v) if isinstance(v, tuple) else v}"
                            for k, v in items[:_SHOWN_KEYS])
            if len(items) > _SHOWN_KEYS:   # one line per request, even with hundreds of keys (JSON has all)
                ctx += f", … ({len(items) - _SHOWN_KEYS} more context keys)"
            text += f" with {ctx}"
        return text


@dataclass(frozen=True)
class SpecCase:
    """A request of a spec with the decision the person expects."""

    request: Request
    expect_allow: bool
    index: int = 0

    @property
    def expect(self) -> str:
        return "allow" if self.expect_allow else "deny"


@dataclass(frozen=True)
class Spec:
    cases: tuple[SpecCase, ...]

    @property
    def allowed(self) -> list[Request]:
        return [c.request for c in self.cases if c.expect_allow]

    def context_keys(self) -> set[str]:
        return {k for c in self.cases for k in c.request.context}

    def key_name(self, lkey: str) -> str | None:
        for c in self.cases:
            if lkey in c.request.key_names:
                return c.request.key_names[lkey]
        return None

    def uses_principal(self) -> bool:
        return any(c.request.principal is not None for c in self.cases)
