"""`make bench` (serving part): prefix affinity and load balance of BackendTier under a replayed trace.

Deploys a 2-replica llama.cpp server on the sandbox (two real llama_cpp.server processes, SmolLM2-135M), replays
a seeded BurstGPT-style trace (evals/serving_trace.py) through BackendTier over the pod proxy, sampling
/metrics every second, and prints:
- prefix-affinity hit rate: follow-up requests served by their conversation's first replica, and the tier's own
  count of requests that went to their prefix's home vs. spilled for load;
- load balance: requests per replica and max/mean;
- the recommendation timeline: samples per action, peak queue, peak recommended replicas;
- the same trace through round-robin (the Service's spreading) for comparison of affinity.
The plot goes to $KUBESAGE_BENCH_OUT (default /tmp/kubesage-bench)/serving_timeline.png. Measured, never asserted.
"""

from __future__ import annotations

import os
import platform
import tempfile
import time
from pathlib import Path

from evals.serving_trace import plot, replay, sampler_for, synth_trace
from llm.backends import BackendTier
from sandbox.server import SandboxServer
from tools import serving as S
from tools.k8s.client import Kube

NS, NAME = "bench", "smollm2"


def _setup(server: SandboxServer, tmp: Path) -> Kube:
    kube = Kube.from_kubeconfig(str(server.write_kubeconfig(tmp / "kubeconfig")))
    kube.request("POST", "/api/v1/namespaces", {"metadata": {"name": NS}})
    dep, svc = S.manifests(S.ModelServerSpec(NAME, NS, replicas=2))
    kube.request("POST", f"/apis/apps/v1/namespaces/{NS}/deployments", dep)
    kube.request("POST", f"/api/v1/namespaces/{NS}/services", svc)
    deadline = time.monotonic() + 120
    while len(S.backend_replicas(kube, NS, NAME)) < 2:
        if time.monotonic() > deadline:
            raise RuntimeError("the 2 llama.cpp replicas did not become ready")
        time.sleep(0.3)
    return kube


class _RoundRobin(BackendTier):
    """The Service's blind spreading, for comparison: every request to the next replica."""

    def choose(self, prefix: str, names: list[str]) -> tuple[str, bool]:
        self._n = getattr(self, "_n", -1) + 1
        return sorted(names)[self._n % len(names)], False


def main() -> None:
    trace = synth_trace(n=int(os.environ.get("KUBESAGE_BENCH_SERVING_N", "60")), seed=7)
    out_dir = Path(os.environ.get("KUBESAGE_BENCH_OUT", "/tmp/kubesage-bench"))
    with tempfile.TemporaryDirectory() as tmp:
        server = SandboxServer(scenarios=["default"], speed=50.0).start()
        try:
            kube = _setup(server, Path(tmp))
            auth = S.proxy_auth(kube)
            results = {}
            for label, cls in (("prefix+load", BackendTier), ("round-robin", _RoundRobin)):
                tier = cls(lambda: S.backend_replicas(kube, NS, NAME), NAME, headers=auth["headers"],
                           verify=auth["verify"], margin=2.0)
                t = time.perf_counter()
                run = replay(trace, tier, sampler_for(kube, NS, NAME, tier), time_scale=1.0, sample_s=1.0)
                results[label] = (run, tier, time.perf_counter() - t)
                tier.close()
        finally:
            server.stop()
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs; trace: {len(trace)} requests over "
          f"{trace[-1].t:.1f} s, {len({r.conversation for r in trace})} conversations (seed 7)")
    for label, (run, tier, wall) in results.items():
        ok = [r for r in run.results if r["ok"]]
        lat = sorted(r["latency_s"] for r in ok)
        bal = run.balance()
        print(f"[{label}] {len(ok)}/{len(run.results)} ok in {wall:.1f} s; p50 latency "
              f"{lat[len(lat) // 2] if lat else 0:.2f} s, p95 {lat[int(len(lat) * 0.95)] if lat else 0:.2f} s")
        print(f"[{label}] prefix-affinity hit rate (follow-ups on their conversation's first replica): "
              f"{run.affinity():.2f}")
        if label == "prefix+load":
            st = tier.stats.as_dict()
            print(f"[{label}] routed to the prefix's home: {st['affinity_hits']}, spilled for load: {st['spilled']}")
        print(f"[{label}] requests per replica: {bal['requests']}, max/mean {bal['max_over_mean']}")
        samples = [s for s in run.samples if "error" not in s]
        actions = {a: sum(s["action"] == a for s in samples) for a in ("up", "hold", "down")}
        print(f"[{label}] recommendation timeline: {len(samples)} samples, actions {actions}, peak waiting "
              f"{max((s['waiting'] for s in samples), default=0):g}, peak recommended "
              f"{max((s['recommended'] for s in samples), default=0)} replicas")
        if label == "prefix+load":
            print(f"[{label}] plot: {plot(run, out_dir / 'serving_timeline.png', 'BackendTier on 2 llama.cpp replicas')}")


if __name__ == "__main__":
    main()
