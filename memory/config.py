"""Cache settings: per-category policy (threshold, TTL, quota, cacheable, semantic) and where the cache lives.

Why its own dataclass: `memory/` imports nothing of ours, so it cannot read `kubesage.settings`; the composition
root passes `home` (or the environment does, through `KUBESAGE_HOME`). Every value can be overridden with a
`KUBESAGE_CACHE_*` environment variable, listed in `ENV_VARS`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlparse

DAY = 86400.0


@dataclass(frozen=True)
class CategoryPolicy:
    """How one category of request may be cached.

    `threshold` is the cosine similarity a semantic hit needs (before load-adaptive loosening); `ttl_s` how long
    an answer stays fresh; `quota` the most entries one partition keeps (least recently used goes first);
    `cacheable` False means never stored; `semantic` False means exact matches only (answers that propose
    writes must never be reused for a merely similar request).
    """

    name: str
    threshold: float
    ttl_s: float
    quota: int
    cacheable: bool = True
    semantic: bool = True


# Thresholds were chosen on the tuning groups of evals/sets/cache_paraphrases.yaml (evals/bench_llm.py prints
# precision/recall per category): about 0.02 above the lowest value that kept precision at 1.0 there, with the
# guards of memory/guards.py on.
DEFAULT_CATEGORIES: dict[str, CategoryPolicy] = {
    # concepts and docs: the answer does not depend on the cluster, so it may live long
    "explain": CategoryPolicy("explain", threshold=0.86, ttl_s=7 * DAY, quota=5000),
    # analysis of live state: fresh only, and only for very close phrasings
    "diagnosis": CategoryPolicy("diagnosis", threshold=0.86, ttl_s=120.0, quota=1000),
    # which agent handles a request: stable, high volume
    "routing": CategoryPolicy("routing", threshold=0.86, ttl_s=DAY, quota=20000),
    # proposes writes: exact and fresh only
    "plan": CategoryPolicy("plan", threshold=1.0, ttl_s=60.0, quota=500, semantic=False),
    # policy questions: wording matters, names matter more (the entity guard does the rest)
    "iam": CategoryPolicy("iam", threshold=0.88, ttl_s=3600.0, quota=2000),
    "codegen": CategoryPolicy("codegen", threshold=0.86, ttl_s=DAY, quota=2000),
    # anything the caller did not classify: the gateway cannot know whether it depends on live state
    "general": CategoryPolicy("general", threshold=1.0, ttl_s=0.0, quota=0, cacheable=False, semantic=False),
}

ENV_VARS: dict[str, str] = {
    "KUBESAGE_CACHE_ENABLED": "1/0: use the cache at all (default 1)",
    "KUBESAGE_CACHE_DIR": "where the embedded Chroma database lives (default $KUBESAGE_HOME/cache)",
    "KUBESAGE_CHROMA_URL": "a Chroma server every replica shares (http://host:port, https for TLS); empty: embedded "
                           "PersistentClient under KUBESAGE_CACHE_DIR (KUBESAGE_CACHE_CHROMA_URL is the older name)",
    "KUBESAGE_CACHE_SYNC_LAG": "server mode: seconds a pull for other replicas' writes looks back past the previous "
                               "pull (30; covers clock skew and writes still in flight)",
    "KUBESAGE_CACHE_PERSIST": "1/0: persist entries through Chroma (default 1; 0 keeps them in memory only)",
    "KUBESAGE_CACHE_THRESHOLD_FLOOR": "the lowest similarity threshold load-adaptive loosening may reach (0.82)",
    "KUBESAGE_CACHE_MAX_LOOSEN": "how far thresholds drop at full cloud pressure (0.04)",
    "KUBESAGE_CACHE_FLAT_MAX": "entries per partition searched by brute force before an IVF index is built (8192)",
    "KUBESAGE_CACHE_NPROBE": "IVF lists searched per query (12)",
    "KUBESAGE_CACHE_EMBED_THREADS": "onnxruntime threads for the MiniLM embedder (1)",
    "KUBESAGE_CACHE_<CATEGORY>_THRESHOLD": "per-category cosine threshold, e.g. KUBESAGE_CACHE_EXPLAIN_THRESHOLD",
    "KUBESAGE_CACHE_<CATEGORY>_TTL": "per-category time to live in seconds",
    "KUBESAGE_CACHE_<CATEGORY>_QUOTA": "per-category max entries per partition (LRU beyond)",
    "KUBESAGE_CACHE_<CATEGORY>_CACHEABLE": "per-category 1/0",
    "KUBESAGE_CACHE_<CATEGORY>_SEMANTIC": "per-category 1/0 (0: exact matches only)",
}


class CacheConfigError(ValueError):
    """A `KUBESAGE_CACHE_*` value that cannot be used; the message names the variable."""


def _bool(name: str, value: str) -> bool:
    v = value.strip().lower()
    if v in ("1", "true", "yes", "on"):
        return True
    if v in ("0", "false", "no", "off", ""):
        return False
    raise CacheConfigError(f"{name} must be 1/0 (or true/false), got {value!r}")


def _num(name: str, value: str, typ: type) -> float | int:
    try:
        return typ(value)
    except ValueError:
        raise CacheConfigError(f"{name} must be a {typ.__name__}, got {value!r}") from None


def check_chroma_url(name: str, value: str) -> str:
    """`value` if it is a usable Chroma server URL; else CacheConfigError naming `name`. Public so that
    `kubesage.settings.load` checks it at start: a typo is one clear line then, not a failure at the first lookup
    (the gateway, and with it the cache, is built on first use)."""
    u = urlparse(value)
    if u.scheme not in ("http", "https") or not u.hostname:
        raise CacheConfigError(f"{name} must be http://host:port or https://host:port, got {value!r}")
    try:
        u.port  # noqa: B018 - parsing the port raises on a bad one
    except ValueError:
        raise CacheConfigError(f"{name} has a bad port: {value!r}") from None
    return value


@dataclass(frozen=True)
class CacheConfig:
    """Where the cache lives and how it matches. `dir` is always under KUBESAGE_HOME unless set explicitly.

    `chroma_url` set means shared mode: every replica reads and writes the partitions on that Chroma server and
    pulls the others' new entries on a lookup miss (`sync_lag_s`: see memory/cache.py, "Replicas")."""

    dir: Path
    enabled: bool = True
    persist: bool = True
    chroma_url: str = ""
    sync_lag_s: float = 30.0
    threshold_floor: float = 0.82
    max_loosen: float = 0.04
    flat_max: int = 8192
    nprobe: int = 12
    embed_threads: int = 1
    categories: Mapping[str, CategoryPolicy] = field(default_factory=lambda: dict(DEFAULT_CATEGORIES))

    def policy(self, category: str) -> CategoryPolicy:
        """The policy for `category`; unknown categories get the non-cacheable `general` policy (safe default)."""
        return self.categories.get(category) or replace(self.categories["general"], name=category)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, home: Path | str | None = None) -> CacheConfig:
        """Read `KUBESAGE_CACHE_*` (see ENV_VARS). `home` defaults to $KUBESAGE_HOME, then ~/.kubesage."""
        env = os.environ if env is None else env
        home = Path(home or env.get("KUBESAGE_HOME") or Path.home() / ".kubesage").expanduser()
        kw: dict = {"dir": Path(env.get("KUBESAGE_CACHE_DIR") or home / "cache").expanduser()}
        for key, attr in (("ENABLED", "enabled"), ("PERSIST", "persist")):
            if (v := env.get(f"KUBESAGE_CACHE_{key}")) is not None:
                kw[attr] = _bool(f"KUBESAGE_CACHE_{key}", v)
        if v := (env.get("KUBESAGE_CHROMA_URL") or env.get("KUBESAGE_CACHE_CHROMA_URL") or "").strip():
            kw["chroma_url"] = check_chroma_url("KUBESAGE_CHROMA_URL", v)
        for key, attr, typ in (("THRESHOLD_FLOOR", "threshold_floor", float), ("MAX_LOOSEN", "max_loosen", float),
                               ("FLAT_MAX", "flat_max", int), ("NPROBE", "nprobe", int),
                               ("EMBED_THREADS", "embed_threads", int), ("SYNC_LAG", "sync_lag_s", float)):
            if (v := env.get(f"KUBESAGE_CACHE_{key}")) is not None:
                kw[attr] = _num(f"KUBESAGE_CACHE_{key}", v, typ)
        cats = dict(DEFAULT_CATEGORIES)
        names = set(cats) | {k[len("KUBESAGE_CACHE_"):].rsplit("_", 1)[0].lower() for k in env
                             if k.startswith("KUBESAGE_CACHE_") and k.rsplit("_", 1)[-1] in
                             ("THRESHOLD", "TTL", "QUOTA", "CACHEABLE", "SEMANTIC") and k.count("_") >= 3}
        for name in names:
            # a category only the environment names starts from safe values and is stored only if made cacheable
            base = cats.get(name) or CategoryPolicy(name, threshold=0.90, ttl_s=3600.0, quota=1000, cacheable=False)
            upd: dict = {}
            prefix = f"KUBESAGE_CACHE_{name.upper()}_"
            for key, attr, conv in (("THRESHOLD", "threshold", float), ("TTL", "ttl_s", float),
                                    ("QUOTA", "quota", int), ("CACHEABLE", "cacheable", bool),
                                    ("SEMANTIC", "semantic", bool)):
                if (v := env.get(prefix + key)) is not None:
                    upd[attr] = _bool(prefix + key, v) if conv is bool else _num(prefix + key, v, conv)
            cats[name] = replace(base, **upd)
        kw["categories"] = cats
        return cls(**kw)
