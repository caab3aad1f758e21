"""The closed table of approved non-Kubernetes actions (load a LoRA adapter, run a mutating synthesized tool).

Why a table and not a module path: a Mutation with verb "action" waits in a checkpoint until the person
approves it; if the approval step imported whatever `module:function` the checkpoint named, a checkpoint edited
on disk could make it run arbitrary code. Here only functions that their own module registered by name
(`@action("serving.load_adapter")`) can run; an unknown name is refused. The tools that offer actions register
them when imported, and the supervisor imports them (see `agents/supervisor.py`), so a resumed approval finds
them in a fresh process too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tools.k8s.errors import KubeError

if TYPE_CHECKING:
    from tools.k8s.client import Kube
    from tools.k8s.mutations import Mutation

ActionFn = Callable[..., Any]  # fn(kube, **args)

_TABLE: dict[str, ActionFn] = {}


def action(name: str) -> Callable[[ActionFn], ActionFn]:
    """Register `fn(kube, **args)` as the approved action `name` (decorator); a name is registered once."""

    def register(fn: ActionFn) -> ActionFn:
        if _TABLE.get(name, fn) is not fn:
            raise ValueError(f"approved action {name!r} is already registered to {_legacy_name(_TABLE[name])}")
        _TABLE[name] = fn
        return fn

    return register


def names() -> list[str]:
    return sorted(_TABLE)


def _legacy_name(fn: ActionFn) -> str:
    return f"{fn.__module__}:{fn.__name__}"


def lookup(body: dict[str, Any] | None) -> tuple[str, ActionFn]:
    """(name, function) of the action a Mutation body names: `{"action": name}`, or an older checkpoint's
    `{"handler": "tools.mod:fn"}` matched against the registered functions' own module:function (never imported)."""
    body = body or {}
    name = str(body.get("action") or "")
    if not name and body.get("handler"):
        handler = str(body["handler"])
        name = next((n for n, fn in _TABLE.items() if _legacy_name(fn) == handler), handler)
    if name not in _TABLE:
        known = ", ".join(names()) or "none registered"
        raise KubeError(400, "BadAction", f"not an approved action: {name!r} (approved actions: {known}); "
                                          "propose the change again so it is looked up by name")
    return name, _TABLE[name]


def run_action(kube: Kube, m: Mutation) -> Any:
    """Run an approved non-Kubernetes change with the arguments the proposal carried."""
    _, fn = lookup(m.body if isinstance(m.body, dict) else None)
    return fn(kube, **(((m.body or {}).get("args")) or {}))
