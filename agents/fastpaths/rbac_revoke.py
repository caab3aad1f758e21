"""Take a subject's rights away: "remove alice's view access in shop", "revoke bob's edit rights in shop", "take away
ci-bot's edit rights in shop".

Why its own fast path: rights are taken away by removing what grants them, and nothing more. The plan deletes the
RoleBinding that names the subject when the subject is its only subject, else removes just that subject from it (a
JSON patch guarded by a `test` of the subjects as read). The goal: the subject can no longer do what the binding gave
it (SubjectAccessReviews of a sample of the role's rules, each one no other binding of the subject grants), what it
keeps from its other bindings it still can do, and the binding's other subjects still can do what it gives them.

When no RoleBinding in the namespace names the subject, or the rights also come from a ClusterRoleBinding or a
group's binding, removing a RoleBinding would not take them away (or would take away more than asked): it says so
and proposes nothing.
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
    has,
    mutation,
    namespace,
    norm,
    one,
    resolve,
    resources_said,
    words,
)
from agents.fastpaths.rbac_grant import ROLE_WORDS, VERB_WORDS, _subject, identity
from agents.state import AgentResult
from tools.k8s.client import KubeError

AGENT = "rbac"
_REVOKE = re.compile(r"\b(?:revoke|remove|take\s+away|withdraw|strip|unbind)\b")
# A question ("can alice remove …?", "who can revoke …") is the RBAC agent's own.
_QUESTION = re.compile(r"^\s*(?:please\s+)?(?:can|could|may|is|are|does|do|did|will|would|who|what|which|why|how)\b"
                       r"(?!\s+(?:you|u)\b)")
# Whose rights, said by grammar when no binding names the person ("revoke bob's edit rights"): the person has none
# to take away, and the answer says so.
_WHOSE = re.compile(r"\b(?:revoke|remove|take\s+away|withdraw|strip)\s+(?:user\s+)?(" + NAME + r")'s\b|"
                    r"\bfrom\s+(?:user\s+)?(" + NAME + r")(?:\s+in\b|\s*$|[.,!])")
_READS = ("get", "list", "watch")


class RevokeAccess:
    agent = AGENT
    intent = "revoke"
    vocabulary = frozenset("""revoke remove take away withdraw strip unbind access rights right permission
        permissions privileges role rolebinding binding admin administrator edit editor view viewer service account
        serviceaccount sa user from""".split()) | COMMON

    def match(self, ctx: Any) -> dict[str, Any] | None:
        low = norm(ctx.text)
        if not _REVOKE.search(low) or _QUESTION.search(low) or re.search(r"\b(?:me|myself|my)\b", low):
            return None
        if not has(ctx, "access", "rights", "right", "permission", "permissions", "privileges", "role", "binding",
                   "rolebinding", *ROLE_WORDS):
            return None
        said_ns = namespace(ctx)
        said_ns = said_ns if said_ns in words(ctx) else None
        subject = _subject(ctx, said_ns) or _whose(ctx, low)
        if subject is None:
            return None
        ns = said_ns or subject.get("namespace")
        if ns is None:
            return None  # a person's rights in which namespace? (a ServiceAccount's are in its own)
        if resources_said(ctx, skip={subject["name"], ns}) or any(
                w in VERB_WORDS and w not in ROLE_WORDS for w in words(ctx)):
            return None  # "remove ci-bot's access to secrets": a part of a role, which a binding cannot take away
        roles = {ROLE_WORDS[w] for w in words(ctx) if w in ROLE_WORDS}
        named = one(resolve(ctx, ("Role", "RoleBinding"), ns, skip={subject["name"], ns, *ROLE_WORDS}))
        if len(roles) > 1 or (roles and named):
            return None
        role = roles.pop() if roles else (named[1]["metadata"]["name"] if named and named[0] == "Role" else None)
        binding = named[1]["metadata"]["name"] if named and named[0] == "RoleBinding" else None
        return {"subject": subject, "namespace": ns, "role": role, "binding": binding,
                "said": subject["said"] + ([named[2]] if named else [])}

    def plan(self, ctx: Any, slots: dict[str, Any]) -> AgentResult:
        subj = {k: v for k, v in slots["subject"].items() if k != "said"}
        ns, role, bname = slots["namespace"], slots["role"], slots["binding"]
        who = f"{subj['kind']} {subj['namespace'] + '/' if subj.get('namespace') else ''}{subj['name']}"
        try:
            rbs = [dict(b, kind="RoleBinding") for b in ctx.kube.list("RoleBinding", ns)]
            crbs = [dict(b, kind="ClusterRoleBinding") for b in ctx.kube.list("ClusterRoleBinding")]
        except KubeError as e:
            return AgentResult(AGENT, f"I did not act: I cannot list the bindings: {e.message}", [e.message])
        what = f"{role} access" if role else f"binding {bname}" if bname else "access"
        wanted = [b for b in rbs if _names(b, subj, ns) and (role is None or b["roleRef"]["name"] == role)
                  and (bname is None or b["metadata"]["name"] == bname)]
        cluster = [b for b in crbs if _names(b, subj, "") and (role is None or b["roleRef"]["name"] == role)]
        grouped = [b for b in rbs + crbs if wanted and b not in wanted and _group_grants(b, subj, role, wanted)]
        evidence = [f"{cite(b['kind'], b['metadata'].get('namespace'), b['metadata']['name'])} -> "
                    f"{b['roleRef'].get('kind')} {b['roleRef']['name']}: "
                    f"{', '.join(_label(s) for s in b.get('subjects') or [])}" for b in wanted + cluster + grouped]
        if cluster or grouped:
            why = [f"comes from {_list(cluster)}, which is cluster-wide" if cluster else "",
                   f"may also come from {_list(grouped)} (the API does not say who is in a group)" if grouped else ""]
            return AgentResult(AGENT, f"I did not act: {who}'s {what} in namespace {ns} "
                                      f"{' and '.join(w for w in why if w)}. Removing a RoleBinding in {ns} would not "
                                      "take it away, and changing that binding would change more than asked.",
                               evidence, data={"nothing": True})
        if not wanted:
            groups = [b for b in rbs + crbs if not b["roleRef"]["name"].startswith("system:") and any(
                s.get("kind") == "Group" and not s.get("name", "").startswith("system:") for s in b.get("subjects") or [])]
            hint = (f" Groups are bound there: {_list(groups)}. If {subj['name']} has rights in {ns} through one of "
                    "them, they come from membership of that group, which is kept outside Kubernetes; I propose "
                    "nothing.") if groups and subj["kind"] == "User" else ""
            return AgentResult(AGENT, f"Nothing to revoke: no RoleBinding in namespace {ns} gives {who} {what}."
                                      + hint, evidence, data={"nothing": True})
        return _propose(ctx, subj, who, ns, wanted, rbs + crbs, evidence)


def _whose(ctx: Any, low: str) -> dict[str, Any] | None:
    """A person named only by the grammar of the request: "revoke bob's …", "… from bob in shop"."""
    m = _WHOSE.search(low)
    name = (m.group(1) or m.group(2)) if m else None
    if not name or name in VERB_WORDS or name in ROLE_WORDS or name in ("the", "a", "an", "all"):
        return None
    return {"kind": "User", "name": name, "apiGroup": "rbac.authorization.k8s.io", "said": [name]}


def _is(subj: dict[str, Any], s: dict[str, Any], binding_ns: str) -> bool:
    """The binding subject `s` is the subject (a ServiceAccount subject without a namespace is the binding's)."""
    if subj["kind"] == "ServiceAccount":
        return s.get("kind") == "ServiceAccount" and s.get("name") == subj["name"] and \
            (s.get("namespace") or binding_ns) == subj["namespace"]
    return s.get("kind") == subj["kind"] and s.get("name") == subj["name"]


def _names(b: dict[str, Any], subj: dict[str, Any], binding_ns: str) -> bool:
    return any(_is(subj, s, binding_ns) for s in b.get("subjects") or [])


def _groups_of(subj: dict[str, Any]) -> set[str]:
    """The groups the API says the subject is in (a user's other groups it does not say)."""
    if subj["kind"] == "ServiceAccount":
        return {"system:authenticated", "system:serviceaccounts", f"system:serviceaccounts:{subj['namespace']}"}
    return {"system:authenticated"}


def _group_grants(b: dict[str, Any], subj: dict[str, Any], role: str | None, wanted: list[dict[str, Any]]) -> bool:
    """A binding of a group to the same role as what is to be taken away: the subject may keep it through the group
    (a ServiceAccount surely, a user when it is a member: the API does not say)."""
    refs = {role} if role else {w["roleRef"]["name"] for w in wanted}
    if b["roleRef"]["name"] not in refs:
        return False
    groups = [s.get("name") for s in b.get("subjects") or [] if s.get("kind") == "Group"]
    return any(g in _groups_of(subj) or (subj["kind"] == "User" and not g.startswith("system:")) for g in groups)


def _label(s: dict[str, Any]) -> str:
    return f"{s.get('kind')} {s.get('namespace') + '/' if s.get('namespace') else ''}{s.get('name')}"


def _list(bindings: list[dict[str, Any]]) -> str:
    return "; ".join(f"{b['kind']} {b['metadata']['name']} (-> {b['roleRef']['name']}, for "
                     f"{', '.join(_label(s) for s in b.get('subjects') or [])})" for b in bindings)


def _rules(ctx: Any, b: dict[str, Any]) -> list[dict[str, Any]]:
    ref = b.get("roleRef") or {}
    try:
        role = ctx.kube.get(ref.get("kind", "Role"), b["metadata"].get("namespace") if ref.get("kind") == "Role"
                            else None, ref.get("name", ""))
    except KubeError:
        return []
    return role.get("rules") or []


def _allows(rules: list[dict[str, Any]], verb: str, resource: str, group: str) -> bool:
    return any((verb in r.get("verbs", []) or "*" in r.get("verbs", [])) and
               (group in r.get("apiGroups", []) or "*" in r.get("apiGroups", [])) and
               (resource in r.get("resources", []) or "*" in r.get("resources", [])) and not r.get("resourceNames")
               for r in rules)


def _sample(rules: list[dict[str, Any]], limit: int = 6) -> list[tuple[str, str, str]]:
    """A few (verb, resource, API group) the rules grant: per rule, its first plain resource with a read verb and a
    write verb (a wildcard stands for pods, get and delete)."""
    out: list[tuple[str, str, str]] = []
    for r in rules:
        if r.get("resourceNames") or not r.get("resources"):
            continue
        res = next((x for x in r["resources"] if "/" not in x), None)
        wild = "*" in (r.get("apiGroups") or [])
        group = GROUPS.get(res or "", "") if wild else (r.get("apiGroups") or [""])[0]
        if res == "*":
            res = "pods" if group == "" else None
        if res is None:
            continue
        verbs = r.get("verbs") or []
        picks = ["get", "delete"] if "*" in verbs else \
            [v for v in (next((v for v in verbs if v in _READS), None), next((v for v in verbs if v not in _READS),
                                                                              None)) if v]
        out += [(v, res, group) for v in picks if (v, res, group) not in out]
        if len(out) >= limit:
            break
    return out[:limit]


def _propose(ctx: Any, subj: dict[str, Any], who: str, ns: str, wanted: list[dict[str, Any]],
             bindings: list[dict[str, Any]], evidence: list[str]) -> AgentResult:
    """Delete each binding that names only the subject, else patch the subject out of it; the goal on the last
    change (everything is removed by then)."""
    user, groups = identity(subj)
    mine = [b for b in bindings if b not in wanted and (_names(b, subj, b["metadata"].get("namespace", "")) or any(
        s.get("kind") == "Group" and s.get("name") in _groups_of(subj) for s in b.get("subjects") or []))]
    kept_rules = [r for b in mine for r in _rules(ctx, b)]
    lost = [x for b in wanted for x in _sample(_rules(ctx, b)) if not _allows(kept_rules, *x)]
    lost = list(dict.fromkeys(lost))
    if not lost:
        return AgentResult(AGENT, f"I did not act: removing {_list(wanted)} would change nothing: {who} gets the same "
                                  f"rights from {_list(mine)}.", evidence, data={"nothing": True})
    goal = [can(user, v, r, ns, False, groups, g) for v, r, g in lost]
    goal += [can(user, v, r, ns, True, groups, g) for b in mine if not b["roleRef"]["name"].startswith("system:")
             for v, r, g in _sample(_rules(ctx, b), 2)][:4]
    muts, done = [], []
    for b in wanted:
        name, subjects = b["metadata"]["name"], b.get("subjects") or []
        rest = [s for s in subjects if not _is(subj, s, ns)]
        if not rest:
            muts.append(mutation("delete", "RoleBinding", ns, name, [absent("RoleBinding", ns, name)],
                                 f"RoleBinding {name} binds only {who} (to {b['roleRef']['name']})"))
            done.append(f"delete RoleBinding {ns}/{name} (it binds only {who} to {b['roleRef']['name']})")
            continue
        keep = []
        for s in rest[:3]:
            u, gs = identity(dict(s, namespace=s.get("namespace") or ns))
            keep += [can(u, v, r, ns, True, gs, g) for v, r, g in _sample(_rules(ctx, b), 1)]
        ops = [{"op": "test", "path": "/subjects", "value": subjects}, {"op": "replace", "path": "/subjects",
                                                                         "value": rest}]
        subject_of = {k: subj[k] for k in ("kind", "name")}
        muts.append(mutation("patch", "RoleBinding", ns, name,
                             [expect("RoleBinding", ns, name, "subjects", subject_of, "not_contains"),
                              expect("RoleBinding", ns, name, "roleRef.name", b["roleRef"]["name"])] + keep,
                             f"take {who} out of RoleBinding {name}; its other subjects keep it", body=ops,
                             patch_type="json"))
        done.append(f"remove {who} from RoleBinding {ns}/{name} (its other subjects keep it: "
                    f"{', '.join(_label(s) for s in rest)})")
    muts[-1].goal = list(muts[-1].goal or []) + goal
    after = ", ".join(f"{v} {r}" for v, r, _ in lost)
    return AgentResult(AGENT, f"Proposed: {'; '.join(done)}. Afterwards {who} can no longer {after} in namespace {ns}; "
                              "nothing else changes.", evidence, muts)


register(RevokeAccess())
