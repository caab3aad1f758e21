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
    "who-can": ("who", "which", "subjects", "subject", "can", "else", "able", "allowed", "permitted", "has", "have",
                "access", "permission", "permissions", "rights", "users", "accounts", "everyone", "anyone", "list",
                "show", "tell"),
    "list-rights": ("what", "can", "do", "allowed", "able", "permitted", "permission", "permissions", "rights",
                    "access", "privileges", "list", "show", "tell", "all", "am", "my", "exactly", "currently"),
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

# "who can …", "who is allowed to …", "who's able to …", "which users can …", "who has access to …": a question
# about every subject, never a can-i for the person asking.
_WHO = re.compile(r"\b(?:who|which\s+(?:subjects?|users?|accounts?|service\s*accounts?|people|groups?|identities))\b"
                  r".*\b(?:can|could|may|allowed|able|permitted|access|permissions?|rights)\b")
# "what can ci-bot do in shop", "what am I allowed to do", "list alice's permissions", "what permissions does the
# orders service account have": everything one subject may do (kubectl auth can-i --list), not one can-i.
_RIGHTS = re.compile(r"\bwhat\s+(?:exactly\s+|precisely\s+)?(?:can|could|may)\b.*\bdo\b|\bwhat\b.*\b(?:allowed|able|permitted)\s+to\s+do\b|"
                     r"\b(?:what|which)\s+(?:permissions|rights|access|privileges)\b|"
                     r"\bwhat\s+(?:are|is)\s+(?:my|your|the|its|their|[\w-]+'s)\s+(?:permissions|rights|access|"
                     r"privileges)\b|"
                     r"\b(?:list|show|tell|display|describe)\b.*\b(?:permissions|rights|privileges)\b")
# Taking rights away: the registry's revoke path (agents.fastpaths.rbac_revoke), never a can-i about "remove".
_REVOKE = re.compile(r"\b(?:revoke|remove|take\s+away|withdraw|strip|unbind)\b")
_GRANTS = re.compile(r"\b(?:give|grant|allow|let|permit)\b")
# A question about rights ("can alice grant roles?", "is bob allowed to …"), not an order ("can you give …").
_QUESTION = re.compile(r"^\s*(?!please\s+do\b)(?:please\s+)?(?:can|could|may|is|are|does|do|did|will|would|has|have|who|"
                       r"what|which|"
                       r"why|how)\b(?!\s+(?:you|u|we|i)\b)|^\s*(?:please\s+)?(?:check|tell\s+me|find\s+out|see|verify|"
                       r"i\s+wonder|do\s+you\s+know)\b.*\b(?:whether|if)\b")
_SELF = re.compile(r"\b(?:i|me|my|myself)\b")
# "bob here — what are my permissions", "this is bob: what can I do": the person asking says who they are; the
# answer is still the signed-in principal's own rights (what the API server says), never the name's bindings.
INTRO = re.compile(r"^\W*(?:(?:hi|hey|hello)\W+)?(?:(?:it'?s|this\s+is|i'?m|i\s+am)\s+)?([a-z0-9][\w.@-]*)"
                   r"(?:\s+here\b|(?=\s*[:,—-]+\s*(?:what|which|list|show)\b))")
# Narrowing rights ("ci-bot shouldn't be able to touch secrets any more; it still needs …") is an order for the
# registry's narrow path (agents.fastpaths.rbac_narrow), never a can-i about what it can do now.
_NARROW = re.compile(r"\b(?:should\s*n[o']?t|should\s+not|must\s*n[o']?t|must\s+not|no\s+longer|any\s*more)\b.*"
                     r"\b(?:still|keep|keeps|retain|only\s+needs?)\b|\b(?:still|keep|keeps|retain)\b.*"
                     r"\b(?:should\s*n[o']?t|should\s+not|must\s*n[o']?t|must\s+not|no\s+longer|any\s*more)\b")


def _intents(text: str, e: Any) -> list[str]:
    """The intents of this agent the words point at, most specific first. A request that asks about every subject,
    about everything one subject may do, or to grant or take away rights is never read as a can-i: a can-i answer
    to it would be true but not the question (and for the person asking, not the subject named)."""
    out = []
    who = bool(_WHO.search(text))
    rights = not who and bool(_RIGHTS.search(text)) and bool(e.subject or _SELF.search(text))
    question = bool(_QUESTION.search(text))
    order = not question and bool(_GRANTS.search(text) or _REVOKE.search(text) or _NARROW.search(text))
    if who:
        out.append("who-can")
    if rights:
        out.append("list-rights")
    if re.search(r"\b(?:give|grant|make)\s+me\b|\bi\s+(?:need|want)\s+(?:to be\s+)?(?:an?\s+)?(?:cluster-?admin|admin)",
                 text) and re.search(r"\b(?:cluster-?admin|admin|rights?|access|roles?|permissions?|privileges?|edit|"
                                     r"view|sudo|root)\b", text):
        # asking for rights for oneself: only someone who may bind roles can do that, never silently ("give me a
        # health overview" asks for an answer, not for rights)
        out.append("self-grant")
    if re.search(r"\b(?:over-?broad|too (?:much|many)|risky|wildcards?|cluster-admin|audit)\b", text):
        out.append("over-broad")
    if _GRANTS.search(text) and not question and e.subject and e.resource and "/" not in e.resource and \
            not (e.resource == "roles" and re.search(r"\brole\b", text)):  # "let the deployer role …": a Role named
        out.append("grant")  # no resource said ("edit rights", "admin"): the registry's grant path reads it
    if not (who or rights or order) and (question or e.subject):
        out.append("can-i")  # "create a deployment in shop", "list the cronjobs": orders, never a can-i about them
    return out


def run(ctx: AgentContext) -> AgentResult:
    e = ctx.entities
    text = ctx.text.lower()
    acts = {"who-can": _who_can, "list-rights": _list_rights, "self-grant": _self_grant, "over-broad": _overbroad,
            "grant": _grant, "can-i": _can_i}
    slots = {"subject": e.subject, "namespace": e.namespace, "verb": e.verb_word, "resource": e.resource_word}
    intro = INTRO.search(text)
    if intro and _SELF.search(text):
        slots["caller"] = intro.group(1)  # "bob here — what are my permissions": who the person says they are
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


def _rule_covers(rule: dict, resource: str, group: str) -> bool:
    """The rule is about `resource` (of API group `group`), whatever its verbs."""
    return _rule_allows(dict(rule, verbs=["*"]), "*", resource, group) and not rule.get("resourceNames")


def _listed_bindings(ctx: AgentContext, ns: str | None) -> tuple[list[dict], str]:
    """Every RoleBinding (in `ns`, or everywhere) and ClusterRoleBinding, and what could not be read: an answer
    about who may do what from bindings it could not list would be a false 'nobody'."""
    out, missing = [], []
    for kind in ("ClusterRoleBinding", "RoleBinding"):
        try:
            out += [dict(b, kind=kind) for b in ctx.kube.list(kind, ns if kind == "RoleBinding" else None)]
        except KubeError as ex:
            missing.append(f"{kind}s: {ex.message}")
    return out, "; ".join(missing)


def _label(s: dict, binding_ns: str) -> str:
    """'User alice', 'Group ops', 'ServiceAccount shop/ci-bot' (a ServiceAccount without a namespace is the
    binding's)."""
    sa_ns = (s.get("namespace") or binding_ns) if s.get("kind") == "ServiceAccount" else ""
    return f"{s.get('kind')} {sa_ns + '/' if sa_ns else ''}{s.get('name')}"


_VERB_ORDER = ("get", "list", "watch", "create", "update", "patch", "delete", "deletecollection", "*")


def _verbs_text(verbs: set[str]) -> str:
    if "*" in verbs:
        return "every verb"
    return ", ".join(sorted(verbs, key=lambda v: (_VERB_ORDER.index(v) if v in _VERB_ORDER else 99, v)))


def _who_can(ctx: AgentContext) -> AgentResult:
    """Every subject bound to a role that allows the asked verb (or, with none said, any verb) on the resource in
    the namespace, and the binding it comes from."""
    e = ctx.entities
    ns, resource, group = e.namespace, e.resource, e.group
    where = f"in namespace {ns}" if ns else "cluster-wide"
    bindings, missing = _listed_bindings(ctx, ns)
    if missing:
        return AgentResult("rbac", f"I cannot answer who can: I could not list {missing}.", [missing])
    if not resource:
        return _bound_in(bindings, where)
    found: dict[str, set[str]] = {}
    for b in bindings:
        bns = b["metadata"].get("namespace", "")
        rules = _rules(ctx, b.get("roleRef") or {}, bns)
        verbs = {e.verb} if e.verb and any(_rule_allows(r, e.verb, resource, group) for r in rules) else set() \
            if e.verb else {v for r in rules if _rule_covers(r, resource, group) for v in r.get("verbs", [])}
        for s in (b.get("subjects") or []) if verbs else []:
            key = f"{_label(s, bns)} (via {b['kind']} {b['metadata']['name']} -> {b['roleRef']['name']})"
            found.setdefault(key, set()).update(verbs)
    if not found:
        what = f"{e.verb} {resource}" if e.verb else f"any access to {resource}"
        return AgentResult("rbac", f"Nobody is granted {what} {where} by a binding I can read.")
    if e.verb:
        lines = sorted(found)
        return AgentResult("rbac", f"Who can {e.verb} {resource} {where}: " + "; ".join(lines) + ".", lines)
    lines = sorted(f"{k.split(' (via ')[0]}: {_verbs_text(v)} (via {k.split(' (via ')[1]}" for k, v in found.items())
    return AgentResult("rbac", f"Who has access to {resource} {where}: " + "; ".join(lines) + ".", lines)


def _bound_in(bindings: list[dict], where: str) -> AgentResult:
    """No resource said ("who has access in shop"): every binding there, who it binds and to which role."""
    lines = sorted(f"{', '.join(_label(s, b['metadata'].get('namespace', '')) for s in b.get('subjects') or [])} "
                   f"(via {b['kind']} {b['metadata']['name']} -> {b['roleRef'].get('kind')} {b['roleRef']['name']})"
                   for b in bindings if b.get("subjects") and not b["roleRef"]["name"].startswith("system:"))
    return AgentResult("rbac", f"Bound to a role {where} (besides the system defaults): " + "; ".join(lines) + ".",
                       lines)


# What every signed-in user may do (system:basic-user): said apart, not listed as the subject's rights.
_BASIC = frozenset({"selfsubjectaccessreviews.authorization.k8s.io", "selfsubjectrulesreviews.authorization.k8s.io",
                    "selfsubjectreviews.authentication.k8s.io"})


def _said_namespace(ctx: AgentContext) -> str | None:
    """The namespace when the request names it (not the default the context fell back to)."""
    ns = ctx.entities.namespace
    return ns if ns and re.search(rf"(?<![\w-]){re.escape(ns)}(?![\w-])", ctx.text.lower()) else None


def _table(rules: list[dict]) -> dict[str, set[str]]:
    """resource (as kubectl writes it, `deployments.apps`) -> verbs, from resource rules."""
    table: dict[str, set[str]] = {}
    for r in rules:
        for g in r.get("apiGroups") or [""]:
            for res in r.get("resources") or []:
                label = res + (f".{g}" if g else "") + (f" [{', '.join(r['resourceNames'])}]"
                                                         if r.get("resourceNames") else "")
                table.setdefault(label, set()).update(r.get("verbs") or [])
    return table


def _table_text(table: dict[str, set[str]], resource: str | None) -> str:
    """'get, list, watch: configmaps, pods; create, delete: pods' — resources with the same verbs together; only
    `resource` when one was asked about."""
    if resource:
        table = {k: v for k, v in table.items() if k.split(".")[0].split(" ")[0] in (resource, "*")}
    by_verbs: dict[str, list[str]] = {}
    for res, verbs in sorted(table.items()):
        if res not in _BASIC:
            by_verbs.setdefault(_verbs_text(verbs), []).append(res)
    return "; ".join(f"{verbs}: {', '.join(res)}" for verbs, res in by_verbs.items())


def _list_rights(ctx: AgentContext) -> AgentResult:
    """Everything one subject may do, like `kubectl auth can-i --list`: for the person asking, the API server's own
    SelfSubjectRulesReview; for another subject, the rules of every binding that names it (or a group the API says
    it is in)."""
    e = ctx.entities
    ns = _said_namespace(ctx)
    intro = INTRO.search(ctx.text.lower())
    said = intro.group(1) if intro and _SELF.search(ctx.text.lower()) else None
    if e.subject is None or (said and e.subject.split(":")[-1] == said):
        return _self_rights(ctx, ns or ctx.namespace or "default", said)
    subj = _subject_obj(e.subject)
    if ns is None and subj["kind"] == "ServiceAccount":
        ns = subj["namespace"]
    bindings, missing = _listed_bindings(ctx, ns)
    if missing:
        return AgentResult("rbac", f"I cannot list what {e.subject} may do: I could not list {missing}.", [missing])
    groups = {"system:authenticated"} | ({"system:serviceaccounts", f"system:serviceaccounts:{subj['namespace']}"}
                                         if subj["kind"] == "ServiceAccount" else set())
    scopes: dict[str, list[dict]] = {}
    sources = []
    for b in bindings:
        bns = b["metadata"].get("namespace", "")
        if not any(_matches(subj, s, bns) or (s.get("kind") == "Group" and s.get("name") in groups)
                   for s in b.get("subjects") or []):
            continue
        ref = b.get("roleRef") or {}
        scopes.setdefault(f"in namespace {bns}" if bns else "in every namespace", []).extend(_rules(ctx, ref, bns))
        if not ref.get("name", "").startswith("system:"):
            sources.append(f"{b['kind']} {bns + '/' if bns else ''}{b['metadata']['name']} -> {ref.get('kind')} "
                           f"{ref.get('name')}")
    who = _label(subj, "")
    parts = [(where, text) for where, rules in sorted(scopes.items()) if (text := _table_text(_table(rules), e.resource))]
    scope = f" in namespace {ns}" if ns else ""
    parts = [text if where == scope.strip() else f"{where}: {text}" for where, text in parts]
    if not parts:
        answer = f"{who} may do nothing{scope}" + (f" with {e.resource}" if e.resource else "") + \
            " beyond checking its own access: no binding grants it anything."
    else:
        answer = f"What {who} may do{scope}: " + " | ".join(parts) + ". From: " + "; ".join(sources) + "."
    if subj["kind"] == "User":
        answer += (f" Bindings to groups {subj['name']} belongs to are not counted: the API does not say which groups "
                   "a user is in.")
    return AgentResult("rbac", answer, sources)


def _self_rights(ctx: AgentContext, ns: str, said: str | None = None) -> AgentResult:
    """What the person asking may do in `ns`, as the API server answers it (SelfSubjectRulesReview). `said`: the
    name they gave ("bob here"); the answer is the signed-in principal's, and says so when that is someone else."""
    body = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectRulesReview", "spec": {"namespace": ns}}
    try:
        status = (ctx.kube.request("POST", "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews", body) or {}) \
            .get("status") or {}
    except KubeError as ex:
        return AgentResult("rbac", f"I cannot check that: {ex.message}", [ex.message])
    who = ctx.kube.principal.label
    text = _table_text(_table(status.get("resourceRules") or []), ctx.entities.resource)
    answer = f"What you ({who}) may do in namespace {ns}: {text}." if text else \
        f"You ({who}) may do nothing in namespace {ns}: no permissions there. You cannot get, list, create, change " \
        "or delete anything in it, except check your own access (which every signed-in user may)."
    if said and said not in (who, who.split(":")[-1]):
        answer = f"You are signed in as {who}, not {said}; the API server answers for {who}. " + answer
    if status.get("incomplete"):
        answer += f" The API server says this list is incomplete: {status.get('evaluationError', '')}".rstrip(": ")
    return AgentResult("rbac", answer, [f"SelfSubjectRulesReview in {ns}: {len(status.get('resourceRules') or [])} "
                                        "resource rules"])


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
