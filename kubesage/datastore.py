"""The SQLite files kubesage keeps under KUBESAGE_HOME: opened with a check, reported in one line when damaged,
and moved aside on request (`kubesage doctor --repair`).

Why a check at open: SQLite opens a file of garbage bytes without complaint and fails on the first query, deep
inside LangGraph or the server, as a traceback or a 500 on every route. Checked here, a damaged file is one
sentence that names it, says what is wrong and how to recover, and the interfaces decide what still works
(the HTTP API keeps answering /healthz and /metrics, and says 503 where the file is needed).
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

# file under KUBESAGE_HOME -> what it holds (what is lost when it is moved aside)
FILES = {
    "checkpoints.sqlite": "conversation threads and changes waiting for approval",
    "approvals.sqlite": "decisions being applied (the exactly-once ledger)",
    "server-threads.sqlite": "which HTTP caller owns which thread",
    "slack.sqlite": "which Slack thread is which conversation",
}


class DataError(Exception):
    """A kubesage database that cannot be used; the message names the file, the fault and the way out."""

    def __init__(self, path: Path, problem: str) -> None:
        self.path, self.problem = Path(path), problem
        super().__init__(f"{path} is damaged ({problem}). Move it aside and start again: "
                         f"`kubesage doctor --repair` (or `mv {path} {path}.broken`); "
                         f"what it held is lost: {FILES.get(Path(path).name, 'its contents')}.")


def problem(path: Path) -> str | None:
    """What is wrong with the SQLite file at `path` (None when it is sound or does not exist yet)."""
    if not path.exists():
        return None
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = conn.execute("PRAGMA quick_check").fetchall()
        finally:
            conn.close()
    except sqlite3.DatabaseError as e:
        return str(e)
    if rows != [("ok",)]:
        return "; ".join(str(r[0]) for r in rows[:3])
    return None


def connect(path: Path) -> sqlite3.Connection:
    """`sqlite3.connect` for a kubesage database, after checking it (DataError when damaged)."""
    why = problem(path)
    if why:
        raise DataError(path, why)
    path.parent.mkdir(parents=True, exist_ok=True)
    return sqlite3.connect(path, check_same_thread=False)


def explain(e: sqlite3.DatabaseError, home: Path) -> DataError | None:
    """A database error met while running: which of our files is damaged (checked again), as a DataError; None when
    none is (a busy or locked database, worth a retry)."""
    for name in FILES:
        why = problem(home / name)
        if why:
            return DataError(home / name, why)
    return None


def check(home: Path) -> dict[Path, str]:
    """Every damaged kubesage database under `home`, with its fault."""
    return {home / n: why for n in FILES if (why := problem(home / n))}


def move_aside(path: Path) -> Path:
    """Rename a damaged file (and its journal files) to `<name>.broken-<time>`; the renamed path."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    dest = path.with_name(f"{path.name}.broken-{stamp}")
    path.rename(dest)
    for suffix in ("-wal", "-shm", "-journal"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            side.rename(dest.with_name(dest.name + suffix))
    return dest
