"""`tools`: Kubernetes calls that must (or must not) have been made, matched by method, path regex, query args,
status and agent."""

from __future__ import annotations

import re
from typing import Any

from evals.harness.graders import Grader, Verdict, register
from evals.harness.graders._params import mapping
from evals.harness.trace import Trace

MATCH_KEYS = {"method", "path", "query", "status", "agent"}


def _check_matches(value: Any, key: str) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError(f"{key} must be a list of {{method, path, query, status, agent}}")
    for m in value:
        mapping(m, MATCH_KEYS, key)
        for pattern in [m.get("path", "")] + list((m.get("query") or {}).values()):
            try:
                re.compile(str(pattern))
            except re.error as e:
                raise ValueError(f"{key}: bad regex {pattern!r}: {e}") from None
    return value


def matches(m: dict[str, Any], call: dict[str, Any]) -> bool:
    if m.get("method") and str(m["method"]).upper() != str(call.get("method", "")).upper():
        return False
    if m.get("path") and not re.search(str(m["path"]), str(call.get("path", ""))):
        return False
    if m.get("status") is not None and int(m["status"]) != int(call.get("status") or 0):
        return False
    if m.get("agent") and m["agent"] != call.get("agent"):
        return False
    q = call.get("query") or {}
    return all(k in q and re.search(str(v), str(q[k])) for k, v in (m.get("query") or {}).items())


@register
class ToolsGrader(Grader):
    name = "tools"

    @classmethod
    def validate(cls, params: Any) -> None:
        p = mapping(params, {"called", "not_called"}, "tools")
        if not p:
            raise ValueError("tools needs called and/or not_called")
        _check_matches(p.get("called"), "called")
        _check_matches(p.get("not_called"), "not_called")

    @classmethod
    def grade(cls, params: Any, trace: Trace) -> Verdict:
        p = mapping(params, {"called", "not_called"}, "tools")
        problems = [f"no call matches {m}" for m in p.get("called") or [] if not any(matches(m, c) for c in trace.calls)]
        for m in p.get("not_called") or []:
            hit = next((c for c in trace.calls if matches(m, c)), None)
            if hit:
                problems.append(f"unwanted call {hit.get('method')} {hit.get('path')} matches {m}")
        return Verdict(not problems, "; ".join(problems) or f"tool checks hold over {len(trace.calls)} calls")
