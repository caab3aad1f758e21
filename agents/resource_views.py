"""One object said in its kind's own terms: what `describe` shows and what a question about one of its parts
("which ports does the web service expose", "where does the frontend ingress send traffic") answers.

Why a table per kind: a generic row ("web/frontend") with the events of another object of the same name was a
false description of an Ingress. Each kind has the few facts that say what it is (a Service's ports and selector,
an Ingress's routes and TLS, a CronJob's schedule), read from the live object as the API returns it. A Secret is
described by its type and key names only: its values never leave the cluster through an answer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tools.k8s.objects import pod_spec, ready_containers, restarts, selector_string

Obj = dict[str, Any]


def _spec(o: Obj) -> Obj:
    return o.get("spec") or {}


def _status(o: Obj) -> Obj:
    return o.get("status") or {}


def _yes(v: Any) -> str:
    return "yes" if v else "no"


# -- Service -----------------------------------------------------------------------------------------------------
def service_ports(svc: Obj) -> list[str]:
    """'http: port 80/TCP → targetPort 8080, nodePort 30080' per port (the target defaults to the port)."""
    out = []
    for p in _spec(svc).get("ports") or []:
        name = f"{p['name']}: " if p.get("name") else ""
        node = f", nodePort {p['nodePort']}" if p.get("nodePort") else ""
        out.append(f"{name}port {p.get('port')}/{p.get('protocol', 'TCP')} → targetPort "
                   f"{p.get('targetPort', p.get('port'))}{node}")
    return out


def service_head(svc: Obj) -> str:
    spec = _spec(svc)
    kind = spec.get("type", "ClusterIP")
    head = f"type {kind}, clusterIP {spec.get('clusterIP') or 'none'}"
    if kind == "ExternalName":
        head += f", externalName {spec.get('externalName')}"
    lbs = [i.get("ip") or i.get("hostname") for i in (_status(svc).get("loadBalancer") or {}).get("ingress") or []]
    return head + (f", load balancer {', '.join(x for x in lbs if x)}" if any(lbs) else "")


def _service(svc: Obj) -> list[str]:
    sel = _spec(svc).get("selector")
    return [service_head(svc), *(service_ports(svc) or ["no ports"]),
            f"selector {selector_string(sel)}" if sel else "no selector (its endpoints are not managed by a selector)"]


# -- Ingress -----------------------------------------------------------------------------------------------------
def _backend(b: Obj) -> str:
    svc = b.get("service") or {}
    if svc:
        port = svc.get("port") or {}
        return f"service {svc.get('name')}:{port.get('number', port.get('name', '?'))}"
    res = b.get("resource") or {}
    return f"{res.get('kind', 'resource')} {res.get('name', '?')}" if res else "?"


def ingress_routes(ing: Obj) -> list[str]:
    """'host shop.example.com path / (Prefix) → service frontend:80' per path, and the default backend."""
    spec = _spec(ing)
    out = [f"host {r.get('host') or '*'} path {p.get('path', '/')} ({p.get('pathType', 'ImplementationSpecific')}) → "
           f"{_backend(p.get('backend') or {})}"
           for r in spec.get("rules") or [] for p in (r.get("http") or {}).get("paths") or []]
    if spec.get("defaultBackend"):
        out.append(f"default backend → {_backend(spec['defaultBackend'])}")
    return out or ["no rules and no default backend: it routes nothing"]


def ingress_tls(ing: Obj) -> str:
    tls = _spec(ing).get("tls") or []
    if not tls:
        return "TLS: no (plain HTTP only)"
    return "TLS: yes, " + "; ".join(f"hosts {', '.join(t.get('hosts') or ['*'])} with secret "
                                    f"{t.get('secretName') or '(the controller default certificate)'}" for t in tls)


def _ingress(ing: Obj) -> list[str]:
    cls = _spec(ing).get("ingressClassName") or (ing["metadata"].get("annotations") or {}).get(
        "kubernetes.io/ingress.class") or "none set (the cluster default)"
    addr = [i.get("ip") or i.get("hostname") for i in (_status(ing).get("loadBalancer") or {}).get("ingress") or []]
    return [f"class {cls}" + (f", address {', '.join(a for a in addr if a)}" if any(addr) else ""),
            *ingress_routes(ing), ingress_tls(ing)]


# -- workloads and pods --------------------------------------------------------------------------------------------
def containers(o: Obj, kind: str) -> list[str]:
    """'container web: image nginx:1.27, ports [80], requests {...}, limits {...}' per container."""
    out = []
    for c in pod_spec(o, kind).get("containers") or []:
        res = c.get("resources") or {}
        ports = [p.get("containerPort") for p in c.get("ports") or []]
        out.append(f"container {c.get('name')}: image {c.get('image')}" + (f", ports {ports}" if ports else "")
                   + f", requests {res.get('requests') or {}}, limits {res.get('limits') or {}}")
    return out


def _strategy(o: Obj, kind: str) -> str:
    spec = _spec(o)
    s = spec.get("strategy" if kind == "Deployment" else "updateStrategy") or {}
    kind_of = s.get("type", "RollingUpdate")
    ru = s.get("rollingUpdate") or {}
    more = ", ".join(f"{k} {v}" for k, v in ru.items())
    return f"strategy {kind_of}" + (f" ({more})" if more else "")


def _workload(kind: str) -> Callable[[Obj], list[str]]:
    def lines(o: Obj) -> list[str]:
        st = _status(o)
        if kind == "DaemonSet":
            counts = (f"{st.get('numberReady', 0)} ready of {st.get('desiredNumberScheduled', 0)} scheduled, "
                      f"{st.get('updatedNumberScheduled', 0)} updated, {st.get('numberAvailable', 0)} available")
        else:
            counts = (f"replicas {_spec(o).get('replicas', 1)} desired, {st.get('readyReplicas', 0)} ready, "
                      f"{st.get('updatedReplicas', 0)} updated, {st.get('availableReplicas', 0)} available")
        sel = (_spec(o).get("selector") or {})
        return [counts, _strategy(o, kind), f"selector {selector_string(sel) or 'none'}", *containers(o, kind)]
    return lines


def _pod(p: Obj) -> list[str]:
    st = _status(p)
    return [f"phase {st.get('phase', '?')} on node {_spec(p).get('nodeName') or '(not scheduled)'}, "
            f"{ready_containers(p)} containers ready, {restarts(p)} restarts", *containers(p, "Pod")]


# -- batch ---------------------------------------------------------------------------------------------------------
def cronjob_schedule(cj: Obj) -> str:
    """'schedule "0 2 * * *", suspended no, last run 2024-…' (what a CronJob list shows per row)."""
    spec, st = _spec(cj), _status(cj)
    tz = f" ({spec['timeZone']})" if spec.get("timeZone") else ""
    return (f"schedule \"{spec.get('schedule', '?')}\"{tz}, suspended {_yes(spec.get('suspend'))}, last run "
            f"{st.get('lastScheduleTime') or 'never'}")


def _cronjob(cj: Obj) -> list[str]:
    spec, st = _spec(cj), _status(cj)
    return [cronjob_schedule(cj), f"last successful run {st.get('lastSuccessfulTime') or 'none recorded'}, "
            f"{len(st.get('active') or [])} active job(s), concurrency {spec.get('concurrencyPolicy', 'Allow')}",
            *containers(cj, "CronJob")]


def job_counts(job: Obj) -> str:
    spec, st = _spec(job), _status(job)
    return (f"completions {st.get('succeeded', 0)}/{spec.get('completions', 1)} succeeded, {st.get('active', 0)} "
            f"active, {st.get('failed', 0)} failed (backoffLimit {spec.get('backoffLimit', 6)})")


def _job(job: Obj) -> list[str]:
    st = _status(job)
    times = f"started {st.get('startTime') or 'not yet'}, completed {st.get('completionTime') or 'not yet'}"
    return [job_counts(job), times, *containers(job, "Job")]


# -- configuration and storage ------------------------------------------------------------------------------------
def _configmap(cm: Obj) -> list[str]:
    keys = sorted((cm.get("data") or {}) | (cm.get("binaryData") or {}))
    return [f"{len(keys)} key(s): {', '.join(keys) or '(none)'}"]


def _secret(s: Obj) -> list[str]:
    keys = sorted((s.get("data") or {}) | (s.get("stringData") or {}))
    return [f"type {s.get('type', 'Opaque')}", f"{len(keys)} key(s): {', '.join(keys) or '(none)'} (values not shown)"]


def _pvc(pvc: Obj) -> list[str]:
    spec, st = _spec(pvc), _status(pvc)
    want = ((spec.get("resources") or {}).get("requests") or {}).get("storage", "?")
    have = (st.get("capacity") or {}).get("storage")
    return [f"phase {st.get('phase', '?')}, storage class {spec.get('storageClassName') or '(default)'}",
            f"size {want} requested" + (f", {have} provisioned" if have else "")
            + f", access {', '.join(spec.get('accessModes') or []) or '?'}, volume {spec.get('volumeName') or 'none yet'}"]


# kind -> the lines that say what an object of that kind is (conditions and events are added by the caller)
SUMMARY: dict[str, Callable[[Obj], list[str]]] = {
    "Service": _service, "Ingress": _ingress, "Deployment": _workload("Deployment"),
    "StatefulSet": _workload("StatefulSet"), "DaemonSet": _workload("DaemonSet"), "Pod": _pod, "CronJob": _cronjob,
    "Job": _job, "ConfigMap": _configmap, "Secret": _secret, "PersistentVolumeClaim": _pvc,
}
# kinds whose status conditions say something the summary does not (a Deployment's Available, a Job's Complete)
CONDITIONED = frozenset({"Deployment", "StatefulSet", "DaemonSet", "Pod", "Job", "PersistentVolumeClaim"})


def summary(kind: str, obj: Obj) -> list[str]:
    """What `obj` is, in its kind's terms; a kind without a row: its status conditions only."""
    lines = list(SUMMARY[kind](obj)) if kind in SUMMARY else []
    if kind in CONDITIONED or kind not in SUMMARY:
        for c in _status(obj).get("conditions") or []:
            why = f" ({c.get('reason')}: {c.get('message', '')})" if c.get("reason") else ""
            lines.append(f"condition {c.get('type')}={c.get('status')}{why}")
    return lines
