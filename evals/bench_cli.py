"""Cold-start times of the `kubesage` command (issue 18: `--help` ≤ 0.3 s, a fast-path `ask` ≤ 1.5 s), beside
`kubectl version --client` on the same run, so a loaded machine is visible in the numbers rather than hidden.

Each run is a fresh process (hyperfine-style: one warm-up, then N runs, median and min). The `ask` runs share one
KUBESAGE_HOME whose router cache the warm-up fills, as a user's second and later questions do; the first, uncached
`ask` is reported apart. `make bench ONLY=cli`; BENCH_CLI_RUNS sets N (default 7).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

KUBESAGE = [sys.executable, "-m", "kubesage.cli"]
QUESTION = "scale deployment coredns in kube-system to 2"  # a fast path: no model call; not applied (no --yes)


def _once(cmd: list[str], env: dict[str, str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                   check=False, timeout=120)
    return time.perf_counter() - t


def _runs(name: str, cmd: list[str], env: dict[str, str], n: int) -> None:
    _once(cmd, env)  # warm-up: the OS file cache, the router cache
    times = [_once(cmd, env) for _ in range(n)]
    print(f"{name:<34} median {statistics.median(times):6.3f} s   min {min(times):6.3f} s   ({n} runs)", flush=True)


def _kubectl() -> str | None:
    from tests.sandbox.conftest import kubectl_path

    try:
        return kubectl_path()
    except Exception:  # noqa: BLE001 - no kubectl here: its row is left out
        return None


def main() -> None:
    from sandbox.server import SandboxServer

    n = int(os.environ.get("BENCH_CLI_RUNS", "7"))
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPU(s)", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as tmp:
        server = SandboxServer(scenarios=["default"], behaviour=False).start()
        try:
            kc = server.write_kubeconfig(Path(tmp) / "kubeconfig")
            env = dict(os.environ, KUBESAGE_HOME=str(Path(tmp) / "home"), KUBECONFIG=str(kc),
                       KUBESAGE_LOG_LEVEL="error")
            kubectl = _kubectl()
            if kubectl:
                _runs("kubectl version --client", [kubectl, "version", "--client"], env, n)
            _runs("kubesage --help", [*KUBESAGE, "--help"], env, n)
            first = _once([*KUBESAGE, "ask", QUESTION], dict(env, KUBESAGE_HOME=str(Path(tmp) / "fresh")))
            print(f"{'kubesage ask (fast path, 1st ever)':<34} {first:6.3f} s (embeds the router's exemplars)")
            _runs("kubesage ask (fast path, cold)", [*KUBESAGE, "ask", QUESTION], env, n)
        finally:
            server.stop()


if __name__ == "__main__":
    main()
