"""What a container would do: a pure, deterministic model the sandbox kubelet asks.

    pull(image)                       → PullResult (ok, or ErrImagePull / InvalidImageName with kubelet wording)
    run(c, horizon_s)                 → Run (logs, exit, readiness, HTTP/TCP answers, CPU/memory over time)
    exec(c, argv, resolver)           → ExecResult (kubectl exec / exec probes through the same small shell)

Everything is a function of the inputs: the image, the command, the environment, mounted files, limits, a seed,
the restart count, the start time the caller passes and the answers of the callbacks (`api_allowed`,
`resolver`). No threads, no processes, no clock, no global random state. Times are offsets in seconds from
the container's start; `ContainerInput.start_time` (epoch seconds) only feeds the timestamps printed in logs.

A longer horizon only extends a run: lines, exit and readiness below the shorter horizon stay identical, so
the caller may ask again with a larger horizon as simulated time passes.

The kubelet's `$(VAR)` expansion of `command`/`args` is done here (with `$$` escaping), from `env`.
"""

from __future__ import annotations

import ast
import hashlib
import json
import math
import posixpath
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus

from . import logs as L
from .clients import IMAGE_CLIENTS
from .images import (
    CATALOG,
    OS_RELEASE,
    Catalog,
    ImageRef,
    ImageSpec,
    InvalidReference,
    MiB,
    expand,
    parse_reference,
)
from .shell import (
    BASH_AS_SH,
    BUSYBOX,
    BUSYBOX_APPLETS,
    DASH,
    GNU_BASE_COMMANDS,
    SHELLS,
    Flavor,
    NetError,
    Resolver,
    ShellConfig,
    ShellResult,
    run_argv,
)

__all__ = [
    "ApiCall", "ContainerInput", "ExecResult", "ImageNotPulled", "LogLine", "NetError", "PullResult", "Run",
    "exec", "pull", "run", "expand_k8s_refs", "DEFAULT_START_TIME",
]

DEFAULT_START_TIME = 1_750_000_000.0  # 2025-06-15T15:06:40Z
ApiCheck = Callable[[str, str, str, str], bool]
Handler = Callable[[str], "tuple[int, str]"]


# ------------------------------------------------------------------------------------------------ public types

@dataclass(frozen=True)
class ContainerInput:
    image: str
    command: list[str] | None
    args: list[str] | None
    env: dict[str, str]  # resolved by the caller (ConfigMaps, Secrets, fieldRefs, service links)
    files: dict[str, str]  # mounted files: absolute path → content (ConfigMap/Secret/projected volumes)
    memory_limit: int | None  # bytes
    cpu_limit: int | None  # millicores
    ports: list[int]  # declared containerPorts (informational: apps listen where they are configured to)
    name: str
    pod: str
    namespace: str
    seed: int
    restart_count: int
    api_allowed: ApiCheck | None = None  # (verb, group, resource, namespace) → allowed?; None: everything allowed
    service_account: str = "default"
    start_time: float = DEFAULT_START_TIME  # epoch seconds of offset 0 (timestamps inside log lines)
    pod_ip: str | None = None
    gpus: int = 0  # nvidia.com/gpu in the container's limits
    request_rate: float | None = None  # requests/s the server's access log shows; None: the image's default


@dataclass(frozen=True)
class LogLine:
    t: float
    text: str
    stream: str = "stdout"


@dataclass(frozen=True)
class ApiCall:
    t: float
    verb: str
    group: str
    resource: str
    namespace: str
    allowed: bool


@dataclass(frozen=True)
class PullResult:
    ok: bool
    image: str  # as written in the pod spec
    ref: str  # what containerd resolves: "docker.io/library/nginx:1.27" ("" if unparsable)
    image_id: str  # containerStatuses[].imageID: "docker.io/library/nginx@sha256:…" ("" on failure)
    digest: str
    size: int  # bytes (the "Image size" of the Pulled event)
    duration_s: float
    reason: str | None  # None | "ErrImagePull" | "InvalidImageName"
    message: str  # containerStatuses[].state.waiting.message for `reason` ("" when ok)
    events: tuple[tuple[str, str, str], ...]  # (type, reason, message) the kubelet records for this attempt
    backoff_message: str = ""  # the waiting message while in ImagePullBackOff

    @property
    def code(self) -> str:
        m = re.match(r"rpc error: code = (\w+)", self.message)
        return m.group(1) if m else ""


@dataclass(frozen=True)
class ExecResult:
    stdout: str
    stderr: str
    exit_code: int  # -1: still running when timeout_s ran out (timed_out)
    error: str | None = None  # the exec could not start (binary missing): the runtime error the API returns
    duration_s: float = 0.0
    timed_out: bool = False


class ImageNotPulled(ValueError):
    """run()/exec() was asked for an image pull() refuses."""


# ------------------------------------------------------------------------------------------------ pull

_KNOWN_REGISTRIES = {"docker.io", "registry.k8s.io", "k8s.gcr.io", "gcr.io", "ghcr.io", "quay.io", "public.ecr.aws",
                     "mcr.microsoft.com", "nvcr.io", "registry.gitlab.com", "docker.elastic.co", "cr.l5d.io"}


def pull(image: str, *, seed: int = 0, catalog: Catalog = CATALOG) -> PullResult:
    """Pull `image` from the simulated registries: the catalog's repositories and tags exist, nothing else does."""
    try:
        ref = parse_reference(image)
    except InvalidReference as e:
        msg = f'Failed to apply default image tag "{image}": couldn\'t parse image name "{image}": {e}'
        return PullResult(False, image, "", "", "", 0, 0.0, "InvalidImageName", msg,
                          (("Warning", "InspectFailed", msg), ("Warning", "Failed", "Error: InvalidImageName")))
    spec = catalog.get(ref)
    canonical = ref.canonical
    resolve_ref = ref.name + ("@" + ref.digest if ref.digest else ":" + (ref.effective_tag or "latest"))
    err: tuple[str, str] | None = None
    if spec is None:
        err = _unknown_repo_error(ref, resolve_ref)
    else:
        tag = ref.effective_tag
        if ref.digest:
            if ref.digest not in {spec.digest_of(t) for t in spec.tags} or (tag and not spec.has_tag(tag)):
                err = ("NotFound", f'failed to resolve reference "{resolve_ref}": {resolve_ref}: not found')
        elif tag and not spec.has_tag(tag):
            err = ("NotFound", f'failed to resolve reference "{resolve_ref}": {resolve_ref}: not found')
    pulling = ("Normal", "Pulling", f'Pulling image "{image}"')
    if err is not None:
        code, detail = err
        msg = f'rpc error: code = {code} desc = failed to pull and unpack image "{canonical}": {detail}'
        return PullResult(False, image, canonical, "", "", 0, 0.0, "ErrImagePull", msg,
                          (pulling, ("Warning", "Failed", f'Failed to pull image "{image}": {msg}'),
                           ("Warning", "Failed", "Error: ErrImagePull")),
                          backoff_message=f'Back-off pulling image "{image}": ErrImagePull: {msg}')
    assert spec is not None
    tag = ref.effective_tag or next((t for t in spec.tags if spec.digest_of(t) == ref.digest), "latest")
    digest = ref.digest or spec.digest_of(tag)
    size = spec.size + int(digest[7:15], 16) % 1_000_000
    r = L.rng_for("pull", seed, canonical)
    duration = round(0.35 + size / (r.uniform(45, 90) * 1_000_000), 3)
    waited = round(duration + r.choice([0.0, 0.0, 0.0, r.uniform(0.1, 2.0)]), 3)
    pulled = (f'Successfully pulled image "{image}" in {_go_duration(duration)} ({_go_duration(waited)} including '
              f"waiting). Image size: {size} bytes.")
    return PullResult(True, image, canonical, f"{ref.name}@{digest}", digest, size, duration, None, "",
                      (pulling, ("Normal", "Pulled", pulled)))


def _unknown_repo_error(ref: ImageRef, resolve_ref: str) -> tuple[str, str]:
    reg, repo, tag = ref.registry, ref.repository, ref.effective_tag or ref.digest or "latest"
    host = reg.split(":")[0]
    if reg == "docker.io":
        return ("Unknown", f'failed to resolve reference "{resolve_ref}": pull access denied, repository does not '
                           "exist or may require authorization: server message: insufficient_scope: authorization "
                           "failed")
    if reg == "ghcr.io":
        scope = repo.replace("/", "%2F")
        return ("Unknown", f'failed to resolve reference "{resolve_ref}": failed to authorize: failed to fetch '
                           f"anonymous token: unexpected status from GET request to https://ghcr.io/token?scope="
                           f"repository%3A{scope}%3Apull&service=ghcr.io: 401 Unauthorized")
    if reg == "quay.io":
        return ("Unknown", f'failed to resolve reference "{resolve_ref}": unexpected status from HEAD request to '
                           f"https://quay.io/v2/{repo}/manifests/{tag}: 401 UNAUTHORIZED")
    if reg in _KNOWN_REGISTRIES:
        return ("NotFound", f'failed to resolve reference "{resolve_ref}": {resolve_ref}: not found')
    if host in ("localhost", "127.0.0.1"):
        port = reg.split(":")[1] if ":" in reg else "443"
        return ("Unknown", f'failed to resolve reference "{resolve_ref}": failed to do request: Head '
                           f'"https://{reg}/v2/{repo}/manifests/{tag}": dial tcp 127.0.0.1:{port}: connect: '
                           "connection refused")
    return ("Unknown", f'failed to resolve reference "{resolve_ref}": failed to do request: Head '
                       f'"https://{reg}/v2/{repo}/manifests/{tag}": dial tcp: lookup {host} on 127.0.0.53:53: '
                       "no such host")


def _go_duration(s: float) -> str:
    """Go's time.Duration.String() of a duration truncated to milliseconds."""
    ms = int(round(s * 1000))
    if ms < 1000:
        return f"{ms}ms"
    minutes, rem = divmod(ms, 60_000)
    secs = f"{rem / 1000:.3f}".rstrip("0").rstrip(".")
    return f"{minutes}m{secs}s" if minutes else f"{secs}s"


# ------------------------------------------------------------------------------------------------ the run

@dataclass
class _Stream:
    start: float
    gen: Callable[[float, float], list[LogLine]]  # lines with t in [t0, t1)


@dataclass
class _Behaviour:
    lines: list[LogLine] = field(default_factory=list)
    streams: list[_Stream] = field(default_factory=list)
    exit: tuple[float, int, str] | None = None
    ready: float | None = None
    listen_from: float | None = None  # ports accept connections from (≤ ready; the loading handler answers)
    ports: dict[int, Handler | None] = field(default_factory=dict)  # None: TCP only (not HTTP)
    loading: dict[int, Handler] = field(default_factory=dict)  # answers between listen_from and ready
    banners: dict[int, str] = field(default_factory=dict)  # what a TCP-only port says to an HTTP request
    mem_points: list[tuple[float, float]] = field(default_factory=lambda: [(0.0, MiB)])
    mem_noise: float = 0.03
    cpu: Callable[[float], float] | None = None
    termination_message: str = ""
    complete_until: float = math.inf
    api_calls: list[ApiCall] = field(default_factory=list)
    processes: list[tuple[int, str, str]] = field(default_factory=list)
    fs_log: list[tuple[float, str, str | None]] = field(default_factory=list)
    started: bool = True
    serve: tuple[str, ...] = ()  # argv of a model server the sandbox runs for real (sandbox/behaviour/serving.py)


@dataclass
class Run:
    """The simulated life of one container start. Offsets are seconds from the start."""

    image: str
    lines: list[LogLine]
    exit: tuple[float, int, str] | None  # (offset, exit code, reason "Completed" | "Error" | "OOMKilled" | "StartError")
    ready_after: float | None  # when the ports answer (0.0 for a running process without ports); None: never
    termination_message: str  # what the container wrote to /dev/termination-log (or the runtime's error)
    complete_until: float  # lines are complete up to here (the horizon, unless capped by max_lines)
    horizon: float
    started: bool  # False: the process never started (StartError)
    api_calls: list[ApiCall]
    processes: list[tuple[int, str, str]]  # (pid, user, command line) — what `ps` shows
    rotated_before: float  # > 0: `lines` keeps only the newest max_lines; older lines were rotated away
    _b: _Behaviour = field(repr=False)
    _mem: Callable[[float], float] = field(repr=False)
    _cpu: Callable[[float], float] = field(repr=False)
    _limits: tuple[int | None, int | None] = field(repr=False, default=(None, None))
    _files: dict[str, str] = field(repr=False, default_factory=dict)
    _collect: Callable[[float, float, bool], list[LogLine]] | None = field(repr=False, default=None)
    _end: float = field(repr=False, default=0.0)
    serve: tuple[str, ...] = ()  # non-empty: a llama.cpp server the kubelet also starts as a real process

    @property
    def logs(self) -> list[tuple[float, str]]:
        return [(ln.t, ln.text) for ln in self.lines]

    def logs_between(self, t0: float, t1: float) -> list[LogLine]:
        """Lines with t0 <= t <= t1 (regenerated, so it also reaches lines rotated out of `lines`)."""
        t1 = min(t1, self._end)
        if self._collect is None or t0 > t1:
            return [ln for ln in self.lines if t0 <= ln.t <= t1]
        return self._collect(max(0.0, t0), t1, True)

    def alive(self, t: float) -> bool:
        return self.started and t >= 0 and (self.exit is None or t < self.exit[0])

    def _at(self, t: float | None) -> float | None:
        """Resolve t=None to the steady state (ready, still running); None when there is none."""
        if t is not None:
            return t
        if self.ready_after is None:
            return None
        return self.ready_after

    def http(self, port: int, path: str = "/", t: float | None = None) -> tuple[int, str] | None:
        """(status, body) of `GET path` on `port` at offset t (None: steady state); None: connection refused."""
        at = self._at(t)
        b = self._b
        if at is None or not self.alive(at) or b.listen_from is None or at < b.listen_from:
            return None
        if self.ready_after is None or at < self.ready_after:
            loading = b.loading.get(port)
            return loading(path) if loading else None
        handler = b.ports.get(port)
        return handler(path) if handler else None

    def serves(self, port: int, path: str = "/", t: float | None = None) -> int | None:
        """HTTP status of an httpGet probe; None: connection refused (or not an HTTP port)."""
        answer = self.http(port, path, t)
        return answer[0] if answer else None

    def tcp_open(self, port: int, t: float | None = None) -> bool:
        at = self._at(t)
        b = self._b
        if at is None or not self.alive(at) or b.listen_from is None or at < b.listen_from:
            return False
        if self.ready_after is None or at < self.ready_after:
            return port in b.loading
        return port in b.ports

    def probe(self, kind: str, port: int, path: str = "/", t: float | None = None,
              host: str = "10.244.0.2", scheme: str = "http") -> tuple[bool, str]:
        """(success, kubelet failure message) of an httpGet ("http") or tcpSocket ("tcp") probe."""
        if kind == "tcp":
            if self.tcp_open(port, t):
                return True, ""
            return False, f"dial tcp {host}:{port}: connect: connection refused"
        url = f"{scheme}://{host}:{port}{path}"
        if not self.tcp_open(port, t):
            return False, f'Get "{url}": dial tcp {host}:{port}: connect: connection refused'
        answer = self.http(port, path, t)
        if answer is None:
            banner = self._b.banners.get(port)
            if banner:
                return False, (f'Get "{url}": net/http: HTTP/1.x transport connection broken: malformed HTTP '
                               f'response "{banner}"')
            return False, f'Get "{url}": EOF'
        status = answer[0]
        if 200 <= status < 400:
            return True, ""
        return False, f"HTTP probe failed with statuscode: {status}"

    def usage(self, t: float) -> tuple[int, int]:
        """(CPU millicores, memory working set bytes) at offset t; (0, 0) when not running."""
        if not self.alive(t):
            return (0, 0)
        cpu_limit, mem_limit = self._limits
        cpu = max(0.0, self._cpu(t))
        if cpu_limit is not None:
            cpu = min(cpu, float(cpu_limit))
        mem = max(0.0, self._mem(t))
        if mem_limit is not None:
            mem = min(mem, float(mem_limit))
        return int(round(cpu)), int(mem)

    def files_at(self, t: float) -> dict[str, str]:
        """The container's files at offset t (image + mounts + what the process wrote so far)."""
        fs = dict(self._files)
        for when, path, content in self._b.fs_log:
            if when > t:
                break
            if content is None:
                fs.pop(path, None)
            else:
                fs[path] = content
        return fs

    def termination_message_for(self, policy: str = "File") -> str:
        """state.terminated.message under terminationMessagePolicy File or FallbackToLogsOnError."""
        if self.termination_message or policy != "FallbackToLogsOnError" or self.exit is None \
                or self.exit[1] == 0:
            return self.termination_message
        tail = [ln.text for ln in self.lines if ln.t <= self.exit[0]][-80:]
        text = "\n".join(tail)
        return text[-2048:]


# ------------------------------------------------------------------------------------------------ helpers

def expand_k8s_refs(s: str, env: dict[str, str]) -> str:
    """Kubernetes' `$(VAR)` expansion of command/args: defined names are replaced, `$$` is a literal `$`."""
    out = []
    i = 0
    while i < len(s):
        c = s[i]
        if c == "$" and i + 1 < len(s):
            n = s[i + 1]
            if n == "$":
                out.append("$")
                i += 2
                continue
            if n == "(":
                j = s.find(")", i + 2)
                if j > 0:
                    name = s[i + 2:j]
                    out.append(env[name] if name in env else s[i:j + 1])
                    i = j + 1
                    continue
        out.append(c)
        i += 1
    return "".join(out)


def _knot(key: str, k: int) -> float:
    return random.Random(f"{key}/{k}").uniform(-1.0, 1.0)


def _noise(key: str, t: float, period: float = 20.0) -> float:
    """Smooth deterministic noise in [-1, 1]."""
    k = math.floor(t / period)
    f = t / period - k
    w = (1 - math.cos(math.pi * f)) / 2
    return _knot(key, k) * (1 - w) + _knot(key, k + 1) * w


def _interp(points: list[tuple[float, float]], t: float) -> float:
    if t <= points[0][0]:
        return points[0][1]
    for (t0, v0), (t1, v1) in zip(points, points[1:], strict=False):
        if t <= t1:
            return v0 + (v1 - v0) * ((t - t0) / (t1 - t0) if t1 > t0 else 1.0)
    return points[-1][1]


def _fake_pod_ip(key: str) -> str:
    r = random.Random(f"ip/{key}")
    return f"10.244.{r.randrange(0, 4)}.{r.randrange(2, 250)}"


def _reason(code: int) -> str:
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return ""


def _json_body(d: dict) -> str:
    return json.dumps(d, separators=(",", ":"))


def _json_str(s: str) -> str:
    return json.dumps(s)


# ------------------------------------------------------------------------------------------------ context

@dataclass
class _Ctx:
    c: ContainerInput
    ref: ImageRef
    spec: ImageSpec
    tag: str
    version: str
    base: str
    env: dict[str, str]
    files: dict[str, str]
    key: str
    epoch: float
    slow: float
    horizon: float
    pod_ip: str
    rate: float
    resolver: Resolver | None
    max_lines: int

    def rng(self, *parts: object) -> random.Random:
        return L.rng_for(self.key, *parts)

    def s(self, t: float) -> float:
        """A start-up offset stretched by CPU throttling."""
        return t * self.slow

    def ts(self, t: float) -> float:
        return self.epoch + t


class _B:
    """Builder for a behaviour."""

    def __init__(self, ctx: _Ctx) -> None:
        self.ctx = ctx
        self.b = _Behaviour()

    def log(self, t: float, text: str, stream: str = "stdout") -> None:
        for line in text.split("\n"):
            self.b.lines.append(LogLine(t, line, stream))

    def logs(self, t: float, lines: list[str], stream: str = "stdout", dt: float = 0.0) -> float:
        for k, line in enumerate(lines):
            self.b.lines.append(LogLine(t + k * dt, line, stream))
        return t + len(lines) * dt

    def every(self, start: float, period: float, fn: Callable[[int, float], list[tuple[str, str]]],
              jitter: float = 0.0, name: str = "every") -> None:
        key = self.ctx.key

        def gen(t0: float, t1: float) -> list[LogLine]:
            out = []
            i0 = max(0, int(math.floor((t0 - start) / period)) - 1)
            i1 = int(math.ceil((t1 - start) / period)) + 1
            for i in range(i0, i1 + 1):
                t = start + i * period + (L.rng_for(key, name, i).random() * jitter if jitter else 0.0)
                if t0 <= t < t1:
                    out.extend(LogLine(t, text, stream) for text, stream in fn(i, t))
            return out
        self.b.streams.append(_Stream(start, gen))

    def traffic(self, start: float, port: int, profile: str,
                fmt: Callable[[L.Request, float], list[tuple[str, str]]], *, rate: float | None = None,
                internal: bool = False) -> None:
        rate = self.ctx.rate if rate is None else rate
        if rate <= 0:
            return
        key = f"{self.ctx.key}/{port}"
        ctx = self.ctx
        handler = self.b.ports.get(port)

        def route(method: str, path: str) -> tuple[int, int]:
            if handler is None:
                return 200, 0
            status, body = handler(path)
            if method == "POST" and status == 405:
                status = 201
            return status, len(body.encode())

        def gen(t0: float, t1: float) -> list[LogLine]:
            out = []
            for req in L.requests_between(key, t0, t1, rate, port=port, profile=profile, start=start, route=route,
                                          internal=internal):
                out.extend(LogLine(req.t, text, stream) for text, stream in fmt(req, ctx.ts(req.t)))
            return out
        self.b.streams.append(_Stream(start, gen))

    def listen(self, ports: dict[int, Handler | None], at: float, ready: float | None = None) -> None:
        self.b.ports.update(ports)
        self.b.listen_from = at if self.b.listen_from is None else min(self.b.listen_from, at)
        self.b.ready = at if ready is None else ready

    def exit(self, t: float, code: int) -> None:
        self.b.exit = (t, code, "Completed" if code == 0 else "Error")

    def mem(self, *points: tuple[float, float], noise: float = 0.03) -> None:
        self.b.mem_points = list(points)
        self.b.mem_noise = noise

    def cpu_profile(self, startup: float, until: float, steady: float, noise: float = 0.25) -> None:
        key = self.ctx.key + "/cpu"

        def cpu(t: float) -> float:
            if t < until:
                return startup
            return max(0.0, steady * (1 + noise * _noise(key, t, 15.0)))
        self.b.cpu = cpu


def _spec_env(spec: ImageSpec, version: str) -> list[tuple[str, str]]:
    return [(k, expand(spec, v, version)) for k, v in spec.env]


def _full_env(ctx_spec: ImageSpec, version: str, c: ContainerInput) -> dict[str, str]:
    """The process environment in the order a container runtime builds it."""
    image_env = _spec_env(ctx_spec, version)
    path = next((v for k, v in image_env if k == "PATH"),
                "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
    env: dict[str, str] = {"PATH": c.env.get("PATH", path), "HOSTNAME": c.pod}
    for k, v in image_env:
        if k not in env:
            env[k] = c.env.get(k, v)
    for k, v in c.env.items():
        if k not in env:
            env[k] = v
    if "HOME" not in env:
        user = ctx_spec.user[0]
        env["HOME"] = "/root" if ctx_spec.user[1] == 0 else f"/home/{user}"
    return env


def _image_files(spec: ImageSpec, version: str, base: str, c: ContainerInput, pod_ip: str) -> dict[str, str]:
    files = {p: expand(spec, v, version) for p, v in spec.files}
    if base in OS_RELEASE:
        files["/etc/os-release"] = OS_RELEASE[base]
    # the kubelet mounts these into every container
    files["/etc/hostname"] = c.pod + "\n"
    files["/etc/hosts"] = ("# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost "
                           "ip6-loopback\nfe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\n"
                           f"fe00::2\tip6-allrouters\n{pod_ip}\t{c.pod}\n")
    files["/etc/resolv.conf"] = (f"search {c.namespace}.svc.cluster.local svc.cluster.local cluster.local\n"
                                 "nameserver 10.96.0.10\noptions ndots:5\n")
    files.update(c.files)
    return files


def _shell_setup(spec: ImageSpec, base: str, tag: str = "") -> tuple[Flavor | None, frozenset[str]]:
    """The image's /bin/sh flavour (None: no shell) and the commands it has (-slim variants add no tools)."""
    tools = frozenset() if "slim" in tag else frozenset(spec.tools)
    if base in ("busybox", "alpine"):
        cmds = BUSYBOX_APPLETS | tools
        if base == "alpine":
            cmds |= {"apk"}
        return BUSYBOX, cmds
    if base in ("debian", "ubuntu"):
        return DASH, GNU_BASE_COMMANDS | tools
    if base == "oraclelinux":
        return BASH_AS_SH, (GNU_BASE_COMMANDS | tools | {"microdnf"}) - {"dash"}
    return None, frozenset()


def _readonly_paths(c: ContainerInput) -> frozenset[str]:
    out = set()
    for p in c.files:
        out.add(p)
        out.add(posixpath.dirname(p))
    return frozenset(out)


def _effective_argv(spec: ImageSpec, c: ContainerInput, env: dict[str, str]) -> list[str]:
    if c.command:
        argv = list(c.command) + list(c.args or [])
    elif c.args is not None and len(c.args) > 0:
        argv = list(spec.entrypoint) + list(c.args)
    else:
        argv = list(spec.entrypoint) + list(spec.cmd)
    return [expand_k8s_refs(a, env) for a in argv]


def _context(c: ContainerInput, horizon: float, resolver: Resolver | None, catalog: Catalog,
             max_lines: int) -> _Ctx:
    result = pull(c.image, catalog=catalog)
    if not result.ok:
        raise ImageNotPulled(result.message)
    ref = parse_reference(c.image)
    spec = catalog.get(ref)
    assert spec is not None
    tag = ref.effective_tag or next((t for t in spec.tags if spec.digest_of(t) == ref.digest), "latest")
    version = spec.version_of(tag)
    base = spec.base_for(tag)
    key = f"{c.seed}/{c.namespace}/{c.pod}/{c.name}/{c.restart_count}"
    pod_ip = c.pod_ip or _fake_pod_ip(f"{c.seed}/{c.namespace}/{c.pod}")
    env = _full_env(spec, version, c)
    files = _image_files(spec, version, base, c, pod_ip)
    startup_cpu = max(spec.startup_cpu, spec.cpu)
    slow = max(1.0, startup_cpu / c.cpu_limit) if c.cpu_limit else 1.0
    rate = spec.request_rate if c.request_rate is None else c.request_rate
    return _Ctx(c, ref, spec, tag, version, base, env, files, key, c.start_time, slow, horizon, pod_ip, rate,
                resolver, max_lines)


# ------------------------------------------------------------------------------------------------ run()

def run(c: ContainerInput, horizon_s: float, *, resolver: Resolver | None = None, catalog: Catalog = CATALOG,
        max_lines: int = 10_000) -> Run:
    """Simulate container `c` from its start to `horizon_s` seconds (or its exit)."""
    ctx = _context(c, horizon_s, resolver, catalog, max_lines)
    argv = _effective_argv(ctx.spec, c, ctx.env)
    beh = _dispatch(ctx, argv)
    return _assemble(ctx, beh, argv)


def _start_error(ctx: _Ctx, what: str) -> _Behaviour:
    msg = ("failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create "
           f"failed: unable to start container process: error during container init: {what}: unknown")
    return _Behaviour(exit=(0.0, 128, "StartError"), termination_message=msg, started=False, ready=None)


def _exec_missing(name: str) -> str:
    if "/" in name:
        return f'exec: "{name}": stat {name}: no such file or directory'
    return f'exec: "{name}": executable file not found in $PATH'


_ENTRYPOINT_WRAPPERS = {"docker-entrypoint.sh", "entrypoint.sh", "/docker-entrypoint.sh", "/entrypoint.sh",
                        "/usr/local/bin/docker-entrypoint.sh"}


def _dispatch(ctx: _Ctx, argv: list[str]) -> _Behaviour:
    spec = ctx.spec
    if not argv or (spec.program == "generic" and not spec.programs and list(spec.entrypoint) + list(spec.cmd)
                    == argv[:len(spec.entrypoint) + len(spec.cmd)]):
        if spec.program == "generic":
            return _program(ctx, argv, False)
        return _start_error(ctx, "exec: no command specified")
    wrapped = False
    if argv[0] in _ENTRYPOINT_WRAPPERS and argv[0] in set(spec.entrypoint) | {"/" + e for e in spec.entrypoint}:
        rest = argv[1:]
        default0 = spec.cmd[0] if spec.cmd else (spec.programs[0] if spec.programs else "")
        if not rest or rest[0].startswith("-"):
            rest = [default0] + rest
        argv = rest
        wrapped = True
    flavor, commands = _shell_setup(spec, ctx.base, ctx.tag)
    name = posixpath.basename(argv[0])
    if argv[0] in spec.programs or name in spec.programs:
        return _program(ctx, argv, wrapped)
    if name in SHELLS:
        if flavor is None or (name == "bash" and flavor.shell == "ash" and "bash" not in commands):
            return _start_error(ctx, _exec_missing(argv[0]))
        return _shell_behaviour(ctx, argv, flavor, commands)
    if "/" in argv[0] and argv[0] in ctx.files:
        if flavor is None:
            return _start_error(ctx, _exec_missing(argv[0]))
        return _shell_behaviour(ctx, argv, flavor, commands)
    if name in commands and ("/" not in argv[0] or posixpath.dirname(argv[0]) in (
            "/bin", "/usr/bin", "/sbin", "/usr/sbin", "/usr/local/bin")):
        return _shell_behaviour(ctx, argv, flavor or BUSYBOX, commands)
    return _start_error(ctx, _exec_missing(argv[0]))


def _shell_config(ctx: _Ctx, flavor: Flavor, commands: frozenset[str], *, horizon: float, time0: float = 0.0,
                  stdin: str = "", files: dict[str, str] | None = None, pid: int = 1,
                  local: Callable[[int, str], tuple[int, str] | None] | None = None,
                  local_tcp: Callable[[int], bool] | None = None, resolver: Resolver | None = None,
                  processes: tuple[tuple[int, str, str], ...] = (), max_events: int | None = None) -> ShellConfig:
    return ShellConfig(
        env=dict(ctx.env), files=dict(ctx.files if files is None else files), readonly=_readonly_paths(ctx.c),
        dirs=frozenset({"/bin", "/etc", "/home", "/root", "/tmp", "/usr", "/usr/bin", "/usr/local", "/usr/local/bin",
                        "/var", "/var/log", "/run", "/proc", "/sys", "/dev", "/opt", "/srv", "/mnt", "/lib",
                        "/sbin", ctx.spec.workdir}),
        flavor=flavor, commands=commands, programs=frozenset(ctx.spec.programs), hostname=ctx.c.pod,
        pod_ip=ctx.pod_ip, user=ctx.spec.user, start_time=ctx.epoch, time0=time0,
        resolver=resolver if resolver is not None else ctx.resolver, local=local, local_tcp=local_tcp,
        seed=ctx.key, horizon=horizon, max_events=max_events or max(ctx.max_lines * 5, 10_000), stdin=stdin, pid=pid,
        processes=processes)


def _shell_behaviour(ctx: _Ctx, argv: list[str], flavor: Flavor, commands: frozenset[str]) -> _Behaviour:
    cfg = _shell_config(ctx, flavor, commands, horizon=ctx.horizon)
    cfg.env = dict(ctx.env)
    # the shell's own HTTP listeners (busybox httpd) answer localhost
    res = run_argv(argv, cfg)
    return _from_shell(ctx, argv, res)


def _from_shell(ctx: _Ctx, argv: list[str], res: ShellResult) -> _Behaviour:
    if res.stopped and res.stopped.startswith("exec-not-found:"):
        return _start_error(ctx, _exec_missing(res.stopped.split(":", 1)[1]))
    b = _Behaviour()
    b.lines = [LogLine(t, text, stream) for t, stream, text in res.lines()]
    b.processes = [(1, ctx.spec.user[0], " ".join(argv))]
    b.fs_log = list(res.fs_log)
    b.termination_message = res.files.get("/dev/termination-log", "")
    shell_mem = 0.5 * MiB if ctx.base in ("busybox", "alpine") else 1.2 * MiB
    b.mem_points = [(0.0, shell_mem)]
    b.mem_noise = 0.01
    busy_from = res.busy_from
    b.cpu = (lambda t: 1000.0 if busy_from is not None and t >= busy_from else 0.0)
    if res.handoff is not None:
        t_h, prog_argv, env = res.handoff
        sub_ctx = _Ctx(**{**ctx.__dict__, "env": env, "epoch": ctx.epoch + t_h, "horizon": ctx.horizon - t_h,
                           "key": f"{ctx.key}/exec"})
        sub = _program(sub_ctx, prog_argv, False)
        return _shift_merge(b, sub, t_h)
    if res.status is not None:
        b.exit = (res.ended_at, res.status, "Completed" if res.status == 0 else "Error")
    elif res.stopped in ("max_events", "max_steps") or (
            res.stopped == "busy" and res.chunks and res.busy_from is not None and res.chunks[-1][0] >= res.busy_from):
        b.complete_until = res.ended_at
    ports: dict[int, Handler | None] = {}
    listen_from = None
    for port, lst in res.listening.items():
        listen_from = lst.since if listen_from is None else min(listen_from, lst.since)
        ports[port] = _docroot_handler(res.files, lst.docroot) if lst.kind == "http" else None
    b.ports = ports
    b.listen_from = listen_from if ports else 0.0
    b.ready = listen_from if ports else 0.0
    return b


def _docroot_handler(files: dict[str, str], docroot: str) -> Handler:
    def handle(path: str) -> tuple[int, str]:
        p = posixpath.normpath(posixpath.join(docroot, path.split("?")[0].lstrip("/")))
        if p in files:
            return 200, files[p]
        if posixpath.join(p, "index.html") in files:
            return 200, files[posixpath.join(p, "index.html")]
        return 404, ("<HTML><HEAD><TITLE>404 Not Found</TITLE></HEAD>\n<BODY><H1>404 Not Found</H1>\n"
                     "The requested URL was not found\n</BODY></HTML>\n")
    return handle


def _shift_merge(shell: _Behaviour, prog: _Behaviour, t0: float) -> _Behaviour:
    """The shell ran until t0, then exec'd an image program: shift the program's timeline by t0."""
    out = prog
    out.lines = shell.lines + [LogLine(ln.t + t0, ln.text, ln.stream) for ln in prog.lines]
    out.streams = [_Stream(s.start + t0, _shifted(s.gen, t0)) for s in prog.streams]
    if prog.exit is not None:
        out.exit = (prog.exit[0] + t0, prog.exit[1], prog.exit[2])
    out.ready = None if prog.ready is None else prog.ready + t0
    out.listen_from = None if prog.listen_from is None else prog.listen_from + t0
    out.mem_points = [(t + t0, v) for t, v in prog.mem_points]
    pc = prog.cpu
    out.cpu = (lambda t: pc(t - t0)) if pc else None
    out.api_calls = [ApiCall(a.t + t0, a.verb, a.group, a.resource, a.namespace, a.allowed) for a in prog.api_calls]
    out.fs_log = shell.fs_log + prog.fs_log
    if not out.started:
        out.started = True
    return out


def _shifted(gen: Callable[[float, float], list[LogLine]], t0: float) -> Callable[[float, float], list[LogLine]]:
    def g(a: float, b: float) -> list[LogLine]:
        return [LogLine(ln.t + t0, ln.text, ln.stream) for ln in gen(a - t0, b - t0)]
    return g


def _assemble(ctx: _Ctx, b: _Behaviour, argv: list[str]) -> Run:
    c = ctx.c
    horizon = ctx.horizon
    mem_key = ctx.key + "/mem"
    points = b.mem_points or [(0.0, MiB)]
    noise = b.mem_noise

    def mem(t: float) -> float:
        return _interp(points, t) * (1 + noise * _noise(mem_key, t))

    cpu_fn = b.cpu or (lambda t: float(ctx.spec.cpu))
    exit_ = b.exit
    if b.started and c.memory_limit is not None:
        t_oom = _oom_time(mem, points, c.memory_limit, min(horizon, exit_[0] if exit_ else horizon))
        if t_oom is not None and (exit_ is None or t_oom < exit_[0]):
            exit_ = (t_oom, 137, "OOMKilled")
    if exit_ is not None:
        exit_ = (round(exit_[0], 6), exit_[1], exit_[2])
    b.exit = exit_
    end = horizon if exit_ is None else min(horizon, exit_[0])
    oom = exit_ is not None and exit_[2] == "OOMKilled"
    fixed = sorted((_rounded(ln) for ln in b.lines if ln.t <= end and not (oom and ln.t >= end)),
                   key=lambda ln: ln.t)
    open_end = 1e-9 if exit_ is None or exit_[0] > horizon else 0.0
    streams = b.streams

    def collect(t0: float, t1: float, closed: bool = True) -> list[LogLine]:
        """Lines with t0 <= t <= t1 (t < t1 when not closed); t1 <= end."""
        out = [ln for ln in fixed if t0 <= ln.t and (ln.t <= t1 if closed else ln.t < t1)]
        for s in streams:
            lo = max(t0, s.start, 0.0)
            hi = t1 + (open_end if t1 >= end else 1e-9) if closed else t1
            if hi > lo:
                out.extend(_rounded(ln) for ln in s.gen(lo, hi)
                           if t0 <= ln.t and (ln.t <= min(t1, end) if closed else ln.t < t1)
                           and not (oom and ln.t >= end))
        out.sort(key=lambda ln: ln.t)
        return out

    max_lines = ctx.max_lines
    lines: list[LogLine]
    if not streams:
        lines = fixed
    else:
        chunks: list[list[LogLine]] = []
        count, hi, window, closed = 0, end, 600.0, True
        while True:
            lo = max(0.0, hi - window)
            part = collect(lo, hi, closed)
            chunks.append(part)
            count += len(part)
            if count >= max_lines or lo <= 0.0:
                break
            hi, closed, window = lo, False, window * 2
        lines = [ln for part in reversed(chunks) for ln in part]
    rotated = 0.0
    if len(lines) > max_lines:
        lines = lines[-max_lines:]
        rotated = lines[0].t
    ready = None if b.ready is None else round(b.ready, 6)
    if b.listen_from is not None:
        b.listen_from = round(b.listen_from, 6)
    if ready is not None and exit_ is not None and ready >= exit_[0]:
        ready = None
    processes = b.processes or [(1, ctx.spec.user[0], " ".join(argv))]
    return Run(image=c.image, lines=lines, exit=exit_, ready_after=ready if b.started else None,
               termination_message=b.termination_message, complete_until=min(horizon, b.complete_until),
               horizon=horizon, started=b.started, api_calls=b.api_calls, processes=processes,
               rotated_before=rotated, _b=b, _mem=mem, _cpu=cpu_fn, _limits=(c.cpu_limit, c.memory_limit),
               _files=dict(ctx.files), _collect=collect, _end=end,
               serve=b.serve if b.started and exit_ is None else ())


def _rounded(ln: LogLine) -> LogLine:
    r = round(ln.t, 6)
    return ln if r == ln.t else LogLine(r, ln.text, ln.stream)


def _oom_time(mem: Callable[[float], float], points: list[tuple[float, float]], limit: int,
              until: float) -> float | None:
    """First offset where the working set crosses the limit (None if it never does before `until`)."""
    if max(v for _, v in points) * 1.2 < limit:
        return None
    ramp_end = max(p[0] for p in points)
    t, prev = 0.0, 0.0
    while t <= until:
        if mem(t) > limit:
            lo, hi = prev, t
            if lo == hi:
                return t
            for _ in range(30):
                mid = (lo + hi) / 2
                if mem(mid) > limit:
                    hi = mid
                else:
                    lo = mid
            return hi
        prev = t
        t = t + 0.05 if t < ramp_end + 1 else t + 5.0
    return None


# ------------------------------------------------------------------------------------------------ programs

def _program(ctx: _Ctx, argv: list[str], wrapped: bool) -> _Behaviour:
    fn = _PROGRAMS.get(ctx.spec.program, _p_generic)
    return fn(ctx, argv, wrapped)


def _arg_value(argv: list[str], *names: str) -> str | None:
    """The value of `--name value`, `--name=value` or `-n value`."""
    for k, a in enumerate(argv):
        for n in names:
            if a == n and k + 1 < len(argv):
                return argv[k + 1]
            if n.startswith("--") and a.startswith(n + "="):
                return a.split("=", 1)[1]
    return None


def _port_of(value: str | None, default: int) -> int:
    if not value:
        return default
    m = re.search(r"(\d+)$", value)
    return int(m.group(1)) if m else default


# ---- nginx

def _nginx_conf(files: dict[str, str]) -> tuple[str, list[str]]:
    """All nginx configuration text (nginx.conf + conf.d/*.conf) and the file names."""
    names = ["/etc/nginx/nginx.conf"] + sorted(p for p in files if p.startswith("/etc/nginx/conf.d/")
                                               and p.endswith(".conf"))
    return "\n".join(files.get(n, "") for n in names), names


def _p_nginx(ctx: _Ctx, argv: list[str], wrapped: bool) -> _Behaviour:
    B = _B(ctx)
    files = ctx.files
    version = ctx.version
    alpine = ctx.base == "alpine"
    t = 0.0
    quiet = bool(ctx.env.get("NGINX_ENTRYPOINT_QUIET_LOGS"))
    if wrapped and not quiet:
        conf_mounted = "/etc/nginx/conf.d/default.conf" in ctx.c.files
        ipv6 = ("10-listen-on-ipv6-by-default.sh: info: can not modify /etc/nginx/conf.d/default.conf (read-only "
                "file system?)") if conf_mounted else (
            "10-listen-on-ipv6-by-default.sh: info: Getting the checksum of /etc/nginx/conf.d/default.conf\n"
            "10-listen-on-ipv6-by-default.sh: info: Enabled listen on IPv6 in /etc/nginx/conf.d/default.conf")
        if "/etc/nginx/conf.d/default.conf" not in files:
            ipv6 = "10-listen-on-ipv6-by-default.sh: info: /etc/nginx/conf.d/default.conf is not a file or does not exist"
        B.log(0.0, "/docker-entrypoint.sh: /docker-entrypoint.d/ is not empty, will attempt to perform configuration\n"
                   "/docker-entrypoint.sh: Looking for shell scripts in /docker-entrypoint.d/\n"
                   "/docker-entrypoint.sh: Launching /docker-entrypoint.d/10-listen-on-ipv6-by-default.sh")
        B.log(0.004, ipv6)
        B.log(0.006, "/docker-entrypoint.sh: Sourcing /docker-entrypoint.d/15-local-resolvers.envsh\n"
                     "/docker-entrypoint.sh: Launching /docker-entrypoint.d/20-envsubst-on-templates.sh\n"
                     "/docker-entrypoint.sh: Launching /docker-entrypoint.d/30-tune-worker-processes.sh\n"
                     "/docker-entrypoint.sh: Configuration complete; ready for start up")
        t = 0.012
    conf, names = _nginx_conf(files)
    stamp = L.ts_nginx_error(ctx.ts(t + 0.01))
    if "-t" in argv or "-v" in argv or "-V" in argv:
        if "-t" in argv:
            B.log(t + 0.01, "nginx: the configuration file /etc/nginx/nginx.conf syntax is ok\n"
                            "nginx: configuration file /etc/nginx/nginx.conf test is successful", "stderr")
        else:
            B.log(t + 0.01, f"nginx version: nginx/{version}", "stderr")
        B.exit(t + 0.02, 0)
        return B.b
    for n in names:
        text = files.get(n, "")
        depth = 0
        bad = None
        for lineno, line in enumerate(text.split("\n"), 1):
            stripped = line.split("#", 1)[0]
            depth += stripped.count("{") - stripped.count("}")
            if depth < 0:
                bad = f'unexpected "}}" in {n}:{lineno}'
                break
        if bad is None and depth > 0:
            bad = f'unexpected end of file, expecting "}}" in {n}:{len(text.rstrip(chr(10)).split(chr(10)))}'
        if bad:
            B.log(t + 0.01, f"{stamp} [emerg] 1#1: {bad}\nnginx: [emerg] {bad}", "stderr")
            B.exit(t + 0.02, 1)
            B.mem((0.0, 2 * MiB))
            return B.b
    ports = sorted({int(p) for p in re.findall(r"^\s*listen\s+(?:\[[^\]]*\]:|[\w.*]+:)?(\d+)", conf, re.M)}) or [80]
    roots = re.findall(r"^\s*root\s+([^;\s]+)\s*;", conf, re.M)
    root = roots[0] if roots else "/usr/share/nginx/html"
    returns = []
    for m in re.finditer(r"location\s+(=\s*)?([^\s{]+)\s*\{([^}]*)\}", conf):
        r = re.search(r"return\s+(\d{3})(?:\s+(?:\"([^\"]*)\"|'([^']*)'|([^;]*)))?\s*;", m.group(3))
        if r:
            body = r.group(2) or r.group(3) or r.group(4) or ""
            returns.append((bool(m.group(1)), m.group(2), int(r.group(1)), body))
    server = f"nginx/{version}"
    not_found = (f"<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1>"
                 f"</center>\r\n<hr><center>{server}</center>\r\n</body>\r\n</html>\r\n")

    def handler(path: str) -> tuple[int, str]:
        p = path.split("?")[0]
        for exact, loc, code, body in returns:
            if (exact and p == loc) or (not exact and p.startswith(loc)):
                return code, body
        target = p + "index.html" if p.endswith("/") else p
        full = posixpath.normpath(root + "/" + target.lstrip("/"))
        if full in files:
            return 200, files[full]
        return 404, not_found

    workers = 4
    gcc = "built by gcc 14.2.0 (Alpine 14.2.0) " if alpine else "built by gcc 12.2.0 (Debian 12.2.0-14+deb12u1) "
    notice = ["using the \"epoll\" event method", f"nginx/{version}", gcc,
              "OS: Linux 6.8.0-1021-aws", "getrlimit(RLIMIT_NOFILE): 1048576:1048576", "start worker processes"]
    notice += [f"start worker process {29 + k}" for k in range(workers)]
    t0 = t + ctx.s(0.02)
    for k, msg in enumerate(notice):
        tt = t0 + k * 0.0005
        B.log(tt, f"{L.ts_nginx_error(ctx.ts(tt))} [notice] 1#1: {msg}", "stderr")
    ready = t0 + ctx.s(0.01)
    B.listen({p: handler for p in ports}, ready)
    B.b.processes = [(1, "root", "nginx: master process nginx -g daemon off;")] + [
        (29 + k, "nginx", "nginx: worker process") for k in range(workers)]
    conn = [0]
    host = ctx.pod_ip

    def fmt(req: L.Request, epoch: float) -> list[tuple[str, str]]:
        out = [(L.nginx_access(req, epoch), "stdout")]
        if req.status == 404 and not any((e and req.path == loc) or (not e and req.path.startswith(loc))
                                         for e, loc, _, _ in returns):
            conn[0] = req.index % 997 + 1
            pid = 29 + req.index % workers
            out.insert(0, (L.nginx_error_open_failed(req, epoch, root, pid, conn[0], host), "stderr"))
        return out
    for p in ports:
        B.traffic(ready, p, "web", fmt)
    B.mem((0.0, 1.5 * MiB), (ready, 6 * MiB + workers * 0.6 * MiB))
    B.cpu_profile(ctx.spec.startup_cpu, ready, ctx.spec.cpu + 2 * ctx.rate)
    return B.b


# ---- httpd

def _p_httpd(ctx: _Ctx, argv: list[str], wrapped: bool) -> _Behaviour:
    B = _B(ctx)
    files = ctx.files
    conf = files.get("/usr/local/apache2/conf/httpd.conf", "")
    ports = sorted({int(p) for p in re.findall(r"^\s*Listen\s+(?:[\d.]+:)?(\d+)", conf, re.M)}) or [80]
    root = "/usr/local/apache2/htdocs"
    tid = 140000000000000 + L.rng_for(ctx.key, "tid").randrange(10 ** 12)
    t = ctx.s(0.05)
    fqdn = (f"AH00558: httpd: Could not reliably determine the server's fully qualified domain name, using "
            f"{ctx.pod_ip}. Set the 'ServerName' directive globally to suppress this message")
    B.log(t, fqdn, "stderr")
    B.log(t + 0.01, fqdn, "stderr")
    B.log(t + 0.02, f"[{L.ts_apache(ctx.ts(t + 0.02))}] [mpm_event:notice] [pid 1:tid {tid}] AH00489: "
                    f"Apache/{ctx.version} (Unix) configured -- resuming normal operations", "stderr")
    B.log(t + 0.021, f"[{L.ts_apache(ctx.ts(t + 0.021))}] [core:notice] [pid 1:tid {tid}] AH00094: Command line: "
                     "'httpd -D FOREGROUND'", "stderr")
    not_found = ('<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">\n<html><head>\n<title>404 Not Found</title>\n'
                 "</head><body>\n<h1>Not Found</h1>\n<p>The requested URL was not found on this server.</p>\n"
                 "</body></html>\n")

    def handler(path: str) -> tuple[int, str]:
        p = path.split("?")[0]
        full = posixpath.normpath(root + "/" + (p + "index.html" if p.endswith("/") else p).lstrip("/"))
        if full in files:
            return 200, files[full]
        return 404, not_found
    ready = t + 0.03
    B.listen({p: handler for p in ports}, ready)
    for p in ports:
        B.traffic(ready, p, "web", lambda req, e: [(L.apache_access(req, e), "stdout")])
    B.mem((0.0, 3 * MiB), (ready, ctx.spec.memory))
    B.cpu_profile(ctx.spec.startup_cpu, ready, ctx.spec.cpu + ctx.rate)
    B.b.processes = [(1, "root", "httpd -DFOREGROUND")] + [(8 + k, "www-data", "httpd -DFOREGROUND") for k in range(3)]
    return B.b


# ---- redis

def _p_redis(ctx: _Ctx, argv: list[str], wrapped: bool) -> _Behaviour:
    B = _B(ctx)
    if "--version" in argv or "-v" in argv:
        B.log(0.01, f"Redis server v={ctx.version} sha=00000000:1 malloc=jemalloc-5.3.0 bits=64 "
                    "build=3f4c2e5d1a2b3c4d")
        B.exit(0.02, 0)
        return B.b
    conf_path = next((a for a in argv[1:] if not a.startswith("-") and a.endswith(".conf")), None)
    conf = ctx.files.get(conf_path, "") if conf_path else ""
    if conf_path and conf_path not in ctx.files:
        B.log(0.01, "\n*** FATAL CONFIG FILE ERROR (Redis " + ctx.version + ") ***\n"
                    f"Reading the configuration file, at line 2\n>>> 'include \"{conf_path}\"'\n"
                    f"Fatal error, can't open config file '{conf_path}': No such file or directory", "stderr")
        B.exit(0.02, 1)
        return B.b
    m = re.search(r"^\s*port\s+(\d+)", conf, re.M)
    port = int(_arg_value(argv, "--port") or (m.group(1) if m else 6379))
    t = 0.01

    def ln(tt: float, role: str, mark: str, msg: str) -> str:
        return f"1:{role} {L.ts_redis(ctx.ts(tt))} {mark} {msg}"
    lines = [ln(t, "C", "*", "oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo"),
             ln(t, "C", "*", f"Redis version={ctx.version}, bits=64, commit=00000000, modified=1, pid=1, just started")]
    if conf_path:
        lines.append(ln(t, "C", "*", "Configuration loaded"))
    else:
        lines.append(ln(t, "C", "#", "Warning: no config file specified, using the default config. In order to "
                                     "specify a config file use redis-server /path/to/redis.conf"))
    t2 = t + ctx.s(0.001)
    lines += [ln(t2, "M", "*", "monotonic clock: POSIX clock_gettime"),
              ln(t2, "M", "*", f"Running mode=standalone, port={port}."),
              ln(t2, "M", "#", "WARNING Memory overcommit must be enabled! Without it, a background save or "
                               "replication may fail under low memory condition. Being disabled, it can also cause "
                               "failures without low memory condition, see "
                               "https://github.com/jemalloc/jemalloc/issues/1328. To fix this issue add "
                               "'vm.overcommit_memory = 1' to /etc/sysctl.conf and then reboot or run the command "
                               "'sysctl vm.overcommit_memory=1' for this to take effect."),
              ln(t2, "M", "*", "Server initialized"),
              ln(t2, "M", "*", "Ready to accept connections tcp")]
    B.logs(t, lines)
    B.listen({port: None}, t2)
    B.b.banners[port] = "-ERR wrong number of arguments for 'get' command"
    B.mem((0.0, 2 * MiB), (t2, ctx.spec.memory))
    B.cpu_profile(50, t2, ctx.spec.cpu)
    B.b.processes = [(1, "redis", f"redis-server *:{port}")]
    return B.b


# ---- postgres

def _p_postgres(ctx: _Ctx, argv: list[str], wrapped: bool) -> _Behaviour:
    B = _B(ctx)
    env = ctx.env
    version = ctx.version
    alpine = ctx.base == "alpine"
    if "--version" in argv or "-V" in argv:
        B.log(0.01, f"postgres (PostgreSQL) {version}" + ("" if alpine else f" (Debian {version}-1.pgdg120+1)"))
        B.exit(0.02, 0)
        return B.b
    trust = env.get("POSTGRES_HOST_AUTH_METHOD") == "trust"
    if not env.get("POSTGRES_PASSWORD") and not trust and wrapped:
        B.log(0.03, "Error: Database is uninitialized and superuser password is not specified.\n"
                    "       You must specify POSTGRES_PASSWORD to a non-empty value for the\n"
                    "       superuser. For example, \"-e POSTGRES_PASSWORD=password\" on \"docker run\".\n\n"
                    "       You may also use \"POSTGRES_HOST_AUTH_METHOD=trust\" to allow all\n"
                    "       connections without a password. This is *not* recommended.\n\n"
                    "       See PostgreSQL documentation about \"trust\":\n"
                    "       https://www.postgresql.org/docs/current/auth-trust.html", "stderr")
        B.exit(0.04, 1)
        B.mem((0.0, 1.5 * MiB))
        return B.b
    port = int(_arg_value(argv, "-p") or env.get("PGPORT", "5432") or 5432)
    c_port = [a.split("=", 1)[1] for k, a in enumerate(argv) if k > 0 and argv[k - 1] == "-c" and a.startswith("port=")]
    if c_port:
        port = int(c_port[0])
    build = ("on x86_64-pc-linux-musl, compiled by gcc (Alpine 14.2.0) 14.2.0, 64-bit" if alpine else
             f"(Debian {version}-1.pgdg120+1) on x86_64-pc-linux-gnu, compiled by gcc (Debian 12.2.0-14+deb12u1) "
             "12.2.0, 64-bit")
    r = ctx.rng("pg")

    def log(tt: float, pid: int, msg: str) -> None:
        B.log(tt, f"{L.ts_postgres(ctx.ts(tt))} [{pid}] {msg}", "stderr")
    t = 0.05
    first = ctx.c.restart_count == 0
    if first and wrapped:
        init = ['The files belonging to this database system will be owned by user "postgres".',
                "This user must also own the server process.", "",
                'The database cluster will be initialized with locale "en_US.utf8".',
                'The default database encoding has accordingly been set to "UTF8".',
                'The default text search configuration will be set to "english".', "",
                "Data page checksums are disabled." if int(version.split(".")[0]) < 18 else
                "Data page checksums are enabled.", "",
                "fixing permissions on existing directory /var/lib/postgresql/data ... ok",
                "creating subdirectories ... ok", "selecting dynamic shared memory implementation ... posix",
                'selecting default "max_connections" ... 100', 'selecting default "shared_buffers" ... 128MB',
                "selecting default time zone ... Etc/UTC", "creating configuration files ... ok"]
        t = B.logs(t, init, dt=ctx.s(0.01))
        t += ctx.s(0.4)
        t = B.logs(t, ["running bootstrap script ... ok"], dt=ctx.s(0.6))
        t = B.logs(t, ["performing post-bootstrap initialization ... ok", "syncing data to disk ... ok", "", "",
                       "Success. You can now start the database server using:", "",
                       "    pg_ctl -D /var/lib/postgresql/data -l logfile start", "",
                       'initdb: warning: enabling "trust" authentication for local connections',
                       "initdb: hint: You can change this by editing pg_hba.conf or using the option -A, or "
                       "--auth-local and --auth-host, the next time you run initdb.",
                       "waiting for server to start...."], dt=ctx.s(0.02))
        log(t, 48, f"LOG:  starting PostgreSQL {version} {build}")
        log(t + 0.002, 48, 'LOG:  listening on Unix socket "/var/run/postgresql/.s.PGSQL.5432"')
        log(t + 0.009, 51, f"LOG:  database system was shut down at {L.ts_postgres(ctx.ts(t - 0.3))[:19]} UTC")
        log(t + 0.014, 48, "LOG:  database system is ready to accept connections")
        t += ctx.s(0.1)
        t = B.logs(t, [" done", "server started", "",
                       "/usr/local/bin/docker-entrypoint.sh: ignoring /docker-entrypoint-initdb.d/*", "",
                       "waiting for server to shut down...."], dt=0.01)
        log(t, 48, "LOG:  received fast shutdown request")
        log(t + 0.001, 48, "LOG:  aborting any active transactions")
        log(t + 0.003, 48, 'LOG:  background worker "logical replication launcher" (PID 54) exited with exit code 1')
        log(t + 0.003, 49, "LOG:  shutting down")
        log(t + 0.005, 49, "LOG:  checkpoint starting: shutdown immediate")
        log(t + 0.05, 49, f"LOG:  checkpoint complete: wrote {r.randrange(900, 940)} buffers (5.6%); 0 WAL file(s) "
                          f"added, 0 removed, 0 recycled; write=0.021 s, sync=0.018 s, total=0.047 s; sync "
                          f"files=301, longest=0.002 s, average=0.001 s; distance=4255 kB, estimate=4255 kB; "
                          f"lsn=0/1908978, redo lsn=0/1908978")
        log(t + 0.057, 48, "LOG:  database system is shut down")
        t += 0.07
        t = B.logs(t, [" done", "server stopped", "", "PostgreSQL init process complete; ready for start up.", ""],
                   dt=0.005)
    elif wrapped:
        t = B.logs(t, ["", "PostgreSQL Database directory appears to contain a database; Skipping initialization",
                       ""], dt=0.001)
    t += ctx.s(0.05)
    log(t, 1, f"LOG:  starting PostgreSQL {version} {build}")
    log(t + 0.001, 1, f'LOG:  listening on IPv4 address "0.0.0.0", port {port}')
    log(t + 0.001, 1, f'LOG:  listening on IPv6 address "::", port {port}')
    log(t + 0.004, 1, f'LOG:  listening on Unix socket "/var/run/postgresql/.s.PGSQL.{port}"')
    if first:
        log(t + 0.01, 64, f"LOG:  database system was shut down at {L.ts_postgres(ctx.ts(t - 0.05))[:19]} UTC")
    else:
        log(t + 0.01, 29, "LOG:  database system was interrupted; last known up at "
                          f"{L.ts_postgres(ctx.ts(t - 1800))[:19]} UTC")
        log(t + 0.05, 29, "LOG:  database system was not properly shut down; automatic recovery in progress")
        log(t + 0.06, 29, "LOG:  redo starts at 0/1908A20")
        log(t + 0.07, 29, "LOG:  invalid record length at 0/1908B08: expected at least 24, got 0")
        log(t + 0.07, 29, "LOG:  redo done at 0/1908AD0 system usage: CPU: user: 0.00 s, system: 0.00 s, elapsed: "
                          "0.00 s")
        t += 0.08
    ready = t + ctx.s(0.016)
    log(ready, 1, "LOG:  database system is ready to accept connections")
    B.listen({port: None}, ready)

    def checkpoint(i: int, tt: float) -> list[tuple[str, str]]:
        rr = L.rng_for(ctx.key, "ckpt", i)
        if rr.random() < 0.3:
            return []
        n = rr.randrange(1, 60)
        return [(f"{L.ts_postgres(ctx.ts(tt))} [27] LOG:  checkpoint starting: time", "stderr"),
                (f"{L.ts_postgres(ctx.ts(tt + 2.5))} [27] LOG:  checkpoint complete: wrote {n} buffers "
                 f"({n * 100 / 16384:.1f}%); 0 WAL file(s) added, 0 removed, 0 recycled; write={n * 0.05:.3f} s, "
                 f"sync=0.003 s, total={n * 0.05 + 0.01:.3f} s; sync files={max(1, n // 4)}, longest=0.001 s, "
                 f"average=0.001 s; distance={n * 8} kB, estimate={n * 8 + 100} kB; lsn=0/19{i:02X}1B0, "
                 f"redo lsn=0/19{i:02X}178", "stderr")]
    B.every(ready + 300.0, 300.0, checkpoint, name="ckpt")
    B.mem((0.0, 6 * MiB), (ready, ctx.spec.memory))
    B.cpu_profile(ctx.spec.startup_cpu, ready, ctx.spec.cpu)
    B.b.processes = [(1, "postgres", "postgres"), (27, "postgres", "postgres: checkpointer "),
                     (28, "postgres", "postgres: background writer "), (30, "postgres", "postgres: walwriter "),
                     (31, "postgres", "postgres: autovacuum launcher "),
                     (32, "postgres", "postgres: logical replication launcher ")]
    return B.b


# ---- mysql / mariadb

def _p_mysql(ctx: _Ctx, argv: list[str], wrapped: bool) -> _Behaviour:
    B = _B(ctx)
    env = ctx.env
    v = ctx.version
    full = f"{v}-1.el9"

    def note(tt: float, level: str, msg: str) -> None:
        B.log(tt, f"{L.ts_iso(ctx.ts(tt), 0)[:-1].replace('T', ' ')}+00:00 [{level}] [Entrypoint]: {msg}")
    if wrapped:
        note(0.05, "Note", f"Entrypoint script for MySQL Server {full} started.")
        note(0.2, "Note", "Switching to dedicated user 'mysql'")
        note(0.25, "Note", f"Entrypoint script for MySQL Server {full} started.")
    has_pw = any(env.get(k) for k in ("MYSQL_ROOT_PASSWORD", "MYSQL_ALLOW_EMPTY_PASSWORD", "MYSQL_RANDOM_ROOT_PASSWORD"))
    if wrapped and not has_pw:
        B.log(0.3, f"{L.ts_iso(ctx.ts(0.3), 0)[:-1].replace('T', ' ')}+00:00 [ERROR] [Entrypoint]: Database is "
                   "uninitialized and password option is not specified\n"
                   "    You need to specify one of the following as an environment variable:\n"
                   "    - MYSQL_ROOT_PASSWORD\n    - MYSQL_ALLOW_EMPTY_PASSWORD\n    - MYSQL_RANDOM_ROOT_PASSWORD",
              "stderr")
        B.exit(0.31, 1)
        B.mem((0.0, 3 * MiB))
        return B.b
    port = int(_arg_value(argv, "--port") or 3306)

    def srv(tt: float, thread: int, level: str, code: str, comp: str, msg: str) -> None:
        B.log(tt, f"{L.ts_iso(ctx.ts(tt), 6)} {thread} [{level}] [{code}] [{comp}] {msg}")
    t = 0.3
    first = ctx.c.restart_count == 0 and wrapped
    if first:
        note(t, "Note", "Initializing database files")
        srv(t + 0.1, 0, "System", "MY-015017", "Server", "MySQL Server Initialization - start.")
        srv(t + 0.12, 0, "System", "MY-013169", "Server", f"/usr/sbin/mysqld (mysqld {v}) initializing of server in "
                                                          "progress as process 80")
        srv(t + 0.15, 1, "System", "MY-013576", "InnoDB", "InnoDB initialization has started.")
        srv(t + ctx.s(1.2), 1, "System", "MY-013577", "InnoDB", "InnoDB initialization has ended.")
        srv(t + ctx.s(3.4), 6, "Warning", "MY-010453", "Server", "root@localhost is created with an empty password ! "
                                                                 "Please consider switching off the "
                                                                 "--initialize-insecure option.")
        srv(t + ctx.s(5.5), 0, "System", "MY-015018", "Server", "MySQL Server Initialization - end.")
        t += ctx.s(5.6)
        note(t, "Note", "Database files initialized")
        note(t + 0.01, "Note", "Starting temporary server")
        t += ctx.s(1.5)
        note(t, "Note", "Temporary server started.")
        note(t + 0.1, "Note", "Creating database")
        note(t + ctx.s(0.8), "Note", "Stopping temporary server")
        t += ctx.s(1.8)
        note(t, "Note", "Temporary server stopped")
        B.log(t + 0.001, "")
        note(t + 0.002, "Note", "MySQL init process done. Ready for start up.")
        B.log(t + 0.003, "")
        t += 0.01
    srv(t + 0.05, 0, "System", "MY-015015", "Server", "MySQL Server - start.")
    srv(t + 0.1, 0, "System", "MY-010116", "Server", f"/usr/sbin/mysqld (mysqld {v}) starting as process 1")
    srv(t + 0.11, 1, "System", "MY-013576", "InnoDB", "InnoDB initialization has started.")
    srv(t + ctx.s(0.5), 1, "System", "MY-013577", "InnoDB", "InnoDB initialization has ended.")
    srv(t + ctx.s(0.8), 0, "Warning", "MY-010068", "Server", "CA certificate ca.pem is self signed.")
    srv(t + ctx.s(0.8), 0, "System", "MY-013602", "Server", "Channel mysql_main configured to support TLS. Encrypted "
                                                           "connections are now supported for this channel.")
    srv(t + ctx.s(0.81), 0, "Warning", "MY-011810", "Server", "Insecure configuration for --pid-file: Location "
                                                             "'/var/run/mysqld' in the path is accessible to all OS "
                                                             "users. Consider choosing a different directory.")
    ready = t + ctx.s(0.85)
    srv(ready, 0, "System", "MY-011323", "Server", "X Plugin ready for connections. Bind-address: '::' port: 33060, "
                                                   "socket: /var/run/mysqld/mysqlx.sock")
    srv(ready, 0, "System", "MY-010931", "Server", f"/usr/sbin/mysqld: ready for connections. Version: '{v}'  socket: "
                                                   f"'/var/run/mysqld/mysqld.sock'  port: {port}  MySQL Community "
                                                   "Server - GPL.")
    B.listen({port: None, 33060: None}, ready)
    B.b.banners[port] = "J\\x00\\x00\\x00\\n" + v
    B.mem((0.0, 20 * MiB), (ready * 0.6, ctx.spec.memory * 1.08), (ready, ctx.spec.memory))
    B.cpu_profile(ctx.spec.startup_cpu, ready, ctx.spec.cpu)
    B.b.processes = [(1, "mysql", "mysqld")]
    return B.b


def _p_mariadb(ctx: _Ctx, argv: list[str], wrapped: bool) -> _Behaviour:
    B = _B(ctx)
    env = ctx.env
    v = ctx.version
    full = f"1:{v}+maria~ubu2404"

    def note(tt: float, level: str, msg: str, stream: str = "stdout") -> None:
        B.log(tt, f"{L.ts_iso(ctx.ts(tt), 0)[:-1].replace('T', ' ')}+00:00 [{level}] [Entrypoint]: {msg}", stream)
    if wrapped:
        note(0.05, "Note", f"Entrypoint script for MariaDB Server {full} started.")
        note(0.06, "Warn", "/sys/fs/cgroup///memory.pressure not writable, functionality unavailable to MariaDB")
        note(0.1, "Note", "Switching to dedicated user 'mysql'")
        note(0.15, "Note", f"Entrypoint script for MariaDB Server {full} started.")
    keys = ("MARIADB_ROOT_PASSWORD", "MARIADB_ROOT_PASSWORD_HASH", "MARIADB_ALLOW_EMPTY_ROOT_PASSWORD",
            "MARIADB_RANDOM_ROOT_PASSWORD", "MYSQL_ROOT_PASSWORD", "MYSQL_ALLOW_EMPTY_PASSWORD",
            "MYSQL_RANDOM_ROOT_PASSWORD")
    if wrapped and not any(env.get(k) for k in keys):
        note(0.2, "ERROR", "Database is uninitialized and password option is not specified\n\tYou need to specify one "
                           "of MARIADB_ROOT_PASSWORD, MARIADB_ROOT_PASSWORD_HASH, MARIADB_ALLOW_EMPTY_ROOT_PASSWORD "
                           "and MARIADB_RANDOM_ROOT_PASSWORD", "stderr")
        B.exit(0.21, 1)
        B.mem((0.0, 3 * MiB))
        return B.b
    port = int(_arg_value(argv, "--port") or 3306)
    t = 0.2
    if ctx.c.restart_count == 0 and wrapped:
        note(t, "Note", "Initializing database files")
        t += ctx.s(1.6)
        note(t, "Note", "Database files initialized")
        note(t + 0.01, "Note", "Starting temporary server")
        note(t + 0.02, "Note", "Waiting for server startup")
        t += ctx.s(1.0)
        note(t, "Note", "Temporary server started.")
        note(t + 0.2, "Note", "Securing system users (equivalent to running mysql_secure_installation)")
        note(t + 0.3, "Note", "Stopping temporary server")
        t += ctx.s(0.8)
        note(t, "Note", "Temporary server stopped")
        B.log(t + 0.001, "")
        note(t + 0.002, "Note", "MariaDB init process done. Ready for start up.")
        B.log(t + 0.003, "")
    stamp = datetime.fromtimestamp(ctx.ts(t + 0.1), UTC).strftime("%Y-%m-%d %H:%M:%S")
    B.log(t + 0.1, f"{stamp} 0 [Note] Starting MariaDB {v}-MariaDB-ubu2404 source revision "
                   "4bd1f5a8b2ab2c4c5a4a3a9b8f1e3c2d1b0a9f8e server_uid 7wJ0rJd2bN3XGm+ZrH1a2bC3dE4= as process 1")
    B.log(t + 0.12, f"{stamp} 0 [Note] InnoDB: Compressed tables use zlib 1.3")
    B.log(t + 0.15, f"{stamp} 0 [Note] InnoDB: Using transactional memory")
    B.log(t + 0.2, f"{stamp} 0 [Note] InnoDB: Buffer pool(s) load completed at {stamp[2:].replace('-', '')}")
    ready = t + ctx.s(0.4)
    B.log(ready, f"{stamp} 0 [Note] Server socket created on IP: '0.0.0.0', port: '{port}'.\n"
                 f"{stamp} 0 [Note] Server socket created on IP: '::', port: '{port}'.\n"
                 f"{stamp} 0 [Note] mariadbd: ready for connections.\n"
                 f"Version: '{v}-MariaDB-ubu2404'  socket: '/run/mysqld/mysqld.sock'  port: {port}  mariadb.org "
                 "binary distribution")
    B.listen({port: None}, ready)
    B.mem((0.0, 10 * MiB), (ready, ctx.spec.memory))
    B.cpu_profile(ctx.spec.startup_cpu, ready, ctx.spec.cpu)
    B.b.processes = [(1, "mysql", "mariadbd")]
    return B.b


# ---- mongo

def _p_mongo(ctx: _Ctx, argv: list[str], wrapped: bool) -> _Behaviour:
    B = _B(ctx)
    env = ctx.env
    user, pw = env.get("MONGO_INITDB_ROOT_USERNAME"), env.get("MONGO_INITDB_ROOT_PASSWORD")
    if wrapped and bool(user) != bool(pw):
        B.log(0.05, "error: missing 'MONGO_INITDB_ROOT_USERNAME' or 'MONGO_INITDB_ROOT_PASSWORD'\n"
                    "       both must be specified for a user to be created", "stderr")
        B.exit(0.06, 1)
        return B.b
    port = int(_arg_value(argv, "--port") or 27017)

    def j(tt: float, s: str, comp: str, id_: int, ctx_: str, msg: str, attr: str = "") -> None:
        stamp = L.ts_iso(ctx.ts(tt), 3).replace("Z", "+00:00")
        a = f',"attr":{attr}' if attr else ""
        head = '{"t":{"$date":"' + stamp + '"},"s":"' + s + '",  "c":"' + (comp + '",').ljust(11) + '"id":'
        B.log(tt, head + (str(id_) + ",").ljust(9) + '"ctx":"' + ctx_ + '","msg":' + _json_str(msg) + a + "}")
    t = 0.1
    j(t, "I", "CONTROL", 23285, "main", "Automatically disabling TLS 1.0 and TLS 1.1, to force-enable TLS 1.1 "
                                        "specify --sslDisabledProtocols 'TLS1_0'; to force-enable TLS 1.0 specify "
                                        "--sslDisabledProtocols 'none'")
    j(t + 0.01, "I", "CONTROL", 4615611, "initandlisten", "MongoDB starting",
      _json_body({"pid": 1, "port": port, "dbPath": "/data/db", "architecture": "64-bit", "host": ctx.c.pod}))
    j(t + 0.01, "I", "CONTROL", 23403, "initandlisten", "Build Info",
      f'{{"buildInfo":{{"version":"{ctx.version}","gitVersion":"9f1d3c9b2f4e6d8c7b5a4f3e2d1c0b9a8f7e6d5c",'
      '"openSSLVersion":"OpenSSL 3.0.13 30 Jan 2024","modules":[],"allocator":"tcmalloc-google",'
      '"environment":{"distmod":"ubuntu2404","distarch":"x86_64","target_arch":"x86_64"}}}')
    j(t + ctx.s(0.9), "I", "STORAGE", 22315, "initandlisten", "Opening WiredTiger",
      '{"config":"create,cache_size=3456M,session_max=33000,eviction=(threads_min=4,threads_max=4)"}')
    ready = t + ctx.s(1.8)
    j(ready, "I", "NETWORK", 23015, "listener", "Listening on", '{"address":"0.0.0.0"}')
    j(ready, "I", "NETWORK", 23016, "listener", "Waiting for connections", _json_body({"port": port, "ssl": "off"}))
    B.listen({port: None}, ready)

    def ckpt(i: int, tt: float) -> list[tuple[str, str]]:
        stamp = L.ts_iso(ctx.ts(tt), 3).replace("Z", "+00:00")
        attr = _json_body({"message": {
            "ts_sec": int(ctx.ts(tt)), "ts_usec": 0, "thread": "1:0x7f3c", "session_name": "WT_SESSION.checkpoint",
            "category": "WT_VERB_CHECKPOINT_PROGRESS", "category_id": 6, "verbose_level": "DEBUG_1",
            "verbose_level_id": 1,
            "msg": f"saving checkpoint snapshot min: {30 + i * 2}, snapshot max: {30 + i * 2} snapshot count: 0, "
                   f"oldest timestamp: (0, 0) , meta checkpoint timestamp: (0, 0) base write gen: {70 + i}"}})
        return [('{"t":{"$date":"' + stamp + '"},"s":"I",  "c":"WTCHKPT",  "id":22430,   "ctx":"Checkpointer",'
                 '"msg":"WiredTiger message","attr":' + attr + "}", "stdout")]
    B.every(ready + 60.0, 60.0, ckpt, name="wt")
    B.mem((0.0, 40 * MiB), (ready, ctx.spec.memory))
    B.cpu_profile(ctx.spec.startup_cpu, ready, ctx.spec.cpu)
    B.b.processes = [(1, "mongodb", "mongod --bind_ip_all")]
    return B.b


# ---- rabbitmq

def _p_rabbitmq(ctx: _Ctx, argv: list[str], wrapped: bool) -> _Behaviour:
    B = _B(ctx)
    management = "management" in ctx.tag

    def log(tt: float, level: str, pid: str, msg: str) -> None:
        d = datetime.fromtimestamp(ctx.ts(tt), UTC)
        B.log(tt, d.strftime("%Y-%m-%d %H:%M:%S.%f") + f"+00:00 [{level}] <{pid}> {msg}")
    t = 0.6
    log(t, "notice", "0.44.0", "Application syslog exited with reason: stopped")
    log(t + 0.01, "notice", "0.248.0", "Logging: switching to configured handler(s); following messages may not be "
                                       "visible in this log output")
    log(t + 0.02, "notice", "0.248.0", "Logging: configured log handlers are now ACTIVE")
    log(t + ctx.s(0.5), "info", "0.248.0", "ra: starting system quorum_queues")
    log(t + ctx.s(0.5), "info", "0.248.0", "starting Ra system: quorum_queues in directory: "
                                           f"/var/lib/rabbitmq/mnesia/rabbit@{ctx.c.pod}/quorum/rabbit@{ctx.c.pod}")
    t2 = t + ctx.s(1.2)
    banner = ["", f"  ##  ##      RabbitMQ {ctx.version}", "  ##  ##",
              "  ##########  Copyright (c) 2007-2025 Broadcom Inc and/or its subsidiaries", "  ######  ##",
              "  ##########  Licensed under the MPL 2.0. Website: https://rabbitmq.com", "",
              "  Erlang:      27.3.4 [jit]", "  TLS Library: OpenSSL - OpenSSL 3.3.3 11 Feb 2025",
              "  Release series support status: see https://www.rabbitmq.com/release-information", "",
              "  Doc guides:  https://www.rabbitmq.com/docs", "  Support:     https://www.rabbitmq.com/docs/contact",
              "  Tutorials:   https://www.rabbitmq.com/tutorials",
              "  Monitoring:  https://www.rabbitmq.com/docs/monitoring",
              "  Upgrading:   https://www.rabbitmq.com/docs/upgrade", "", "  Logs: <stdout>", "",
              "  Config file(s): /etc/rabbitmq/conf.d/10-defaults.conf", "", "  Starting broker..."]
    B.logs(t2, banner)
    t3 = t2 + ctx.s(4.5)
    log(t3, "info", "0.598.0", "started TCP listener on [::]:5672")
    ports: dict[int, Handler | None] = {5672: None, 4369: None, 25672: None}
    plugins = 4
    if management:
        plugins = 5
        log(t3 + 0.2, "info", "0.647.0", "Management plugin: HTTP (non-TLS) listener started on port 15672")

        def mgmt(path: str) -> tuple[int, str]:
            if path.startswith("/api/"):
                return 401, '{"error":"not_authorized","reason":"Not_Authorized"}'
            return 200, "<!DOCTYPE html>\n<html>\n  <head>\n    <title>RabbitMQ Management</title>\n"
        ports[15672] = mgmt
    ports[15692] = lambda path: (200, "# TYPE rabbitmq_identity_info untyped\n") if path.startswith("/metrics") \
        else (404, "")
    ready = t3 + ctx.s(0.5)
    log(ready, "info", "0.598.0", f"Server startup complete; {plugins} plugins started.")
    B.listen(ports, ready)
    B.mem((0.0, 30 * MiB), (ready, ctx.spec.memory))
    B.cpu_profile(ctx.spec.startup_cpu, ready, ctx.spec.cpu)
    B.b.processes = [(1, "rabbitmq", "/usr/local/lib/erlang/erts-15.2.7/bin/beam.smp -W w -MBas ageffcbf")]
    return B.b


def _p_memcached(ctx: _Ctx, argv: list[str], wrapped: bool) -> _Behaviour:
    B = _B(ctx)
    port = int(_arg_value(argv, "-p", "--port") or 11211)
    if "-vv" in argv or "-v" in argv:
        B.log(0.01, "<26 server listening (auto-negotiate)\n<27 server listening (auto-negotiate)", "stderr")
    B.listen({port: None}, 0.01)
    B.b.banners[port] = "ERROR\r"
    megs = int(_arg_value(argv, "-m", "--memory-limit") or 64)
    B.mem((0.0, 1 * MiB), (0.01, ctx.spec.memory + min(megs, 64) * 0.02 * MiB))
    B.cpu_profile(10, 0.01, ctx.spec.cpu)
    B.b.processes = [(1, "memcache", "memcached")]
    return B.b


# ---- python / node / golang / generic apps

def _generic_app(ctx: _Ctx, B: _B, ports: list[int], startup: float, memory: float, cpu: float) -> _Behaviour:
    def handler(path: str) -> tuple[int, str]:
        return (200, "OK\n") if path.split("?")[0] in ("/", "/health", "/healthz", "/ready", "/readyz",
                                                        "/livez") else (404, "Not Found\n")
    ready = ctx.s(startup)
    B.listen({p: handler for p in ports}, ready)
    B.mem((0.0, memory * 0.5), (ready, memory))
    B.cpu_profile(ctx.spec.startup_cpu, ready, cpu)
    return B.b


def _p_python(ctx: _Ctx, argv: list[str], wrapped: bool) -> _Behaviour:
    B = _B(ctx)
    args = argv[1:]
    prog = posixpath.basename(argv[0])
    if prog in ("pip", "pip3"):
        B.log(0.3, "WARNING: Retrying (Retry(total=4, connect=None, read=None, redirect=None, status=None)) after "
                   "connection broken by 'NewConnectionError('<pip._vendor.urllib3.connection.HTTPSConnection object "
                   "at 0x7f1c2a3b4c50>: Failed to establish a new connection: [Errno -3] Temporary failure in name "
                   "resolution')': /simple/", "stderr")
        B.log(8.0, "ERROR: Could not find a version that satisfies the requirement (from versions: none)\n"
                   "ERROR: No matching distribution found", "stderr")
        B.exit(8.01, 1)
        return B.b
    if not args:
        B.exit(0.02, 0)
        return B.b
    if args[0] in ("-V", "--version"):
        B.log(0.01, f"Python {ctx.version}")
        B.exit(0.02, 0)
        return B.b
    if args[0] == "-m" and len(args) > 1:
        module = args[1]
        if module == "http.server":
            return _python_http_server(ctx, B, args[2:])
        B.log(0.05, f"/usr/local/bin/python3: No module named {module}", "stderr")
        B.exit(0.06, 1)
        return B.b
    if args[0] == "-c" and len(args) > 1:
        return _python_c(ctx, args[1])
    script = next((a for a in args if not a.startswith("-")), None)
    if script is None:
        B.exit(0.02, 0)
        return B.b
    path = posixpath.normpath(posixpath.join(ctx.spec.workdir, script))
    if path not in ctx.files:
        B.log(0.03, f"{prog}: can't open file '{path}': [Errno 2] No such file or directory", "stderr")
        B.exit(0.04, 2)
        return B.b
    return _generic_app(ctx, B, list(ctx.c.ports), 0.5, 25 * MiB, 2)


def _python_http_server(ctx: _Ctx, B: _B, args: list[str]) -> _Behaviour:
    port = next((int(a) for a in args if a.isdigit()), 8000)
    directory = _arg_value(args, "--directory", "-d") or ctx.spec.workdir
    files = ctx.files

    def handler(path: str) -> tuple[int, str]:
        p = posixpath.normpath(posixpath.join(directory, path.split("?")[0].lstrip("/")))
        if p in files:
            return 200, files[p]
        prefix = p.rstrip("/") + "/"
        entries = sorted({f[len(prefix):].split("/")[0] + ("/" if "/" in f[len(prefix):] else "")
                          for f in files if f.startswith(prefix)})
        if posixpath.join(p, "index.html") in files:
            return 200, files[posixpath.join(p, "index.html")]
        if entries or p == "/":
            shown = path.split("?")[0]
            items = "".join(f'<li><a href="{e}">{e}</a></li>\n' for e in entries)
            return 200, (f'<!DOCTYPE HTML>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>Directory listing '
                         f"for {shown}</title>\n</head>\n<body>\n<h1>Directory listing for {shown}</h1>\n<hr>\n<ul>\n"
                         f"{items}</ul>\n<hr>\n</body>\n</html>\n")
        return 404, ('<!DOCTYPE HTML>\n<html lang="en">\n    <head>\n        <meta charset="utf-8">\n        '
                     "<title>Error response</title>\n    </head>\n    <body>\n        <h1>Error response</h1>\n"
                     "        <p>Error code: 404</p>\n        <p>Message: File not found.</p>\n        "
                     "<p>Error code explanation: 404 - Nothing matches the given URI.</p>\n    </body>\n</html>\n")
    ready = ctx.s(0.08)
    if ctx.env.get("PYTHONUNBUFFERED"):
        B.log(ready, f"Serving HTTP on 0.0.0.0 port {port} (http://0.0.0.0:{port}/) ...")
    B.listen({port: handler}, ready)
    B.traffic(ready, port, "web", lambda req, e: [(L.python_http_server_access(req, e), "stderr")],
              rate=ctx.c.request_rate if ctx.c.request_rate is not None else 0.1)
    B.mem((0.0, 6 * MiB), (ready, 14 * MiB))
    B.cpu_profile(100, ready, 1)
    B.b.processes = [(1, ctx.spec.user[0], f"python3 -m http.server {port}")]
    return B.b


def _python_c(ctx: _Ctx, code: str) -> _Behaviour:
    """`python -c`: only print(<constant>), time.sleep(n), sys.exit(n) and `while True:` of those run."""
    B = _B(ctx)
    try:
        tree = ast.parse(code)
    except SyntaxError as e:
        B.log(0.03, f'  File "<string>", line {e.lineno}\n    {(e.text or "").rstrip()}\n'
                    f"    {' ' * max(0, (e.offset or 1) - 1)}^\nSyntaxError: {e.msg}", "stderr")
        B.exit(0.04, 1)
        return B.b
    script = _py_to_sh(tree.body)
    if script is None:
        B.log(0.03, "python3: -c: only print(), time.sleep(), sys.exit() and `while True:` loops of them are "
                    "simulated by the kubesage sandbox", "stderr")
        B.exit(0.04, 1)
        return B.b
    cfg = _shell_config(ctx, DASH, GNU_BASE_COMMANDS, horizon=ctx.horizon)
    res = run_argv(["sh", "-c", script], cfg)
    beh = _from_shell(ctx, ["python3", "-c", code], res)
    if beh.exit is not None:
        beh.exit = (beh.exit[0] + 0.03, beh.exit[1], beh.exit[2])
    beh.mem_points = [(0.0, 9 * MiB)]
    return beh


def _py_to_sh(body: list[ast.stmt]) -> str | None:
    out = []
    for st in body:
        if isinstance(st, ast.Import | ast.ImportFrom) or isinstance(st, ast.Pass):
            continue
        if isinstance(st, ast.While) and isinstance(st.test, ast.Constant) and st.test.value:
            inner = _py_to_sh(st.body)
            if inner is None:
                return None
            out.append(f"while true; do {inner or ':'}; done")
            continue
        if not (isinstance(st, ast.Expr) and isinstance(st.value, ast.Call)):
            return None
        call = st.value
        fn = ast.unparse(call.func)
        consts = [a.value for a in call.args if isinstance(a, ast.Constant)]
        if len(consts) != len(call.args):
            return None
        if fn == "print":
            text = " ".join(str(c) for c in consts)
            out.append("printf '%s\\n' " + "'" + text.replace("'", "'\"'\"'") + "'")
        elif fn == "time.sleep" and consts:
            out.append(f"sleep {float(consts[0])}")
        elif fn in ("sys.exit", "exit", "quit"):
            code = consts[0] if consts else 0
            if isinstance(code, str):
                out.append("printf '%s\\n' " + "'" + code.replace("'", "'\"'\"'") + "' >&2; exit 1")
            else:
                out.append(f"exit {int(code or 0)}")
        else:
            return None
    return "; ".join(out)


def _p_node(ctx: _Ctx, argv: list[str], wrapped: bool) -> _Behaviour:
    B = _B(ctx)
    prog = posixpath.basename(argv[0])
    args = argv[1:]
    nv = "v" + ctx.version
    if prog in ("npm", "yarn", "npx"):
        pkg = posixpath.join(ctx.spec.workdir, "package.json")
        if pkg in ctx.files:
            return _generic_app(ctx, B, list(ctx.c.ports), 1.0, 60 * MiB, 3)
        stamp = L.ts_iso(ctx.ts(0.3), 3).replace(":", "_").replace(".", "_")
        B.log(0.3, f"npm error code ENOENT\nnpm error syscall open\nnpm error path {pkg}\nnpm error errno -2\n"
                   f"npm error enoent Could not read package.json: Error: ENOENT: no such file or directory, open "
                   f"'{pkg}'\nnpm error enoent This is related to npm not being able to find a file.\nnpm error enoent\n"
                   f"npm error A complete log of this run can be found in: /root/.npm/_logs/{stamp}-debug-0.log",
              "stderr")
        B.exit(0.31, 254)
        return B.b
    if not args:
        B.exit(0.05, 0)
        return B.b
    if args[0] in ("-v", "--version"):
        B.log(0.02, nv)
        B.exit(0.03, 0)
        return B.b
    if args[0] in ("-e", "--eval") and len(args) > 1:
        m = re.fullmatch(r"\s*console\.log\((['\"])(.*)\1\)\s*;?\s*", args[1])
        if m:
            B.log(0.05, m.group(2))
        B.exit(0.06, 0)
        return B.b
    script = next((a for a in args if not a.startswith("-")), None)
    if script is None:
        B.exit(0.05, 0)
        return B.b
    path = posixpath.normpath(posixpath.join(ctx.spec.workdir, script))
    if path not in ctx.files and not path.endswith(".js") and path + ".js" in ctx.files:
        path += ".js"
    if path not in ctx.files:
        B.log(0.05, "node:internal/modules/cjs/loader:1404\n  throw err;\n  ^\n\n"
                    f"Error: Cannot find module '{path}'\n"
                    "    at Function._resolveFilename (node:internal/modules/cjs/loader:1401:15)\n"
                    "    at defaultResolveImpl (node:internal/modules/cjs/loader:1057:19)\n"
                    "    at resolveForCJSWithHooks (node:internal/modules/cjs/loader:1062:22)\n"
                    "    at Function._load (node:internal/modules/cjs/loader:1211:37)\n"
                    "    at TracingChannel.traceSync (node:diagnostics_channel:322:14)\n"
                    "    at wrapModuleLoad (node:internal/modules/cjs/loader:235:24)\n"
                    "    at Function.executeUserEntryPoint [as runMain] (node:internal/modules/run_main:171:5)\n"
                    "    at node:internal/main/run_main_module:36:49 {\n"
                    "  code: 'MODULE_NOT_FOUND',\n  requireStack: []\n}\n\n" + f"Node.js {nv}", "stderr")
        B.exit(0.06, 1)
        return B.b
    ports = list(ctx.c.ports) or ([int(ctx.env["PORT"])] if ctx.env.get("PORT", "").isdigit() else [])
    return _generic_app(ctx, B, ports, 0.4, 45 * MiB, 2)


def _p_golang(ctx: _Ctx, argv: list[str], wrapped: bool) -> _Behaviour:
    B = _B(ctx)
    args = argv[1:]
    if args[:1] == ["version"]:
        B.log(0.02, f"go version go{ctx.version} linux/amd64")
        B.exit(0.03, 0)
        return B.b
    if args[:1] == ["run"] and len(args) > 1:
        path = posixpath.normpath(posixpath.join(ctx.spec.workdir, args[1]))
        if path not in ctx.files:
            B.log(0.1, f"stat {args[1]}: no such file or directory", "stderr")
            B.exit(0.11, 1)
            return B.b
        return _generic_app(ctx, B, list(ctx.c.ports), 4.0, 30 * MiB, 2)
    B.log(0.02, f"go {args[0] if args else ''}: not simulated by the kubesage sandbox", "stderr")
    B.exit(0.03, 2)
    return B.b


def _p_pause(ctx: _Ctx, argv: list[str], wrapped: bool) -> _Behaviour:
    B = _B(ctx)
    B.b.ready = 0.0
    B.b.listen_from = 0.0
    B.mem((0.0, ctx.spec.memory), noise=0.0)
    B.b.cpu = lambda t: 0.0
    B.b.processes = [(1, "65535", "/pause")]
    return B.b


def _p_shell_default(ctx: _Ctx, argv: list[str], wrapped: bool) -> _Behaviour:
    flavor, commands = _shell_setup(ctx.spec, ctx.base, ctx.tag)
    return _shell_behaviour(ctx, argv, flavor or BUSYBOX, commands)


# ---- prometheus / grafana / traefik / haproxy

def _p_prometheus(ctx: _Ctx, argv: list[str], wrapped: bool) -> _Behaviour:
    B = _B(ctx)
    v3 = int(ctx.version.split(".")[0]) >= 3
    config = _arg_value(argv, "--config.file") or "/etc/prometheus/prometheus.yml"
    addr = _arg_value(argv, "--web.listen-address") or "0.0.0.0:9090"
    port = _port_of(addr, 9090)
    src = {"retention": "main.go:676", "start": "main.go:727", "ops": "main.go:732", "web": "web.go:654",
           "tsdb": "main.go:1248", "listen": "tls_config.go:347", "tls": "tls_config.go:350",
           "tsdbok": "main.go:1268", "load": "main.go:1451", "loaded": "main.go:1491", "ready": "main.go:1214",
           "rules": "manager.go:175", "cfgerr": "main.go:652"}

    def log(tt: float, level: str, where: str, msg: str, **kv: str) -> None:
        extra = "".join(f" {k}={v}" for k, v in kv.items())
        if v3:
            B.log(tt, f"time={L.ts_iso(ctx.ts(tt), 3)} level={level.upper()} source={src[where]} msg=\"{msg}\"{extra}",
                  "stderr")
        else:
            B.log(tt, f"ts={L.ts_iso(ctx.ts(tt), 3)} caller={src[where]} level={level.lower()} msg=\"{msg}\"{extra}",
                  "stderr")
    if config not in ctx.files:
        log(0.05, "info", "start", "Starting Prometheus Server", mode="server",
            version=f'"(version={ctx.version}, branch=HEAD, revision=8be3a9560fbdd18a94dedec4b747c35178177202)"')
        log(0.08, "error", "cfgerr", f"Error loading config (--config.file={config})", file=config,
            err=f'"open {config}: no such file or directory"')
        B.exit(0.09, 2)
        return B.b
    t = 0.05
    log(t, "info", "retention", "No time or size retention was set so using the default time retention",
        duration="15d")
    log(t, "info", "start", "Starting Prometheus Server", mode="server",
        version=f'"(version={ctx.version}, branch=HEAD, revision=8be3a9560fbdd18a94dedec4b747c35178177202)"')
    log(t, "info", "ops", "operational information",
        build_context='"(go=go1.24.5, platform=linux/amd64, user=root@1b3e8f2c9a4d, date=20250714-16:15:23, '
                      'tags=netgo,builtinassets)"',
        host_details=f'"(Linux 6.8.0-1021-aws #23~22.04.1-Ubuntu SMP x86_64 {ctx.c.pod} (none))"',
        fd_limits='"(soft=1048576, hard=1048576)"', vm_limits='"(soft=unlimited, hard=unlimited)"')
    listen = t + ctx.s(0.02)
    log(listen, "info", "web", "Start listening for connections", component="web", address=addr)
    log(listen + 0.001, "info", "tsdb", "Starting TSDB ...")
    log(listen + 0.002, "info", "listen", "Listening on", component="web", address=f"[::]:{port}")
    log(listen + 0.002, "info", "tls", "TLS is disabled.", component="web", http2="false", address=f"[::]:{port}")
    ready = listen + ctx.s(0.6)
    log(ready - 0.05, "info", "tsdbok", "TSDB started")
    log(ready - 0.04, "info", "load", "Loading configuration file", filename=config)
    log(ready - 0.01, "info", "loaded", "Completed loading of configuration file", db_storage="1.1µs",
        remote_storage="1.4µs", web_handler="500ns", query_engine="900ns", scrape="412.3µs",
        scrape_sd="52.1µs", notify="1.2µs", notify_sd="900ns", rules="1.8µs", tracing="4.2µs", filename=config,
        totalDuration="1.83ms")
    log(ready, "info", "ready", "Server is ready to receive web requests.")
    log(ready, "info", "rules", "Starting rule manager...", component='"rule manager"')
    home = "/query" if v3 else "/graph"

    def handler(path: str) -> tuple[int, str]:
        p = path.split("?")[0]
        if p == "/-/healthy":
            return 200, "Prometheus Server is Healthy.\n"
        if p == "/-/ready":
            return 200, "Prometheus Server is Ready.\n"
        if p == "/metrics":
            return 200, ("# HELP prometheus_build_info A metric with a constant '1' value labeled by version.\n"
                         "# TYPE prometheus_build_info gauge\n"
                         f'prometheus_build_info{{version="{ctx.version}"}} 1\n')
        if p == "/":
            return 302, f'<a href="{home}">Found</a>.\n\n'
        if p in (home, "/graph", "/query", "/targets", "/alerts", "/rules", "/status") or p.startswith("/api/v1/"):
            return 200, "<!doctype html><html lang=\"en\"><head><title>Prometheus</title></head></html>"
        return 404, "404 page not found\n"

    def loading(path: str) -> tuple[int, str]:
        p = path.split("?")[0]
        if p == "/-/healthy":
            return 200, "Prometheus Server is Healthy.\n"
        return 503, "Service Unavailable"
    B.b.ports[port] = handler
    B.b.loading[port] = loading
    B.b.listen_from = listen
    B.b.ready = ready

    def compaction(i: int, tt: float) -> list[tuple[str, str]]:
        rr = L.rng_for(ctx.key, "compact", i)
        mint = int(ctx.ts(tt - 7200)) * 1000
        ulid = "01J" + "".join(rr.choice("0123456789ABCDEFGHJKMNPQRSTVWXYZ") for _ in range(23))
        if v3:
            return [(f"time={L.ts_iso(ctx.ts(tt), 3)} level=INFO source=compact.go:577 msg=\"write block\" "
                     f"component=tsdb mint={mint} maxt={mint + 7200000} ulid={ulid} duration={rr.randrange(20, 90)}ms "
                     f"ooo=false", "stderr"),
                    (f"time={L.ts_iso(ctx.ts(tt + 0.01), 3)} level=INFO source=head.go:1362 msg=\"Head GC completed\" "
                     f"component=tsdb caller=truncateMemory duration={rr.randrange(1, 9)}.{rr.randrange(100, 999)}ms",
                     "stderr")]
        return [(f"ts={L.ts_iso(ctx.ts(tt), 3)} caller=compact.go:576 level=info component=tsdb msg=\"write block\" "
                 f"mint={mint} maxt={mint + 7200000} ulid={ulid} duration={rr.randrange(20, 90)}ms", "stderr")]
    B.every(ready + 7200.0, 7200.0, compaction, jitter=60.0, name="compact")
    B.mem((0.0, 20 * MiB), (ready, ctx.spec.memory))
    B.cpu_profile(ctx.spec.startup_cpu, ready, ctx.spec.cpu)
    B.b.processes = [(1, "nobody", "/bin/prometheus " + " ".join(argv[1:]))]
    return B.b


def _p_grafana(ctx: _Ctx, argv: list[str], wrapped: bool) -> _Behaviour:
    B = _B(ctx)
    env = ctx.env
    port = int(env.get("GF_SERVER_HTTP_PORT", "3000") or 3000)
    v = ctx.version

    def log(tt: float, logger: str, level: str, msg: str, **kv: object) -> None:
        d = datetime.fromtimestamp(ctx.ts(tt), UTC)
        stamp = d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond:06d}" + f"{int(tt * 1e9) % 1000:03d}Z"
        extra = "".join(f" {k}={v2}" for k, v2 in kv.items())
        B.log(tt, f"logger={logger} t={stamp} level={level} msg=\"{msg}\"{extra}")
    t = 0.2
    log(t, "settings", "info", "Starting Grafana", version=v, commit="4b4f3d5a9c", branch="HEAD",
        compiled=L.ts_iso(ctx.epoch - 86400 * 30, 0))
    log(t + 0.001, "settings", "info", "Config loaded from", file="/usr/share/grafana/conf/defaults.ini")
    log(t + 0.001, "settings", "info", "Config loaded from", file="/etc/grafana/grafana.ini")
    for k in ("GF_PATHS_DATA", "GF_PATHS_LOGS", "GF_PATHS_PLUGINS", "GF_PATHS_PROVISIONING"):
        log(t + 0.002, "settings", "info", "Config overridden from Environment variable", var=f'"{k}={env.get(k, "")}"')
    for k, val in sorted(env.items()):
        if k.startswith("GF_") and not k.startswith("GF_PATHS_"):
            shown = "*********" if "PASSWORD" in k or "SECRET" in k else val
            log(t + 0.002, "settings", "info", "Config overridden from Environment variable", var=f'"{k}={shown}"')
    log(t + 0.003, "settings", "info", "Path Home", path="/usr/share/grafana")
    log(t + 0.003, "settings", "info", "Path Data", path="/var/lib/grafana")
    log(t + 0.01, "sqlstore", "info", "Connecting to DB", dbtype="sqlite3")
    log(t + 0.02, "migrator", "info", "Starting DB migrations")
    first = ctx.c.restart_count == 0
    if first:
        for k, mid in enumerate(["create migration_log table", "create user table", "add unique index user.login",
                                 "create dashboard table", "create data_source table"]):
            log(t + 0.03 + k * 0.004, "migrator", "info", "Executing migration", id=f'"{mid}"')
        mig = ctx.s(2.3)
        log(t + mig, "migrator", "info", "migrations completed", performed=637, skipped=0,
            duration=f"{mig:.3f}s".rstrip("0"))
    else:
        mig = 0.01
        log(t + mig, "migrator", "info", "migrations completed", performed=0, skipped=637, duration="9.1ms")
    t2 = t + mig + ctx.s(0.6)
    log(t2, "plugin.store", "info", "Loading plugins...")
    log(t2 + 0.2, "plugin.store", "info", "Plugins loaded", count=55, duration="201.3ms")
    ready = t2 + ctx.s(0.4)
    log(ready, "http.server", "info", "HTTP Server Listen", address=f"[::]:{port}", protocol="http", subUrl="",
        socket="")
    log(ready + 0.01, "ngalert.multiorg.alertmanager", "info", "Starting MultiOrg Alertmanager")
    log(ready + 0.01, "grafanaStorageLogger", "info", "Storage starting")
    log(ready + 0.5, "plugins.update.checker", "error", "Update check failed",
        error='"failed to get plugins: Get \\"https://grafana.com/api/plugins/versioncheck\\": dial tcp: lookup '
              'grafana.com on 10.96.0.10:53: server misbehaving"', duration="5.004s")

    def handler(path: str) -> tuple[int, str]:
        p = path.split("?")[0]
        if p == "/api/health":
            return 200, f'{{\n  "database": "ok",\n  "version": "{v}",\n  "commit": "4b4f3d5a9c"\n}}'
        if p == "/login":
            return 200, "<!doctype html><html lang=\"en-US\"><head><title>Grafana</title></head></html>"
        if p == "/":
            return 302, '<a href="/login">Found</a>.\n\n'
        if p == "/metrics":
            return 200, f'# TYPE grafana_build_info gauge\ngrafana_build_info{{version="{v}"}} 1\n'
        return 404, "<!doctype html><html><head><title>Grafana</title></head><body>Page not found</body></html>"
    B.listen({port: handler}, ready)

    def cleanup(i: int, tt: float) -> list[tuple[str, str]]:
        d = datetime.fromtimestamp(ctx.ts(tt), UTC)
        stamp = d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond:06d}123Z"
        ms = L.rng_for(ctx.key, "cleanup", i).uniform(2, 9)
        return [(f'logger=cleanup t={stamp} level=info msg="Completed cleanup jobs" duration={ms:.6f}ms', "stdout")]
    B.every(ready + 600.0, 600.0, cleanup, jitter=5.0, name="cleanup")
    B.mem((0.0, 30 * MiB), (ready, ctx.spec.memory))
    B.cpu_profile(ctx.spec.startup_cpu, ready, ctx.spec.cpu)
    B.b.processes = [(1, "grafana", "grafana server --homepath=/usr/share/grafana --config=/etc/grafana/grafana.ini "
                                    "--packaging=docker cfg:default.log.mode=console")]
    return B.b


def _p_traefik(ctx: _Ctx, argv: list[str], wrapped: bool) -> _Behaviour:
    B = _B(ctx)
    if "version" in argv[1:2]:
        B.log(0.02, f"Version:      {ctx.version}\nCodename:     chabichou\nGo version:   go1.24.5\n"
                    "Built:        2025-07-15T09:12:04Z\nOS/Arch:      linux/amd64")
        B.exit(0.03, 0)
        return B.b
    entry = {}
    for a in argv[1:]:
        m = re.match(r"--entry[pP]oints\.([\w-]+)\.address=(.*)", a)
        if m:
            entry[m.group(1)] = _port_of(m.group(2), 80)
    if not entry:
        entry["http"] = 80
    api = any(a.startswith("--api.insecure") and not a.endswith("=false") for a in argv)
    ping = any(a.startswith("--ping") and not a.endswith("=false") for a in argv)
    stamp = lambda tt: L.ts_iso(ctx.ts(tt), 0)  # noqa: E731
    t = 0.05
    B.log(t, f"{stamp(t)} INF Traefik version {ctx.version} built on 2025-07-15T09:12:04Z version={ctx.version}")
    B.log(t + 0.001, f"{stamp(t)} INF \nStats collection is disabled.\nHelp us improve Traefik by turning this "
                     "feature on :)\nMore details on: https://doc.traefik.io/traefik/contributing/data-collection/\n")
    ready = t + ctx.s(0.3)
    B.log(ready, f"{stamp(ready)} INF Starting provider aggregator *aggregator.ProviderAggregator")
    B.log(ready, f"{stamp(ready)} INF Starting provider *traefik.Provider")
    B.log(ready, f"{stamp(ready)} INF Starting provider *acme.ChallengeTLSALPN")
    ports: dict[int, Handler | None] = {p: (lambda path: (404, "404 page not found\n")) for p in entry.values()}
    if api or ping:
        def internal(path: str) -> tuple[int, str]:
            p = path.split("?")[0]
            if ping and p == "/ping":
                return 200, "OK"
            if api and (p.startswith("/dashboard") or p.startswith("/api/")):
                return 200, "{}" if p.startswith("/api/") else "<!DOCTYPE html><html><title>Traefik</title></html>"
            if api and p == "/":
                return 302, '<a href="/dashboard/">Found</a>.\n\n'
            return 404, "404 page not found\n"
        ports[8080] = internal
    B.listen(ports, ready)
    B.mem((0.0, 15 * MiB), (ready, ctx.spec.memory))
    B.cpu_profile(200, ready, ctx.spec.cpu)
    B.b.processes = [(1, "root", "traefik " + " ".join(argv[1:]))]
    return B.b


def _p_haproxy(ctx: _Ctx, argv: list[str], wrapped: bool) -> _Behaviour:
    B = _B(ctx)
    cfg = _arg_value(argv, "-f") or "/usr/local/etc/haproxy/haproxy.cfg"
    if "-v" in argv or "-vv" in argv:
        B.log(0.01, f"HAProxy version {ctx.version}-1 2025/07/09 - https://haproxy.org/")
        B.exit(0.02, 0)
        return B.b
    if cfg not in ctx.files:
        B.log(0.02, f"[ALERT]    (1) : config : Cannot open configuration file/directory {cfg} : No such file or "
                    "directory", "stderr")
        B.exit(0.03, 1)
        return B.b
    text = ctx.files[cfg]
    ports = sorted({int(p) for p in re.findall(r"^\s*bind\s+\S*?:(\d+)", text, re.M)})
    monitor = re.findall(r"^\s*monitor-uri\s+(\S+)", text, re.M)
    stats = re.findall(r"^\s*stats\s+uri\s+(\S+)", text, re.M)
    if not ports:
        B.log(0.02, "[ALERT]    (1) : config : Fatal errors found in configuration.", "stderr")
        B.exit(0.03, 1)
        return B.b

    def handler(path: str) -> tuple[int, str]:
        p = path.split("?")[0]
        if p in monitor:
            return 200, "<html><body><h1>200 OK</h1>\nService ready.\n</body></html>\n"
        if p in stats or any(p.startswith(s) for s in stats):
            return 200, "<html><head><title>Statistics Report for HAProxy</title></head></html>\n"
        return 503, "<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n" \
                    "</body></html>\n"
    t = ctx.s(0.05)
    B.log(t, "[NOTICE]   (1) : New worker (8) forked", "stderr")
    B.log(t + 0.001, "[NOTICE]   (1) : Loading success.", "stderr")
    B.listen({p: handler for p in ports}, t)
    B.mem((0.0, 4 * MiB), (t, ctx.spec.memory))
    B.cpu_profile(50, t, ctx.spec.cpu)
    B.b.processes = [(1, "haproxy", f"haproxy -W -db -f {cfg}"), (8, "haproxy", f"haproxy -W -db -f {cfg}")]
    return B.b


# ---- LLM servers

def _p_vllm(ctx: _Ctx, argv: list[str], wrapped: bool) -> _Behaviour:
    B = _B(ctx)
    args = argv[1:]
    if args[:1] == ["serve"] and len(args) > 1 and not args[1].startswith("-"):
        model = args[1]
    else:
        model = _arg_value(argv, "--model") or "facebook/opt-125m"
    served = _arg_value(argv, "--served-model-name") or model
    port = int(_arg_value(argv, "--port") or 8000)
    v = ctx.version

    def info(tt: float, where: str, msg: str, level: str = "INFO") -> None:
        B.log(tt, f"{level} {L.ts_vllm(ctx.ts(tt))} [{where}] {msg}")
    if ctx.c.gpus <= 0:
        info(2.8, "__init__.py:253", "No platform detected, vLLM is running on UnspecifiedPlatform")
        info(4.9, "api_server.py:1395", f"vLLM API server version {v}")
        info(4.9, "cli_args.py:325", f"non-default args: {{'model': '{model}'}}")
        tb = L.python_traceback([
            ("<frozen runpy>", 198, "_run_module_as_main", ""), ("<frozen runpy>", 88, "_run_code", ""),
            ("/usr/local/lib/python3.12/dist-packages/vllm/entrypoints/openai/api_server.py", 1495, "<module>",
             "uvloop.run(run_server(args))"),
            ("/usr/local/lib/python3.12/dist-packages/uvloop/__init__.py", 109, "run",
             "return __asyncio.run("),
            ("/usr/local/lib/python3.12/dist-packages/vllm/entrypoints/openai/api_server.py", 1431, "run_server",
             "await run_server_worker(listen_address, sock, args, **uvicorn_kwargs)"),
            ("/usr/local/lib/python3.12/dist-packages/vllm/engine/arg_utils.py", 1018, "create_engine_config",
             "device_config = DeviceConfig("),
            ("/usr/local/lib/python3.12/dist-packages/vllm/config.py", 2253, "__post_init__",
             'raise RuntimeError("Failed to infer device type")')], "RuntimeError", "Failed to infer device type")
        B.logs(5.2, tb, "stderr")
        B.exit(5.3, 1)
        B.mem((0.0, 200 * MiB), (5.0, 900 * MiB))
        B.cpu_profile(1000, 6, 0)
        return B.b
    info(2.5, "__init__.py:244", "Automatically detected platform cuda.")
    info(4.6, "api_server.py:1395", f"vLLM API server version {v}")
    info(4.6, "cli_args.py:325", f"non-default args: {{'model': '{model}'}}")
    info(ctx.s(11.0), "config.py:841", "This model supports multiple tasks: {'generate', 'embed', 'classify', "
                                       "'reward'}. Defaulting to 'generate'.")
    info(ctx.s(14.0), "core.py:526", "Waiting for init message from front-end.")
    info(ctx.s(16.0), "gpu_model_runner.py:1770", f"Starting to load model {model}...")
    info(ctx.s(19.0), "weight_utils.py:292", "Using model weights format ['*.safetensors']")
    info(ctx.s(38.0), "default_loader.py:272", "Loading weights took 18.42 seconds")
    info(ctx.s(39.0), "gpu_model_runner.py:1801", "Model loading took 0.9277 GiB and 22.151305 seconds")
    info(ctx.s(52.0), "backends.py:508", "Using cache directory: /root/.cache/vllm/torch_compile_cache/3b9d for "
                                         "vLLM's torch.compile")
    info(ctx.s(61.0), "gpu_worker.py:232", "Available KV cache memory: 61.42 GiB")
    info(ctx.s(70.0), "gpu_model_runner.py:2326", "Graph capturing finished in 8 secs, took 0.44 GiB")
    ready = ctx.s(74.0)
    info(ready - 0.2, "api_server.py:1857", f"Starting vLLM API server 0 on http://0.0.0.0:{port}")
    info(ready - 0.2, "launcher.py:29", "Available routes are:")
    for route in ("/openapi.json, Methods: HEAD, GET", "/docs, Methods: HEAD, GET", "/health, Methods: GET",
                  "/load, Methods: GET", "/ping, Methods: POST, GET", "/tokenize, Methods: POST",
                  "/v1/models, Methods: GET", "/version, Methods: GET", "/v1/chat/completions, Methods: POST",
                  "/v1/completions, Methods: POST", "/metrics, Methods: GET"):
        info(ready - 0.2, "launcher.py:37", f"Route: {route}")
    B.log(ready - 0.1, "INFO:     Started server process [1]\nINFO:     Waiting for application startup.")
    B.log(ready, "INFO:     Application startup complete.")

    def handler(path: str) -> tuple[int, str]:
        p = path.split("?")[0]
        if p in ("/health", "/ping"):
            return 200, ""
        if p == "/v1/models":
            return 200, _json_body({"object": "list", "data": [{"id": served, "object": "model", "created":
                                                                 int(ctx.epoch), "owned_by": "vllm", "root": model,
                                                                 "max_model_len": 32768}]})
        if p == "/version":
            return 200, _json_body({"version": v})
        if p == "/metrics":
            # an idle server; the sandbox's serving shim adds adapters and requests it proxied
            return 200, (f'# HELP vllm:num_requests_running Number of requests in model execution batches.\n'
                         f'vllm:num_requests_running{{model_name="{served}"}} 0.0\n'
                         f'# HELP vllm:num_requests_waiting Number of requests waiting to be processed.\n'
                         f'vllm:num_requests_waiting{{model_name="{served}"}} 0.0\n'
                         f'# HELP vllm:gpu_cache_usage_perc GPU KV-cache usage. 1 means 100 percent usage.\n'
                         f'vllm:gpu_cache_usage_perc{{model_name="{served}"}} 0.0\n')
        if p in ("/v1/chat/completions", "/v1/completions"):
            return 405, '{"detail":"Method Not Allowed"}'
        return 404, '{"detail":"Not Found"}'
    B.listen({port: handler}, ready)
    B.traffic(ready, port, "api", lambda req, e: [(L.uvicorn_access(req, e), "stdout")],
              rate=ctx.c.request_rate or 0.0, internal=True)
    B.mem((0.0, 300 * MiB), (ctx.s(16.0), 2.2 * 1024 * MiB), (ready, ctx.spec.memory))
    B.cpu_profile(1000, ready, ctx.spec.cpu)
    B.b.processes = [(1, "root", f"python3 -m vllm.entrypoints.openai.api_server --model {model}")]
    return B.b


def _p_llama(ctx: _Ctx, argv: list[str], wrapped: bool) -> _Behaviour:
    B = _B(ctx)
    model = _arg_value(argv, "-m", "--model") or ctx.env.get("LLAMA_ARG_MODEL")
    hf = _arg_value(argv, "-hf", "--hf-repo") or ctx.env.get("LLAMA_ARG_HF_REPO")
    port = int(_arg_value(argv, "--port") or ctx.env.get("LLAMA_ARG_PORT") or 8080)
    build = ctx.tag.split("-")[-1] if re.search(r"b\d+$", ctx.tag) else ctx.version
    num = build.lstrip("b")
    threads = max(1, (ctx.c.cpu_limit or 4000) // 1000)
    header = ["load_backend: loaded CPU backend from /app/libggml-cpu-haswell.so",
              f"build: {num} (5aa1105d) with cc (Ubuntu 11.4.0-1ubuntu1~22.04) 11.4.0 for x86_64-linux-gnu",
              f"system info: n_threads = {threads}, n_threads_batch = {threads}, total_threads = {threads}", "",
              f"system_info: n_threads = {threads} (n_threads_batch = {threads}) / {threads} | CPU : SSE3 = 1 | "
              "SSSE3 = 1 | AVX = 1 | AVX2 = 1 | F16C = 1 | FMA = 1 | BMI2 = 1 | LLAMAFILE = 1 | OPENMP = 1 | "
              "REPACK = 1 | ", "",
              "main: binding port with default address family",
              f"main: HTTP server is listening, hostname: 0.0.0.0, port: {port}, http threads: {threads + 1}",
              "main: loading model"]
    t = B.logs(0.05, header, "stderr", dt=0.001)
    path = model or (f"/root/.cache/llama.cpp/{hf.replace('/', '_')}.gguf" if hf else
                     "models/7B/ggml-model-f16.gguf")
    B.log(t, f"srv    load_model: loading model '{path}'", "stderr")
    if not model and not hf:
        B.logs(t + 0.01, [f"gguf_init_from_file: failed to open GGUF file '{path}'",
                          f"llama_model_load: error loading model: llama_model_loader: failed to load model from {path}",
                          "llama_model_load_from_file_impl: failed to load model",
                          f"common_init_from_params: failed to load model '{path}'",
                          f"srv    load_model: failed to load model, '{path}'",
                          "srv    operator(): operator(): cleaning up before exit...",
                          "main: exiting due to model loading error"], "stderr")
        B.exit(t + 0.02, 1)
        B.mem((0.0, 20 * MiB))
        return B.b
    m = re.search(r"(\d+(?:\.\d+)?)[bB](?![a-zA-Z])", path)
    params_b = float(m.group(1)) if m else 1.5
    weights = params_b * 0.62 * 1024 * MiB
    load = ctx.s(0.8 + params_b * 1.1)
    B.logs(t + 0.2, [f"llama_model_loader: loaded meta data with 26 key-value pairs and 291 tensors from {path} "
                     "(version GGUF V3 (latest))",
                     "print_info: file format = GGUF V3 (latest)",
                     "print_info: file type   = Q4_K - Medium",
                     f"print_info: file size   = {weights / 1024 / MiB:.2f} GiB (4.89 BPW) "],
           "stderr", dt=0.001)
    B.log(t + load * 0.8, f"load_tensors:   CPU_Mapped model buffer size = {weights / MiB:8.2f} MiB", "stderr")
    ready = t + load
    B.logs(ready - 0.1, ["llama_context: constructing llama_context", "srv          init: initializing slots, n_slots = 1",
                         "slot         init: id  0 | task -1 | new slot n_ctx_slot = 4096"], "stderr", dt=0.01)
    B.logs(ready, ["main: model loaded",
                   f"main: server is listening on http://0.0.0.0:{port} - starting the main loop",
                   "srv  update_slots: all slots are idle"], "stderr")
    served = posixpath.basename(path)

    def handler(path_: str) -> tuple[int, str]:
        p = path_.split("?")[0]
        if p == "/health":
            return 200, '{"status":"ok"}'
        if p in ("/v1/models", "/models"):
            return 200, _json_body({"object": "list", "data": [{"id": served, "object": "model", "created":
                                                                 int(ctx.epoch), "owned_by": "llamacpp"}]})
        if p == "/metrics":
            return 501, '{"error":{"code":501,"message":"This server does not support metrics endpoint. Start it ' \
                        'with `--metrics`","type":"not_supported_error"}}'
        if p == "/":
            return 200, "<!doctype html><html><head><title>llama.cpp - chat</title></head></html>"
        if p in ("/completion", "/v1/chat/completions", "/v1/completions"):
            return 405, ""
        return 404, '{"error":{"code":404,"message":"File Not Found","type":"not_found_error"}}'

    def loading(path_: str) -> tuple[int, str]:
        return 503, '{"error":{"code":503,"message":"Loading model","type":"unavailable_error"}}'
    B.b.ports[port] = handler
    B.b.loading[port] = loading
    B.b.listen_from = t - 0.001
    B.b.ready = ready
    B.traffic(ready, port, "api", lambda req, e: [(f"srv  log_server_r: request: {req.method} {req.path} "
                                                    f"{req.client} {req.status}", "stderr")],
              rate=ctx.c.request_rate or 0.0, internal=True)
    B.mem((0.0, 30 * MiB), (ready, 150 * MiB + weights))
    B.cpu_profile(min(1500, threads * 1000), ready, ctx.spec.cpu)
    B.b.processes = [(1, "root", "/app/llama-server " + " ".join(argv[1:]))]
    # serving hook: the kubelet runs a real llama_cpp.server for this container (the model stays pure)
    B.b.serve = tuple(argv) if model else ()
    return B.b


def _p_curl(ctx: _Ctx, argv: list[str], wrapped: bool) -> _Behaviour:
    flavor, commands = _shell_setup(ctx.spec, ctx.base, ctx.tag)
    return _shell_behaviour(ctx, argv, flavor or BUSYBOX, commands)


# ---- the demo applications

def _p_shop_web(ctx: _Ctx, argv: list[str], wrapped: bool) -> _Behaviour:
    B = _B(ctx)
    port = int(ctx.env.get("PORT", "8080")) if ctx.env.get("PORT", "8080").isdigit() else 8080
    host = ctx.c.pod
    v = ctx.version

    def pino(tt: float, msg: str, level: int = 30, **kv: object) -> None:
        extra = "".join(f',"{k}":{L._json_value(val)}' for k, val in kv.items())
        head = _json_body({"level": level, "time": int(ctx.ts(tt) * 1000), "pid": 1, "hostname": host, "msg": msg})
        B.log(tt, head[:-1] + extra + "}")
    pino(ctx.s(0.3), f"shop-web {v} starting", node="v22.17.1", env=ctx.env.get("NODE_ENV", "production"))
    checkout = ctx.env.get("CHECKOUT_URL", "http://checkout:8080")
    pino(ctx.s(0.6), "catalog loaded", products=128, source="/app/data/catalog.json")
    ready = ctx.s(0.85)
    pino(ready, f"Server listening at http://0.0.0.0:{port}", checkout=checkout)

    def handler(path: str) -> tuple[int, str]:
        p = path.split("?")[0]
        if p in ("/healthz", "/readyz", "/livez"):
            return 200, '{"status":"ok"}'
        if p == "/":
            return 200, "<!doctype html><html><head><title>kubesage shop</title></head><body><div id=\"app\"></div>" \
                        "<script src=\"/static/main.js\"></script></body></html>"
        if p == "/api/products":
            return 200, '[{"id":1001,"name":"Trail Runner","price":89.9},{"id":1002,"name":"City Loafer",' \
                        '"price":64.5}]'
        if p.startswith("/api/products/"):
            pid = p.rsplit("/", 1)[-1]
            if pid.isdigit() and int(pid) < 90000:
                return 200, f'{{"id":{pid},"name":"Product {pid}","price":42.0}}'
            return 404, '{"message":"product not found","statusCode":404}'
        if p.startswith("/api/cart"):
            return 200, '{"items":[],"total":0}'
        if p.startswith("/static/"):
            return 200, "/* bundle */"
        return 404, f'{{"message":"Route GET:{p} not found","error":"Not Found","statusCode":404}}'

    def fmt(req: L.Request, epoch: float) -> list[tuple[str, str]]:
        out = [(L.pino_request(req, epoch, host), "stdout")]
        if req.index % 431 == 17:
            out.insert(0, (L.error_line("node", epoch, L.rng_for(ctx.key, "err", req.index)), "stdout"))
        return out
    B.listen({port: handler}, ready)
    B.traffic(ready, port, "shop", fmt)
    B.mem((0.0, 25 * MiB), (ready, ctx.spec.memory))
    B.cpu_profile(ctx.spec.startup_cpu, ready, ctx.spec.cpu + 6 * ctx.rate)
    B.b.processes = [(1, "node", "node server.js")]
    return B.b


def _p_checkout(ctx: _Ctx, argv: list[str], wrapped: bool) -> _Behaviour:
    B = _B(ctx)
    port = int(_arg_value(argv, "--port") or 8080)
    v = ctx.version
    url = ctx.env.get("PAYMENTS_URL")
    t_import = ctx.s(1.3)
    B.log(ctx.s(0.9), "INFO:     Started server process [1]" if url is not None else "", "stderr")
    if url is None or not re.match(r"https?://[^/\s]+", url):
        lines = [ln for ln in B.b.lines if ln.text]
        B.b.lines = lines
        frames = [
            ("/usr/local/bin/uvicorn", 8, "<module>", "sys.exit(main())"),
            ("/usr/local/lib/python3.12/site-packages/click/core.py", 1161, "__call__",
             "return self.main(*args, **kwargs)"),
            ("/usr/local/lib/python3.12/site-packages/uvicorn/main.py", 412, "main", "run("),
            ("/usr/local/lib/python3.12/site-packages/uvicorn/main.py", 579, "run", "server.run()"),
            ("/usr/local/lib/python3.12/site-packages/uvicorn/server.py", 66, "run",
             "return asyncio.run(self.serve(sockets=sockets))"),
            ("/usr/local/lib/python3.12/asyncio/runners.py", 194, "run", "return runner.run(main)"),
            ("/usr/local/lib/python3.12/site-packages/uvicorn/config.py", 435, "load",
             "self.loaded_app = import_from_string(self.app)"),
            ("/usr/local/lib/python3.12/site-packages/uvicorn/importer.py", 19, "import_from_string",
             "module = importlib.import_module(module_str)"),
            ("/usr/local/lib/python3.12/importlib/__init__.py", 90, "import_module",
             "return _bootstrap._gcd_import(name[level:], package, level)"),
            ("<frozen importlib._bootstrap>", 1387, "_gcd_import", ""),
            ("<frozen importlib._bootstrap>", 1360, "_find_and_load", ""),
            ("<frozen importlib._bootstrap>", 1331, "_find_and_load_unlocked", ""),
            ("<frozen importlib._bootstrap>", 935, "_load_unlocked", ""),
            ("<frozen importlib._bootstrap_external>", 999, "exec_module", ""),
            ("<frozen importlib._bootstrap>", 488, "_call_with_frames_removed", ""),
            ("/app/checkout/main.py", 9, "<module>", "from checkout.settings import settings"),
        ]
        if url is None:
            frames += [("/app/checkout/settings.py", 14, "<module>", 'PAYMENTS_URL = os.environ["PAYMENTS_URL"]'),
                       ("<frozen os>", 714, "__getitem__", "")]
            tb = L.python_traceback(frames, "KeyError", "'PAYMENTS_URL'",
                                    carets={len(frames) - 2: "               ~~~~~~~~~~^^^^^^^^^^^^^^^^"})
        else:
            frames += [("/app/checkout/settings.py", 17, "<module>",
                        'raise ValueError(f"PAYMENTS_URL must be an absolute http(s) URL, got {PAYMENTS_URL!r}")')]
            tb = L.python_traceback(frames, "ValueError", f"PAYMENTS_URL must be an absolute http(s) URL, got {url!r}")
        B.logs(t_import, tb, "stderr")
        B.exit(t_import + 0.05 + L.rng_for(ctx.key, "exit").uniform(0, 0.1), 1)
        B.mem((0.0, 20 * MiB), (t_import, 52 * MiB))
        B.cpu_profile(ctx.spec.startup_cpu, 10, 0)
        B.b.processes = [(1, "app", "/usr/local/bin/python3 /usr/local/bin/uvicorn checkout.main:app --host 0.0.0.0 "
                                    f"--port {port}")]
        return B.b
    B.log(ctx.s(1.0), "INFO:     Waiting for application startup.", "stderr")
    B.log(t_import, f"{L.ts_python(ctx.ts(t_import))} INFO checkout.main: checkout {v} ready (payments={url})",
          "stderr")
    B.log(t_import + 0.01, "INFO:     Application startup complete.", "stderr")
    ready = t_import + ctx.s(0.05)
    B.log(ready, f"INFO:     Uvicorn running on http://0.0.0.0:{port} (Press CTRL+C to quit)", "stderr")

    def handler(path: str) -> tuple[int, str]:
        p = path.split("?")[0]
        if p in ("/healthz", "/readyz", "/livez"):
            return 200, '{"status":"ok"}'
        if p == "/api/checkout":
            return 405, '{"detail":"Method Not Allowed"}'
        if p.startswith("/api/checkout/"):
            return 200, '{{"id":"{}","status":"paid"}}'.format(p.rsplit("/", 1)[-1])
        return 404, '{"detail":"Not Found"}'

    def fmt(req: L.Request, epoch: float) -> list[tuple[str, str]]:
        if req.index % 263 == 41 and req.method == "POST":
            rr = L.rng_for(ctx.key, "err", req.index)
            req = L.Request(**{**req.__dict__, "status": 504})
            tb = L.python_traceback([
                ("/usr/local/lib/python3.12/site-packages/httpx/_transports/default.py", 101, "map_httpcore_exceptions",
                 "yield"),
                ("/usr/local/lib/python3.12/site-packages/httpx/_transports/default.py", 394, "handle_async_request",
                 "resp = await self._pool.handle_async_request(req)"),
                ("/app/checkout/payments.py", 41, "authorize",
                 "resp = await self._client.post(f\"{self._base}/api/payments/authorize\", json=body)")],
                "httpx.ReadTimeout", "timed out")
            return [(f"{L.ts_python(epoch)} ERROR checkout.api: payment authorization failed "
                     f"(order={rr.randrange(10 ** 6, 10 ** 7)})", "stderr")] + \
                [(line, "stderr") for line in tb] + [(L.uvicorn_access(req, epoch), "stdout")]
        return [(L.uvicorn_access(req, epoch), "stdout")]
    B.listen({port: handler}, ready)
    B.traffic(ready, port, "checkout", fmt, internal=True)
    B.mem((0.0, 20 * MiB), (ready, ctx.spec.memory))
    B.cpu_profile(ctx.spec.startup_cpu, ready, ctx.spec.cpu + 10 * ctx.rate)
    B.b.processes = [(1, "app", f"/usr/local/bin/python3 /usr/local/bin/uvicorn checkout.main:app --host 0.0.0.0 "
                                f"--port {port}")]
    return B.b


def _xmx_mib(opts: str) -> int | None:
    m = re.search(r"-Xmx(\d+)([kKmMgG]?)", opts)
    if not m:
        return None
    n = int(m.group(1))
    unit = m.group(2).lower()
    return n // 1024 if unit == "k" else n * 1024 if unit == "g" else n if unit == "m" else n // MiB


def _p_payments(ctx: _Ctx, argv: list[str], wrapped: bool) -> _Behaviour:
    B = _B(ctx)
    v = ctx.version
    port = int(ctx.env.get("SERVER_PORT", "8080") or 8080)
    opts = ctx.env.get("JAVA_TOOL_OPTIONS", "")

    def lb(tt: float, level: str, logger: str, msg: str, thread: str = "main") -> None:
        B.log(tt, L.logback(ctx.ts(tt), level, thread, logger, msg))
    if opts:
        B.log(0.05, f"Picked up JAVA_TOOL_OPTIONS: {opts}", "stderr")
    s = ctx.s
    banner = ["", "  .   ____          _            __ _ _", " /\\\\ / ___'_ __ _ _(_)_ __  __ _ \\ \\ \\ \\",
              "( ( )\\___ | '_ | '_| | '_ \\/ _` | \\ \\ \\ \\", " \\\\/  ___)| |_)| | | | | || (_| |  ) ) ) )",
              "  '  |____| .__|_| |_|_| |_\\__, | / / / /", " =========|_|==============|___/=/_/_/_/", "",
              " :: Spring Boot ::                (v3.5.3)", ""]
    B.logs(s(0.9), banner)
    app = "c.k.payments.PaymentsApplication"
    lb(s(1.1), "INFO", app, f"Starting PaymentsApplication v{v} using Java 21.0.7 with PID 1 (/app/payments.jar "
                            "started by app in /app)")
    lb(s(1.1), "INFO", app, 'No active profile set, falling back to 1 default profile: "default"')
    lb(s(2.4), "INFO", "o.s.b.w.embedded.tomcat.TomcatWebServer", f"Tomcat initialized with port {port} (http)")
    lb(s(2.45), "INFO", "o.apache.catalina.core.StandardService", "Starting service [Tomcat]")
    lb(s(2.45), "INFO", "o.apache.catalina.core.StandardEngine", "Starting Servlet engine: [Apache Tomcat/10.1.42]")
    lb(s(2.55), "INFO", "o.a.c.c.C.[Tomcat].[localhost].[/]", "Initializing Spring embedded WebApplicationContext")
    lb(s(2.55), "INFO", "w.s.c.ServletWebServerApplicationContext",
       f"Root WebApplicationContext: initialization completed in {int(s(1.4) * 1000)} ms")
    cache = "c.k.payments.cache.FraudScoreCache"
    lb(s(4.0), "INFO", cache, "Loading fraud-score model into memory (212 MiB, 250000 entries)")
    xmx = _xmx_mib(opts)
    warm = [(s(5.2), 25), (s(6.4), 50), (s(7.6), 75), (s(8.8), 100)]
    heap_oom_at = None
    if xmx is not None and xmx < 240:
        frac = max(0.0, (xmx - 30) / 212.0)
        heap_oom_at = s(4.0) + frac * (s(8.8) - s(4.0))
    for tt, pct in warm:
        if heap_oom_at is not None and tt >= heap_oom_at:
            break
        lb(tt, "INFO", cache, f"Fraud-score cache warm-up: {pct}% ({pct * 2500}/250000 entries)")
    if heap_oom_at is not None:
        tt = heap_oom_at
        lb(tt, "WARN", "o.s.b.w.s.c.AnnotationConfigServletWebServerApplicationContext",
           "Exception encountered during context initialization - cancelling refresh attempt: "
           "org.springframework.beans.factory.BeanCreationException: Error creating bean with name 'fraudScoreCache': "
           "Invocation of init method failed")
        lb(tt + 0.05, "INFO", "o.apache.catalina.core.StandardService", "Stopping service [Tomcat]")
        lb(tt + 0.1, "ERROR", "o.s.boot.SpringApplication", "Application run failed")
        trace = L.java_stack_trace(
            "org.springframework.beans.factory.BeanCreationException",
            "Error creating bean with name 'fraudScoreCache': Invocation of init method failed",
            ["org.springframework.beans.factory.annotation.InitDestroyAnnotationBeanPostProcessor."
             "postProcessBeforeInitialization(InitDestroyAnnotationBeanPostProcessor.java:222)",
             "org.springframework.beans.factory.support.AbstractAutowireCapableBeanFactory."
             "initializeBean(AbstractAutowireCapableBeanFactory.java:1826)",
             "org.springframework.boot.SpringApplication.run(SpringApplication.java:325)",
             "com.kubesage.payments.PaymentsApplication.main(PaymentsApplication.java:27)"],
            caused_by=("java.lang.OutOfMemoryError", "Java heap space", [
                "java.base/java.util.HashMap.resize(HashMap.java:710)",
                "java.base/java.util.HashMap.putVal(HashMap.java:635)",
                "java.base/java.util.HashMap.put(HashMap.java:618)",
                "com.kubesage.payments.cache.FraudScoreCache.load(FraudScoreCache.java:88)",
                "com.kubesage.payments.cache.FraudScoreCache.warmUp(FraudScoreCache.java:54)"]))
        B.logs(tt + 0.1, [""] + trace, "stdout")
        B.exit(tt + 0.3, 1)
        B.mem((0.0, 30 * MiB), (s(1.0), 95 * MiB), (s(3.0), 150 * MiB), (tt, (xmx + 90) * MiB))
        B.cpu_profile(ctx.spec.startup_cpu, 100, 0)
        return B.b
    lb(s(9.0), "INFO", cache, "Heap after cache load: 271 MiB used")
    ready = s(9.6)
    lb(ready, "INFO", "o.s.b.w.embedded.tomcat.TomcatWebServer",
       f"Tomcat started on port {port} (http) with context path '/'")
    lb(ready + 0.02, "INFO", app, f"Started PaymentsApplication in {ready + 0.4:.3f} seconds (process running for "
                                  f"{ready + 0.9:.3f})")

    def handler(path: str) -> tuple[int, str]:
        p = path.split("?")[0]
        if p.startswith("/actuator/health"):
            return 200, '{"status":"UP"}'
        if p.startswith("/api/payments"):
            if p.endswith("authorize") or p.endswith("capture"):
                return 405, ('{"timestamp":"2025-06-12T10:00:00.000+00:00","status":405,'
                             f'"error":"Method Not Allowed","path":"{p}"}}')
            return 200, _json_body({"id": p.rsplit("/", 1)[-1], "status": "CAPTURED"})
        return 404, f'{{"timestamp":"2025-06-12T10:00:00.000+00:00","status":404,"error":"Not Found","path":"{p}"}}'

    def fmt(req: L.Request, epoch: float) -> list[tuple[str, str]]:
        rr = L.rng_for(ctx.key, "pay", req.index)
        thread = f"nio-{port}-exec-{rr.randrange(1, 11)}"
        if "/actuator" in req.path:
            return []
        if req.index % 311 == 7:
            trace = L.java_stack_trace("java.net.SocketTimeoutException", "Read timed out", [
                "java.base/sun.nio.ch.NioSocketImpl.timedRead(NioSocketImpl.java:278)",
                "java.base/sun.nio.ch.NioSocketImpl.implRead(NioSocketImpl.java:304)",
                "java.base/java.net.Socket$SocketInputStream.read(Socket.java:1099)",
                "com.kubesage.payments.fraud.FraudClient.score(FraudClient.java:63)",
                "com.kubesage.payments.api.PaymentController.authorize(PaymentController.java:48)"], omitted=54)
            return [(L.logback(epoch, "WARN", thread, "c.k.payments.fraud.FraudClient",
                               "Fraud scoring timed out after 2000 ms, falling back to rules"), "stdout")] + \
                [(line, "stdout") for line in trace]
        pay = f"pay_{rr.randrange(16 ** 10):010x}"
        amount = f"{rr.uniform(5, 400):.2f}"
        if req.path.endswith("authorize"):
            msg = f"Authorized payment {pay} amount={amount} EUR in {int(req.duration_ms * 8)} ms"
        elif req.path.endswith("capture"):
            msg = f"Captured payment {req.path.split('/')[-2]} in {int(req.duration_ms * 5)} ms"
        else:
            msg = f"Fetched payment {req.path.rsplit('/', 1)[-1]}"
        return [(L.logback(epoch, "INFO", thread, "c.k.payments.api.PaymentController", msg), "stdout")]
    B.listen({port: handler}, ready)
    B.traffic(ready, port, "payments", fmt, internal=True)
    B.mem((0.0, 30 * MiB), (s(1.0), 95 * MiB), (s(3.0), 150 * MiB), (s(4.0), 160 * MiB), (s(8.8), 312 * MiB),
          (ready, ctx.spec.memory))
    B.cpu_profile(ctx.spec.startup_cpu, ready, ctx.spec.cpu + 12 * ctx.rate)
    B.b.processes = [(1, "app", "java -jar /app/payments.jar")]
    return B.b


def _p_worker(ctx: _Ctx, argv: list[str], wrapped: bool) -> _Behaviour:
    B = _B(ctx)
    env = ctx.env
    v = ctx.version
    url = env.get("QUEUE_URL", "redis://redis:6379/0")
    try:
        conc = max(1, int(env.get("WORKER_CONCURRENCY", "4")))
    except ValueError:
        conc = 4
    queue = env.get("QUEUE_NAME", "emails")

    def z(tt: float, level: str, caller: str, msg: str, **kv: object) -> str:
        return L.zap_json(level, ctx.ts(tt), caller, msg, **kv)
    B.log(0.01, z(0.01, "info", "worker/main.go:38", "starting worker", version=v, concurrency=conc, queue=url))
    if not re.match(r"(redis|rediss|amqp|amqps)://", url):
        B.log(0.02, z(0.02, "error", "queue/factory.go:29", "unsupported queue URL scheme", queue_url=url), "stdout")
        B.logs(0.03, L.go_panic("runtime error: invalid memory address or nil pointer dereference", [
            ("github.com/kubesage/worker/internal/queue.(*Consumer).Start(0x0, {0xa3c1e0, 0xc0000b2000})",
             "/src/internal/queue/consumer.go", 57, "+0x2c"),
            ("main.run({0xa3c1e0, 0xc0000b2000}, 0xc0000a4180)", "/src/cmd/worker/main.go", 71, "+0x1f4"),
            ("main.main()", "/src/cmd/worker/main.go", 44, "+0x85")],
            signal="[signal SIGSEGV: segmentation violation code=0x1 addr=0x18 pc=0x7a1b2c]"), "stderr")
        B.exit(0.04, 2)
        B.mem((0.0, 8 * MiB))
        return B.b
    B.log(0.05, z(0.05, "info", "queue/consumer.go:51", "connected to queue", queue=queue))
    ready = ctx.s(0.3)
    B.log(ready, z(ready, "info", "metrics/server.go:22", "metrics listening", addr=":9090"))

    def handler(path: str) -> tuple[int, str]:
        p = path.split("?")[0]
        if p == "/healthz":
            return 200, "ok"
        if p == "/metrics":
            return 200, "# TYPE worker_jobs_processed_total counter\nworker_jobs_processed_total 0\n"
        return 404, "404 page not found\n"
    B.listen({9090: handler}, ready)
    period = 6.0 / conc

    def job(i: int, tt: float) -> list[tuple[str, str]]:
        rr = L.rng_for(ctx.key, "job", i)
        jid = f"{rr.randrange(16 ** 12):012x}"
        if rr.random() < 0.01:
            return [(L.error_line("go", ctx.ts(tt), rr), "stdout")]
        kind = rr.choice(["send_receipt", "send_receipt", "reindex_product", "sync_inventory", "send_shipping_update"])
        return [(z(tt, "info", "queue/consumer.go:96", "processed job", job_id=jid, type=kind, queue=queue,
                   duration_ms=round(rr.lognormvariate(3.5, 0.6), 1)), "stdout")]
    B.every(ready + 0.5, period, job, jitter=period * 0.9, name="job")
    mem = 60 * MiB + 30 * MiB * conc
    B.mem((0.0, 10 * MiB), (ready, mem * 0.8), (ready + 30, mem), noise=0.04)
    B.cpu_profile(200, ready, 30 * conc)
    B.b.processes = [(1, "nonroot", "/worker")]
    return B.b


def _parse_go_duration(s: str) -> float | None:
    total = 0.0
    found = False
    for num, unit in re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", s):
        found = True
        total += float(num) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[unit]
    return total if found else None


def _p_orders(ctx: _Ctx, argv: list[str], wrapped: bool) -> _Behaviour:
    B = _B(ctx)
    ns = ctx.c.namespace
    sa = ctx.c.service_account
    v = ctx.version
    port = int(_arg_value(argv, "--port") or 8080)

    def k(tt: float, sev: str, src: str, msg: str) -> None:
        B.log(tt, L.klog(sev, ctx.ts(tt), src, msg), "stderr")
    k(0.02, "I", "main.go:48", f'"Starting orders service" version="{v}" commit="9c1e2f7"')
    k(0.03, "I", "config.go:57", f'"Watching ConfigMaps for feature flags" namespace="{ns}" '
                                 'labelSelector="app.kubernetes.io/part-of=orders"')
    listen = ctx.s(0.1)
    k(listen, "I", "server.go:61", f'"HTTP server listening" addr=":{port}"')
    allowed = ctx.c.api_allowed
    list_ok = True if allowed is None else bool(allowed("list", "", "configmaps", ns))
    watch_ok = True if allowed is None else bool(allowed("watch", "", "configmaps", ns))
    user = f"system:serviceaccount:{ns}:{sa}"
    timeout = _parse_go_duration(ctx.env.get("CONFIG_SYNC_TIMEOUT", "60s"))
    t = ctx.s(0.12)
    B.b.api_calls.append(ApiCall(t, "list", "", "configmaps", ns, list_ok))
    synced: float | None = None
    ready_state: list[bool] = [True]
    if list_ok and watch_ok:
        B.b.api_calls.append(ApiCall(t + 0.01, "watch", "", "configmaps", ns, True))
        synced = t + 0.02
        k(synced, "I", "config.go:95", '"Feature flags loaded" configMaps=2 flags=7')
    else:
        verb = "list" if not list_ok else "watch"
        forbidden = (f'configmaps is forbidden: User "{user}" cannot {verb} resource "configmaps" in API group "" '
                     f'in the namespace "{ns}"')
        escaped = forbidden.replace('"', '\\"')
        src = "k8s.io/client-go@v0.33.2/tools/cache/reflector.go:285"
        deadline = t + timeout if timeout else math.inf
        backoff = 0.8
        attempt = 0
        tt = t
        while tt < min(deadline, ctx.horizon + 60):
            if attempt > 0:
                B.b.api_calls.append(ApiCall(tt, verb, "", "configmaps", ns, False))
            kind = "list" if verb == "list" else "watch"
            k(tt, "W", "reflector.go:569", f"{src}: failed to {kind} *v1.ConfigMap: {forbidden}")
            k(tt + 0.0001, "E", "reflector.go:166", f'"Unhandled Error" err="{src}: Failed to watch *v1.ConfigMap: '
                                                    f'failed to {kind} *v1.ConfigMap: {escaped}" '
                                                    'logger="UnhandledError"')
            if attempt % 3 == 0:
                k(tt + 0.0002, "E", "config.go:71", f'"Failed to load feature flags, serving defaults" status="403 '
                                                    f'Forbidden" err="{escaped}"')
            attempt += 1
            jitter = L.rng_for(ctx.key, "backoff", attempt).uniform(0.0, 1.0)
            tt += min(backoff, 30.0) * (1 + jitter)
            backoff = min(backoff * 2, 30.0)
            if attempt > 500:
                break
        ready_state[0] = False
        if timeout:
            k(deadline, "E", "shared_informer.go:316", '"Unable to sync caches" logger="config"')
            k(deadline + 0.0001, "F", "main.go:72", f'"Timed out waiting for ConfigMap cache to sync" '
                                                    f'timeout="{ctx.env.get("CONFIG_SYNC_TIMEOUT", "60s")}"')
            B.exit(deadline + 0.001, 255)

    def handler(path: str) -> tuple[int, str]:
        p = path.split("?")[0]
        if p in ("/healthz", "/livez"):
            return 200, "ok"
        if p == "/readyz":
            return (200, "ok") if ready_state[0] else (503, "config not synced\n")
        if p.startswith("/api/orders"):
            return 200, '{"orders":[]}' if p == "/api/orders" else '{{"id":"{}","status":"shipped"}}'.format(p.rsplit("/")[-1])
        return 404, "404 page not found\n"
    B.b.ports[port] = handler
    B.b.listen_from = listen
    B.b.ready = listen
    if synced is not None:
        B.traffic(synced, port, "orders", lambda req, e: [(L.klog_request(req, e), "stderr")], internal=True)
    B.mem((0.0, 8 * MiB), (listen, ctx.spec.memory))
    B.cpu_profile(100, listen, ctx.spec.cpu)
    B.b.processes = [(1, "orders", "/usr/local/bin/orders")]
    return B.b


def _p_cpu_burner(ctx: _Ctx, argv: list[str], wrapped: bool) -> _Behaviour:
    B = _B(ctx)
    try:
        threads = max(1, int(ctx.env.get("BURN_THREADS", "2")))
    except ValueError:
        threads = 2
    demand = 950.0 * threads
    key = ctx.key + "/burn"
    limit = ctx.c.cpu_limit

    def cpu(t: float) -> float:
        if t < 0.1:
            return 100.0
        return demand * (1 + 0.02 * _noise(key, t, 10.0))
    B.b.cpu = cpu
    B.log(0.05, f"{L.ts_iso(ctx.ts(0.05), 3)} cpu-burner {ctx.version}: starting {threads} busy threads (sha256 loop)")
    B.b.ready = 0.1
    B.b.listen_from = 0.1

    def report(i: int, tt: float) -> list[tuple[str, str]]:
        used = min(cpu(tt), float(limit)) if limit else cpu(tt)
        cores = used / 1000.0
        throttled = " (throttled)" if limit and demand > limit else ""
        return [(f"{L.ts_iso(ctx.ts(tt), 3)} burned {cores * 10:.2f} CPU-seconds in the last 10s ({cores:.2f} cores)"
                 f"{throttled}, sha256 rate {cores * 2.1:.2f}M/s", "stdout")]
    B.every(10.0, 10.0, report, name="burn")
    B.mem((0.0, 4 * MiB), (0.1, ctx.spec.memory), noise=0.02)
    B.b.processes = [(1, "root", "/burn")]
    return B.b


def _p_generic(ctx: _Ctx, argv: list[str], wrapped: bool) -> _Behaviour:
    """Scenario images: behaviour from the spec's declarative fields."""
    B = _B(ctx)
    spec = ctx.spec
    subst = {"pod": ctx.c.pod, "namespace": ctx.c.namespace, "container": ctx.c.name, "version": ctx.version,
             "port": str(spec.ports[0] if spec.ports else (ctx.c.ports[0] if ctx.c.ports else "")),
             "node_ip": ctx.pod_ip}

    def fill(template: str, tt: float, i: int = 0, **extra: str) -> str:
        values = {**subst, "time": L.ts_iso(ctx.ts(tt), 3), "i": str(i), **extra}
        out = template
        for k2, v2 in values.items():
            out = out.replace("{" + k2 + "}", v2)
        return re.sub(r"\{env\[(\w+)\]\}", lambda m: ctx.env.get(m.group(1), ""), out)
    missing = [var for var in spec.requires_env if not ctx.env.get(var)]
    if missing:
        t = ctx.s(max(0.05, spec.startup_s * 0.5))
        templates = spec.crash_logs or ("Error: required environment variable {var} is not set",)
        for k2, tpl in enumerate(templates):
            B.log(t + k2 * 0.001, fill(tpl, t, var=missing[0]), "stderr")
        B.exit(t + 0.01, 1)
        B.mem((0.0, spec.memory * 0.3))
        return B.b
    for k2, tpl in enumerate(spec.logs_start):
        B.log(0.01 + k2 * 0.002, fill(tpl, 0.01 + k2 * 0.002))
    ports = list(spec.ports) or list(ctx.c.ports)
    paths = {(p, path): status for p, path, status in spec.http_paths}
    ready = ctx.s(spec.startup_s)

    def make(port: int) -> Handler:
        def handler(path: str) -> tuple[int, str]:
            p = path.split("?")[0]
            if (port, p) in paths:
                st = paths[(port, p)]
                return st, _reason(st) + "\n"
            if p in ("/", "/health", "/healthz", "/ready", "/readyz", "/livez"):
                return 200, "OK\n"
            return 404, "Not Found\n"
        return handler
    if spec.runs_forever or spec.exit_code is None:
        B.listen({p: make(p) for p in ports}, ready)
    for k2, (period, tpl) in enumerate(spec.logs_every):
        B.every(ready + period, period, lambda i, tt, tpl=tpl: [(fill(tpl, tt, i), "stdout")], name=f"every{k2}")
    if spec.exit_code is not None:
        B.exit(max(ready, spec.exit_after), spec.exit_code)
        if not ports:
            B.b.ready = 0.0
            B.b.listen_from = 0.0
    B.mem((0.0, spec.memory * 0.4), (ready, spec.memory))
    B.cpu_profile(spec.startup_cpu, ready, spec.cpu)
    return B.b


_PROGRAMS: dict[str, Callable[[_Ctx, list[str], bool], _Behaviour]] = {
    "nginx": _p_nginx, "httpd": _p_httpd, "redis": _p_redis, "postgres": _p_postgres, "mysql": _p_mysql,
    "mariadb": _p_mariadb, "mongo": _p_mongo, "rabbitmq": _p_rabbitmq, "memcached": _p_memcached,
    "python": _p_python, "node": _p_node, "golang": _p_golang, "pause": _p_pause, "shell": _p_shell_default,
    "prometheus": _p_prometheus, "grafana": _p_grafana, "traefik": _p_traefik, "haproxy": _p_haproxy,
    "vllm": _p_vllm, "llama": _p_llama, "curl": _p_curl, "shop-web": _p_shop_web, "checkout": _p_checkout,
    "payments": _p_payments, "worker": _p_worker, "orders": _p_orders, "cpu-burner": _p_cpu_burner,
    "generic": _p_generic,
}


# ------------------------------------------------------------------------------------------------ exec()

def exec(c: ContainerInput, argv: list[str], resolver: Resolver | None = None, *, at: float | None = None,  # noqa: A001
         stdin: str = "", run_: Run | None = None, timeout_s: float = 60.0, catalog: Catalog = CATALOG) -> ExecResult:
    """`kubectl exec` (or an exec probe) of `argv` in container `c`, `at` seconds after its start.

    `resolver(url)` answers wget/curl/nc/nslookup (see sandbox.behaviour.shell). `localhost` reaches the
    container's own ports through its run (`run_`, computed when not given). Files are the image's, the mounts,
    and what the main process wrote by `at`.
    """
    ctx = _context(c, (at or 0.0) + timeout_s, resolver, catalog, 10_000)
    if run_ is None:
        run_ = run(c, max(at or 0.0, 0.0) + 1.0 if at is not None else 600.0, resolver=resolver, catalog=catalog)
    t_at = at if at is not None else (run_.ready_after if run_.ready_after is not None else 0.0)
    flavor, commands = _shell_setup(ctx.spec, ctx.base, ctx.tag)
    if flavor is not None:
        commands = commands | {posixpath.basename(p) for p in ctx.spec.programs} | IMAGE_CLIENTS.get(
            ctx.spec.program, frozenset())
    name = posixpath.basename(argv[0]) if argv else ""
    exec_id = hashlib.sha256(f"{ctx.key}/{t_at}/{argv}".encode()).hexdigest()

    def fail(what: str) -> ExecResult:
        msg = (f"Internal error occurred: Internal error occurred: error executing command in container: failed to "
               f'exec in container: failed to start exec "{exec_id}": OCI runtime exec failed: exec failed: unable '
               f"to start container process: {what}: unknown")
        return ExecResult("", "", 127, error=msg)
    if not argv:
        return fail("exec: no command specified")
    in_image = (name in SHELLS and flavor is not None and not (name == "bash" and flavor.shell == "ash"
                                                                and "bash" not in commands)) \
        or (name in commands and ("/" not in argv[0] or posixpath.dirname(argv[0]) in (
            "/bin", "/usr/bin", "/sbin", "/usr/sbin", "/usr/local/bin"))) \
        or ("/" in argv[0] and argv[0] in ctx.files and flavor is not None)
    if not in_image:
        return fail(_exec_missing(argv[0]))
    files = run_.files_at(t_at)

    def local(port: int, path: str) -> tuple[int, str] | None:
        return run_.http(port, path, t_at)

    def local_tcp(port: int) -> bool:
        return run_.tcp_open(port, t_at)
    cfg = _shell_config(ctx, flavor or BUSYBOX, commands, horizon=t_at + timeout_s, time0=t_at, stdin=stdin,
                        files=files, pid=100 + int(hashlib.sha256(exec_id.encode()).hexdigest(), 16) % 200,
                        local=local, local_tcp=local_tcp, resolver=resolver,
                        processes=tuple(run_.processes))
    cfg.programs = frozenset()
    res = run_argv(list(argv), cfg)
    if res.stopped and res.stopped.startswith("exec-not-found:"):
        return fail(_exec_missing(res.stopped.split(":", 1)[1]))
    duration = res.ended_at - t_at
    if res.status is None:
        return ExecResult(res.stdout, res.stderr, -1, duration_s=duration, timed_out=True)
    return ExecResult(res.stdout, res.stderr, res.status, duration_s=duration)
