"""kubesage room: memory — the category-aware semantic cache and its offline embeddings.

Public surface: `SemanticCache`, `CacheConfig`, `CategoryPolicy`, `Partition`, `CacheKey`, `CacheHit`,
`MiniLMEmbedder`. Imports nothing else of ours (DESIGN.md); `llm/` builds the keys and calls it.
"""

from memory.cache import CacheHit, CacheKey, Partition, SemanticCache
from memory.config import DEFAULT_CATEGORIES, CacheConfig, CategoryPolicy
from memory.embeddings import MiniLMEmbedder

__all__ = ["CacheConfig", "CacheHit", "CacheKey", "CategoryPolicy", "DEFAULT_CATEGORIES", "MiniLMEmbedder",
           "Partition", "SemanticCache"]
