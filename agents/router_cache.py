"""The router's exemplar matrix, kept on disk under KUBESAGE_HOME so a cold `kubesage ask` does not re-embed ~350
exemplars (seconds on 2 CPU cores) before a fast-path answer.

Why keyed this way: the file name is a hash of the embedding model's identity (its name, file, size and mtime) and
of the exact texts the embedder sees (after the router's spelling-out and typo fixes), so a new model, a changed
exemplar file or changed preparation rules each miss and re-embed; nothing is ever invalidated by hand. Embedders
without a `cache_key` (test fakes) and processes without KUBESAGE_HOME are never cached on disk.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np


def _path(embedder: Any, texts: Sequence[str]) -> Path | None:
    model = getattr(embedder, "cache_key", None)
    home = os.environ.get("KUBESAGE_HOME")
    if not model or not home:
        return None
    digest = hashlib.sha256("\x00".join([str(model), *texts]).encode()).hexdigest()[:32]
    return Path(home) / "cache" / "router" / f"exemplars-{digest}.npy"


def matrix(embedder: Any, texts: Sequence[str], embed: Callable[[], np.ndarray]) -> np.ndarray:
    """The cached matrix for these texts and this model, else `embed()` (then written for the next process)."""
    path = _path(embedder, texts)
    if path is not None and path.is_file():
        try:
            m = np.load(path, allow_pickle=False)
            if m.shape[0] == len(texts):
                return m
        except (OSError, ValueError):
            pass  # a damaged or partial file: embed again and overwrite it
    m = embed()
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".tmp", delete=False) as f:
                np.save(f, m, allow_pickle=False)
            os.replace(f.name, path)  # readers see the old file or the whole new one
        except OSError:
            pass  # a read-only home: the next process embeds again
    return m
