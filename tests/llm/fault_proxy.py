"""A small HTTP proxy (stdlib only) in front of a real OpenAI-compatible server, able to misbehave on cue.

Tests script what the next requests get — "pass", "429", "500", "slow:SECONDS" (then pass), "drop" (close the
connection without answering) — or set a default mode, and read how many requests arrived. Everything that
passes is forwarded unchanged to the upstream `llama_cpp.server`.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse


class FaultProxy:
    def __init__(self, upstream: str) -> None:
        u = urlparse(upstream)
        self.upstream_host, self.upstream_port = u.hostname, u.port
        self.mode = "pass"
        self.queue: deque[str] = deque()
        self.hits = 0
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                with proxy._lock:
                    proxy.hits += 1
                    action = proxy.queue.popleft() if proxy.queue else proxy.mode
                if action == "drop":
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                if action in ("429", "500", "503"):
                    payload = json.dumps({"error": {"message": f"injected {action}", "type": "injected"}}).encode()
                    self.send_response(int(action))
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(payload)))
                    if action == "429":
                        self.send_header("retry-after", "0")
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                if action.startswith("slow:"):
                    time.sleep(float(action.split(":", 1)[1]))
                conn = http.client.HTTPConnection(proxy.upstream_host, proxy.upstream_port, timeout=120)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                try:
                    conn.request(self.command, self.path, body=body, headers=headers)
                    resp = conn.getresponse()
                    data = resp.read()
                except OSError:
                    self.send_error(502)
                    return
                finally:
                    conn.close()
                try:
                    self.send_response(resp.status)
                    for k, v in resp.getheaders():
                        if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                            self.send_header(k, v)
                    self.send_header("content-length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up (timeout tests)

            do_GET = _handle
            do_POST = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def script(self, *actions: str) -> None:
        """The next requests get these actions, in order; then the default mode applies again."""
        with self._lock:
            self.queue.extend(actions)

    def reset(self, mode: str = "pass") -> None:
        with self._lock:
            self.mode = mode
            self.queue.clear()
            self.hits = 0

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
