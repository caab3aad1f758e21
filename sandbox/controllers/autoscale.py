"""HorizontalPodAutoscaler (autoscaling/v2) from the simulated metrics, and PersistentVolumeClaim binding
through the default StorageClass (dynamic provisioning, WaitForFirstConsumer, expansion).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Hashable
from typing import Any

from sandbox.cluster import SYSTEM, Cluster, WriteOptions
from sandbox.controllers import common, quantity
from sandbox.controllers.events import EventRecorder
from sandbox.errors import ApiError
from sandbox.selectors import labels_match, parse_label_selector

TOLERANCE = 0.1
SYNC_PERIOD = 15.0
DOWNSCALE_WINDOW = 300.0

Usage = Callable[[dict[str, Any]], dict[str, tuple[int, int]]]


class HPAController:
    name = "hpa"
    watches = ("autoscaling/horizontalpodautoscalers",)

    def __init__(self, cluster: Cluster, events: EventRecorder, usage: Usage) -> None:
        self.cluster = cluster
        self.events = events
        self.usage = usage
        self.rt = cluster.rt("autoscaling", "v2", "horizontalpodautoscalers")
        self._recommendations: dict[Hashable, list[tuple[float, int]]] = {}

    def keys_for(self, resource: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> list[Hashable]:
        obj = new or old
        return [(obj["metadata"]["namespace"], obj["metadata"]["name"])]

    def reconcile(self, key: Hashable) -> float | None:
        ns, name = key  # type: ignore[misc]
        hpa = self.cluster.store.get(self.rt.key, ns, name)
        if hpa is None:
            self._recommendations.pop(key, None)
            return None
        spec = hpa.get("spec") or {}
        ref = spec.get("scaleTargetRef") or {}
        group = (ref.get("apiVersion") or "apps/v1").rpartition("/")[0]
        version = (ref.get("apiVersion") or "apps/v1").rpartition("/")[2]
        target_rt = self.cluster.registry.by_kind(group, version, ref.get("kind", ""))
        now_s = self.cluster.clock.rfc3339()
        conds = list((hpa.get("status") or {}).get("conditions") or [])
        if target_rt is None or "scale" not in target_rt.subresources:
            conds = common.condition(conds, "AbleToScale", "False", "FailedGetScale",
                                     f"the HPA controller was unable to get the target's current scale: no matches for kind \"{ref.get('kind')}\"",
                                     now_s, update_time=False)
            common.write_status(self.cluster, self.rt, hpa, dict(hpa.get("status") or {}, conditions=conds))
            return SYNC_PERIOD
        try:
            scale = self.cluster.get_scale(target_rt, ns, ref.get("name", ""))
        except ApiError as e:
            conds = common.condition(conds, "AbleToScale", "False", "FailedGetScale",
                                     f"the HPA controller was unable to get the target's current scale: {e.message}",
                                     now_s, update_time=False)
            common.write_status(self.cluster, self.rt, hpa, dict(hpa.get("status") or {}, conditions=conds))
            return SYNC_PERIOD
        current = int(scale["spec"]["replicas"])
        selector = parse_label_selector(scale["status"].get("selector", ""))
        pods = [p for p in self.cluster.store.list("/pods", ns)[0]
                if selector and labels_match(selector, p["metadata"].get("labels")) and common.pod_active(p)
                and (p.get("status") or {}).get("phase") == "Running"]
        desired = current
        current_metrics = []
        reason_text = ""
        able = True
        for metric in spec.get("metrics") or []:
            if metric.get("type") != "Resource":
                continue
            res = (metric.get("resource") or {})
            rname = res.get("name", "cpu")
            target = res.get("target") or {}
            used = requested = 0
            for p in pods:
                for cname, (cpu, mem) in self.usage(p).items():
                    used += cpu if rname == "cpu" else mem
                    c = next((c for c in p["spec"].get("containers") or [] if c.get("name") == cname), {})
                    req = ((c.get("resources") or {}).get("requests") or {}).get(rname)
                    requested += (quantity.millicores(req) if rname == "cpu" else quantity.bytes_(req)) if req else 0
            if not pods:
                able = False
                continue
            if target.get("type") == "Utilization":
                if not requested:
                    able = False
                    reason_text = f"failed to get {rname} utilization: missing request for {rname}"
                    continue
                util = 100.0 * used / requested
                ratio = util / float(target.get("averageUtilization", 80))
                current_metrics.append({"type": "Resource", "resource": {"name": rname, "current": {
                    "averageUtilization": int(round(util)),
                    "averageValue": f"{used // max(len(pods), 1)}m" if rname == "cpu" else str(used // max(len(pods), 1))}}})
            else:
                avg = used / max(len(pods), 1)
                want = quantity.parse(target.get("averageValue", "0")) * (1000 if rname == "cpu" else 1)
                ratio = avg / want if want else 1.0
                current_metrics.append({"type": "Resource", "resource": {"name": rname, "current": {
                    "averageValue": f"{int(avg)}m" if rname == "cpu" else str(int(avg))}}})
            if abs(ratio - 1.0) > TOLERANCE:
                proposal = math.ceil(ratio * len(pods))
                if proposal > desired or desired == current:
                    desired = proposal
                    reason_text = f"{rname} resource utilization (percentage of request) {'above' if ratio > 1 else 'below'} target"
        lo, hi = int(spec.get("minReplicas", 1)), int(spec.get("maxReplicas", 1))
        limited = desired > hi or desired < lo
        desired = min(max(desired, lo), hi)
        now = self.cluster.clock.time()
        recs = [(t, r) for t, r in self._recommendations.get(key, []) if now - t <= DOWNSCALE_WINDOW]
        recs.append((now, desired))
        self._recommendations[key] = recs
        if desired < current:
            desired = max(r for _, r in recs)  # scale-down stabilization window
        status = copy.deepcopy(hpa.get("status") or {})
        if desired != current and able:
            try:
                self.cluster.set_scale(target_rt, ns, ref.get("name", ""), {"spec": {"replicas": desired}}, SYSTEM,
                                       WriteOptions(field_manager="horizontal-pod-autoscaler"))
                self.events.emit(hpa, "Normal", "SuccessfulRescale",
                                 f"New size: {desired}; reason: {reason_text or 'All metrics below target'}",
                                 "horizontal-pod-autoscaler")
                status["lastScaleTime"] = now_s
            except ApiError:
                pass
        conds = common.condition(conds, "AbleToScale", "True", "ReadyForNewScale" if desired == current else "SucceededRescale",
                                 "recommended size matches current size" if desired == current else
                                 f"the HPA controller was able to update the target scale to {desired}", now_s,
                                 update_time=False)
        conds = common.condition(conds, "ScalingActive", "True" if able else "False",
                                 "ValidMetricFound" if able else "FailedGetResourceMetric",
                                 "the HPA was able to successfully calculate a replica count from cpu resource "
                                 "utilization (percentage of request)" if able else (reason_text or "no metrics"),
                                 now_s, update_time=False)
        conds = common.condition(conds, "ScalingLimited", "True" if limited else "False",
                                 "TooManyReplicas" if limited else "DesiredWithinRange",
                                 "the desired replica count is more than the maximum replica count" if limited else
                                 "the desired count is within the acceptable range", now_s, update_time=False)
        status.update({"currentReplicas": current, "desiredReplicas": desired, "conditions": conds})
        if current_metrics:
            status["currentMetrics"] = current_metrics
        common.write_status(self.cluster, self.rt, hpa, status, "horizontal-pod-autoscaler")
        return SYNC_PERIOD


class VolumeController:
    name = "volumes"
    watches = ("/persistentvolumeclaims", "/pods")

    def __init__(self, cluster: Cluster, events: EventRecorder) -> None:
        self.cluster = cluster
        self.events = events
        self.pvc_rt = cluster.rt("", "v1", "persistentvolumeclaims")
        self.pv_rt = cluster.rt("", "v1", "persistentvolumes")

    def keys_for(self, resource: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> list[Hashable]:
        obj = new or old
        ns = obj["metadata"].get("namespace")
        if resource == "/persistentvolumeclaims":
            return [(ns, obj["metadata"]["name"])]
        if new is None or not (new.get("spec") or {}).get("nodeName"):
            return []
        return [(ns, (v.get("persistentVolumeClaim") or {}).get("claimName")) for v in (new.get("spec") or {}).get("volumes") or []
                if (v.get("persistentVolumeClaim") or {}).get("claimName")]

    def _default_class(self) -> dict[str, Any] | None:
        for sc in self.cluster.store.list("storage.k8s.io/storageclasses")[0]:
            if (sc["metadata"].get("annotations") or {}).get("storageclass.kubernetes.io/is-default-class") == "true":
                return sc
        return None

    def reconcile(self, key: Hashable) -> float | None:
        ns, name = key  # type: ignore[misc]
        pvc = self.cluster.store.get(self.pvc_rt.key, ns, name)
        if pvc is None or pvc["metadata"].get("deletionTimestamp"):
            return None
        spec = pvc.get("spec") or {}
        sc_name = spec.get("storageClassName")
        if sc_name is None:
            sc = self._default_class()
            if sc is not None:
                pvc = common.patch_spec(self.cluster, self.pvc_rt, pvc, {"spec": {"storageClassName": sc["metadata"]["name"]}},
                                        "persistentvolume-controller") or pvc
                sc_name = sc["metadata"]["name"]
        sc = self.cluster.store.get("storage.k8s.io/storageclasses", "", sc_name) if sc_name else None
        status = pvc.get("status") or {}
        requested = ((spec.get("resources") or {}).get("requests") or {}).get("storage", "1Gi")
        if status.get("phase") == "Bound":
            cap = (status.get("capacity") or {}).get("storage")
            if cap and quantity.bytes_(requested) > quantity.bytes_(cap) and sc and sc.get("allowVolumeExpansion"):
                pv = self.cluster.store.get(self.pv_rt.key, "", spec.get("volumeName", ""))
                if pv is not None:
                    common.patch_spec(self.cluster, self.pv_rt, pv, {"spec": {"capacity": {"storage": requested}}},
                                      "persistentvolume-controller")
                common.write_status(self.cluster, self.pvc_rt, pvc, dict(status, capacity={"storage": requested}),
                                    "persistentvolume-controller")
                self.events.emit(pvc, "Normal", "VolumeResizeSuccessful", "MountVolume.NodeExpandVolume succeeded for "
                                 f"volume \"{spec.get('volumeName')}\"", "kubelet")
            return None
        if sc is None:
            if sc_name:
                self.events.emit(pvc, "Warning", "ProvisioningFailed", f'storageclass.storage.k8s.io "{sc_name}" not found',
                                 "persistentvolume-controller")
            else:
                self.events.emit(pvc, "Normal", "FailedBinding",
                                 "no persistent volumes available for this claim and no storage class is set",
                                 "persistentvolume-controller")
            return None
        if sc.get("volumeBindingMode") == "WaitForFirstConsumer":
            consumer = next((p for p in self.cluster.store.list("/pods", ns)[0] if (p.get("spec") or {}).get("nodeName")
                             and any((v.get("persistentVolumeClaim") or {}).get("claimName") == name
                                     for v in (p.get("spec") or {}).get("volumes") or [])), None)
            if consumer is None:
                self.events.emit(pvc, "Normal", "WaitForFirstConsumer",
                                 "waiting for first consumer to be created before binding", "persistentvolume-controller")
                return None
        pv_name = f"pvc-{pvc['metadata']['uid']}"
        access = spec.get("accessModes") or ["ReadWriteOnce"]
        pv = {"metadata": {"name": pv_name, "annotations": {"pv.kubernetes.io/provisioned-by": sc.get("provisioner", "")},
                           "finalizers": ["kubernetes.io/pv-protection"]},
              "spec": {"capacity": {"storage": requested}, "accessModes": access,
                       "persistentVolumeReclaimPolicy": sc.get("reclaimPolicy", "Delete"), "storageClassName": sc_name,
                       "volumeMode": spec.get("volumeMode", "Filesystem"),
                       "hostPath": {"path": f"/var/local-path-provisioner/{pv_name}_{ns}_{name}", "type": "DirectoryOrCreate"},
                       "claimRef": {"kind": "PersistentVolumeClaim", "namespace": ns, "name": name,
                                    "uid": pvc["metadata"]["uid"], "apiVersion": "v1"}}}
        try:
            if self.cluster.store.get(self.pv_rt.key, "", pv_name) is None:
                made = self.cluster.create(self.pv_rt, "", pv, SYSTEM, WriteOptions(field_manager="persistentvolume-controller")).obj
                common.write_status(self.cluster, self.pv_rt, made, {"phase": "Bound"}, "persistentvolume-controller")
            self.events.emit(pvc, "Normal", "ProvisioningSucceeded",
                             f"Successfully provisioned volume {pv_name}", sc.get("provisioner", "") or "persistentvolume-controller")
            pvc = common.patch_spec(self.cluster, self.pvc_rt, pvc, {"spec": {"volumeName": pv_name}},
                                    "persistentvolume-controller") or pvc
            common.write_status(self.cluster, self.pvc_rt, pvc, {"phase": "Bound", "accessModes": access,
                                                                  "capacity": {"storage": requested}},
                                "persistentvolume-controller")
        except ApiError:
            pass
        return None
