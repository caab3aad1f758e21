"""Issue 20's attacks and faults, each reproduced as reported and shown to fail closed: a blank-user token, a
view-only token approving a stronger one's change, approval ids shared between threads, only the first group
impersonated, damaged databases, and a principal who cannot read a namespace told it is healthy. (The crash during
an apply: tests/agents/test_supervisor_crash.py.)"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

from agents.approvals import ApprovalRefused
from kubesage import settings as settings_mod
from kubesage.runtime import Runtime
from server.loopback import LoopbackServer
from tests.server.conftest import bearer, start_api
from tools.k8s.client import Kube, Principal
from tools.k8s.identity import InvalidPrincipal, install

KUBESAGE = [sys.executable, "-m", "kubesage.cli"]
SECRET = "tok-x-0123456789abcdef"


# -- 1. a token whose user is blank ------------------------------------------------------------------------------
@pytest.mark.parametrize("user", [" ", "", "\t", "\u3000", "alice\n", " alice"])
def test_a_blank_or_padded_user_is_refused_at_start_naming_the_entry_not_the_token(tmp_path, user):
    env = {"KUBESAGE_HOME": str(tmp_path), "KUBESAGE_API_TOKENS": json.dumps({SECRET: {"user": user}})}
    with pytest.raises(settings_mod.SettingsError) as e:
        settings_mod.load(env)
    assert "api_tokens" in str(e.value) and "entry #1" in str(e.value) and SECRET not in str(e.value)


def test_serve_refuses_to_start_with_a_blank_user(tmp_path):
    env = dict(os.environ, KUBESAGE_HOME=str(tmp_path), KUBESAGE_API_TOKENS=json.dumps({SECRET: {"user": " "}}))
    proc = subprocess.run([*KUBESAGE, "serve", "--port", "0"], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "api_tokens" in proc.stderr and "blank" in proc.stderr
    assert SECRET not in proc.stderr + proc.stdout and "Traceback" not in proc.stderr


def test_the_client_never_falls_back_to_its_own_credentials(shop):
    for user, groups in ((" ", ()), ("", ()), (None, ("system:masters",)), ("a\r\nImpersonate-User: admin", ())):
        with pytest.raises(InvalidPrincipal):
            Principal(user, groups)
        with pytest.raises(InvalidPrincipal):
            install(object(), user, groups)  # the Kube client's impersonation step refuses before any call
    # the reported attack, end to end: a blank-user principal can never reach the API, so kube-system stays closed
    forged = Principal("alice")
    object.__setattr__(forged, "user", " ")  # a principal that skipped validation is still caught by the client
    with pytest.raises(InvalidPrincipal):
        Kube.from_kubeconfig(str(shop[1]), None, forged)


# -- every group is impersonated ---------------------------------------------------------------------------------
def test_every_group_of_a_principal_is_impersonated(shop):
    kube = Kube.from_kubeconfig(str(shop[1]), None, Principal("alice", ("shop-devs", "system:masters", "g3")))
    review = kube.request("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                          {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})
    assert review["status"]["userInfo"]["username"] == "alice"
    assert {"shop-devs", "system:masters", "g3"} <= set(review["status"]["userInfo"]["groups"])
    # the second group's rights count: only system:masters may list secrets in kube-system
    assert kube.can_i("list", "secrets", "kube-system")[0] is True
    assert Kube.from_kubeconfig(str(shop[1]), None, Principal("alice", ("shop-devs",))).can_i(
        "list", "secrets", "kube-system")[0] is False


# -- 2. a view-only principal approving a stronger one's change --------------------------------------------------
ALICES = {"alice-view": {"user": "alice", "groups": ["shop-devs"]},
          "alice-admin": {"user": "alice", "groups": ["system:masters"]}}


@pytest.fixture(scope="module")
def alices(shop, tmp_path_factory):
    a, srv = start_api(shop[1], tmp_path_factory.mktemp("alices"), shop[0],
                       KUBESAGE_API_TOKENS=json.dumps(ALICES))
    yield a
    srv.stop()
    a.runtime.close()


def test_a_view_only_token_cannot_approve_what_a_stronger_token_proposed(shop, alices):
    before = shop[0].cluster.store.get("apps/deployments", "shop", "web")["spec"]["replicas"]
    with alices.client("alice-admin") as admin, alices.client("alice-view") as view:
        turn = admin.post("/v1/threads", json={"text": f"scale web in shop to {before + 2}"}).json()["turn"]
        thread, approval = turn["thread_id"], turn["approval"]
        assert approval and approval["principal"] == {"user": "alice", "groups": ["system:masters"]}
        # the reported attack: same user, weaker token
        r = view.post(f"/v1/approvals/{thread}", json={"decision": "approve", "approval_id": approval["id"]})
        assert r.status_code == 404
        assert view.get(f"/v1/threads/{thread}").status_code == 404
        assert view.get("/v1/approvals").json() == {"approvals": []}
        assert shop[0].cluster.store.get("apps/deployments", "shop", "web")["spec"]["replicas"] == before
        # below the HTTP layer too: the supervisor refuses a decider with other groups
        with pytest.raises(ApprovalRefused):
            alices.runtime.supervisor.resume(thread, "approve", by=Principal("alice", ("shop-devs",)))
        r = admin.post(f"/v1/approvals/{thread}", json={"decision": "approve", "approval_id": approval["id"]})
        assert r.status_code == 200 and r.json()["outcomes"][0]["status"] == "applied"
        admin.post("/v1/threads", json={"text": f"scale web in shop to {before}"})  # leave the shop as it was
    audit = [e for e in alices.runtime.supervisor.audit.entries() if e.get("approval_id") == approval["id"]]
    assert len(audit) == 1
    line = audit[0]
    assert (line["principal"], line["groups"], line["thread_id"], line["tool"]) == \
        ("alice", ["system:masters"], thread, "scale")
    assert line["via"].startswith("api-token sha256:") and "alice-admin" not in json.dumps(line)


def test_approval_ids_are_unique_per_proposal(shop, tmp_path):
    rt = Runtime(settings_mod.load({"KUBESAGE_HOME": str(tmp_path)}), kubeconfig=str(shop[1]))
    try:
        ids = {rt.supervisor.start("scale web in shop to 7", Principal(), uuid.uuid4().hex)["approval"]["id"]
               for _ in range(17)}
    finally:
        rt.close()
    assert len(ids) == 17  # was one id for all 17 (derived from the text)


# -- 4. damaged databases ------------------------------------------------------------------------------------------
def _garbage(home: Path, name: str) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    (home / name).write_bytes(os.urandom(8192))
    return home / name


@pytest.mark.parametrize("name", ["checkpoints.sqlite", "approvals.sqlite"])
def test_a_damaged_database_is_one_line_for_the_cli(shop, tmp_path, name):
    path = _garbage(tmp_path / "home", name)
    env = dict(os.environ, KUBESAGE_HOME=str(tmp_path / "home"))
    for argv in (["ask", "--kubeconfig", str(shop[1]), "scale web in shop to 3"], ["approve", "--kubeconfig", str(shop[1]), "some-thread"]):
        proc = subprocess.run([*KUBESAGE, *argv], env=env, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 2, proc.stderr
        assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
        assert str(path) in proc.stderr and "doctor --repair" in proc.stderr
    proc = subprocess.run([*KUBESAGE, "doctor", "--repair"], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "REPAIRED" in proc.stdout and not path.exists()
    assert subprocess.run([*KUBESAGE, "doctor"], env=env, capture_output=True, text=True, timeout=60).returncode == 0


def test_a_damaged_database_is_a_503_not_an_outage(shop, tmp_path):
    home = tmp_path / "home"
    _garbage(home, "server-threads.sqlite")
    cfg = settings_mod.load({"KUBESAGE_HOME": str(home), "KUBESAGE_API_TOKENS": json.dumps({"t": {"user": "ops"}})})
    rt = Runtime(cfg, kubeconfig=str(shop[1]))
    from server.app import create_app

    srv = LoopbackServer(create_app(rt, cfg)).start()
    try:
        with httpx.Client(base_url=srv.url, headers=bearer("t"), timeout=60) as c:
            health = c.get("/healthz")
            assert health.status_code == 503 and health.json()["status"] == "degraded"
            assert "server-threads.sqlite" in health.json()["problems"][0]
            assert c.get("/metrics").status_code == 200
            for method, path in (("GET", "/v1/threads"), ("POST", "/v1/threads"), ("GET", "/v1/approvals")):
                r = c.request(method, path, json={"text": "hi"} if method == "POST" else None)
                assert r.status_code == 503 and r.json()["error"]["code"] == "data_unavailable", r.text
                assert "server-threads.sqlite" in r.json()["error"]["message"]
    finally:
        srv.stop()
        rt.close()


def test_serve_starts_with_a_damaged_database_and_says_so(shop, tmp_path):
    path = _garbage(tmp_path / "home", "checkpoints.sqlite")
    env = dict(os.environ, KUBESAGE_HOME=str(tmp_path / "home"), KUBESAGE_API_TOKENS=json.dumps({"t": {"user": "o"}}))
    proc = subprocess.Popen([*KUBESAGE, "serve", "--port", "0", "--kubeconfig", str(shop[1])], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url, deadline = None, time.monotonic() + 90
        while url is None and time.monotonic() < deadline and proc.poll() is None:
            line = proc.stdout.readline()
            if "listening on" in line:
                url = line.split("listening on ", 1)[1].split()[0]
        assert url, proc.stderr.read()
        assert httpx.get(f"{url}/healthz").status_code == 503
        assert httpx.get(f"{url}/v1/threads", headers=bearer("t")).status_code == 503
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    err = proc.stderr.read()
    assert str(path) in err and "Traceback" not in err


# -- 6. a principal who cannot read a namespace ------------------------------------------------------------------
def test_a_principal_who_cannot_read_is_never_told_it_is_healthy(shop, tmp_path):
    rt = Runtime(settings_mod.load({"KUBESAGE_HOME": str(tmp_path)}), kubeconfig=str(shop[1]))
    try:
        named = rt.supervisor.start("why is checkout crashing in shop?", Principal("bob"), "bob-1")["answer"]
        whole = rt.supervisor.start("what is failing in shop?", Principal("bob"), "bob-2")["answer"]
    finally:
        rt.close()
    for answer in (named, whole):  # the reported question, and one the diagnosis runs for
        assert "nothing wrong" not in answer and "running and ready" not in answer, answer
    assert "cannot tell whether namespace shop is healthy" in whole and "bob" in whole and "pods" in whole, whole
