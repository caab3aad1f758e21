"""BackendTier: prefix affinity by rendezvous hashing, load overriding it past a margin, OpenAI-compatible calls
to the chosen replica, and failures the gateway can fall back from. The replicas here are small real HTTP
servers that answer in the OpenAI shape with their own name (the sandbox test in tests/agents/test_serving.py
uses real llama.cpp servers)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from llm.backends import BackendTier, gateway_with_backend, prefix_of, rendezvous
from llm.config import LLMConfig
from llm.request import ChatRequest
from llm.tiers import CloudError


class _Replica(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        name = self.server.replica_name  # type: ignore[attr-defined]
        if name == "broken":
            self.send_response(500)
            self.end_headers()
            self.wfile.write(b'{"error": "boom"}')
            return
        out = {"choices": [{"message": {"role": "assistant", "content": f"{name}:{body['model']}"},
                            "finish_reason": "stop"}], "usage": {"prompt_tokens": 3, "completion_tokens": 2}}
        data = json.dumps(out).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture()
def replicas():
    servers = []
    for name in ("r0", "r1", "r2"):
        s = ThreadingHTTPServer(("127.0.0.1", 0), _Replica)
        s.replica_name = name  # type: ignore[attr-defined]
        threading.Thread(target=s.serve_forever, daemon=True).start()
        servers.append(s)
    yield [{"name": s.replica_name, "url": f"http://127.0.0.1:{s.server_port}"} for s in servers]
    for s in servers:
        s.shutdown()
        s.server_close()


def _req(text: str, system: str = "You are kubesage.") -> ChatRequest:
    return ChatRequest(messages=[{"role": "system", "content": system}, {"role": "user", "content": text}],
                       policy="cloud-only", use_cache=False)


def test_rendezvous_is_consistent_when_a_replica_is_added():
    prefixes = [f"conversation {i}" for i in range(600)]
    before = {p: rendezvous(p, ["a", "b", "c"])[0] for p in prefixes}
    after = {p: rendezvous(p, ["a", "b", "c", "d"])[0] for p in prefixes}
    moved = [p for p in prefixes if before[p] != after[p]]
    assert all(after[p] == "d" for p in moved), "only prefixes whose new home is the new replica move"
    assert 0.15 < len(moved) / len(prefixes) < 0.35  # about 1/4
    assert len({before[p] for p in prefixes}) == 3


def test_same_prefix_goes_to_the_same_replica(replicas):
    tier = BackendTier(replicas, "smol")
    turns = [{"role": "system", "content": "You are kubesage."}, {"role": "user", "content": "why is web down?"}]
    served = set()
    for i in range(5):  # one conversation, growing turn by turn
        served.add(tier.complete(ChatRequest(messages=list(turns), policy="cloud-only")).model)
        turns += [{"role": "assistant", "content": f"answer {i}"}, {"role": "user", "content": f"and {i}?"}]
    assert len(served) == 1, "every turn repeats the conversation's prefix: one home"
    homes = {tier.complete(_req("hi", system=f"tenant {i}")).model for i in range(12)}
    assert len(homes) >= 2, "different prefixes spread over replicas"
    assert tier.stats.affinity == 17 and tier.stats.spilled == 0


def test_load_overrides_affinity_past_the_margin(replicas):
    tier = BackendTier(replicas, "smol", margin=2)
    names = [r["name"] for r in replicas]
    home = rendezvous(prefix_of(_req("x").messages), names)[0]
    tier.observe(home, running=1, waiting=2)  # 3 - 0 > 2: spill
    out = tier.complete(_req("x"))
    assert not out.model.endswith(home) and tier.stats.spilled == 1
    tier.observe(home, running=1, waiting=1)  # 2 - 0 is within the margin: stay
    assert tier.complete(_req("x")).model.endswith(home)


def test_gateway_serves_from_the_backend(replicas):
    gw = gateway_with_backend(BackendTier(replicas, "smol"), LLMConfig.from_env({}))
    res = gw.complete(_req("hello"))
    assert res.record.served_by == "backend" and res.content.endswith(":smol")
    assert "kubesage_llm_breaker_open 0" in gw.prometheus()


def test_failures_raise_cloud_errors_the_gateway_understands(replicas):
    broken = [{"name": "broken", "url": replicas[0]["url"].replace(replicas[0]["url"].split(":")[-1], "1")}]
    with pytest.raises(CloudError) as e:
        BackendTier(broken, "smol", timeout_s=2).complete(_req("x"))
    assert e.value.kind == "connection"
    with pytest.raises(CloudError) as e:
        BackendTier([], "smol").complete(_req("x"))
    assert "no ready replica" in str(e.value)
