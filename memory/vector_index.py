"""The in-memory nearest-neighbour index of one cache partition (unit vectors, dot product = cosine).

Why not brute force everywhere: scanning 100k x 384 float32 rows reads 150 MB per query (~14 ms here). Why not
Chroma's HNSW on the hot path: ~2 ms at 10k and a `where` filter ~10x slower. So: a flat matrix while the
partition is small (a scan of 8k rows is ~0.2 ms), and above that an IVF snapshot (spherical k-means lists,
`nprobe` lists searched) plus a flat buffer of recent additions, rebuilt when the buffer grows. A cache needs
only neighbours above a high threshold, which sit in the query's nearest lists, so probing few lists loses
almost nothing (evals/bench_llm.py measures recall against brute force).
"""

from __future__ import annotations

import numpy as np


class _Flat:
    """Brute-force rows with O(1) swap-remove."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self.vecs = np.zeros((64, dim), dtype=np.float32)
        self.keys: list[str] = []
        self.pos: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self.keys)

    def add(self, key: str, vec: np.ndarray) -> None:
        if key in self.pos:
            self.vecs[self.pos[key]] = vec
            return
        n = len(self.keys)
        if n == len(self.vecs):
            grown = np.zeros((2 * n, self.dim), dtype=np.float32)
            grown[:n] = self.vecs
            self.vecs = grown
        self.vecs[n] = vec
        self.keys.append(key)
        self.pos[key] = n

    def remove(self, key: str) -> bool:
        i = self.pos.pop(key, None)
        if i is None:
            return False
        last = len(self.keys) - 1
        if i != last:
            self.vecs[i] = self.vecs[last]
            self.keys[i] = self.keys[last]
            self.pos[self.keys[i]] = i
        self.keys.pop()
        return True

    def search(self, q: np.ndarray, k: int) -> list[tuple[str, float]]:
        n = len(self.keys)
        if n == 0:
            return []
        scores = self.vecs[:n] @ q
        return _top(scores, k, self.keys)

    def items(self) -> tuple[list[str], np.ndarray]:
        return list(self.keys), self.vecs[: len(self.keys)].copy()


class _Rows:
    """keys[rows[i]] without building the list."""

    def __init__(self, keys: list, rows: np.ndarray) -> None:
        self.keys, self.rows = keys, rows

    def __getitem__(self, i: int):
        return self.keys[int(self.rows[i])]


def _top(scores: np.ndarray, k: int, keys) -> list[tuple[str, float]]:
    if len(scores) <= k:
        order = np.argsort(-scores)
    else:
        part = np.argpartition(-scores, k)[:k]
        order = part[np.argsort(-scores[part])]
    return [(keys[int(i)], float(scores[int(i)])) for i in order]


class _IVF:
    """A clustered snapshot: rows sorted by list, removals leave zeroed tombstones until the next rebuild."""

    def __init__(self, keys: list[str], vecs: np.ndarray, nprobe: int, seed: int = 0) -> None:
        n, dim = vecs.shape
        n_lists = int(min(4096, max(16, round(2 * np.sqrt(n)))))
        rng = np.random.default_rng(seed)
        sample = vecs[rng.choice(n, size=min(n, 48 * n_lists), replace=False)]
        cents = sample[rng.choice(len(sample), size=n_lists, replace=False)].copy()
        for _ in range(8):  # spherical k-means on a sample; a cache does not need a perfect partition
            assign = _assign(sample, cents)
            sums = np.zeros_like(cents)
            np.add.at(sums, assign, sample)
            norms = np.linalg.norm(sums, axis=1, keepdims=True)
            empty = norms[:, 0] == 0
            cents = np.where(empty[:, None], cents, sums / np.where(norms == 0, 1, norms))
        assign = _assign(vecs, cents)
        order = np.argsort(assign, kind="stable")
        self.centroids = cents.astype(np.float32)
        self.vecs = np.ascontiguousarray(vecs[order])
        self.keys: list[str | None] = [keys[int(i)] for i in order]
        counts = np.bincount(assign, minlength=n_lists)
        self.offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self.pos = {k: i for i, k in enumerate(self.keys)}
        self.nprobe = max(1, min(nprobe, n_lists))
        self.tombstones = 0

    def __len__(self) -> int:
        return len(self.pos)

    def remove(self, key: str) -> bool:
        i = self.pos.pop(key, None)
        if i is None:
            return False
        self.vecs[i] = 0.0  # scores 0: below every threshold
        self.keys[i] = None
        self.tombstones += 1
        return True

    def search(self, q: np.ndarray, k: int) -> list[tuple[str, float]]:
        cs = self.centroids @ q
        probe = np.argpartition(-cs, self.nprobe - 1)[: self.nprobe] if self.nprobe < len(cs) else range(len(cs))
        parts, rows = [], []
        for c in probe:
            s, e = int(self.offsets[c]), int(self.offsets[c + 1])
            if e > s:
                parts.append(self.vecs[s:e] @ q)
                rows.append(np.arange(s, e))
        if not parts:
            return []
        scores, rows = np.concatenate(parts), np.concatenate(rows)
        return [(key, score) for key, score in _top(scores, k, _Rows(self.keys, rows))
                if key is not None]

    def items(self) -> tuple[list[str], np.ndarray]:
        live = [i for i, key in enumerate(self.keys) if key is not None]
        return [self.keys[i] for i in live], self.vecs[live].copy()


def _assign(vecs: np.ndarray, cents: np.ndarray, chunk: int = 16384) -> np.ndarray:
    out = np.empty(len(vecs), dtype=np.int64)
    for i in range(0, len(vecs), chunk):
        out[i:i + chunk] = np.argmax(vecs[i:i + chunk] @ cents.T, axis=1)
    return out


class VectorIndex:
    """Top-k cosine search over unit vectors keyed by string; flat below `flat_max` entries, IVF above."""

    def __init__(self, dim: int = 384, flat_max: int = 8192, nprobe: int = 12) -> None:
        self.dim = dim
        self.flat_max = flat_max
        self.nprobe = nprobe
        self._flat = _Flat(dim)  # everything while small; the recent additions once the IVF exists
        self._ivf: _IVF | None = None

    def __len__(self) -> int:
        return len(self._flat) + (len(self._ivf) if self._ivf else 0)

    def __contains__(self, key: str) -> bool:
        return key in self._flat.pos or (self._ivf is not None and key in self._ivf.pos)

    @property
    def kind(self) -> str:
        """'flat' or 'ivf' (for benchmarks and debugging)."""
        return "ivf" if self._ivf is not None else "flat"

    def add(self, key: str, vec: np.ndarray) -> None:
        """Insert or replace one unit vector."""
        if self._ivf is not None and key in self._ivf.pos:
            self._ivf.remove(key)
        self._flat.add(key, np.asarray(vec, dtype=np.float32))
        self._maybe_rebuild()

    def add_many(self, keys: list[str], vecs: np.ndarray) -> None:
        """Bulk insert (loading a partition from disk): one rebuild at the end instead of many."""
        for key, vec in zip(keys, np.asarray(vecs, dtype=np.float32), strict=True):
            if self._ivf is not None and key in self._ivf.pos:
                self._ivf.remove(key)
            self._flat.add(key, vec)
        self._maybe_rebuild()

    def remove(self, key: str) -> bool:
        """Drop `key`; True if it was there."""
        removed = self._flat.remove(key) or (self._ivf is not None and self._ivf.remove(key))
        if self._ivf is not None and self._ivf.tombstones > max(1024, len(self._ivf) // 4):
            self._rebuild()
        return bool(removed)

    def search(self, q: np.ndarray, k: int = 4) -> list[tuple[str, float]]:
        """The `k` best (key, cosine) pairs, best first."""
        q = np.asarray(q, dtype=np.float32)
        hits = self._flat.search(q, k)
        if self._ivf is not None:
            hits = sorted(hits + self._ivf.search(q, k), key=lambda t: -t[1])[:k]
        return hits

    def _maybe_rebuild(self) -> None:
        if self._ivf is None:
            if len(self._flat) > self.flat_max:
                self._rebuild()
        elif len(self._flat) > max(2048, len(self._ivf) // 10):
            self._rebuild()

    def _rebuild(self) -> None:
        keys, vecs = self._flat.items()
        if self._ivf is not None:
            k2, v2 = self._ivf.items()
            keys, vecs = k2 + keys, np.concatenate([v2, vecs])
        self._flat = _Flat(self.dim)
        if len(keys) <= self.flat_max:
            self._ivf = None
            for key, vec in zip(keys, vecs, strict=True):
                self._flat.add(key, vec)
        else:
            self._ivf = _IVF(keys, vecs, self.nprobe)
