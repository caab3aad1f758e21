"""run() / exec(): what the sandbox kubelet sees of a container."""

from __future__ import annotations

import re

import pytest

from sandbox.behaviour import ContainerInput, ImageNotPulled, NetError, exec, expand_k8s_refs, run

MiB = 1024 * 1024
NGINX_ACCESS = re.compile(r'^10\.244\.\d+\.\d+ - - \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d \+0000\] "(GET|HEAD|POST) \S+ '
                          r'HTTP/1\.1" \d{3} \d+ "[^"]*" "[^"]+" "-"$')


def ci(image: str, **kw: object) -> ContainerInput:
    base: dict = dict(image=image, command=None, args=None, env={}, files={}, memory_limit=None, cpu_limit=None,
                      ports=[], name="app", pod="app-7d9c5b8f6-x2k4p", namespace="shop", seed=7, restart_count=0)
    base.update(kw)
    return ContainerInput(**base)


def test_nginx_serves_and_logs_access_lines() -> None:
    r = run(ci("nginx:1.27", ports=[80]), 120)
    assert r.exit is None and r.ready_after is not None and r.ready_after < 0.1
    assert r.serves(80, "/") == 200 and r.http(80, "/")[1].startswith("<!DOCTYPE html>")  # type: ignore[index]
    assert r.serves(80, "/nope") == 404
    assert r.serves(8080, "/") is None and not r.tcp_open(8080) and r.tcp_open(80)
    assert r.serves(80, "/", t=0.0) is None  # not listening yet
    texts = [ln.text for ln in r.lines]
    assert texts[0] == ("/docker-entrypoint.sh: /docker-entrypoint.d/ is not empty, will attempt to perform "
                        "configuration")
    assert "2025/06/15 15:06:40 [notice] 1#1: nginx/1.27.5" in texts
    access = [ln for ln in r.lines if ln.stream == "stdout" and ln.text.startswith("10.244.")]
    assert len(access) > 20 and all(NGINX_ACCESS.match(ln.text) for ln in access)
    assert any('"GET / HTTP/1.1" 200 615 ' in ln.text for ln in access)
    assert any(" 404 153 " in ln.text for ln in access)
    assert r.usage(60)[1] < 16 * MiB


def test_nginx_config_from_a_configmap() -> None:
    conf = "server {\n  listen 8080;\n  location = /healthz { return 200 'ok'; }\n  root /usr/share/nginx/html;\n}\n"
    r = run(ci("nginx:1.27-alpine", files={"/etc/nginx/conf.d/default.conf": conf}), 10)
    assert r.serves(8080, "/healthz") == 200 and r.http(8080, "/healthz")[1] == "ok"  # type: ignore[index]
    assert r.serves(80, "/") is None
    assert r.probe("http", 80, "/", host="10.244.1.5") == (
        False, 'Get "http://10.244.1.5:80/": dial tcp 10.244.1.5:80: connect: connection refused')
    broken = run(ci("nginx:1.27", files={"/etc/nginx/conf.d/default.conf": "server {\n listen 80;\n"}), 10)
    assert broken.exit is not None and broken.exit[1:] == (1, "Error")
    assert broken.lines[-1].text == ('nginx: [emerg] unexpected end of file, expecting "}" in '
                                     "/etc/nginx/conf.d/default.conf:2")


def test_busybox_shell_timeline() -> None:
    r = run(ci("busybox:1.36", command=["sh", "-c", "echo hi; sleep 5; exit 3"]), 60)
    assert r.logs == [(0.0, "hi")]
    assert r.exit == (5.0, 3, "Error")
    assert run(ci("busybox"), 60).exit == (0.0, 0, "Completed")  # default `sh`, no stdin
    r = run(ci("busybox", command=["sh", "-c", "while true; do echo $(date +%s) tick; sleep 10; done"]), 35)
    assert r.exit is None and r.logs == [(0.0, "1750000000 tick"), (10.0, "1750000010 tick"),
                                         (20.0, "1750000020 tick"), (30.0, "1750000030 tick")]


def test_env_expansion_and_mounted_files() -> None:
    r = run(ci("alpine:3.20", command=["sh", "-c", 'echo "$GREETING, ${WHO:-nobody}"; cat /etc/cfg/mode'],
               env={"GREETING": "hello"}, files={"/etc/cfg/mode": "prod\n"}), 10)
    assert [ln.text for ln in r.lines] == ["hello, nobody", "prod"]
    r = run(ci("busybox", command=["echo"], args=["$(GREETING) $(MISSING) $$(GREETING)"],
               env={"GREETING": "hi"}), 10)
    assert r.logs == [(0.0, "hi $(MISSING) $(GREETING)")]
    assert expand_k8s_refs("a$(X)b$$c", {"X": "1"}) == "a1b$c"


def test_payments_oom_killed_under_a_small_limit() -> None:
    small = run(ci("kubesage/payments:1.5.0", memory_limit=64 * MiB), 60)
    assert small.exit is not None and small.exit[1:] == (137, "OOMKilled") and small.exit[0] < 2
    assert small.ready_after is None and small.usage(30) == (0, 0)
    mid = run(ci("kubesage/payments:1.5.0", memory_limit=256 * MiB), 60)
    assert mid.exit is not None and mid.exit[1:] == (137, "OOMKilled") and 4 < mid.exit[0] < 9
    assert "Fraud-score cache warm-up" in mid.lines[-1].text  # the last line before the kill
    ok = run(ci("kubesage/payments:1.5.0", memory_limit=512 * MiB), 60)
    assert ok.exit is None and ok.ready_after is not None and ok.serves(8080, "/actuator/health") == 200
    cpu, mem = ok.usage(45)
    assert 280 * MiB < mem < 330 * MiB


def test_checkout_needs_payments_url() -> None:
    crash = run(ci("kubesage/checkout:2.4.0"), 30)
    assert crash.exit is not None and crash.exit[1:] == (1, "Error")
    texts = [ln.text for ln in crash.lines]
    assert texts[0] == "Traceback (most recent call last):"
    assert texts[-1] == "KeyError: 'PAYMENTS_URL'"
    assert '    PAYMENTS_URL = os.environ["PAYMENTS_URL"]' in texts
    assert crash.termination_message_for("FallbackToLogsOnError").endswith("KeyError: 'PAYMENTS_URL'")
    again = run(ci("kubesage/checkout:2.4.0", restart_count=3), 30)
    assert again.exit is not None and again.exit[0] != crash.exit[0]  # runs differ slightly per restart
    ok = run(ci("kubesage/checkout:2.4.0", env={"PAYMENTS_URL": "http://payments:8080"}), 30)
    assert ok.exit is None and ok.serves(8080, "/healthz") == 200
    assert any("Uvicorn running on http://0.0.0.0:8080" in ln.text for ln in ok.lines)


def test_orders_logs_403_when_rbac_denies() -> None:
    calls: list[tuple] = []

    def deny(verb: str, group: str, resource: str, namespace: str) -> bool:
        calls.append((verb, group, resource, namespace))
        return False
    r = run(ci("kubesage/orders:3.1.2", service_account="orders", api_allowed=deny), 120)
    assert ("list", "", "configmaps", "shop") in calls
    forbidden = [ln.text for ln in r.lines if "403 Forbidden" in ln.text]
    assert forbidden and 'User \\"system:serviceaccount:shop:orders\\" cannot list resource \\"configmaps\\"' \
        in forbidden[0]
    assert r.serves(8080, "/healthz", 5) == 200 and r.serves(8080, "/readyz", 5) == 503
    assert r.exit is not None and r.exit[1] == 255 and 55 < r.exit[0] < 65
    assert any(not c.allowed for c in r.api_calls)
    allowed = run(ci("kubesage/orders:3.1.2", service_account="orders", api_allowed=lambda *a: True), 120)
    assert allowed.exit is None and allowed.serves(8080, "/readyz") == 200
    assert not any("forbidden" in ln.text for ln in allowed.lines)


def test_cpu_burner_usage_and_throttling() -> None:
    free = run(ci("kubesage/cpu-burner:1.0"), 120)
    assert all(1800 <= free.usage(t)[0] <= 2000 for t in (5, 30, 61.5, 100))
    capped = run(ci("kubesage/cpu-burner:1.0", cpu_limit=500), 120)
    assert all(capped.usage(t)[0] == 500 for t in (5, 30, 61.5, 100))
    assert "(0.50 cores) (throttled)" in capped.lines[-1].text


def test_start_errors_and_unknown_images() -> None:
    r = run(ci("busybox", command=["/app/start"]), 10)
    assert r.exit == (0.0, 128, "StartError") and not r.started
    assert r.termination_message.endswith('exec: "/app/start": stat /app/start: no such file or directory: unknown')
    r = run(ci("kubesage/worker:1.0.1", command=["sh", "-c", "echo hi"]), 10)
    assert r.exit == (0.0, 128, "StartError") and 'exec: "sh": executable file not found in $PATH' in \
        r.termination_message
    with pytest.raises(ImageNotPulled):
        run(ci("nginx:1.277"), 10)


def test_databases() -> None:
    pg = run(ci("postgres:16"), 30)
    assert pg.exit is not None and pg.exit[1] == 1
    assert pg.lines[0].text == "Error: Database is uninitialized and superuser password is not specified."
    pg = run(ci("postgres:16", env={"POSTGRES_PASSWORD": "s3cret"}), 30)
    assert pg.exit is None and pg.tcp_open(5432) and not pg.tcp_open(5432, t=0.1)
    assert pg.lines[-1].text.endswith("LOG:  database system is ready to accept connections")
    redis = run(ci("redis:7.2", args=["--port", "7000"]), 10)
    assert redis.tcp_open(7000) and not redis.tcp_open(6379)
    assert redis.probe("http", 7000, "/")[1].startswith('Get "http://10.244.0.2:7000/": net/http: HTTP/1.x')
    mysql = run(ci("mysql:8.4", env={"MYSQL_ROOT_PASSWORD": "x"}, memory_limit=256 * MiB), 60)
    assert mysql.exit is not None and mysql.exit[2] == "OOMKilled"


def test_llama_server_answers_503_while_loading() -> None:
    r = run(ci("ghcr.io/ggml-org/llama.cpp:server", args=["-m", "/models/qwen2.5-0.5b-q4.gguf", "--port", "8081"]),
            30)
    assert r.ready_after is not None and r.serves(8081, "/health", t=0.2) == 503
    assert r.serves(8081, "/health") == 200
    assert run(ci("vllm/vllm-openai:v0.9.2", args=["--model", "Qwen/Qwen2.5-0.5B"]), 30).exit[1] == 1  # no GPU


def test_slow_start_under_a_cpu_limit() -> None:
    fast = run(ci("kubesage/payments:1.5.0"), 300)
    slow = run(ci("kubesage/payments:1.5.0", cpu_limit=100), 300)
    assert fast.ready_after is not None and slow.ready_after is not None
    assert slow.ready_after > 5 * fast.ready_after


def test_exec_env_cat_wget_and_errors() -> None:
    c = ci("alpine:3.20", command=["sleep", "infinity"], env={"APP_MODE": "prod"},
           files={"/etc/app/config.yaml": "replicas: 3\n"})
    e = exec(c, ["env"])
    assert e.exit_code == 0 and "APP_MODE=prod\n" in e.stdout and "HOSTNAME=app-7d9c5b8f6-x2k4p\n" in e.stdout
    assert e.stdout.startswith("PATH=")
    assert exec(c, ["cat", "/etc/app/config.yaml"]).stdout == "replicas: 3\n"

    def resolver(url: str) -> object:
        if url in ("http://web/", "http://web.shop.svc.cluster.local:80/"):
            return (200, "<h1>web</h1>\n")
        if url.startswith("http://api"):
            return NetError("refused", "10.96.44.1")
        return None
    e = exec(c, ["wget", "-qO-", "http://web/"], resolver)
    assert (e.stdout, e.stderr, e.exit_code) == ("<h1>web</h1>\n", "", 0)
    e = exec(c, ["sh", "-c", "wget -qO- http://api:8080/ ; wget -qO- http://ghost/"], resolver)
    assert e.stderr == ("wget: can't connect to remote host (10.96.44.1): Connection refused\n"
                        "wget: bad address 'ghost'\n") and e.exit_code == 1
    e = exec(c, ["sh", "-c", "foo"])
    assert (e.stderr, e.exit_code, e.error) == ("sh: foo: not found\n", 127, None)
    e = exec(c, ["foo"])
    assert e.exit_code == 127 and e.error is not None and e.error.endswith(
        'exec: "foo": executable file not found in $PATH: unknown')
    e = exec(c, ["sleep", "100"], timeout_s=5)
    assert e.timed_out and e.exit_code == -1


def test_exec_sees_the_containers_own_ports_and_files() -> None:
    nginx = ci("nginx:1.27")
    e = exec(nginx, ["curl", "-s", "localhost/"])
    assert e.exit_code == 0 and "Welcome to nginx!" in e.stdout
    assert exec(nginx, ["wget", "-qO-", "localhost"]).stderr == "sh: 1: wget: not found\n" or \
        exec(nginx, ["wget", "-qO-", "localhost"]).error is not None  # the Debian nginx image has no wget
    probe = ci("busybox", command=["sh", "-c", "touch /tmp/healthy; sleep 30; rm -f /tmp/healthy; sleep 600"])
    life = run(probe, 100)
    assert exec(probe, ["cat", "/tmp/healthy"], at=10, run_=life).exit_code == 0
    assert exec(probe, ["cat", "/tmp/healthy"], at=40, run_=life).exit_code == 1


def test_determinism_and_seeds() -> None:
    a = run(ci("nginx:1.27", seed=1), 300)
    b = run(ci("nginx:1.27", seed=1), 300)
    c = run(ci("nginx:1.27", seed=2), 300)
    assert a.lines == b.lines and a.usage(100) == b.usage(100)
    access_a = [ln.text for ln in a.lines if ln.text.startswith("10.244.")]
    access_c = [ln.text for ln in c.lines if ln.text.startswith("10.244.")]
    assert access_a != access_c
    longer = run(ci("nginx:1.27", seed=1), 900)
    assert [ln for ln in longer.lines if ln.t <= 300] == a.lines  # a longer horizon only appends


def test_log_rotation_keeps_the_newest_lines() -> None:
    r = run(ci("nginx:1.27"), 7200, max_lines=200)
    assert len(r.lines) == 200 and r.rotated_before > 0 and r.lines[-1].t <= 7200
    window = r.logs_between(100, 200)
    assert window and all(100 <= ln.t <= 200 for ln in window)
    assert window == [ln for ln in run(ci("nginx:1.27"), 7200).lines if 100 <= ln.t <= 200]


def test_shell_hands_over_to_the_image_program() -> None:
    r = run(ci("nginx:1.27", command=["sh", "-c", "echo starting; sleep 2; exec nginx -g 'daemon off;'"]), 20)
    assert r.exit is None and r.ready_after is not None and 2 < r.ready_after < 2.1
    assert r.lines[0].text == "starting" and r.lines[1].text.startswith("2025/06/15 15:06:42 [notice] 1#1:")
    assert r.serves(80, "/") == 200 and r.serves(80, "/", t=1.0) is None


def test_shell_servers_and_python_http_server() -> None:
    r = run(ci("busybox", command=["sh", "-c", "mkdir -p /www; echo hello > /www/index.html; "
                                               "httpd -f -p 8080 -h /www"]), 20)
    assert r.http(8080, "/") == (200, "hello\n") and r.serves(8080, "/missing") == 404
    r = run(ci("python:3.12-slim", command=["python", "-m", "http.server", "9000"],
               env={"PYTHONUNBUFFERED": "1"}), 60)
    assert r.lines[0].text == "Serving HTTP on 0.0.0.0 port 9000 (http://0.0.0.0:9000/) ..."
    assert r.serves(9000, "/") == 200
    buffered = run(ci("python:3.12-slim", command=["python", "-m", "http.server"]), 60)
    assert not any(ln.text.startswith("Serving HTTP") for ln in buffered.lines)  # stdout is block-buffered
    r = run(ci("python:3.12", command=["python", "-c", "import time\nwhile True:\n    print('hi')\n    time.sleep(5)"]),
            12)
    assert r.logs == [(0.0, "hi"), (5.0, "hi"), (10.0, "hi")]


def test_slim_images_have_no_curl() -> None:
    assert exec(ci("python:3.12-slim"), ["sh", "-c", "curl -s http://web/"]).stderr == "sh: 1: curl: not found\n"
    assert exec(ci("python:3.12"), ["sh", "-c", "command -v curl"]).stdout == "/usr/bin/curl\n"


def test_termination_message_and_probe_messages() -> None:
    r = run(ci("busybox", command=["sh", "-c", "echo 'bad config' > /dev/termination-log; exit 1"]), 10)
    assert r.exit == (0.0, 1, "Error") and r.termination_message == "bad config\n"
    orders = run(ci("kubesage/orders", api_allowed=lambda *a: False), 30)
    assert orders.probe("http", 8080, "/readyz", t=10) == (False, "HTTP probe failed with statuscode: 503")
    assert orders.probe("tcp", 8080, t=10) == (True, "")
    assert orders.probe("tcp", 9999, t=10, host="10.244.1.9") == (
        False, "dial tcp 10.244.1.9:9999: connect: connection refused")


def test_scenario_images_through_a_catalog() -> None:
    from sandbox.behaviour import CATALOG, ImageSpec, pull
    spec = ImageSpec.from_dict({
        "image": "acme/billing", "tags": ["2.0"], "ports": [9090], "memory": "120Mi", "cpu": "30m", "startup_s": 2,
        "logs_start": ["{time} billing {version} starting in {namespace}"],
        "logs_every": [{"period": 15, "line": "{time} invoice batch {i} ok"}],
        "requires_env": ["DB_URL"], "crash_logs": ["{time} FATAL missing {var}"]})
    catalog = CATALOG.with_images(spec)
    assert pull("acme/billing:2.0", catalog=catalog).ok and not pull("acme/billing:2.0").ok
    crash = run(ci("acme/billing:2.0"), 60, catalog=catalog)
    assert crash.exit == (1.01, 1, "Error") and crash.logs == [(1.0, "2025-06-15T15:06:41.000Z FATAL missing DB_URL")]
    ok = run(ci("acme/billing:2.0", env={"DB_URL": "postgres://db"}), 40, catalog=catalog)
    assert ok.ready_after == 2.0 and ok.serves(9090, "/healthz") == 200
    assert ok.logs == [(0.01, "2025-06-15T15:06:40.010Z billing 2.0 starting in shop"),
                       (17.0, "2025-06-15T15:06:57.000Z invoice batch 0 ok"),
                       (32.0, "2025-06-15T15:07:12.000Z invoice batch 1 ok")]
    cpu, mem = ok.usage(30)
    assert 20 <= cpu <= 40 and 110 * MiB < mem < 130 * MiB
