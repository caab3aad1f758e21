"""One field of one named object (a read): "is the weekly-backup cronjob in batch suspended?", "what are the labels on
the db statefulset in data?", "how big is the archive pvc in data and is it bound?", "what env vars does api in web
have?", "what storage class does the scratch pvc use?".

Why its own fast path: each of these names one object and asks for one or two of its fields. The list and describe
readers took them for a filtered listing of every object of the kind (which the rules could not build) and
abstained. The answer reads the live object and says exactly the fields asked, from a table of field words; a word
the table does not have is a question this path does not answer. Env values that look like credentials, and every
Secret value, are never shown (tools.k8s.redact).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from agents.fastpaths import register
from agents.fastpaths._words import COMMON, cite, kinds_said, namespace, norm, one, resolve
from agents.resource_views import containers, cronjob_schedule, service_ports
from agents.state import AgentResult
from tools.k8s.kinds import WORKLOADS
from tools.k8s.objects import pod_spec, selector_string
from tools.k8s.redact import MASK, SECRET_NAME

AGENT = "resources"
Obj = dict[str, Any]
KINDS = (*WORKLOADS, "Pod", "Service", "CronJob", "Job", "ConfigMap", "Secret", "PersistentVolumeClaim", "Ingress")


def _meta(field: str) -> Callable[[Obj, str], str]:
    def read(o: Obj, kind: str) -> str:
        m = (o.get("metadata") or {}).get(field) or {}
        shown = {k: v for k, v in m.items() if k != "kubectl.kubernetes.io/last-applied-configuration"}
        return ", ".join(f"{k}={v}" for k, v in sorted(shown.items())) or "none"
    return read


def _env(o: Obj, kind: str) -> str:
    out = []
    for c in pod_spec(o, kind).get("containers") or []:
        items = []
        for e in c.get("env") or []:
            if "value" in e:
                items.append(f"{e['name']}={MASK if SECRET_NAME.search(e['name']) else e['value']}")
            else:
                ref = e.get("valueFrom") or {}
                src = next(iter(ref), "?")
                items.append(f"{e['name']} from {src} {(ref.get(src) or {}).get('name', '')}".rstrip())
        items += [f"all keys of {'ConfigMap' if 'configMapRef' in f else 'Secret'} "
                  f"{(f.get('configMapRef') or f.get('secretRef') or {}).get('name')}" for f in c.get("envFrom") or []]
        out.append(f"container {c.get('name')}: {', '.join(items) or 'no environment variables'}")
    return "; ".join(out) or "no containers"


def _spec_field(path: str, default: str = "not set") -> Callable[[Obj, str], str]:
    def read(o: Obj, kind: str) -> str:
        v: Any = o
        for p in path.split("."):
            v = (v or {}).get(p) if isinstance(v, dict) else None
        return default if v in (None, "", {}) else ("yes" if v is True else "no" if v is False else str(v))
    return read


def _pvc_size(o: Obj, kind: str) -> str:
    want = (((o.get("spec") or {}).get("resources") or {}).get("requests") or {}).get("storage", "?")
    have = ((o.get("status") or {}).get("capacity") or {}).get("storage")
    return f"{want} requested" + (f", {have} provisioned" if have else "")


def _replicas(o: Obj, kind: str) -> str:
    st = o.get("status") or {}
    return f"{(o.get('spec') or {}).get('replicas', 1)} desired, {st.get('readyReplicas', 0)} ready"


def _ports(o: Obj, kind: str) -> str:
    if kind == "Service":
        return "; ".join(service_ports(o)) or "none"
    ps = [f"{c.get('name')}: {[p.get('containerPort') for p in c.get('ports') or []]}"
          for c in pod_spec(o, kind).get("containers") or []]
    return "; ".join(ps) or "none"


def _selector(o: Obj, kind: str) -> str:
    return selector_string((o.get("spec") or {}).get("selector")) or "none"


# field words -> (the field's name in the answer, the kinds that have it, how to read it)
FIELDS: dict[str, tuple[str, tuple[str, ...], Callable[[Obj, str], str]]] = {
    "labels": ("labels", KINDS, _meta("labels")),
    "annotations": ("annotations", KINDS, _meta("annotations")),
    "env": ("environment", (*WORKLOADS, "Pod", "CronJob", "Job"), _env),
    "schedule": ("schedule", ("CronJob",), lambda o, k: cronjob_schedule(o)),
    "suspended": ("suspended", ("CronJob", "Job"), _spec_field("spec.suspend", "no")),
    "size": ("size", ("PersistentVolumeClaim",), _pvc_size),
    "bound": ("phase", ("PersistentVolumeClaim",), _spec_field("status.phase", "unknown")),
    "class": ("storage class", ("PersistentVolumeClaim",), _spec_field("spec.storageClassName", "(default)")),
    "replicas": ("replicas", ("Deployment", "StatefulSet"), _replicas),
    "image": ("images", (*WORKLOADS, "Pod", "CronJob", "Job"), lambda o, k: "; ".join(containers(o, k))),
    "ports": ("ports", (*WORKLOADS, "Pod", "Service"), _ports),
    "selector": ("selector", (*WORKLOADS, "Service"), _selector),
    "type": ("type", ("Service", "Secret"), lambda o, k: str((o.get("spec") or {}).get("type") or o.get("type")
                                                            or "ClusterIP")),
}
# the words people use for each field
WORDS = {"labels": "labels label", "annotations": "annotations annotation", "env": "env envs environment variables "
         "variable vars var", "schedule": "schedule schedules when", "suspended": "suspended paused",
         "size": "size big large capacity", "bound": "bound phase", "class": "storageclass",
         "replicas": "replicas replica", "image": "image images tag version", "ports": "ports port",
         "selector": "selector selectors", "type": "type"}
_WORD_FIELD = {w: f for f, ws in WORDS.items() for w in ws.split()}
_ASKS = re.compile(r"^\s*(?:(?:and\s+)?(?:whats|what's|what|which|how|is|are|does|do|did|has|have|when|show|tell|list|give)\b|"
                   r"(?:can|could)\s+you\s+(?:show|tell|list|give)\b)")


class ObjectField:
    agent = AGENT
    intent = "object-field"
    vocabulary = frozenset("""what which how is are does do did has have show tell list give me us the of on in for its
        their set currently right now use uses using it and does run runs running with pod deployment deploy
        statefulset sts daemonset service svc cronjob job configmap secret pvc claim ingress""".split()) | frozenset(
        _WORD_FIELD) | {"storage class", "storage-class"} | COMMON

    def match(self, ctx: Any) -> dict[str, Any] | None:
        low = norm(ctx.text)
        if not _ASKS.match(low):
            return None
        words = re.findall(r"[a-z][a-z-]*", low.replace("storage class", "storageclass"))
        fields = list(dict.fromkeys(_WORD_FIELD[w] for w in words if w in _WORD_FIELD))
        if not fields:
            return None
        # only kinds that have every field asked ("the labels and image of web": the Deployment, not the Service)
        kinds = [k for k in KINDS if all(k in FIELDS[f][1] for f in fields)]
        found = one(resolve(ctx, kinds, namespace(ctx))) if kinds else None
        if found is None:
            return None  # "the schedule of a Deployment": not a field of that kind; or which object is not clear
        kind, obj, word = found
        said = kinds_said(ctx, KINDS)
        if said and kind not in said:
            return None  # "the type of the web deployment": the kind said is the object meant
        return {"namespace": obj["metadata"].get("namespace", ""), "kind": kind, "name": obj["metadata"]["name"],
                "fields": fields, "said": [word]}

    def plan(self, ctx: Any, slots: dict[str, Any]) -> AgentResult:
        ns, kind, name = slots["namespace"], slots["kind"], slots["name"]
        obj = ctx.kube.get(kind, ns, name)
        lines = [f"{FIELDS[f][0]}: {FIELDS[f][2](obj, kind)}" for f in slots["fields"]]
        return AgentResult(AGENT, f"{cite(kind, ns, name)} — " + "; ".join(lines) + ".", lines,
                           data={"fields": dict(zip(slots["fields"], lines, strict=True))})


register(ObjectField())
