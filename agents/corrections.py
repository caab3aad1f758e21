"""A request the person corrects as they write it: "scale web to 5 and catalog to 0 in shop. Actually, skip catalog —
just do web", "restart web and checkout, oh wait, leave checkout alone".

Why: the correction is the last word, and it is said plainly; read as part of the request it is a second, opposite
order about the same object, so the request was refused (the safe outcome, but not what was asked). `corrected`
applies a correction that takes one object out: the part of the earlier request that names it (one of its
coordinated parts, cut at "and" or a comma) goes, a namespace said only there stays, and the correction itself
goes with any "just do web" that only confirms what is left. Nothing is guessed: the object must be named by exactly
one part, and something must be left.
"""

from __future__ import annotations

import re

_NAME = r"[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?"
# The correction: a sentence (or a dash-, comma- or "oh"-set clause) that opens with a word of second thought and takes
# one object out.
_CORRECTION = re.compile(
    r"(?:^|[.;!?]\s+|\s[—–-]+\s|,\s*)(?:(?:oh|ah|hmm+|um+|no|sorry|wait|actually|scratch\s+that|on\s+second\s+thought|"
    r"correction|change\s+of\s+plan|never\s*mind)[\s,:.!—–-]*)+"
    r"(?:please\s+|let's\s+|lets\s+|we\s+should\s+|you\s+can\s+|just\s+)?"
    r"(?:(?:skip|drop|forget(?:\s+about)?|ignore|exclude|leave\s+out|don'?t\s+(?:do|touch|bother\s+with|change)|"
    r"do\s+not\s+(?:do|touch|change)|never\s*mind|not)\s+(?:the\s+)?['\"]?(?P<a>" + _NAME + r")['\"]?(?:\s+(?:part|one|bit))?"
    r"|leave\s+(?:the\s+)?['\"]?(?P<b>" + _NAME + r")['\"]?\s+(?:alone|out|as\s+it\s+is|be)"
    r"|(?:just|only)\s+(?:do\s+)?(?:the\s+)?['\"]?(?P<only>" + _NAME + r")['\"]?)"
    r"(?P<tail>.*)$", re.I | re.S)
# What may follow the correction: it only confirms what is left ("— just do web", ", only web", "thanks").
_CONFIRM = re.compile(r"^[\s,.;!—–-]*(?:(?:just|only)\s+(?:do\s+|change\s+|scale\s+|restart\s+)?(?:the\s+)?['\"]?"
                      r"(?P<keep>" + _NAME + r")['\"]?(?:\s+(?:then|please|for\s+now))?)?[\s,.;!—–-]*"
                      r"(?:thanks?(?:\s+you)?|thx|cheers|ty)?[\s.!]*$", re.I)
_PART_CUT = re.compile(r",\s*(?:and\s+)?|\s+and\s+(?:also\s+)?(?:then\s+)?")
_PLACE = re.compile(r"\s+(?:in|-n|--namespace)\s+(?:the\s+)?(?:namespace\s+)?" + _NAME + r"(?:\s+namespace)?\s*$",
                    re.I)


def corrected(text: str) -> str | None:
    """The request with its correction applied, or None when it has none this can apply."""
    m = _CORRECTION.search(text)
    if not m:
        return None
    out = (m.group("a") or m.group("b") or "").lower()
    only = (m.group("only") or "").lower()
    confirm = _CONFIRM.match(m.group("tail") or "")
    if not (out or only) or confirm is None:
        return None
    before = text[:m.start()].rstrip(" ,.;!?—–-")
    parts = [(p.start(), p.end()) for p in _PART_CUT.finditer(before)]
    bounds = [0] + [e for _, e in parts]
    ends = [s for s, _ in parts] + [len(before)]
    chunks = [before[a:b] for a, b in zip(bounds, ends, strict=True)]
    def names(c: str, name: str) -> bool:
        return bool(re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", c, re.I))

    if only:  # "… just do web": every other part goes; the part that acts (the first) must be the one kept
        naming = [i for i, c in enumerate(chunks) if names(c, only)]
        if naming != [0] or len(chunks) < 2:
            return None
        place = _PLACE.search(chunks[-1])
        return chunks[0].strip() + (place.group(0) if place and not _PLACE.search(chunks[0]) else "")
    naming = [i for i, c in enumerate(chunks) if names(c, out)]
    if len(naming) != 1 or len(chunks) < 2:
        return None
    i = naming[0]
    kept = [c for j, c in enumerate(chunks) if j != i]
    keep = (confirm.group("keep") or "").lower()
    if keep and not any(names(c, keep) for c in kept):
        return None  # "just do web" where web is not what is left: not a correction this understands
    place = _PLACE.search(chunks[i])
    if place and i == len(chunks) - 1 and not _PLACE.search(kept[-1]):
        kept[-1] = kept[-1] + place.group(0)  # "… and catalog to 0 in shop": the namespace was said for both
    result = " and ".join(c.strip() for c in kept)
    return result if re.search(r"[a-z]", result, re.I) else None
