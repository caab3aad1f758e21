"""StatefulSet, DaemonSet, Job and CronJob controllers."""

from __future__ import annotations

import copy
from collections.abc import Hashable
from datetime import UTC, datetime, timedelta
from typing import Any

from sandbox.cluster import SYSTEM, Cluster, WriteOptions
from sandbox.controllers import common
from sandbox.controllers.events import EventRecorder
from sandbox.controllers.scheduler import _tolerates, node_matches
from sandbox.errors import ApiError


def _key_for_owner(kind: str, resource_key: str):
    def keys_for(self, resource: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> list[Hashable]:
        obj = new or old
        if resource == resource_key:
            return [(obj["metadata"]["namespace"], obj["metadata"]["name"])]
        key = common.owner_key(obj, kind)
        return [key] if key else []
    return keys_for


class StatefulSetController:
    name = "statefulset"
    watches = ("apps/statefulsets", "/pods")
    keys_for = _key_for_owner("StatefulSet", "apps/statefulsets")

    def __init__(self, cluster: Cluster, events: EventRecorder) -> None:
        self.cluster = cluster
        self.events = events
        self.rt = cluster.rt("apps", "v1", "statefulsets")
        self.pods = cluster.rt("", "v1", "pods")
        self.pvcs = cluster.rt("", "v1", "persistentvolumeclaims")

    def reconcile(self, key: Hashable) -> float | None:
        ns, name = key  # type: ignore[misc]
        sts = self.cluster.store.get(self.rt.key, ns, name)
        if sts is None or sts["metadata"].get("deletionTimestamp"):
            return None
        spec = sts.get("spec") or {}
        replicas = int(spec.get("replicas", 1))
        template = spec.get("template") or {}
        revision = f"{name}-{common.safe_hash(template)}"
        parallel = spec.get("podManagementPolicy") == "Parallel"
        pods = {p["metadata"]["name"]: p for p in common.owned(self.cluster, "/pods", sts)}
        for i in range(replicas):
            pname = f"{name}-{i}"
            pod = pods.get(pname)
            if pod is not None and (pod["metadata"].get("labels") or {}).get("controller-revision-hash") != revision \
                    and all(common.pod_ready(pods[f"{name}-{j}"]) for j in range(i + 1, replicas) if f"{name}-{j}" in pods):
                common.delete(self.cluster, self.pods, pod)  # rolling update: highest ordinal first
                self.events.emit(sts, "Normal", "SuccessfulDelete", f"delete Pod {pname} in StatefulSet {name} successful",
                                 "statefulset-controller")
                break
            if pod is None:
                self._claims(sts, i)
                volumes = [{"name": t["metadata"]["name"], "persistentVolumeClaim": {
                    "claimName": f"{t['metadata']['name']}-{name}-{i}"}} for t in spec.get("volumeClaimTemplates") or []]
                tmpl = copy.deepcopy(template)
                if volumes:
                    tspec = tmpl.setdefault("spec", {})
                    tspec["volumes"] = [v for v in tspec.get("volumes") or [] if v.get("name") not in
                                        {x["name"] for x in volumes}] + volumes
                extra = {"hostname": pname}
                if spec.get("serviceName"):
                    extra["subdomain"] = spec["serviceName"]
                made = common.create_pod(self.cluster, sts, tmpl, name=pname, extra_spec=extra, labels={
                    "controller-revision-hash": revision, "statefulset.kubernetes.io/pod-name": pname,
                    "apps.kubernetes.io/pod-index": str(i)})
                if made is not None:
                    self.events.emit(sts, "Normal", "SuccessfulCreate",
                                     f"create Pod {pname} in StatefulSet {name} successful", "statefulset-controller")
                if not parallel:
                    break
            elif not parallel and not common.pod_ready(pod):
                break
        for pname, pod in sorted(pods.items(), reverse=True):
            try:
                ordinal = int(pname.rsplit("-", 1)[1])
            except (IndexError, ValueError):
                continue
            if ordinal >= replicas:
                common.delete(self.cluster, self.pods, pod)
                self.events.emit(sts, "Normal", "SuccessfulDelete", f"delete Pod {pname} in StatefulSet {name} successful",
                                 "statefulset-controller")
                if not parallel:
                    break
        pods = [p for p in common.owned(self.cluster, "/pods", sts) if common.pod_active(p)]
        ready = sum(1 for p in pods if common.pod_ready(p))
        updated = sum(1 for p in pods if (p["metadata"].get("labels") or {}).get("controller-revision-hash") == revision)
        status = {"observedGeneration": sts["metadata"].get("generation", 1), "replicas": len(pods),
                  "readyReplicas": ready, "currentReplicas": updated, "updatedReplicas": updated,
                  "availableReplicas": ready, "currentRevision": revision, "updateRevision": revision,
                  "collisionCount": 0}
        status = {k: v for k, v in status.items() if v != 0 or k in ("replicas", "availableReplicas", "collisionCount")}
        common.write_status(self.cluster, self.rt, sts, status)
        return None

    def _claims(self, sts: dict[str, Any], ordinal: int) -> None:
        ns = sts["metadata"]["namespace"]
        for t in (sts.get("spec") or {}).get("volumeClaimTemplates") or []:
            cname = f"{t['metadata']['name']}-{sts['metadata']['name']}-{ordinal}"
            if self.cluster.store.get(self.pvcs.key, ns, cname) is not None:
                continue
            labels = dict(((sts.get("spec") or {}).get("selector") or {}).get("matchLabels") or {})
            body = {"metadata": {"name": cname, "labels": labels}, "spec": copy.deepcopy(t.get("spec") or {})}
            try:
                self.cluster.create(self.pvcs, ns, body, SYSTEM, WriteOptions(field_manager="kube-controller-manager"))
                self.events.emit(sts, "Normal", "SuccessfulCreate",
                                 f"create Claim {cname} Pod {sts['metadata']['name']}-{ordinal} in StatefulSet "
                                 f"{sts['metadata']['name']} success", "statefulset-controller")
            except ApiError:
                pass


class DaemonSetController:
    name = "daemonset"
    watches = ("apps/daemonsets", "/pods", "/nodes")

    def __init__(self, cluster: Cluster, events: EventRecorder) -> None:
        self.cluster = cluster
        self.events = events
        self.rt = cluster.rt("apps", "v1", "daemonsets")
        self.pods = cluster.rt("", "v1", "pods")

    def keys_for(self, resource: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> list[Hashable]:
        obj = new or old
        if resource == "apps/daemonsets":
            return [(obj["metadata"]["namespace"], obj["metadata"]["name"])]
        if resource == "/nodes":
            return [(d["metadata"]["namespace"], d["metadata"]["name"]) for d in self.cluster.store.list(self.rt.key)[0]]
        key = common.owner_key(obj, "DaemonSet")
        return [key] if key else []

    def _eligible(self, ds: dict[str, Any], node: dict[str, Any]) -> bool:
        pod = {"spec": (ds.get("spec") or {}).get("template", {}).get("spec") or {}}
        if not node_matches(pod, node):
            return False
        tolerations = list(pod["spec"].get("tolerations") or []) + [
            {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
            {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"}]
        return all(_tolerates(tolerations, t) for t in (node.get("spec") or {}).get("taints") or []
                   if t.get("effect") in ("NoSchedule", "NoExecute"))

    def reconcile(self, key: Hashable) -> float | None:
        ns, name = key  # type: ignore[misc]
        ds = self.cluster.store.get(self.rt.key, ns, name)
        if ds is None or ds["metadata"].get("deletionTimestamp"):
            return None
        template = (ds.get("spec") or {}).get("template") or {}
        revision = common.safe_hash(template)
        nodes = [n for n in self.cluster.store.list("/nodes")[0] if self._eligible(ds, n)]
        pods = [p for p in common.owned(self.cluster, "/pods", ds) if common.pod_active(p)]
        by_node: dict[str, dict[str, Any]] = {}
        for p in pods:
            target = _pinned_node(p)
            if target in by_node or target not in {n["metadata"]["name"] for n in nodes}:
                common.delete(self.cluster, self.pods, p)
                continue
            if (p["metadata"].get("labels") or {}).get("controller-revision-hash") != revision:
                common.delete(self.cluster, self.pods, p)
                continue
            by_node[target] = p
        for node in nodes:
            nname = node["metadata"]["name"]
            if nname in by_node:
                continue
            affinity = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [nname]}]}]}}}
            tmpl = copy.deepcopy(template)
            tolerations = list((tmpl.get("spec") or {}).get("tolerations") or []) + [
                {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
                {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"},
                {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"}]
            made = common.create_pod(self.cluster, ds, tmpl, extra_spec={"affinity": affinity, "tolerations": tolerations},
                                     labels={"controller-revision-hash": revision, "pod-template-generation":
                                             str(ds["metadata"].get("generation", 1))})
            if made is not None:
                self.events.emit(ds, "Normal", "SuccessfulCreate", f"Created pod: {made['metadata']['name']}",
                                 "daemonset-controller")
        pods = [p for p in common.owned(self.cluster, "/pods", ds) if common.pod_active(p)]
        ready = sum(1 for p in pods if common.pod_ready(p))
        status = {"currentNumberScheduled": len(pods), "desiredNumberScheduled": len(nodes), "numberMisscheduled": 0,
                  "numberReady": ready, "numberAvailable": ready, "updatedNumberScheduled": len(pods),
                  "observedGeneration": ds["metadata"].get("generation", 1)}
        if len(nodes) - ready:
            status["numberUnavailable"] = len(nodes) - ready
        common.write_status(self.cluster, self.rt, ds, status)
        return None


def _pinned_node(pod: dict[str, Any]) -> str:
    terms = ((((pod.get("spec") or {}).get("affinity") or {}).get("nodeAffinity") or {})
             .get("requiredDuringSchedulingIgnoredDuringExecution") or {}).get("nodeSelectorTerms") or []
    for t in terms:
        for f in t.get("matchFields") or []:
            if f.get("key") == "metadata.name" and f.get("values"):
                return f["values"][0]
    return (pod.get("spec") or {}).get("nodeName") or ""


class JobController:
    name = "job"
    watches = ("batch/jobs", "/pods")
    keys_for = _key_for_owner("Job", "batch/jobs")

    def __init__(self, cluster: Cluster, events: EventRecorder) -> None:
        self.cluster = cluster
        self.events = events
        self.rt = cluster.rt("batch", "v1", "jobs")
        self.pods = cluster.rt("", "v1", "pods")

    def reconcile(self, key: Hashable) -> float | None:
        ns, name = key  # type: ignore[misc]
        job = self.cluster.store.get(self.rt.key, ns, name)
        if job is None or job["metadata"].get("deletionTimestamp"):
            return None
        spec = job.get("spec") or {}
        status = copy.deepcopy(job.get("status") or {})
        conds = list(status.get("conditions") or [])
        finished = any(c.get("type") in ("Complete", "Failed") and c.get("status") == "True" for c in conds)
        now = self.cluster.clock.rfc3339()
        pods = common.owned(self.cluster, "/pods", job)
        succeeded = sum(1 for p in pods if (p.get("status") or {}).get("phase") == "Succeeded")
        failed = sum(1 for p in pods if (p.get("status") or {}).get("phase") == "Failed")
        failed += sum(c.get("restartCount", 0) for p in pods for c in (p.get("status") or {}).get("containerStatuses") or [])
        active = [p for p in pods if common.pod_active(p)]
        completions = spec.get("completions")
        parallelism = int(spec.get("parallelism", 1))
        backoff_limit = int(spec.get("backoffLimit", 6))
        if not finished and not spec.get("suspend"):
            status.setdefault("startTime", now)
            if failed > backoff_limit:
                for p in active:
                    common.delete(self.cluster, self.pods, p)
                active = []
                conds = common.condition(conds, "FailureTarget", "True", "BackoffLimitExceeded",
                                         "Job has reached the specified backoff limit", now, update_time=False)
                conds = common.condition(conds, "Failed", "True", "BackoffLimitExceeded",
                                         "Job has reached the specified backoff limit", now, update_time=False)
                self.events.emit(job, "Warning", "BackoffLimitExceeded", "Job has reached the specified backoff limit",
                                 "job-controller")
                finished = True
            elif (completions is not None and succeeded >= int(completions)) or \
                    (completions is None and succeeded >= 1 and not active):
                conds = common.condition(conds, "SuccessCriteriaMet", "True", "CompletionsReached",
                                         "Reached expected number of succeeded pods", now, update_time=False)
                conds = common.condition(conds, "Complete", "True", "CompletionsReached",
                                         "Reached expected number of succeeded pods", now, update_time=False)
                status["completionTime"] = now
                self.events.emit(job, "Normal", "Completed", "Job completed", "job-controller")
                finished = True
            else:
                remaining = (int(completions) - succeeded) if completions is not None else 1
                want = min(parallelism, max(remaining, 0))
                for _ in range(max(want - len(active), 0)):
                    labels = {"batch.kubernetes.io/controller-uid": job["metadata"]["uid"],
                              "batch.kubernetes.io/job-name": name, "controller-uid": job["metadata"]["uid"],
                              "job-name": name}
                    made = common.create_pod(self.cluster, job, spec.get("template") or {}, labels=labels)
                    if made is not None:
                        self.events.emit(job, "Normal", "SuccessfulCreate", f"Created pod: {made['metadata']['name']}",
                                         "job-controller")
                active = [p for p in common.owned(self.cluster, "/pods", job) if common.pod_active(p)]
        status["conditions"] = conds
        if not conds:
            del status["conditions"]
        status["active"] = len(active)
        status["ready"] = sum(1 for p in active if common.pod_ready(p))
        status["succeeded"] = succeeded
        status["failed"] = failed
        status["terminating"] = 0
        status["uncountedTerminatedPods"] = {}
        for k in ("active", "succeeded", "failed"):
            if not status[k]:
                del status[k]
        common.write_status(self.cluster, self.rt, job, status)
        return None


def cron_matches(expr: str, t: datetime) -> bool:
    """Standard five-field cron (minute hour day month weekday) plus @hourly/@daily/... macros."""
    macros = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
              "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *"}
    fields = macros.get(expr.strip(), expr).split()
    if len(fields) != 5:
        return False
    values = (t.minute, t.hour, t.day, t.month, (t.weekday() + 1) % 7)
    ranges = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6))

    def match(field: str, v: int, lo: int, hi: int) -> bool:
        for part in field.split(","):
            step = 1
            if "/" in part:
                part, s = part.split("/", 1)
                step = int(s)
            if part in ("*", "?"):
                a, b = lo, hi
            elif "-" in part:
                a, b = (int(x) for x in part.split("-", 1))
            else:
                a = b = int(part)
                if step != 1:
                    b = hi
            if a <= v <= b and (v - a) % step == 0:
                return True
        return False

    try:
        return all(match(f, v, lo, hi) for f, v, (lo, hi) in zip(fields, values, ranges, strict=True))
    except ValueError:
        return False


class CronJobController:
    name = "cronjob"
    watches = ("batch/cronjobs", "batch/jobs")

    def __init__(self, cluster: Cluster, events: EventRecorder) -> None:
        self.cluster = cluster
        self.events = events
        self.rt = cluster.rt("batch", "v1", "cronjobs")
        self.jobs = cluster.rt("batch", "v1", "jobs")

    def keys_for(self, resource: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> list[Hashable]:
        obj = new or old
        if resource == "batch/cronjobs":
            return [(obj["metadata"]["namespace"], obj["metadata"]["name"])]
        key = common.owner_key(obj, "CronJob")
        return [key] if key else []

    def reconcile(self, key: Hashable) -> float | None:
        ns, name = key  # type: ignore[misc]
        cj = self.cluster.store.get(self.rt.key, ns, name)
        if cj is None or cj["metadata"].get("deletionTimestamp"):
            return None
        spec = cj.get("spec") or {}
        now = self.cluster.clock.now().replace(second=0, microsecond=0)
        status = copy.deepcopy(cj.get("status") or {})
        jobs = sorted(common.owned(self.cluster, self.jobs.key, cj), key=lambda j: j["metadata"]["name"])
        active = [j for j in jobs if not any(c.get("type") in ("Complete", "Failed") and c.get("status") == "True"
                                             for c in (j.get("status") or {}).get("conditions") or [])]
        last = status.get("lastScheduleTime")
        last_dt = datetime.strptime(last, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC) if last else None
        created = datetime.strptime(cj["metadata"]["creationTimestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        due = None
        t = now
        floor = max(last_dt or created, now - timedelta(hours=2))
        while t > floor:
            if cron_matches(spec.get("schedule", ""), t):
                due = t
                break
            t -= timedelta(minutes=1)
        if due is not None and not spec.get("suspend"):
            policy = spec.get("concurrencyPolicy", "Allow")
            if active and policy == "Forbid":
                pass
            else:
                if active and policy == "Replace":
                    for j in active:
                        common.delete(self.cluster, self.jobs, j)
                jname = f"{name}-{int(due.timestamp() // 60)}"
                tmpl = copy.deepcopy(spec.get("jobTemplate") or {})
                body = {"metadata": {"name": jname, "labels": (tmpl.get("metadata") or {}).get("labels") or {},
                                     "annotations": {"batch.kubernetes.io/cronjob-scheduled-timestamp":
                                                     due.strftime("%Y-%m-%dT%H:%M:%SZ")},
                                     "ownerReferences": [common.controller_ref(cj)]},
                        "spec": tmpl.get("spec") or {}}
                try:
                    self.cluster.create(self.jobs, ns, body, SYSTEM, WriteOptions(field_manager="cronjob-controller"))
                    self.events.emit(cj, "Normal", "SuccessfulCreate", f"Created job {jname}", "cronjob-controller")
                except ApiError:
                    pass
                status["lastScheduleTime"] = due.strftime("%Y-%m-%dT%H:%M:%SZ")
        jobs = sorted(common.owned(self.cluster, self.jobs.key, cj), key=lambda j: j["metadata"]["name"])
        done_ok = [j for j in jobs if any(c.get("type") == "Complete" and c.get("status") == "True"
                                          for c in (j.get("status") or {}).get("conditions") or [])]
        done_bad = [j for j in jobs if any(c.get("type") == "Failed" and c.get("status") == "True"
                                           for c in (j.get("status") or {}).get("conditions") or [])]
        for old_jobs, limit in ((done_ok, spec.get("successfulJobsHistoryLimit", 3)),
                                (done_bad, spec.get("failedJobsHistoryLimit", 1))):
            for j in old_jobs[: max(len(old_jobs) - int(limit), 0)]:
                common.delete(self.cluster, self.jobs, j)
        if done_ok:
            status["lastSuccessfulTime"] = (done_ok[-1].get("status") or {}).get("completionTime")
        active = [j for j in jobs if j not in done_ok and j not in done_bad]
        status["active"] = [{"kind": "Job", "namespace": ns, "name": j["metadata"]["name"], "uid": j["metadata"]["uid"],
                             "apiVersion": "batch/v1", "resourceVersion": j["metadata"].get("resourceVersion")}
                            for j in active]
        if not status["active"]:
            del status["active"]
        common.write_status(self.cluster, self.rt, cj, status)
        real_now = self.cluster.clock.now()
        return 60.0 - real_now.second - real_now.microsecond / 1e6 + 0.05
