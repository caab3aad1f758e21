"""The Z3 encoding: a symbolic request and the formula "this policy allows it", with the evaluator's semantics.

Why these choices (cheaper than string regexes wherever equivalent):
- a string part of the request (action, resource, principal, a context key's string value) is tested only
  by "matches pattern p"; unless policy variables tie it to another string, it is encoded as the index of
  its region among the patterns (`policies.atoms`), which is exact and turns string reasoning into integer
  reasoning;
- strings tied by policy variables stay Z3 strings: `*`-only wildcards become prefix / suffix / in-order
  `indexOf` constraints (exact for globs, and they take variables), only `?` needs a regex; an ARN is six
  segment variables (the first five colon-free), so a per-segment wildcard constrains one segment;
- numbers are reals, dates integers (milliseconds), IP addresses 32- and 128-bit bit-vectors compared under
  prefix masks;
- a multivalued key is a count and a few value slots: with m set-qualified conditions on a key, 2m slots
  (plus the spec's values) realise every combination of "some value is / is not in each condition".

Each context key gets only the typed views the policies use (string, number, date, IP). Views of one key
are not linked (a string "5" and the number 5 are separate variables): an over-approximation that keeps
"no request does X" proofs sound and can only produce a counterexample that the concrete evaluator then
refuses (callers re-check every counterexample).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import z3

from policies.atoms import Atoms, TooBig, build, compile_arn, compile_glob, compile_literal
from policies.budget import checkpoint
from policies.errors import UnsupportedError
from policies.evaluator import _account_prefixes, role_session_prefix
from policies.model import Condition, Policy, Principal, Request, Statement
from policies.patterns import (
    STAR,
    Lit,
    QMark,
    Star,
    Tokens,
    Var,
    is_all,
    split_arn,
    split_arn_tokens,
    tokenize,
)
from policies.values import (
    format_date,
    format_ip,
    format_number,
    parse_bool,
    parse_cidr,
    parse_date,
    parse_ip,
    parse_number,
)

_RE_STR = z3.ReSort(z3.StringSort())
_ALLCHAR = z3.AllChar(_RE_STR)
_ANY = z3.Star(_ALLCHAR)
_TRUE = ("glob", (Lit("true"),), True)
_FALSE = ("glob", (Lit("false"),), True)

Desc = tuple  # ("glob", tokens, ignore_case) | ("arn", tokens) | ("lit", text)


def _compile(desc: Desc):
    if desc[0] == "glob":
        return compile_glob(desc[1], desc[2])
    if desc[0] == "arn":
        return compile_arn(desc[1])
    return compile_literal(desc[1])


@dataclass
class Space:
    """One string dimension: the patterns it is tested against, and its regions once finalized."""

    name: str
    descs: dict[Desc, int] = field(default_factory=dict)
    linked: bool = False           # tied to other strings by policy variables: keep a Z3 string
    raw: bool = False              # (string mode) some pattern reads the whole string of an ARN
    arn_used: bool = False         # (string mode) some pattern reads it per ARN segment
    str_used: bool = False         # (string mode) some pattern reads it whole
    atoms: Atoms | None = None

    def add(self, desc: Desc) -> None:
        self.descs.setdefault(desc, len(self.descs))

    def finalize(self) -> None:
        if self.linked:
            self.raw = self.raw or (self.arn_used and self.str_used)
            return
        try:
            self.atoms = build(tuple(_compile(d) for d in self.descs))
        except TooBig:
            self.linked = True


@dataclass
class KeyInfo:
    """What the policies (and spec) need to know about one context key."""

    views: set[str] = field(default_factory=set)   # str, arn, num, date, ip
    known: set[str] = field(default_factory=set)   # literal values seen (spec, string conditions)
    set_conditions: int = 0
    spec_values: set[str] = field(default_factory=set)
    spec_lists: int = 0

    @property
    def slots(self) -> int:
        if not self.set_conditions and not self.spec_lists:
            return 1
        return max(1, 2 * self.set_conditions + len(self.spec_values) + self.spec_lists)


_FAMILY_VIEW = {"String": "str", "Binary": "str", "Bool": "str", "Arn": "str", "Numeric": "num",
                "Date": "date", "Ip": "ip", "Null": None}


class Universe:
    """The part of the request space a set of policies (and spec requests) can tell apart."""

    def __init__(self) -> None:
        self.spaces: dict[str, Space] = {"action": Space("action"), "resource": Space("resource"),
                                         "principal": Space("principal")}
        self.keys: dict[str, KeyInfo] = {}
        self.principal = False
        self.actions: dict[str, str] = {}        # lower-case -> spelling seen
        self.key_names: dict[str, str] = {}      # lower-case -> spelling seen
        self.final = False

    def space(self, name: str) -> Space:
        return self.spaces.setdefault(name, Space(name))

    def key(self, name: str) -> KeyInfo:
        return self.keys.setdefault(name.lower(), KeyInfo())

    @classmethod
    def of(cls, policies: list[Policy], requests: list[Request] | None = None) -> Universe:
        u = cls()
        for p in policies:
            if p.uses_principal():
                u.principal = True
            u._collect(p)
        for r in requests or []:
            u.actions.setdefault(r.action.lower(), r.action)
            u.spaces["action"].add(("lit", r.action.lower()))
            u.spaces["resource"].add(("lit", r.resource))
            if u.principal:
                u.spaces["principal"].add(("lit", r.principal or ""))
                session = role_session_prefix(r.principal or "")
                if session:
                    u.spaces["principal"].add(("glob", (Lit(session), STAR), False))
            for k, v in r.context.items():
                if k not in u.keys:
                    continue
                u.key_names.setdefault(k, r.key_names.get(k, k))
                info = u.keys[k]
                vals = v if isinstance(v, tuple) else (v,)
                info.known.update(vals)
                if isinstance(v, tuple):
                    info.spec_lists += 1
                    info.spec_values.update(v)
                if "str" in info.views:
                    for x in vals:
                        u.space("key:" + k).add(("lit", x))
        for s in u.spaces.values():
            checkpoint("building the Z3 model of the policy")
            s.finalize()
        u.final = True
        return u

    def _collect(self, policy: Policy) -> None:
        for st in policy.statements:
            checkpoint("building the Z3 model of the policy")
            for a in st.actions:
                if "*" not in a and "?" not in a:
                    self.actions.setdefault(a.lower(), a)
            for c in st.conditions:
                self.key_names.setdefault(c.lkey, c.key)
                info = self.key(c.key)
                view = _FAMILY_VIEW[c.op.family]
                if view:
                    info.views.add(view)
                if c.op.family == "Arn":
                    info.views.add("arn")
                if c.op.set_op:
                    info.set_conditions += 1
                if c.op.family in ("String", "Binary") and c.op.compare != "eq_ci":
                    info.known.update(v for v in c.values if not any(ch in v for ch in "*?$"))
        # walk the encoder in collect mode: it records every pattern test and every variable link
        Encoder(SymbolicRequest(self, collect=True)).allows(policy)


class StrVar:
    """A string part of the request: a region index (atoms) or a Z3 string with optional ARN segments."""

    def __init__(self, name: str, space: Space, collect: bool, arn: bool = False) -> None:
        self.space = space
        self.collect = collect
        self.atoms = None if collect else space.atoms
        if self.atoms is not None:
            self.idx = z3.Int(f"{name}.i")
        else:
            self.s = z3.String(name)
            self.arn_ok = z3.Bool(f"{name}.arn")
            self.comps = [z3.String(f"{name}.arn{i}") for i in range(6)]

    def domain(self) -> list[z3.BoolRef]:
        if self.collect:
            return []
        if self.atoms is not None:
            return [self.idx >= 0, self.idx < len(self.atoms.witnesses)]
        if not self.space.arn_used:
            return []
        colon = z3.StringVal(":")
        out = [z3.Implies(self.arn_ok, self.comps[0] == z3.StringVal("arn")),
               z3.Implies(z3.Not(self.arn_ok), z3.Not(z3.PrefixOf(z3.StringVal("arn:"), self.s)))]
        out += [z3.Implies(self.arn_ok, z3.Not(z3.Contains(c, colon))) for c in self.comps[1:5]]
        if self.space.raw:
            joined = self.comps[0]
            for c in self.comps[1:]:
                joined = z3.Concat(joined, colon, c)
            out.append(z3.Implies(self.arn_ok, self.s == joined))
        return out

    def test(self, desc: Desc) -> z3.BoolRef | None:
        """Membership formula for a variable-free pattern, or None in string mode (caller encodes it)."""
        if self.collect:
            self.space.add(desc)
            return z3.BoolVal(True)
        if self.atoms is None:
            return None
        members = self.atoms.members[self.space.descs[desc]]
        if not members:
            return z3.BoolVal(False)
        if len(members) == len(self.atoms.witnesses):
            return z3.BoolVal(True)
        return z3.Or([self.idx == i for i in sorted(members)])

    def equals(self, text: str) -> z3.BoolRef:
        if self.atoms is not None:
            return self.idx == self.atoms.index_of(text)
        if not self.space.arn_used:
            return self.s == z3.StringVal(text)
        parts = split_arn(text)
        if parts is None:
            return z3.And(z3.Not(self.arn_ok), self.s == z3.StringVal(text))
        pins = [self.arn_ok] + [c == z3.StringVal(x) for c, x in zip(self.comps, parts, strict=False)]
        if self.space.raw:  # the whole string is tied to the segments only then
            pins.append(self.s == z3.StringVal(text))
        return z3.And(pins)

    def value(self, model: z3.ModelRef) -> str:
        if self.atoms is not None:
            i = model.eval(self.idx, model_completion=True).as_long()
            return self.atoms.witnesses[i]
        if self.space.arn_used and z3.is_true(model.eval(self.arn_ok, model_completion=True)):
            return ":".join(_string_value(model.eval(c, model_completion=True)) for c in self.comps)
        return _string_value(model.eval(self.s, model_completion=True))


class Slot:
    """One value of a context key, in the views the policies use."""

    def __init__(self, name: str, info: KeyInfo, space: Space, collect: bool) -> None:
        self.views = info.views
        self.str = StrVar(f"{name}.s", space, collect)
        if "num" in self.views:
            self.num = z3.Real(f"{name}.n")
            self.num_ok = z3.Bool(f"{name}.n_ok")
        if "date" in self.views:
            self.date = z3.Int(f"{name}.d")
            self.date_ok = z3.Bool(f"{name}.d_ok")
        if "ip" in self.views:
            self.v4 = z3.Bool(f"{name}.v4")
            self.v6 = z3.Bool(f"{name}.v6")
            self.ip4 = z3.BitVec(f"{name}.ip4", 32)
            self.ip6 = z3.BitVec(f"{name}.ip6", 128)

    @property
    def has_str(self) -> bool:
        return "str" in self.views or not (self.views - {"str", "arn"})


class KeyVars:
    def __init__(self, name: str, info: KeyInfo, space: Space, collect: bool) -> None:
        self.info = info
        self.present = z3.Bool(f"{name}.present")
        self.multi = z3.Bool(f"{name}.multi")
        self.count = z3.Int(f"{name}.count")
        self.slots = [Slot(f"{name}[{i}]", info, space, collect) for i in range(info.slots)]


class SymbolicRequest:
    """A request whose every part is a Z3 variable, restricted to well-formed values by `domain`."""

    def __init__(self, universe: Universe, tag: str = "r", collect: bool = False) -> None:
        self.universe = universe
        self.collect = collect
        self.action = StrVar(f"{tag}.action", universe.spaces["action"], collect)
        self.resource = StrVar(f"{tag}.resource", universe.spaces["resource"], collect)
        self.principal = StrVar(f"{tag}.principal", universe.spaces["principal"], collect)
        self._tag = tag
        self.keys: dict[str, KeyVars] = {}
        if not collect:
            for k, info in universe.keys.items():
                self.keys[k] = KeyVars(f"{tag}.ctx.{k}", info, universe.space("key:" + k), False)

    def key(self, lkey: str) -> KeyVars:
        kv = self.keys.get(lkey)
        if kv is None:  # collect mode: keys appear as the encoder meets them
            info = self.universe.key(lkey)
            kv = KeyVars(f"{self._tag}.ctx.{lkey}", info, self.universe.space("key:" + lkey), self.collect)
            if not self.collect:  # pragma: no cover - the universe knows every key
                raise KeyError(lkey)
            self.keys[lkey] = kv
        return kv

    def domain(self) -> list[z3.BoolRef]:
        out = self.action.domain() + self.resource.domain()
        if self.universe.principal:
            out += self.principal.domain()
        for kv in self.keys.values():
            checkpoint("encoding the request space for Z3")
            n = len(kv.slots)
            out.append(z3.Implies(kv.multi, z3.And(kv.count >= 0, kv.count <= n)))
            typed = kv.info.views & {"num", "date", "ip"}
            for s in kv.slots:
                out += s.str.domain()
                if "ip" in s.views:
                    out.append(z3.Not(z3.And(s.v4, s.v6)))
                # views are not linked in general; for the literal values seen, the string fixes the others
                if typed and s.has_str:
                    for w in sorted(kv.info.known):
                        out.append(z3.Implies(s.str.equals(w), _typed_is(s, w)))
        return out

    # -- pinning to a concrete request (modulo what the universe can see) ------------------------------
    def same_as(self, request: Request, exact: bool = False) -> z3.BoolRef:
        """The symbolic request equals `request` on everything the universe's policies read. Unless `exact`,
        a context value is compared as a set: a single value and a one-element list are the same (AWS never
        gives one key both shapes, so a spec cannot mean two different requests by them). Unless `exact`, a
        request on the resource `*` stands for its action on every resource (see `policies.verify`)."""
        parts = [self.action.equals(request.action.lower())]
        if exact or request.resource != "*":
            parts.append(self.resource.equals(request.resource))
        if self.universe.principal:
            # a role stands for its sessions: a request by the role ARN is one by any of its sessions
            same = self.principal.equals(request.principal or "")
            session = role_session_prefix(request.principal or "")
            if session:
                f = self.principal.test(("glob", (Lit(session), STAR), False))
                same = z3.Or(same, f if f is not None else z3.PrefixOf(z3.StringVal(session), self.principal.s))
            parts.append(same)
        for key, kv in self.keys.items():
            value = request.get(key)
            if value is None:
                parts.append(z3.Not(kv.present))
            else:
                # a single value and a one-element list are the same set of values (AWS never gives one key
                # both shapes): compare sets
                wanted = [value] if isinstance(value, str) else sorted(set(value))
                if len(wanted) > len(kv.slots):
                    return z3.BoolVal(False)
                as_set = [z3.Implies(kv.count > i, z3.Or([_slot_is(s, w) for w in wanted] or [False]))
                          for i, s in enumerate(kv.slots)]
                as_set += [z3.Or([z3.And(kv.count > i, _slot_is(s, w)) for i, s in enumerate(kv.slots)])
                           for w in wanted]
                single = _slot_is(kv.slots[0], wanted[0]) if len(wanted) == 1 else z3.BoolVal(False)
                if exact:
                    parts += [kv.present, z3.And(z3.Not(kv.multi), single) if isinstance(value, str)
                              else z3.And([kv.multi] + as_set)]
                else:
                    parts += [kv.present, z3.If(kv.multi, z3.And(as_set), single)]
        return z3.And(parts)

    # -- reading a model back ----------------------------------------------------------------------------
    def concretize(self, model: z3.ModelRef) -> Request:
        action = self.action.value(model)
        action = self.universe.actions.get(action, action)
        resource = self.resource.value(model)
        principal = self.principal.value(model) if self.universe.principal else ""
        context: dict[str, str | tuple[str, ...]] = {}
        for key, kv in self.keys.items():
            if not z3.is_true(model.eval(kv.present, model_completion=True)):
                continue
            if z3.is_true(model.eval(kv.multi, model_completion=True)):
                count = model.eval(kv.count, model_completion=True).as_long()
                context[key] = tuple(_render_slot(model, s) for s in kv.slots[:max(0, count)])
            else:
                context[key] = _render_slot(model, kv.slots[0])
        names = {k: self.universe.key_names.get(k, k) for k in context}
        return Request(action, resource, principal or None, context, names)


def _string_value(v: z3.ExprRef) -> str:
    if z3.is_string_value(v):
        return v.as_string()
    return ""


def _render_slot(model: z3.ModelRef, s: Slot) -> str:
    ev = lambda e: model.eval(e, model_completion=True)  # noqa: E731
    if "ip" in s.views and not s.has_str:
        if z3.is_true(ev(s.v4)):
            return format_ip(4, ev(s.ip4).as_long())
        if z3.is_true(ev(s.v6)):
            return format_ip(6, ev(s.ip6).as_long())
        return "not-an-ip"
    if "num" in s.views and not s.has_str:
        if z3.is_true(ev(s.num_ok)):
            val = ev(s.num)
            return format_number(Fraction(val.numerator_as_long(), val.denominator_as_long()))
        return "not-a-number"
    if "date" in s.views and not s.has_str:
        if z3.is_true(ev(s.date_ok)):
            return format_date(ev(s.date).as_long())
        return "not-a-date"
    return s.str.value(model)


def _slot_is(s: Slot, value: str) -> z3.BoolRef:
    return z3.And(s.str.equals(value), _typed_is(s, value)) if s.has_str else _typed_is(s, value)


def _typed_is(s: Slot, value: str) -> z3.BoolRef:
    parts = []
    if "num" in s.views:
        n = parse_number(value)
        parts.append(z3.And(s.num_ok, s.num == _real(n)) if n is not None else z3.Not(s.num_ok))
    if "date" in s.views:
        d = parse_date(value)
        parts.append(z3.And(s.date_ok, s.date == d) if d is not None else z3.Not(s.date_ok))
    if "ip" in s.views:
        ip = parse_ip(value)
        if ip is None:
            parts.append(z3.And(z3.Not(s.v4), z3.Not(s.v6)))
        elif ip[0] == 4:
            parts.append(z3.And(s.v4, s.ip4 == ip[1]))
        else:
            parts.append(z3.And(s.v6, s.ip6 == ip[1]))
    return z3.And(parts) if parts else z3.BoolVal(True)


def _real(value: Fraction) -> z3.ArithRef:
    return z3.RealVal(f"{value.numerator}/{value.denominator}")


def _ci_regex(text: str) -> z3.ReRef:
    parts = []
    for ch in text:
        options = {ch}
        if len(ch.lower()) == 1:
            options.add(ch.lower())
        if len(ch.upper()) == 1:
            options.add(ch.upper())
        parts.append(z3.Union([z3.Re(o) for o in sorted(options)]) if len(options) > 1 else z3.Re(ch))
    if not parts:
        return z3.Re("")
    return parts[0] if len(parts) == 1 else z3.Concat(parts)


def _is_empty(term: z3.ExprRef) -> bool:
    return z3.is_string_value(term) and term.as_string() == ""


class Encoder:
    """Builds formulas over one symbolic request (or, in collect mode, records what they would test)."""

    def __init__(self, req: SymbolicRequest) -> None:
        self.req = req
        self.collect = req.collect

    # -- string tests ---------------------------------------------------------------------------------
    def _var(self, var: Var) -> tuple[z3.ExprRef, z3.BoolRef]:
        kv = self.req.key(var.key)
        if self.collect:
            kv.info.views.add("str")
            self.req.universe.space("key:" + var.key).linked = True
            return z3.String("collect"), z3.BoolVal(True)
        sv = kv.slots[0].str
        if sv.atoms is not None:  # pragma: no cover - variables always link their key
            raise UnsupportedError("", f"policy variable ${{{var.key}}} is not modelled")
        resolvable = z3.And(kv.present, z3.Not(kv.multi))
        if var.default is not None:
            return z3.If(resolvable, sv.s, z3.StringVal(var.default)), z3.BoolVal(True)
        return sv.s, resolvable

    def string_test(self, sv: StrVar, tokens: Tokens, ignore_case: bool = False) -> z3.BoolRef:
        """Whole-string wildcard test of `sv` (policy variables allowed)."""
        if self.collect:
            sv.space.str_used = True
        if any(isinstance(t, Var) for t in tokens):
            if self.collect:
                sv.space.linked = True
                for t in tokens:
                    if isinstance(t, Var):
                        self._var(t)
                return z3.BoolVal(True)
            return self.glob(tokens, sv.s, ignore_case)
        f = sv.test(("glob", tokens, ignore_case))
        return f if f is not None else self.glob(tokens, sv.s, ignore_case)

    def arn_test(self, sv: StrVar, tokens: Tokens) -> z3.BoolRef:
        """ARN-or-plain test (per segment when the pattern is an ARN)."""
        if is_all(tokens):
            return z3.BoolVal(True)
        parts = split_arn_tokens(tokens)
        if parts is None:
            if self.collect:
                sv.space.raw = True
            return self.string_test(sv, tokens)
        if self.collect:
            sv.space.arn_used = True
        if any(isinstance(t, Var) for t in tokens):
            if self.collect:
                sv.space.linked = True
                for t in tokens:
                    if isinstance(t, Var):
                        self._var(t)
                return z3.BoolVal(True)
            return z3.And([sv.arn_ok] + [self.glob(p, c) for p, c in zip(parts[1:], sv.comps[1:], strict=False)])
        f = sv.test(("arn", tokens))
        if f is not None:
            return f
        return z3.And([sv.arn_ok] + [self.glob(p, c) for p, c in zip(parts[1:], sv.comps[1:], strict=False)])

    def glob(self, tokens: Tokens, s: z3.ExprRef, ignore_case: bool = False) -> z3.BoolRef:
        """String-theory encoding of a wildcard test (used only where variables tie strings together)."""
        guards: list[z3.BoolRef] = []
        items: list[Any] = []
        for t in tokens:
            if isinstance(t, Var):
                term, guard = self._var(t)
                guards.append(guard)
                items.append(term)
            else:
                items.append(t)
        symbolic = any(isinstance(i, z3.ExprRef) for i in items)
        if ignore_case:
            if symbolic:
                raise UnsupportedError("", "a case-insensitive comparison with a policy variable is not modelled")
            return z3.InRe(s, _ci_regex("".join(i.text for i in items)))
        if any(isinstance(i, QMark) for i in items):
            if symbolic:
                raise UnsupportedError("", "a `?` wildcard next to a policy variable is not modelled")
            regex = [z3.Re(i.text) if isinstance(i, Lit) else _ALLCHAR if isinstance(i, QMark) else _ANY
                     for i in items]
            return z3.InRe(s, regex[0] if len(regex) == 1 else z3.Concat(regex))
        segments: list[list[z3.ExprRef]] = [[]]
        for i in items:
            if isinstance(i, Star):
                segments.append([])
            elif isinstance(i, Lit):
                segments[-1].append(z3.StringVal(i.text))
            else:
                segments[-1].append(i)
        terms = [(seg[0] if len(seg) == 1 else z3.Concat(seg)) if seg else z3.StringVal("") for seg in segments]
        if len(terms) == 1:
            body = s == terms[0]
        else:
            first, last = terms[0], terms[-1]
            conds = []
            if not _is_empty(first):
                conds.append(z3.PrefixOf(first, s))
            if not _is_empty(last):
                conds.append(z3.SuffixOf(last, s))
            pos = z3.Length(first) if not _is_empty(first) else z3.IntVal(0)
            for mid in terms[1:-1]:
                if _is_empty(mid):
                    continue
                idx = z3.IndexOf(s, mid, pos)
                conds.append(idx >= 0)
                pos = idx + z3.Length(mid)
            end = z3.Length(s) - z3.Length(last) if not _is_empty(last) else z3.Length(s)
            if not (_is_empty(first) and _is_empty(last) and len(terms) == 2):
                conds.append(pos <= end)
            body = z3.And(conds) if conds else z3.BoolVal(True)
        return z3.And(guards + [body]) if guards else body

    # -- statement parts -----------------------------------------------------------------------------
    def actions(self, st: Statement) -> z3.BoolRef:
        ors = []
        for a in st.actions:
            if a == "*":
                ors = [z3.BoolVal(True)]
                break
            ors.append(self.string_test(self.req.action, tokenize(a.lower(), True, False)))
        f = z3.Or(ors) if ors else z3.BoolVal(False)
        return z3.Not(f) if st.not_action else f

    def resources(self, st: Statement, policy: Policy) -> z3.BoolRef:
        if st.resources is None:
            return z3.BoolVal(True)
        ors = []
        for r in st.resources:
            toks = tokenize(r, True, policy.variables_enabled)
            if is_all(toks):
                ors = [z3.BoolVal(True)]
                break
            ors.append(self.arn_test(self.req.resource, toks))
        f = z3.Or(ors) if ors else z3.BoolVal(False)
        return z3.Not(f) if st.not_resource else f

    def principal(self, element: Principal, negate: bool) -> z3.BoolRef:
        pv = self.req.principal
        ors = []
        for ptype, value in element.entries:
            if value == "*":
                ors = [z3.BoolVal(True)]
                break
            if ptype == "AWS":
                prefixes = _account_prefixes(value)
                if prefixes is not None:
                    ors += [self.string_test(pv, (Lit(x), STAR)) for x in prefixes]
                    continue
                session = role_session_prefix(value)
                if session is not None:
                    ors.append(self.string_test(pv, (Lit(session), STAR)))
            ors.append(self.string_test(pv, (Lit(value),)))
        f = z3.Or(ors) if ors else z3.BoolVal(False)
        return z3.Not(f) if negate else f

    # -- conditions -----------------------------------------------------------------------------------
    def _one(self, cond: Condition, slot: Slot, policy: Policy) -> z3.BoolRef:
        op = cond.op
        fam, cmp = op.family, op.compare
        if fam in ("String", "Arn"):
            hits = []
            for pv in cond.values:
                toks = tokenize(pv, cmp == "like", policy.variables_enabled)
                if fam == "Arn":
                    hits.append(self.arn_test(slot.str, toks))
                else:
                    hits.append(self.string_test(slot.str, toks, ignore_case=cmp == "eq_ci"))
            hit = z3.Or(hits)
            return z3.Not(hit) if op.negated else hit
        if fam == "Binary":
            return z3.Or([self.string_test(slot.str, (Lit(pv),)) for pv in cond.values])
        if fam == "Bool":
            is_true = self.string_test(slot.str, _TRUE[1], True)
            is_false = self.string_test(slot.str, _FALSE[1], True)
            hits = []
            for pv in cond.values:
                toks = tokenize(pv, False, policy.variables_enabled)
                if any(isinstance(t, Var) for t in toks):
                    if len(toks) != 1:
                        raise UnsupportedError("", "a Bool value mixing text and a policy variable is not modelled")
                    term, guard = self._var(toks[0])  # type: ignore[arg-type]
                    if self.collect:
                        continue
                    hits.append(z3.And(guard, z3.Or(z3.And(is_true, z3.InRe(term, _ci_regex("true"))),
                                                    z3.And(is_false, z3.InRe(term, _ci_regex("false"))))))
                else:
                    hits.append(is_true if parse_bool(pv) else is_false)
            return z3.Or(hits) if hits else z3.BoolVal(False)
        if self.collect:
            return z3.BoolVal(True)
        if fam == "Ip":
            valid = z3.Or(slot.v4, slot.v6)
            hit = z3.Or([self._in_cidr(slot, pv) for pv in cond.values])
            return z3.And(valid, z3.Not(hit)) if op.negated else hit
        if fam == "Numeric":
            var, ok, wants = slot.num, slot.num_ok, [_real(parse_number(pv)) for pv in cond.values]  # type: ignore
        else:
            var, ok, wants = slot.date, slot.date_ok, [z3.IntVal(parse_date(pv)) for pv in cond.values]
        if cmp == "eq":
            hit = z3.Or([var == w for w in wants])
            return z3.And(ok, z3.Not(hit)) if op.negated else z3.And(ok, hit)
        test = {"lt": lambda a, b: a < b, "le": lambda a, b: a <= b,
                "gt": lambda a, b: a > b, "ge": lambda a, b: a >= b}[cmp]
        return z3.And(ok, z3.Or([test(var, w) for w in wants]))

    @staticmethod
    def _in_cidr(slot: Slot, text: str) -> z3.BoolRef:
        version, net, plen = parse_cidr(text)  # type: ignore[misc]
        bits = 32 if version == 4 else 128
        flag, var = (slot.v4, slot.ip4) if version == 4 else (slot.v6, slot.ip6)
        if plen == 0:
            return flag
        return z3.And(flag, z3.Extract(bits - 1, bits - plen, var) == z3.BitVecVal(net >> (bits - plen), plen))

    def condition(self, cond: Condition, policy: Policy) -> z3.BoolRef:
        checkpoint("encoding the policy for Z3")
        kv = self.req.key(cond.lkey)
        op = cond.op
        if op.family == "Null":
            return z3.Or([z3.Not(kv.present) if parse_bool(v) else kv.present for v in cond.values])
        if op.set_op is None:
            absent = op.if_exists or op.negated
            return z3.If(kv.present, z3.And(z3.Not(kv.multi), self._one(cond, kv.slots[0], policy)),
                         z3.BoolVal(absent))
        single = self._one(cond, kv.slots[0], policy)
        if op.set_op == "ForAllValues":
            each = [z3.Implies(kv.count > i, self._one(cond, s, policy)) for i, s in enumerate(kv.slots)]
            return z3.If(kv.present, z3.If(kv.multi, z3.And(each), single), z3.BoolVal(True))
        some = [z3.And(kv.count > i, self._one(cond, s, policy)) for i, s in enumerate(kv.slots)]
        return z3.If(kv.present, z3.If(kv.multi, z3.Or(some), single), z3.BoolVal(op.if_exists))

    # -- statements and policies --------------------------------------------------------------------------
    def statement(self, st: Statement, policy: Policy) -> z3.BoolRef:
        checkpoint("encoding the policy for Z3")
        parts = [self.actions(st), self.resources(st, policy)]
        if st.principal is not None:
            parts.append(self.principal(st.principal, st.not_principal))
        parts += [self.condition(c, policy) for c in st.conditions]
        return z3.And(parts)

    def allows(self, policy: Policy) -> z3.BoolRef:
        allow = [self.statement(s, policy) for s in policy.statements if s.allow]
        deny = [self.statement(s, policy) for s in policy.statements if not s.allow]
        return z3.And(z3.Or(allow) if allow else z3.BoolVal(False),
                      z3.Not(z3.Or(deny)) if deny else z3.BoolVal(True))

    def denies_explicitly(self, policy: Policy) -> z3.BoolRef:
        deny = [self.statement(s, policy) for s in policy.statements if not s.allow]
        return z3.Or(deny) if deny else z3.BoolVal(False)
