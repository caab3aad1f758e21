"""Finite abstraction of a string space: the regions ("atoms") that a set of wildcard patterns cuts it into.

Why: every test a policy makes on an action, a resource (without policy variables), a principal or a
context string is "does the string match pattern p". The decision therefore depends on a string only
through which patterns it matches, so a string variable can be replaced, exactly, by the index of its
region, each region represented by one witness string. Z3 then works over a small integer instead of the
theory of strings: proofs drop from hundreds of milliseconds to a few.

Regions are found by exploring the product of the patterns' automata breadth-first (shortest witness per
region); all characters a pattern does not mention behave alike, so one stands for all of them.
"""

from __future__ import annotations

import functools
from collections import deque
from dataclasses import dataclass

from policies.budget import checkpoint
from policies.patterns import Lit, QMark, Star, Tokens, split_arn_tokens

# An element: (charset, repeat). charset = (negated, chars): "in chars" or "not in chars".
Charset = tuple[bool, frozenset[str]]
Element = tuple[Charset, bool]
ANY: Charset = (True, frozenset())
NOT_COLON: Charset = (True, frozenset(":"))


class Pattern:
    """A compiled pattern: a sequence of elements (a char from a set, or a run of such chars). Carries its
    own transition memo (patterns are interned by the compile caches)."""

    __slots__ = ("elements", "_hash", "trans", "relevant")

    def __init__(self, elements: tuple[Element, ...]) -> None:
        self.elements = elements
        self._hash = hash(elements)
        self.trans: dict[tuple[frozenset[int], str], frozenset[int]] = {}
        self.relevant: dict[frozenset[int], frozenset[str]] = {}

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Pattern) and other.elements == self.elements


def _lit(text: str, ignore_case: bool) -> list[Element]:
    out: list[Element] = []
    for ch in text:
        chars = {ch}
        if ignore_case:
            if len(ch.lower()) == 1:
                chars.add(ch.lower())
            if len(ch.upper()) == 1:
                chars.add(ch.upper())
        out.append(((False, frozenset(chars)), False))
    return out


def _glob(tokens: Tokens, ignore_case: bool = False, within: Charset = ANY) -> list[Element]:
    out: list[Element] = []
    for t in tokens:
        if isinstance(t, Lit):
            out += _lit(t.text, ignore_case)
        elif isinstance(t, Star):
            out.append((within, True))
        elif isinstance(t, QMark):
            out.append((within, False))
        else:  # pragma: no cover - callers never compile variables
            raise ValueError("variables cannot be compiled")
    return out


@functools.lru_cache(maxsize=16384)
def compile_glob(tokens: Tokens, ignore_case: bool = False) -> Pattern:
    """Whole-string wildcard match."""
    return Pattern(tuple(_glob(tokens, ignore_case)))


@functools.lru_cache(maxsize=16384)
def compile_arn(tokens: Tokens) -> Pattern:
    """Per-segment ARN match: wildcards in the first five segments do not cross a colon."""
    parts = split_arn_tokens(tokens)
    assert parts is not None
    out: list[Element] = []
    for i, part in enumerate(parts):
        if i:
            out += _lit(":", False)
        out += _glob(part, False, NOT_COLON if i < 5 else ANY)
    return Pattern(tuple(out))


@functools.lru_cache(maxsize=16384)
def compile_literal(text: str) -> Pattern:
    return Pattern(tuple(_lit(text, False)))


def _closure(p: Pattern, states: frozenset[int]) -> frozenset[int]:
    out = set(states)
    stack = list(states)
    while stack:
        s = stack.pop()
        if s < len(p.elements) and p.elements[s][1] and s + 1 not in out:
            out.add(s + 1)
            stack.append(s + 1)
    return frozenset(out)


def _in(cs: Charset, ch: str) -> bool:
    neg, chars = cs
    return (ch not in chars) if neg else (ch in chars)


def _step(p: Pattern, states: frozenset[int], ch: str) -> frozenset[int]:
    key = (states, ch)
    hit = p.trans.get(key)
    if hit is None:
        hit = p.trans[key] = _step_uncached(p, states, ch)
    return hit


def _relevant(p: Pattern, states: frozenset[int]) -> frozenset[str]:
    """Characters that can move these NFA positions differently from an unmentioned character."""
    hit = p.relevant.get(states)
    if hit is None:
        chars: set[str] = set()
        for s in states:
            if s < len(p.elements):
                chars |= p.elements[s][0][1]
        hit = p.relevant[states] = frozenset(chars)
    return hit


def _step_uncached(p: Pattern, states: frozenset[int], ch: str) -> frozenset[int]:
    nxt = set()
    for s in states:
        if s < len(p.elements):
            cs, rep = p.elements[s]
            if _in(cs, ch):
                nxt.add(s if rep else s + 1)
    return _closure(p, frozenset(nxt)) if nxt else frozenset()


class TooBig(Exception):
    """The product automaton is too large; callers fall back to the string encoding."""


@dataclass
class Atoms:
    """Regions of a string space: `witnesses[i]` represents region i; `members[j]` lists the regions
    whose strings match pattern j."""

    patterns: tuple[Pattern, ...]
    witnesses: list[str]
    members: list[frozenset[int]]

    def index_of(self, text: str) -> int:
        """The region of a concrete string."""
        vec = tuple(match(p, text) for p in self.patterns)
        return self._by_vector[vec]

    def __post_init__(self) -> None:
        self._by_vector = {}
        for i in range(len(self.witnesses)):
            vec = tuple(i in m for m in self.members)
            self._by_vector[vec] = i


def match(p: Pattern, text: str) -> bool:
    states = _closure(p, frozenset({0}))
    for ch in text:
        states = _step(p, states, ch)
        if not states:
            return False
    return len(p.elements) in states


_PREFERRED_OTHER = "xqz0123456789abcdefghijklmnoprstuvwy-_~"


def _prettier(patterns: tuple[Pattern, ...], vec: tuple[bool, ...], witness: str) -> str:
    """A more readable string of the same region (`s3:` -> `s3:example`), when there is one."""
    for cand in (witness + "example", witness + "x", "example"):
        if cand != witness and tuple(match(p, cand) for p in patterns) == vec:
            return cand
    return witness


@functools.lru_cache(maxsize=4096)
def build(patterns: tuple[Pattern, ...], max_states: int = 20000) -> Atoms:
    """All non-empty regions of the patterns, each with its shortest witness."""
    mentioned: set[str] = set()
    for p in patterns:
        for (_neg, chars), _ in p.elements:
            mentioned |= chars
    other = next((c for c in _PREFERRED_OTHER if c not in mentioned), None)
    if other is None:
        other = next(chr(c) for c in range(0x100, 0x10000) if chr(c) not in mentioned)
    start = tuple(_closure(p, frozenset({0})) for p in patterns)
    seen = {start: ""}
    queue = deque([start])
    vectors: dict[tuple[bool, ...], str] = {}
    while queue:
        checkpoint("building the Z3 model of the policy")   # each step reads every pattern: check each
        state = queue.popleft()
        witness = seen[state]
        vec = tuple(len(p.elements) in s for p, s in zip(patterns, state, strict=False))
        if vec not in vectors:
            vectors[vec] = witness
        relevant: set[str] = set()
        for p, s in zip(patterns, state, strict=False):
            relevant |= _relevant(p, s)
        for ch in sorted(relevant) + [other]:
            nxt = tuple(_step(p, s, ch) for p, s in zip(patterns, state, strict=False))
            if nxt not in seen:
                if len(seen) >= max_states:
                    raise TooBig(f"{len(seen)} states")
                seen[nxt] = witness + ch
                queue.append(nxt)
    order = sorted(vectors.items(), key=lambda kv: (len(kv[1]), kv[1]))
    witnesses = [_prettier(patterns, vec, w) for vec, w in order]
    members = [frozenset(i for i, (vec, _) in enumerate(order) if vec[j]) for j in range(len(patterns))]
    return Atoms(patterns, witnesses, members)
