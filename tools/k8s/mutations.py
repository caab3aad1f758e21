"""Changes to a cluster as data: `Mutation`, its server-side dry-run preview and diff, the one restart patch, and
the change that undoes it.

Why a Mutation and not a call: nothing changes without the person's yes. An agent (or a write tool) returns
Mutations; the supervisor previews each with a server dry run (`preview`), shows the diff, and only after the
approval runs it (`execute`), checks its health and its goal, and runs `rollback` when the change did not hold.
"""

from __future__ import annotations

import copy
import difflib
import time
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import yaml

from tools.k8s.actions import run_action
from tools.k8s.errors import KubeError

if TYPE_CHECKING:
    from tools.k8s.client import Kube

PATCH_CONTENT = {"strategic": "application/strategic-merge-patch+json", "merge": "application/merge-patch+json",
                 "json": "application/json-patch+json"}
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"


@dataclass
class Mutation:
    """A change a tool proposes; it runs only after approval."""

    verb: str  # patch | create | delete | scale | action (body: {"action": name, "args": {...}}, see actions.py)
    kind: str
    namespace: str
    name: str
    patch_type: str = "strategic"
    body: Any = None
    why: str = ""
    diff: str = ""
    dry_run_error: str = ""
    # After the apply, wait for this object ({kind, namespace, name, timeout_s?, stable_s?}) to be healthy; undo the
    # change (`rollback`, filled by `preview` from the live object) when it does not become so.
    verify: dict[str, Any] | None = None
    rollback: dict[str, Any] | None = None
    # The request's own post-condition, checked after the apply (tools/k8s/goals.py): state assertions
    # {kind, namespace, name, path, op, value} or access assertions {can: {...}, value: bool}.
    goal: list[dict[str, Any]] | None = None
    # Which plan of its agent's answer it belongs to: the Mutations of one answer with the same label (None is a
    # label too) are approved as one, applied in order, and verified and rolled back together. Independent fixes
    # (a diagnosis's separate findings) carry different labels, so each can be approved on its own.
    plan: str | None = None

    def describe(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.verb} {self.kind} {where}{self.name}"

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Mutation:
        return cls(**{f.name: d[f.name] for f in fields(cls) if f.name in d})


# ---- the one restart patch ----------------------------------------------------------------------------------
def restart_patch(when: datetime | None = None) -> dict[str, Any]:
    """What `kubectl rollout restart` sends: the restartedAt annotation on the pod template."""
    stamp = (when or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: stamp}}}}}


def restart(kind: str, namespace: str, name: str, why: str = "rolling restart", **kw: Any) -> Mutation:
    """A rollout restart of a workload as a Mutation (strategic merge patch of the template annotation)."""
    return Mutation("patch", kind, namespace, name, body=restart_patch(), why=why, **kw)


# ---- preview and apply --------------------------------------------------------------------------------------
def send(kube: Kube, m: Mutation, dry_run: bool) -> dict[str, Any]:
    """The API request a Kubernetes Mutation makes (with `dryRun=All` for a preview)."""
    q = [("dryRun", "All")] if dry_run else []
    q.append(("fieldManager", "kubesage"))
    if m.verb in ("create", "patch"):
        q.append(("fieldValidation", "Strict"))  # a misspelt field is an error, not silently dropped
    if m.verb == "create":
        return kube.request("POST", kube.path(m.kind, m.namespace), m.body, q)
    if m.verb == "delete":
        return kube.request("DELETE", kube.path(m.kind, m.namespace, m.name), delete_options(m.body), q)
    if m.verb == "scale":
        return kube.request("PATCH", kube.path(m.kind, m.namespace, m.name, "scale"),
                            {"spec": {"replicas": int(m.body)}}, q, PATCH_CONTENT["merge"])
    if m.verb != "patch":
        raise KubeError(400, "BadMutation", f"unknown change verb {m.verb!r} (create, patch, scale, delete, action)")
    return kube.request("PATCH", kube.path(m.kind, m.namespace, m.name), m.body, q,
                        PATCH_CONTENT.get(m.patch_type, PATCH_CONTENT["strategic"]))


_DELETE_OPTIONS = ("propagationPolicy", "gracePeriodSeconds", "preconditions", "orphanDependents")


def delete_options(body: Any) -> dict[str, Any] | None:
    """The DeleteOptions a delete's body asks for (`{"propagationPolicy": "Background"}`: a Job's pods go with it),
    None when it asks for none (the server's default)."""
    opts = {k: v for k, v in (body or {}).items() if k in _DELETE_OPTIONS} if isinstance(body, dict) else {}
    return {"apiVersion": "v1", "kind": "DeleteOptions", **opts} if opts else None


def preview(kube: Kube, m: Mutation, new_namespaces: frozenset[str] | set[str] = frozenset(),
            deleted: frozenset[tuple[str, str, str]] | set[tuple[str, str, str]] = frozenset()) -> Mutation:
    """Server-side dry run: a copy of `m` with `diff` (or `dry_run_error`) and `rollback` filled, changing nothing.
    `new_namespaces`: ones an earlier change of the same plan creates; `deleted`: (kind, namespace, name) an earlier
    change deletes (recreating a PVC whose storageClassName cannot change). The dry run cannot see either yet, so
    such a create is checked when it is made, right after them; its diff is against what it replaces."""
    m = copy.deepcopy(m)
    if m.verb == "action":  # not a Kubernetes write: the proposing agent wrote the preview itself
        return m
    if m.verb == "create" and m.namespace in new_namespaces:
        m.diff = diff({}, m.body or {}) + f"\n(validated when created, after namespace {m.namespace})"
        m.rollback = rollback_for(m, {})
        return m
    if m.verb == "create" and (m.kind, m.namespace, m.name) in deleted:
        try:
            replaced = kube.get(m.kind, m.namespace, m.name)
        except KubeError:
            replaced = {}
        m.diff = diff(replaced, m.body or {}) + f"\n(validated when created, after the {m.kind} it replaces is deleted)"
        m.rollback = rollback_for(m, {})
        return m
    try:
        before = kube.get(m.kind, m.namespace, m.name) if m.verb != "create" else {}
    except KubeError as e:
        m.dry_run_error = e.message
        return m
    try:
        after = send(kube, m, dry_run=True)
    except KubeError as e:
        m.dry_run_error = e.message
        return m
    if m.verb == "scale":  # the dry run answered a Scale: show it on the workload itself
        after = copy.deepcopy(before)
        after.setdefault("spec", {})["replicas"] = int(m.body)
    m.diff = diff(before, after if m.verb != "delete" else {})
    m.rollback = rollback_for(m, before)
    return m


def execute(kube: Kube, m: Mutation) -> Any:
    """Make the approved change (or run the approved action)."""
    if kube.read_only:
        raise KubeError(403, "ReadOnly", "kubesage is in read-only mode: no changes are made")
    if m.verb == "action":
        return run_action(kube, m)
    try:
        return send(kube, m, dry_run=False)
    except KubeError as e:
        # A create that recreates what an earlier change of the plan deleted (a PVC whose storageClassName cannot
        # change, a bare pod): the old object may still be terminating (grace period, finalizers). Wait for it.
        if m.verb != "create" or e.status != 409 or not wait_gone(kube, m.kind, m.namespace, m.name):
            raise
        return send(kube, m, dry_run=False)


DELETE_WAIT_S = 120.0


def wait_gone(kube: Kube, kind: str, namespace: str, name: str, timeout_s: float | None = None,
              poll_s: float = 0.5) -> bool:
    """Wait while the object is terminating (it has a deletionTimestamp); True once it is gone, False when it is
    not being deleted (a real conflict) or is still there after `timeout_s`."""
    deadline = time.monotonic() + (DELETE_WAIT_S if timeout_s is None else timeout_s)
    while True:
        try:
            live = kube.get(kind, namespace, name)
        except KubeError as e:
            if e.status == 404:
                return True
            raise
        if not (live.get("metadata") or {}).get("deletionTimestamp") or time.monotonic() > deadline:
            return False
        time.sleep(poll_s)


def unchanged(m: Mutation) -> bool:
    """A previewed Kubernetes change whose dry run shows no difference: applying it would change nothing."""
    return m.verb != "action" and not m.dry_run_error and not m.diff.strip()


# ---- diff and undo ------------------------------------------------------------------------------------------
_SERVER_FIELDS = ("managedFields", "resourceVersion", "generation", "uid", "creationTimestamp", "deletionTimestamp",
                  "deletionGracePeriodSeconds", "selfLink")


def clean(obj: dict[str, Any]) -> dict[str, Any]:
    """The object without what the server writes (status, resourceVersion, uid…): what a person set."""
    obj = copy.deepcopy(obj or {})
    meta = obj.get("metadata") or {}
    for k in _SERVER_FIELDS:
        meta.pop(k, None)
    (meta.get("annotations") or {}).pop("kubectl.kubernetes.io/last-applied-configuration", None)
    obj.pop("status", None)
    return obj


def diff(before: dict[str, Any], after: dict[str, Any]) -> str:
    """A unified YAML diff of what a person set (empty when the change changes nothing)."""
    a = yaml.safe_dump(clean(before), sort_keys=True).splitlines() if before else []
    b = yaml.safe_dump(clean(after), sort_keys=True).splitlines() if after else []
    return "\n".join(difflib.unified_diff(a, b, "live", "proposed", lineterm="", n=2))


def rollback_for(m: Mutation, before: dict[str, Any]) -> dict[str, Any] | None:
    """The change that puts `before` back (as a Mutation dict), or None when there is nothing to undo: a create is
    undone by a delete, a delete by re-creating the object as it was, a patch or scale by restoring its fields."""
    if m.verb == "create":
        return Mutation("delete", m.kind, m.namespace, m.name, why=f"undo: remove the {m.kind} created").to_dict()
    if not before or m.verb not in ("patch", "scale", "delete"):
        return None
    if m.verb == "delete":
        body = clean(before)
        (body.get("metadata") or {}).pop("ownerReferences", None)
        return Mutation("create", m.kind, m.namespace, m.name, body=body,
                        why=f"undo: re-create the {m.kind} deleted").to_dict()
    if m.verb == "scale":
        return Mutation("scale", m.kind, m.namespace, m.name, body=int((before.get("spec") or {}).get("replicas", 1)),
                        why="undo: previous replica count").to_dict()
    ops = []
    for key in ("spec", "data", "stringData", "binaryData", "rules", "subjects", "roleRef"):
        if key in before:
            ops.append({"op": "replace" if key != "stringData" else "add", "path": f"/{key}",
                        "value": copy.deepcopy(before[key])})
    meta = before.get("metadata") or {}
    for key in ("labels", "annotations"):
        ops.append({"op": "add", "path": f"/metadata/{key}", "value": copy.deepcopy(meta.get(key) or {})})
    return Mutation("patch", m.kind, m.namespace, m.name, patch_type="json", body=ops,
                    why="undo: restore the object as it was").to_dict()
