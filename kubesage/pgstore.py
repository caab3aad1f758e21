"""The Postgres side of kubesage's shared state: one connection pool, the schema and its migrations, and the stores
that several `kubesage serve` replicas share (thread ownership, the approvals ledger and its claims, the audit
table, the Slack store). LangGraph's own `PostgresSaver` keeps the checkpoints in the same database.

Why these are adapters and not new logic: each store implements the interface its SQLite twin already has
(`agents.approvals.LedgerStore`, `server.threads.ThreadStore`, `agents.audit.AuditLog`, `server.slack_store.
SlackStore`), so the supervisor and the server run the same code on either. Only what Postgres does better is
different: the approval claim is a fenced insert (`INSERT … ON CONFLICT DO NOTHING RETURNING`, takeover by
`UPDATE … WHERE owner = <the dead one>`), lease times are the database's clock (replicas' clocks may differ), a
turn's lock is a session advisory lock (released by the server when the replica holding it dies), and the audit
table refuses UPDATE and DELETE.

Why one pool with `check`: when Postgres goes away every pooled connection is dead; `check_connection` drops them
on the next checkout and the pool reconnects in the background, so requests fail fast (503, see
server/errors.py) while it is down and work again without a restart when it is back.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from psycopg.rows import dict_row, tuple_row
from psycopg_pool import ConnectionPool

from agents.approvals import DECIDING, DONE, Claim, Entry, claim_of, entry_of
from agents.audit import AuditLog
from server.slack_store import CLAIM_TTL_S, SlackThread
from server.slack_store import _thread as _slack
from server.threads import ThreadRecord, new_thread_id
from tools.toolsmith.registry import Registry

# The schema, in order; a version is applied once, in one transaction, under an advisory lock (replicas starting
# together wait for each other). Never edit a released migration: add the next one.
MIGRATIONS: list[tuple[int, str, list[str]]] = [
    (1, "threads, approvals ledger and claims, audit, Slack store", [
        "CREATE TABLE server_threads (thread_id TEXT PRIMARY KEY, owner TEXT NOT NULL, created DOUBLE PRECISION "
        "NOT NULL, title TEXT NOT NULL, waiting BOOLEAN NOT NULL, turns INTEGER NOT NULL)",
        "CREATE INDEX server_threads_owner ON server_threads (owner, created DESC)",
        "CREATE TABLE approvals (approval_id TEXT PRIMARY KEY, thread_id TEXT NOT NULL, decision TEXT NOT NULL, "
        "state TEXT NOT NULL, principal TEXT NOT NULL, action TEXT NOT NULL, before TEXT NOT NULL, outcome TEXT NOT "
        "NULL, audited BOOLEAN NOT NULL, closed BOOLEAN NOT NULL, updated TIMESTAMPTZ NOT NULL DEFAULT now())",
        "CREATE INDEX approvals_open ON approvals (thread_id) WHERE NOT closed",
        "CREATE TABLE approval_claims (approval_id TEXT PRIMARY KEY, thread_id TEXT NOT NULL, decision TEXT NOT "
        "NULL, principal TEXT NOT NULL, owner TEXT NOT NULL, state TEXT NOT NULL, lease_until DOUBLE PRECISION NOT "
        "NULL, result TEXT, claimed TIMESTAMPTZ NOT NULL DEFAULT now())",
        "CREATE INDEX approval_claims_open ON approval_claims (thread_id) WHERE state = 'deciding'",
        "CREATE TABLE audit_log (id BIGSERIAL PRIMARY KEY, ts TIMESTAMPTZ NOT NULL DEFAULT now(), approval_id TEXT, "
        "tool TEXT NOT NULL, entry JSONB NOT NULL)",
        "CREATE INDEX audit_log_approval ON audit_log (approval_id) WHERE approval_id IS NOT NULL",
        "CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION "
        "'audit_log is append-only'; END $$",
        "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log FOR EACH STATEMENT "
        "EXECUTE FUNCTION audit_log_append_only()",
        "CREATE TABLE slack_threads (channel TEXT NOT NULL, thread_ts TEXT NOT NULL, kthread TEXT NOT NULL UNIQUE, "
        "slack_user TEXT NOT NULL, \"user\" TEXT, groups TEXT NOT NULL, created DOUBLE PRECISION NOT NULL, "
        "PRIMARY KEY (channel, thread_ts))",
        "CREATE TABLE slack_claims (key TEXT PRIMARY KEY, ts DOUBLE PRECISION NOT NULL)",
    ]),
    (2, "the toolsmith's tool registry", [
        "CREATE TABLE toolsmith_tools (name TEXT PRIMARY KEY, record TEXT NOT NULL, successes INTEGER NOT NULL "
        "DEFAULT 0, failures INTEGER NOT NULL DEFAULT 0, embed_model TEXT NOT NULL DEFAULT '', dim INTEGER NOT NULL "
        "DEFAULT 0, vectors BYTEA, created DOUBLE PRECISION NOT NULL, updated DOUBLE PRECISION NOT NULL)",
    ]),
]
_MIGRATION_LOCK = 0x6B75_6265  # "kube": the advisory lock replicas take while migrating
_NOW = "extract(epoch from clock_timestamp())"


def open_pool(url: str, max_size: int = 24, timeout_s: float = 5.0) -> ConnectionPool:
    """The shared pool (also LangGraph's: autocommit, dict rows, no prepared statements). Waits up to `timeout_s`
    for the first connection; psycopg_pool.PoolTimeout when the database cannot be reached."""
    # reconnect_timeout: a background reconnection backs off exponentially (1, 2, 4 … s) until it gives up; kept
    # short, the next request starts a fresh attempt at once, so a database that is back is used within seconds.
    pool = ConnectionPool(url, min_size=2, max_size=max_size, timeout=timeout_s, open=False,
                          check=_Sweep().check, reconnect_timeout=timeout_s,
                          kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row,
                                  "connect_timeout": max(2, int(timeout_s))},
                          name="kubesage")
    pool.open(wait=True, timeout=timeout_s)
    return pool


class _Sweep:
    """The pool's checkout check (`ConnectionPool.check_connection`), plus: the first dead connection found sweeps
    the whole pool in the background (`pool.check()`). Without it every idle connection of before an outage is
    found dead one checkout at a time, with the pool's back-off between them: a busy pool of 24 took some 40 s of
    503s after the database was back; swept, the next request gets a fresh connection."""

    def __init__(self) -> None:
        self._busy = threading.Lock()

    def check(self, conn: Any) -> None:
        try:
            ConnectionPool.check_connection(conn)
        except Exception:
            pool = getattr(conn, "_pool", None)
            if pool is not None and self._busy.acquire(blocking=False):
                threading.Thread(target=self._sweep, args=(pool,), daemon=True, name="kubesage-pool-sweep").start()
            raise

    def _sweep(self, pool: ConnectionPool) -> None:
        try:
            pool.check()
        except Exception:  # noqa: BLE001,S110 - the pool is closing, or the database is still away: nothing to do
            pass
        finally:
            self._busy.release()


def migrate(pool: ConnectionPool) -> int:
    """Bring the schema up to date (ours, then LangGraph's checkpoint tables); the version now in place."""
    from langgraph.checkpoint.postgres import PostgresSaver

    with pool.connection() as conn:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
            conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, description TEXT "
                         "NOT NULL, applied TIMESTAMPTZ NOT NULL DEFAULT now())")
            have = conn.execute("SELECT coalesce(max(version), 0) AS v FROM schema_version").fetchone()["v"]
            for version, description, statements in MIGRATIONS:
                if version <= have:
                    continue
                for sql in statements:
                    conn.execute(sql)
                conn.execute("INSERT INTO schema_version (version, description) VALUES (%s, %s)",
                             (version, description))
                have = version
        conn.execute("SELECT pg_advisory_lock(%s)", (_MIGRATION_LOCK,))
        try:
            PostgresSaver(conn).setup()  # its own migrations table; not safe to run twice at once, hence the lock
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_MIGRATION_LOCK,))
    return have


class _Rows:
    """Tuple-row queries on the shared pool (its connections return dicts for LangGraph)."""

    def __init__(self, pool: ConnectionPool) -> None:
        self.pool = pool

    def all(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self.pool.connection() as conn, conn.cursor(row_factory=tuple_row) as cur:
            cur.execute(sql, args)
            return cur.fetchall() if cur.description else []

    def one(self, sql: str, args: tuple[Any, ...] = ()) -> tuple[Any, ...] | None:
        rows = self.all(sql, args)
        return rows[0] if rows else None

    def count(self, sql: str, args: tuple[Any, ...] = ()) -> int:
        with self.pool.connection() as conn, conn.cursor() as cur:
            cur.execute(sql, args)
            return cur.rowcount


# ---- the approvals ledger and its claims (agents.approvals.LedgerStore) --------------------------------------------
class PgLedger(_Rows):
    _ENTRY = "approval_id, thread_id, decision, state, principal, action, before, outcome, audited, closed"

    def get(self, approval_id: str) -> Entry | None:
        row = self.one(f"SELECT {self._ENTRY} FROM approvals WHERE approval_id = %s", (approval_id,))
        return entry_of(row) if row else None

    def put(self, e: Entry) -> None:
        self.count(f"INSERT INTO approvals ({self._ENTRY}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
                   "ON CONFLICT (approval_id) DO UPDATE SET decision = excluded.decision, state = excluded.state, "
                   "principal = excluded.principal, action = excluded.action, before = excluded.before, "
                   "outcome = excluded.outcome, audited = excluded.audited, closed = excluded.closed, updated = now()",
                   (e.approval_id, e.thread_id, e.decision, e.state, json.dumps(e.principal), e.action, e.before,
                    json.dumps(e.outcome, default=str), e.audited, e.closed))

    def open_threads(self) -> list[str]:
        return [r[0] for r in self.all("SELECT thread_id FROM approvals WHERE NOT closed UNION "
                                       "SELECT thread_id FROM approval_claims WHERE state = %s", (DECIDING,))]

    def close_thread(self, thread_id: str) -> None:
        self.count("UPDATE approvals SET closed = true WHERE thread_id = %s AND NOT closed", (thread_id,))

    def claim(self, approval_id: str, thread_id: str, decision: Any, principal: dict[str, Any], owner: str,
              lease_s: float) -> tuple[bool, Claim]:
        won = self.one("INSERT INTO approval_claims (approval_id, thread_id, decision, principal, owner, state, "
                       f"lease_until) VALUES (%s, %s, %s, %s, %s, %s, {_NOW} + %s) ON CONFLICT (approval_id) DO "
                       "NOTHING RETURNING approval_id",
                       (approval_id, thread_id, json.dumps(decision), json.dumps(principal), owner, DECIDING,
                        lease_s)) is not None
        found = self.get_claim(approval_id)
        assert found is not None  # inserted now or before; claims are never deleted while their thread waits
        return won, found

    def take_over(self, approval_id: str, dead_owner: str, owner: str, lease_s: float) -> bool:
        """The fence: of several replicas that saw the same dead owner, the one whose UPDATE matched wins."""
        return self.count(f"UPDATE approval_claims SET owner = %s, lease_until = {_NOW} + %s WHERE approval_id = %s "
                          "AND owner = %s AND state = %s", (owner, lease_s, approval_id, dead_owner, DECIDING)) == 1

    def renew(self, approval_id: str, owner: str, lease_s: float) -> bool:
        return self.count(f"UPDATE approval_claims SET lease_until = {_NOW} + %s WHERE approval_id = %s AND "
                          "owner = %s AND state = %s", (lease_s, approval_id, owner, DECIDING)) == 1

    def finish(self, approval_id: str, owner: str, result: dict[str, Any]) -> None:
        self.count("UPDATE approval_claims SET state = %s, result = %s WHERE approval_id = %s AND owner = %s",
                   (DONE, json.dumps(result, default=str), approval_id, owner))

    def release(self, approval_id: str, owner: str, forget: bool) -> None:
        if forget:
            self.count("DELETE FROM approval_claims WHERE approval_id = %s AND owner = %s AND state = %s",
                       (approval_id, owner, DECIDING))
        else:
            self.count("UPDATE approval_claims SET lease_until = 0 WHERE approval_id = %s AND owner = %s",
                       (approval_id, owner))

    def get_claim(self, approval_id: str) -> Claim | None:
        row = self.one(f"SELECT approval_id, thread_id, decision, principal, owner, state, lease_until < {_NOW}, "
                       "result FROM approval_claims WHERE approval_id = %s", (approval_id,))
        return claim_of(row) if row else None

    def close(self) -> None:
        """The pool is the runtime's to close."""


# ---- thread ownership (server.threads.ThreadStore) ----------------------------------------------------------------
class PgThreadStore(_Rows):
    """Every read goes to the database (another replica may have created or moved the thread); a turn's lock is
    this process's lock plus a Postgres advisory lock on the thread, so two replicas never run turns of one thread
    at once."""

    _COLS = "thread_id, owner, created, title, waiting, turns"
    remote = True  # every call is a round trip: the server makes it off the event loop (TurnService.io)

    def __init__(self, pool: ConnectionPool) -> None:
        super().__init__(pool)
        self._lock = threading.Lock()
        self._turn_locks: dict[str, threading.Lock] = {}

    def create(self, owner: str, title: str = "") -> ThreadRecord:
        rec = ThreadRecord(new_thread_id(), owner, time.time(), title[:200])
        self.count(f"INSERT INTO server_threads ({self._COLS}) VALUES (%s, %s, %s, %s, %s, %s)",
                   (rec.thread_id, rec.owner, rec.created, rec.title, rec.waiting, rec.turns))
        return rec

    def get(self, thread_id: str, owner: str) -> ThreadRecord | None:
        row = self.one(f"SELECT {self._COLS} FROM server_threads WHERE thread_id = %s AND owner = %s",
                       (thread_id, owner))
        return ThreadRecord(*row) if row else None

    def owned_by(self, owner: str) -> list[ThreadRecord]:
        return [ThreadRecord(*r) for r in self.all(f"SELECT {self._COLS} FROM server_threads WHERE owner = %s "
                                                   "ORDER BY created DESC", (owner,))]

    def finished_turn(self, thread_id: str, text: str | None, waiting: bool) -> None:
        self.count("UPDATE server_threads SET waiting = %s, title = CASE WHEN title = '' THEN %s ELSE title END, "
                   "turns = turns + %s WHERE thread_id = %s",
                   (waiting, (text or "")[:200], 1 if text is not None else 0, thread_id))

    @contextmanager
    def turn_lock(self, thread_id: str) -> Iterator[None]:
        with self._lock:
            local = self._turn_locks.setdefault(thread_id, threading.Lock())
        with local, self.pool.connection() as conn:
            conn.execute("SELECT pg_advisory_lock(hashtextextended(%s, 0))", (thread_id,))
            try:
                yield
            finally:
                conn.execute("SELECT pg_advisory_unlock(hashtextextended(%s, 0))", (thread_id,))

    def close(self) -> None:
        """The pool is the runtime's to close."""


# ---- the audit log (append-only table) ----------------------------------------------------------------------------
class PgAudit(AuditLog):
    """The same entries as the JSON-lines file, one row each; the table's trigger refuses UPDATE and DELETE."""

    def __init__(self, pool: ConnectionPool) -> None:  # noqa: D107 - no file: nothing to create
        self.rows = _Rows(pool)
        self.path = None  # type: ignore[assignment]

    def _append(self, entry: dict[str, Any]) -> None:
        self.rows.count("INSERT INTO audit_log (approval_id, tool, entry) VALUES (%s, %s, %s)",
                        (entry.get("approval_id"), entry.get("tool") or "", json.dumps(entry, default=str)))

    def has(self, approval_id: str, tool: str) -> bool:
        return self.rows.one("SELECT 1 FROM audit_log WHERE approval_id = %s AND tool = %s LIMIT 1",
                             (approval_id, tool)) is not None

    def entries(self) -> list[dict[str, Any]]:
        return [r[0] for r in self.rows.all("SELECT entry FROM audit_log ORDER BY id")]


# ---- the Slack store (server.slack_store.SlackStore) --------------------------------------------------------------
class PgSlackStore(_Rows):
    _COLS = "channel, thread_ts, kthread, slack_user, \"user\", groups"

    def thread_for(self, channel: str, thread_ts: str) -> SlackThread | None:
        return _slack(self.one(f"SELECT {self._COLS} FROM slack_threads WHERE channel = %s AND thread_ts = %s",
                               (channel, thread_ts)))

    def thread_by_id(self, kthread: str) -> SlackThread | None:
        return _slack(self.one(f"SELECT {self._COLS} FROM slack_threads WHERE kthread = %s", (kthread,)))

    def add_thread(self, t: SlackThread) -> SlackThread:
        self.count(f"INSERT INTO slack_threads ({self._COLS}, created) VALUES (%s, %s, %s, %s, %s, %s, %s) "
                   "ON CONFLICT DO NOTHING", (t.channel, t.thread_ts, t.kthread, t.slack_user, t.user,
                                              json.dumps(list(t.groups)), time.time()))
        return self.thread_for(t.channel, t.thread_ts) or t

    def set_asker(self, kthread: str, slack_user: str, principal: Any) -> None:
        self.count("UPDATE slack_threads SET slack_user = %s, \"user\" = %s, groups = %s WHERE kthread = %s",
                   (slack_user, principal.user, json.dumps(list(principal.groups)), kthread))

    def claim(self, key: str, ts: float | None = None) -> bool:
        now = time.time()
        self.count("DELETE FROM slack_claims WHERE ts < %s", (now - CLAIM_TTL_S,))
        return self.one("INSERT INTO slack_claims VALUES (%s, %s) ON CONFLICT DO NOTHING RETURNING key",
                        (key, now if ts is None else ts)) is not None

    def release(self, key: str) -> None:
        self.count("DELETE FROM slack_claims WHERE key = %s", (key,))


# ---- the toolsmith's registry (tools.toolsmith.registry.Registry: its rows) ---------------------------------------
class PgRegistry(Registry):
    """The registry's logic (validation, embeddings, search) over the shared table: a tool made on one replica is
    found, and an approved tool is run, on any other."""

    def __init__(self, pool: ConnectionPool, embedder: Any = None) -> None:  # noqa: D107 - no file to open
        self.path = None  # type: ignore[assignment]
        self._embedder = embedder
        self._lock = threading.Lock()
        self._sql = _Rows(pool)

    def _put_row(self, name: str, body: str, successes: int, failures: int, model: str, dim: int, blob: bytes,
                 now: float) -> None:
        self._sql.count("INSERT INTO toolsmith_tools (name, record, successes, failures, embed_model, dim, vectors, "
                        "created, updated) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (name) DO UPDATE "
                        "SET record = excluded.record, successes = excluded.successes, failures = excluded.failures, "
                        "embed_model = excluded.embed_model, dim = excluded.dim, vectors = excluded.vectors, "
                        "updated = excluded.updated", (name, body, successes, failures, model, dim, blob, now, now))

    def _row(self, name: str) -> tuple[Any, ...] | None:
        return self._sql.one("SELECT record, successes, failures FROM toolsmith_tools WHERE name = %s", (name,))

    def _rows(self) -> list[tuple[Any, ...]]:
        return self._sql.all("SELECT record, successes, failures FROM toolsmith_tools ORDER BY name")

    def _delete_row(self, name: str) -> bool:
        return self._sql.count("DELETE FROM toolsmith_tools WHERE name = %s", (name,)) > 0

    def _count(self, name: str, column: str, now: float) -> None:
        assert column in ("successes", "failures")
        self._sql.count(f"UPDATE toolsmith_tools SET {column} = {column} + 1, updated = %s WHERE name = %s",
                        (now, name))

    def _vector_rows(self) -> list[tuple[Any, ...]]:
        return [(*r[:5], bytes(r[5]) if r[5] is not None else None) for r in self._sql.all(
            "SELECT record, successes, failures, embed_model, dim, vectors FROM toolsmith_tools")]

    def _put_vectors(self, name: str, model: str, dim: int, blob: bytes) -> None:
        self._sql.count("UPDATE toolsmith_tools SET embed_model = %s, dim = %s, vectors = %s WHERE name = %s",
                        (model, dim, blob, name))

    def close(self) -> None:
        """The pool is the runtime's to close."""
