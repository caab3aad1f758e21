"""Diagnosis checks for Kubernetes (the logs agent's evidence layer), k8sgpt-style: one check per module.

    from tools.diagnose import snapshot_from_client, run_all
    snap = snapshot_from_client(api_client, "shop")
    for f in run_all(snap, target="checkout"):
        print(f.text())

- `Snapshot` / `snapshot_from_client`: what the checks read (API objects as dicts, logs, metrics).
- `Finding`: reason, summary, quoted evidence, root cause, suggested fix and a structured `fix`.
- `REGISTRY` / `run_all`: every check in `tools/diagnose/checks/`, narrowed by namespace and target.
- `apply_fix` / `apply_finding` (tools.diagnose.fixes): apply a fix through the client (dry-run capable).
- `mine` (tools.diagnose.logtemplates): Drain-style log templates with counts and examples.
"""

from tools.diagnose.base import (
           REGISTRY,
           Check,
           Finding,
           Snapshot,
           load_checks,
           register,
           run_all,
           target_refs,
)
from tools.diagnose.fixes import FixError, apply_finding, apply_fix, restart_fix
from tools.diagnose.logtemplates import Template, mine
from tools.diagnose.snapshot import snapshot_from_client

__all__ = ["REGISTRY", "Check", "Finding", "FixError", "Snapshot", "Template", "apply_finding", "apply_fix",
           "load_checks", "mine", "register", "restart_fix", "run_all", "snapshot_from_client", "target_refs"]
