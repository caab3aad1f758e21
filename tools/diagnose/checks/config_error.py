"""config_error: CreateContainerConfigError — a ConfigMap or Secret (or one of its keys) the container's
environment refers to does not exist.

When the missing name or key is one typo away from an existing one, the fix points the reference at it (a
strategic-merge patch of the container's env / envFrom in the pod template). Otherwise it says exactly which
object or key to create; values are never guessed.
"""

from __future__ import annotations

import re
from typing import Any

from tools.diagnose import common, util
from tools.diagnose.base import Finding, Snapshot, register
from tools.k8s.kinds import POD_OWNERS

_MISSING_OBJ = re.compile(r'(configmap|secret)s? "([^"]+)" not found', re.I)
_MISSING_KEY = re.compile(r"couldn't find key (\S+) in (ConfigMap|Secret) ([^/\s]+)/(\S+)")


@register
class ConfigErrorCheck:
    name = "config_error"
    kinds = POD_OWNERS

    def run(self, snapshot: Snapshot) -> list[Finding]:
        items = common.waiting_in(snapshot, ("CreateContainerConfigError", "CreateContainerError"))
        out = []
        for (ns, kind, name), group in common.group_by_workload(snapshot, items).items():
            seen: set[str] = set()
            for pod, cs in group:
                if cs.get("name") not in seen:
                    seen.add(cs.get("name", ""))
                    out.append(self._finding(snapshot, ns, kind, name, pod, cs,
                                             [p for p, c in group if c.get("name") == cs.get("name")]))
        return out

    def _finding(self, snapshot: Snapshot, ns: str, kind: str, name: str, pod: dict[str, Any], cs: dict[str, Any],
                 pods: list[dict[str, Any]]) -> Finding:
        cname = cs.get("name", "")
        waiting = (cs.get("state") or {}).get("waiting") or {}
        msg = waiting.get("message") or ""
        wl = common.workload_label(kind, ns, name)
        spec = common.pod_template(snapshot, kind, ns, name, pod)
        c = common.find_container(spec, pod, cname)
        f = Finding(check=self.name, severity="critical", kind=kind, namespace=ns, name=name,
                    reason=waiting.get("reason", "CreateContainerConfigError"),
                    summary=f"container {cname} of {wl} cannot be created: {msg}",
                    evidence=[f"pod {ns}/{util.name_of(pod)} container {cname}: {util.describe_state(cs)}"],
                    related=common.pod_refs(pods) + [util.ref(kind, ns, name)])
        m_key = _MISSING_KEY.search(msg)
        m_obj = _MISSING_OBJ.search(msg)
        if m_key:
            self._missing_key(snapshot, f, kind, ns, name, c, m_key.group(1), m_key.group(2), m_key.group(4), spec)
        elif m_obj:
            self._missing_obj(snapshot, f, kind, ns, name, c, "ConfigMap" if m_obj.group(1).lower() == "configmap"
                              else "Secret", m_obj.group(2), spec)
        else:
            f.root_cause = f"the kubelet cannot build container {cname}'s configuration: {msg}"
            f.suggested_fix = f"correct the container's env/volumes/securityContext in {wl} as the message says"
            f.confidence = "low"
        return f

    def _missing_key(self, snapshot: Snapshot, f: Finding, kind: str, ns: str, name: str, c: dict[str, Any],
                     key: str, okind: str, oname: str, spec: dict[str, Any]) -> None:
        wl = common.workload_label(kind, ns, name)
        coll = "configmaps" if okind == "ConfigMap" else "secrets"
        obj = snapshot.get(coll, ns, oname)
        keys = sorted(set((obj or {}).get("data") or {}) | set((obj or {}).get("binaryData") or {}))
        f.related.append(util.ref(okind, ns, oname))
        f.evidence.append(f"{okind} {ns}/{oname} has keys: {', '.join(keys) or '(none)'}")
        f.root_cause = f"{okind} {ns}/{oname} has no key {key}, which container {c.get('name')} references"
        close = [k for k in keys if util.near(k, key)]
        ref_field = "configMapKeyRef" if okind == "ConfigMap" else "secretKeyRef"
        env = [e for e in c.get("env") or [] if ((e.get("valueFrom") or {}).get(ref_field) or {}).get("key") == key
               and ((e.get("valueFrom") or {}).get(ref_field) or {}).get("name") == oname]
        if len(close) == 1 and env:
            new = [{"name": e["name"], "valueFrom": {ref_field: {**e["valueFrom"][ref_field], "key": close[0]}}}
                   for e in env]
            f.suggested_fix = (f"the reference looks like a typo: point env {', '.join(e['name'] for e in env)} of "
                               f"{wl} at key {close[0]} of {okind} {ns}/{oname}, or add key {key} to it")
            f.fix = common.container_fix(kind, ns, name, c.get("name", ""), {"env": new}, spec)
            f.confidence = "medium"
        else:
            f.suggested_fix = (f"add key {key} to {okind} {ns}/{oname} (or mark the reference optional), "
                               f"then the kubelet creates the container of {wl} on its next retry")

    def _missing_obj(self, snapshot: Snapshot, f: Finding, kind: str, ns: str, name: str, c: dict[str, Any],
                     okind: str, oname: str, spec: dict[str, Any]) -> None:
        wl = common.workload_label(kind, ns, name)
        coll = "configmaps" if okind == "ConfigMap" else "secrets"
        names = sorted(util.name_of(o) for o in getattr(snapshot, coll) if util.ns_of(o) == ns)
        f.evidence.append(f"{okind}s in {ns}: {', '.join(names) or '(none)'}")
        f.root_cause = f"{okind} {ns}/{oname} does not exist, and container {c.get('name')} references it"
        close = [n for n in names if util.near(n, oname)]
        ref_field = "configMapRef" if okind == "ConfigMap" else "secretRef"
        key_field = "configMapKeyRef" if okind == "ConfigMap" else "secretKeyRef"
        if len(close) == 1:
            body: dict[str, Any] = {}
            env_from = c.get("envFrom") or []
            if any((s.get(ref_field) or {}).get("name") == oname for s in env_from):
                body["envFrom"] = [{**s, ref_field: {**s[ref_field], "name": close[0]}}
                                   if (s.get(ref_field) or {}).get("name") == oname else s for s in env_from]
            env = [{"name": e["name"], "valueFrom": {key_field: {**e["valueFrom"][key_field], "name": close[0]}}}
                   for e in c.get("env") or []
                   if ((e.get("valueFrom") or {}).get(key_field) or {}).get("name") == oname]
            if env:
                body["env"] = env
            f.suggested_fix = f"the reference looks like a typo of {okind} {ns}/{close[0]}: point {wl} at it"
            if body:
                f.fix = common.container_fix(kind, ns, name, c.get("name", ""), body, spec)
            f.confidence = "medium"
        else:
            f.suggested_fix = f"create {okind} {ns}/{oname} with the keys {wl} expects (or mark the reference optional)"
