"""How much of a request a fast path understood, and the abstention when it did not understand all of it.

Why: a deterministic fast path is exact on what it parsed and blind to the rest. "Let web autoscale between 3
and 10 pods above 70% CPU" parsed as "scale web to 10" is a wrong action reported as done. So every fast path
states what it understood (intent and slots) and this module accounts for every word of the request: a word is
*used* when it is filler (politeness, articles, pronouns), belongs to the intent's own vocabulary, or is part of a
slot value the fast path filled (an object name, a namespace, a number, an image). Any other content word is
*unused*, and a request with an unused word is not understood: the agent hands it to the tool-calling loop or,
with no model able to run one, abstains and says what it did not understand. Nothing changes on an abstention.

The vocabularies are tables, kept per intent by the fast paths themselves (`FastPath.vocabulary`), so that a word
that changes the meaning of a request ("autoscale", "between", "limit", "bound", "except") can only be consumed by
the intent that acts on it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from agents.residue import ALL, EFFECTS, context_words
from agents.state import AgentResult

# Words that never change what a request asks. Deliberately small: every word here is one no fast path may need
# to understand. Negations ("not", "don't", "without", "except", "only") and quantifiers ("all", "every", "each")
# are NOT filler: they change which objects or values are meant. The last row is the "n" of "-n shop" and the
# politeness around a request ("thanks a lot", "much appreciated", "thanks in advance").
FILLER = frozenset("""
a an the this that these those it its it's them they their there here
i i'm i've i'd me my mine we we're our us you your yours you're
please pls plz kindly thanks thank thx ty cheers hi hey hello hiya ok okay so well just also too now then
can could would will shall should may might must do does did done doing be is are was were been being am
have has had having get gets got go going gonna wanna want wants wanted need needs needed like love help
quick quickly real really actually basically maybe perhaps probably think guess believe suppose hope wonder
of in on at to for from with by into onto about as and or but if when while
some any what what's which who whom whose how why where
namespace namespaces ns cluster k8s kubernetes kube kubectl
named called name
yes yeah yep sure right yes/no y/n u ur he she him her his hers
is there any thing something stuff bit little
be able let let's lets make sure
n lot much advance appreciated appreciate greatly asap folks guys ton bunch million
""".split())

# What a read answers with: "give me a quick overview / a list / the numbers".
ANSWER_NOUNS = frozenset("""overview summary rundown breakdown list report status count number numbers idea picture
    update snapshot table view health diagnosis answer sense""".split())
# Conditions: filler in a question ("check if bob can …"), never beside a change ("restart web if it crashes").
CONDITIONS = frozenset({"if", "unless"})
# A question word that opens a clause asks for an answer; beside a change it means the change was not asked.
QUESTIONS = frozenset({"how", "what", "which", "why", "where", "when", "who"})
# The answers that explain a cause: "why" is theirs; every other answer gives facts, not reasons.
EXPLAINS = frozenset({"diagnose", "diagnose-only", "can-i", "who-can", "over-broad", "policy"})

_TOKEN = re.compile(r"[a-z0-9_][a-z0-9_._:/@%=+-]*[a-z0-9_%]|[a-z0-9]")


_CONTRACTIONS = (("whats ", "what is "), ("hows ", "how is "), ("wheres ", "where is "), ("can't", "can not"),
                 ("cannot", "can not"), ("won't", "will not"), ("shan't", "shall not"),
                 ("n't", " not"), ("'s ", " "), ("'re ", " are "), ("'ll ", " will "), ("'ve ", " have "),
                 ("'d ", " would "), ("'m ", " am "))
# A number with its unit or sign ("70%", "5gi", "300m", "2x"): the number is the slot value, the unit is the word's.
_NUMBER_UNIT = re.compile(r"^(\d+(?:\.\d+)?)(%|x|m|mi|gi|ki|ti|g|k|mb|gb|kb|cores?|cpus?|s|h|d|min|mins|replicas?|am|pm)$")


def tokens(text: str) -> list[str]:
    """The words of a request, lower-cased; quotes and punctuation dropped, names like `web-1`, `nginx:1.27`,
    `app=web`, `70%` kept whole; contractions spelled out ("can't" → "can not"), so a negation is always a word."""
    low = text.lower().replace("’", "'").replace("‘", "'") + " "
    for short, long in _CONTRACTIONS:
        low = low.replace(short, long)
    return _TOKEN.findall(low)


def _close(word: str, vocab: frozenset[str]) -> bool:
    """A typo of a vocabulary word: one insertion, deletion, substitution or transposition, words of 5+ letters."""
    if len(word) < 5:
        return False
    for v in vocab:
        if abs(len(v) - len(word)) <= 1 and len(v) >= 5 and damerau1(word, v):
            return True
    return False


def _known_word(word: str) -> bool:
    """A word the residue tables know as itself (an order or answer verb): never a typo of another word ("restart"
    is not a misspelt "restarts")."""
    from agents.residue import READ_VERBS, VERB_CLASSES

    return word in VERB_CLASSES or word in READ_VERBS


def damerau1(a: str, b: str) -> bool:
    """`a` and `b` differ by at most one insertion, deletion, substitution or transposition of neighbours: the one
    typo the accounting forgives (fast paths resolving names use the same measure)."""
    if a == b:
        return True
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]
    if len(a) > len(b):
        a, b = b, a
    return any(b[:i] + b[i + 1:] == a for i in range(len(b)))


_damerau1 = damerau1  # the old private name, for modules not yet moved to the public one


def _slot_words(slots: Mapping[str, Any]) -> set[str]:
    """Every word that appears in a filled slot value (names, namespaces, numbers, images, label selectors)."""
    out: set[str] = set()

    def walk(v: Any) -> None:
        if v is None or isinstance(v, bool):
            return
        if isinstance(v, Mapping):
            for k, x in v.items():
                walk(k)
                walk(x)
                if isinstance(x, (str, int, float)) and not isinstance(x, bool):
                    out.update({f"{k}={x}".lower(), f"{k}:{x}".lower()})  # "team=analytics" as written
        elif isinstance(v, (list, tuple, set, frozenset)):
            for x in v:
                walk(x)
        else:
            s = str(v).lower()
            out.add(s)
            out.update(tokens(s))
            out.update(re.split(r"[/=:,]", s))

    walk(slots)
    return out


@dataclass
class Understanding:
    """What a fast path took a request to mean, and which of its words it could not account for."""

    agent: str
    intent: str
    slots: dict[str, Any] = field(default_factory=dict)
    used: list[str] = field(default_factory=list)
    unused: list[str] = field(default_factory=list)
    context: list[str] = field(default_factory=list)  # words read as context, not as something to act on
    loose: list[str] = field(default_factory=list)  # context words in a clause that asks (residue.loose)

    @property
    def confident(self) -> bool:
        """Every content word was accounted for: the fast path may act."""
        return not self.unused

    def summary(self) -> str:
        filled = ", ".join(f"{k}={v}" for k, v in self.slots.items() if v not in (None, "", [], {}))
        return f"{self.intent}" + (f" ({filled})" if filled else "")


def _phrases(vocab: Iterable[str]) -> list[list[str]]:
    """Vocabulary entries of several words ("can not pull", "rolling restart"): consumed only together, in order."""
    return sorted((tokens(v) for v in vocab if len(tokens(v)) > 1), key=len, reverse=True)


def understand(text: str, agent: str, intent: str, slots: Mapping[str, Any], vocabulary: Iterable[str],
               known: frozenset[str] = frozenset()) -> Understanding:
    """Account for every word of `text` given the intent's vocabulary and the slots the fast path filled.

    A vocabulary entry of several words is a phrase: its words count only where they appear together ("no
    endpoints" consumes that "no", not every "no"). A number with a unit ("70%", "5Gi") counts when the number is
    a slot value. The words left are read by `agents.residue`: those that could change the plan (names — `known`
    holds the cluster's object and namespace names —, numbers, Kubernetes words, verbs, scope, conditions, times)
    stay not understood, unless a clause the plan satisfies holds them ("don't touch anything else"); the rest is
    context ("traffic is low this week")."""
    vocabulary = list(vocabulary)
    vocab = frozenset(w.lower() for w in vocabulary if len(tokens(w)) <= 1)
    slot_words = _slot_words(slots)
    names = frozenset(x for x in slot_words if not any(ch.isdigit() for ch in x))
    words = tokens(text)
    in_phrase = [False] * len(words)
    for ph in _phrases(vocabulary):
        n = len(ph)
        for i in range(len(words) - n + 1):
            if all(w == p or w == p + "s" or w == p + "es" for w, p in zip(words[i:i + n], ph, strict=True)):
                for j in range(i, i + n):
                    in_phrase[j] = True
    if not EFFECTS.get(intent, ALL) or intent in EXPLAINS:  # "give me a quick overview": an answer, in a read's words
        for i in range(len(words) - 1):
            if words[i] in ("give", "send", "get") and words[i + 1] in ("me", "us") and any(
                    w in ANSWER_NOUNS for w in words[i + 2:i + 6]):
                in_phrase[i] = in_phrase[i + 1] = True
    used, unused = [], []
    for i, w in enumerate(words):
        num = _NUMBER_UNIT.match(w)
        if in_phrase[i] or w in FILLER or w in vocab or w in slot_words or (_close(w, vocab) and not _known_word(w)):
            used.append(w)
        elif (w.rstrip("s") in vocab or (w + "s") in vocab) and not _known_word(w):  # plural / singular
            used.append(w)
        elif num and num.group(1) in slot_words:
            used.append(w)
        elif not any(ch.isdigit() for ch in w) and _close(w, names):  # "chekout" for the checkout it resolved to
            used.append(w)
        else:
            unused.append(w)
    touched = frozenset(slot_words)
    if EFFECTS.get(intent, ALL) <= {"create"} and isinstance(slots.get("name"), str):
        touched = frozenset(tokens(slots["name"])) | {slots["name"].lower()}  # a create touches only what it makes
    unused, context = context_words(text, dict.fromkeys(unused), intent, slots, touched, known)
    if not EFFECTS.get(intent, ALL) and intent not in EXPLAINS:  # "why is it so heavy": a cause, not a number
        unused += [w for i, w in enumerate(words) if w == "why" and not in_phrase[i] and w not in vocab
                   and w not in unused]
    if EFFECTS.get(intent, ALL):  # "restart web if it crashes", "how many restarts does web have": not a change
        unused += [w for i, w in enumerate(words) if (w in CONDITIONS or w in QUESTIONS and (i == 0 or words[i - 1]
                   in ("and", "but"))) and not in_phrase[i] and w not in vocab and w not in unused]
    if not EFFECTS.get(intent, ALL):  # a read: an order said in the request is not answered by it
        unused += [w for w in _orders(text) if w not in unused]
    asked = _YES_NO.match(text.lower())
    if EFFECTS.get(intent, ALL) and intent not in EXPLAINS and intent != "repair" and asked and \
            (asked.group(1) or asked.group(2)) not in unused:  # a diagnosis answers questions ("is anything wrong …")
        unused.append(asked.group(1) or asked.group(2))  # "did you restart web?", "should we scale it?": a question, not the change
    from agents.residue import loose

    return Understanding(agent, intent, dict(slots), used, unused, context, loose(text, context))


_NOUN_AFTER = frozenset("count counts number numbers history rate rates loop loops reason reasons time times".split())
_POLITE = frozenset("please pls kindly can could would will you u just also then and so now ok okay".split())


def _orders(text: str) -> list[str]:
    """The order verbs that open a clause of the request ("please give its container a 256Mi memory limit", "can you
    restart it"): an answer that only reads has not done what they ask. "give me / show us …" asks for an answer."""
    from agents.residue import K8S_NOUNS, _stem_in, clauses, verb_class

    out = []
    for words in clauses(text):
        rest = [w for w in words if w not in _POLITE] or [""]
        first, after = rest[0], (rest[1] if len(rest) > 1 else "")
        if verb_class(first) not in (None, "generic") and after not in ("me", "us", "sure", "certain") and \
                after not in _NOUN_AFTER and not _stem_in(after, K8S_NOUNS):  # "restart counts", "rollout status"
            out.append(first)
    return out


# A yes/no question about doing something ("did you restart web?", "do I need to scale checkout?", "should we roll it
# back?"); "can/could/would/will you …" is a polite order and is not one of these.
# "does checkout have an autoscaler?" asks; "do restart web" and "have web load the configmap" order: after "do" and
# "have" only a person or a pronoun makes a question.
_YES_NO = re.compile(r"^\s*(?:(?:hey|hi|so|ok|and|but|um|hmm)[\s,!.]+)*(?:(did|does|should|shall|must|was|were|has|had|is|"
                     r"are)\s+[a-z0-9'-]+|(do|have)\s+(?:you|i|we|someone|somebody|anyone|anybody|they|he|she|it|this|that)"
                     r")\b")


def abstain(agent: str, understood: Understanding | None, ask: str, why: str = "") -> AgentResult:
    """The reply when a request was not fully understood and no model can take it further: say what was
    understood, what was not, and a concrete question; change nothing."""
    said = understood.summary() if understood else ""
    missing = list(understood.unused) if understood else []
    parts = ["I did not act:"]
    if why:
        parts.append(why.rstrip(".") + ".")
    if said:
        parts.append(f"I understood {said}")
        parts[-1] += f", but not {', '.join(repr(w) for w in missing)}." if missing else "."
    elif missing:
        parts.append(f"I did not understand {', '.join(repr(w) for w in missing)}.")
    parts.append(ask)
    return AgentResult(agent, " ".join(parts), data={"abstain": {
        "understood": [said] if said else [], "not_understood": missing, "ask": ask}})
