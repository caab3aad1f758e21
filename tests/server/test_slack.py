"""The Slack bot end to end: a real uvicorn serving only the Slack router, a demo-shop sandbox behind the real
supervisor, and a fake Slack Web API (a real HTTP server on loopback) that records what the bot posts.

Requests are signed exactly as Slack signs them. Forged, stale and replayed requests get 401 and run nothing;
retries run once; answers land in the thread of the mention; approval buttons resume the right kubesage thread
and change (or, rejected, do not change) the cluster.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request

from kubesage import settings as settings_mod
from kubesage.runtime import Runtime
from sandbox.server import SandboxServer
from server.slack import slack_router
from server.slack_verify import sign

SECRET = "test-signing-secret"
OPS, OPS2, ALICE, STRANGER = "U0OPS", "U0OPS2", "U0ALICE", "U0STRANGER"
CI_BOT = {"user": "system:serviceaccount:shop:ci-bot", "groups": []}  # `edit` in shop: may scale
USERS = {OPS: CI_BOT, OPS2: dict(CI_BOT), ALICE: {"user": "alice", "groups": ["shop-devs"]}}


class Loopback:
    """A real uvicorn serving `app` on 127.0.0.1 in a background thread."""

    def __init__(self, app: Any) -> None:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]}, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


class FakeSlack:
    """The Slack Web API as far as the bot uses it: records every call, answers like Slack does."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._ts = 1_700_000_000
        app = FastAPI()

        @app.post("/api/{method}")
        async def api(method: str, request: Request) -> dict[str, Any]:
            body = await request.json() if request.headers.get("content-type", "").startswith(
                "application/json") else dict((await request.form()).items())
            with self._lock:
                self._ts += 1
                ts = f"{self._ts}.000100"
                self.calls.append({"method": method, "body": body, "auth": request.headers.get("authorization"),
                                   "ts": ts})
            return {"ok": True, "channel": body.get("channel"), "ts": body.get("ts") or ts}

        self.loop = Loopback(app)
        self.url = self.loop.url + "/api/"

    def posts(self, channel: str | None = None, thread_ts: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [c["body"] for c in self.calls if c["method"] == "chat.postMessage"
                    and (channel is None or c["body"].get("channel") == channel)
                    and (thread_ts is None or c["body"].get("thread_ts") == thread_ts)]

    def updates(self) -> list[dict[str, Any]]:
        with self._lock:
            return [c["body"] for c in self.calls if c["method"] == "chat.update"]


class CountingSupervisor:
    """The real supervisor, counting the turns and decisions started through it."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.calls: list[tuple[str, str]] = []

    def start(self, text: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(("start", text))
        return self.real.start(text, *args, **kwargs)

    def resume(self, thread_id: str, decision: Any, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(("resume", str(decision)))
        return self.real.resume(thread_id, decision, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


class SlackSettings:
    """Real settings plus the Slack fields (the HTTP API helper adds them to Settings; read with getattr)."""

    def __init__(self, base: settings_mod.Settings, **extra: Any) -> None:
        self._base, self._extra = base, extra

    def __getattr__(self, name: str) -> Any:
        return self._extra[name] if name in self._extra else getattr(self._base, name)


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SandboxServer, Path]]:
    server = SandboxServer(scenarios=["demo-shop"], speed=50.0).start()
    kc = server.write_kubeconfig(tmp_path_factory.mktemp("slack") / "kubeconfig")
    time.sleep(2.5)  # two minutes of sandbox time: checkout crash-loops
    yield server, kc
    server.stop()


@pytest.fixture(scope="module")
def fake_slack() -> Iterator[FakeSlack]:
    fake = FakeSlack()
    yield fake
    fake.loop.stop()


@pytest.fixture(scope="module")
def bot(shop, fake_slack, tmp_path_factory) -> Iterator[dict[str, Any]]:
    home = tmp_path_factory.mktemp("slack-home")
    base = settings_mod.load({"KUBESAGE_HOME": str(home)})
    rt = Runtime(base, kubeconfig=str(shop[1]))
    counting = CountingSupervisor(rt.supervisor)
    rt._supervisor = counting
    settings = SlackSettings(base, slack_users=USERS, slack_api_url=fake_slack.url)
    router = slack_router(rt, settings, signing_secret=SECRET, bot_token="xoxb-fake")
    app = FastAPI()
    app.include_router(router)
    loop = Loopback(app)
    with httpx.Client(base_url=loop.url, timeout=30) as http:
        yield {"http": http, "bot": router.slack_bot, "sup": counting, "rt": rt, "server": shop[0],
               "fake": fake_slack, "settings": settings}
    router.slack_bot.close()
    loop.stop()
    rt.close()


# -- helpers -----------------------------------------------------------------------------------------
def _headers(body: bytes, ts: int | None = None, secret: str = SECRET, **extra: str) -> dict[str, str]:
    stamp = str(int(time.time()) if ts is None else ts)
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": sign(secret, stamp, body), **extra}


def _event(event: dict[str, Any]) -> bytes:
    return json.dumps({"type": "event_callback", "team_id": "T1", "event_id": "Ev" + uuid.uuid4().hex[:10],
                       "event": event, "authorizations": [{"user_id": "UBOT"}]}).encode()


def _mention(user: str, text: str, channel: str | None = None, thread_ts: str | None = None) -> tuple[bytes, str, str]:
    channel = channel or "C" + uuid.uuid4().hex[:8].upper()
    ts = f"{time.time():.6f}"
    ev = {"type": "app_mention", "user": user, "text": f"<@UBOT> {text}", "channel": channel, "ts": ts}
    if thread_ts:
        ev["thread_ts"] = thread_ts
    return _event(ev), channel, ts


def _send(b: dict[str, Any], path: str, body: bytes, content_type: str = "application/json",
          **headers: str) -> httpx.Response:
    return b["http"].post(path, content=body, headers={"Content-Type": content_type, **_headers(body), **headers})


def _settle(b: dict[str, Any]) -> None:
    assert b["bot"].wait_idle(120), "the bot's background work did not finish"


def _click(b: dict[str, Any], user: str, approval_post: dict[str, Any], action: str, message_ts: str) -> httpx.Response:
    button = next(e for blk in approval_post["blocks"] if blk["type"] == "actions" for e in blk["elements"]
                  if e["action_id"] == action)
    payload = {"type": "block_actions", "user": {"id": user}, "channel": {"id": approval_post["channel"]},
               "container": {"type": "message", "message_ts": message_ts, "channel_id": approval_post["channel"]},
               "message": {"ts": message_ts, "thread_ts": approval_post["thread_ts"]},
               "actions": [{"action_id": action, "value": button["value"], "type": "button"}]}
    return _send(b, "/slack/interactions", urlencode({"payload": json.dumps(payload)}).encode(),
                 "application/x-www-form-urlencoded")


def _approval(b: dict[str, Any], channel: str, ts: str) -> tuple[dict[str, Any], str]:
    """The approval post in a thread and the Slack ts the fake gave it."""
    fake: FakeSlack = b["fake"]
    with fake._lock:
        calls = [c for c in fake.calls if c["method"] == "chat.postMessage" and c["body"].get("channel") == channel
                 and c["body"].get("thread_ts") == ts and any(blk["type"] == "actions"
                                                               for blk in c["body"].get("blocks") or [])]
    assert len(calls) == 1, f"expected one approval post in the thread, got {len(calls)}"
    return calls[0]["body"], calls[0]["ts"]


def _replicas(b: dict[str, Any], name: str = "web") -> int:
    return b["server"].cluster.store.get("apps/deployments", "shop", name)["spec"]["replicas"]


# -- tests -------------------------------------------------------------------------------------------
def test_url_verification_echoes_the_challenge(bot):
    body = json.dumps({"type": "url_verification", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"})
    r = _send(bot, "/slack/events", body.encode())
    assert r.status_code == 200 and r.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}


def test_mention_is_answered_in_its_thread(bot):
    body, channel, ts = _mention(OPS, "why is checkout crashing in shop?")
    r = _send(bot, "/slack/events", body)
    assert r.status_code == 200
    _settle(bot)
    posts = bot["fake"].posts(channel)
    assert posts and all(p["thread_ts"] == ts for p in posts)
    assert any("PAYMENTS_URL" in p["text"] for p in posts)
    assert ("start", "why is checkout crashing in shop?") in bot["sup"].calls
    assert all(c["auth"] == "Bearer xoxb-fake" for c in bot["fake"].calls)


@pytest.mark.parametrize("how", ["bad signature", "stale timestamp", "replayed body", "no signature"])
def test_forged_stale_or_replayed_requests_get_401_and_nothing_runs(bot, how):
    body, channel, ts = _mention(OPS, "scale web in shop to 5")
    if how == "bad signature":
        headers = _headers(body, secret="not-the-secret")
    elif how == "stale timestamp":
        headers = _headers(body, ts=int(time.time()) - 6 * 60)
    elif how == "no signature":
        headers = {}
    else:
        # The first delivery is taken (and answered); the very same signed request again is a replay.
        headers = _headers(body)
        assert bot["http"].post("/slack/events", content=body, headers=headers).status_code == 200
        _settle(bot)
    calls, posts = len(bot["sup"].calls), len(bot["fake"].posts())
    r = bot["http"].post("/slack/events", content=body, headers={"Content-Type": "application/json", **headers})
    assert r.status_code == 401 and r.json()["error"]["message"]
    _settle(bot)
    assert len(bot["sup"].calls) == calls and len(bot["fake"].posts()) == posts
    assert _replicas(bot) != 5


def test_forged_click_gets_401_and_decides_nothing(bot):
    payload = {"type": "block_actions", "user": {"id": OPS}, "channel": {"id": "C1"},
               "actions": [{"action_id": "kubesage_approve", "value": '{"thread":"x","approval":"y"}'}]}
    body = urlencode({"payload": json.dumps(payload)}).encode()
    calls = len(bot["sup"].calls)
    r = bot["http"].post("/slack/interactions", content=body, headers=_headers(body, secret="guess"))
    assert r.status_code == 401
    _settle(bot)
    assert len(bot["sup"].calls) == calls


def test_a_retry_runs_once(bot):
    body, channel, ts = _mention(OPS, "why is checkout crashing in shop?")
    assert _send(bot, "/slack/events", body).status_code == 200
    _settle(bot)
    runs = [c for c in bot["sup"].calls if c[0] == "start"]
    posts = bot["fake"].posts(channel)
    assert posts and "PAYMENTS_URL" in posts[0]["text"]
    # Slack re-signs a retry with a new timestamp and marks it with X-Slack-Retry-Num.
    retry = _headers(body, ts=int(time.time()) + 1, **{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    r = bot["http"].post("/slack/events", content=body, headers={"Content-Type": "application/json", **retry})
    assert r.status_code == 200
    _settle(bot)
    assert [c for c in bot["sup"].calls if c[0] == "start"] == runs
    assert bot["fake"].posts(channel) == posts


def test_unlinked_user_is_refused_politely_without_cluster_access(bot):
    body, channel, ts = _mention(STRANGER, "why is checkout crashing in shop?")
    calls = len(bot["sup"].calls)
    assert _send(bot, "/slack/events", body).status_code == 200
    _settle(bot)
    posts = bot["fake"].posts(channel, ts)
    assert len(posts) == 1 and "not linked" in posts[0]["text"] and "PAYMENTS_URL" not in posts[0]["text"]
    assert len(bot["sup"].calls) == calls


def test_approve_click_scales_and_posts_the_outcome(bot):
    before = _replicas(bot)
    target = 2 if before != 2 else 4
    body, channel, ts = _mention(OPS, f"scale web in shop to {target}")
    assert _send(bot, "/slack/events", body).status_code == 200
    _settle(bot)
    post, post_ts = _approval(bot, channel, ts)
    diff = post["blocks"][1]["text"]["text"]
    assert diff.startswith("```") and f"+  replicas: {target}" in diff
    assert {e["text"]["text"] for e in post["blocks"][-1]["elements"]} == {"Approve", "Reject"}
    assert _replicas(bot) == before

    # Someone acting as another identity may not decide.
    assert _click(bot, ALICE, post, "kubesage_approve", post_ts).status_code == 200
    _settle(bot)
    assert _replicas(bot) == before
    assert "only <@U0OPS>" in bot["fake"].posts(channel, ts)[-1]["text"]

    # A colleague linked to the same identity may.
    assert _click(bot, OPS2, post, "kubesage_approve", post_ts).status_code == 200
    _settle(bot)
    assert _replicas(bot) == target
    last = bot["fake"].posts(channel, ts)[-1]["text"]
    assert last.startswith("Done: scale Deployment shop/web") and "<@U0OPS2>" in last
    assert any(u["ts"] == post_ts and not any(b["type"] == "actions" for b in u["blocks"])
               for u in bot["fake"].updates())

    # A second click finds nothing waiting.
    calls = len(bot["sup"].calls)
    assert _click(bot, OPS, post, "kubesage_approve", post_ts).status_code == 200
    _settle(bot)
    assert len(bot["sup"].calls) == calls
    assert "no longer waiting" in bot["fake"].posts(channel, ts)[-1]["text"]


def test_reject_click_leaves_the_deployment_unchanged_and_the_thread_goes_on(bot):
    before = _replicas(bot)
    body, channel, ts = _mention(OPS, f"scale web in shop to {before + 3}")
    assert _send(bot, "/slack/events", body).status_code == 200
    _settle(bot)
    post, post_ts = _approval(bot, channel, ts)
    assert _click(bot, OPS, post, "kubesage_reject", post_ts).status_code == 200
    _settle(bot)
    assert _replicas(bot) == before
    assert bot["fake"].posts(channel, ts)[-1]["text"].startswith("Not done: scale Deployment shop/web")

    # A plain message in the thread (no mention) continues the conversation in the same kubesage thread.
    follow = _event({"type": "message", "user": OPS, "text": "why is checkout crashing in shop?",
                     "channel": channel, "ts": f"{time.time():.6f}", "thread_ts": ts})
    assert _send(bot, "/slack/events", follow).status_code == 200
    _settle(bot)
    tail = bot["fake"].posts(channel, ts)[-2:]
    assert any("PAYMENTS_URL" in p["text"] for p in tail), tail


def test_slash_command_acks_then_answers_in_a_thread(bot):
    channel = "C" + uuid.uuid4().hex[:8].upper()
    form = urlencode({"command": "/kubesage", "text": "why is checkout crashing in shop?", "user_id": OPS,
                      "channel_id": channel, "response_url": "http://127.0.0.1:9/unused", "trigger_id": "1.2"})
    r = _send(bot, "/slack/commands", form.encode(), "application/x-www-form-urlencoded")
    assert r.status_code == 200 and r.json()["response_type"] == "ephemeral"
    _settle(bot)
    posts = bot["fake"].posts(channel)
    root = posts[0]
    assert "thread_ts" not in root and "asked: why is checkout crashing in shop?" in root["text"]
    root_ts = next(c["ts"] for c in bot["fake"].calls if c["body"] is root)
    assert any("PAYMENTS_URL" in p["text"] for p in bot["fake"].posts(channel, root_ts))

    stranger = urlencode({"command": "/kubesage", "text": "scale web in shop to 9", "user_id": STRANGER,
                          "channel_id": channel})
    r = _send(bot, "/slack/commands", stranger.encode(), "application/x-www-form-urlencoded")
    assert r.status_code == 200 and "not linked" in r.json()["text"]


def test_a_restarted_server_still_resumes_the_right_thread(bot, shop, fake_slack):
    before = _replicas(bot)
    body, channel, ts = _mention(OPS, f"scale web in shop to {before + 1}")
    assert _send(bot, "/slack/events", body).status_code == 200
    _settle(bot)
    post, post_ts = _approval(bot, channel, ts)

    # A new process: a fresh runtime and router over the same KUBESAGE_HOME (checkpoints + Slack mapping).
    rt2 = Runtime(settings_mod.load({"KUBESAGE_HOME": str(bot["settings"].home)}), kubeconfig=str(shop[1]))
    router = slack_router(rt2, bot["settings"], signing_secret=SECRET, bot_token="xoxb-fake")
    app = FastAPI()
    app.include_router(router)
    loop = Loopback(app)
    try:
        button = post["blocks"][-1]["elements"][0]
        payload = {"type": "block_actions", "user": {"id": OPS}, "channel": {"id": channel},
                   "message": {"ts": post_ts, "thread_ts": ts},
                   "actions": [{"action_id": "kubesage_approve", "value": button["value"]}]}
        form = urlencode({"payload": json.dumps(payload)}).encode()
        r = httpx.post(loop.url + "/slack/interactions", content=form, timeout=30,
                       headers={"Content-Type": "application/x-www-form-urlencoded", **_headers(form)})
        assert r.status_code == 200
        assert router.slack_bot.wait_idle(120)
        assert _replicas(bot) == before + 1
        assert fake_slack.posts(channel, ts)[-1]["text"].startswith("Done: scale Deployment shop/web")
    finally:
        router.slack_bot.close()
        loop.stop()
        rt2.close()
