"""The in-memory index: flat below the limit, IVF above, same answers as brute force for close neighbours."""

from __future__ import annotations

import numpy as np

from memory.vector_index import VectorIndex


def _clustered(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    unit = lambda m: m / np.linalg.norm(m, axis=1, keepdims=True)  # noqa: E731
    topics = unit(rng.standard_normal((max(4, n // 20), 384)).astype(np.float32))
    # items of one topic sit at cosine ~0.8 from each other, like paraphrases of one question
    return unit(topics[rng.integers(0, len(topics), n)] + 0.5 * unit(rng.standard_normal((n, 384)).astype(np.float32)))


def test_flat_search_add_replace_remove():
    idx = VectorIndex(flat_max=100)
    vecs = _clustered(50)
    idx.add_many([f"k{i}" for i in range(50)], vecs)
    assert idx.kind == "flat" and len(idx) == 50
    assert idx.search(vecs[7], 1)[0][0] == "k7"
    idx.remove("k7")
    assert "k7" not in idx and idx.search(vecs[7], 1)[0][0] != "k7"
    idx.add("k8", vecs[9])  # replace
    assert len(idx) == 49 and {k for k, _ in idx.search(vecs[9], 2)} == {"k8", "k9"}


def test_ivf_agrees_with_brute_force_on_close_neighbours():
    n = 3000
    vecs = _clustered(n, seed=1)
    idx = VectorIndex(flat_max=1000, nprobe=12)
    idx.add_many([f"k{i}" for i in range(n)], vecs)
    assert idx.kind == "ivf"
    rng = np.random.default_rng(2)
    picks = rng.integers(0, n, 200)
    noise = rng.standard_normal((200, 384)).astype(np.float32)
    queries = vecs[picks] + 0.3 * noise / np.linalg.norm(noise, axis=1, keepdims=True)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    agree = sum(idx.search(q, 1)[0][0] == f"k{int(np.argmax(vecs @ q))}" for q in queries)
    assert agree >= 198
    # removal and additions after the snapshot are seen
    idx.remove("k5")
    assert idx.search(vecs[5], 1)[0][0] != "k5"
    idx.add("new", vecs[5])
    assert idx.search(vecs[5], 1)[0][0] == "new"
    assert len(idx) == n
