"""Negation and entity guards: two requests whose embeddings are close may still need different answers.

Measured with MiniLM: "can alice read the reports bucket?" vs "can alice not read the reports bucket?" has
cosine 0.94, and "… alice …" vs "… bob …" 0.82, above or near any useful threshold. So a semantic hit also
needs equal *signatures*: the same negation parity, the same action classes (delete ≠ describe, allow ≠ deny,
up ≠ down), and the same named things (pods, namespaces, buckets, users, numbers, anything that is not a
common word; see memory/vocabulary.py). The guards only ever turn a hit into a miss, never the reverse.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass

from memory.vocabulary import (
    ACTION_CLASSES,
    COMMON,
    DETERMINERS,
    EXPANSIONS,
    KIND_OF,
    NAME_LIKE,
    NEGATIONS,
    PHRASES,
    PLATFORM_OF,
    RESOURCE_WORDS,
    SOFT_CLASSES,
    SYNONYMS,
)

_QUOTED = re.compile(r"""["“”`]([^"“”`]{1,200})["“”`]|'([^'\s][^']{0,198}[^'\s])'(?=\W|$)""")
_TOKEN = re.compile(r"[a-z0-9][a-z0-9_.:/@'*+-]*")
_NAMEISH = re.compile(r"[0-9_.:/@*+]")


@dataclass(frozen=True)
class Signature:
    """What must be equal for two requests to share an answer."""

    negated: bool
    actions: frozenset[str]
    entities: frozenset[str]
    kinds: frozenset[str] = frozenset()
    platforms: frozenset[str] = frozenset()

    def to_json(self) -> str:
        """Compact form stored beside each cache entry (recomputing 100k signatures on load costs seconds)."""
        return json.dumps([int(self.negated), sorted(self.actions), sorted(self.entities), sorted(self.kinds),
                           sorted(self.platforms)], separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Signature:
        neg, actions, entities, kinds, platforms = json.loads(text)
        return cls(bool(neg), frozenset(actions), frozenset(entities), frozenset(kinds), frozenset(platforms))


def _norm_token(tok: str) -> str:
    tok = tok.strip(".:/-'+*")
    if tok.endswith("'s"):
        tok = tok[:-2]
    if "'" in tok and not _NAMEISH.search(tok):
        tok = SYNONYMS.get(tok, tok.replace("'", ""))
    return SYNONYMS.get(tok, tok)


def _stem(word: str) -> str:
    # inflection folding for names and unknown words: "payments" = "payment", "evaluated" = "evaluation"
    if len(word) > 5 and word.isalpha():
        for suffix in ("ations", "ation", "ings", "ing", "ions", "ion", "ed", "ly", "es"):
            if word.endswith(suffix) and len(word) - len(suffix) >= 4:
                return word[: -len(suffix)]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _is_common(tok: str) -> bool:
    return (tok in COMMON or tok in DETERMINERS or tok in ACTION_CLASSES or tok in NEGATIONS or tok in KIND_OF
            or tok in PLATFORM_OF)


def _is_name(tok: str) -> bool:
    if _NAMEISH.search(tok):
        return True  # digits and identifier punctuation: web-1, 10.0.0.1, arn:aws:…, s3://x, user@corp
    if "-" in tok:  # "read-only" is phrasing; "ci-bot", "audit-logs", "kube-system" are names
        parts = [p for p in tok.split("-") if p]
        return not all(_is_common(p) and p not in KIND_OF and p not in RESOURCE_WORDS and p not in NAME_LIKE
                       for p in parts)
    return not _is_common(tok) and tok not in RESOURCE_WORDS


def normalize(text: str) -> str:
    """Unicode-fold, lower-case, collapse whitespace and spell out abbreviations: the text the embedder sees."""
    text = unicodedata.normalize("NFKC", text).replace("’", "'")
    return _ABBREV.sub(lambda m: EXPANSIONS[m.group(0)], " ".join(text.lower().split()))


_ABBREV = re.compile(r"(?<![\w./:@-])(" + "|".join(sorted(map(re.escape, EXPANSIONS), key=len, reverse=True))
                     + r")(?![\w./:@-])")
_PHRASE = [(re.compile(r"(?<![\w-])" + re.escape(a) + r"(?![\w-])"), b) for a, b in PHRASES]


def _fold_phrases(text: str) -> str:
    for pattern, word in _PHRASE:
        if pattern.pattern and word:
            text = pattern.sub(word, text)
    return text


def signature(text: str) -> Signature:
    """Extract negation parity, action classes and named entities from one request text."""
    low = _fold_phrases(normalize(text))
    entities: set[str] = {"q:" + (a or b).strip() for a, b in _QUOTED.findall(low)}
    toks = [t for t in (_norm_token(t) for t in _TOKEN.findall(low)) if t]
    negations = 0
    actions: set[str] = set()
    kinds: set[str] = set()
    platforms: set[str] = set()
    for i, tok in enumerate(toks):
        if tok in NEGATIONS or tok.endswith("n't"):
            negations += 1
        if tok in ACTION_CLASSES:
            actions.add(ACTION_CLASSES[tok])
        if tok in KIND_OF:
            kinds.add(KIND_OF[tok])
        if tok in PLATFORM_OF:
            platforms.add(PLATFORM_OF[tok])
        if _is_name(tok):
            entities.add(tok if _NAMEISH.search(tok) else _stem(tok))
        elif tok in NAME_LIKE and _next_to_resource(toks, i):
            entities.add(_stem(tok))  # "the logs bucket", "namespace monitoring"
    return Signature(negated=negations % 2 == 1, actions=frozenset(actions), entities=frozenset(entities),
                     kinds=frozenset(kinds), platforms=frozenset(platforms))


def _next_to_resource(toks: list[str], i: int) -> bool:
    if i + 1 < len(toks) and toks[i + 1] in RESOURCE_WORDS:
        return True
    j = i - 1
    while j >= 0 and toks[j] in DETERMINERS:
        j -= 1
    return j >= 0 and toks[j] in RESOURCE_WORDS


def _hard_actions(mine: frozenset[str], theirs: frozenset[str]) -> frozenset[str]:
    return frozenset(c for c in mine if c not in SOFT_CLASSES or SOFT_CLASSES[c] in theirs)


def mismatch(a: Signature, b: Signature) -> str | None:
    """Why two signatures must not share an answer, or None when they may."""
    if a.negated != b.negated:
        return "negation differs"
    if _hard_actions(a.actions, b.actions) != _hard_actions(b.actions, a.actions):
        return f"actions differ: {sorted(a.actions ^ b.actions)}"
    if a.entities != b.entities:
        return f"named things differ: {sorted(a.entities ^ b.entities)[:6]}"
    if a.kinds - b.kinds and b.kinds - a.kinds:
        return f"kinds differ: {sorted(a.kinds ^ b.kinds)[:6]}"
    if a.platforms and b.platforms and a.platforms != b.platforms:
        return f"platforms differ: {sorted(a.platforms ^ b.platforms)}"
    return None
