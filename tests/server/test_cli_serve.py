"""`kubesage serve` as a user runs it: listens, answers with a token, stops on SIGINT; a busy port is a clear error."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import httpx

from tests.server.conftest import TOKENS, bearer

KUBESAGE = [sys.executable, "-m", "kubesage.cli"]


def _env(tmp_path) -> dict[str, str]:
    return dict(os.environ, KUBESAGE_HOME=str(tmp_path / "home"), KUBESAGE_API_TOKENS=json.dumps(TOKENS))


def test_serve_answers_and_stops(shop, tmp_path):
    proc = subprocess.Popen([*KUBESAGE, "serve", "--port", "0", "--kubeconfig", str(shop[1])], env=_env(tmp_path),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline, url = time.monotonic() + 90, None
        while time.monotonic() < deadline and url is None:
            line = proc.stdout.readline()
            if "listening on" in line:
                url = line.split("listening on ", 1)[1].split()[0]
            elif proc.poll() is not None:
                break
        assert url, proc.stderr.read()
        assert httpx.get(f"{url}/healthz").json()["status"] == "ok"
        r = httpx.post(f"{url}/v1/threads", headers=bearer("ops-token"),
                       json={"text": "how much memory do pods in shop use"}, timeout=120)
        assert r.status_code == 201 and "memory" in r.json()["turn"]["answer"]
        assert "/openapi.json" in line and "/v1/threads" in httpx.get(f"{url}/openapi.json").json()["paths"]
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr.read()


def test_busy_port_is_a_clear_error(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = subprocess.run([*KUBESAGE, "serve", "--port", str(port)], env=_env(tmp_path), capture_output=True,
                              text=True, timeout=60)
    assert proc.returncode == 2 and f"cannot listen on 127.0.0.1:{port}" in proc.stderr
    assert "Traceback" not in proc.stderr
