"""Add, change or remove labels or annotations on named objects: "label web in shop with tier=frontend", "annotate
both the web deployment and the web service with owner=team-a", "remove the label tier from web", or on every
object of a kind matching a selector when that is said ("label all pods matching app=web in shop with tier=x").

Why its own fast path: "annotate both the web deployment and the web service" names two objects of two kinds; the
resources rules take one object per request and abstained. Here every object is named by a kind word and a name (or,
with no kind word, one name that only one object has), the change is a merge patch of `metadata.labels` or
`metadata.annotations` only (never the pod template: that would restart pods nobody asked to restart), and the goal
is each key with its asked value (or gone) on each object.
"""

from __future__ import annotations

import re
from typing import Any

from agents.coverage import tokens
from agents.fastpaths import register
from agents.fastpaths._words import (
    COMMON,
    cite,
    expect,
    kinds_said,
    listed,
    mutation,
    namespace,
    norm,
    one,
    plain_quotes,
    quoted,
    resolve,
    words,
)
from agents.resource_text import KIND_WORDS
from agents.state import AgentResult
from tools.k8s.client import KubeError
from tools.k8s.kinds import KINDS, WORKLOADS

AGENT = "resources"
# Kinds whose labels people set by name (cluster-scoped Namespace and Node included).
LABELLED = (*WORKLOADS, "Pod", "Service", "ConfigMap", "Secret", "PersistentVolumeClaim", "Ingress", "ServiceAccount",
            "Job", "CronJob", "Namespace", "Node")
# Which metadata field the request's words mean.
FIELD_WORDS = {"label": "labels", "labels": "labels", "labelled": "labels", "labeled": "labels", "relabel": "labels",
               "unlabel": "labels", "annotate": "annotations", "annotation": "annotations",
               "annotations": "annotations", "annotated": "annotations"}
_KEY = r"[a-z0-9A-Z](?:[a-zA-Z0-9_./-]*[a-zA-Z0-9])?"
_PAIR = re.compile(rf"(?<![\w./-])({_KEY})\s*=\s*(\"[^\"]*\"|'[^']*'|[A-Za-z0-9](?:[A-Za-z0-9_.-]*[A-Za-z0-9])?|)"
                   r"(?![\w=])")
_FROM_TO = re.compile(rf"\b(?:label|annotation)\s+['\"]?({_KEY})['\"]?\s+(?:(?:on|of)\s+(?:the\s+)?\S+(?:\s+\S+)?\s+)?from\s+['\"]?([\w.-]+)['\"]?"
                      r"\s+to\s+['\"]?([\w.-]+)['\"]?")
_REMOVE = re.compile(r"^\s*(?:please\s+|can you\s+|could you\s+|pls\s+)?(?:remove|delete|drop|strip|unset|unlabel|"
                     r"take\s+off|get\s+rid\s+of)\b")
# "matching app=web", "labelled app=web", "with the label app=web", "selected by app=web": a selector, not a change.
_SELECTOR = re.compile(rf"\b(?:matching|labell?ed|selected\s+by|with\s+(?:the\s+)?label|that\s+have(?:\s+the\s+label)?|"
                       rf"where)\s+['\"]?({_KEY})\s*=\s*([\w.-]+)['\"]?")
_WHERE = re.compile(r"\b(?:in|within|inside|from)\s+(?:the\s+)?(?:(?:namespace|ns)\s+\S+|\S+\s+(?:namespace|ns)\b)")
_ALL = re.compile(r"\b(?:all|every|each)\b")


def _value(v: str) -> str:
    return v[1:-1] if len(v) >= 2 and v[0] == v[-1] and v[0] in "'\"" else v


def _field(text: str) -> str | None:
    """labels or annotations, from the words said (a selector's "labelled" aside); None when both or neither is."""
    said = {FIELD_WORDS[w] for w in tokens(text) if w in FIELD_WORDS}
    return said.pop() if len(said) == 1 else None


class Labels:
    agent = AGENT
    intent = "set-labels"
    vocabulary = frozenset("""label labels labelled labeled relabel unlabel annotate annotation annotations annotated
        add set put update change apply attach give tag remove delete drop strip unset take off rid key keys value
        values with to on from both all every each matching selected where selector deployment deployments deploy
        service services svc pod pods configmap configmaps secret secrets pvc pvcs statefulset statefulsets sts
        daemonset daemonsets ingress ingresses serviceaccount job jobs cronjob cronjobs node nodes new""".split()
                           ) | COMMON | frozenset({"config map", "service account", "persistent volume claim"})

    def match(self, ctx: Any) -> dict[str, Any] | None:
        text = plain_quotes(ctx.text)
        low = norm(text)
        selector = dict(_SELECTOR.findall(text)) if _ALL.search(low) else {}
        if len(selector) > 1 or re.search(_SELECTOR.pattern + rf"\s*(?:,|and|&|\+)\s*{_KEY}\s*=", text):
            return None  # "matching a=1 and b=2 with c=3": is b=2 part of the selector? not clear
        sel_said = [f"{k}={v}" for k, v in selector.items()]
        rest = _SELECTOR.sub(" ", text) if selector else text
        fld = _field(rest)
        if fld is None:
            return None
        remove = bool(_REMOVE.search(low))
        change: dict[str, str | None] = {}
        was: dict[str, str] = {}  # "from frontend to edge": the value the person believes is there now
        said: list[str] = []
        if remove:
            if _PAIR.search(rest):
                return None  # "remove tier=x" is a value check the fast path does not make
        else:
            from_to = _FROM_TO.search(rest)
            if from_to:
                change[from_to.group(1)] = from_to.group(3)
                was[from_to.group(1)] = from_to.group(2)
            for k, v in _PAIR.findall(rest):
                if not v:
                    return None  # "tier=" with no value: not clear
                change[k] = _value(v)
            change.update({k: None for k in re.findall(rf"(?<![\w./-])({_KEY})-(?=\s|$|[,.;])", rest)
                           if not re.search(rf"\b{re.escape(k)}-\w", rest)})  # kubectl's "tier-" removes tier
            if not change:
                return None
            said += [f"{k}={v}" for k, v in change.items() if v is not None]
        ns = namespace(ctx)
        targets = self._targets(ctx, ns, selector, change)
        if not targets:
            return None
        if remove:
            keys = set(quoted(text)) | set(words(ctx))
            live = {k for t in targets for k in ((t["object"].get("metadata") or {}).get(fld) or {})}
            change = {k: None for k in sorted(live & keys)}
            if not change:
                return None
        return {"field": fld, "change": change, "was": was, "namespace": ns, "selector": selector,
                "targets": [{"kind": t["kind"], "namespace": t["namespace"], "name": t["name"]} for t in targets],
                "said": said + sel_said + [t["word"] for t in targets]}

    def _targets(self, ctx: Any, ns: str, selector: dict[str, str], change: dict[str, str | None]
                 ) -> list[dict[str, Any]]:
        """The objects the request names: every object of the kind said that matches the selector ("all pods
        matching app=web"); else one named object per kind word said; else the one object a name names."""
        skip = {k.lower() for k in change} | {str(v).lower() for v in change.values() if v}
        kinds = kinds_said(ctx, LABELLED)
        if "Namespace" in kinds and (len(kinds) > 1 or _WHERE.search(norm(ctx.text))):
            kinds.remove("Namespace")  # "in namespace shop" says where, not what
        out: list[dict[str, Any]] = []
        if selector:
            if len(kinds) != 1:
                return []
            sel = ",".join(f"{k}={v}" for k, v in selector.items())
            try:
                objs = ctx.kube.list(kinds[0], ns if KINDS.get(kinds[0], (0, 0, 0, True))[3] else None, sel)
            except KubeError:
                return []
            word = next((w for w, k in KIND_WORDS.items() if k == kinds[0] and w in words(ctx)), "")
            return [_target(kinds[0], o, word) for o in objs]
        if len(kinds) > 1:
            for kind in kinds:
                found = one(resolve(ctx, [kind], ns if kind not in ("Namespace", "Node") else None, skip=skip))
                if found is None:
                    return []
                out.append(_target(*found))
            return out
        scope = ns if not kinds or kinds[0] not in ("Namespace", "Node") else None
        found = resolve(ctx, kinds or LABELLED, scope, skip=skip)
        if kinds == ["Namespace"] or (not kinds and not found):
            named = [n for n in listed(ctx, "Namespace", None) if n["metadata"]["name"] in words(ctx)]
            found = [("Namespace", n, n["metadata"]["name"]) for n in named] if kinds == ["Namespace"] else []
        picked = one(found)
        return [_target(*picked)] if picked else []

    def plan(self, ctx: Any, slots: dict[str, Any]) -> AgentResult:
        fld, change = slots["field"], slots["change"]
        noun = fld[:-1]
        if not slots["targets"]:
            return AgentResult(AGENT, f"Already so: no object matches {slots['selector']}; nothing to {noun}.",
                               data={"already": True})
        evidence, muts, already = [], [], []
        for t in slots["targets"]:
            kind, ns, name = t["kind"], t["namespace"] or None, t["name"]
            try:
                obj = ctx.kube.get(kind, ns, name)
            except KubeError as e:
                return AgentResult(AGENT, f"I could not read {cite(kind, ns, name)}: {e.message}", [e.message])
            live = dict((obj.get("metadata") or {}).get(fld) or {})
            evidence.append(f"{cite(kind, ns, name)} {fld}: " + (", ".join(f"{k}={v}" for k, v in live.items())
                                                                 or "none"))
            wrong = {k: v for k, v in (slots.get("was") or {}).items() if live.get(k) not in (v, change.get(k))}
            if wrong:
                k = next(iter(wrong))
                return AgentResult(AGENT, f"I did not act: {noun} {k} of {cite(kind, ns, name)} is "
                                          f"{live.get(k, 'not set')!s}, not {wrong[k]} as you said; say the value "
                                          "you want and I will set it.", evidence)
            todo = {k: v for k, v in change.items() if live.get(k) != v}
            if not todo:
                already.append(cite(kind, ns, name))
                continue
            goal = [_assert(kind, ns, name, fld, k, v) for k, v in change.items()]
            what = ", ".join(f"{k}={v}" if v is not None else f"remove {k}" for k, v in todo.items())
            muts.append(mutation("patch", kind, ns or "", name, goal, f"{fld}: {what}",
                                 body={"metadata": {fld: todo}}, patch_type="merge"))
        asked = ", ".join(f"{k}={v}" if v is not None else f"no {noun} {k}" for k, v in change.items())
        if not muts:
            return AgentResult(AGENT, f"Already so: {', '.join(already)} {'has' if len(already) == 1 else 'have'} "
                                      f"{asked}. Nothing to change.", evidence, data={"already": True})
        done = f" ({', '.join(already)} already {'has' if len(already) == 1 else 'have'} it)" if already else ""
        objs = "; ".join(f"{m.describe().split(' ', 1)[1]}: {m.why.split(': ', 1)[1]}" for m in muts)
        return AgentResult(AGENT, f"Proposed: set {fld} ({asked}) on {len(muts)} object(s): {objs}{done}. Only the "
                                  f"objects' own {fld} change (no pod restarts).", evidence, muts)


def _target(kind: str, obj: dict[str, Any], word: str) -> dict[str, Any]:
    meta = obj["metadata"]
    return {"kind": kind, "namespace": meta.get("namespace", ""), "name": meta["name"], "object": obj, "word": word}


def _assert(kind: str, ns: str | None, name: str, fld: str, key: str, value: str | None) -> dict[str, Any]:
    """The key has the value (or is gone). A key with dots ("app.kubernetes.io/name") cannot be a step of a dotted
    path, so it is checked on the whole mapping."""
    if "." not in key:
        return expect(kind, ns, name, f"metadata.{fld}.{key}", value, "eq" if value is not None else "missing")
    if value is None:
        return expect(kind, ns, name, f"metadata.{fld}", key, "not_contains")
    return expect(kind, ns, name, f"metadata.{fld}", re.escape(f"'{key}': '{value}'"), "matches")


register(Labels())
