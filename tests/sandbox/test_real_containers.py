"""Real programs on the sandbox, through kubectl: containers whose program this machine has run as jailed
processes (sandbox/jail/), so their logs, exit codes, probes and exec are the program's own.

Skipped where the jail cannot be built (not root, no namespaces) or real processes are turned off
(`KUBESAGE_SANDBOX_REAL=0`): there the behaviour model answers instead.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.controllers.real import ENABLED
from sandbox.jail.images import busybox_binary, system_python
from sandbox.server import SandboxServer
from tests.sandbox.conftest import Kubectl
from tests.waiting import until

SPEED = 20.0
NS = "real"

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0 or not system_python() or not busybox_binary(),
                       reason="real containers need root (namespaces, cgroups), python3 and busybox-static"),
    pytest.mark.skipif(not ENABLED, reason="KUBESAGE_SANDBOX_REAL=0: the behaviour model runs every container"),
]

SCRIPT = """\
import time
for i in range(3):
    print(f"line {i}")
    try:
        if i == 1:
            1 / 0
    except ZeroDivisionError as e:
        print(f"caught {type(e).__name__}: {e}")
while True:
    time.sleep(1)
"""


@pytest.fixture(scope="module")
def k(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kubectl]:
    server = SandboxServer(scenarios=["default"], speed=SPEED).start()
    kubectl = Kubectl(Path(server.write_kubeconfig(tmp_path_factory.mktemp("real") / "config")))
    kubectl("create", "namespace", NS)
    yield kubectl
    server.stop()


def apply(k: Kubectl, *docs: dict) -> None:
    k("apply", "-n", NS, "-f", "-", stdin="\n---\n".join(json.dumps(d) for d in docs))


def pod(name: str, containers: list[dict], **spec: object) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": name}},
            "spec": {"containers": containers, **spec}}


def status(k: Kubectl, name: str, container: int = 0) -> dict:
    p = json.loads(k("get", "pod", name, "-n", NS, "-o", "json"))
    return ((p.get("status") or {}).get("containerStatuses") or [{}])[container]


def test_python_script_from_configmap_logs_its_lines_and_caught_exception(k):
    apply(k, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "script"}, "data": {"main.py": SCRIPT}},
          pod("script", [{"name": "app", "image": "python:3.9-slim", "command": ["python", "/app/main.py"],
                          "env": [{"name": "PYTHONUNBUFFERED", "value": "1"}],
                          "volumeMounts": [{"name": "code", "mountPath": "/app"}]}],
              volumes=[{"name": "code", "configMap": {"name": "script"}}]))
    k("wait", "--for=condition=Ready", "pod/script", "-n", NS, "--timeout=30s")
    def printed() -> str | None:
        out = k("logs", "script", "-n", NS)
        return out if "line 2" in out else None

    logs = until(printed, 20, "the script's output")
    assert logs.splitlines() == ["line 0", "line 1", "caught ZeroDivisionError: division by zero", "line 2"]


def test_sidecar_reads_what_another_container_writes_in_a_shared_empty_dir(k):
    apply(k, pod("sidecar", [
        {"name": "writer", "image": "busybox:1.36",
         "command": ["sh", "-c", "echo hello-from-writer > /shared/msg; sleep 3600"],
         "volumeMounts": [{"name": "shared", "mountPath": "/shared"}]},
        {"name": "reader", "image": "busybox:1.36",
         "command": ["sh", "-c", "until [ -f /shared/msg ]; do sleep 0.1; done; cat /shared/msg; sleep 3600"],
         "volumeMounts": [{"name": "shared", "mountPath": "/shared"}]}],
        volumes=[{"name": "shared", "emptyDir": {}}]))
    out = until(lambda: k.run("logs", "sidecar", "-c", "reader", "-n", NS, check=False).stdout.strip(), 30,
                "the reader's log")
    assert out == "hello-from-writer"


def test_allocating_past_the_memory_limit_is_oom_killed(k):
    apply(k, pod("hog", [{"name": "hog", "image": "python:3.12", "resources": {"limits": {"memory": "64Mi"}},
                          "command": ["python3", "-c", "x = bytearray(300 * 1024 * 1024); print('allocated')"]}],
                 restartPolicy="Never"))
    term = until(lambda: (status(k, "hog").get("state") or {}).get("terminated"), 30, "the hog to end")
    assert (term["reason"], term["exitCode"]) == ("OOMKilled", 137)
    assert "allocated" not in k("logs", "hog", "-n", NS)


def test_failing_exec_probe_restarts_the_container_and_previous_logs_remain(k):
    apply(k, pod("unhealthy", [{"name": "app", "image": "busybox:1.36",
                                "command": ["sh", "-c", "echo started at $(date +%s); sleep 3600"],
                                "livenessProbe": {"exec": {"command": ["cat", "/tmp/healthy"]},
                                                  "periodSeconds": 5, "failureThreshold": 2}}]))
    def restarted() -> dict | None:
        cs = status(k, "unhealthy")
        return cs if cs.get("restartCount", 0) >= 1 and cs.get("lastState") else None

    cs = until(restarted, 30, "a restart")
    assert cs["lastState"]["terminated"]["exitCode"] == 137
    assert k("logs", "unhealthy", "-n", NS, "--previous").startswith("started at ")
    events = json.loads(k("get", "events", "-n", NS, "--field-selector", "involvedObject.name=unhealthy", "-o",
                          "json"))["items"]
    messages = [e["message"] for e in events if e["reason"] == "Unhealthy"]
    assert any("cat: can't open '/tmp/healthy': No such file or directory" in m for m in messages)


def test_kubectl_exec_runs_python_for_real(k):
    apply(k, pod("shell", [{"name": "py", "image": "python:3.11-slim", "command": ["sleep", "3600"]}]))
    k("wait", "--for=condition=Ready", "pod/shell", "-n", NS, "--timeout=30s")
    assert k("exec", "shell", "-n", NS, "--", "python3", "-c", "print(6*7)").strip() == "42"
    failed = k.run("exec", "shell", "-n", NS, "--", "python3", "-c", "raise SystemExit(3)", check=False)
    assert failed.returncode == 3


def test_http_server_answers_through_its_service(k):
    apply(k, pod("web", [{"name": "web", "image": "python:3.13", "workingDir": "/srv",
                          "command": ["python", "-m", "http.server", "8000"], "ports": [{"containerPort": 8000}],
                          "readinessProbe": {"httpGet": {"path": "/", "port": 8000}, "periodSeconds": 2}}]),
          {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
           "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8000}]}})
    k("wait", "--for=condition=Ready", "pod/web", "-n", NS, "--timeout=30s")
    body = until(lambda: k.run("get", "--raw", f"/api/v1/namespaces/{NS}/services/web:80/proxy/",
                               check=False).stdout, 20, "an answer through the Service")
    assert "Directory listing for /" in body
