"""A Drain-style log template miner: 10,000 lines in, a few dozen templates out, with counts and examples.

Drain (He et al., ICWS 2017) in brief, as implemented here:
1. mask the variable parts of each line: timestamps, UUIDs, IPs, hex ids, long quoted strings, numbers (an HTTP
   status right after a quoted request line is kept: it tells 200 from 500);
2. route the masked token list down a fixed-depth tree: by token count and whether the line looks like an error
   (so an error never hides inside a template of normal lines), then by its first `depth` tokens (a token with a
   digit, or any token once a node is full, goes to a wildcard child);
3. in the leaf, join the most similar template (share of equal positions >= `threshold`), replacing the positions
   that differ with <*>; otherwise start a new template.
Templates that look like errors (ERROR, Exception, Traceback, panic, fatal, a klog E/F line, HTTP 403/5xx) are
flagged, and kept when the output is cut to `max_templates`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tools.diagnose.util import quote

WILD = "<*>"

_MASKS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^([IWEF])\d{4} \d{2}:\d{2}:\d{2}\.\d+"), r"\1 <TS>"),  # klog header
    (re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?"), "<TS>"),
    (re.compile(r"\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}"), "<TS>"),
    (re.compile(r"\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}"), "<TS>"),
    (re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"), "<UUID>"),
    (re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b"), "<IP>"),
    (re.compile(r"\b0x[0-9a-fA-F]+\b|\b(?=[0-9a-f]*[a-f])[0-9a-f]{8,}\b"), "<HEX>"),
    (re.compile(r'"(?:[^"\\]|\\.){33,}?"'), "<STR>"),  # long quoted strings (user agents, payloads)
    (re.compile(r"(?<![\w.])(?<!\" )[-+]?\d+(?:\.\d+)?(?:ms|us|µs|ns|s|m|h|Mi|Ki|Gi|MiB|KiB|GiB|MB|KB|GB|%)?(?![\w.])"),
     "<NUM>"),
]
_ERROR_WORDS = ("error", "exception", "fatal", "critical", "severe", "traceback", "panic", "outofmemory",
                "out of memory", "oomkilled", "failed", "forbidden", "denied", "refused")
_ERROR_MARKS = re.compile(r'^[EF]\d{4} |" (?:403|5\d\d) | (?:403|5\d\d) (?:Forbidden|Internal)')


def mask(line: str) -> str:
    for rx, rep in _MASKS:
        line = rx.sub(rep, line)
    return line


def is_error(line: str) -> bool:
    low = line.lower()
    return any(w in low for w in _ERROR_WORDS) or bool(_ERROR_MARKS.search(line))


@dataclass
class Template:
    template: str
    count: int
    examples: list[str]
    first_index: int
    last_index: int
    error: bool = False


@dataclass
class _Cluster:
    tokens: list[str]
    count: int = 0
    examples: list[str] = field(default_factory=list)
    first: int = 0
    last: int = 0
    error: bool = False


class Miner:
    """Incremental miner: `add(line, index)` each line, then `templates()`."""

    def __init__(self, depth: int = 2, threshold: float = 0.5, max_children: int = 64, max_examples: int = 2) -> None:
        self.depth = max(1, depth)
        self.threshold = threshold
        self.max_children = max_children
        self.max_examples = max_examples
        self.root: dict[tuple[int, bool], dict] = {}
        self.clusters: list[_Cluster] = []

    def _leaf(self, tokens: list[str], error: bool) -> list[_Cluster]:
        node = self.root.setdefault((len(tokens), error), {})
        for tok in tokens[: self.depth]:
            key = WILD if any(ch.isdigit() for ch in tok) or tok.startswith("<") else tok
            if key not in node and len(node) >= self.max_children:
                key = WILD
            node = node.setdefault(key, {})
        return node.setdefault("", [])  # type: ignore[return-value]

    @staticmethod
    def _similarity(a: list[str], b: list[str]) -> float:
        same = sum(1 for x, y in zip(a, b, strict=True) if x == y and x != WILD)
        return same / len(a) if a else 1.0

    def add(self, line: str, index: int) -> None:
        tokens = mask(line).split()
        error = is_error(line)
        leaf = self._leaf(tokens, error)
        best, best_sim = None, -1.0
        for c in leaf:
            s = self._similarity(c.tokens, tokens)
            if s > best_sim:
                best, best_sim = c, s
        if best is None or best_sim < self.threshold:
            best = _Cluster(tokens=list(tokens), first=index, error=error)
            leaf.append(best)
            self.clusters.append(best)
        else:
            best.tokens = [x if x == y else WILD for x, y in zip(best.tokens, tokens, strict=True)]
        best.count += 1
        best.last = index
        if len(best.examples) < self.max_examples and line not in best.examples:
            best.examples.append(line)

    def templates(self) -> list[Template]:
        return [Template(" ".join(c.tokens) or "(empty line)", c.count, [quote(e) for e in c.examples], c.first,
                         c.last, c.error) for c in self.clusters]


def mine(lines: list[str], max_templates: int = 50, *, depth: int = 2, threshold: float = 0.5) -> list[Template]:
    """Templates of `lines`, most frequent first; error-like templates are kept when the list is cut."""
    m = Miner(depth=depth, threshold=threshold)
    for i, line in enumerate(lines):
        if line.strip():
            m.add(line, i)
    out = sorted(m.templates(), key=lambda t: (-t.count, t.first_index))
    if len(out) > max_templates:
        errors = [t for t in out if t.error][:max_templates]
        rest = [t for t in out if not t.error][: max_templates - len(errors)]
        out = sorted(errors + rest, key=lambda t: (-t.count, t.first_index))
    return out
