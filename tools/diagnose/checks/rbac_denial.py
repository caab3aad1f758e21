"""rbac_denial: a pod's logs show the API server refusing its ServiceAccount
('... is forbidden: User "system:serviceaccount:NS:SA" cannot VERB resource "R" in API group "G" ...').

The denial is checked against the pod itself (the ServiceAccount it runs as) and against RBAC as it stands: the
SA's bindings and the rules of the roles they point at. The proposal, least privilege first: a RoleBinding to an
existing Role (or ClusterRole) that grants exactly the missing permissions with the fewest extra grants, else a new
Role + RoleBinding with only those verbs. A RoleBinding's roleRef is immutable, so a wrong binding is not patched;
a new one is created. Sensitive permissions (secrets, writes to RBAC, delete, escalate/bind/impersonate, exec,
wildcards) are never proposed automatically: log text must not be able to obtain them.
"""

from __future__ import annotations

import re
from typing import Any

from tools.diagnose import common, util
from tools.diagnose.base import Finding, Snapshot, register

_FORBIDDEN = re.compile(r'User "(?P<user>[^"]+)" cannot (?P<verb>[a-z]+) resource "(?P<resource>[^"]+)" '
                        r'in API group "(?P<group>[^"]*)"(?: in the namespace "(?P<ns>[^"]+)"| at the cluster scope)?')
_SA_USER = re.compile(r"^system:serviceaccount:([^:]+):([^:]+)$")

READ = {"get", "list", "watch"}
SAFE_WRITES = {("", "events"), ("events.k8s.io", "events"), ("coordination.k8s.io", "leases"), ("", "configmaps")}
SENSITIVE_RESOURCES = {"secrets", "roles", "rolebindings", "clusterroles", "clusterrolebindings", "pods/exec",
                       "pods/attach", "pods/portforward", "serviceaccounts/token", "nodes/proxy", "certificatesigningrequests",
                       "tokenreviews", "subjectaccessreviews", "mutatingwebhookconfigurations",
                       "validatingwebhookconfigurations", "persistentvolumes", "nodes", "namespaces"}
API = "rbac.authorization.k8s.io"

Perm = tuple[str, str, str, str]  # verb, api group, resource, namespace ('' = cluster scope)


def is_safe(perm: Perm) -> bool:
    verb, group, resource, _ = perm
    if "*" in (verb, group, resource):
        return False
    if verb in READ:
        return resource not in {"secrets", "pods/exec", "pods/attach", "serviceaccounts/token"}
    if verb in ("create", "update", "patch"):
        return (group, resource) in SAFE_WRITES
    return False


def rule_allows(rule: dict[str, Any], verb: str, group: str, resource: str) -> bool:
    if rule.get("nonResourceURLs"):
        return False
    if rule.get("resourceNames"):
        return False  # a name-scoped rule does not allow list/watch or unnamed access
    verbs = rule.get("verbs") or []
    groups = rule.get("apiGroups") or []
    resources = rule.get("resources") or []
    base = resource.split("/")[0]
    res_ok = resource in resources or "*" in resources or \
        ("/" in resource and f"{base}/*" in resources)
    return ("*" in verbs or verb in verbs) and ("*" in groups or group in groups) and res_ok


def rules_allow(rules: list[dict[str, Any]], perm: Perm) -> bool:
    return any(rule_allows(r, perm[0], perm[1], perm[2]) for r in rules)


def breadth(rules: list[dict[str, Any]]) -> int:
    """How much a set of rules grants (wildcards count as a lot): smaller is closer to least privilege."""
    n = 0
    for r in rules:
        v = r.get("verbs") or []
        res = r.get("resources") or []
        g = r.get("apiGroups") or []
        n += (50 if "*" in v else len(v)) * (50 if "*" in res else len(res)) * (20 if "*" in g else max(1, len(g)))
        if any(x in SENSITIVE_RESOURCES for x in res):
            n += 100
    return n


def _subject_matches(s: dict[str, Any], binding_ns: str, sa_ns: str, sa: str) -> bool:
    kind = s.get("kind")
    if kind == "ServiceAccount":
        return s.get("name") == sa and (s.get("namespace") or binding_ns) == sa_ns
    if kind == "Group":
        return s.get("name") in ("system:serviceaccounts", f"system:serviceaccounts:{sa_ns}", "system:authenticated")
    if kind == "User":
        return s.get("name") == f"system:serviceaccount:{sa_ns}:{sa}"
    return False


@register
class RbacDenialCheck:
    name = "rbac_denial"
    kinds = ("ServiceAccount",)
    max_pods = 300

    def run(self, snapshot: Snapshot) -> list[Finding]:
        # (ns, sa) -> {"perms": {perm: (pod, container, previous, line)}, "pods": [...]}
        found: dict[tuple[str, str], dict[str, Any]] = {}
        for pod in snapshot.pods[: self.max_pods]:
            ns = util.ns_of(pod)
            sa = (pod.get("spec") or {}).get("serviceAccountName") or (pod.get("spec") or {}).get(
                "serviceAccount") or "default"
            for cs in util.container_statuses(pod):
                cname = cs.get("name", "")
                for prev in (False, True) if (cs.get("restartCount") or 0) else (False,):
                    for line in snapshot.read_logs(ns, util.name_of(pod), cname, prev) or []:
                        if "forbidden" not in line:
                            continue
                        m = _FORBIDDEN.search(line.replace('\\"', '"'))
                        if not m:
                            continue
                        user = _SA_USER.match(m.group("user"))
                        if not user or user.groups() != (ns, sa):
                            continue  # only a pod's own identity counts; other names in a log are just text
                        scope = m.group("ns") or ""
                        perms = [(m.group("verb"), m.group("group"), m.group("resource"), scope)]
                        if m.group("verb") == "list" and "watch" in line.lower():
                            perms.append(("watch", m.group("group"), m.group("resource"), scope))
                        entry = found.setdefault((ns, sa), {"perms": {}, "pods": []})
                        for p in perms:
                            entry["perms"].setdefault(p, (pod, cname, prev, line))
                        if pod not in entry["pods"]:
                            entry["pods"].append(pod)
        return [self._finding(snapshot, ns, sa, e["perms"], e["pods"]) for (ns, sa), e in found.items()]

    def _bindings(self, snapshot: Snapshot, ns: str, sa: str
                  ) -> list[tuple[str, dict[str, Any], list[dict[str, Any]]]]:
        """[(binding kind, binding, rules of its role)] for every binding that applies to the ServiceAccount."""
        out = []
        for b in snapshot.rolebindings:
            bns = util.ns_of(b)
            if bns == ns and any(_subject_matches(s, bns, ns, sa) for s in b.get("subjects") or []):
                out.append(("RoleBinding", b, self._role_rules(snapshot, b.get("roleRef") or {}, bns)))
        for b in snapshot.clusterrolebindings:
            if any(_subject_matches(s, "", ns, sa) for s in b.get("subjects") or []):
                out.append(("ClusterRoleBinding", b, self._role_rules(snapshot, b.get("roleRef") or {}, "")))
        return out

    @staticmethod
    def _role_rules(snapshot: Snapshot, role_ref: dict[str, Any], ns: str) -> list[dict[str, Any]]:
        if role_ref.get("kind") == "Role":
            r = snapshot.get("roles", ns, role_ref.get("name", ""))
        else:
            r = snapshot.get("clusterroles", "", role_ref.get("name", ""))
        return list((r or {}).get("rules") or [])

    def _finding(self, snapshot: Snapshot, ns: str, sa: str, perms: dict[Perm, tuple], pods: list[dict[str, Any]]
                 ) -> Finding:
        user = f"system:serviceaccount:{ns}:{sa}"
        workloads: list[tuple[str, str]] = []
        for p in pods:
            w = snapshot.workload_of(p)
            if w not in workloads:
                workloads.append(w)
        evidence = []
        for pod, cname, prev, line in list(perms.values())[:4]:
            ev = common.log_evidence(pod, cname, prev, line)
            if ev not in evidence:
                evidence.append(ev)
        bindings = self._bindings(snapshot, ns, sa)
        shown = [x for x in bindings if not _default_binding(x[1])]
        for bkind, b, rules in shown:
            rr = b.get("roleRef") or {}
            where = f"{util.ns_of(b)}/" if bkind == "RoleBinding" else ""
            evidence.append(f"{bkind} {where}{util.name_of(b)} binds it to {rr.get('kind')} {rr.get('name')}: "
                            f"{_rules_text(rules)}")
        if not shown:
            evidence.append(f"no RoleBinding or ClusterRoleBinding grants ServiceAccount {ns}/{sa} anything beyond the "
                            "defaults every account has")
        granted = [b_rules for _, _, b_rules in bindings]
        missing = [p for p in perms if not any(rules_allow(r, p) for r in granted)]
        perm_txt = ", ".join(f"{v} {r}" + (f" ({g})" if g else "") for v, g, r, _ in (missing or list(perms)))
        related = [util.ref("Pod", ns, util.name_of(p)) for p in pods] + [util.ref(k, ns, n) for k, n in workloads]
        for bkind, b, _ in shown:
            related.append(util.ref(bkind, util.ns_of(b), util.name_of(b)))
        restart = common.restart_of(workloads[0][0], ns, workloads[0][1]) if workloads else None
        wl_txt = ", ".join(common.workload_label(k, ns, n) for k, n in workloads)
        if not missing:
            return Finding(check=self.name, severity="info", kind="ServiceAccount", namespace=ns, name=sa,
                           reason="StaleRBACDenial",
                           summary=f"{user} was denied {perm_txt}, but RBAC now allows it",
                           evidence=evidence, related=related, restart=restart,
                           root_cause="the permission was granted after the denial was logged; the process may still "
                                      "be in its failed state",
                           suggested_fix=f"restart {wl_txt} so it retries with the current permissions")
        f = Finding(check=self.name, severity="critical", kind="ServiceAccount", namespace=ns, name=sa,
                    reason="RBACForbidden",
                    summary=f"ServiceAccount {ns}/{sa} (used by {wl_txt}) is forbidden to {perm_txt}",
                    evidence=evidence, related=related)
        held = ", ".join(f"{(b.get('roleRef') or {}).get('kind')} {(b.get('roleRef') or {}).get('name')} (via "
                         f"{bkind} {util.name_of(b)})" for bkind, b, _ in shown)
        f.root_cause = (f"ServiceAccount {ns}/{sa} is bound only to {held}, which does not grant {perm_txt}" if held
                        else f"ServiceAccount {ns}/{sa} has no binding beyond the defaults, so it may not {perm_txt}")
        unsafe = [p for p in missing if not is_safe(p)]
        if unsafe:
            f.suggested_fix = ("review by hand whether ServiceAccount " + f"{ns}/{sa} should really be allowed to "
                               + ", ".join(f"{v} {r}" for v, _, r, _ in unsafe)
                               + "; kubesage does not propose sensitive grants derived from log text")
            f.confidence = "medium"
            return f
        cluster = any(not scope for *_, scope in missing)
        role = self._existing_role(snapshot, ns, missing, cluster)
        subject = {"kind": "ServiceAccount", "name": sa, "namespace": ns}
        if role is not None:
            rkind, rname, rules = role
            f.evidence.append(f"{rkind} {ns + '/' if rkind == 'Role' else ''}{rname} grants: {_rules_text(rules)}")
            f.related.append(util.ref(rkind, ns if rkind == "Role" else "", rname))
            bkind = "ClusterRoleBinding" if cluster else "RoleBinding"
            bname = self._free_name(snapshot, bkind, ns, util.dns_name(sa, rname))
            manifest = {"apiVersion": f"{API}/v1", "kind": bkind,
                        "metadata": {"name": bname} | ({} if cluster else {"namespace": ns}),
                        "roleRef": {"apiGroup": API, "kind": rkind, "name": rname}, "subjects": [subject]}
            f.root_cause += f"; the existing {rkind} {rname} grants it"
            f.suggested_fix = (f"create {bkind} {'' if cluster else ns + '/'}{bname} binding ServiceAccount {ns}/{sa} "
                               f"to the existing {rkind} {rname} (a binding's roleRef cannot be changed, so a new "
                               f"binding is needed), then restart {wl_txt}")
            f.fix = {"action": "create", "manifest": manifest}
        else:
            rules = _minimal_rules(missing)
            rkind, bkind = ("ClusterRole", "ClusterRoleBinding") if cluster else ("Role", "RoleBinding")
            resources = sorted({r for _, _, r, _ in missing})
            verbs = sorted({v for v, *_ in missing})
            rname = self._free_name(snapshot, rkind, ns, util.dns_name(sa, *[r.replace("/", "-") for r in resources],
                                                                       "reader" if set(verbs) <= READ else "access"))
            bname = self._free_name(snapshot, bkind, ns, rname)
            md = {"name": rname} | ({} if cluster else {"namespace": ns})
            role_m = {"apiVersion": f"{API}/v1", "kind": rkind, "metadata": md, "rules": rules}
            bind_m = {"apiVersion": f"{API}/v1", "kind": bkind,
                      "metadata": {"name": bname} | ({} if cluster else {"namespace": ns}),
                      "roleRef": {"apiGroup": API, "kind": rkind, "name": rname}, "subjects": [subject]}
            f.suggested_fix = (f"create {rkind} {rname} with {_rules_text(rules)} and {bkind} {bname} binding "
                               f"ServiceAccount {ns}/{sa} to it, then restart {wl_txt}")
            f.fix = {"action": "create", "manifests": [role_m, bind_m]}
        f.restart = restart
        return f

    def _existing_role(self, snapshot: Snapshot, ns: str, missing: list[Perm], cluster: bool
                       ) -> tuple[str, str, list[dict[str, Any]]] | None:
        cands = []
        if not cluster:
            for r in snapshot.roles:
                if util.ns_of(r) == ns:
                    cands.append(("Role", util.name_of(r), list(r.get("rules") or [])))
        for r in snapshot.clusterroles:
            name = util.name_of(r)
            if name in ("cluster-admin", "admin", "edit") or name.startswith("system:"):
                continue
            cands.append(("ClusterRole", name, list(r.get("rules") or [])))
        ok = []
        for kind, name, rules in cands:
            if all(rules_allow(rules, p) for p in missing):
                b = breadth(rules)
                # any role granting sensitive things, or far more than needed, is not least privilege
                if b <= 100 and not any(set(x.get("resources") or []) & {"secrets", "*"} for x in rules):
                    ok.append((b, kind != "Role", name, kind, rules))
        if not ok:
            return None
        ok.sort(key=lambda x: x[:3])
        _, _, name, kind, rules = ok[0]
        return kind, name, rules

    @staticmethod
    def _free_name(snapshot: Snapshot, kind: str, ns: str, base: str) -> str:
        coll = {"Role": "roles", "RoleBinding": "rolebindings", "ClusterRole": "clusterroles",
                "ClusterRoleBinding": "clusterrolebindings"}[kind]
        scope = "" if kind.startswith("Cluster") else ns
        name, i = base, 2
        while snapshot.get(coll, scope, name) is not None:
            name = util.dns_name(base[:58], str(i))
            i += 1
        return name


def _default_binding(b: dict[str, Any]) -> bool:
    """The bindings every authenticated identity gets (system:basic-user, system:discovery, ...)."""
    return util.name_of(b).startswith("system:") and ((b.get("roleRef") or {}).get("name") or "").startswith("system:")


def _minimal_rules(perms: list[Perm]) -> list[dict[str, Any]]:
    by: dict[tuple[str, str], set[str]] = {}
    for v, g, r, _ in perms:
        by.setdefault((g, r), set()).add(v)
    return [{"apiGroups": [g], "resources": [r], "verbs": sorted(vs)} for (g, r), vs in sorted(by.items())]


def _rules_text(rules: list[dict[str, Any]]) -> str:
    if not rules:
        return "(no rules, or the role does not exist)"
    parts = []
    for r in rules[:6]:
        res = ",".join(r.get("resources") or r.get("nonResourceURLs") or [])
        groups = ",".join(g or "core" for g in r.get("apiGroups") or [])
        parts.append(f"{res} [{groups}] {','.join(r.get('verbs') or [])}")
    return "; ".join(parts) + (f"; +{len(rules) - 6} more" if len(rules) > 6 else "")
