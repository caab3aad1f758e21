"""Resource metrics of the sandbox: metrics.k8s.io (what `kubectl top` reads) and a Prometheus exposition with
cAdvisor- and kube-state-metrics-style series, all computed from the kubelet model.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from typing import Any

from sandbox.controllers import quantity
from sandbox.resources import ResourceType

NODE_METRICS = ResourceType(group="metrics.k8s.io", version="v1beta1", kind="NodeMetrics", plural="nodes",
                            singular="", namespaced=False, verbs=("get", "list"), subresources=())
POD_METRICS = ResourceType(group="metrics.k8s.io", version="v1beta1", kind="PodMetrics", plural="pods",
                           singular="", namespaced=True, verbs=("get", "list"), subresources=())

Usage = Callable[[dict[str, Any]], dict[str, tuple[int, int]]]

SYSTEM_OVERHEAD = (120, 600 * 1024 * 1024)  # kubelet, runtime and OS on every node: (millicores, bytes)
# The client libraries' default histogram buckets (seconds), as an instrumented HTTP server exports them.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    def __init__(self, store: Any, clock: Any, usage: Usage) -> None:
        self.store = store
        self.clock = clock
        self.usage = usage

    def _pod_metrics(self, pod: dict[str, Any]) -> dict[str, Any] | None:
        used = self.usage(pod)
        if not used:
            return None
        meta = pod["metadata"]
        return {"kind": "PodMetrics", "apiVersion": "metrics.k8s.io/v1beta1",
                "metadata": {"name": meta["name"], "namespace": meta["namespace"], "labels": meta.get("labels") or {},
                             "creationTimestamp": self.clock.rfc3339()},
                "timestamp": self.clock.rfc3339(), "window": "15s",
                "containers": [{"name": n, "usage": {"cpu": f"{cpu * 1_000_000}n", "memory": f"{mem // 1024}Ki"}}
                               for n, (cpu, mem) in used.items()]}

    def pods(self, namespace: str | None) -> list[dict[str, Any]]:
        out = []
        for pod in self.store.list("/pods", namespace)[0]:
            m = self._pod_metrics(pod)
            if m is not None:
                out.append(m)
        return out

    def node_usage(self) -> dict[str, tuple[int, int]]:
        totals: dict[str, tuple[int, int]] = {}
        for pod in self.store.list("/pods")[0]:
            node = (pod.get("spec") or {}).get("nodeName")
            if not node:
                continue
            cpu = sum(c for c, _ in self.usage(pod).values())
            mem = sum(m for _, m in self.usage(pod).values())
            a, b = totals.get(node, SYSTEM_OVERHEAD)
            totals[node] = (a + cpu, b + mem)
        return totals

    def nodes(self) -> list[dict[str, Any]]:
        totals = self.node_usage()
        out = []
        for node in self.store.list("/nodes")[0]:
            name = node["metadata"]["name"]
            cpu, mem = totals.get(name, SYSTEM_OVERHEAD)
            out.append({"kind": "NodeMetrics", "apiVersion": "metrics.k8s.io/v1beta1",
                        "metadata": {"name": name, "labels": node["metadata"].get("labels") or {},
                                     "creationTimestamp": self.clock.rfc3339()},
                        "timestamp": self.clock.rfc3339(), "window": "20s",
                        "usage": {"cpu": f"{cpu * 1_000_000}n", "memory": f"{mem // 1024}Ki"}})
        return out

    def list(self, rt: ResourceType, namespace: str | None) -> list[dict[str, Any]]:
        return self.nodes() if rt is NODE_METRICS else self.pods(namespace)

    def prometheus(self, restarts: Callable[[dict[str, Any]], dict[str, int]] | None = None) -> str:
        """Exposition text: container_* (cAdvisor) and kube_* (kube-state-metrics) series."""
        now_ms = int(self.clock.time() * 1000)
        lines: list[str] = []

        def family(name: str, typ: str, help_: str) -> None:
            lines.append(f"# HELP {name} {help_}")
            lines.append(f"# TYPE {name} {typ}")

        def lbl(**kv: str) -> str:
            return "{" + ",".join(f'{k}="{str(v).replace(chr(34), chr(39))}"' for k, v in kv.items()) + "}"

        pods = self.store.list("/pods")[0]
        family("container_cpu_usage_seconds_total", "counter", "Cumulative cpu time consumed in seconds.")
        for pod in pods:
            start = _started(pod)
            for cname, (cpu, _) in self.usage(pod).items():
                secs = cpu / 1000.0 * max(self.clock.time() - start, 0.0)
                lines.append(f"container_cpu_usage_seconds_total{lbl(namespace=pod['metadata']['namespace'], pod=pod['metadata']['name'], container=cname, node=pod['spec'].get('nodeName', ''))} {secs:.6f} {now_ms}")
        family("container_memory_working_set_bytes", "gauge", "Current working set in bytes.")
        for pod in pods:
            for cname, (_, mem) in self.usage(pod).items():
                lines.append(f"container_memory_working_set_bytes{lbl(namespace=pod['metadata']['namespace'], pod=pod['metadata']['name'], container=cname, node=pod['spec'].get('nodeName', ''))} {mem} {now_ms}")
        family("kube_pod_container_status_restarts_total", "counter", "The number of container restarts per container.")
        for pod in pods:
            for cs in (pod.get("status") or {}).get("containerStatuses") or []:
                lines.append(f"kube_pod_container_status_restarts_total{lbl(namespace=pod['metadata']['namespace'], pod=pod['metadata']['name'], container=cs.get('name', ''))} {cs.get('restartCount', 0)}")
        family("kube_pod_container_status_waiting_reason", "gauge", "Describes the reason the container is currently in waiting state.")
        for pod in pods:
            for cs in (pod.get("status") or {}).get("containerStatuses") or []:
                waiting = (cs.get("state") or {}).get("waiting")
                if waiting:
                    lines.append(f"kube_pod_container_status_waiting_reason{lbl(namespace=pod['metadata']['namespace'], pod=pod['metadata']['name'], container=cs.get('name', ''), reason=waiting.get('reason', ''))} 1")
        family("kube_pod_container_status_last_terminated_reason", "gauge", "Describes the last reason the container was in terminated state.")
        for pod in pods:
            for cs in (pod.get("status") or {}).get("containerStatuses") or []:
                term = (cs.get("lastState") or {}).get("terminated")
                if term:
                    lines.append(f"kube_pod_container_status_last_terminated_reason{lbl(namespace=pod['metadata']['namespace'], pod=pod['metadata']['name'], container=cs.get('name', ''), reason=term.get('reason', ''))} 1")
        family("kube_pod_status_phase", "gauge", "The pods current phase.")
        for pod in pods:
            phase = (pod.get("status") or {}).get("phase", "Pending")
            for p in ("Pending", "Running", "Succeeded", "Failed", "Unknown"):
                lines.append(f"kube_pod_status_phase{lbl(namespace=pod['metadata']['namespace'], pod=pod['metadata']['name'], phase=p)} {1 if p == phase else 0}")
        family("kube_pod_container_resource_requests", "gauge", "The number of requested resource by a container.")
        family("kube_pod_container_resource_limits", "gauge", "The number of limited resource by a container.")
        for pod in pods:
            for c in (pod.get("spec") or {}).get("containers") or []:
                res = c.get("resources") or {}
                for kind in ("requests", "limits"):
                    for r, q in (res.get(kind) or {}).items():
                        value = quantity.parse(q)
                        unit = "core" if r == "cpu" else "byte"
                        lines.append(f"kube_pod_container_resource_{kind}{lbl(namespace=pod['metadata']['namespace'], pod=pod['metadata']['name'], container=c.get('name', ''), node=pod['spec'].get('nodeName', ''), resource=r, unit=unit)} {value:g}")
        family("kube_deployment_spec_replicas", "gauge", "Number of desired pods for a deployment.")
        family("kube_deployment_status_replicas_available", "gauge", "The number of available replicas per deployment.")
        for d in self.store.list("apps/deployments")[0]:
            labels = lbl(namespace=d["metadata"]["namespace"], deployment=d["metadata"]["name"])
            lines.append(f"kube_deployment_spec_replicas{labels} {(d.get('spec') or {}).get('replicas', 1)}")
            lines.append(f"kube_deployment_status_replicas_available{labels} {(d.get('status') or {}).get('availableReplicas', 0)}")
        family("http_request_duration_seconds", "histogram", "Duration of HTTP requests served, in seconds.")
        self._latency(pods, lines, lbl, now_ms)
        family("kube_node_status_allocatable", "gauge", "The allocatable for different resources of a node.")
        family("node_cpu_usage_millicores", "gauge", "CPU in use on the node (millicores).")
        totals = self.node_usage()
        for n in self.store.list("/nodes")[0]:
            name = n["metadata"]["name"]
            for r, q in ((n.get("status") or {}).get("allocatable") or {}).items():
                if r in ("cpu", "memory", "pods"):
                    lines.append(f"kube_node_status_allocatable{lbl(node=name, resource=r, unit='core' if r == 'cpu' else ('byte' if r == 'memory' else 'integer'))} {quantity.parse(q):g}")
            lines.append(f"node_cpu_usage_millicores{lbl(node=name)} {totals.get(name, SYSTEM_OVERHEAD)[0]}")
        return "\n".join(lines) + "\n"

    def _latency(self, pods: list[dict[str, Any]], lines: list[str], lbl: Callable[..., str], now_ms: int) -> None:
        """http_request_duration_seconds per running pod behind a Service: what an instrumented server exports.

        Deterministic (a function of the namespace, the Service, the pod and the clock): each Service answers at
        its own rate and latency (a log-normal whose median comes from a hash of its name), counted from the pod's
        start, so counters only grow while the pod runs and start again with a new pod, as a real server's do. A
        Service whose selector matches no pod (a broken one) exports nothing."""
        services = [s for s in self.store.list("/services")[0] if ((s.get("spec") or {}).get("selector"))]
        now = self.clock.time()
        for pod in pods:
            meta = pod["metadata"]
            if not self.usage(pod):  # not running: no server answers
                continue
            labels = meta.get("labels") or {}
            for svc in services:
                if svc["metadata"]["namespace"] != meta["namespace"] or \
                        any(labels.get(k) != v for k, v in svc["spec"]["selector"].items()):
                    continue
                rate, median, sigma = _service_profile(meta["namespace"], svc["metadata"]["name"])
                count = int(rate * max(now - _started(pod), 0.0))
                base = dict(namespace=meta["namespace"], service=svc["metadata"]["name"], pod=meta["name"])
                for le in LATENCY_BUCKETS:
                    below = 0.5 * math.erfc(-(math.log(le) - math.log(median)) / (sigma * math.sqrt(2)))
                    lines.append(f"http_request_duration_seconds_bucket{lbl(**base, le=f'{le:g}')} "
                                 f"{int(count * below)} {now_ms}")
                lines.append(f"http_request_duration_seconds_bucket{lbl(**base, le='+Inf')} {count} {now_ms}")
                mean = median * math.exp(sigma * sigma / 2)
                lines.append(f"http_request_duration_seconds_sum{lbl(**base)} {count * mean:.6f} {now_ms}")
                lines.append(f"http_request_duration_seconds_count{lbl(**base)} {count} {now_ms}")


def _service_profile(namespace: str, service: str) -> tuple[float, float, float]:
    """(requests per second per pod, median latency in seconds, log-normal sigma) of a Service: seeded by its name,
    so every scrape and every run agree."""
    h = hashlib.sha256(f"{namespace}/{service}".encode()).digest()
    return 2.0 + h[0] % 30, 0.008 + (h[1] % 120) / 1000.0, 0.4 + (h[2] % 50) / 100.0


def _started(pod: dict[str, Any]) -> float:
    from sandbox.controllers.kubelet import _parse_time

    return _parse_time((pod.get("status") or {}).get("startTime")) or 0.0
