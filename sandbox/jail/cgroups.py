"""cgroup v1 memory and pids groups for real containers, nested under the sandbox's own cgroup.

Why cgroups and not RLIMIT_AS alone: with a cgroup the kernel's OOM killer ends a container that goes past its
memory limit with SIGKILL, which the kubelet reports as OOMKilled / 137 exactly as on a node; RLIMIT_AS only
makes an allocation fail. pids.max bounds a fork bomb per container. Where cgroups are not writable, the jail
falls back to rlimits (`available()` says which applies).
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")
CONTROLLERS = ("memory", "pids")


def _own(controller: str) -> Path | None:
    try:
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, names, path = line.split(":", 2)
            if controller in names.split(","):
                return ROOT / controller / path.lstrip("/")
    except OSError:
        return None
    return None


@cache
def available() -> bool:
    """Whether this process may create memory and pids groups below its own."""
    for c in CONTROLLERS:
        own = _own(c)
        if own is None or not own.is_dir():
            return False
        probe = own / f"kubesage-probe-{os.getpid()}"
        try:
            probe.mkdir(exist_ok=True)
            probe.rmdir()
        except OSError:
            return False
    return True


class Group:
    """One container's memory + pids cgroups (removed by `remove`, once no process is left in them)."""

    def __init__(self, name: str, memory_bytes: int, pids_max: int) -> None:
        self.dirs: list[Path] = []
        for c in CONTROLLERS:
            own = _own(c)
            assert own is not None
            d = own / "kubesage" / name
            d.mkdir(parents=True, exist_ok=True)
            self.dirs.append(d)
        mem = self.dirs[0]
        (mem / "memory.limit_in_bytes").write_text(str(memory_bytes))
        try:
            (mem / "memory.memsw.limit_in_bytes").write_text(str(memory_bytes))
        except OSError:
            pass  # no swap accounting: there is no swap to escape into either
        (self.dirs[1] / "pids.max").write_text(str(pids_max))
        self._oom0 = self.oom_kills()

    @property
    def paths(self) -> list[str]:
        return [str(d) for d in self.dirs]

    def oom_kills(self) -> int:
        try:
            for line in (self.dirs[0] / "memory.oom_control").read_text().splitlines():
                if line.startswith("oom_kill "):
                    return int(line.split()[1])
        except OSError:
            return 0
        try:
            return int((self.dirs[0] / "memory.failcnt").read_text())
        except (OSError, ValueError):
            return 0

    def oom_killed_since_start(self) -> bool:
        return self.oom_kills() > self._oom0

    def memory_usage(self) -> int:
        try:
            stat = dict(line.split() for line in (self.dirs[0] / "memory.stat").read_text().splitlines())
            return int(stat.get("total_rss", stat.get("rss", "0"))) + int(stat.get("total_cache", "0")) // 8
        except (OSError, ValueError):
            return 0

    def procs(self) -> list[int]:
        try:
            return [int(p) for p in (self.dirs[1] / "cgroup.procs").read_text().split()]
        except (OSError, ValueError):
            return []

    def remove(self) -> None:
        for d in self.dirs:
            try:
                d.rmdir()
            except OSError:
                pass
