"""Realistic log lines, deterministic from (seed, container identity, index).

Nothing here reads the clock or the global random generator: every function takes the epoch seconds it
formats and derives its randomness from `rng_for(...)`, a `random.Random` seeded with a string.

Traffic (the requests a server answers) is generated in fixed 10-second buckets, each seeded on its own, so a
window of log lines never depends on how far the caller looked before: asking for a longer horizon only
appends lines.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

__all__ = [
    "Request", "rng_for", "requests_between", "client_ip", "PROFILES",
    "ts_nginx", "ts_nginx_error", "ts_iso", "ts_klog", "ts_redis", "ts_apache", "ts_postgres", "ts_python",
    "ts_gunicorn", "ts_mysql", "ts_vllm",
    "nginx_access", "nginx_error_open_failed", "apache_access", "python_http_server_access", "uvicorn_access",
    "pino_request", "klog", "klog_request", "zap_json", "logback",
    "python_traceback", "java_stack_trace", "go_panic", "oom_precursor", "error_line",
]

BUCKET_S = 10.0


def rng_for(*parts: object) -> random.Random:
    """A private generator seeded from the parts (never the global one)."""
    return random.Random("/".join(str(p) for p in parts))


# ------------------------------------------------------------------------------------------------ time formats

def _dt(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def ts_nginx(epoch: float) -> str:
    """`12/Jun/2025:10:00:01 +0000` (nginx $time_local, Apache %t)."""
    return _dt(epoch).strftime("%d/%b/%Y:%H:%M:%S +0000")


def ts_nginx_error(epoch: float) -> str:
    return _dt(epoch).strftime("%Y/%m/%d %H:%M:%S")


def ts_iso(epoch: float, digits: int = 3) -> str:
    d = _dt(epoch)
    if digits == 0:
        return d.strftime("%Y-%m-%dT%H:%M:%SZ")
    frac = f"{d.microsecond:06d}"[:digits] if digits <= 6 else f"{d.microsecond:06d}" + "0" * (digits - 6)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + frac + "Z"


def ts_klog(epoch: float) -> str:
    """`0612 10:00:01.123456` (the part after the severity letter)."""
    return _dt(epoch).strftime("%m%d %H:%M:%S.%f")


def ts_redis(epoch: float) -> str:
    d = _dt(epoch)
    return d.strftime("%d %b %Y %H:%M:%S.") + f"{d.microsecond // 1000:03d}"


def ts_apache(epoch: float) -> str:
    return _dt(epoch).strftime("%a %b %d %H:%M:%S.%f %Y")


def ts_postgres(epoch: float) -> str:
    d = _dt(epoch)
    return d.strftime("%Y-%m-%d %H:%M:%S.") + f"{d.microsecond // 1000:03d} UTC"


def ts_python(epoch: float) -> str:
    """Python logging's default `2025-06-12 10:00:01,123`."""
    d = _dt(epoch)
    return d.strftime("%Y-%m-%d %H:%M:%S,") + f"{d.microsecond // 1000:03d}"


def ts_gunicorn(epoch: float) -> str:
    return _dt(epoch).strftime("%Y-%m-%d %H:%M:%S +0000")


def ts_mysql(epoch: float) -> str:
    return ts_iso(epoch, 6)


def ts_vllm(epoch: float) -> str:
    return _dt(epoch).strftime("%m-%d %H:%M:%S")


# ------------------------------------------------------------------------------------------------ traffic

@dataclass(frozen=True)
class Request:
    t: float  # offset seconds from container start
    index: int  # unique per container run: bucket * 1000 + position
    client: str
    port: int
    method: str
    path: str
    user_agent: str
    referer: str
    duration_ms: float
    status: int = 200
    size: int = 0


# path, weight, method (None: GET mostly, HEAD sometimes)
PROFILES: dict[str, list[tuple[str, float, str | None]]] = {
    "web": [("/", 40, None), ("/index.html", 5, None), ("/favicon.ico", 8, "GET"), ("/robots.txt", 3, "GET"),
            ("/static/app.js", 5, "GET"), ("/static/style.css", 5, "GET"), ("/healthz", 4, "GET"),
            ("/api/status", 2, "GET"), ("/wp-login.php", 1, "GET"), ("/.env", 1, "GET"), ("/admin", 1, "GET"),
            ("/images/logo.png", 3, "GET")],
    "shop": [("/", 20, "GET"), ("/api/products", 25, "GET"), ("/api/products/{id}", 20, "GET"),
             ("/api/cart", 10, "GET"), ("/api/cart/items", 6, "POST"), ("/static/main.js", 6, "GET"),
             ("/static/main.css", 6, "GET"), ("/healthz", 5, "GET"), ("/favicon.ico", 2, "GET")],
    "checkout": [("/api/checkout", 30, "POST"), ("/api/checkout/{id}", 10, "GET"), ("/healthz", 4, "GET")],
    "payments": [("/api/payments/authorize", 30, "POST"), ("/api/payments/{id}/capture", 15, "POST"),
                 ("/api/payments/{id}", 8, "GET"), ("/actuator/health", 4, "GET")],
    "orders": [("/api/orders", 20, "GET"), ("/api/orders", 10, "POST"), ("/api/orders/{id}", 20, "GET"),
               ("/healthz", 4, "GET")],
    "api": [("/v1/models", 5, "GET"), ("/v1/chat/completions", 30, "POST"), ("/health", 5, "GET"),
            ("/metrics", 3, "GET")],
    "prometheus": [("/metrics", 30, "GET"), ("/-/ready", 5, "GET"), ("/api/v1/query", 10, "GET")],
    "grafana": [("/api/health", 10, "GET"), ("/login", 5, "GET"), ("/api/dashboards/uid/{uid}", 5, "GET"),
                ("/public/build/app.js", 3, "GET")],
}

_USER_AGENTS = [
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 "
     "Safari/537.36", 30),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 "
     "Safari/605.1.15", 15),
    ("Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0", 8),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.5 Mobile/15E148 Safari/604.1", 12),
    ("curl/8.7.1", 6), ("Go-http-client/1.1", 6), ("python-requests/2.32.3", 5), ("Wget", 2),
    ("kube-probe/1.33", 6),
    ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", 3),
    ("Prometheus/3.4.1", 2),
]
_SERVICE_AGENTS = [("Go-http-client/1.1", 30), ("python-httpx/0.27.0", 20), ("node-fetch/1.0", 10),
                   ("okhttp/4.12.0", 10), ("kube-probe/1.33", 5), ("curl/8.7.1", 2)]
_REFERERS = ["-", "-", "-", "-", "https://shop.example.com/", "https://www.google.com/",
             "https://shop.example.com/products", "https://shop.example.com/cart"]


def client_ip(rng: random.Random) -> str:
    return f"10.244.{rng.randrange(0, 4)}.{rng.randrange(2, 250)}"


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 60:
        return max(0, int(round(rng.gauss(lam, math.sqrt(lam)))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _weighted(rng: random.Random, items: list[tuple]) -> tuple:
    total = sum(w for _, w, *_ in items)
    x = rng.random() * total
    for item in items:
        x -= item[1]
        if x <= 0:
            return item
    return items[-1]


def requests_between(key: str, t0: float, t1: float, rate: float, *, port: int = 80, profile: str = "web",
                     start: float = 0.0, route: Callable[[str, str], tuple[int, int]] | None = None,
                     internal: bool = False) -> list[Request]:
    """Requests a server receives in [t0, t1) at `rate` per second (Poisson, in seeded 10 s buckets).

    `route(method, path)` gives (status, response bytes) — the server's own answer, so the access log agrees
    with what `Run.http` returns. `internal` requests come from other pods (service user agents).
    """
    if rate <= 0 or t1 <= t0:
        return []
    t0 = max(t0, start)
    out: list[Request] = []
    paths = PROFILES.get(profile, PROFILES["web"])
    agents = _SERVICE_AGENTS if internal else _USER_AGENTS
    for b in range(int(math.floor(t0 / BUCKET_S)), int(math.ceil(t1 / BUCKET_S))):
        r = rng_for(key, "traffic", b)
        n = _poisson(r, rate * BUCKET_S)
        times = sorted(b * BUCKET_S + r.random() * BUCKET_S for _ in range(n))
        for j, t in enumerate(times):
            if not (t0 <= t < t1):
                continue
            rr = rng_for(key, "req", b, j)
            path, _, method = _weighted(rr, paths)
            if "{id}" in path:
                path = path.replace("{id}", str(rr.randrange(1000, 99999)))
            if "{uid}" in path:
                path = path.replace("{uid}", "".join(rr.choice("abcdefghjkmnpqrstuvwxyz0123456789") for _ in range(9)))
            if method is None:
                method = "HEAD" if rr.random() < 0.03 else "GET"
            ua = _weighted(rr, agents)[0]
            referer = rr.choice(_REFERERS) if not internal else "-"
            dur = round(rr.lognormvariate(math.log(4.0), 0.7), 3)
            status, size = route(method, path) if route else (200, 0)
            out.append(Request(t, b * 1000 + j, client_ip(rr), port, method, path, ua, referer, dur, status,
                               size if method != "HEAD" else 0))
    return out


# ------------------------------------------------------------------------------------------------ access logs

def nginx_access(req: Request, epoch: float) -> str:
    """The official nginx image's `main` log format (combined + "$http_x_forwarded_for")."""
    return (f'{req.client} - - [{ts_nginx(epoch)}] "{req.method} {req.path} HTTP/1.1" {req.status} {req.size} '
            f'"{req.referer}" "{req.user_agent}" "-"')


def nginx_error_open_failed(req: Request, epoch: float, root: str, pid: int, conn: int, host: str) -> str:
    return (f'{ts_nginx_error(epoch)} [error] {pid}#{pid}: *{conn} open() "{root}{req.path}" failed (2: No such '
            f'file or directory), client: {req.client}, server: localhost, request: "{req.method} {req.path} '
            f'HTTP/1.1", host: "{host}"')


def apache_access(req: Request, epoch: float) -> str:
    """httpd's default common log format."""
    size = str(req.size) if req.size else "-"
    return f'{req.client} - - [{ts_nginx(epoch)}] "{req.method} {req.path} HTTP/1.1" {req.status} {size}'


def python_http_server_access(req: Request, epoch: float) -> str:
    d = _dt(epoch).strftime("%d/%b/%Y %H:%M:%S")
    return f'{req.client} - - [{d}] "{req.method} {req.path} HTTP/1.1" {req.status} -'


def uvicorn_access(req: Request, epoch: float) -> str:
    from http import HTTPStatus
    try:
        phrase = HTTPStatus(req.status).phrase
    except ValueError:
        phrase = ""
    port = 32768 + (req.index * 7919 + 4243) % 28231
    return f'INFO:     {req.client}:{port} - "{req.method} {req.path} HTTP/1.1" {req.status} {phrase}'


def pino_request(req: Request, epoch: float, hostname: str, pid: int = 1) -> str:
    level = 30 if req.status < 400 else 40 if req.status < 500 else 50
    ms = int(epoch * 1000)
    return json.dumps({"level": level, "time": ms, "pid": pid, "hostname": hostname,
                       "req": {"id": req.index % 100000, "method": req.method, "url": req.path,
                               "remoteAddress": req.client},
                       "res": {"statusCode": req.status}, "responseTime": round(req.duration_ms, 3),
                       "msg": "request completed"}, separators=(",", ":"))


def klog(severity: str, epoch: float, source: str, message: str, pid: int = 1) -> str:
    """A klog line: `I0612 10:00:01.123456       1 main.go:42] message`."""
    return f"{severity}{ts_klog(epoch)} {pid:7d} {source}] {message}"


def klog_request(req: Request, epoch: float) -> str:
    return klog("I", epoch, "handler.go:88",
                f'"Handled request" method="{req.method}" path="{req.path}" status={req.status} '
                f'duration="{req.duration_ms:.1f}ms" remote="{req.client}"')


def zap_json(level: str, epoch: float, caller: str, msg: str, **fields: object) -> str:
    parts = [f'"level":"{level}"', f'"ts":{epoch:.6f}'.rstrip("0"), f'"caller":"{caller}"', f'"msg":"{msg}"']
    for k, v in fields.items():
        parts.append(f'"{k}":{_json_value(v)}')
    return "{" + ",".join(parts) + "}"


def logback(epoch: float, level: str, thread: str, logger: str, msg: str, app: str = "payments",
            pid: int = 1) -> str:
    """Spring Boot 3's default console pattern."""
    return f"{ts_iso(epoch, 3)} {level:>5} {pid} --- [{app}] [{thread[-15:]:>15}] {_abbrev(logger):<40} : {msg}"


def _abbrev(logger: str, width: int = 39) -> str:
    if len(logger) <= width:
        return logger
    parts = logger.split(".")
    for i in range(len(parts) - 1):
        parts[i] = parts[i][0]
        if len(".".join(parts)) <= width:
            break
    return ".".join(parts)


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:.3f}".rstrip("0")


def _json_value(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return _num(float(v)) if isinstance(v, float) else str(v)
    return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'


# ------------------------------------------------------------------------------------------------ errors

def python_traceback(frames: list[tuple[str, int, str, str]], exc_type: str, exc_msg: str,
                     carets: dict[int, str] | None = None) -> list[str]:
    """A CPython 3.11+ traceback. frames: (file, line, function, source line or "")."""
    lines = ["Traceback (most recent call last):"]
    for k, (file, line, func, src) in enumerate(frames):
        lines.append(f'  File "{file}", line {line}, in {func}')
        if src:
            lines.append(f"    {src}")
            if carets and k in carets:
                lines.append(f"    {carets[k]}")
    lines.append(f"{exc_type}: {exc_msg}" if exc_msg else exc_type)
    return lines


def java_stack_trace(exc_class: str, message: str, frames: list[str], caused_by: tuple[str, str, list[str]] |
                     None = None, omitted: int = 0) -> list[str]:
    """`java.lang.Foo: message` followed by `\\tat ...` frames (and an optional `Caused by:` chain)."""
    lines = [f"{exc_class}: {message}" if message else exc_class]
    lines += [f"\tat {f}" for f in frames]
    if omitted:
        lines.append(f"\t... {omitted} more")
    if caused_by:
        c_class, c_msg, c_frames = caused_by
        lines.append(f"Caused by: {c_class}: {c_msg}" if c_msg else f"Caused by: {c_class}")
        lines += [f"\tat {f}" for f in c_frames]
        lines.append(f"\t... {max(1, len(frames) - 1)} common frames omitted")
    return lines


def go_panic(message: str, frames: list[tuple[str, str, int, str]], *, signal: str | None = None,
             goroutine: int = 1) -> list[str]:
    """A Go panic: frames are (function call text, file, line, pc offset)."""
    lines = [f"panic: {message}"]
    if signal:
        lines.append(signal)
    lines += ["", f"goroutine {goroutine} [running]:"]
    for call, file, line, off in frames:
        lines += [call, f"\t{file}:{line} {off}"]
    return lines


def oom_precursor(style: str, epoch: float, used_mib: int, limit_mib: int | None, *, pid: int = 1) -> str:
    """A line an application writes as its memory grows (what is left in the log after an OOM kill)."""
    pct = f" ({used_mib * 100 // limit_mib}% of limit)" if limit_mib else ""
    if style == "java":
        return logback(epoch, "WARN", "main", "c.k.payments.cache.FraudScoreCache",
                       f"Heap usage high after cache load: {used_mib} MiB used{pct}")
    if style == "go":
        return zap_json("warn", epoch, "runtime/mem.go:41", "memory usage high", rss_mib=used_mib)
    if style == "python":
        return f"{ts_python(epoch)} WARNING memory: resident set size {used_mib} MiB{pct}"
    return f"{ts_iso(epoch)} WARN memory usage {used_mib} MiB{pct}"


def error_line(style: str, epoch: float, rng: random.Random) -> str:
    """A plausible transient application error in the given style."""
    target = rng.choice(["payments.shop.svc.cluster.local:8080", "redis.shop.svc.cluster.local:6379",
                         "orders.shop.svc.cluster.local:8080"])
    if style == "python":
        return (f"{ts_python(epoch)} ERROR checkout.client: upstream request failed: "
                f"httpx.ReadTimeout: timed out (target=http://{target})")
    if style == "go":
        return zap_json("error", epoch, "queue/consumer.go:112", "job failed, will retry",
                        error=f"dial tcp {target}: i/o timeout", attempt=rng.randrange(1, 4))
    if style == "node":
        return json.dumps({"level": 50, "time": int(epoch * 1000), "pid": 1, "msg": "upstream error",
                           "err": {"type": "FetchError",
                                   "message": f"request to http://{target}/ failed, reason: socket hang up"}},
                          separators=(",", ":"))
    if style == "java":
        return logback(epoch, "ERROR", "nio-8080-exec-" + str(rng.randrange(1, 11)),
                       "o.a.c.c.C.[.[.[/].[dispatcherServlet]",
                       "Servlet.service() for servlet [dispatcherServlet] threw exception")
    return f"{ts_iso(epoch)} ERROR request to {target} failed: connection reset by peer"
