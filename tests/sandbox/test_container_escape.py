"""The escape suite for real containers (sandbox/jail/), in the style of the toolsmith's: hostile and careless
programs, each of which must be blocked by the jail itself (namespaces, the chroot view, cgroups, the pod's uid,
no_new_privs, rlimits), and processes that must not outlive their pod or the sandbox.

Each case runs a real program in a pod jail and says what it must print (the kernel's refusal, as the program
sees it) and how it must end.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from sandbox.jail.images import VIEWS, busybox_binary, system_python
from sandbox.jail.runtime import Jail, PodJail, RealRun

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not system_python() or not busybox_binary(),
                                reason="real containers need root (namespaces, cgroups), python3 and busybox-static")

HOST_SECRET = Path(__file__).resolve().parents[2] / "pyproject.toml"  # a file of the machine, outside every view


@dataclass(frozen=True)
class Case:
    id: str
    image: str  # python | busybox
    program: str  # python source, or a sh -c script
    says: str  # must appear in the program's output
    exit_code: int | None = None  # when set, how it must end
    memory: int | None = None


def py(src: str) -> str:
    return textwrap.dedent(src).strip()


CASES = [
    # -- files outside the view ---------------------------------------------------------------------------------
    Case("read_host_file", "python", py(f"""
        try:
            open({str(HOST_SECRET)!r}).read(); print('READ')
        except OSError as e:
            print('blocked', type(e).__name__)"""), "blocked FileNotFoundError"),
    Case("list_root_home", "busybox", "ls -A /root /home 2>&1; echo done", "No such file or directory"),
    Case("host_proc_invisible", "python", py("""
        import os
        pids = [p for p in os.listdir('/proc') if p.isdigit()]
        print('pids', len(pids) <= 3, open('/proc/1/cmdline').read().split('\\0')[0])"""), "pids True python3"),
    Case("write_system_dirs", "busybox", "touch /etc/owned /bin/owned 2>&1; echo done",
         "touch: /etc/owned: Permission denied"),
    Case("usr_read_only", "python", py("""
        try:
            open('/usr/owned', 'w')
        except OSError as e:
            print('blocked', e.strerror)"""), "blocked Read-only file system"),
    # -- privileges ---------------------------------------------------------------------------------------------
    Case("setuid_root", "python", py("""
        import os
        try:
            os.setuid(0)
        except PermissionError as e:
            print('blocked', e.strerror, os.getuid())"""), "blocked Operation not permitted 2"),
    Case("mount_tmpfs", "busybox", "mount -t tmpfs none /tmp 2>&1; echo done",
         "mount: permission denied (are you root?)"),
    Case("chroot_escape", "python", py("""
        import os
        try:
            os.chroot('/tmp')
        except PermissionError as e:
            print('blocked', e.strerror)"""), "blocked Operation not permitted"),
    Case("kill_the_sandbox", "python", py(f"""
        import os
        try:
            os.kill({os.getpid()}, 9)
        except ProcessLookupError as e:
            print('blocked', e.strerror)"""), "blocked No such process"),
    # -- network ------------------------------------------------------------------------------------------------
    Case("connect_outside", "python", py("""
        import socket
        for host in ('10.255.255.1', '1.1.1.1', '169.254.169.254'):
            try:
                socket.create_connection((host, 443), timeout=2)
                print('CONNECTED', host)
            except OSError as e:
                print('blocked', host, e.strerror)"""), "blocked 169.254.169.254 Network is unreachable"),
    Case("dns_outside", "python", py("""
        import socket
        try:
            socket.getaddrinfo('example.com', 80)
            print('RESOLVED')
        except OSError as e:
            print('blocked', type(e).__name__)"""), "blocked gaierror"),
    # -- resources ----------------------------------------------------------------------------------------------
    Case("allocate_2gb", "python", "x = bytearray(2 * 1024 ** 3); print('ALLOCATED')", "", exit_code=137),
    Case("allocate_past_limit", "python", "x = bytearray(100 * 1024 ** 2); print('ALLOCATED')", "", exit_code=137,
         memory=48 << 20),
    Case("fork_bomb", "python", py("""
        import os, time
        n = 0
        try:
            while True:
                if os.fork() == 0:
                    time.sleep(30); os._exit(0)
                n += 1
        except OSError as e:
            print('blocked after', n < 100, e.strerror)"""), "blocked after True Resource temporarily unavailable"),
    Case("huge_file", "busybox", "head -c 300000000 /dev/zero > /tmp/big 2>&1; echo rc=$?", "rc=1"),
]


@pytest.fixture(scope="module")
def jail() -> Jail:
    j = Jail()
    yield j
    j.close()


def run_case(pj: PodJail, case: Case) -> RealRun:
    view = VIEWS[case.image]
    argv = ["python3", "-c", case.program] if case.image == "python" else ["sh", "-c", case.program]
    return pj.start({"name": case.id.replace("_", "-")}, view, argv, {}, case.memory, time.time, lambda: None)


def finished(run: RealRun, timeout: float = 20) -> tuple[int, str, str]:
    deadline = time.monotonic() + timeout
    while run.exit is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert run.exit is not None, "the program did not end"
    return run.exit[1], run.exit[2], "\n".join(ln.text for ln in run.lines)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_blocked(jail: Jail, case: Case) -> None:
    pj = jail.pod(f"escape-{case.id}", "escape", "default", "10.244.9.9")
    code, reason, out = finished(run_case(pj, case))
    assert case.says in out, out
    assert "CONNECTED" not in out and "READ" not in out and "ALLOCATED" not in out and "RESOLVED" not in out
    if case.exit_code is not None:
        assert (code, reason) == (case.exit_code, "OOMKilled")


def test_connect_to_the_hosts_loopback_is_refused(jail: Jail) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        case = Case("host_loopback", "python", py(f"""
            import socket
            try:
                socket.create_connection(('127.0.0.1', {port}), timeout=2); print('CONNECTED')
            except OSError as e:
                print('blocked', e.strerror)"""), "blocked Connection refused")
        _, _, out = finished(run_case(jail.pod("escape-loopback", "escape", "default", "10.244.9.9"), case))
    assert case.says in out


def _processes_of(uid: int) -> list[int]:
    out = []
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                if p.stat().st_uid == uid:
                    out.append(int(p.name))
            except OSError:
                pass
    return out


def _gone(uid: int, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _processes_of(uid):
            return True
        time.sleep(0.1)
    return False


def test_nothing_survives_the_pod(jail: Jail) -> None:
    pj = jail.pod("escape-leftover", "leftover", "default", "10.244.9.9")
    script = "sleep 1000 & setsid sleep 1000 & (trap '' TERM HUP; nohup sleep 1000 &) ; sleep 1000"
    pj.start({"name": "main"}, VIEWS["busybox"], ["sh", "-c", script], {}, None, time.time, lambda: None)
    deadline = time.monotonic() + 10
    while len(_processes_of(pj.user)) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(_processes_of(pj.user)) >= 3
    jail.stop_pod("escape-leftover")
    assert _gone(pj.user), _processes_of(pj.user)


DIES_WITH_SANDBOX = """
import sys, time
sys.path.insert(0, {root!r})
from sandbox.jail.images import VIEWS
from sandbox.jail.runtime import Jail
pj = Jail().pod("orphan", "orphan", "default", "10.244.9.9")
pj.start({{"name": "main"}}, VIEWS["busybox"], ["sh", "-c", "sleep 1000 & sleep 1000"], {{}}, None, time.time,
         lambda: None)
print(pj.user, flush=True)
time.sleep(1000)
"""


def test_nothing_survives_the_sandbox() -> None:
    root = str(Path(__file__).resolve().parents[2])
    proc = subprocess.Popen([sys.executable, "-c", DIES_WITH_SANDBOX.format(root=root)], stdout=subprocess.PIPE,
                            text=True)
    uid = int(proc.stdout.readline())
    deadline = time.monotonic() + 10
    while len(_processes_of(uid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(_processes_of(uid)) >= 2
    proc.kill()  # the sandbox dies without closing anything
    proc.wait()
    assert _gone(uid), _processes_of(uid)
