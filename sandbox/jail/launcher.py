"""Starts one jailed process for the sandbox kubelet; standard library only, run as `python3 -I -S launcher.py SPEC`.

Why a separate launcher and not preexec_fn: namespaces, mounts, chroot and the uid change must happen between
fork and exec in a process that holds no locks and no threads; a small script that ends in exec is the simplest
such process. The layers, each the kernel's (nothing here trusts the contained program):

  1. cgroups (v1 memory + pids, when the sandbox made them): the memory limit is the kernel's, so exceeding it is
     an OOM kill (SIGKILL, exit 137); pids.max stops fork bombs;
  2. namespaces: network (the pod's, shared by its containers through a pause process: loopback only), IPC, UTS
     (hostname = pod name), mount (private: the view's mounts vanish with it) and PID (the program is PID 1; when
     it ends the kernel kills everything it left behind);
  3. a root filesystem view (chroot into a directory the sandbox prepared: read-only, nosuid binds of the
     system's programs, the pod's volumes at their mount paths, a fresh /proc of its own PID namespace);
  4. a non-root uid per pod with no supplementary groups, no_new_privs (setuid binaries give nothing), rlimits;
  5. PR_SET_PDEATHSIG at every level: the launcher dies with the sandbox's controller thread, the program with
     the launcher, and the PID namespace with the program.

Modes (SPEC is one JSON object): "pause" holds a pod's network namespace (loopback up) until killed; "run"
starts a container's program; "exec" runs a program inside a running container's namespaces and view.
The launcher reports on the pipe `report_fd` names: `pid N` (the program's host pid), or `error TEXT` before exec.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import sys

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 1, 38
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1
RLIMITS = {"nofile": "RLIMIT_NOFILE", "nproc": "RLIMIT_NPROC", "fsize": "RLIMIT_FSIZE", "as": "RLIMIT_AS",
           "core": "RLIMIT_CORE", "cpu": "RLIMIT_CPU"}

libc = ctypes.CDLL(None, use_errno=True)


def _check(rc: int, what: str) -> None:
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


REPORT_FD = [-1]


def report(msg: str) -> None:
    try:
        os.write(REPORT_FD[0], (msg + "\n").encode())
    except OSError:
        pass


def die_with_parent() -> None:
    _check(libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl(PDEATHSIG)")


def mount(src: str | None, dst: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    def enc(s: str | None) -> bytes | None:
        return s.encode() if s is not None else None

    _check(libc.mount(enc(src), enc(dst), enc(fstype), ctypes.c_ulong(flags), enc(data)), f"mount {dst}")


def bind(src: str, dst: str, mode: str) -> None:
    """A bind mount, remounted nosuid (and nodev unless it is a device, read-only for "ro"): the kernel ignores
    those flags on the first call."""
    mount(src, dst, None, MS_BIND | MS_REC)
    flags = MS_BIND | MS_REMOUNT | MS_NOSUID | (0 if mode == "dev" else MS_NODEV) | (MS_RDONLY if mode == "ro" else 0)
    mount(None, dst, None, flags)


def join_cgroups(dirs: list[str]) -> None:
    for d in dirs:
        with open(os.path.join(d, "cgroup.procs"), "w") as f:
            f.write(str(os.getpid()))


def loopback_up() -> None:
    import fcntl
    import socket
    import struct

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        raw = fcntl.ioctl(s, SIOCGIFFLAGS, struct.pack("16sH14x", b"lo", 0))
        flags = struct.unpack("16sH14x", raw)[1]
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", flags | IFF_UP))


def setns(pid: int, kinds: list[tuple[str, int]]) -> None:
    fds = [(os.open(f"/proc/{pid}/ns/{name}", os.O_RDONLY), flag, name) for name, flag in kinds]
    for fd, flag, name in fds:  # opened first: entering the mount namespace changes what /proc/{pid} means
        try:
            _check(libc.setns(fd, flag), f"setns {name}")
        finally:
            os.close(fd)


def become(spec: dict) -> None:
    """The last steps before exec, in the program's own process: limits, identity, view, working dir."""
    import resource

    join_cgroups(spec.get("cgroups") or [])
    os.chroot(spec["root"])
    try:
        os.chdir(spec.get("cwd") or "/")
    except OSError:
        os.chdir("/")
    for name, value in (spec.get("rlimits") or {}).items():
        which = getattr(resource, RLIMITS[name])
        resource.setrlimit(which, (int(value), int(value)))
    os.setgroups([])
    os.setgid(int(spec["gid"]))
    parent = os.getppid()
    os.setuid(int(spec["uid"]))
    die_with_parent()  # the kernel clears the parent-death signal when credentials change: set it again
    if os.getppid() != parent:  # the launcher died in between: nobody would reap or kill us
        os._exit(137)
    _check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(NO_NEW_PRIVS)")
    os.umask(0o022)


def exec_program(spec: dict) -> None:
    env = {str(k): str(v) for k, v in (spec.get("env") or {}).items()}
    argv = [str(a) for a in spec["argv"]]
    path = env.get("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
    prog = argv[0]
    candidates = [prog] if "/" in prog else [os.path.join(d, prog) for d in path.split(":") if d]
    for cand in candidates:
        if os.path.isfile(cand) and os.access(cand, os.X_OK):
            report("exec")
            os.execve(cand, argv, env)
    msg = (f'exec: "{prog}": executable file not found in $PATH' if "/" not in prog
           else f"exec: \"{prog}\": stat {prog}: no such file or directory")
    report("error " + msg)
    os._exit(127)


def wait_and_exit(child: int) -> None:
    """Forward termination to the program and leave with its status (128 + signal when it was killed)."""
    def forward(signum: int, _frame: object) -> None:
        try:
            os.kill(child, signal.SIGKILL if signum == signal.SIGKILL else signum)
        except ProcessLookupError:
            pass

    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, forward)
    while True:
        try:
            _, status = os.waitpid(child, 0)
            break
        except InterruptedError:
            continue
    code = os.waitstatus_to_exitcode(status)
    os._exit(128 - code if code < 0 else code)


def fork_program(spec: dict, setup: object = None) -> None:
    """Fork the program's process (PID 1 of a new PID namespace, or a member of the joined one): `setup` in it,
    then its limits and identity, then exec; this process stays to report its pid and pass on its status."""
    child = os.fork()
    if child == 0:
        try:
            die_with_parent()
            if callable(setup):
                setup()
            become(spec)
        except OSError as e:
            report(f"error {e}")
            os._exit(128)
        exec_program(spec)
    report(f"pid {child}")
    wait_and_exit(child)


def run(spec: dict) -> None:
    setns(int(spec["netns_pid"]), [("net", CLONE_NEWNET), ("ipc", CLONE_NEWIPC), ("uts", CLONE_NEWUTS)])
    _check(libc.unshare(CLONE_NEWNS | CLONE_NEWPID), "unshare")
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    root = spec["root"]
    for src, dst, mode in spec.get("binds") or []:
        bind(src, root + dst, mode)
    mount("tmpfs", root + "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=16m,mode=1777")
    fork_program(spec, lambda: mount("proc", root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC))


def exec_in(spec: dict) -> None:
    setns(int(spec["join_pid"]), [("net", CLONE_NEWNET), ("ipc", CLONE_NEWIPC), ("uts", CLONE_NEWUTS),
                                  ("pid", CLONE_NEWPID), ("mnt", CLONE_NEWNS)])
    fork_program(spec)


def pause(spec: dict) -> None:
    _check(libc.unshare(CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS), "unshare")
    libc.sethostname(spec["hostname"].encode(), len(spec["hostname"].encode()))
    loopback_up()
    report("ready")
    while True:
        signal.pause()


MODES = {"pause": pause, "run": run, "exec": exec_in}


def main() -> None:
    spec = json.loads(sys.argv[1])
    REPORT_FD[0] = int(spec.get("report_fd", -1))
    if REPORT_FD[0] >= 0:
        os.set_inheritable(REPORT_FD[0], False)  # the program never gets the pipe: it cannot forge reports
    try:
        die_with_parent()
        MODES[spec["mode"]](spec)
    except OSError as e:
        report(f"error {e}")
        os._exit(128)


if __name__ == "__main__":
    main()
