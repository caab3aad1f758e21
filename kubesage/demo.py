"""`make demo`: the main job on the embedded default.

Until the agents land, the demo starts the sandbox cluster (default scenario), then drives it with the real
kubectl the way a person would: look around, deploy an app, change it, check rights, clean up.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from sandbox.server import SandboxServer

APP = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: "nginx:1.25", ports: [{containerPort: 80}]}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 80}]
"""

STEPS: list[tuple[str, list[str], str | None]] = [
    ("What is this cluster?", ["version"], None),
    ("Its nodes", ["get", "nodes", "-o", "wide"], None),
    ("A namespace for the demo", ["create", "namespace", "demo"], None),
    ("Deploy an app (multi-document manifest)", ["apply", "-n", "demo", "-f", "-"], APP),
    ("Apply again: nothing changes", ["apply", "-n", "demo", "-f", "-"], APP),
    ("What runs there", ["get", "deploy,svc", "-n", "demo", "-o", "wide"], None),
    ("Roll a new image", ["set", "image", "deploy/web", "web=nginx:1.27", "-n", "demo"], None),
    ("Scale it", ["scale", "deploy/web", "--replicas=3", "-n", "demo"], None),
    ("Its image and replicas, by jsonpath",
     ["get", "deploy", "web", "-n", "demo", "-o", "jsonpath={.spec.template.spec.containers[0].image} x{.spec.replicas}{'\\n'}"], None),
    ("Can alice delete secrets in demo?", ["auth", "can-i", "delete", "secrets", "-n", "demo", "--as", "alice"], None),
    ("Give alice read access, ask again", ["create", "rolebinding", "alice-view", "--clusterrole=view",
                                           "--user=alice", "-n", "demo"], None),
    ("Can alice list pods in demo now?", ["auth", "can-i", "list", "pods", "-n", "demo", "--as", "alice"], None),
    ("Explain a field", ["explain", "deployment.spec.strategy.rollingUpdate"], None),
    ("Clean up", ["delete", "namespace", "demo"], None),
]


def main() -> int:
    kubectl = shutil.which("kubectl", path=str(Path(sys.executable).parent)) or shutil.which("kubectl")
    if not kubectl:
        print("error: kubectl not found; run `make install`", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="kubesage-demo-") as tmp, SandboxServer(scenarios=["default"]) as server:
        kubeconfig = server.write_kubeconfig(Path(tmp) / "kubeconfig")
        env = dict(os.environ, KUBECONFIG=str(kubeconfig), KUBECACHEDIR=str(Path(tmp) / "cache"))
        print(f"kubesage sandbox API server at {server.url} (embedded; no cluster, no network)\n")
        failures = 0
        for title, args, stdin in STEPS:
            print(f"## {title}\n$ kubectl {' '.join(args)}")
            proc = subprocess.run([kubectl, *args], input=stdin, capture_output=True, text=True, env=env, timeout=60)
            print((proc.stdout + proc.stderr).rstrip() + "\n")
            # `auth can-i` answers "no" with exit code 1; that is an answer, not a failure.
            if proc.returncode != 0 and args[:2] != ["auth", "can-i"]:
                failures += 1
        print("demo finished" + (f" with {failures} failed step(s)" if failures else ": every step succeeded"))
        return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
