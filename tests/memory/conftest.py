"""One MiniLM embedder per test session (loading the ONNX session is the slow part)."""

from __future__ import annotations

import pytest

from memory.embeddings import MiniLMEmbedder


@pytest.fixture(scope="session")
def embedder() -> MiniLMEmbedder:
    return MiniLMEmbedder()
