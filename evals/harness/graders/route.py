"""`route`: the agents the router picked for the first turn, against the expected list."""

from __future__ import annotations

from typing import Any

from evals.harness.graders import Grader, Verdict, register
from evals.harness.graders._params import str_list
from evals.harness.trace import Trace


def _expected(params: Any, trace: Trace | None) -> tuple[list[str], str]:
    if isinstance(params, dict):
        mode = params.get("mode", "exact")
        return str_list(params.get("agents"), "agents") or (trace.expect_route if trace else []), mode
    return str_list(params, "route") or (trace.expect_route if trace else []), "exact"


@register
class RouteGrader(Grader):
    name = "route"

    @classmethod
    def validate(cls, params: Any) -> None:
        if isinstance(params, dict):
            if set(params) - {"agents", "mode"}:
                raise ValueError("route params: a list of labels or {agents: [..], mode: exact|contains}")
            if params.get("mode", "exact") not in ("exact", "contains"):
                raise ValueError("route mode must be exact or contains")
        _expected(params, None)

    @classmethod
    def grade(cls, params: Any, trace: Trace) -> Verdict:
        want, mode = _expected(params, trace)
        if not want:
            return Verdict(False, "no expected route (give expect_route or route params)")
        got = list(trace.route or [])
        ok = got == want if mode == "exact" else all(a in got for a in want)
        return Verdict(ok, f"routed to {got}, expected {'exactly ' if mode == 'exact' else 'at least '}{want}")
