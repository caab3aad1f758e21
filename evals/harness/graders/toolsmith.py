"""`toolsmith`: the value the toolsmith's tool returned, against the task's checker evaluated on the live cluster.

Why a checker expression rather than a fixed answer: the expected set is computed from the cluster the case ran on
(the same expression language as evals/sets/toolsmith.yaml, evaluated by evals/bench_toolsmith.Checker), so a case
cannot pass by matching a hard-coded list.
"""

from __future__ import annotations

from typing import Any

from evals.harness.graders import Grader, Verdict, register
from evals.harness.trace import Trace

TYPES = ("names", "count", "groups", "values", "sum")


@register
class ToolsmithGrader(Grader):
    name = "toolsmith"

    @classmethod
    def validate(cls, params: Any) -> None:
        if not isinstance(params, dict) or set(params) != {"type", "expr"} or params["type"] not in TYPES:
            raise ValueError(f"toolsmith params: {{type: {'|'.join(TYPES)}, expr: <checker expression>}}")
        compile(params["expr"], "<toolsmith expr>", "eval")

    @classmethod
    def grade(cls, params: Any, trace: Trace) -> Verdict:
        from evals.bench_toolsmith import Checker

        value = next((r["data"]["value"] for r in reversed(trace.results) if r.get("agent") == "toolsmith"
                      and isinstance(r.get("data"), dict) and "value" in r["data"]), None)
        if value is None:
            return Verdict(False, "no toolsmith result in the run (not routed there, or no tool was made)")
        if trace.reader is None or not hasattr(trace.reader, "kube"):
            return Verdict(False, "no live cluster to evaluate the checker on")
        ok, why = Checker(api=trace.reader.kube.api).grade({"expect": params}, value)
        return Verdict(ok, "the tool's result matches the cluster" if ok else why)
