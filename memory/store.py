"""Durable storage of cache entries in Chroma: one collection per partition, so a restart finds every entry.

Why Chroma only for durability: the hot path searches an in-memory index (memory/vector_index.py); Chroma keeps
the vectors, texts and metadata on disk (embedded `PersistentClient` under KUBESAGE_HOME) or on a Chroma server
(`KUBESAGE_CACHE_CHROMA_URL`) and hands them back when a partition is first used. Collections are created
without an embedding function: the cache always passes its own vectors, and Chroma's default function would try
to download a model.

With a server, the HTTP client gets a timeout (chromadb's own is none): a hung server must turn into a failed
call the cache can degrade from, not a lookup that never returns.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np


@dataclass
class StoredEntry:
    """One cache entry as it lives on disk."""

    id: str
    vector: np.ndarray
    text: str
    metadata: dict[str, Any]


class ChromaStore:
    """Create, read, update and delete cache entries partition by partition."""

    BATCH = 4000
    TIMEOUT_S = 10.0

    def __init__(self, path: Path | None = None, url: str = "") -> None:
        self._path = path
        self._url = url
        self._client = None
        self._collections: dict[str, Any] = {}
        self._lock = threading.Lock()

    def _connect(self):
        if self._client is None:
            import chromadb
            from chromadb.config import Settings

            settings = Settings(anonymized_telemetry=False)
            if self._url:
                u = urlparse(self._url)
                self._client = chromadb.HttpClient(host=u.hostname or "localhost",
                                                   port=u.port or (443 if u.scheme == "https" else 8000),
                                                   ssl=u.scheme == "https", settings=settings)
                session = getattr(getattr(self._client, "_server", None), "_session", None)
                if session is not None:
                    session.timeout = self.TIMEOUT_S
            else:
                assert self._path is not None
                self._path.mkdir(parents=True, exist_ok=True)
                self._client = chromadb.PersistentClient(path=str(self._path), settings=settings)
        return self._client

    @property
    def shared(self) -> bool:
        """True for a Chroma server other replicas may write to."""
        return bool(self._url)

    def collection(self, name: str, metadata: dict[str, Any]):
        """The collection named `name`, created (cosine space, no embedding function) when missing."""
        with self._lock:
            if name not in self._collections:
                self._collections[name] = self._connect().get_or_create_collection(
                    name=name, embedding_function=None, metadata=metadata,
                    configuration={"hnsw": {"space": "cosine"}})
            return self._collections[name]

    def load(self, name: str, metadata: dict[str, Any], page: int = 5000) -> Iterator[StoredEntry]:
        """Every entry of one partition, page by page."""
        col = self.collection(name, metadata)
        offset = 0
        while True:
            got = col.get(include=["embeddings", "metadatas", "documents"], limit=page, offset=offset)
            ids = got["ids"]
            if not ids:
                return
            embs = got["embeddings"]
            for i, id_ in enumerate(ids):
                yield StoredEntry(id_, np.asarray(embs[i], dtype=np.float32), got["documents"][i] or "",
                                  dict(got["metadatas"][i] or {}))
            if len(ids) < page:
                return
            offset += page

    def ids_since(self, name: str, metadata: dict[str, Any], written_at: float) -> list[str]:
        """Ids of the entries written at or after `written_at` (wall clock; ids only: a pull is one small read)."""
        got = self.collection(name, metadata).get(where={"written_at": {"$gte": written_at}}, include=[])
        return list(got["ids"])

    def get(self, name: str, metadata: dict[str, Any], ids: list[str]) -> list[StoredEntry]:
        """The entries `ids` that still exist."""
        col, out = self.collection(name, metadata), []
        for i in range(0, len(ids), self.BATCH):
            got = col.get(ids=ids[i:i + self.BATCH], include=["embeddings", "metadatas", "documents"])
            out.extend(StoredEntry(id_, np.asarray(got["embeddings"][j], dtype=np.float32),
                                   got["documents"][j] or "", dict(got["metadatas"][j] or {}))
                       for j, id_ in enumerate(got["ids"]))
        return out

    def upsert(self, name: str, metadata: dict[str, Any], entries: list[StoredEntry]) -> None:
        """Write (or overwrite) entries."""
        col = self.collection(name, metadata) if entries else None
        for i in range(0, len(entries), self.BATCH):  # Chroma caps one write's size
            chunk = entries[i:i + self.BATCH]
            col.upsert(ids=[e.id for e in chunk], embeddings=np.stack([e.vector for e in chunk]),
                       documents=[e.text for e in chunk], metadatas=[e.metadata for e in chunk])

    def update_metadata(self, name: str, metadata: dict[str, Any], ids: list[str],
                        values: list[dict[str, Any]]) -> None:
        """Merge `values` into the metadata of `ids` (used for last-use times)."""
        for i in range(0, len(ids), self.BATCH):
            self.collection(name, metadata).update(ids=ids[i:i + self.BATCH], metadatas=values[i:i + self.BATCH])

    def delete(self, name: str, metadata: dict[str, Any], ids: list[str]) -> None:
        """Remove entries."""
        for i in range(0, len(ids), self.BATCH):
            self.collection(name, metadata).delete(ids=ids[i:i + self.BATCH])
