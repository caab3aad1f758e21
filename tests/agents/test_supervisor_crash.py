"""Crash safety of approvals (issue 20): the process is killed with `os._exit` at each point between a person's yes
and the end of the health wait (agents/approvals.py CRASH_POINTS), for a create, a patch, a scale and a delete,
through the CLI and through `kubesage serve` on a real uvicorn. After a restart every change is applied exactly once
(the sandbox counts the writes it received), has exactly one audit line (with thread id, groups and approval id),
nothing applied is still offered for approval, and the thread takes its next turn.

Processes come from a fork server (tests/agents/crash_driver.py): each run is a fresh process that really dies,
without paying for imports each time; the cases run side by side, each with its own KUBESAGE_HOME.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from agents.approvals import CRASH_EXIT, CRASH_POINTS, MARKER
from sandbox.server import SandboxServer
from tools.k8s.client import Kube

NS = "crash"
TOKEN = "crash-test-token"
TOKENS = {TOKEN: {"user": "ops", "groups": ["system:masters", "crash-testers"]}}
# verb -> the request (for object `name`)
ASK = {
    "create": "create a deployment named {name} in namespace crash with image nginx:1.25",
    "patch": "set the image of deployment {name} in crash to nginx:1.26",
    "scale": "scale deployment {name} in crash to 2",
    "delete": "delete deployment {name} in crash",
}
ENV = {"KUBESAGE_HEALTH_STABLE_S": "0.3", "KUBESAGE_HEALTH_TIMEOUT_S": "8", "KUBESAGE_LOG_LEVEL": "error",
       "KUBESAGE_API_TOKENS": json.dumps(TOKENS)}
CASES = [(verb, point) for verb in ASK for point in CRASH_POINTS]


def _name(verb: str, mode: str, point: str) -> str:
    return f"{verb[:3]}-{mode}{CRASH_POINTS.index(point)}"


def _deployment(name: str) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": NS},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "web", "image": "nginx:1.25"}]}}}}


class Cluster:
    """The sandbox, with a count of the real (not dry-run) writes it received per object name."""

    def __init__(self, tmp: Path) -> None:
        self.server = SandboxServer(scenarios=["default"], speed=20.0).start()
        self.kubeconfig = str(self.server.write_kubeconfig(tmp / "kubeconfig"))
        self.writes: Counter[tuple[str, str]] = Counter()
        admin = Kube.from_kubeconfig(self.kubeconfig)
        admin.request("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                                     "metadata": {"name": NS}})
        for mode in ("c", "h"):
            for verb in ("patch", "scale", "delete"):
                for point in CRASH_POINTS:
                    admin.request("POST", f"/apis/apps/v1/namespaces/{NS}/deployments",
                                  _deployment(_name(verb, mode, point)))
        self.admin = admin
        dispatch = self.server.app.dispatch

        async def counting(req: Any, receive: Any, send: Any) -> None:
            if req.method in ("POST", "PUT", "PATCH", "DELETE") and "dryRun" not in req.query and \
                    f"/namespaces/{NS}/" in req.path:
                parts = req.path.rstrip("/").split("/")
                name = f"scale:{parts[-2]}" if parts[-1] == "scale" else parts[-1]
                if req.method == "POST":
                    name = ((json.loads(req.body or b"{}").get("metadata") or {}).get("name")) or name
                self.writes[(req.method, name)] += 1
            return await dispatch(req, receive, send)

        self.server.app.dispatch = counting

    def get(self, name: str) -> dict[str, Any] | None:
        return self.server.cluster.store.get("apps/deployments", NS, name)


class Driver:
    """The fork server: `spawn` starts a fresh process running the kubesage CLI; `wait` reaps it."""

    def __init__(self) -> None:
        env = {**os.environ, **ENV}
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.agents.crash_driver"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, env=env, cwd=Path(__file__).parents[2])
        assert json.loads(self.proc.stdout.readline()) == {"ready": True}
        self.lock = threading.Lock()
        self.done: dict[int, int] = {}

    def _send(self, cmd: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.proc.stdin.write(json.dumps(cmd) + "\n")
            self.proc.stdin.flush()
            return json.loads(self.proc.stdout.readline())

    def spawn(self, argv: list[str], **env: str) -> int:
        return self._send({"argv": argv, "env": env})["pid"]

    def wait(self, pid: int, timeout: float = 120) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if pid in self.done:
                    return self.done.pop(pid)
            for p, rc in self._send({"reap": True})["done"].items():
                with self.lock:
                    self.done[int(p)] = rc
            time.sleep(0.1)
        os.kill(pid, signal.SIGKILL)
        raise AssertionError(f"process {pid} did not end in {timeout} s")

    def run(self, argv: list[str], **env: str) -> int:
        return self.wait(self.spawn(argv, **env))

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Cluster, Driver]]:
    cluster = Cluster(tmp_path_factory.mktemp("crash"))
    driver = Driver()
    yield cluster, driver
    driver.close()
    cluster.server.stop()


def _audit(home: Path) -> list[dict[str, Any]]:
    path = home / "audit.log"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _checkpoint(home: Path, kubeconfig: str, thread: str) -> tuple[Any, list[dict[str, Any]]]:
    """(the approval the thread still offers, its finished turns), read as a new process would."""
    from kubesage.runtime import Runtime
    from kubesage.settings import load

    rt = Runtime(load({"KUBESAGE_HOME": str(home)}), kubeconfig=kubeconfig)
    try:
        return rt.supervisor.pending_approval(thread), rt.supervisor.history(thread)
    finally:
        rt.supervisor.ledger.close()
        rt.close()


def _expect_once(cluster: Cluster, verb: str, name: str, home: Path, thread: str) -> list[str]:
    """What is wrong with the case after its restart (empty: nothing)."""
    problems = []
    method, key = {"create": ("POST", name), "patch": ("PATCH", name), "scale": ("PATCH", f"scale:{name}"),
                   "delete": ("DELETE", name)}[verb]
    writes = {f"{m} {n}": v for (m, n), v in cluster.writes.items() if n in (name, f"scale:{name}")}
    count = cluster.writes[(method, key)]
    if count != 1:
        problems.append(f"{verb} {name} written {count} times: {writes}")
    obj = cluster.get(name)
    state = {"create": lambda: obj and (obj["metadata"].get("annotations") or {}).get(MARKER),
             "patch": lambda: obj and obj["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.26",
             "scale": lambda: obj and obj["spec"]["replicas"] == 2,
             "delete": lambda: obj is None or obj["metadata"].get("deletionTimestamp")}[verb]()
    if not state:
        problems.append(f"{verb} {name} is not in place: {obj and obj.get('spec')}")
    lines = [e for e in _audit(home) if e["tool"] == verb and (e["arguments"] or {}).get("name") == name]
    if len(lines) != 1:
        problems.append(f"{len(lines)} audit lines for {verb} {name}")
    elif not (lines[0]["thread_id"] == thread and lines[0]["approval_id"] and lines[0]["outcome"] == "applied"
              and lines[0]["principal"] and isinstance(lines[0]["groups"], list)):
        problems.append(f"audit line incomplete: {lines[0]}")
    return problems


def _cli_case(cluster: Cluster, driver: Driver, root: Path, verb: str, point: str) -> list[str]:
    name, home, thread = _name(verb, "c", point), root / f"cli-{verb}-{point}", f"crash-{verb}-{point}"
    env = {"KUBESAGE_HOME": str(home)}
    ask = ["ask", "--kubeconfig", cluster.kubeconfig, "--yes", "--thread", thread, ASK[verb].format(name=name)]
    rc = driver.run(ask, **env, KUBESAGE_CRASH_AT=point)
    if rc != CRASH_EXIT:
        return [f"the run for {verb} did not stop at {point} (exit {rc})"]
    problems = []
    if point == "decided" and any(n in (name, f"scale:{name}") for _, n in cluster.writes):
        problems.append(f"{verb} {name} applied before the decision was recorded")
    rc = driver.run(["approve", "--kubeconfig", cluster.kubeconfig, thread], **env)
    if rc != 0:
        problems.append(f"approve after the restart exited {rc}")
    problems += _expect_once(cluster, verb, name, home, thread)
    pending, history = _checkpoint(home, cluster.kubeconfig, thread)
    if pending is not None:
        problems.append(f"still offered for approval after the restart: {pending['action']}")
    if not history or [o["status"] for o in history[-1]["outcomes"]] != ["applied"]:
        problems.append(f"the thread's last turn does not show the change applied: {history[-1:] if history else None}")
    rc = driver.run(["ask", "--kubeconfig", cluster.kubeconfig, "--thread", thread, "--read-only",
                     "list the deployments in crash"], **env)
    if rc != 0:
        problems.append(f"the thread's next turn failed (exit {rc})")
    return problems


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(cluster: Cluster, driver: Driver, home: Path, **env: str) -> tuple[int, httpx.Client]:
    port = _free_port()
    pid = driver.spawn(["serve", "--port", str(port), "--kubeconfig", cluster.kubeconfig],
                       KUBESAGE_HOME=str(home), **env)
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {TOKEN}"},
                          timeout=90)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if client.get("/healthz").status_code == 200:
                return pid, client
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError("kubesage serve did not come up")


def _http_case(cluster: Cluster, driver: Driver, root: Path, verb: str, point: str) -> list[str]:
    name, home = _name(verb, "h", point), root / f"http-{verb}-{point}"
    pid, client = _serve(cluster, driver, home, KUBESAGE_CRASH_AT=point)
    try:
        r = client.post("/v1/threads", json={"text": ASK[verb].format(name=name)})
        turn = r.json().get("turn") or {}
        if r.status_code != 201 or not turn.get("approval"):
            os.kill(pid, signal.SIGKILL)
            driver.wait(pid)
            return [f"no approval proposed for {verb} {name}: {r.status_code} {turn.get('answer')}"]
        thread, approval = turn["thread_id"], turn["approval"]["id"]
        try:
            r = client.post(f"/v1/approvals/{thread}", json={"decision": "approve", "approval_id": approval})
            return [f"the server answered {r.status_code} instead of stopping at {point}"]
        except httpx.TransportError:
            pass  # the server died mid-request, as asked
    finally:
        client.close()
    if (rc := driver.wait(pid)) != CRASH_EXIT:
        return [f"the server exited {rc}, not at {point}"]
    problems = []
    pid, client = _serve(cluster, driver, home)
    try:
        deadline, detail = time.monotonic() + 60, {}
        while time.monotonic() < deadline:  # the restarted server finishes the approval by itself
            detail = client.get(f"/v1/threads/{thread}").json()
            if point == "decided" and detail.get("approval"):  # nothing was recorded: it is rightly still asked
                if detail["approval"]["id"] != approval:
                    problems.append("a different approval is offered after the restart")
                r = client.post(f"/v1/approvals/{thread}", json={"decision": "approve", "approval_id": approval})
                if r.status_code != 200:
                    problems.append(f"approving again after the restart: {r.status_code} {r.text[:200]}")
                continue
            if not detail.get("approval") and detail.get("history"):
                break
            time.sleep(0.3)
        if detail.get("approval"):
            problems.append(f"still offered for approval after the restart: {detail['approval']['action']}")
        history = detail.get("history") or []
        if not history or [o["status"] for o in history[-1]["outcomes"]] != ["applied"]:
            problems.append(f"the thread's last turn does not show the change applied: {history[-1:]}")
        r = client.post(f"/v1/threads/{thread}/messages", json={"text": "list the deployments in crash"})
        if r.status_code != 200:
            problems.append(f"the thread's next turn: {r.status_code} {r.text[:200]}")
    finally:
        client.close()
    os.kill(pid, signal.SIGTERM)
    driver.wait(pid)
    return problems + _expect_once(cluster, verb, name, home, thread)


@pytest.mark.parametrize("mode", ["cli", "http"])
def test_a_crash_at_any_point_applies_each_change_exactly_once(world, tmp_path, mode):
    cluster, driver = world
    case = _cli_case if mode == "cli" else _http_case
    with ThreadPoolExecutor(max_workers=10) as pool:
        futures = {(verb, point): pool.submit(case, cluster, driver, tmp_path, verb, point) for verb, point in CASES}
    failures = {f"{verb}@{point}": f.result() for (verb, point), f in futures.items() if f.result()}
    assert not failures, json.dumps(failures, indent=1)
