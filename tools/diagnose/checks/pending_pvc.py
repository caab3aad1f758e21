"""pending_pvc: PersistentVolumeClaims that stay Pending.

Reads the claim's events (ProvisioningFailed, FailedBinding) and its StorageClass: a class that does not exist,
no class and no default, or no PersistentVolume that fits. A claim waiting for its first consumer
(WaitForFirstConsumer) with no pod using it is normal and not reported. A claim's storageClassName cannot be
changed once set, so the proposal says what to recreate rather than patching.
"""

from __future__ import annotations

from typing import Any

from tools.diagnose import util
from tools.diagnose.base import Finding, Snapshot, register


@register
class PendingPvcCheck:
    name = "pending_pvc"
    kinds = ("PersistentVolumeClaim",)

    def run(self, snapshot: Snapshot) -> list[Finding]:
        out = []
        for pvc in snapshot.pvcs:
            if (pvc.get("status") or {}).get("phase") != "Pending":
                continue
            ns, name = util.ns_of(pvc), util.name_of(pvc)
            users = [p for p in snapshot.pods if util.ns_of(p) == ns and any(
                (v.get("persistentVolumeClaim") or {}).get("claimName") == name
                for v in (p.get("spec") or {}).get("volumes") or [])]
            events = snapshot.events_for("PersistentVolumeClaim", ns, name)
            sc_name = (pvc.get("spec") or {}).get("storageClassName")
            sc = snapshot.get("storageclasses", "", sc_name) if sc_name else None
            waiting = sc is not None and sc.get("volumeBindingMode") == "WaitForFirstConsumer"
            if waiting and not any((p.get("spec") or {}).get("nodeName") for p in users):
                continue  # binds when a consumer is scheduled; an unscheduled consumer is its own finding
            out.append(self._finding(snapshot, pvc, sc_name, sc, events, users))
        return out

    def _finding(self, snapshot: Snapshot, pvc: dict[str, Any], sc_name: str | None, sc: dict[str, Any] | None,
                 events: list[dict[str, Any]], users: list[dict[str, Any]]) -> Finding:
        ns, name = util.ns_of(pvc), util.name_of(pvc)
        spec = pvc.get("spec") or {}
        size = ((spec.get("resources") or {}).get("requests") or {}).get("storage", "?")
        evidence = [f"PersistentVolumeClaim {ns}/{name}: phase Pending, storageClassName "
                    f"{sc_name or '(none)'}, requests {size}, accessModes {','.join(spec.get('accessModes') or [])}"]
        for e in events[-2:]:
            evidence.append(f"event {e.get('reason')} (x{e.get('count', 1)}): {e.get('message', '')}")
        default = next((util.name_of(s) for s in snapshot.storageclasses if (util.meta(s).get("annotations") or {}).get(
            "storageclass.kubernetes.io/is-default-class") == "true"), None)
        classes = sorted(util.name_of(s) for s in snapshot.storageclasses)
        evidence.append(f"StorageClasses: {', '.join(classes) or '(none)'}" + (f" (default {default})" if default else ""))
        f = Finding(check=self.name, severity="warning" if not users else "critical", kind="PersistentVolumeClaim",
                    namespace=ns, name=name, reason="PVCPending",
                    summary=f"PersistentVolumeClaim {ns}/{name} is Pending"
                            + (f"; {len(users)} pod(s) wait for it" if users else ""),
                    evidence=evidence, related=[util.ref("Pod", ns, util.name_of(p)) for p in users])
        if sc_name and sc is None:
            close = [c for c in classes if util.near(c, sc_name)]
            better = close[0] if len(close) == 1 else default
            f.root_cause = f"StorageClass {sc_name} does not exist, so nothing provisions a volume for the claim"
            f.suggested_fix = (f"recreate the claim with storageClassName {better}" if better else
                               f"create StorageClass {sc_name} or recreate the claim with an existing class") + \
                " (storageClassName cannot be changed on an existing claim)"
        elif not sc_name and not default:
            f.root_cause = "the claim names no StorageClass and the cluster has no default one"
            f.suggested_fix = ("set storageClassName (recreate the claim) or mark a StorageClass as default"
                               + (f"; classes: {', '.join(classes)}" if classes else ""))
        else:
            msgs = " ".join(e.get("message", "") for e in events[-2:])
            f.root_cause = "no PersistentVolume can be provisioned or bound for it" + (f": {msgs}" if msgs else "")
            f.suggested_fix = "check the provisioner's health, the requested size and access modes against the class"
            f.confidence = "low"
        return f
