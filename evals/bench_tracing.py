"""What tracing costs (memory/tracing.py): one `span()` with tracing off (the shared no-op) and on (the OpenTelemetry
SDK, spans kept by an in-memory exporter, so no network in the number), and one supervisor turn on the demo-shop
sandbox (the metrics agent's fast path: route, agent, its Kubernetes reads; no model) untraced and traced,
alternating run by run so both see the same machine load.

`make bench ONLY=tracing`; BENCH_TRACING_TURNS sets the turns per mode (default 40). Writes
$KUBESAGE_HOME/bench/tracing.json.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import tempfile
import time
import timeit
import uuid
from pathlib import Path
from typing import Any

TURNS = int(os.environ.get("BENCH_TRACING_TURNS", "40"))
QUESTION = "how much cpu and memory does web use in shop?"


def _span_us(n: int = 200_000) -> float:
    from memory import tracing

    def one() -> None:
        with tracing.span("x", {"k": 1}) as s:
            s.set({"k": 2})

    return min(timeit.repeat(one, number=n, repeat=5)) / n * 1e6


def _turns(home: Path) -> tuple[list[float], list[float], int]:
    from langgraph.checkpoint.memory import InMemorySaver
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from agents.audit import AuditLog
    from agents.router import Route
    from agents.supervisor import Supervisor
    from memory import tracing
    from sandbox.server import SandboxServer
    from tools.k8s.client import Kube, Principal

    class Metrics:
        def route(self, text: str) -> Route:
            return Route(["metrics"], 1.0, 1.0, "rule", [(text, "metrics")])

    server = SandboxServer(scenarios=["demo-shop"], speed=50.0).start()
    try:
        kc = str(server.write_kubeconfig(home / "kubeconfig"))
        sup = Supervisor(kube_for=lambda p: Kube.from_kubeconfig(kc, principal=p), router=Metrics(),
                         audit=AuditLog(home / "audit.log"), checkpointer=InMemorySaver())
        off: list[float] = []
        on: list[float] = []
        spans = 0
        for i in range(TURNS * 2 + 2):
            traced = i % 2 == 1
            if traced:  # a fresh exporter each time: reset() shuts the last one down
                exporter = InMemorySpanExporter()
                tracing.configure(exporter=exporter)
            t = time.perf_counter()
            sup.start(QUESTION, Principal(), uuid.uuid4().hex[:12], "shop")
            ms = (time.perf_counter() - t) * 1000
            if traced:
                spans = len(exporter.get_finished_spans())
                tracing.reset()
            if i >= 2:  # the first of each mode warms up
                (on if traced else off).append(ms)
        return off, on, spans
    finally:
        server.stop()


def main() -> dict[str, Any]:
    from memory import tracing

    tracing.reset()
    off_us = _span_us()
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    tracing.configure(exporter=InMemorySpanExporter())
    on_us = _span_us(20_000)
    tracing.reset()
    home = Path(os.environ.get("KUBESAGE_HOME") or tempfile.mkdtemp(prefix="kubesage-bench-"))
    with tempfile.TemporaryDirectory() as tmp:
        off, on, spans = _turns(Path(tmp))
    out = {"machine": f"{platform.machine()} {os.cpu_count()} cpu, {platform.python_implementation()} "
                      f"{platform.python_version()}, {platform.system()}",
           "span_off_us": round(off_us, 3), "span_on_us": round(on_us, 2), "turns_per_mode": len(off),
           "turn_untraced_ms_p50": round(statistics.median(off), 2), "turn_traced_ms_p50": round(statistics.median(on), 2),
           "spans_per_turn": spans}
    print(f"span() with tracing off: {out['span_off_us']} µs; on (SDK, in-memory exporter): {out['span_on_us']} µs")
    print(f"metrics fast-path turn ({spans} spans when traced): untraced p50 {out['turn_untraced_ms_p50']} ms, "
          f"traced p50 {out['turn_traced_ms_p50']} ms ({len(off)} turns each, alternating)")
    print(f"machine: {out['machine']}")
    (home / "bench").mkdir(parents=True, exist_ok=True)
    (home / "bench" / "tracing.json").write_text(json.dumps(out, indent=2))
    return out


if __name__ == "__main__":
    main()
