"""`make bench` (agents part): per-turn framework overhead of the supervisor graph, and whole turns on demo-shop.

Framework overhead = a turn through the compiled LangGraph (routing node, work node, respond node, SQLite
checkpoints after every step) with the domain work and the router replaced by no-ops — i.e. total minus model,
router and tool time. Whole-turn latencies on the sandbox are printed next to it for scale.
"""

from __future__ import annotations

import sqlite3
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from langgraph.checkpoint.sqlite import SqliteSaver

from agents.audit import AuditLog
from agents.router import Route
from agents.state import AgentResult
from agents.supervisor import Supervisor
from tools.k8s.client import Principal


class _NoRouter:
    def route(self, text: str) -> Route:
        return Route(["noop"], 1.0, 1.0, "rule", [(text, "noop")])


class _NoKube:
    principal = Principal()


def _p(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))]


def framework_overhead(turns: int = 300) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        conn = sqlite3.connect(Path(tmp) / "cp.sqlite", check_same_thread=False)
        sup = Supervisor(kube_for=lambda p: _NoKube(), router=_NoRouter(), audit=AuditLog(Path(tmp) / "audit.log"),
                         checkpointer=SqliteSaver(conn), agents={"noop": lambda ctx: AgentResult("noop", "ok")})
        import agents.supervisor as mod

        real = mod.build_context
        from agents.context import AgentContext
        from agents.entities import Entities

        # no cluster reads: framework only
        mod.build_context = lambda kube, text, ns, llm: AgentContext(kube, text, Entities(namespace=ns))
        try:
            times = []
            for _ in range(turns):
                t = time.perf_counter()
                sup.start("noop", Principal(), uuid.uuid4().hex)
                times.append((time.perf_counter() - t) * 1000)
        finally:
            mod.build_context = real
    return {"overhead_ms_p50": round(statistics.median(times), 2), "overhead_ms_p99": round(_p(times, 0.99), 2)}


def whole_turns() -> dict:
    from kubesage import settings
    from kubesage.runtime import Runtime
    from sandbox.server import SandboxServer

    out = {}
    with tempfile.TemporaryDirectory() as tmp, SandboxServer(scenarios=["demo-shop"], speed=50.0) as server:
        kc = server.write_kubeconfig(Path(tmp) / "kc")
        time.sleep(2)
        rt = Runtime(settings.load({"KUBESAGE_HOME": tmp}), kubeconfig=str(kc))
        rt.supervisor.router.embedding.warm() if hasattr(rt.supervisor.router.embedding, "warm") else None
        for label, q in (("metrics", "which pods use the most cpu in shop?"),
                         ("rbac", "can ci-bot delete secrets in shop?"),
                         ("logs", "why is checkout crashing in shop?")):
            times = []
            for _ in range(5):
                t = time.perf_counter()
                rt.supervisor.start(q, Principal(), uuid.uuid4().hex)
                times.append((time.perf_counter() - t) * 1000)
            out[f"turn_ms_p50_{label}"] = round(statistics.median(times), 1)
        rt.close()
    return out


def main() -> None:
    r = framework_overhead()
    print(f"  supervisor framework overhead per turn (LangGraph + SQLite checkpoints, no model/tool time): "
          f"p50 {r['overhead_ms_p50']} ms, p99 {r['overhead_ms_p99']} ms")
    w = whole_turns()
    print("  whole turns on demo-shop (router + tools on the sandbox, no LLM call): " +
          ", ".join(f"{k.removeprefix('turn_ms_p50_')} {v} ms" for k, v in w.items()) + " (p50 of 5)")


if __name__ == "__main__":
    main()
