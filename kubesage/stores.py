"""Where kubesage keeps its state: SQLite files under KUBESAGE_HOME (the default: one process, one machine) or one
Postgres database that several `kubesage serve` replicas share (the `database_url` setting).

Why one factory: every interface asks here for the checkpointer, the approvals ledger, the audit log, the thread
store and the Slack store, and gets the same interface either way, so no other module knows which database is
behind it (the Postgres adapters are kubesage/pgstore.py; the SQLite ones live beside the code that uses them).
"""

from __future__ import annotations

import threading
from typing import Any

from kubesage import datastore
from kubesage.settings import Settings, redact_url


class DatabaseUnavailable(Exception):
    """The configured database cannot be reached at start-up; the message names it (password hidden)."""


class Stores:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._pool: Any = None
        self._lock = threading.Lock()

    @property
    def postgres(self) -> bool:
        return self.settings.postgres

    @property
    def name(self) -> str:
        """How messages name the database: the URL without its password, or the SQLite directory."""
        return redact_url(self.settings.database_url) if self.postgres else f"SQLite under {self.settings.home}"

    @property
    def pool(self) -> Any:
        """The Postgres pool, opened and the schema migrated on first use (DatabaseUnavailable when unreachable)."""
        with self._lock:
            if self._pool is None:
                from psycopg import Error
                from psycopg_pool import PoolTimeout

                from kubesage import pgstore

                try:
                    pool = pgstore.open_pool(self.settings.database_url)
                except PoolTimeout as e:
                    raise DatabaseUnavailable(f"cannot connect to the database {self.name}: {e}; check "
                                              "database_url and that Postgres is running") from None
                try:
                    pgstore.migrate(pool)
                except Error as e:
                    pool.close()
                    raise DatabaseUnavailable(f"cannot set up the schema in {self.name}: "
                                              f"{type(e).__name__}: {e}") from None
                self._pool = pool
                from tools.toolsmith import registry

                # every registry this process opens (the toolsmith agent, approved tool runs) is the shared one
                registry.share(lambda embedder=None: pgstore.PgRegistry(pool, embedder))
            return self._pool

    def checkpointer(self) -> Any:
        if self.postgres:
            from langgraph.checkpoint.postgres import PostgresSaver

            return PostgresSaver(self.pool)
        from langgraph.checkpoint.sqlite import SqliteSaver

        home = self.settings.home
        home.mkdir(parents=True, exist_ok=True)
        return SqliteSaver(datastore.connect(home / "checkpoints.sqlite"))  # DataError (one line) when damaged

    def ledger(self) -> Any:
        from agents.approvals import Ledger

        if self.postgres:
            from kubesage.pgstore import PgLedger

            return PgLedger(self.pool)
        path = self.settings.home / "approvals.sqlite"
        datastore.connect(path).close()
        return Ledger(path)

    def audit(self) -> Any:
        if self.postgres:
            from kubesage.pgstore import PgAudit

            return PgAudit(self.pool)
        from agents.audit import AuditLog

        return AuditLog(self.settings.home / "audit.log")

    def threads(self) -> Any:
        if self.postgres:
            from kubesage.pgstore import PgThreadStore

            return PgThreadStore(self.pool)
        from server.threads import ThreadStore

        return ThreadStore(self.settings.home / "server-threads.sqlite")

    def slack(self) -> Any:
        if self.postgres:
            from kubesage.pgstore import PgSlackStore

            return PgSlackStore(self.pool)
        from server.slack_store import SlackStore

        return SlackStore(self.settings.home / "slack.sqlite")

    def registry(self, embedder: Any = None) -> Any:
        """The toolsmith's tool registry (`tools.sqlite` under home, or the shared table)."""
        if self.postgres:
            from kubesage.pgstore import PgRegistry

            return PgRegistry(self.pool, embedder)
        from tools.toolsmith.registry import Registry

        return Registry(self.settings.home, embedder)

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                from tools.toolsmith import registry

                registry.share(None)
                self._pool.close()
                self._pool = None
