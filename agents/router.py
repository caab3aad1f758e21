"""The supervisor's router: which domain agent(s) a request needs, in the order the person asked.

Three stages, cheapest first (DESIGN.md, "One request, end to end", step 2):

1. **rules**: a few deterministic patterns that are unambiguous (an AWS ARN or an `s3:Action` → `iam`; "can
   <subject> <verb> …" → `rbac`; vLLM / llama.cpp / LoRA / KV cache → `serving`; PromQL → `metrics`). Each was
   kept only where it was measured right on the exemplars and the eval set.
2. **embedding router** (`EmbeddingRouter`): MiniLM (memory.embeddings) over hand-written labelled exemplars
   (agents/exemplars.yaml). A query's score for a label is the mean cosine of its `k` nearest exemplars of that
   label; the best label wins; `margin` is its lead over the runner-up. Typos in ordinary words are corrected
   against the exemplars' vocabulary first, and chat shorthand ("pls", "w/", "r") is spelled out.
3. **LLM tie-breaker** (`Router`): when the margin is below `min_margin`, an injected callable (the gateway,
   JSON-schema constrained; wired by the supervisor) picks among the top candidates. The small local models
   route 2–5 of 10 on their own, so they only ever choose among the embedding router's best few.

Multi-intent: a request is split at a clause boundary (";", ". ", a "?" followed by more text, "then", "also", or
an "and" followed by a verb or question word) only when both halves route confidently to DIFFERENT agents; the
halves keep their order. An "and" between two objects ("a namespace x and a pod y") is not a boundary: such a
request is one intent, and the chosen agent's coverage decides whether it understood all of it (agents.decide).

Public surface: `Route`, `EmbeddingRouter`, `Router`, `LABELS`, `load_exemplars`, `rule_route`, `split_points`.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import yaml

from memory.guards import normalize

if TYPE_CHECKING:
    from memory.embeddings import Embedder

LABELS: tuple[str, ...] = ("logs", "metrics", "rbac", "scaling", "iam", "resources", "serving", "toolsmith")
EXEMPLARS_PATH = Path(__file__).with_name("exemplars.yaml")

Method = Literal["embedding", "llm", "rule"]
LLMRoute = Callable[[str, list[str]], "str | None"]


@dataclass
class Route:
    """Where a request goes.

    agents: domain agents in the order to run them (one per part).
    confidence: for an embedding decision, the softmax probability of the chosen label over all labels' scores
        (the lowest over the parts of a multi-intent request); 1.0 for a rule.
    margin: the chosen label's score lead over the runner-up, in cosine units (the lowest over parts); 1.0 for a
        rule.
    method: what decided: "rule", "embedding" or "llm" (for several parts, the weakest: llm < embedding < rule).
    parts: (sub-request text, agent) for each part, in order; a single-intent request has one part, its whole
        text.
    scores: the whole request's per-label scores, best first (for tracing and for an LLM's candidate list); empty
        when a rule decided before anything was embedded.
    ms: time spent routing, in milliseconds.
    """

    agents: list[str]
    confidence: float
    margin: float
    method: Method
    parts: list[tuple[str, str]]
    scores: dict[str, float] = field(default_factory=dict)
    ms: float = 0.0

    @property
    def agent(self) -> str:
        """The first agent (the whole route for a single-intent request)."""
        return self.agents[0]


# -- exemplars --------------------------------------------------------------------------------------------------

def load_exemplars(path: Path | str = EXEMPLARS_PATH) -> dict[str, list[str]]:
    """{label: [exemplar, ...]} from a YAML mapping; every label must be one of `LABELS`. Parsed with libyaml when
    PyYAML has it (the same safe loader, in C: a fifteenth of the time on every cold `kubesage ask`)."""
    data = yaml.load(Path(path).read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of label -> list of exemplars")
    out: dict[str, list[str]] = {}
    for label, items in data.items():
        if label not in LABELS:
            raise ValueError(f"{path}: unknown label {label!r} (known: {', '.join(LABELS)})")
        if not isinstance(items, list) or not all(isinstance(x, str) and x.strip() for x in items):
            raise ValueError(f"{path}: label {label!r} must map to a list of non-empty strings")
        out[label] = list(items)
    return out


# -- text clean-up: shorthand and typos -------------------------------------------------------------------------

# chat shorthand, as whole words (after lower-casing)
_SHORTHAND = {
    "pls": "please", "plz": "please", "pleas": "please", "w/": "with", "w/o": "without", "u": "you", "r": "are",
    "y": "why", "wy": "why", "wat": "what", "wut": "what", "wot": "what", "cn": "can", "n": "and", "im": "i am", "thx": "thanks",
    "ur": "your", "b4": "before", "asap": "", "rn": "right now", "bc": "because", "abt": "about", "smth": "something",
    "in2": "into", "2day": "today", "msg": "message", "img": "image", "imgs": "images", "mem": "memory",
    "perms": "permissions", "perm": "permission", "cfg": "config", "logz": "logs",
}
_SHORTHAND_RE = re.compile(r"(?<![\w/@.:-])(" + "|".join(sorted(map(re.escape, _SHORTHAND), key=len, reverse=True))
                           + r")(?![\w/@.:-])")

# Domain words a typo may be corrected to, besides the exemplars' own words (generic Kubernetes/AWS/ops terms; no
# workload names).
_DOMAIN_WORDS = """
kubernetes cluster namespace namespaces pod pods deployment deployments replicaset statefulset daemonset job jobs
cronjob cronjobs service services endpoint endpoints ingress configmap configmaps secret secrets volume volumes
persistent claim node nodes container containers image images replica replicas rollout rollback restart restarts
restarting scale scaling autoscaler autoscaling horizontal crash crashing crashed crashes crashloop crashlooping
crashloopbackoff pending failing failed error errors logs log events event probe readiness liveness oomkilled
memory cpu usage utilization consumption metrics prometheus latency throughput saturation trend role roles
rolebinding clusterrole clusterrolebinding binding bindings permission permissions privilege privileges allowed
forbidden serviceaccount account accounts user users group groups policy policies bucket buckets statement
principal resource resources action actions condition conditions effect allow deny iam aws access read write
delete create update patch list describe label labels annotation selector limits limit requests request model
models server serving inference adapter adapters lora cache backend backends queue replicas references
referenced reference unused owner orphaned older newer latest tag privileged running stuck unhealthy
""".split()


def _damerau(a: str, b: str, cap: int) -> int:
    """Optimal-string-alignment distance, giving up (returning cap + 1) once it must exceed `cap`."""
    if abs(len(a) - len(b)) > cap:
        return cap + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > cap:
            return cap + 1
        prev2, prev = prev, cur
    return prev[-1]


@lru_cache(maxsize=1)
def _wordpiece_words() -> frozenset[str]:
    """Whole words of MiniLM's WordPiece vocabulary: ordinary English words we must never 'correct'. Read from the
    tokenizer file as JSON (its `model.vocab`), not through `tokenizers`: the same words, a fifth of the CPU time on
    every cold `kubesage ask` (issue 18)."""
    try:
        import json

        from memory.embeddings import default_tokenizer_path

        vocab = json.loads(default_tokenizer_path().read_text(encoding="utf-8"))["model"]["vocab"]
    except Exception:  # noqa: BLE001 - no tokenizer files: fall back to the domain vocabulary alone
        return frozenset()
    return frozenset(w for w in vocab if w.isalpha() and w.isascii())


class _Speller:
    """Corrects misspelt words towards a vocabulary (exemplar words + domain words) with a symmetric-delete
    index: a word of length ≥ 4 that is neither known English nor in the vocabulary is replaced by the most
    frequent vocabulary word at edit distance 1 (2 for words of 7+ letters); otherwise left alone."""

    def __init__(self, words: Mapping[str, int]) -> None:
        self.freq = dict(words)
        self.known = _wordpiece_words() | set(self.freq)
        self.index: dict[str, set[str]] = {}
        for w in self.freq:
            for d in self._deletes(w, 2 if len(w) >= 6 else 1):
                self.index.setdefault(d, set()).add(w)

    @staticmethod
    def _deletes(word: str, depth: int) -> set[str]:
        out = {word}
        frontier = {word}
        for _ in range(depth):
            frontier = {w[:i] + w[i + 1:] for w in frontier for i in range(len(w)) if len(w) > 2}
            out |= frontier
        return out

    def correct_word(self, word: str) -> str:
        if len(word) < 4 or not word.isalpha() or word in self.known:
            return word
        cap = 2 if len(word) >= 7 else 1
        cands: set[str] = set()
        for d in self._deletes(word, cap):
            cands |= self.index.get(d, set())
        best, best_key = word, None
        for c in cands:
            dist = _damerau(word, c, cap)
            if dist <= cap:
                key = (dist, -self.freq.get(c, 0), c)
                if best_key is None or key < best_key:
                    best, best_key = c, key
        return best

    def correct(self, text: str) -> str:
        return re.sub(r"[a-z]+(?:'[a-z]+)?", lambda m: self._fix(text, m), text)

    def _fix(self, text: str, m: re.Match[str]) -> str:
        s, e = m.span()
        # only free-standing words: never a piece of a name such as report-cruncher, nginx:1.27 or s3:GetObject
        if (s > 0 and text[s - 1] in "-_:/.@0123456789") or (e < len(text) and text[e] in "-_:/@0123456789"):
            return m.group(0)
        return self.correct_word(m.group(0))


def _words(texts: Sequence[str]) -> dict[str, int]:
    freq: dict[str, int] = {}
    for t in texts:
        for w in re.findall(r"[a-z]+", t.lower()):
            if len(w) >= 3:
                freq[w] = freq.get(w, 0) + 1
    for w in _DOMAIN_WORDS:
        freq[w] = freq.get(w, 0) + 1
    return freq


def _spell_out(text: str) -> str:
    text = normalize(text)
    text = _SHORTHAND_RE.sub(lambda m: _SHORTHAND[m.group(0)], text)
    return " ".join(text.split())


# -- rules ------------------------------------------------------------------------------------------------------

_K8S_VERBS = (r"(?:get|list|watch|create|update|patch|delete|deletecollection|exec|read|write|edit|view|access|"
              r"impersonate|bind|escalate|modify|see|scale|port-forward|attach|approve)")
_NOT_SUBJECTS = r"(?:you|we|i|it|this|that|there|these|those|they|he|she|one|anyone|anybody|someone|somebody)"
_RULES: list[tuple[str, re.Pattern[str]]] = [
    # AWS: an ARN, an S3/IAM action, or the service named outright. Kubernetes has no buckets.
    ("iam", re.compile(r"arn:aws[\w-]*:|\b(?:s3|iam|kms|sts|ec2|dynamodb|lambda):[a-z*]|\b(?:iam|aws|s3)\b"
                       r"|\bbuckets?\b", re.I)),
    # LLM serving backends by name
    ("serving", re.compile(r"\bvllm\b|\bllama[ .-]?cpp\b|\bllama\.cpp\b|\blora\b|\bkv[ -]?cache\b|\bgguf\b", re.I)),
    # PromQL: a function over a range vector, or a metric selector with a range
    ("metrics", re.compile(r"\b(?:rate|irate|increase|sum|avg|max|min|histogram_quantile|topk)\s*\(.*\)"
                           r"|\[\d+[smhdw]\]|\bpromql\b|\bkubectl top\b", re.I)),
    # Kubernetes authorization questions: "can <subject> <verb> …", "who can <verb> …", "kubectl auth can-i"
    ("rbac", re.compile(r"^(?:can|could|may)\s+(?:the\s+)?(?!" + _NOT_SUBJECTS + r"\b)[\w:.@-]+"
                        r"(?:\s+(?:service\s*account|serviceaccount|user|group|sa|bot|role))?\s+"
                        r"(?:really\s+|still\s+|also\s+)?" + _K8S_VERBS + r"\b"
                        r"|^who\s+(?:else\s+)?(?:can|could|is\s+able\s+to|is\s+allowed\s+to|has\s+access\s+to)\s+"
                        + _K8S_VERBS + r"\b|\bauth\s+can-i\b", re.I)),
    # A restart said outright: the rollout restart, not a diagnosis
    ("scaling", re.compile(r"^(?!.*(?:\bthen\b|\balso\b|\bafter that\b|;|\band\s+(?:scale|delete|create|set|show|"
                           r"list|give|add|fix)\b))(?:please\s+|can you\s+|could you\s+)*(?:do\s+a\s+)?(?:rolling\s+)?"
                           r"(?:restart|bounce|recycle|redeploy)\b", re.I)),
    # A symptom and a request to fix it: the diagnosis's (its fix is the finding's), not a change said outright
    ("logs", re.compile(r"^(?!.*(?:\bthen\b|\balso\b|\bafter that\b|;|\band\s+(?:scale|restart|delete|create|set|"
                        r"show|list|give|add)\b))(?=.*\b(?:fix|repair|heal|mend|sort\s+out)\b).*(?:\b(?:can'?t|cannot|can\s+"
                        r"not|won'?t|unable\s+to)\s+(?:pull|start)\b|\bimagepullbackoff\b|\berrimagepull\b|\boom\s*killed\b|"
                        r"\boomkilled\b|\bcrash\s*loop|\bcrash(?:ing|es)\b|\bkeeps?\s+(?:crashing|restarting|dying)\b|"
                        r"\b(?:its|the|[\w-]+'s)\s+image\b(?!.*(?:\bto\b|:)))", re.I)),
    # Authoring an object: "create/make/deploy … <kind>" (autoscalers and roles are left to the embeddings: they
    # belong to the scaling and rbac agents as often as not)
    ("resources", re.compile(r"^(?!.*(?:\bthen\b|\balso\b|\bafter that\b|;))(?:please\s+)?(?:create|make|generate|write|provision|add|set up)\s+(?:me\s+)?"
                             r"(?:an?\s+|the\s+|one\s+|new\s+)*(?:[\w.:/-]+\s+){0,2}?(?:pod|deployment|service|"
                             r"configmap|config\s+map|secret|cronjob|cron\s+job|job|statefulset|daemonset|pvc|"
                             r"persistent\s+volume\s+claim|ingress|network\s*policy|namespace|service\s*account)s?\b",
                             re.I)),
    # Back or forward to a version said: the image's (set-image), not a rollout undo to the previous revision
    ("resources", re.compile(r"^(?!.*(?:\bthen\b|\balso\b|;|\band\s+(?:scale|restart|delete|create)\b))"
                             r".*\b(?:roll(?:\s+[\w-]+){0,6}\s+back|rollback|revert|downgrade)\b.*\bto\s+(?:the\s+)?"
                             r"(?:previous\s+)?(?:version\s+|image\s+|tag\s+|release\s+)?v?\d+\.\d+", re.I)),
    # What a rollout changed: a question about the objects' history, not about scaling
    ("resources", re.compile(r"^(?:what|show|which)\b.*\b(?:changed|different|differs|diff|modified)\b.*\b(?:rollout|"
                             r"revision)s?\b", re.I)),
    # Changing requests/limits to a stated quantity: configuration, not a usage question
    ("resources", re.compile(r"^(?!.*(?:\bthen\b|\balso\b|;))(?:please\s+)?(?:set|give|raise|lower|increase|decrease|"
                             r"put|add|change|bump|cap|update)\b.*\b(?:limits?|requests?)\b.*\b\d+(?:\.\d+)?\s*"
                             r"(?:mi|gi|ki|m|g|mb|gb|cores?|cpus?)\b", re.I)),
]


_POLICY = re.compile(r'"Statement"\s*:|"Effect"\s*:\s*"(?:Allow|Deny)"')


def rule_route(text: str) -> str | None:
    """The label a deterministic rule gives `text`, or None when no rule fires or rules for different labels
    fire (then the text is ambiguous or multi-intent, and the embeddings decide). One exception: when only the
    iam and rbac rules fire, iam wins ("can alice read the reports bucket" is an AWS question phrased like can-i).

    Measured: on the 350 exemplars the rules decide 53, all right; on the routing set 47 of 267, all right."""
    fired = [label for label, pattern in _RULES if pattern.search(text)]
    if not fired:
        return None
    if "iam" in fired and "rbac" in fired and len(set(fired)) == 2:
        return "iam"  # "can <user> <verb> … bucket": an AWS question phrased like can-i
    return fired[0] if len(set(fired)) == 1 else None


# -- multi-intent splitting -------------------------------------------------------------------------------------

_BOUNDARY = re.compile(
    r"\s*(?:;|\?(?=\s)|!(?=\s)|\.(?=\s)|&|,?\s+and\s+then\b|,?\s+and\s+also\b|,?\s+and\s+after\s+that\b"
    r"|,?\s+after\s+that\b|,?\s+then\b|,?\s+also\b|,?\s+plus\b|,?\s+and\b|\s+n\b)\s*", re.I)
_LEADING = re.compile(r"^(?:(?:(?:and|then|also|plus|after that|afterwards|finally|next|n)\b|,)\s*)+", re.I)
_WEAK = re.compile(r"\s*(?:,?\s+and|\s+n|,?\s+plus)\s*", re.I)
_QUESTION_WORDS = frozenset("""what whats what's why who whos who's which where when how is are was were can could
does do did will would should has have may tell show give let please""".split())
_MIN_PART_WORDS = 2
# Words that name nothing on their own: a part made of these and one more word ("fix whatever it is", "just want a
# quick overview") only continues the clause before it, so it is no request to route elsewhere.
_BACK_REFERENCES = frozenset("whatever whichever wherever anything everything else".split())


# A part that begins by pointing back at the set just asked about ("… restarted at least once? and which ones never
# did?") asks more about the same objects: one question, not two.
_CONTINUES = re.compile(r"^(?:and\s+)?(?:which|what|the)\s+ones\b", re.I)


def _substantive(part: str, later: bool = False) -> bool:
    """The part says at least two words of its own besides filler and back-references, and asks something: a part
    that only tells ("traffic is low this week", "we archive those", agents.residue) belongs to its neighbour, and
    so does a `later` part that asks nothing of its own (no verb, no question word: "only those two, nothing else",
    "a number per pod please"); a first part may be a bare question ("top memory pods in shop then …")."""
    from agents.coverage import FILLER, tokens
    from agents.residue import asks, clauses, narrative

    if all(narrative(c) for c in clauses(part)) or (later and not asks(tokens(part))):
        return False
    return sum(1 for w in tokens(part) if w not in FILLER and w not in _BACK_REFERENCES) >= _MIN_PART_WORDS


def _asks_order(part: str) -> bool:
    """The part opens with an order verb ("restart it", "scale them to 3")."""
    from agents.coverage import tokens
    from agents.residue import verb_class

    words = [w for w in tokens(part) if w != "please"]
    return bool(words) and verb_class(words[0]) is not None


def _clean_part(text: str) -> str:
    return _LEADING.sub("", text.strip(" ,;?!.&")).strip(" ,;?!.&")


# A later part that is an order about what the part before named ("… and then restart it"): a request of its own
# once "it" is resolved (agents.coreference), though it says one word of its own.
_ORDER_ON_IT = re.compile(r"(?:please\s+)?[a-z-]+\s+(?:it|them)\b.*", re.I)


def split_points(text: str, starters: frozenset[str] | None = None,
                 orders_on_it: bool = False) -> list[tuple[str, str]]:
    """Every way to cut `text` in two at one conjunction or punctuation mark: [(left, right), ...], each side
    stripped of connectives and holding at least two words of its own (not filler, not a back-reference such as
    "whatever it is").

    With `starters` (words a request begins with: "show", "why", "scale"…), a cut at a bare "and"/"n"/"plus"
    is kept only when the right side begins with one of them: "the old and new policy" joins two nouns, "scale
    web and show its cpu" joins two requests. Cuts at ";", "?", "then", "also" need no such check."""
    out: list[tuple[str, str]] = []
    for m in _BOUNDARY.finditer(text):
        if m.start() == 0 or m.end() >= len(text):
            continue
        left, right = _clean_part(text[:m.start()]), _clean_part(text[m.end():])
        if len(left.split()) < _MIN_PART_WORDS or len(right.split()) < _MIN_PART_WORDS:
            continue
        on_it = orders_on_it and bool(_ORDER_ON_IT.fullmatch(right)) and _asks_order(right)
        if not (_substantive(left) and (on_it or _substantive(right, later=True))) or _CONTINUES.match(right):
            continue
        if starters is not None and _WEAK.fullmatch(m.group(0)):
            first = re.sub(r"[^a-z']", "", right.split()[0].lower())
            if first not in starters:
                continue
        out.append((left, right))
    return list(dict.fromkeys(out))


# First words that do not begin a clause: determiners and nouns ("create namespace x and a pod y with limits" is ONE
# request about two objects, not a request plus a metrics question). A cut at a bare "and" needs the right side to
# begin a clause of its own (a verb or a question word); cuts at ";", ". ", "?", "then", "also" need no such check.
_NOT_CLAUSE = frozenset("""a an the any every each all some my our your its their this that these those one two
cpu memory pod pods config configmaps containers cronjobs deployments disk error errors imagepullbackoff images jobs
namespaces nodes persistent pvcs secrets service services statefulsets tokens p average current health liveness load
minimal prefix rbac utilization heaviest running logs ratehttprequeststotalm""".split())


def _starters(texts: Sequence[str]) -> frozenset[str]:
    """The first words of the exemplars that begin a clause (verbs, question words, auxiliaries), plus question
    words and auxiliaries: how a second request begins after a bare "and"."""
    words = {re.sub(r"[^a-z']", "", t.split()[0].lower()) for t in texts if t.split()}
    return frozenset((words | _QUESTION_WORDS) - _NOT_CLAUSE)


# -- the embedding router ---------------------------------------------------------------------------------------

# embedder -> {exemplar digest: matrix}; weak, so a discarded embedder takes its matrices with it
_matrix_cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_matrix_lock = threading.Lock()


@dataclass
class _Decision:
    label: str
    confidence: float
    margin: float
    method: Method
    scores: dict[str, float]


class EmbeddingRouter:
    """k-nearest-exemplar routing over MiniLM embeddings.

    embedder: anything with `embed(texts) -> (n, dim)` L2-normalised float32 rows (default: the process's shared
        MiniLM from memory.embeddings, loaded when first needed: a request a rule routes never loads it).
    exemplars: {label: [text, ...]} (default: agents/exemplars.yaml).
    k: a label's score is the mean cosine of its k nearest exemplars.
    temperature: softmax temperature that turns label scores into `confidence`.
    split_margin / split_score: how confident each half must be (margin over the runner-up, and score) for a
        request to be split into two intents; rules count as confident.
    typos: correct misspelt words against the exemplar and domain vocabulary before embedding.
    rules: apply the deterministic rules first.
    """

    def __init__(self, embedder: Embedder | None = None, exemplars: Mapping[str, Sequence[str]] | None = None, *,
                 k: int = 4, temperature: float = 0.02, split_margin: float = 0.005, split_score: float = 0.2,
                 typos: bool = True, rules: bool = True) -> None:
        self._embedder = embedder
        ex = load_exemplars() if exemplars is None else {k_: list(v) for k_, v in exemplars.items()}
        unknown = set(ex) - set(LABELS)
        if unknown:
            raise ValueError(f"unknown labels in exemplars: {sorted(unknown)}")
        self.labels: list[str] = [lb for lb in LABELS if ex.get(lb)]
        self.texts: list[str] = [t for lb in self.labels for t in ex[lb]]
        self.owner = np.array([self.labels.index(lb) for lb in self.labels for _ in ex[lb]], dtype=np.int64)
        self.k, self.temperature = k, temperature
        self.split_margin, self.split_score = split_margin, split_score
        self.use_rules = rules
        self._speller = _Speller(_words(self.texts)) if typos else None
        self.starters = _starters(self.texts)
        self._matrix: np.ndarray | None = None

    @property
    def embedder(self) -> Embedder:
        """The embedder, built on first use: a request a rule routes (with no clause to split at) is answered
        without building MiniLM's ONNX session, a quarter of a second of a cold `kubesage ask` (issue 18)."""
        if self._embedder is None:
            from memory.embeddings import shared_embedder

            self._embedder = shared_embedder()
        return self._embedder

    # the exemplar matrix is embedded once per (embedder, exemplar set) and shared by every router in the process
    @property
    def matrix(self) -> np.ndarray:
        if self._matrix is None:
            digest = hashlib.sha256("\x00".join(self.texts).encode()).hexdigest()
            with _matrix_lock:
                try:
                    per_embedder = _matrix_cache.setdefault(self.embedder, {})
                except TypeError:  # an embedder that cannot be weakly referenced: no sharing
                    per_embedder = {}
                m = per_embedder.get(digest)
                if m is None:
                    from agents import router_cache  # the matrix on disk: a cold process does not re-embed

                    prepared = [self.prepare(t) for t in self.texts]
                    m = router_cache.matrix(self.embedder, prepared, self._embed_exemplars)
                    per_embedder[digest] = m
            self._matrix = m
        return self._matrix

    def _embed_exemplars(self, batch: int = 32) -> np.ndarray:
        # batches of similar length: the embedder pads each batch to its longest text
        prepped = [self.prepare(t) for t in self.texts]
        order = sorted(range(len(prepped)), key=lambda i: len(prepped[i]))
        m = np.empty((len(prepped), 0), dtype=np.float32)
        for i in range(0, len(order), batch):
            idx = order[i:i + batch]
            vecs = self.embedder.embed([prepped[j] for j in idx])
            if m.shape[1] == 0:
                m = np.zeros((len(prepped), vecs.shape[1]), dtype=np.float32)
            m[idx] = vecs
        return m

    def warm(self) -> EmbeddingRouter:
        """Embed the exemplars now (otherwise the first query pays for it: ~1.3 s for 350 on 2 CPU cores)."""
        _ = self.matrix
        return self

    def prepare(self, text: str) -> str:
        """The text the embedder sees: normalised (memory.guards.normalize), shorthand spelled out, typos fixed."""
        text = _spell_out(text)
        return self._speller.correct(text) if self._speller else text

    def label_scores(self, vecs: np.ndarray) -> np.ndarray:
        """(n, labels) scores: per label, the mean cosine of the k nearest exemplars."""
        sims = vecs @ self.matrix.T  # (n, N)
        out = np.empty((sims.shape[0], len(self.labels)), dtype=np.float32)
        for j in range(len(self.labels)):
            s = sims[:, self.owner == j]
            kk = min(self.k, s.shape[1])
            top = -np.partition(-s, kk - 1, axis=1)[:, :kk]
            out[:, j] = top.mean(axis=1)
        return out

    def _decide(self, text: str, scores: np.ndarray) -> _Decision:
        order = np.argsort(-scores)
        best, second = int(order[0]), int(order[1]) if len(order) > 1 else int(order[0])
        named = {self.labels[j]: round(float(scores[j]), 4) for j in order}
        rule = rule_route(text) if self.use_rules else None
        if rule is not None:
            return _Decision(rule, 1.0, 1.0, "rule", named)
        z = (scores - scores[best]) / self.temperature
        p = np.exp(z) / np.exp(z).sum()
        margin = float(scores[best] - scores[second]) if best != second else float(scores[best])
        return _Decision(self.labels[best], float(p[best]), margin, "embedding", named)

    def _confident(self, d: _Decision) -> bool:
        return d.method == "rule" or (d.margin >= self.split_margin and d.scores[d.label] >= self.split_score)

    def classify(self, text: str) -> tuple[str, float, float]:
        """(label, confidence, margin) for `text` as one intent."""
        d = self.decide_many([text])[0]
        return d.label, d.confidence, d.margin

    def decide_many(self, texts: Sequence[str]) -> list[_Decision]:
        prepared = [self.prepare(t) for t in texts]
        scores = self.label_scores(self.embedder.embed(prepared))
        return [self._decide(p, s) for p, s in zip(prepared, scores, strict=True)]

    def route(self, text: str, *, split: bool = True) -> Route:
        """Route `text`; with `split`, try every two-way cut and keep the most confident one whose halves go to
        different agents."""
        t0 = time.perf_counter()
        # a pasted IAM policy is one request with its story around it: never cut ("our lambda can fetch the secret
        # but …" is not an RBAC question of its own)
        cuts = split_points(" ".join(text.split()), self.starters) if split and not _POLICY.search(text) else []
        if not cuts and self.use_rules:
            rule = rule_route(self.prepare(text))
            if rule is not None:  # decided without embedding anything
                return Route([rule], 1.0, 1.0, "rule", [(text, rule)], {}, (time.perf_counter() - t0) * 1000)
        texts = [text] + [p for cut in cuts for p in cut]
        ds = self.decide_many(texts)
        whole = ds[0]
        best_cut, best_key = None, None
        for i, (left, right) in enumerate(cuts):
            dl, dr = ds[1 + 2 * i], ds[2 + 2 * i]
            if dl.label == dr.label or not (self._confident(dl) and self._confident(dr)):
                continue
            key = min(dl.margin, dr.margin)
            if best_key is None or key > best_key:
                best_cut, best_key = ((left, dl), (right, dr)), key
        if best_cut is not None:
            (lt, dl), (rt, dr) = best_cut
            method: Method = "rule" if dl.method == dr.method == "rule" else "embedding"
            return Route([dl.label, dr.label], min(dl.confidence, dr.confidence), min(dl.margin, dr.margin), method,
                         [(lt, dl.label), (rt, dr.label)], whole.scores, (time.perf_counter() - t0) * 1000)
        return Route([whole.label], whole.confidence, whole.margin, whole.method, [(text, whole.label)],
                     whole.scores, (time.perf_counter() - t0) * 1000)


# -- the LLM tie-breaker's request ------------------------------------------------------------------------------

LABEL_DESCRIPTIONS: dict[str, str] = {
    "logs": "diagnose a failing workload: why a pod or deployment crashes, restarts, fails or is pending; its "
            "errors, events and logs",
    "metrics": "numbers: CPU and memory usage, top consumers, saturation, trends over time, PromQL",
    "rbac": "Kubernetes permissions: can a user, group or service account do something, who can, why, "
            "least-privilege Roles, over-broad grants",
    "scaling": "replica counts: scale, HPA autoscaling, rollout status, undo or restart, whether N replicas fit",
    "iam": "AWS IAM: policies, S3 buckets, AWS roles and users; check, repair, explain or compare a policy",
    "resources": "read, create, change or delete Kubernetes objects: pods, deployments, services, configmaps, "
                 "images, limits, probes, labels; what changed; fix an object",
    "serving": "LLM model servers on the cluster: vLLM, llama.cpp, LoRA adapters, KV cache, model replicas",
    "toolsmith": "an ad-hoc query over many objects with filters no fixed tool covers (age, absence, joins, "
                 "counts), e.g. configmaps no pod references",
}


def llm_route_request(text: str, candidates: Sequence[str]) -> tuple[list[dict[str, str]], dict]:
    """The chat messages and JSON schema for an LLM router choosing among `candidates` (for the gateway)."""
    lines = "\n".join(f"- {c}: {LABEL_DESCRIPTIONS[c]}" for c in candidates)
    messages = [
        {"role": "system", "content": "You route requests to the one agent that should handle them."},
        {"role": "user", "content": f"Agents:\n{lines}\n\nRequest: {text}\n\nWhich agent should handle the "
                                    'request? Answer as JSON: {"agent": NAME}.'},
    ]
    schema = {"type": "object", "properties": {"agent": {"type": "string", "enum": list(candidates)}},
              "required": ["agent"], "additionalProperties": False}
    return messages, schema


# -- the router the supervisor uses -----------------------------------------------------------------------------

class Router:
    """Embedding router first; an LLM decides among the top candidates when the margin is low.

    llm_route(text, candidates) -> label | None: the gateway's JSON-schema-constrained router (wired by the
        supervisor); `candidates` are the embedding router's best labels, best first. An answer outside the
        candidates, None, or an exception keeps the embedding decision.
    min_margin: below this margin (cosine units) a single-intent embedding decision goes to `llm_route`.
    candidates: how many of the best labels the LLM may choose among.

    Measured on the one-intent queries of evals/sets/routing.yaml: 20 of 229 have a margin below 0.02; the
    embedding router is right on 16 of them and has the right label in its top two on 19 (hence two candidates).
    Choosing between those two (`llm_route_request`, grammar-constrained), the bundled SmolLM2-135M was right on
    15 (4.2 s a call on 2 CPU cores) and Gemma 3 270M on 16 (0.8 s): no gain. Wire `llm_route` to a model that
    does better (a cloud tier), or leave it out.
    """

    def __init__(self, embedding_router: EmbeddingRouter | None = None, llm_route: LLMRoute | None = None,
                 min_margin: float = 0.02, candidates: int = 2) -> None:
        self.embedding = embedding_router or EmbeddingRouter()
        self.llm_route = llm_route
        self.min_margin = min_margin
        self.candidates = candidates

    def _probability(self, scores: Mapping[str, float], label: str) -> float:
        s = np.array(list(scores.values()), dtype=np.float64)
        p = np.exp((s - s.max()) / self.embedding.temperature)
        return float(p[list(scores).index(label)] / p.sum())

    def route(self, text: str) -> Route:
        """Route `text` (see `EmbeddingRouter.route`); a low-margin single-intent decision goes to `llm_route`."""
        t0 = time.perf_counter()
        r = self.embedding.route(text)
        if (self.llm_route is not None and r.method == "embedding" and len(r.agents) == 1
                and r.margin < self.min_margin):
            cands = list(r.scores)[: self.candidates]
            try:
                choice = self.llm_route(text, cands)
            except Exception:  # noqa: BLE001 - a failing tie-breaker must not fail the request
                choice = None
            if choice in cands:
                r = Route([choice], self._probability(r.scores, choice), r.margin, "llm", [(text, choice)], r.scores)
        r.ms = (time.perf_counter() - t0) * 1000
        return r
