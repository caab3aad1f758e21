"""A real Chroma server (`chroma run`, installed with chromadb) on a free local port, for tests and benchmarks.

Why a helper of its own: tests/memory/test_chroma_server.py and evals/bench_cache_replicas.py both need one, and
both must say clearly why there is none (`ChromaUnavailable`) instead of failing somewhere later.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


class ChromaUnavailable(RuntimeError):
    """No Chroma server could be started here; the message says why."""


class ChromaServer:
    """`chroma run --path <path>` on 127.0.0.1 and a free (or the given) port; ready when its heartbeat answers. `stop()` ends it."""

    def __init__(self, path: Path, wait_s: float = 30.0, port: int = 0) -> None:
        chroma = Path(sys.executable).parent / "chroma"
        if not chroma.exists():
            raise ChromaUnavailable(f"the chroma CLI is not installed ({chroma} is missing)")
        self.port = port  # a port given: the same one again, to restart a server in place
        if not port:
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen([str(chroma), "run", "--path", str(path), "--host", "127.0.0.1",
                                      "--port", str(self.port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + wait_s
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/api/v2/heartbeat", timeout=1):
                    return
            except OSError:
                if self.proc.poll() is not None or time.time() > deadline:
                    code = self.proc.poll()
                    self.stop()
                    raise ChromaUnavailable(f"a Chroma server did not answer its heartbeat at {self.url} within "
                                            f"{wait_s:.0f} s" + (f" (it exited with {code})" if code is not None
                                                                 else "")) from None
                time.sleep(0.2)

    def stop(self) -> None:
        """Terminate the server (kill it if it does not stop within 10 s)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
