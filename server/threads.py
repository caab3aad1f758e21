"""Which principal owns which conversation thread, whether it waits for an approval, and one lock per thread.

Why a table of our own: the supervisor's checkpoints say what a thread contains, not who may see it. The server
records the owner when it creates a thread (SQLite under KUBESAGE_HOME, so ownership survives a restart) and keeps
an in-memory copy, so the hot path (a cached answer) never touches the disk. The per-thread lock serializes turns
of one thread (the graph's checkpoint for a thread must not be written by two turns at once) while turns of
different threads run side by side.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, replace
from pathlib import Path

from kubesage import datastore


def new_thread_id() -> str:
    """A fresh thread id: random, never derived from who asks or what (no guessing another caller's threads)."""
    return uuid.uuid4().hex[:16]


@dataclass(frozen=True)
class ThreadRecord:
    thread_id: str
    owner: str
    created: float
    title: str = ""
    waiting: bool = False
    turns: int = 0


class ThreadStore:
    remote = False  # answers from memory: the server calls it on the event loop (kubesage/pgstore.py's does not)

    def __init__(self, path: Path) -> None:
        self._db = datastore.connect(path)  # DataError when the file is damaged
        self._db.execute("CREATE TABLE IF NOT EXISTS threads (thread_id TEXT PRIMARY KEY, owner TEXT NOT NULL, "
                         "created REAL NOT NULL, title TEXT NOT NULL, waiting INTEGER NOT NULL, turns INTEGER NOT NULL)")
        self._db.commit()
        self._lock = threading.Lock()
        self._records = {r[0]: ThreadRecord(r[0], r[1], r[2], r[3], bool(r[4]), r[5])
                         for r in self._db.execute("SELECT thread_id, owner, created, title, waiting, turns FROM threads")}
        self._turn_locks: dict[str, threading.Lock] = {}

    def create(self, owner: str, title: str = "") -> ThreadRecord:
        rec = ThreadRecord(new_thread_id(), owner, time.time(), title[:200])
        self._save(rec)
        return rec

    def get(self, thread_id: str, owner: str) -> ThreadRecord | None:
        """The thread if `owner` owns it; None otherwise (callers answer 404 either way: no existence oracle)."""
        rec = self._records.get(thread_id)
        return rec if rec is not None and rec.owner == owner else None

    def owned_by(self, owner: str) -> list[ThreadRecord]:
        return sorted((r for r in list(self._records.values()) if r.owner == owner), key=lambda r: -r.created)

    def finished_turn(self, thread_id: str, text: str | None, waiting: bool) -> None:
        """Record a turn's end: whether it now waits for an approval, the title (first question), the turn count."""
        rec = self._records.get(thread_id)
        if rec is None:
            return
        self._save(replace(rec, waiting=waiting, title=rec.title or (text or "")[:200],
                           turns=rec.turns + (1 if text is not None else 0)))

    def turn_lock(self, thread_id: str) -> threading.Lock:
        with self._lock:
            return self._turn_locks.setdefault(thread_id, threading.Lock())

    def _save(self, rec: ThreadRecord) -> None:
        with self._lock:
            self._records[rec.thread_id] = rec
            self._db.execute("INSERT OR REPLACE INTO threads VALUES (?, ?, ?, ?, ?, ?)",
                             (rec.thread_id, rec.owner, rec.created, rec.title, int(rec.waiting), rec.turns))
            self._db.commit()

    def close(self) -> None:
        with self._lock:
            self._db.close()
