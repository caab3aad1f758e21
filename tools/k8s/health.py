"""Did an applied fix hold? Wait for an object to become healthy (the undo itself is in tools/k8s/mutations.py).

Why a separate step after the apply: a patch the API accepts can still leave pods crash-looping (a wrong guess
at an env value, a limit still too low). A repair is only done when the workload is rolled out, ready, and its
restart counts stay still for a while; otherwise the change is rolled back to what was there before.
"""

from __future__ import annotations

import time
from typing import Any

from tools.k8s.client import Kube, KubeError
from tools.k8s.kinds import WORKLOADS
from tools.k8s.objects import condition_true, is_ready, restart_counts, selector_string


def pods_of(kube: Kube, kind: str, obj: dict[str, Any]) -> list[dict[str, Any]]:
    """The pods an object stands for: itself (a Pod), the ones its selector picks (a workload or a Service)."""
    ns = obj["metadata"].get("namespace")
    if kind == "Pod":
        return [obj]
    if kind == "Service":
        sel = (obj.get("spec") or {}).get("selector") or {}
        return kube.list("Pod", ns, selector_string(sel)) if sel else []
    return kube.list("Pod", ns, selector_string((obj.get("spec") or {}).get("selector") or {}))


FAILING = ("ImagePullBackOff", "ErrImagePull", "InvalidImageName", "CrashLoopBackOff", "CreateContainerConfigError",
           "CreateContainerError", "RunContainerError", "OOMKilled")


def failing(kube: Kube, kind: str, obj: dict[str, Any]) -> str | None:
    """A pod of the object stuck in a state that will not heal by waiting (bad image, crash loop, OOM)."""
    if (obj.get("status") or {}).get("observedGeneration", 0) < obj["metadata"].get("generation", 0):
        return None  # the controller has not made the new revision yet
    try:
        pods = _current_pods(kube, kind, obj)
    except KubeError:
        return None
    for p in pods:
        for c in (p.get("status") or {}).get("containerStatuses") or []:
            st = c.get("state") or {}
            reason = (st.get("waiting") or {}).get("reason") or (st.get("terminated") or {}).get("reason")
            last = ((c.get("lastState") or {}).get("terminated") or {}).get("reason")
            for r in (reason, last if reason == "CrashLoopBackOff" else None):
                if r in FAILING:
                    return f"pod {p['metadata']['name']}: {r}"
    return None


def _current_pods(kube: Kube, kind: str, obj: dict[str, Any]) -> list[dict[str, Any]]:
    """Pods of the object's newest revision only: the old ones may still be failing while the fix rolls out."""
    if kind == "Pod":
        return [obj]
    if kind == "StatefulSet":
        rev = (obj.get("status") or {}).get("updateRevision")
        return [p for p in pods_of(kube, kind, obj) if rev and (p["metadata"].get("labels") or {}).get(
            "controller-revision-hash") == rev]
    if kind != "Deployment":
        return []
    ns = obj["metadata"]["namespace"]
    want = (obj["metadata"].get("annotations") or {}).get("deployment.kubernetes.io/revision")
    for rs in kube.list("ReplicaSet", ns):
        owned = any(o.get("uid") == obj["metadata"]["uid"] for o in rs["metadata"].get("ownerReferences") or [])
        if owned and want and (rs["metadata"].get("annotations") or {}).get("deployment.kubernetes.io/revision") == want:
            h = (rs["metadata"].get("labels") or {}).get("pod-template-hash")
            return [p for p in pods_of(kube, kind, obj) if (p["metadata"].get("labels") or {}).get(
                "pod-template-hash") == h]
    return []


def status_of(kube: Kube, kind: str, obj: dict[str, Any]) -> tuple[bool, str, dict[str, int]]:
    """(healthy now, why not / what is, restart counts of its pods) of the object as read."""
    spec, st = obj.get("spec") or {}, obj.get("status") or {}
    if kind in WORKLOADS:
        gen, seen = obj["metadata"].get("generation", 0), st.get("observedGeneration", 0)
        want = spec.get("replicas", 1) if kind != "DaemonSet" else st.get("desiredNumberScheduled", 0)
        ready = st.get("readyReplicas", 0) if kind != "DaemonSet" else st.get("numberReady", 0)
        updated = st.get("updatedReplicas", 0) if kind != "DaemonSet" else st.get("updatedNumberScheduled", 0)
        pods = [p for p in pods_of(kube, kind, obj) if not p["metadata"].get("deletionTimestamp")]
        if seen < gen:
            return False, "the controller has not seen the change yet", restart_counts(pods)
        if updated < want or ready < want or len(pods) > want:
            return False, f"{ready}/{want} ready, {updated} updated, {len(pods)} pods", restart_counts(pods)
        return True, f"{ready}/{want} ready and up to date", restart_counts(pods)
    if kind == "Pod":
        phase = st.get("phase")
        return is_ready(obj), f"pod is {phase}{', ready' if is_ready(obj) else ', not ready'}", restart_counts([obj])
    if kind == "Service":  # what a Service change controls is which pods it selects; their health is their own
        pods = [p for p in pods_of(kube, kind, obj) if not p["metadata"].get("deletionTimestamp")]
        ready = sum(1 for p in pods if is_ready(p))
        return bool(pods), f"selects {len(pods)} pod(s), {ready} ready", {}
    if kind == "PersistentVolumeClaim":
        return st.get("phase") == "Bound", f"claim is {st.get('phase')}", {}
    if kind == "Job":
        done = condition_true(obj, "Complete")
        return done or st.get("active", 0) > 0, f"{st.get('succeeded', 0)} succeeded, {st.get('active', 0)} active", {}
    return True, "exists", {}


def wait_healthy(kube: Kube, kind: str, namespace: str, name: str, timeout_s: float = 60.0,
                 stable_s: float = 5.0, poll_s: float = 0.5) -> tuple[bool, str]:
    """Healthy and with restart counts unchanged for `stable_s` seconds, within `timeout_s` (wall clock)."""
    deadline = time.monotonic() + timeout_s
    since: float | None = None
    counts: dict[str, int] = {}
    why = ""
    strikes = 0
    while time.monotonic() < deadline:
        try:
            obj = kube.get(kind, namespace, name)
            ok, why, now = status_of(kube, kind, obj)
        except KubeError as e:
            return False, e.message
        bad = failing(kube, kind, obj) if not ok else None
        strikes += 1 if bad else 0
        if strikes >= 3:  # the new revision's pods were seen failing on three polls: waiting will not help
            return False, bad or why
        if ok and (since is None or now != counts):
            since, counts = time.monotonic(), now
        elif not ok:
            since = None
        if since is not None and time.monotonic() - since >= stable_s:
            return True, why
        time.sleep(poll_s)
    if since is not None:
        return False, f"restarts kept rising ({why})"
    return False, why or "not healthy in time"
