"""The bridge to the independent simulator `@cloud-copilot/iam-simulate` (npm), run through node.

Why a subprocess: the simulator is a TypeScript library; one `node tests/policies/iam_simulate.mjs` process
decides a whole batch of cases (JSON on stdin, decisions on stdout), so thousands of cases cost a second.
The package is installed on demand into `<repo>/.cache/npm`; failing to install is an error, never a skip.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
PREFIX = REPO / ".cache" / "npm"
SCRIPT = REPO / "tests" / "policies" / "iam_simulate.mjs"
PACKAGE = "@cloud-copilot/iam-simulate"


class SimulatorUnavailable(RuntimeError):
    """node/npm missing or the package could not be installed."""


def ensure_installed(prefix: Path = PREFIX) -> Path:
    """Install the simulator under `prefix` unless it is there; return the prefix."""
    marker = prefix / "node_modules" / "@cloud-copilot" / "iam-simulate" / "package.json"
    if marker.exists():
        return prefix
    npm = shutil.which("npm")
    if not npm or not shutil.which("node"):
        raise SimulatorUnavailable("node and npm are needed for the differential tests (install Node.js >= 18)")
    prefix.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--prefix", str(prefix), PACKAGE],
                          capture_output=True, text=True, timeout=600, env={**os.environ, "npm_config_loglevel": "error"})
    if proc.returncode != 0 or not marker.exists():
        raise SimulatorUnavailable(f"npm install {PACKAGE} failed:\n{proc.stdout}\n{proc.stderr}")
    return prefix


def simulate(cases: list[dict[str, Any]], prefix: Path = PREFIX) -> list[Any]:
    """Decisions ("Allowed", "ExplicitlyDenied", "ImplicitlyDenied", or {"error": ...}) for each case."""
    payload = [{**{k: v for k, v in c.items() if k != "request"}, "kind": c.get("kind", "identity"),
                "action": c["request"]["action"], "resource": c["request"]["resource"],
                "principal": c["request"].get("principal"), "context": c["request"].get("context", {})}
               for c in cases]
    proc = subprocess.run(["node", str(SCRIPT), str(prefix)], input=json.dumps(payload), capture_output=True,
                          text=True, timeout=600)
    if proc.returncode != 0:
        raise SimulatorUnavailable(f"node {SCRIPT.name} failed: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout)
