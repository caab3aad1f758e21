"""`make demo`: the main job on the embedded default.

Until the agents land, the demo starts the sandbox cluster with the `demo-shop` scenario (clock 20x), then
drives it with the real kubectl the way a person would (look around, see what is broken, deploy an app and
reach it over its Service), then asks kubesage's agents plain-language questions about the faults and
approves the changes they propose.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sandbox.server import SandboxServer

APP = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: hello, labels: {app: hello}}
spec:
  replicas: 2
  selector: {matchLabels: {app: hello}}
  template:
    metadata: {labels: {app: hello}}
    spec:
      containers: [{name: hello, image: "nginx:1.27", ports: [{containerPort: 80}]}]
---
apiVersion: v1
kind: Service
metadata: {name: hello}
spec:
  selector: {app: hello}
  ports: [{port: 80, targetPort: 80}]
"""

STEPS: list[tuple[str, list[str], str | None]] = [
    ("What is this cluster?", ["version"], None),
    ("Its nodes", ["get", "nodes", "-o", "wide"], None),
    ("The demo-shop namespace: one healthy tier, seven faults", ["get", "pods", "-n", "shop", "-o", "wide"], None),
    ("What the cluster says is wrong", ["get", "events", "-n", "shop", "--field-selector", "type=Warning",
                                         "--sort-by=.lastTimestamp"], None),
    ("Why checkout crashes", ["logs", "deploy/checkout", "-n", "shop", "--previous", "--tail=3"], None),
    ("Who is eating the CPU", ["top", "pods", "-n", "shop", "--sort-by=cpu"], None),
    ("Can the orders app read its config?", ["auth", "can-i", "list", "configmaps", "-n", "shop",
                                              "--as", "system:serviceaccount:shop:orders"], None),
    ("Deploy an app of your own (multi-document manifest)", ["apply", "-n", "shop", "-f", "-"], APP),
    ("Apply again: nothing changes", ["apply", "-n", "shop", "-f", "-"], APP),
    ("Wait for it", ["rollout", "status", "deploy/hello", "-n", "shop", "--timeout=60s"], None),
    ("Ask it over the Service, from inside a pod", ["exec", "deploy/hello", "-n", "shop", "--", "curl", "-s",
                                                   "http://hello.shop.svc.cluster.local"], None),
    ("Explain a field", ["explain", "deployment.spec.strategy.rollingUpdate"], None),
]


QUESTIONS = [
    "why is checkout crashing in shop?",
    "what's wrong with payments?",
    "why is the orders service not getting traffic?",
    "which pods use the most cpu in shop?",
    "can ci-bot delete secrets in shop?",
    "can the orders service account list configmaps in shop?",
    "scale web in shop to 4 replicas",
    "what images are running in shop?",
    "create an nginx pod named web-server in namespace web-server",
    "fix whatever is wrong with the catalog deployment in shop",
    'fix this IAM policy so alice can only read the reports bucket: {"Version": "2012-10-17", "Statement": '
    '[{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}',
]


def _ask_agents(kubeconfig: Path, home: Path) -> int:
    """Part two: plain-language questions to the supervisor; changes are shown with their diff and approved."""
    from kubesage import settings
    from kubesage.runtime import Runtime
    from tools.k8s.client import Principal

    rt = Runtime(settings.load({"KUBESAGE_HOME": str(home)}), kubeconfig=str(kubeconfig))
    failures = 0
    try:
        for i, q in enumerate(QUESTIONS):
            t = time.perf_counter()
            try:
                r = rt.supervisor.start(q, Principal(), f"demo-{i}")
            except Exception as e:  # noqa: BLE001 - the demo reports and goes on
                print(f"## {q}\nerror: {e}\n")
                failures += 1
                continue
            route = r["route"] or {}
            print(f"## You: {q}\n(route: {', '.join(route.get('agents', []))} by {route.get('method')}, "
                  f"{(time.perf_counter() - t) * 1000:.0f} ms; "
                  f"{'served by the deterministic tools, no model call' if rt.llm is None else 'gateway used for routing'})")
            print(r["answer"])
            while r.get("approval"):
                a = r["approval"]
                print(f"\n  Proposed change: {a['action']} — {a.get('why', '')}")
                print("\n".join("    " + line for line in (a.get("diff") or a.get("dry_run_error") or "").splitlines()[:20]))
                print("  [demo] approving")
                r = rt.supervisor.resume(r["thread_id"], "approve")
                last = (r.get("outcomes") or [{}])[-1]
                health = f" (health check: {last['health']})" if last.get("health") else ""
                print(f"  -> {last.get('status', '?')}: {last.get('action', '')} {last.get('error') or ''}{health}".rstrip())
            print()
    finally:
        rt.close()
    return failures


def main() -> int:
    kubectl = shutil.which("kubectl", path=str(Path(sys.executable).parent)) or shutil.which("kubectl")
    if not kubectl:
        print("error: kubectl not found; run `make install`", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="kubesage-demo-") as tmp, \
            SandboxServer(scenarios=["demo-shop"], speed=20.0) as server:
        time.sleep(2.0)  # let the faults develop (40 s of sandbox time)
        kubeconfig = server.write_kubeconfig(Path(tmp) / "kubeconfig")
        env = dict(os.environ, KUBECONFIG=str(kubeconfig), KUBECACHEDIR=str(Path(tmp) / "cache"))
        print(f"kubesage sandbox API server at {server.url} (embedded; no cluster, no network)\n")
        failures = 0
        for title, args, stdin in STEPS:
            print(f"## {title}\n$ kubectl {' '.join(args)}")
            proc = subprocess.run([kubectl, *args], input=stdin, capture_output=True, text=True, env=env, timeout=60)
            print((proc.stdout + proc.stderr).rstrip() + "\n")
            # `auth can-i` answers "no" with exit code 1, and checkout has no previous run until it crashed
            # once: those are answers, not failures.
            if proc.returncode != 0 and args[:2] != ["auth", "can-i"]:
                failures += 1
        print("=" * 100 + "\nPart two: ask kubesage\n")
        failures += _ask_agents(kubeconfig, Path(tmp) / "home")
        print("demo finished" + (f" with {failures} failed step(s)" if failures else ": every step succeeded"))
        return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
