"""What the fast paths share: reading names, namespaces and quantities from a request, resolving them against the
cluster, and writing Mutations with their goals.

Why one module: every fast path must resolve "web" or "chekout" to exactly one live object the same way (two
candidates: not understood), read "500m CPU limit" the same way, and state its goal in the same assertion form the
supervisor checks after the apply (`{kind, namespace, name, path, op, value}` or `{can: {...}, value}`).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from typing import Any

from agents.coverage import FILLER, tokens
from agents.coverage import damerau1 as _edit1  # one typo, as the coverage accounting counts it
from agents.resource_text import KIND_WORDS
from tools.k8s.client import KubeError, Mutation
from tools.k8s.objects import fmt_cpu, fmt_mem, parse_quantity, pod_spec

# Words every fast path consumes that the coverage filler lacks. The "n" of "-n shop" and the politeness around a
# request ("thanks a lot", "much appreciated", "thanks in advance") are agents.coverage.FILLER now.
COMMON = frozenset("team again".split())
NAME = r"[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?"
_QUOTES = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "`": "'"})


def norm(text: str) -> str:
    """The request lower-cased with typographic quotes and backticks made plain."""
    return text.translate(_QUOTES).lower()


def plain_quotes(text: str) -> str:
    """The request with typographic quotes and backticks made plain, case kept (values are read as written)."""
    return text.translate(_QUOTES)


def value_of(v: str) -> str:
    """A value as written after `=` or `to`: its quotes taken off, a sentence's closing mark dropped."""
    v = v.strip()
    return v[1:-1] if len(v) >= 2 and v[0] == v[-1] and v[0] in "'\"" else v.rstrip(".?!")


def retold(ctx: Any, text: str) -> Any:
    """The same request context reading `text` instead (a reader's view of the words: told counts blanked, "the
    batch namespace" said as "batch", …); the cluster, entities and memo stay the request's."""
    import copy

    out = copy.copy(ctx)
    out.text = text
    return out


def words(ctx: Any) -> list[str]:
    """The request's words as the coverage accounting sees them."""
    return tokens(ctx.text)


def close(word: str, target: str) -> bool:
    """`word` is `target` or a one-letter typo of it (words of 5+ letters), as the coverage accounting allows."""
    if word == target:
        return True
    if len(word) < 5 or len(target) < 5 or abs(len(word) - len(target)) > 1:
        return False
    return _edit1(word, target)


def has(ctx: Any, *targets: str) -> bool:
    """The request says one of `targets` (a word, or a phrase of several), allowing one-letter typos in words."""
    ws = words(ctx)
    for t in targets:
        parts = t.split()
        if len(parts) == 1:
            if any(close(w, t) for w in ws):
                return True
        elif re.search(rf"\b{re.escape(t)}\b", norm(ctx.text)):
            return True
    return False


# ---- names ------------------------------------------------------------------------------------------------------
def quoted(text: str) -> list[str]:
    """Names the person put in quotes: 'web', "ci-bot"."""
    return re.findall(r"['\"](" + NAME + r")['\"]", norm(text))


def kinds_said(ctx: Any, kinds: Iterable[str]) -> list[str]:
    """Which of `kinds` the request names by a kind word ("deployment", "sts", "statefulset"…)."""
    low = norm(ctx.text)
    ws = words(ctx)
    out = []
    for kind in kinds:
        for word, k in KIND_WORDS.items():
            if k != kind or word in ("app", "workload", "workloads", "container", "containers", "ns", "cm"):
                continue
            hit = re.search(rf"\b{re.escape(word)}\b", low) if " " in word else any(close(w, word) for w in ws)
            if hit:
                out.append(kind)
                break
    return out


def listed(ctx: Any, kind: str, ns: str | None) -> list[dict[str, Any]]:
    """Objects of `kind` the principal can list ([] when it cannot)."""
    try:
        return ctx.kube.list(kind, ns)
    except KubeError:
        return []


def resolve(ctx: Any, kinds: Iterable[str], ns: str | None, skip: Iterable[str] = ()) -> list[tuple[str, dict, str]]:
    """The live objects of `kinds` (in `ns`, or everywhere when None) the request names: (kind, object, word said).

    A name said exactly (or quoted) wins; only when none is, a unique close match of a longer word (a typo) counts.
    More than one distinct object back means the request is ambiguous, and the caller must not act."""
    kinds = list(kinds)
    said = kinds_said(ctx, kinds)
    if said:
        kinds = said
    skip = set(skip) | FILLER
    ws = [w for w in dict.fromkeys(words(ctx) + quoted(ctx.text)) if w not in skip]
    objs = [(k, o) for k in kinds for o in listed(ctx, k, ns)]
    exact = [(k, o, o["metadata"]["name"]) for k, o in objs if o["metadata"]["name"] in ws]
    if exact:
        return exact
    names = sorted({o["metadata"]["name"] for _, o in objs})
    out = []
    for w in ws:
        if len(w) < 4 or w in KIND_WORDS:
            continue
        hits = difflib.get_close_matches(w, names, n=2, cutoff=0.85)
        if len(hits) == 1:
            out += [(k, o, w) for k, o in objs if o["metadata"]["name"] == hits[0]]
    return out


def named(ctx: Any, kinds: Iterable[str], ns: str | None) -> dict[tuple[str, str], tuple[str, dict, str]] | None:
    """Every live object of `kinds` the request names, by (kind, name), for a change to several at once. Each kind is
    resolved on its own ("the db statefulset" names db's kind, not web's); a quoted name is that name exactly and a
    typo counts only as the coverage accounting allows one (names of 5+ letters: never 'webb' for web). None when a
    name is ambiguous (a Deployment and a StatefulSet both called so)."""
    exact = set(quoted(ctx.text))
    found = [(k, o, w) for kind in kinds for k, o, w in resolve(ctx, [kind], ns)
             if w == o["metadata"]["name"] or (w not in exact and close(w, o["metadata"]["name"]))]
    objs = {(k, o["metadata"]["name"]): (k, o, w) for k, o, w in found}
    return objs if len({n for _, n in objs}) == len(objs) else None


def one(found: list[tuple[str, dict, str]]) -> tuple[str, dict, str] | None:
    """The single object found, or None when there is none or more than one."""
    keys = {(k, o["metadata"].get("namespace", ""), o["metadata"]["name"]) for k, o, _ in found}
    return found[0] if len(keys) == 1 else None


def namespaces(ctx: Any) -> list[str]:
    return [n["metadata"]["name"] for n in listed(ctx, "Namespace", None)]


def namespace(ctx: Any) -> str:
    """The namespace the request names ("in shop", "-n shop", "the shop namespace"), else the context's."""
    low = norm(ctx.text)
    known = namespaces(ctx)
    # "in shop" and "the shop namespace" say the namespace; "from web" / "of web" / "on web" only may ("the logs from
    # web in shop": web is the workload), so they count only when nothing stronger is said.
    for pattern in (r"(?:\bin(?:to)?|\bnamespace|\bns|-n|--namespace)\s+(?:the\s+)?(?:namespace\s+|ns\s+)?['\"]?(" + NAME
                    + ")", r"['\"]?(" + NAME + r")['\"]?\s+(?:namespace|ns)\b", _NS_IN_BRACKETS,
                    r"(?:\bfrom|\bof|\bon)\s+(?:the\s+)?(?:namespace\s+|ns\s+)?['\"]?(" + NAME + ")"):
        for m in re.finditer(pattern, low):
            if m.group(1) in known and not _NAMES_OTHER_KIND.match(low, m.end()):
                return m.group(1)
    return ctx.namespace or "default"


# "web (shop) is getting hammered", "checkout (ns: shop)": the namespace in brackets after a name
_NS_IN_BRACKETS = r"\(\s*(?:ns|namespace)?\s*[:=]?\s*['\"]?(" + NAME + r")['\"]?(?:\s+(?:ns|namespace))?\s*\)"
# "into the web deployment": a name followed by the kind of another object names that object, not a namespace
_NAMES_OTHER_KIND = re.compile(r"['\"]?\s+(?:deployments?|deploy|statefulsets?|daemonsets?|pods?|services?|svc|jobs?|"
                               r"cronjobs?|containers?|configmaps?|secrets?|app|workload|ingress|pvc|hpa)\b")


# ---- numbers and quantities ---------------------------------------------------------------------------------------
NUMBER_WORDS = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
                "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30}


def number(word: str) -> int | None:
    """'3' or 'three' as 3."""
    if word.isdigit():
        return int(word)
    return NUMBER_WORDS.get(word)


_RES_WORDS = {"cpu": "cpu", "cpus": "cpu", "core": "cpu", "cores": "cpu", "vcpu": "cpu", "vcpus": "cpu",
              "millicores": "cpu", "memory": "memory", "mem": "memory", "ram": "memory"}
_MEM_UNITS = {"ki": "Ki", "mi": "Mi", "gi": "Gi", "ti": "Ti", "kib": "Ki", "mib": "Mi", "gib": "Gi", "mb": "Mi",
              "gb": "Gi", "g": "Gi", "k": "Ki", "kb": "Ki"}
_QTY = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\s*(millicores|cores?|vcpus?|cpus?|kib|mib|gib|ki|mi|gi|ti|kb|mb|gb|m|g|k)?"
                  r"(?![\w.])")
QUANTITY_VOCAB = frozenset("""cpu cpus core cores vcpu vcpus millicores memory mem ram request requests requested
limit limits limited cap capped max maximum min minimum both resources resource""".split())


def quantities(text: str) -> tuple[dict[str, dict[str, str]], list[str]] | None:
    """({"requests": {cpu, memory}, "limits": {...}}, the words read) from phrases like "cpu request 100m, memory
    limit 256Mi", "requests of 250m cpu and 64Mi memory", "requests and limits of 500m CPU". None when a quantity is
    there but which resource or whether request or limit is not said (so the caller does not guess)."""
    low = norm(text).replace("requests and limits", "requests+limits").replace("request and limit", "requests+limits")
    low = re.sub(r"\blimits?\s+(?:and|&|\+)\s+requests?\b|\brequests?\s+(?:and|&|\+)\s+limits?\b", "requests+limits", low)
    out: dict[str, dict[str, str]] = {}
    said: list[str] = []
    which: list[str] = []
    for seg in re.split(r",|;|\band\b|\bwith\b|\bplus\b|\bwhile\b", low):
        if "requests+limits" in seg:
            which = ["requests", "limits"]
        elif re.search(r"\brequest", seg) and re.search(r"\blimit|\bcap", seg):
            return None
        elif re.search(r"\brequest", seg):
            which = ["requests"]
        elif re.search(r"\blimit|\bcap(?:ped)?\b", seg):
            which = ["limits"]
        for m in _QTY.finditer(seg):
            num, unit = m.group(1), (m.group(2) or "")
            res = _resource_of(seg, m, unit)
            if res is None:
                continue  # a number that is not a quantity (a replica count, a port)
            if not which:
                return None
            value = _canonical(res, num, unit)
            if value is None:
                return None
            for w in which:
                out.setdefault(w, {})[res] = value
            said += [m.group(0).strip(), num, unit]
    return out, [s for s in said if s]


def _resource_of(seg: str, m: re.Match[str], unit: str) -> str | None:
    """cpu or memory for the quantity at `m`: its unit when that decides, else the resource word next to it."""
    if unit in _MEM_UNITS:
        return "memory"
    if unit and unit != "m":
        return "cpu"
    ahead = [_RES_WORDS[w] for w in re.findall(r"[a-z]+", seg[m.end():m.end() + 12])[:2] if w in _RES_WORDS]
    behind = [_RES_WORDS[w] for w in re.findall(r"[a-z]+", seg[:m.start()])[-3:] if w in _RES_WORDS]
    near = (behind[-1:] if re.search(r"[a-z]\s*[=:]?\s*$", seg[:m.start()]) else []) + ahead[:1] + behind[-1:]
    if unit == "m":  # 100m is CPU; "512m memory" is what people write for mebibytes
        return "memory" if near and all(r == "memory" for r in near) else "cpu"
    return near[0] if near else None


def _canonical(res: str, num: str, unit: str) -> str | None:
    """A quantity as the API server writes it back: '0.5' cpu → '500m', '512MB' → '512Mi', '2 cores' → '2'."""
    if res == "cpu":
        if unit == "m" or unit == "millicores":
            v = parse_quantity(f"{num}m")
        elif unit in ("", "core", "cores", "cpu", "cpus", "vcpu", "vcpus"):
            v = parse_quantity(num)
        else:
            return None
        return fmt_cpu(round(v * 1000)) if v else None
    unit = _MEM_UNITS.get(unit, "Mi" if unit == "m" else "")
    if not unit:
        return None
    if "." in num:
        v = parse_quantity(f"{num}{unit}")
        return fmt_mem(v) if v else None
    return f"{int(num)}{unit}"


# ---- mutations and goals ------------------------------------------------------------------------------------------
def expect(kind: str, ns: str | None, name: str, path: str, value: Any = None, op: str = "eq") -> dict[str, Any]:
    """A state assertion of the goal: the field at `path` of the object compares `op` to `value`."""
    return {"kind": kind, "namespace": ns or "", "name": name, "path": path, "op": op, "value": value}


def absent(kind: str, ns: str | None, name: str) -> dict[str, Any]:
    """The object is gone."""
    return {"kind": kind, "namespace": ns or "", "name": name, "absent": True}


def can(user: str, verb: str, resource: str, ns: str | None, value: bool = True, groups: list[str] | None = None,
        group: str = "") -> dict[str, Any]:
    """An access assertion of the goal: `user` (with `groups`) may (or may not) `verb` `resource`."""
    c: dict[str, Any] = {"user": user, "groups": list(groups or []), "verb": verb, "resource": resource}
    if ns:
        c["namespace"] = ns
    if group:
        c["group"] = group
    return {"can": c, "value": value}


def mutation(verb: str, kind: str, ns: str, name: str, goal: list[dict[str, Any]], why: str, body: Any = None,
             patch_type: str = "strategic", verify: dict[str, Any] | None = None) -> Mutation:
    """A proposed change carrying its goal (the request's own post-condition)."""
    m = Mutation(verb, kind, ns, name, patch_type=patch_type, body=body, why=why, verify=verify)
    m.goal = list(goal)
    return m


def healthy(kind: str, ns: str, name: str) -> dict[str, Any]:
    """Wait for the workload to be rolled out and ready after the apply; undo the change when it is not."""
    return {"kind": kind, "namespace": ns, "name": name, "timeout_s": 90, "stable_s": 8}


def containers(obj: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return pod_spec(obj, kind).get("containers") or []


def container(ctx: Any, obj: dict[str, Any], kind: str) -> tuple[int, dict[str, Any]] | None:
    """(index, container) the request means: the one it names, else the only one; None when it is not clear."""
    cs = containers(obj, kind)
    ws = set(words(ctx)) | set(quoted(ctx.text))
    named = [(i, c) for i, c in enumerate(cs) if c.get("name") in ws]
    if len(named) == 1:
        return named[0]
    return (0, cs[0]) if len(cs) == 1 and not named else None


def live_container(ctx: Any, slots: dict[str, Any], agent: str) -> tuple[dict[str, Any], Any]:
    """The container the slots picked, read again at plan time: `(container, None)`, or `({}, answer)` when the
    object cannot be read or its containers changed since `match` (a plan never acts on a stale reading)."""
    from agents.state import AgentResult

    kind, ns, name, cname, i = slots["kind"], slots["namespace"], slots["name"], slots["container"], slots["index"]
    try:
        obj = ctx.kube.get(kind, ns, name)
    except KubeError as e:
        return {}, AgentResult(agent, f"I could not read {cite(kind, ns, name)}: {e.message}", [e.message])
    cs = containers(obj, kind)
    if i >= len(cs) or cs[i].get("name") != cname:
        return {}, AgentResult(agent, f"I did not act: {cite(kind, ns, name)} changed while I read it; ask again.")
    return cs[i], None


def template_path(kind: str) -> str:
    """The dotted path of a kind's pod spec (the goal assertions' form)."""
    return {"Pod": "spec", "CronJob": "spec.jobTemplate.spec.template.spec"}.get(kind, "spec.template.spec")


def wrap(kind: str, pod_spec_patch: dict[str, Any]) -> dict[str, Any]:
    """A patch body that puts `pod_spec_patch` where `kind` keeps its pod spec."""
    body: dict[str, Any] = pod_spec_patch
    for key in reversed(template_path(kind).split(".")):
        body = {key: body}
    return body


def cite(kind: str, ns: str | None, name: str) -> str:
    return f"{kind} {ns + '/' if ns else ''}{name}"


def digits(text: str) -> str:
    """The request with number words as digits ("between two and eight" → "between 2 and 8")."""
    return re.sub(r"\b(" + "|".join(NUMBER_WORDS) + r")\b", lambda m: str(NUMBER_WORDS[m.group(1)]), norm(text))


def resources_said(ctx: Any, skip: Iterable[str] = ()) -> list[str]:
    """The API resources (plural, `pods/log` for logs) the request names by word, in order; a hyphenated name like
    `fp-role` or `pod-reader` is a name, not a resource, and the words of "service account" and "namespace X" say
    who and where."""
    from agents.entities import RESOURCES

    ws = [w for w in words(ctx) if w not in set(skip)]
    out: list[str] = []
    i = 0
    while i < len(ws):
        pair = f"{ws[i]} {ws[i + 1]}" if i + 1 < len(ws) else ""
        if pair in ("service account", "service accounts", "role binding", "role bindings"):
            i += 2
            continue
        res = RESOURCES.get(pair) if pair in RESOURCES else RESOURCES.get(ws[i])
        if ws[i] in ("namespace",) or (ws[i] == "namespaces" and i and ws[i - 1] in ("all", "every", "across")):
            res = None
        if res and res not in out and res not in ("roles", "rolebindings", "serviceaccounts"):
            out.append(res)
        i += 2 if pair in RESOURCES else 1
    if "pods/log" in out and "pods" in out and re.search(r"\bpods?\s+logs?\b", norm(ctx.text)):
        out.remove("pods")
    return out
