"""Real processes behind sandbox pods: one jail per pod (a pause process holding its network namespace, a
directory with its volumes, a uid of its own) and one jailed process per container start.

`RealRun` answers the same questions the kubelet asks the behaviour model's `Run` (exit, logs_between, http,
tcp_open, probe, usage), from the process itself: its stdout/stderr lines stamped with the sandbox clock, its
exit status (137 with the cgroup's OOM count → OOMKilled), what its ports answer. The kubelet keeps the
cluster's rules (restarts, back-off, probes' periods and thresholds, events, status).

No orphans: launchers die with the thread that started them (PR_SET_PDEATHSIG), programs with their launcher,
and a PID namespace with its first process; `Jail.close()` kills whatever is left when the sandbox stops.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox.jail import cgroups, netns, rootfs
from sandbox.jail.images import View, system_python
from sandbox.jail.volumes import FieldRef, Lookup, materialize

LAUNCHER = Path(__file__).with_name("launcher.py")
UID_BASE = 200_000
UID_COUNT = 60_000
DEFAULT_MEMORY = 512 << 20  # a container without a memory limit still cannot take the machine
PIDS_MAX = 64
MAX_LINES = 10_000
FSIZE = 256 << 20
NOFILE = 1024
Clock = Callable[[], float]


def _python() -> str:
    """The interpreter that runs the launcher: the machine's own, with no site-packages (-I -S)."""
    return system_python() or sys.executable


@dataclass(frozen=True)
class Line:
    t: float
    text: str
    stream: str = "stdout"


@dataclass
class ExecOutcome:
    stdout: str
    stderr: str
    exit_code: int
    error: str | None = None
    duration_s: float = 0.0
    timed_out: bool = False


class Reports:
    """What the launcher says on its report pipe: the program's host pid, or why it could not start."""

    def __init__(self, fd: int) -> None:
        self.pid: int | None = None
        self.error: str = ""
        self.execed = False
        self._ready = threading.Event()
        threading.Thread(target=self._read, args=(fd,), daemon=True, name="sandbox-jail-report").start()

    def _read(self, fd: int) -> None:
        with os.fdopen(fd, "r", errors="replace") as f:
            for line in f:
                word, _, rest = line.strip().partition(" ")
                if word == "pid":
                    self.pid = int(rest)
                elif word == "error":
                    self.error = rest
                elif word in ("exec", "ready"):
                    self.execed = True
                if word in ("exec", "error", "ready"):
                    self._ready.set()
        self._ready.set()

    def wait(self, timeout: float) -> bool:
        return self._ready.wait(timeout)


class RealRun:
    """One start of one container as a real process (the behaviour model's `Run`, answered by the process)."""

    real = True
    serve: tuple[str, ...] = ()
    horizon = float("inf")

    def __init__(self, pod: PodJail, name: str, argv: list[str], env: dict[str, str], cwd: str, root: rootfs.Root,
                 memory: int | None, clock: Clock, on_exit: Callable[[], None]) -> None:
        self.pod, self.name, self.argv, self.env, self.cwd = pod, name, argv, env, cwd
        self.root = root
        self.clock = clock
        self.started = clock()
        self.lines: list[Line] = []
        self._lock = threading.Lock()
        self._exit: tuple[float, int, str] | None = None
        self.termination_message = ""
        self.group = cgroups.Group(f"{pod.uid_str}-{name}-{int(time.time() * 1000) % 10**9}",
                                   memory or DEFAULT_MEMORY, PIDS_MAX) if cgroups.available() else None
        self.memory_limit = memory or DEFAULT_MEMORY
        spec = {"mode": "run", "netns_pid": pod.pause_pid, "root": str(root.path), "binds": root.binds,
                "cgroups": self.group.paths if self.group else [], "uid": pod.user, "gid": pod.user,
                "argv": argv, "env": env, "cwd": cwd, "rlimits": self._rlimits()}
        self.proc, fd = _spawn_fd3(spec)
        self.reports = Reports(fd)
        self._cpu_sample: tuple[float, float] | None = None
        self._readers = [threading.Thread(target=self._read, args=(self.proc.stdout, "stdout"), daemon=True),
                         threading.Thread(target=self._read, args=(self.proc.stderr, "stderr"), daemon=True)]
        for t in self._readers:
            t.start()
        threading.Thread(target=self._wait, args=(on_exit,), daemon=True, name="sandbox-jail-wait").start()

    def _rlimits(self) -> dict[str, int]:
        limits = {"nofile": NOFILE, "core": 0, "fsize": FSIZE}
        if self.group is None:  # no cgroups here: the address space and the uid's processes are bounded instead
            limits.update({"as": self.memory_limit + (64 << 20), "nproc": PIDS_MAX})
        return limits

    # -- the process ---------------------------------------------------------------------------------------
    def _read(self, stream: Any, name: str) -> None:
        for raw in iter(stream.readline, b""):
            text = raw.decode("utf-8", "replace").rstrip("\n")
            with self._lock:
                self.lines.append(Line(self.clock() - self.started, text, name))
                if len(self.lines) > MAX_LINES:
                    del self.lines[: len(self.lines) - MAX_LINES]
        stream.close()

    def _wait(self, on_exit: Callable[[], None]) -> None:
        code = self.proc.wait()
        for t in self._readers:
            t.join(timeout=2)
        self.reports.wait(1)
        at = self.clock() - self.started
        if self.reports.error and not self.reports.execed:
            self.termination_message = (f"failed to create containerd task: failed to create shim task: OCI runtime "
                                        f"create failed: runc create failed: unable to start container process: "
                                        f"{self.reports.error}: unknown")
            self._exit = (at, 128, "StartError")
        elif code == 137 and self.group is not None and self.group.oom_killed_since_start():
            self._exit = (at, 137, "OOMKilled")
        else:
            self._exit = (at, code, "Completed" if code == 0 else "Error")
        self.pod.forget(self)
        try:
            on_exit()
        except Exception:  # noqa: BLE001 - a wake-up that fails only delays the kubelet's next look
            pass

    @property
    def exit(self) -> tuple[float, int, str] | None:
        return self._exit

    @property
    def started_ok(self) -> bool:
        return not self.reports.error

    def kill(self, grace_s: float = 0.0) -> None:
        """SIGTERM to the program (PID 1 ignores it unless it handles it, as in any container), then SIGKILL."""
        if self.proc.poll() is not None:
            return
        try:
            self.proc.send_signal(signal.SIGTERM)
        except ProcessLookupError:
            return

        def later() -> None:
            try:
                self.proc.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                self._kill_all()

        if grace_s <= 0:
            self._kill_all()
        else:
            threading.Thread(target=later, daemon=True, name="sandbox-jail-kill").start()

    def _kill_all(self) -> None:
        for pid in ([self.reports.pid] if self.reports.pid else []) + [self.proc.pid]:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    # -- what the kubelet asks -----------------------------------------------------------------------------
    def alive(self, t: float | None = None) -> bool:
        return self._exit is None and self.reports.pid is not None

    def logs_between(self, t0: float, t1: float) -> list[Line]:
        with self._lock:
            return [ln for ln in self.lines if t0 <= ln.t <= t1 + 1e-6 or (self._exit is not None and ln.t >= t0)]

    def http(self, port: int, path: str = "/", t: float | None = None) -> tuple[int, str] | None:
        if not self.alive():
            return None
        try:
            status, _, body = netns.http_request(self.pod.pause_pid, port, "GET", path, timeout=2.0)
        except OSError:
            return None
        return status, body.decode("utf-8", "replace")

    def tcp_open(self, port: int, t: float | None = None) -> bool:
        if not self.alive():
            return False
        try:
            netns.connect(self.pod.pause_pid, port, 1.0).close()
            return True
        except OSError:
            return False

    def probe(self, kind: str, port: int, path: str = "/", t: float | None = None, host: str = "10.244.0.2",
              scheme: str = "http") -> tuple[bool, str]:
        if kind == "tcp":
            return (True, "") if self.tcp_open(port) else (False, f"dial tcp {host}:{port}: connect: connection refused")
        url = f"{scheme}://{host}:{port}{path}"
        try:
            status, _, _ = netns.http_request(self.pod.pause_pid, port, "GET", path, timeout=2.0)
        except ConnectionRefusedError:
            return False, f'Get "{url}": dial tcp {host}:{port}: connect: connection refused'
        except OSError as e:
            return False, f'Get "{url}": {e}'
        return (True, "") if 200 <= status < 400 else (False, f"HTTP probe failed with statuscode: {status}")

    def usage(self, t: float) -> tuple[int, int]:
        """(CPU millicores since the last look, memory bytes) of the running program, from the kernel."""
        if not self.alive():
            return (0, 0)
        mem = self.group.memory_usage() if self.group else 0
        cpu = 0
        try:
            fields = Path(f"/proc/{self.reports.pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            now = time.monotonic()
            if self._cpu_sample is not None and now > self._cpu_sample[0]:
                cpu = int(1000 * (ticks - self._cpu_sample[1]) / (now - self._cpu_sample[0]))
            self._cpu_sample = (now, ticks)
            if not mem:
                mem = int(Path(f"/proc/{self.reports.pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            pass
        return max(cpu, 0), mem

    def termination_message_for(self, policy: str = "File") -> str:
        if self.termination_message or policy != "FallbackToLogsOnError" or not self._exit or self._exit[1] == 0:
            return self.termination_message
        return "\n".join(ln.text for ln in self.lines[-80:])[-2048:]

    def exec(self, argv: list[str], timeout_s: float = 60.0, stdin: str = "") -> ExecOutcome:
        """`kubectl exec` / an exec probe: `argv` inside this container's namespaces, view, cgroups and uid."""
        if not self.alive():
            return ExecOutcome("", "", 126, error="container is not running")
        spec = {"mode": "exec", "join_pid": self.reports.pid, "root": str(self.root.path),
                "cgroups": self.group.paths if self.group else [], "uid": self.pod.user, "gid": self.pod.user,
                "argv": argv, "env": self.env, "cwd": self.cwd, "rlimits": self._rlimits()}
        t0 = time.monotonic()
        proc, fd = _spawn_fd3(spec, stdin=subprocess.PIPE)
        reports = Reports(fd)
        try:
            out, err = proc.communicate(stdin.encode(), timeout=timeout_s)
        except subprocess.TimeoutExpired:
            for pid in ([reports.pid] if reports.pid else []) + [proc.pid]:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            out, err = proc.communicate()
            return ExecOutcome(out.decode(errors="replace"), err.decode(errors="replace"), -1,
                               duration_s=time.monotonic() - t0, timed_out=True)
        reports.wait(1)
        if reports.error and not reports.execed:
            return ExecOutcome("", "", 127, error=f"failed to exec in container: failed to start exec: OCI runtime "
                                                   f"exec failed: exec failed: unable to start container process: "
                                                   f"{reports.error}: unknown")
        return ExecOutcome(out.decode(errors="replace"), err.decode(errors="replace"), proc.returncode,
                           duration_s=time.monotonic() - t0)

    def cleanup(self) -> None:
        if self.group is not None:
            self.group.remove()


def _spawn_fd3(spec: dict[str, Any], stdin: int | None = subprocess.DEVNULL) -> tuple[subprocess.Popen, int]:
    """Start the launcher; returns it and the read end of its report pipe (the spec names the write end)."""
    import json

    r, w = os.pipe()
    proc = subprocess.Popen([_python(), "-I", "-S", "-B", str(LAUNCHER), json.dumps({**spec, "report_fd": w})],
                            stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={"LC_ALL": "C.UTF-8"},
                            pass_fds=(w,), start_new_session=True)
    os.close(w)
    return proc, r


class PodJail:
    """One pod's jail: its pause process (network, IPC and UTS namespaces), directory, volumes and uid."""

    def __init__(self, jail: Jail, uid: str, name: str, namespace: str, ip: str, user: int) -> None:
        self.jail, self.uid_str, self.name, self.namespace, self.ip, self.user = jail, uid, name, namespace, ip, user
        self.dir = jail.base / "pods" / uid
        self.dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.dir, 0o711)
        self.volumes: dict[str, tuple[Path, bool]] | None = None
        self.runs: list[RealRun] = []
        self._lock = threading.Lock()
        self.pause, fd = _spawn_fd3({"mode": "pause", "hostname": name[:63]})
        self.pause_reports = Reports(fd)
        if not self.pause_reports.wait(5) or self.pause_reports.error or not self.pause_reports.execed:
            self.pause.kill()
            raise OSError(self.pause_reports.error or "the pod's network namespace did not come up")
        self.pause_pid = self.pause.pid

    def prepare_volumes(self, pod: dict[str, Any], lookup: Lookup, field_ref: FieldRef) -> None:
        if self.volumes is None:
            claims = self.jail.base / "claims" / self.namespace
            self.volumes = materialize(pod, self.dir, claims, self.user, lookup, field_ref)

    def start(self, c: dict[str, Any], view: View, argv: list[str], env: dict[str, str], memory: int | None,
              clock: Clock, on_exit: Callable[[], None]) -> RealRun:
        cdir = self.dir / "containers" / c["name"]
        cdir.mkdir(parents=True, exist_ok=True)
        root = rootfs.build(cdir, view, c, self.volumes or {}, self.user, self.name, self.ip, self.namespace)
        full_env = {"PATH": view.path, "HOME": "/root" if view.name == "busybox" else "/tmp", **env}
        run = RealRun(self, c["name"], argv, full_env, c.get("workingDir") or "/", root, memory, clock, on_exit)
        with self._lock:
            self.runs.append(run)
        return run

    def forget(self, run: RealRun) -> None:
        with self._lock:
            if run in self.runs:
                self.runs.remove(run)
        run.cleanup()

    def close(self, grace_s: float = 0.0) -> None:
        with self._lock:
            runs = list(self.runs)
        for r in runs:
            r.kill(grace_s)
        try:
            self.pause.kill()
            self.pause.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            pass

        def remove_later() -> None:
            for r in runs:
                try:
                    r.proc.wait(timeout=grace_s + 5)
                except subprocess.TimeoutExpired:
                    r._kill_all()
            shutil.rmtree(self.dir, ignore_errors=True)

        threading.Thread(target=remove_later, daemon=True, name="sandbox-jail-rm").start()


def claim_uid() -> int:
    """A uid no other pod on this machine holds (several sandboxes may run at once): claimed by creating
    /tmp/kubesage-uids/<uid> holding our pid; a claim whose process is gone is taken over."""
    d = Path(tempfile.gettempdir()) / "kubesage-uids"
    d.mkdir(exist_ok=True)
    busy = _uids_in_use()
    for n in range(UID_COUNT):
        uid = UID_BASE + n
        if uid in busy:  # a process still runs as it (however it got there): never share a uid
            continue
        f = d / str(uid)
        try:
            fd = os.open(f, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            try:
                owner = int(f.read_text() or 0)
                os.kill(owner, 0)
                continue
            except (ValueError, ProcessLookupError, FileNotFoundError):
                f.unlink(missing_ok=True)  # its sandbox is gone (and its processes with it)
                try:
                    fd = os.open(f, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
                except FileExistsError:
                    continue
            except PermissionError:
                continue
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        return uid
    raise OSError("no free pod uid left")


def _uids_in_use() -> set[int]:
    out = set()
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                out.add(p.stat().st_uid)
            except OSError:
                pass
    return out


def release_uid(uid: int) -> None:
    (Path(tempfile.gettempdir()) / "kubesage-uids" / str(uid)).unlink(missing_ok=True)


@dataclass
class Jail:
    """Every real container of one sandbox: pods by uid, the directory they live in, whether jails work here."""

    base: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="kubesage-pods-")))
    pods: dict[str, PodJail] = field(default_factory=dict)

    def __post_init__(self) -> None:
        os.chmod(self.base, 0o711)

    def pod(self, uid: str, name: str, namespace: str, ip: str) -> PodJail:
        if uid not in self.pods:
            self.pods[uid] = PodJail(self, uid, name, namespace, ip, claim_uid())
        return self.pods[uid]

    def stop_pod(self, uid: str, grace_s: float = 0.0) -> None:
        pod = self.pods.pop(uid, None)
        if pod is not None:
            pod.close(grace_s)
            release_uid(pod.user)

    def close(self) -> None:
        for uid in list(self.pods):
            self.stop_pod(uid)
        shutil.rmtree(self.base, ignore_errors=True)
