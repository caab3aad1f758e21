"""Agent-loop bench (issue 15): the loop's own cost per step without model time, and what a logs investigation of
a 50,000-line log sends to the model.

1. Per-step overhead. An instant in-process tier (it returns scripted tool calls with no work) stands in for the
   model, behind the real gateway; the tools run against a real sandbox API server. Reported per step, medians over
   the runs: `overhead` = wall − model time − tool time (the graph, request building, schema validation, bookkeeping;
   goal p50 ≤ 5 ms), and `with tools` = wall − model time (adds the sandbox HTTP reads, redaction, formatting).
2. Log tokens. A 50,000-line log (request lines with varying ids, a periodic ERROR template, one FATAL line at the
   end) goes through the k8s_logs tool in a loop run; the request that carries the observation (system prompt, the
   logs toolset's schemas, the question, the call, the observation) is counted with the bundled SmolLM2 tokenizer.
   Goal ≤ 4,000 tokens with the failing templates kept. The log is generated in process: the sandbox's simulated
   shell writes about a hundred lines a second, so the pod's `logs` read is replaced by the generated text (the
   pod itself is real).

`python -m evals.bench_loop` (or `make bench ONLY=loop`).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import tempfile
import time
from typing import Any

from llm.config import LLMConfig
from llm.gateway import Gateway
from llm.tiers import TierOutput

RUNS = 15
STEPS = 8


class InstantTier:
    """A 'cloud' tier that answers at once from a script: step i → turn i (tool calls or an answer)."""

    tier = "cloud"
    name = "instant"

    def __init__(self, script: list[dict[str, Any]]) -> None:
        self.script = script
        self.requests: list[Any] = []

    def pressure(self) -> float:
        return 0.0

    def complete(self, req: Any) -> TierOutput:
        self.requests.append(req)
        step = sum(1 for m in req.messages if m.get("role") == "assistant")
        turn = self.script[min(step, len(self.script) - 1)]
        calls = [{"id": f"c{step}_{i}", "name": c["name"], "args": c["args"], "raw": json.dumps(c["args"])}
                 for i, c in enumerate(turn.get("calls") or [])]
        return TierOutput(tier="cloud", model="instant", content=turn.get("content", ""), tool_calls=calls,
                          prompt_tokens=0, completion_tokens=0)


def _ctx(kube: Any, text: str, gateway: Gateway) -> Any:
    from agents.context import AgentContext
    from agents.entities import Entities

    return AgentContext(kube, text, Entities(namespace="default"), llm=gateway)


def synthetic_log(lines: int = 50_000) -> str:
    out = []
    for i in range(lines):
        out.append(f"2025-01-01T10:{i // 3600 % 60:02d}:{i % 60:02d}Z INFO GET /api/items/{i % 97} status=200 "
                   f"took {i % 50}ms req={i:06d} user={i * 7919 % 10007}")
        if i % 5000 == 4999:
            out.append(f"2025-01-01T10:{i // 3600 % 60:02d}:{i % 60:02d}Z ERROR payment gateway timeout after 30s "
                       f"order={i}")
    out.append("2025-01-01T11:00:00Z FATAL cannot connect to postgres at 10.0.0.5:5432: connection refused")
    return "\n".join(out) + "\n"


def _tokenizer() -> Any:
    import llama_cpp

    from llm.local import resolve_model

    model = resolve_model("smollm2", tempfile.mkdtemp())
    return llama_cpp.Llama(model_path=str(model.path), vocab_only=True, verbose=False)


def _count(tok: Any, req: Any) -> int:
    text = "\n".join(str(m.get("content") or "") + json.dumps(m.get("tool_calls") or "") for m in req.messages)
    text += json.dumps(req.tools or req.schema or "")
    return len(tok.tokenize(text.encode(), add_bos=False))


def main() -> dict[str, Any]:
    from agents.loop import Budget, run_loop, tools_for
    from sandbox.server import SandboxServer
    from tools.k8s.client import Kube

    os.environ.setdefault("KUBESAGE_LLM_CLOUD_BASE_URL", "http://instant.invalid/v1")  # marks a loop-capable tier
    server = SandboxServer(scenarios=["demo-shop"], speed=50.0).start()
    try:
        kc = server.write_kubeconfig(tempfile.mkdtemp() + "/kubeconfig")
        kinds = ["Pod", "Deployment", "Service", "ConfigMap", "ReplicaSet", "Event", "ServiceAccount", "Endpoints"]
        script = [{"calls": [{"name": "k8s_list", "args": {"kind": kinds[i % len(kinds)], "namespace": "shop"}}]}
                  for i in range(STEPS - 1)] + [{"content": "done"}]
        overhead, with_tools = [], []
        for _ in range(RUNS):
            kube = Kube.from_kubeconfig(str(kc))
            gw = Gateway(LLMConfig(use_cache=False), local=None, cloud=InstantTier(script))
            t0 = time.perf_counter()
            res = run_loop(_ctx(kube, "look around shop", gw), "resources", budget=Budget(max_steps=STEPS + 2))
            wall = (time.perf_counter() - t0) * 1000
            loop = res.data["loop"]
            steps = loop["steps"]
            overhead.append((wall - loop["model_ms"] - loop["tool_ms"]) / steps)
            with_tools.append((wall - loop["model_ms"]) / steps)
        # the 50k-line log
        kube = Kube.from_kubeconfig(str(kc))
        kube.request("POST", "/api/v1/namespaces/default/pods", {
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "big"},
            "spec": {"containers": [{"name": "big", "image": "busybox:1.36", "command": ["sleep", "100000"]}]}})
        log = synthetic_log()
        kube.logs = lambda *a, **k: log  # type: ignore[method-assign] # see the module docstring
        tier = InstantTier([{"calls": [{"name": "k8s_logs", "args": {"namespace": "default", "pod": "big"}}]},
                            {"content": "postgres is unreachable"}])
        gw = Gateway(LLMConfig(use_cache=False), local=None, cloud=tier)
        run_loop(_ctx(kube, "why does big fail?", gw), "logs", budget=Budget(max_steps=4))
        req = tier.requests[-1]
        observation = next(m["content"] for m in req.messages if m.get("role") == "tool")
        tok = _tokenizer()
        tokens = _count(tok, req)
        obs_tokens = len(tok.tokenize(observation.encode(), add_bos=False))
        kept = "FATAL cannot connect to postgres" in observation and "payment gateway timeout" in observation
    finally:
        server.stop()
    out = {"machine": f"{platform.machine()} {os.cpu_count()} cpu, {platform.python_implementation()} "
                      f"{platform.python_version()}, {platform.system()}",
           "runs": RUNS, "steps_per_run": STEPS,
           "overhead_ms_per_step_p50": round(statistics.median(overhead), 3),
           "overhead_ms_per_step_p90": round(sorted(overhead)[int(0.9 * (len(overhead) - 1))], 3),
           "with_tools_ms_per_step_p50": round(statistics.median(with_tools), 3),
           "log_lines": log.count("\n"), "log_request_tokens": tokens, "log_observation_tokens": obs_tokens,
           "log_failing_templates_kept": kept, "logs_toolset": [t.name for t in tools_for("logs")]}
    print(f"loop overhead per step (no model, no tool I/O): p50 {out['overhead_ms_per_step_p50']} ms, "
          f"p90 {out['overhead_ms_per_step_p90']} ms (goal p50 <= 5 ms)")
    print(f"per step with the sandbox reads: p50 {out['with_tools_ms_per_step_p50']} ms")
    print(f"50k-line log investigation: request {tokens} tokens (observation {obs_tokens}), failing templates kept: "
          f"{kept} (goal <= 4000)")
    print(f"machine: {out['machine']}")
    return out


if __name__ == "__main__":
    main()
