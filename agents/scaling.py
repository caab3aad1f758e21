"""The scaling agent: scale, rollout status/restart/undo, autoscale — with a "will it fit" check first."""

from __future__ import annotations

import re

from agents.context import AgentContext
from agents.coverage import tokens
from agents.decide import decide, reading
from agents.residue import told_counts_dropped
from agents.state import AgentResult
from tools.capacity import will_fit
from tools.k8s.client import KubeError, Mutation
from tools.k8s.kinds import SCALABLE
from tools.k8s.mutations import restart


def fits(ctx: AgentContext, dep: dict, extra: int) -> tuple[bool, str]:
    """Will `extra` more replicas schedule? Exact answer from the CP-SAT model in tools.capacity."""
    spec = (dep.get("spec") or {}).get("template", {}).get("spec") or {}
    try:
        nodes = ctx.kube.list("Node")
        pods = ctx.kube.list("Pod")
    except KubeError as e:
        return True, f"(could not check capacity: {e.message})"
    result, cpu, mem = will_fit(spec, extra, nodes, pods)
    return result.fits, result.explain(cpu, mem)


# What each of the agent's own intents understands (besides filler and the slot values it fills): the words it
# fully acts on. A word outside its intent's row ("between", "above", "quietly", "except") means the request asks
# for something that intent does not do, and the agent must not act on it (agents.decide).
_OBJ = ("deployment", "deployments", "statefulset", "statefulsets", "workload", "app", "application", "service")
VOCAB: dict[str, frozenset[str]] = {k: frozenset(v + _OBJ) for k, v in {
    "restart": ("restart", "restarts", "bounce", "recycle", "rolling", "rollout", "do", "a"),
    "undo": ("undo", "roll", "back", "rollback", "revert", "previous", "last", "version", "revision", "rollout",
             "prior", "earlier", "one"),
    "autoscale": ("autoscale", "autoscaling", "autoscaler", "hpa", "horizontal", "pod", "set", "up", "setup", "enable",
                  "lower", "raise", "change", "update", "adjust", "reduce", "increase", "decrease", "modify", "bump",
                  "add", "create", "between", "min", "minimum", "max", "maximum", "replicas", "replica", "pods", "cpu",
                  "utilization", "utilisation", "target", "targeting", "average", "at", "above", "over", "percent",
                  "from", "to", "and", "never fewer than", "never less than", "no fewer than", "no less than",
                  "not fewer than", "not less than", "at least", "never more than", "no more than", "not more than",
                  "at most", "on its own", "by itself", "automatically", "whenever", "goes over", "goes above",
                  "scale"),
    "scale": ("scale", "scaled", "bring", "replicas", "replica", "instances", "copies", "pods", "up", "down", "out", "set",
              "bump", "increase", "decrease", "raise", "lower", "reduce", "run", "running", "count", "number"),
    "status": ("rollout", "rollouts", "status", "ready", "complete", "completed", "finished", "progress", "healthy",
               "state", "rolled", "out", "show", "check", "tell", "how", "many", "replicas", "replica", "pods",
               "running", "available", "up", "date"),
}.items()}
ASK = ("Say which workload and one thing to do with it, for example 'scale web in shop to 3 replicas', 'restart web "
       "in shop', 'roll back web in shop' or 'autoscale web in shop between 2 and 6 replicas at 70% CPU'.")


def _hpa_numbers(text: str) -> dict[str, int]:
    """min/max replicas and the CPU target of an autoscale request, each read from its own phrasing (never from
    the numbers' order): "between 2 and 6", "from 3 to 10", "min 2 max 8", "at 70% cpu", "above 60 percent"."""
    out: dict[str, int] = {}
    m = re.search(r"(\d{1,3})\s*(?:%|percent\b)", text) or \
        re.search(r"\b(?:cpu|utili[sz]ation|target)\b(?:\s+\w+){0,2}?\s+(?:at|above|over|of|to|=)?\s*(\d{1,3})\b"
                  r"(?!\s*(?:replicas?|pods?|and|to|instances?))", text)
    if m:
        out["target"] = int(m.group(1))
    # "raise the max of the web hpa from 5 to 12": that bound's old and new value, not a range
    one = re.search(r"\b(max|min)(?:imum)?\b(?:\s+[\w-]+){0,6}?\s+from\s+(\d{1,3})\s+(?:to|->)\s+(\d{1,3})\b", text)
    if one:
        out[one.group(1)] = int(one.group(3))
        return out
    m = re.search(r"\b(?:between|from)\s+(\d{1,3})\s+(?:and|to|-)\s+(\d{1,3})\b", text) or \
        re.search(r"\bmin(?:imum)?(?: of)?\s+(\d{1,3})\b.*?\bmax(?:imum)?(?: of)?\s+(\d{1,3})\b", text)
    if m:
        out["min"], out["max"] = int(m.group(1)), int(m.group(2))
        return out
    # each bound said on its own: "never fewer than 2 pods", "at least 2", "no more than 6", "at most 6 replicas"
    lo = re.search(r"\b(?:never|no|not)\s+(?:fewer|less)\s+than\s+(\d{1,3})\b|\bat\s+least\s+(\d{1,3})\b", text)
    hi = re.search(r"\b(?:never|no|not)\s+more\s+than\s+(\d{1,3})\b|\bat\s+most\s+(\d{1,3})\b", text)
    if lo and hi:
        out["min"], out["max"] = int(lo.group(1) or lo.group(2)), int(hi.group(1) or hi.group(2))
        return out
    # one bound said on its own, to change it ("change its max replicas to 4", "set the minimum to 2")
    for slot, word in (("min", "min(?:imum)?"), ("max", "max(?:imum)?")):
        m = re.search(rf"\b{word}(?:\s+(?:replicas?|pods?|count))?\s+(?:to|=|of|at|:)?\s*(\d{{1,3}})\b(?!\s*%)", text)
        if m:
            out[slot] = int(m.group(1))
    return out


# A count said relative to the live one ("up by 2", "one more", "2 fewer"), or a deadline ("by noon"): never the
# absolute count of this agent's own `scale` reading (the registry's scale path reads relative counts).
_RELATIVE = re.compile(r"\bby\b|\b(?:\d+|one|two|three|four|five|a|an|another)\s+(?:more|fewer|less|extra)\b|"
                       r"\badd(?:s|ed|ing)?\b|\bremov(?:e|es|ed|ing)\b")


def _intents(text: str, number: int | None) -> list[tuple[str, dict[str, object]]]:
    """Every intent of this agent the request could mean, with the slots each one fills from the words."""
    out: list[tuple[str, dict[str, object]]] = []
    if re.search(r"\b(restart|bounce|recycle)\b", text):
        out.append(("restart", {}))
    if re.search(r"\b(undo|roll ?back|revert)\b", text):
        out.append(("undo", {}))
    if re.search(r"\bautoscal|\bhpa\b|\bscale\s+(?:on\s+its\s+own|by\s+itself|automatically)\b", text):
        out.append(("autoscale", _hpa_numbers(text)))
    if number is not None and re.search(r"\bscale|replica|instances|copies", text) and not _RELATIVE.search(text):
        out.append(("scale", {"replicas": number}))
    out.append(("status", {}))
    return out


def run(ctx: AgentContext) -> AgentResult:
    e = ctx.entities
    text = told_counts_dropped(ctx.text).lower()  # numbers are read from what is asked, not what is told
    name, ns = e.workload, e.namespace
    kind = e.workload_kind if e.workload_kind in SCALABLE else "Deployment"
    if not name:
        try:
            allowed, _ = ctx.kube.can_i("list", "Deployment", ns)
        except KubeError:
            allowed = True
        if not allowed:
            return AgentResult("scaling", f"You ({ctx.kube.principal.label}) are not allowed to list deployments"
                                          f"{' in namespace ' + ns if ns else ''}, so I cannot act on them.")
        return decide(ctx, "scaling", [], "Which workload? I could not find a Deployment or StatefulSet named in "
                                          "the request.")
    base = {"workload": name, "namespace": ns, "kind": kind}
    readings = [reading(ctx, "scaling", intent, {**base, **slots}, VOCAB[intent],
                        lambda intent=intent, slots=slots: _act(ctx, intent, slots, kind, ns, name))
                for intent, slots in _intents(text, e.number)]
    return decide(ctx, "scaling", readings, ASK)


def _act(ctx: AgentContext, intent: str, slots: dict, kind: str, ns: str, name: str) -> AgentResult:
    """Carry out one understood intent on the named workload (writes are proposals: the supervisor applies them
    after approval)."""
    try:
        dep = ctx.kube.get(kind, ns, name)
    except KubeError as ex:
        return AgentResult("scaling", f"I cannot read {kind.lower()} {ns}/{name}: {ex.message}", [ex.message])
    status = dep.get("status") or {}
    current = int((dep.get("spec") or {}).get("replicas", 1))
    state = (f"{kind.lower()} {ns}/{name}: {status.get('readyReplicas', 0)}/{current} ready, "
             f"{status.get('updatedReplicas', 0)} up to date, {status.get('availableReplicas', 0)} available")
    if intent == "restart":
        m = restart(kind, ns, name)
        return AgentResult("scaling", f"Proposed: a rolling restart of {kind.lower()} {ns}/{name}. Now: {state}.",
                           [state], [m])
    if intent == "undo":
        return _undo(ctx, dep, kind, state)
    if intent == "autoscale":
        try:  # the autoscaler of this workload is the one whose scaleTargetRef names it, whatever its own name
            hpa_now = next((h for h in ctx.kube.list("HorizontalPodAutoscaler", ns)
                            if ((h.get("spec") or {}).get("scaleTargetRef") or {}).get("name") == name
                            and ((h.get("spec") or {}).get("scaleTargetRef") or {}).get("kind", kind) == kind), None)
        except KubeError:
            hpa_now = None
        if hpa_now is not None:
            return _retune_hpa(hpa_now, slots, state)
        if RETUNE & set(tokens(ctx.text)):  # "lower the target of its autoscaler": there must be one
            ask = f"{kind.lower()} {ns}/{name} has no autoscaler. Should I create one, and with which bounds?"
            return AgentResult("scaling", f"I did not act: {ask}", [state], data={"abstain": {
                "understood": [f"autoscale {ns}/{name}"], "not_understood": [], "ask": ask}})
        unread = _unread_numbers(ctx.text, slots)
        if unread:  # a number said that no bound, maximum or target took: the bounds are not understood
            ask = (f"I read {', '.join(unread)} in your request but not as the autoscaler's minimum, maximum or CPU "
                   "target. Which bounds do you want (for example 'between 2 and 6 replicas at 70% CPU')?")
            return AgentResult("scaling", f"I did not act: {ask}", [state], data={"abstain": {
                "understood": [f"autoscale {ns}/{name}"], "not_understood": unread, "ask": ask}})
        lo, hi = int(slots.get("min", max(current, 1))), int(slots.get("max", max(current * 3, 3)))
        target = int(slots.get("target", 80))
        if lo > hi:
            return AgentResult("scaling", f"I did not act: the minimum ({lo}) is above the maximum ({hi}). "
                                          "Which bounds do you want?", data={"abstain": {
                                              "understood": [f"autoscale {ns}/{name}"], "not_understood": [],
                                              "ask": "Which bounds do you want?"}})
        hpa = {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": name, "namespace": ns},
               "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": kind, "name": name}, "minReplicas": lo,
                        "maxReplicas": hi, "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {
                            "type": "Utilization", "averageUtilization": target}}}]}}
        m = Mutation("create", "HorizontalPodAutoscaler", ns, name, body=hpa, why="autoscale on CPU")
        m.goal = [_expect("HorizontalPodAutoscaler", ns, name, "spec.minReplicas", lo),
                  _expect("HorizontalPodAutoscaler", ns, name, "spec.maxReplicas", hi)]
        return AgentResult("scaling", f"Proposed: an HPA for {ns}/{name} between {lo} and {hi} replicas at "
                                      f"{target}% CPU.", [state], [m])
    if intent == "scale":
        want = int(slots["replicas"])
        ok, why = fits(ctx, dep, max(want - current, 0))
        if not ok:
            return AgentResult("scaling", f"Scaling {ns}/{name} to {want} would not fit: {why}. Now: {state}.", [state, why])
        m = Mutation("scale", kind, ns, name, body=want, why=f"scale from {current} to {want} ({why})")
        m.goal = [_expect(kind, ns, name, "spec.replicas", want)]
        return AgentResult("scaling", f"Proposed: scale {kind.lower()} {ns}/{name} from {current} to {want} replicas "
                                      f"({why}).", [state, why], [m])
    conds = "; ".join(f"{c.get('type')}={c.get('status')} ({c.get('reason')})" for c in status.get("conditions") or [])
    return AgentResult("scaling", f"Rollout status of {state}. Conditions: {conds or 'none'}.", [state, conds])


# Words that change an autoscaler that exists (the autoscale row's verbs besides create/set up/enable).
RETUNE = frozenset("lower raise change update adjust reduce increase decrease modify bump".split())


def _unread_numbers(text: str, slots: dict) -> list[str]:
    """Numbers the request says that none of the autoscaler's slots took: an autoscaler is never created with a
    default bound beside a number the person said for some other reason we did not read."""
    used = {str(slots[k]) for k in ("min", "max", "target") if k in slots}
    said = re.findall(r"(?<![\w.:/-])(\d{1,4})(?![\w.:/-])", text)
    return [n for n in dict.fromkeys(said) if n not in used]


def _retune_hpa(hpa: dict, slots: dict, state: str) -> AgentResult:
    """An autoscaler that exists already: change only the bounds and the CPU target the request said, keep the rest
    ("lower the CPU target to 50%, keep its min and max")."""
    ns, name = hpa["metadata"]["namespace"], hpa["metadata"]["name"]
    spec = hpa.get("spec") or {}
    patch: dict = {}
    goal = []
    for slot, field in (("min", "minReplicas"), ("max", "maxReplicas")):
        if slot in slots:
            patch[field] = int(slots[slot])
            goal.append(_expect("HorizontalPodAutoscaler", ns, name, f"spec.{field}", int(slots[slot])))
    if "target" in slots:
        metrics = [dict(m) for m in spec.get("metrics") or []]
        cpu = [m for m in metrics if m.get("type") == "Resource" and (m.get("resource") or {}).get("name") == "cpu"]
        if cpu:
            cpu[0]["resource"] = {"name": "cpu", "target": {"type": "Utilization",
                                                            "averageUtilization": int(slots["target"])}}
        else:
            metrics.append({"type": "Resource", "resource": {"name": "cpu", "target": {
                "type": "Utilization", "averageUtilization": int(slots["target"])}}})
        patch["metrics"] = metrics
        at = metrics.index(cpu[0]) if cpu else len(metrics) - 1
        goal.append(_expect("HorizontalPodAutoscaler", ns, name, f"spec.metrics.{at}.resource.target.averageUtilization",
                            int(slots["target"])))
    if not patch:
        ask = "What should change: the minimum, the maximum or the CPU target?"
        return AgentResult("scaling", f"I did not act: {ns}/{name} is autoscaled already "
                                      f"({spec.get('minReplicas')}–{spec.get('maxReplicas')} replicas). {ask}",
                           data={"abstain": {"understood": [f"autoscale {ns}/{name}"], "not_understood": [],
                                             "ask": ask}})
    m = Mutation("patch", "HorizontalPodAutoscaler", ns, name, body={"spec": patch},
                 why="change the autoscaler's " + ", ".join(patch))
    m.goal = goal
    said = ", ".join(f"{k} {v if k != 'metrics' else str(slots['target']) + '% CPU'}" for k, v in patch.items())
    return AgentResult("scaling", f"Proposed: change the HPA {ns}/{name} ({said}); everything else stays.",
                       [state], [m])


def _expect(kind: str, ns: str, name: str, path: str, value: object) -> dict[str, object]:
    """A goal assertion (checked by the supervisor after the apply)."""
    return {"kind": kind, "namespace": ns, "name": name, "path": path, "op": "eq", "value": value}


def _undo(ctx: AgentContext, dep: dict, kind: str, state: str) -> AgentResult:
    ns, name = dep["metadata"]["namespace"], dep["metadata"]["name"]
    try:
        rss = [r for r in ctx.kube.list("ReplicaSet", ns) if any(o.get("uid") == dep["metadata"]["uid"]
                                                                  for o in r["metadata"].get("ownerReferences") or [])]
    except KubeError as ex:
        return AgentResult("scaling", f"I cannot read the rollout history: {ex.message}")
    rss.sort(key=lambda r: int((r["metadata"].get("annotations") or {}).get("deployment.kubernetes.io/revision", "0")))
    if len(rss) < 2:
        return AgentResult("scaling", f"{ns}/{name} has no previous revision to roll back to.")
    prev = rss[-2]
    tmpl = prev["spec"]["template"]
    labels = dict((tmpl.get("metadata") or {}).get("labels") or {})
    labels.pop("pod-template-hash", None)
    tmpl = {**tmpl, "metadata": {**(tmpl.get("metadata") or {}), "labels": labels}}
    rev = (prev["metadata"].get("annotations") or {}).get("deployment.kubernetes.io/revision")
    m = Mutation("patch", kind, ns, name, patch_type="json",
                 body=[{"op": "replace", "path": "/spec/template", "value": tmpl}], why=f"roll back to revision {rev}")
    return AgentResult("scaling", f"Proposed: roll {ns}/{name} back to revision {rev}. Now: {state}.", [state], [m])
