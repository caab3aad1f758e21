"""Two cache "replicas" sharing a REAL Chroma server (`chroma run`, started here as a subprocess).

What must hold in shared mode (memory/cache.py, "Replicas"): an answer stored on replica A is a hit on replica B's
next lookup even though B loaded the partition before A wrote; another principal never sees it; a fresh cache
object finds everything on the server; a stopped server turns lookups into misses and writes into memory-only
writes, with a logged warning and no exception, and the same objects work again once the server is back.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from memory import CacheConfig, CacheKey, Partition, SemanticCache
from memory.config import CacheConfigError
from tests.memory.chromaserver import ChromaServer, ChromaUnavailable

ALICE = Partition(scope="alice", category="explain", model="m")
BOB = Partition(scope="bob", category="explain", model="m")


def key(text: str, part: Partition = ALICE) -> CacheKey:
    return CacheKey(part, exact=f"{part.name}:ctx:{text}", compat="ctx", text=text)


@pytest.fixture
def server(tmp_path) -> Iterator[ChromaServer]:
    try:
        srv = ChromaServer(tmp_path / "server")
    except ChromaUnavailable as e:
        pytest.skip(f"no Chroma server to test against: {e}")
    yield srv
    srv.stop()


def replica(url: str, home: Path, embedder) -> SemanticCache:
    return SemanticCache(CacheConfig.from_env({"KUBESAGE_CHROMA_URL": url}, home=home), embedder=embedder)


def test_chroma_url_setting(tmp_path):
    assert CacheConfig.from_env({}, home=tmp_path).chroma_url == ""
    cfg = CacheConfig.from_env({"KUBESAGE_CHROMA_URL": "http://chroma:8000", "KUBESAGE_CACHE_SYNC_LAG": "5"},
                               home=tmp_path)
    assert cfg.chroma_url == "http://chroma:8000" and cfg.sync_lag_s == 5.0
    # the older name still works; the new one wins when both are set
    assert CacheConfig.from_env({"KUBESAGE_CACHE_CHROMA_URL": "http://a:1"}, home=tmp_path).chroma_url == "http://a:1"
    assert CacheConfig.from_env({"KUBESAGE_CACHE_CHROMA_URL": "http://a:1", "KUBESAGE_CHROMA_URL": "http://b:2"},
                                home=tmp_path).chroma_url == "http://b:2"
    for bad in ("chroma:8000", "ftp://chroma:8000", "http://chroma:port"):
        with pytest.raises(CacheConfigError, match="KUBESAGE_CHROMA_URL"):
            CacheConfig.from_env({"KUBESAGE_CHROMA_URL": bad}, home=tmp_path)


def test_replicas_share_partitions(server, tmp_path, embedder):
    a = replica(server.url, tmp_path / "a", embedder)
    b = replica(server.url, tmp_path / "b", embedder)
    # both have loaded alice's partition (empty) before A writes: B must pull, not rely on its first load
    assert a.lookup(key("What is a Kubernetes pod?")) is None
    assert b.lookup(key("What is a Kubernetes pod?")) is None
    assert a.store(key("What is a Kubernetes pod?"), {"content": "the smallest deployable unit"})

    exact = b.lookup(key("What is a Kubernetes pod?"))
    assert exact is not None and exact.kind == "exact" and exact.payload == {"content": "the smallest deployable unit"}
    para = b.lookup(key("explain what a kubernetes pod is"))
    assert para is not None and para.kind == "semantic" and para.entry_id == exact.entry_id

    # another principal on B: neither the same words nor a paraphrase, and nothing pulled into bob's partition
    assert b.lookup(key("What is a Kubernetes pod?", BOB)) is None
    assert b.lookup(key("explain what a kubernetes pod is", BOB)) is None
    assert b.entry_count(BOB) == 0

    # and the other way round: B writes, A (whose partition is loaded) finds it
    assert b.store(key("What does a Deployment do?"), {"content": "keeps replicas of a pod running"})
    hit = a.lookup(key("what is a deployment for"))
    assert hit is not None and hit.payload == {"content": "keeps replicas of a pod running"}
    assert a.entry_count(ALICE) == b.entry_count(ALICE) == 2

    # a restarted replica (a new process-level cache object) loads everything A and B wrote
    b.close()
    b2 = replica(server.url, tmp_path / "b", embedder)
    again = b2.lookup(key("explain what a kubernetes pod is"))
    assert again is not None and again.payload == {"content": "the smallest deployable unit"}
    assert b2.entry_count(ALICE) == 2 and b2.entry_count(BOB) == 0
    b2.close()
    a.close()
    assert not (tmp_path / "a" / "cache" / "chroma").exists()  # nothing went to a local embedded database


def test_server_down_degrades_to_misses(server, tmp_path, embedder, caplog):
    a = replica(server.url, tmp_path / "a", embedder)
    b = replica(server.url, tmp_path / "b", embedder)
    assert b.lookup(key("What is a Kubernetes pod?")) is None  # B's partition is loaded while the server is up
    assert a.store(key("What is a Kubernetes pod?"), {"content": "x"})
    server.stop()

    with caplog.at_level(logging.WARNING, logger="kubesage.cache"):
        # B's local miss tries to pull, fails, and answers a miss
        assert b.lookup(key("What is a Service?")) is None
        assert any("pull from Chroma failed" in r.getMessage() for r in caplog.records)
        # a write while the server is down stays in B's memory and is still served by B
        assert b.store(key("What is a Service?"), {"content": "a stable address for pods"})
        hit = b.lookup(key("What is a Service?"))
        assert hit is not None and hit.payload == {"content": "a stable address for pods"}

        caplog.clear()
        c = replica(server.url, tmp_path / "c", embedder)  # a replica starting while the server is down
        assert c.lookup(key("What is a Kubernetes pod?")) is None
        assert any("could not be loaded" in r.getMessage() for r in caplog.records)
        c.close()

    # the server back on the same data and port: A's entries (and A's write made now) reach a running B again,
    # without a new cache object
    try:
        back = ChromaServer(tmp_path / "server", port=server.port)
    except ChromaUnavailable as e:
        pytest.skip(f"the Chroma server could not be restarted on port {server.port}: {e}")
    try:
        assert a.store(key("What is a namespace?"), {"content": "a scope for names"})
        hit = b.lookup(key("What is a namespace?"))
        assert hit is not None and hit.payload == {"content": "a scope for names"}
    finally:
        back.stop()
    a.close()


def test_bad_chroma_url_is_one_line_at_start(tmp_path):
    from kubesage import settings

    with pytest.raises(settings.SettingsError, match="KUBESAGE_CHROMA_URL must be http://host:port"):
        settings.load({"KUBESAGE_HOME": str(tmp_path), "KUBESAGE_CHROMA_URL": "chroma:8000"})
    assert settings.load({"KUBESAGE_HOME": str(tmp_path), "KUBESAGE_CHROMA_URL": "http://chroma:8000"})
