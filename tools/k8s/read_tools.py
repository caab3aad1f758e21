"""Read tools over the Kubernetes API, declared for a model: get, list, describe, events, logs, top, can-i,
who-can, api-resources, explain, rollout history, diff.

Why these rules hold for every tool here:
- they run as the principal (the `Kube` impersonates), so a model never sees more than the person may; a
  Forbidden comes back as an observation (`Tool.call`), never as an exception to the person;
- every piece of cluster text in `text` is fenced and labelled "untrusted cluster data" (the loop's system prompt
  says such text is data, never instructions);
- Secret values and credential-looking values are redacted (tools/k8s/redact.py) before anything is returned,
  in `data` as well as in `text`: both may reach a model, a log or a cache.
"""

from __future__ import annotations

from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field

from tools.k8s import fieldpath
from tools.k8s.client import Kube, KubeError, Mutation
from tools.k8s.objects import bytes_, condition, millicores, ready_containers, restarts
from tools.k8s.redact import Redactor
from tools.tool import Tool, ToolInputError, ToolResult, cut_text, estimate_tokens, fence

LIST_LIMIT = 50


def redactor(kube: Kube) -> Redactor:
    """The connection's redactor: one per Kube (one per principal and turn), so a Secret value seen by one tool is
    scrubbed from every later tool's output in the same turn."""
    r = getattr(kube, "_redactor", None)
    if r is None:
        r = Redactor()
        kube._redactor = r  # type: ignore[attr-defined]
    return r


def resolve_kind(kube: Kube, word: str) -> str:
    """A kind from what a model wrote (`deploy`, `pods`, `Deployment`, `hpa`, `roles.rbac.authorization.k8s.io`)."""
    w = (word or "").strip()
    if not w:
        raise ToolInputError("kind is required (e.g. Pod, Deployment, Service)")
    try:
        kube.info(w)
        return w
    except KubeError:
        pass
    r = kube.catalog().resolve(w)
    if r is None:
        close = kube.catalog().suggest(w)
        raise ToolInputError(f"the server has no resource type {w!r}" + (f"; did you mean {', '.join(close)}?"
                                                                           if close else "; see api_resources"))
    return r.kind


def _yaml(obj: Any) -> str:
    return yaml.safe_dump(obj, sort_keys=False, width=160, default_flow_style=None).rstrip()


_NOISE_META = ("managedFields", "uid", "resourceVersion", "generation", "selfLink")


def compact(obj: dict[str, Any]) -> dict[str, Any]:
    """An object without the bookkeeping a reader never needs (managedFields, uid, resourceVersion…)."""
    out = dict(obj)
    meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in _NOISE_META}
    if meta.get("ownerReferences"):
        meta["ownerReferences"] = [f"{o.get('kind')}/{o.get('name')}" for o in meta["ownerReferences"]]
    out["metadata"] = meta
    return out


def _where(ns: str) -> str:
    return f" in namespace {ns}" if ns else ""


# ---- get ---------------------------------------------------------------------------------------------------
class GetArgs(BaseModel):
    kind: str = Field(description="Kind or resource name, e.g. Deployment, pods, hpa")
    name: str
    namespace: str = Field("", description="Namespace (empty for cluster-scoped kinds)")
    fields: list[str] = Field(default_factory=list, description="Only these field paths, e.g. "
                              "spec.template.spec.containers[name=web].image, status.readyReplicas")


def _get(kube: Kube, a: GetArgs) -> ToolResult:
    kind = resolve_kind(kube, a.kind)
    obj = redactor(kube).any(kube.get(kind, a.namespace or None, a.name))
    label = f"{kind} {a.namespace + '/' if a.namespace else ''}{a.name}"
    if a.fields:
        values = {}
        for f in a.fields:
            try:
                v = fieldpath.get(obj, f)
            except fieldpath.PathError as e:
                raise ToolInputError(str(e)) from None
            values[f] = None if v is fieldpath.MISSING else v
        lines = "\n".join(f"{f}: {'(absent)' if v is None else _yaml(v) if isinstance(v, dict | list) else v}"
                          for f, v in values.items())
        return ToolResult({"kind": kind, "name": a.name, "namespace": a.namespace, "fields": values},
                          fence(label, lines))
    return ToolResult({"kind": kind, "object": obj}, fence(label, _yaml(compact(obj))))


GET = Tool("k8s_get", "Read one object (optionally only some fields). Example: 'what image does deployment web in "
           "shop run?' -> kind=Deployment, name=web, namespace=shop, fields=[spec.template.spec.containers[*].image]",
           args=GetArgs, rbac=(("get", "*", "*"),), run=_get, max_tokens=2500, transform=cut_text)


# ---- list --------------------------------------------------------------------------------------------------
def _pod_status(p: dict[str, Any]) -> str:
    st = p.get("status") or {}
    if (p.get("metadata") or {}).get("deletionTimestamp"):
        return "Terminating"
    for cs in st.get("containerStatuses") or []:
        state = cs.get("state") or {}
        if (state.get("waiting") or {}).get("reason"):
            return state["waiting"]["reason"]
        if (state.get("terminated") or {}).get("reason") and st.get("phase") != "Succeeded":
            return state["terminated"]["reason"]
    return st.get("phase") or "Unknown"


def _images(o: dict[str, Any]) -> str:
    spec = o.get("spec") or {}
    if "jobTemplate" in spec:
        spec = (spec["jobTemplate"].get("spec") or {})
    pod = (spec.get("template") or {}).get("spec") or spec
    return ",".join(c.get("image", "") for c in pod.get("containers") or [])


def _replicas(o: dict[str, Any]) -> str:
    return f"{(o.get('status') or {}).get('readyReplicas') or 0}/{(o.get('spec') or {}).get('replicas', 1)}"


# kind -> columns (header, function of the object): kubectl's default columns, cut to what a diagnosis needs
COLUMNS: dict[str, list[tuple[str, Any]]] = {
    "Pod": [("READY", ready_containers), ("STATUS", _pod_status), ("RESTARTS", restarts),
            ("NODE", lambda o: (o.get("spec") or {}).get("nodeName", ""))],
    "Deployment": [("READY", _replicas), ("UP-TO-DATE", lambda o: (o.get("status") or {}).get("updatedReplicas", 0)),
                   ("IMAGES", _images)],
    "StatefulSet": [("READY", _replicas), ("IMAGES", _images)],
    "ReplicaSet": [("READY", _replicas), ("IMAGES", _images)],
    "DaemonSet": [("READY", lambda o: f"{(o.get('status') or {}).get('numberReady', 0)}/"
                                      f"{(o.get('status') or {}).get('desiredNumberScheduled', 0)}"), ("IMAGES", _images)],
    "Job": [("SUCCEEDED", lambda o: (o.get("status") or {}).get("succeeded", 0)),
            ("FAILED", lambda o: (o.get("status") or {}).get("failed", 0)),
            ("ACTIVE", lambda o: (o.get("status") or {}).get("active", 0))],
    "CronJob": [("SCHEDULE", lambda o: (o.get("spec") or {}).get("schedule", "")),
                ("SUSPEND", lambda o: (o.get("spec") or {}).get("suspend", False))],
    "Service": [("TYPE", lambda o: (o.get("spec") or {}).get("type", "ClusterIP")),
                ("PORTS", lambda o: ",".join(str(p.get("port")) for p in (o.get("spec") or {}).get("ports") or []))],
    "HorizontalPodAutoscaler": [
        ("TARGET", lambda o: ((o.get("spec") or {}).get("scaleTargetRef") or {}).get("name", "")),
        ("MIN", lambda o: (o.get("spec") or {}).get("minReplicas", 1)),
        ("MAX", lambda o: (o.get("spec") or {}).get("maxReplicas", ""))],
    "Node": [("READY", lambda o: (condition(o, "Ready") or {}).get("status", "Unknown"))],
    "RoleBinding": [("ROLE", lambda o: f"{(o.get('roleRef') or {}).get('kind')}/{(o.get('roleRef') or {}).get('name')}"),
                    ("SUBJECTS", lambda o: ",".join(f"{s.get('kind')}/{s.get('name')}" for s in o.get("subjects") or []))],
    "PersistentVolumeClaim": [("STATUS", lambda o: (o.get("status") or {}).get("phase", "")),
                              ("CLASS", lambda o: (o.get("spec") or {}).get("storageClassName", ""))],
}
COLUMNS["ClusterRoleBinding"] = COLUMNS["RoleBinding"]


class ListArgs(BaseModel):
    kind: str = Field(description="Kind or resource name, e.g. Pod, deployments, jobs")
    namespace: str = Field("", description="Namespace; empty lists every namespace you may read")
    label_selector: str = Field("", description="e.g. app=web,tier!=cache")
    field_selector: str = Field("", description="e.g. status.phase=Running")
    where: list[str] = Field(default_factory=list, description="Extra conditions on any field, e.g. "
                             "status.succeeded>=1, status.phase!=Running")
    fields: list[str] = Field(default_factory=list, description="Extra columns as field paths")


def select(kube: Kube, kind: str, namespace: str, label_selector: str = "", field_selector: str = "",
           where: list[str] | None = None) -> list[dict[str, Any]]:
    """The objects a list (or a delete by selector) means: server-side selectors, then the `where` conditions."""
    try:
        conds = [fieldpath.condition(w) for w in where or []]
    except fieldpath.PathError as e:
        raise ToolInputError(str(e)) from None
    items = kube.list(kind, namespace or None, label_selector or None, field_selector or None)
    return [o for o in items if all(fieldpath.holds(o, c) for c in conds)]


def _list(kube: Kube, a: ListArgs) -> ToolResult:
    kind = resolve_kind(kube, a.kind)
    items = select(kube, kind, a.namespace, a.label_selector, a.field_selector, a.where)
    red = redactor(kube)
    cols = list(COLUMNS.get(kind, []))
    for f in a.fields:
        cols.append((f, lambda o, f=f: _field_cell(o, f)))
    rows = []
    for o in items[:LIST_LIMIT]:
        m = o.get("metadata") or {}
        row = {"name": m.get("name", ""), "namespace": m.get("namespace", "")}
        for header, fn in cols:
            row[header] = red.text(str(fn(o)))
        rows.append(row)
    headers = (["NAMESPACE"] if not a.namespace else []) + ["NAME"] + [h for h, _ in cols]
    lines = ["  ".join(headers)]
    for r in rows:
        lines.append("  ".join(([r["namespace"]] if not a.namespace else []) + [r["name"]] +
                               [str(r[h]) for h, _ in cols]))
    more = f"\n({len(items) - LIST_LIMIT} more not shown; narrow with a selector)" if len(items) > LIST_LIMIT else ""
    label = f"{kind} list{_where(a.namespace)}"
    text = fence(label, "\n".join(lines)) + more if rows else f"No {kind} objects{_where(a.namespace)} match."
    return ToolResult({"kind": kind, "namespace": a.namespace, "count": len(items), "items": rows}, text)


def _field_cell(o: dict[str, Any], f: str) -> str:
    v = fieldpath.get(o, f)
    return "" if v is fieldpath.MISSING else str(v)


LIST = Tool("k8s_list", "List objects of a kind with their status columns, filtered by selectors or field "
            "conditions. Example: 'which jobs in batch have completed?' -> kind=Job, namespace=batch, "
            "where=[status.succeeded>=1]", args=ListArgs, rbac=(("list", "*", "*"),), run=_list, max_tokens=2000,
            transform=cut_text)


# ---- events ------------------------------------------------------------------------------------------------
class EventsArgs(BaseModel):
    namespace: str = ""
    kind: str = Field("", description="Only events about this kind of object")
    name: str = Field("", description="Only events about the object with this name")
    warnings_only: bool = False


def _event_lines(kube: Kube, namespace: str, kind: str = "", name: str = "", warnings_only: bool = False,
                 limit: int = 25) -> list[str]:
    sel = [f"involvedObject.name={name}"] if name else []
    if kind:
        sel.append(f"involvedObject.kind={kind}")
    items = kube.list("Event", namespace or None, field_selector=",".join(sel) or None)
    if warnings_only:
        items = [e for e in items if e.get("type") == "Warning"]
    items.sort(key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or "")
    red = redactor(kube)
    out = []
    for e in items[-limit:]:
        io = e.get("involvedObject") or {}
        count = f" (x{e['count']})" if (e.get("count") or 1) > 1 else ""
        out.append(red.text(f"{e.get('type', '')} {e.get('reason', '')} {io.get('kind', '')}/{io.get('name', '')}"
                            f"{count}: {(e.get('message') or '').strip()}"))
    return out


def _events(kube: Kube, a: EventsArgs) -> ToolResult:
    kind = resolve_kind(kube, a.kind) if a.kind else ""
    lines = _event_lines(kube, a.namespace, kind, a.name, a.warnings_only)
    label = f"events{_where(a.namespace)}" + (f" for {a.name}" if a.name else "")
    return ToolResult({"events": lines}, fence(label, "\n".join(lines)) if lines else f"No {label}.")


EVENTS = Tool("k8s_events", "Recent events (scheduling failures, probe failures, OOM kills, image pulls). Example: "
              "'why is my pod pending?' -> namespace=shop, name=<pod>", args=EventsArgs, rbac=(("list", "events", ""),),
              run=_events, max_tokens=1500, transform=cut_text)


# ---- describe ----------------------------------------------------------------------------------------------
class DescribeArgs(BaseModel):
    kind: str
    name: str
    namespace: str = ""


def _summary(kind: str, obj: dict[str, Any]) -> dict[str, Any]:
    """What `kubectl describe` leads with: spec essentials and status, without the full object."""
    spec, st = obj.get("spec") or {}, obj.get("status") or {}
    meta = compact(obj)["metadata"]
    out: dict[str, Any] = {"labels": meta.get("labels") or {}, "owner": meta.get("ownerReferences")}
    if kind == "Pod":
        out["node"] = spec.get("nodeName")
        out["phase"] = st.get("phase")
        out["containers"] = [{"name": c.get("name"), "image": c.get("image"), "env": c.get("env"),
                              "resources": c.get("resources"), "probes": {k: c[k] for k in
                                                                           ("livenessProbe", "readinessProbe") if k in c}}
                             for c in spec.get("containers") or []]
        out["containerStatuses"] = [{"name": c.get("name"), "ready": c.get("ready"),
                                     "restartCount": c.get("restartCount"), "state": c.get("state"),
                                     "lastState": c.get("lastState")} for c in st.get("containerStatuses") or []]
        out["conditions"] = [f"{c.get('type')}={c.get('status')}" + (f" ({c['reason']})" if c.get("reason") else "")
                             for c in st.get("conditions") or []]
    else:
        out["spec"] = spec
        out["status"] = st
    return out


def _describe(kube: Kube, a: DescribeArgs) -> ToolResult:
    kind = resolve_kind(kube, a.kind)
    red = redactor(kube)
    obj = red.any(kube.get(kind, a.namespace or None, a.name))
    summary = _summary(kind, obj)
    try:
        events = _event_lines(kube, a.namespace, kind, a.name)
    except KubeError as e:
        events = [f"(events not readable: {e.message})"]
    label = f"{kind} {a.namespace + '/' if a.namespace else ''}{a.name}"
    body = _yaml(summary) + "\nEvents:\n" + ("\n".join(events) if events else "(none)")
    return ToolResult({"kind": kind, "object": obj, "events": events}, fence(label, body))


DESCRIBE = Tool("k8s_describe", "An object's essentials, status, container states and its recent events, like "
                "kubectl describe. Example: 'why is checkout crashing?' -> kind=Pod, name=<the crashing pod>",
                args=DescribeArgs, rbac=(("get", "*", "*"), ("list", "events", "")), run=_describe,
                max_tokens=2500, transform=cut_text)


# ---- logs --------------------------------------------------------------------------------------------------
LOG_TOKENS = 1500


class LogsArgs(BaseModel):
    namespace: str
    pod: str = Field(description="Pod name (a Deployment or other workload name picks one of its pods)")
    container: str = ""
    previous: bool = Field(False, description="The previous (crashed) container's log")
    max_tokens: int = Field(LOG_TOKENS, ge=200, le=6000, description="Budget for the summary")


def _pod_for(kube: Kube, namespace: str, name: str) -> str:
    """The pod `name` names: the pod itself, else a pod of the workload of that name (failing pods first)."""
    try:
        kube.get("Pod", namespace, name)
        return name
    except KubeError as e:
        if e.status != 404:
            raise
    pods = [p for p in kube.list("Pod", namespace) if (p.get("metadata") or {}).get("name", "").startswith(name + "-")]
    if not pods:
        raise ToolInputError(f"no pod named {name!r} (or belonging to a workload {name!r}) in namespace {namespace}")
    pods.sort(key=lambda p: (_pod_status(p) in ("Running", "Succeeded"), -restarts(p)))
    return pods[0]["metadata"]["name"]


def summarize_log(text: str, max_tokens: int = LOG_TOKENS, tail: int = 8) -> tuple[str, dict[str, Any]]:
    """A log as Drain templates within `max_tokens`: error templates first (never cut while any fits), then the
    most frequent ones, then the last lines. Returns (text, data)."""
    from tools.diagnose.logtemplates import mine

    lines = text.splitlines()
    templates = mine(lines, max_templates=60)
    budget = max_tokens - 60  # the header and the fence
    head = f"{len(lines)} lines, {len(templates)} templates (<*> marks variable parts; xN = occurrences)"
    chosen, used = [], estimate_tokens(head)

    def line_of(t: Any) -> str:
        ex = t.examples[0] if t.examples else ""
        mark = "ERROR " if t.error else ""
        return f"{mark}x{t.count} [lines {t.first_index + 1}-{t.last_index + 1}] {t.template}" + \
            (f"\n    e.g. {ex}" if ex and ex != t.template else "")

    for t in sorted(templates, key=lambda t: (not t.error, -t.count)):
        ln = line_of(t)
        cost = estimate_tokens(ln) + 1
        if used + cost > budget:
            continue
        chosen.append((t, ln))
        used += cost
    last = [ln for ln in lines[-tail:] if ln.strip()]
    last_text = "last lines:\n" + "\n".join(last)
    while last and used + estimate_tokens(last_text) > budget:
        last = last[1:]
        last_text = "last lines:\n" + "\n".join(last)
    chosen.sort(key=lambda x: x[0].first_index)
    body = head + "\n" + "\n".join(ln for _, ln in chosen) + ("\n" + last_text if last else "")
    data = {"lines": len(lines), "templates": [{"template": t.template, "count": t.count, "error": t.error}
                                               for t, _ in chosen], "omitted_templates": len(templates) - len(chosen)}
    return body, data


def _logs(kube: Kube, a: LogsArgs) -> ToolResult:
    pod = _pod_for(kube, a.namespace, a.pod)
    raw = kube.logs(a.namespace, pod, a.container or None, a.previous)
    if raw is None and not a.previous:
        raise ToolInputError(f"no log readable for pod {pod} (not started, or the container name is wrong)")
    if raw is None:
        raise ToolInputError(f"pod {pod} has no previous container log (it has not restarted)")
    red = redactor(kube)
    body, data = summarize_log(red.text(raw), a.max_tokens)
    label = f"logs of pod {a.namespace}/{pod}" + (f" container {a.container}" if a.container else "") + \
        (" (previous container)" if a.previous else "")
    return ToolResult({"pod": pod, **data}, fence(label, body))


LOGS = Tool("k8s_logs", "A pod's log summarized as templates (errors kept first) within a token budget. Example: "
            "'what does the checkout log say?' -> namespace=shop, pod=checkout, previous=true for a crashed container",
            args=LogsArgs, rbac=(("get", "pods/log", ""),), run=_logs)


# ---- top ---------------------------------------------------------------------------------------------------
class TopArgs(BaseModel):
    what: Literal["pods", "nodes"] = "pods"
    namespace: str = ""
    sort_by: Literal["cpu", "memory"] = "cpu"


def _top(kube: Kube, a: TopArgs) -> ToolResult:
    items = kube.top_nodes() if a.what == "nodes" else kube.top_pods(a.namespace or None)
    rows = []
    for it in items:
        m = it.get("metadata") or {}
        use = it.get("usage") or {}
        if a.what == "pods":
            cpu = sum(millicores((c.get("usage") or {}).get("cpu")) or 0 for c in it.get("containers") or [])
            mem = sum(bytes_((c.get("usage") or {}).get("memory")) or 0 for c in it.get("containers") or [])
        else:
            cpu, mem = millicores(use.get("cpu")) or 0, bytes_(use.get("memory")) or 0
        rows.append({"namespace": m.get("namespace", ""), "name": m.get("name", ""), "cpu_m": cpu,
                     "memory_mi": round(mem / 2 ** 20)})
    rows.sort(key=lambda r: -(r["cpu_m"] if a.sort_by == "cpu" else r["memory_mi"]))
    lines = ["NAMESPACE  NAME  CPU(m)  MEMORY(Mi)" if a.what == "pods" else "NAME  CPU(m)  MEMORY(Mi)"]
    for r in rows[:25]:
        lines.append(("  ".join([r["namespace"], r["name"]]) if a.what == "pods" else r["name"]) +
                     f"  {r['cpu_m']}  {r['memory_mi']}")
    return ToolResult({"rows": rows}, fence(f"top {a.what}{_where(a.namespace)}", "\n".join(lines)))


TOP = Tool("k8s_top", "Current CPU and memory use of pods or nodes (metrics.k8s.io). Example: 'which pods use the "
           "most memory in shop?' -> what=pods, namespace=shop, sort_by=memory", args=TopArgs,
           rbac=(("list", "pods", "metrics.k8s.io"), ("list", "nodes", "metrics.k8s.io")), run=_top)


# ---- can-i / who-can ---------------------------------------------------------------------------------------
class CanIArgs(BaseModel):
    verb: str = Field(description="get, list, watch, create, update, patch, delete, …")
    resource: str = Field(description="Resource (plural) or kind, e.g. secrets, deployments, pods/log")
    namespace: str = ""
    name: str = ""
    user: str = Field("", description="Who to check; empty = the person asking. A ServiceAccount is "
                      "system:serviceaccount:<namespace>:<name>")
    groups: list[str] = Field(default_factory=list)


def _resource(kube: Kube, word: str) -> tuple[str, str, str]:
    """(resource, subresource, group) of `pods/log`, `deployments`, `Deployment`, `deployments.apps`."""
    base, _, sub = word.partition("/")
    kind = resolve_kind(kube, base) if base != "*" else ""
    if not kind:
        return "*", sub, "*"
    group, _, plural, _ = kube.info(kind)
    return plural, sub, group


def _can_i(kube: Kube, a: CanIArgs) -> ToolResult:
    resource, sub, group = _resource(kube, a.resource)
    who = a.user or kube.principal.label
    if a.user:
        groups = list(a.groups)
        if a.user.startswith("system:serviceaccount:") and not groups:
            ns = a.user.split(":")[2] if a.user.count(":") >= 3 else ""
            groups = ["system:serviceaccounts", f"system:serviceaccounts:{ns}", "system:authenticated"]
        full = f"{resource}/{sub}" if sub else resource
        allowed, reason = kube.subject_can(a.user, groups, a.verb, full, a.namespace or None, group, a.name or None)
    else:
        allowed, reason = kube.can_i(a.verb, resource, a.namespace or None, a.name or None, group, sub)
    where = f"in namespace {a.namespace}" if a.namespace else "cluster-wide"
    text = f"{'yes' if allowed else 'no'}: {who} {'can' if allowed else 'cannot'} {a.verb} " \
           f"{resource}{'/' + sub if sub else ''} {where}" + (f" ({reason})" if reason else "")
    return ToolResult({"allowed": allowed, "reason": reason, "user": who, "verb": a.verb, "resource": resource,
                       "group": group, "namespace": a.namespace}, text)


CAN_I = Tool("k8s_can_i", "Whether a user, group or ServiceAccount may do a verb on a resource (a "
             "SubjectAccessReview). Example: 'can ci-bot delete secrets in prod?' -> verb=delete, resource=secrets, "
             "namespace=prod, user=system:serviceaccount:prod:ci-bot", args=CanIArgs,
             rbac=(("create", "subjectaccessreviews", "authorization.k8s.io"),), run=_can_i)


class WhoCanArgs(BaseModel):
    verb: str
    resource: str = Field(description="Resource (plural) or kind, e.g. secrets")
    namespace: str = ""


def _rule_allows(rule: dict[str, Any], verb: str, resource: str, group: str) -> bool:
    def has(values: list[str] | None, v: str) -> bool:
        return bool(values) and ("*" in values or v in values)

    return has(rule.get("verbs"), verb) and has(rule.get("resources"), resource) and \
        has(rule.get("apiGroups"), group)


def _who_can(kube: Kube, a: WhoCanArgs) -> ToolResult:
    resource, sub, group = _resource(kube, a.resource)
    full = f"{resource}/{sub}" if sub else resource
    roles: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for r in kube.list("ClusterRole"):
        roles[("ClusterRole", "", r["metadata"]["name"])] = r.get("rules") or []
    if a.namespace:
        for r in kube.list("Role", a.namespace):
            roles[("Role", a.namespace, r["metadata"]["name"])] = r.get("rules") or []
    bindings = list(kube.list("ClusterRoleBinding"))
    if a.namespace:
        bindings += kube.list("RoleBinding", a.namespace)
    found = []
    for b in bindings:
        ref = b.get("roleRef") or {}
        ns = (b.get("metadata") or {}).get("namespace", "")
        rules = roles.get((ref.get("kind", ""), ns if ref.get("kind") == "Role" else "", ref.get("name", "")))
        if rules and any(_rule_allows(r, a.verb, full, group) for r in rules):
            for s in b.get("subjects") or []:
                subj = f"{s.get('kind')} {(s.get('namespace') + '/') if s.get('namespace') else ''}{s.get('name')}"
                found.append({"subject": subj, "binding": f"{b.get('kind', 'RoleBinding')} "
                              f"{(ns + '/') if ns else ''}{b['metadata']['name']}",
                              "role": f"{ref.get('kind')} {ref.get('name')}"})
    where = f"in namespace {a.namespace}" if a.namespace else "cluster-wide"
    lines = [f"{f['subject']} via {f['binding']} -> {f['role']}" for f in found]
    text = fence(f"who can {a.verb} {full} {where}", "\n".join(lines)) if lines else \
        f"No binding {where} grants {a.verb} on {full}."
    return ToolResult({"subjects": found}, text)


WHO_CAN = Tool("k8s_who_can", "Which users, groups and ServiceAccounts may do a verb on a resource, and through "
               "which binding. Example: 'who can delete pods in shop?' -> verb=delete, resource=pods, namespace=shop",
               args=WhoCanArgs, rbac=(("list", "rolebindings", "rbac.authorization.k8s.io"),
                                      ("list", "clusterrolebindings", "rbac.authorization.k8s.io")),
               run=_who_can, max_tokens=1500, transform=cut_text)


# ---- api-resources / explain -------------------------------------------------------------------------------
class ApiResourcesArgs(BaseModel):
    group: str = Field("", description="Only this API group (empty: all)")


def _api_resources(kube: Kube, a: ApiResourcesArgs) -> ToolResult:
    rs = [r for r in kube.catalog().resources if not a.group or r.group == a.group]
    lines = ["KIND  NAME  SHORT  APIVERSION  NAMESPACED"]
    lines += [f"{r.kind}  {r.plural}  {','.join(r.short_names)}  {r.api_version}  {str(r.namespaced).lower()}"
              for r in rs]
    return ToolResult({"resources": [r.kind for r in rs]}, fence("api resources", "\n".join(lines)))


API_RESOURCES = Tool("k8s_api_resources", "The kinds this cluster serves (CRDs included). Example: 'does this "
                     "cluster have cert-manager certificates?'", args=ApiResourcesArgs, run=_api_resources,
                     max_tokens=2000, transform=cut_text)


class ExplainArgs(BaseModel):
    kind: str
    field: str = Field("", description="Dotted field path, e.g. spec.template.spec.containers.resources")


def _explain(kube: Kube, a: ExplainArgs) -> ToolResult:
    kind = resolve_kind(kube, a.kind)
    group, version, _, _ = kube.info(kind)
    path = f"/openapi/v3/apis/{group}/{version}" if group else f"/openapi/v3/api/{version}"
    doc = kube.request("GET", path) or {}
    schemas = (doc.get("components") or {}).get("schemas") or {}
    name = next((n for n, s in schemas.items() if any(g.get("kind") == kind and g.get("group", "") == group
                                                       for g in s.get("x-kubernetes-group-version-kind") or [])), None)
    if name is None:
        raise ToolInputError(f"the server publishes no schema for {kind}")
    node = schemas[name]
    for part in [p for p in a.field.replace("[]", "").split(".") if p]:
        node = _deref(node, schemas)
        if node.get("type") == "array" or "items" in node:
            node = _deref(node.get("items") or {}, schemas)
        props = node.get("properties") or {}
        if part not in props:
            raise ToolInputError(f"{kind} has no field {a.field!r} (at {part!r}; known: {', '.join(sorted(props))})")
        node = props[part]
    node = _deref(node, schemas)
    if node.get("type") == "array" and "items" in node:
        node = _deref(node["items"], schemas)
    lines = [f"{kind}{'.' + a.field if a.field else ''}: {node.get('type', 'object')}",
             (node.get("description") or "").strip()[:600]]
    for p, s in sorted((node.get("properties") or {}).items()):
        s = _deref(s, schemas)
        lines.append(f"  {p} <{s.get('type', 'object')}>: {(s.get('description') or '').strip()[:100]}")
    return ToolResult({"kind": kind, "field": a.field}, "\n".join(lines))


def _deref(node: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    for _ in range(5):
        ref = node.get("$ref") or next((x.get("$ref") for x in node.get("allOf") or [] if "$ref" in x), None)
        if not ref:
            return node
        node = {**schemas.get(ref.rsplit("/", 1)[-1], {}), "description": node.get("description") or
                schemas.get(ref.rsplit("/", 1)[-1], {}).get("description")}
    return node


EXPLAIN = Tool("k8s_explain", "The documented fields of a kind or of one of its fields (the server's OpenAPI schema). "
               "Example: 'what goes in a container's resources?' -> kind=Pod, field=spec.containers.resources",
               args=ExplainArgs, run=_explain, max_tokens=1500, transform=cut_text)


# ---- rollout history ---------------------------------------------------------------------------------------
class RolloutArgs(BaseModel):
    kind: str = "Deployment"
    name: str
    namespace: str


def _rollout_history(kube: Kube, a: RolloutArgs) -> ToolResult:
    kind = resolve_kind(kube, a.kind)
    obj = kube.get(kind, a.namespace, a.name)
    uid = (obj.get("metadata") or {}).get("uid")
    owned = "ReplicaSet" if kind == "Deployment" else "ControllerRevision"
    revs = []
    for o in kube.list(owned, a.namespace):
        if not any(r.get("uid") == uid for r in (o.get("metadata") or {}).get("ownerReferences") or []):
            continue
        m = o.get("metadata") or {}
        rev = (m.get("annotations") or {}).get("deployment.kubernetes.io/revision") or o.get("revision")
        revs.append({"revision": int(rev or 0), "name": m.get("name"), "images": _images(o) if owned == "ReplicaSet"
                     else "", "replicas": (o.get("status") or {}).get("replicas", 0) if owned == "ReplicaSet" else "",
                     "change_cause": (m.get("annotations") or {}).get("kubernetes.io/change-cause", "")})
    revs.sort(key=lambda r: r["revision"])
    lines = ["REVISION  NAME  IMAGES  REPLICAS  CHANGE-CAUSE"]
    lines += [f"{r['revision']}  {r['name']}  {r['images']}  {r['replicas']}  {r['change_cause']}" for r in revs]
    return ToolResult({"revisions": revs}, fence(f"rollout history of {kind} {a.namespace}/{a.name}",
                                                 "\n".join(lines)))


ROLLOUT_HISTORY = Tool("k8s_rollout_history", "The revisions of a Deployment (its ReplicaSets) or StatefulSet/"
                       "DaemonSet, with images. Example: 'what image did web run before?' -> name=web, namespace=shop",
                       args=RolloutArgs, rbac=(("list", "replicasets", "apps"),), run=_rollout_history)


def _manifest(raw: dict[str, Any] | str) -> dict[str, Any]:
    if isinstance(raw, str):
        try:
            raw = yaml.safe_load(raw)
        except yaml.YAMLError as e:
            raise ToolInputError(f"the manifest is not valid YAML/JSON: {e}") from None
    if not isinstance(raw, dict) or not raw.get("kind") or not (raw.get("metadata") or {}).get("name"):
        raise ToolInputError("a manifest needs apiVersion, kind and metadata.name")
    return raw


def manifest_mutation(kube: Kube, raw: dict[str, Any] | str) -> Mutation:
    """Create the object, or patch it (strategic merge) when it exists: what `kubectl apply` would change."""
    man = _manifest(raw)
    kind = resolve_kind(kube, man["kind"])
    namespaced = kube.info(kind)[3]
    ns = ((man.get("metadata") or {}).get("namespace") or "") if namespaced else ""
    if namespaced and not ns:
        raise ToolInputError(f"say the namespace of the {kind} in metadata.namespace")
    name = man["metadata"]["name"]
    try:
        kube.get(kind, ns or None, name)
        exists = True
    except KubeError as e:
        if e.status != 404:
            raise
        exists = False
    body = {k: v for k, v in man.items() if k != "status"}
    if exists:
        return Mutation("patch", kind, ns, name, body=body, why="apply the manifest (patch the live object)")
    return Mutation("create", kind, ns, name, body=body, why="apply the manifest (create)")


# ---- diff --------------------------------------------------------------------------------------------------
class DiffArgs(BaseModel):
    manifest: dict[str, Any] | str = Field(description="The full manifest (a JSON object, or YAML text)")


def _diff(kube: Kube, a: DiffArgs) -> ToolResult:
    m = kube.preview(manifest_mutation(kube, a.manifest))
    red = redactor(kube)
    if m.dry_run_error:
        return ToolResult({"error": m.dry_run_error}, f"The server rejects this manifest (dry run): "
                          f"{red.text(m.dry_run_error)}", error=True)
    return ToolResult({"action": m.describe(), "diff": red.text(m.diff)},
                      f"dry run of {m.describe()}:\n" + fence("diff", red.text(m.diff) or "(no change)"))


DIFF = Tool("k8s_diff", "Server-side dry run of a manifest: what would change if it were applied (nothing is "
            "applied). Example: 'what would change if I set web's replicas to 5 in this manifest?'", args=DiffArgs,
            rbac=(("patch", "*", "*"),), run=_diff, max_tokens=2000, transform=cut_text)


READ_TOOLS: tuple[Tool, ...] = (GET, LIST, DESCRIBE, EVENTS, LOGS, TOP, CAN_I, WHO_CAN, API_RESOURCES, EXPLAIN,
                                ROLLOUT_HISTORY, DIFF)
