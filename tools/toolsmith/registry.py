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
        now = time.time()
        with self._lock, self._db:
            row = self._db.execute("SELECT created FROM tools WHERE name = ?", (rec.name,)).fetchone()
            self._db.execute(
                "INSERT OR REPLACE INTO tools (name, record, successes, failures, embed_model, dim, vectors, created,"
                " updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (rec.name, body, int(rec.successes), int(rec.failures), str(getattr(self.embedder, "name", "")),
                 int(vecs.shape[1]), vecs.tobytes(), row[0] if row else now, now))

    def get(self, name: str) -> ToolRecord | None:
        with self._lock:
            row = self._db.execute("SELECT record, successes, failures FROM tools WHERE name = ?", (name,)).fetchone()
        return _record(*row) if row else None

    def list(self) -> list[ToolRecord]:
        with self._lock:
            rows = self._db.execute("SELECT record, successes, failures FROM tools ORDER BY name").fetchall()
        return [_record(*r) for r in rows]

    def remove(self, name: str) -> bool:
        with self._lock, self._db:
            return self._db.execute("DELETE FROM tools WHERE name = ?", (name,)).rowcount > 0

    def record_outcome(self, name: str, ok: bool) -> None:
        """Count one more success or failure for `name` (a name not registered is ignored)."""
        column = "successes" if ok else "failures"
        with self._lock, self._db:
            self._db.execute(f"UPDATE tools SET {column} = {column} + 1, updated = ? WHERE name = ?",
                             (time.time(), name))

    # -- search --------------------------------------------------------------------------------------
    def search(self, text: str, k: int = 3) -> list[tuple[ToolRecord, float]]:
        """The `k` tools whose description or original request is nearest to `text` (cosine), best first."""
        if not text.strip() or k <= 0:
            return []
        with self._lock:
            rows = self._db.execute(
                "SELECT record, successes, failures, embed_model, dim, vectors FROM tools").fetchall()
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
        with self._lock, self._db:
            self._db.execute("UPDATE tools SET embed_model = ?, dim = ?, vectors = ? WHERE name = ?",
                             (str(getattr(self.embedder, "name", "")), int(vecs.shape[1]), vecs.tobytes(), rec.name))
        return vecs

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _record(body: str, successes: int, failures: int) -> ToolRecord:
    data = json.loads(body)
    return ToolRecord(**{k: data[k] for k in _RECORD_FIELDS if k in data}, successes=int(successes),
                      failures=int(failures))
