"""`make bench` (sandbox part): how fast the embedded API server answers real clients.

Prints medians (and the machine) for:
- list 5,000 pods through the kubernetes client (ms, median of 5);
- create 1,000 objects through the kubernetes client (objects/s);
- watch event latency: from the server storing a change to the client receiving it (ms, median of 200);
- modelled pods/s: a 1,000-replica nginx Deployment (behaviour model) from nothing to all Ready at speed 100,
  a 100-replica rolling update, the process's RSS with 5,000 pods (`python -m evals.compare_sandbox_pods`
  measures the same pods/s against an older commit, alternating, for "must not drop");
- real containers (sandbox/jail/): start latency of a jailed process (median of 20), its RSS (launcher +
  program), how many sleeping busybox containers run at once, and a python pod from create to Running.
Numbers are measured, never asserted; tests do not depend on them.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import threading
import time
from pathlib import Path

from kubernetes import client, watch

from sandbox.cluster import SYSTEM, WriteOptions
from sandbox.server import SandboxServer


def _api(server: SandboxServer) -> client.ApiClient:
    cfg = client.Configuration()
    cfg.host = server.url
    cfg.ssl_ca_cert = str(server.ca_file)
    cfg.api_key = {"authorization": f"Bearer {server.token}"}
    return client.ApiClient(cfg)


def _pod(i: int) -> dict:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": f"pod-{i:05d}", "labels": {"app": f"app-{i % 50}", "tier": "web"}},
            "spec": {"containers": [{"name": "web", "image": "nginx:1.25", "ports": [{"containerPort": 80}],
                                     "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}]}}


def bench_list(server: SandboxServer, api: client.ApiClient, n: int = 5000) -> dict:
    cluster = server.cluster
    rt = cluster.rt("", "v1", "pods")
    cluster.create(cluster.rt("", "v1", "namespaces"), "", {"metadata": {"name": "bench-list"}}, SYSTEM, WriteOptions())
    for i in range(n):
        cluster.create(rt, "bench-list", _pod(i), SYSTEM, WriteOptions(field_manager="bench"))
    core = client.CoreV1Api(api)
    times, raw_times = [], []
    for _ in range(5):
        t = time.perf_counter()
        pods = core.list_namespaced_pod("bench-list")
        times.append((time.perf_counter() - t) * 1000)
        assert len(pods.items) == n
        t = time.perf_counter()
        resp = core.list_namespaced_pod("bench-list", _preload_content=False)
        data = resp.data
        raw_times.append((time.perf_counter() - t) * 1000)
    return {"list_pods": n, "list_ms_median": round(statistics.median(times), 1),
            "list_ms_median_raw_http": round(statistics.median(raw_times), 1), "response_mb": round(len(data) / 1e6, 2)}


def bench_create(api: client.ApiClient, n: int = 1000) -> dict:
    core = client.CoreV1Api(api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name="bench-create")))
    t = time.perf_counter()
    for i in range(n):
        core.create_namespaced_config_map("bench-create", client.V1ConfigMap(
            metadata=client.V1ObjectMeta(name=f"cm-{i}", labels={"i": str(i)}), data={"k": "v" * 64}))
    dt = time.perf_counter() - t
    return {"create_objects": n, "create_objects_per_s": round(n / dt, 1)}


def bench_watch(server: SandboxServer, api: client.ApiClient, n: int = 200) -> dict:
    core = client.CoreV1Api(api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name="bench-watch")))
    stored: dict[str, float] = {}
    seen: dict[str, float] = {}

    def hook(_what, rt, _old, new):  # runs in the server when the change is stored
        if new is not None and rt.key == "/configmaps" and new["metadata"].get("namespace") == "bench-watch":
            stored.setdefault(new["metadata"]["name"], time.perf_counter())

    server.cluster.hooks.append(hook)
    rv = core.list_namespaced_config_map("bench-watch").metadata.resource_version
    ready = threading.Event()

    def watcher() -> None:
        w = watch.Watch()
        ready.set()
        for ev in w.stream(core.list_namespaced_config_map, "bench-watch", resource_version=rv, timeout_seconds=120):
            if ev["type"] == "ADDED" and ev["object"].metadata.name.startswith("w-"):
                seen[ev["object"].metadata.name] = time.perf_counter()
                if len(seen) == n:
                    w.stop()

    t = threading.Thread(target=watcher, daemon=True)
    t.start()
    ready.wait()
    time.sleep(0.3)
    writer = client.CoreV1Api(_api(server))
    for i in range(n):
        writer.create_namespaced_config_map("bench-watch", client.V1ConfigMap(metadata=client.V1ObjectMeta(name=f"w-{i}")))
        time.sleep(0.005)
    t.join(timeout=60)
    server.cluster.hooks.remove(hook)
    lat = [(seen[k] - stored[k]) * 1000 for k in seen if k in stored]
    return {"watch_events": len(lat), "watch_latency_ms_median": round(statistics.median(lat), 2),
            "watch_latency_ms_p95": round(sorted(lat)[int(len(lat) * 0.95) - 1], 2)}


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"





# -- the behaving cluster (issue 3) ------------------------------------------------------------------------
def _nodes(server: SandboxServer, n: int) -> None:
    rt = server.cluster.rt("", "v1", "nodes")
    for i in range(n):
        server.cluster.create(rt, "", {"metadata": {"name": f"bench-node-{i:03d}",
                                                    "labels": {"kubernetes.io/hostname": f"bench-node-{i:03d}"}},
                                       "status": {"allocatable": {"cpu": "64", "memory": "256Gi", "pods": "250"},
                                                  "capacity": {"cpu": "64", "memory": "256Gi", "pods": "250"},
                                                  "conditions": [{"type": "Ready", "status": "True"}],
                                                  "addresses": [{"type": "InternalIP", "address": f"10.0.{i // 250}.{i % 250}"}]}},
                           SYSTEM, WriteOptions(field_manager="bench"))


def _deployment(name: str, replicas: int, image: str = "nginx:1.27") -> dict:
    return {"metadata": {"name": name}, "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}},
                         "spec": {"containers": [{"name": "c", "image": image,
                                                  "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}]}}}}


def _wait_rollout(server: SandboxServer, ns: str, name: str, replicas: int, timeout: float) -> float:
    t = time.perf_counter()
    while time.perf_counter() - t < timeout:
        d = server.cluster.store.get("apps/deployments", ns, name) or {}
        st = d.get("status") or {}
        if st.get("observedGeneration") == d["metadata"].get("generation") and st.get("updatedReplicas") == replicas \
                and st.get("availableReplicas") == replicas and st.get("replicas") == replicas:
            return time.perf_counter() - t
        time.sleep(0.05)
    raise TimeoutError(f"rollout of {name} not done in {timeout}s")


def bench_behaviour() -> dict:
    import resource

    out: dict = {}
    # pods reconciled per second: a 1,000-replica Deployment from nothing to all Ready (speed 100)
    with SandboxServer(speed=100.0) as server:
        _nodes(server, 10)
        ns_rt, dep_rt = server.cluster.rt("", "v1", "namespaces"), server.cluster.rt("apps", "v1", "deployments")
        server.cluster.create(ns_rt, "", {"metadata": {"name": "b"}}, SYSTEM, WriteOptions())
        t = time.perf_counter()
        server.cluster.create(dep_rt, "b", _deployment("many", 1000), SYSTEM, WriteOptions())
        dt = t0 = _wait_rollout(server, "b", "many", 1000, 600)
        out["pods_ready_per_s"] = round(1000 / dt, 1)
        _ = t, t0
    for speed in (1.0, 100.0):
        with SandboxServer(speed=speed) as server:
            _nodes(server, 4)
            ns_rt, dep_rt = server.cluster.rt("", "v1", "namespaces"), server.cluster.rt("apps", "v1", "deployments")
            server.cluster.create(ns_rt, "", {"metadata": {"name": "b"}}, SYSTEM, WriteOptions())
            server.cluster.create(dep_rt, "b", _deployment("web", 100), SYSTEM, WriteOptions())
            _wait_rollout(server, "b", "web", 100, 600)
            server.cluster.patch(dep_rt, "b", "web", "strategic", {"spec": {"template": {"spec": {"containers": [
                {"name": "c", "image": "nginx:1.26"}]}}}}, SYSTEM, WriteOptions())
            out[f"rollout_100_replicas_s_speed_{int(speed)}"] = round(_wait_rollout(server, "b", "web", 100, 600), 2)
    # memory with 5,000 pods
    rss0 = _rss_mb()
    with SandboxServer(speed=100.0) as server:
        _nodes(server, 25)
        ns_rt, dep_rt = server.cluster.rt("", "v1", "namespaces"), server.cluster.rt("apps", "v1", "deployments")
        server.cluster.create(ns_rt, "", {"metadata": {"name": "b"}}, SYSTEM, WriteOptions())
        for i in range(10):
            server.cluster.create(dep_rt, "b", _deployment(f"d{i}", 500), SYSTEM, WriteOptions())
        for i in range(10):
            _wait_rollout(server, "b", f"d{i}", 500, 900)
        out["pods_5000_rss_mb"] = round(_rss_mb(), 1)
        out["pods_5000_rss_growth_mb"] = round(_rss_mb() - rss0, 1)
        out["maxrss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return out


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return 0
    return 0


def bench_real(many: int = 100) -> dict:
    """What a real container costs on this machine; {} where the jail cannot run (not root, no busybox)."""
    from sandbox.jail.images import VIEWS, busybox_binary, system_python
    from sandbox.jail.runtime import Jail

    if os.geteuid() != 0 or not busybox_binary() or not system_python():
        return {}
    out: dict = {}
    jail = Jail()
    try:
        starts, rss = [], []
        for i in range(20):
            pj = jail.pod(f"bench-{i}", f"bench-{i}", "b", "10.244.0.9")
            t = time.perf_counter()
            run = pj.start({"name": "c"}, VIEWS["python"], ["python3", "-c", "print('up', flush=True)\nimport time\n"
                                                                          "time.sleep(60)"], {}, None, time.time,
                           lambda: None)
            while not run.lines and time.perf_counter() - t < 10:
                time.sleep(0.001)
            starts.append(time.perf_counter() - t)
            rss.append(_rss_kb(run.proc.pid) + _rss_kb(run.reports.pid or 0) + _rss_kb(pj.pause_pid))
            jail.stop_pod(f"bench-{i}")
        out["real_start_to_first_line_ms_median"] = round(statistics.median(starts) * 1000, 1)
        out["real_python_container_rss_mb"] = round(statistics.median(rss) / 1024, 1)
        t = time.perf_counter()
        runs = []
        for i in range(many):
            pj = jail.pod(f"many-{i}", f"many-{i}", "b", "10.244.0.9")
            runs.append(pj.start({"name": "c"}, VIEWS["busybox"], ["sleep", "600"], {}, None, time.time,
                                 lambda: None))
        while sum(1 for r in runs if r.alive()) < many and time.perf_counter() - t < 120:
            time.sleep(0.05)
        out["real_busybox_running_at_once"] = sum(1 for r in runs if r.alive())
        out["real_busybox_start_all_s"] = round(time.perf_counter() - t, 2)
        out["real_busybox_rss_mb_each"] = round(statistics.median(
            _rss_kb(r.proc.pid) + _rss_kb(r.reports.pid or 0) + _rss_kb(r.pod.pause_pid) for r in runs) / 1024, 1)
    finally:
        jail.close()
    with SandboxServer(speed=1.0) as server:
        _nodes(server, 2)
        ns_rt, pod_rt = server.cluster.rt("", "v1", "namespaces"), server.cluster.rt("", "v1", "pods")
        server.cluster.create(ns_rt, "", {"metadata": {"name": "b"}}, SYSTEM, WriteOptions())
        t = time.perf_counter()
        server.cluster.create(pod_rt, "b", {"metadata": {"name": "py"}, "spec": {"containers": [
            {"name": "c", "image": "python:3.12", "command": ["python3", "-c", "import time; time.sleep(60)"]}]}},
            SYSTEM, WriteOptions())
        while time.perf_counter() - t < 60:
            pod = server.cluster.store.get("/pods", "b", "py") or {}
            if (pod.get("status") or {}).get("phase") == "Running":
                break
            time.sleep(0.01)
        out["real_python_pod_create_to_running_s_speed_1"] = round(time.perf_counter() - t, 2)
    return out


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    results: dict = {"machine": machine()}
    with SandboxServer(behaviour=False) as server:
        api = _api(server)
        results.update(bench_list(server, api))
        results.update(bench_create(api))
        results.update(bench_watch(server, api))
    print("sandbox benchmark on", results["machine"])
    print(f"  list {results['list_pods']} pods via kubernetes client: {results['list_ms_median']} ms median of 5 "
          f"(raw HTTP {results['list_ms_median_raw_http']} ms, {results['response_mb']} MB)")
    print(f"  create {results['create_objects']} objects: {results['create_objects_per_s']} objects/s")
    print(f"  watch event latency: {results['watch_latency_ms_median']} ms median, "
          f"{results['watch_latency_ms_p95']} ms p95 ({results['watch_events']} events)")
    behaviour = bench_behaviour()
    results.update(behaviour)
    print(f"  modelled pods reconciled to Ready: {behaviour['pods_ready_per_s']} pods/s (1,000-replica nginx "
          "Deployment, speed 100)")
    print(f"  100-replica rolling update: {behaviour['rollout_100_replicas_s_speed_1']} s at speed 1, "
          f"{behaviour['rollout_100_replicas_s_speed_100']} s at speed 100")
    print(f"  sandbox process with 5,000 running pods: {behaviour['pods_5000_rss_mb']} MB RSS "
          f"(+{behaviour['pods_5000_rss_growth_mb']} MB over the process before it)")
    real = bench_real()
    results.update(real)
    if real:
        print(f"  real container: first output {real['real_start_to_first_line_ms_median']} ms after start (median "
              f"of 20, python), {real['real_python_container_rss_mb']} MB RSS (pause + launcher + program); "
              f"{real['real_busybox_running_at_once']} busybox containers running at once "
              f"({real['real_busybox_rss_mb_each']} MB each); a python pod from create to Running in "
              f"{real['real_python_pod_create_to_running_s_speed_1']} s at speed 1 (image pull modelled)")
    else:
        print("  real containers: not available here (not root or no busybox-static): modelled only")
    out = Path(os.environ.get("KUBESAGE_HOME", Path.home() / ".kubesage")) / "bench" / "sandbox.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"  written to {out}")


if __name__ == "__main__":
    main()
