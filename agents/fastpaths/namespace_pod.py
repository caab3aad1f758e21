"""Create a namespace (when missing), ConfigMaps, and a Pod or Deployment in it, in one plan: "set up a namespace
'billing' with a deployment 'invoice-api': 2 replicas, one container called "api" running httpd:2.4, requests 200m
CPU / 256Mi memory and limits 1 CPU / 512Mi", "create namespace lab with a configmap 'cfg' with MODE=dev mounted at
/etc/cfg and a pod 'tool' running busybox:1.36".

Why its own fast path: such a request was split in two intents; the second became a metrics answer and only the
namespace was created. It is one plan of several Mutations, approved as one and applied in order (namespace, then
ConfigMaps, then the workload: each needs the one before), and its goal names every field asked: the namespace, each
ConfigMap's data, and the workload's replicas, container name, image, requests, limits, env, ports and mounts. Every
value is read from its own phrase; a value the fast path cannot attribute (a KEY=value that is neither a ConfigMap's
data nor an env var) leaves it not confident.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from agents.coverage import FILLER
from agents.fastpaths import register
from agents.fastpaths._words import (
    COMMON,
    NAME,
    QUANTITY_VOCAB,
    cite,
    digits,
    expect,
    healthy,
    listed,
    mutation,
    norm,
    plain_quotes,
    quantities,
    template_path,
)
from agents.resource_text import NAME_STOP
from agents.state import AgentResult
from tools.k8s.client import KubeError
from tools.manifests import SlotError, Slots, build

AGENT = "resources"
WORKLOAD_WORDS = {"pod": "Pod", "deployment": "Deployment", "deploy": "Deployment"}
_Q = r"['\"]?"
_NS = (re.compile(rf"\bnamespace\s+(?:called\s+|named\s+)?{_Q}({NAME}){_Q}"),
       re.compile(rf"{_Q}({NAME}){_Q}\s+namespace\b"))
_CLAUSE = r"(?:[^.;]|\.(?=\S))*?"  # within one sentence (the dot of "nginx:1.27" does not end it)
_CREATE_NS = re.compile(rf"\b(?:create|make|set\s*up|add|new|provision)\b{_CLAUSE}\bnamespace\b|\bnamespace\b{_CLAUSE}"
                        r"\b(?:with|containing)\b")
# The request asks for a namespace ("a namespace billing", "create namespace lab"), not only says where ("in
# namespace shop"): only then is a missing one created.
_NEW_NS = re.compile(r"\b(?:a|new|another)\s+(?:new\s+)?namespace\b|\bnamespace\s+(?:called|named)\b|"
                     r"\b(?:create|make|set\s*up|add|provision)\s+(?:the\s+)?namespace\b")
_WORKLOAD = (re.compile(rf"\b(pod|deployment|deploy)\s+(?:called\s+|named\s+)?{_Q}({NAME}){_Q}"),
             re.compile(rf"{_Q}({NAME}){_Q}\s+(pod|deployment)\b"))
_CONTAINER = (re.compile(rf"\bcontainer\s+(?:called|named)\s+{_Q}({NAME}){_Q}"),
              re.compile(r"\bcontainer\s+['\"](" + NAME + r")['\"]"),
              re.compile(r"['\"](" + NAME + r")['\"]\s+container\b"))
_IMAGE = re.compile(r"\b(?:image|running|runs|run|using|uses|with)\s+(?:the\s+)?(?:image\s+)?['\"]?"
                    r"([a-z0-9][a-z0-9./_-]*(?::[a-z0-9._-]+|@sha256:[a-f0-9]+))")
_BARE_IMAGE = re.compile(r"\bimage\s+['\"]?([a-z0-9][a-z0-9./_-]*[a-z0-9])")
_REPLICAS = re.compile(r"\b(\d+)\s+(?:replicas?|copies|instances)\b|\breplicas?\s*[:=]?\s*(\d+)\b")
_PORTS = re.compile(r"\b(?:ports?|containerport|listening\s+on|listens\s+on|exposing|expose)\s+(?:port\s+)?"
                    r"(\d{2,5}(?:\s*(?:,|and)\s*\d{2,5})*)")
_CONFIGMAP = (re.compile(rf"\bconfig\s?maps?\s+(?:called\s+|named\s+)?{_Q}({NAME}){_Q}"),
              re.compile(rf"{_Q}({NAME}){_Q}\s+config\s?map\b"))
_PAIR = re.compile(r"\b([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s,;'\"]+)")
_MOUNT = re.compile(rf"\bmount(?:ed|s|ing)?\s+(?:it\s+|them\s+|(?:the\s+)?(?:config\s?map\s+)?{_Q}({NAME}){_Q}\s+)?"
                    r"(?:at|on|under|in(?:to)?)\s+['\"]?(/[\w./-]*)")
_ENV = re.compile(r"\b(?:env|environment|envvars?|variables?|vars?)\b")
# Where a ConfigMap's data or an env list ends: the next thing the request talks about.
_BOUNDARY = re.compile(r"\b(?:mount|mounted|pod|deployment|container|image|running|requests?|limits?|replicas?|port|"
                       r"ports|config\s?maps?|env|environment|namespace)\b|[.;]")


_STOP = NAME_STOP | FILLER | {"new", "single", "one", "another", "small"}


def _value(v: str) -> str:
    return v[1:-1] if len(v) >= 2 and v[0] == v[-1] and v[0] in "'\"" else v.rstrip(".")


def _span_pairs(text: str, start: int) -> tuple[dict[str, str], list[tuple[int, int]]]:
    """The KEY=value pairs from `start` up to the next boundary word (a ConfigMap's data, an env list)."""
    end_m = _BOUNDARY.search(text, start)
    end = end_m.start() if end_m else len(text)
    found = [(m.group(1), _value(m.group(2)), m.span()) for m in _PAIR.finditer(text, start, end)]
    return {k: v for k, v, _ in found}, [s for _, _, s in found]


def _one(patterns: tuple[re.Pattern[str], ...], low: str, skip: Iterable[str] = ()) -> list[str]:
    """The names the patterns find ("namespace billing", "'billing' namespace"), articles and the like aside."""
    skip = set(skip) | _STOP
    return list(dict.fromkeys(m.group(1) for p in patterns for m in p.finditer(low) if m.group(1) not in skip))


class NamespaceWorkload:
    agent = AGENT
    intent = "create-namespace-workload"
    vocabulary = frozenset("""create make set setup up add deploy spin launch start provision new namespace pod deployment
        deploy container called named with running image using runs run replica replicas copies instances port ports
        containerport listening listens expose exposing env environment variable variables var vars envvar configmap
        configmaps config map mount mounted mounts mounting at under path volume data key keys value values containing
        holding in inside into it one single also both then there has have each""".split()
                           ) | QUANTITY_VOCAB | COMMON

    def match(self, ctx: Any) -> dict[str, Any] | None:
        text = plain_quotes(ctx.text)
        low = norm(text)
        if not _CREATE_NS.search(low):
            return None
        workloads = [(WORKLOAD_WORDS[m.group(1)], m.group(2)) for m in _WORKLOAD[0].finditer(low)] + \
                    [(WORKLOAD_WORDS[m.group(2)], m.group(1)) for m in _WORKLOAD[1].finditer(low)]
        workloads = list(dict.fromkeys((k, n) for k, n in workloads if n not in _STOP))
        if len(workloads) != 1:
            return None
        kind, name = workloads[0]
        configmaps = _one(_CONFIGMAP, low)
        nss = _one(_NS, low, {*configmaps, name})
        if len(nss) != 1:
            return None
        ns = nss[0]
        images = list(dict.fromkeys(_IMAGE.findall(low) or _BARE_IMAGE.findall(low)))
        if len(images) != 1:
            return None
        containers = _one(_CONTAINER, low)
        if len(containers) > 1:
            return None
        replicas = [int(a or b) for a, b in _REPLICAS.findall(digits(text))]
        if len(set(replicas)) > 1 or (replicas and kind == "Pod"):
            return None
        qty = quantities(re.sub(r"(\d[a-zA-Z]*)\.(?=\s|$)", r"\1", text))  # "… 512Mi." ends a sentence
        if qty is None:
            return None
        resources, qty_said = qty
        ports = [int(p) for g in _PORTS.findall(low) for p in re.findall(r"\d+", g)]
        # KEY=value pairs: each a ConfigMap's data or an env var, by the phrase it stands in; any other is not clear.
        data: dict[str, dict[str, str]] = {}
        used: list[tuple[int, int]] = []
        for cm in configmaps:
            at = next(m for p in _CONFIGMAP for m in p.finditer(low) if m.group(1) == cm)
            data[cm], spans = _span_pairs(text, at.end())
            used += spans
        env: dict[str, str] = {}
        for m in _ENV.finditer(low):
            pairs, spans = _span_pairs(text, m.end())
            env.update(pairs)
            used += spans
        if any(m.span() not in used for m in _PAIR.finditer(text)):
            return None
        mounts: dict[str, str] = {}
        for m in _MOUNT.finditer(low):
            cm = m.group(1) or (configmaps[0] if len(configmaps) == 1 else None)
            if cm is None or cm in mounts:
                return None
            mounts[cm] = m.group(2).rstrip(".")
        said = [ns, name, *images, *[str(r) for r in replicas], *qty_said, *[str(p) for p in ports], *configmaps]
        return {"namespace": ns, "new_namespace": bool(_NEW_NS.search(low)), "kind": kind, "name": name, "container": containers[0] if containers else name,
                "image": images[0], "replicas": replicas[0] if replicas else None, "resources": resources,
                "env": env, "ports": ports, "configmaps": data, "mounts": mounts, "said": said}

    def plan(self, ctx: Any, slots: dict[str, Any]) -> AgentResult:
        ns, kind, name = slots["namespace"], slots["kind"], slots["name"]
        cms: dict[str, dict[str, str]] = slots["configmaps"]
        mounts: dict[str, str] = slots["mounts"]
        missing = [cm for cm in mounts if cm not in cms and not _exists(ctx, "ConfigMap", ns, cm)]
        if missing:
            return AgentResult(AGENT, f"I did not act: there is no ConfigMap {ns}/{missing[0]} to mount; say what it "
                                      "should hold and I will create it too.")
        res = slots["resources"]
        s = Slots(name=name, namespace=ns, image=slots["image"], replicas=slots["replicas"], ports=list(slots["ports"]),
                  env=dict(slots["env"]), requests=dict(res.get("requests") or {}), limits=dict(res.get("limits") or {}))
        try:
            body = build(kind, s)
        except SlotError as e:
            return AgentResult(AGENT, f"I need one more detail: {e}")
        spec = body["spec"] if kind == "Pod" else body["spec"]["template"]["spec"]
        c = spec["containers"][0]
        c["name"] = slots["container"]
        if mounts:
            c["volumeMounts"] = [{"name": cm, "mountPath": path} for cm, path in mounts.items()]
            spec["volumes"] = [{"name": cm, "configMap": {"name": cm}} for cm in mounts]
        evidence: list[str] = []
        muts = []
        ns_new = not _exists(ctx, "Namespace", None, ns)
        if ns_new and not slots.get("new_namespace"):
            return AgentResult(AGENT, f"I did not act: there is no namespace {ns}, and you did not ask me to create "
                                      "it; say 'create a namespace …' if you want one, or name an existing one.")
        if ns_new:
            muts.append(mutation("create", "Namespace", "", ns, [{"kind": "Namespace", "namespace": "", "name": ns,
                                                                  "exists": True}], f"namespace {ns} for {name}",
                                 body=build("Namespace", Slots(name=ns))))
        else:
            evidence.append(f"Namespace {ns} exists already")
        for cm, data in cms.items():
            live = _get(ctx, "ConfigMap", ns, cm)
            if live is not None:
                if (live.get("data") or {}) != data:
                    return AgentResult(AGENT, f"I did not act: ConfigMap {ns}/{cm} exists already with other data "
                                              f"({sorted(live.get('data') or {})}); say whether to change it.",
                                       evidence)
                evidence.append(f"ConfigMap {ns}/{cm} exists already with that data")
                continue
            muts.append(mutation("create", "ConfigMap", ns, cm, [expect("ConfigMap", ns, cm, "data", data)],
                                 f"ConfigMap {cm} ({', '.join(data) or 'empty'})",
                                 body=build("ConfigMap", Slots(name=cm, namespace=ns, data=data))))
        goal = _workload_goal(kind, ns, name, body)
        live = _get(ctx, kind, ns, name)
        if live is not None:
            return AgentResult(AGENT, f"I did not act: {cite(kind, ns, name)} exists already; say what to change in "
                                      "it instead.", evidence + [f"{cite(kind, ns, name)} exists"])
        muts.append(mutation("create", kind, ns, name, goal, f"{kind} {name} running {slots['image']}", body=body,
                             verify=healthy(kind, ns, name)))
        what = [f"namespace {ns}"] if ns_new else []
        what += [f"ConfigMap {cm}" for cm in cms if any(m.name == cm for m in muts)]
        what.append(f"{kind} {name} (container {c['name']} running {c['image']}" +
                    (f", {body['spec']['replicas']} replica(s)" if kind == "Deployment" else "") +
                    "".join(f", {k} " + " ".join(f"{r}={q}" for r, q in v.items())
                            for k, v in (c.get("resources") or {}).items()) +
                    (f", env {', '.join(e['name'] for e in c.get('env') or [])}" if c.get("env") else "") +
                    (f", ports {slots['ports']}" if slots["ports"] else "") +
                    "".join(f", {cm} mounted at {p}" for cm, p in mounts.items()) + ")")
        return AgentResult(AGENT, f"Proposed, as one plan applied in this order: create {'; '.join(what)}.", evidence,
                           muts)


def _get(ctx: Any, kind: str, ns: str | None, name: str) -> dict[str, Any] | None:
    try:
        return ctx.kube.get(kind, ns, name)
    except KubeError:
        return None


def _exists(ctx: Any, kind: str, ns: str | None, name: str) -> bool:
    if kind == "Namespace":
        return any(n["metadata"]["name"] == name for n in listed(ctx, "Namespace", None))
    return _get(ctx, kind, ns, name) is not None


def _workload_goal(kind: str, ns: str, name: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    """Every field the request asked, on the created workload."""
    base = f"{template_path(kind)}.containers.0"
    c = (body["spec"] if kind == "Pod" else body["spec"]["template"]["spec"])["containers"][0]
    goal = [expect(kind, ns, name, f"{base}.name", c["name"]), expect(kind, ns, name, f"{base}.image", c["image"])]
    if kind == "Deployment":
        goal.append(expect(kind, ns, name, "spec.replicas", body["spec"]["replicas"]))
    for which, values in (c.get("resources") or {}).items():
        goal += [expect(kind, ns, name, f"{base}.resources.{which}.{r}", q) for r, q in values.items()]
    goal += [expect(kind, ns, name, f"{base}.env", {"name": e["name"], "value": e["value"]}, "contains")
             for e in c.get("env") or []]
    goal += [expect(kind, ns, name, f"{base}.ports", {"containerPort": p["containerPort"]}, "contains")
             for p in c.get("ports") or []]
    goal += [expect(kind, ns, name, f"{base}.volumeMounts", {"name": v["name"], "mountPath": v["mountPath"]},
                    "contains") for v in c.get("volumeMounts") or []]
    return goal


register(NamespaceWorkload())
