"""The semantic cache with the real MiniLM embedder and a real embedded Chroma under a temporary KUBESAGE_HOME."""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest

from memory import CacheConfig, CacheKey, Partition, SemanticCache
from memory.config import CategoryPolicy

ALICE = Partition(scope="alice", category="diagnosis", model="m")
BOB = Partition(scope="bob", category="diagnosis", model="m")


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def key(text: str, part: Partition = ALICE, compat: str = "ctx") -> CacheKey:
    # the gateway hashes the whole request for `exact`; the text itself is a fine stand-in here
    return CacheKey(part, exact=f"{part.name}:{compat}:{text}", compat=compat, text=text)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def cache(tmp_path, embedder, clock) -> SemanticCache:
    c = SemanticCache(CacheConfig.from_env({}, home=tmp_path), embedder=embedder, clock=clock)
    yield c
    c.close()


def test_exact_hit(cache):
    assert cache.lookup(key("Why is checkout crashing in shop?")) is None
    assert cache.store(key("Why is checkout crashing in shop?"), {"content": "OOMKilled: raise the limit"})
    hit = cache.lookup(key("Why is checkout crashing in shop?"))
    assert hit is not None and hit.kind == "exact" and hit.payload["content"].startswith("OOMKilled")


def test_paraphrase_hit(cache):
    cache.store(key("Why is checkout crashing in shop?"), {"content": "OOMKilled"})
    hit = cache.lookup(key("why does checkout keep crashing in shop?"))
    assert hit is not None and hit.kind == "semantic" and hit.similarity >= hit.threshold


def test_negation_miss(cache):
    cache.store(key("Can alice read objects in the reports bucket?", ALICE), {"content": "yes"})
    assert cache.lookup(key("Can alice not read objects in the reports bucket?", ALICE)) is None
    assert cache.stats.guard_rejections >= 1


@pytest.mark.parametrize("stored,asked", [
    ("Why is pod web-7d9f stuck in Pending?", "Why is pod web-8c1a stuck in Pending?"),  # pod
    ("Why is checkout crashing in shop?", "Why is checkout crashing in staging?"),  # namespace
    ("Can alice read objects in the reports bucket?", "Can alice read objects in the invoices bucket?"),  # bucket
    ("Can alice read objects in the reports bucket?", "Can bob read objects in the reports bucket?"),  # user
])
def test_different_resource_miss(cache, stored, asked):
    cache.store(key(stored), {"content": "answer for " + stored})
    assert cache.lookup(key(stored)) is not None
    assert cache.lookup(key(asked)) is None


def test_cross_partition_miss_even_for_the_identical_prompt(cache):
    cache.store(key("Why is checkout crashing in shop?", ALICE), {"content": "alice's answer"})
    assert cache.lookup(key("Why is checkout crashing in shop?", BOB)) is None
    assert cache.lookup(key("why does checkout keep crashing in shop?", BOB)) is None
    other_model = Partition("alice", "diagnosis", "other-model")
    other_tools = Partition("alice", "diagnosis", "m", tools="abc")
    assert cache.lookup(key("Why is checkout crashing in shop?", other_model)) is None
    assert cache.lookup(key("Why is checkout crashing in shop?", other_tools)) is None


def test_semantic_match_needs_the_same_compatibility_fingerprint(cache):
    cache.store(key("Why is checkout crashing in shop?", compat="system-prompt-A"), {"content": "a"})
    assert cache.lookup(key("why does checkout keep crashing in shop?", compat="system-prompt-A")) is not None
    assert cache.lookup(key("why does checkout keep crashing in shop?", compat="system-prompt-B")) is None


def test_ttl_expiry(cache, clock):
    cache.store(key("Why is checkout crashing in shop?"), {"content": "a"})
    ttl = cache.policy("diagnosis").ttl_s
    clock.now += ttl - 1
    assert cache.lookup(key("Why is checkout crashing in shop?")) is not None
    clock.now += 2
    assert cache.lookup(key("Why is checkout crashing in shop?")) is None
    assert cache.lookup(key("why does checkout keep crashing in shop?")) is None
    assert cache.stats.expired >= 1 and cache.entry_count(ALICE) == 0


def test_quota_evicts_least_recently_used(tmp_path, embedder, clock):
    cfg = CacheConfig.from_env({"KUBESAGE_CACHE_DIAGNOSIS_QUOTA": "3"}, home=tmp_path)
    cache = SemanticCache(cfg, embedder=embedder, clock=clock)
    questions = ["why is pod a-1 pending?", "why is pod b-2 pending?", "why is pod c-3 pending?"]
    for q in questions:
        clock.now += 1
        cache.store(key(q), {"content": q})
    clock.now += 1
    assert cache.lookup(key(questions[0])) is not None  # a-1 is now the most recently used
    clock.now += 1
    cache.store(key("why is pod d-4 pending?"), {"content": "d"})
    assert cache.entry_count(ALICE) == 3 and cache.stats.evicted_lru == 1
    assert cache.lookup(key(questions[1])) is None  # b-2 was the least recently used
    assert cache.lookup(key(questions[0])) is not None and cache.lookup(key("why is pod d-4 pending?")) is not None
    cache.close()


def test_non_cacheable_category_is_never_stored(cache, tmp_path, embedder):
    general = Partition("alice", "general", "m")
    assert not cache.store(key("Why is checkout crashing in shop?", general), {"content": "a"})
    assert cache.lookup(key("Why is checkout crashing in shop?", general)) is None
    assert cache.entry_count(general) == 0 and cache.stats.not_cacheable == 1
    # an operator can switch any category off
    off = SemanticCache(CacheConfig.from_env({"KUBESAGE_CACHE_IAM_CACHEABLE": "0"}, home=tmp_path / "off"),
                        embedder=embedder)
    iam = Partition("alice", "iam", "m")
    assert not off.store(key("Can alice read the reports bucket?", iam), {"content": "yes"})
    assert off.entry_count(iam) == 0


def test_plan_category_is_exact_only(cache):
    plan = Partition("alice", "plan", "m")
    cache.store(key("scale deployment web to 3 replicas", plan), {"content": "patch"})
    assert cache.lookup(key("scale deployment web to 3 replicas", plan)) is not None
    assert cache.lookup(key("please scale deployment web to 3 replicas", plan)) is None


def test_load_adaptive_threshold_loosens_to_the_floor_and_requests_only_tighten(cache):
    policy = CategoryPolicy("x", threshold=0.90, ttl_s=60, quota=10)
    th = cache.thresholds
    assert th.effective(policy) == pytest.approx(0.90)
    cache.set_pressure(1.0)
    assert th.effective(policy) == pytest.approx(max(0.90 - th.max_loosen, th.floor))
    th.floor = 0.89
    assert th.effective(policy) == pytest.approx(0.89)
    assert th.effective(policy, request_min=0.95) == pytest.approx(0.95)
    assert th.effective(policy, request_min=0.5) == pytest.approx(0.89)  # a request cannot loosen
    cache.set_pressure(0.0)


def test_request_min_similarity_turns_a_semantic_hit_into_a_miss(cache):
    cache.store(key("Why is checkout crashing in shop?"), {"content": "a"})
    q = "why does checkout keep crashing in shop?"
    hit = cache.lookup(key(q))
    assert hit is not None
    strict = CacheKey(ALICE, exact="x", compat="ctx", text=q, min_similarity=min(1.0, hit.similarity + 0.001))
    assert cache.lookup(strict) is None


def test_cache_survives_a_restart(tmp_path, embedder):
    """A separate process stores; this process, opening the same directory, finds both kinds of hit."""
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})
        from memory import CacheConfig, CacheKey, Partition, SemanticCache
        p = Partition(scope="alice", category="explain", model="m")
        c = SemanticCache(CacheConfig.from_env({{}}, home={str(tmp_path)!r}))
        text = "What is a Kubernetes pod?"
        assert c.store(CacheKey(p, exact="k1", compat="ctx", text=text), {{"content": "the smallest unit"}})
        c.close()
    """)
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
    c = SemanticCache(CacheConfig.from_env({}, home=tmp_path), embedder=embedder)
    p = Partition(scope="alice", category="explain", model="m")
    exact = c.lookup(CacheKey(p, exact="k1", compat="ctx", text="What is a Kubernetes pod?"))
    assert exact is not None and exact.kind == "exact" and exact.payload == {"content": "the smallest unit"}
    para = c.lookup(CacheKey(p, exact="k2", compat="ctx", text="explain what a pod is in kubernetes"))
    assert para is not None and para.kind == "semantic"
    assert c.lookup(CacheKey(Partition("bob", "explain", "m"), exact="k1", compat="ctx", text="x")) is None
    c.close()
    assert (tmp_path / "cache" / "chroma").is_dir()


def test_chroma_server_mode(tmp_path, embedder):
    """With KUBESAGE_CACHE_CHROMA_URL set, entries live in a real Chroma server (`chroma run`), not on local disk."""
    chroma = Path(sys.executable).parent / "chroma"
    if not chroma.exists():
        pytest.skip("the chroma CLI is not installed in this environment")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([str(chroma), "run", "--path", str(tmp_path / "server"), "--host", "127.0.0.1",
                             "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1):
                    break
            except OSError:
                if time.time() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.2)
        cfg = CacheConfig.from_env({"KUBESAGE_CACHE_CHROMA_URL": f"http://127.0.0.1:{port}"}, home=tmp_path)
        p = Partition("alice", "explain", "m")
        first = SemanticCache(cfg, embedder=embedder)
        assert first.store(CacheKey(p, exact="k1", compat="c", text="What is a Kubernetes pod?"), {"content": "x"})
        first.close()
        second = SemanticCache(cfg, embedder=embedder)  # a second replica: loads the partition from the server
        hit = second.lookup(CacheKey(p, exact="k2", compat="c", text="explain kubernetes pods"))
        assert hit is not None and hit.kind == "semantic" and hit.payload == {"content": "x"}
        second.close()
        assert not (tmp_path / "cache" / "chroma").exists()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
