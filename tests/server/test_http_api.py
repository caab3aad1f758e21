"""The HTTP API end to end: a real uvicorn server on loopback, httpx clients, the demo-shop sandbox behind it.
Questions answered as JSON and as SSE, a change approved and one rejected (checked in the cluster), tokens,
ownership, the answer cache, size limits, the one error shape, a dead cluster, and concurrent turns."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from sandbox.server import SandboxServer
from tests.server.conftest import bearer, start_api

READ_Q = "how much memory do pods in shop use"


def _sse(response: httpx.Response) -> list[tuple[str, dict[str, Any]]]:
    """Parse an SSE body into (event, data) pairs."""
    events, name, data = [], None, []
    for line in response.iter_lines():
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            data.append(line[6:])
        elif line == "" and name is not None:
            events.append((name, json.loads("\n".join(data))))
            name, data = None, []
    return events


def _error(r: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"} and {"code", "message"} <= set(body["error"]), body
    assert "Traceback" not in r.text
    if code:
        assert body["error"]["code"] == code, body
    return body["error"]


def _thread(c: httpx.Client, text: str | None = None, **kw: Any) -> dict[str, Any]:
    r = c.post("/v1/threads", json={"text": text, **kw} if text else {})
    assert r.status_code == 201, r.text
    return r.json()


def _replicas(sandbox: SandboxServer) -> int:
    return sandbox.cluster.store.get("apps/deployments", "shop", "web")["spec"]["replicas"]


def test_read_question_as_json_then_cached(api):
    with api.client() as c:
        tid = _thread(c)["thread"]["thread_id"]
        r = c.post(f"/v1/threads/{tid}/messages", json={"text": READ_Q})
        assert r.status_code == 200, r.text
        first = r.json()
        assert first["thread_id"] == tid and first["cached"] is False and first["approval"] is None
        assert first["route"]["agents"] == ["metrics"] and "memory" in first["answer"]
        assert any("/namespaces/shop/" in call["path"] for res in first["results"] for call in res["calls"])
        again = c.post(f"/v1/threads/{tid}/messages", json={"text": "  How much memory do pods in shop use? "}).json()
        assert again["cached"] is True and again["answer"] == first["answer"] and again["thread_id"] == tid
        listed = c.get("/v1/threads").json()["threads"]
        assert any(t["thread_id"] == tid and t["title"] == READ_Q and not t["waiting"] for t in listed)
        detail = c.get(f"/v1/threads/{tid}").json()
        assert [h["text"] for h in detail["history"]] == [READ_Q] and detail["approval"] is None
        metrics = c.get("/metrics").text
    assert 'kubesage_http_answer_cache_total{kind="hit"}' in metrics
    assert 'kubesage_http_requests_total{method="POST",route="/v1/threads/{thread_id}/messages",status="200"}' in metrics
    assert 'kubesage_http_request_duration_seconds_bucket{route="/v1/threads/{thread_id}/messages",le="+Inf"}' in metrics


@pytest.mark.parametrize("how", ["accept", "query"])
def test_question_as_sse_stream(api, how):
    with api.client() as c:
        tid = _thread(c)["thread"]["thread_id"]
        q = "which pods are using the most CPU in the shop namespace?" + ("" if how == "accept" else " now")
        kw = {"headers": {"Accept": "text/event-stream"}} if how == "accept" else {"params": {"stream": "true"}}
        with c.stream("POST", f"/v1/threads/{tid}/messages", json={"text": q}, **kw) as r:
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
            events = _sse(r)
    names = [n for n, _ in events]
    assert names[0] == "route" and names[-1] == "answer" and "tool_call" in names and "token" in names
    assert events[0][1]["agents"] == ["metrics"]
    answer = events[-1][1]
    assert "report-cruncher" in answer["answer"] and answer["thread_id"] == tid and answer["cached"] is False
    assert "".join(d["text"] for n, d in events if n == "token") == answer["answer"]
    assert all(d["path"].startswith("/") for n, d in events if n == "tool_call")


def test_mutation_waits_for_approval_then_applies(api):
    before = _replicas(api.sandbox)
    target = before + 1
    with api.client() as c:
        created = _thread(c, f"scale web in shop to {target} replicas")
        tid, turn = created["thread"]["thread_id"], created["turn"]
        approval = turn["approval"]
        assert approval and approval["action"] == "scale Deployment shop/web" and turn["cached"] is False
        assert created["thread"]["waiting"] is True and _replicas(api.sandbox) == before
        pending = c.get("/v1/approvals").json()["approvals"]
        assert {"thread_id": tid, "approval": approval} in pending
        _error(c.post(f"/v1/threads/{tid}/messages", json={"text": READ_Q}), 409, "approval_pending")
        stale = _error(c.post(f"/v1/approvals/{tid}", json={"decision": "approve", "approval_id": "0" * 12}),
                       409, "stale_approval")
        assert stale["details"]["approval"]["id"] == approval["id"]
        assert _replicas(api.sandbox) == before
        done = c.post(f"/v1/approvals/{tid}", json={"decision": "approve", "approval_id": approval["id"]})
        assert done.status_code == 200, done.text
        assert done.json()["outcomes"][0]["status"] == "applied" and done.json()["approval"] is None
        assert _replicas(api.sandbox) == target
        assert all(p["thread_id"] != tid for p in c.get("/v1/approvals").json()["approvals"])
        # the same decision again (a double click, a client retry) answers with its outcome; nothing is redone
        retry = c.post(f"/v1/approvals/{tid}", json={"decision": "approve", "approval_id": approval["id"]})
        assert retry.status_code == 200 and retry.json()["outcomes"] == done.json()["outcomes"], retry.text
        assert _replicas(api.sandbox) == target
        _error(c.post(f"/v1/approvals/{tid}", json={"decision": "approve", "approval_id": "0" * 12}),
               409, "no_pending_approval")
        # a turn that proposed a change is never served from the cache
        again = _thread(c, f"scale web in shop to {target + 1} replicas")["turn"]
        again2 = _thread(c, f"scale web in shop to {target + 1} replicas")["turn"]
        assert again["approval"] and again2["approval"] and not again2["cached"]


def test_rejection_over_sse_changes_nothing(api):
    before = _replicas(api.sandbox)
    with api.client() as c:
        turn = _thread(c, f"scale web in shop to {before + 2} replicas")
        tid, approval = turn["thread"]["thread_id"], turn["turn"]["approval"]
        with c.stream("POST", f"/v1/approvals/{tid}", params={"stream": "true"},
                      json={"decision": "reject", "approval_id": approval["id"]}) as r:
            assert r.status_code == 200
            events = _sse(r)
        assert events[0] == ("outcome", {"type": "outcome", "action": "scale Deployment shop/web",
                                         "status": "rejected", "approval_id": approval["id"]})
        assert events[-1][0] == "answer" and "rejected" in events[-1][1]["answer"]
        assert _replicas(api.sandbox) == before
        assert c.get(f"/v1/threads/{tid}").json()["thread"]["waiting"] is False


def test_tokens_and_ownership(api):
    with api.client() as ops, api.client("bob-token") as bob:
        tid = _thread(ops, f"scale web in shop to {_replicas(api.sandbox) + 3} replicas")["thread"]["thread_id"]
        assert _error(httpx.get(f"{api.url}/v1/threads"), 401, "unauthorized")
        r = httpx.get(f"{api.url}/v1/threads", headers=bearer("nope"))
        _error(r, 401, "unauthorized")
        assert r.headers["www-authenticate"] == "Bearer"
        _error(bob.get(f"/v1/threads/{tid}"), 404, "not_found")
        _error(bob.post(f"/v1/threads/{tid}/messages", json={"text": READ_Q}), 404, "not_found")
        approval_id = ops.get(f"/v1/threads/{tid}").json()["approval"]["id"]
        _error(bob.post(f"/v1/approvals/{tid}", json={"decision": "approve", "approval_id": approval_id}), 404)
        assert all(t["thread_id"] != tid for t in bob.get("/v1/threads").json()["threads"])
        assert bob.get("/v1/approvals").json() == {"approvals": []}
        assert ops.get(f"/v1/threads/{tid}").json()["approval"]["id"] == approval_id


def test_cached_answers_are_not_shared_between_principals(api):
    q = "which pods are using the most CPU in shop"
    with api.client() as ops, api.client("alice-token") as alice:
        t1 = _thread(ops, q)["turn"]
        t2 = _thread(ops, q)["turn"]
        t3 = _thread(alice, q)["turn"]
    assert not t1["cached"] and t2["cached"] and not t3["cached"]


def test_size_limit_and_error_shape(api):
    with api.client() as c:
        tid = _thread(c)["thread"]["thread_id"]
        _error(c.post(f"/v1/threads/{tid}/messages", json={"text": "x" * 70_000}), 413, "request_too_large")
        chunks = (b"{\"text\": \"" + b"y" * 10_000 for _ in range(10))  # chunked: no Content-Length to trust
        _error(c.post(f"/v1/threads/{tid}/messages", content=chunks, headers={"Content-Type": "application/json"}),
               413, "request_too_large")
        _error(c.get("/v1/nothing-here"), 404, "not_found")
        _error(c.get("/v1/threads/0123456789abcdef"), 404, "not_found")
        _error(c.delete("/v1/threads"), 405, "method_not_allowed")
        bad = _error(c.post(f"/v1/threads/{tid}/messages", json={"text": ""}), 422, "invalid_request")
        assert bad["details"][0]["loc"] == ["body", "text"]
        _error(c.post(f"/v1/threads/{tid}/messages", json={"text": "hi", "namespace": "Not A Namespace"}), 422)
        _error(c.post(f"/v1/threads/{tid}/messages", content=b"{not json", headers={"Content-Type": "application/json"}),
               422, "invalid_request")
        _error(c.post(f"/v1/approvals/{tid}", json={"decision": "maybe", "approval_id": "x"}), 422)


def test_turns_of_one_thread_are_serialized_and_threads_run_side_by_side(api):
    questions = [f"how much cpu do pods in shop use {i}" for i in range(4)]
    with api.client() as c:
        tid = _thread(c)["thread"]["thread_id"]
        others = [_thread(c)["thread"]["thread_id"] for _ in range(4)]
        with ThreadPoolExecutor(8) as pool:
            same = list(pool.map(lambda q: c.post(f"/v1/threads/{tid}/messages", json={"text": q}), questions))
            apart = list(pool.map(lambda t: c.post(f"/v1/threads/{t}/messages", json={"text": f"memory in shop {t}"}),
                                  others))
        assert [r.status_code for r in same + apart] == [200] * 8
        history = c.get(f"/v1/threads/{tid}").json()["history"]
        assert sorted(h["text"] for h in history) == sorted(questions)  # no turn lost to a concurrent write
        for t in others:
            assert len(c.get(f"/v1/threads/{t}").json()["history"]) == 1


def test_unreachable_cluster_is_a_clear_503(tmp_path):
    dead = SandboxServer(scenarios=["demo-shop"], speed=50.0).start()
    kc = dead.write_kubeconfig(tmp_path / "kubeconfig")
    dead.stop()
    a, srv = start_api(kc, tmp_path / "home", None)
    try:
        with a.client() as c:
            tid = _thread(c)["thread"]["thread_id"]
            err = _error(c.post(f"/v1/threads/{tid}/messages", json={"text": READ_Q}), 503, "cluster_unreachable")
            assert "cannot be reached" in err["message"] and err["details"]["thread_id"] == tid
            with c.stream("POST", f"/v1/threads/{tid}/messages", params={"stream": "true"},
                          json={"text": READ_Q}) as r:
                events = _sse(r)
            assert events[-1][0] == "error" and events[-1][1]["error"]["code"] == "cluster_unreachable"
    finally:
        srv.stop()
        a.runtime.close()
