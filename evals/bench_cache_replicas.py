"""`make bench` (cache replicas part): the semantic cache shared by replicas through a Chroma server, beside the
embedded default, in one run.

Why these numbers: in shared mode (`KUBESAGE_CHROMA_URL`) a replica finds another replica's answer by pulling on a
local miss (memory/cache.py, "Replicas"), so what matters is (1) how long after a write on replica A a lookup on
replica B hits, and (2) what that costs a lookup: hits stay in memory in both modes, a miss in shared mode pays one
round trip (ids written since the previous pull) plus a fetch of the new entries. Two `SemanticCache` objects in
this process stand for two replicas, on a real `chroma run` server on this host (tests/memory/chromaserver.py).
Vectors are random unit vectors given to the cache (no embedding time in the numbers); every partition is filled
with PREFILL entries first. The "server" miss pulls look back `sync_lag_s` (30 s) past the previous pull, so
they list every id written in the last 30 s (here: the whole prefill); "server lag 1s" is a replica whose window
holds only the writes of the last second. Printed: median and p90 of each measurement, and how many B lookups a write needed.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from evals.bench_sandbox import machine
from memory import CacheConfig, CacheKey, Partition, SemanticCache
from tests.memory.chromaserver import ChromaServer, ChromaUnavailable

WRITES = 50
PREFILL = int(os.environ.get("BENCH_CACHE_PREFILL", "1000"))
LOOKUPS = 200
PART = Partition(scope="alice", category="explain", model="bench")


def _vecs(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.standard_normal((n, 384)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _key(i: int, tag: str = "") -> CacheKey:
    text = f"bench question {i}"
    return CacheKey(PART, exact=f"{tag}{i}", compat="ctx", text=text)


def _stats(ms: list[float]) -> dict[str, float]:
    s = sorted(ms)
    return {"p50_ms": round(statistics.median(s), 3), "p90_ms": round(s[int(0.9 * (len(s) - 1))], 3), "n": len(s)}


def _lookups(cache: SemanticCache, vecs: np.ndarray, base: int, hits: bool, rng: np.random.Generator) -> list[float]:
    """LOOKUPS semantic lookups: of stored vectors under new exact keys (hits) or of fresh vectors (misses)."""
    out = []
    for j in range(LOOKUPS):
        if hits:
            i = int(rng.integers(0, len(vecs)))
            k, v = _key(base + i, "again-"), vecs[i]
        else:
            k, v = _key(10_000_000 + j, "new-"), _vecs(rng, 1)[0]
        t = time.perf_counter()
        got = cache.lookup(k, vector=v)
        out.append((time.perf_counter() - t) * 1000)
        if (got is not None) != hits:
            raise RuntimeError(f"lookup {j}: expected a {'hit' if hits else 'miss'}")
    return out


def run(tmp: Path) -> dict:
    rng = np.random.default_rng(7)
    server = ChromaServer(tmp / "server")
    try:
        shared = {"KUBESAGE_CHROMA_URL": server.url}
        a = SemanticCache(CacheConfig.from_env(shared, home=tmp / "a"))
        b = SemanticCache(CacheConfig.from_env(shared, home=tmp / "b"))
        embedded = SemanticCache(CacheConfig.from_env({}, home=tmp / "e"))
        pre = _vecs(rng, PREFILL)
        keys = [_key(i) for i in range(PREFILL)]
        for c in (a, embedded):
            c.store_many([(k, {"content": k.text}) for k in keys], vectors=list(pre))
        # C: a third replica whose pulls look back 1 s instead of 30 (what a miss costs once the writes age)
        c_lag = SemanticCache(CacheConfig.from_env({**shared, "KUBESAGE_CACHE_SYNC_LAG": "1"}, home=tmp / "c"))
        b.entry_count(PART)  # B and C load the prefilled partition before A's measured writes
        c_lag.entry_count(PART)

        # (1) a write on A, then lookups on B until one hits
        seen_ms, store_ms, tries = [], [], []
        fresh = _vecs(rng, WRITES)
        for i in range(WRITES):
            k = _key(1_000_000 + i)
            t0 = time.perf_counter()
            a.store(k, {"content": k.text})
            t1 = time.perf_counter()
            n = 0
            while True:
                n += 1
                if b.lookup(k, vector=fresh[i]) is not None:
                    break
                if time.perf_counter() - t1 > 10:
                    raise RuntimeError(f"write {i} on A not seen on B within 10 s")
            seen_ms.append((time.perf_counter() - t1) * 1000)
            store_ms.append((t1 - t0) * 1000)
            tries.append(n)

        # (2) lookup latency, embedded vs server, same partition size, alternating so load drift hits both
        time.sleep(1.2)  # every write is now older than C's 1 s window
        lat: dict[str, list[float]] = {}
        for _ in range(2):
            for name, c in (("embedded", embedded), ("server", b), ("server lag 1s", c_lag)):
                for hits in (True, False):
                    lat.setdefault(f"{name} {'hit' if hits else 'miss'}", []).extend(
                        _lookups(c, pre, 0, hits, rng))
        for c in (a, b, c_lag, embedded):
            c.close()
    finally:
        server.stop()
    return {"machine": machine(), "load_avg": os.getloadavg()[0], "prefill": PREFILL, "writes": WRITES,
            "write_on_a_ms": _stats(store_ms), "write_to_visible_on_b_ms": _stats(seen_ms),
            "b_lookups_per_write": {"max": max(tries), "mean": round(statistics.mean(tries), 2)},
            "lookup": {k: _stats(v) for k, v in lat.items()}}


def main() -> None:
    try:
        with tempfile.TemporaryDirectory(prefix="kubesage-bench-cache-") as d:
            r = run(Path(d))
    except ChromaUnavailable as e:
        print(f"  skipped: no Chroma server ({e})")
        return
    print(f"  {r['machine']}, load average {r['load_avg']:.2f}; partition of {r['prefill']} entries")
    w, s = r["write_on_a_ms"], r["write_to_visible_on_b_ms"]
    print(f"  write on A (upsert to the server): p50 {w['p50_ms']} ms, p90 {w['p90_ms']} ms")
    print(f"  write on A -> hit on B: p50 {s['p50_ms']} ms, p90 {s['p90_ms']} ms over {r['writes']} writes; "
          f"B lookups needed: max {r['b_lookups_per_write']['max']}")
    for name, st in r["lookup"].items():
        print(f"  lookup {name:<19} p50 {st['p50_ms']:8.3f} ms  p90 {st['p90_ms']:8.3f} ms  (n={st['n']})")
    out = Path(os.environ.get("KUBESAGE_HOME", Path.home() / ".kubesage")) / "bench" / "cache_replicas.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(r, indent=2))
    print(f"  written to {out}")


if __name__ == "__main__":
    main()
