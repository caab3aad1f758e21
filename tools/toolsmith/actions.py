"""The approved-action handler for mutating synthesized tools (named in a Mutation with verb "action").

Why an action by name (`toolsmith.run_registered` in tools/k8s/actions.py's closed table): the supervisor's
approval step runs it with the arguments the proposal carried, so what runs after the person's yes is exactly the
registered tool they were shown — looked up again by name, its code re-checked by the runner's AST gate, run with
writes allowed only now.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tools.k8s.actions import action
from tools.k8s.client import Kube, KubeError


@action("toolsmith.run_registered")
def run_registered(kube: Kube, name: str, args: dict[str, Any] | None = None, home: str | None = None) -> Any:
    """Run the registered tool `name` with writes allowed; its success or failure is counted in the registry."""
    from tools.toolsmith.registry import open_registry
    from tools.toolsmith.runner import run_tool
    from tools.toolsmith.synthesize import _home

    registry = open_registry(Path(home) if home else _home())  # the shared one on replicas
    try:
        rec = registry.get(name)
        if rec is None:
            raise KubeError(404, "NotFound", f"no registered tool named {name!r} (was it removed?)")
        r = run_tool(rec.code, dict(args or {}), kube, mutating=rec.mutates)
        registry.record_outcome(name, r.ok)
        if not r.ok:
            raise KubeError(500 if r.reason != "forbidden" else 403, r.reason or "ToolFailed",
                            f"tool {name} failed: {r.error}")
        return r.value
    finally:
        registry.close()
