"""Take one resource away from a subject while keeping others: "ci-bot shouldn't be able to touch secrets in shop any
more; it still needs to manage deployments and configmaps there".

Why its own fast path: a binding gives a whole role, so taking one resource away is not removing a binding (that
takes everything, rbac_revoke) nor a grant (rbac_grant). The plan, one plan of several Mutations applied in order:
when the rights come from a Role only this subject is bound to (and no wildcard covers the resource), that Role's
rules lose the resource (a JSON patch guarded by a `test` of the rules as read); otherwise a Role granting exactly
what must be kept (the verbs said — "manage" is every read and write verb — on the resources said), a RoleBinding of
the subject to it, then the old binding deleted (or the subject patched out of it when others share it). What is
kept is never more than the subject has now. The goal: the subject cannot get, list or delete the removed resource,
and can do the kept verbs on the kept resources. Rights that come from a group or a ClusterRoleBinding are not
changed: the answer says why and nothing is proposed.
"""

from __future__ import annotations

import re
from typing import Any

from agents.entities import GROUPS
from agents.fastpaths import register
from agents.fastpaths._words import (
    COMMON,
    NAME,
    absent,
    can,
    cite,
    expect,
    mutation,
    namespace,
    norm,
    resolve,
    resources_said,
)
from agents.fastpaths.rbac_adjust import _allows
from agents.fastpaths.rbac_grant import ALL, RBAC, VERB_WORDS, identity
from agents.fastpaths.rbac_revoke import _groups_of, _is, _label, _names, _rules
from agents.state import AgentResult
from tools.k8s.client import KubeError

AGENT = "rbac"
# Saying the resource goes, with every verb: "touch", "access", "use", "anything with", "take X away".
_WHOLE = frozenset("touch access use handle manage rights permissions permission anything".split())
# The clause that takes away, and the clause that keeps.
_AWAY = re.compile(r"\b(?:should\s*n[o']?t|should\s+not|must\s*n[o']?t|must\s+not|shall\s+not|can\s*n[o']?t|cannot|"
                   r"no\s+longer|not\s+be\s+able|any\s*more|take\s+(?:\S+\s+){0,3}?away|remove|revoke|strip|lose)\b")
_KEEP = re.compile(r"\b(?:still|keep|keeps|retain|continue|only\s+needs?|but\s+(?:it|they)\s+(?:needs?|should|must))\b")
_CUT = re.compile(r"[;.!?]\s*|\s+but\s+|\s+while\s+|\s+though\s+|,\s*(?=(?:and\s+|but\s+)?(?:it|they|he|she|keep|still)\b)")


def _clauses(low: str) -> tuple[str, str] | None:
    """(the clause that takes away, the clause that keeps); None unless there is exactly one of each."""
    parts = [p for p in _CUT.split(low) if p.strip()]
    away = [p for p in parts if _AWAY.search(p) and not _KEEP.search(p)]
    keep = [p for p in parts if _KEEP.search(p) and not _AWAY.search(p)]
    return (away[0], keep[0]) if len(away) == 1 and len(keep) == 1 else None


def _text(t: str) -> Any:
    return type("T", (), {"text": t})()


def _verbs(clause: str, whole: bool) -> tuple[set[str] | None, list[str]]:
    """(verbs said in the clause, None for every verb (`whole`: "touch", "access") or none said; the words read)."""
    verbs: set[str] = set()
    said = []
    for w in re.findall(r"[a-z-]+", clause):
        if whole and w in _WHOLE:
            return None, said + [w]
        if w in VERB_WORDS:
            verbs |= set(VERB_WORDS[w])
            said.append(w)
    return verbs or None, said


def _subject(ctx: Any, ns: str) -> dict[str, Any] | None:
    low = norm(ctx.text)
    m = re.search(r"\b(user|group)\s+['\"]?(" + NAME + ")", low)
    if m:
        return {"kind": m.group(1).capitalize(), "name": m.group(2), "apiGroup": RBAC, "said": [m.group(2)]}
    sas = {o["metadata"]["name"]: w for _, o, w in resolve(ctx, ("ServiceAccount",), ns)
           if w == o["metadata"]["name"]}  # said exactly: "restart" is not the SA restarter
    if len(sas) != 1:
        return None
    name, word = next(iter(sas.items()))
    return {"kind": "ServiceAccount", "name": name, "namespace": ns, "said": [word]}


class NarrowAccess:
    agent = AGENT
    intent = "narrow-access"
    vocabulary = frozenset("""should shouldn't must mustn't not no longer any anymore more able to be touch access use
        handle anything with take away remove revoke strip lose loses rights right permission permissions still keep
        keeps retain continue only needs need needed but it its they their there manage read read-only readonly view
        see get list watch create update patch delete write full edit secret secrets configmap configmaps config maps
        deployment deployments pod pods service services svc job jobs cronjob cronjobs statefulset statefulsets
        daemonset daemonsets ingress ingresses replicasets events service account serviceaccount sa user bot from
        on and""".split()) | COMMON

    def match(self, ctx: Any) -> dict[str, Any] | None:
        low = norm(ctx.text)
        if re.match(r"\s*(?:who|which|what|is|does|do|can|could|why|how)\b", low) or \
                re.search(r"\b(?:me|myself|my)\b", low):
            return None
        cut = _clauses(low)
        if cut is None:
            return None
        away, keep = cut
        ns = namespace(ctx)
        subject = _subject(ctx, ns)
        if subject is None:
            return None
        skip = {subject["name"], ns, *subject["said"]}
        removed = resources_said(_text(away), skip=skip)
        kept = resources_said(_text(keep), skip=skip)
        if not removed or not kept or set(removed) & set(kept) or any("/" in r for r in removed + kept):
            return None
        gone, said_away = _verbs(away, True)
        wanted, said_keep = _verbs(keep, False)
        return {"namespace": ns, "subject": subject, "removed": removed, "removed_verbs": sorted(gone) if gone else None,
                "kept": kept, "kept_verbs": [v for v in ALL if v in wanted] if wanted else None,
                "said": subject["said"] + said_away + said_keep}

    def plan(self, ctx: Any, slots: dict[str, Any]) -> AgentResult:
        subj = {k: v for k, v in slots["subject"].items() if k != "said"}
        ns = slots["namespace"]
        try:
            rbs = [dict(b, kind="RoleBinding") for b in ctx.kube.list("RoleBinding", ns)]
            crbs = [dict(b, kind="ClusterRoleBinding") for b in ctx.kube.list("ClusterRoleBinding")]
        except KubeError as e:
            return AgentResult(AGENT, f"I did not act: I cannot list the bindings: {e.message}", [e.message])
        return _Narrow(ctx, subj, ns, slots, rbs, crbs).plan()


def _grants(rules: list[dict[str, Any]], resource: str) -> set[str]:
    """The verbs the rules give on `resource` (any name), '*' spelt out."""
    group = GROUPS.get(resource, "")
    out: set[str] = set()
    for r in rules:
        if (resource in r.get("resources", []) or "*" in r.get("resources", [])) and \
                (group in r.get("apiGroups", []) or "*" in r.get("apiGroups", [])) and not r.get("resourceNames"):
            out |= set(ALL + ("deletecollection",)) if "*" in r.get("verbs", []) else set(r.get("verbs", []))
    return out


def _without(rules: list[dict[str, Any]], resource: str) -> list[dict[str, Any]] | None:
    """The rules with `resource` taken out of each rule naming it; None when a wildcard covers it (it cannot be cut
    out of '*')."""
    group = GROUPS.get(resource, "")
    out = []
    for r in rules:
        if "*" in r.get("resources", []) and (group in r.get("apiGroups", []) or "*" in r.get("apiGroups", [])):
            return None
        if resource in r.get("resources", []) and (group in r.get("apiGroups", []) or "*" in r.get("apiGroups", [])):
            rest = [x for x in r["resources"] if x != resource and not x.startswith(resource + "/")]
            if rest:
                out.append(dict(r, resources=rest))
            continue
        out.append(r)
    return out


class _Narrow:
    """One narrowing, read against the live bindings: where the removed resource comes from, and the plan."""

    def __init__(self, ctx: Any, subj: dict[str, Any], ns: str, slots: dict[str, Any], rbs: list[dict[str, Any]],
                 crbs: list[dict[str, Any]]) -> None:
        self.ctx, self.subj, self.ns, self.rbs, self.crbs = ctx, subj, ns, rbs, crbs
        self.removed, self.kept = slots["removed"], slots["kept"]
        self.removed_verbs, self.kept_verbs = slots["removed_verbs"], slots["kept_verbs"]
        self.who = f"{subj['kind']} {subj['namespace'] + '/' if subj.get('namespace') else ''}{subj['name']}"
        self.user, self.groups = identity(subj)

    def _covers(self, b: dict[str, Any]) -> bool:
        rules = _rules(self.ctx, b)
        return any(_grants(rules, r) for r in self.removed)

    def plan(self) -> AgentResult:
        ns, who = self.ns, self.who
        mine = [b for b in self.rbs if _names(b, self.subj, ns)]
        cluster = [b for b in self.crbs if _names(b, self.subj, "") and self._covers(b)]
        grouped = [b for b in self.rbs + self.crbs if self._group_of(b) and self._covers(b)]
        sources = [b for b in mine if self._covers(b)]
        evidence = [f"{cite(b['kind'], b['metadata'].get('namespace'), b['metadata']['name'])} -> "
                    f"{b['roleRef'].get('kind')} {b['roleRef']['name']}" for b in sources + cluster + grouped]
        gone = ", ".join(self.removed)
        if cluster or grouped:
            why = "; ".join(f"{b['kind']} {b['metadata']['name']} (-> {b['roleRef']['name']}, for "
                            f"{', '.join(_label(s) for s in b.get('subjects') or [])})" for b in cluster + grouped)
            kind = "a group" if grouped else "a ClusterRoleBinding"
            return AgentResult(AGENT, f"I did not act: {who}'s access to {gone} in namespace {ns} comes from {kind}: "
                                      f"{why}. Changing that would change the rights of every subject it binds (or "
                                      "everywhere), which is more than asked; change the group or that binding "
                                      "yourself, or bind the subject on its own first.", evidence,
                               data={"nothing": True})
        if not sources:
            return AgentResult(AGENT, f"Nothing to take away: no binding I can read gives {who} access to {gone} in "
                                      f"namespace {ns}.", evidence, data={"nothing": True})
        if len(sources) > 1:
            return AgentResult(AGENT, f"I did not act: {who}'s access to {gone} in namespace {ns} comes from several "
                                      f"bindings ({', '.join(b['metadata']['name'] for b in sources)}); say which to "
                                      "change.", evidence, data={"nothing": True})
        src = sources[0]
        rules = _rules(self.ctx, src)
        extra = {v for r in self.removed for v in _grants(rules, r)} - set(self.removed_verbs or ALL) - \
            ({"deletecollection"} if self.removed_verbs is None else set())
        if extra:
            return AgentResult(AGENT, f"I did not act: {who} can also {', '.join(sorted(extra))} {gone} through "
                                      f"{src['kind']} {src['metadata']['name']}; say whether that goes too (for "
                                      f"example 'it shouldn't be able to touch {gone}').", evidence,
                               data={"nothing": True})
        kept = self._kept(rules)
        if isinstance(kept, str):
            return AgentResult(AGENT, f"I did not act: {kept}", evidence, data={"nothing": True})
        own = self._own_role(src)
        if own is not None:
            new = _without(own.get("rules") or [], self.removed[0])
            for r in self.removed[1:]:
                new = _without(new, r) if new is not None else None
            if new is not None and all(_allows(new, v, r, GROUPS.get(r, "")) for r, vs in kept.items() for v in vs):
                return self._patch_role(own, new, kept, evidence)
        return self._rebind(src, kept, rules, evidence)

    def _group_of(self, b: dict[str, Any]) -> bool:
        """A binding of a group the subject is (or may be) in."""
        return any(s.get("kind") == "Group" and (s.get("name") in _groups_of(self.subj) or (
            self.subj["kind"] == "User" and not s.get("name", "").startswith("system:")))
            for s in b.get("subjects") or [])

    def _kept(self, rules: list[dict[str, Any]]) -> dict[str, list[str]] | str:
        """resource -> verbs to keep: the verbs said that it has now ("read" of a subject that may get and list is
        get and list), else every verb it has on it; a reason when it has none of them (keeping is not granting)."""
        out: dict[str, list[str]] = {}
        for r in self.kept:
            has = _grants(rules, r)
            want = [v for v in (self.kept_verbs or ALL) if v in has]
            if not want:
                what = ", ".join(self.kept_verbs) if self.kept_verbs else "do anything with"
                return f"{self.who} cannot {what} {r} in namespace {self.ns} through the binding that gives it the " \
                       "rest, so keeping it would be a grant; ask for that on its own."
            out[r] = want
        return out

    def _own_role(self, src: dict[str, Any]) -> dict[str, Any] | None:
        """The Role of `src` when only this subject is bound to it (patching it changes no one else's rights)."""
        ref = src.get("roleRef") or {}
        if ref.get("kind") != "Role":
            return None
        users = [s for b in self.rbs if (b.get("roleRef") or {}).get("kind") == "Role" and b["roleRef"]["name"] ==
                 ref["name"] for s in b.get("subjects") or []]
        if any(not _is(self.subj, s, self.ns) for s in users):
            return None
        try:
            return self.ctx.kube.get("Role", self.ns, ref["name"])
        except KubeError:
            return None

    def _goal(self, kept: dict[str, list[str]], gone_verbs: set[str]) -> list[dict[str, Any]]:
        ns, u, g = self.ns, self.user, self.groups
        goal = [can(u, v, r, ns, False, g, GROUPS.get(r, "")) for r in self.removed
                for v in ["get", "list", "delete", *sorted(gone_verbs - {"get", "list", "delete", "deletecollection"})]]
        return goal + [can(u, v, r, ns, True, g, GROUPS.get(r, "")) for r, vs in kept.items() for v in vs]

    def _patch_role(self, role: dict[str, Any], new: list[dict[str, Any]], kept: dict[str, list[str]],
                    evidence: list[str]) -> AgentResult:
        ns, name = self.ns, role["metadata"]["name"]
        rules = role.get("rules") or []
        gone = {v for r in self.removed for v in _grants(rules, r)}
        ops = [{"op": "test", "path": "/rules", "value": rules}, {"op": "replace", "path": "/rules", "value": new}]
        m = mutation("patch", "Role", ns, name, self._goal(kept, gone),
                     f"take {', '.join(self.removed)} out of Role {name} (only {self.who} is bound to it)", body=ops,
                     patch_type="json")
        return AgentResult(AGENT, f"Proposed: take {', '.join(self.removed)} out of {cite('Role', ns, name)}, which "
                                  f"only {self.who} is bound to. Afterwards it cannot get, list or delete "
                                  f"{', '.join(self.removed)} in namespace {ns}, and keeps {_kept_text(kept)} and the "
                                  "rest of that Role.", evidence, [m])

    def _rebind(self, src: dict[str, Any], kept: dict[str, list[str]], rules: list[dict[str, Any]],
                evidence: list[str]) -> AgentResult:
        ns, who, subj = self.ns, self.who, self.subj
        name = f"{subj['name']}-{'-'.join(r for r in self.kept)}"[:63]
        for kind in ("Role", "RoleBinding"):
            try:
                self.ctx.kube.get(kind, ns, name)
                return AgentResult(AGENT, f"I did not act: a {kind} {ns}/{name} exists already; say which name to "
                                          "use.", evidence, data={"nothing": True})
            except KubeError as e:
                if e.status != 404:
                    return AgentResult(AGENT, f"I could not check {kind} {ns}/{name}: {e.message}", [e.message])
        by: dict[tuple[str, tuple[str, ...]], list[str]] = {}
        for r, vs in kept.items():
            by.setdefault((GROUPS.get(r, ""), tuple(vs)), []).append(r)
        role = {"apiVersion": f"{RBAC}/v1", "kind": "Role", "metadata": {"name": name, "namespace": ns},
                "rules": [{"apiGroups": [g], "resources": rs, "verbs": list(vs)} for (g, vs), rs in by.items()]}
        binding = {"apiVersion": f"{RBAC}/v1", "kind": "RoleBinding", "metadata": {"name": name, "namespace": ns},
                   "roleRef": {"apiGroup": RBAC, "kind": "Role", "name": name}, "subjects": [subj]}
        old, subjects = src["metadata"]["name"], src.get("subjects") or []
        rest = [s for s in subjects if not _is(subj, s, ns)]
        gone = {v for r in self.removed for v in _grants(rules, r)}
        muts = [mutation("create", "Role", ns, name, [expect("Role", ns, name, "rules.0.verbs",
                                                             role["rules"][0]["verbs"])],
                         f"Role {name}: what {who} keeps ({_kept_text(kept)})", body=role),
                mutation("create", "RoleBinding", ns, name, [expect("RoleBinding", ns, name, "roleRef.name", name)],
                         f"bind {who} to Role {name}", body=binding)]
        if rest:
            ops = [{"op": "test", "path": "/subjects", "value": subjects},
                   {"op": "replace", "path": "/subjects", "value": rest}]
            muts.append(mutation("patch", "RoleBinding", ns, old, [expect("RoleBinding", ns, old, "subjects",
                                                                          {k: subj[k] for k in ("kind", "name")},
                                                                          "not_contains")],
                                 f"take {who} out of RoleBinding {old}; its other subjects keep it", body=ops,
                                 patch_type="json"))
            step = f"take {who} out of RoleBinding {ns}/{old} (its other subjects keep it)"
        else:
            muts.append(mutation("delete", "RoleBinding", ns, old, [absent("RoleBinding", ns, old)],
                                 f"RoleBinding {old} binds only {who} (to {src['roleRef']['name']})"))
            step = f"delete RoleBinding {ns}/{old} (it binds only {who})"
        muts[-1].goal = list(muts[-1].goal or []) + self._goal(kept, gone)
        others = sorted({x for r in rules for x in r.get("resources") or [] if x not in self.kept and
                         x not in self.removed and "/" not in x})
        lost = f" It also loses what {src['roleRef']['name']} gave it besides those: {', '.join(others[:12])}" + \
            (", …" if len(others) > 12 else "") + "." if others else ""
        return AgentResult(AGENT, f"Proposed, in order: create Role {ns}/{name} allowing {_kept_text(kept)}; bind "
                                  f"{who} to it (RoleBinding {ns}/{name}); {step}. Afterwards {who} cannot get, list "
                                  f"or delete {', '.join(self.removed)} in namespace {ns} and keeps "
                                  f"{_kept_text(kept)}.{lost}", evidence, muts)


def _kept_text(kept: dict[str, list[str]]) -> str:
    return "; ".join(f"{', '.join(vs)} on {r}" for r, vs in kept.items())


register(NarrowAccess())
