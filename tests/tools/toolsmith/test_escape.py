"""The escape suite: hostile and careless tool programs, each of which must be blocked with a clear reason.

Three parts: (1) every program through `run_tool`, the path real tools take (AST gate, then the child process);
(2) programs that get past the AST gate on purpose (`run_unchecked`), proving the run-time layers — restricted
builtins, module proxies, the audit hook, the clean environment — hold on their own; (3) the operating-system
layers alone (no audit hook): no fork, no network, no files, bounded memory.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from sandbox.server import SandboxServer
from tools.k8s.client import Kube
from tools.toolsmith.runner import probe_isolation, run_tool, run_unchecked


@dataclass(frozen=True)
class Case:
    id: str
    code: str
    reason: str  # the RunResult.reason it must end with
    says: str  # a phrase its error must contain (the reason in words)
    limits: dict = field(default_factory=dict)
    args: dict = field(default_factory=dict)


def tool(body: str, head: str = "") -> str:
    """A program whose main() runs `body` (indented for it)."""
    lines = "\n".join("    " + line for line in body.strip("\n").splitlines())
    return f"{head.strip()}\n\ndef main(kube, **args):\n{lines}\n"


CASES = [
    # -- files and secrets ----------------------------------------------------------------------------------------
    Case("read_etc_passwd", tool("return open('/etc/passwd').read()"), "refused", "`open` is not allowed"),
    Case("read_kubeconfig", tool("return open(os.path.expanduser('~/.kube/config')).read()", "import os"),
         "refused", "import of 'os' is not allowed"),
    Case("read_kubeconfig_pathlib", tool("return pathlib.Path.home().joinpath('.kube/config').read_text()",
                                         "import pathlib"), "refused", "import of 'pathlib' is not allowed"),
    Case("write_file", tool("open('/tmp/owned', 'w').write('x')\nreturn 1"), "refused", "`open` is not allowed"),
    Case("write_file_io", tool("io.FileIO('/tmp/owned', 'w').write(b'x')", "import io"), "refused",
         "import of 'io' is not allowed"),
    Case("environ_secrets", tool("return os.environ.get('AWS_SECRET_ACCESS_KEY')", "import os"), "refused",
         "import of 'os' is not allowed"),
    Case("environ_via_from", tool("return dict(environ)", "from os import environ"), "refused",
         "import from 'os' is not allowed"),
    # -- network --------------------------------------------------------------------------------------------------
    Case("socket", tool("s = socket.create_connection(('10.0.0.1', 443))\nreturn 1", "import socket"), "refused",
         "import of 'socket' is not allowed"),
    Case("urllib", tool("return urllib.request.urlopen('http://169.254.169.254/').read()", "import urllib.request"),
         "refused", "import of 'urllib.request' is not allowed"),
    Case("http_client", tool("HTTPSConnection('example.com').request('GET', '/')", "from http.client import "
                                                                                    "HTTPSConnection"),
         "refused", "import from 'http.client' is not allowed"),
    Case("non_api_path", tool("return kube.request('GET', 'https://evil.example/steal')"), "error",
         "not a Kubernetes API path"),
    Case("path_traversal", tool("return kube.request('GET', '/api/v1/../../metadata')"), "error",
         "not a Kubernetes API path"),
    # -- processes ------------------------------------------------------------------------------------------------
    Case("subprocess", tool("return subprocess.run(['id'], capture_output=True).stdout", "import subprocess"),
         "refused", "import of 'subprocess' is not allowed"),
    Case("os_system_via_dunder_import", tool("return __import__('os').system('id')"), "refused",
         "`__import__` is not allowed"),
    Case("importlib", tool("return importlib.import_module('os').getcwd()", "import importlib"), "refused",
         "import of 'importlib' is not allowed"),
    Case("fork_bomb", tool("while True:\n    os.fork()", "import os"), "refused", "import of 'os' is not allowed"),
    Case("fork_from_import", tool("while True:\n    fork()", "from os import fork"), "refused",
         "import from 'os' is not allowed"),
    Case("multiprocessing", tool("multiprocessing.Process(target=print).start()", "import multiprocessing"),
         "refused", "import of 'multiprocessing' is not allowed"),
    # -- attribute walks to builtins ------------------------------------------------------------------------------
    Case("subclasses_walk", tool("return [c.__name__ for c in ().__class__.__base__.__subclasses__()]"), "refused",
         "dunder attribute access `.__class__`"),
    Case("function_globals", tool("return f.__globals__['__builtins__']", "def f():\n    pass"), "refused",
         "dunder attribute access `.__globals__`"),
    Case("string_built_dunder", tool("return getattr((), '__cl' + 'ass__')"), "refused",
         "`getattr` needs a literal attribute name"),
    Case("string_built_dunder_underscores", tool("n = '_' * 2 + 'class' + '_' * 2\nreturn getattr((), n)"),
         "refused", "`getattr` needs a literal attribute name"),
    Case("getattr_passed_around", tool("g = getattr\nreturn g((), 'x')"), "refused",
         "`getattr` may only be called directly"),
    Case("builtins_name", tool("return __builtins__['open']('/etc/passwd').read()"), "refused",
         "the dunder name `__builtins__`"),
    Case("type_builds_class", tool("K = type('K', (object,), {'x': 1})\nreturn K.mro()"), "refused",
         "building classes with `type(name, bases, dict)`"),
    Case("mro_walk", tool("return str(type(1).mro()[-1])"), "refused", "attribute `.mro` reaches frames"),
    Case("generator_frame_walk", tool("return g().gi_frame.f_back.f_globals", "def g():\n    yield 1"), "refused",
         "attribute `.gi_frame` reaches frames"),
    Case("traceback_frame_walk", tool("try:\n    1 / 0\nexcept Exception as e:\n    return e.__traceback__.tb_frame"),
         "refused", "dunder attribute access `.__traceback__`"),
    Case("format_string_walk", tool("return '{0.__class__.__init__.__globals__}'.format(kube)"), "refused",
         "`.format()` can read attributes"),
    Case("format_map_walk", tool("return '{k.get.__self__}'.format_map({'k': kube})"), "refused",
         "`.format_map()` can read attributes"),
    Case("lambda_code_object", tool("return (lambda: 0).__code__.co_consts"), "refused",
         "dunder attribute access `.__code__`"),
    Case("decorator_trick", tool("return f", "@(lambda fn: fn.__globals__)\ndef f():\n    pass"), "refused",
         "dunder attribute access `.__globals__`"),
    Case("match_class_attribute", tool("match kube:\n    case object(__class__=c):\n        return str(c)"),
         "refused", "dunder attribute access `.__class__`"),
    Case("kube_proxy_internals", tool("return kube._rpc"), "refused", "private attribute access `._rpc`"),
    Case("sys_modules", tool("return sys.modules['os'].system('id')", "import sys"), "refused",
         "import of 'sys' is not allowed"),
    Case("module_reexport_sys", tool("return statistics.sys.modules['os'].system('id')", "import statistics"),
         "error", "module 'statistics' has no attribute 'sys'"),
    Case("module_reexport_codecs", tool("return json.codecs.open('/etc/passwd').read()", "import json"), "error",
         "module 'json' has no attribute 'codecs'"),
    Case("scope_introspection", tool("return list(globals())"), "refused", "`globals` is not allowed"),
    # -- code execution and interaction ---------------------------------------------------------------------------
    Case("eval", tool("return eval('1 + 1')"), "refused", "`eval` is not allowed"),
    Case("exec", tool("exec('x = 1')\nreturn 1"), "refused", "`exec` is not allowed"),
    Case("compile", tool("return compile('1', 'f', 'eval')"), "refused", "`compile` is not allowed"),
    Case("breakpoint", tool("breakpoint()\nreturn 1"), "refused", "`breakpoint` is not allowed"),
    Case("input", tool("return input('password: ')"), "refused", "`input` is not allowed"),
    Case("pickle", tool("return pickle.loads(b'cos\\nsystem\\n(S\"id\"\\ntR.')", "import pickle"), "refused",
         "import of 'pickle' is not allowed"),
    Case("marshal", tool("return marshal.loads(b'')", "import marshal"), "refused",
         "import of 'marshal' is not allowed"),
    Case("ctypes", tool("return ctypes.CDLL(None).system(b'id')", "import ctypes"), "refused",
         "import of 'ctypes' is not allowed"),
    # -- resources ------------------------------------------------------------------------------------------------
    Case("infinite_loop", tool("while True:\n    pass"), "timeout", "ran longer than 2 s",
         limits={"wall_s": 2, "cpu_s": 30}),
    Case("cpu_hog", tool("n = 0\nwhile True:\n    n += 1"), "cpu", "more than 1 s of CPU time",
         limits={"wall_s": 30, "cpu_s": 1}),
    Case("huge_list", tool("return len([0] * 10**10)"), "memory", "ran out of memory"),
    Case("huge_string", tool("return len('x' * 10**10)"), "memory", "ran out of memory"),
    Case("growing_memory", tool("keep = []\nwhile True:\n    keep.append('x' * 10**7)"), "memory",
         "ran out of memory"),
    Case("deep_recursion", tool("return f(0)", "def f(n):\n    return f(n + 1)"), "memory", "recursed too deeply"),
    # -- the cluster ----------------------------------------------------------------------------------------------
    Case("patch_without_mutating", tool(
        "return kube.request('PATCH', '/apis/apps/v1/namespaces/shop/deployments/web/scale', "
        "body={'spec': {'replicas': 0}})"), "forbidden", "this tool is read-only"),
    Case("delete_without_mutating", tool(
        "return kube.request('DELETE', '/apis/apps/v1/namespaces/shop/deployments/web')"), "forbidden",
         "DELETE /apis/apps/v1/namespaces/shop/deployments/web was refused"),
    Case("create_without_mutating", tool(
        "return kube.request('POST', '/api/v1/namespaces/shop/configmaps', "
        "body={'metadata': {'name': 'x'}, 'data': {}})"), "forbidden", "this tool is read-only"),
    Case("api_flood", tool("while True:\n    kube.list('Pod', 'shop')"), "error", "more than 20 Kubernetes calls",
         limits={"max_calls": 20}),
    # -- careless programs ----------------------------------------------------------------------------------------
    Case("huge_output", tool("return 'x' * 2_000_000"), "error", "the limit is 1,000,000"),
    Case("non_json_return", tool("return {1, 2, 3}"), "error", "a set is not JSON data"),
    Case("nan_return", tool("return float('nan')"), "error", "not JSON data"),
    Case("exception", tool("x = 1\nraise ValueError('no pods like that')"), "error",
         "raised ValueError at line 5: no pods like that"),
    Case("no_main", "def helper(kube):\n    return 1\n", "refused", "must define `def main(kube, **args)`"),
    Case("syntax_error", "def main(kube)\n    return 1\n", "refused", "line 1: syntax error"),
]


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SandboxServer, Path]]:
    server = SandboxServer(scenarios=["demo-shop"], speed=50.0).start()
    kc = server.write_kubeconfig(tmp_path_factory.mktemp("escape") / "kubeconfig")
    yield server, kc
    server.stop()


@pytest.fixture(scope="module")
def admin(shop) -> Kube:
    return Kube.from_kubeconfig(str(shop[1]))  # all rights: any refusal below is the toolsmith's, not RBAC's


def test_the_suite_is_large_enough():
    assert len(CASES) >= 35 and len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_escape_is_blocked(case: Case, admin: Kube, shop):
    server = shop[0]
    before = server.cluster.store.get("apps/deployments", "shop", "web")["spec"]["replicas"]
    r = run_tool(case.code, case.args, admin, **case.limits)
    assert not r.ok and r.value is None, r
    assert r.reason == case.reason, r
    assert case.says in r.error, r.error
    assert "Traceback" not in r.error
    web = server.cluster.store.get("apps/deployments", "shop", "web")
    assert web is not None and web["spec"]["replicas"] == before
    assert server.cluster.store.get("/configmaps", "shop", "x") is None


def test_refused_writes_are_shown_in_the_calls(admin: Kube):
    r = run_tool(tool("try:\n    kube.request('DELETE', '/api/v1/namespaces/shop/pods/x')\nexcept KubeError as e:\n"
                      "    return e.status"), {}, admin)
    assert r.ok and r.value == 403  # the tool may catch the refusal; it is still recorded
    assert r.calls == [{"method": "DELETE", "path": "/api/v1/namespaces/shop/pods/x", "query": {}, "status": 403,
                        "refused": r.calls[0]["refused"]}]
    assert "read-only" in r.calls[0]["refused"]


# -- part 2: past the AST gate, the run-time layers alone ---------------------------------------------------------
SUB = "[c for c in ().__class__.__base__.__subclasses__() if c.__name__ == '{}'][0]"
WRAP = SUB.format("_wrap_close") + ".__init__.__globals__"
RUNTIME = [
    ("open_builtin", tool("return open('/etc/passwd').read()"), "error", "name 'open' is not defined"),
    ("eval_builtin", tool("return eval('1')"), "error", "name 'eval' is not defined"),
    ("dunder_import_os", tool("return __import__('os').getcwd()"), "error", "import of 'os' is not allowed"),
    ("getattr_dunder", tool("return getattr((), '__class__')"), "error", "'__class__' is not accessible"),
    ("module_proxy", tool("return statistics.sys", "import statistics"), "error", "has no attribute 'sys'"),
    ("os_system", tool(f"return {WRAP}['system']('id')"), "refused", "starting a process (os.system)"),
    ("fork", tool(f"return {WRAP}['fork']()"), "refused", "starting a process (os.fork)"),
    ("posix_spawn", tool(f"return {WRAP}['sys'].modules['os'].posix_spawn('/bin/sh', ['sh'], {{}})"), "refused",
     "starting a process (os.posix_spawn)"),
    ("real_open", tool(f"return {WRAP}['__builtins__']['open']('/etc/passwd').read()"), "refused",
     "opening the file '/etc/passwd'"),
    ("fileio", tool(f"return {WRAP}['sys'].modules['io'].FileIO('/etc/hostname').read()"), "refused",
     "opening the file '/etc/hostname'"),
    ("import_socket", tool(f"return {WRAP}['__builtins__']['__import__']('socket')"), "refused",
     "import of 'socket'"),
    ("listdir", tool(f"return {WRAP}['listdir']('/')"), "refused", "'os.listdir'"),
    ("settrace", tool(f"return {WRAP}['sys'].settrace(print)"), "refused", "'sys.settrace'"),
    ("frame_walk", tool("return str(g().gi_frame.f_back)", "def g():\n    yield 1"), "refused",
     "introspection (object.__getattr__ 'gi_frame')"),
    ("code_object", tool("return (lambda: 0).__code__.co_code.hex()"), "refused",
     "introspection (object.__getattr__ '__code__')"),
    ("typing_eval", tool("return str(typing.get_type_hints(f))", "import typing\ndef f(x: 'int'):\n    pass"),
     "refused", "running dynamically built code"),
]


@pytest.mark.parametrize(("code", "reason", "says"), [r[1:] for r in RUNTIME], ids=[r[0] for r in RUNTIME])
def test_runtime_layers_block_without_the_ast_gate(code, reason, says):
    r = run_unchecked(code, {}, None)
    assert not r.ok and r.reason == reason, r
    assert says in r.error, r.error


def test_the_child_sees_no_secrets_from_the_environment(monkeypatch):
    monkeypatch.setenv("KUBESAGE_TEST_SECRET", "hunter2")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "hunter3")
    r = run_unchecked(tool(f"return dict({WRAP}['environ'])"), {}, None)
    assert r.ok, r
    assert "hunter2" not in str(r.value) and "hunter3" not in str(r.value)
    assert not [k for k in r.value if k.startswith(("KUBESAGE", "AWS", "KUBECONFIG"))]


def test_a_timeout_kills_the_whole_process_group():
    start = time.monotonic()
    before = set(_my_children())  # other suites' helpers (servers, model processes) may still be winding down
    r = run_tool(tool("while True:\n    pass"), {}, None, wall_s=1, cpu_s=30)
    assert r.reason == "timeout"
    assert time.monotonic() - start < 10
    assert set(_my_children()) - before == set()


def _my_children() -> list[str]:
    """This process's children that are still alive (zombies included)."""
    kids = []
    for pid in (p for p in os.listdir("/proc") if p.isdigit()):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == os.getpid():
            kids.append(pid)
    return kids


# -- part 3: the operating-system layers alone (no audit hook, no restricted builtins) ----------------------------
def test_operating_system_layers_hold_on_their_own():
    got = probe_isolation()
    probe, sandbox = got["probe"], got["sandbox"]
    assert probe["allocate 2 GB"].startswith("blocked: MemoryError"), probe
    assert probe["write /tmp file"].startswith("blocked"), probe
    assert sandbox["mem_mb"] == 512 and sandbox["cpu_s"] == 5
    if os.geteuid() != 0:
        pytest.skip("not root: no chroot or uid change here; fork/network depend on the host")
    # started as root: the child drops to nobody, so RLIMIT_NPROC (ignored for root) applies and forbids fork
    assert sandbox["uid"] == 65534 and sandbox["nproc"] == 0, sandbox
    assert probe["fork"].startswith("blocked: BlockingIOError"), probe
    assert sandbox["network"].startswith("none"), sandbox
    assert probe["connect"].startswith("blocked: OSError"), probe
    assert sandbox["filesystem"].startswith("none"), sandbox
    assert probe["read /etc/passwd"].startswith("blocked"), probe
