"""Fix a Role that grants the wrong resource: "role pod-reader in shop grants configmaps instead of pods".

Why its own fast path: the request names two resources and which one is wrong only by its wording ("X instead of
Y", "should be Y not X"); the live rules settle it: the resource the role grants is the wrong one, the other is the
right one (both granted or neither: not understood). The patch swaps that resource in the rules that grant it
(same verbs), guarded by a `test` of the rules as read; the goal is the rules naming the right resource and not the
wrong one, and each subject bound to the role being able to use the right one.
"""

from __future__ import annotations

import re
from typing import Any

from agents.entities import GROUPS
from agents.fastpaths import register
from agents.fastpaths._words import (
    COMMON,
    can,
    cite,
    expect,
    has,
    listed,
    mutation,
    namespace,
    norm,
    one,
    resolve,
    resources_said,
)
from agents.fastpaths.rbac_grant import identity
from agents.state import AgentResult
from tools.k8s.client import KubeError

AGENT = "rbac"
TRIGGERS = ("fix", "wrong", "instead", "rather", "should", "correct", "change", "replace", "swap", "mistake",
            "supposed", "meant")


_WANTS = re.compile(r"\b(?:should|supposed|meant|needs?|must|want|wanted|so\s+(?:that\s+)?it|correct|only)\b")
_HAS = re.compile(r"\b(?:grants?|granting|gives?|allows?|has|have|is|covers?)\b")
_AGAINST = re.compile(r"\b(?:instead\s+of|rather\s+than|not|but)\b")


def _direction(low: str, first: str, second: str) -> tuple[str, str] | None:
    """(wrong, right) as the wording says it, the first and second resource in the order written; None when the
    wording does not say which is which."""
    def find(r: str) -> re.Match[str] | None:
        alt = r"config\s*maps?" if r == "configmaps" else re.escape(r.rstrip("s")) + "s?"
        return re.search(rf"(?<![\w-])(?:{alt})(?![\w-])", low)

    word = {r: find(r) for r in (first, second)}
    if not all(word.values()):
        return None
    a, b = word[first], word[second]
    before, between = low[:a.start()], low[a.end():b.start()]
    if re.search(r"\bfrom\s*$", before) and re.search(r"^\s*(?:to|->)\b", between.strip() + " "):
        return first, second
    if _WANTS.search(before[-40:]):
        return second, first
    if _HAS.search(before[-40:]) and (_AGAINST.search(between) or _WANTS.search(between)):
        return first, second
    if _WANTS.search(between):
        return first, second
    return None


class FixRoleResource:
    agent = AGENT
    intent = "fix-role-resource"
    vocabulary = frozenset("""fix fixed wrong instead rather than should be correct change replace swap mistake
        mistakenly supposed meant grant grants granting gives give allow allows access to on of for not but only
        role clusterrole cluster resource resources it its so that pod pods configmap configmaps config maps secret
        secrets deployment deployments service services svc job jobs cronjob cronjobs statefulset statefulsets
        daemonset daemonsets ingress ingresses events log logs replicasets pvc persistentvolumeclaims nodes
        read reads reading""".split()) | COMMON

    def match(self, ctx: Any) -> dict[str, Any] | None:
        if not has(ctx, *TRIGGERS):
            return None
        ns = namespace(ctx)
        found = one(resolve(ctx, ("Role",), ns) or resolve(ctx, ("ClusterRole",), None))
        if found is None:
            return None
        kind, role, word = found
        said = resources_said(ctx, skip={role["metadata"]["name"], ns})
        granted = {r for rule in role.get("rules") or [] for r in rule.get("resources") or []}
        if len(said) == 2:
            way = _direction(norm(ctx.text), said[0], said[1])
            if way is None:
                return None
            wrong, right = [way[0]], [way[1]]
        elif len(said) == 1 and len(granted) == 1:
            wrong, right = list(granted), said
        else:
            return None
        if len(wrong) != 1 or len(right) != 1 or right[0] == wrong[0]:
            return None
        if GROUPS.get(wrong[0], "") != GROUPS.get(right[0], "") and any(
                wrong[0] in (rule.get("resources") or []) and len(rule.get("resources") or []) > 1
                for rule in role.get("rules") or []):
            return None  # a rule shared with other resources of another API group would need splitting
        return {"kind": kind, "name": role["metadata"]["name"], "namespace": role["metadata"].get("namespace"),
                "wrong": wrong[0], "right": right[0], "said": [word]}

    def plan(self, ctx: Any, slots: dict[str, Any]) -> AgentResult:
        kind, ns, name, wrong, right = slots["kind"], slots["namespace"], slots["name"], slots["wrong"], slots["right"]
        try:
            role = ctx.kube.get(kind, ns, name)
        except KubeError as e:
            return AgentResult(AGENT, f"I could not read {cite(kind, ns, name)}: {e.message}", [e.message])
        rules = role.get("rules") or []
        evidence = [f"{cite(kind, ns, name)} rule {i}: {', '.join(r.get('verbs') or [])} on "
                    f"{', '.join(r.get('resources') or [])} (apiGroups {r.get('apiGroups')})" for i, r in enumerate(rules)]
        hits = [i for i, r in enumerate(rules) if wrong in (r.get("resources") or [])]
        if not hits:
            return AgentResult(AGENT, f"Already so: {cite(kind, ns, name)} does not grant {wrong}.", evidence,
                               data={"already": True})
        new_rules = []
        for i, r in enumerate(rules):
            r = dict(r)
            if i in hits:
                r["resources"] = list(dict.fromkeys(right if x == wrong else x for x in r["resources"]))
                r["apiGroups"] = [GROUPS.get(right, "")]
            new_rules.append(r)
        ops = [{"op": "test", "path": "/rules", "value": rules}, {"op": "replace", "path": "/rules", "value": new_rules}]
        goal = [x for i in hits for x in (expect(kind, ns, name, f"rules.{i}.resources", right, "contains"),
                                          expect(kind, ns, name, f"rules.{i}.resources", wrong, "not_contains"))]
        verbs = sorted({v for i in hits for v in rules[i].get("verbs") or []})
        subjects = []
        for b in listed(ctx, "RoleBinding", ns) if ns else []:
            if (b.get("roleRef") or {}).get("kind") == kind and (b.get("roleRef") or {}).get("name") == name:
                subjects += [dict(s, namespace=s.get("namespace") or ns) if s.get("kind") == "ServiceAccount" else s
                             for s in b.get("subjects") or []]
        for s in subjects:
            user, groups = identity(s)
            goal += [can(user, v, right, ns, True, groups, GROUPS.get(right, "")) for v in verbs if v != "*"]
        m = mutation("patch", kind, ns or "", name, goal, f"grant {right} instead of {wrong}", body=ops,
                     patch_type="json")
        bound = f" (bound to {', '.join(s.get('kind', '') + ' ' + s.get('name', '') for s in subjects)})" if subjects \
            else ""
        return AgentResult(AGENT, f"Proposed: in {cite(kind, ns, name)}{bound}, grant {right} instead of {wrong} in "
                                  f"rule(s) {', '.join(str(i) for i in hits)}, with the same verbs "
                                  f"({', '.join(verbs)}).", evidence, [m])


register(FixRoleResource())
