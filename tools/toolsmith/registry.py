"""The tool registry: every synthesized tool that passed its checks, kept so a solved request is never solved twice.

Why SQLite with the vectors in the same row: the registry is small (tens to thousands of tools), must survive
restarts, and is read by the CLI without loading a model. Search is a brute-force cosine over the stored MiniLM
vectors, which at this size is exact and cheap. Each tool is embedded from its description and, when known, the
request that produced it (the score is the better of the two), because the next person asks in words like the
first person's, not like the description's.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,79}$")


@dataclass
class ToolRecord:
    """A registered tool: its code and schemas, whether it mutates (then every use needs approval), how it was
    made (provenance: "plan" | "codegen", model, served_by, request, created), the test it passed at
    registration, and how it has fared since."""

    name: str
    description: str
    code: str
    params: dict = field(default_factory=dict)         # JSON schema of the arguments
    result_schema: dict = field(default_factory=dict)  # JSON schema of the result
    mutates: bool = False
    provenance: dict = field(default_factory=dict)
    test: dict = field(default_factory=dict)
    successes: int = 0
    failures: int = 0
    plan: dict | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_SCHEMA = """
CREATE TABLE IF NOT EXISTS tools (
    name TEXT PRIMARY KEY,
    record TEXT NOT NULL,
    successes INTEGER NOT NULL DEFAULT 0,
    failures INTEGER NOT NULL DEFAULT 0,
    embed_model TEXT NOT NULL DEFAULT '',
    dim INTEGER NOT NULL DEFAULT 0,
    vectors BLOB,
    created REAL NOT NULL,
    updated REAL NOT NULL
)
"""
_RECORD_FIELDS = ("name", "description", "code", "params", "result_schema", "mutates", "provenance", "test", "plan")


class Registry:
    """Add, find, list and remove synthesized tools under `home`/tools.sqlite."""

    def __init__(self, home: Path, embedder: Any = None) -> None:
        self.path = Path(home) / "tools.sqlite"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._embedder = embedder
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, timeout=30)
        with self._db:
            self._db.execute(_SCHEMA)

    # -- embeddings (loaded only when needed: `kubesage tools list` never loads the model) ------------
    @property
    def embedder(self) -> Any:
        if self._embedder is None:
            from memory.embeddings import shared_embedder

            self._embedder = shared_embedder()
        return self._embedder

    @staticmethod
    def _texts(rec: ToolRecord) -> list[str]:
        texts = [rec.description.strip() or rec.name.replace("_", " ")]
        request = str((rec.provenance or {}).get("request") or "").strip()
        if request and request != texts[0]:
            texts.append(request)
        return texts

    def _vectors(self, rec: ToolRecord) -> np.ndarray:
        return np.asarray(self.embedder.embed(self._texts(rec)), dtype=np.float32)

    # -- CRUD ----------------------------------------------------------------------------------------
    def add(self, rec: ToolRecord) -> None:
        """Store `rec` under its name; adding a name again replaces the earlier tool (counts as given in `rec`)."""
        if not NAME.match(rec.name or ""):
            raise ValueError(f"invalid tool name {rec.name!r}: use letters, digits, '_', '-' or '.', starting "
                             "with a letter (at most 80 characters)")
        vecs = self._vectors(rec)
        body = json.dumps({k: getattr(rec, k) for k in _RECORD_FIELDS}, sort_keys=True)
        self._put_row(rec.name, body, int(rec.successes), int(rec.failures), str(getattr(self.embedder, "name", "")),
                      int(vecs.shape[1]), vecs.tobytes(), time.time())

    def get(self, name: str) -> ToolRecord | None:
        row = self._row(name)
        return _record(*row) if row else None

    def list(self) -> list[ToolRecord]:
        return [_record(*r) for r in self._rows()]

    def remove(self, name: str) -> bool:
        return self._delete_row(name)

    def record_outcome(self, name: str, ok: bool) -> None:
        """Count one more success or failure for `name` (a name not registered is ignored)."""
        self._count(name, "successes" if ok else "failures", time.time())

    # -- rows: SQLite here; kubesage/pgstore.py's PgRegistry keeps them in the replicas' shared Postgres ------------
    def _put_row(self, name: str, body: str, successes: int, failures: int, model: str, dim: int, blob: bytes,
                 now: float) -> None:
        with self._lock, self._db:
            row = self._db.execute("SELECT created FROM tools WHERE name = ?", (name,)).fetchone()
            self._db.execute(
                "INSERT OR REPLACE INTO tools (name, record, successes, failures, embed_model, dim, vectors, created,"
                " updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (name, body, successes, failures, model, dim, blob, row[0] if row else now, now))

    def _row(self, name: str) -> tuple[Any, ...] | None:
        with self._lock:
            return self._db.execute("SELECT record, successes, failures FROM tools WHERE name = ?", (name,)).fetchone()

    def _rows(self) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute("SELECT record, successes, failures FROM tools ORDER BY name").fetchall()

    def _delete_row(self, name: str) -> bool:
        with self._lock, self._db:
            return self._db.execute("DELETE FROM tools WHERE name = ?", (name,)).rowcount > 0

    def _count(self, name: str, column: str, now: float) -> None:
        with self._lock, self._db:
            self._db.execute(f"UPDATE tools SET {column} = {column} + 1, updated = ? WHERE name = ?", (now, name))

    def _vector_rows(self) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(
                "SELECT record, successes, failures, embed_model, dim, vectors FROM tools").fetchall()

    def _put_vectors(self, name: str, model: str, dim: int, blob: bytes) -> None:
        with self._lock, self._db:
            self._db.execute("UPDATE tools SET embed_model = ?, dim = ?, vectors = ? WHERE name = ?",
                             (model, dim, blob, name))

    # -- search --------------------------------------------------------------------------------------
    def search(self, text: str, k: int = 3) -> list[tuple[ToolRecord, float]]:
        """The `k` tools whose description or original request is nearest to `text` (cosine), best first."""
        if not text.strip() or k <= 0:
            return []
        rows = self._vector_rows()
        if not rows:
            return []
        query = np.asarray(self.embedder.embed([text]), dtype=np.float32)[0]
        model = str(getattr(self.embedder, "name", ""))
        scored: list[tuple[ToolRecord, float]] = []
        for body, ok, bad, embed_model, dim, blob in rows:
            rec = _record(body, ok, bad)
            if embed_model != model or dim != query.shape[0] or not blob:
                vecs = self._reembed(rec)  # stored by another embedder: bring it up to date once
            else:
                vecs = np.frombuffer(blob, dtype=np.float32).reshape(-1, dim)
            scored.append((rec, float(np.max(vecs @ query))))
        scored.sort(key=lambda t: (-t[1], t[0].name))
        return scored[:k]

    def _reembed(self, rec: ToolRecord) -> np.ndarray:
        vecs = self._vectors(rec)
        self._put_vectors(rec.name, str(getattr(self.embedder, "name", "")), int(vecs.shape[1]), vecs.tobytes())
        return vecs

    def close(self) -> None:
        with self._lock:
            self._db.close()


# Set by the runtime when replicas share one database (kubesage/stores.py): every registry opened in this process
# is then that database's, whatever `home` a caller passes (an approved tool is found on any replica).
_shared: Callable[[Any], Registry] | None = None


def share(factory: Callable[[Any], Registry] | None) -> None:
    """Open every registry of this process with `factory(embedder)` (None: SQLite under each caller's home)."""
    global _shared
    _shared = factory


def open_registry(home: Path, embedder: Any = None) -> Registry:
    """The registry to use: the shared one when the runtime set it, else `home`/tools.sqlite."""
    return _shared(embedder) if _shared is not None else Registry(home, embedder)


def _record(body: str, successes: int, failures: int) -> ToolRecord:
    data = json.loads(body)
    return ToolRecord(**{k: data[k] for k in _RECORD_FIELDS if k in data}, successes=int(successes),
                      failures=int(failures))
