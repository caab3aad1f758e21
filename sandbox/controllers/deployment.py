"""Deployment controller: ReplicaSets per pod template, rolling updates (maxSurge/maxUnavailable) and Recreate,
revisions for `kubectl rollout history|undo`, and the Available/Progressing conditions `rollout status` reads.
"""

from __future__ import annotations

import copy
from collections.abc import Hashable
from typing import Any

from sandbox.cluster import SYSTEM, Cluster, WriteOptions
from sandbox.controllers import common
from sandbox.controllers.events import EventRecorder
from sandbox.errors import ApiError

REVISION = "deployment.kubernetes.io/revision"
HASH_LABEL = "pod-template-hash"


def _template_without_hash(template: dict[str, Any]) -> dict[str, Any]:
    t = copy.deepcopy(template or {})
    labels = (t.get("metadata") or {}).get("labels")
    if labels:
        labels.pop(HASH_LABEL, None)
    return t


def _rev(rs: dict[str, Any]) -> int:
    try:
        return int((rs["metadata"].get("annotations") or {}).get(REVISION, "0"))
    except ValueError:
        return 0


class DeploymentController:
    name = "deployment"
    watches = ("apps/deployments", "apps/replicasets")

    def __init__(self, cluster: Cluster, events: EventRecorder) -> None:
        self.cluster = cluster
        self.events = events
        self.rt = cluster.rt("apps", "v1", "deployments")
        self.rs_rt = cluster.rt("apps", "v1", "replicasets")

    def keys_for(self, resource: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> list[Hashable]:
        obj = new or old
        if resource == "apps/deployments":
            return [(obj["metadata"]["namespace"], obj["metadata"]["name"])]
        key = common.owner_key(obj, "Deployment")
        return [key] if key else []

    def _scale_rs(self, dep: dict[str, Any], rs: dict[str, Any], replicas: int) -> dict[str, Any]:
        old = int((rs.get("spec") or {}).get("replicas", 0))
        if old == replicas:
            return rs
        annotations = {"deployment.kubernetes.io/desired-replicas": str((dep.get("spec") or {}).get("replicas", 1)),
                       "deployment.kubernetes.io/max-replicas": str(self._max_total(dep))}
        out = common.patch_spec(self.cluster, self.rs_rt, rs, {"metadata": {"annotations": annotations},
                                                              "spec": {"replicas": replicas}})
        verb = "up" if replicas > old else "down"
        self.events.emit(dep, "Normal", "ScalingReplicaSet",
                         f"Scaled {verb} replica set {rs['metadata']['name']} from {old} to {replicas}",
                         "deployment-controller")
        return out or rs

    def _max_total(self, dep: dict[str, Any]) -> int:
        spec = dep.get("spec") or {}
        replicas = int(spec.get("replicas", 1))
        strategy = spec.get("strategy") or {}
        if strategy.get("type") == "Recreate":
            return replicas
        surge = common.scaled((strategy.get("rollingUpdate") or {}).get("maxSurge", "25%"), replicas, True)
        return replicas + surge

    def reconcile(self, key: Hashable) -> float | None:
        ns, name = key  # type: ignore[misc]
        dep = self.cluster.store.get(self.rt.key, ns, name)
        if dep is None or dep["metadata"].get("deletionTimestamp"):
            return None
        spec = dep.get("spec") or {}
        replicas = int(spec.get("replicas", 1))
        template = spec.get("template") or {}
        all_rs = sorted(common.owned(self.cluster, self.rs_rt.key, dep), key=lambda r: (_rev(r), r["metadata"]["name"]))
        new_rs = next((r for r in all_rs if _template_without_hash((r.get("spec") or {}).get("template"))
                       == _template_without_hash(template)), None)
        old_rs = [r for r in all_rs if r is not new_rs]
        max_rev = max((_rev(r) for r in all_rs), default=0)
        paused = bool(spec.get("paused"))

        if new_rs is None and not paused:
            new_rs = self._create_rs(dep, template, max_rev + 1, 0 if old_rs else replicas)
            if new_rs is None:
                return 5.0
        elif new_rs is not None and _rev(new_rs) < max_rev and not paused:
            # rollback or re-rollout to an older template: it becomes the newest revision
            annotations = {REVISION: str(max_rev + 1)}
            new_rs = common.patch_spec(self.cluster, self.rs_rt, new_rs, {"metadata": {"annotations": annotations}}) or new_rs

        strategy = (spec.get("strategy") or {})
        if new_rs is not None and not paused:
            if strategy.get("type") == "Recreate":
                self._recreate(dep, new_rs, old_rs, replicas)
            else:
                self._rolling(dep, new_rs, old_rs, replicas, strategy.get("rollingUpdate") or {})
        elif paused and new_rs is not None and not old_rs:
            self._scale_rs(dep, new_rs, replicas)
        self._cleanup(dep)
        self._status(dep)
        return self._progress_check(dep)

    def _create_rs(self, dep: dict[str, Any], template: dict[str, Any], revision: int, replicas: int) -> dict[str, Any] | None:
        h = common.safe_hash(_template_without_hash(template))
        tmpl = copy.deepcopy(template)
        tmpl.setdefault("metadata", {}).setdefault("labels", {})[HASH_LABEL] = h
        selector = copy.deepcopy((dep.get("spec") or {}).get("selector") or {})
        selector.setdefault("matchLabels", {})[HASH_LABEL] = h
        annotations = {REVISION: str(revision),
                       "deployment.kubernetes.io/desired-replicas": str((dep.get("spec") or {}).get("replicas", 1)),
                       "deployment.kubernetes.io/max-replicas": str(self._max_total(dep))}
        cause = (dep["metadata"].get("annotations") or {}).get("kubernetes.io/change-cause")
        if cause:
            annotations["kubernetes.io/change-cause"] = cause
        body = {"metadata": {"name": f"{dep['metadata']['name']}-{h}", "labels": tmpl["metadata"]["labels"],
                             "annotations": annotations, "ownerReferences": [common.controller_ref(dep)]},
                "spec": {"replicas": replicas, "selector": selector, "template": tmpl,
                         "minReadySeconds": (dep.get("spec") or {}).get("minReadySeconds", 0)}}
        try:
            rs = self.cluster.create(self.rs_rt, dep["metadata"]["namespace"], body, SYSTEM,
                                     WriteOptions(field_manager="kube-controller-manager")).obj
        except ApiError:
            return None
        if replicas:
            self.events.emit(dep, "Normal", "ScalingReplicaSet",
                             f"Scaled up replica set {rs['metadata']['name']} from 0 to {replicas}", "deployment-controller")
        return rs

    def _available(self, rs: dict[str, Any]) -> int:
        return int((rs.get("status") or {}).get("availableReplicas", 0))

    def _recreate(self, dep: dict[str, Any], new_rs: dict[str, Any], old_rs: list[dict[str, Any]], replicas: int) -> None:
        for rs in old_rs:
            self._scale_rs(dep, rs, 0)
        old_pods = sum(len(common.owned(self.cluster, "/pods", rs)) for rs in old_rs)
        if old_pods == 0:
            self._scale_rs(dep, new_rs, replicas)

    def _rolling(self, dep: dict[str, Any], new_rs: dict[str, Any], old_rs: list[dict[str, Any]], replicas: int,
                 ru: dict[str, Any]) -> None:
        surge = common.scaled(ru.get("maxSurge", "25%"), replicas, True)
        unavailable = common.scaled(ru.get("maxUnavailable", "25%"), replicas, False)
        if surge == 0 and unavailable == 0:
            unavailable = 1
        live_old = [r for r in old_rs if int((r.get("spec") or {}).get("replicas", 0)) > 0]
        new_count = int((new_rs.get("spec") or {}).get("replicas", 0))
        if not live_old:
            self._scale_rs(dep, new_rs, replicas)
            return
        # scale up the new ReplicaSet within maxSurge
        total = sum(int((r.get("spec") or {}).get("replicas", 0)) for r in [new_rs, *live_old])
        room = replicas + surge - total
        if room > 0 and new_count < replicas:
            new_rs = self._scale_rs(dep, new_rs, min(replicas, new_count + room))
        # scale down old ReplicaSets while keeping replicas - maxUnavailable available
        available = self._available(new_rs) + sum(self._available(r) for r in live_old)
        min_available = replicas - unavailable
        # unhealthy old replicas can go regardless
        for rs in sorted(live_old, key=lambda r: (_rev(r), r["metadata"]["name"])):
            want = int((rs.get("spec") or {}).get("replicas", 0))
            unhealthy = want - self._available(rs)
            if unhealthy > 0:
                rs = self._scale_rs(dep, rs, want - unhealthy)
        live_old = [self.cluster.store.get(self.rs_rt.key, r["metadata"]["namespace"], r["metadata"]["name"]) or r
                    for r in live_old]
        can_remove = available - min_available
        for rs in sorted(live_old, key=lambda r: (_rev(r), r["metadata"]["name"])):
            if can_remove <= 0:
                break
            want = int((rs.get("spec") or {}).get("replicas", 0))
            if want == 0:
                continue
            drop = min(want, can_remove)
            self._scale_rs(dep, rs, want - drop)
            can_remove -= drop

    def _cleanup(self, dep: dict[str, Any]) -> None:
        limit = int((dep.get("spec") or {}).get("revisionHistoryLimit", 10))
        old = [r for r in common.owned(self.cluster, self.rs_rt.key, dep)
               if int((r.get("spec") or {}).get("replicas", 0)) == 0 and not (r.get("status") or {}).get("replicas")]
        old.sort(key=_rev)
        newest = max((_rev(r) for r in common.owned(self.cluster, self.rs_rt.key, dep)), default=0)
        old = [r for r in old if _rev(r) != newest]
        for rs in old[: max(len(old) - limit, 0)]:
            common.delete(self.cluster, self.rs_rt, rs)

    def _status(self, dep: dict[str, Any]) -> None:
        dep = self.cluster.store.get(self.rt.key, dep["metadata"]["namespace"], dep["metadata"]["name"]) or dep
        spec = dep.get("spec") or {}
        replicas = int(spec.get("replicas", 1))
        all_rs = common.owned(self.cluster, self.rs_rt.key, dep)
        template = spec.get("template") or {}
        new_rs = next((r for r in all_rs if _template_without_hash((r.get("spec") or {}).get("template"))
                       == _template_without_hash(template)), None)
        st = lambda r, k: int((r.get("status") or {}).get(k, 0))  # noqa: E731
        total = sum(st(r, "replicas") for r in all_rs)
        ready = sum(st(r, "readyReplicas") for r in all_rs)
        available = sum(st(r, "availableReplicas") for r in all_rs)
        updated = st(new_rs, "replicas") if new_rs else 0
        ru = (spec.get("strategy") or {}).get("rollingUpdate") or {}
        max_unavailable = common.scaled(ru.get("maxUnavailable", "25%"), replicas, False) \
            if (spec.get("strategy") or {}).get("type", "RollingUpdate") == "RollingUpdate" else 0
        now = self.cluster.clock.rfc3339()
        old_status = dep.get("status") or {}
        conds = list(old_status.get("conditions") or [])
        if available >= replicas - max_unavailable:
            conds = common.condition(conds, "Available", "True", "MinimumReplicasAvailable",
                                     "Deployment has minimum availability.", now)
        else:
            conds = common.condition(conds, "Available", "False", "MinimumReplicasUnavailable",
                                     "Deployment does not have minimum availability.", now)
        prog = next((c for c in conds if c.get("type") == "Progressing"), None)
        if spec.get("paused"):
            conds = common.condition(conds, "Progressing", "Unknown", "DeploymentPaused", "Deployment is paused", now)
        elif new_rs is not None:
            rs_name = new_rs["metadata"]["name"]
            complete = updated == replicas and total == replicas and available >= replicas and \
                st(new_rs, "availableReplicas") >= replicas
            if complete:
                conds = common.condition(conds, "Progressing", "True", "NewReplicaSetAvailable",
                                         f'ReplicaSet "{rs_name}" has successfully progressed.', now)
            elif prog is not None and prog.get("reason") == "ProgressDeadlineExceeded" and \
                    prog.get("message", "").startswith(f'ReplicaSet "{rs_name}"'):
                pass
            else:
                reason = "ReplicaSetUpdated" if prog else "NewReplicaSetCreated"
                msg = (f'ReplicaSet "{rs_name}" is progressing.' if prog else f'Created new replica set "{rs_name}"')
                if not (prog and prog.get("status") == "True" and prog.get("reason") == reason and prog.get("message") == msg):
                    conds = common.condition(conds, "Progressing", "True", reason, msg, now)
        order = {"Available": 0, "Progressing": 1, "ReplicaFailure": 2}
        conds.sort(key=lambda c: order.get(c.get("type"), 9))
        status: dict[str, Any] = {"observedGeneration": dep["metadata"].get("generation", 1), "replicas": total,
                                  "updatedReplicas": updated, "readyReplicas": ready, "availableReplicas": available,
                                  "conditions": conds}
        if total - available > 0:
            status["unavailableReplicas"] = max(replicas - available, 0) or (total - available)
        for k in ("readyReplicas", "availableReplicas", "updatedReplicas", "replicas"):
            if status[k] == 0:
                del status[k]
        status["terminatingReplicas"] = 0
        common.write_status(self.cluster, self.rt, dep, status)

    def _progress_check(self, dep: dict[str, Any]) -> float | None:
        """Mark ProgressDeadlineExceeded when a rollout stalls longer than progressDeadlineSeconds."""
        dep = self.cluster.store.get(self.rt.key, dep["metadata"]["namespace"], dep["metadata"]["name"]) or dep
        spec = dep.get("spec") or {}
        deadline = float(spec.get("progressDeadlineSeconds", 600))
        prog = next((c for c in (dep.get("status") or {}).get("conditions") or [] if c.get("type") == "Progressing"), None)
        if prog is None or prog.get("reason") in ("NewReplicaSetAvailable", "ProgressDeadlineExceeded", "DeploymentPaused"):
            return None
        from sandbox.controllers.kubelet import _parse_time

        since = _parse_time(prog.get("lastUpdateTime")) or self.cluster.clock.time()
        left = since + deadline - self.cluster.clock.time()
        if left > 0:
            return left + 0.5
        name = prog.get("message", "").split('"')[1] if '"' in prog.get("message", "") else ""
        conds = common.condition(list((dep.get("status") or {}).get("conditions") or []), "Progressing", "False",
                                 "ProgressDeadlineExceeded", f'ReplicaSet "{name}" has timed out progressing.',
                                 self.cluster.clock.rfc3339())
        status = dict(dep.get("status") or {}, conditions=conds)
        common.write_status(self.cluster, self.rt, dep, status)
        return None
