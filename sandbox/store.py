"""The object store: every object by (resource, namespace, name), one global resourceVersion, watch fan-out
and optional persistence to SQLite.

Why: the real API server's etcd gives every write a cluster-wide revision that lists and watches are
ordered by; clients (informers, `kubectl get -w`, `kubectl wait`) depend on it. Stored objects are
treated as immutable snapshots: writers build a new dict, so readers never need copies.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HISTORY = 50_000  # watch events kept for resuming from a resourceVersion

Key = tuple[str, str, str]  # resource key ("apps/deployments"), namespace ("" for cluster scope), name


@dataclass
class WatchEvent:
    rv: int
    resource: str
    namespace: str
    type: str  # ADDED | MODIFIED | DELETED
    obj: dict[str, Any]


@dataclass
class Watcher:
    resource: str
    namespace: str | None
    queue: asyncio.Queue
    loop: asyncio.AbstractEventLoop
    closed: bool = field(default=False)

    def wants(self, ev: WatchEvent) -> bool:
        return ev.resource == self.resource and (self.namespace is None or ev.namespace == self.namespace)

    def push(self, ev: WatchEvent | None) -> None:
        if not self.closed:
            self.loop.call_soon_threadsafe(self.queue.put_nowait, ev)


class TooOld(Exception):
    """The requested resourceVersion is older than the kept history (the API answers 410 Gone)."""


class Store:
    """Thread-safe object storage with a global revision counter."""

    def __init__(self, state_dir: str | Path | None = None) -> None:
        self._lock = threading.RLock()
        self._objects: dict[str, dict[tuple[str, str], dict[str, Any]]] = {}
        self._rv = 0
        self._history: deque[WatchEvent] = deque(maxlen=HISTORY)
        self._watchers: list[Watcher] = []
        self._db: sqlite3.Connection | None = None
        self._uids: dict[str, Key] = {}
        self._owned: dict[str, set[Key]] = {}  # owner uid -> dependents
        if state_dir is not None:
            self._open(Path(state_dir))
            for resource, items in self._objects.items():
                for (ns, name), obj in items.items():
                    self._index((resource, ns, name), None, obj)

    def _index(self, key: Key, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
        """Keep the uid and ownerReferences indexes (garbage collection asks them) in step with writes."""
        if old is not None:
            meta = old.get("metadata") or {}
            self._uids.pop(meta.get("uid", ""), None)
            for ref in meta.get("ownerReferences") or []:
                deps = self._owned.get(ref.get("uid", ""))
                if deps is not None:
                    deps.discard(key)
                    if not deps:
                        del self._owned[ref.get("uid", "")]
        if new is not None:
            meta = new.get("metadata") or {}
            if meta.get("uid"):
                self._uids[meta["uid"]] = key
            for ref in meta.get("ownerReferences") or []:
                self._owned.setdefault(ref.get("uid", ""), set()).add(key)

    def has_uid(self, uid: str) -> bool:
        return uid in self._uids

    def dependents(self, uid: str) -> list[Key]:
        """Objects whose ownerReferences name `uid`."""
        with self._lock:
            return sorted(self._owned.get(uid, ()))

    # -- persistence -------------------------------------------------------------------------------
    def _open(self, state_dir: Path) -> None:
        state_dir.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(state_dir / "objects.sqlite3", check_same_thread=False, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("CREATE TABLE IF NOT EXISTS objects (resource TEXT, namespace TEXT, name TEXT, body TEXT,"
                   " PRIMARY KEY (resource, namespace, name))")
        db.execute("CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT)")
        for resource, ns, name, body in db.execute("SELECT resource, namespace, name, body FROM objects"):
            self._objects.setdefault(resource, {})[(ns, name)] = json.loads(body)
        row = db.execute("SELECT v FROM meta WHERE k='rv'").fetchone()
        self._rv = int(row[0]) if row else 0
        self._db = db

    def _persist(self, resource: str, ns: str, name: str, obj: dict[str, Any] | None) -> None:
        if self._db is None:
            return
        db = self._db
        db.execute("BEGIN")
        try:
            if obj is None:
                db.execute("DELETE FROM objects WHERE resource=? AND namespace=? AND name=?", (resource, ns, name))
            else:
                db.execute("INSERT OR REPLACE INTO objects VALUES (?,?,?,?)",
                           (resource, ns, name, json.dumps(obj, separators=(",", ":"))))
            db.execute("INSERT OR REPLACE INTO meta VALUES ('rv', ?)", (str(self._rv),))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
            for w in self._watchers:
                w.push(None)
            self._watchers.clear()

    # -- reads -------------------------------------------------------------------------------------
    @property
    def resource_version(self) -> int:
        return self._rv

    def get(self, resource: str, ns: str, name: str) -> dict[str, Any] | None:
        return self._objects.get(resource, {}).get((ns, name))

    def list(self, resource: str, ns: str | None = None) -> tuple[list[dict[str, Any]], int]:
        """Objects sorted by (namespace, name), and the revision the list is consistent with."""
        with self._lock:
            items = self._objects.get(resource, {})
            keys = sorted(k for k in items if ns is None or k[0] == ns)
            return [items[k] for k in keys], self._rv

    def resources(self) -> list[str]:
        return list(self._objects)

    def count(self) -> int:
        return sum(len(v) for v in self._objects.values())

    # -- writes ------------------------------------------------------------------------------------
    def put(self, resource: str, ns: str, name: str, obj: dict[str, Any], event: str) -> dict[str, Any]:
        """Store `obj` under a new revision (written into metadata.resourceVersion) and notify watchers.

        The caller has already decided it may (existence, preconditions), while holding `lock()`.
        """
        with self._lock:
            self._rv += 1
            obj.setdefault("metadata", {})["resourceVersion"] = str(self._rv)
            self._persist(resource, ns, name, obj)
            bucket = self._objects.setdefault(resource, {})
            self._index((resource, ns, name), bucket.get((ns, name)), obj)
            bucket[(ns, name)] = obj
            self._emit(WatchEvent(self._rv, resource, ns, event, obj))
            return obj

    def remove(self, resource: str, ns: str, name: str) -> dict[str, Any] | None:
        with self._lock:
            current = self._objects.get(resource, {}).get((ns, name))
            if current is None:
                return None
            self._rv += 1
            final = dict(current)
            final["metadata"] = dict(current.get("metadata") or {}, resourceVersion=str(self._rv))
            self._persist(resource, ns, name, None)
            self._index((resource, ns, name), current, None)
            del self._objects[resource][(ns, name)]
            self._emit(WatchEvent(self._rv, resource, ns, "DELETED", final))
            return final

    def lock(self) -> threading.RLock:
        """The store lock: hold it across a read-check-write sequence to make it atomic."""
        return self._lock

    # -- watch -------------------------------------------------------------------------------------
    def _emit(self, ev: WatchEvent) -> None:
        self._history.append(ev)
        for w in self._watchers:
            if w.wants(ev):
                w.push(ev)

    def watch(self, resource: str, ns: str | None, since: int | None,
              loop: asyncio.AbstractEventLoop) -> tuple[Watcher, list[WatchEvent]]:
        """Register a watcher; returns it with the events after `since` that it missed (replay).

        `since=None` means "from now". Raises TooOld when history no longer reaches back to `since`.
        """
        with self._lock:
            replay: list[WatchEvent] = []
            if since is not None and since < self._rv:
                oldest = self._history[0].rv if self._history else self._rv + 1
                if since + 1 < oldest:
                    raise TooOld(f"too old resource version: {since} ({oldest - 1})")
                w = Watcher(resource, ns, asyncio.Queue(), loop)
                replay = [ev for ev in self._history if ev.rv > since and w.wants(ev)]
            else:
                w = Watcher(resource, ns, asyncio.Queue(), loop)
            self._watchers.append(w)
            return w, replay

    def unwatch(self, w: Watcher) -> None:
        with self._lock:
            w.closed = True
            if w in self._watchers:
                self._watchers.remove(w)
