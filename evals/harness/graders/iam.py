"""`iam`: the repaired policy satisfies the spec, and (with `bound`) Z3 proves it allows nothing beyond the
faulty policy's allows plus the spec's expect-allow requests — the policies room's own verification."""

from __future__ import annotations

import json
import re
from typing import Any

from evals.harness.graders import Grader, Verdict, register
from evals.harness.graders._params import mapping
from evals.harness.trace import Trace

KEYS = {"policy", "spec", "bound"}


def _json_objects(text: str) -> list[dict[str, Any]]:
    """JSON objects embedded in text (fenced blocks first, then any balanced {...} that parses)."""
    found = []
    for block in re.findall(r"```(?:json)?\s*(\{.*?\})\s*```", text or "", re.S):
        try:
            found.append(json.loads(block))
        except ValueError:
            pass
    if found:
        return found
    dec = json.JSONDecoder()
    i = 0
    while (i := (text or "").find("{", i)) >= 0:
        try:
            obj, end = dec.raw_decode(text, i)
            if isinstance(obj, dict):
                found.append(obj)
            i = end
        except ValueError:
            i += 1
    return found


def repaired_policy(trace: Trace) -> Any:
    """The policy the assistant proposes: an agent result's data.repaired_policy / data.policy, else the last JSON
    object in the answer that has a Statement."""
    for r in reversed(trace.results):
        data = r.get("data") or {}
        for key in ("repaired_policy", "policy"):
            if isinstance(data.get(key), dict | str):
                return data[key]
    candidates = [o for o in _json_objects(trace.answer) if "Statement" in o]
    return candidates[-1] if candidates else None


@register
class IamGrader(Grader):
    name = "iam"

    @classmethod
    def validate(cls, params: Any) -> None:
        from policies.parser import parse_policy, parse_spec

        p = mapping(params, KEYS, "iam")
        if "policy" not in p or "spec" not in p:
            raise ValueError("iam needs policy (the faulty one) and spec")
        parse_policy(p["policy"])
        parse_spec(p["spec"])

    @classmethod
    def grade(cls, params: Any, trace: Trace) -> Verdict:
        from policies.errors import PolicyError
        from policies.parser import parse_policy, parse_spec
        from policies.verify import check, prove_bound

        p = mapping(params, KEYS, "iam")
        raw = repaired_policy(trace)
        if raw is None:
            return Verdict(False, "no repaired policy in the answer or the agents' data")
        try:
            repaired = parse_policy(raw)
        except PolicyError as e:
            return Verdict(False, f"the proposed policy does not parse: {e}")
        spec = parse_spec(p["spec"])
        result = check(repaired, spec)
        if not result.holds:
            return Verdict(False, "spec violated: " + "; ".join(v.describe() for v in result.violations[:3]))
        if p.get("bound", True):
            proof = prove_bound(parse_policy(p["policy"]), repaired, spec)
            if not proof.proven:
                return Verdict(False, proof.summary())
        return Verdict(True, f"repaired policy decides all {len(spec.cases)} spec requests as expected"
                             + (" and is bounded (Z3)" if p.get("bound", True) else ""))
