"""`make bench` (HTTP part): the HTTP API under load on loopback.

A child process runs the demo-shop sandbox, the Runtime and the app under a real uvicorn server; this process is
the load: 100 concurrent httpx clients (one connection each, each on its own thread of the API) post the same
read-only question for ~10 s, after one request primed the answer cache. Printed: requests/s, p50, p99, errors
(must be 0). The uncached path (whole supervisor turns against the sandbox) is measured briefly: a few sequential
distinct questions. Server and clients live in separate processes so they do not share one GIL; on a 2-core
machine they still share the CPUs, so the numbers are a floor.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing as mp
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

TOKEN = "bench-token"
QUESTION = "how much memory do pods in shop use"
UNCACHED = ["which pods are using the most CPU in shop", "how much memory do pods in shop use right now",
            "what uses the most cpu in the shop namespace", "top pods by memory in shop",
            "which nodes are the busiest"]
CLIENTS = 100
SECONDS = 10.0


def _server(conn: Any, home: str) -> None:
    """Child process: sandbox + runtime + app on a loopback port; sends the URL, serves until told to stop."""
    from kubesage import settings as settings_mod
    from kubesage.runtime import Runtime
    from sandbox.server import SandboxServer
    from server.app import create_app
    from server.loopback import LoopbackServer

    sandbox = SandboxServer(scenarios=["demo-shop"], speed=50.0).start()
    kc = sandbox.write_kubeconfig(Path(home) / "kubeconfig")
    time.sleep(1.0)
    # The TTL outlives the run, so every load request takes the cached path (what this bench measures).
    cfg = settings_mod.load({"KUBESAGE_HOME": home, "KUBESAGE_ANSWER_CACHE_TTL": "600",
                             "KUBESAGE_API_TOKENS": json.dumps({TOKEN: {"user": "bench", "groups": ["system:masters"]}})})
    rt = Runtime(cfg, kubeconfig=str(kc))
    srv = LoopbackServer(create_app(rt, cfg), log_level="error", access_log=False).start()
    conn.send(srv.url)
    conn.recv()
    srv.stop()
    rt.close()
    sandbox.stop()


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))] if s else float("nan")


async def _hammer(url: str, threads: list[str], seconds: float) -> tuple[list[float], int, int, float]:
    """Every client connects and sends one warm-up request; then all run together for `seconds`."""
    latencies: list[float] = []
    errors = not_cached = 0
    go = asyncio.Event()
    ready = 0
    window: dict[str, float] = {}
    headers = {"Authorization": f"Bearer {TOKEN}"}

    async def client(tid: str) -> None:
        nonlocal errors, not_cached, ready
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=30) as c:
            await c.post(f"/v1/threads/{tid}/messages", json={"text": QUESTION})
            ready += 1
            if ready == len(threads):
                window["start"] = time.perf_counter()
                window["stop"] = window["start"] + seconds
                go.set()
            await go.wait()
            while time.perf_counter() < window["stop"]:
                t = time.perf_counter()
                try:
                    r = await c.post(f"/v1/threads/{tid}/messages", json={"text": QUESTION})
                    ok = r.status_code == 200
                    if ok and not r.json()["cached"]:
                        not_cached += 1
                except httpx.HTTPError:
                    ok = False
                latencies.append(time.perf_counter() - t)
                errors += 0 if ok else 1

    await asyncio.gather(*(client(t) for t in threads))
    return latencies, errors, not_cached, time.perf_counter() - window["start"]


def main() -> None:
    home = tempfile.mkdtemp(prefix="kubesage-bench-http-")
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_server, args=(child, home), daemon=True)
    proc.start()
    try:
        if not parent.poll(180):
            raise RuntimeError("the server process did not start")
        url = parent.recv()
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=120) as c:
            threads = [c.post("/v1/threads", json={}).json()["thread"]["thread_id"] for _ in range(CLIENTS)]
            uncached = []
            for q in UNCACHED:  # whole turns: route, cluster reads, answer, checkpoint
                t = time.perf_counter()
                r = c.post(f"/v1/threads/{threads[0]}/messages", json={"text": q})
                uncached.append(time.perf_counter() - t)
                assert r.status_code == 200 and not r.json()["cached"], r.text
            prime = c.post(f"/v1/threads/{threads[0]}/messages", json={"text": QUESTION})
            assert prime.status_code == 200, prime.text
        lat, errors, not_cached, elapsed = asyncio.run(_hammer(url, threads, SECONDS))
        with httpx.Client(base_url=url) as c:
            hits = [line for line in c.get("/metrics").text.splitlines()
                    if line.startswith('kubesage_http_answer_cache_total{kind="hit"}')]
    finally:
        parent.send("stop")
        proc.join(30)
        if proc.is_alive():
            proc.kill()
    ms = [x * 1000 for x in lat]
    print(f"cached path: {CLIENTS} concurrent clients, {elapsed:.1f} s, {len(lat)} requests, "
          f"{len(lat) / elapsed:.0f} req/s, p50 {_pct(ms, 0.5):.1f} ms, p99 {_pct(ms, 0.99):.1f} ms, "
          f"errors {errors}, not served from cache {not_cached}")
    print(f"server metrics: {hits[0] if hits else 'no cache hits reported'}")
    print(f"uncached path: {len(uncached)} sequential turns, p50 {statistics.median(uncached) * 1000:.0f} ms "
          f"(each: {', '.join(f'{x * 1000:.0f}' for x in uncached)} ms; the first loads the router's embeddings)")
    print(f"(cpus: {os.cpu_count()}; server and clients on the same machine)")


if __name__ == "__main__":
    main()
