"""The simulated shell: syntax, expansion, builtins, tools, network commands, simulated time."""

from __future__ import annotations

import pytest

from sandbox.behaviour.shell import BASH, BUSYBOX, DASH, NetError, ShellConfig, ShellResult, run_argv


def sh(script: str, **kw: object) -> ShellResult:
    return run_argv(["sh", "-c", script], ShellConfig(**kw))  # type: ignore[arg-type]


def out(script: str, **kw: object) -> str:
    return sh(script, **kw).stdout


def test_timeline_echo_sleep_exit() -> None:
    r = sh("echo hi; sleep 5; exit 3")
    assert r.chunks == [(0.0, "stdout", "hi\n")]
    assert (r.status, r.ended_at, r.stopped) == (3, 5.0, None)
    assert r.lines() == [(0.0, "stdout", "hi")]


def test_infinite_loop_stops_at_horizon() -> None:
    r = sh("i=0; while true; do echo tick $i; i=$((i+1)); sleep 2; done", horizon=7)
    assert r.status is None and r.stopped == "horizon" and r.ended_at == 7
    assert r.lines() == [(0.0, "stdout", "tick 0"), (2.0, "stdout", "tick 1"), (4.0, "stdout", "tick 2"),
                         (6.0, "stdout", "tick 3")]
    assert sh("sleep infinity", horizon=50).stopped == "horizon"
    assert sh("tail -f /dev/null", horizon=50).stopped == "horizon"


def test_busy_loop_and_log_flood_do_not_hang() -> None:
    r = sh("while true; do :; done")
    assert r.status is None and r.stopped == "busy" and r.busy_from == 0.0
    r = sh("while true; do echo spam; done", max_events=100)
    assert r.status is None and len(r.chunks) == 100


def test_loops_and_conditionals() -> None:
    assert out("for i in 1 2 3; do echo -n $i; done; echo") == "123\n"
    assert out("n=0; until [ $n -ge 3 ]; do n=$((n+1)); done; echo $n") == "3\n"
    assert out('x=5; if [ "$x" -gt 3 ]; then echo big; elif [ "$x" -eq 3 ]; then echo three; else echo small; fi') \
        == "big\n"
    assert out("for i in 1 2 3 4; do [ $i = 2 ] && continue; [ $i = 4 ] && break; echo $i; done") == "1\n3\n"
    assert out("case web-7f in web-*) echo web;; *) echo other;; esac") == "web\n"
    assert out("f() { echo \"$1-$#\"; return 4; }; f a b; echo $?") == "a-2\n4\n"


def test_test_operators() -> None:
    script = ('for e in "1 -eq 1" "1 -ne 2" "1 -lt 2" "3 -gt 2" "a = a" "a != b" "-z \'\'" "-n x" '
              '"-f /etc/app.conf" "-d /etc" "! -f /nope"; do eval "[ $e ]" && echo -n y || echo -n n; done; echo')
    assert out(script, files={"/etc/app.conf": "x"}) == "yyyyyyyyyyy\n"
    assert out("test 2 -lt 1 || echo no") == "no\n"


def test_expansion() -> None:
    env = {"NAME": "web", "EMPTY": ""}
    assert out('echo $NAME ${NAME} "${MISSING:-dflt}" "${EMPTY:-e}" "${EMPTY-e}" ${#NAME} ${NAME:+set}', env=env) \
        == "web web dflt e  3 set\n"
    assert out('echo $((2 + 3 * 4)) $(( (7 % 4) << 1 )) $((10 / 3)) $((-7 / 2))') == "14 6 3 -3\n"
    assert out("false; echo $?; true; echo $?") == "1\n0\n"
    assert out("x=a.tar.gz; echo ${x%.gz} ${x%%.*} ${x#*.}") == "a.tar a tar.gz\n"
    assert out('echo "$(echo inner) `echo back`"') == "inner back\n"
    assert out("A=1; B=$A$A; echo $B; set -- p q; echo $# $1 \"$@\"") == "11\n2 p p q\n"
    assert out("echo '$NAME' \"$NAME\" \\$NAME", env=env) == "$NAME web $NAME\n"


def test_and_or_and_exit_status() -> None:
    r = sh("true && echo a; false && echo b; false || echo c; exit 7")
    assert (r.stdout, r.status) == ("a\nc\n", 7)
    r = sh("set -e; echo before; false; echo after")
    assert (r.stdout, r.status) == ("before\n", 1)


def test_echo_and_printf() -> None:
    assert out("echo -n a; echo -e 'b\\tc'") == "ab\tc\n"
    assert out("printf '%s=%d\\n' a 1 b 2") == "a=1\nb=2\n"
    assert out("printf '%5.1f|%-4s|%x\\n' 3.14159 ab 255") == "  3.1|ab  |ff\n"
    assert run_argv(["sh", "-c", "echo 'a\\nb'"], ShellConfig(flavor=DASH)).stdout == "a\nb\n"


def test_files() -> None:
    files = {"/etc/config/app.conf": "mode=prod\n", "/etc/config/level": "debug"}
    assert out("cat /etc/config/app.conf", files=files) == "mode=prod\n"
    assert out("ls /etc/config", files=files) == "app.conf\nlevel\n"
    r = sh("cat /nope; ls /nope", files=files)
    assert r.stderr == "cat: can't open '/nope': No such file or directory\nls: /nope: No such file or directory\n"
    r = sh("echo x > /etc/config/new", files=files, readonly=frozenset({"/etc/config"}))
    assert (r.stderr, r.status) == ("sh: can't create /etc/config/new: Read-only file system\n", 1)
    r = sh("echo one > /tmp/f; echo two >> /tmp/f; cat /tmp/f; wc -l < /tmp/f; grep -c o /tmp/f")
    assert r.stdout == "one\ntwo\n2\n2\n"
    assert out("cat <<EOF\nhello $USER\nEOF", env={"USER": "ann"}) == "hello ann\n"
    assert "-rw-r--r--" in out("ls -l /etc/config", files=files)


def test_pipes_and_tools() -> None:
    assert out("printf 'b\\na\\nb\\n' | sort | uniq -c | head -n 1") == "      1 a\n"
    assert out("echo a,b,c | cut -d, -f2") == "b\n"
    assert out("echo hello | tr a-z A-Z") == "HELLO\n"
    assert out("seq 3 | tail -n 1; basename /a/b.txt .txt; dirname /a/b.txt") == "3\nb\n/a\n"
    assert out("env", env={"A": "1", "B": "2"}) == "A=1\nB=2\n"
    assert out("printenv B; hostname; whoami", env={"B": "2"}, hostname="web-0") == "2\nweb-0\nroot\n"
    assert out("date; date +%s", start_time=1_750_000_000.0) == "Sun Jun 15 15:06:40 UTC 2025\n1750000000\n"
    assert out("sleep 60; date +%H:%M:%S", start_time=1_750_000_000.0) == "15:07:40\n"


@pytest.mark.parametrize("flavor, message", [
    (BUSYBOX, "sh: foo: not found\n"),
    (DASH, "sh: 1: foo: not found\n"),
    (BASH, "bash: line 1: foo: command not found\n"),
])
def test_unknown_command(flavor: object, message: str) -> None:
    argv0 = "bash" if flavor is BASH else "sh"
    r = run_argv([argv0, "-c", "foo"], ShellConfig(flavor=flavor))  # type: ignore[arg-type]
    assert (r.stderr, r.status) == (message, 127)


def test_syntax_errors() -> None:
    assert sh("if true; then echo").stderr == 'sh: syntax error: unexpected end of file (expecting "fi")\n'
    assert sh("echo 'open").stderr == "sh: syntax error: unterminated quoted string\n"
    r = run_argv(["sh", "-c", "fi"], ShellConfig(flavor=DASH))
    assert (r.stderr, r.status) == ('sh: 1: Syntax error: "fi" unexpected\n', 2)


def test_commands_missing_from_the_image() -> None:
    r = sh("curl http://web/", commands=frozenset({"sh", "cat"}))
    assert (r.stderr, r.status) == ("sh: curl: not found\n", 127)
    r = sh("vi /etc/hosts", commands=frozenset({"vi"}))
    assert r.status == 126 and "not simulated in the kubesage sandbox" in r.stderr
    r = sh("kill 1")
    assert r.status == 1 and "not simulated" in r.stderr


def _resolver(url: str) -> object:
    if url.startswith("dns://"):
        return (0, "web.shop.svc.cluster.local 10.96.12.7") if url == "dns://web" else None
    if url.startswith("tcp://"):
        if not url.startswith("tcp://web:"):
            return None
        return (0, "") if url == "tcp://web:80" else NetError("refused", "10.96.12.7")
    if "//web" in url:
        return (404, "nope\n") if url.endswith("/missing") else (200, "hello from web\n")
    if "//down" in url:
        return NetError("refused", "10.96.0.99")
    return None


def test_wget_and_curl_through_the_resolver() -> None:
    cfg = {"resolver": _resolver}
    assert out("wget -qO- http://web/", **cfg) == "hello from web\n"
    r = sh("wget -qO- http://nope/; wget -qO- http://down/; wget -qO- http://web/missing", **cfg)
    assert r.stderr == ("wget: bad address 'nope'\n"
                        "wget: can't connect to remote host (10.96.0.99): Connection refused\n"
                        "wget: server returned error: HTTP/1.1 404 Not Found\n")
    assert r.status == 1
    assert out("curl -s http://web.shop.svc.cluster.local:80/", **cfg) == "hello from web\n"
    r = sh("curl -sS http://nope/; echo rc=$?; curl -s http://down:8080/; echo rc=$?", **cfg)
    assert r.stdout == "rc=6\nrc=7\n"
    assert r.stderr == "curl: (6) Could not resolve host: nope\n"
    r = sh("curl -sS -f http://web/missing", **cfg)
    assert (r.stderr, r.status) == ("curl: (22) The requested URL returned error: 404\n", 22)
    assert out('curl -s -o /dev/null -w "%{http_code}" http://web/', **cfg) == "200"
    assert sh("wget -qO- http://slow/", resolver=lambda u: NetError("timeout"), horizon=10_000).ended_at == 900.0


def test_nc_and_nslookup() -> None:
    r = sh("nc -z web 80 && echo open; nc -z web 81 || echo closed; nc -z nope 80", resolver=_resolver)
    assert r.stdout == "open\nclosed\n"
    assert r.stderr == "nc: can't connect to remote host (10.96.12.7): Connection refused\nnc: bad address 'nope'\n"
    assert out("nslookup web", resolver=_resolver) == ("Server:\t\t10.96.0.10\nAddress:\t10.96.0.10:53\n\n"
                                                       "Name:\tweb.shop.svc.cluster.local\nAddress: 10.96.12.7\n\n")


def test_background_sleep_and_wait() -> None:
    r = sh("sleep 10 & echo started; wait; echo done")
    assert r.lines() == [(0.0, "stdout", "started"), (10.0, "stdout", "done")]
    r = sh("yes > /dev/null & wait")
    assert r.status == 2 and "not simulated" in r.stderr


def test_trap_exit_and_exec_form() -> None:
    assert out("trap 'echo bye' EXIT; echo hi") == "hi\nbye\n"
    r = run_argv(["sleep", "3"], ShellConfig())
    assert (r.status, r.ended_at) == (0, 3.0)
    r = run_argv(["echo", "$HOME"], ShellConfig(env={"HOME": "/root"}))
    assert r.stdout == "$HOME\n"
    assert run_argv(["nosuch"], ShellConfig()).stopped == "exec-not-found:nosuch"


def test_busybox_httpd_listens() -> None:
    r = sh("mkdir -p /www; echo ok > /www/index.html; httpd -f -p 8080 -h /www", horizon=30)
    assert r.stopped == "horizon" and 8080 in r.listening and r.listening[8080].kind == "http"


def test_filesystem_changes_are_timestamped() -> None:
    r = sh("touch /tmp/healthy; sleep 30; rm -f /tmp/healthy; sleep 600", horizon=100)
    assert r.fs_log == [(0.0, "/tmp/healthy", ""), (30.0, "/tmp/healthy", None)]


def test_pipe_reader_stops_an_endless_writer() -> None:
    assert out("yes | head -n 3") == "y\ny\ny\n"


@pytest.mark.parametrize("script", [
    "echo $((", "echo ${x", "[ 1 -eq ]", "(echo a", "case x in", "for i in 1 2; echo", "f() { f; }; f",
    "echo `", "x=$(( 1/0 ))", "echo ${x:?missing}", "set -u; echo $nope", "arr=(1 2)", "$(", "|| true",
])
@pytest.mark.parametrize("flavor", [BUSYBOX, DASH, BASH])
def test_malformed_scripts_fail_like_a_shell(script: str, flavor: object) -> None:
    r = run_argv(["sh", "-c", script], ShellConfig(flavor=flavor, horizon=10))  # type: ignore[arg-type]
    assert r.status is not None and r.status != 0 and r.stderr
