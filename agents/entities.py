"""What a request is about: namespace, workload, subject, verb, resource, a number — resolved against the
cluster's real names (so typos still land on `checkout`), never invented.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from tools.k8s.kinds import TARGETS

VERBS = {
    "get": "get", "read": "get", "see": "list", "view": "list", "list": "list", "watch": "watch",
    "create": "create", "make": "create", "add": "create", "update": "update", "edit": "update", "modify": "update",
    "change": "update", "patch": "patch", "delete": "delete", "remove": "delete", "destroy": "delete",
    "exec": "create", "scale": "update",
}
RESOURCES = {
    "pod": "pods", "pods": "pods", "secret": "secrets", "secrets": "secrets", "configmap": "configmaps",
    "configmaps": "configmaps", "config maps": "configmaps", "deployment": "deployments", "deployments": "deployments",
    "service": "services", "services": "services", "svc": "services", "node": "nodes", "nodes": "nodes",
    "namespace": "namespaces", "namespaces": "namespaces", "job": "jobs", "jobs": "jobs", "cronjob": "cronjobs",
    "cronjobs": "cronjobs", "role": "roles", "roles": "roles", "rolebinding": "rolebindings",
    "rolebindings": "rolebindings", "serviceaccount": "serviceaccounts", "serviceaccounts": "serviceaccounts",
    "statefulset": "statefulsets", "statefulsets": "statefulsets", "daemonset": "daemonsets",
    "daemonsets": "daemonsets", "ingress": "ingresses", "ingresses": "ingresses", "events": "events",
    "logs": "pods/log", "log": "pods/log", "replicasets": "replicasets", "hpa": "horizontalpodautoscalers",
    "pvc": "persistentvolumeclaims", "persistentvolumeclaims": "persistentvolumeclaims",
}
GROUPS = {"deployments": "apps", "statefulsets": "apps", "daemonsets": "apps", "replicasets": "apps", "jobs": "batch",
          "cronjobs": "batch", "roles": "rbac.authorization.k8s.io", "rolebindings": "rbac.authorization.k8s.io",
          "ingresses": "networking.k8s.io", "horizontalpodautoscalers": "autoscaling"}
STOP = {"the", "a", "an", "is", "are", "why", "what", "whats", "how", "in", "on", "of", "to", "my", "does", "do",
        "can", "for", "and", "it", "its", "this", "that", "with", "pod", "pods", "deployment", "service", "namespace",
        "crashing", "failing", "broken", "down", "up", "scale", "replicas", "wrong", "happening", "going", "please"}


_NOT_SUBJECT = frozenset("""i you we he she it they me us them this that there these those one anyone anybody someone
somebody everyone everybody nobody the a an my our your pods pod deployments secrets configmaps services nodes
namespaces roles jobs""".split())
# "can X <verb>", "is X allowed/able to", "does X have", "give/grant/let/allow X …", "X can …" at the start, and
# "as (user) X": where a request names the person a permission question or grant is about.
_SUBJECT_GRAMMAR = (
    re.compile(r"^\s*(?:can|could|may|does|do|is|will)\s+(?:the\s+)?(?:user\s+)?([a-z][a-z0-9._@-]*)\b"),
    re.compile(r"\b(?:give|grant|let|allow|permit)\s+(?:the\s+)?(?:user\s+)?([a-z][a-z0-9._@-]*)\b"),
    re.compile(r"\b(?:user|as)\s+([a-z][a-z0-9._@-]*)\b"),
    re.compile(r"^\s*([a-z][a-z0-9._@-]*)\s+(?:can|could|may|should|needs? to|wants? to)\b"),
    re.compile(r"\b(?:if|whether)\s+(?:the\s+)?(?:user\s+)?([a-z][a-z0-9._@-]*)\s+(?:can|could|may|is)\b"),
)


def subjects_in(text: str) -> list[str]:
    """User names a permission question or grant is about, found by the grammar of the request (never from a list
    of known names): "can dana delete pods", "give bob read access", "is erin allowed to …"."""
    low = text.lower()
    out = []
    for pattern in _SUBJECT_GRAMMAR:
        for m in pattern.finditer(low):
            w = m.group(1)
            if w not in _NOT_SUBJECT and w not in VERBS and w not in RESOURCES and w not in STOP:
                out.append(w)
    return list(dict.fromkeys(out))


@dataclass
class Entities:
    namespace: str | None = None
    workload: str | None = None  # a Deployment/StatefulSet/DaemonSet/Service/Pod name found in the text
    workload_kind: str | None = None
    subject: str | None = None  # an RBAC subject: user name or system:serviceaccount:ns:name
    verb: str | None = None
    resource: str | None = None
    group: str = ""
    number: int | None = None
    verb_word: str | None = None  # the words the verb and resource were read from (what a fast path consumed)
    resource_word: str | None = None


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9][a-z0-9\-_.:]*", text.lower())


def extract(text: str, names: dict[str, list[tuple[str, str]]], namespaces: list[str],
            service_accounts: list[tuple[str, str]], users: list[str], default_ns: str | None) -> Entities:
    """names: kind -> [(namespace, name)] of workloads and services known in the cluster."""
    e = Entities()
    ws = words(text)
    low = text.lower()
    m = re.search(r"(?:-n|--namespace|namespace|ns|in)\s+([a-z0-9][a-z0-9-]*)", low)
    bracket = re.search(r"\(\s*(?:ns|namespace)?\s*[:=]?\s*['\"]?([a-z0-9][a-z0-9-]*)['\"]?(?:\s+(?:ns|namespace))?\s*\)", low)
    for cand in ([m.group(1)] if m else []) + ([bracket.group(1)] if bracket else []) + ws:
        if cand in namespaces:
            e.namespace = cand
            break
    # workload: exact word, then a close match (typos)
    flat = [(kind, ns, n) for kind, items in names.items() for ns, n in items]
    candidates = {n for _, _, n in flat}
    best = None
    for w in ws:
        if w in STOP or len(w) < 3:
            continue
        if w in candidates:
            best = w
            break
    if best is None:
        for w in ws:
            if w in STOP or len(w) < 4:
                continue
            close = difflib.get_close_matches(w, sorted(candidates), n=1, cutoff=0.8)
            if close:
                best = close[0]
                break
    if best is not None:
        order = TARGETS
        hits = sorted((order.index(k) if k in order else 9, ns != (e.namespace or default_ns), ns, k)
                      for k, ns, n in flat if n == best)
        if hits:
            _, _, ns, kind = hits[0]
            e.workload, e.workload_kind = best, kind
            e.namespace = e.namespace or ns
    e.namespace = e.namespace or default_ns
    # RBAC subject
    for ns, sa in service_accounts:
        if re.search(rf"(?<![a-z0-9-]){re.escape(sa)}(?![a-z0-9-])", low) and sa != "default":
            e.subject = f"system:serviceaccount:{ns}:{sa}"
            e.namespace = e.namespace or ns
            break
    if e.subject is None:
        for u in users:
            if re.search(rf"(?<![a-z0-9-]){re.escape(u.lower())}(?![a-z0-9-])", low):
                e.subject = u
                break
    m = re.search(r"system:serviceaccount:([a-z0-9-]+):([a-z0-9-]+)", low)
    if m:
        e.subject = m.group(0)
    for w in ws:
        if w in VERBS and e.verb is None:
            e.verb, e.verb_word = VERBS[w], w
    # "in the default namespace" says where, "the ci-bot service account" says who: neither is the resource asked about
    what = re.sub(r"\b(?:in|into|from|to|for|on|of|over|across|within)\s+(?:the\s+)?(?:namespace\s+[a-z0-9-]+|"
                  r"[a-z0-9-]+\s+namespace)\b|"
                  r"\bservice\s*accounts?\b", " ", low)
    for phrase, res in sorted(RESOURCES.items(), key=lambda x: -len(x[0])):
        if re.search(rf"\b{re.escape(phrase)}\b", what):
            e.resource, e.resource_word = res, phrase
            e.group = GROUPS.get(res, "")
            break
    m = re.search(r"\b(?:to|=|x)\s*(\d{1,4})\b|\b(\d{1,4})\s+(?:replicas|pods|instances|copies)\b", low)
    if m:
        e.number = int(m.group(1) or m.group(2))
    return e
