"""The simple objects a request creates on the way to its goal, and the rest of the request with them in place.

Why: people set things up in one breath — "create a namespace 'reporting', a service account 'reporter' in it, and
let that service account list pods in shop", "make a configmap api-settings in web with TIMEOUT=30 and have the api
deployment load it as env vars", "create a service account auditor in shop and let it get and list pods there".
Every agent reads one object and one thing to do with it, so such a request was refused as a whole (or, worse,
half of it done). The objects such requests create on the way are few and plain — namespaces, service accounts,
ConfigMaps with literal data — and need no judgement: their clause says the kind, the name, where, and the data.

`split` reads those clauses (a creating verb and a list of such objects) and returns them with the rest of the
request, written so that the rest can be read by the agents on its own: the clauses are cut out, and the words that
refer back to a created object ("it", "that service account", its bare name) are replaced by a name that cannot be
misread (`system:serviceaccount:reporting:reporter`, `configmap api-settings`, `namespace reporting`). `Planned`
shows the created objects to the agent that reads the rest, as if they existed, so its plan can use them; nothing
exists until the person approves the whole plan. The supervisor takes the result only when the rest is understood in
full (or there is no rest), so nothing is proposed on a partial reading.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from agents.fastpaths._words import NAME, expect, mutation, plain_quotes
from tools.k8s.client import KubeError

# The kinds a setup clause creates, by the words people use for them.
KINDS: dict[str, str] = {"namespace": "Namespace", "ns": "Namespace", "service account": "ServiceAccount",
                         "serviceaccount": "ServiceAccount", "sa": "ServiceAccount", "config map": "ConfigMap",
                         "configmap": "ConfigMap"}
_KIND = r"(?P<kind>namespace|ns|service\s*account|serviceaccount|sa|config\s*map|configmap)"
_Q = r"['\"]?"
_ART = r"(?:(?:a|an|one|the)\s+)?(?:(?:new|fresh|separate|dedicated)\s+)?"
_PAIR = r"[A-Za-z_][\w.-]*\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s,;'\"]+)"
_DATA = rf"(?:\s+(?:with|holding|containing|that\s+(?:has|holds|contains))\s+(?:the\s+)?(?:(?:keys?|data|values?|" \
        rf"entries|settings)\s+)?(?P<data>{_PAIR}(?:\s*(?:,\s*and|,|and)\s*{_PAIR})*))?"
_WHERE = rf"(?:\s+(?:in|inside|within|into)\s+(?:(?P<here>it|there|that\s+namespace|the\s+new\s+(?:namespace|ns)|" \
         rf"the\s+same\s+(?:namespace|ns))|(?:the\s+)?(?:(?:namespace|ns)\s+)?{_Q}(?P<ns>{NAME}){_Q}" \
         rf"(?:\s+(?:namespace|ns))?)(?![\w-])|\s+to\s+(?:the\s+)?(?:(?:namespace|ns)\s+)?{_Q}(?P<to>%s){_Q}" \
         rf"(?:\s+(?:namespace|ns))?(?![\w-]))?"
# "a service account 'reporter' in it", "a namespace called reporting", "a new 'reporting' namespace"; "to X" is a
# place only when X is a namespace ("add a configmap x to web" may mean the web deployment)
_ITEM = rf"{_ART}(?:{_KIND}\s+(?:(?:named|called)\s+)?{_Q}(?P<name>{NAME}){_Q}|" \
        rf"{_Q}(?P<name2>{NAME}){_Q}\s+(?P<kind2>namespace|service\s*account|serviceaccount|config\s*map|" \
        rf"configmap))(?![\w-]){_WHERE}{_DATA}"


def _item_pattern(namespaces: list[str]) -> re.Pattern[str]:
    names = "|".join(re.escape(n) for n in sorted(namespaces, key=len, reverse=True)) or "(?!)"
    return re.compile(_ITEM % names)
_VERB = re.compile(r"\b(?:create|make|add|provision|set\s+up|setup|spin\s+up)\s+(?:(?:me|us)\s+)?|"
                   r"\b(?:i|we)\s+(?:need|want|would\s+like|'d\s+like)\s+(?=(?:a|an)\s)|^\s*(?=(?:a\s+)?new\s)")
# "a service account deployer that can patch deployments": what it may do is a grant to it
_CAN = re.compile(r"\s*,?\s*(?:that|which|who)\s+(?:can|could|may|should\s+be\s+able\s+to|is\s+(?:allowed|able)\s+to|"
                  r"will\s+be\s+able\s+to|needs?\s+to\s+be\s+able\s+to|has\s+(?:the\s+)?(?:rights?|permissions?)\s+to)"
                  r"\s+")
_LINK = re.compile(r"(?:\s+please)?\s*(?:,\s*(?:and\s+|plus\s+)?(?:also\s+)?(?:with\s+)?|\s+(?:and|plus)\s+(?:also\s+)?"
                   r"(?:then\s+)?|\s+with\s+)")
# Words after a kind word that are no name ("a namespace for the tests", "the same namespace")
_NOT_NAMES = frozenset("""for with to that which where who in into and or of on so same other another my our your its
    their this it per each every any all some please there here too also as by from""".split())
# What is left where a clause was cut: joins and punctuation that joined it to the rest.
_DANGLING = re.compile(r"^[\s,;:.\-–—]*(?:(?:and|then|also|after\s+that|afterwards)\b[\s,;:.\-–—]*)*")
# Words that refer back to a created object, by kind; "it"/"them" is the last created object that is not a namespace
# ("in it"/"there" is the namespace).
_BACK = {"ServiceAccount": r"(?:that|the|this|said|this\s+new|the\s+new|that\s+new)\s+(?:service\s*account|"
                           r"serviceaccount|sa)\b",
         "ConfigMap": r"(?:that|the|this|said|the\s+new|this\s+new)\s+(?:config\s*map|configmap)\b",
         "Namespace": r"(?:that|the|this|said|the\s+new|this\s+new)\s+(?:namespace|ns)\b"}


@dataclass
class Item:
    """One object a setup clause creates."""

    kind: str
    name: str
    namespace: str = ""  # "" for a Namespace
    data: dict[str, str] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        meta: dict[str, Any] = {"name": self.name, **({"namespace": self.namespace} if self.namespace else {})}
        out: dict[str, Any] = {"apiVersion": "v1", "kind": self.kind, "metadata": meta}
        if self.kind == "ConfigMap":
            out["data"] = dict(self.data)
        return out

    def ref(self) -> str:
        """How the rest of the request names this object, unmistakably."""
        if self.kind == "ServiceAccount":
            return f"system:serviceaccount:{self.namespace}:{self.name}"
        return f"{'configmap' if self.kind == 'ConfigMap' else 'namespace'} {self.name}"


@dataclass
class Split:
    items: list[Item]
    rest: str  # "" when the request only creates


def _value(v: str) -> str:
    return v[1:-1] if len(v) >= 2 and v[0] == v[-1] and v[0] in "'\"" else v


def _items_at(low: str, orig: str, start: int, item: re.Pattern[str]) -> tuple[list[tuple[re.Match[str], str]],
                                                                              int]:
    """The items listed from `start` on ("a namespace x, a service account y in it and a configmap z"), with the
    original-case text of each (ConfigMap keys keep their case), and where the list ends."""
    found: list[tuple[re.Match[str], str]] = []
    pos = start
    while True:
        m = item.match(low, pos)
        if not m or not (m.group("name") or m.group("name2")) or (m.group("name") or m.group("name2")) in _NOT_NAMES:
            break
        found.append((m, orig[m.start():m.end()]))
        pos = m.end()
        link = _LINK.match(low, pos)
        after = item.match(low, link.end()) if link else None
        if after is None or not (after.group("name") or after.group("name2")) or \
                (after.group("name") or after.group("name2")) in _NOT_NAMES:
            break
        pos = link.end()
    return found, pos


def split(text: str, namespaces: list[str], default_ns: str | None) -> Split | None:
    """The setup clauses of `text` and the rest, or None when there are none or where an object would go is not
    clear. `namespaces` are the cluster's; an object's namespace is the one its clause says, the namespace created
    just before for "in it", else the one namespace the request names anywhere, else `default_ns` (as kubectl
    uses the context's)."""
    orig = " ".join(plain_quotes(text).split())
    low = orig.lower()
    items: list[Item] = []
    cuts: list[tuple[int, int, str]] = []  # (start, end, what stands there instead)
    item = _item_pattern(namespaces)
    for v in _VERB.finditer(low):
        if cuts and v.start() < cuts[-1][1]:
            continue
        found, end = _items_at(low, orig, v.end(), item)
        if not found:
            continue
        for m, raw in found:
            kind = KINDS[re.sub(r"\s+", " ", m.group("kind") or m.group("kind2"))]
            data = {}
            if m.group("data"):
                if kind != "ConfigMap":
                    return None  # "a service account with x=y": not a setup this module understands
                pairs = re.findall(r"([A-Za-z_][\w.-]*)\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s,;'\"]+)", raw[m.start("data")
                                                                                                     - m.start():])
                data = {k: _value(val) for k, val in pairs}
            items.append(Item(kind, m.group("name") or m.group("name2"), m.group("ns") or m.group("to") or
                              ("@here" if m.group("here") else ""), data))
        can = _CAN.match(low, end)
        if can and items[-1].kind == "ServiceAccount":
            cuts.append((v.start(), can.end(), "let it "))
        else:
            cuts.append((v.start(), end, ""))
    if not items:
        return None
    from agents.coreference import said_namespaces

    said = said_namespaces(low, namespaces + [i.name for i in items if i.kind == "Namespace"])
    made_ns = [i.name for i in items if i.kind == "Namespace"]
    for it in items:
        if it.kind == "Namespace":
            if it.namespace:
                return None  # "a namespace x in y" is no namespace
            continue
        if it.namespace == "@here":
            if len(made_ns) != 1:
                return None
            it.namespace = made_ns[0]
        elif not it.namespace:
            here = said if len(said) == 1 else [default_ns] if not said and default_ns else []
            if len(here) != 1:
                return None  # two namespaces said and this object's is not: not clear where it goes
            it.namespace = here[0]
    if len({(i.kind, i.namespace, i.name) for i in items}) != len(items):
        return None
    rest = _rest(orig, cuts, items, namespaces + [i.name for i in items if i.kind == "Namespace"])
    return Split(items, rest)


def _rest(orig: str, cuts: list[tuple[int, int, str]], items: list[Item], namespaces: list[str]) -> str:
    """The request without its setup clauses, with references to the created objects written out."""
    from agents.coreference import said_namespaces

    out, pos = [], 0
    for a, b, instead in cuts:
        out.append(orig[pos:a])
        pos = b
        if not instead:
            tail = _DANGLING.match(orig[pos:])
            pos += tail.end() if tail else 0
        out.append(f" {instead}")
    out.append(orig[pos:])
    rest = " ".join("".join(out).split())
    rest = re.sub(r"^(?:please|pls|kindly|could\s+you|can\s+you|would\s+you)?[\s,;:.\-–—]*(?:and|then|also)\b\s*",
                  lambda m: m.group(0).split()[0] + " " if m.group(0).split()[0] in ("please", "pls", "kindly")
                  else "", rest, flags=re.I)
    for it in items:
        rest = re.sub(_BACK[it.kind], it.ref(), rest, flags=re.I)
        if it.kind == "ServiceAccount":  # its bare name: a user of that name is another subject
            rest = re.sub(rf"(?<![\w:/-]){re.escape(it.name)}(?![\w-])", it.ref(), rest)
    objects = [i for i in items if i.kind != "Namespace"]
    made_ns = [i for i in items if i.kind == "Namespace"]
    if made_ns:
        rest = re.sub(r"\b(in|into|inside)\s+(?:it|there)\b", rf"\1 namespace {made_ns[-1].name}", rest, flags=re.I)
    last = objects[-1] if objects else (made_ns[-1] if made_ns else None)
    if last is not None:
        rest = re.sub(r"\bits\s+(keys|data|values|entries|contents|settings|variables)\b", rf"the \1 of {last.ref()}",
                      rest, flags=re.I)
        rest = re.sub(r"(?<![\w'])(?:it|them)(?![\w'])", last.ref(), rest, flags=re.I)
    homes = {i.namespace for i in objects} or {i.name for i in made_ns}
    if len(homes) == 1 and rest:  # the clause said where ("… in batch"); the rest, cut from it, means the same place
        home = homes.pop()
        rest = re.sub(r"\b(?:in\s+)?there\b", f"in {home}", rest, flags=re.I)
        if not said_namespaces(rest, namespaces):  # at the end of the first clause, the one that acts
            end = re.search(r"[,.;!?](?=\s|$)|\s+(?:and|but|then)\s|$", rest)
            rest = f"{rest[:end.start()].rstrip()} in {home}{rest[end.start():]}"
    return rest if re.search(r"[a-z0-9]", rest.lower()) else ""


def plan(items: list[Item], existing: Any) -> tuple[list[Any], list[str], list[Item]]:
    """The create Mutations of `items` in order (namespaces first), the lines that say which already exist, and the
    items that exist already (not created again; the rest of the request may still use them)."""
    order = sorted(items, key=lambda i: i.kind != "Namespace")
    muts, said, there = [], [], []
    for it in order:
        try:
            live = existing.get(it.kind, it.namespace or None, it.name)
        except KubeError as e:
            if e.status != 404:
                raise
            live = None
        where = f"{it.namespace}/" if it.namespace else ""
        if live is not None:
            if it.data and (live.get("data") or {}) != it.data:
                said.append(f"{it.kind} {where}{it.name} exists already with other data; I did not change it.")
                raise KubeError(409, "AlreadyExists", f"{it.kind} {where}{it.name} exists already with other data")
            said.append(f"{it.kind} {where}{it.name} exists already.")
            there.append(it)
            continue
        goal = [expect(it.kind, it.namespace or None, it.name, "metadata.name", it.name)]
        goal += [expect(it.kind, it.namespace, it.name, f"data.{k}", v) for k, v in it.data.items()]
        what = f"create {it.kind} {where}{it.name}" + (f" with {', '.join(f'{k}={v}' for k, v in it.data.items())}"
                                                        if it.data else "")
        muts.append(mutation("create", it.kind, it.namespace, it.name, goal, what, body=it.body()))
    return muts, said, there


class Planned:
    """A Kubernetes connection that also shows objects a plan will create (read-only: gets and lists), so the agent
    reading the rest of a request can use them. Everything else goes to the real connection."""

    def __init__(self, kube: Any, items: list[Item]) -> None:
        self._kube = kube
        self._items = items

    def __getattr__(self, name: str) -> Any:
        return getattr(self._kube, name)

    def _mine(self, kind: str, namespace: str | None) -> list[dict[str, Any]]:
        return [i.body() for i in self._items if i.kind == kind and (namespace is None or i.namespace == namespace
                                                                    or i.kind == "Namespace")]

    def get(self, kind: str, namespace: str | None, name: str) -> dict[str, Any]:
        for o in self._mine(kind, namespace):
            if o["metadata"]["name"] == name:
                return o
        return self._kube.get(kind, namespace, name)

    def list(self, kind: str, namespace: str | None = None, label_selector: str | None = None,
             field_selector: str | None = None) -> list[dict[str, Any]]:
        try:
            live = self._kube.list(kind, namespace, label_selector, field_selector)
        except KubeError as e:
            if e.status != 404 or not any(i.kind == "Namespace" and i.name == namespace for i in self._items):
                raise
            live = []  # a namespace the plan creates has nothing in it yet
        if label_selector or field_selector:
            return live
        names = {(o["metadata"].get("namespace"), o["metadata"]["name"]) for o in live}
        return live + [o for o in self._mine(kind, namespace)
                       if (o["metadata"].get("namespace"), o["metadata"]["name"]) not in names]
