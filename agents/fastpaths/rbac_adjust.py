"""Add what an operation needs to an existing Role: "the restarter SA should be able to do `kubectl rollout restart`
on deployments but its role only has get/list; add what's needed, and only that", "let the deployer role also scale
deployments", "the log-reader role is missing the verb for logs".

Why its own fast path: people name an operation (rollout restart, scale, logs, exec), not the verb and resource the
API checks, and they want the Role they already have extended, not a second Role beside it. A small table maps the
operation to (verb, resource); the Role is the one named, or the one Role bound to the named subject (bound to a
ClusterRole, to several Roles or to none: nothing is proposed, and the answer says why). The change is a JSON patch
of the Role's rules guarded by a `test` of the rules as read: the verb is added to the rule that grants exactly that
resource, else a rule is added. The goal: every subject bound to the Role can now do the operation, and still cannot
do the write verbs it could not do before and did not ask for.
"""

from __future__ import annotations

import re
from typing import Any

from agents.coverage import tokens
from agents.entities import GROUPS
from agents.fastpaths import register
from agents.fastpaths._words import (
    COMMON,
    NAME,
    can,
    cite,
    has,
    listed,
    mutation,
    namespace,
    norm,
    resolve,
    resources_said,
)
from agents.fastpaths.rbac_grant import READ, identity
from agents.state import AgentResult
from tools.k8s.client import KubeError

AGENT = "rbac"
WRITES = ("create", "update", "patch", "delete")
_B, _E = r"(?<![\w-])", r"(?![\w-])"
# Operation → (regex of its words, what it needs: (verb, resource) with {w} for the workload kind said, the
# resources it is about). Undo needs the ReplicaSets a Deployment rolls back to, so it is Deployments only.
OPERATIONS: dict[str, tuple[str, tuple[tuple[str, str], ...], tuple[str, ...]]] = {
    "rollout undo": (rf"{_B}(?:rollout|roll\s*out)\s+undo{_E}|{_B}roll\s*back{_E}|{_B}rollback{_E}|{_B}undo{_E}",
                     (("patch", "deployments"), ("list", "replicasets")), ("deployments", "replicasets")),
    "rollout restart": (rf"{_B}(?:rollout|roll\s*out|rolling)\s+restarts?{_E}|{_B}restart(?:s|ing)?{_E}",
                        (("patch", "{w}"),), ("deployments", "statefulsets", "daemonsets")),
    "scale": (rf"{_B}scal(?:e|es|ing){_E}", (("get", "{w}/scale"), ("patch", "{w}/scale")),
              ("deployments", "statefulsets", "replicasets")),
    "logs": (rf"{_B}logs?{_E}", (("get", "pods/log"),), ("pods", "pods/log")),
    "exec": (rf"{_B}exec(?:ing)?{_E}|{_B}execute\s+commands?{_E}", (("create", "pods/exec"),), ("pods",)),
    "port-forward": (rf"{_B}port[- ]?forward(?:ing|s)?{_E}", (("create", "pods/portforward"),), ("pods",)),
}
# A verb said as itself ("delete pods", "watch configmaps"): that verb on the resources said.
PLAIN: dict[str, tuple[str, ...]] = {
    "get": ("get",), "list": ("list",), "watch": ("watch",), "create": ("create",), "update": ("update",),
    "patch": ("patch",), "delete": ("delete",), "deletecollection": ("deletecollection",), "read": READ,
    "view": READ, "see": READ,
}
# What the role has now, told, not asked ("its role only has get/list", "it already can list"): not read for verbs.
_TOLD = re.compile(r"\b(?:only\s+|already\s+|currently\s+|just\s+)?(?:has|have|had|gives?|grants?|allows?|includes?)"
                   r"\b[^;.!?]*?(?=[;.!?]|\bbut\b|\band\b|$)|\balready\s+(?:can|could)\b[^;.!?,]*")
# Asking to extend: the role exists and gets more.
_EXTEND = re.compile(r"\b(?:add|adds|adding|also|missing|lacks|lacking|extend|expand|include|needs?|needed|should|"
                     r"must|let|allow|give|grant|enable|can\s*n[o']t|cannot|unable|able)\b")
_ITS_ROLE = re.compile(r"\b(?:its|their|his|her|the)\s+(?:own\s+|existing\s+|current\s+)?role\b")


def _scan(ctx: Any, names: set[str]) -> str:
    """The request with the names it says (roles, subjects, namespaces) and its told state blanked: 'log-reader'
    is not a word about logs, and 'only has get/list' is not a verb asked for."""
    low = norm(ctx.text)
    for n in sorted(names, key=len, reverse=True):
        low = re.sub(rf"{_B}{re.escape(n)}{_E}", " ", low)
    return _TOLD.sub(" ", low)


def needs(ctx: Any, names: set[str]) -> tuple[list[tuple[str, str]], list[str]] | None:
    """[(verb, resource)] the request asks the role to allow, and the words it read; None when a verb or resource
    said is left without the other (not understood)."""
    low = _scan(ctx, names)
    said = resources_said(type("T", (), {"text": low})())
    out: list[tuple[str, str]] = []
    words: list[str] = []
    used: set[str] = set()
    for op, (pattern, asks, about) in OPERATIONS.items():
        if not re.search(pattern, low):
            continue
        kinds = [r for r in said if r in about and r not in ("pods", "pods/log", "replicasets")]
        if len(kinds) > 1:
            return None  # "restart deployments and statefulsets": one operation, one kind at a time
        w = kinds[0] if kinds else "deployments"
        out += [(v, r.replace("{w}", w)) for v, r in asks]
        used |= set(about)
        words.append(op)
        low = re.sub(pattern, " ", low)
    plain = [(w, PLAIN[w]) for w in re.findall(r"[a-z]+", low) if w in PLAIN]
    rest = [r for r in said if r not in used]
    if plain and not rest:
        rest = [r for r in said if "/" not in r]  # "patch on deployments so rollout restart works": the same need
        if not rest and (not all(set(vs) <= set(READ) for _, vs in plain) or "logs" not in words):
            return None  # a verb with no resource of its own ("read" beside "logs" is reading the logs)
    if rest and not plain:
        return None
    for w, verbs in plain:
        out += [(v, r) for r in rest for v in verbs if not ("/" in r and v != "get")]
        words.append(w)
    return (list(dict.fromkeys(out)), words) if out else None


def _subject(ctx: Any, ns: str, skip: set[str]) -> dict[str, Any] | None:
    """The ServiceAccount the request names (not a name that is the role's), or 'user X' / 'group X'."""
    low = norm(ctx.text)
    m = re.search(r"\b(user|group)\s+['\"]?(" + NAME + ")", low)
    if m:
        return {"kind": m.group(1).capitalize(), "name": m.group(2), "apiGroup": "rbac.authorization.k8s.io",
                "said": [m.group(2)]}
    sas = {o["metadata"]["name"]: w for _, o, w in resolve(ctx, ("ServiceAccount",), ns, skip=skip)
           if w == o["metadata"]["name"]}  # said exactly: "restart" is not the SA restarter
    if len(sas) != 1:
        return None
    name, word = next(iter(sas.items()))
    return {"kind": "ServiceAccount", "name": name, "namespace": ns, "said": [word]}


def _role_named(ctx: Any, ns: str) -> str | None:
    """The one Role of `ns` the request names as a role ("the deployer role", "role 'log-reader'")."""
    low = norm(ctx.text)
    names = {o["metadata"]["name"] for _, o, _ in resolve(ctx, ("Role",), ns)}
    named = [n for n in names if re.search(rf"{_B}{re.escape(n)}['\"]?\s+role{_E}|{_B}role\s+['\"]?{re.escape(n)}{_E}",
                                           low)]
    return named[0] if len(named) == 1 else None


class AddToRole:
    agent = AGENT
    intent = "role-add"
    vocabulary = frozenset("""add adds adding also missing lacks lacking extend expand include needs need needed should
        must able to do run use perform verb verbs permission permissions right rights access role rule rules what's
        whatever required necessary let allow give grant enable can't cannot unable not has have only just that it its
        their existing current own on for so kubectl rollout roll out restart restarts restarting rolling undo back
        rollback scale scaling logs log exec execing execute command commands port-forward portforward port forward
        forwarding get list watch create update patch delete deletecollection read view see deployment deployments pod
        pods statefulset statefulsets daemonset daemonsets replicaset replicasets configmap configmaps config maps
        secret secrets service services svc job jobs cronjob cronjobs ingress ingresses events service account
        serviceaccount sa user group bot""".split()) | COMMON

    def match(self, ctx: Any) -> dict[str, Any] | None:
        low = norm(ctx.text)
        if not _EXTEND.search(low) or re.search(r"\b(?:remove|revoke|take\s+away|strip|shouldn't|should\s+not|"
                                                r"no\s+longer|create\s+(?:a|an|new)\b)", low):
            return None
        if re.search(r"\b(?:me|myself|my)\b", low) or re.match(r"\s*(?:who|which|what|is|does|do)\b|"
                                                                 r"\s*(?:can|could)\s+(?!you\b|u\b)", low):
            return None  # asking for oneself, or a question: the RBAC agent's own
        ns = namespace(ctx)
        said_role = has(ctx, "role")
        role = _role_named(ctx, ns) if said_role else None
        subject = _subject(ctx, ns, {role} if role else set())
        if role is None and (subject is None or said_role and not _ITS_ROLE.search(low)):
            return None  # which role: one named, or the one of the subject named ("its role")
        names = {ns} | ({role} if role else set()) | set(subject["said"] if subject else [])
        found = needs(ctx, names)
        if found is None:
            return None
        asks, words = found
        if not said_role and (any(w in PLAIN for w in words) or not any(w in OPERATIONS for w in words)):
            return None  # "let ci-bot delete pods": a grant of its own (rbac_grant), not an existing role's change
        joined = [t for t in tokens(ctx.text) if "/" in t and all(p in PLAIN for p in t.split("/"))]  # "get/list"
        return {"namespace": ns, "role": role, "subject": subject, "needs": asks,
                "said": words + joined + ([role] if role else []) + (subject["said"] if subject else [])}

    def plan(self, ctx: Any, slots: dict[str, Any]) -> AgentResult:
        ns, asks = slots["namespace"], [tuple(x) for x in slots["needs"]]
        subject = {k: v for k, v in (slots.get("subject") or {}).items() if k != "said"} or None
        bindings = listed(ctx, "RoleBinding", ns)
        role, why = _target(bindings, slots["role"], subject, ns)
        if role is None:
            return AgentResult(AGENT, f"I did not act: {why}", data={"nothing": True})
        try:
            obj = ctx.kube.get("Role", ns, role)
        except KubeError as e:
            return AgentResult(AGENT, f"I could not read {cite('Role', ns, role)}: {e.message}", [e.message])
        rules = obj.get("rules") or []
        bound = [dict(s, namespace=s.get("namespace") or ns) if s.get("kind") == "ServiceAccount" else s
                 for b in bindings if b.get("roleRef", {}).get("kind") == "Role" and b["roleRef"]["name"] == role
                 for s in b.get("subjects") or []]
        if subject is not None and slots["role"] is None and any(_who(s) != _who(subject) for s in bound):
            return AgentResult(AGENT, f"I did not act: {cite('Role', ns, role)} is also bound to "
                                      f"{', '.join(_who(s) for s in bound if _who(s) != _who(subject))}; adding to it "
                                      f"would give them the same. Name the role if that is meant.",
                               data={"nothing": True})
        return _propose(ctx, ns, role, rules, asks, bound)


def _who(s: dict[str, Any]) -> str:
    return f"{s.get('kind')} {s.get('namespace') + '/' if s.get('namespace') else ''}{s.get('name')}"


def _is(s: dict[str, Any], subj: dict[str, Any], ns: str) -> bool:
    if subj["kind"] == "ServiceAccount":
        return s.get("kind") == "ServiceAccount" and s.get("name") == subj["name"] and \
            (s.get("namespace") or ns) == subj["namespace"]
    return s.get("kind") == subj["kind"] and s.get("name") == subj["name"]


def _target(bindings: list[dict[str, Any]], named: str | None, subject: dict[str, Any] | None,
            ns: str) -> tuple[str | None, str]:
    """The Role to extend, or (None, why not): the one named, else the one Role bound to the subject; a ClusterRole
    (shared by everyone bound to it), several roles or none are not guessed between."""
    if subject is None:
        return named, ""
    refs = {(b["roleRef"].get("kind"), b["roleRef"].get("name"), b["metadata"]["name"]) for b in bindings
            if any(_is(s, subject, ns) for s in b.get("subjects") or [])}
    roles = sorted({(k, n) for k, n, _ in refs})
    who = _who(subject)
    if named is not None:
        if roles and ("Role", named) not in roles:
            return None, f"{who} is not bound to Role {named} in namespace {ns} (its roles: " \
                         f"{', '.join(f'{k} {n}' for k, n in roles)}); say which one to change."
        return named, ""
    if not roles:
        return None, f"no RoleBinding in namespace {ns} binds {who} to a role, so there is no role of its to extend."
    if len(roles) > 1:
        return None, f"{who} is bound to several roles in namespace {ns} ({', '.join(f'{k} {n}' for k, n in roles)}); " \
                     "name the one to extend."
    kind, name = roles[0]
    if kind != "Role":
        return None, f"{who} gets its rights in namespace {ns} from the ClusterRole {name}, which every subject bound " \
                     "to it shares; changing it would change their rights too. Ask for a Role of its own instead " \
                     f"(for example 'let {subject['name']} … in {ns}')."
    return name, ""


def _allows(rules: list[dict[str, Any]], verb: str, resource: str, group: str) -> bool:
    return any((verb in r.get("verbs", []) or "*" in r.get("verbs", [])) and
               (group in r.get("apiGroups", []) or "*" in r.get("apiGroups", [])) and
               (resource in r.get("resources", []) or "*" in r.get("resources", [])) and not r.get("resourceNames")
               for r in rules)


def extended(rules: list[dict[str, Any]], missing: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """The rules with each (verb, resource) added: to the rule that grants exactly that resource in its API group
    (a rule shared with other resources would grant the verb on them too), else in a new rule."""
    out = [dict(r, verbs=list(r.get("verbs") or [])) for r in rules]
    for verb, res in missing:
        group = GROUPS.get(res.partition("/")[0], "")
        i = next((i for i, r in enumerate(out) if r.get("apiGroups") == [group] and r.get("resources") == [res]
                  and not r.get("resourceNames") and not r.get("nonResourceURLs")), None)
        if i is None:
            out.append({"apiGroups": [group], "resources": [res], "verbs": [verb]})
        elif verb not in out[i]["verbs"]:
            out[i]["verbs"].append(verb)
    return out


def _propose(ctx: Any, ns: str, role: str, rules: list[dict[str, Any]], asks: list[tuple[str, str]],
             bound: list[dict[str, Any]]) -> AgentResult:
    """The JSON patch of the rules and its goal."""
    where = f"in namespace {ns}"
    asked = ", ".join(f"{v} {r}" for v, r in asks)
    missing = [(v, r) for v, r in asks if not _allows(rules, v, r, GROUPS.get(r.partition("/")[0], ""))]
    if not missing:
        return AgentResult(AGENT, f"Already so: {cite('Role', ns, role)} allows {asked}. Nothing to add.",
                           data={"already": True})
    goal, evidence = [], []
    touched = sorted({r for _, r in asks} | {r.partition("/")[0] for _, r in asks})
    try:
        for s in bound:
            user, groups = identity(s)
            goal += [can(user, v, r, ns, True, groups, GROUPS.get(r.partition("/")[0], "")) for v, r in asks]
            for r in touched:
                for v in WRITES:
                    if (v, r) in asks or "/" in r and v != "create":
                        continue
                    ok, _ = ctx.kube.subject_can(user, groups + ["system:authenticated"], v, r, ns,
                                                 GROUPS.get(r.partition("/")[0], ""))
                    evidence.append(f"SubjectAccessReview {user} {v} {r} {where}: allowed={ok}")
                    if not ok:
                        goal.append(can(user, v, r, ns, False, groups, GROUPS.get(r.partition("/")[0], "")))
    except KubeError as e:
        return AgentResult(AGENT, f"I could not check the current rights: {e.message}", [e.message])
    new = extended(rules, missing)
    ops = [{"op": "test", "path": "/rules", "value": rules}, {"op": "replace", "path": "/rules", "value": new}]
    added = ", ".join(f"{v} {r}" for v, r in missing)
    m = mutation("patch", "Role", ns, role, goal, f"add {added} to Role {role}", body=ops, patch_type="json")
    who = f" (bound to {', '.join(_who(s) for s in bound)})" if bound else " (no RoleBinding uses it yet)"
    return AgentResult(AGENT, f"Proposed: add {added} to {cite('Role', ns, role)}{who}, so it allows {asked}; "
                              "its other rules stay as they are, and nothing else is granted.", evidence, [m])


register(AddToRole())
