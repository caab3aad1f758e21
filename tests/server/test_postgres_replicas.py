"""kubesage as a team's service (issue 17): three `kubesage serve` replicas on one real Postgres, on the sandbox.

Any replica serves any request (a thread started on one is read on another and approved on a third); the same
approval sent to two replicas at the same moment is applied once and both answer with its outcome; a replica
killed with SIGKILL — holding a pending approval, or in the middle of carrying one out — leaves the change applied
exactly once by another; Postgres stopped under traffic gives a 503 that names the database, and the replicas
work again once it is back, without a restart. "Applied once" is counted where it happens: the sandbox counts the
real (not dry-run) writes it receives per object, and the audit table has one line per approval.

Replicas are forked from a warm process (tests/agents/crash_driver.py), each with its own KUBESAGE_HOME: they share
nothing but the database and the cluster.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from itertools import cycle
from pathlib import Path
from typing import Any

import httpx
import pytest

from sandbox.server import SandboxServer
from tests.agents.test_supervisor_crash import TOKEN, Driver
from tests.server.pgserver import PgServer, binaries
from tools.k8s.client import Kube

psycopg = pytest.importorskip("psycopg", reason="psycopg is not installed (the postgres extra of kubesage)")

NS = "rep"
N_RACES = 50  # approvals each sent to two replicas at the same moment


def _deployment(name: str) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": NS},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "web", "image": "nginx:1.25"}]}}}}


class Cluster:
    """The sandbox with deployments to scale, counting the real writes of each object's scale subresource."""

    def __init__(self, tmp: Path, names: list[str]) -> None:
        self.server = SandboxServer(scenarios=["default"], speed=50.0).start()
        self.kubeconfig = str(self.server.write_kubeconfig(tmp / "kubeconfig"))
        self.writes: Counter[str] = Counter()
        admin = Kube.from_kubeconfig(self.kubeconfig)
        admin.request("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
        for name in names:
            admin.request("POST", f"/apis/apps/v1/namespaces/{NS}/deployments", _deployment(name))
        dispatch = self.server.app.dispatch

        async def counting(req: Any, receive: Any, send: Any) -> None:
            if req.method in ("POST", "PUT", "PATCH", "DELETE") and "dryRun" not in req.query and \
                    f"/namespaces/{NS}/" in req.path:
                self.writes[req.path.rstrip("/").split("/")[-2 if req.path.endswith("/scale") else -1]] += 1
            return await dispatch(req, receive, send)

        self.server.app.dispatch = counting

    def replicas(self, name: str) -> int:
        return int(self.server.cluster.store.get("apps/deployments", NS, name)["spec"]["replicas"])


class Replicas:
    """`kubesage serve` processes on one database; `client(i)` talks to replica i, `next()` round-robins."""

    def __init__(self, driver: Driver, cluster: Cluster, pg: PgServer, root: Path) -> None:
        self.driver, self.cluster, self.pg, self.root = driver, cluster, pg, root
        self.procs: dict[int, tuple[int, httpx.Client]] = {}
        self._rr = cycle(range(3))

    def start(self, i: int, **env: str) -> httpx.Client:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        pid = self.driver.spawn(["serve", "--port", str(port), "--kubeconfig", self.cluster.kubeconfig],
                                KUBESAGE_HOME=str(self.root / f"replica-{i}-{port}"),
                                KUBESAGE_DATABASE_URL=self.pg.url, KUBESAGE_APPROVAL_LEASE_S="6", **env)
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {TOKEN}"},
                              timeout=120)
        self.procs[i] = (pid, client)
        return client

    def wait_up(self, i: int, timeout: float = 90) -> None:
        pid, client = self.procs[i]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if client.get("/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.2)
        raise AssertionError(f"replica {i} (pid {pid}) did not come up")

    def client(self, i: int) -> httpx.Client:
        return self.procs[i][1]

    def next(self) -> httpx.Client:
        """The round-robin proxy: each call the next replica."""
        return self.client(next(self._rr))

    def kill(self, i: int) -> None:
        pid, client = self.procs.pop(i)
        os.kill(pid, signal.SIGKILL)
        self.driver.wait(pid)
        client.close()

    def stop_all(self) -> None:
        for i in list(self.procs):
            pid, client = self.procs.pop(i)
            os.kill(pid, signal.SIGTERM)
            try:
                self.driver.wait(pid, timeout=30)
            except AssertionError:
                pass
            client.close()


@pytest.fixture(scope="module")
def pg() -> Iterator[PgServer]:
    bin_dir = binaries()
    if bin_dir is None:
        pytest.skip("Postgres server binaries not found under /usr/lib/postgresql/*/bin (apt-get install postgresql)")
    server = PgServer(bin_dir).start()
    yield server
    server.close()


@pytest.fixture(scope="module")
def fleet(pg: PgServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replicas]:
    names = ["walk", "solo", "pend", "mid-applying", "mid-applied", "after-pg"] + [f"race-{n}" for n in range(N_RACES)]
    tmp = tmp_path_factory.mktemp("replicas")
    cluster = Cluster(tmp, names)
    driver = Driver()
    fleet = Replicas(driver, cluster, pg, tmp)
    try:
        fleet.start(0)
        fleet.wait_up(0)  # the first one creates the schema; the others find it in place
        for i in (1, 2):
            fleet.start(i)
        for i in (1, 2):
            fleet.wait_up(i)
        yield fleet
    finally:
        fleet.stop_all()
        driver.close()
        cluster.server.stop()


def _ask(client: httpx.Client, name: str, to: int = 2) -> tuple[str, dict[str, Any]]:
    r = client.post("/v1/threads", json={"text": f"scale deployment {name} in {NS} to {to}"})
    assert r.status_code == 201, r.text
    turn = r.json()["turn"]
    assert turn["approval"] and turn["approval"]["action"] == f"scale Deployment {NS}/{name}", turn["answer"]
    return turn["thread_id"], turn["approval"]


def _approve(client: httpx.Client, thread: str, approval: dict[str, Any]) -> httpx.Response:
    return client.post(f"/v1/approvals/{thread}", json={"decision": "approve", "approval_id": approval["id"]})


def _audit_lines(pg: PgServer, approval_id: str) -> list[dict[str, Any]]:
    with psycopg.connect(pg.url, autocommit=True) as conn:
        return [r[0] for r in conn.execute("SELECT entry FROM audit_log WHERE approval_id = %s", (approval_id,))]


def _ledger(pg: PgServer, approval_id: str) -> str | None:
    with psycopg.connect(pg.url, autocommit=True) as conn:
        row = conn.execute("SELECT state FROM approvals WHERE approval_id = %s", (approval_id,)).fetchone()
    return row[0] if row else None


def _applied_once(fleet: Replicas, name: str, approval_id: str) -> None:
    assert fleet.cluster.writes[name] == 1, f"{name} written {fleet.cluster.writes[name]} times"
    assert fleet.cluster.replicas(name) == 2
    lines = [e for e in _audit_lines(fleet.pg, approval_id) if e["tool"] == "scale"]
    assert len(lines) == 1 and lines[0]["outcome"] == "applied", lines
    assert _ledger(fleet.pg, approval_id) == "applied"


def test_a_thread_started_on_one_replica_is_read_on_another_and_approved_on_a_third(fleet):
    thread, approval = _ask(fleet.client(0), "walk")
    detail = fleet.client(1).get(f"/v1/threads/{thread}").json()
    assert detail["approval"]["id"] == approval["id"] and detail["thread"]["waiting"] is True
    assert [t["thread_id"] for t in fleet.client(1).get("/v1/approvals").json()["approvals"]].count(thread) == 1
    done = _approve(fleet.client(2), thread, approval)
    assert done.status_code == 200, done.text
    assert [o["status"] for o in done.json()["outcomes"]] == ["applied"] and done.json()["approval"] is None
    _applied_once(fleet, "walk", approval["id"])
    after = fleet.client(0).get(f"/v1/threads/{thread}").json()
    assert after["approval"] is None and after["history"][-1]["outcomes"][0]["status"] == "applied"
    # a retry as an event stream, on yet another replica: the same outcome, nothing done again
    with fleet.client(0).stream("POST", f"/v1/approvals/{thread}", params={"stream": "true"},
                                json={"decision": "approve", "approval_id": approval["id"]}) as r:
        events = [json.loads(line[6:]) for line in r.iter_lines() if line.startswith("data: ")]
    assert r.status_code == 200 and events[-1]["type"] == "answer", events
    assert events[-1]["outcomes"] == done.json()["outcomes"]
    _applied_once(fleet, "walk", approval["id"])


def test_the_same_approval_on_two_replicas_at_once_is_applied_once(fleet):
    names = [f"race-{n}" for n in range(N_RACES)]
    with ThreadPoolExecutor(max_workers=12) as pool:
        asked = list(pool.map(lambda n: _ask(fleet.next(), n), names))

    def race(n: int) -> list[httpx.Response]:
        thread, approval = asked[n]
        a, b = fleet.client(n % 3), fleet.client((n + 1) % 3)
        with ThreadPoolExecutor(max_workers=2) as two:
            return list(two.map(lambda c: _approve(c, thread, approval), (a, b)))

    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(race, range(N_RACES)))
    for n, (first, second) in enumerate(answers):
        assert first.status_code == 200 and second.status_code == 200, (first.text, second.text)
        assert first.json()["outcomes"] == second.json()["outcomes"]  # the loser answers with the winner's outcome
        assert [o["status"] for o in first.json()["outcomes"]] == ["applied"]
        _applied_once(fleet, names[n], asked[n][1]["id"])


def test_a_replica_killed_with_a_pending_approval_leaves_it_to_another(fleet):
    thread, approval = _ask(fleet.client(2), "pend")
    fleet.kill(2)
    done = _approve(fleet.client(0), thread, approval)
    assert done.status_code == 200 and [o["status"] for o in done.json()["outcomes"]] == ["applied"], done.text
    _applied_once(fleet, "pend", approval["id"])
    fleet.start(2)
    fleet.wait_up(2)


@pytest.mark.parametrize("point", ["applying", "applied"])
def test_a_replica_killed_while_applying_is_taken_over_and_applied_once(fleet, point):
    """The replica dies (os._exit at the crash point: as abrupt as SIGKILL) after recording the decision, before
    (applying) or after (applied) the cluster write; the client's retry on another replica finishes it."""
    name = f"mid-{point}"
    crashing = fleet.start(3, KUBESAGE_CRASH_AT=point)
    fleet.wait_up(3)
    thread, approval = _ask(crashing, name)
    with pytest.raises(httpx.TransportError):
        _approve(crashing, thread, approval)
    pid, client = fleet.procs.pop(3)
    client.close()
    assert fleet.driver.wait(pid) == 86  # agents.approvals.CRASH_EXIT
    done = _approve(fleet.client(1), thread, approval)
    assert done.status_code == 200 and [o["status"] for o in done.json()["outcomes"]] == ["applied"], done.text
    _applied_once(fleet, name, approval["id"])
    assert fleet.client(0).get(f"/v1/threads/{thread}").json()["approval"] is None


def test_postgres_down_is_a_503_naming_it_and_the_replicas_recover_without_restart(fleet):
    thread, approval = _ask(fleet.next(), "after-pg")
    fleet.pg.stop()
    try:
        down = [fleet.next().get(f"/v1/threads/{thread}", timeout=30) for _ in range(3)]
    finally:
        fleet.pg.start()
    for r in down:
        assert r.status_code == 503, r.text
        err = r.json()["error"]
        assert err["code"] == "database_unavailable" and f"127.0.0.1:{fleet.pg.port}" in err["message"], err
        assert "Traceback" not in r.text and "kubesage@" in err["details"]["database"]
    t0, answers = time.monotonic(), []
    while time.monotonic() < t0 + 30:
        answers = [fleet.client(i).get(f"/v1/threads/{thread}", timeout=30) for i in range(3)]
        if [r.status_code for r in answers] == [200] * 3:
            break
        time.sleep(0.5)
    assert [r.status_code for r in answers] == [200] * 3, [r.text for r in answers]
    print(f"recovered {time.monotonic() - t0:.1f} s after the restart")  # noqa: T201 - shown with -s
    done = _approve(fleet.next(), thread, approval)
    assert done.status_code == 200 and [o["status"] for o in done.json()["outcomes"]] == ["applied"], done.text
    _applied_once(fleet, "after-pg", approval["id"])
    assert json.dumps(fleet.next().get("/v1/approvals").json())  # every route answers again


def test_the_toolsmith_registry_is_shared_through_the_database(pg, tmp_path):
    """A tool registered by one process is found (by a paraphrase), counted and removed through another: both
    open their registry the way the toolsmith and the approved-action handler do (`open_registry`)."""
    from kubesage.settings import load
    from kubesage.stores import Stores
    from tools.toolsmith import registry
    from tools.toolsmith.registry import ToolRecord, open_registry

    one, two = (Stores(load({"KUBESAGE_HOME": str(tmp_path / h), "KUBESAGE_DATABASE_URL": pg.url}))
                for h in ("one", "two"))
    try:
        rec = ToolRecord(name="pvc_unbound", description="PersistentVolumeClaims that are not bound to a volume",
                         code="def main(kube, **args):\n    return []\n", provenance={"request": "pending claims"})
        one.registry().add(rec)
        two.pool  # noqa: B018 - opening it makes every registry of this process the shared one
        shared = open_registry(tmp_path / "elsewhere")
        assert type(shared).__name__ == "PgRegistry" and not (tmp_path / "elsewhere" / "tools.sqlite").exists()
        assert shared.get("pvc_unbound").description == rec.description
        assert shared.search("storage claims still waiting for a volume", k=1)[0][0].name == "pvc_unbound"
        shared.record_outcome("pvc_unbound", True)
        assert one.registry().get("pvc_unbound").successes == 1
        assert [r.name for r in one.registry().list()] == ["pvc_unbound"]
        assert shared.remove("pvc_unbound") and one.registry().get("pvc_unbound") is None
    finally:
        one.close()
        two.close()
    assert registry._shared is None  # closed: SQLite under each caller's home again


def test_serve_with_an_unreachable_database_is_a_one_line_error(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once the socket is closed
    url = f"postgresql://kubesage:s3cret@127.0.0.1:{port}/kubesage"
    kubeconfig = tmp_path / "kubeconfig"  # a cluster is named (no sandbox starts); it is never reached
    kubeconfig.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "c",
        "clusters": [{"name": "c", "cluster": {"server": f"http://127.0.0.1:{port}"}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}]}))
    proc = subprocess.run([sys.executable, "-m", "kubesage.cli", "serve", "--port", "0", "--kubeconfig",
                           str(kubeconfig)], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "KUBESAGE_HOME": str(tmp_path), "KUBESAGE_DATABASE_URL": url})
    err = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert f"cannot connect to the database postgresql://kubesage:***@127.0.0.1:{port}/kubesage" in err[-1]
    assert "s3cret" not in proc.stderr
