"""Alertmanager investigations end to end with real parts: the demo-shop sandbox (checkout crash-loops on a missing
config key), a real Prometheus (Debian's `prometheus`) scraping the sandbox's /metrics and evaluating a
CrashLoopBackOff rule every second, a real Alertmanager (Debian's `prometheus-alertmanager`) sending webhook
notifications, repeats included, to `kubesage serve`'s `POST /v1/alerts` (a real uvicorn) with a bearer token, and a
fake Slack Web API (a real HTTP server) recording what the bot posts.

The alert opens one thread (not one per repeat), the finding carries the diagnosis and its evidence, the Approve
click (signed as Slack signs it) fixes the cluster, the alert resolves and the thread is closed. The receiver's own
rules (authentication, validation, de-duplication by fingerprint and start, resolved alerts) are checked directly
against the same server.
"""

from __future__ import annotations

import gc
import json
import re
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import yaml

from kubesage import settings as settings_mod
from kubesage.runtime import Runtime
from sandbox.server import SandboxServer
from server.app import create_app
from server.loopback import LoopbackServer
from server.slack_verify import sign
from tests.server.test_slack import FakeSlack
from tests.waiting import until

PROMETHEUS, ALERTMANAGER = "/usr/bin/prometheus", "/usr/bin/prometheus-alertmanager"
SECRET = "alerts-signing-secret"
ONCALL = {"user": "oncall", "groups": ["system:masters"]}
TOKENS = {"am-token": ONCALL, "other-token": {"user": "bob", "groups": []}}
CHANNEL = "C0ALERTS"
ONCALL_SLACK = "U0ONCALL"
RULE = ('max by (namespace, container) (max_over_time(kube_pod_container_status_waiting_reason'
        '{namespace="shop", container="checkout", reason="CrashLoopBackOff"}[10s])) == 1')


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SandboxServer, Path]]:
    server = SandboxServer(scenarios=["demo-shop"], speed=50.0).start()
    kc = server.write_kubeconfig(tmp_path_factory.mktemp("alerts") / "kubeconfig")
    yield server, kc
    gc.collect()  # pooled keep-alive connections of finished clients: closed now, not waited for by the TLS shutdown
    server.stop()


@pytest.fixture(scope="module")
def fake_slack() -> Iterator[FakeSlack]:
    fake = FakeSlack()
    yield fake
    fake.loop.stop()


@pytest.fixture(scope="module")
def serve(shop, fake_slack, tmp_path_factory) -> Iterator[dict[str, Any]]:
    home = tmp_path_factory.mktemp("alerts-home")
    mp = pytest.MonkeyPatch()
    mp.setenv("KUBESAGE_SLACK_SIGNING_SECRET", SECRET)
    mp.setenv("KUBESAGE_SLACK_BOT_TOKEN", "xoxb-alerts")
    cfg = settings_mod.load({"KUBESAGE_HOME": str(home), "KUBESAGE_API_TOKENS": json.dumps(TOKENS),
                             "KUBESAGE_SLACK_USERS": json.dumps({ONCALL_SLACK: ONCALL}),
                             "KUBESAGE_SLACK_API_URL": fake_slack.url, "KUBESAGE_ALERTS_SLACK_CHANNEL": CHANNEL,
                             "KUBESAGE_HEALTH_STABLE_S": "0.5", "KUBESAGE_HEALTH_TIMEOUT_S": "30"})
    rt = Runtime(cfg, kubeconfig=str(shop[1]))
    app = create_app(rt, cfg)
    srv = LoopbackServer(app).start()
    yield {"url": srv.url, "app": app, "rt": rt, "server": shop[0], "fake": fake_slack, "home": home}
    srv.stop()
    rt.close()
    mp.undo()


def _post(url: str, body: dict[str, Any], token: str | None = "am-token") -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.post(url + "/v1/alerts", json=body, headers=headers, timeout=30)


def _payload(status: str, alerts: list[dict[str, Any]]) -> dict[str, Any]:
    return {"version": "4", "status": status, "receiver": "kubesage", "groupKey": "{}:{}", "alerts": alerts,
            "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {}, "externalURL": "http://am"}


def _alert(status: str, fingerprint: str, starts: str, **labels: str) -> dict[str, Any]:
    return {"status": status, "labels": {"alertname": "Test", **labels}, "annotations": {}, "startsAt": starts,
            "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "", "fingerprint": fingerprint}


def _roots(fake: FakeSlack) -> list[dict[str, Any]]:
    with fake._lock:
        return [c for c in fake.calls if c["method"] == "chat.postMessage" and c["body"].get("channel") == CHANNEL
                and not c["body"].get("thread_ts")]


def _settle(serve: dict[str, Any]) -> None:
    assert serve["app"].state.alert_desk.bot.wait_idle(120), "the investigation did not finish"


# -- the receiver's own rules -----------------------------------------------------------------------------------
def test_alerts_need_a_known_token_and_a_valid_alertmanager_body(serve):
    body = _payload("firing", [_alert("firing", "aaaa", "2026-01-01T00:00:00Z", namespace="shop", pod="none")])
    assert _post(serve["url"], body, token=None).status_code == 401
    assert _post(serve["url"], body, token="guess").status_code == 401
    for bad in ({**body, "version": "3"}, {**body, "alerts": [{"status": "firing"}]},
                {**body, "alerts": [{**body["alerts"][0], "fingerprint": "../x"}]}, {"alerts": "no"}):
        r = _post(serve["url"], bad)
        assert r.status_code == 422 and r.json()["error"]["message"], r.text
        assert "Traceback" not in r.text
    assert not _roots(serve["fake"])


def test_without_a_channel_alerts_are_refused_with_what_to_set(shop, tmp_path):
    cfg = settings_mod.load({"KUBESAGE_HOME": str(tmp_path), "KUBESAGE_API_TOKENS": json.dumps(TOKENS)})
    rt = Runtime(cfg, kubeconfig=str(shop[1]))
    srv = LoopbackServer(create_app(rt, cfg)).start()
    try:
        r = _post(srv.url, _payload("firing", [_alert("firing", "abc", "2026-01-01T00:00:00Z", namespace="shop")]))
        assert r.status_code == 503 and "alerts_slack_channel" in r.json()["error"]["message"]
    finally:
        srv.stop()
        rt.close()


def test_a_repeat_finds_its_thread_and_a_resolution_closes_it_once(serve):
    fp, starts = uuid.uuid4().hex[:16], "2026-01-01T00:00:00Z"
    firing = _payload("firing", [_alert("firing", fp, starts, namespace="shop", pod="no-such-pod")])
    before = len(_roots(serve["fake"]))
    first = _post(serve["url"], firing)
    assert first.status_code == 202 and len(first.json()["opened"]) == 1
    again = _post(serve["url"], firing)
    assert again.json()["opened"] == [] and again.json()["repeated"] == first.json()["opened"]
    assert len(_roots(serve["fake"])) == before + 1
    thread_ts = _roots(serve["fake"])[-1]["ts"]
    until(lambda: serve["fake"].posts(CHANNEL, thread_ts), timeout=30, what="the investigation's answer")
    assert "no workload I can find" in serve["fake"].posts(CHANNEL, thread_ts)[-1]["text"]
    resolved = _payload("resolved", [{**firing["alerts"][0], "status": "resolved", "endsAt": "2026-01-01T00:05:00Z"}])
    assert _post(serve["url"], resolved).json()["closed"] == first.json()["opened"]
    assert _post(serve["url"], resolved).json()["repeated"] == first.json()["opened"]
    _settle(serve)
    closing = [p for p in serve["fake"].posts(CHANNEL, thread_ts) if p["text"].startswith("Resolved:")]
    assert len(closing) == 1 and "closed" in closing[0]["text"]
    # A new firing of the same alert (a new start) is a new thread; a resolution nobody opened is ignored.
    refire = _payload("firing", [_alert("firing", fp, "2026-01-01T01:00:00Z", namespace="shop", pod="no-such-pod")])
    assert len(_post(serve["url"], refire).json()["opened"]) == 1
    stray = _payload("resolved", [_alert("resolved", uuid.uuid4().hex[:16], starts, namespace="shop")])
    assert _post(serve["url"], stray).json()["ignored"]
    _settle(serve)


# -- with the real Prometheus and Alertmanager ------------------------------------------------------------------
@pytest.fixture(scope="module")
def monitoring(shop, serve, tmp_path_factory) -> Iterator[dict[str, Any]]:
    missing = [b for b in (PROMETHEUS, ALERTMANAGER) if not shutil.which(b)]
    if missing:
        pytest.skip(f"{' and '.join(missing)} not installed (Debian packages prometheus, prometheus-alertmanager)")
    work = tmp_path_factory.mktemp("monitoring")
    server, _ = shop
    am_port, prom_port = _port(), _port()
    (work / "am.yml").write_text(yaml.safe_dump({
        "route": {"receiver": "kubesage", "group_by": ["alertname", "namespace", "container"],
                  "group_wait": "1s", "group_interval": "1s", "repeat_interval": "2s"},
        "receivers": [{"name": "kubesage", "webhook_configs": [{
            "url": serve["url"] + "/v1/alerts", "send_resolved": True,
            "http_config": {"authorization": {"type": "Bearer", "credentials": "am-token"}}}]}]}))
    (work / "rules.yml").write_text(yaml.safe_dump({"groups": [{"name": "shop", "interval": "1s", "rules": [{
        "alert": "PodCrashLooping", "expr": RULE, "for": "0s", "labels": {"severity": "page"},
        "annotations": {"summary": "{{ $labels.container }} in {{ $labels.namespace }} is crash-looping"}}]}]}))
    (work / "prom.yml").write_text(yaml.safe_dump({
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(work / "rules.yml")],
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{am_port}"]}]}]},
        "scrape_configs": [{"job_name": "sandbox", "scheme": "https", "metrics_path": "/metrics",
                            "tls_config": {"ca_file": str(server.ca_file)},
                            "authorization": {"credentials": server.token},
                            "static_configs": [{"targets": [f"127.0.0.1:{server.port}"]}]}]}))
    procs = [subprocess.Popen([ALERTMANAGER, f"--config.file={work / 'am.yml'}", f"--storage.path={work / 'am'}",
                               f"--web.listen-address=127.0.0.1:{am_port}", "--cluster.listen-address=",
                               "--log.level=warn"], stdout=subprocess.DEVNULL, stderr=open(work / "am.log", "w")),
             subprocess.Popen([PROMETHEUS, f"--config.file={work / 'prom.yml'}",
                               f"--storage.tsdb.path={work / 'prom'}", f"--web.listen-address=127.0.0.1:{prom_port}",
                               "--rules.alert.resend-delay=1s", "--log.level=warn"],
                              stdout=subprocess.DEVNULL, stderr=open(work / "prom.log", "w"))]
    try:
        yield {"prom": f"http://127.0.0.1:{prom_port}", "am": f"http://127.0.0.1:{am_port}", "work": work}
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()


def _deliveries(url: str, status: int = 202) -> int:
    text = httpx.get(url + "/metrics", timeout=10).text
    m = re.search(r'kubesage_http_requests_total\{method="POST",route="/v1/alerts",status="' + str(status) +
                  r'"\} (\d+)', text)
    return int(m.group(1)) if m else 0


def _click(serve: dict[str, Any], post: dict[str, Any], message_ts: str) -> httpx.Response:
    button = next(e for blk in post["blocks"] if blk["type"] == "actions" for e in blk["elements"]
                  if e["action_id"] == "kubesage_approve")
    payload = {"type": "block_actions", "user": {"id": ONCALL_SLACK}, "channel": {"id": CHANNEL},
               "message": {"ts": message_ts, "thread_ts": post["thread_ts"]},
               "actions": [{"action_id": "kubesage_approve", "value": button["value"], "type": "button"}]}
    body = urlencode({"payload": json.dumps(payload)}).encode()
    stamp = str(int(time.time()))
    return httpx.post(serve["url"] + "/slack/interactions", content=body, timeout=30, headers={
        "Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": sign(SECRET, stamp, body)})


def test_a_crash_loop_alert_is_investigated_fixed_on_approval_and_closed_when_it_resolves(serve, monitoring):
    fake, url = serve["fake"], serve["url"]
    before = len(_roots(fake))
    delivered = _deliveries(url)

    # Prometheus sees checkout crash-loop, Alertmanager notifies: one thread, whose finding names the cause.
    until(lambda: len(_roots(fake)) > before, timeout=60, what="the alert's thread in Slack")
    root = _roots(fake)[before]
    assert "PodCrashLooping" in root["body"]["text"] and "checkout in shop is crash-looping" in root["body"]["text"]

    def approvals() -> list[dict[str, Any]]:
        with fake._lock:
            return [c for c in fake.calls if c["body"].get("thread_ts") == root["ts"]
                    and any(b["type"] == "actions" for b in c["body"].get("blocks") or [])]

    try:
        until(approvals, timeout=120, what="the proposed fix in the thread")  # the investigation's last post
    except AssertionError as e:
        raise AssertionError(f"{e}; the thread: {[p['text'][:1500] for p in fake.posts(CHANNEL, root['ts'])]}") from None
    _settle(serve)
    finding = next(p["text"] for p in fake.posts(CHANNEL, root["ts"]) if p["text"].startswith("*Finding*"))
    assert "CrashLoopBackOff" in finding and "PAYMENTS_URL" in finding and "Evidence:" in finding
    assert "restartCount" in finding  # evidence read from the cluster, not only the conclusion
    approval = approvals()
    assert len(approval) == 1 and "PAYMENTS_URL" in approval[0]["body"]["blocks"][1]["text"]["text"]

    # Alertmanager repeats the notification while the alert fires: still one thread.
    until(lambda: _deliveries(url) >= delivered + 3, timeout=30, what="repeated notifications")
    assert len(_roots(fake)) == before + 1

    # The on-call engineer approves: the cluster is fixed.
    assert _click(serve, approval[0]["body"], approval[0]["ts"]).status_code == 200
    _settle(serve)
    assert fake.posts(CHANNEL, root["ts"])[-1]["text"].startswith("Done: "), fake.posts(CHANNEL, root["ts"])[-1]
    store = serve["server"].cluster.store
    assert "PAYMENTS_URL" in store.get("/configmaps", "shop", "checkout-config")["data"]
    until(lambda: (store.get("apps/deployments", "shop", "checkout").get("status") or {}).get("readyReplicas") == 2,
          timeout=30, what="checkout ready")

    # The alert resolves; Alertmanager says so; the thread is closed, once.
    until(lambda: any(p["text"].startswith("Resolved:") for p in fake.posts(CHANNEL, root["ts"])), timeout=60,
          what="the resolved message in the thread")
    _settle(serve)
    closing = [p for p in fake.posts(CHANNEL, root["ts"]) if p["text"].startswith("Resolved:")]
    assert len(closing) == 1 and "PodCrashLooping" in closing[0]["text"] and "still waiting" not in closing[0]["text"]
    assert any(u["ts"] == root["ts"] and u["text"].startswith("Resolved:") for u in fake.updates())
    assert len(_roots(fake)) == before + 1
