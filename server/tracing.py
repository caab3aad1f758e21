"""Trace ids on HTTP responses: one span per request (a child of the caller's `traceparent`, when it sends one),
and its trace id in the `X-Trace-Id` response header, so a person can find the turn's spans and audit lines.

Why pure ASGI: the header must be added to `http.response.start` of streaming answers too, and the span must be
current while the route runs (turns carry it into their worker thread, server/turns.py). Tracing off: the request
passes straight through.
"""

from __future__ import annotations

from typing import Any

from memory import tracing

HEADER = b"x-trace-id"


class TraceMiddleware:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not tracing.enabled():
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers") or []}
        with tracing.remote_parent(headers), \
                tracing.span(f"http {scope.get('method', '')}", {"http.request.method": scope.get("method"),
                                                                 "url.path": scope.get("path")}) as s:
            tid = (tracing.trace_id() or "").encode()

            async def send_with_id(message: dict[str, Any]) -> None:
                if message["type"] == "http.response.start" and tid:
                    message["headers"] = [*message.get("headers", []), (HEADER, tid)]
                    s.set({"http.response.status_code": message.get("status")})
                await send(message)

            await self.app(scope, receive, send_with_id)
            route = scope.get("route")
            s.set({"http.route": getattr(route, "path", None)})
