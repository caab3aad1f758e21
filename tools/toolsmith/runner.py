"""Run a synthesized tool: the AST gate, then `main(kube, **args)` in a separate, locked-down process.

Why the parent performs the Kubernetes calls: the child has no network and no credentials, so whatever the
tool's code does, it can only ask. The parent answers each request with the real `tools.k8s.client.Kube` (already
acting as the principal who asked, so their RBAC rights apply), refuses writes from tools not marked mutating,
caps the number of calls, and enforces the wall-clock limit by killing the child's whole process group.
"""

from __future__ import annotations

import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tools.toolsmith.validate import ALLOWED_IMPORTS, check

if TYPE_CHECKING:
    from tools.k8s.client import Kube

CHILD = Path(__file__).with_name("child.py")
MAX_OUTPUT = 1_000_000
MESSAGE_SLACK = 65_536
READ_METHODS = ("get", "list", "logs", "top_pods", "top_nodes", "can_i")
# Read-only tools may POST only these: they ask the API server a question and change nothing.
REVIEW_PATHS = ("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                "/apis/authorization.k8s.io/v1/subjectaccessreviews",
                "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews")
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


@dataclass
class RunResult:
    """What one run of a tool came to. `reason` names why it failed: refused | timeout | memory | cpu | crashed |
    error | forbidden; `error` says it in a sentence for the person."""

    ok: bool
    value: Any = None
    error: str = ""
    reason: str = ""
    calls: list[dict] = field(default_factory=list)  # the Kubernetes requests the tool made (and any refused)
    stdout: str = ""  # what the tool printed (capped)
    sandbox: dict = field(default_factory=dict)  # the isolation that applied in the child, as it reported it


class _Refused(Exception):
    """A request the runner will not make on the tool's behalf (read-only tool, too many calls, bad path)."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status, self.reason, self.message = status, reason, message


def run_tool(code: str, args: dict, kube: Kube, *, mutating: bool = False, cpu_s: float = 5, mem_mb: int = 512,
             wall_s: float = 15, max_output: int = MAX_OUTPUT, max_calls: int = 500) -> RunResult:
    """Check `code`, then run its `main(kube, **args)` in a child process with the given limits."""
    reasons = check(code)
    if reasons:
        return RunResult(False, error="the tool was refused: " + "; ".join(reasons), reason="refused")
    return run_unchecked(code, args, kube, mutating=mutating, cpu_s=cpu_s, mem_mb=mem_mb, wall_s=wall_s,
                         max_output=max_output, max_calls=max_calls)


def run_unchecked(code: str, args: dict, kube: Kube | None, *, mutating: bool = False, cpu_s: float = 5,
                  mem_mb: int = 512, wall_s: float = 15, max_output: int = MAX_OUTPUT, max_calls: int = 500,
                  probe: bool = False) -> RunResult:
    """Run without the AST gate. Only for tests that prove the run-time layers hold on their own; everything
    else goes through `run_tool`."""
    try:
        if not isinstance(args, dict) or not all(isinstance(k, str) and k.isidentifier() for k in args):
            raise TypeError("arguments must be a mapping of parameter names to values")
        json.dumps(args, allow_nan=False)
    except (TypeError, ValueError) as e:
        return RunResult(False, error=f"the tool's arguments are not usable: {e}", reason="error")
    return _Session(code, args, kube, mutating, cpu_s, mem_mb, wall_s, max_output, max_calls, probe).run()


def probe_isolation() -> dict[str, Any]:
    """What the operating-system layers alone allow in the child (no audit hook): for tests and `doctor`-style
    checks. Returns {"probe": {attempt: "allowed" | "blocked: ..."}, "sandbox": {...}}."""
    r = run_unchecked("", {}, None, probe=True)
    return {"probe": r.value if r.ok else {"error": r.error}, "sandbox": r.sandbox}


def _child_env() -> dict[str, str]:
    """Nothing from the parent's environment (no KUBESAGE_*, AWS_*, tokens, proxies): only a locale."""
    return {"LC_ALL": "C.UTF-8"}


class _Session:
    """One child process and the conversation with it."""

    def __init__(self, code: str, args: dict, kube: Kube | None, mutating: bool, cpu_s: float, mem_mb: int,
                 wall_s: float, max_output: int, max_calls: int, probe: bool) -> None:
        self.code, self.args, self.kube, self.mutating = code, args, kube, mutating
        self.cpu_s, self.mem_mb, self.wall_s = cpu_s, mem_mb, wall_s
        self.max_output, self.max_calls, self.probe = max_output, max_calls, probe
        self.calls: list[dict] = []
        self.forbidden = False
        self.n_calls = 0

    # -- the process -------------------------------------------------------------------------------
    def run(self) -> RunResult:
        jail = tempfile.mkdtemp(prefix="kubesage-tool-")
        try:
            proc = subprocess.Popen([sys.executable, "-I", "-S", "-B", str(CHILD)], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_child_env(), cwd=jail,
                                    start_new_session=True, close_fds=True)
        except OSError as e:
            shutil.rmtree(jail, ignore_errors=True)
            return RunResult(False, error=f"could not start the tool's process: {e}", reason="crashed")
        try:
            return self._converse(proc, jail)
        finally:
            _kill(proc)
            for stream in (proc.stdin, proc.stdout, proc.stderr):
                try:
                    stream.close()
                except OSError:
                    pass
            shutil.rmtree(jail, ignore_errors=True)

    def _converse(self, proc: subprocess.Popen, jail: str) -> RunResult:
        deadline = time.monotonic() + self.wall_s
        init = {"code": self.code, "args": self.args, "allowed": sorted(ALLOWED_IMPORTS), "cpu_s": self.cpu_s,
                "mem_mb": self.mem_mb, "max_output": self.max_output, "jail": jail, "probe": self.probe}
        outbox = json.dumps(init).encode() + b"\n"
        inbox, errtail = b"", b""
        out_fd, err_fd, in_fd = proc.stdout.fileno(), proc.stderr.fileno(), proc.stdin.fileno()
        for fd in (out_fd, err_fd, in_fd):
            os.set_blocking(fd, False)
        sel = selectors.DefaultSelector()
        sel.register(out_fd, selectors.EVENT_READ, "out")
        sel.register(err_fd, selectors.EVENT_READ, "err")
        sel.register(in_fd, selectors.EVENT_WRITE, "in")
        writing, open_reads = True, 2
        limit = self.max_output + MESSAGE_SLACK
        try:
            while open_reads:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return self._result(False, "timeout", f"the tool ran longer than {self.wall_s:g} s (wall clock) "
                                                          "and was stopped")
                for key, _ in sel.select(timeout=min(remaining, 1.0)):
                    if key.data == "in":
                        try:
                            n = os.write(in_fd, outbox)
                        except BlockingIOError:
                            n = 0
                        except BrokenPipeError:  # the child is gone; its exit status will say why
                            n = len(outbox)
                        outbox = outbox[n:]
                        if not outbox and writing:
                            sel.unregister(in_fd)
                            writing = False
                        continue
                    chunk = os.read(key.fd, 65536)
                    if not chunk:
                        sel.unregister(key.fd)
                        open_reads -= 1
                        continue
                    if key.data == "err":
                        errtail = (errtail + chunk)[-4000:]
                        continue
                    inbox += chunk
                    while b"\n" in inbox:
                        line, inbox = inbox.split(b"\n", 1)
                        done, reply = self._handle(line)
                        if done is not None:
                            return done
                        outbox += json.dumps(reply, default=str).encode() + b"\n"
                        if not writing:
                            sel.register(in_fd, selectors.EVENT_WRITE, "in")
                            writing = True
                    if len(inbox) > limit:
                        return self._result(False, "error", f"the tool sent more than {limit:,} bytes in one "
                                                            "message and was stopped")
            return self._died(proc, errtail)
        finally:
            sel.close()

    def _died(self, proc: subprocess.Popen, errtail: bytes) -> RunResult:
        """The child closed its pipes without a result: say why from its exit status."""
        try:
            rc = proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            rc = None
        if rc == -signal.SIGXCPU:
            return self._result(False, "cpu", f"the tool used more than {self.cpu_s:g} s of CPU time and was stopped")
        if rc == -signal.SIGKILL:
            return self._result(False, "memory", "the tool's process was killed (out of memory)")
        if rc == -signal.SIGXFSZ:
            return self._result(False, "refused", "the tool tried to write a file and was stopped")
        tail = errtail.decode("utf-8", "replace").strip().splitlines()
        detail = f": {tail[-1][:300]}" if tail else ""
        return self._result(False, "crashed", f"the tool's process ended unexpectedly (exit status {rc}){detail}")

    def _result(self, ok: bool, reason: str, error: str, **extra: Any) -> RunResult:
        if not ok and self.forbidden and reason == "error":
            reason = "forbidden"
        return RunResult(ok, extra.get("value"), error, "" if ok else reason, list(self.calls),
                         extra.get("stdout", ""), extra.get("sandbox") or {})

    # -- the protocol ------------------------------------------------------------------------------
    def _handle(self, line: bytes) -> tuple[RunResult | None, dict]:
        try:
            msg = json.loads(line)
            op = msg.get("op")
        except (ValueError, AttributeError):
            return self._result(False, "crashed", "the tool's process sent something that is not a message"), {}
        if op == "result":
            extra = {"value": msg.get("value"), "stdout": str(msg.get("stdout") or ""), "sandbox": msg.get("sandbox")}
            if msg.get("ok"):
                return self._result(True, "", "", **extra), {}
            return self._result(False, str(msg.get("reason") or "error"), str(msg.get("error") or "the tool failed"),
                                **extra), {}
        if op != "call":
            return self._result(False, "crashed", f"the tool's process sent an unknown message {op!r}"), {}
        try:
            return None, {"ok": True, "value": self._perform(str(msg.get("method")), msg.get("params") or {})}
        except _Refused as e:
            return None, {"ok": False, "error": {"status": e.status, "reason": e.reason, "message": e.message}}
        except Exception as e:  # noqa: BLE001 - KubeError and bad arguments both go back to the tool as an error
            status = getattr(e, "status", 400)
            reason = getattr(e, "reason", "BadRequest")
            message = getattr(e, "message", None) or f"{type(e).__name__}: {e}"
            return None, {"ok": False, "error": {"status": status, "reason": reason, "message": message}}

    def _perform(self, method: str, p: dict) -> Any:
        from tools.k8s.client import KINDS

        if self.kube is None:
            raise _Refused(503, "NoCluster", "this run has no Kubernetes connection")
        self.n_calls += 1
        if self.n_calls > self.max_calls:
            raise _Refused(429, "TooManyRequests", f"the tool made more than {self.max_calls} Kubernetes calls")
        if method in ("get", "list") and p.get("kind") not in KINDS:
            raise _Refused(400, "BadRequest", f"unknown kind {p.get('kind')!r}; known kinds: {', '.join(KINDS)} "
                                              "(use kube.request for others)")
        before = len(self.kube.calls)
        try:
            if method == "get":
                return self.kube.get(p["kind"], p.get("ns"), _text(p.get("name"), "name"))
            if method == "list":
                return self.kube.list(p["kind"], p.get("ns"), p.get("label_selector"), p.get("field_selector"))
            if method == "logs":
                return self.kube.logs(_text(p.get("ns"), "ns"), _text(p.get("pod"), "pod"), p.get("container"),
                                      bool(p.get("previous")), int(p["tail"]) if p.get("tail") else None)
            if method == "top_pods":
                return self.kube.top_pods(p.get("ns"))
            if method == "top_nodes":
                return self.kube.top_nodes()
            if method == "can_i":
                allowed, why = self.kube.can_i(_text(p.get("verb"), "verb"), _text(p.get("resource"), "resource"),
                                               p.get("ns"), p.get("name"))
                return {"allowed": allowed, "reason": why}
            if method == "request":
                return self._request(p)
            raise _Refused(400, "BadRequest", f"kube has no method {method!r}")
        finally:
            self.calls.extend(dict(c) for c in self.kube.calls[before:])

    def _request(self, p: dict) -> Any:
        from tools.k8s.client import PATCH_CONTENT

        method = str(p.get("method") or "GET").upper()
        path = _text(p.get("path"), "path")
        if method not in HTTP_METHODS:
            raise _Refused(400, "BadRequest", f"unsupported HTTP method {method!r}")
        if not (path == "/version" or path.startswith(("/api/", "/apis/")) or path in ("/api", "/apis")) or \
                any(c in path for c in "?#\\ \r\n") or "/../" in path + "/" or "//" in path:
            raise _Refused(400, "BadRequest", f"not a Kubernetes API path: {path!r} (expected /api/... or /apis/...)")
        query = p.get("query") or []
        if isinstance(query, dict):
            query = list(query.items())
        query = [(str(k), str(v).lower() if isinstance(v, bool) else str(v)) for k, v in query]
        review = method == "POST" and path.rstrip("/") in REVIEW_PATHS
        if method != "GET" and not review:
            why = ""
            if not self.mutating:
                why = "this tool is read-only (a tool that changes the cluster must be marked mutating and approved)"
            elif self.kube.read_only:
                why = "kubesage is in read-only mode"
            if why:
                self.forbidden = True
                self.calls.append({"method": method, "path": path, "query": dict(query), "status": 403,
                                   "refused": why})
                raise _Refused(403, "Forbidden", f"{method} {path} was refused: {why}")
        content = "application/json"
        if method == "PATCH":
            content = PATCH_CONTENT.get(str(p.get("patch_type") or "merge"), PATCH_CONTENT["merge"])
        return self.kube.request(method, path, p.get("body"), query, content)


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise _Refused(400, "BadRequest", f"{what} must be a non-empty string, not {value!r}")
    return value


def _kill(proc: subprocess.Popen) -> None:
    """Kill the child's whole process group (it runs in its own session) and reap it."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            proc.kill()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass
