"""A container's root filesystem view: a directory the launcher chroots into, and the binds that fill it.

Why a prepared directory of mount points instead of the machine's `/`: the process must see the programs it
runs and its pod's volumes, and nothing else of the machine (no /root, /home, /work, /proc of the host, no
sandbox state). The directory itself is root-owned and read-only to the container's uid; what it may write is
/tmp (a per-container directory), /dev/shm (a small tmpfs) and its writable volumes.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox.jail.images import View, busybox_applets, busybox_binary, system_python

DEVICES = ("null", "zero", "full", "random", "urandom")
ETC_COPIES = ("ld.so.cache", "nsswitch.conf", "localtime")


@dataclass
class Root:
    path: Path
    binds: list[tuple[str, str, str]] = field(default_factory=list)  # (host source, path in the view, ro|rw|dev)


def _mkdirs(root: Path, *rels: str) -> None:
    for rel in rels:
        (root / rel.lstrip("/")).mkdir(parents=True, exist_ok=True)


def _etc(root: Path, uid: int, hostname: str, pod_ip: str, namespace: str) -> None:
    etc = root / "etc"
    etc.mkdir(exist_ok=True)
    (etc / "passwd").write_text(f"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:"
                                f"/usr/sbin/nologin\napp:x:{uid}:{uid}:app:/tmp:/bin/sh\n")
    (etc / "group").write_text(f"root:x:0:\nnogroup:x:65534:\napp:x:{uid}:\n")
    (etc / "hostname").write_text(hostname + "\n")
    (etc / "hosts").write_text(f"127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
                               f"{pod_ip}\t{hostname}\n")
    (etc / "resolv.conf").write_text(f"search {namespace}.svc.cluster.local svc.cluster.local cluster.local\n"
                                     "nameserver 10.96.0.10\noptions ndots:5\n")
    for name in ETC_COPIES:
        src = Path("/etc") / name
        if src.is_file():
            shutil.copyfile(src, etc / name)


def _debian(root: Path, view: View) -> list[tuple[str, str, str]]:
    for link, target in (("bin", "usr/bin"), ("sbin", "usr/sbin"), ("lib", "usr/lib"), ("lib64", "usr/lib64")):
        if not (root / link).is_symlink():
            os.symlink(target, root / link)
    _mkdirs(root, "usr")
    binds = [("/usr", "/usr", "ro")]
    py = system_python()
    if view.python_links and py:
        local = root.parent / "usr-local-bin"
        local.mkdir(exist_ok=True)
        for name in ("python", "python3"):
            if not (local / name).is_symlink():
                os.symlink(py, local / name)
        binds.append((str(local), "/usr/local/bin", "ro"))
    return binds


def _busybox(root: Path) -> list[tuple[str, str, str]]:
    _mkdirs(root, "bin", "sbin", "usr/bin", "usr/sbin")
    (root / "bin" / "busybox").touch()
    for applet in busybox_applets():
        link = root / "bin" / applet
        if applet != "busybox" and not link.is_symlink():
            os.symlink("/bin/busybox", link)
    return [(str(busybox_binary()), "/bin/busybox", "ro")]


def _mount_point(root: Path, path: str, is_dir: bool) -> bool:
    """Create the mount point for `path` in the view; False when it would lie under a system bind (/usr)."""
    rel = path.strip("/")
    if not rel or rel.split("/")[0] in ("usr", "proc", "dev", "bin", "sbin", "lib", "lib64"):
        return False
    p = root / rel
    if is_dir:
        p.mkdir(parents=True, exist_ok=True)
    else:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.touch(exist_ok=True)
    return True


def build(container_dir: Path, view: View, c: dict[str, Any], volumes: dict[str, tuple[Path, bool]], uid: int,
          hostname: str, pod_ip: str, namespace: str) -> Root:
    """The view for container spec `c`, its volumes bound at their mountPaths (subPath as Kubernetes does)."""
    root = container_dir / "root"
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    os.chmod(root, 0o755)
    _mkdirs(root, "proc", "dev/shm", "tmp", "root", "var/tmp")
    _etc(root, uid, hostname, pod_ip, namespace)
    binds = _debian(root, view) if view.name == "debian" else _busybox(root)
    tmp = container_dir / "tmp"
    tmp.mkdir(exist_ok=True)
    os.chmod(tmp, 0o1777)
    binds.append((str(tmp), "/tmp", "rw"))
    for dev in DEVICES:
        (root / "dev" / dev).touch()
        binds.append((f"/dev/{dev}", f"/dev/{dev}", "dev"))
    for m in c.get("volumeMounts") or []:
        vol = volumes.get(m.get("name", ""))
        if vol is None:
            continue
        host, readonly = vol
        src = host / m["subPath"] if m.get("subPath") else host
        if m.get("subPath") and not src.exists():
            src.mkdir(parents=True, exist_ok=True)
        if _mount_point(root, m.get("mountPath", ""), src.is_dir()):
            binds.append((str(src), "/" + m["mountPath"].strip("/"), "ro" if readonly or m.get("readOnly") else "rw"))
    wd = c.get("workingDir")
    if wd:
        _mount_point(root, wd, True)
    return Root(root, binds)
