"""Post-conditions: does the cluster now say what the request asked for?

Why beside health: a change the API accepted and whose pods are healthy can still not be what was asked (the
image left at the old version, an autoscaler without the asked bounds, a ServiceAccount that can do more or less
than asked). Each Mutation carries its goal, a list of assertions in the same shape as the eval harness's `state`
grader (which imports this module):

- a field: `{kind, namespace, name | selector, path, op, value}`; `path` is dotted with list indices
  (`spec.template.spec.containers.0.image`, tools/k8s/fieldpath.py), `op` one of OPS (`contains` on a mapping
  means "has that key", on a list "has that item, or an item with that name or those fields"), with a selector the object is `{count, items}`; `{..., exists: true}` / `{..., absent:
  true}` ask only whether the object is there;
- an access: `{can: {user, groups?, verb, resource, namespace?, group?, name?}, value: bool}`, answered by a
  SubjectAccessReview (a read: it changes nothing).
"""

from __future__ import annotations

import re
import time
from typing import Any, Protocol

from tools.k8s import fieldpath
from tools.k8s.errors import KubeError
from tools.k8s.objects import parse_quantity

OPS = ("eq", "ne", "ge", "le", "gt", "lt", "contains", "not_contains", "matches", "exists", "missing")
MISSING = fieldpath.MISSING


class Reader(Protocol):
    """What a goal check reads: an object or None, a list, and an access decision."""

    def get(self, kind: str, namespace: str | None, name: str) -> dict[str, Any] | None: ...

    def list(self, kind: str, namespace: str | None, selector: str | None) -> list[dict[str, Any]]: ...

    def access(self, user: str, groups: list[str], verb: str, resource: str, namespace: str | None, group: str,
               name: str | None) -> bool: ...


class KubeReader:
    """A `Reader` over a `tools.k8s.client.Kube` (objects as that connection sees them; None when absent)."""

    def __init__(self, kube: Any) -> None:
        self.kube = kube

    def get(self, kind: str, namespace: str | None, name: str) -> dict[str, Any] | None:
        try:
            return self.kube.get(kind, namespace, name)
        except KubeError as e:
            if e.status == 404:
                return None
            raise

    def list(self, kind: str, namespace: str | None, selector: str | None) -> list[dict[str, Any]]:
        return self.kube.list(kind, namespace, label_selector=selector or None)

    def access(self, user: str, groups: list[str], verb: str, resource: str, namespace: str | None, group: str,
               name: str | None) -> bool:
        """A SubjectAccessReview for `user` (every authenticated user is also in system:authenticated)."""
        groups = list(groups) + (["system:authenticated"] if "system:authenticated" not in groups else [])
        return self.kube.subject_can(user, groups, verb, resource, namespace, group, name)[0]


def resolve(obj: Any, path: str | None) -> Any:
    """The value at a dotted path (`a.b.0.c`), MISSING when a step is absent."""
    return fieldpath.get(obj, path) if path else obj


def _num(v: Any) -> float:
    return float(v)


def _same(got: Any, want: Any) -> bool:
    """Equal, equal as text, or the same Kubernetes quantity written two ways ('500m' and '0.5', '1Gi' and
    '1024Mi'): the API server may rewrite a quantity it stores."""
    if got == want or str(got) == str(want):
        return True
    if isinstance(got, str | int | float) and isinstance(want, str | int | float) and \
            any(isinstance(v, str) and v[-1:].isalpha() for v in (got, want)):
        g, w = parse_quantity(got), parse_quantity(want)
        return g is not None and w is not None and abs(g - w) <= 1e-9 * max(abs(g), abs(w), 1.0)
    return False


def compare(got: Any, op: str, want: Any) -> bool:
    """Whether `got` (a value, or MISSING) satisfies `op` against `want`."""
    if op in ("exists", "missing"):  # the path itself is (not) there; value is ignored
        present = got is not MISSING and got not in (None, [], {}, "")
        return present if op == "exists" else not present
    if got is MISSING:
        return op in ("ne", "not_contains")  # a field that is not there contains nothing
    if op in ("ge", "le", "gt", "lt"):
        try:
            g, w = _num(got), _num(want)
        except (TypeError, ValueError):
            return False
        return {"ge": g >= w, "le": g <= w, "gt": g > w, "lt": g < w}[op]
    if op == "eq":
        return _same(got, want)
    if op == "ne":
        return not _same(got, want)
    if op == "not_contains":
        return not compare(got, "contains", want)
    if op == "contains":
        if isinstance(got, dict):
            return want in got
        if isinstance(got, list):  # an item, or an item named so / with those fields (env, containers, ports)
            return want in got or str(want) in [str(x) for x in got] or any(
                isinstance(x, dict) and (x.get("name") == want if not isinstance(want, dict) else
                                         all(x.get(k) == v for k, v in want.items())) for x in got)
        return str(want).lower() in str(got).lower()
    return bool(re.search(str(want), str(got), re.I))


def describe(a: dict[str, Any]) -> str:
    """An assertion in words, as the answer names a goal that did not hold."""
    if "can" in a:
        c = a["can"]
        where = f"in {c['namespace']}" if c.get("namespace") else "cluster-wide"
        return f"{c['user']} {'can' if a.get('value', True) else 'cannot'} {c['verb']} {c['resource']} {where}"
    what = f"{a.get('kind')} {a['namespace'] + '/' if a.get('namespace') else ''}{a.get('name') or '[' + str(a.get('selector') or '') + ']'}"
    if a.get("absent"):
        return f"{what} is absent"
    if "path" not in a:
        return f"{what} exists"
    return f"{what} {a['path']} {a.get('op', 'eq')} {a.get('value')!r}"


def check_one(reader: Reader, a: dict[str, Any]) -> tuple[bool, str]:
    """(holds, what was found) for one assertion."""
    if "can" in a:
        c = a["can"]
        allowed = reader.access(c["user"], list(c.get("groups") or []), c["verb"], c["resource"], c.get("namespace"),
                                c.get("group", ""), c.get("name"))
        want = bool(a.get("value", True))
        where = f"in {c['namespace']}" if c.get("namespace") else "cluster-wide"
        return allowed == want, (f"{c['user']} {'can' if allowed else 'cannot'} {c['verb']} {c['resource']} {where} "
                                 f"(want {'can' if want else 'cannot'})")
    kind, ns, name = a["kind"], a.get("namespace") or None, a.get("name")
    what = f"{kind} {ns + '/' if ns else ''}{name or '[' + str(a.get('selector') or '') + ']'}"
    if name:
        obj = reader.get(kind, ns, name)
    else:
        items = reader.list(kind, ns, a.get("selector"))
        obj = {"count": len(items), "items": items}
    if a.get("absent"):
        return obj is None, f"{what} {'is absent' if obj is None else 'exists'}"
    if obj is None:
        return False, f"{what} does not exist"
    if "path" not in a:
        return True, f"{what} exists"
    op = a.get("op", "eq")
    got = resolve(obj, a.get("path"))
    shown = "missing" if got is MISSING else repr(got)[:120]
    ok = compare(got, op, a.get("value"))
    return ok, f"{what} {a.get('path')} = {shown} ({op} {a.get('value')!r}: {'holds' if ok else 'fails'})"


def verdicts(kube: Any, goal: list[dict[str, Any]] | None) -> list[tuple[bool | None, str]]:
    """Every assertion of a goal against the cluster: (True | False | None when it could not be read, e.g. the
    principal may not read it or create a SubjectAccessReview; what was found)."""
    reader = kube if hasattr(kube, "access") else KubeReader(kube)
    out: list[tuple[bool | None, str]] = []
    for a in goal or []:
        try:
            out.append(check_one(reader, a))
        except KubeError as e:
            out.append((None, f"{describe(a)}: could not check ({e.message})"))
        except (KeyError, TypeError, AttributeError) as e:
            out.append((False, f"{a!r}: not a goal assertion ({e})"))
    return out


STATUS_WAIT_S = 30.0  # how long a status field (written by a controller after the apply) may take to hold


def patience(a: dict[str, Any]) -> float:
    """How long an assertion may take to hold after the apply: its `wait_s` (the state grader's key), else
    STATUS_WAIT_S for a `status.` field (a claim Bound, replicas ready), else 0 (what was set holds at once)."""
    if a.get("wait_s") is not None:
        return float(a["wait_s"])
    return STATUS_WAIT_S if str(a.get("path") or "").startswith("status.") else 0.0


def settled_verdicts(kube: Any, goal: list[dict[str, Any]] | None, poll_s: float = 0.5,
                     sleep: Any = time.sleep) -> list[tuple[bool | None, str]]:
    """`verdicts`, with every assertion that does not hold yet checked again until it does or its `patience` is
    spent: a status field is polled, not read once right after the apply."""
    goal = list(goal or [])
    out = verdicts(kube, goal)
    start = time.monotonic()
    while True:
        waiting = [i for i, (ok, _) in enumerate(out) if ok is False and time.monotonic() - start < patience(goal[i])]
        if not waiting:
            return out
        sleep(poll_s)
        for i, found in zip(waiting, verdicts(kube, [goal[i] for i in waiting]), strict=True):
            out[i] = found


def check(kube: Any, goal: list[dict[str, Any]] | None) -> list[tuple[bool, str]]:
    """Every assertion of a goal against the cluster, as (holds, what was found); one that could not be read
    is not shown to hold (False, with the API's message)."""
    return [(bool(ok), detail) for ok, detail in verdicts(kube, goal)]


def failed(kube: Any, goal: list[dict[str, Any]] | None) -> list[str]:
    """What did not hold, in words (empty: the goal holds)."""
    return [detail for ok, detail in check(kube, goal) if not ok]
