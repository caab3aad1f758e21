"""Bind a subject to a Role that exists: "bind the exporter service account to the pod-reader role", "give alice the
configmap-reader role in shop", "attach role pod-reader to ci-bot".

Why its own fast path: the grant path builds a new Role from verbs and resources said; a request that names an
existing Role asks for a RoleBinding to it and nothing else (a copy of the Role would drift from it). The Role must
be one live Role of the namespace (or a ClusterRole said as such, bound in the namespace); the subject as the grant
path reads it. The goal: the RoleBinding refers to that role, and the subject can now do what the role's rules say
(a sample of their verb/resource pairs, wildcards left out).
"""

from __future__ import annotations

import re
from typing import Any

from agents.fastpaths import register
from agents.fastpaths._words import COMMON, can, cite, expect, has, mutation, namespace, norm, one, resolve
from agents.fastpaths.rbac_grant import RBAC, _subject, _who, identity
from agents.state import AgentResult
from tools.k8s.client import KubeError

AGENT = "rbac"
_BIND = re.compile(r"\b(?:bind|binds|attach|assign|give|add|hook|link|connect)\b")
_SAMPLE = 6  # verb/resource pairs of the role checked after the apply


class BindRole:
    agent = AGENT
    intent = "bind-role"
    vocabulary = frozenset("""bind binds attach assign give add hook link connect up to the role clusterrole existing
        rolebinding binding with via using it them named called in namespace service account serviceaccount sa user
        group""".split()) | COMMON

    def match(self, ctx: Any) -> dict[str, Any] | None:
        low = norm(ctx.text)
        if not _BIND.search(low) or not has(ctx, "role", "clusterrole"):
            return None
        if re.search(r"\b(?:who|whether|what|which)\b|\?\s*$", low):
            return None  # a question about bindings is the RBAC agent's own
        ns = namespace(ctx)
        cluster = re.search(r"\bcluster\s*-?role\b", low)
        kinds = ("ClusterRole",) if cluster else ("Role",)
        role = one(resolve(ctx, kinds, None if cluster else ns))
        if role is None:
            return None
        kind, obj, word = role
        subject = _subject(ctx, ns)
        if subject is None or subject["name"] == obj["metadata"]["name"]:
            return None
        return {"role_kind": kind, "role": obj["metadata"]["name"], "namespace": ns,
                "subject": subject, "said": [word, *subject["said"]]}

    def plan(self, ctx: Any, slots: dict[str, Any]) -> AgentResult:
        kind, role, ns = slots["role_kind"], slots["role"], slots["namespace"]
        subj = {k: v for k, v in slots["subject"].items() if k != "said"}
        try:
            rules = ctx.kube.get(kind, None if kind == "ClusterRole" else ns, role).get("rules") or []
            bindings = ctx.kube.list("RoleBinding", ns)
        except KubeError as e:
            return AgentResult(AGENT, f"I could not read {kind} {role}: {e.message}", [e.message])
        who = _who(subj)
        for b in bindings:
            ref = b.get("roleRef") or {}
            if ref.get("kind") == kind and ref.get("name") == role and any(
                    s.get("kind") == subj["kind"] and s.get("name") == subj["name"] and
                    s.get("namespace", subj.get("namespace")) == subj.get("namespace") for s in b.get("subjects") or []):
                return AgentResult(AGENT, f"Already so: RoleBinding {ns}/{b['metadata']['name']} binds {who} to {kind} "
                                          f"{role}. Nothing to change.", [cite("RoleBinding", ns, b["metadata"]["name"])],
                                   data={"already": True})
        name = f"{subj['name']}-{role}"[:63]
        if any(b["metadata"]["name"] == name for b in bindings):
            return AgentResult(AGENT, f"I did not act: a RoleBinding {ns}/{name} exists already and binds something "
                                      "else; say which name to use.")
        user, groups = identity(subj)
        pairs = [(v, r, (rule.get("apiGroups") or [""])[0]) for rule in rules for r in rule.get("resources") or []
                 for v in rule.get("verbs") or [] if "*" not in (v, r)][:_SAMPLE]
        goal = [can(user, v, r, ns, True, groups, g) for v, r, g in pairs]
        goal.append(expect("RoleBinding", ns, name, "roleRef.name", role))
        body = {"apiVersion": f"{RBAC}/v1", "kind": "RoleBinding", "metadata": {"name": name, "namespace": ns},
                "roleRef": {"apiGroup": RBAC, "kind": kind, "name": role}, "subjects": [subj]}
        gives = "; ".join(f"{','.join(r.get('verbs') or [])} {','.join(r.get('resources') or [])}" for r in rules)
        m = mutation("create", "RoleBinding", ns, name, goal, f"bind {who} to {kind} {role}", body=body)
        return AgentResult(AGENT, f"Proposed: RoleBinding {ns}/{name} binding {who} to the existing {kind} {role} "
                                  f"({gives or 'no rules'}) in namespace {ns}. Nothing else.",
                           [f"{kind} {role} rules: {gives or 'none'}"], [m])


register(BindRole())
