"""Reading Kubernetes objects: readiness, restarts, container statuses, quantities, selectors, pod specs.

Why one module: the health wait, the diagnosis checks, the agents and the goal checks must agree on what
"ready", "restarted" or "2Gi" means; each helper here is the one definition, and all take plain dicts as the
API returns them (no client objects), so they are cheap to test and to reuse.
"""

from __future__ import annotations

import math
import re
from typing import Any

# ---- conditions, readiness, restarts ------------------------------------------------------------------


def condition(obj: dict[str, Any], ctype: str) -> dict[str, Any] | None:
    """The status condition of type `ctype` (Ready, Available, Complete…), or None."""
    for c in (obj.get("status") or {}).get("conditions") or []:
        if c.get("type") == ctype:
            return c
    return None


def condition_true(obj: dict[str, Any], ctype: str) -> bool:
    return (condition(obj, ctype) or {}).get("status") == "True"


def is_ready(obj: dict[str, Any]) -> bool:
    """A Pod (or Node) whose Ready condition is True and that is not being deleted."""
    if (obj.get("metadata") or {}).get("deletionTimestamp"):
        return False
    return condition_true(obj, "Ready")


def container_statuses(pod: dict[str, Any], init: bool = True) -> list[dict[str, Any]]:
    """The pod's container statuses (init containers first when `init`)."""
    st = pod.get("status") or {}
    return (list(st.get("initContainerStatuses") or []) if init else []) + list(st.get("containerStatuses") or [])


def ready_containers(pod: dict[str, Any]) -> str:
    """'1/2': ready containers of the pod's containers, as kubectl's READY column shows them."""
    total = len((pod.get("spec") or {}).get("containers") or [])
    return f"{sum(1 for c in container_statuses(pod, init=False) if c.get('ready'))}/{total}"


def restarts(pod: dict[str, Any]) -> int:
    """The pod's restarts: the sum of its containers' restartCount (kubectl's RESTARTS column)."""
    return sum(int(c.get("restartCount") or 0) for c in container_statuses(pod, init=False))


def restart_counts(pods: list[dict[str, Any]]) -> dict[str, int]:
    """{pod name: restarts}: what the health wait watches for a restart that keeps rising."""
    return {(p.get("metadata") or {}).get("name", ""): restarts(p) for p in pods}


def waiting_reason(cs: dict[str, Any]) -> str | None:
    """The reason a container status is waiting (CrashLoopBackOff, ImagePullBackOff…), or None."""
    return ((cs.get("state") or {}).get("waiting") or {}).get("reason")


# ---- quantities ---------------------------------------------------------------------------------------
_SUFFIX = {
    "n": 1e-9, "u": 1e-6, "m": 1e-3, "": 1.0, "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15,
    "E": 1e18, "Ki": 2.0 ** 10, "Mi": 2.0 ** 20, "Gi": 2.0 ** 30, "Ti": 2.0 ** 40, "Pi": 2.0 ** 50, "Ei": 2.0 ** 60,
}
_QTY = re.compile(r"^\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*(Ki|Mi|Gi|Ti|Pi|Ei|[numkKMGTPE]?)\s*$")
Mi = 1024 * 1024


def parse_quantity(q: Any) -> float | None:
    """A Kubernetes quantity ('100m', '2Gi', '1917000000n', 4) as a float in base units; None if unparseable."""
    if q is None or isinstance(q, bool):
        return None
    if isinstance(q, int | float):
        return float(q)
    m = _QTY.match(str(q))
    if not m:
        return None
    return float(m.group(1)) * _SUFFIX[m.group(2)]


def millicores(q: Any) -> int | None:
    v = parse_quantity(q)
    return None if v is None else int(round(v * 1000))


def bytes_(q: Any) -> int | None:
    v = parse_quantity(q)
    return None if v is None else int(round(v))


def fmt_cpu(m: int | float) -> str:
    """Millicores as a quantity: 1500 -> '1500m', 2000 -> '2'."""
    m = int(m)
    return str(m // 1000) if m % 1000 == 0 and m > 0 else f"{m}m"


def fmt_mem(b: int | float) -> str:
    """Bytes as a binary quantity: whole Gi when exact, else Mi (rounded up)."""
    b = int(b)
    if b >= 2 ** 30 and b % 2 ** 30 == 0:
        return f"{b // 2 ** 30}Gi"
    return f"{math.ceil(b / Mi)}Mi"


# ---- selectors ----------------------------------------------------------------------------------------
_SELECTOR_OPS = {"In": "in", "NotIn": "notin"}


def selector_string(sel: dict[str, Any] | None) -> str:
    """A label selector as the API's `labelSelector` query string. Takes a metav1.LabelSelector (matchLabels
    and matchExpressions) or a Service-style {key: value} map: 'app=web,tier in (a,b),!canary'."""
    sel = sel or {}
    if "matchLabels" not in sel and "matchExpressions" not in sel:
        sel = {"matchLabels": sel}
    parts = [f"{k}={v}" for k, v in sorted((sel.get("matchLabels") or {}).items())]
    for e in sel.get("matchExpressions") or []:
        key, op, vals = e.get("key"), e.get("operator"), e.get("values") or []
        if op in _SELECTOR_OPS:
            parts.append(f"{key} {_SELECTOR_OPS[op]} ({','.join(vals)})")
        elif op == "Exists":
            parts.append(str(key))
        elif op == "DoesNotExist":
            parts.append(f"!{key}")
    return ",".join(parts)


def selector_matches(selector: dict[str, str] | None, labels: dict[str, str] | None) -> bool:
    """A Service-style equality selector (an empty selector matches nothing here)."""
    if not selector:
        return False
    labels = labels or {}
    return all(labels.get(k) == v for k, v in selector.items())


def label_selector_matches(sel: dict[str, Any] | None, labels: dict[str, str] | None) -> bool:
    """A metav1.LabelSelector (matchLabels + matchExpressions); an empty selector matches nothing here."""
    if not sel:
        return False
    labels = labels or {}
    if any(labels.get(k) != v for k, v in (sel.get("matchLabels") or {}).items()):
        return False
    for e in sel.get("matchExpressions") or []:
        key, op, vals = e.get("key"), e.get("operator"), e.get("values") or []
        if op == "In" and labels.get(key) not in vals:
            return False
        if op == "NotIn" and labels.get(key) in vals:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def pod_spec(obj: dict[str, Any], kind: str) -> dict[str, Any]:
    """Where a kind keeps the pod spec its containers are in: the Pod's own spec, a CronJob's job template's, or
    the pod template of a workload or Job ({} when there is none)."""
    spec = obj.get("spec") or {}
    if kind == "Pod":
        return spec
    if kind == "CronJob":
        spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    return (spec.get("template") or {}).get("spec") or {}
