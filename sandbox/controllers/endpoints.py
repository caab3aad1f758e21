"""Endpoints and EndpointSlice controllers: a Service's selector over ready pods, with named target ports."""

from __future__ import annotations

import copy
from collections.abc import Hashable
from typing import Any

from sandbox.cluster import SYSTEM, Cluster, WriteOptions
from sandbox.controllers import common
from sandbox.errors import ApiError
from sandbox.selectors import labels_match


def _target_port(svc_port: dict[str, Any], pod: dict[str, Any]) -> int | None:
    tp = svc_port.get("targetPort", svc_port.get("port"))
    if isinstance(tp, int):
        return tp
    if isinstance(tp, str) and tp.isdigit():
        return int(tp)
    for c in (pod.get("spec") or {}).get("containers") or []:
        for p in c.get("ports") or []:
            if p.get("name") == tp:
                return p.get("containerPort")
    return None


class EndpointsController:
    name = "endpoints"
    watches = ("/services", "/pods")

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.ep_rt = cluster.rt("", "v1", "endpoints")
        self.slice_rt = cluster.rt("discovery.k8s.io", "v1", "endpointslices")
        self._opts = WriteOptions(field_manager="endpoint-controller")

    def keys_for(self, resource: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> list[Hashable]:
        obj = new or old
        ns = obj["metadata"].get("namespace")
        if resource == "/services":
            return [(ns, obj["metadata"]["name"])]
        labels = [(o["metadata"].get("labels") or {}) for o in (old, new) if o is not None]
        out = []
        for svc in self.cluster.store.list("/services", ns)[0]:
            sel = (svc.get("spec") or {}).get("selector")
            if sel and any(all(lb.get(k) == v for k, v in sel.items()) for lb in labels):
                out.append((ns, svc["metadata"]["name"]))
        return out

    def reconcile(self, key: Hashable) -> float | None:
        ns, name = key  # type: ignore[misc]
        svc = self.cluster.store.get("/services", ns, name)
        if svc is None:
            for rt, nm in ((self.ep_rt, name), (self.slice_rt, None)):
                for obj in self.cluster.store.list(rt.key, ns)[0]:
                    if (nm and obj["metadata"]["name"] == nm and rt is self.ep_rt) or \
                            (rt is self.slice_rt and (obj["metadata"].get("labels") or {}).get("kubernetes.io/service-name") == name):
                        common.delete(self.cluster, rt, obj)
            return None
        selector = (svc.get("spec") or {}).get("selector")
        if not selector:
            return None  # a Service without selector has user-managed endpoints
        reqs = [(k, "=", (v,)) for k, v in selector.items()]
        pods = [p for p in self.cluster.store.list("/pods", ns)[0]
                if labels_match(reqs, p["metadata"].get("labels")) and (p.get("status") or {}).get("podIP")
                and common.pod_active(p)]
        ports = [p for p in (svc.get("spec") or {}).get("ports") or [] if isinstance(p, dict)]
        subsets: dict[tuple, dict[str, Any]] = {}
        slice_eps = []
        for pod in sorted(pods, key=lambda p: (p["status"]["podIP"], p["metadata"]["name"])):
            ready = common.pod_ready(pod)
            addr = {"ip": pod["status"]["podIP"], "nodeName": pod["spec"].get("nodeName"),
                    "targetRef": {"kind": "Pod", "namespace": ns, "name": pod["metadata"]["name"],
                                  "uid": pod["metadata"]["uid"]}}
            eports = tuple((p.get("name", ""), _target_port(p, pod), p.get("protocol", "TCP")) for p in ports)
            subset = subsets.setdefault(eports, {"addresses": [], "notReadyAddresses": []})
            subset["addresses" if ready else "notReadyAddresses"].append(addr)
            slice_eps.append({"addresses": [pod["status"]["podIP"]],
                              "conditions": {"ready": ready, "serving": ready, "terminating": False},
                              "nodeName": pod["spec"].get("nodeName"), "targetRef": addr["targetRef"]})
        ep_subsets = []
        for eports, sub in subsets.items():
            entry: dict[str, Any] = {}
            if sub["addresses"]:
                entry["addresses"] = sub["addresses"]
            if sub["notReadyAddresses"]:
                entry["notReadyAddresses"] = sub["notReadyAddresses"]
            entry["ports"] = [{k: v for k, v in (("name", n), ("port", p), ("protocol", proto)) if v not in ("", None)}
                              for n, p, proto in eports if p is not None]
            ep_subsets.append(entry)
        labels = dict(svc["metadata"].get("labels") or {})
        ep = {"metadata": {"name": name, "labels": labels}, **({"subsets": ep_subsets} if ep_subsets else {})}
        self._put(self.ep_rt, ns, name, ep)
        slice_ports = [{k: v for k, v in (("name", p.get("name", "")), ("port", _target_port(p, pods[0]) if pods else None),
                                          ("protocol", p.get("protocol", "TCP"))) if v is not None} for p in ports]
        slice_name = f"{name}-{common.safe_hash(['slice', ns, name], 5)}"
        es = {"metadata": {"name": slice_name,
                           "labels": {**labels, "kubernetes.io/service-name": name,
                                      "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"},
                           "ownerReferences": [common.controller_ref(svc)]},
              "addressType": "IPv4", "endpoints": slice_eps, "ports": slice_ports}
        self._put(self.slice_rt, ns, slice_name, es)
        return None

    def _put(self, rt: Any, ns: str, name: str, body: dict[str, Any]) -> None:
        current = self.cluster.store.get(rt.key, ns, name)
        try:
            if current is None:
                self.cluster.create(rt, ns, body, SYSTEM, self._opts)
                return
            new = copy.deepcopy(current)
            for k in ("subsets", "endpoints", "ports", "addressType"):
                new.pop(k, None)
            new.update({k: v for k, v in body.items() if k != "metadata"})
            new["metadata"]["labels"] = body["metadata"]["labels"]
            new["metadata"].pop("resourceVersion", None)
            self.cluster.update(rt, ns, name, new, SYSTEM, self._opts)
        except ApiError:
            pass
