"""The real Prometheus (Debian's `prometheus`) scraping a sandbox's `/metrics` every second, for tests.

Why a real one: the answers' numbers are checked against PromQL that Prometheus itself evaluates, so nothing in
between (a fake's idea of rate() or histogram_quantile()) can make a wrong number look right.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

BINARY = shutil.which("prometheus") or ("/usr/bin/prometheus" if Path("/usr/bin/prometheus").exists() else None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def config(sandbox: Any | None) -> str:
    """Scrape the sandbox API server's /metrics (TLS with its own CA, the admin's bearer token) every second, stamped
    with the scrape time (a series that disappears, a crashed container's, is then marked stale at once)."""
    if sandbox is None:
        return "global:\n  scrape_interval: 1s\nscrape_configs: []\n"
    return (f"global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
            f"scrape_configs:\n- job_name: sandbox\n  scheme: https\n  honor_timestamps: false\n"
            f"  tls_config: {{ca_file: '{sandbox.ca_file}'}}\n"
            f"  authorization: {{credentials: '{sandbox.token}'}}\n"
            f"  static_configs: [{{targets: ['127.0.0.1:{sandbox.port}']}}]\n")


@contextmanager
def prometheus(sandbox: Any | None, workdir: Path, scrapes: int = 8) -> Iterator[str]:
    """Start Prometheus on a free loopback port scraping `sandbox` (None: nothing); yield its URL once `scrapes`
    scrapes of the sandbox are stored (or, scraping nothing, once it is ready). Skips the test when the binary is
    not installed."""
    if BINARY is None:
        pytest.skip("Debian's prometheus is not installed (apt-get install prometheus); the Prometheus tests need it")
    port = _free_port()
    (workdir / "prometheus.yml").write_text(config(sandbox))
    log = (workdir / "prometheus.log").open("w")
    proc = subprocess.Popen([BINARY, f"--config.file={workdir / 'prometheus.yml'}",
                             f"--storage.tsdb.path={workdir / 'data'}", f"--web.listen-address=127.0.0.1:{port}",
                             "--log.level=warn"], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"prometheus did not get {scrapes} scrapes: "
                                     f"{(workdir / 'prometheus.log').read_text()[-2000:]}")
            try:
                if sandbox is None:
                    if httpx.get(f"{url}/-/ready").status_code == 200:
                        break
                else:
                    r = httpx.get(f"{url}/api/v1/query", params={"query": 'sum_over_time(up{job="sandbox"}[5m])'})
                    got = r.json()["data"]["result"]
                    if got and float(got[0]["value"][1]) >= scrapes:
                        break
            except (httpx.HTTPError, ValueError, KeyError):
                pass
            time.sleep(0.25)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def query(url: str, params: dict[str, str]) -> dict[str, Any]:
    """The HTTP API run directly (instant when `params` has `time`, a range when it has `start`)."""
    path = "/api/v1/query_range" if "start" in params else "/api/v1/query"
    body = httpx.get(url + path, params=params, timeout=10).json()
    assert body["status"] == "success", body
    return body["data"]
