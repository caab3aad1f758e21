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
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
            rows = self._db.execute("SELECT DISTINCT thread_id FROM approvals WHERE closed = 0 ORDER BY updated")
            return [r[0] for r in rows]

    def close_thread(self, thread_id: str) -> None:
        with self._lock:
            self._db.execute("UPDATE approvals SET closed = 1 WHERE thread_id = ?", (thread_id,))

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _entry(row: tuple[Any, ...]) -> Entry:
    return Entry(row[0], row[1], row[2], row[3], json.loads(row[4]), row[5], row[6], json.loads(row[7]),
                 bool(row[8]), bool(row[9]))


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
