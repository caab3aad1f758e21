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
    mutation,
    namespace,
    norm,
    one,
    resolve,
    resources_said,
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
_GRANT = re.compile(r"\b(?:give|grant|allow|let|permit|create|make|add|set\s+up|bind|enable)\b")
_CLUSTER = re.compile(r"\bcluster[- ]?wide\b|\b(?:all|every)\s+namespaces\b|\bacross\s+(?:the\s+)?cluster\b|"
                      r"\bclusterrole\b|\bcluster\s+role\b")


_MAKES_ROLE = re.compile(r"\b(create|make|add)\s+(?:(?:a|an|the|new|one)\s+)*(?:[\w-]+\s+){0,2}?(?:role|clusterrole|"
                         r"rolebinding|binding|cluster\s+role)s?\b")


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
    return None


def _verbs(ctx: Any) -> tuple[list[str], list[str]]:
    """(verbs, words read), in the table's order."""
    low = norm(ctx.text).replace("read only", "read-only")
    low = _MAKES_ROLE.sub(lambda m: m.group(0)[len(m.group(1)):], low)  # "create a Role" is not the verb granted
    found: list[str] = []
    said: list[str] = []
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
        new it them their""".split()) | COMMON

    def match(self, ctx: Any) -> dict[str, Any] | None:
        low = norm(ctx.text)
        if not _GRANT.search(low) or not has(ctx, "role", "rights", "access", "permission", "permissions", "allow",
                                             "let", "grant", "permit", "able", "privileges", "bound", "bind"):
            return None
        if re.search(r"\b(?:me|myself)\b", low) or re.search(r"\b(?:who|whether|can\s+\S+\s+\S+\?)", low):
            return None  # asking for oneself, or a question: the RBAC agent's own paths
        cluster = bool(_CLUSTER.search(low))
        ns = namespace(ctx)
        subject = _subject(ctx, None if cluster else ns)
        if subject is None:
            return None
        verbs, said_verbs = _verbs(ctx)
        resources = resources_said(ctx, skip={subject["name"], ns})
        if not verbs or not resources:
            return None
        if not cluster and any(r in ("nodes", "namespaces") for r in resources):
            return None  # cluster-scoped resources need a ClusterRole: say so explicitly
        m = re.search(r"\b(?:named|called)\s+['\"]?(" + NAME + ")", low) or \
            re.search(r"\b(?:cluster\s*)?role\s+['\"](" + NAME + ")['\"]", low)  # a ClusterRole "node-viewer"
        return {"subject": subject, "verbs": verbs, "resources": resources, "namespace": None if cluster else ns,
                "role": m.group(1) if m else None, "said": said_verbs + subject["said"]}

    def plan(self, ctx: Any, slots: dict[str, Any]) -> AgentResult:
        subj = {k: v for k, v in slots["subject"].items() if k != "said"}
        verbs, resources, ns = slots["verbs"], slots["resources"], slots["namespace"]
        role_kind, bind_kind = ("Role", "RoleBinding") if ns else ("ClusterRole", "ClusterRoleBinding")
        short = "read" if set(verbs) == set(READ) else "-".join(verbs) if len(verbs) <= 2 else "edit"
        name = slots["role"] or f"{subj['name']}-{'-'.join(r.replace('/', '-') for r in resources)}-{short}"[:63]
        user, groups = identity(subj)
        where = f"in namespace {ns}" if ns else "cluster-wide"
        evidence, already, cannot_now = [], True, []
        try:
            for r in resources:
                res, _, sub = r.partition("/")
                for v in ALL:
                    ok, _ = ctx.kube.subject_can(user, groups + ["system:authenticated"], v, r, ns, GROUPS.get(res, ""))
                    if v in verbs:
                        already &= ok
                        evidence.append(f"SubjectAccessReview {user} {v} {r} {where}: allowed={ok}")
                    elif not ok:
                        cannot_now.append((v, r))
        except KubeError as e:
            return AgentResult(AGENT, f"I could not check the current rights: {e.message}", [e.message])
        who = f"{subj['kind']} {subj.get('namespace', '') + '/' if subj.get('namespace') else ''}{subj['name']}"
        if already:
            return AgentResult(AGENT, f"Already so: {who} can {', '.join(verbs)} {', '.join(resources)} {where}. "
                                      "Nothing to grant.", evidence, data={"already": True})
        rules: dict[str, list[str]] = {}
        for r in resources:
            rules.setdefault(GROUPS.get(r.partition("/")[0], ""), []).append(r)
        role = {"apiVersion": f"{RBAC}/v1", "kind": role_kind, "metadata": {"name": name, **({"namespace": ns} if ns
                                                                                              else {})},
                "rules": [{"apiGroups": [g], "resources": rs, "verbs": list(verbs)} for g, rs in rules.items()]}
        binding = {"apiVersion": f"{RBAC}/v1", "kind": bind_kind,
                   "metadata": {"name": name, **({"namespace": ns} if ns else {})},
                   "roleRef": {"apiGroup": RBAC, "kind": role_kind, "name": name}, "subjects": [subj]}
        goal = [can(user, v, r, ns, True, groups, GROUPS.get(r.partition("/")[0], "")) for r in resources for v in verbs]
        goal += [can(user, v, r, ns, False, groups, GROUPS.get(r.partition("/")[0], "")) for v, r in cannot_now
                 if v in ("create", "update", "patch", "delete")]
        goal += [expect(bind_kind, ns, name, "roleRef.name", name)]
        muts = [mutation("create", role_kind, ns or "", name, [expect(role_kind, ns, name, "rules.0.verbs", list(verbs))],
                         f"{role_kind} {name}: {', '.join(verbs)} on {', '.join(resources)} {where}", body=role),
                mutation("create", bind_kind, ns or "", name, goal, f"bind {who} to {role_kind} {name}", body=binding)]
        return AgentResult(AGENT, f"Proposed: {role_kind} {name} allowing exactly {', '.join(verbs)} on "
                                  f"{', '.join(resources)} {where}, and {bind_kind} {name} binding it to {who}. "
                                  "Nothing broader.", evidence, muts)


def identity(subj: dict[str, Any]) -> tuple[str, list[str]]:
    """The user and groups a SubjectAccessReview uses for a binding subject."""
    if subj["kind"] == "ServiceAccount":
        return (f"system:serviceaccount:{subj['namespace']}:{subj['name']}",
                ["system:serviceaccounts", f"system:serviceaccounts:{subj['namespace']}"])
    if subj["kind"] == "Group":
        return "kubesage:goal-check", [subj["name"]]
    return subj["name"], []


register(GrantAccess())
