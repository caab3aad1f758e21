"""Strings with wildcards and policy variables, as AWS reads them in Action, Resource and Condition values.

Why tokens: the evaluator matches by regular expression, the Z3 encoding by prefix/suffix/index constraints;
both start from the same token list, so `*`, `?`, `${aws:username}`, `${key, 'default'}` and the escapes
`${*}`, `${?}`, `${$}` mean the same thing everywhere.

ARN matching is per segment (AWS: wildcards match "within any ARN segment (the parts separated by colons)"):
`arn:partition:service:region:account:resource`; a `*` in the first five segments does not cross a colon,
one in the resource part (which may itself contain colons) matches anything.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Lit:
    """Literal text."""

    text: str


@dataclass(frozen=True)
class Star:
    """`*`: any run of characters (possibly empty)."""


@dataclass(frozen=True)
class QMark:
    """`?`: exactly one character."""


@dataclass(frozen=True)
class Var:
    """`${key}` or `${key, 'default'}`: the request's single value of `key` (lower-cased name)."""

    key: str
    default: str | None = None
    name: str = field(default="", compare=False)


Token = Lit | Star | QMark | Var
Tokens = tuple[Token, ...]

STAR = Star()
QMARK = QMark()
_DEFAULT = re.compile(r"\s*([^,]+?)\s*,\s*'(.*)'\s*")


def _merge(tokens: list[Token]) -> Tokens:
    out: list[Token] = []
    for t in tokens:
        if isinstance(t, Lit) and out and isinstance(out[-1], Lit):
            out[-1] = Lit(out[-1].text + t.text)
        elif isinstance(t, Lit) and not t.text:
            continue
        else:
            out.append(t)
    return tuple(out)


@functools.lru_cache(maxsize=65536)
def tokenize(text: str, wildcards: bool = True, variables: bool = True) -> Tokens:
    """Split `text` into tokens; without `wildcards`, `*` and `?` are literal; without `variables`, `${` is."""
    out: list[Token] = []
    i, n = 0, len(text)
    buf: list[str] = []
    while i < n:
        c = text[i]
        if variables and c == "$" and text.startswith("${", i):
            end = text.find("}", i + 2)
            if end != -1:
                inner = text[i + 2:end]
                if inner in ("*", "?", "$"):
                    buf.append(inner)
                else:
                    if buf:
                        out.append(Lit("".join(buf)))
                        buf = []
                    m = _DEFAULT.fullmatch(inner)
                    if m:
                        out.append(Var(m.group(1).lower(), m.group(2), m.group(1)))
                    else:
                        out.append(Var(inner.strip().lower(), None, inner.strip()))
                i = end + 1
                continue
        if wildcards and c in "*?":
            if buf:
                out.append(Lit("".join(buf)))
                buf = []
            out.append(STAR if c == "*" else QMARK)
        else:
            buf.append(c)
        i += 1
    if buf:
        out.append(Lit("".join(buf)))
    return _merge(out)


def has_wildcard(tokens: Tokens) -> bool:
    return any(isinstance(t, (Star, QMark)) for t in tokens)


def variables(tokens: Tokens) -> list[Var]:
    return [t for t in tokens if isinstance(t, Var)]


def resolve(tokens: Tokens, lookup: Callable[[str], str | None]) -> Tokens | None:
    """Replace variables by their values (`lookup(key)` gives a str or None); `None` if one cannot resolve."""
    if not any(isinstance(t, Var) for t in tokens):
        return tokens
    out: list[Token] = []
    for t in tokens:
        if isinstance(t, Var):
            value = lookup(t.key)
            if value is None:
                value = t.default
            if value is None:
                return None
            out.append(Lit(value))
        else:
            out.append(t)
    return _merge(out)


@functools.lru_cache(maxsize=65536)
def compile_tokens(tokens: Tokens, ignore_case: bool = False) -> re.Pattern[str]:
    """A regular expression for resolved tokens (no variables) matching the whole string."""
    parts = []
    for t in tokens:
        if isinstance(t, Lit):
            parts.append(re.escape(t.text))
        elif isinstance(t, Star):
            parts.append(".*")
        elif isinstance(t, QMark):
            parts.append(".")
        else:  # pragma: no cover - callers resolve first
            raise ValueError("unresolved variable")
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.compile("".join(parts), flags)


def match_tokens(tokens: Tokens, text: str, ignore_case: bool = False) -> bool:
    if len(tokens) == 1 and isinstance(tokens[0], Lit):
        a = tokens[0].text
        return a.lower() == text.lower() if ignore_case else a == text
    if not tokens:
        return text == ""
    return compile_tokens(tokens, ignore_case).fullmatch(text) is not None


def split_arn(text: str) -> tuple[str, ...] | None:
    """The six parts of an ARN (`arn`, partition, service, region, account, resource), or `None`."""
    if not text.startswith("arn:"):
        return None
    parts = text.split(":", 5)
    if len(parts) != 6:
        return None
    return tuple(parts)


@functools.lru_cache(maxsize=65536)
def split_arn_tokens(tokens: Tokens) -> tuple[Tokens, ...] | None:
    """The six token lists of an ARN pattern (colons inside `${...}` do not split), or `None`."""
    parts: list[list[Token]] = [[]]
    for t in tokens:
        if isinstance(t, Lit) and len(parts) < 6:
            pieces = t.text.split(":")
            parts[-1].append(Lit(pieces[0]))
            for piece in pieces[1:]:
                if len(parts) < 6:
                    parts.append([Lit(piece)])
                else:
                    parts[-1].append(Lit(":" + piece))
        else:
            parts[-1].append(t)
    if len(parts) != 6:
        return None
    merged = tuple(_merge(p) for p in parts)
    if merged[0] != (Lit("arn"),):
        return None
    return merged


def is_all(tokens: Tokens) -> bool:
    """True for the pattern `*` (every string)."""
    return bool(tokens) and all(isinstance(t, Star) for t in tokens)


def match_arn(tokens: Tokens, text: str, lookup: Callable[[str], str | None] | None = None) -> bool:
    """Match an ARN-or-plain pattern against a resource string, per segment when the pattern is an ARN."""
    if is_all(tokens):
        return True
    pattern_parts = split_arn_tokens(tokens)
    if pattern_parts is None:
        resolved = resolve(tokens, lookup) if lookup else tokens
        return resolved is not None and match_tokens(resolved, text)
    text_parts = split_arn(text)
    if text_parts is None:
        return False
    for pp, tp in zip(pattern_parts, text_parts, strict=False):
        resolved = resolve(pp, lookup) if lookup else pp
        if resolved is None or not match_tokens(resolved, tp):
            return False
    return True


def render(tokens: Tokens) -> str:
    """Policy text of tokens (inverse of `tokenize`, escaping literal `*`, `?` and `$` where needed)."""
    out = []
    for t in tokens:
        if isinstance(t, Lit):
            out.append(t.text.replace("${", "${$}{"))
        elif isinstance(t, Star):
            out.append("*")
        elif isinstance(t, QMark):
            out.append("?")
        else:
            out.append("${" + (t.name or t.key) + (f", '{t.default}'" if t.default is not None else "") + "}")
    return "".join(out)


def glob_escape(text: str) -> str:
    """Policy text that matches `text` literally under wildcard matching (`*` → `${*}`, `?` → `${?}`)."""
    return text.replace("$", "${$}").replace("*", "${*}").replace("?", "${?}")


def resource_text(resource: str) -> str:
    """Policy text for a request's resource in a Resource element: the resource escaped for wildcard
    matching, except the resource `*` (what AWS puts in requests for actions without resource-level
    permissions), written `"*"` as a person writes it, never the `${*}` escape. A spec request on `*`
    stands for its action on every resource (`policies.verify`), so the wider reading is within the bound."""
    return "*" if resource == "*" else glob_escape(resource)
