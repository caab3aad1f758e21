"""Cold-start times of the `kubesage` command (issue 18: `--help` ≤ 0.3 s, a fast-path `ask` ≤ 1.5 s), beside
`kubectl version --client` on the same run, so a loaded machine is visible in the numbers rather than hidden.

Each run is a fresh process (hyperfine-style: one warm-up, then N runs, median and min). Beside the wall time each
row gives the process's own CPU time (user + system, median): on a shared machine the wall time grows with the
load, the CPU time much less, so it is what to compare across runs of this bench. The `ask` runs share one
KUBESAGE_HOME whose router cache the warm-up fills, as a user's second and later questions do; the first, uncached
`ask` is reported apart. Two questions: one the embedding router routes (most questions) and one a rule routes.

`make bench ONLY=cli`; BENCH_CLI_RUNS sets N (default 7). BENCH_CLI_BASELINE=<another checkout of kubesage> runs
every row for that checkout too, alternating run by run with this one (the same load for both), and prints both.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

KUBESAGE = [sys.executable, "-m", "kubesage.cli"]
ROOT = Path(__file__).resolve().parents[1]
QUESTION = "scale deployment coredns in kube-system to 2"  # embedding-routed; no model call; not applied (no --yes)
RULE_QUESTION = "can alice list pods in default"  # routed by a rule (rbac): no embedding needed


def _once(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """(wall, CPU) seconds of one run of `cmd` in a fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   stdin=subprocess.DEVNULL, check=False, timeout=120)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _runs(name: str, cmd: list[str], env: dict[str, str], n: int, trees: dict[str, Path]) -> None:
    for root in trees.values():
        _once(cmd, env, root)  # warm-up: the OS file cache, the router cache
    got: dict[str, list[tuple[float, float]]] = {label: [] for label in trees}
    for _ in range(n):
        for label, root in trees.items():  # alternating: a load spike hits both trees alike
            got[label].append(_once(cmd, env, root))
    for label, times in got.items():
        walls, cpus = [w for w, _ in times], [c for _, c in times]
        row = f"{name} ({label})" if len(trees) > 1 else name
        print(f"{row:<44} median {statistics.median(walls):6.3f} s   min {min(walls):6.3f} s   "
              f"CPU median {statistics.median(cpus):6.3f} s   ({n} runs)", flush=True)


def _kubectl() -> str | None:
    from tests.sandbox.conftest import kubectl_path

    try:
        return kubectl_path()
    except Exception:  # noqa: BLE001 - no kubectl here: its row is left out
        return None


def main() -> None:
    from sandbox.server import SandboxServer

    n = int(os.environ.get("BENCH_CLI_RUNS", "7"))
    trees = {"this": ROOT}
    if os.environ.get("BENCH_CLI_BASELINE"):
        trees = {"baseline": Path(os.environ["BENCH_CLI_BASELINE"]).resolve(), "this": ROOT}
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPU(s)", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as tmp:
        server = SandboxServer(scenarios=["default"], behaviour=False).start()
        try:
            kc = server.write_kubeconfig(Path(tmp) / "kubeconfig")
            env = dict(os.environ, KUBESAGE_HOME=str(Path(tmp) / "home"), KUBECONFIG=str(kc),
                       KUBESAGE_LOG_LEVEL="error")
            kubectl = _kubectl()
            if kubectl:
                _runs("kubectl version --client", [kubectl, "version", "--client"], env, n, {"this": ROOT})
            _runs("kubesage --help", [*KUBESAGE, "--help"], env, n, trees)
            for label, root in trees.items():
                wall, cpu = _once([*KUBESAGE, "ask", QUESTION], dict(env, KUBESAGE_HOME=str(Path(tmp) / f"fresh-{label}")),
                                  root)
                row = "kubesage ask (fast path, 1st ever" + (f", {label})" if len(trees) > 1 else ")")
                print(f"{row:<44} {wall:6.3f} s   CPU {cpu:6.3f} s (embeds the router's exemplars)", flush=True)
            _runs("kubesage ask (fast path, cold)", [*KUBESAGE, "ask", QUESTION], env, n, trees)
            _runs("kubesage ask (rule-routed, cold)", [*KUBESAGE, "ask", RULE_QUESTION], env, n, trees)
        finally:
            server.stop()


if __name__ == "__main__":
    main()
