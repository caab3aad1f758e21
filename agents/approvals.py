"""Approved changes applied exactly once, even across a crash: a durable ledger of decisions, an idempotent apply,
and the defined points where a test may kill the process.

Why a ledger beside the checkpoints: LangGraph writes a thread's checkpoint when a run ends or pauses, and an
approval's run ends only after the health wait (a minute or more). A crash in between left the approval pending
with a stale diff while the change was already made, and approving again applied it twice. So the decision is
written here, durably, *before* the cluster is touched ("applying", keyed by the approval id: the idempotency
key), then "applied" with the outcome, then "audited" once the audit line is written. A resumed run reads the
entry instead of asking again: it finishes an interrupted apply idempotently (a create that finds its own object
by the approval-id annotation, a delete that finds NotFound, a scale already at its count and a patch whose dry
run changes nothing are done, not redone), writes a missing audit line, and goes on to the health wait.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from tools.k8s import mutations
from tools.k8s.client import Kube, KubeError, Mutation, Principal

MARKER = "kubesage.io/approval-id"  # set on every object an approval creates: "is this one mine?" after a crash
CRASH_ENV = "KUBESAGE_CRASH_AT"  # tests: comma-separated points (below) where the process exits at once
CRASH_EXIT = 86
# The points between a person's yes and the end of the health wait, in order.
CRASH_POINTS = ("decided", "applying", "applied", "audited", "verified")


def crash_point(name: str) -> None:
    """Exit the process here, without cleanup, when a test asked for it (`KUBESAGE_CRASH_AT=applied`)."""
    if name in os.environ.get(CRASH_ENV, "").split(","):
        os._exit(CRASH_EXIT)


class ApprovalRefused(Exception):
    """Someone other than the principal who proposed a change tried to decide on it."""

    def __init__(self, proposer: dict[str, Any], decider: Principal) -> None:
        who = f"{proposer.get('user')} (groups: {', '.join(proposer.get('groups') or []) or 'none'})"
        super().__init__(f"This change was proposed by {who}; only the same principal (user and groups) may decide "
                         f"on it, not {decider.label} (groups: {', '.join(decider.groups) or 'none'}).")


def same_principal(proposer: dict[str, Any] | None, decider: Principal) -> bool:
    p = proposer or {}
    return (p.get("user"), sorted(p.get("groups") or [])) == (decider.user, sorted(decider.groups))


@dataclass
class Entry:
    approval_id: str
    thread_id: str
    decision: str  # approve | reject
    state: str  # applying | applied | rejected | failed
    principal: dict[str, Any] = field(default_factory=dict)
    action: str = ""
    before: str = ""  # fingerprint of the object as it was just before the apply (patch/scale/delete)
    outcome: dict[str, Any] = field(default_factory=dict)
    audited: bool = False
    closed: bool = False  # the thread's checkpoint has moved past this approval


# ---- who carries out a decision: the fence between replicas -------------------------------------------------------
DONE, DECIDING = "done", "deciding"
_replica: tuple[int, str] = (0, "")


def replica() -> str:
    """This process's name in the claims table: host, pid and a random boot id (a restarted process that got the
    same pid is not its dead predecessor). Computed per pid: a forked child is a process of its own."""
    global _replica
    if _replica[0] != os.getpid():
        _replica = (os.getpid(), f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}")
    return _replica[1]


@dataclass
class Claim:
    """One approval's decision, taken by exactly one process (the fence): `deciding` while its owner carries it
    out and renews its lease, `done` with the turn's result, which every later or losing caller answers with."""

    approval_id: str
    thread_id: str
    decision: Any
    principal: dict[str, Any]
    owner: str
    state: str  # deciding | done
    expired: bool  # the owner's lease ran out (it died, or hangs, on another host)
    result: dict[str, Any] | None = None


class LedgerStore(Protocol):
    """What the supervisor needs from a ledger; SQLite (`Ledger`) and Postgres (kubesage/pgstore.py) provide it."""

    def get(self, approval_id: str) -> Entry | None: ...
    def put(self, e: Entry) -> None: ...
    def open_threads(self) -> list[str]: ...
    def close_thread(self, thread_id: str) -> None: ...
    def claim(self, approval_id: str, thread_id: str, decision: Any, principal: dict[str, Any], owner: str,
              lease_s: float) -> tuple[bool, Claim]: ...
    def take_over(self, approval_id: str, dead_owner: str, owner: str, lease_s: float) -> bool: ...
    def renew(self, approval_id: str, owner: str, lease_s: float) -> bool: ...
    def finish(self, approval_id: str, owner: str, result: dict[str, Any]) -> None: ...
    def release(self, approval_id: str, owner: str, forget: bool) -> None: ...
    def get_claim(self, approval_id: str) -> Claim | None: ...
    def close(self) -> None: ...


class Ledger:
    """SQLite under KUBESAGE_HOME (`approvals.sqlite`); every write is committed before the caller goes on."""

    def __init__(self, path: Path | None) -> None:
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path or ":memory:", check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("CREATE TABLE IF NOT EXISTS approvals (approval_id TEXT PRIMARY KEY, thread_id TEXT NOT NULL, "
                         "decision TEXT NOT NULL, state TEXT NOT NULL, principal TEXT NOT NULL, action TEXT NOT NULL, "
                         "before TEXT NOT NULL, outcome TEXT NOT NULL, audited INTEGER NOT NULL, "
                         "closed INTEGER NOT NULL, updated REAL NOT NULL)")
        self._db.execute("CREATE TABLE IF NOT EXISTS claims (approval_id TEXT PRIMARY KEY, thread_id TEXT NOT NULL, "
                         "decision TEXT NOT NULL, principal TEXT NOT NULL, owner TEXT NOT NULL, state TEXT NOT NULL, "
                         "lease_until REAL NOT NULL, result TEXT)")
        self._lock = threading.Lock()

    def get(self, approval_id: str) -> Entry | None:
        with self._lock:
            row = self._db.execute("SELECT approval_id, thread_id, decision, state, principal, action, before, outcome, "
                                   "audited, closed FROM approvals WHERE approval_id = ?", (approval_id,)).fetchone()
        return _entry(row) if row else None

    def put(self, e: Entry) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO approvals VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                             (e.approval_id, e.thread_id, e.decision, e.state, json.dumps(e.principal), e.action,
                              e.before, json.dumps(e.outcome, default=str), int(e.audited), int(e.closed), time.time()))

    def open_threads(self) -> list[str]:
        """Threads with a decision whose checkpoint may not have caught up (a crash before the run ended)."""
        with self._lock:
            rows = self._db.execute("SELECT thread_id FROM approvals WHERE closed = 0 UNION SELECT thread_id FROM "
                                    "claims WHERE state = ?", (DECIDING,))
            return [r[0] for r in rows]

    def close_thread(self, thread_id: str) -> None:
        with self._lock:
            self._db.execute("UPDATE approvals SET closed = 1 WHERE thread_id = ?", (thread_id,))

    # -- claims (see Claim); INSERT OR IGNORE on the primary key is the fence --------------------------------------
    def claim(self, approval_id: str, thread_id: str, decision: Any, principal: dict[str, Any], owner: str,
              lease_s: float) -> tuple[bool, Claim]:
        with self._lock:
            won = self._db.execute("INSERT OR IGNORE INTO claims VALUES (?, ?, ?, ?, ?, ?, ?, NULL)",
                                   (approval_id, thread_id, json.dumps(decision), json.dumps(principal), owner,
                                    DECIDING, time.time() + lease_s)).rowcount == 1
        found = self.get_claim(approval_id)
        assert found is not None  # inserted now or before; claims are never deleted while their thread waits
        return won, found

    def take_over(self, approval_id: str, dead_owner: str, owner: str, lease_s: float) -> bool:
        with self._lock:
            return self._db.execute("UPDATE claims SET owner = ?, lease_until = ? WHERE approval_id = ? AND owner = ? "
                                    "AND state = ?", (owner, time.time() + lease_s, approval_id, dead_owner,
                                                      DECIDING)).rowcount == 1

    def renew(self, approval_id: str, owner: str, lease_s: float) -> bool:
        with self._lock:
            return self._db.execute("UPDATE claims SET lease_until = ? WHERE approval_id = ? AND owner = ? AND "
                                    "state = ?", (time.time() + lease_s, approval_id, owner, DECIDING)).rowcount == 1

    def finish(self, approval_id: str, owner: str, result: dict[str, Any]) -> None:
        with self._lock:
            self._db.execute("UPDATE claims SET state = ?, result = ? WHERE approval_id = ? AND owner = ?",
                             (DONE, json.dumps(result, default=str), approval_id, owner))

    def release(self, approval_id: str, owner: str, forget: bool) -> None:
        with self._lock:
            if forget:
                self._db.execute("DELETE FROM claims WHERE approval_id = ? AND owner = ? AND state = ?",
                                 (approval_id, owner, DECIDING))
            else:
                self._db.execute("UPDATE claims SET lease_until = 0 WHERE approval_id = ? AND owner = ?",
                                 (approval_id, owner))

    def get_claim(self, approval_id: str) -> Claim | None:
        with self._lock:
            row = self._db.execute("SELECT approval_id, thread_id, decision, principal, owner, state, "
                                   "lease_until < ?, result FROM claims WHERE approval_id = ?",
                                   (time.time(), approval_id)).fetchone()
        return claim_of(row) if row else None

    def open_claims(self) -> list[str]:
        with self._lock:
            return [r[0] for r in self._db.execute("SELECT DISTINCT thread_id FROM claims WHERE state = ?",
                                                   (DECIDING,))]

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _entry(row: tuple[Any, ...]) -> Entry:
    return Entry(row[0], row[1], row[2], row[3], json.loads(row[4]), row[5], row[6], json.loads(row[7]),
                 bool(row[8]), bool(row[9]))


def entry_of(row: tuple[Any, ...]) -> Entry:
    """An Entry from a row of (approval_id, thread_id, decision, state, principal, action, before, outcome,
    audited, closed), JSON as text: one reading for every store."""
    return _entry(row)


def claim_of(row: tuple[Any, ...]) -> Claim:
    """A Claim from a row of (approval_id, thread_id, decision, principal, owner, state, expired, result)."""
    return Claim(row[0], row[1], json.loads(row[2]), json.loads(row[3]), row[4], row[5], bool(row[6]),
                 json.loads(row[7]) if row[7] else None)


def owner_gone(owner: str) -> bool:
    """Whether the process named `owner` (host:pid:boot) is certainly dead: only knowable on this host (a pid that
    is gone, a zombie, or this very pid under another boot id); elsewhere the lease decides."""
    host, _, rest = owner.partition(":")
    pid, _, _ = rest.partition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return owner != replica()
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            return fh.read().rsplit(")", 1)[-1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True
    except OSError:
        return False


class DecisionPending(Exception):
    """Another live process is still carrying out this approval after the wait; the caller may ask again."""


@dataclass
class Held:
    """The outcome of asking for an approval's claim: `result` when someone already finished it (answer with that),
    otherwise this process holds the claim and must carry out `decision` (the one first recorded: a taken-over
    claim keeps its decider's choice), then `finish` — or leave the `with` block by an exception, which lets the
    claim go so another try can take it (forgotten when nothing was recorded in the ledger yet)."""

    ledger: Any
    approval_id: str
    decision: Any
    lease_s: float
    result: dict[str, Any] | None = None
    _stop: threading.Event = field(default_factory=threading.Event)

    def __enter__(self) -> Held:
        threading.Thread(target=self._heartbeat, daemon=True, name=f"lease-{self.approval_id[:8]}").start()
        return self

    def _heartbeat(self) -> None:
        while not self._stop.wait(self.lease_s / 3):
            try:
                self.ledger.renew(self.approval_id, replica(), self.lease_s)
            except Exception:  # noqa: BLE001,S112 - a database blip: the next beat tries again
                continue

    def finish(self, result: dict[str, Any]) -> None:
        self.ledger.finish(self.approval_id, replica(), result)
        self.result = result

    def __exit__(self, exc_type: Any, *_: Any) -> None:
        self._stop.set()
        if exc_type is not None and self.result is None:
            try:
                self.ledger.release(self.approval_id, replica(), forget=self.ledger.get(self.approval_id) is None)
            except Exception:  # noqa: BLE001,S110 - the database is gone: the lease runs out on its own
                pass


def hold(ledger: Any, approval_id: str, thread_id: str, decision: Any, principal: dict[str, Any],
         lease_s: float = 20.0, wait_s: float = 900.0, poll_s: float = 0.1) -> Held:
    """Take the approval's claim, or wait for the process that holds it: its result when it finishes, the claim
    when it dies (same host: its pid is gone; elsewhere: its lease ran out). Exactly one caller at a time holds a
    claim, and a finished one is never carried out again."""
    deadline = time.monotonic() + wait_s
    while True:
        won, c = ledger.claim(approval_id, thread_id, decision, principal, replica(), lease_s)
        if won:
            return Held(ledger, approval_id, c.decision, lease_s)
        if c.state == DONE:
            return Held(ledger, approval_id, c.decision, lease_s, result=c.result or {})
        if (c.expired or owner_gone(c.owner)) and ledger.take_over(approval_id, c.owner, replica(), lease_s):
            return Held(ledger, approval_id, c.decision, lease_s)
        if time.monotonic() > deadline:
            raise DecisionPending(f"approval {approval_id} is still being carried out by {c.owner}; ask again later")
        time.sleep(poll_s)
        poll_s = min(poll_s * 1.5, 1.0)


def run_held(held: Held, run: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
    """Carry out a held claim with `run(decision)` and record its result; or the result someone already had."""
    if held.result is not None:
        return held.result
    with held:
        result = run(held.decision)
        held.finish(result)
    return result


# ---- the idempotent apply --------------------------------------------------------------------------------------
def fingerprint(obj: dict[str, Any] | None) -> str:
    """What a person set on the object (no status, no resourceVersion): changes only when someone changes it."""
    if not obj:
        return "absent"
    return hashlib.sha256(json.dumps(mutations.clean(obj), sort_keys=True, default=str).encode()).hexdigest()[:16]


def marked(m: Mutation, approval_id: str) -> Mutation:
    """The create, carrying the approval id as an annotation (how a retry recognizes its own object)."""
    if m.verb != "create" or not isinstance(m.body, dict):
        return m
    body = json.loads(json.dumps(m.body))
    meta = body.setdefault("metadata", {})
    meta["annotations"] = {**(meta.get("annotations") or {}), MARKER: approval_id}
    return Mutation.from_dict({**m.to_dict(), "body": body})


def _live(kube: Kube, m: Mutation) -> dict[str, Any] | None:
    try:
        return kube.get(m.kind, m.namespace, m.name)
    except KubeError as e:
        if e.status == 404:
            return None
        raise


def already_applied(kube: Kube, m: Mutation, approval_id: str, before: str) -> bool | None:
    """After a crash during the apply: True when the change is in place, False when it is not (apply it now),
    None when the object was changed by someone else since (neither redo nor claim it)."""
    if m.verb == "action":
        return None  # not a Kubernetes object: whether it ran cannot be told, so it is never run a second time
    live = _live(kube, m)
    if m.verb == "create":
        if live is None:
            return False
        return True if ((live.get("metadata") or {}).get("annotations") or {}).get(MARKER) == approval_id else None
    if m.verb == "delete":
        if live is None or (live.get("metadata") or {}).get("deletionTimestamp"):
            return True
        return False if fingerprint(live) == before else None
    if live is None:
        return None
    if m.verb == "scale":
        if int((live.get("spec") or {}).get("replicas", 1)) == int(m.body):
            return True
        return False if fingerprint(live) == before else None
    if fingerprint(live) == before:
        return False
    # The object changed since: ours if applying the patch again changes nothing.
    dry = mutations.send(kube, m, dry_run=True)
    return True if mutations.diff(live, dry) == "" else None


def apply_once(kube: Kube, m: Mutation, approval_id: str, before: str, retry: bool) -> dict[str, Any]:
    """Apply `m` (marked with the approval id); when `retry`, first find out whether an interrupted run already
    did. Returns the outcome's status fields."""
    m = marked(m, approval_id)
    if retry:
        try:
            done = already_applied(kube, m, approval_id, before)
        except KubeError as e:
            return {"status": "failed", "error": f"after a restart, could not check whether it was applied: {e.message}"}
        if done is True:
            return {"status": "applied", "recovered": True}
        if done is None:
            return {"status": "failed", "error": "the process stopped during this change and the object has been "
                    "changed since, so it is not applied again; ask again for a fresh diff"}
    try:
        kube.execute(m)
    except KubeError as e:
        if retry is False and m.verb == "create" and e.status == 409 and already_applied(kube, m, approval_id, "") is True:
            return {"status": "applied"}
        if m.verb == "delete" and e.status == 404:
            return {"status": "applied", "note": "already gone"}
        return {"status": "failed", "error": e.message}
    return {"status": "applied"}


def before_apply(kube: Kube, m: Mutation) -> str:
    """The object's fingerprint just before the apply, for telling later whether the apply happened."""
    if m.verb in ("create", "action"):
        return ""
    try:
        return fingerprint(_live(kube, m))
    except KubeError:
        return ""


# ---- one decision, start to audit line ---------------------------------------------------------------------------
def approved(decision: Any) -> bool:
    return decision is True or (isinstance(decision, str) and decision.lower() in ("approve", "yes", "y")) or \
        (isinstance(decision, dict) and bool(decision.get("approve")))


def carry_out(ledger: Ledger, audit: Any, kube_for: Any, approval_id: str, thread_id: str, who: dict[str, Any],
              m: Mutation, decision: Any) -> tuple[Entry, Kube | None]:
    """Record the decision durably, apply an approved change at most once, write its one audit line; idempotent
    when run again for the same approval after a crash (it then finishes what the first run left)."""
    entry = ledger.get(approval_id)
    resumed = entry is not None
    kube = None
    if entry is None:
        yes = approved(decision)
        entry = Entry(approval_id, thread_id, "approve" if yes else "reject", "applying", who, m.describe())
        if not yes:
            entry.state, entry.outcome = "rejected", {"status": "rejected"}
        elif m.dry_run_error:
            entry.state, entry.outcome = "failed", {"status": "failed", "error": m.dry_run_error}
        else:
            kube = kube_for()
            entry.before = before_apply(kube, m)
        ledger.put(entry)  # durable before the cluster is touched
        crash_point("applying")
    if entry.state == "applying":
        kube = kube or kube_for()
        entry.outcome = apply_once(kube, m, approval_id, entry.before, retry=resumed)
        crash_point("applied")
        entry.state = entry.outcome["status"]
        ledger.put(entry)
    if not entry.audited:
        if not (resumed and audit.has(approval_id, m.verb)):
            audit.record(who, m.verb, m.to_dict(), entry.state, approval_id, thread_id)
        entry.audited = True
        ledger.put(entry)
        crash_point("audited")
    return entry, kube
