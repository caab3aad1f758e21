"""`make bench` (replicas part): `kubesage serve` as a team's service, 1 and 3 replicas on one Postgres, beside the
embedded default (SQLite, one process), on the cached-answer path under 100 concurrent clients, in one run.

Why these processes: a deployment (deploy/) runs N identical `kubesage serve` pods behind a Service, each with its
own scratch `KUBESAGE_HOME` and the shared `database_url`; a Service balances per connection, so client i keeps
one connection to replica i mod N. Here: a sandbox API server (`kubesage sandbox serve`, demo-shop), Debian's
Postgres in a temporary directory (tests/server/pgserver.py: fsync and synchronous_commit off, so the numbers are
the server's, not the disk's), N `kubesage serve` processes, and this process as the load (bench_http's shape:
100 httpx clients, one connection each, each on its own thread; one warm-up request each, which also primes the
replica's answer cache, then all run together for SECONDS). Threads are created round-robin, so on Postgres a
thread made on one replica is asked on another. Printed per setup: requests/s, p50, p99, errors (must be 0), and
requests not served from the answer cache; `REPLICAS_ROUNDS=2` measures each setup again in reverse order.
Everything shares this machine's CPUs with the load, so 3 replicas on a 2-core host measure contention as much as
scaling; the CPU count and the load average are printed.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

from evals.bench_http import CLIENTS, QUESTION, TOKEN, _pct

SECONDS = 10.0
KUBESAGE = [sys.executable, "-m", "kubesage.cli"]
LISTENING = re.compile(r"listening on (https?://\S+)")


@dataclass
class Result:
    setup: str
    requests: int
    elapsed: float
    p50_ms: float
    p99_ms: float
    errors: int
    not_cached: int
    why: dict[str, int]

    def line(self) -> str:
        return (f"{self.setup:<28} {self.requests / self.elapsed:7.0f} req/s  p50 {self.p50_ms:7.1f} ms  "
                f"p99 {self.p99_ms:7.1f} ms  requests {self.requests:6d}  errors {self.errors}  "
                f"not served from cache {self.not_cached}" + (f" (errors: {self.why})" if self.why else ""))


def _start(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[str]:
    """A server whose output goes to `log` (a file never fills up and blocks it, as an unread pipe would)."""
    with log.open("w") as out:
        return subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, text=True)


def _url_of(proc: subprocess.Popen[str], log: Path, what: str, timeout: float = 300) -> str:
    """The URL a server prints when it listens (both `kubesage serve` and `kubesage sandbox serve` do)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        m = LISTENING.search(log.read_text())
        if m:
            return m.group(1)
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited ({proc.returncode}) before it listened: {log.read_text()[-1500:]}")
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen within {timeout} s; log: {log}")


def _stop(procs: list[subprocess.Popen[str]]) -> None:
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def _replicas(n: int, base_env: dict[str, str], kubeconfig: Path, root: Path, tag: str) -> tuple[list[str], list[subprocess.Popen[str]]]:
    procs: list[subprocess.Popen[str]] = []
    urls: list[str] = []
    for i in range(n):
        home = root / f"{tag}-{i}"
        home.mkdir()
        env = dict(base_env, KUBESAGE_HOME=str(home))
        procs.append(_start([*KUBESAGE, "serve", "--port", "0", "--kubeconfig", str(kubeconfig)], env,
                            home / "serve.log"))
    try:
        for i, p in enumerate(procs):
            urls.append(_url_of(p, root / f"{tag}-{i}" / "serve.log", f"replica {i} ({tag})"))
        for u in urls:  # ready: the runtime is built once the port answers /healthz
            httpx.get(f"{u}/healthz", timeout=300).raise_for_status()
    except BaseException:
        _stop(procs)
        raise
    return urls, procs


async def _hammer(urls: list[str], threads: list[str], seconds: float) -> tuple[list[float], Counter[str], int, float]:
    latencies: list[float] = []
    errors: Counter[str] = Counter()  # what failed: an HTTP status or the exception's name
    not_cached = ready = 0
    go = asyncio.Event()
    window: dict[str, float] = {}
    headers = {"Authorization": f"Bearer {TOKEN}"}

    async def client(i: int, tid: str) -> None:
        nonlocal not_cached, ready
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with httpx.AsyncClient(base_url=urls[i % len(urls)], headers=headers, limits=limits, timeout=60) as c:
            warm = await c.post(f"/v1/threads/{tid}/messages", json={"text": QUESTION})
            if warm.status_code != 200:
                errors[f"warm-up HTTP {warm.status_code}"] += 1
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
                    if r.status_code != 200:
                        errors[f"HTTP {r.status_code}"] += 1
                    elif not r.json()["cached"]:
                        not_cached += 1
                except httpx.HTTPError as e:
                    errors[type(e).__name__] += 1
                latencies.append(time.perf_counter() - t)

    await asyncio.gather(*(client(i, t) for i, t in enumerate(threads)))
    return latencies, errors, not_cached, time.perf_counter() - window["start"]


def _measure(setup: str, urls: list[str]) -> Result:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    threads = []
    for i in range(CLIENTS):  # made round-robin: on Postgres a thread made on one replica is asked on another
        with httpx.Client(base_url=urls[(i + 1) % len(urls)], headers=headers, timeout=120) as c:
            r = c.post("/v1/threads", json={})
            r.raise_for_status()
            threads.append(r.json()["thread"]["thread_id"])
    lat, errors, not_cached, elapsed = asyncio.run(_hammer(urls, threads, SECONDS))
    ms = [x * 1000 for x in lat]
    return Result(setup, len(lat), elapsed, _pct(ms, 0.5), _pct(ms, 0.99), sum(errors.values()), not_cached,
                  dict(errors))


def _postgres_missing() -> str | None:
    """Why the Postgres setups cannot run here, or None."""
    from kubesage.settings import Settings

    if "database_url" not in Settings.__dataclass_fields__:
        return "this kubesage has no database_url setting (Postgres support has not landed)"
    try:
        from tests.server.pgserver import binaries
    except ImportError:
        return "tests/server/pgserver.py is missing"
    return None if binaries() else "Debian's postgresql is not installed (apt-get install postgresql)"


def run(setups: tuple[tuple[str, int, bool], ...]) -> list[Result]:
    root = Path(tempfile.mkdtemp(prefix="kubesage-bench-replicas-"))
    kubeconfig = root / "kubeconfig"
    sandbox = _start([*KUBESAGE, "sandbox", "serve", "--port", "0", "--kubeconfig", str(kubeconfig),
                      "--scenario", "demo-shop", "--speed", "50"], dict(os.environ, KUBESAGE_HOME=str(root / "sb")),
                     root / "sandbox.log")
    pg = None
    results: list[Result] = []
    try:
        _url_of(sandbox, root / "sandbox.log", "the sandbox", timeout=120)
        time.sleep(1.0)  # the demo shop's first pods settle
        base = dict(os.environ, KUBESAGE_ANSWER_CACHE_TTL="600", KUBESAGE_LOG_LEVEL="error",
                    KUBESAGE_LLM_LOCAL_THREADS="1",
                    KUBESAGE_API_TOKENS=json.dumps({TOKEN: {"user": "bench", "groups": ["system:masters"]}}))
        base.pop("KUBESAGE_DATABASE_URL", None)
        for k, (setup, n, postgres) in enumerate(setups):
            env = dict(base)
            if postgres:
                if pg is None:
                    from tests.server.pgserver import PgServer, binaries

                    pg = PgServer(binaries()).start()
                env["KUBESAGE_DATABASE_URL"] = pg.url
            urls, procs = _replicas(n, env, kubeconfig, root, f"{k}-{setup.split(',')[0].lower()}{n}")
            try:
                results.append(_measure(setup, urls))
                print(results[-1].line(), flush=True)
            finally:
                _stop(procs)
    finally:
        _stop([sandbox])
        if pg is not None:
            pg.close()
        if any(r.errors for r in results):
            print(f"(the servers' logs are kept in {root}: errors happened)")
        else:
            shutil.rmtree(root, ignore_errors=True)
    return results


def main() -> None:
    why = _postgres_missing()
    setups: tuple[tuple[str, int, bool], ...] = (("SQLite, 1 process", 1, False),)
    if why:
        print(f"Postgres setups skipped: {why}")
    else:
        setups += (("Postgres, 1 replica", 1, True), ("Postgres, 3 replicas", 3, True))
    rounds = max(1, int(os.environ.get("REPLICAS_ROUNDS", "1")))
    # Rounds alternate the order (A B C, C B A, …) so a drift in the machine's load does not favour one setup.
    order = tuple(s for i in range(rounds) for s in (setups if i % 2 == 0 else setups[::-1]))
    load = os.getloadavg()[0]
    print(f"cached path, {CLIENTS} concurrent clients (client i on replica i mod N), {SECONDS:.0f} s each, "
          f"{rounds} round(s):")
    results = run(order)
    print(f"(cpus: {os.cpu_count()}, load average {load:.1f} before and {os.getloadavg()[0]:.1f} after; sandbox, "
          "Postgres, replicas and clients on the same machine)")
    out = Path(os.environ.get("KUBESAGE_HOME", Path.home() / ".kubesage")) / "bench" / "replicas.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"cpus": os.cpu_count(), "clients": CLIENTS, "seconds": SECONDS, "skipped": why,
                               "rounds": rounds, "load_before": load, "load_after": os.getloadavg()[0],
                               "results": [{**asdict(r), "rps": r.requests / r.elapsed} for r in results]}, indent=2))
    print(f"written to {out}")


if __name__ == "__main__":
    main()
