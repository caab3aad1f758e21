"""The claim on an approval's decision (agents/approvals.py `hold`): one caller carries it out, every other caller
gets its result; a dead owner's claim is taken over; a failed run lets the claim go. On the SQLite ledger here (the
Postgres ledger runs the same `hold` in tests/server/test_postgres_replicas.py). The `database_url` setting too."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from agents import approvals
from agents.approvals import DecisionPending, Entry, Ledger, hold, owner_gone, replica, run_held
from kubesage import settings

WHO = {"user": "ops", "groups": ["sre"]}


def test_many_callers_at_once_run_the_decision_once_and_all_get_its_result():
    ledger, runs, gate = Ledger(None), [], threading.Event()

    def run(decision):
        runs.append(decision)
        gate.wait(5)  # every other caller arrives while this one is still carrying it out
        return {"answer": f"done: {decision}"}

    def decide(n):
        return run_held(hold(ledger, "a1", "t1", "approve" if n == 0 else "reject", WHO, poll_s=0.01), run)

    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = [pool.submit(decide, n) for n in range(8)]
        time.sleep(0.3)
        gate.set()
        results = [f.result(10) for f in futures]
    assert len(runs) == 1 and results == [{"answer": f"done: {runs[0]}"}] * 8
    later = hold(ledger, "a1", "t1", "reject", WHO)  # a retry long after: the recorded result, nothing run
    assert later.result == results[0] and ledger.get_claim("a1").state == "done"


def test_a_dead_owner_is_taken_over_with_its_decision_and_a_live_one_is_waited_for(monkeypatch):
    ledger = Ledger(None)
    dead = f"{approvals.socket.gethostname()}:999999999:0000"  # this host, a pid that does not exist
    assert owner_gone(dead) and not owner_gone(replica())
    assert ledger.claim("a2", "t1", "approve", WHO, dead, lease_s=60)[0]
    held = hold(ledger, "a2", "t1", "reject", WHO, lease_s=60)
    assert held.result is None and held.decision == "approve"  # the first decider's choice stands
    assert ledger.get_claim("a2").owner == replica()
    elsewhere = "other-host:1:beef"  # alive as far as this host can tell: only its lease decides
    assert not owner_gone(elsewhere)
    ledger.claim("a3", "t1", "approve", WHO, elsewhere, lease_s=60)
    with pytest.raises(DecisionPending):
        hold(ledger, "a3", "t1", "approve", WHO, wait_s=0.3, poll_s=0.05)
    ledger.claim("a4", "t1", "approve", WHO, elsewhere, lease_s=0.2)
    time.sleep(0.3)
    assert hold(ledger, "a4", "t1", "approve", WHO, poll_s=0.05).result is None  # lease ran out: taken over
    assert ledger.get_claim("a4").owner == replica()


def test_a_failed_run_lets_the_claim_go():
    ledger = Ledger(None)
    with pytest.raises(RuntimeError):
        run_held(hold(ledger, "a5", "t1", "approve", WHO), lambda d: (_ for _ in ()).throw(RuntimeError("boom")))
    assert ledger.get_claim("a5") is None  # nothing recorded yet: forgotten, the next decision is a fresh one
    ledger.put(Entry("a6", "t1", "approve", "applying", WHO, "scale"))
    with pytest.raises(RuntimeError):
        run_held(hold(ledger, "a6", "t1", "approve", WHO), lambda d: (_ for _ in ()).throw(RuntimeError("boom")))
    claim = ledger.get_claim("a6")
    assert claim.state == "deciding" and claim.expired  # recorded: kept, and free for the next try to take over
    assert "t1" in ledger.open_threads()
    assert run_held(hold(ledger, "a6", "t1", "approve", WHO), lambda d: {"answer": d}) == {"answer": "approve"}


def test_database_url_setting(tmp_path):
    home = {"KUBESAGE_HOME": str(tmp_path)}
    assert settings.load(home).database_url == "" and not settings.load(home).postgres
    url = "postgresql://kubesage:s3cret@db:5432/kubesage"
    cfg = settings.load({**home, "KUBESAGE_DATABASE_URL": url})
    assert cfg.database_url == url and cfg.postgres
    assert cfg.describe()["database_url"] == "postgresql://kubesage:***@db:5432/kubesage"
    with pytest.raises(settings.SettingsError, match="database_url must be empty") as e:
        settings.load({**home, "KUBESAGE_DATABASE_URL": "mysql://root:hunter2@db/k"})
    assert "hunter2" not in str(e.value)
    with pytest.raises(settings.SettingsError, match="approval_lease_s"):
        settings.load({**home, "KUBESAGE_APPROVAL_LEASE_S": "0"})
