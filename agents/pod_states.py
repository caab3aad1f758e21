"""Why a pod has no usage to report: it is not running (a pull back-off, a crash loop, unscheduled, still creating).

Why its own small module: the usage answer (agents.metrics) and the restart counts (agents.fastpaths.restarts) must
say the same thing about the same pod, and both build on the one container-state reading in tools/k8s/objects.py
(`waiting_reason`, `container_statuses`, `condition`); nothing here reads a container state another way.
"""

from __future__ import annotations

from typing import Any

from tools.k8s.objects import condition, container_statuses, waiting_reason


def not_running(pod: dict[str, Any]) -> str | None:
    """The reason the pod is not running ("ImagePullBackOff", "CrashLoopBackOff, last exit OOMKilled", "Pending:
    Unschedulable", "Completed"), or None when it runs (phase Running, no container waiting)."""
    meta, st = pod.get("metadata") or {}, pod.get("status") or {}
    if meta.get("deletionTimestamp"):
        return "Terminating"
    statuses = container_statuses(pod)
    for cs in statuses:
        reason = waiting_reason(cs)
        if reason:
            last = ((cs.get("lastState") or {}).get("terminated") or {}).get("reason")
            return f"{reason}, last exit {last}" if last and last != reason and reason == "CrashLoopBackOff" else reason
    phase = st.get("phase") or "Unknown"
    if phase == "Running":
        return None
    if phase == "Succeeded":
        return "Completed"
    sched = condition(pod, "PodScheduled") or {}
    if phase == "Pending" and sched.get("status") == "False":
        return f"Pending: {sched.get('reason') or 'not scheduled'}"
    return phase if statuses or phase != "Pending" else "Pending"


def pod_name(pod: dict[str, Any]) -> str:
    return (pod.get("metadata") or {}).get("name", "")


def grouped(pods: list[tuple[str, str]], limit: int = 12) -> str:
    """'catalog-a, catalog-b (ImagePullBackOff); worker-x (Pending: Unschedulable)': (name, reason) pairs grouped
    by reason, at most `limit` names (the rest counted), so one line names every pod left out of an answer."""
    by: dict[str, list[str]] = {}
    for name, reason in pods:
        by.setdefault(reason, []).append(name)
    shown, parts = 0, []
    for reason, names in by.items():
        take = names[:max(0, limit - shown)]
        shown += len(take)
        if take:
            parts.append(f"{', '.join(take)} ({reason})")
    more = len(pods) - shown
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")
