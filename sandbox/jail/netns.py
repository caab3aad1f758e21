"""Reaching a port inside a pod's network namespace from the sandbox, and the pod's pause process that holds it.

Why setns in a throw-away thread: a socket belongs to the network namespace it was created in, and setns(2)
changes only the calling thread's namespace. A fresh thread enters the pod's namespace, creates the socket and
ends; the sandbox then connects to 127.0.0.1:port inside the pod with an ordinary socket, while the pod's
processes themselves can reach nothing but their own loopback.
"""

from __future__ import annotations

import ctypes
import http.client
import os
import socket
import threading

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def socket_in(pid: int) -> socket.socket:
    """A TCP socket created inside the network namespace of process `pid`."""
    out: dict[str, object] = {}

    def work() -> None:
        try:
            fd = os.open(f"/proc/{pid}/ns/net", os.O_RDONLY)
            try:
                if _libc.setns(fd, CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), "setns")
            finally:
                os.close(fd)
            out["sock"] = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        except OSError as e:
            out["error"] = e

    t = threading.Thread(target=work, name="sandbox-netns")
    t.start()
    t.join()
    if "error" in out:
        raise out["error"]  # type: ignore[misc]
    return out["sock"]  # type: ignore[return-value]


def connect(pid: int, port: int, timeout: float) -> socket.socket:
    s = socket_in(pid)
    s.settimeout(timeout)
    try:
        s.connect(("127.0.0.1", port))
    except OSError:
        s.close()
        raise
    return s


class _Conn(http.client.HTTPConnection):
    def __init__(self, pid: int, port: int, timeout: float) -> None:
        super().__init__("127.0.0.1", port, timeout=timeout)
        self._pid = pid

    def connect(self) -> None:
        self.sock = connect(self._pid, self.port, self.timeout or 2.0)


def http_request(pid: int, port: int, method: str, path: str, body: bytes | None = None,
                 headers: dict[str, str] | None = None, timeout: float = 5.0,
                 limit: int = 4 << 20) -> tuple[int, str, bytes]:
    """(status, content type, body) of one HTTP request to the pod's port; OSError when nothing listens."""
    conn = _Conn(pid, port, timeout)
    try:
        conn.request(method, path or "/", body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read(limit)
        return resp.status, resp.getheader("content-type", "text/plain"), data
    except http.client.HTTPException as e:
        raise OSError(f"malformed HTTP response: {e}") from e
    finally:
        conn.close()
