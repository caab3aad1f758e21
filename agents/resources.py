"""The resources agent: read, author, change and repair any Kubernetes object from plain language.

Why this shape: each request is read by deterministic rules (agents/resource_text.py) into an intent, a kind and
slots; manifests come from builders (tools/manifests.py) whose conventions are always right; changes are small
patches that name only what changes; repairs reuse the diagnosis checks and are verified after the apply (and undone
when they do not hold, tools/k8s/health.py). Every write is a Mutation: the supervisor previews it with a server dry run
and waits for approval. Kinds the API serves are discovered at run time, so CRDs can be read like built-ins.
"""

from __future__ import annotations

import copy
import difflib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from agents.context import AgentContext
from agents.decide import decide, reading
from agents.fastpaths.pod_node import ASKS as PLACEMENT
from agents.resource_text import KIND_WORDS, Request, kind_of, pairs, parse
from agents.resource_views import (
    containers,
    cronjob_schedule,
    ingress_routes,
    ingress_tls,
    job_counts,
    service_head,
    service_ports,
    summary,
)
from agents.state import AgentResult
from tools.k8s.client import KubeError, Mutation
from tools.k8s.kinds import RUNS_CONTAINERS, SCALABLE, WORKLOADS
from tools.k8s.mutations import restart
from tools.k8s.objects import condition, parse_quantity, pod_spec, ready_containers, restarts, waiting_reason
from tools.manifests import BUILT, SlotError, build, probe_spec, tidy, to_yaml

AGENT = "resources"
CONTAINER_KINDS = RUNS_CONTAINERS


def run(ctx: AgentContext) -> AgentResult:
    req = parse(ctx.text)
    handler = {"author": _author, "change": _change, "repair": _repair, "delete": _delete}.get(req.intent, _read)

    def act() -> AgentResult:
        try:
            return handler(ctx, req)
        except SlotError as e:
            # a question back is not an understanding: nothing is proposed, here or in another part of the request
            return AgentResult(AGENT, f"I need one more detail: {e}",
                               data={"abstain": {"understood": [], "not_understood": [], "ask": str(e)}})
        except KubeError as e:
            if e.status == 404:  # the object this reading took the request to name is not there: not understood
                return AgentResult(AGENT, f"I did not act: {e.message}.", [e.message], data={"abstain": {
                    "understood": [], "not_understood": [], "ask": f"{e.message}: say which object you mean."}})
            return AgentResult(AGENT, f"I could not finish: {e.message}", [e.message])

    if req.intent == "read" and _qualified(ctx.text, kind_of(ctx.text)[1]):
        # a filtered list is the toolsmith's: its own account of the words decides
        try:
            how, answer = _read_plan(ctx, req)
        except KubeError as e:
            return AgentResult(AGENT, f"I could not finish: {e.message}", [e.message])
        if how == "toolsmith":
            res = answer()
            if not (res.data or {}).get("abstain"):
                return res
            # the toolsmith could not make the filter; a registry path that read the whole request answers instead
            # ("where are the web pods in shop running": the pods' nodes)
            from agents import fastpaths

            fp, u = fastpaths.best(ctx, AGENT)
            return fastpaths.answer(ctx, fp, u) if fp is not None and u is not None else res
    if req.intent == "author" and (kind := _model_kind(ctx, req)):
        return _decide_model_written(ctx, req, kind, act)
    slots, vocab = _understood(ctx, req)
    own = [reading(ctx, AGENT, req.intent, slots, vocab, act)]
    why = ""
    if req.intent == "change" and _change_route(ctx.text.lower(), req) is _labels:
        _, why = _label_target(ctx, req)
        if why:  # which object is not clear: the registry's set-labels path, or a question back
            own = [r for r in own if not r.understood.confident]
    if req.intent == "read" and (PLACEMENT.search(ctx.text.lower()) or _fields_asked(ctx)):
        # "what node does checkout run on": the pods' nodes (fastpaths.pod_node), never a list of nodes; "what
        # labels does web have and what is its image": every field asked (fastpaths.object_field), never only one
        own = []
    if req.intent == "delete" and _delete_target(ctx, req) is None:
        own = []  # "delete the completed jobs": a set named by state (the registry's delete-jobs), or nothing named
    if req.intent == "author" and req.kind == "ConfigMap" and _existing(ctx, "ConfigMap", req):
        own = []  # "add K=V to <a ConfigMap that exists>": the registry's configmap-data path, never a new object
    return decide(ctx, AGENT, own, ASK, why)


def _existing(ctx: AgentContext, kind: str, req: Request) -> bool:
    """The request names a live object of `kind` (in its namespace)."""
    from agents.fastpaths._words import resolve

    return bool(resolve(ctx, (kind,), req.slots.namespace or ctx.entities.namespace))


def _model_kind(ctx: AgentContext, req: Request) -> str | None:
    """A kind the API serves that the word list does not know and no builder makes ("pod disruption budget", a
    CRD's kind): the request is about it, not about the kind a word in its name matched ("pod")."""
    from tools.k8s.discovery import kinds_in

    try:
        served = kinds_in(ctx.text, ctx.kube.catalog())
    except KubeError:
        return None
    return served[0].kind if served and served[0].kind != req.kind and served[0].kind not in BUILT else None


def _decide_model_written(ctx: AgentContext, req: Request, kind: str, act: Callable[[], AgentResult]) -> AgentResult:
    """A model-written manifest is understood as far as it goes: the request's words are accounted for by the
    author vocabulary, the kind's own words and what the manifest the server accepted says (its field names and
    values: "keeps 2 web pods available" is `minAvailable: 2` over `app: web`). A word the manifest does not
    reflect is a part the model left out, so nothing is proposed. No accepted manifest: that answer, unchanged."""
    from dataclasses import replace

    res = act()
    manifest = res.data.get("manifest")
    if manifest is None:
        return res
    slots, vocab = _understood(ctx, replace(req, kind=kind))
    slots.update(kind=kind, manifest=manifest)
    vocab |= _camel_words(kind) | {w for k in _keys(manifest) for w in _camel_words(k)}
    return decide(ctx, AGENT, [reading(ctx, AGENT, req.intent, slots, vocab, lambda: res)], ASK)


def _camel_words(name: str) -> set[str]:
    """'PodDisruptionBudget' → {'pod', 'disruption', 'budget'}; 'minAvailable' → {'min', 'available'}."""
    return {w.lower() for w in re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])", name)}


def _keys(value: Any) -> list[str]:
    """Every mapping key in a manifest, nested ones included."""
    if isinstance(value, dict):
        return [str(k) for k in value] + [k for v in value.values() for k in _keys(v)]
    if isinstance(value, list):
        return [k for v in value for k in _keys(v)]
    return []


# -- what a request's words were read as -----------------------------------------------------------------------------
# The words each intent fully acts on, besides filler, the slots it filled (names, namespace, image, quantities,
# key=value pairs, schedule…), the kind it acts on and the names of existing objects it refers to. Another kind
# ("create namespace x and a pod y"), another verb or a condition no row has means the request is not understood
# and nothing is proposed or answered (agents.decide). Negations are never words of a row: they count only inside a
# phrase the intent handles ("do not have", "has no endpoints").
_V: dict[str, str] = {
    "read": """list show get display describe what which how many count number are running run runs images image
        containers container manifest yaml json spec definition details detail status state tell about current existing
        all every across cluster-wide whole endpoints endpoint have changed change different differs diff
        modified last latest rollout revision version print give find see view""",
    "author": """create make add deploy run start launch spin up set setup generate write build new expose provision
        like class storageclass day days
        give store save schedule put named called name with replicas replica port ports listening listen on image
        running using that runs every minute minutes hour hours hourly daily night nightly weekly at am pm storage volume claim
        target targetport targeting forward forwards forwarding pointing points
        of as env environment variable variables var vars label labels key keys value values data prints print echo
        command args type for one-off once one off job keep keeps""",
    "change": """set update change upgrade downgrade bump replace switch point mount attach inject wire add put raise
        lower increase decrease give label annotate tag expand resize grow patch edit use route send shift enable
        configure limit limits cap move remove unset rename to from of as into at on env environment variable
        variables var vars image version tag sidecar container probe readiness liveness port ports target cpu memory
        request requests resources keys key value with named called storage size""",
    "delete": "delete remove destroy drop get rid of clean tear down",
    "repair": """fix repair heal whatever wrong broken mend sort out crash crashing looping loop pull image endpoints
        has have start failing it runs""",
}
_CONTAINER_WORDS = "cpu memory request requests limit limits resources container"
_STANDALONE = frozenset({"ConfigMap", "Secret", "Namespace", "ServiceAccount", "PersistentVolumeClaim"})
_STANDALONE_SLOTS = frozenset({"name", "namespace", "kind", "data", "pairs", "labels", "storage", "storage_class",
                               "secret_type"})
_READ_IGNORES = frozenset({"probe", "requests", "limits", "env", "command", "schedule", "replicas", "ports",
                           "target_port", "storage", "storage_class", "mount_path", "service_type", "min_replicas",
                           "max_replicas", "cpu_percent", "data", "secret_type", "policy", "from_labels", "image",
                           "verbs", "resources", "subject", "host"})
_DELETE_SLOTS = frozenset({"name", "namespace", "kind", "workload", "labels", "selector"})
_CONTAINER_VOCAB = frozenset("""deploy run start launch spin replicas replica port ports listening listen on image running
    using runs target targetport targeting forward forwards forwarding prints print echo command args""".split())
_REFERENCED = (*WORKLOADS, "Service", "ConfigMap", "Secret", "Pod",
               "PersistentVolumeClaim", "CronJob", "Job")
ASK = ("Say one object and one thing to do with it, for example 'create a deployment api in shop running nginx:1.27 "
       "with 3 replicas', 'set the image of web in shop to nginx:1.28' or 'list the pods in shop'; a request that "
       "creates or changes several objects needs each one said on its own.")


def _kind_words(kind: str | None) -> set[str]:
    return {w for w, k in KIND_WORDS.items() if k == kind} if kind else set()


def _understood(ctx: AgentContext, req: Request) -> tuple[dict[str, Any], set[str]]:
    """The slots the resources rules filled for `req` and the vocabulary of its intent (agents.coverage)."""
    from dataclasses import asdict

    vocab = set(_V.get(req.intent, _V["read"]).split()) | _kind_words(req.kind)
    part = None
    if req.kind in CONTAINER_KINDS:
        vocab |= set(_CONTAINER_WORDS.split())
    if req.kind == "Service" or req.intent in ("change", "repair"):
        vocab |= {w for k in CONTAINER_KINDS + ("Service", "ConfigMap", "Secret") for w in _kind_words(k)}
    if req.intent == "repair":
        from agents.logs import VOCAB as SYMPTOMS

        vocab |= SYMPTOMS
    if req.intent == "read":
        vocab |= {"do not have", "does not have", "selects no pods", "no endpoints"}
        for w in wide_asked(ctx.text, req.kind or (_resolve_kind(ctx, req) or (None,))[0]):
            vocab |= WIDE[w][0] | {"with", "together", "along", "running", "run", "each", "their", "its"}
        if part := _part_asked(ctx, req):  # one part of one named object: the words that ask for that part
            vocab |= PARTS[part[0]].vocab | _kind_words(part[1])
        if req.kind == "ConfigMap" and _configmap_named(ctx, req):  # what the read of one named ConfigMap shows
            vocab |= {"inside", "contents", "content", "keys", "key", "values", "value", "data", "holds", "contains"}
        if req.kind is None:
            found = _resolve_kind(ctx, req)
            if found:
                vocab |= {found[0].lower(), found[0].lower() + "s", found[0].lower() + "es"} | _kind_words(found[0])
    slots = {k: v for k, v in asdict(req.slots).items() if v not in (None, "", [], {}) and k != "path"}
    slots["kind"] = req.kind
    if part:
        slots["part"], slots["object"] = part[0], part[3]
    if ctx.entities.workload:  # the named object, and the kind word that names it ("the payments deployment")
        slots["workload"] = ctx.entities.workload
        vocab |= _kind_words(ctx.entities.workload_kind)
    if req.intent in ("author", "change"):
        slots["pairs"] = pairs(ctx.text)  # key=value pairs as written (labels, annotations, env, data)
        slots["port_numbers"] = re.findall(r"\bports?\b[^.;]*?\b(\d{2,5})\b", ctx.text.lower())
    ns = req.slots.namespace or ctx.entities.namespace
    words = set(req.words)
    refs = []
    for kind in _REFERENCED if req.intent != "read" or req.kind is None else (req.kind,):
        refs += [n for _, n in _names(ctx, kind, ns) if n in words]
    if req.intent == "author" and req.kind in _STANDALONE:
        # a ConfigMap, Secret, Namespace, ServiceAccount or claim made on its own uses no other object: a workload the
        # request names ("… and load it into the checkout deployment") is a second thing to do, not understood here
        refs = []
        if slots.pop("workload", None):
            vocab -= _kind_words(ctx.entities.workload_kind) - _kind_words(req.kind)
        for k in set(slots) - _STANDALONE_SLOTS:  # an image, replicas or ports belong to another object
            del slots[k]
        vocab -= _CONTAINER_VOCAB
    if slots.get("probe"):  # "http GET /healthz on port 80": how the probe asks is part of the probe said
        vocab |= {"http", "https", "get", "tcp", "httpget", "path", "endpoint", "check", "health"}
    if req.intent == "read":
        # a read lists and shows; it filters by name, namespace and labels only: a probe, a quantity, an image or a
        # schedule said in it ("which deployments don't have a readiness probe") is a condition it does not apply
        for k in set(slots) & _READ_IGNORES:
            del slots[k]
    if req.intent == "delete":
        # a delete takes an object and nothing else: a count, an image or a port said with it ("drop it to 1
        # replica") is another request, never consumed by the delete
        for k in set(slots) - _DELETE_SLOTS:
            del slots[k]
    slots["objects"] = sorted(set(refs))
    if ctx.entities.namespace:
        slots["namespace"] = slots.get("namespace") or ctx.entities.namespace
    return slots, vocab


# -- helpers -----------------------------------------------------------------------------------------------------
def _ns(ctx: AgentContext, req: Request) -> str:
    return req.slots.namespace or ctx.entities.namespace or "default"


def _names(ctx: AgentContext, kind: str, ns: str | None) -> list[tuple[str, str]]:
    try:
        return [(o["metadata"].get("namespace", ""), o["metadata"]["name"]) for o in ctx.kube.list(kind, ns)]
    except KubeError:
        return []


def _find(ctx: AgentContext, kind: str, ns: str | None, words: list[str], exclude: tuple[str, ...] = ()) -> str | None:
    """The object of `kind` the words name: exact name, then 'name-suffix' forms, then a close match."""
    items = _names(ctx, kind, ns)
    names = [n for _, n in items if n not in exclude]
    for w in words:
        if w in names:
            return w
    for w in words:
        hits = [n for n in names if len(w) >= 3 and (n.startswith(w + "-") or n.endswith("-" + w))]
        if len(hits) == 1:
            return hits[0]
    for w in words:
        if len(w) >= 4 and w not in KIND_WORDS:
            close = difflib.get_close_matches(w, names, n=1, cutoff=0.85)
            if close:
                return close[0]
    return None


def _target(ctx: AgentContext, req: Request, kinds: tuple[str, ...]) -> tuple[str, str, str] | None:
    """(kind, namespace, name) of the existing object a change is about."""
    ns = _ns(ctx, req)
    want = req.kind if req.kind in kinds else None
    e = ctx.entities
    if e.workload and (want is None or e.workload_kind == want) and e.workload_kind in kinds:
        return e.workload_kind, e.namespace or ns, e.workload
    for kind in ([want] if want else []) + [k for k in kinds if k != want]:
        name = _find(ctx, kind, ns, req.words)
        if name:
            return kind, ns, name
    return None


_template = pod_spec


def _wrap(kind: str, pod_spec: dict[str, Any]) -> dict[str, Any]:
    """A strategic-merge patch that puts `pod_spec` where `kind` keeps its pod spec."""
    if kind == "Pod":
        return {"spec": pod_spec}
    if kind == "CronJob":
        return {"spec": {"jobTemplate": {"spec": {"template": {"spec": pod_spec}}}}}
    return {"spec": {"template": {"spec": pod_spec}}}


def _container(ctx: AgentContext, obj: dict[str, Any], kind: str, req: Request) -> dict[str, Any]:
    containers = _template(obj, kind).get("containers") or []
    for c in containers:
        if c["name"] in req.words:
            return c
    return containers[0] if containers else {"name": obj["metadata"]["name"]}


def _verify(kind: str, ns: str, name: str, undo: bool = True) -> dict[str, Any] | None:
    if kind not in (*WORKLOADS, "Pod", "Service", "PersistentVolumeClaim"):
        return None
    return {"kind": kind, "namespace": ns, "name": name, "timeout_s": 90, "stable_s": 8, "undo": undo}


def _cite(kind: str, ns: str, name: str) -> str:
    return f"{kind.lower()} {ns + '/' if ns else ''}{name}"


# -- read ----------------------------------------------------------------------------------------------------------
def _read(ctx: AgentContext, req: Request) -> AgentResult:
    return _read_plan(ctx, req)[1]()


def _read_plan(ctx: AgentContext, req: Request) -> tuple[str, Callable[[], AgentResult]]:
    """Which read answers the request, and the call that answers it: a named object's view, images, services
    without endpoints, a rollout diff, a filtered list (the toolsmith's) or a plain list."""
    low = ctx.text.lower()
    ns = req.slots.namespace or ctx.entities.namespace
    all_ns = bool(re.search(r"\b(all|every|across)\s+(the\s+)?namespaces?\b|\bcluster[- ]wide\b|\bin the cluster\b", low))
    scope = None if all_ns else ns
    if part := _part_asked(ctx, req):  # one part of one named object: its ports, routes, images
        name, kind, ons, oname = part
        return name, lambda: PARTS[name].answer(ctx, kind, ons, oname)
    if re.search(r"(?<!\bos )\bimages?\b", low) and req.kind != "Node":  # a node's "OS image" is node info
        return "images", lambda: _images(ctx, req, scope)
    if re.search(r"\b(no|without|zero|missing|empty|lack(?:ing)?|(?:do not|don'?t|does not|doesn'?t) have(?: any)?)\s+"
                 r"(?:any\s+)?(?:ready\s+)?endpoints?\b|\bselects? no pods\b|\bendpoints? (?:are |is )?empty\b", low):
        return "no-endpoints", lambda: _no_endpoints(ctx, scope)
    if re.search(r"\b(changed|different|differs|modified|diff)\b.*\b(rollout|revision|version|deploy)", low) or \
            re.search(r"\blast rollout\b|\blatest revision\b", low):
        return "rollout-diff", lambda: _rollout_diff(ctx, req)
    if re.search(r"\b(yaml|manifest|spec of|definition|json)\b", low):
        t = _target(ctx, req, (*CONTAINER_KINDS, "Service", "ConfigMap", "Secret", "PersistentVolumeClaim", "Ingress",
                               "ServiceAccount", "Role", "RoleBinding", "HorizontalPodAutoscaler", "NetworkPolicy"))
        if t:
            return "yaml", lambda: _yaml(ctx, t)
    if re.search(r"\bcontainers?\b", low) and ctx.entities.workload:
        t = _target(ctx, req, CONTAINER_KINDS)
        if t:
            return "containers", lambda: _containers(ctx, t)
    if req.kind == "ConfigMap" and (cm := _configmap_named(ctx, req)):  # its keys and values
        return "configmap", lambda: _configmap(ctx, "ConfigMap", *cm)
    if re.search(r"\b(describe|status of|details of|tell me about|how is|what is the state)\b", low) and (
            ctx.entities.workload or req.kind):
        t = _target(ctx, req, DESCRIBED)
        if t:
            return "describe", lambda: _describe(ctx, *t)
    if _qualified(ctx.text, kind_of(ctx.text)[1]):
        return "toolsmith", lambda: _filtered(ctx)
    return "list", lambda: _list(ctx, req, scope, all_ns)


def _yaml(ctx: AgentContext, t: tuple[str, str, str]) -> AgentResult:
    obj = ctx.kube.get(*t)
    if t[0] == "Secret":
        obj["data"] = {k: "<redacted>" for k in obj.get("data") or {}}
    return AgentResult(AGENT, f"{_cite(*t)}:\n{to_yaml(obj)}", [_cite(*t)], data={"object": tidy(obj)})


def _containers(ctx: AgentContext, t: tuple[str, str, str]) -> AgentResult:
    obj = ctx.kube.get(*t)
    rows = [f"  {c['name']}: {c.get('image')}" + (f" ports {[p.get('containerPort') for p in c.get('ports')]}"
                                                  if c.get("ports") else "")
            for c in _template(obj, t[0]).get("containers") or []]
    return AgentResult(AGENT, f"{_cite(*t)} runs:\n" + "\n".join(rows), [_cite(*t)])


def _filtered(ctx: AgentContext) -> AgentResult:
    """A list with conditions a plain list cannot apply: the toolsmith's, which accounts for the words itself."""
    from agents import toolsmith

    res = toolsmith.run(ctx)
    res.evidence.insert(0, "the request filters beyond a plain list, so the toolsmith answered it")
    return res


def _resolve_kind(ctx: AgentContext, req: Request) -> tuple[str, bool] | None:
    if req.kind:
        try:
            _, _, _, namespaced = ctx.kube.info(req.kind)
            return req.kind, namespaced
        except KubeError:
            pass
    from tools.k8s.discovery import kinds_in

    try:
        cat = ctx.kube.catalog()
    except KubeError:
        return None
    skip = {"limits", "quota", "all", "cs", "ev", "ns", "namespace", "namespaces", "in"}
    found = [r for r in kinds_in(" ".join(w for w in req.words if w not in skip), cat)]
    if not found:
        return None
    return found[0].kind, found[0].namespaced


# Conditions a plain list cannot apply ("services of type NodePort", "pods older than 1h", "count per node"):
# such a read goes to the toolsmith, which writes (or reuses) a tool that applies them.
QUALIFIED = re.compile(r"\b(without|with no|whose|where|that (?:have|has|had|are|is|were|was|run|use|uses)|which (?:have|"
                       r"has|are|is|use|uses)|not|never|older|newer|younger|larger|smaller|bigger|more than|less than|"
                       r"fewer|at least|at most|of type|type|per|grouped|group by|missing|unused|orphan(?:ed)?|stale|"
                       r"longer than|since|running on|on node|sorted|top \d+|most|least|exposing|listening|"
                       r"suspended|failed|pending|unbound|tainted|privileged|as root|load ?balancers?|node ?ports?|"
                       r"headless|cluster ?ip|external ?name)\b")


LEAD_WORDS = frozenset("""list show get me the all my our every what which are there display give print find describe a an
of any current existing how many do we have i see view tell about count number please can you could us in cluster
namespace""".split())


def _qualified(text: str, kind_word_at: int) -> bool:
    """Does the request filter the objects? A qualifying word after the kind ("… of type NodePort", "… older than
    1h") or an adjective before it ("LoadBalancer services", "running pods")."""
    low = text.lower()
    if QUALIFIED.search(low):
        return True
    before = re.findall(r"[a-z0-9][a-z0-9-]*", low[:max(kind_word_at, 0)])
    columns = {w for k in wide_asked(text, kind_of(text)[0]) for w in WIDE[k][0]} | {"and"} if before else set()
    return any(w not in LEAD_WORDS and not w.isdigit() and w not in columns for w in before)


def _list(ctx: AgentContext, req: Request, ns: str | None, all_ns: bool) -> AgentResult:
    resolved = _resolve_kind(ctx, req)
    if resolved is None:
        return AgentResult(AGENT, "Which kind of object? I could not find a resource type the API serves in the "
                                  "request (e.g. pods, deployments, services, configmaps, or a CRD's name).")
    kind, namespaced = resolved
    sel = ",".join(f"{k}={v}" for k, v in (req.slots.selector or req.slots.labels).items()) or None
    items = ctx.kube.list(kind, ns if namespaced else None, sel)
    where = "" if not namespaced else (f" in namespace {ns}" if ns else " in all namespaces")
    if re.search(r"\bhow many\b|\bcount\b|\bnumber of\b", ctx.text.lower()):
        return AgentResult(AGENT, f"There are {len(items)} {kind}s{where}.", [f"{len(items)} {kind}"],
                           data={"count": len(items)})
    if not items:
        return AgentResult(AGENT, f"No {kind}s{where}{' matching ' + sel if sel else ''}.", data={"items": []})
    wide = wide_asked(ctx.text, kind)
    rows = [_row(kind, o, wide) for o in items[:200]]
    more = f"\n(and {len(items) - 200} more)" if len(items) > 200 else ""
    names = [f"{o['metadata'].get('namespace') + '/' if o['metadata'].get('namespace') else ''}{o['metadata']['name']}"
             for o in items]
    return AgentResult(AGENT, f"{len(items)} {kind}(s){where}:\n" + "\n".join(rows) + more, names[:50],
                       data={"items": names})


# Columns a list shows when the request asks for them ("every pod with its labels", "what kubelet version and OS
# image are the nodes running"): the words that ask, the kinds they apply to (None: every kind), and the cell.
WIDE: dict[str, tuple[frozenset[str], tuple[str, ...] | None, Callable[[dict[str, Any]], str]]] = {
    "labels": (frozenset({"label", "labels"}), None,
               lambda o: "labels " + (",".join(f"{k}={v}" for k, v in sorted(((o.get("metadata") or {}).get("labels")
                                                                               or {}).items())) or "none")),
    "node-info": (frozenset({"kubelet", "os", "kernel", "runtime", "version", "versions", "image", "images"}), ("Node",),
                  lambda o: "kubelet {kubeletVersion}, OS {osImage}, kernel {kernelVersion}, runtime "
                            "{containerRuntimeVersion}".format_map({"kubeletVersion": "?", "osImage": "?",
                                                                    "kernelVersion": "?", "containerRuntimeVersion": "?",
                                                                    **((o.get("status") or {}).get("nodeInfo") or {})})),
    # a CronJob's row always shows its schedule and suspension: the words that ask for them are understood
    "schedule": (frozenset({"schedule", "schedules", "scheduled", "suspend", "suspended", "paused"}), ("CronJob",),
                 lambda o: ""),
}


def wide_asked(text: str, kind: str | None) -> list[str]:
    """The WIDE columns the request asks for, for a list of `kind`."""
    from agents.coverage import tokens

    words = set(tokens(text))
    return [k for k, (asks, kinds, _) in WIDE.items() if words & asks and (kinds is None or kind in kinds)]


def _row(kind: str, o: dict[str, Any], wide: Sequence[str] = ()) -> str:
    row = _row_base(kind, o)
    return row + "".join(f"; {cell}" for w in wide if (cell := WIDE[w][2](o)))


def _row_base(kind: str, o: dict[str, Any]) -> str:
    meta, spec, st = o["metadata"], o.get("spec") or {}, o.get("status") or {}
    name = f"{meta.get('namespace') + '/' if meta.get('namespace') else ''}{meta['name']}"
    if kind == "Pod":
        waiting = next((r for r in map(waiting_reason, st.get("containerStatuses") or []) if r), None)
        return f"  {name}: {waiting or st.get('phase')}, {ready_containers(o)} ready, {restarts(o)} restarts"
    if kind in WORKLOADS:
        want = spec.get("replicas", st.get("desiredNumberScheduled", 0))
        ready = st.get("readyReplicas", st.get("numberReady", 0))
        imgs = ", ".join(c.get("image", "") for c in _template(o, kind).get("containers") or [])
        return f"  {name}: {ready}/{want} ready, image {imgs}"
    if kind == "Service":
        ports = ", ".join(f"{p.get('port')}->{p.get('targetPort', p.get('port'))}"
                          + (f" (nodePort {p['nodePort']})" if p.get("nodePort") else "") for p in spec.get("ports") or [])
        return f"  {name}: {spec.get('type', 'ClusterIP')} {spec.get('clusterIP', '')} ports {ports} " \
               f"selector {spec.get('selector') or {}}"
    if kind in ("ConfigMap", "Secret"):
        return f"  {name}: keys {sorted((o.get('data') or {}) | (o.get('binaryData') or {}))}"
    if kind == "PersistentVolumeClaim":
        return f"  {name}: {st.get('phase')} {(spec.get('resources') or {}).get('requests', {}).get('storage', '')}"
    if kind == "Node":
        return f"  {name}: Ready={(condition(o, 'Ready') or {}).get('status', '?')}"
    if kind == "CronJob":
        return f"  {name}: {cronjob_schedule(o)}"
    if kind == "Job":
        return f"  {name}: {job_counts(o)}"
    if kind == "Ingress":
        return f"  {name}: " + "; ".join([*ingress_routes(o), ingress_tls(o)])
    return f"  {name}"


def _images(ctx: AgentContext, req: Request, ns: str | None) -> AgentResult:
    pods = ctx.kube.list("Pod", ns)
    by_image: dict[str, list[str]] = {}
    for p in pods:
        for c in (p.get("spec") or {}).get("containers") or []:
            by_image.setdefault(c.get("image", "?"), []).append(f"{p['metadata']['namespace']}/{p['metadata']['name']}")
    where = f" in namespace {ns}" if ns else " in all namespaces"
    if not by_image:
        return AgentResult(AGENT, f"No pods{where}.", data={"images": {}})
    rows = [f"  {img}: {len(ps)} pod(s), e.g. {', '.join(ps[:3])}" for img, ps in sorted(by_image.items())]
    return AgentResult(AGENT, f"{len(by_image)} image(s) running{where}:\n" + "\n".join(rows), sorted(by_image),
                       data={"images": {k: v for k, v in by_image.items()}})


def _no_endpoints(ctx: AgentContext, ns: str | None) -> AgentResult:
    out, evidence = [], []
    for svc in ctx.kube.list("Service", ns):
        spec = svc.get("spec") or {}
        if not spec.get("selector") or spec.get("type") == "ExternalName":
            continue
        sns, name = svc["metadata"]["namespace"], svc["metadata"]["name"]
        try:
            ep = ctx.kube.get("Endpoints", sns, name)
            ready = sum(len(s.get("addresses") or []) for s in ep.get("subsets") or [])
        except KubeError:
            ready = 0
        if ready == 0:
            pods = ctx.kube.list("Pod", sns, ",".join(f"{k}={v}" for k, v in spec["selector"].items()))
            out.append(f"  {sns}/{name}: selector {spec['selector']} matches {len(pods)} pod(s)"
                       + ("" if pods else " — no pod has those labels"))
            evidence.append(f"{sns}/{name}")
    where = f" in namespace {ns}" if ns else ""
    if not out:
        return AgentResult(AGENT, f"Every Service with a selector{where} has ready endpoints.", data={"services": []})
    return AgentResult(AGENT, f"{len(out)} Service(s){where} have no ready endpoints:\n" + "\n".join(out), evidence,
                       data={"services": evidence})


def _configmap_named(ctx: AgentContext, req: Request) -> tuple[str, str] | None:
    """(namespace, name) of the one ConfigMap the request names exactly ("empty configmaps" names none)."""
    ns = _ns(ctx, req)
    names = {n for _, n in _names(ctx, "ConfigMap", ns)}
    said = [w for w in dict.fromkeys(req.words) if w in names]
    return (ns, said[0]) if len(said) == 1 else None


def _configmap(ctx: AgentContext, kind: str, ns: str, name: str) -> AgentResult:
    """A ConfigMap's data as key=value lines (binary keys by size)."""
    obj = ctx.kube.get(kind, ns, name)
    data, binary = obj.get("data") or {}, obj.get("binaryData") or {}
    lines = [f"{k}={v}" for k, v in sorted(data.items())] + [f"{k}: {len(v)} bytes of binary data (base64)"
                                                            for k, v in sorted(binary.items())]
    body = "\n  ".join(lines) if lines else "(no keys)"
    return AgentResult(AGENT, f"{_cite(kind, ns, name)} has {len(lines)} key(s):\n  {body}", [_cite(kind, ns, name)],
                       data={"keys": sorted(data) + sorted(binary)})


DESCRIBED = (*CONTAINER_KINDS, "Service", "Ingress", "ConfigMap", "Secret", "PersistentVolumeClaim")


def _describe(ctx: AgentContext, kind: str, ns: str, name: str) -> AgentResult:
    """The object in its kind's terms (agents.resource_views), its endpoints when a Service, and its own events: an
    event is the object's only when its kind and name are (a Deployment and an Ingress may share a name)."""
    obj = ctx.kube.get(kind, ns, name)
    lines = summary(kind, obj)
    if kind == "Service":
        lines.append(_endpoints_line(ctx, obj))
    try:
        events = [e for e in ctx.kube.list("Event", ns) if (e.get("involvedObject") or {}).get("name") == name
                  and (e.get("involvedObject") or {}).get("kind") == kind]
    except KubeError:
        events = []
    lines += [f"event {e.get('type')} {e.get('reason')}: {e.get('message')}" for e in events[-5:]]  # quoted as is
    if not events:
        lines.append("no recent events")
    return AgentResult(AGENT, f"{_cite(kind, ns, name)}:\n  " + "\n  ".join(lines), [_cite(kind, ns, name)])


def _endpoints_line(ctx: AgentContext, svc: dict[str, Any]) -> str:
    """How many pod addresses the Service sends to now (ready, and not ready)."""
    meta = svc["metadata"]
    try:
        subsets = ctx.kube.get("Endpoints", meta.get("namespace"), meta["name"]).get("subsets") or []
    except KubeError:
        return "endpoints: none (no Endpoints object)"
    ready = sum(len(x.get("addresses") or []) for x in subsets)
    waiting = sum(len(x.get("notReadyAddresses") or []) for x in subsets)
    return f"endpoints: {ready} ready" + (f", {waiting} not ready" if waiting else "")


# -- one part of one named object --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Part:
    """A question about one part of one named object ("what ports does the web service expose"): the kinds it is
    about, the words that ask for it, the words it fully answers, whether the kind must be said, and the answer."""

    kinds: tuple[str, ...]
    asks: re.Pattern[str]
    vocab: frozenset[str]
    answer: Callable[[AgentContext, str, str, str], AgentResult]
    kind_said: bool = False


def _ports_answer(ctx: AgentContext, kind: str, ns: str, name: str) -> AgentResult:
    svc = ctx.kube.get(kind, ns, name)
    ports = service_ports(svc)
    body = "\n  ".join(ports) if ports else "no ports"
    return AgentResult(AGENT, f"{_cite(kind, ns, name)} ({service_head(svc)}) exposes {len(ports)} port(s):\n  {body}",
                       [_cite(kind, ns, name)], data={"ports": (svc.get("spec") or {}).get("ports") or []})


def _routes_answer(ctx: AgentContext, kind: str, ns: str, name: str) -> AgentResult:
    ing = ctx.kube.get(kind, ns, name)
    cls = (ing.get("spec") or {}).get("ingressClassName")
    lines = [*ingress_routes(ing), ingress_tls(ing)]
    return AgentResult(AGENT, f"{_cite(kind, ns, name)}{f' (class {cls})' if cls else ''} sends traffic:\n  "
                              + "\n  ".join(lines), [_cite(kind, ns, name)])


def _image_answer(ctx: AgentContext, kind: str, ns: str, name: str) -> AgentResult:
    """The object's containers and images, and the images its pods run when they differ (a rollout under way)."""
    obj = ctx.kube.get(kind, ns, name)
    lines = [c.split(", requests")[0] for c in containers(obj, kind)]
    want = {c.get("image") for c in _template(obj, kind).get("containers") or []}
    pods: list[dict[str, Any]] = []
    sel = ((obj.get("spec") or {}).get("selector") or {}).get("matchLabels")
    if kind in (*WORKLOADS, "Job") and sel:
        pods = ctx.kube.list("Pod", ns, ",".join(f"{k}={v}" for k, v in sel.items()))
    running: dict[str, list[str]] = {}
    for p in pods:
        for c in (p.get("spec") or {}).get("containers") or []:
            running.setdefault(c.get("image", "?"), []).append(p["metadata"]["name"])
    if set(running) - want:
        lines.append("its pods do not all run that yet (a rollout in progress or stuck): " + "; ".join(
            f"{img} in {len(ps)} pod(s), e.g. {ps[0]}" for img, ps in sorted(running.items())))
    elif pods:
        lines.append(f"all {len(pods)} of its pod(s) run {'these images' if len(want) > 1 else 'this image'}")
    return AgentResult(AGENT, f"{_cite(kind, ns, name)} runs:\n  " + "\n  ".join(lines), [_cite(kind, ns, name)],
                       data={"images": sorted(x for x in want if x), "pod_images": sorted(running)})


PARTS: dict[str, Part] = {
    # the Ingress first: "which service and port does the frontend ingress send traffic to" is about the Ingress
    "routes": Part(("Ingress",), re.compile(r"\b(backends?|services?|ports?|traffic|route[sd]?|routing|sends?|"
                                            r"forward(?:s|ed|ing)?|goe?s?|tls|https|ssl|terminat\w*|certs?|"
                                            r"certificates?|hosts?|hostnames?|paths?|rules?)\b"),
                   frozenset("""service services port ports backend backends traffic send sends sent route routes
                   routed routing forward forwards forwarded go goes tls https ssl terminate terminates terminated
                   termination cert certs certificate certificates secret host hosts hostname hostnames path paths
                   rule rules where""".split()), _routes_answer, kind_said=True),
    "ports": Part(("Service",), re.compile(r"\bports?\b|\blisten|\bexpos|\btarget\s*ports?\b|\btargetports?\b|"
                                           r"\bnode\s*ports?\b|\bnodeports?\b"),
                  frozenset("""port ports listen listens listening expose exposes exposed exposing target targetport
                  targetports nodeport nodeports node protocol protocols open""".split()), _ports_answer),
    "image": Part(CONTAINER_KINDS, re.compile(r"(?<!\bos )\bimages?\b"),
                  frozenset("""image images running run runs use uses using container containers version versions
                  tag tags currently""".split()), _image_answer),
}


def _part_asked(ctx: AgentContext, req: Request) -> tuple[str, str, str, str] | None:
    """(part, kind, namespace, name) when the request asks about one part of one object it names exactly, of a kind
    it says (or says no kind at all, where the part allows that); None otherwise."""
    if req.intent != "read" or re.search(r"\b(yaml|manifest|json)\b", ctx.text.lower()):
        return None
    from dataclasses import replace

    from agents.fastpaths._words import kinds_said

    plain = re.sub(r"\bnode\s+ports?\b", "nodeport", ctx.text.lower())  # a Service's node port names no Node
    said = kinds_said(replace(ctx, text=plain), dict.fromkeys(KIND_WORDS.values()))
    for name, part in PARTS.items():
        kinds = [k for k in part.kinds if k in said] if said else ([] if part.kind_said else list(part.kinds))
        if "Pod" in said and "Pod" in part.kinds:  # "the web pods": the pods of the workload named web
            kinds += [k for k in WORKLOADS if k in part.kinds and k not in kinds]
        found = _named_exactly(ctx, req, kinds) if kinds else None
        # the words that ask are outside the object's name (the "port" of api-nodeport asks nothing)
        if found and part.asks.search(re.sub(rf"(?<![a-z0-9-]){re.escape(found[2])}(?![a-z0-9-])", " ",
                                             ctx.text.lower())):
            return (name, *found)
    return None


def _named_exactly(ctx: AgentContext, req: Request, kinds: Sequence[str]) -> tuple[str, str, str] | None:
    """(kind, namespace, name) of the one object of `kinds` the request names by its exact name; the namespace's
    own name counts only when it is said twice ("the web deployment in web")."""
    from agents.coverage import tokens

    ns = _ns(ctx, req)
    said = tokens(ctx.text) + re.findall(r"['\"]([a-z0-9][a-z0-9.-]*)['\"]", ctx.text.lower())
    words = {w for w in said if w != ns or said.count(ns) > 1}
    hits = [(k, ns, n) for k in kinds for _, n in _names(ctx, k, ns) if n in words]
    names = {n for _, _, n in hits}
    return hits[0] if len(names) == 1 else None


def _rollout_diff(ctx: AgentContext, req: Request) -> AgentResult:
    t = _target(ctx, req, ("Deployment",))
    if t is None:
        return AgentResult(AGENT, "Which deployment? I could not find one named in the request.")
    _, ns, name = t
    dep = ctx.kube.get("Deployment", ns, name)
    rss = [r for r in ctx.kube.list("ReplicaSet", ns) if any(o.get("uid") == dep["metadata"]["uid"]
                                                              for o in r["metadata"].get("ownerReferences") or [])]
    rss.sort(key=lambda r: int((r["metadata"].get("annotations") or {}).get("deployment.kubernetes.io/revision", "0")))
    if len(rss) < 2:
        return AgentResult(AGENT, f"deployment {ns}/{name} has one revision only: nothing changed since it was created.",
                           [_cite("Deployment", ns, name)])

    def tmpl(r: dict[str, Any]) -> list[str]:
        t = copy.deepcopy(r["spec"]["template"])
        (t.get("metadata") or {}).get("labels", {}).pop("pod-template-hash", None)
        return yaml.safe_dump(tidy(t), sort_keys=True).splitlines()

    a, b = rss[-2], rss[-1]
    ra = (a["metadata"].get("annotations") or {}).get("deployment.kubernetes.io/revision")
    rb = (b["metadata"].get("annotations") or {}).get("deployment.kubernetes.io/revision")
    diff = "\n".join(difflib.unified_diff(tmpl(a), tmpl(b), f"revision {ra}", f"revision {rb}", lineterm="", n=1))
    return AgentResult(AGENT, f"deployment {ns}/{name}: revision {rb} changed the pod template from revision {ra}:\n"
                              f"{diff or '(no template difference)'}", [f"replicaset {ns}/{a['metadata']['name']}",
                                                                          f"replicaset {ns}/{b['metadata']['name']}"])


# -- author -------------------------------------------------------------------------------------------------------
def _author(ctx: AgentContext, req: Request) -> AgentResult:
    s, kind = req.slots, req.kind
    kind = _model_kind(ctx, req) or kind  # a kind the API serves that the word list does not know
    if kind is None:
        if s.image:
            kind = "Deployment" if s.replicas else "Pod"
        else:
            return AgentResult(AGENT, "What should I create? Name a kind (pod, deployment, service, configmap, …).")
    s.namespace = _ns(ctx, req) if kind != "Namespace" else ""
    if kind not in BUILT:
        return _author_with_model(ctx, req, kind)
    low = ctx.text.lower()
    extra: list[Mutation] = []
    if kind == "Service":
        _service_slots(ctx, req)
    elif kind == "HorizontalPodAutoscaler":
        t = _target(ctx, req, WORKLOADS)
        s.target = t[2] if t else s.target
        s.name = s.name if s.name and s.name != s.target else (s.target or s.name)
        nums = [int(x) for x in re.findall(r"\b(\d{1,3})\b(?!\s*%)", low)]
        if len(nums) >= 2:
            s.min_replicas, s.max_replicas = sorted(nums[:2])
        pct = re.search(r"(\d{1,3})\s*%", low)
        s.cpu_percent = int(pct.group(1)) if pct else None
    elif kind == "Ingress":
        m = re.search(r"\b(?:to|for)\s+(?:the\s+)?(?:service\s+)?([a-z0-9][a-z0-9-]*)(?:\s+service)?", low)
        svc = _find(ctx, "Service", s.namespace, ([m.group(1)] if m else []) + req.words)
        s.target = svc or (m.group(1) if m else "")
        s.name = s.name or s.target
    elif kind == "Role":
        _role_slots(req)
    elif kind == "RoleBinding":
        _binding_slots(ctx, req)
    elif kind == "NetworkPolicy":
        _netpol_slots(ctx, req)
    if not s.name:
        s.name = _default_name(kind, req)
    if kind in RUNS_CONTAINERS and not s.image:
        if re.search(r"\b(script|cleanup|backup|task|sleep|echo)\b", low):
            s.image = "busybox"
            s.command = s.command or (["sh", "-c", "echo running " + s.name] if not re.search(r"sleep", low)
                                      else ["sleep", "3600"])
    manifest = build(kind, s)
    if kind == "Service" and _exists(ctx, "Service", s.namespace, s.name):
        return _service_exists(ctx, s.namespace, s.name, manifest)
    creds = _credentials(kind, s, manifest)
    if creds is not None:
        extra.append(creds)
    if s.namespace and kind != "Namespace" and not _exists(ctx, "Namespace", None, s.namespace):
        extra.append(Mutation("create", "Namespace", "", s.namespace, body=build("Namespace", type(s)(name=s.namespace)),
                              why=f"namespace {s.namespace} does not exist yet"))
    verify = _verify(kind, s.namespace, s.name, undo=False) if kind in (*WORKLOADS, "Pod") else None
    extra.sort(key=lambda x: x.kind != "Namespace")  # the namespace first, then what lives in it
    m = Mutation("create", kind, s.namespace, s.name, body=manifest, why=f"create {kind} {s.name} as asked",
                 verify=verify, goal=_created_goal(kind, s.namespace, s.name, manifest))
    text = f"Proposed: create {_cite(kind, s.namespace, s.name)}:\n{to_yaml(manifest)}"
    if extra:
        text = f"Namespace {s.namespace} does not exist; I will create it first.\n" + text
    return AgentResult(AGENT, text, [f"manifest for {_cite(kind, s.namespace, s.name)}"], [*extra, m],
                       data={"manifest": manifest})


def _service_exists(ctx: AgentContext, ns: str, name: str, want: dict[str, Any]) -> AgentResult:
    """A Service of that name is there already: a second create would fail, and changing the one there was not
    asked. Say whether it already is what was asked, or how it differs; propose nothing."""
    have = (ctx.kube.get("Service", ns, name).get("spec") or {})
    spec = want.get("spec") or {}

    def ports(x: dict[str, Any]) -> list[tuple[Any, Any]]:
        return sorted((p.get("port"), p.get("targetPort", p.get("port"))) for p in x.get("ports") or [])

    fields = (("type", have.get("type", "ClusterIP"), spec.get("type", "ClusterIP")),
              ("selector", have.get("selector") or {}, spec.get("selector") or {}),
              ("ports (port, targetPort)", ports(have), ports(spec)))
    diff = [f"{f} is {h}, asked {w}" for f, h, w in fields if h != w]
    cite = _cite("Service", ns, name)
    if not diff:
        return AgentResult(AGENT, f"Already so: {cite} exists with type {fields[0][1]}, selector {fields[1][1]} and "
                                  f"ports {fields[2][1]}; there is nothing to create.", [cite])
    return AgentResult(AGENT, f"{cite} already exists, so I am not creating it; it differs from what you asked: "
                              + "; ".join(diff) + ". To change it, ask for that change on the service (e.g. 'point "
                              f"the {name} service in {ns} at the {spec.get('selector', {}).get('app', name)} "
                              "deployment'), or give the new service another name.", [cite])


def _created_goal(kind: str, ns: str, name: str, manifest: dict[str, Any]) -> list[dict[str, Any]] | None:
    """What a created Service must say once applied: its type, selector and each port with its target."""
    if kind != "Service":
        return None
    spec = manifest.get("spec") or {}

    def at(path: str, op: str, value: Any) -> dict[str, Any]:
        return {"kind": kind, "namespace": ns, "name": name, "path": path, "op": op, "value": value}

    goal = [at("spec.type", "eq", spec.get("type", "ClusterIP"))]
    if spec.get("selector"):
        goal.append(at("spec.selector", "eq", spec["selector"]))
    goal += [at("spec.ports", "contains", {k: p[k] for k in ("port", "targetPort") if k in p})
             for p in spec.get("ports") or []]
    return goal


# Images that refuse to start without a password: the manifest gets one from a generated Secret, never inline.
REQUIRED_SECRET_ENV = {"postgres": "POSTGRES_PASSWORD", "mysql": "MYSQL_ROOT_PASSWORD", "mariadb":
                       "MARIADB_ROOT_PASSWORD", "mongo": "MONGO_INITDB_ROOT_PASSWORD"}


def _credentials(kind: str, s: Any, manifest: dict[str, Any]) -> Mutation | None:
    import secrets

    if kind not in (*WORKLOADS, "Pod") or not s.image:
        return None
    var = REQUIRED_SECRET_ENV.get(s.image.rsplit("/", 1)[-1].split(":")[0])
    if var is None or var in s.env:
        return None
    secret = f"{s.name}-credentials"
    spec = manifest["spec"] if kind == "Pod" else manifest["spec"]["template"]["spec"]
    spec["containers"][0].setdefault("env", []).append(
        {"name": var, "valueFrom": {"secretKeyRef": {"name": secret, "key": var}}})
    if var == "MONGO_INITDB_ROOT_PASSWORD":
        spec["containers"][0]["env"].insert(0, {"name": "MONGO_INITDB_ROOT_USERNAME", "value": "root"})
    body = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": secret, "namespace": s.namespace},
            "type": "Opaque", "stringData": {var: secrets.token_urlsafe(18)}}
    return Mutation("create", "Secret", s.namespace, secret, body=body,
                    why=f"{s.image} needs {var}: a generated password in a Secret")


def _exists(ctx: AgentContext, kind: str, ns: str | None, name: str) -> bool:
    try:
        ctx.kube.get(kind, ns, name)
        return True
    except KubeError as e:
        return e.status != 404


def _default_name(kind: str, req: Request) -> str:
    if req.slots.image:
        return re.sub(r"[^a-z0-9-]", "-", req.slots.image.rsplit("/", 1)[-1].split(":")[0]).strip("-")
    if req.slots.target:
        return req.slots.target
    return ""


def _service_slots(ctx: AgentContext, req: Request) -> None:
    s = req.slots
    low = ctx.text.lower()
    if s.selector:
        s.name = s.name or next(iter(s.selector.values()))
        return
    t = _target(ctx, req, WORKLOADS)
    if t is None:
        m = re.search(r"\b(?:for|expose|exposing|to)\s+(?:the\s+)?([a-z0-9][a-z0-9-]*)", low)
        s.target = m.group(1) if m and m.group(1) not in ("service", "deployment", "app", "pods") else s.target
        s.selector = {"app": s.target} if s.target else {}
        return
    kind, ns, name = t
    obj = ctx.kube.get(kind, ns, name)
    s.selector = dict(((obj.get("spec") or {}).get("selector") or {}).get("matchLabels") or {})
    s.target = name
    s.namespace = ns
    if not s.name or s.name == name:
        s.name = name
    ports = [p.get("containerPort") for c in _template(obj, kind).get("containers") or [] for p in c.get("ports") or []]
    if ports and s.target_port is None:
        s.target_port = ports[0]
    if not s.ports:
        s.ports = [s.target_port or 80]


def _role_slots(req: Request) -> None:
    low = " ".join(req.words)
    verbs: list[str] = []
    if re.search(r"\b(read|view|see|get|list|watch|read-only|readonly)\b", low):
        verbs += ["get", "list", "watch"]
    if re.search(r"\b(manage|edit|write|change|modify|full|admin)\b", low):
        verbs = ["get", "list", "watch", "create", "update", "patch", "delete"]
    for v in ("create", "update", "patch", "delete", "deletecollection"):
        if re.search(rf"\b{v}\b", low) and v not in verbs:
            verbs.append(v)
    req.slots.verbs = verbs or ["get", "list", "watch"]
    groups = {"Deployment": "apps/deployments", "StatefulSet": "apps/statefulsets", "DaemonSet": "apps/daemonsets",
              "ReplicaSet": "apps/replicasets", "Job": "batch/jobs", "CronJob": "batch/cronjobs",
              "Ingress": "networking.k8s.io/ingresses", "NetworkPolicy": "networking.k8s.io/networkpolicies"}
    plurals = {"Pod": "pods", "Service": "services", "ConfigMap": "configmaps", "Secret": "secrets",
               "PersistentVolumeClaim": "persistentvolumeclaims", "ServiceAccount": "serviceaccounts",
               "Event": "events", "Endpoints": "endpoints"}
    res: list[str] = []
    after = low.split(" role ", 1)[-1] if " role " in f" {low} " else low
    for w in re.findall(r"[a-z]+", after):
        k = KIND_WORDS.get(w)
        if k in groups and groups[k] not in res:
            res.append(groups[k])
        elif k in plurals and plurals[k] not in res:
            res.append(plurals[k])
    if "logs" in req.words and "pods" in res:
        res.append("pods/log")
    req.slots.resources = res or ["pods"]


def _binding_slots(ctx: AgentContext, req: Request) -> None:
    s, low = req.slots, ctx.text.lower()
    m = re.search(r"\b(?:cluster\s*role|clusterrole)\s+([a-z0-9][a-z0-9:-]*)", low)
    if m:
        s.target = "clusterrole:" + m.group(1)
    else:
        m = re.search(r"\brole\s+([a-z0-9][a-z0-9-]*)", low) or re.search(r"\bthe\s+([a-z0-9-]+)\s+role\b", low)
        if m and m.group(1) not in ("binding", "to", "for"):
            s.target = m.group(1)
    m = re.search(r"\b(?:service\s*account|serviceaccount|sa)\s+([a-z0-9][a-z0-9-]*)", low)
    if m:
        s.subject = "serviceaccount:" + m.group(1)
    else:
        m = re.search(r"\bgroup\s+([a-z0-9][a-z0-9:-]*)", low)
        if m:
            s.subject = "group:" + m.group(1)
        else:
            m = re.search(r"\b(?:to|for)\s+(?:user\s+)?([a-z0-9][a-z0-9@.-]*)", low) or \
                re.search(r"\b(?:give|grant|let)\s+(?:user\s+)?([a-z0-9][a-z0-9@.-]*)", low)
            if m and m.group(1) not in ("the", "a", "role", "user"):
                s.subject = m.group(1)
    if not s.name and s.target and s.subject:
        s.name = f"{s.target.split(':', 1)[-1]}-{s.subject.split(':', 1)[-1]}"


def _netpol_slots(ctx: AgentContext, req: Request) -> None:
    s, low = req.slots, ctx.text.lower()
    if re.search(r"\bdeny\b|\bblock\b|\bisolate\b", low) and not re.search(r"\ballow", low):
        s.name = s.name or "deny-all-ingress"
        return
    m = re.search(r"\bfrom\s+(?:the\s+)?([a-z0-9][a-z0-9-]*)", low)
    if m:
        src = m.group(1)
        s.from_labels = s.from_labels or {"app": src}
    m = re.search(r"\b(?:to|reach|into|for)\s+(?:the\s+)?([a-z0-9][a-z0-9-]*)", low)
    t = _target(ctx, req, WORKLOADS)
    if t:
        obj = ctx.kube.get(*t)
        labels = dict(((obj.get("spec") or {}).get("selector") or {}).get("matchLabels") or {})
        if labels.get("app") != (s.from_labels or {}).get("app"):
            s.selector = labels
    elif m and m.group(1) not in ("the", "traffic", "only", "pods"):
        s.selector = {"app": m.group(1)}
    s.name = s.name or (f"allow-{(s.from_labels or {}).get('app', 'some')}-to-{s.selector.get('app', 'all')}")


def _author_with_model(ctx: AgentContext, req: Request, kind: str) -> AgentResult:
    """Kinds without a builder: the gateway writes the manifest, and only a server dry run accepts it. The dry run
    is the gateway's verifier, so a local answer the server rejects escalates to the cloud tier when there is one."""
    if ctx.llm is None:
        return AgentResult(AGENT, f"I write {kind} manifests only with a language model, and none is configured. "
                                  f"Without one I can build: {', '.join(BUILT)}.")
    ns = _ns(ctx, req)
    try:
        api_version = ctx.kube.catalog().by_kind(kind).api_version
    except (KubeError, AttributeError):
        api_version = ""
    accepted: dict[str, Any] = {}

    def check(msg: Any) -> str | None:
        manifest, problem = _manifest_from(getattr(msg, "content", "") or "", kind)
        if problem:
            return problem
        manifest.setdefault("metadata", {})["namespace"] = manifest["metadata"].get("namespace") or ns
        m = ctx.kube.preview(Mutation("create", kind, manifest["metadata"]["namespace"], manifest["metadata"]["name"],
                                      body=manifest))
        if m.dry_run_error:
            return f"the API server rejects it: {m.dry_run_error}"
        accepted["manifest"] = manifest
        return None

    from langchain_core.messages import HumanMessage, SystemMessage

    prompt = (f"Write one Kubernetes {kind} manifest (apiVersion {api_version or 'as served'}) in namespace {ns} for "
              f"this request. Reply with YAML only, no prose.\nRequest: {ctx.text}")
    try:
        msg = ctx.llm.bind(category="codegen", verifier=check, temperature=0.0, max_tokens=400,
                           principal=ctx.kube.principal.label).invoke(
            [SystemMessage(content="You write valid Kubernetes manifests."), HumanMessage(content=prompt)])
    except Exception as e:  # noqa: BLE001 - a model outage is a clear answer, not a traceback
        return AgentResult(AGENT, f"I could not get a {kind} manifest from the model: {e}")
    manifest = accepted.get("manifest")
    if manifest is None:
        _, problem = _manifest_from(getattr(msg, "content", "") or "", kind)
        return AgentResult(AGENT, f"The model did not produce a {kind} manifest the API server accepts "
                                  f"({problem or 'rejected by the server dry run'}), so I am not proposing anything.")
    served = (getattr(msg, "response_metadata", None) or {}).get("served_by", "model")
    m = Mutation("create", kind, manifest["metadata"]["namespace"], manifest["metadata"]["name"], body=manifest,
                 why=f"create {kind} (written by the model, {served}; accepted by a server dry run)")
    return AgentResult(AGENT, f"Proposed (written by the model, served by {served}, checked by a server dry run):\n"
                              f"{to_yaml(manifest)}", [f"model-written manifest ({served})"], [m],
                       data={"manifest": manifest, "served_by": served})


def _manifest_from(text: str, kind: str) -> tuple[dict[str, Any], str]:
    m = re.search(r"```(?:ya?ml)?\s*\n(.*?)```", text, re.S)
    try:
        manifest = yaml.safe_load(m.group(1) if m else text)
    except yaml.YAMLError as e:
        return {}, f"not valid YAML: {str(e).splitlines()[0]}"
    if not isinstance(manifest, dict):
        return {}, "not a YAML mapping"
    if manifest.get("kind") != kind:
        return {}, f"kind is {manifest.get('kind')!r}, not {kind}"
    if not (manifest.get("metadata") or {}).get("name"):
        return {}, "metadata.name is missing"
    return manifest, ""


# -- change -------------------------------------------------------------------------------------------------------
def _change_route(low: str, req: Request) -> Callable[[AgentContext, Request], AgentResult] | None:
    """Which kind of change the request is (None: a container change of a workload); `run` asks it too, to know
    a label change before it trusts its own reading of the target."""
    if req.kind == "PersistentVolumeClaim" or re.search(r"\b(expand|resize|grow)\b", low):
        return _expand_pvc
    if req.kind == "ConfigMap" and not re.search(r"\b(mount|inject|wire|use|envfrom)\b", low):
        return _edit_configmap
    if re.search(r"%", low) and re.search(r"\b(canary|traffic|send|route|shift)\b", low):
        return _canary
    if (req.kind == "Service" or re.search(r"\bservice\b", low)) and re.search(
            r"\b(switch|point|selector|target\s*port|route|type|nodeport|loadbalancer)\b", low):
        return _change_service
    if re.search(r"\b(label|annotate|annotation|tag)\b", low) and not re.search(r"\bimage\b", low):
        return _labels
    return None


def _change(ctx: AgentContext, req: Request) -> AgentResult:
    low = ctx.text.lower()
    s = req.slots
    route = _change_route(low, req)
    if route is not None:
        return route(ctx, req)
    t = _target(ctx, req, CONTAINER_KINDS)
    if t is None:
        return AgentResult(AGENT, "Which object? I could not find a workload named in the request in "
                                  f"namespace {_ns(ctx, req)}.")
    kind, ns, name = t
    obj = ctx.kube.get(kind, ns, name)
    c = _container(ctx, obj, kind, req)
    cname = c["name"]
    patch_c: dict[str, Any] = {"name": cname}
    pod_extra: dict[str, Any] = {}
    what: list[str] = []
    secret_or_cm = re.search(r"\b(secret|config\s*map|configmap)\s+([a-z0-9][a-z0-9.-]*)|\bthe\s+([a-z0-9][a-z0-9.-]*)\s+"
                             r"(secret|config\s*map|configmap)\b", low)
    if re.search(r"\bsidecar\b|\badd (?:an? |another )?(?:\w+ )?container\b", low):
        return _sidecar(ctx, req, kind, ns, name, obj)
    if re.search(r"\bmount\b|\bvolume\b", low) and secret_or_cm:
        src_kind = "Secret" if "secret" in (secret_or_cm.group(1) or secret_or_cm.group(4) or "") else "ConfigMap"
        src = secret_or_cm.group(2) or secret_or_cm.group(3)
        src = _find(ctx, src_kind, ns, [src]) or src
        vol = f"{src}-vol"
        source = {"secret": {"secretName": src}} if src_kind == "Secret" else {"configMap": {"name": src}}
        pod_extra["volumes"] = [{"name": vol, **source}]
        patch_c["volumeMounts"] = [{"name": vol, "mountPath": s.mount_path or f"/etc/{src}", "readOnly": True}]
        what.append(f"mount {src_kind} {src} at {s.mount_path or '/etc/' + src}")
    elif secret_or_cm and re.search(r"\b(env|environment|inject|wire|envfrom|variables?)\b", low):
        src_kind = "Secret" if "secret" in (secret_or_cm.group(1) or secret_or_cm.group(4) or "") else "ConfigMap"
        src = secret_or_cm.group(2) or secret_or_cm.group(3)
        src = _find(ctx, src_kind, ns, [src]) or src
        ref = {"secretRef": {"name": src}} if src_kind == "Secret" else {"configMapRef": {"name": src}}
        patch_c["envFrom"] = (c.get("envFrom") or []) + [ref]
        what.append(f"load every key of {src_kind} {src} as environment variables")
    if s.env and not patch_c.get("envFrom"):
        patch_c["env"] = [{"name": k, "value": v} for k, v in s.env.items()]
        what.append("set " + ", ".join(f"{k}={v}" for k, v in s.env.items()))
    if re.search(r"\b(unset|remove|delete|drop)\b.*\b(env|variable)\b", low):
        gone = [w.upper() for w in re.findall(r"\b([A-Za-z_][A-Za-z0-9_]*)\b", ctx.text) if
                w.upper() in {e["name"] for e in c.get("env") or []}]
        if gone:
            patch_c["env"] = [{"name": g, "$patch": "delete"} for g in gone]
            what.append("remove env " + ", ".join(gone))
    new_image = _new_image(ctx, req, c)
    if new_image and new_image == c.get("image"):  # the goal already holds: a patch that changes nothing is no fix
        return AgentResult(AGENT, f"{_cite(kind, ns, name)} (container {cname}) already runs {new_image}; there is "
                                  "nothing to change. Which image or version should it run instead?",
                           [f"{_cite(kind, ns, name)} image {new_image}"])
    if new_image:
        patch_c["image"] = new_image
        what.append(f"image {c.get('image')} → {new_image}")
    if (s.requests or s.limits) and not re.search(r"\bprobe\b", low):
        res = copy.deepcopy(c.get("resources") or {})
        for k, v in (("requests", s.requests), ("limits", s.limits)):
            if v:
                res.setdefault(k, {}).update(v)
        for r, lim in (res.get("limits") or {}).items():  # a request above its limit is invalid: cap it
            if r in (res.get("requests") or {}) and _qty(res["requests"][r]) > _qty(lim):
                res["requests"][r] = lim
        patch_c["resources"] = res
        what.append(f"resources {res}")
    if s.probe:
        if not s.probe.get("port"):
            ports = [p.get("containerPort") for p in c.get("ports") or []]
            s.probe["port"] = ports[0] if ports else 80
        patch_c.update(probe_spec(s.probe))
        what.append(f"{s.probe['kind']} probe on {s.probe.get('path') or 'port'} {s.probe['port']}")
    if s.command and re.search(r"\b(command|args|entrypoint|run)\b", low):
        patch_c["command"] = s.command
        what.append(f"command {s.command}")
    if re.search(r"\bports?\b", low) and s.ports and not s.probe:
        patch_c["ports"] = [{"containerPort": p} for p in s.ports]
        what.append(f"container port(s) {s.ports}")
    if s.replicas is not None and kind in SCALABLE:
        return AgentResult(AGENT, f"Proposed: set {_cite(kind, ns, name)} to {s.replicas} replicas.", [_cite(kind, ns, name)],
                           [Mutation("scale", kind, ns, name, body=s.replicas, why=f"{s.replicas} replicas as asked",
                                     verify=_verify(kind, ns, name), goal=[{
                                         "kind": kind, "namespace": ns, "name": name, "path": "spec.replicas",
                                         "op": "eq", "value": s.replicas}])])
    if not what:
        return AgentResult(AGENT, f"I understood you want to change {_cite(kind, ns, name)}, but not what. I can set "
                                  "the image, env vars, ConfigMap/Secret wiring, volume mounts, requests and limits, "
                                  "probes, command, labels, ports and replicas.")
    pod_spec = {"containers": [patch_c], **pod_extra}
    body = _wrap(kind, pod_spec)
    if kind == "Pod" and set(patch_c) - {"name", "image"}:
        said = (f"A running pod's {', '.join(sorted(set(patch_c) - {'name', 'image'}))} cannot be changed in place; "
                f"change the workload that owns {ns}/{name}, or recreate the pod.")
        # the pod was this reading's guess at the target ("the payments container"): another reading may know better
        return AgentResult(AGENT, said, data={"abstain": {"understood": [], "not_understood": [], "ask": said}})
    if new_image and kind == "Deployment" and (obj["spec"].get("strategy") or {}).get("type", "RollingUpdate") == \
            "RollingUpdate" and obj["spec"].get("replicas", 1) >= 1:
        body["spec"]["strategy"] = {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}}
        what.append("zero-downtime rollout (maxUnavailable 0, maxSurge 1)")
    m = Mutation("patch", kind, ns, name, body=body, why="; ".join(what), verify=_verify(kind, ns, name))
    # the request's own goal, checked after the apply: the container has what was asked (the image, env, resources…)
    i = next((i for i, x in enumerate(_template(obj, kind).get("containers") or []) if x["name"] == cname), 0)
    spec_path = {"Pod": "spec", "CronJob": "spec.jobTemplate.spec.template.spec"}.get(kind, "spec.template.spec")
    m.goal = _container_goal(kind, ns, name, f"{spec_path}.containers.{i}", patch_c) or None
    return AgentResult(AGENT, f"Proposed for {_cite(kind, ns, name)} (container {cname}): " + "; ".join(what) + ".",
                       [_cite(kind, ns, name)], [m])


def _container_goal(kind: str, ns: str, name: str, path: str, patch_c: dict[str, Any]) -> list[dict[str, Any]]:
    """What a container edit asks, as goal assertions on the live object (quantities compare by value)."""
    def at(sub: str, op: str, value: Any) -> dict[str, Any]:
        return {"kind": kind, "namespace": ns, "name": name, "path": f"{path}.{sub}", "op": op, "value": value}

    goal = [at("image", "eq", patch_c["image"])] if "image" in patch_c else []
    for e in patch_c.get("env") or []:
        goal.append(at("env", "not_contains", e["name"]) if e.get("$patch") == "delete" else
                    at("env", "contains", {"name": e["name"], "value": e.get("value")}))
    goal += [at("envFrom", "contains", ref) for ref in patch_c.get("envFrom") or []]
    goal += [at("volumeMounts", "contains", {"name": v["name"], "mountPath": v["mountPath"]})
             for v in patch_c.get("volumeMounts") or []]
    goal += [at("ports", "contains", p) for p in patch_c.get("ports") or []]
    for which, values in (patch_c.get("resources") or {}).items():
        goal += [at(f"resources.{which}.{r}", "eq", q) for r, q in (values or {}).items()]
    if "command" in patch_c:
        goal.append(at("command", "eq", patch_c["command"]))
    return goal


def _qty(v: str) -> float:
    return parse_quantity(v) or 0.0


def _new_image(ctx: AgentContext, req: Request, c: dict[str, Any]) -> str:
    low = ctx.text.lower()
    if not re.search(r"\b(image|tag|version|upgrade|downgrade|bump|roll out|update .* to)\b", low):
        return ""
    old = c.get("image", "")
    m = re.search(r"\b(?:tag|version)\s+(?:to\s+)?v?([a-z0-9][a-z0-9._-]*)", low) or re.search(
        r"\bto\s+(?:version\s+|tag\s+)?(v?\d[a-z0-9._-]*)\b", low)
    img = req.slots.image
    to = re.search(r"\bto\s+([a-z0-9][a-z0-9./_-]*[:@][a-z0-9._-]+)", low)  # "from nginx:1.25 to nginx:1.27"
    if to:
        img = to.group(1)
    if img and (":" in img or "/" in img or "@" in img):
        if ":" not in img and "@" not in img:
            return img
        return img
    if m:
        base = old.rsplit(":", 1)[0] if ":" in old.rsplit("/", 1)[-1] else old
        tag = m.group(1)
        if tag.startswith("v") and not re.search(r":v", old) and re.search(r"\bv\d", low) is None:
            tag = tag[1:]
        return f"{base}:{tag}"
    return img if img and img != old else ""


def _sidecar(ctx: AgentContext, req: Request, kind: str, ns: str, name: str, obj: dict[str, Any]) -> AgentResult:
    low = ctx.text.lower()
    img = req.slots.image if req.slots.image and req.slots.image not in [c.get("image") for c in _template(
        obj, kind).get("containers") or []] else ""
    if not img:
        img = "busybox"
    m = re.search(r"\b(?:named|called)\s+([a-z0-9][a-z0-9-]*)", low)
    cname = m.group(1) if m else ("sidecar" if "sidecar" in low else img.split(":")[0].rsplit("/", 1)[-1])
    if kind == "Pod":
        return AgentResult(AGENT, f"Containers cannot be added to a running pod; add the sidecar to the workload that "
                                  f"owns {ns}/{name}.")
    side = {"name": cname, "image": img, "command": req.slots.command or ["sh", "-c", "while true; do sleep 3600; done"]}
    base = "/spec/jobTemplate/spec/template/spec" if kind == "CronJob" else "/spec/template/spec"
    m = Mutation("patch", kind, ns, name, patch_type="json",  # appended: the main container stays first
                 body=[{"op": "add", "path": f"{base}/containers/-", "value": side}],
                 why=f"add sidecar container {cname} ({img})", verify=_verify(kind, ns, name))
    return AgentResult(AGENT, f"Proposed: add container {cname} ({img}) to {_cite(kind, ns, name)}.",
                       [_cite(kind, ns, name)], [m])


_LABELLED = (*CONTAINER_KINDS, "Service", "ConfigMap", "Secret", "Namespace", "Node")


def _label_target(ctx: AgentContext, req: Request) -> tuple[tuple[str, str, str] | None, str]:
    """(kind, namespace, name) of the object to label, or (None, why it is not clear).

    The kind said wins ("the web service"), whatever `req.kind` a label key made of it ("app" is also a word for a
    Deployment). With no kind said, a name two kinds share (a Deployment and a Service called web) is not guessed."""
    from agents.fastpaths._words import kinds_said

    said = [k for k in kinds_said(ctx, _LABELLED) if k != "Namespace"] or (
        ["Namespace"] if req.kind == "Namespace" else [])
    if said:
        kind = req.kind if req.kind in said else said[0]
        from dataclasses import replace

        return _target(ctx, replace(req, kind=kind), (kind,)), ""
    ns = _ns(ctx, req)
    skip = {str(x).lower() for kv in (pairs(ctx.text), req.slots.labels or {}) for x in (*kv, *kv.values())}
    skip |= {ns, ctx.entities.namespace or ""}  # "in shop" says where, not which object
    words = {w for w in req.words if w not in skip}
    named = sorted({(k, n) for k in _LABELLED for _, n in _names(ctx, k, ns if k not in ("Namespace", "Node") else None)
                    if n in words})
    if len(named) > 1:
        return None, (f"the request could mean {' or '.join(f'{k} {n}' for k, n in named)}; say which one to label, "
                      "with its kind ('the web service')")
    if named:
        kind, name = named[0]
        return (kind, "" if kind in ("Namespace", "Node") else ns, name), ""
    return _target(ctx, req, _LABELLED), ""


def _labels(ctx: AgentContext, req: Request) -> AgentResult:
    low = ctx.text.lower()
    t, why = _label_target(ctx, req)
    if t is None:
        ask = f"Which object should I label? {why or 'I could not find it.'}"
        return AgentResult(AGENT, ask, data={"abstain": {"understood": [], "not_understood": [], "ask": ask}})
    kind, ns, name = t
    field = "annotations" if re.search(r"\bannotat", low) else "labels"
    kv = dict(req.slots.labels or req.slots.selector or {})
    from agents.resource_text import pairs

    kv = kv or pairs(ctx.text)
    if re.search(r"\b(remove|delete|drop|unset)\b", low):
        obj = ctx.kube.get(kind, ns, name)
        have = (obj["metadata"].get(field) or {})
        from agents.coverage import tokens

        said = set(tokens(low)) | set(req.words)
        gone = [k for k in have if k.lower() in said]  # the key as a word: "app", not the "app" inside "apps"
        if not gone:
            return AgentResult(AGENT, f"{_cite(kind, ns, name)} has no such {field[:-1]}; it has: {sorted(have)}.")
        patch = {"metadata": {field: {k: None for k in gone}}}
        what = f"remove {field[:-1]}(s) {', '.join(gone)}"
    else:
        if not kv:
            ask = "Which key=value? (say e.g. 'label it team=payments')"
            return AgentResult(AGENT, ask, data={"abstain": {"understood": [], "not_understood": [], "ask": ask}})
        patch = {"metadata": {field: kv}}
        what = f"set {field[:-1]}(s) " + ", ".join(f"{k}={v}" for k, v in kv.items())
        if re.search(r"\bpods\b", low) and kind in WORKLOADS and field == "labels":
            patch["spec"] = {"template": {"metadata": {"labels": kv}}}
            what += " (on the workload and its pods)"
    m = Mutation("patch", kind, ns if kind not in ("Namespace", "Node") else "", name, patch_type="merge", body=patch,
                 why=what)
    return AgentResult(AGENT, f"Proposed: {what} on {_cite(kind, ns, name)}.", [_cite(kind, ns, name)], [m])


def _change_service(ctx: AgentContext, req: Request) -> AgentResult:
    low, s = ctx.text.lower(), req.slots
    ns = _ns(ctx, req)
    svc_name = _find(ctx, "Service", ns, req.words)
    if svc_name is None:
        return AgentResult(AGENT, f"Which Service? I could not find one named in the request in namespace {ns}.")
    svc = ctx.kube.get("Service", ns, svc_name)
    spec = svc.get("spec") or {}
    patch: dict[str, Any] = {}
    what: list[str] = []
    if re.search(r"\b(switch|point|route|send|selector|select|move)\b", low) and not re.search(r"target\s*port", low):
        sel = dict(s.selector or {})
        if not sel:
            dep = _find(ctx, "Deployment", ns, [w for w in req.words if w != svc_name], exclude=(svc_name,)) or \
                _find(ctx, "Deployment", ns, req.words)
            if dep is None:
                return AgentResult(AGENT, f"Which deployment should service {ns}/{svc_name} send traffic to?")
            d = ctx.kube.get("Deployment", ns, dep)
            labels = dict(((d.get("spec") or {}).get("template") or {}).get("metadata", {}).get("labels") or {})
            labels.pop("pod-template-hash", None)
            sel = labels
            what.append(f"selector {spec.get('selector')} → {sel} (deployment {dep})")
        else:
            what.append(f"selector {spec.get('selector')} → {sel}")
        patch = {"spec": {"selector": sel}}
        body: Any = [{"op": "replace", "path": "/spec/selector", "value": sel}]
        m = Mutation("patch", "Service", ns, svc_name, patch_type="json", body=body, why="; ".join(what),
                     verify=_verify("Service", ns, svc_name))
        return AgentResult(AGENT, f"Proposed for service {ns}/{svc_name}: " + "; ".join(what) + ".",
                           [f"service {ns}/{svc_name}"], [m])
    if s.target_port is not None or re.search(r"target\s*port", low):
        last = re.findall(r"\b(?:to|=)\s*(\d{2,5})\b", low)
        tp = s.target_port or (int(last[-1]) if last else None) or (s.ports[0] if s.ports else None)
        if tp is None:
            return AgentResult(AGENT, "Which target port?")
        ports = copy.deepcopy(spec.get("ports") or [])
        for p in ports[:1]:
            what.append(f"targetPort {p.get('targetPort')} → {tp}")
            p["targetPort"] = tp
        patch = {"spec": {"ports": ports}}
    m2 = re.search(r"\b(nodeport|loadbalancer|clusterip)\b", low.replace(" ", ""))
    if m2 and re.search(r"\btype\b|\bmake\b|\bnodeport\b|\bloadbalancer\b", low):
        t = {"nodeport": "NodePort", "loadbalancer": "LoadBalancer", "clusterip": "ClusterIP"}[m2.group(1)]
        patch.setdefault("spec", {})["type"] = t
        what.append(f"type {spec.get('type', 'ClusterIP')} → {t}")
    if not what:
        return AgentResult(AGENT, f"What should change on service {ns}/{svc_name}? I can switch its selector, target "
                                  "port or type.")
    m = Mutation("patch", "Service", ns, svc_name, patch_type="merge", body=patch, why="; ".join(what),
                 verify=_verify("Service", ns, svc_name))
    return AgentResult(AGENT, f"Proposed for service {ns}/{svc_name}: " + "; ".join(what) + ".",
                       [f"service {ns}/{svc_name}"], [m])


def _canary(ctx: AgentContext, req: Request) -> AgentResult:
    """Weighted canary by replica ratio: the Service selects both Deployments; traffic follows ready pods."""
    low = ctx.text.lower()
    ns = _ns(ctx, req)
    pct = int(re.search(r"(\d{1,3})\s*%", low).group(1))  # type: ignore[union-attr]
    canary = _find(ctx, "Deployment", ns, [w for w in req.words if "canary" in w] or req.words)
    if canary is None:
        return AgentResult(AGENT, "Which deployment is the canary?")
    deps = {n: ctx.kube.get("Deployment", ns, n) for _, n in _names(ctx, "Deployment", ns)}
    c_labels = deps[canary]["spec"]["template"]["metadata"].get("labels") or {}
    stable = None
    for svc in ctx.kube.list("Service", ns):
        sel = (svc.get("spec") or {}).get("selector") or {}
        if sel and all(c_labels.get(k) == v for k, v in sel.items()):
            for n, d in deps.items():
                lab = d["spec"]["template"]["metadata"].get("labels") or {}
                if n != canary and all(lab.get(k) == v for k, v in sel.items()):
                    stable = n
            if stable:
                break
    if stable is None:
        return AgentResult(AGENT, f"No Service in {ns} selects both {canary} and another deployment, so traffic cannot "
                                  "be split by replica ratio.")
    total = max(int(deps[stable]["spec"].get("replicas", 1)) + int(deps[canary]["spec"].get("replicas", 0)), 2)
    want_c = max(1, round(total * pct / 100)) if pct > 0 else 0
    if pct < 100 and want_c >= total:
        total = want_c + 1
    want_s = total - want_c
    if pct > 0 and abs(want_c / total * 100 - pct) > 10:
        total = max(round(100 / pct), 2) if pct <= 50 else max(round(100 / (100 - pct)), 2)
        want_c = max(1, round(total * pct / 100))
        want_s = total - want_c
    muts = [Mutation("scale", "Deployment", ns, stable, body=want_s, why=f"stable share {100 - pct}%"),
            Mutation("scale", "Deployment", ns, canary, body=want_c, why=f"canary share {pct}%")]
    return AgentResult(AGENT, f"Proposed: {want_c} of {total} replicas on canary {canary} and {want_s} on {stable} "
                              f"(≈{round(want_c / total * 100)}% of traffic to the canary).",
                       [f"deployment {ns}/{stable}", f"deployment {ns}/{canary}"], muts)


def _expand_pvc(ctx: AgentContext, req: Request) -> AgentResult:
    ns = _ns(ctx, req)
    name = _find(ctx, "PersistentVolumeClaim", ns, req.words)
    if name is None:
        return AgentResult(AGENT, f"Which claim? I found no PersistentVolumeClaim named in the request in {ns}.")
    m = re.search(r"\b(\d+(?:\.\d+)?)\s*(gi|mi|ti|gb|g|tb)\b", ctx.text.lower())
    if not m:
        return AgentResult(AGENT, "To what size? (say e.g. 'to 20Gi')")
    from agents.resource_text import _mem

    size = _mem(m.group(1) + m.group(2).replace("tb", "ti")) or ""
    pvc = ctx.kube.get("PersistentVolumeClaim", ns, name)
    cur = (pvc["spec"].get("resources") or {}).get("requests", {}).get("storage", "?")
    if _qty(size) <= _qty(cur):
        return AgentResult(AGENT, f"claim {ns}/{name} already has {cur}; a claim can only grow.")
    mut = Mutation("patch", "PersistentVolumeClaim", ns, name, patch_type="merge",
                   body={"spec": {"resources": {"requests": {"storage": size}}}}, why=f"expand {cur} → {size}")
    return AgentResult(AGENT, f"Proposed: expand claim {ns}/{name} from {cur} to {size}.",
                       [f"persistentvolumeclaim {ns}/{name}"], [mut])


def _edit_configmap(ctx: AgentContext, req: Request) -> AgentResult:
    ns = _ns(ctx, req)
    name = _find(ctx, "ConfigMap", ns, req.words)
    if name is None:
        return AgentResult(AGENT, f"Which ConfigMap? I found none named in the request in {ns}.")
    kv = dict(req.slots.data)
    if not kv:
        m = re.search(r"\bkey\s+([A-Za-z0-9_.-]+)\s+to\s+(\S+)", ctx.text)
        if m:
            kv = {m.group(1): m.group(2).rstrip(".")}
    if not kv:
        return AgentResult(AGENT, f"Which key and value should configmap {ns}/{name} get? (say KEY=value)")
    muts = [Mutation("patch", "ConfigMap", ns, name, patch_type="merge", body={"data": kv},
                     why="set " + ", ".join(f"{k}={v}" for k, v in kv.items()))]
    users = []
    for kind in WORKLOADS:
        for o in ctx.kube.list(kind, ns):
            spec = _template(o, kind)
            if name in yaml.safe_dump(spec.get("containers") or []) + yaml.safe_dump(spec.get("volumes") or []):
                users.append((kind, o["metadata"]["name"]))
    for kind, n in users:
        muts.append(restart(kind, ns, n, why=f"restart so {n} reads the new values", verify=_verify(kind, ns, n)))
    also = f"; then restart {', '.join(n for _, n in users)} so they read it" if users else ""
    return AgentResult(AGENT, f"Proposed: set {', '.join(f'{k}={v}' for k, v in kv.items())} in configmap {ns}/{name}"
                              f"{also}.", [f"configmap {ns}/{name}"], muts)


def _fields_asked(ctx: AgentContext) -> bool:
    """The one registry path that read the whole request answers several named fields of one object (one field is
    the own readers' as well: a Service's ports, a workload's images)."""
    from agents import fastpaths

    fp, u = fastpaths.best(ctx, AGENT)
    return fp is not None and u is not None and fp.intent == "object-field" and len(u.slots.get("fields", [])) > 1


# -- delete -------------------------------------------------------------------------------------------------------
def _delete_target(ctx: AgentContext, req: Request) -> tuple[str, str, str] | None:
    """(kind, namespace, name) of the object the request names for deletion, or None when it names none."""
    kind = req.kind
    if kind == "Namespace":
        name = _find(ctx, "Namespace", None, req.words)
        return ("Namespace", "", name) if name else None
    ns = _ns(ctx, req)
    for k in (kind,) if kind else (*CONTAINER_KINDS, "Service", "ConfigMap", "Secret", "PersistentVolumeClaim"):
        name = _find(ctx, k, ns, req.words)
        if name:
            return k, ns, name
    return None


def _delete(ctx: AgentContext, req: Request) -> AgentResult:
    found = _delete_target(ctx, req)
    if found is None:  # not reached through run(): a delete that names nothing is not this reading's
        return AgentResult(AGENT, f"I found nothing named in the request to delete in namespace {_ns(ctx, req)}.")
    k, ns, name = found
    if k == "Namespace":
        return AgentResult(AGENT, f"Proposed: delete namespace {name} and everything in it.", [f"namespace {name}"],
                           [Mutation("delete", "Namespace", "", name, why="delete as asked")])
    return AgentResult(AGENT, f"Proposed: delete {_cite(k, ns, name)}.", [_cite(k, ns, name)],
                       [Mutation("delete", k, ns, name, why="delete as asked")])


# -- repair -------------------------------------------------------------------------------------------------------
def _repair(ctx: AgentContext, req: Request) -> AgentResult:
    """Diagnose → propose → (approve) → apply → verify healthy, or roll back. The diagnosis is the logs agent's
    (tools/diagnose checks); each fix it proposes carries the object to verify and the undo."""
    from agents import logs

    res = logs.run(ctx)
    res.agent = AGENT
    verified = [m.verify for m in res.mutations if m.verify]
    if verified:
        res.answer += "\nAfter each fix I wait for " + ", ".join(
            _cite(v["kind"], v["namespace"], v["name"]) for v in verified) + \
            " to become healthy, and undo the fix if it does not."
    return res


__all__ = ["run", "kind_of"]
