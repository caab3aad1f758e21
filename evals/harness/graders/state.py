"""`state`: assertions over cluster objects read (as admin) through the Kubernetes API after the last turn.

Why poll (`wait_s`): an approved fix takes sandbox time to roll out; the assertion is about where the cluster
ends up, not about the instant the answer came back. The assertions themselves are kubesage's goal assertions
(tools/k8s/goals.py): a case is graded by the same check the supervisor runs after an apply.
"""

from __future__ import annotations

import re
import time
from typing import Any

from evals.harness.graders import Grader, Verdict, register
from evals.harness.graders._params import mapping
from evals.harness.trace import Trace
from tools.k8s.goals import OPS, check_one  # the same assertions kubesage checks as a plan's goal

KEYS = {"kind", "namespace", "name", "selector", "path", "op", "value", "exists", "absent", "wait_s", "can"}
CAN_KEYS = {"user", "groups", "verb", "resource", "namespace", "group", "name"}


def _one(a: dict[str, Any], trace: Trace) -> tuple[bool, str]:
    if trace.reader is None:
        return False, "no cluster reader (the case did not run against a cluster)"
    return check_one(trace.reader, a)


@register
class StateGrader(Grader):
    name = "state"

    @classmethod
    def validate(cls, params: Any) -> None:
        items = params if isinstance(params, list) else [params]
        if not items:
            raise ValueError("state needs at least one assertion")
        for a in items:
            a = mapping(a, KEYS, "state")
            if "can" in a:
                c = mapping(a["can"], CAN_KEYS, "state can")
                if not all(isinstance(c.get(k), str) for k in ("user", "verb", "resource")):
                    raise ValueError("state can needs user, verb and resource")
                if set(a) - {"can", "value", "wait_s"} or not isinstance(a.get("value", True), bool):
                    raise ValueError("a can assertion is {can: {user, groups, verb, resource, namespace, group}, "
                                     "value: true|false}")
                continue
            if not a.get("kind"):
                raise ValueError("state assertion needs kind")
            if not (a.get("name") or "selector" in a):
                raise ValueError(f"state assertion on {a['kind']} needs name or selector")
            if a.get("op", "eq") not in OPS:
                raise ValueError(f"op must be one of {', '.join(OPS)}")
            if not (a.get("exists") or a.get("absent") or "path" in a):
                raise ValueError("state assertion needs path (+ op, value), exists: true or absent: true")
            if a.get("op") == "matches":
                re.compile(str(a.get("value")))

    @classmethod
    def grade(cls, params: Any, trace: Trace) -> Verdict:
        items = params if isinstance(params, list) else [params]
        details, ok_all = [], True
        for a in items:
            deadline = time.monotonic() + float(a.get("wait_s") or 0)
            while True:
                ok, detail = _one(a, trace)
                if ok or time.monotonic() >= deadline:
                    break
                if trace.reader is not None:
                    trace.reader.wait(0.25)
            ok_all &= ok
            details.append(detail)
        return Verdict(ok_all, "; ".join(details))
