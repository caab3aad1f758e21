"""Kinds served at more than one version: conversion between a served version and the stored one.

Why: the API server stores one version of a kind and converts on the way in and out, so an object written as
autoscaling/v1 reads back as autoscaling/v2 and the other way round, and the controllers see one shape. Tutorials
still apply `autoscaling/v1` HorizontalPodAutoscalers (`targetCPUUtilizationPercentage`). The v1 form keeps what
it has no field for in the same annotations as Kubernetes' own conversion (`pkg/apis/autoscaling/v1`), so reading
as v1 and writing back loses no v2 metric or behavior.

The table `CONVERSIONS` maps (group, plural, served version) to (to storage, from storage).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

Obj = dict[str, Any]
_METRICS = "autoscaling.alpha.kubernetes.io/metrics"
_BEHAVIOR = "autoscaling.alpha.kubernetes.io/behavior"
_CURRENT = "autoscaling.alpha.kubernetes.io/current-metrics"
_CONDITIONS = "autoscaling.alpha.kubernetes.io/conditions"


def _is_cpu_utilization(m: Any) -> bool:
    res = (m or {}).get("resource") or {}
    return (m or {}).get("type") == "Resource" and res.get("name") == "cpu" and \
        (res.get("target") or {}).get("type") == "Utilization"


def _load(annotations: dict[str, str], key: str) -> Any:
    try:
        return json.loads(annotations.pop(key))
    except (KeyError, ValueError, TypeError):
        return None


def hpa_v1_to_v2(obj: Obj) -> Obj:
    """autoscaling/v1 → v2: the CPU target becomes a Resource metric; annotations give back what v1 lacks."""
    out = copy.deepcopy(obj)
    out["apiVersion"] = "autoscaling/v2"
    meta = out.get("metadata") if isinstance(out.get("metadata"), dict) else {}
    annotations = dict(meta.get("annotations") or {})
    spec = out.get("spec") if isinstance(out.get("spec"), dict) else None
    metrics = [m for m in _load(annotations, _METRICS) or [] if not _is_cpu_utilization(m)]
    behavior = _load(annotations, _BEHAVIOR)
    if spec is not None:
        pct = spec.pop("targetCPUUtilizationPercentage", None)
        if pct is not None:
            metrics.insert(0, {"type": "Resource", "resource": {
                "name": "cpu", "target": {"type": "Utilization", "averageUtilization": pct}}})
        if metrics:
            spec["metrics"] = metrics
        if behavior:
            spec["behavior"] = behavior
    status = out.get("status") if isinstance(out.get("status"), dict) else None
    current = _load(annotations, _CURRENT) or []
    conditions = _load(annotations, _CONDITIONS)
    if status is not None:
        cur = status.pop("currentCPUUtilizationPercentage", None)
        if cur is not None:
            current = [{"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": cur}}}] + \
                [m for m in current if ((m or {}).get("resource") or {}).get("name") != "cpu"]
        if current:
            status["currentMetrics"] = current
        if conditions:
            status["conditions"] = conditions
    if meta:
        if annotations:
            meta["annotations"] = annotations
        else:
            meta.pop("annotations", None)
    return out


def hpa_v2_to_v1(obj: Obj) -> Obj:
    """autoscaling/v2 → v1: the first CPU utilization target is targetCPUUtilizationPercentage; the rest rides
    in annotations, as Kubernetes does."""
    out = copy.deepcopy(obj)
    out["apiVersion"] = "autoscaling/v1"
    meta = out.setdefault("metadata", {})
    annotations = dict(meta.get("annotations") or {})
    spec = out.get("spec") if isinstance(out.get("spec"), dict) else {}
    metrics = spec.pop("metrics", None) or []
    cpu = next((m for m in metrics if _is_cpu_utilization(m)), None)
    if cpu is not None:
        spec["targetCPUUtilizationPercentage"] = cpu["resource"]["target"].get("averageUtilization")
    rest = [m for m in metrics if m is not cpu]
    if rest:
        annotations[_METRICS] = json.dumps(rest, separators=(",", ":"))
    behavior = spec.pop("behavior", None)
    if behavior:
        annotations[_BEHAVIOR] = json.dumps(behavior, separators=(",", ":"))
    status = out.get("status") if isinstance(out.get("status"), dict) else None
    if status is not None:
        current = status.pop("currentMetrics", None) or []
        cpu_now = next((m for m in current if ((m or {}).get("resource") or {}).get("name") == "cpu"
                        and "averageUtilization" in ((m["resource"].get("current")) or {})), None)
        if cpu_now is not None:
            status["currentCPUUtilizationPercentage"] = cpu_now["resource"]["current"]["averageUtilization"]
        others = [m for m in current if m is not cpu_now]
        if others:
            annotations[_CURRENT] = json.dumps(others, separators=(",", ":"))
        conditions = status.pop("conditions", None)
        if conditions:
            annotations[_CONDITIONS] = json.dumps(conditions, separators=(",", ":"))
    if annotations:
        meta["annotations"] = annotations
    return out


# (group, plural, served version) → (to the stored version, from the stored version)
CONVERSIONS: dict[tuple[str, str, str], tuple[Callable[[Obj], Obj], Callable[[Obj], Obj]]] = {
    ("autoscaling", "horizontalpodautoscalers", "v1"): (hpa_v1_to_v2, hpa_v2_to_v1),
}


def to_storage(group: str, plural: str, version: str, obj: Obj) -> Obj:
    """The object written at `version` in the stored version's shape (unchanged when stored as is)."""
    conv = CONVERSIONS.get((group, plural, version))
    return conv[0](obj) if conv else obj


def from_storage(group: str, plural: str, version: str, obj: Obj) -> Obj | None:
    """The stored object in `version`'s shape; None when `version` is served as stored."""
    conv = CONVERSIONS.get((group, plural, version))
    return conv[1](obj) if conv else None
