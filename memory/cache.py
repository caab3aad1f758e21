"""The category-aware semantic cache: exact match first, then a guarded semantic match inside one partition.

Why this shape (DESIGN.md, "Cache partition"): an answer may only be reused for the same principal/tenant scope,
category, model and tool schemas, so each partition has its own entries and its own in-memory index, and a
search never leaves it (no filtering after the nearest-neighbour search). Inside a partition, a semantic match
is searched only among entries whose *compatibility fingerprint* (everything in the request except the last
user message) is identical, and a candidate must also pass the negation/entity guards. Entries expire by TTL,
and each partition keeps at most its category's quota (least recently used goes first).

Replicas (`chroma_url`, a Chroma server): every replica reads and writes the same collections, and each keeps its
own in-memory index. A lookup that misses locally pulls the partition's entries other replicas wrote since its
previous pull (ids with `written_at` past the last pull minus `sync_lag_s`, then only the unknown ids in full) and
searches again, so an answer stored on replica A is a hit on replica B's next lookup. Hits never wait for the
network; concurrent misses on one partition share one pull. A store that fails (server down, timeout) degrades:
a lookup misses and a write stays in this replica's memory, with a logged warning, never an exception.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from memory.config import CacheConfig, CategoryPolicy
from memory.embeddings import Embedder, MiniLMEmbedder, shared_embedder
from memory.guards import Signature, mismatch, normalize, signature
from memory.store import ChromaStore, StoredEntry
from memory.thresholds import AdaptiveThresholds
from memory.vector_index import VectorIndex

log = logging.getLogger("kubesage.cache")


@dataclass(frozen=True)
class Partition:
    """Who may see an entry: scope (principal or tenant) × category × model × tool-schema fingerprint."""

    scope: str
    category: str
    model: str
    tools: str = ""

    @property
    def name(self) -> str:
        """A Chroma-safe collection name derived from the partition (the fields themselves are metadata)."""
        raw = "\x1f".join((self.scope, self.category, self.model, self.tools))
        return "kc-" + hashlib.sha256(raw.encode()).hexdigest()[:40]

    def metadata(self) -> dict[str, str]:
        return {"scope": self.scope, "category": self.category, "model": self.model, "tools": self.tools or "-"}


@dataclass(frozen=True)
class CacheKey:
    """What the caller (the gateway) computed for one request.

    `exact` hashes the whole normalized request; `compat` hashes everything except the last user message;
    `text` is that last user message (None: exact matching only); `min_similarity` lets one request demand a
    stricter semantic threshold than its category's.
    """

    partition: Partition
    exact: str
    compat: str
    text: str | None = None
    min_similarity: float | None = None


@dataclass(frozen=True)
class CacheHit:
    """A reusable answer and why it was reused."""

    payload: dict[str, Any]
    kind: str  # "exact" or "semantic"
    similarity: float
    threshold: float
    matched_text: str
    entry_id: str
    age_s: float


@dataclass
class _Entry:
    id: str
    compat: str
    text: str
    sig: Signature | None
    payload: str
    created: float
    expires: float
    last_used: float
    semantic: bool


@dataclass
class _PartitionState:
    part: Partition
    entries: dict[str, _Entry] = field(default_factory=dict)
    indexes: dict[str, VectorIndex] = field(default_factory=dict)
    lru: OrderedDict[str, None] = field(default_factory=OrderedDict)
    dirty: set[str] = field(default_factory=set)
    loaded: bool = False  # its stored entries are in memory (a failed load is retried, see _state)
    retry_at: float = 0.0  # monotonic time before which a failed load is not retried
    pull_since: float = 0.0  # wall clock: the next pull asks for entries written at or after this
    pull_began: float = float("-inf")  # monotonic time the last successful pull (or load) began
    pull_lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class CacheStats:
    """Counters for /metrics."""

    hits_exact: int = 0
    hits_semantic: int = 0
    misses: int = 0
    guard_rejections: int = 0
    stores: int = 0
    not_cacheable: int = 0
    expired: int = 0
    evicted_lru: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


class SemanticCache:
    """Exact + semantic answer cache, partitioned, persisted through Chroma, searched in memory."""

    FLUSH_INTERVAL_S = 5.0  # last-use times reach Chroma from a background thread, never from a lookup
    LOAD_RETRY_S = 1.0  # a partition whose load failed is tried again at most this often
    WARN_EVERY_S = 10.0  # a store outage logs one warning per this many seconds, not one per request

    def __init__(self, config: CacheConfig, embedder: Embedder | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self._embedder = embedder
        self._clock = clock
        self.thresholds = AdaptiveThresholds(config.threshold_floor, config.max_loosen)
        self.stats = CacheStats()
        self._store = (ChromaStore(config.dir / "chroma", config.chroma_url)
                       if config.persist and config.enabled else None)
        self._parts: dict[str, _PartitionState] = {}
        self._lock = threading.RLock()
        self._vec_memo: OrderedDict[str, np.ndarray] = OrderedDict()
        self._placeholder: np.ndarray | None = None
        self._closed = threading.Event()
        self._flusher: threading.Thread | None = None
        # Chroma writes are queued under the cache lock and performed after it is released (in order, under
        # their own lock), so a lookup never waits for the disk or the network.
        self._writes: list[tuple[str, Partition, tuple]] = []
        self._write_lock = threading.Lock()
        self._shared = self._store is not None and self._store.shared
        self._warned_at = float("-inf")
        self._warn_lock = threading.Lock()

    # -- public API -------------------------------------------------------------------------------------------

    @property
    def embedder(self) -> Embedder:
        """The embedding model (loaded on first use: most exact hits never need it)."""
        if self._embedder is None:
            self._embedder = shared_embedder(self.config.embed_threads)
        return self._embedder

    def policy(self, category: str) -> CategoryPolicy:
        """The caching policy of `category`."""
        return self.config.policy(category)

    def set_pressure(self, pressure: float) -> None:
        """Report strain on the expensive tier (0..1); semantic thresholds loosen towards the floor."""
        self.thresholds.set_pressure(pressure)

    def lookup(self, key: CacheKey, vector: np.ndarray | None = None) -> CacheHit | None:
        """The cached answer for `key`, or None. Exact first; semantic only inside the key's partition and
        compatibility fingerprint, above the (load-adapted) threshold, and past the guards. `vector` is the
        text's embedding when the caller already has it (an embedding router embeds the same message). With a
        Chroma server, a local miss pulls other replicas' new entries and searches once more."""
        policy = self.policy(key.partition.category)
        if not (self.config.enabled and policy.cacheable):
            return None
        started = time.monotonic()
        hit, vector = self._search(key, policy, vector)
        if hit is None and self._shared and self._pull(key.partition, started):
            hit, vector = self._search(key, policy, vector)
        if hit is None:
            with self._lock:
                self.stats.misses += 1
        self._drain()
        return hit

    def _search(self, key: CacheKey, policy: CategoryPolicy,
                vector: np.ndarray | None) -> tuple[CacheHit | None, np.ndarray | None]:
        """One search of the in-memory partition; also returns the embedding it computed (a second search after
        a pull reuses it)."""
        now = self._clock()
        with self._lock:
            st = self._state(key.partition)
            e = st.entries.get(key.exact)
            if e is not None:
                if e.expires > now:
                    self._touch(st, e, now)
                    self.stats.hits_exact += 1
                    return CacheHit(json.loads(e.payload), "exact", 1.0, 1.0, e.text, e.id, now - e.created), vector
                self._drop(st, [e.id], expired=True)
            semantic = bool(policy.semantic and key.text and key.compat in st.indexes)
        if not semantic:
            return None, vector
        vec = self._embed(key.text) if vector is None else vector
        sig = signature(key.text)
        threshold = self.thresholds.effective(policy, key.min_similarity)
        with self._lock:
            st = self._state(key.partition)
            index = st.indexes.get(key.compat)
            for cand, score in (index.search(vec, 4) if index is not None else []):
                if score < threshold:
                    break
                e = st.entries.get(cand)
                if e is None:
                    continue
                if e.expires <= now:
                    self._drop(st, [e.id], expired=True)
                    continue
                if e.sig is None or mismatch(sig, e.sig):
                    self.stats.guard_rejections += 1
                    continue
                self._touch(st, e, now)
                self.stats.hits_semantic += 1
                return CacheHit(json.loads(e.payload), "semantic", score, threshold, e.text, e.id,
                                now - e.created), vec
        return None, vec

    def store(self, key: CacheKey, payload: dict[str, Any]) -> bool:
        """Keep `payload` as the answer to `key` if its category may be cached; True if stored."""
        return self.store_many([(key, payload)]) == 1

    def store_many(self, items: Iterable[tuple[CacheKey, dict[str, Any]]],
                   vectors: list[np.ndarray] | None = None) -> int:
        """Store several answers with one embedding batch and one write per partition (warm-up, imports,
        benchmarks). `vectors`, if given, are the texts' embeddings in the same order (skips embedding)."""
        items = list(items)
        given = list(vectors) if vectors is not None else None
        keep = []
        for i, (key, payload) in enumerate(items):
            policy = self.policy(key.partition.category)
            if self.config.enabled and policy.cacheable and policy.quota > 0 and policy.ttl_s > 0:
                keep.append((key, payload, policy, given[i] if given is not None else None))
            else:
                self.stats.not_cacheable += 1
        if not keep:
            return 0
        texts = [k.text for k, _, p, v in keep if p.semantic and k.text and v is None]
        vecs = iter(self._embed_many(texts)) if texts else iter(())
        now = self._clock()
        by_part: dict[str, list[tuple[_Entry, np.ndarray | None, CategoryPolicy]]] = {}
        for key, payload, policy, given_vec in keep:
            semantic = bool(policy.semantic and key.text)
            vec = (given_vec if given_vec is not None else next(vecs)) if semantic else None
            e = _Entry(id=key.exact, compat=key.compat, text=key.text or "",
                       sig=signature(key.text) if semantic else None,
                       payload=json.dumps(payload, separators=(",", ":")), created=now,
                       expires=now + policy.ttl_s, last_used=now, semantic=semantic)
            by_part.setdefault(key.partition.name, []).append((e, vec, policy))
        stored = 0
        with self._lock:
            for key, *_ in keep:
                self._state(key.partition)  # make sure every partition is loaded before writing into it
            parts = {k.partition.name: k.partition for k, *_ in keep}
            for name, rows in by_part.items():
                st = self._parts[name]
                fresh: dict[str, tuple[list[str], list[np.ndarray]]] = {}
                for e, vec, _ in rows:
                    self._insert(st, e)
                    if vec is not None:
                        fkeys, fvecs = fresh.setdefault(e.compat, ([], []))
                        fkeys.append(e.id)
                        fvecs.append(vec)
                for compat, (fkeys, fvecs) in fresh.items():  # one bulk add per index: one rebuild at most
                    index = st.indexes.get(compat)
                    if index is None:
                        index = st.indexes[compat] = VectorIndex(flat_max=self.config.flat_max,
                                                                 nprobe=self.config.nprobe)
                    index.add_many(fkeys, np.stack(fvecs))
                self._queue("upsert", parts[name], [self._to_stored(e, vec) for e, vec, _ in rows])
                self._enforce_quota(st, rows[-1][2], now)
                stored += len(rows)
            self.stats.stores += stored
        self._drain()
        return stored

    def invalidate(self, key: CacheKey) -> bool:
        """Forget the entry stored under `key` (e.g. a caller's verifier rejected a cached answer)."""
        with self._lock:
            st = self._state(key.partition)
            found = key.exact in st.entries
            if found:
                self._drop(st, [key.exact], expired=False)
        self._drain()
        return found

    def entry_count(self, partition: Partition) -> int:
        """How many entries `partition` holds (tests, metrics)."""
        with self._lock:
            return len(self._state(partition).entries)

    def flush(self) -> None:
        """Write pending last-use times to Chroma (LRU order survives a restart). The Chroma writes happen
        outside the cache lock, so lookups never wait for the disk."""
        if self._store is None:
            return
        with self._lock:
            for st in self._parts.values():
                ids = [i for i in st.dirty if i in st.entries]
                if ids:
                    self._queue("update_metadata", st.part, ids,
                                [{"last_used": st.entries[i].last_used} for i in ids])
                st.dirty.clear()
        self._drain()

    def close(self) -> None:
        """Stop the background flusher and flush; the cache can be reopened from the same directory later."""
        self._closed.set()
        if self._flusher is not None:
            self._flusher.join(timeout=10)
        self.flush()

    def _flush_loop(self) -> None:
        while not self._closed.wait(self.FLUSH_INTERVAL_S):
            try:
                self.flush()
            except Exception:  # noqa: BLE001 - a failed flush only loses LRU order; retry next time
                pass

    # -- internals ----------------------------------------------------------------------------------------------

    def _queue(self, op: str, part: Partition, *args: Any) -> None:
        if self._store is not None:  # called with self._lock held
            self._writes.append((op, part, args))

    def _drain(self) -> None:
        if self._store is None or not self._writes:
            return
        with self._write_lock:
            with self._lock:
                ops, self._writes = self._writes, []
            for op, part, args in ops:
                try:
                    getattr(self._store, op)(part.name, part.metadata(), *args)
                except Exception as e:  # noqa: BLE001 - the entry stays in memory; the caller's turn goes on
                    self._warn(f"cache {op} in Chroma failed (kept in this process only)", e)

    def _warn(self, what: str, err: Exception) -> None:
        """One warning per WARN_EVERY_S: an outage is said once, not once per request."""
        with self._warn_lock:
            now = time.monotonic()
            if now - self._warned_at < self.WARN_EVERY_S:
                return
            self._warned_at = now
        where = self.config.chroma_url or str(self.config.dir / "chroma")
        log.warning("%s: %s (%s: %s)", what, where, type(err).__name__, err)

    @property
    def _embedder_name(self) -> str:
        return self._embedder.name if self._embedder is not None else MiniLMEmbedder.name

    def _embed(self, text: str) -> np.ndarray:
        norm = normalize(text)
        with self._lock:
            vec = self._vec_memo.get(norm)
            if vec is not None:
                self._vec_memo.move_to_end(norm)
                return vec
        vec = self.embedder.embed([norm])[0]
        with self._lock:
            self._vec_memo[norm] = vec
            while len(self._vec_memo) > 256:
                self._vec_memo.popitem(last=False)
        return vec

    def _embed_many(self, texts: list[str]) -> list[np.ndarray]:
        if len(texts) == 1:
            return [self._embed(texts[0])]
        out: list[np.ndarray] = []
        for i in range(0, len(texts), 64):
            out.extend(self.embedder.embed([normalize(t) for t in texts[i:i + 64]]))
        return out

    def _state(self, part: Partition) -> _PartitionState:
        st = self._parts.get(part.name)
        if st is None:
            st = _PartitionState(part, loaded=self._store is None)
            self._parts[part.name] = st
        if not st.loaded and time.monotonic() >= st.retry_at:
            self._load(st)
        return st

    def _load(self, st: _PartitionState) -> None:
        """Every stored entry of the partition into memory (called with self._lock held). A failure leaves the
        partition usable in memory and is retried after LOAD_RETRY_S."""
        assert self._store is not None
        began, began_wall = time.monotonic(), time.time()
        try:
            rows = list(self._store.load(st.part.name, st.part.metadata()))
        except Exception as e:  # noqa: BLE001 - a cache that cannot load answers misses, it does not fail
            st.retry_at = time.monotonic() + self.LOAD_RETRY_S
            self._warn("cache partition could not be loaded from Chroma (missing until it can)", e)
            return
        rows.sort(key=lambda r: float(r.metadata.get("last_used", 0.0)))
        expired = self._admit(st, rows)
        if expired:
            self._queue("delete", st.part, expired)
            self.stats.expired += len(expired)
        st.loaded = True
        st.pull_since, st.pull_began = began_wall - self.config.sync_lag_s, began

    def _admit(self, st: _PartitionState, rows: list[StoredEntry]) -> list[str]:
        """Stored entries into the partition's memory (called with self._lock held); returns the expired ids."""
        now = self._clock()
        expired, by_compat = [], {}
        embedder_name = self._embedder_name
        for r in rows:
            m = r.metadata
            semantic = bool(m.get("semantic")) and m.get("embedder") == embedder_name
            e = _Entry(id=r.id, compat=str(m.get("compat", "")), text=r.text,
                       sig=Signature.from_json(m["sig"]) if semantic and m.get("sig") else None,
                       payload=str(m.get("payload", "{}")), created=float(m.get("created", 0.0)),
                       expires=float(m.get("expires", 0.0)), last_used=float(m.get("last_used", 0.0)),
                       semantic=semantic)
            if e.expires <= now:
                expired.append(e.id)
                continue
            self._insert(st, e)
            if semantic:
                keys, vecs = by_compat.setdefault(e.compat, ([], []))
                keys.append(e.id)
                vecs.append(r.vector)
        for compat, (keys, vecs) in by_compat.items():
            index = st.indexes.get(compat)
            if index is None:
                index = st.indexes[compat] = VectorIndex(flat_max=self.config.flat_max, nprobe=self.config.nprobe)
            index.add_many(keys, np.stack(vecs))
        return expired

    def _pull(self, part: Partition, started: float) -> bool:
        """Other replicas' entries written since the previous pull into memory; True when a second search may
        find something. A pull that began after `started` (another lookup's) already covers this lookup."""
        assert self._store is not None
        with self._lock:
            st = self._state(part)
            if not st.loaded:
                return False
        with st.pull_lock:
            if st.pull_began >= started:
                return True
            began, began_wall = time.monotonic(), time.time()
            try:
                ids = self._store.ids_since(part.name, part.metadata(), st.pull_since)
                with self._lock:
                    new = [i for i in ids if i not in st.entries]
                rows = self._store.get(part.name, part.metadata(), new) if new else []
            except Exception as e:  # noqa: BLE001 - a pull that fails is a miss, and the next miss tries again
                self._warn("cache pull from Chroma failed (a miss)", e)
                return False
            with self._lock:
                self._admit(st, rows)
                if rows:
                    self._enforce_quota(st, self.policy(part.category), self._clock())
            st.pull_since, st.pull_began = began_wall - self.config.sync_lag_s, began
            return bool(rows)

    def _insert(self, st: _PartitionState, e: _Entry) -> None:
        old = st.entries.get(e.id)
        if old is not None and old.semantic and old.compat in st.indexes:
            st.indexes[old.compat].remove(old.id)
        st.entries[e.id] = e
        st.lru[e.id] = None
        st.lru.move_to_end(e.id)
        st.dirty.discard(e.id)

    def _to_stored(self, e: _Entry, vec: np.ndarray | None) -> StoredEntry:
        if vec is None:  # exact-only entries still need a vector in Chroma; a fixed unit vector is never searched
            if self._placeholder is None:
                self._placeholder = np.zeros(self.embedder.dim if self._embedder else 384, dtype=np.float32)
                self._placeholder[0] = 1.0
            vec = self._placeholder
        meta = {"compat": e.compat, "payload": e.payload, "created": e.created, "expires": e.expires,
                "last_used": e.last_used, "semantic": e.semantic, "written_at": time.time(),
                "embedder": self._embedder_name if e.semantic else "",
                "sig": e.sig.to_json() if e.sig is not None else ""}
        return StoredEntry(e.id, vec, e.text, meta)

    def _touch(self, st: _PartitionState, e: _Entry, now: float) -> None:
        e.last_used = now
        st.lru.move_to_end(e.id)
        st.dirty.add(e.id)
        if self._flusher is None and self._store is not None:
            self._flusher = threading.Thread(target=self._flush_loop, name="kubesage-cache-flush", daemon=True)
            self._flusher.start()

    def _drop(self, st: _PartitionState, ids: list[str], expired: bool) -> None:
        gone = []
        for i in ids:
            e = st.entries.pop(i, None)
            if e is None:
                continue
            st.lru.pop(i, None)
            st.dirty.discard(i)
            if e.semantic and e.compat in st.indexes:
                index = st.indexes[e.compat]
                index.remove(i)
                if len(index) == 0:
                    del st.indexes[e.compat]
            gone.append(i)
        if expired:
            self.stats.expired += len(gone)
        if gone:
            self._queue("delete", st.part, gone)

    def _enforce_quota(self, st: _PartitionState, policy: CategoryPolicy, now: float) -> None:
        if len(st.entries) <= policy.quota:
            return
        self._drop(st, [e.id for e in st.entries.values() if e.expires <= now], expired=True)
        target = policy.quota - policy.quota // 20  # evict a little extra so the scan above stays rare
        victims = []
        it = iter(st.lru)
        while len(st.entries) - len(victims) > target:
            victims.append(next(it))
        self.stats.evicted_lru += len(victims)
        self._drop(st, victims, expired=False)
