"""kubesage room: memory — the category-aware semantic cache and its offline embeddings, and the trace spans every
room opens (`memory.tracing`).

Public surface: `SemanticCache`, `CacheConfig`, `CategoryPolicy`, `Partition`, `CacheKey`, `CacheHit`,
`MiniLMEmbedder`. Imports nothing else of ours (DESIGN.md); `llm/` builds the keys and calls it.
Why the names load on first use (PEP 562): the cache pulls numpy (~0.4 s), and `tools/` imports `memory.tracing`
on every command's path; importing the package must not cost what only the cache needs.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {"CacheHit": "memory.cache", "CacheKey": "memory.cache", "Partition": "memory.cache",
          "SemanticCache": "memory.cache", "DEFAULT_CATEGORIES": "memory.config", "CacheConfig": "memory.config",
          "CategoryPolicy": "memory.config", "MiniLMEmbedder": "memory.embeddings"}

__all__ = ["CacheConfig", "CacheHit", "CacheKey", "CategoryPolicy", "DEFAULT_CATEGORIES", "MiniLMEmbedder",
           "Partition", "SemanticCache"]


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(importlib.import_module(_WHERE[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'memory' has no attribute {name!r}")
