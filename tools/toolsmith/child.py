"""The child process that runs one synthesized tool, and nothing else. Started by runner.py as
`python -I -S -B child.py` with an empty environment; it imports only the standard library (never kubesage).

Why a separate, locked-down process: the AST gate in validate.py refuses the known shapes of escape, but Python
is large. Here every other layer applies before the tool's first line runs:
  1. the operating system: its own empty network namespace, a chroot into an empty directory, the uid `nobody`
     (when started as root), and rlimits on CPU time, address space, file size (0), open files, processes (0)
     and core dumps;
  2. an audit hook (`sys.addaudithook`) that allows only a short list of harmless events once the tool starts:
     any open(), socket, process start, ctypes, import of a module outside the allowlist, exec/compile, or
     frame/code introspection ends the process with the reason;
  3. the tool's globals: a safe subset of builtins (no open/eval/exec/__import__; getattr refuses private names)
     and module proxies that hold only public, non-module attributes (so `statistics.sys` does not exist).
The only door out is `kube`, a proxy that sends each request as one JSON line to the parent (runner.py), which
performs it as the asking principal and enforces read-only tools.

Protocol (one JSON object per line): parent -> child: the init message, then one reply per call
({"ok": true, "value": ...} or {"ok": false, "error": {"status", "reason", "message"}}); child -> parent:
{"op": "call", "method": ..., "params": {...}} and finally {"op": "result", "ok": ..., ...}.
"""

from __future__ import annotations

import builtins
import importlib
import json
import os
import resource
import sys
import types

CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
NOBODY = 65534
MAX_PRINT = 65_536
TOOL_FILE = "<tool>"
STDLIB = os.path.dirname(os.path.dirname(json.__file__)) + os.sep  # .../lib/python3.11/
THIS_FILE = os.path.abspath(__file__)
# Events harmless at any time: asked for by the interpreter itself or by allowed modules' internals.
BENIGN_EVENTS = frozenset({
    "builtins.id", "sys._getframe", "sys._getframemodulename", "time.sleep", "array.__new__", "sys.excepthook",
    "sys.unraisablehook", "cpython._PySys_ClearAuditHooks", "cpython.PyInterpreterState_Clear",
})
# Events allowed only when raised by trusted code (the standard library or this file), never by the tool.
TRUSTED_ONLY = frozenset({"object.__getattr__", "object.__setattr__", "object.__delattr__"})
# exec/compile by the standard library on its own behalf: only namedtuple, which builds __new__ from checked names.
TRUSTED_COMPILE_FILES = frozenset({os.path.join(STDLIB, "collections", "__init__.py")})
# Modules the interpreter's C code imports lazily through the tool's own `__import__` (datetime.strptime needs
# _strptime): preloaded, and handed over by name only to that internal machinery's import.
INTERNAL_IMPORTS = ("_strptime",)
SAFE_BUILTINS = (
    "abs", "all", "any", "ascii", "bin", "bool", "bytearray", "bytes", "callable", "chr", "complex", "dict",
    "divmod", "enumerate", "filter", "float", "format", "frozenset", "hash", "hex", "id", "int", "isinstance",
    "issubclass", "iter", "len", "list", "map", "max", "min", "next", "object", "oct", "ord", "pow", "property",
    "range", "repr", "reversed", "round", "set", "slice", "sorted", "staticmethod", "classmethod", "str", "sum",
    "super", "tuple", "zip", "NotImplemented", "Ellipsis", "__build_class__",
)


class KubeError(Exception):
    """A Kubernetes call that failed (the API's status, reason and message), as the tool sees it."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message


class Channel:
    """The pipe to the parent: the tool's only way out."""

    def __init__(self) -> None:
        self.inp = sys.stdin.buffer
        self.out = os.fdopen(os.dup(1), "wb", buffering=0)
        null = os.open(os.devnull, os.O_WRONLY)  # fd 1 is no longer the protocol: stray writes go nowhere
        os.dup2(null, 1)
        os.close(null)

    def send(self, msg: dict) -> None:
        self.out.write(json.dumps(msg, separators=(",", ":")).encode() + b"\n")

    def receive(self) -> dict:
        line = self.inp.readline()
        if not line:
            os._exit(4)  # the parent went away: nothing left to do
        return json.loads(line)


def make_kube_proxy(chan: Channel) -> object:
    """The `kube` a tool gets. Mirrors tools.k8s.client.Kube's read methods plus `request`; every call goes to the
    parent, which performs it as the asking principal."""

    def rpc(_op: str, **params: object) -> object:
        try:
            chan.send({"op": "call", "method": _op, "params": params})
        except (TypeError, ValueError):
            raise ValueError(f"kube.{_op}: arguments must be JSON data (strings, numbers, lists, dicts)") from None
        reply = chan.receive()
        if reply.get("ok"):
            return reply.get("value")
        err = reply.get("error") or {}
        raise KubeError(int(err.get("status") or 0), str(err.get("reason") or ""), str(err.get("message") or ""))

    def ns_of(ns: str | None, namespace: str | None) -> str | None:
        return ns if ns is not None else namespace

    class Kube:
        """Kubernetes, as the person who asked. Methods: get, list, logs, top_pods, top_nodes, can_i, request."""

        __slots__ = ()

        def get(self, kind, ns=None, name=None, *, namespace=None):  # noqa: ANN001, ANN201
            return rpc("get", kind=kind, ns=ns_of(ns, namespace), name=name)

        def list(self, kind, ns=None, label_selector=None, field_selector=None, *, namespace=None):  # noqa: ANN001, ANN201
            return rpc("list", kind=kind, ns=ns_of(ns, namespace), label_selector=label_selector,
                       field_selector=field_selector)

        def logs(self, ns=None, pod=None, container=None, tail=None, previous=False, *, namespace=None):  # noqa: ANN001, ANN201
            return rpc("logs", ns=ns_of(ns, namespace), pod=pod, container=container, tail=tail, previous=previous)

        def top_pods(self, ns=None, *, namespace=None):  # noqa: ANN001, ANN201
            return rpc("top_pods", ns=ns_of(ns, namespace))

        def top_nodes(self):  # noqa: ANN201
            return rpc("top_nodes")

        def can_i(self, verb, resource, ns=None, name=None, *, namespace=None):  # noqa: ANN001, ANN201
            return rpc("can_i", verb=verb, resource=resource, ns=ns_of(ns, namespace), name=name)

        def request(self, method, path, body=None, query=None, patch_type="merge"):  # noqa: ANN001, ANN201
            return rpc("request", method=method, path=path, body=body, query=query, patch_type=patch_type)

    return Kube()


def build_module_proxies(allowed: list[str]) -> dict[str, types.ModuleType]:
    """Import each allowed module now (no file may be opened later) and wrap it: public, non-module names only."""
    proxies: dict[str, types.ModuleType] = {}
    for name in INTERNAL_IMPORTS:
        importlib.import_module(name)
    for name in sorted(allowed, key=lambda n: n.count(".")):
        real = importlib.import_module(name)
        proxy = types.ModuleType(name)
        public = getattr(real, "__all__", None) or [n for n in dir(real) if not n.startswith("_")]
        for attr in public:
            value = getattr(real, attr, None)
            if not attr.startswith("_") and value is not None and not isinstance(value, types.ModuleType):
                setattr(proxy, attr, value)
        proxies[name] = proxy
        parent, _, child = name.rpartition(".")
        if parent in proxies:
            setattr(proxies[parent], child, proxy)
    return proxies


def make_builtins(proxies: dict[str, types.ModuleType], printed: list[str]) -> dict[str, object]:
    """The builtins the tool sees: a safe subset, with guarded import, attribute access, type and print."""
    safe: dict[str, object] = {n: getattr(builtins, n) for n in SAFE_BUILTINS}
    for n in dir(builtins):
        value = getattr(builtins, n)
        if isinstance(value, type) and issubclass(value, BaseException):
            safe[n] = value

    def guarded_import(name, globals=None, locals=None, fromlist=(), level=0):  # noqa: A002, ANN001, ANN202
        if not level and name in INTERNAL_IMPORTS:
            return sys.modules[name]
        if level or name not in proxies:
            raise ImportError(f"import of {name!r} is not allowed in tools")
        for item in fromlist or ():
            if item.startswith("_"):
                raise ImportError(f"importing the private name {item!r} is not allowed in tools")
        return proxies[name] if fromlist else proxies[name.split(".")[0]]

    def public(name: object) -> str:
        if not isinstance(name, str) or name.startswith("_"):
            raise AttributeError(f"attribute {name!r} is not accessible to tools")
        return name

    def safe_getattr(obj, name, *default):  # noqa: ANN001, ANN202
        return getattr(obj, public(name), *default)

    def safe_hasattr(obj, name):  # noqa: ANN001, ANN202
        return hasattr(obj, public(name))

    def safe_setattr(obj, name, value):  # noqa: ANN001, ANN202
        return setattr(obj, public(name), value)

    def safe_delattr(obj, name):  # noqa: ANN001, ANN202
        return delattr(obj, public(name))

    def safe_type(*args):  # noqa: ANN002, ANN202
        if len(args) != 1:
            raise TypeError("tools may only call type(x) to ask an object's type")
        return type(args[0])

    size = [0]

    def safe_print(*args, sep=" ", end="\n", **_ignored):  # noqa: ANN001, ANN002, ANN003, ANN202
        text = str(sep).join(str(a) for a in args) + str(end)
        if size[0] < MAX_PRINT:
            printed.append(text[: MAX_PRINT - size[0]])
            size[0] += len(text)

    safe.update({"__import__": guarded_import, "getattr": safe_getattr, "hasattr": safe_hasattr,
                 "setattr": safe_setattr, "delattr": safe_delattr, "type": safe_type, "print": safe_print})
    return safe


def apply_limits(cpu_s: float, mem_mb: int, jail: str) -> dict[str, object]:
    """Operating-system isolation, best effort, each step reported (the parent shows what applied)."""
    done: dict[str, object] = {}
    try:  # network: a fresh namespace has no interfaces but a down loopback
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        ok = libc.unshare(CLONE_NEWNET) == 0 or libc.unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0
        done["network"] = "none (own network namespace)" if ok else f"shared (unshare: errno {ctypes.get_errno()})"
        del libc, ctypes
        for mod in [m for m in sys.modules if m == "ctypes" or m.startswith(("ctypes.", "_ctypes"))]:
            del sys.modules[mod]
    except (ImportError, OSError, AttributeError) as e:
        done["network"] = f"shared ({e})"
    if jail and os.geteuid() == 0:
        try:
            os.chroot(jail)
            os.chdir("/")
            done["filesystem"] = "none (chroot into an empty directory)"
        except OSError as e:
            done["filesystem"] = f"visible (chroot: {e.strerror})"
    else:
        done["filesystem"] = "visible (not root: no chroot)"
    cpu = max(1, int(cpu_s + 0.999))
    limits = {resource.RLIMIT_CORE: (0, 0), resource.RLIMIT_FSIZE: (0, 0), resource.RLIMIT_CPU: (cpu, cpu + 1),
              resource.RLIMIT_AS: (mem_mb << 20, mem_mb << 20), resource.RLIMIT_NOFILE: (16, 16)}
    for which, value in limits.items():
        try:
            resource.setrlimit(which, value)
        except (ValueError, OSError):
            pass
    done["cpu_s"] = resource.getrlimit(resource.RLIMIT_CPU)[0]
    done["mem_mb"] = resource.getrlimit(resource.RLIMIT_AS)[0] >> 20
    if os.geteuid() == 0:
        try:
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
        except OSError as e:
            done["uid_error"] = e.strerror
    done["uid"] = os.geteuid()
    if os.geteuid() != 0:  # NPROC is ignored for root; for any other uid, 0 means "no new process or thread"
        try:
            resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))
        except (ValueError, OSError):
            pass
    done["nproc"] = resource.getrlimit(resource.RLIMIT_NPROC)[0] if os.geteuid() != 0 else "ignored for root"
    return done


def probe() -> dict[str, str]:
    """What the operating-system layers alone allow (run with no audit hook; for the isolation tests)."""
    out: dict[str, str] = {}

    def attempt(name: str, fn) -> None:  # noqa: ANN001
        try:
            fn()
            out[name] = "allowed"
        except BaseException as e:  # noqa: BLE001 - every failure is the answer
            out[name] = f"blocked: {type(e).__name__}: {e}"

    def fork() -> None:
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)

    def connect() -> None:
        import socket

        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.settimeout(1)
            s.connect(("10.255.255.1", 443))

    def read_passwd() -> None:
        with open("/etc/passwd", "rb") as f:
            f.read(1)

    def write_file() -> None:
        with open("/tmp/kubesage-probe", "wb") as f:
            f.write(b"x")

    attempt("fork", fork)
    attempt("connect", connect)
    attempt("read /etc/passwd", read_passwd)
    attempt("write /tmp file", write_file)
    attempt("allocate 2 GB", lambda: bytearray(2 << 30))
    return out


class Guard:
    """The audit hook: once locked, only benign events pass; anything else ends the process with the reason."""

    def __init__(self, chan: Channel, allowed: set[str], code: types.CodeType) -> None:
        self.chan = chan
        self.allowed = allowed
        self.code = code
        self.locked = False
        self.busy = False

    def __call__(self, event: str, args: tuple) -> None:
        if not self.locked or self.busy:
            return  # nested events come from this hook itself
        self.busy = True
        try:
            why = self.judge(event, args, sys._getframe(1))
            if why:
                self.violation(why)
        finally:
            self.busy = False

    @staticmethod
    def trusted(frame: types.FrameType | None) -> bool:
        name = frame.f_code.co_filename if frame is not None else ""
        return name == THIS_FILE or (name.startswith(STDLIB) and name != TOOL_FILE)

    def judge(self, event: str, args: tuple, frame: types.FrameType) -> str | None:
        if event in BENIGN_EVENTS:
            return None
        if event == "import":
            name = str(args[0])
            return None if name in self.allowed else f"import of {name!r} (not an allowed module)"
        if event in TRUSTED_ONLY:
            return None if self.trusted(frame) else f"introspection ({event} {args[1]!r})"
        if event in ("exec", "compile"):
            if event == "exec" and args and args[0] is self.code:
                return None
            if frame is not None and frame.f_code.co_filename in TRUSTED_COMPILE_FILES:
                return None
            return "running dynamically built code (exec/eval/compile)"
        if event == "open":
            return f"opening the file {args[0]!r}"
        if event.startswith("socket."):
            return f"network access ({event})"
        if event.startswith(("subprocess.", "os.system", "os.exec", "os.fork", "os.posix_spawn", "os.spawn",
                             "os.forkpty", "pty.")):
            return f"starting a process ({event})"
        if event.startswith("ctypes."):
            return f"native code access ({event})"
        return f"the operation {event!r}"

    def violation(self, why: str) -> None:
        try:
            self.chan.send({"op": "result", "ok": False, "reason": "refused",
                            "error": f"the tool was stopped at run time: {why} is not allowed in tools"})
        finally:
            os._exit(3)


def tool_line(exc: BaseException) -> int | None:
    """The last line of the tool's own code in the exception's traceback."""
    line, tb = None, exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == TOOL_FILE:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def describe(exc: BaseException, mem_mb: int) -> tuple[str, str]:
    """(reason, sentence) for an exception that left the tool."""
    line = tool_line(exc)
    where = f" at line {line}" if line else ""
    if isinstance(exc, MemoryError):
        return "memory", f"the tool ran out of memory{where} (limit {mem_mb} MB)"
    if isinstance(exc, RecursionError):
        return "memory", f"the tool recursed too deeply{where} (Python's stack limit)"
    try:
        text = str(exc)[:2000]
    except Exception:  # noqa: BLE001 - a hostile __str__ does not get to hide the error
        text = ""
    if isinstance(exc, KubeError):
        return "error", f"a Kubernetes call failed{where}: {exc.status} {exc.reason}: {exc.message}"
    return "error", f"the tool raised {type(exc).__name__}{where}" + (f": {text}" if text else "")


def _not_json(value: object) -> object:
    raise TypeError(f"a {type(value).__name__} is not JSON data")


def run() -> None:
    chan = Channel()
    init = json.loads(chan.inp.readline() or b"{}")
    printed: list[str] = []
    allowed = set(init.get("allowed") or [])
    proxies = build_module_proxies(sorted(allowed))
    try:
        code = compile(init.get("code") or "", TOOL_FILE, "exec", dont_inherit=True)  # not this file's __future__
    except (SyntaxError, ValueError) as e:
        chan.send({"op": "result", "ok": False, "reason": "refused", "error": f"the tool does not compile: {e}"})
        os._exit(0)
    mem_mb = int(init.get("mem_mb") or 512)
    if init.get("probe"):
        importlib.import_module("socket")  # loaded before the chroot, so the probe tests the network, not the disk
    isolation = apply_limits(float(init.get("cpu_s") or 5), mem_mb, str(init.get("jail") or ""))
    if init.get("probe"):
        chan.send({"op": "result", "ok": True, "value": probe(), "sandbox": isolation})
        os._exit(0)
    kube = make_kube_proxy(chan)
    tool_globals = {"__builtins__": make_builtins(proxies, printed), "__name__": "tool", "KubeError": KubeError}
    guard = Guard(chan, allowed, code)
    sys.addaudithook(guard)
    sys.stdout = sys.stderr = None  # nothing of the tool's reaches the pipes except through the channel
    guard.locked = True
    try:
        exec(code, tool_globals)
        main = tool_globals.get("main")
        if not callable(main):
            raise TypeError("the tool defines no main(kube, **args) function")
        value = main(kube, **(init.get("args") or {}))
        out = {"op": "result", "ok": True, "value": value, "stdout": "".join(printed), "sandbox": isolation}
        try:
            data = json.dumps(out, default=_not_json, allow_nan=False, separators=(",", ":")).encode()
        except (TypeError, ValueError) as e:
            out = {"op": "result", "ok": False, "reason": "error", "stdout": "".join(printed), "sandbox": isolation,
                   "error": f"the tool's result is not JSON data ({e}); return dicts, lists, strings, numbers, "
                            "booleans or None"}
            data = json.dumps(out).encode()
        limit = int(init.get("max_output") or 1_000_000)
        if len(data) > limit:
            out = {"op": "result", "ok": False, "reason": "error", "sandbox": isolation,
                   "error": f"the tool's result is {len(data):,} bytes; the limit is {limit:,} "
                            "(filter or summarise what it returns)"}
            data = json.dumps(out).encode()
        chan.out.write(data + b"\n")
    except BaseException as e:  # noqa: BLE001 - the tool's failure is reported, never re-raised
        reason, sentence = describe(e, mem_mb)
        chan.send({"op": "result", "ok": False, "reason": reason, "error": sentence, "stdout": "".join(printed),
                   "sandbox": isolation})
    os._exit(0)


if __name__ == "__main__":
    run()
