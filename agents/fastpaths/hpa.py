"""Autoscale a Deployment or StatefulSet between a minimum and a maximum on a CPU (or memory) target.

Why its own fast path: "let web autoscale between 2 and 8 above 70% CPU" was read as "scale web to 8". The request
asks for a HorizontalPodAutoscaler; the replica count stays the autoscaler's to set. The goal is the HPA itself:
its target, its bounds and its metric, as asked.
"""

from __future__ import annotations

import re
from typing import Any

from agents.fastpaths import register
from agents.fastpaths._words import (
    COMMON,
    NUMBER_WORDS,
    cite,
    containers,
    digits,
    expect,
    has,
    mutation,
    namespace,
    norm,
    one,
    resolve,
)
from agents.state import AgentResult
from tools.k8s.client import KubeError
from tools.k8s.kinds import SCALABLE

AGENT = "scaling"
TRIGGERS = ("autoscale", "autoscaling", "autoscaler", "autoscaled", "hpa", "horizontal pod autoscaler",
            "horizontally")
DEFAULT_TARGET = 80  # kubectl autoscale's default CPU target
_UNIT = r"(?:replicas?|pods?|instances?|copies)"

# Bounds given together, then each bound on its own ("keyword N" before "N keyword": "min 1 max 4").
_BOUNDS = (re.compile(r"\bbetween\s+(\d+)\s+(?:and|to|-)\s+(\d+)"),
           re.compile(r"\bfrom\s+(\d+)\s+(?:up\s+)?to\s+(\d+)"),
           re.compile(r"\b(\d+)\s*(?:-|–|\.\.|to)\s*(\d+)\s+" + _UNIT))
_MIN = (re.compile(r"\b(?:min(?:imum)?(?:\s+(?:of|replicas?|pods?))?|at\s+least|no\s+(?:fewer|less)\s+than|minreplicas)"
                   r"\s*[=:]?\s*(?:of\s+)?(\d+)"),
        re.compile(r"\b(\d+)\s+(?:" + _UNIT + r"\s+)?(?:min(?:imum)?|at\s+(?:the\s+)?least)\b"),
        # "should never go below 2 pods"
        re.compile(r"\b(?:never|not|don'?t|doesn'?t)\s+(?:go\s+|drop\s+|fall\s+|dip\s+|scale\s+|get\s+)?(?:below|under|"
                   r"lower\s+than|less\s+than|fewer\s+than)\s+(\d+)(?!\s*(?:%|percent|pct))"))
_MAX = (re.compile(r"\b(?:max(?:imum)?(?:\s+(?:of|replicas?|pods?))?|at\s+most|up\s+to|no\s+more\s+than|maxreplicas)"
                   r"\s*[=:]?\s*(?:of\s+)?(\d+)"),
        re.compile(r"\b(\d+)\s+(?:" + _UNIT + r"\s+)?(?:max(?:imum)?|at\s+(?:the\s+)?most)\b"),
        # "… or above 8", "should never go over 8 pods"
        re.compile(r"\b(?:never|not|don'?t|doesn'?t|or)\s+(?:go\s+|rise\s+|grow\s+|scale\s+|get\s+)?(?:above|over|beyond|"
                   r"past|more\s+than|higher\s+than)\s+(\d+)(?!\s*(?:%|percent|pct))"))
# "scale on cpu at 75%", "scale it based on memory": scaling on a metric is autoscaling
_ON_METRIC = re.compile(r"\bscal(?:e|ing)\s+(?:it\s+|them\s+)?(?:on|by|with|based\s+on|according\s+to)\s+(?:the\s+)?"
                        r"(?:cpu|memory|mem|load|utili[sz]ation)\b")
_TARGET = re.compile(r"\b(\d{1,3})\s*(?:%|percent|pct)")


def autoscalers_of(hpas: list[dict[str, Any]], kind: str, name: str) -> list[dict[str, Any]]:
    """The autoscalers among `hpas` whose scaleTargetRef is the workload `kind`/`name`: an HPA's own name says nothing
    about what it scales, so it is found by its target (create-hpa changes it, delete-hpa removes it)."""
    refs = [((h.get("spec") or {}).get("scaleTargetRef") or {}, h) for h in hpas]
    return [h for ref, h in refs if ref.get("name") == name and ref.get("kind") == kind]


def _bounds(low: str) -> tuple[int, int] | None:
    for pat in _BOUNDS:
        m = pat.search(low)
        if m:
            return int(m.group(1)), int(m.group(2))
    lo = next((m for m in (p.search(low) for p in _MIN) if m), None)
    hi = next((m for m in (p.search(low) for p in _MAX) if m), None)
    return (int(lo.group(1)), int(hi.group(1))) if lo and hi else None


class CreateHPA:
    agent = AGENT
    intent = "create-hpa"
    vocabulary = frozenset("""autoscale autoscaling autoscaler autoscaled autoscales hpa horizontal horizontally pod pods
        deployment deploy statefulset sts between min minimum max maximum least most up down fewer less more than no
        replicas replica instances copies cpu utilization utilisation usage load target targeting threshold above over
        exceeds exceed exceeding goes go reaches hits hit when whenever average avg percent pct memory based
        scale scaling scales create add set setup configure enable keep range automatically auto should never below
        under beyond past on or drop fall dip rise grow""".split()
                           ) | COMMON

    def match(self, ctx: Any) -> dict[str, Any] | None:
        low = digits(ctx.text)
        if not has(ctx, *TRIGGERS) and not _ON_METRIC.search(low):
            return None
        bounds = _bounds(low)
        targets = _TARGET.findall(low)
        if bounds is None or len(targets) > 1:
            return None
        metric = "memory" if re.search(r"\b(memory|mem)\b", low) else "cpu"
        if metric == "memory" and (re.search(r"\bcpu\b", low) or not targets):
            return None  # two metrics, or a memory target not given: not this fast path's plan
        found = one(resolve(ctx, SCALABLE, namespace(ctx)))
        if found is None:
            return None
        kind, obj, word = found
        said = [w for w in NUMBER_WORDS if re.search(rf"\b{w}\b", norm(ctx.text))] + [word]
        said += [f"{t}%" for t in targets]
        return {"kind": kind, "name": obj["metadata"]["name"], "namespace": obj["metadata"]["namespace"],
                "min": bounds[0], "max": bounds[1], "metric": metric,
                "target": int(targets[0]) if targets else None, "said": said}

    def plan(self, ctx: Any, slots: dict[str, Any]) -> AgentResult:
        kind, ns, name = slots["kind"], slots["namespace"], slots["name"]
        lo, hi, metric = int(slots["min"]), int(slots["max"]), slots["metric"]
        target = slots["target"] if slots["target"] is not None else DEFAULT_TARGET
        if lo < 1 or lo > hi:
            return AgentResult(AGENT, f"I did not act: an autoscaler needs 1 ≤ minimum ≤ maximum (you gave {lo} and "
                                      f"{hi}).")
        try:
            obj = ctx.kube.get(kind, ns, name)
            hpas = ctx.kube.list("HorizontalPodAutoscaler", ns)
        except KubeError as e:
            return AgentResult(AGENT, f"I could not read {cite(kind, ns, name)}: {e.message}", [e.message])
        replicas = (obj.get("spec") or {}).get("replicas", 1)
        evidence = [f"{cite(kind, ns, name)}: spec.replicas={replicas}"]
        mine = autoscalers_of(hpas, kind, name)
        if len(mine) > 1:
            return AgentResult(AGENT, f"I did not act: {len(mine)} autoscalers already target {cite(kind, ns, name)}; "
                                      "say which one to change.", evidence)
        hpa_name = mine[0]["metadata"]["name"] if mine else name
        if not mine and any(h["metadata"]["name"] == name for h in hpas):
            return AgentResult(AGENT, f"I did not act: an autoscaler named {name} already exists in {ns} for another "
                                      "target.", evidence)
        spec = {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": kind, "name": name}, "minReplicas": lo,
                "maxReplicas": hi, "metrics": [{"type": "Resource", "resource": {"name": metric, "target": {
                    "type": "Utilization", "averageUtilization": target}}}]}
        hpa = "HorizontalPodAutoscaler"
        goal = [expect(hpa, ns, hpa_name, "spec.scaleTargetRef.name", name),
                expect(hpa, ns, hpa_name, "spec.scaleTargetRef.kind", kind),
                expect(hpa, ns, hpa_name, "spec.minReplicas", lo),
                expect(hpa, ns, hpa_name, "spec.maxReplicas", hi),
                expect(hpa, ns, hpa_name, "spec.metrics.0.resource.name", metric),
                expect(hpa, ns, hpa_name, "spec.metrics.0.resource.target.averageUtilization", target)]
        what = (f"between {lo} and {hi} replicas, targeting {target}% average {metric.replace('cpu', 'CPU')} "
                "utilization" + ("" if slots["target"] is not None else
                                 " (the usual default; say another target if you want one)"))
        if mine:
            live = mine[0].get("spec") or {}
            evidence.append(f"{hpa} {ns}/{hpa_name}: min={live.get('minReplicas')} max={live.get('maxReplicas')} "
                            f"metrics={live.get('metrics')}")
            if live.get("minReplicas") == lo and live.get("maxReplicas") == hi and live.get("metrics") == spec["metrics"]:
                return AgentResult(AGENT, f"Already so: autoscaler {ns}/{hpa_name} keeps {cite(kind, ns, name)} {what}."
                                          " Nothing to change.", evidence, data={"already": True})
            m = mutation("patch", hpa, ns, hpa_name, goal, f"autoscale {name} {what}", body={"spec": spec},
                         patch_type="merge")
            return AgentResult(AGENT, f"Proposed: change autoscaler {ns}/{hpa_name} to keep {cite(kind, ns, name)} "
                                      f"{what}.", evidence, [m])
        body = {"apiVersion": "autoscaling/v2", "kind": hpa, "metadata": {"name": hpa_name, "namespace": ns},
                "spec": spec}
        requests = all(((c.get("resources") or {}).get("requests") or {}).get(metric) for c in containers(obj, kind))
        warn = "" if requests else (f" Note: its containers set no {metric} request, so the autoscaler cannot compute "
                                    "utilization until they do.")
        m = mutation("create", hpa, ns, hpa_name, goal, f"autoscale {name} {what}", body=body)
        return AgentResult(AGENT, f"Proposed: create a {hpa} {ns}/{hpa_name} that keeps {cite(kind, ns, name)} {what}. "
                                  f"Its replica count (now {replicas}) is left to the autoscaler.{warn}", evidence, [m])


register(CreateHPA())
