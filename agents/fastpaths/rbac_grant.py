"""Grant a ServiceAccount, user or group exactly the asked verbs on the asked resources: a Role (or ClusterRole) and
its binding, in one plan.

Why its own fast path: "create a read-only Role for pods bound to ServiceAccount ci-bot" was answered with a can-i
about creating namespaces, and "give ci-bot rights on ConfigMaps" asked "which workload?". The verbs come from a
small table ("read-only" = get, list, watch), the resources from the kind words, the subject must exist (a
ServiceAccount) or be named as a user/group; the goal is access itself: the subject can do each asked verb, and
still cannot do the write verbs it could not do before and did not ask for.
"""

from __future__ import annotations

import re
from typing import Any

from agents.entities import GROUPS, RESOURCES
from agents.fastpaths import register
from agents.fastpaths._words import (
    COMMON,
    NAME,
    can,
    expect,
    has,
    listed,
    mutation,
    namespace,
    namespaces,
    norm,
    one,
    resolve,
    resources_said,
    retold,
    words,
)
from agents.state import AgentResult
from tools.k8s.client import KubeError

AGENT = "rbac"
RBAC = "rbac.authorization.k8s.io"
READ = ("get", "list", "watch")
ALL = ("get", "list", "watch", "create", "update", "patch", "delete")
# Words → verbs. "read-only" and "view" are the three read verbs; a named verb is itself.
VERB_WORDS: dict[str, tuple[str, ...]] = {
    "read": READ, "read-only": READ, "readonly": READ, "view": READ, "viewer": READ, "reader": READ, "see": READ,
    "inspect": READ, "get": ("get",), "list": ("list",), "watch": ("watch",), "create": ("create",),
    "update": ("update",), "patch": ("patch",), "delete": ("delete",), "deletecollection": ("deletecollection",),
    "write": ("create", "update", "patch", "delete"), "full": ALL, "manage": ALL, "admin": ALL,
}
_GRANT = re.compile(r"\b(?:give|grant|allow|let|permit|create|make|add|set\s+(?:(?:that|this|it)\s+)?up|bind|enable)\b|"
                    r"\bneeds?\s+(?:[\w-]+\s+){0,2}(?:access|rights|permissions?)\b|"  # "the intern needs read-only access"
                    r"\b(?:want|need|like)\b.{1,60}?\bto\s+be\s+able\s+to\b")  # "I want ci-bot to be able to …"
_CLUSTER = re.compile(r"\bcluster[- ]?wide\b|\b(?:all|every)\s+namespaces\b|\bacross\s+(?:the\s+)?cluster\b|"
                      r"\bclusterrole\b|\bcluster\s+role\b")


# The namespaced ClusterRoles a person names by their word ("give bob edit rights in shop", "make carol an admin of
# batch"): bound as they are (a RoleBinding), never copied into a Role. The verbs are what the residue reads a
# negated permission against ("… but they must not delete anything" is not satisfied by edit).
ROLE_WORDS = {"admin": "admin", "administrator": "admin", "edit": "edit", "editor": "edit", "view": "view",
              "viewer": "view"}
ROLE_VERBS = {"view": READ, "edit": ALL + ("deletecollection",), "admin": ALL + ("deletecollection",)}
# What each of them allows and withholds, as SubjectAccessReviews (verb, resource, allowed): the goal's sample of
# "can now do what the role gives, and nothing the role does not".
ROLE_PROBES: dict[str, tuple[tuple[str, str, bool], ...]] = {
    "view": (("get", "pods", True), ("list", "deployments", True), ("delete", "pods", False),
             ("get", "secrets", False)),
    "edit": (("create", "deployments", True), ("delete", "pods", True), ("get", "secrets", True),
             ("create", "rolebindings", False)),
    "admin": (("create", "rolebindings", True), ("delete", "deployments", True), ("get", "secrets", True)),
}
_MAKE_ROLE = re.compile(r"\bmake\s+(?:user\s+)?(" + NAME + r")\s+(?:an?\s+)?(?:admin|administrator|editor|viewer)\b")
# "logs of pods", "pod logs": the pods are where the logs are, not a second thing to read.
_LOGS_OF = re.compile(r"\blogs?\s+(?:of|from|for)\s+(?:the\s+|its\s+|their\s+)?pods?\b|\bpods?\s+logs?\b")


_SPELLED_OUT = re.compile(r"\b([a-z-]+)\s*\(([a-z ,/-]+)\)")
_MAKES_ROLE = re.compile(r"\b(create|make|add)\s+(?:(?:a|an|the|new|one)\s+)*(?:[\w-]+\s+){0,2}?(?:role|clusterrole|"
                         r"rolebinding|binding|cluster\s+role)s?\b")


_ROLE_OF = re.compile(r"\b(?:its|their|his|her)\s+(?:own\s+|existing\s+|current\s+)?roles?\b")


def names_role(ctx: Any, ns: str) -> bool:
    """The request is about a Role that exists ("the deployer role", "role 'log-reader'", "its role"): changing it is
    agents.fastpaths.rbac_adjust's, never a second Role beside it."""
    low = norm(ctx.text)
    if _ROLE_OF.search(low):
        return True
    return any(re.search(rf"(?<![\w-]){re.escape(n)}['\"]?\s+role\b|\brole\s+['\"]?{re.escape(n)}(?![\w-])", low)
               for n in (o["metadata"]["name"] for o in listed(ctx, "Role", ns)))


def _subject(ctx: Any, ns: str) -> dict[str, Any] | None:
    """The one subject the request names: 'user X', 'group X', or an existing ServiceAccount."""
    low = norm(ctx.text)
    m = re.search(r"system:serviceaccount:(" + NAME + "):(" + NAME + ")", low)
    if m:
        return {"kind": "ServiceAccount", "name": m.group(2), "namespace": m.group(1), "said": [m.group(0)]}
    named = [(k, n.group(1)) for k in ("user", "group") for n in re.finditer(rf"\b{k}\s+['\"]?(" + NAME + ")", low)]
    sas = resolve(ctx, ("ServiceAccount",), ns, skip={n for _, n in named} | set(VERB_WORDS) | set(RESOURCES))
    sa = one(sas)
    if named and not sas and len(named) == 1:
        kind, name = named[0]
        return {"kind": kind.capitalize(), "name": name, "apiGroup": RBAC, "said": [name]}
    if sa and not named:
        _, obj, word = sa
        return {"kind": "ServiceAccount", "name": obj["metadata"]["name"], "namespace": obj["metadata"]["namespace"],
                "said": [word]}
    found = re.fullmatch(r"system:serviceaccount:(" + NAME + "):(" + NAME + ")", ctx.entities.subject or "")
    if found and not named and not sas and re.search(rf"(?<![\w-]){re.escape(found.group(2))}(?![\w-])", low) and \
            sum(o["metadata"]["name"] == found.group(2) for o in listed(ctx, "ServiceAccount", None)) == 1:
        # "ci-bot needs to create jobs in batch": the one ServiceAccount of that name, in its own namespace
        return {"kind": "ServiceAccount", "name": found.group(2), "namespace": found.group(1), "said": [found.group(2)]}
    user = None if named or sas else person(ctx)
    return {"kind": "User", "name": user, "apiGroup": RBAC, "said": [user]} if user else None


def person(ctx: Any) -> str | None:
    """A user the request names without the word 'user': one a binding names or the grammar of a permission request
    finds ("give bob …", "bob needs to …", "make carol an admin …"), never the name of a namespace or workload."""
    low = norm(ctx.text)
    m = _MAKE_ROLE.search(low)
    name = m.group(1) if m else ctx.entities.subject
    if not name or ":" in name or not re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", low):
        return None
    if name in VERB_WORDS or name in ROLE_WORDS or name in RESOURCES or name == ctx.entities.workload \
            or name in namespaces(ctx):
        return None
    return name


def _verbs(ctx: Any) -> tuple[list[str], list[str]]:
    """(verbs, words read), in the table's order."""
    low = norm(ctx.text).replace("read only", "read-only")
    low = _MAKES_ROLE.sub(lambda m: m.group(0)[len(m.group(1)):], low)  # "create a Role" is not the verb granted
    found: list[str] = []
    said: list[str] = []
    for m in _SPELLED_OUT.finditer(low):  # "read (get and list)": the verbs in brackets say what the word means
        inner = re.findall(r"[a-z-]+", m.group(2))
        if m.group(1) in VERB_WORDS and all(w in ("and", "or") or VERB_WORDS.get(w) == (w,) for w in inner):
            said.append(m.group(1))
            low = low[:m.start(1)] + " " * len(m.group(1)) + low[m.end(1):]
    for w in re.findall(r"[a-z-]+", low):
        if w in VERB_WORDS:
            found += VERB_WORDS[w]
            said.append(w)
    return [v for v in ALL + ("deletecollection",) if v in found], said


class GrantAccess:
    agent = AGENT
    intent = "grant-access"
    vocabulary = frozenset("""give grant allow let permit create make add set setup bind bound binding rolebinding role
        clusterrole clusterrolebinding cluster-wide cluster wide across rights right permission permissions access
        privileges able to on for that which so can only just service account serviceaccount sa user group named
        called read-only readonly read only view viewer reader see inspect get list watch update patch delete
        deletecollection write full manage admin pod pods configmap configmaps config maps secret secrets deployment
        deployments service services svc job jobs cronjob cronjobs statefulset statefulsets daemonset daemonsets
        ingress ingresses events log logs replicasets hpa pvc persistentvolumeclaims nodes node namespaces all every
        new it them their edit editor administrator up""".split()) | COMMON

    def match(self, ctx: Any) -> dict[str, Any] | None:
        low = norm(ctx.text)
        if not _GRANT.search(low) or not has(ctx, "role", "rights", "access", "permission", "permissions", "allow",
                                             "let", "grant", "permit", "able", "privileges", "bound", "bind",
                                             *ROLE_WORDS):
            return None
        if re.search(r"\b(?:me|myself)\b", low) or re.search(r"\b(?:who|whether|can\s+\S+\s+\S+\?)", low):
            return None  # asking for oneself, or a question: the RBAC agent's own paths
        cluster = bool(_CLUSTER.search(low))
        ns = namespace(ctx)
        if names_role(ctx, ns):
            return None  # "let the deployer role also …", "add it to its role": a Role that exists (rbac_adjust)
        subject = _subject(ctx, None if cluster else ns)
        if subject is None:
            return None
        verbs, said_verbs = _verbs(ctx)
        resources = resources_said(_without_place(ctx, ns), skip={subject["name"], ns})
        if not resources and not cluster:
            return _role_slots(ctx, subject, ns, said_verbs)
        if not verbs or not resources:
            return None
        if not cluster and any(r in ("nodes", "namespaces") for r in resources):
            return None  # cluster-scoped resources need a ClusterRole: say so explicitly
        verbs_of = {r: list(verbs) for r in resources}
        if "pods/log" in resources:  # logs are read (get) only, from pods one can find (get, list)
            if not set(verbs) <= set(READ):
                return None
            verbs_of["pods/log"] = ["get"]
            if "pods" not in resources or _LOGS_OF.search(low):
                verbs_of["pods"] = ["get", "list"]
            resources = list(verbs_of)
            verbs = [v for v in READ if any(v in vs for vs in verbs_of.values())]
        m = re.search(r"\b(?:named|called)\s+['\"]?(" + NAME + ")", low) or \
            re.search(r"\b(?:cluster\s*)?role\s+['\"](" + NAME + ")['\"]", low)  # a ClusterRole "node-viewer"
        return {"subject": subject, "verbs": verbs, "resources": resources, "namespace": None if cluster else ns,
                "verbs_of": verbs_of, "role": m.group(1) if m else None, "said": said_verbs + subject["said"]}

    def plan(self, ctx: Any, slots: dict[str, Any]) -> AgentResult:
        if slots.get("clusterrole"):
            return _bind_clusterrole(ctx, slots)
        subj = {k: v for k, v in slots["subject"].items() if k != "said"}
        verbs, resources, ns = slots["verbs"], slots["resources"], slots["namespace"]
        verbs_of: dict[str, list[str]] = slots.get("verbs_of") or {r: list(verbs) for r in resources}
        role_kind, bind_kind = ("Role", "RoleBinding") if ns else ("ClusterRole", "ClusterRoleBinding")
        short = "read" if set(verbs) == set(READ) else "-".join(verbs) if len(verbs) <= 2 else "edit"
        parts = ["pod-logs"] if "pods/log" in resources else [r.replace("/", "-") for r in resources]
        name = slots["role"] or f"{subj['name']}-{'-'.join(parts)}-{'read' if 'pods/log' in resources else short}"[:63]
        user, groups = identity(subj)
        where = f"in namespace {ns}" if ns else "cluster-wide"
        evidence, already, cannot_now = [], True, []
        try:
            for r in resources:
                res, _, sub = r.partition("/")
                for v in ALL:
                    if sub and v not in verbs_of[r]:
                        continue  # a subresource's other verbs (create pods/log) mean nothing
                    ok, _ = ctx.kube.subject_can(user, groups + ["system:authenticated"], v, r, ns, GROUPS.get(res, ""))
                    if v in verbs_of[r]:
                        already &= ok
                        evidence.append(f"SubjectAccessReview {user} {v} {r} {where}: allowed={ok}")
                    elif not ok:
                        cannot_now.append((v, r))
        except KubeError as e:
            return AgentResult(AGENT, f"I could not check the current rights: {e.message}", [e.message])
        who = _who(subj)
        asked = "; ".join(f"{', '.join(verbs_of[r])} {r}" for r in resources)
        if already:
            return AgentResult(AGENT, f"Already so: {who} can {asked} {where}. Nothing to grant.", evidence,
                               data={"already": True})
        rules: dict[tuple[str, tuple[str, ...]], list[str]] = {}
        for r in resources:
            rules.setdefault((GROUPS.get(r.partition("/")[0], ""), tuple(verbs_of[r])), []).append(r)
        role = {"apiVersion": f"{RBAC}/v1", "kind": role_kind, "metadata": {"name": name, **({"namespace": ns} if ns
                                                                                              else {})},
                "rules": [{"apiGroups": [g], "resources": rs, "verbs": list(vs)} for (g, vs), rs in rules.items()]}
        binding = {"apiVersion": f"{RBAC}/v1", "kind": bind_kind,
                   "metadata": {"name": name, **({"namespace": ns} if ns else {})},
                   "roleRef": {"apiGroup": RBAC, "kind": role_kind, "name": name}, "subjects": [subj]}
        goal = [can(user, v, r, ns, True, groups, GROUPS.get(r.partition("/")[0], "")) for r in resources
                for v in verbs_of[r]]
        goal += [can(user, v, r, ns, False, groups, GROUPS.get(r.partition("/")[0], "")) for v, r in cannot_now
                 if v in ("create", "update", "patch", "delete")]
        goal += [expect(bind_kind, ns, name, "roleRef.name", name)]
        first = role["rules"][0]["verbs"]
        muts = [mutation("create", role_kind, ns or "", name, [expect(role_kind, ns, name, "rules.0.verbs", first)],
                         f"{role_kind} {name}: {asked} {where}", body=role),
                mutation("create", bind_kind, ns or "", name, goal, f"bind {who} to {role_kind} {name}", body=binding)]
        exactly = f"exactly {', '.join(verbs)} on {', '.join(resources)}" if len(rules) == 1 else f"exactly {asked}"
        return AgentResult(AGENT, f"Proposed: {role_kind} {name} allowing {exactly} {where}, and {bind_kind} {name} "
                                  f"binding it to {who}. Nothing broader.", evidence, muts)


def _without_place(ctx: Any, ns: str) -> Any:
    """The context with "the batch namespace" / "namespace batch" said as just "batch": where the rights apply is
    not a grant on the namespaces resource ("give carol view access to the batch namespace"); and without what is
    refused ("… but nothing on secrets", "not secrets", "except secrets"): a resource said there is not granted (the
    residue reads the refusal against the grant)."""
    text = re.sub(rf"(?:\bthe\s+)?\b{re.escape(ns)}\s+(?:namespace|ns)\b|\b(?:namespace|ns)\s+{re.escape(ns)}\b", ns,
                  ctx.text, flags=re.I)
    return retold(ctx, _REFUSED.sub(" ", text))


# "but nothing on secrets", "and no access to secrets", "not secrets", "except secrets and configmaps"
_REFUSED = re.compile(r"\b(?:nothing|not|no|never|except|excluding|but\s+not)\b(?:\s+(?:on|to|for|with|access\s+to|rights\s+on|"
                      r"permissions?\s+on|the))*\s+[a-z]+s?(?:\s*(?:,|and|or)\s*[a-z]+s?)*", re.I)


def _who(subj: dict[str, Any]) -> str:
    return f"{subj['kind']} {subj.get('namespace', '') + '/' if subj.get('namespace') else ''}{subj['name']}"


def _role_slots(ctx: Any, subject: dict[str, Any], ns: str, said_verbs: list[str]) -> dict[str, Any] | None:
    """"give bob edit rights in shop", "make carol an admin of the batch namespace": one of the namespaced
    ClusterRoles by its word, in a namespace the request names (an admin "everywhere" is not a namespace's)."""
    roles = {ROLE_WORDS[w] for w in words(ctx) if w in ROLE_WORDS}
    if len(roles) != 1 or any(w not in ROLE_WORDS for w in said_verbs) or ns not in words(ctx):
        return None
    role = roles.pop()
    return {"subject": subject, "clusterrole": role, "verbs": list(ROLE_VERBS[role]), "namespace": ns,
            "said": list(said_verbs) + subject["said"]}


def _bind_clusterrole(ctx: Any, slots: dict[str, Any]) -> AgentResult:
    """A RoleBinding of the subject to the ClusterRole named, in the namespace. The goal: the subject can do what the
    role gives there (a sample), still cannot do what the role withholds, and gains nothing in another namespace."""
    subj = {k: v for k, v in slots["subject"].items() if k != "said"}
    role, ns = slots["clusterrole"], slots["namespace"]
    name = f"{subj['name']}-{role}"[:63]
    who = _who(subj)
    user, groups = identity(subj)
    other = "kube-system" if ns == "default" else "default"
    try:
        ctx.kube.get("ClusterRole", None, role)
    except KubeError as e:
        return AgentResult(AGENT, f"I did not act: I cannot read ClusterRole {role}: {e.message}", [e.message])
    now: dict[tuple[str, str, str], bool] = {}
    try:
        for v, r, _ in ROLE_PROBES[role]:
            for where in (ns, other):
                now[(v, r, where)] = ctx.kube.subject_can(user, groups + ["system:authenticated"], v, r, where,
                                                          GROUPS.get(r, ""))[0]
    except KubeError as e:
        return AgentResult(AGENT, f"I could not check the current rights: {e.message}", [e.message])
    evidence = [f"SubjectAccessReview {user} {v} {r} in {w}: allowed={ok}" for (v, r, w), ok in now.items()]
    gives = [(v, r) for v, r, allowed in ROLE_PROBES[role] if allowed]
    if all(now[(v, r, ns)] for v, r in gives):
        return AgentResult(AGENT, f"Already so: {who} can already {'; '.join(f'{v} {r}' for v, r in gives)} in "
                                  f"namespace {ns}. Nothing to grant.", evidence, data={"already": True})
    try:
        ctx.kube.get("RoleBinding", ns, name)
        return AgentResult(AGENT, f"I did not act: a RoleBinding {ns}/{name} exists already; say whether to change "
                                  "it or which name to use.")
    except KubeError as e:
        if e.status != 404:
            return AgentResult(AGENT, f"I could not check RoleBinding {ns}/{name}: {e.message}", [e.message])
    goal = [can(user, v, r, ns, allowed, groups, GROUPS.get(r, "")) for v, r, allowed in ROLE_PROBES[role]
            if allowed or not now[(v, r, ns)]]
    goal += [can(user, v, r, other, False, groups, GROUPS.get(r, "")) for v, r in gives if not now[(v, r, other)]]
    goal += [expect("RoleBinding", ns, name, "roleRef.name", role)]
    binding = {"apiVersion": f"{RBAC}/v1", "kind": "RoleBinding", "metadata": {"name": name, "namespace": ns},
               "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": role}, "subjects": [subj]}
    m = mutation("create", "RoleBinding", ns, name, goal, f"bind {who} to ClusterRole {role} in namespace {ns}",
                 body=binding)
    return AgentResult(AGENT, f"Proposed: RoleBinding {ns}/{name} binding {who} to the ClusterRole {role}, in "
                              f"namespace {ns} only. Nothing broader.", evidence, [m])


def identity(subj: dict[str, Any]) -> tuple[str, list[str]]:
    """The user and groups a SubjectAccessReview uses for a binding subject."""
    if subj["kind"] == "ServiceAccount":
        return (f"system:serviceaccount:{subj['namespace']}:{subj['name']}",
                ["system:serviceaccounts", f"system:serviceaccounts:{subj['namespace']}"])
    if subj["kind"] == "Group":
        return "kubesage:goal-check", [subj["name"]]
    return subj["name"], []


register(GrantAccess())
