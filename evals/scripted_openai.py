"""A scripted OpenAI-compatible chat server: replays tool-call transcripts over real HTTP, for the agent loop's
plumbing tests and the loop bench.

Why a real server and not a fake tier: the loop must work with any OpenAI-compatible tool-calling server, so the
test drives the real gateway → `openai` SDK → HTTP → JSON path, and the server sees exactly what would leave the
machine (every request body is logged: the tests check that no Secret value is in it). It is never evidence of
quality: the turns are written by the test.

A script is a list of assistant turns, chosen by the step (the number of assistant turns already in the incoming
conversation):
    {"tool_calls": [{"name": "k8s_list", "arguments": {"kind": "Pod"}}]}   # arguments: a dict or a raw string
    {"content": "final answer"}
    {"content": lambda body: "..."}                                       # computed from the request
A script is chosen by `match`: the first script whose match text is in the first user message. `repeat_last`
replays the last turn forever (a looping model); `cycle` makes each repeated call different (an endless model).
A requested tool name must exist in the `tools` of the request (what a model could send for those schemas), unless
the turn says `"unknown_ok": True`; a violation answers HTTP 400 and is recorded in `errors`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Script:
    turns: list[dict[str, Any]]
    match: str = ""
    repeat_last: bool = False
    cycle: Callable[[int], dict[str, Any]] | None = None  # step -> turn, once the turns are used up


@dataclass
class ScriptedOpenAI:
    """Start with `.start()`; `.url` is the /v1 base URL; `.requests` logs every body; `.close()` stops it."""

    scripts: list[Script] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def start(self) -> ScriptedOpenAI:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                self._send(200, {"object": "list", "data": [{"id": "scripted", "object": "model"}]})

            def do_POST(self) -> None:  # noqa: N802
                n = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(n) or b"{}")
                owner.requests.append(body)
                status, out = owner.answer(body)
                self._send(status, out)

            def _send(self, status: int, obj: dict[str, Any]) -> None:
                data = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True, name="scripted-openai")
        self._thread.start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def log_text(self) -> str:
        """Every request body as one string (what left the machine)."""
        return "\n".join(json.dumps(b) for b in self.requests)

    # -- answering ---------------------------------------------------------------------------------------------
    def _script(self, body: dict[str, Any]) -> Script | None:
        first_user = next((m.get("content") or "" for m in body.get("messages") or [] if m.get("role") == "user"), "")
        return next((s for s in self.scripts if s.match in str(first_user)), None)

    def answer(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        script = self._script(body)
        if script is None:
            self.errors.append("no script matches the request")
            return 400, {"error": {"message": "no script matches", "type": "invalid_request_error"}}
        step = sum(1 for m in body.get("messages") or [] if m.get("role") == "assistant")
        if step < len(script.turns):
            turn = script.turns[step]
        elif script.cycle is not None:
            turn = script.cycle(step)
        elif script.repeat_last and script.turns:
            turn = script.turns[-1]
        else:
            self.errors.append(f"script ran out of turns at step {step}")
            return 400, {"error": {"message": "script exhausted", "type": "invalid_request_error"}}
        offered = {t["function"]["name"] for t in body.get("tools") or []}
        message: dict[str, Any] = {"role": "assistant", "content": None}
        calls = turn.get("tool_calls") or []
        for c in calls:
            if c["name"] not in offered and not turn.get("unknown_ok"):
                self.errors.append(f"step {step}: tool {c['name']!r} is not among the offered tools")
                return 400, {"error": {"message": f"unknown tool {c['name']}", "type": "invalid_request_error"}}
        if calls:
            message["tool_calls"] = [{"id": f"call_{step}_{i}", "type": "function", "function": {
                "name": c["name"], "arguments": c["arguments"] if isinstance(c["arguments"], str)
                else json.dumps(c["arguments"])}} for i, c in enumerate(calls)]
        content = turn.get("content")
        if callable(content):
            content = content(body)
        if content is not None:
            message["content"] = content
        prompt = len(json.dumps(body.get("messages"))) // 4 + len(json.dumps(body.get("tools") or [])) // 4
        completion = len(json.dumps(message)) // 4
        return 200, {"id": f"chatcmpl-{len(self.requests)}", "object": "chat.completion", "model": "scripted",
                     "choices": [{"index": 0, "message": message,
                                  "finish_reason": "tool_calls" if calls else "stop"}],
                     "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                               "total_tokens": prompt + completion}}
