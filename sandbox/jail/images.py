"""Which containers run as real processes: a table of images whose program this machine has.

Why a table and not "whatever resolves": real processes cost a process start and memory, and most images
(nginx, redis, postgres…) have no program here at all; the behaviour model answers those, faster and
deterministically. Only interpreter and shell images run for real, and only when the program the container
would exec is in that image's view on this machine:

| image            | view     | what the view holds                                         | default command |
|------------------|----------|-------------------------------------------------------------|-----------------|
| python           | debian   | the machine's /usr (Debian), python/python3 in /usr/local/bin | python3         |
| debian, ubuntu   | debian   | the machine's /usr                                           | bash            |
| busybox, alpine  | busybox  | busybox-static and its applets in /bin, nothing else         | sh              |

Commands that reach the cluster network from inside (wget, curl, nc, nslookup…) keep the model: a real
process has loopback only, while the model's shell answers through the Services (`NETWORK_TOOLS`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from functools import cache

DEBIAN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
BUSYBOX_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
NETWORK_TOOLS = frozenset({"wget", "curl", "nc", "nslookup", "ping", "telnet", "dig", "host", "kubectl"})


@dataclass(frozen=True)
class View:
    """What a container of this kind sees: `debian` (the machine's /usr) or `busybox` (one static binary)."""

    name: str
    default_cmd: tuple[str, ...]
    path: str
    python_links: bool = False  # /usr/local/bin/python{,3} → the machine's python3 (as python:* images have)


VIEWS = {
    "python": View("debian", ("python3",), DEBIAN_PATH, python_links=True),
    "debian": View("debian", ("bash",), DEBIAN_PATH),
    "ubuntu": View("debian", ("bash",), DEBIAN_PATH),
    "busybox": View("busybox", ("sh",), BUSYBOX_PATH),
    "alpine": View("busybox", ("/bin/sh",), BUSYBOX_PATH),
}


def repository(image: str) -> str:
    """`docker.io/library/python:3.9-slim@sha256:…` → `python`."""
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name = name[: len(name) - len(last) + last.index(":")]
    for prefix in ("docker.io/library/", "docker.io/", "library/"):
        if name.startswith(prefix):
            name = name[len(prefix):]
    return name


@cache
def busybox_binary() -> str | None:
    found = shutil.which("busybox")
    if not found:
        return None
    try:
        done = subprocess.run(["ldd", found], capture_output=True, text=True, timeout=5)
        out = done.stdout + done.stderr
    except (OSError, subprocess.SubprocessError):
        out = ""
    return found if "not a dynamic executable" in out or "statically linked" in out else None


@cache
def busybox_applets() -> frozenset[str]:
    exe = busybox_binary()
    if exe is None:
        return frozenset()
    try:
        return frozenset(subprocess.run([exe, "--list"], capture_output=True, text=True, timeout=5).stdout.split())
    except (OSError, subprocess.SubprocessError):
        return frozenset()


@cache
def system_python() -> str | None:
    """The machine's own python3 under /usr (visible in a debian view; a pyenv or venv python is not)."""
    for cand in ("/usr/bin/python3", "/usr/local/bin/python3"):
        if os.path.isfile(cand) and os.path.realpath(cand).startswith("/usr/"):
            return os.path.realpath(cand)
    return None


def _exists(view: View, prog: str, path: str) -> bool:
    if view.name == "busybox":
        name = prog.rsplit("/", 1)[-1]
        return name in busybox_applets() and (("/" not in prog) or prog.startswith(("/bin/", "/sbin/", "/usr/bin/",
                                                                                   "/usr/sbin/")))
    if view.python_links and prog.rsplit("/", 1)[-1] in ("python", "python3") and system_python():
        return "/" not in prog or prog in ("/usr/local/bin/python", "/usr/local/bin/python3", "/usr/bin/python3")
    if "/" in prog:
        return prog.startswith("/usr/") or prog.startswith(("/bin/", "/sbin/")) and os.access(prog, os.X_OK)
    return any(os.access(os.path.join(d, prog), os.X_OK) for d in path.split(":") if d.startswith("/usr/")
               or d in ("/bin", "/sbin"))


def _mentions_network(argv: list[str]) -> bool:
    words = " ".join(argv).replace(";", " ").replace("|", " ").replace("&", " ").replace("(", " ").split()
    return any(w.rsplit("/", 1)[-1] in NETWORK_TOOLS for w in words)


def real_view(image: str, argv: list[str]) -> View | None:
    """The view to run `argv` in for real, or None: the behaviour model answers this container."""
    view = VIEWS.get(repository(image))
    if view is None or not argv or _mentions_network(argv):
        return None
    if view.name == "busybox" and busybox_binary() is None:
        return None
    return view if _exists(view, argv[0], view.path) else None
