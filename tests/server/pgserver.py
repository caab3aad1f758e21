"""A real Postgres for tests: Debian's server binaries, a fresh cluster in a temporary directory, a free loopback
port and a socket directory of its own; stopped (and started again on the same port) on request.

Why its own user: postgres refuses to run as root, and CI runs as root; the cluster then belongs to `nobody`, and
the server runs as that user (`subprocess.Popen(user=…)`), started directly (no pg_ctl) so the test holds the
server's own pid.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)


def binaries() -> Path | None:
    """The newest Debian Postgres bin directory that has initdb and postgres, or None."""
    for d in BIN_DIRS:
        if (d / "initdb").exists() and (d / "postgres").exists():
            return d
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgServer:
    def __init__(self, bin_dir: Path) -> None:
        self.bin = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="kubesage-pg-"))
        self.data, self.port = self.root / "data", _free_port()
        self.user: str | None = None
        if os.geteuid() == 0:
            self.user = "nobody"
            pw = pwd.getpwnam(self.user)
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = self.root / "postgres.log"
        subprocess.run([str(self.bin / "initdb"), "-D", str(self.data), "-U", "kubesage", "--auth=trust",
                        "-E", "UTF8", "--no-sync", "--no-instructions"], check=True, capture_output=True,
                       timeout=120, **self._as_user())

    @property
    def url(self) -> str:
        return f"postgresql://kubesage@127.0.0.1:{self.port}/postgres"

    def _as_user(self) -> dict[str, object]:
        return {"user": self.user, "group": "nogroup", "extra_groups": []} if self.user else {}

    def start(self, timeout: float = 30.0) -> PgServer:
        log = open(self.log, "ab")  # noqa: SIM115 - handed to the server process
        self.proc = subprocess.Popen([str(self.bin / "postgres"), "-D", str(self.data), "-p", str(self.port),
                                      "-k", str(self.root), "-c", "listen_addresses=127.0.0.1",
                                      "-c", "fsync=off", "-c", "synchronous_commit=off",
                                      "-c", "full_page_writes=off", "-c", "max_connections=300"],
                                     stdout=log, stderr=log, **self._as_user())
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"postgres exited {self.proc.returncode}: {self.log.read_text()[-2000:]}")
            if subprocess.run([str(self.bin / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)],
                              capture_output=True).returncode == 0:
                return self
            time.sleep(0.1)
        raise RuntimeError(f"postgres did not become ready in {timeout} s: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        """Fast shutdown (SIGINT): open sessions are ended, as when a database goes away under its clients."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
