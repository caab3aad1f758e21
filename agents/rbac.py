"""The RBAC agent: can-i for any subject, who-can, why, least-privilege grants, over-broad grants."""

from __future__ import annotations

import re
from typing import Any

from agents.context import AgentContext
from agents.decide import decide, reading
from agents.state import AgentResult
from tools.k8s.client import KubeError, Mutation
from tools.k8s.write_tools import subject_user

RBAC = "rbac.authorization.k8s.io"


def _subject_obj(subject: str) -> dict:
    m = re.match(r"system:serviceaccount:([^:]+):(.+)", subject)
    if m:
        return {"kind": "ServiceAccount", "namespace": m.group(1), "name": m.group(2)}
    return {"kind": "User", "name": subject, "apiGroup": RBAC}


def _rule_allows(rule: dict, verb: str, resource: str, group: str) -> bool:
    res, sub = (resource.split("/", 1) + [""])[:2]
    full = f"{res}/{sub}" if sub else res
    return (("*" in rule.get("verbs", [])) or verb in rule.get("verbs", [])) and \
        (("*" in rule.get("apiGroups", [])) or group in rule.get("apiGroups", [])) and \
        (("*" in rule.get("resources", [])) or full in rule.get("resources", []))


def _bindings(ctx: AgentContext, ns: str | None) -> list[dict]:
    out = []
    for kind in ("ClusterRoleBinding", "RoleBinding"):
        try:
            out += [dict(b, kind=kind) for b in ctx.kube.list(kind, ns if kind == "RoleBinding" else None)]
        except KubeError:
            pass
    return out


def _rules(ctx: AgentContext, ref: dict, ns: str) -> list[dict]:
    try:
        role = ctx.kube.get(ref.get("kind", "Role"), ns if ref.get("kind") == "Role" else None, ref.get("name", ""))
    except KubeError:
        return []
    return role.get("rules") or []


def _matches(subject: dict, s: dict, binding_ns: str) -> bool:
    if subject["kind"] == "ServiceAccount":
        return s.get("kind") == "ServiceAccount" and s.get("name") == subject["name"] and \
            (s.get("namespace") or binding_ns) == subject["namespace"]
    return s.get("kind") == subject["kind"] and s.get("name") == subject["name"]


# The words each of the agent's own intents fully acts on, besides filler and the slots it fills (the subject,
# the namespace, the one verb and the one resource it read). A second resource, "bound to", "read-only", "create a
# Role": words no row has, so the request is not understood and nothing is answered or proposed (agents.decide).
_SUBJECT_WORDS = ("service", "account", "serviceaccount", "sa", "user", "group", "bot")
VOCAB: dict[str, frozenset[str]] = {k: frozenset(v + _SUBJECT_WORDS) for k, v in {
    "who-can": ("who", "which", "subjects", "subject", "can", "else", "able", "allowed", "has", "have", "access",
                "users", "accounts", "everyone", "anyone", "list", "show", "tell"),
    "self-grant": ("give", "grant", "make", "me", "admin", "cluster-admin", "rights", "access", "role",
                   "permissions", "permission"),
    "over-broad": ("over-broad", "overbroad", "broad", "grants", "grant", "too", "much", "many", "risky", "wildcard",
                   "wildcards", "cluster-admin", "audit", "rbac", "who", "read", "secrets", "not", "permissions",
                   "bindings", "roles", "dangerous", "excessive", "privileges", "find", "list", "show", "check",
                   "review", "can"),
    "grant": ("give", "grant", "allow", "let", "access", "rights", "permission", "permissions", "read-only"),
    "can-i": ("can", "allowed", "able", "permitted", "permission", "why", "not", "check", "whether", "really",
              "still", "actually", "pod logs"),
}.items()}
ASK = ("Ask one permission question or one grant, for example 'can ci-bot delete secrets in shop?', 'who can list "
       "configmaps in shop?' or 'let bob view configmaps in shop'.")


def _intents(text: str, e: Any) -> list[str]:
    """The intents of this agent the words point at, most specific first."""
    out = []
    if re.search(r"\b(?:who|which\s+(?:subjects?|users?|accounts?|service\s*accounts?))\b.*\bcan\b", text):
        out.append("who-can")
    if re.search(r"\b(?:give|grant|make)\s+me\b|\bi\s+(?:need|want)\s+(?:to be\s+)?(?:an?\s+)?(?:cluster-?admin|admin)",
                 text):  # asking for rights for oneself: only someone who may bind roles can do that, never silently
        out.append("self-grant")
    if re.search(r"over-?broad|too (?:much|many)|risky|wildcard|cluster-admin|audit", text):
        out.append("over-broad")
    if re.search(r"\b(?:give|grant|allow|let)\b", text) and e.subject:
        out.append("grant")
    out.append("can-i")
    return out


def run(ctx: AgentContext) -> AgentResult:
    e = ctx.entities
    text = ctx.text.lower()
    acts = {"who-can": _who_can, "self-grant": _self_grant, "over-broad": _overbroad, "grant": _grant, "can-i": _can_i}
    slots = {"subject": e.subject, "namespace": e.namespace, "verb": e.verb_word, "resource": e.resource_word}
    readings = [reading(ctx, "rbac", intent, slots, VOCAB[intent], lambda intent=intent: acts[intent](ctx))
                for intent in _intents(text, e)]
    return decide(ctx, "rbac", readings, ASK)


def _can_i(ctx: AgentContext) -> AgentResult:
    e = ctx.entities
    ns = e.namespace
    verb, resource = e.verb or "get", e.resource or "pods"
    group = e.group
    sub = ""
    if resource == "pods/log":
        resource, sub = "pods", "log"
    subject = e.subject
    try:
        if subject:
            groups = ["system:serviceaccounts", f"system:serviceaccounts:{subject.split(':')[2]}"] \
                if subject.startswith("system:serviceaccount:") else []
            allowed, reason = ctx.kube.subject_can(subject, groups + ["system:authenticated"], verb,
                                                   resource + (f"/{sub}" if sub else ""), ns, group)
            who = subject
        else:
            allowed, reason = ctx.kube.can_i(verb, resource, ns, group=group, subresource=sub)
            who = ctx.kube.principal.label
    except KubeError as ex:
        return AgentResult("rbac", f"I cannot check that: {ex.message}", [ex.message])
    where = f"in namespace {ns}" if ns else "cluster-wide"
    res_text = resource + (f"/{sub}" if sub else "")
    answer = f"{'Yes' if allowed else 'No'}: {who} {'can' if allowed else 'cannot'} {verb} {res_text} {where}."
    evidence = [f"SubjectAccessReview {verb} {res_text} {where}: allowed={allowed}" + (f" ({reason})" if reason else "")]
    if subject:
        subj = _subject_obj(subject)
        bound = []
        for b in _bindings(ctx, ns):
            if any(_matches(subj, s, b["metadata"].get("namespace", "")) for s in b.get("subjects") or []):
                ref = b.get("roleRef") or {}
                rules = _rules(ctx, ref, b["metadata"].get("namespace", ""))
                relevant = [r for r in rules if resource in r.get("resources", []) or "*" in r.get("resources", [])]
                grants = "; ".join(f"{','.join(r.get('verbs', []))} {','.join(r.get('resources', [])[:6])}"
                                   for r in (relevant or rules)[:3]) or "no rules"
                bound.append(f"{b['kind']} {b['metadata']['name']} -> {ref.get('kind')} {ref.get('name')} ({grants})")
        if bound:
            answer += " Its bindings: " + "; ".join(bound) + "."
            evidence += bound
        elif not allowed:
            answer += " It has no RoleBinding or ClusterRoleBinding of its own."
    if allowed and reason:
        answer += f" Why: {reason}."
    return AgentResult("rbac", answer, evidence, data={"allowed": allowed})


def _who_can(ctx: AgentContext) -> AgentResult:
    e = ctx.entities
    verb, resource, group, ns = e.verb or "get", e.resource or "secrets", e.group, e.namespace
    subjects = []
    for b in _bindings(ctx, ns):
        for rule in _rules(ctx, b.get("roleRef") or {}, b["metadata"].get("namespace", "")):
            if _rule_allows(rule, verb, resource, group):
                for s in b.get("subjects") or []:
                    label = f"{s.get('kind')} {s.get('namespace') + '/' if s.get('namespace') else ''}{s.get('name')}"
                    subjects.append(f"{label} (via {b['kind']} {b['metadata']['name']} -> {b['roleRef']['name']})")
                break
    where = f"in namespace {ns}" if ns else "cluster-wide"
    if not subjects:
        return AgentResult("rbac", f"Nobody is granted {verb} {resource} {where} by a binding I can read.")
    return AgentResult("rbac", f"Who can {verb} {resource} {where}: " + "; ".join(sorted(set(subjects))) + ".",
                       sorted(set(subjects)))


def _overbroad(ctx: AgentContext) -> AgentResult:
    found = []
    for b in _bindings(ctx, ctx.namespace):
        ref = b.get("roleRef") or {}
        name = b["metadata"]["name"]
        if name.startswith("system:") or (b["metadata"].get("labels") or {}).get("kubernetes.io/bootstrapping"):
            continue
        subjects = ", ".join(f"{s.get('kind')} {s.get('name')}" for s in b.get("subjects") or [])
        if ref.get("name") == "cluster-admin":
            found.append(f"{b['kind']} {name} gives cluster-admin to {subjects}")
            continue
        for rule in _rules(ctx, ref, b["metadata"].get("namespace", "")):
            if "*" in rule.get("verbs", []) or "*" in rule.get("resources", []):
                found.append(f"{b['kind']} {name} ({ref.get('kind')} {ref.get('name')}) has a wildcard rule for {subjects}")
                break
            if "secrets" in rule.get("resources", []) and set(rule.get("verbs", [])) & {"get", "list", "watch"}:
                found.append(f"{b['kind']} {name} ({ref.get('kind')} {ref.get('name')}) lets {subjects} read secrets")
                break
    if not found:
        return AgentResult("rbac", "I found no over-broad grants (no cluster-admin, wildcard or secrets-reading "
                                   "bindings outside the system defaults).")
    return AgentResult("rbac", "Over-broad grants: " + "; ".join(found) + ".", found)


def _grant(ctx: AgentContext) -> AgentResult:
    """A least-privilege Role + RoleBinding for a described need (proposed, applied only after approval)."""
    e = ctx.entities
    ns = e.namespace or "default"
    resource = e.resource or "pods"
    verbs = ["get", "list", "watch"] if (e.verb in (None, "get", "list", "watch")) else [e.verb]
    subj = _subject_obj(e.subject or "")
    base = f"{subj['name']}-{resource.replace('/', '-')}-{'read' if verbs[0] == 'get' else verbs[0]}"
    role = {"apiVersion": f"{RBAC}/v1", "kind": "Role", "metadata": {"name": base, "namespace": ns},
            "rules": [{"apiGroups": [e.group], "resources": [resource], "verbs": verbs}]}
    binding = {"apiVersion": f"{RBAC}/v1", "kind": "RoleBinding", "metadata": {"name": base, "namespace": ns},
               "roleRef": {"apiGroup": RBAC, "kind": "Role", "name": base}, "subjects": [subj]}
    muts = [Mutation("create", "Role", ns, base, body=role, why=f"least-privilege Role: {', '.join(verbs)} {resource}"),
            Mutation("create", "RoleBinding", ns, base, body=binding, why=f"bind {subj['name']} to Role {base}")]
    who = subject_user(subj)
    if who is not None and "/" not in resource:  # the goal: the subject can now do what was asked
        muts[1].goal = [{"can": {"user": who[0], "groups": who[1], "verb": v, "resource": resource, "group": e.group,
                                 "namespace": ns}, "value": True} for v in verbs]
    return AgentResult("rbac", f"Proposed: Role {ns}/{base} allowing {', '.join(verbs)} on {resource}, bound to "
                               f"{subj['kind']} {subj['name']}. Nothing broader.", mutations=muts)


def _self_grant(ctx: AgentContext) -> AgentResult:
    who = ctx.kube.principal.label
    try:
        allowed, _ = ctx.kube.can_i("create", "ClusterRoleBinding")
    except KubeError as ex:
        return AgentResult("rbac", f"I cannot check that: {ex.message}", [ex.message])
    if not allowed:
        return AgentResult("rbac", f"You ({who}) are not allowed to create role bindings, so you cannot grant "
                                   "yourself more rights; ask a cluster administrator.",
                           [f"SelfSubjectAccessReview: create clusterrolebindings → denied for {who}"])
    return AgentResult("rbac", f"You ({who}) may create cluster role bindings. I do not grant rights to the person "
                               "asking for them; name the subject and the exact rights (for example 'let alice read "
                               "pods in shop') and I will propose the least-privilege binding for approval.")
