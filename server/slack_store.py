"""What the Slack bot must remember across restarts, in one small SQLite file under KUBESAGE_HOME.

Why a file and not memory: an approval button may be clicked hours after the question (and after a restart), and
the click only carries the kubesage thread id; the Slack thread it answers in, who asked and as which principal
come from here. The same file remembers which events, messages, decisions and signatures were already handled,
so Slack's retries and replayed requests never run anything twice.
"""

from __future__ import annotations

import json
import sqlite3
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS threads (
    channel TEXT NOT NULL, thread_ts TEXT NOT NULL, kthread TEXT NOT NULL UNIQUE,
    slack_user TEXT NOT NULL, user TEXT, groups TEXT NOT NULL, created REAL NOT NULL,
    PRIMARY KEY (channel, thread_ts));
CREATE TABLE IF NOT EXISTS claims (key TEXT PRIMARY KEY, ts REAL NOT NULL);
"""
CLAIM_TTL_S = 24 * 3600


@dataclass(frozen=True)
class SlackThread:
    """One Slack thread and the kubesage thread that serves it; `user`/`groups` are the asker's principal."""

    channel: str
    thread_ts: str
    kthread: str
    slack_user: str
    user: str | None
    groups: tuple[str, ...]


class SlackStore:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as db, db:
            db.executescript(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=10)
        db.execute("PRAGMA journal_mode=WAL")
        return db

    # -- threads -----------------------------------------------------------------------------------
    def thread_for(self, channel: str, thread_ts: str) -> SlackThread | None:
        with closing(self._connect()) as db:
            row = db.execute("SELECT channel, thread_ts, kthread, slack_user, user, groups FROM threads "
                             "WHERE channel = ? AND thread_ts = ?", (channel, thread_ts)).fetchone()
        return _thread(row)

    def thread_by_id(self, kthread: str) -> SlackThread | None:
        with closing(self._connect()) as db:
            row = db.execute("SELECT channel, thread_ts, kthread, slack_user, user, groups FROM threads "
                             "WHERE kthread = ?", (kthread,)).fetchone()
        return _thread(row)

    def add_thread(self, t: SlackThread) -> SlackThread:
        """Record a new mapping; when another request recorded this Slack thread first, that one wins."""
        with closing(self._connect()) as db, db:
            db.execute("INSERT OR IGNORE INTO threads VALUES (?, ?, ?, ?, ?, ?, ?)",
                       (t.channel, t.thread_ts, t.kthread, t.slack_user, t.user, json.dumps(list(t.groups)),
                        time.time()))
        return self.thread_for(t.channel, t.thread_ts) or t

    def set_asker(self, kthread: str, slack_user: str, principal: Any) -> None:
        """The person who asked the thread's latest turn: the one whose identity may decide its approvals."""
        with closing(self._connect()) as db, db:
            db.execute("UPDATE threads SET slack_user = ?, user = ?, groups = ? WHERE kthread = ?",
                       (slack_user, principal.user, json.dumps(list(principal.groups)), kthread))

    # -- once-only claims (events, messages, decisions, signatures) --------------------------------
    def claim(self, key: str, ts: float | None = None) -> bool:
        """True the first time `key` is claimed, False ever after (until it is a day old)."""
        now = time.time()
        with closing(self._connect()) as db, db:
            db.execute("DELETE FROM claims WHERE ts < ?", (now - CLAIM_TTL_S,))
            cur = db.execute("INSERT OR IGNORE INTO claims VALUES (?, ?)", (key, now if ts is None else ts))
            return cur.rowcount == 1

    def release(self, key: str) -> None:
        """Forget a claim whose work could not start (so a later, legitimate try is not refused)."""
        with closing(self._connect()) as db, db:
            db.execute("DELETE FROM claims WHERE key = ?", (key,))


def _thread(row: tuple | None) -> SlackThread | None:
    if row is None:
        return None
    channel, thread_ts, kthread, slack_user, user, groups = row
    return SlackThread(channel, thread_ts, kthread, slack_user, user, tuple(json.loads(groups or "[]")))
