"""The offline MiniLM embedder: unit vectors, sensible similarities, padding that does not change results."""

from __future__ import annotations

import numpy as np


def test_vectors_are_unit_length(embedder):
    v = embedder.embed(["what is a pod?", "why is checkout crashing in shop?", ""])
    assert v.shape == (3, 384) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)


def test_paraphrase_is_closer_than_another_topic(embedder):
    a, para, other = embedder.embed(["What is a Kubernetes pod?", "explain what a pod is in kubernetes",
                                     "How do I rotate an AWS access key?"])
    assert float(a @ para) > 0.85 > float(a @ other)


def test_batch_padding_does_not_change_a_vector(embedder):
    short = "list pods"
    alone = embedder.embed_one(short)
    batched = embedder.embed([short, "a much longer sentence that forces padding of the short one " * 4])[0]
    assert float(alone @ batched) > 0.9999
