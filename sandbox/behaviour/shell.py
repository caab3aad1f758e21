"""A small POSIX shell for simulated containers: busybox ash, dash and bash `-c` scripts in simulated time.

The interpreter never sleeps, never forks and never reads the clock. `sleep` advances a simulated clock; every
write is recorded as a chunk `(offset_seconds, stream, text)`. A run ends when the script exits, or stops at
the caller's horizon / event budget (an infinite loop is "still running", never a hang). A loop that spins
without sleeping is reported as busy (it would burn a CPU).

Network commands (`wget`, `curl`, `nc`, `nslookup`) ask a resolver the caller passes:

* `resolver("http://web.shop.svc.cluster.local:80/path")` → `(status, body)`, `None` (name does not resolve)
  or a `NetError` (refused / timeout / reset, optionally with the address the name resolved to);
* `resolver("tcp://host:port")` → anything but `None`/`NetError` means the port accepts connections;
* `resolver("dns://name")` → `(0, "IP")` or `(0, "FQDN IP")`; `None` is NXDOMAIN.

`localhost`, `127.0.0.1`, the pod IP and the hostname go to `ShellConfig.local` instead (the container itself).
"""

from __future__ import annotations

import fnmatch
import math
import posixpath
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus

from .clients import CLIENTS

__all__ = [
    "BASH", "BASH_AS_SH", "BUSYBOX", "DASH", "BUSYBOX_APPLETS", "GNU_BASE_COMMANDS", "SIMULATED_COMMANDS",
    "Flavor", "Listener", "NetError", "Resolver", "ShellConfig", "ShellResult", "run_argv", "run_script",
]


# ------------------------------------------------------------------------------------------------ public types

@dataclass(frozen=True)
class NetError:
    """A connection that got no HTTP answer. kind: "unresolved" | "refused" | "timeout" | "reset"."""

    kind: str = "refused"
    address: str | None = None


Answer = tuple[int, str] | NetError | None
Resolver = Callable[[str], Answer]
LocalHttp = Callable[[int, str], "tuple[int, str] | None"]


@dataclass(frozen=True)
class Flavor:
    """Which shell (error message wording, echo semantics) and which userland (busybox or GNU tools)."""

    shell: str  # "ash" | "dash" | "bash"
    tools: str  # "busybox" | "gnu"
    name: str = "sh"


BUSYBOX = Flavor("ash", "busybox")
DASH = Flavor("dash", "gnu")
BASH = Flavor("bash", "gnu", "bash")
BASH_AS_SH = Flavor("bash", "gnu", "sh")

# Commands this module simulates (outside the shell builtins).
SIMULATED_COMMANDS = frozenset({
    "sleep", "cat", "ls", "env", "printenv", "hostname", "date", "wget", "curl", "nc", "nslookup", "head",
    "tail", "wc", "grep", "sort", "uniq", "cut", "tr", "seq", "basename", "dirname", "mkdir", "touch", "rm",
    "id", "whoami", "uname", "ps", "tee", "expr", "which", "httpd", "busybox", "sh", "ash", "bash", "dash",
    "true", "false", "echo", "printf", "test", "[", "yes", "nproc", "timeout", "base64",
})

# Applets of a busybox build (what `busybox --list` shows in the official image), simulated or not.
BUSYBOX_APPLETS = frozenset(SIMULATED_COMMANDS - {"curl", "bash", "dash"}) | frozenset({
    "arp", "awk", "chmod", "chown", "cp", "df", "diff", "dmesg", "du", "find", "free", "gunzip", "gzip", "ifconfig",
    "ip", "kill", "killall", "less", "ln", "more", "mount", "mv", "netstat", "nohup", "od", "pgrep", "pidof",
    "ping", "pkill", "readlink", "realpath", "sed", "sha256sum", "md5sum", "stat", "su", "tar", "telnet", "top",
    "traceroute", "uptime", "vi", "watch", "xargs", "unzip", "sync", "usleep", "time",
})

# A Debian/Ubuntu base image (coreutils, grep, sed, mawk, hostname; no procps, no curl, no wget, no nc).
GNU_BASE_COMMANDS = frozenset({
    "sleep", "cat", "ls", "env", "printenv", "hostname", "date", "head", "tail", "wc", "grep", "sort", "uniq",
    "cut", "tr", "seq", "basename", "dirname", "mkdir", "touch", "rm", "id", "whoami", "uname", "tee", "expr",
    "which", "sh", "dash", "bash", "true", "false", "echo", "printf", "test", "[", "yes", "nproc", "timeout",
    "base64", "awk", "chmod", "chown", "cp", "df", "du", "find", "ln", "mv", "readlink", "realpath", "sed",
    "sha256sum", "md5sum", "stat", "tar", "xargs", "su", "mount", "kill", "gzip", "gunzip", "od", "diff",
})


@dataclass(frozen=True)
class Listener:
    """A port a shell command (busybox httpd, nc -l) opened."""

    port: int
    since: float
    kind: str  # "http" | "tcp"
    docroot: str = "/"


@dataclass
class ShellConfig:
    """Everything the interpreter may read. All of it is plain data; nothing is read from the host."""

    env: dict[str, str] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    readonly: frozenset[str] = frozenset()  # read-only paths (mounted volumes): files and their directories
    dirs: frozenset[str] = frozenset()  # directories that exist besides those implied by `files`
    flavor: Flavor = BUSYBOX
    commands: frozenset[str] | None = None  # external commands present in the image; None: every simulated one
    programs: frozenset[str] = frozenset()  # image binaries the caller simulates: running one hands off
    hostname: str = "localhost"
    pod_ip: str = "10.244.0.2"
    user: tuple[str, int, int] = ("root", 0, 0)
    start_time: float = 0.0  # epoch seconds of offset 0 (for `date`, `ls -l`)
    time0: float = 0.0  # simulated offset at which this run starts (exec into a running container)
    resolver: Resolver | None = None
    local: LocalHttp | None = None  # the container's own HTTP server: (port, path) → (status, body) | None
    local_tcp: Callable[[int], bool] | None = None
    seed: str = ""
    horizon: float = 3600.0  # absolute simulated offset where the run stops
    max_events: int = 10_000
    max_steps: int = 400_000
    stdin: str = ""
    pid: int = 1
    processes: tuple[tuple[int, str, str], ...] = ()  # (pid, user, command line) shown by ps besides this shell
    kernel: str = "6.8.0-1021-aws"
    nameserver: str = "10.96.0.10"
    cpus: int = 4


@dataclass
class ShellResult:
    """The timeline of one run. status None: still running at `ended_at` (see `stopped` for why it stopped)."""

    chunks: list[tuple[float, str, str]]
    status: int | None
    ended_at: float
    stopped: str | None = None  # None (exited) | "horizon" | "max_events" | "busy" | "max_steps"
    busy_from: float | None = None
    listening: dict[int, Listener] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    handoff: tuple[float, list[str], dict[str, str]] | None = None  # (offset, argv, env) of an image program
    fs_log: list[tuple[float, str, str | None]] = field(default_factory=list)  # (offset, path, content | None)

    @property
    def stdout(self) -> str:
        return "".join(text for _, stream, text in self.chunks if stream == "stdout")

    @property
    def stderr(self) -> str:
        return "".join(text for _, stream, text in self.chunks if stream == "stderr")

    def lines(self) -> list[tuple[float, str, str]]:
        """Chunks joined into lines: (offset of the write that completed the line, stream, line)."""
        out: list[tuple[float, str, str]] = []
        pending: dict[str, tuple[float, str]] = {}
        for t, stream, text in self.chunks:
            start_t, buf = pending.get(stream, (t, ""))
            buf += text
            *complete, rest = buf.split("\n")
            for line in complete:
                out.append((t, stream, line))
            pending[stream] = (t, rest)
        for stream, (t, rest) in pending.items():
            if rest:
                out.append((t, stream, rest))
        out.sort(key=lambda e: e[0])
        return out


# ------------------------------------------------------------------------------------------------ errors & control

class ShellSyntaxError(Exception):
    def __init__(self, kind: str, token: str = "", line: int = 1, expecting: str = "") -> None:
        super().__init__(kind, token)
        self.kind, self.token, self.line, self.expecting = kind, token, line, expecting


class _Exit(Exception):  # noqa: N818 - control flow
    def __init__(self, status: int) -> None:
        self.status = status


class _Return(Exception):  # noqa: N818
    def __init__(self, status: int) -> None:
        self.status = status


class _Break(Exception):  # noqa: N818
    def __init__(self, n: int) -> None:
        self.n = n


class _Continue(Exception):  # noqa: N818
    def __init__(self, n: int) -> None:
        self.n = n


class _Stop(Exception):  # noqa: N818 - budget exhausted
    def __init__(self, reason: str) -> None:
        self.reason = reason


class _Handoff(Exception):  # noqa: N818 - an image program takes over the process
    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.argv, self.env = argv, env


class _Fatal(Exception):  # noqa: N818 - a shell error that ends a non-interactive shell
    def __init__(self, message: str, status: int = 2) -> None:
        self.message, self.status = message, status


class _ExecNotFound(Exception):  # noqa: N818
    def __init__(self, name: str) -> None:
        self.name = name


class _BgBlocked(Exception):  # noqa: N818
    pass


class _PipeClosed(Exception):  # noqa: N818 - the reader went away (SIGPIPE)
    pass


# ------------------------------------------------------------------------------------------------ lexer

_RESERVED = {"if", "then", "else", "elif", "fi", "do", "done", "while", "until", "for", "in", "case", "esac",
             "{", "}", "!"}
_OPS = ["&&", "||", ";;", ">>", "<<-", "<<", ">&", "<&", ">|", "&>", ";", "&", "|", "<", ">", "(", ")"]
_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SPECIAL_PARAMS = set("?#$!@*-0123456789")

# Word parts:
#   ("L", text, mode)            mode "q" quoted, "l" unquoted literal (glob, no split)
#   ("P", name, op, arg, quoted) parameter expansion; arg: parts or None
#   ("A", text, quoted)          $(( arithmetic ))
#   ("C", script, quoted)        $( command ) or `command`
#   ("T",)                       leading ~


@dataclass
class _Tok:
    kind: str  # "word" | "op" | "nl" | "eof"
    value: str
    line: int
    parts: list | None = None
    io: int | None = None
    heredoc: list | None = None  # filled for the delimiter word after << (mutable holder)


class _Lexer:
    def __init__(self, src: str) -> None:
        self.src = src
        self.i = 0
        self.line = 1
        self.pending_heredocs: list[tuple[_Tok, bool, bool]] = []  # (delimiter token, strip tabs, quoted)

    def error(self, kind: str, token: str = "") -> ShellSyntaxError:
        return ShellSyntaxError(kind, token, self.line)

    def tokens(self) -> list[_Tok]:
        out: list[_Tok] = []
        src = self.src
        n = len(src)
        while True:
            # skip blanks and comments
            while self.i < n:
                c = src[self.i]
                if c in " \t":
                    self.i += 1
                elif c == "\\" and self.i + 1 < n and src[self.i + 1] == "\n":
                    self.i += 2
                    self.line += 1
                elif c == "#":
                    while self.i < n and src[self.i] != "\n":
                        self.i += 1
                else:
                    break
            if self.i >= n:
                if self.pending_heredocs:
                    self._read_heredocs()
                out.append(_Tok("eof", "", self.line))
                return out
            c = src[self.i]
            if c == "\n":
                out.append(_Tok("nl", "\n", self.line))
                self.i += 1
                self.line += 1
                if self.pending_heredocs:
                    self._read_heredocs()
                continue
            op = self._match_op()
            if op:
                tok = _Tok("op", op, self.line)
                out.append(tok)
                if op in ("<<", "<<-"):
                    self._skip_blanks()
                    start_line = self.line
                    parts, raw = self._read_word()
                    if not parts:
                        raise self.error("unexpected", "newline")
                    quoted = any(p[0] == "L" and p[2] == "q" for p in parts)
                    delim = "".join(p[1] for p in parts if p[0] == "L")
                    word = _Tok("word", raw, start_line, parts, heredoc=[delim, None])
                    out.append(word)
                    self.pending_heredocs.append((word, op == "<<-", quoted))
                continue
            start_line = self.line
            parts, raw = self._read_word()
            tok = _Tok("word", raw, start_line, parts)
            if raw.isdigit() and self.i < n and src[self.i] in "<>":
                op = self._match_op()
                tok = _Tok("op", op or "", start_line, io=int(raw))
            out.append(tok)

    def _skip_blanks(self) -> None:
        while self.i < len(self.src) and self.src[self.i] in " \t":
            self.i += 1

    def _match_op(self) -> str | None:
        for op in _OPS:
            if self.src.startswith(op, self.i):
                self.i += len(op)
                return op
        return None

    def _read_heredocs(self) -> None:
        for tok, strip, quoted in self.pending_heredocs:
            delim = tok.heredoc[0]
            body_lines = []
            while True:
                if self.i >= len(self.src):
                    break
                j = self.src.find("\n", self.i)
                if j < 0:
                    j = len(self.src)
                line = self.src[self.i:j]
                self.i = j + 1 if j < len(self.src) else j
                self.line += 1
                if strip:
                    line = line.lstrip("\t")
                if line == delim:
                    break
                body_lines.append(line)
            body = "".join(line + "\n" for line in body_lines)
            tok.heredoc[1] = [("L", body, "q")] if quoted else _lex_dquoted(body, heredoc=True)
        self.pending_heredocs = []

    def _read_word(self) -> tuple[list, str]:
        src, n = self.src, len(self.src)
        start = self.i
        parts: list = []
        lit: list[str] = []

        def flush() -> None:
            if lit:
                parts.append(("L", "".join(lit), "l"))
                lit.clear()

        if self.i < n and src[self.i] == "~":
            j = self.i + 1
            if j >= n or src[j] in "/ \t\n;&|<>()":
                parts.append(("T",))
                self.i += 1
        while self.i < n:
            c = src[self.i]
            if c in " \t\n;&|<>()":
                break
            if c == "'":
                flush()
                j = src.find("'", self.i + 1)
                if j < 0:
                    raise self.error("unterminated")
                text = src[self.i + 1:j]
                self.line += text.count("\n")
                parts.append(("L", text, "q"))
                self.i = j + 1
            elif c == '"':
                flush()
                j = _find_dquote_end(src, self.i + 1)
                if j < 0:
                    raise self.error("unterminated")
                inner = src[self.i + 1:j]
                self.line += inner.count("\n")
                sub = _lex_dquoted(inner)
                parts.extend(sub if sub else [("L", "", "q")])
                self.i = j + 1
            elif c == "\\":
                flush()
                if self.i + 1 < n:
                    nxt = src[self.i + 1]
                    if nxt == "\n":
                        self.line += 1
                    else:
                        parts.append(("L", nxt, "q"))
                    self.i += 2
                else:
                    self.i += 1
            elif c == "$":
                flush()
                part, self.i = _read_dollar(src, self.i, False)
                parts.append(part)
            elif c == "`":
                flush()
                j = _find_backtick_end(src, self.i + 1)
                if j < 0:
                    raise self.error("unterminated")
                inner = src[self.i + 1:j]
                parts.append(("C", _unescape_backtick(inner), False))
                self.i = j + 1
            else:
                lit.append(c)
                self.i += 1
        flush()
        return parts, src[start:self.i]


def _find_dquote_end(src: str, i: int) -> int:
    n = len(src)
    while i < n:
        c = src[i]
        if c == "\\":
            i += 2
            continue
        if c == '"':
            return i
        if c == "$" and src.startswith("$(", i):
            j = _find_paren_end(src, i + 2)
            if j < 0:
                return -1
            i = j + 1
            continue
        if c == "`":
            j = _find_backtick_end(src, i + 1)
            if j < 0:
                return -1
            i = j + 1
            continue
        i += 1
    return -1


def _find_backtick_end(src: str, i: int) -> int:
    while i < len(src):
        if src[i] == "\\":
            i += 2
            continue
        if src[i] == "`":
            return i
        i += 1
    return -1


def _unescape_backtick(s: str) -> str:
    return re.sub(r"\\([\\`$])", r"\1", s)


def _find_paren_end(src: str, i: int) -> int:
    """Index of the `)` closing a `$(` whose body starts at i."""
    depth = 1
    n = len(src)
    while i < n:
        c = src[i]
        if c == "\\":
            i += 2
            continue
        if c == "'":
            j = src.find("'", i + 1)
            if j < 0:
                return -1
            i = j + 1
            continue
        if c == '"':
            j = _find_dquote_end(src, i + 1)
            if j < 0:
                return -1
            i = j + 1
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


def _find_brace_end(src: str, i: int) -> int:
    depth = 1
    while i < len(src):
        c = src[i]
        if c == "\\":
            i += 2
            continue
        if c == "'":
            j = src.find("'", i + 1)
            i = (j + 1) if j >= 0 else len(src)
            continue
        if c == '"':
            j = _find_dquote_end(src, i + 1)
            i = (j + 1) if j >= 0 else len(src)
            continue
        if src.startswith("${", i):
            depth += 1
            i += 2
            continue
        if c == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


def _read_dollar(src: str, i: int, quoted: bool) -> tuple[tuple, int]:
    """Parse an expansion starting at src[i] == '$'; return (part, next index)."""
    n = len(src)
    if src.startswith("$((", i):
        depth = 0
        j = i + 3
        while j < n:
            if src[j] == "(":
                depth += 1
            elif src[j] == ")":
                if depth == 0 and src.startswith("))", j):
                    return ("A", src[i + 3:j], quoted), j + 2
                depth -= 1
            j += 1
        raise ShellSyntaxError("unterminated")
    if src.startswith("$(", i):
        j = _find_paren_end(src, i + 2)
        if j < 0:
            raise ShellSyntaxError("eof", expecting=")")
        return ("C", src[i + 2:j], quoted), j + 1
    if src.startswith("${", i):
        j = _find_brace_end(src, i + 2)
        if j < 0:
            raise ShellSyntaxError("bad_subst", src[i:])
        body = src[i + 2:j]
        return _parse_braced(body, quoted, src[i:j + 1]), j + 1
    if i + 1 < n:
        c = src[i + 1]
        if c in _SPECIAL_PARAMS:
            return ("P", c, None, None, quoted), i + 2
        m = _NAME_RE.match(src, i + 1)
        if m:
            return ("P", m.group(0), None, None, quoted), m.end()
    return ("L", "$", "q" if quoted else "l"), i + 1


def _parse_braced(body: str, quoted: bool, raw: str) -> tuple:
    if body.startswith("#") and len(body) > 1 and (_NAME_RE.fullmatch(body[1:]) or body[1:] in _SPECIAL_PARAMS):
        return ("P", body[1:], "len", None, quoted)
    m = _NAME_RE.match(body) or re.match(r"[0-9]+|[?#$!@*\-]", body)
    if not m:
        raise ShellSyntaxError("bad_subst", raw)
    name = m.group(0)
    rest = body[m.end():]
    if not rest:
        return ("P", name, None, None, quoted)
    for op in (":-", ":=", ":+", ":?", "##", "%%", "-", "=", "+", "?", "#", "%"):
        if rest.startswith(op):
            word = rest[len(op):]
            arg = _lex_dquoted(word) if quoted else _lex_plain(word)
            return ("P", name, op, arg, quoted)
    raise ShellSyntaxError("bad_subst", raw)


def _lex_plain(text: str) -> list:
    """Parts of an unquoted word that may contain blanks (the word of ${x:-word})."""
    lx = _Lexer(text)
    parts: list = []
    while lx.i < len(text):
        if text[lx.i] in " \t\n;&|<>()":
            parts.append(("L", text[lx.i], "l"))
            lx.i += 1
            continue
        sub, _ = lx._read_word()
        parts.extend(sub)
    return parts


def _lex_dquoted(text: str, heredoc: bool = False) -> list:
    """Parts of the inside of a double-quoted string (or an unquoted here-document body)."""
    parts: list = []
    lit: list[str] = []
    i, n = 0, len(text)
    escapable = "$`\\\n" if heredoc else '$`"\\\n'
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n and text[i + 1] in escapable:
            if text[i + 1] != "\n":
                lit.append(text[i + 1])
            i += 2
        elif c == "$":
            if lit:
                parts.append(("L", "".join(lit), "q"))
                lit = []
            part, i = _read_dollar(text, i, True)
            parts.append(part)
        elif c == "`":
            j = _find_backtick_end(text, i + 1)
            if j < 0:
                raise ShellSyntaxError("unterminated")
            if lit:
                parts.append(("L", "".join(lit), "q"))
                lit = []
            parts.append(("C", _unescape_backtick(text[i + 1:j]), True))
            i = j + 1
        else:
            lit.append(c)
            i += 1
    if lit:
        parts.append(("L", "".join(lit), "q"))
    return parts


# ------------------------------------------------------------------------------------------------ parser

@dataclass
class _Redir:
    fd: int
    op: str
    target: list | None
    heredoc: list | None = None


@dataclass
class _Simple:
    assigns: list
    words: list
    redirs: list
    line: int


@dataclass
class _Pipeline:
    cmds: list
    negate: bool
    line: int


@dataclass
class _AndOr:
    first: object
    rest: list


@dataclass
class _Seq:
    items: list  # (node, background)


@dataclass
class _If:
    branches: list
    orelse: object
    redirs: list = field(default_factory=list)


@dataclass
class _Loop:
    until: bool
    cond: object
    body: object
    redirs: list = field(default_factory=list)


@dataclass
class _For:
    var: str
    items: list | None
    body: object
    redirs: list = field(default_factory=list)


@dataclass
class _Case:
    word: list
    arms: list
    redirs: list = field(default_factory=list)


@dataclass
class _Group:
    body: object
    subshell: bool
    redirs: list = field(default_factory=list)


@dataclass
class _FuncDef:
    name: str
    body: object


def _lit(tok: _Tok) -> str | None:
    """The plain text of a word token made of one unquoted literal (for reserved words), else None."""
    if tok.kind != "word" or not tok.parts or len(tok.parts) != 1:
        return None
    p = tok.parts[0]
    return p[1] if p[0] == "L" and p[2] == "l" else None


class _Parser:
    def __init__(self, tokens: list[_Tok]) -> None:
        self.toks = tokens
        self.i = 0

    @property
    def tok(self) -> _Tok:
        return self.toks[self.i]

    def next(self) -> _Tok:
        t = self.toks[self.i]
        if t.kind != "eof":
            self.i += 1
        return t

    def error(self, tok: _Tok | None = None, expecting: str = "") -> ShellSyntaxError:
        tok = tok or self.tok
        if tok.kind == "eof":
            return ShellSyntaxError("eof", "", tok.line, expecting)
        value = "newline" if tok.kind == "nl" else tok.value
        return ShellSyntaxError("unexpected", value, tok.line, expecting)

    def skip_nl(self) -> None:
        while self.tok.kind == "nl":
            self.next()

    def is_word(self, *values: str) -> bool:
        return _lit(self.tok) in values

    def is_op(self, *values: str) -> bool:
        return self.tok.kind == "op" and self.tok.value in values and self.tok.io is None

    def expect_word(self, value: str) -> None:
        self.skip_nl()
        if not self.is_word(value):
            raise self.error(expecting=value)
        self.next()

    def parse_program(self) -> _Seq:
        self.skip_nl()
        seq = self.parse_list(top=True)
        self.skip_nl()
        if self.tok.kind != "eof":
            raise self.error()
        return seq

    def at_list_end(self) -> bool:
        t = self.tok
        if t.kind == "eof":
            return True
        if t.kind == "op" and t.value in (")", ";;") and t.io is None:
            return True
        return _lit(t) in ("then", "else", "elif", "fi", "do", "done", "esac", "}")

    def parse_list(self, top: bool = False) -> _Seq:
        items: list = []
        self.skip_nl()
        while not self.at_list_end():
            node = self.parse_and_or()
            bg = False
            if self.is_op("&"):
                self.next()
                bg = True
            elif self.is_op(";"):
                self.next()
            elif self.tok.kind == "nl":
                pass
            elif not self.at_list_end():
                raise self.error()
            items.append((node, bg))
            self.skip_nl()
        if not items and not top:
            raise self.error()
        return _Seq(items)

    def parse_and_or(self) -> object:
        first = self.parse_pipeline()
        rest = []
        while self.is_op("&&", "||"):
            op = self.next().value
            self.skip_nl()
            rest.append((op, self.parse_pipeline()))
        return _AndOr(first, rest) if rest else first

    def parse_pipeline(self) -> object:
        negate = False
        line = self.tok.line
        if self.is_word("!"):
            self.next()
            negate = True
        cmds = [self.parse_command()]
        while self.is_op("|"):
            self.next()
            self.skip_nl()
            cmds.append(self.parse_command())
        if len(cmds) == 1 and not negate:
            return cmds[0]
        return _Pipeline(cmds, negate, line)

    def parse_redirs(self) -> list:
        redirs = []
        while self.tok.kind == "op" and self.tok.value in ("<", ">", ">>", ">&", "<&", ">|", "&>", "<<", "<<-"):
            redirs.append(self.parse_redir())
        return redirs

    def parse_redir(self) -> _Redir:
        op_tok = self.next()
        op = op_tok.value
        fd = op_tok.io if op_tok.io is not None else (0 if op.startswith("<") else 1)
        target = self.tok
        if target.kind != "word":
            raise self.error()
        self.next()
        if op in ("<<", "<<-"):
            return _Redir(fd, op, None, heredoc=target.heredoc)
        return _Redir(fd, op, target.parts)

    def parse_command(self) -> object:
        t = self.tok
        word = _lit(t)
        if word == "if":
            return self.parse_if()
        if word in ("while", "until"):
            self.next()
            cond = self.parse_list()
            self.expect_word("do")
            body = self.parse_list()
            self.expect_word("done")
            return _Loop(word == "until", cond, body, self.parse_redirs())
        if word == "for":
            return self.parse_for()
        if word == "case":
            return self.parse_case()
        if word == "{":
            self.next()
            body = self.parse_list()
            self.expect_word("}")
            return _Group(body, False, self.parse_redirs())
        if self.is_op("("):
            self.next()
            body = self.parse_list()
            self.skip_nl()
            if not self.is_op(")"):
                raise self.error(expecting=")")
            self.next()
            return _Group(body, True, self.parse_redirs())
        if word in ("then", "else", "elif", "fi", "do", "done", "esac", "}", "in"):
            raise self.error()
        return self.parse_simple()

    def parse_if(self) -> _If:
        self.next()
        branches = []
        cond = self.parse_list()
        self.expect_word("then")
        body = self.parse_list()
        branches.append((cond, body))
        orelse = None
        while True:
            self.skip_nl()
            if self.is_word("elif"):
                self.next()
                c = self.parse_list()
                self.expect_word("then")
                branches.append((c, self.parse_list()))
            elif self.is_word("else"):
                self.next()
                orelse = self.parse_list()
                self.expect_word("fi")
                break
            elif self.is_word("fi"):
                self.next()
                break
            else:
                raise self.error(expecting="fi")
        return _If(branches, orelse, self.parse_redirs())

    def parse_for(self) -> _For:
        self.next()
        name_tok = self.next()
        name = _lit(name_tok)
        if not name or not _NAME_RE.fullmatch(name):
            raise self.error(name_tok)
        items = None
        self.skip_nl()
        if self.is_word("in"):
            self.next()
            items = []
            while self.tok.kind == "word":
                items.append(self.next().parts)
            if self.is_op(";"):
                self.next()
        elif self.is_op(";"):
            self.next()
        self.expect_word("do")
        body = self.parse_list()
        self.expect_word("done")
        return _For(name, items, body, self.parse_redirs())

    def parse_case(self) -> _Case:
        self.next()
        word_tok = self.next()
        if word_tok.kind != "word":
            raise self.error(word_tok)
        self.expect_word("in")
        arms = []
        self.skip_nl()
        while not self.is_word("esac"):
            if self.tok.kind == "eof":
                raise self.error(expecting="esac")
            if self.is_op("("):
                self.next()
            patterns = []
            while True:
                t = self.next()
                if t.kind != "word":
                    raise self.error(t)
                patterns.append(t.parts)
                if self.is_op("|"):
                    self.next()
                    continue
                break
            if not self.is_op(")"):
                raise self.error(expecting=")")
            self.next()
            self.skip_nl()
            body = None
            if not (self.is_op(";;") or self.is_word("esac")):
                body = self.parse_list()
            if self.is_op(";;"):
                self.next()
            self.skip_nl()
            arms.append((patterns, body))
        self.next()
        return _Case(word_tok.parts, arms, self.parse_redirs())

    def parse_simple(self) -> object:
        line = self.tok.line
        assigns: list = []
        words: list = []
        redirs: list = []
        while True:
            t = self.tok
            if t.kind == "op" and t.value in ("<", ">", ">>", ">&", "<&", ">|", "&>", "<<", "<<-"):
                redirs.append(self.parse_redir())
                continue
            if t.kind != "word":
                break
            if not words:
                name = _assignment_name(t.parts)
                if name:
                    self.next()
                    assigns.append((name, _assignment_value(t.parts)))
                    continue
            words.append(t.parts)
            self.next()
            if len(words) == 1 and not assigns and self.is_op("(") and _lit(t):
                # function definition: name () compound
                self.next()
                if not self.is_op(")"):
                    raise self.error()
                self.next()
                self.skip_nl()
                body = self.parse_command()
                return _FuncDef(_lit(t) or "", body)
        if not words and not assigns and not redirs:
            raise self.error()
        return _Simple(assigns, words, redirs, line)


def _assignment_name(parts: list) -> str | None:
    if not parts or parts[0][0] != "L" or parts[0][2] != "l":
        return None
    m = re.match(r"([A-Za-z_][A-Za-z0-9_]*)=", parts[0][1])
    return m.group(1) if m else None


def _assignment_value(parts: list) -> list:
    first = parts[0][1]
    rest = first[first.index("=") + 1:]
    value = [("L", rest, "q")] if rest else []
    # the value of an assignment is not field-split nor globbed: mark literals quoted
    for p in parts[1:]:
        value.append(("L", p[1], "q") if p[0] == "L" else p)
    return value or [("L", "", "q")]


def parse(script: str) -> _Seq:
    return _Parser(_Lexer(script).tokens()).parse_program()


# ------------------------------------------------------------------------------------------------ arithmetic

_ARITH_TOKEN = re.compile(r"\s*(?:(0[xX][0-9a-fA-F]+|\d+)|([A-Za-z_][A-Za-z0-9_]*)|"
                          r"(\*\*|<<=|>>=|<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%&|^]=|[-+*/%<>=!~&|^?:()]))")
_BINARY = {
    "||": 3, "&&": 4, "|": 5, "^": 6, "&": 7, "==": 8, "!=": 8, "<": 9, "<=": 9, ">": 9, ">=": 9,
    "<<": 10, ">>": 10, "+": 11, "-": 11, "*": 12, "/": 12, "%": 12, "**": 13,
}


class _ArithError(Exception):
    pass


class _Arith:
    def __init__(self, text: str, interp: _Interp) -> None:
        self.toks: list[tuple[str, str]] = []
        pos = 0
        text = text.strip()
        while pos < len(text):
            m = _ARITH_TOKEN.match(text, pos)
            if not m or m.end() == pos:
                if text[pos:].strip() == "":
                    break
                raise _ArithError(text)
            pos = m.end()
            if m.group(1):
                self.toks.append(("num", m.group(1)))
            elif m.group(2):
                self.toks.append(("name", m.group(2)))
            else:
                self.toks.append(("op", m.group(3)))
        self.i = 0
        self.interp = interp
        self.text = text

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def value(self) -> int:
        if not self.toks:
            return 0
        v = self.expr(0)
        if self.i != len(self.toks):
            raise _ArithError(self.text)
        return v

    def var(self, name: str) -> int:
        raw = self.interp.getvar(name)
        if raw is None or raw.strip() == "":
            return 0
        try:
            return _parse_int(raw.strip())
        except ValueError:
            return _Arith(raw, self.interp).value()

    def expr(self, min_prec: int) -> int:
        t = self.peek()
        # assignment
        if t and t[0] == "name" and self.i + 1 < len(self.toks):
            nxt = self.toks[self.i + 1]
            if nxt[0] == "op" and nxt[1] in ("=", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "<<=", ">>="):
                self.i += 2
                rhs = self.expr(1)
                if nxt[1] != "=":
                    rhs = _apply_binary(nxt[1][:-1], self.var(t[1]), rhs)
                self.interp.setvar(t[1], str(rhs))
                return rhs
        left = self.unary()
        while True:
            t = self.peek()
            if not t or t[0] != "op":
                break
            op = t[1]
            if op == "?" and min_prec <= 2:
                self.i += 1
                a = self.expr(0)
                if self.peek() != ("op", ":"):
                    raise _ArithError(self.text)
                self.i += 1
                b = self.expr(2)
                left = a if left else b
                continue
            prec = _BINARY.get(op)
            if prec is None or prec < min_prec:
                break
            self.i += 1
            right = self.expr(prec if op == "**" else prec + 1)
            left = _apply_binary(op, left, right)
        return left

    def unary(self) -> int:
        t = self.peek()
        if t is None:
            raise _ArithError(self.text)
        self.i += 1
        if t[0] == "num":
            return _parse_int(t[1])
        if t[0] == "name":
            return self.var(t[1])
        op = t[1]
        if op == "(":
            v = self.expr(0)
            if self.peek() != ("op", ")"):
                raise _ArithError(self.text)
            self.i += 1
            return v
        if op == "-":
            return -self.unary()
        if op == "+":
            return self.unary()
        if op == "!":
            return int(not self.unary())
        if op == "~":
            return ~self.unary()
        raise _ArithError(self.text)


def _parse_int(s: str) -> int:
    s = s.strip()
    neg = s.startswith("-")
    body = s.lstrip("+-")
    if body.lower().startswith("0x"):
        v = int(body, 16)
    elif len(body) > 1 and body.startswith("0"):
        v = int(body, 8)
    else:
        v = int(body)
    return -v if neg else v


def _apply_binary(op: str, a: int, b: int) -> int:
    if op in ("/", "%"):
        if b == 0:
            raise ZeroDivisionError
        q = abs(a) // abs(b) * (1 if (a >= 0) == (b >= 0) else -1)
        return q if op == "/" else a - q * b
    return {
        "+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b, "**": lambda: a ** b if b >= 0 else 0,
        "<<": lambda: a << b, ">>": lambda: a >> b, "<": lambda: int(a < b), "<=": lambda: int(a <= b),
        ">": lambda: int(a > b), ">=": lambda: int(a >= b), "==": lambda: int(a == b), "!=": lambda: int(a != b),
        "&": lambda: a & b, "|": lambda: a | b, "^": lambda: a ^ b, "&&": lambda: int(bool(a and b)),
        "||": lambda: int(bool(a or b)),
    }[op]()


# ------------------------------------------------------------------------------------------------ I/O sinks

class _Sink:
    def write(self, interp: _Interp, text: str) -> None:
        raise NotImplementedError


class _StreamSink(_Sink):
    def __init__(self, name: str) -> None:
        self.name = name

    def write(self, interp: _Interp, text: str) -> None:
        interp.emit(self.name, text)


class _BufSink(_Sink):
    def __init__(self, limit: int | None = None) -> None:
        self.parts: list[str] = []
        self.limit = limit

    def write(self, interp: _Interp, text: str) -> None:
        self.parts.append(text)
        if self.limit is not None and len(self.parts) > self.limit:
            raise _PipeClosed

    def value(self) -> str:
        return "".join(self.parts)


class _FileSink(_Sink):
    def __init__(self, path: str) -> None:
        self.path = path

    def write(self, interp: _Interp, text: str) -> None:
        interp.fs_set(self.path, interp.fs.get(self.path, "") + text)


class _NullSink(_Sink):
    def write(self, interp: _Interp, text: str) -> None:
        return None


class _In:
    def __init__(self, data: str) -> None:
        self.data = data
        self.pos = 0

    def read_all(self) -> str:
        d = self.data[self.pos:]
        self.pos = len(self.data)
        return d

    def readline(self) -> str | None:
        if self.pos >= len(self.data):
            return None
        j = self.data.find("\n", self.pos)
        if j < 0:
            line = self.data[self.pos:]
            self.pos = len(self.data)
        else:
            line = self.data[self.pos:j + 1]
            self.pos = j + 1
        return line


@dataclass
class _IO:
    stdin: _In
    out: _Sink
    err: _Sink

    def copy(self) -> _IO:
        return _IO(self.stdin, self.out, self.err)


# ------------------------------------------------------------------------------------------------ interpreter

_BUSY_STEPS = 50_000
_BUILTINS = {":", "true", "false", "echo", "printf", "exit", "return", "break", "continue", "export", "unset",
             "set", "shift", "cd", "pwd", "test", "[", "eval", "exec", "wait", "trap", "read", "local", "type",
             "command", "source", ".", "kill", "ulimit", "umask", "readonly", "times", "alias", "unalias",
             "getopts", "hash", "jobs", "fg", "bg"}
_BIN_DIRS = ("/bin", "/usr/bin", "/sbin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin")
_SIGNALS = {"HUP": 1, "INT": 2, "QUIT": 3, "KILL": 9, "TERM": 15, "USR1": 10, "USR2": 12}


class _Interp:
    def __init__(self, cfg: ShellConfig, argv0: str = "sh") -> None:
        self.cfg = cfg
        self.fl = cfg.flavor
        self.argv0 = argv0
        self.now = cfg.time0
        self.chunks: list[tuple[float, str, str]] = []
        self.vars: dict[str, str] = dict(cfg.env)
        self.exported: set[str] = set(cfg.env)
        self.vars.setdefault("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
        self.vars.setdefault("IFS", " \t\n")
        self.vars.setdefault("PWD", "/")
        self.readonly_vars: set[str] = set()
        self.funcs: dict[str, object] = {}
        self.positional: list[str] = []
        self.status = 0
        self.cmdsub_status: int | None = None
        self.lineno = 1
        self.cwd = "/"
        self.fs: dict[str, str] = dict(cfg.files)
        self.fs_log: list[tuple[float, str, str | None]] = []
        self.dirs: set[str] = set(cfg.dirs) | {"/", "/tmp", "/dev"}
        for path in self.fs:
            self._add_parents(path)
        self.errexit = False
        self.xtrace = False
        self.nounset = False
        self.pipefail = False
        self.cond_depth = 0
        self.steps = 0
        self.idle_steps = 0
        self.busy_from: float | None = None
        self.listening: dict[int, Listener] = {}
        self.traps: dict[str, str] = {}
        self.jobs: dict[int, float] = {}
        self.next_pid = cfg.pid + 6
        self.last_bg: int | None = None
        self.local_frames: list[dict[str, str | None]] = []
        self.bg_mode = False
        self.bg_steps = 0
        self.cmdline = ""  # what ps shows for this shell ("" when the command runs without a shell)
        self.rng = random.Random(f"shell/{cfg.seed}")

    # -- budget & output -------------------------------------------------------------------------------------

    def emit(self, stream: str, text: str) -> None:
        if not text:
            return
        self.chunks.append((self.now, stream, text))
        if len(self.chunks) >= self.cfg.max_events:
            if self.idle_steps > 1000 and self.busy_from is None:
                self.busy_from = self.now
            raise _Stop("max_events")

    def advance(self, dt: float) -> None:
        if dt <= 0:
            return
        if self.bg_mode:
            raise _BgBlocked
        if math.isinf(dt) or self.now + dt > self.cfg.horizon:
            self.now = max(self.now, self.cfg.horizon)
            raise _Stop("horizon")
        self.now += dt
        self.idle_steps = 0

    def step(self) -> None:
        self.steps += 1
        self.idle_steps += 1
        if self.bg_mode:
            self.bg_steps += 1
            if self.bg_steps > 10_000:
                raise _BgBlocked
        if self.idle_steps > _BUSY_STEPS:
            self.busy_from = self.now
            raise _Stop("busy")
        if self.steps > self.cfg.max_steps:
            raise _Stop("max_steps")

    # -- run to completion -----------------------------------------------------------------------------------

    def execute(self, body: Callable[[], int], io: _IO) -> ShellResult:
        try:
            status = body()
        except _Exit as e:
            status = e.status
        except _Fatal as f:
            self.emit_safe("stderr", self.prefix() + f.message + "\n")
            status = f.status
        except (_Break, _Continue):
            status = 0
        except _Return as r:
            status = r.status
        except _Stop as s:
            return self.result(None, s.reason)
        except _Handoff as h:
            res = self.result(None, None)
            res.handoff = (self.now, h.argv, h.env)
            return res
        except _ExecNotFound as e:
            res = self.result(127, None)
            res.stopped = "exec-not-found:" + e.name
            return res
        except ShellSyntaxError as e:
            self.emit_safe("stderr", self.syntax_message(e))
            status = 2
        except RecursionError:
            self.emit_safe("stderr", self.prefix() + "nesting too deep for the kubesage sandbox shell\n")
            status = 2
        trap = self.traps.get("EXIT") or self.traps.get("0")
        if trap:
            try:
                self.run_node(parse(trap), io)
            except (_Exit, _Fatal, ShellSyntaxError, _Break, _Continue, _Return):
                pass
            except _Stop as s:
                return self.result(None, s.reason)
        return self.result(status, None)

    def result(self, status: int | None, stopped: str | None) -> ShellResult:
        return ShellResult(chunks=self.chunks, status=status, ended_at=self.now, stopped=stopped,
                           busy_from=self.busy_from, listening=dict(self.listening), files=dict(self.fs),
                           fs_log=list(self.fs_log))

    def emit_safe(self, stream: str, text: str) -> None:
        if text:
            self.chunks.append((self.now, stream, text))

    # -- messages --------------------------------------------------------------------------------------------

    def prefix(self) -> str:
        """The shell's own error prefix: `sh: `, `sh: 1: `, `bash: line 1: `."""
        if self.fl.shell == "dash":
            return f"{self.argv0}: {self.lineno}: "
        if self.fl.shell == "bash":
            return f"{self.argv0}: line {self.lineno}: "
        return f"{self.argv0}: "

    def shell_error(self, io: _IO, msg: str) -> None:
        io.err.write(self, self.prefix() + msg + "\n")

    def not_found(self, io: _IO, name: str) -> int:
        if self.fl.shell == "bash":
            self.shell_error(io, f"{name}: command not found" if "/" not in name else
                             f"{name}: No such file or directory")
        else:
            self.shell_error(io, f"{name}: not found")
        return 127

    # -- variables -------------------------------------------------------------------------------------------

    def getvar(self, name: str) -> str | None:
        if name == "?":
            return str(self.status)
        if name == "$":
            return str(self.cfg.pid)
        if name == "#":
            return str(len(self.positional))
        if name == "!":
            return str(self.last_bg) if self.last_bg is not None else ""
        if name in ("@", "*"):
            sep = self.vars.get("IFS", " ")[:1] if name == "*" else " "
            return sep.join(self.positional)
        if name == "-":
            return ("e" if self.errexit else "") + ("u" if self.nounset else "") + ("x" if self.xtrace else "")
        if name.isdigit():
            k = int(name)
            if k == 0:
                return self.argv0
            return self.positional[k - 1] if k <= len(self.positional) else None
        if name == "RANDOM" and name not in self.vars and self.fl.shell != "dash":
            return str(self.rng.randrange(32768))
        if name == "SECONDS" and name not in self.vars and self.fl.shell != "dash":
            return str(int(self.now - self.cfg.time0))
        if name == "LINENO" and name not in self.vars:
            return str(self.lineno)
        if name == "PPID" and name not in self.vars:
            return "0"
        return self.vars.get(name)

    def setvar(self, name: str, value: str) -> None:
        if name in self.readonly_vars:
            raise _Fatal(f"{name}: is read only", 2)
        self.vars[name] = value
        if name == "PWD":
            self.cwd = value

    def env(self, extra: list[tuple[str, str]] | None = None) -> dict[str, str]:
        out = {k: v for k, v in self.vars.items() if k in self.exported}
        for k, v in extra or []:
            out[k] = v
        return out

    # -- filesystem ------------------------------------------------------------------------------------------

    def _add_parents(self, path: str) -> None:
        d = posixpath.dirname(path)
        while d and d not in self.dirs:
            self.dirs.add(d)
            if d == "/":
                break
            d = posixpath.dirname(d)

    def abspath(self, p: str) -> str:
        if not p.startswith("/"):
            p = posixpath.join(self.cwd, p)
        p = posixpath.normpath(p)
        return "/" + p.lstrip("/") if not p.startswith("//") else p[1:]

    def is_file(self, p: str) -> bool:
        return self.abspath(p) in self.fs

    def is_dir(self, p: str) -> bool:
        return self.abspath(p) in self.dirs

    def exists(self, p: str) -> bool:
        a = self.abspath(p)
        return a in self.fs or a in self.dirs or a in ("/dev/null", "/dev/stdout", "/dev/stderr")

    def listdir(self, d: str) -> list[tuple[str, bool]]:
        d = self.abspath(d)
        prefix = d.rstrip("/") + "/"
        names: dict[str, bool] = {}
        for path in self.fs:
            if path.startswith(prefix):
                rest = path[len(prefix):]
                head = rest.split("/", 1)[0]
                names[head] = names.get(head, False) or "/" in rest
        for path in self.dirs:
            if path.startswith(prefix) and path != d:
                head = path[len(prefix):].split("/", 1)[0]
                if head:
                    names[head] = True
        return sorted(names.items())

    def fs_set(self, path: str, content: str) -> None:
        self.fs[path] = content
        self.fs_log.append((self.now, path, content))
        self._add_parents(path)

    def fs_del(self, path: str) -> None:
        if self.fs.pop(path, None) is not None:
            self.fs_log.append((self.now, path, None))

    def is_readonly(self, path: str) -> bool:
        ro = self.cfg.readonly
        return path in ro or posixpath.dirname(path) in ro

    def open_write(self, io: _IO, target: str, append: bool) -> _Sink | None:
        if target == "/dev/null":
            return _NullSink()
        if target in ("/dev/stdout", "/proc/self/fd/1"):
            return io.out
        if target in ("/dev/stderr", "/proc/self/fd/2"):
            return io.err
        if target in ("/proc/1/fd/1",):
            return _StreamSink("stdout")
        if target in ("/proc/1/fd/2",):
            return _StreamSink("stderr")
        path = self.abspath(target)
        if path in self.dirs:
            self.redir_error(io, target, "Is a directory")
            return None
        if posixpath.dirname(path) not in self.dirs:
            self.redir_error(io, target, "nonexistent directory" if self.fl.shell == "ash" else
                             "Directory nonexistent" if self.fl.shell == "dash" else "No such file or directory")
            return None
        if self.is_readonly(path):
            self.redir_error(io, target, "Read-only file system")
            return None
        if not append or path not in self.fs:
            self.fs_set(path, "")
        return _FileSink(path)

    def redir_error(self, io: _IO, target: str, why: str) -> None:
        if self.fl.shell == "ash":
            self.shell_error(io, f"can't create {target}: {why}")
        elif self.fl.shell == "dash":
            self.shell_error(io, f"cannot create {target}: {why}")
        else:
            self.shell_error(io, f"{target}: {why}")

    # -- expansion -------------------------------------------------------------------------------------------

    def expand_words(self, words: list) -> list[str]:
        out: list[str] = []
        for parts in words:
            out.extend(self.expand(parts))
        return out

    def expand_str(self, parts: list) -> str:
        segs = self.segments(parts)
        return "".join(" ".join(s[0]) if s[1] == "@" else s[0] for s in segs)

    def segments(self, parts: list) -> list[tuple]:
        segs: list[tuple] = []
        for p in parts:
            kind = p[0]
            if kind == "L":
                segs.append((p[1], p[2]))
            elif kind == "T":
                segs.append((self.vars.get("HOME", "/root"), "q"))
            elif kind == "P":
                if p[1] == "@" and p[2] is None and p[4]:
                    segs.append((list(self.positional), "@"))
                else:
                    segs.append((self.param(p), "q" if p[4] else "x"))
            elif kind == "A":
                segs.append((str(self.arith(p[1])), "q" if p[2] else "x"))
            elif kind == "C":
                segs.append((self.cmdsub(p[1]), "q" if p[2] else "x"))
        return segs

    def expand(self, parts: list) -> list[str]:
        segs = self.segments(parts)
        fields: list[tuple[str, bool]] = []
        cur: list[str] = []
        has = False
        glob = False
        ifs = self.vars.get("IFS", " \t\n")
        for text, mode in segs:
            if mode == "@":
                for k, item in enumerate(text):
                    if k > 0:
                        fields.append(("".join(cur), glob))
                        cur, glob = [], False
                    cur.append(item)
                    has = True
                continue
            if mode == "q":
                cur.append(text)
                has = True
                continue
            if mode == "l":
                if text:
                    cur.append(text)
                    has = True
                    glob = glob or any(ch in text for ch in "*?[")
                continue
            if not text:
                continue
            if not ifs:
                cur.append(text)
                has = True
                continue
            pieces = re.split("[" + re.escape(ifs) + "]+", text)
            for k, piece in enumerate(pieces):
                if k > 0 and (has or cur):
                    fields.append(("".join(cur), glob))
                    cur, has, glob = [], False, False
                if piece:
                    cur.append(piece)
                    has = True
                    glob = glob or any(ch in piece for ch in "*?[")
        if has or cur:
            fields.append(("".join(cur), glob))
        out: list[str] = []
        for text, g in fields:
            out.extend(self.glob(text) if g else [text])
        return out

    def glob(self, pattern: str) -> list[str]:
        d, base = posixpath.split(pattern)
        if any(ch in d for ch in "*?["):
            return [pattern]
        entries = self.listdir(d or ".")
        hits = [n for n, _ in entries if fnmatch.fnmatchcase(n, base) and (base.startswith(".") or
                                                                          not n.startswith("."))]
        if not hits:
            return [pattern]
        return [posixpath.join(d, h) if d else h for h in sorted(hits)]

    def param(self, p: tuple) -> str:
        _, name, op, arg, _quoted = p
        value = self.getvar(name)
        if op == "len":
            return str(len(value or ""))
        if op is None:
            if value is None:
                if self.nounset and name not in ("@", "*", "!"):
                    raise _Fatal(f"{name}: parameter not set" if self.fl.shell != "bash" else
                                 f"{name}: unbound variable", 2 if self.fl.shell != "bash" else 1)
                return ""
            return value
        unset_or_null = value is None or (op.startswith(":") and value == "")
        if op in (":-", "-"):
            return self.expand_str(arg) if unset_or_null else (value or "")
        if op in (":=", "="):
            if unset_or_null:
                v = self.expand_str(arg)
                self.setvar(name, v)
                return v
            return value or ""
        if op in (":+", "+"):
            return "" if unset_or_null else self.expand_str(arg)
        if op in (":?", "?"):
            if unset_or_null:
                msg = self.expand_str(arg) or ("parameter null or not set" if self.fl.shell != "bash" else
                                               "parameter null or not set")
                raise _Fatal(f"{name}: {msg}", 2 if self.fl.shell != "bash" else 1)
            return value or ""
        pattern = self.expand_str(arg)
        v = value or ""
        if op in ("#", "##"):
            rng = range(0, len(v) + 1) if op == "#" else range(len(v), -1, -1)
            for k in rng:
                if fnmatch.fnmatchcase(v[:k], pattern):
                    return v[k:]
            return v
        if op in ("%", "%%"):
            rng = range(len(v), -1, -1) if op == "%" else range(0, len(v) + 1)
            for k in rng:
                if fnmatch.fnmatchcase(v[k:], pattern):
                    return v[:k]
            return v
        return v

    def arith(self, text: str) -> int:
        expanded = self.expand_str(_lex_dquoted(text))
        try:
            return _Arith(expanded, self).value()
        except ZeroDivisionError:
            raise _Fatal("divide by zero" if self.fl.shell == "ash" else
                         f"arithmetic expression: division by zero: \"{expanded}\"" if self.fl.shell == "dash"
                         else f"{expanded}: division by 0 (error token is \"{expanded.split('/')[-1].strip()}\")",
                         2 if self.fl.shell != "bash" else 1) from None
        except (_ArithError, ValueError, RecursionError):
            raise _Fatal("arithmetic syntax error" if self.fl.shell == "ash" else
                         f"arithmetic expression: expecting primary: \"{expanded}\"" if self.fl.shell == "dash"
                         else f"{expanded}: syntax error: operand expected", 2 if self.fl.shell != "bash" else 1
                         ) from None

    def cmdsub(self, script: str) -> str:
        try:
            node = parse(script)
        except ShellSyntaxError as e:
            self.emit("stderr", self.syntax_message(e, script))
            self.cmdsub_status = 2
            return ""
        buf = _BufSink()
        io = _IO(_In(""), buf, self.cur_err)
        status = self.subshell(node, io)
        self.cmdsub_status = status
        self.status = status
        return buf.value().rstrip("\n")

    cur_err: _Sink = _StreamSink("stderr")

    # -- syntax errors ---------------------------------------------------------------------------------------

    def syntax_message(self, e: ShellSyntaxError, script: str = "") -> str:
        shell, name = self.fl.shell, self.argv0
        tok = e.token
        if shell == "ash":
            if e.kind == "unterminated":
                return f"{name}: syntax error: unterminated quoted string\n"
            if e.kind == "bad_subst":
                return f"{name}: syntax error: bad substitution\n"
            if e.kind == "eof":
                exp = f' (expecting "{e.expecting}")' if e.expecting else ""
                return f"{name}: syntax error: unexpected end of file{exp}\n"
            return f'{name}: syntax error: unexpected "{tok}"\n' if tok != "newline" else \
                f"{name}: syntax error: unexpected newline\n"
        if shell == "dash":
            if e.kind == "unterminated":
                return f"{name}: {e.line}: Syntax error: Unterminated quoted string\n"
            if e.kind == "bad_subst":
                return f"{name}: {e.line}: Syntax error: Bad substitution\n"
            if e.kind == "eof":
                exp = f' (expecting "{e.expecting}")' if e.expecting else ""
                return f"{name}: {e.line}: Syntax error: end of file unexpected{exp}\n"
            shown = "newline" if tok == "newline" else f'"{tok}"'
            return f"{name}: {e.line}: Syntax error: {shown} unexpected\n"
        where = f"{name}: -c: line {e.line}: "
        if e.kind == "unterminated":
            return where + "unexpected EOF while looking for matching `''\n"
        if e.kind == "bad_subst":
            return f"{name}: line {e.line}: {tok}: bad substitution\n"
        if e.kind == "eof":
            return where + "syntax error: unexpected end of file\n"
        lines = script.split("\n")
        src_line = lines[e.line - 1] if 0 < e.line <= len(lines) else ""
        return where + f"syntax error near unexpected token `{tok}'\n" + where + f"`{src_line}'\n"

    # -- execution -------------------------------------------------------------------------------------------

    def run_node(self, node: object, io: _IO) -> int:
        self.step()
        t = type(node)
        if t is _Simple:
            return self.run_simple(node, io)  # type: ignore[arg-type]
        if t is _Seq:
            status = 0
            for item, bg in node.items:  # type: ignore[attr-defined]
                status = self.run_background(item, io) if bg else self.run_node(item, io)
                self.status = status
            return status
        if t is _AndOr:
            n = node  # type: _AndOr  # type: ignore[assignment]
            if n.rest:
                self.cond_depth += 1
                try:
                    status = self.run_node(n.first, io)
                finally:
                    self.cond_depth -= 1
            else:
                status = self.run_node(n.first, io)
            for k, (op, pl) in enumerate(n.rest):
                self.status = status
                if (op == "&&") == (status == 0):
                    last = k == len(n.rest) - 1
                    if not last:
                        self.cond_depth += 1
                    try:
                        status = self.run_node(pl, io)
                    finally:
                        if not last:
                            self.cond_depth -= 1
            return status
        if t is _Pipeline:
            return self.run_pipeline(node, io)  # type: ignore[arg-type]
        redirs = getattr(node, "redirs", [])
        if redirs:
            io = self.apply_redirs(redirs, io)  # type: ignore[assignment]
            if io is None:
                return 1
        if t is _If:
            for cond, body in node.branches:  # type: ignore[attr-defined]
                if self.run_cond(cond, io) == 0:
                    return self.run_node(body, io)
            if node.orelse is not None:  # type: ignore[attr-defined]
                return self.run_node(node.orelse, io)  # type: ignore[attr-defined]
            return 0
        if t is _Loop:
            return self.run_loop(node, io)  # type: ignore[arg-type]
        if t is _For:
            return self.run_for(node, io)  # type: ignore[arg-type]
        if t is _Case:
            word = self.expand_str(node.word)  # type: ignore[attr-defined]
            for patterns, body in node.arms:  # type: ignore[attr-defined]
                for pat in patterns:
                    if fnmatch.fnmatchcase(word, self.expand_str(pat)):
                        return self.run_node(body, io) if body is not None else 0
            return 0
        if t is _Group:
            if node.subshell:  # type: ignore[attr-defined]
                return self.subshell(node.body, io)  # type: ignore[attr-defined]
            return self.run_node(node.body, io)  # type: ignore[attr-defined]
        if t is _FuncDef:
            self.funcs[node.name] = node.body  # type: ignore[attr-defined]
            return 0
        raise AssertionError(f"unknown node {t}")

    def run_cond(self, node: object, io: _IO) -> int:
        self.cond_depth += 1
        try:
            return self.run_node(node, io)
        finally:
            self.cond_depth -= 1

    def check_errexit(self, status: int) -> None:
        if status != 0 and self.errexit and self.cond_depth == 0:
            raise _Exit(status)

    def run_loop(self, node: _Loop, io: _IO) -> int:
        status = 0
        while True:
            self.step()
            c = self.run_cond(node.cond, io)
            if (c == 0) == node.until:
                break
            try:
                status = self.run_node(node.body, io)
            except _Break as b:
                if b.n > 1:
                    raise _Break(b.n - 1) from None
                break
            except _Continue as c2:
                if c2.n > 1:
                    raise _Continue(c2.n - 1) from None
                continue
        return status

    def run_for(self, node: _For, io: _IO) -> int:
        items = list(self.positional) if node.items is None else self.expand_words(node.items)
        status = 0
        for item in items:
            self.step()
            self.setvar(node.var, item)
            try:
                status = self.run_node(node.body, io)
            except _Break as b:
                if b.n > 1:
                    raise _Break(b.n - 1) from None
                break
            except _Continue as c:
                if c.n > 1:
                    raise _Continue(c.n - 1) from None
                continue
        return status

    def run_pipeline(self, node: _Pipeline, io: _IO) -> int:
        data = None
        statuses = []
        if node.negate:
            self.cond_depth += 1
        try:
            for k, cmd in enumerate(node.cmds):
                last = k == len(node.cmds) - 1
                sub_io = io.copy()
                if data is not None:
                    sub_io.stdin = _In(data)
                buf = None
                if not last:
                    buf = _BufSink(limit=20_000)
                    sub_io.out = buf
                    self.cond_depth += 1
                try:
                    if len(node.cmds) > 1:
                        try:
                            statuses.append(self.subshell(cmd, sub_io))
                        except _PipeClosed:
                            statuses.append(141)
                    else:
                        statuses.append(self.run_node(cmd, sub_io))
                finally:
                    if not last:
                        self.cond_depth -= 1
                data = buf.value() if buf is not None else None
        finally:
            if node.negate:
                self.cond_depth -= 1
        status = statuses[-1]
        if self.pipefail:
            status = next((s for s in reversed(statuses) if s != 0), 0)
        if node.negate:
            return 0 if status != 0 else 1
        self.check_errexit(status)
        return status

    def subshell(self, node: object, io: _IO) -> int:
        saved = (dict(self.vars), set(self.exported), dict(self.funcs), list(self.positional), self.cwd,
                 self.errexit, self.xtrace, self.nounset, dict(self.traps))
        try:
            return self.run_node(node, io)
        except _Exit as e:
            return e.status
        except _Fatal as f:
            self.shell_error(io, f.message)
            return f.status
        except ShellSyntaxError as e:
            io.err.write(self, self.syntax_message(e))
            return 2
        except (_Break, _Continue):
            return 0
        except _Return as r:
            return r.status
        finally:
            (self.vars, self.exported, self.funcs, self.positional, self.cwd, self.errexit, self.xtrace,
             self.nounset, self.traps) = saved

    def run_background(self, node: object, io: _IO) -> int:
        pid = self.next_pid
        self.next_pid += 1
        self.last_bg = pid
        if type(node) is _Simple and node.words:  # type: ignore[attr-defined]
            argv = self.expand_words(node.words)  # type: ignore[attr-defined]
            if argv and argv[0] == "sleep":
                total = self.parse_sleep(argv[1:], io)
                if total is None:
                    return 0
                self.jobs[pid] = self.now + total
                return 0
        self.bg_mode = True
        self.bg_steps = 0
        try:
            self.run_node(node, io)
        except _BgBlocked:
            self.bg_mode = False
            self.shell_error(io, "background jobs that keep running ('&') are not simulated by the kubesage "
                                 "sandbox shell (only 'sleep N &' is)")
            raise _Exit(2) from None
        finally:
            self.bg_mode = False
        return 0

    def apply_redirs(self, redirs: list[_Redir], io: _IO) -> _IO | None:
        io = io.copy()
        for r in redirs:
            if r.op in ("<<", "<<-"):
                body = r.heredoc[1] if r.heredoc else []
                io.stdin = _In(self.expand_str(body or []))
                continue
            target = self.expand_str(r.target or [])
            if r.op in (">&", "<&"):
                if target == "-":
                    if r.fd == 1:
                        io.out = _NullSink()
                    elif r.fd == 2:
                        io.err = _NullSink()
                    continue
                if target in ("1", "2"):
                    sink = io.out if target == "1" else io.err
                    if r.fd == 2:
                        io.err = sink
                    elif r.fd == 1:
                        io.out = sink
                    continue
                if r.op == "<&":
                    continue
                # `>&file` (bash) is `>file 2>&1`
                sink = self.open_write(io, target, False)
                if sink is None:
                    return None
                io.out = io.err = sink
                continue
            if r.op == "<":
                path = self.abspath(target)
                if path not in self.fs:
                    if self.fl.shell == "ash":
                        self.shell_error(io, f"can't open '{target}': No such file or directory")
                    elif self.fl.shell == "dash":
                        self.shell_error(io, f"cannot open {target}: No such file")
                    else:
                        self.shell_error(io, f"{target}: No such file or directory")
                    return None
                io.stdin = _In(self.fs[path])
                continue
            sink = self.open_write(io, target, r.op == ">>")
            if sink is None:
                return None
            if r.op == "&>":
                io.out = io.err = sink
            elif r.fd == 2:
                io.err = sink
            elif r.fd == 1:
                io.out = sink
        return io

    def run_simple(self, node: _Simple, io: _IO) -> int:
        self.lineno = node.line
        self.cmdsub_status = None
        saved_err = self.cur_err
        self.cur_err = io.err
        try:
            argv = self.expand_words(node.words)
            assigns = [(name, self.expand_str(parts)) for name, parts in node.assigns]
        finally:
            self.cur_err = saved_err
        if not argv:
            for name, value in assigns:
                self.setvar(name, value)
            if node.redirs and self.apply_redirs(node.redirs, io) is None:
                return 1
            status = self.cmdsub_status or 0
            self.check_errexit(status)
            return status
        io2 = self.apply_redirs(node.redirs, io) if node.redirs else io
        if io2 is None:
            self.check_errexit(1)
            return 1
        if self.xtrace:
            shown = [f"{k}={_quote(v)}" for k, v in assigns] + [_quote(a) for a in argv]
            io2.err.write(self, "+ " + " ".join(shown) + "\n")
        if argv == ["exec"]:
            io.out, io.err, io.stdin = io2.out, io2.err, io2.stdin
            return 0
        status = self.invoke(argv, assigns, io2)
        self.status = status
        self.check_errexit(status)
        return status

    def invoke(self, argv: list[str], assigns: list[tuple[str, str]], io: _IO) -> int:
        name = argv[0]
        if name in self.funcs:
            return self.call_function(name, argv[1:], io)
        if name in _BUILTINS:
            saved = {}
            for k, v in assigns:
                saved[k] = self.vars.get(k)
                self.vars[k] = v
            try:
                return self.builtin(name, argv, io)
            finally:
                for k, old in saved.items():
                    if old is None:
                        self.vars.pop(k, None)
                    else:
                        self.vars[k] = old
        return self.external(argv, io, self.env(assigns))

    def call_function(self, name: str, args: list[str], io: _IO) -> int:
        if len(self.local_frames) >= 60:
            raise _Fatal(f"{name}: function nesting too deep (the kubesage sandbox shell stops at 60 levels)", 2)
        saved = self.positional
        self.positional = list(args)
        self.local_frames.append({})
        try:
            return self.run_node(self.funcs[name], io)
        except _Return as r:
            return r.status
        finally:
            frame = self.local_frames.pop()
            for k, old in frame.items():
                if old is None:
                    self.vars.pop(k, None)
                else:
                    self.vars[k] = old
            self.positional = saved

    def resolve_command(self, name: str) -> str | None:
        """The simulated command `name` refers to, or None when the image lacks it."""
        base = posixpath.basename(name)
        if "/" in name:
            path = self.abspath(name)
            if path in self.fs:
                return "@script"
            if posixpath.dirname(path) not in _BIN_DIRS:
                return None
        available = self.cfg.commands
        if base in self.cfg.programs:
            return "@program"
        if available is None:
            return base if base in SIMULATED_COMMANDS else None
        return base if base in available else None

    def external(self, argv: list[str], io: _IO, env: dict[str, str]) -> int:
        name = argv[0]
        cmd = self.resolve_command(name)
        if cmd is None:
            return self.not_found(io, name)
        if cmd == "@program":
            raise _Handoff(argv, env)
        if cmd == "@script":
            return self.run_script_file(self.abspath(name), argv, io, env)
        fn = getattr(self, "x_" + cmd.replace("[", "test"), None) if cmd in SIMULATED_COMMANDS else None
        if fn is None and cmd in CLIENTS:
            out, err, status = CLIENTS[cmd](argv, env, lambda port: self.tcp_probe("127.0.0.1", port)[0] == "ok")
            io.out.write(self, out)
            io.err.write(self, err)
            return status
        if fn is None:
            io.err.write(self, f"{cmd}: not simulated in the kubesage sandbox (the command exists in this image, "
                               "but this simulated container cannot run it)\n")
            return 126
        self.next_pid += 1
        return fn(argv, io, env)

    def run_script_file(self, path: str, argv: list[str], io: _IO, env: dict[str, str]) -> int:
        text = self.fs[path]
        first = text.split("\n", 1)[0]
        if first.startswith("#!") and not re.search(r"\b(sh|bash|ash|dash)\b", first):
            io.err.write(self, f"{argv[0]}: not simulated in the kubesage sandbox (interpreter {first[2:].strip()})\n")
            return 126
        return self.nested_shell(text, argv[0], argv[1:], io, env)

    def nested_shell(self, script: str, argv0: str, args: list[str], io: _IO, env: dict[str, str],
                     flavor: Flavor | None = None) -> int:
        saved = (self.vars, self.exported, self.funcs, self.positional, self.cwd, self.errexit, self.xtrace,
                 self.nounset, self.traps, self.argv0, self.fl, self.lineno)
        self.vars = dict(env)
        self.vars.setdefault("IFS", " \t\n")
        self.exported = set(env)
        self.funcs, self.positional, self.traps = {}, list(args), {}
        self.errexit = self.xtrace = self.nounset = False
        self.argv0 = argv0
        if flavor is not None:
            self.fl = flavor
        try:
            try:
                node = parse(script)
            except ShellSyntaxError as e:
                io.err.write(self, self.syntax_message(e, script))
                return 2
            try:
                return self.run_node(node, io)
            except _Exit as e:
                return e.status
            except _Fatal as f:
                self.shell_error(io, f.message)
                return f.status
        finally:
            (self.vars, self.exported, self.funcs, self.positional, self.cwd, self.errexit, self.xtrace,
             self.nounset, self.traps, self.argv0, self.fl, self.lineno) = saved

    # -- builtins --------------------------------------------------------------------------------------------

    def builtin(self, name: str, argv: list[str], io: _IO) -> int:
        args = argv[1:]
        if name in (":", "true"):
            return 0
        if name == "false":
            return 1
        if name == "echo":
            io.out.write(self, self.echo_text(args))
            return 0
        if name == "printf":
            return self.x_printf(argv, io, {})
        if name == "exit":
            status = self.status
            if args:
                try:
                    status = int(args[0]) & 255
                except ValueError:
                    self.shell_error(io, f"exit: Illegal number: {args[0]}" if self.fl.shell != "bash"
                                     else f"exit: {args[0]}: numeric argument required")
                    status = 2
            raise _Exit(status)
        if name == "return":
            raise _Return(int(args[0]) & 255 if args and args[0].lstrip("-").isdigit() else self.status)
        if name in ("break", "continue"):
            n = int(args[0]) if args and args[0].isdigit() else 1
            raise _Break(n) if name == "break" else _Continue(n)
        if name in ("export", "readonly"):
            for a in args:
                if a in ("-p", "-n"):
                    continue
                if "=" in a:
                    k, v = a.split("=", 1)
                    self.setvar(k, v)
                else:
                    k = a
                if name == "export":
                    self.exported.add(k)
                else:
                    self.readonly_vars.add(k)
            if not args or args == ["-p"]:
                for k in sorted(self.exported):
                    if k in self.vars:
                        io.out.write(self, f"export {k}={_quote_always(self.vars[k])}\n")
            return 0
        if name == "local":
            frame = self.local_frames[-1] if self.local_frames else None
            for a in args:
                k, _, v = a.partition("=")
                if frame is not None and k not in frame:
                    frame[k] = self.vars.get(k)
                self.vars[k] = v if "=" in a else self.vars.get(k, "")
            return 0
        if name == "unset":
            funcs = "-f" in args
            for a in args:
                if a.startswith("-"):
                    continue
                if funcs:
                    self.funcs.pop(a, None)
                else:
                    self.vars.pop(a, None)
                    self.exported.discard(a)
            return 0
        if name == "set":
            return self.set_builtin(args, io)
        if name == "shift":
            n = int(args[0]) if args else 1
            if n > len(self.positional):
                self.shell_error(io, "shift: can't shift that many" if self.fl.shell != "bash" else
                                 f"shift: {n}: shift count out of range")
                return 1 if self.fl.shell == "bash" else 2
            self.positional = self.positional[n:]
            return 0
        if name == "cd":
            target = args[0] if args else self.vars.get("HOME", "/root")
            if target == "-":
                target = self.vars.get("OLDPWD", "/")
            if not self.is_dir(target):
                if self.fl.shell == "ash":
                    self.shell_error(io, f"cd: can't cd to {target}: No such file or directory")
                    return 1
                if self.fl.shell == "dash":
                    self.shell_error(io, f"cd: can't cd to {target}")
                    return 2
                self.shell_error(io, f"cd: {target}: No such file or directory")
                return 1
            self.vars["OLDPWD"] = self.cwd
            self.cwd = self.abspath(target)
            self.vars["PWD"] = self.cwd
            return 0
        if name == "pwd":
            io.out.write(self, self.cwd + "\n")
            return 0
        if name in ("test", "["):
            return self.x_test(argv, io, {})
        if name == "eval":
            script = " ".join(args)
            try:
                node = parse(script)
            except ShellSyntaxError as e:
                io.err.write(self, self.syntax_message(e, script))
                return 2
            return self.run_node(node, io)
        if name == "exec":
            if not args:
                return 0
            status = self.external(args, io, self.env())
            raise _Exit(status)
        if name == "wait":
            if self.jobs:
                end = max(self.jobs.values()) if not args else max(
                    (self.jobs.get(int(a), self.now) for a in args if a.isdigit()), default=self.now)
                self.advance(end - self.now)
                self.jobs = {p: e for p, e in self.jobs.items() if e > self.now}
            return 0
        if name == "trap":
            if len(args) >= 2:
                for sig in args[1:]:
                    self.traps[sig.upper().removeprefix("SIG")] = args[0]
            return 0
        if name == "read":
            return self.read_builtin(args, io)
        if name in ("type", "command", "hash"):
            return self.type_builtin(name, args, io)
        if name in ("source", "."):
            if not args:
                return 0
            path = self.abspath(args[0])
            if path not in self.fs:
                self.shell_error(io, f"{name}: can't open '{args[0]}'" if self.fl.shell == "ash" else
                                 f"{name}: cannot open {args[0]}: No such file" if self.fl.shell == "dash" else
                                 f"{args[0]}: No such file or directory")
                raise _Exit(2 if self.fl.shell != "bash" else 1)
            script = self.fs[path]
            try:
                node = parse(script)
            except ShellSyntaxError as e:
                io.err.write(self, self.syntax_message(e, script))
                return 2
            return self.run_node(node, io)
        if name == "kill":
            self.shell_error(io, "kill: sending signals is not simulated by the kubesage sandbox shell")
            return 1
        if name == "ulimit":
            io.out.write(self, "unlimited\n" if not args or "-n" not in args else "1048576\n")
            return 0
        if name == "umask":
            if not args:
                io.out.write(self, "0022\n")
            return 0
        if name == "times":
            io.out.write(self, "0m0.00s 0m0.00s\n0m0.00s 0m0.00s\n")
            return 0
        if name in ("jobs", "fg", "bg", "alias", "unalias", "getopts"):
            self.shell_error(io, f"{name}: not simulated by the kubesage sandbox shell")
            return 1
        raise AssertionError(name)

    def echo_text(self, args: list[str]) -> str:
        newline, escapes = True, self.fl.shell == "dash"
        while args:
            a = args[0]
            if self.fl.shell == "dash":
                if a == "-n":
                    newline = False
                    args = args[1:]
                    continue
                break
            if len(a) > 1 and a[0] == "-" and set(a[1:]) <= set("neE"):
                for ch in a[1:]:
                    if ch == "n":
                        newline = False
                    elif ch == "e":
                        escapes = True
                    else:
                        escapes = False
                args = args[1:]
                continue
            break
        text = " ".join(args)
        if escapes:
            text, stop = _backslash_escapes(text, echo=True)
            if stop:
                return text
        return text + ("\n" if newline else "")

    def set_builtin(self, args: list[str], io: _IO) -> int:
        if not args:
            for k in sorted(self.vars):
                io.out.write(self, f"{k}={_quote_always(self.vars[k])}\n")
            return 0
        k = 0
        while k < len(args):
            a = args[k]
            if a == "--":
                self.positional = args[k + 1:]
                return 0
            if a in ("-o", "+o") and k + 1 < len(args):
                on = a == "-o"
                opt = args[k + 1]
                if opt == "errexit":
                    self.errexit = on
                elif opt == "xtrace":
                    self.xtrace = on
                elif opt == "nounset":
                    self.nounset = on
                elif opt == "pipefail":
                    self.pipefail = on
                k += 2
                continue
            if a and a[0] in "-+" and len(a) > 1:
                on = a[0] == "-"
                for ch in a[1:]:
                    if ch == "e":
                        self.errexit = on
                    elif ch == "x":
                        self.xtrace = on
                    elif ch == "u":
                        self.nounset = on
                    elif ch == "o" and k + 1 < len(args):
                        k += 1
                        if args[k] == "pipefail":
                            self.pipefail = on
                        elif args[k] == "errexit":
                            self.errexit = on
                k += 1
                continue
            self.positional = args[k:]
            return 0
        return 0

    def read_builtin(self, args: list[str], io: _IO) -> int:
        names = [a for a in args if not a.startswith("-")] or ["REPLY"]
        line = io.stdin.readline()
        if line is None:
            for n in names:
                self.vars[n] = ""
            return 1
        line = line.rstrip("\n")
        ifs = self.vars.get("IFS", " \t\n")
        pieces = line.strip(ifs).split(None, len(names) - 1) if ifs.strip() == "" else \
            line.split(ifs[:1], len(names) - 1)
        for k, n in enumerate(names):
            self.vars[n] = pieces[k] if k < len(pieces) else ""
        return 0

    def type_builtin(self, name: str, args: list[str], io: _IO) -> int:
        verbose = name == "type"
        run_it = False
        if name == "command":
            if args and args[0] in ("-v", "-V"):
                verbose = args[0] == "-V"
                args = args[1:]
            else:
                run_it = True
        if name == "hash":
            return 0
        if run_it:
            if not args:
                return 0
            if args[0] in _BUILTINS:
                return self.builtin(args[0], args, io)
            return self.external(args, io, self.env())
        status = 0
        for a in args:
            if a in self.funcs:
                io.out.write(self, f"{a} is a function\n" if verbose else f"{a}\n")
            elif a in _BUILTINS:
                io.out.write(self, f"{a} is a shell builtin\n" if verbose else f"{a}\n")
            elif self.resolve_command(a):
                path = a if "/" in a else self.command_path(a)
                io.out.write(self, f"{a} is {path}\n" if verbose else f"{path}\n")
            else:
                if verbose:
                    io.err.write(self, f"{self.argv0}: type: {a}: not found\n" if name == "type" else "")
                status = 1 if self.fl.shell != "dash" else 127
        return status

    def command_path(self, name: str) -> str:
        if self.cfg.flavor.tools == "busybox" and name not in ("curl",):
            return f"/bin/{name}" if name in ("sh", "ash", "cat", "date", "echo", "ls", "sleep", "hostname",
                                              "ps", "mkdir", "rm", "touch", "grep", "uname") else f"/usr/bin/{name}"
        return f"/usr/bin/{name}"

    # -- external commands -----------------------------------------------------------------------------------

    def usage_error(self, io: _IO, cmd: str, msg: str, status: int = 1) -> int:
        io.err.write(self, f"{cmd}: {msg}\n")
        if self.fl.tools == "gnu":
            io.err.write(self, f"Try '{cmd} --help' for more information.\n")
        return status

    def parse_sleep(self, args: list[str], io: _IO) -> float | None:
        if not args:
            if self.fl.tools == "gnu":
                self.usage_error(io, "sleep", "missing operand")
            else:
                io.err.write(self, "BusyBox v1.36.1 (2023-05-18 22:34:17 UTC) multi-call binary.\n\n"
                                   "Usage: sleep [N]...\n\nPause for a time equal to the total of the args given, "
                                   "where each arg can\nhave an optional suffix of (s)econds, (m)inutes, (h)ours, "
                                   "or (d)ays\n")
            return None
        total = 0.0
        for a in args:
            if a in ("infinity", "inf", "Infinity", "INF"):
                return math.inf
            m = re.fullmatch(r"(\d+(?:\.\d*)?|\.\d+)([smhd]?)", a)
            if not m:
                if self.fl.tools == "gnu":
                    self.usage_error(io, "sleep", f"invalid time interval '{a}'")
                else:
                    io.err.write(self, f"sleep: invalid number '{a}'\n")
                return None
            total += float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]
        return total

    def x_sleep(self, argv: list[str], io: _IO, env: dict[str, str]) -> int:
        total = self.parse_sleep(argv[1:], io)
        if total is None:
            return 1
        self.advance(total)
        return 0

    def x_true(self, argv: list[str], io: _IO, env: dict[str, str]) -> int:
        return 0

    def x_false(self, argv: list[str], io: _IO, env: dict[str, str]) -> int:
        return 1

    def x_echo(self, argv: list[str], io: _IO, env: dict[str, str]) -> int:
        saved = self.fl
        if self.fl.shell == "dash":
            self.fl = Flavor("bash", "gnu")  # /bin/echo (coreutils) behaves like bash's builtin
        try:
            io.out.write(self, self.echo_text(argv[1:]))
        finally:
            self.fl = saved
        return 0

    def x_printf(self, argv: list[str], io: _IO, env: dict[str, str]) -> int:
        if len(argv) < 2:
            io.err.write(self, "printf: usage: printf format [arguments]\n" if self.fl.shell == "bash" else
                         "printf: missing format\n" if self.fl.tools == "busybox" else "printf: missing operand\n")
            return 1 if self.fl.shell != "dash" else 2
        fmt, args = argv[1], argv[2:]
        out, status = _printf(fmt, args)
        io.out.write(self, out)
        if status:
            io.err.write(self, f"printf: invalid number '{next((a for a in args if not _is_num(a)), '')}'\n")
        return status

    def x_test(self, argv: list[str], io: _IO, env: dict[str, str]) -> int:
        args = argv[1:]
        if argv[0] == "[":
            if not args or args[-1] != "]":
                self.shell_error(io, "[: missing ]" if self.fl.shell == "dash" else "missing ]"
                                 if self.fl.shell == "ash" else "[: missing `]'")
                return 2
            args = args[:-1]
        try:
            return 0 if _TestEval(self, args).run() else 1
        except _TestError as e:
            self.shell_error(io, e.message(self.fl.shell, argv[0]))
            return 2

    def x_cat(self, argv: list[str], io: _IO, env: dict[str, str]) -> int:
        files = [a for a in argv[1:] if a == "-" or not a.startswith("-")]
        if not files:
            io.out.write(self, io.stdin.read_all())
            return 0
        status = 0
        for f in files:
            if f == "-":
                io.out.write(self, io.stdin.read_all())
                continue
            path = self.abspath(f)
            if path in self.fs:
                io.out.write(self, self.fs[path])
            elif path in self.dirs:
                io.err.write(self, "cat: read error: Is a directory\n" if self.fl.tools == "busybox" else
                             f"cat: {f}: Is a directory\n")
                status = 1
            else:
                io.err.write(self, f"cat: can't open '{f}': No such file or directory\n"
                             if self.fl.tools == "busybox" else f"cat: {f}: No such file or directory\n")
                status = 1
        return status

    def mtime(self) -> str:
        return datetime.fromtimestamp(self.cfg.start_time, UTC).strftime("%b %e %H:%M")

    def x_ls(self, argv: list[str], io: _IO, env: dict[str, str]) -> int:
        flags = set()
        paths = []
        for a in argv[1:]:
            if a.startswith("-") and len(a) > 1:
                flags.update(a[1:])
            else:
                paths.append(a)
        if not paths:
            paths = ["."]
        status = 0
        show_all = "a" in flags or "A" in flags
        long = "l" in flags
        blocks = []
        file_args = []
        dir_args = []
        for p in paths:
            path = self.abspath(p)
            if path in self.fs:
                file_args.append((p, path))
            elif path in self.dirs and "d" not in flags:
                dir_args.append((p, path))
            elif path in self.dirs:
                file_args.append((p, path))
            else:
                status = 1 if self.fl.tools == "busybox" else 2
                io.err.write(self, f"ls: {p}: No such file or directory\n" if self.fl.tools == "busybox" else
                             f"ls: cannot access '{p}': No such file or directory\n")
        if file_args:
            blocks.append(("", [(name, path in self.dirs, path) for name, path in file_args]))
        for p, path in dir_args:
            entries = [(n, is_dir, posixpath.join(path, n)) for n, is_dir in self.listdir(path)]
            if not show_all:
                entries = [e for e in entries if not e[0].startswith(".")]
            elif "a" in flags:
                entries = [(".", True, path), ("..", True, posixpath.dirname(path))] + entries
            blocks.append((p, entries))
        out = []
        multi = len(blocks) > 1
        for k, (header, entries) in enumerate(blocks):
            if multi and header:
                if k > 0:
                    out.append("")
                out.append(f"{header}:")
            if long and header:
                total = sum((len(self.fs.get(e[2], "")) + 1023) // 1024 * 4 for e in entries)
                out.append(f"total {total}")
            for name, is_dir, path in entries:
                out.append(self.ls_long(name, is_dir, path) if long else name)
        if out:
            io.out.write(self, "\n".join(out) + "\n")
        return status

    def ls_long(self, name: str, is_dir: bool, path: str) -> str:
        size = 4096 if is_dir else len(self.fs.get(path, "").encode())
        mode = "drwxr-xr-x" if is_dir else ("-rw-r--r--" if not self.is_readonly(path) else "-rw-r--r--")
        links = 2 if is_dir else 1
        if self.fl.tools == "busybox":
            return f"{mode} {links:4d} root     root     {size:9d} {self.mtime()} {name}"
        return f"{mode} {links} root root {size:5d} {self.mtime()} {name}"

    def x_env(self, argv: list[str], io: _IO, env: dict[str, str]) -> int:
        args = argv[1:]
        env = dict(env)
        while args and ("=" in args[0] or args[0] in ("-i", "-")):
            if args[0] in ("-i", "-"):
                env = {}
            else:
                k, v = args[0].split("=", 1)
                env[k] = v
            args = args[1:]
        if args:
            saved = (self.vars, self.exported)
            self.vars = {**self.vars, **env}
            self.exported = set(env)
            try:
                return self.invoke(args, [], io)
            finally:
                self.vars, self.exported = saved
        io.out.write(self, "".join(f"{k}={v}\n" for k, v in env.items()))
        return 0

    def x_printenv(self, argv: list[str], io: _IO, env: dict[str, str]) -> int:
        if len(argv) == 1:
            return self.x_env(["env"], io, env)
        status = 0
        for name in argv[1:]:
            if name in env:
                io.out.write(self, env[name] + "\n")
            else:
                status = 1
        return status

    def x_hostname(self, argv: list[str], io: _IO, env: dict[str, str]) -> int:
        if "-i" in argv or "-I" in argv:
            io.out.write(self, self.cfg.pod_ip + ("\n" if "-i" in argv else " \n"))
        else:
            io.out.write(self, self.cfg.hostname + "\n")
        return 0

    def x_date(self, argv: list[str], io: _IO, env: dict[str, str]) -> int:
        now = self.cfg.start_time + self.now
        when = datetime.fromtimestamp(now, UTC)
        fmt = next((a[1:] for a in argv[1:] if a.startswith("+")), None)
        if "-I" in argv or "--iso-8601" in argv or "-Iseconds" in argv:
            text = when.strftime("%Y-%m-%dT%H:%M:%S+00:00") if "-Iseconds" in argv else when.strftime("%Y-%m-%d")
        elif fmt is None:
            text = when.strftime("%a %b %e %H:%M:%S UTC %Y")
        else:
            fmt = fmt.replace("%s", str(int(now))).replace("%N", f"{int((now % 1) * 1e9):09d}")
            text = when.strftime(fmt)
        io.out.write(self, text + "\n")
        return 0

    def read_inputs(self, files: list[str], io: _IO, cmd: str) -> tuple[list[tuple[str, str]], int]:
        if not files:
            return [("-", io.stdin.read_all())], 0
        out, status = [], 0
        for f in files:
            if f == "-":
                out.append(("-", io.stdin.read_all()))
                continue
            path = self.abspath(f)
            if path in self.fs:
                out.append((f, self.fs[path]))
            else:
                io.err.write(self, f"{cmd}: can't open '{f}': No such file or directory\n"
                             if self.fl.tools == "busybox" else
                             f"{cmd}: {'cannot open ' if cmd in ('head', 'tail') else ''}"
                             f"{repr(f) if cmd in ('head', 'tail') else f}"
                             f"{' for reading' if cmd in ('head', 'tail') else ''}: No such file or directory\n")
                status = 1
        return out, status

    def _count_opt(self, argv: list[str], default: int) -> tuple[int, list[str], set[str]]:
        n = default
        rest: list[str] = []
        flags: set[str] = set()
        k = 1
        while k < len(argv):
            a = argv[k]
            if a == "-n" and k + 1 < len(argv):
                n = int(argv[k + 1].lstrip("+") or 0)
                k += 2
                continue
            if a.startswith("-n") and a[2:].lstrip("+").isdigit():
                n = int(a[2:].lstrip("+"))
            elif re.fullmatch(r"-\d+", a):
                n = int(a[1:])
            elif a.startswith("-") and len(a) > 1:
                flags.update(a[1:])
            else:
                rest.append(a)
            k += 1
        return n, rest, flags

    def x_head(self, argv: list[str], io: _IO, env: dict[str, str]) -> int:
        n, files, _ = self._count_opt(argv, 10)
        inputs, status = self.read_inputs(files, io, "head")
        for _, data in inputs:
            lines = data.splitlines(keepends=True)
            io.out.write(self, "".join(lines[:n]))
        return status

    def x_tail(self, argv: list[str], io: _IO, env: dict[str, str]) -> int:
        n, files, flags = self._count_opt(argv, 10)
        inputs, status = self.read_inputs(files, io, "tail")
        for _, data in inputs:
            lines = data.splitlines(keepends=True)
            io.out.write(self, "".join(lines[-n:] if n else []))
        if "f" in flags or "F" in flags:
            self.advance(math.inf)
        return status

    def x_wc(self, argv: list[str], io: _IO, env: dict[str, str]) -> int:
        flags = {c for a in argv[1:] if a.startswith("-") for c in a[1:]}
        files = [a for a in argv[1:] if not a.startswith("-")]
        inputs, status = self.read_inputs(files, io, "wc")
        for name, data in inputs:
            counts = {"l": data.count("\n"), "w": len(data.split()), "c": len(data.encode())}
            chosen = [counts[f] for f in "lwc" if f in flags] or [counts["l"], counts["w"], counts["c"]]
            width = 7 if self.fl.tools == "gnu" and (len(chosen) > 1 or name != "-") else 0
            if self.fl.tools == "busybox" and len(chosen) > 1:
                width = 9
            cols = " ".join(f"{c:{width}d}" if width else str(c) for c in chosen)
            io.out.write(self, cols + (f" {name}" if name != "-" else "") + "\n")
        return status

    def x_grep(self, argv: list[str], io: _IO, env: dict[str, str]) -> int:
        flags: set[str] = set()
        pattern = None
        files = []
        k = 1
        while k < len(argv):
            a = argv[k]
            if a == "-e" and k + 1 < len(argv):
                pattern = argv[k + 1]
                k += 2
                continue
            if a.startswith("-") and len(a) > 1 and pattern is None or (a.startswith("-") and len(a) > 1 and
                                                                          not files and pattern is not None
                                                                          and set(a[1:]) <= set("ivcqnEFwlhso")):
                flags.update(a[1:])
            elif pattern is None:
                pattern = a
            else:
                files.append(a)
            k += 1
        if pattern is None:
            return self.usage_error(io, "grep", "missing pattern" if self.fl.tools == "busybox" else
                                    "Usage: grep [OPTION]... PATTERNS [FILE]...", 2)
        if "F" in flags:
            rx = re.escape(pattern)
        elif "E" in flags:
            rx = pattern
        else:
            rx = _bre_to_python(pattern)
        if "w" in flags:
            rx = rf"\b(?:{rx})\b"
        try:
            regex = re.compile(rx, re.IGNORECASE if "i" in flags else 0)
        except re.error:
            io.err.write(self, "grep: bad regex\n")
            return 2
        inputs, status = self.read_inputs(files, io, "grep")
        found = False
        multi = len(inputs) > 1
        for name, data in inputs:
            count = 0
            for lineno, line in enumerate(data.splitlines(), 1):
                hit = bool(regex.search(line)) != ("v" in flags)
                if not hit:
                    continue
                found = True
                count += 1
                if "q" in flags:
                    return 0
                if "c" in flags or "l" in flags:
                    continue
                text = regex.search(line).group(0) if "o" in flags and "v" not in flags else line
                prefix = (f"{name}:" if multi and "h" not in flags else "") + (f"{lineno}:" if "n" in flags else "")
                io.out.write(self, prefix + text + "\n")
            if "c" in flags:
                io.out.write(self, (f"{name}:" if multi else "") + f"{count}\n")
            if "l" in flags and count:
                io.out.write(self, name + "\n")
        if status:
            return 2
        return 0 if found else 1

    def x_sort(self, argv: list[str], io: _IO, env: dict[str, str]) -> int:
        flags = {c for a in argv[1:] if a.startswith("-") for c in a[1:]}
        files = [a for a in argv[1:] if not a.startswith("-")]
        inputs, status = self.read_inputs(files, io, "sort")
        lines = [line for _, d in inputs for line in d.splitlines()]
        if "n" in flags:
            def key(s: str) -> tuple[float, str]:
                m = re.match(r"\s*(-?\d+(?:\.\d+)?)", s)
                return (float(m.group(1)) if m else 0.0, s)
            lines.sort(key=key, reverse="r" in flags)
        else:
            lines.sort(reverse="r" in flags)
        if "u" in flags:
            lines = list(dict.fromkeys(lines))
        io.out.write(self, "".join(line + "\n" for line in lines))
        return status

    def x_uniq(self, argv: list[str], io: _IO, env: dict[str, str]) -> int:
        flags = {c for a in argv[1:] if a.startswith("-") for c in a[1:]}
        files = [a for a in argv[1:] if not a.startswith("-")]
        inputs, status = self.read_inputs(files[:1], io, "uniq")
        lines = [line for _, d in inputs for line in d.splitlines()]
        groups: list[list] = []
        for line in lines:
            if groups and groups[-1][0] == line:
                groups[-1][1] += 1
            else:
                groups.append([line, 1])
        for line, n in groups:
            if "d" in flags and n < 2:
                continue
            if "u" in flags and n > 1:
                continue
            io.out.write(self, (f"{n:7d} {line}\n" if "c" in flags else line + "\n"))
        return status

    def x_cut(self, argv: list[str], io: _IO, env: dict[str, str]) -> int:
        delim, fields, chars, files = "\t", None, None, []
        k = 1
        while k < len(argv):
            a = argv[k]
            if a.startswith("-d"):
                delim = a[2:] if len(a) > 2 else argv[k + 1]
                k += 1 if len(a) > 2 else 2
                continue
            if a.startswith("-f"):
                fields = a[2:] if len(a) > 2 else argv[k + 1]
                k += 1 if len(a) > 2 else 2
                continue
            if a.startswith("-c"):
                chars = a[2:] if len(a) > 2 else argv[k + 1]
                k += 1 if len(a) > 2 else 2
                continue
            files.append(a)
            k += 1
        spec = fields or chars
        if not spec:
            return self.usage_error(io, "cut", "you must specify a list of bytes, characters, or fields")
        idx = _ranges(spec)
        inputs, status = self.read_inputs(files, io, "cut")
        for _, data in inputs:
            for line in data.splitlines():
                if fields:
                    if delim not in line:
                        io.out.write(self, line + "\n")
                        continue
                    cols = line.split(delim)
                    io.out.write(self, delim.join(cols[i] for i in idx(len(cols))) + "\n")
                else:
                    io.out.write(self, "".join(line[i] for i in idx(len(line))) + "\n")
        return status

    def x_tr(self, argv: list[str], io: _IO, env: dict[str, str]) -> int:
        args = [a for a in argv[1:] if not a.startswith("-")]
        flags = {c for a in argv[1:] if a.startswith("-") for c in a[1:]}
        data = io.stdin.read_all()
        if "d" in flags and args:
            chars = _tr_set(args[0])
            io.out.write(self, "".join(ch for ch in data if ch not in chars))
            return 0
        if len(args) < 2:
            return self.usage_error(io, "tr", "missing operand")
        a, b = _tr_set(args[0]), _tr_set(args[1])
        if b:
            b = b + b[-1] * max(0, len(a) - len(b))
        table = {ord(x): y for x, y in zip(a, b, strict=False)}
        out = data.translate(table)
        if "s" in flags:
            out = re.sub("([" + re.escape(b) + "])\\1+", r"\1", out)
        io.out.write(self, out)
        return 0

    def x_seq(self, argv: list[str], io: _IO, env: dict[str, str]) -> int:
        nums = [a for a in argv[1:] if _is_num(a)]
        try:
            vals = [float(n) for n in nums]
        except ValueError:
            return 1
        if len(vals) == 1:
            first, inc, last = 1.0, 1.0, vals[0]
        elif len(vals) == 2:
            first, inc, last = vals[0], 1.0, vals[1]
        elif len(vals) == 3:
            first, inc, last = vals
        else:
            return self.usage_error(io, "seq", "missing operand")
        if inc == 0:
            return 1
        out = []
        v = first
        while (v <= last if inc > 0 else v >= last) and len(out) < 100_000:
            out.append(str(int(v)) if v == int(v) else str(v))
            v += inc
            self.step()
        io.out.write(self, "".join(x + "\n" for x in out))
        return 0

    def x_basename(self, argv: list[str], io: _IO, env: dict[str, str]) -> int:
        if len(argv) < 2:
            return self.usage_error(io, "basename", "missing operand")
        b = posixpath.basename(argv[1].rstrip("/")) or "/"
        if len(argv) > 2 and b.endswith(argv[2]) and b != argv[2]:
            b = b[: -len(argv[2])]
        io.out.write(self, b + "\n")
        return 0

    def x_dirname(self, argv: list[str], io: _IO, env: dict[str, str]) -> int:
        if len(argv) < 2:
            return self.usage_error(io, "dirname", "missing operand")
        io.out.write(self, (posixpath.dirname(argv[1].rstrip("/")) or ".") + "\n")
        return 0

    def x_mkdir(self, argv: list[str], io: _IO, env: dict[str, str]) -> int:
        parents = any(a.startswith("-") and "p" in a for a in argv[1:])
        status = 0
        for p in (a for a in argv[1:] if not a.startswith("-")):
            path = self.abspath(p)
            if path in self.dirs:
                if not parents:
                    io.err.write(self, f"mkdir: can't create directory '{p}': File exists\n"
                                 if self.fl.tools == "busybox" else
                                 f"mkdir: cannot create directory '{p}': File exists\n")
                    status = 1
                continue
            if self.is_readonly(path):
                io.err.write(self, f"mkdir: can't create directory '{p}': Read-only file system\n"
                             if self.fl.tools == "busybox" else
                             f"mkdir: cannot create directory '{p}': Read-only file system\n")
                status = 1
                continue
            if posixpath.dirname(path) not in self.dirs and not parents:
                io.err.write(self, f"mkdir: can't create directory '{p}': No such file or directory\n"
                             if self.fl.tools == "busybox" else
                             f"mkdir: cannot create directory '{p}': No such file or directory\n")
                status = 1
                continue
            self.dirs.add(path)
            self._add_parents(path)
        return status

    def x_touch(self, argv: list[str], io: _IO, env: dict[str, str]) -> int:
        status = 0
        for p in (a for a in argv[1:] if not a.startswith("-")):
            path = self.abspath(p)
            if path in self.fs or path in self.dirs:
                continue
            sink = self.open_write(_IO(io.stdin, io.out, _NullSink()), path, True)
            if sink is None:
                io.err.write(self, f"touch: {p}: " + ("Read-only file system\n" if self.is_readonly(path)
                                                        else "No such file or directory\n"))
                status = 1
        return status

    def x_rm(self, argv: list[str], io: _IO, env: dict[str, str]) -> int:
        flags = {c for a in argv[1:] if a.startswith("-") for c in a[1:]}
        status = 0
        for p in (a for a in argv[1:] if not a.startswith("-")):
            path = self.abspath(p)
            if self.is_readonly(path):
                io.err.write(self, f"rm: can't remove '{p}': Read-only file system\n" if self.fl.tools == "busybox"
                             else f"rm: cannot remove '{p}': Read-only file system\n")
                status = 1
            elif path in self.fs:
                self.fs_del(path)
            elif path in self.dirs and ("r" in flags or "R" in flags):
                self.dirs = {d for d in self.dirs if d != path and not d.startswith(path + "/")}
                for f in [f for f in self.fs if f.startswith(path + "/")]:
                    self.fs_del(f)
            elif path in self.dirs:
                io.err.write(self, f"rm: '{p}' is a directory\n" if self.fl.tools == "busybox" else
                             f"rm: cannot remove '{p}': Is a directory\n")
                status = 1
            elif "f" not in flags:
                io.err.write(self, f"rm: can't remove '{p}': No such file or directory\n"
                             if self.fl.tools == "busybox" else
                             f"rm: cannot remove '{p}': No such file or directory\n")
                status = 1
        return status

    def x_id(self, argv: list[str], io: _IO, env: dict[str, str]) -> int:
        name, uid, gid = self.cfg.user
        if "-u" in argv:
            io.out.write(self, f"{uid}\n")
        elif "-g" in argv:
            io.out.write(self, f"{gid}\n")
        elif "-un" in argv or "-nu" in argv:
            io.out.write(self, f"{name}\n")
        else:
            group = name if uid else "root"
            extra = ",1(bin),2(daemon),3(sys),4(adm),6(disk),10(wheel),11(floppy),20(dialout),26(tape),27(video)" \
                if uid == 0 and self.fl.tools == "busybox" else ""
            io.out.write(self, f"uid={uid}({name}) gid={gid}({group}) groups={gid}({group}){extra}\n")
        return 0

    def x_whoami(self, argv: list[str], io: _IO, env: dict[str, str]) -> int:
        io.out.write(self, self.cfg.user[0] + "\n")
        return 0

    def x_uname(self, argv: list[str], io: _IO, env: dict[str, str]) -> int:
        flags = {c for a in argv[1:] if a.startswith("-") for c in a[1:]}
        kernel = self.cfg.kernel
        if "a" in flags:
            os_name = "Linux" if self.fl.tools == "busybox" else "GNU/Linux"
            io.out.write(self, f"Linux {self.cfg.hostname} {kernel} #23~22.04.1-Ubuntu SMP Tue Nov  5 18:46:12 UTC "
                               f"2024 x86_64 {os_name}\n")
        elif "r" in flags:
            io.out.write(self, kernel + "\n")
        elif "m" in flags:
            io.out.write(self, "x86_64\n")
        elif "n" in flags:
            io.out.write(self, self.cfg.hostname + "\n")
        else:
            io.out.write(self, "Linux\n")
        return 0

    def x_nproc(self, argv: list[str], io: _IO, env: dict[str, str]) -> int:
        io.out.write(self, f"{self.cfg.cpus}\n")
        return 0

    def x_ps(self, argv: list[str], io: _IO, env: dict[str, str]) -> int:
        procs = {pid: (user, cmd) for pid, user, cmd in self.cfg.processes}
        if self.cmdline:
            procs[self.cfg.pid] = (self.cfg.user[0], self.cmdline)
        procs[self.next_pid] = (self.cfg.user[0], " ".join(argv))
        lines = ["PID   USER     TIME  COMMAND"]
        for pid in sorted(procs):
            user, cmd = procs[pid]
            lines.append(f"{pid:5d} {user[:8]:<8}  0:00 {cmd}")
        io.out.write(self, "\n".join(lines) + "\n")
        return 0

    def x_tee(self, argv: list[str], io: _IO, env: dict[str, str]) -> int:
        append = "-a" in argv
        data = io.stdin.read_all()
        status = 0
        for f in (a for a in argv[1:] if not a.startswith("-")):
            sink = self.open_write(io, f, append)
            if sink is None:
                status = 1
                continue
            sink.write(self, data)
        io.out.write(self, data)
        return status

    def x_yes(self, argv: list[str], io: _IO, env: dict[str, str]) -> int:
        word = " ".join(argv[1:]) or "y"
        while True:
            self.step()
            io.out.write(self, word + "\n")

    def x_expr(self, argv: list[str], io: _IO, env: dict[str, str]) -> int:
        args = argv[1:]
        try:
            value = _expr(args)
        except ZeroDivisionError:
            io.err.write(self, "expr: division by zero\n")
            return 2
        except (ValueError, IndexError):
            io.err.write(self, "expr: syntax error\n")
            return 2
        io.out.write(self, f"{value}\n")
        return 0 if value not in ("", "0", 0) else 1

    def x_which(self, argv: list[str], io: _IO, env: dict[str, str]) -> int:
        status = 0
        for a in argv[1:]:
            if a.startswith("-"):
                continue
            if self.resolve_command(a):
                io.out.write(self, self.command_path(a) + "\n")
            else:
                status = 1
        return status

    def x_timeout(self, argv: list[str], io: _IO, env: dict[str, str]) -> int:
        args = [a for a in argv[1:] if not a.startswith("-")]
        if len(args) < 2:
            return self.usage_error(io, "timeout", "missing operand", 125)
        limit = self.parse_sleep([args[0]], io)
        if limit is None:
            return 125
        saved = self.cfg.horizon
        deadline = self.now + limit
        if deadline < saved:
            self.cfg.horizon = deadline
        try:
            return self.invoke(args[1:], [], io)
        except _Stop as s:
            if s.reason == "horizon" and deadline < saved:
                self.now = deadline
                return 124
            raise
        finally:
            self.cfg.horizon = saved

    def x_base64(self, argv: list[str], io: _IO, env: dict[str, str]) -> int:
        import base64
        files = [a for a in argv[1:] if not a.startswith("-")]
        inputs, status = self.read_inputs(files, io, "base64")
        data = "".join(d for _, d in inputs)
        if "-d" in argv or "--decode" in argv:
            try:
                io.out.write(self, base64.b64decode("".join(data.split())).decode("utf-8", "replace"))
            except ValueError:
                io.err.write(self, "base64: invalid input\n")
                return 1
        else:
            enc = base64.b64encode(data.encode()).decode()
            io.out.write(self, "\n".join(enc[i:i + 76] for i in range(0, len(enc), 76)) + "\n")
        return status

    def x_busybox(self, argv: list[str], io: _IO, env: dict[str, str]) -> int:
        if len(argv) < 2:
            io.out.write(self, "BusyBox v1.36.1 (2023-05-18 22:34:17 UTC) multi-call binary.\n")
            return 0
        return self.external(argv[1:], io, env)

    def x_sh(self, argv: list[str], io: _IO, env: dict[str, str]) -> int:
        base = posixpath.basename(argv[0])
        flavor = self.fl
        if base == "bash":
            flavor = BASH
        elif base == "dash":
            flavor = DASH
        opts, script, name, args = _shell_options(argv[1:])
        if script is None:
            if args:
                path = self.abspath(args[0])
                if path not in self.fs:
                    io.err.write(self, f"{base}: can't open '{args[0]}': No such file or directory\n"
                                 if flavor.shell == "ash" else f"{base}: 0: cannot open {args[0]}: No such file\n"
                                 if flavor.shell == "dash" else f"{base}: {args[0]}: No such file or directory\n")
                    return 2 if flavor.shell != "bash" else 127
                script, name, args = self.fs[path], args[0], args[1:]
            else:
                script = io.stdin.read_all()
        status = self.nested_shell(_prefix_opts(opts) + script, name or base, args, io, env,
                                   Flavor(flavor.shell, flavor.tools, base if base != "ash" else "sh"))
        return status

    x_ash = x_bash = x_dash = x_sh

    # -- network ---------------------------------------------------------------------------------------------

    def fetch(self, url: str) -> tuple[str, int, str, str, int, str]:
        """(outcome, status, body, host, port, address); outcome "ok" | "unresolved" | "refused" | "timeout"."""
        if "://" not in url:
            url = "http://" + url
        scheme, rest = url.split("://", 1)
        hostport, _, path = rest.partition("/")
        path = "/" + path
        host, _, port_s = hostport.rpartition(":") if ":" in hostport and not hostport.endswith("]") else \
            (hostport, "", "")
        if not host:
            host, port_s = hostport, ""
        port = int(port_s) if port_s.isdigit() else (443 if scheme == "https" else 80)
        url = f"{scheme}://{hostport}{path}"
        if host in ("localhost", "127.0.0.1", "::1", "[::1]", "0.0.0.0", self.cfg.pod_ip, self.cfg.hostname):
            address = "127.0.0.1" if host in ("localhost", "0.0.0.0") else host
            answer = self.local_http(port, path)
            if answer is None:
                return "refused", 0, "", host, port, address
            return "ok", answer[0], answer[1], host, port, address
        resolver = self.cfg.resolver
        answer = resolver(url) if resolver else None
        address = _fake_ip(host)
        if answer is None:
            return "unresolved", 0, "", host, port, address
        if isinstance(answer, NetError):
            return answer.kind, 0, "", host, port, answer.address or address
        return "ok", int(answer[0]), str(answer[1]), host, port, address

    def local_http(self, port: int, path: str) -> tuple[int, str] | None:
        lst = self.listening.get(port)
        if lst is not None and lst.kind == "http":
            file_path = posixpath.join(lst.docroot, path.lstrip("/").split("?")[0]) or "/"
            if file_path.endswith("/") or self.abspath(file_path) in self.dirs:
                file_path = posixpath.join(file_path, "index.html")
            p = self.abspath(file_path)
            if p in self.fs:
                return 200, self.fs[p]
            return 404, "<HTML><HEAD><TITLE>404 Not Found</TITLE></HEAD>\n<BODY><H1>404 Not Found</H1>\n" \
                        "The requested URL was not found\n</BODY></HTML>\n"
        if lst is not None:
            return None
        if self.cfg.local is not None:
            return self.cfg.local(port, path)
        return None

    def tcp_probe(self, host: str, port: int) -> tuple[str, str]:
        if host in ("localhost", "127.0.0.1", "::1", "0.0.0.0", self.cfg.pod_ip, self.cfg.hostname):
            addr = "127.0.0.1" if host in ("localhost", "0.0.0.0") else host
            open_ = port in self.listening or (self.cfg.local_tcp is not None and self.cfg.local_tcp(port))
            return ("ok" if open_ else "refused"), addr
        answer = self.cfg.resolver(f"tcp://{host}:{port}") if self.cfg.resolver else None
        if answer is None:
            return "unresolved", _fake_ip(host)
        if isinstance(answer, NetError):
            return answer.kind, answer.address or _fake_ip(host)
        return "ok", _fake_ip(host)

    def x_wget(self, argv: list[str], io: _IO, env: dict[str, str]) -> int:
        quiet = spider = False
        out_file: str | None = None
        timeout = 900.0 if self.fl.tools == "busybox" else 900.0
        urls = []
        k = 1
        while k < len(argv):
            a = argv[k]
            if a in ("-q", "--quiet"):
                quiet = True
            elif a == "--spider":
                spider = True
            elif a in ("-O", "--output-document") and k + 1 < len(argv):
                out_file = argv[k + 1]
                k += 1
            elif a.startswith("-O") and len(a) > 2:
                out_file = a[2:]
            elif a.startswith("--output-document="):
                out_file = a.split("=", 1)[1]
            elif a in ("-T", "--timeout") and k + 1 < len(argv):
                timeout = float(argv[k + 1])
                k += 1
            elif a.startswith("-T") and len(a) > 2:
                timeout = float(a[2:])
            elif a.startswith("--timeout="):
                timeout = float(a.split("=", 1)[1])
            elif a.startswith("-") and len(a) > 1 and not a.startswith("--"):
                flags = a[1:]
                quiet = quiet or "q" in flags
                if "O" in flags:
                    rest = flags[flags.index("O") + 1:]
                    if rest:
                        out_file = rest
                    elif k + 1 < len(argv):
                        out_file = argv[k + 1]
                        k += 1
            elif not a.startswith("-"):
                urls.append(a)
            k += 1
        if not urls:
            io.err.write(self, "BusyBox v1.36.1 (2023-05-18 22:34:17 UTC) multi-call binary.\n\nUsage: wget "
                               "[-cqS] [--spider] [-O FILE] [-o LOGFILE] [--header STR]\n" if
                         self.fl.tools == "busybox" else "wget: missing URL\nUsage: wget [OPTION]... [URL]...\n")
            return 1
        status = 0
        for url in urls:
            status = self.wget_one(url, quiet, spider, out_file, timeout, io) or status
        return status

    def wget_one(self, url: str, quiet: bool, spider: bool, out_file: str | None, timeout: float,
                 io: _IO) -> int:
        outcome, code, body, host, port, address = self.fetch(url)
        gnu = self.fl.tools == "gnu"
        if gnu:
            return self.gnu_wget(url, quiet, spider, out_file, timeout, io, outcome, code, body, host, port,
                                 address)
        if not quiet:
            io.err.write(self, f"Connecting to {host}{':' + str(port) if port != 80 or ':' in url.split('//')[-1] else ''}"
                               f" ({address}:{port})\n" if outcome != "unresolved" else "")
        if outcome == "unresolved":
            io.err.write(self, f"wget: bad address '{host}{':' + str(port) if ':' in url.split('//')[-1].split('/')[0] else ''}'\n")
            return 1
        if outcome == "refused":
            io.err.write(self, f"wget: can't connect to remote host ({address}): Connection refused\n")
            return 1
        if outcome == "timeout":
            self.advance(timeout)
            io.err.write(self, "wget: download timed out\n")
            return 1
        if outcome == "reset":
            io.err.write(self, "wget: error getting response: Connection reset by peer\n")
            return 1
        if code >= 400:
            io.err.write(self, f"wget: server returned error: HTTP/1.1 {code} {_reason(code)}\n")
            return 1
        if spider:
            if not quiet:
                io.err.write(self, "remote file exists\n")
            return 0
        target = out_file if out_file is not None else (posixpath.basename(url.split("?")[0].rstrip("/"))
                                                        if url.rstrip("/").count("/") > 2 else "index.html")
        size = len(body.encode())
        if target == "-":
            if not quiet:
                io.err.write(self, "writing to stdout\n")
            io.out.write(self, body)
            if not quiet:
                io.err.write(self, f"-                    100% |{'*' * 32}| {_human(size):>5}  0:00:00 ETA\n"
                                   "written to stdout\n")
            return 0
        if not quiet:
            io.err.write(self, f"saving to '{target}'\n")
        sink = self.open_write(io, target, False)
        if sink is None:
            return 1
        sink.write(self, body)
        if not quiet:
            io.err.write(self, f"{target[:20]:<20} 100% |{'*' * 32}| {_human(size):>5}  0:00:00 ETA\n"
                               f"'{target}' saved\n")
        return 0

    def gnu_wget(self, url: str, quiet: bool, spider: bool, out_file: str | None, timeout: float, io: _IO,
                 outcome: str, code: int, body: str, host: str, port: int, address: str) -> int:
        stamp = datetime.fromtimestamp(self.cfg.start_time + self.now, UTC).strftime("%Y-%m-%d %H:%M:%S")
        say = (lambda s: None) if quiet else (lambda s: io.err.write(self, s))
        full = url if "://" in url else "http://" + url
        say(f"--{stamp}--  {full}\n")
        if outcome == "unresolved":
            say(f"Resolving {host} ({host})... failed: Name or service not known.\n")
            say(f"wget: unable to resolve host address '{host}'\n")
            return 4
        say(f"Resolving {host} ({host})... {address}\n")
        say(f"Connecting to {host} ({host})|{address}|:{port}... ")
        if outcome == "refused":
            say("failed: Connection refused.\n")
            return 4
        if outcome == "timeout":
            self.advance(timeout)
            say("failed: Connection timed out.\n")
            return 4
        say("connected.\nHTTP request sent, awaiting response... ")
        if code >= 400:
            say(f"{code} {_reason(code)}\n{stamp} ERROR {code}: {_reason(code)}.\n\n")
            return 8
        say(f"{code} {_reason(code)}\nLength: {len(body.encode())} [text/html]\n")
        if spider:
            say("Remote file exists.\n\n")
            return 0
        target = out_file or "index.html"
        if target == "-":
            io.out.write(self, body)
        else:
            sink = self.open_write(io, target, False)
            if sink is None:
                return 3
            sink.write(self, body)
            say(f"Saving to: '{target}'\n\n{stamp} ({len(body)} B/s) - '{target}' saved [{len(body)}/{len(body)}]\n\n")
        return 0

    def x_curl(self, argv: list[str], io: _IO, env: dict[str, str]) -> int:
        silent = show_error = fail = head = include = verbose = False
        out_file: str | None = None
        write_out: str | None = None
        max_time: float | None = None
        urls = []
        k = 1
        takes_arg = {"-o", "--output", "-w", "--write-out", "-m", "--max-time", "--connect-timeout", "-X",
                     "--request", "-H", "--header", "-d", "--data", "--data-raw", "-u", "--user", "-A",
                     "--user-agent", "-e", "--retry", "--cacert", "-F", "--resolve"}
        while k < len(argv):
            a = argv[k]
            if a in takes_arg:
                val = argv[k + 1] if k + 1 < len(argv) else ""
                if a in ("-o", "--output"):
                    out_file = val
                elif a in ("-w", "--write-out"):
                    write_out = val
                elif a in ("-m", "--max-time", "--connect-timeout"):
                    try:
                        max_time = float(val)
                    except ValueError:
                        max_time = None
                k += 2
                continue
            if a.startswith("--"):
                silent = silent or a == "--silent"
                show_error = show_error or a == "--show-error"
                fail = fail or a in ("--fail", "--fail-with-body")
                head = head or a == "--head"
                include = include or a == "--include"
                verbose = verbose or a == "--verbose"
            elif a.startswith("-") and len(a) > 1:
                flags = a[1:]
                silent = silent or "s" in flags
                show_error = show_error or "S" in flags
                fail = fail or "f" in flags
                head = head or "I" in flags
                include = include or "i" in flags
                verbose = verbose or "v" in flags
                for opt in ("o", "w", "m"):
                    if opt in flags and flags.endswith(opt) and k + 1 < len(argv):
                        val = argv[k + 1]
                        if opt == "o":
                            out_file = val
                        elif opt == "w":
                            write_out = val
                        else:
                            max_time = float(val) if _is_num(val) else None
                        k += 1
            else:
                urls.append(a)
            k += 1
        if not urls:
            io.err.write(self, "curl: try 'curl --help' or 'curl --manual' for more information\n")
            return 2
        status = 0
        for url in urls:
            outcome, code, body, host, port, address = self.fetch(url)
            errors_shown = not silent or show_error
            meter = not silent and (out_file not in (None,) or True) and not head
            if outcome != "ok":
                if meter:
                    io.err.write(self, _CURL_METER_HEAD + _curl_meter(0))
                if outcome == "unresolved":
                    msg, status = f"curl: (6) Could not resolve host: {host}", 6
                elif outcome == "refused":
                    msg, status = (f"curl: (7) Failed to connect to {host} port {port} after 1 ms: "
                                   "Couldn't connect to server"), 7
                elif outcome == "timeout":
                    wait = max_time if max_time is not None else 134.0
                    self.advance(wait)
                    msg, status = (f"curl: (28) Failed to connect to {host} port {port} after {int(wait * 1000)} "
                                   "ms: Timeout was reached"), 28
                else:
                    msg, status = "curl: (56) Recv failure: Connection reset by peer", 56
                if errors_shown:
                    io.err.write(self, ("\n" if meter else "") + msg + "\n")
                if write_out:
                    io.out.write(self, _curl_write_out(write_out, 0, 0))
                continue
            size = len(body.encode())
            headers = f"HTTP/1.1 {code} {_reason(code)}\r\nServer: nginx\r\nContent-Type: text/html\r\n" \
                      f"Content-Length: {size}\r\n\r\n"
            if fail and code >= 400:
                if meter:
                    io.err.write(self, _CURL_METER_HEAD + _curl_meter(0))
                if errors_shown:
                    io.err.write(self, ("\n" if meter else "") +
                                 f"curl: (22) The requested URL returned error: {code}\n")
                status = 22
                if write_out:
                    io.out.write(self, _curl_write_out(write_out, code, 0))
                continue
            payload = headers if head else (headers + body if include else body)
            if meter and (out_file is not None or True):
                io.err.write(self, _CURL_METER_HEAD + _curl_meter(size))
            if out_file is not None and out_file != "-":
                sink = self.open_write(io, out_file, False)
                if sink is None:
                    return 23
                sink.write(self, payload)
            else:
                io.out.write(self, payload)
            if write_out:
                io.out.write(self, _curl_write_out(write_out, code, size))
        return status

    def x_nc(self, argv: list[str], io: _IO, env: dict[str, str]) -> int:
        flags: set[str] = set()
        rest = []
        port_opt = None
        k = 1
        while k < len(argv):
            a = argv[k]
            if a in ("-w", "-W", "-i", "-q", "-s") and k + 1 < len(argv):
                k += 2
                continue
            if a == "-p" and k + 1 < len(argv):
                port_opt = argv[k + 1]
                k += 2
                continue
            if a.startswith("-") and len(a) > 1:
                flags.update(c for c in a[1:] if not c.isdigit())
            else:
                rest.append(a)
            k += 1
        if "l" in flags:
            port_s = port_opt or (rest[-1] if rest else "")
            if not port_s.isdigit():
                io.err.write(self, "nc: missing port\n")
                return 1
            self.listening[int(port_s)] = Listener(int(port_s), self.now, "tcp")
            self.advance(math.inf)
            return 0
        if len(rest) < 2:
            io.err.write(self, "BusyBox v1.36.1 (2023-05-18 22:34:17 UTC) multi-call binary.\n\nUsage: nc "
                               "[OPTIONS] HOST PORT  - connect\nnc [OPTIONS] -l -p PORT [HOST] [PORT]  - listen\n")
            return 1
        host, port_s = rest[0], rest[1]
        if not port_s.isdigit():
            io.err.write(self, f"nc: bad port '{port_s}'\n")
            return 1
        outcome, addr = self.tcp_probe(host, int(port_s))
        if outcome == "unresolved":
            io.err.write(self, f"nc: bad address '{host}'\n")
            return 1
        if outcome == "timeout":
            self.advance(10.0)
            io.err.write(self, "nc: timed out\n")
            return 1
        if outcome != "ok":
            io.err.write(self, f"nc: can't connect to remote host ({addr}): Connection refused\n")
            return 1
        if "v" in flags:
            io.err.write(self, f"{host} ({addr}:{port_s}) open\n")
        if "z" not in flags:
            io.stdin.read_all()
        return 0

    def x_nslookup(self, argv: list[str], io: _IO, env: dict[str, str]) -> int:
        names = [a for a in argv[1:] if not a.startswith("-")]
        if not names:
            io.err.write(self, "BusyBox v1.36.1 (2023-05-18 22:34:17 UTC) multi-call binary.\n\nUsage: nslookup "
                               "[-type=QUERY_TYPE] [-debug] HOST [DNS_SERVER]\n")
            return 1
        name = names[0]
        ns = self.cfg.nameserver
        header = f"Server:\t\t{ns}\nAddress:\t{ns}:53\n\n"
        answer = self.cfg.resolver(f"dns://{name}") if self.cfg.resolver else None
        if answer is None or isinstance(answer, NetError):
            fqdn = name if "." in name else f"{name}.cluster.local"
            io.out.write(self, header + f"** server can't find {fqdn}: NXDOMAIN\n\n"
                                        f"** server can't find {fqdn}: NXDOMAIN\n\n")
            return 1
        fields = str(answer[1]).split()
        fqdn, ip = (fields[0], fields[1]) if len(fields) > 1 else (name, fields[0] if fields else "")
        io.out.write(self, header + f"Name:\t{fqdn}\nAddress: {ip}\n\n")
        return 0

    def x_httpd(self, argv: list[str], io: _IO, env: dict[str, str]) -> int:
        foreground = False
        port = 80
        docroot = self.cwd
        k = 1
        while k < len(argv):
            a = argv[k]
            if a == "-p" and k + 1 < len(argv):
                port = int(argv[k + 1].rsplit(":", 1)[-1])
                k += 2
                continue
            if a == "-h" and k + 1 < len(argv):
                docroot = self.abspath(argv[k + 1])
                k += 2
                continue
            if a.startswith("-") and "f" in a:
                foreground = True
            k += 1
        self.listening[port] = Listener(port, self.now, "http", docroot)
        if foreground:
            self.advance(math.inf)
        return 0


# ------------------------------------------------------------------------------------------------ test(1)

class _TestError(Exception):
    def __init__(self, kind: str, arg: str = "") -> None:
        self.kind, self.arg = kind, arg

    def message(self, shell: str, cmd: str) -> str:
        if self.kind == "number":
            if shell == "dash":
                return f"{cmd}: Illegal number: {self.arg}"
            if shell == "bash":
                return f"{cmd}: {self.arg}: integer expression expected"
            return f"{cmd}: {self.arg}: bad number" if cmd == "test" else f"[: {self.arg}: bad number"
        if shell == "dash":
            return f"{cmd}: {self.arg}: unexpected operator"
        if shell == "bash":
            return f"{cmd}: {self.arg}: unary operator expected" if self.kind == "unary" else \
                f"{cmd}: too many arguments"
        return f"{cmd}: {self.arg}: unknown operand"


_UNARY = {"-z", "-n", "-f", "-d", "-e", "-s", "-r", "-w", "-x", "-L", "-h", "-t", "-p", "-S", "-b", "-c"}
_BINOPS = {"=", "==", "!=", "-eq", "-ne", "-lt", "-le", "-gt", "-ge", "<", ">", "-nt", "-ot"}


class _TestEval:
    def __init__(self, interp: _Interp, args: list[str]) -> None:
        self.interp = interp
        self.args = args
        self.i = 0

    def run(self) -> bool:
        if not self.args:
            return False
        v = self.expr()
        if self.i != len(self.args):
            raise _TestError("syntax", self.args[self.i])
        return v

    def peek(self, k: int = 0) -> str | None:
        j = self.i + k
        return self.args[j] if j < len(self.args) else None

    def expr(self) -> bool:
        v = self.and_()
        while self.peek() == "-o":
            self.i += 1
            r = self.and_()
            v = v or r
        return v

    def and_(self) -> bool:
        v = self.not_()
        while self.peek() == "-a":
            self.i += 1
            r = self.not_()
            v = v and r
        return v

    def not_(self) -> bool:
        if self.peek() == "!" and self.peek(1) is not None:
            self.i += 1
            return not self.not_()
        return self.primary()

    def primary(self) -> bool:
        a = self.peek()
        if a is None:
            raise _TestError("syntax", "")
        if a == "(" and self.peek(1) is not None and self.peek(2) != ")" or (a == "(" and self.peek(2) == ")"):
            if self.peek(2) == ")" and self.peek(1) not in _UNARY:
                self.i += 3
                return self.peek(-2) != ""
            self.i += 1
            v = self.expr()
            if self.peek() != ")":
                raise _TestError("syntax", self.peek() or "")
            self.i += 1
            return v
        op = self.peek(1)
        if op in _BINOPS and self.peek(2) is not None:
            b = self.args[self.i + 2]
            self.i += 3
            return self.binary(a, op, b)
        if a in _UNARY and op is not None:
            self.i += 2
            return self.unary(a, op)
        self.i += 1
        return a != ""

    def num(self, s: str) -> int:
        try:
            return int(s.strip())
        except ValueError:
            raise _TestError("number", s) from None

    def binary(self, a: str, op: str, b: str) -> bool:
        if op in ("=", "=="):
            return a == b
        if op == "!=":
            return a != b
        if op == "<":
            return a < b
        if op == ">":
            return a > b
        if op in ("-nt", "-ot"):
            return False
        x, y = self.num(a), self.num(b)
        return {"-eq": x == y, "-ne": x != y, "-lt": x < y, "-le": x <= y, "-gt": x > y, "-ge": x >= y}[op]

    def unary(self, op: str, a: str) -> bool:
        it = self.interp
        if op == "-z":
            return a == ""
        if op == "-n":
            return a != ""
        if op == "-f":
            return it.is_file(a)
        if op == "-d":
            return it.is_dir(a)
        if op in ("-e", "-r"):
            return it.exists(a)
        if op == "-s":
            return it.is_file(a) and len(it.fs[it.abspath(a)]) > 0 or it.is_dir(a)
        if op == "-w":
            return it.exists(a) and not it.is_readonly(it.abspath(a))
        if op == "-x":
            return it.is_dir(a) or (it.is_file(a) and it.fs[it.abspath(a)].startswith("#!"))
        return False


# ------------------------------------------------------------------------------------------------ helpers

def _quote(s: str) -> str:
    if s and re.fullmatch(r"[A-Za-z0-9_@%+=:,./-]+", s):
        return s
    return "'" + s.replace("'", "'\"'\"'") + "'"


def _quote_always(s: str) -> str:
    return "'" + s.replace("'", "'\"'\"'") + "'"


def _backslash_escapes(text: str, echo: bool = False) -> tuple[str, bool]:
    """Interpret \\n, \\t, ... ; \\c stops output. Returns (text, stopped)."""
    out = []
    i = 0
    while i < len(text):
        c = text[i]
        if c != "\\" or i + 1 >= len(text):
            out.append(c)
            i += 1
            continue
        n = text[i + 1]
        simple = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "f": "\f", "v": "\v", "\\": "\\",
                  "e": "\x1b"}
        if n in simple:
            out.append(simple[n])
            i += 2
        elif n == "c":
            return "".join(out), True
        elif n == "0" or (not echo and n in "01234567"):
            m = re.match(r"[0-7]{1,3}", text[i + 2:] if n == "0" and echo else text[i + 1:])
            digits = m.group(0) if m else ""
            out.append(chr(int(digits, 8)) if digits else "\0")
            i += 2 + (len(digits) if n == "0" and echo else len(digits) - 1)
        else:
            out.append("\\" + n)
            i += 2
    return "".join(out), False


def _is_num(s: str) -> bool:
    return bool(re.fullmatch(r"[-+]?(\d+(\.\d*)?|\.\d+)", s.strip()))


def _printf(fmt: str, args: list[str]) -> tuple[str, int]:
    out: list[str] = []
    status = 0
    spec = re.compile(r"%([-+ #0]*)(\d+|\*)?(?:\.(\d+|\*))?([sdiouxXfeEgGcb%])")
    consumed_any = True
    first = True
    while first or (args and consumed_any):
        first = False
        consumed_any = False
        pos = 0
        for m in spec.finditer(fmt):
            text, stop = _backslash_escapes(fmt[pos:m.start()])
            out.append(text)
            if stop:
                return "".join(out), status
            pos = m.end()
            flags, width, prec, conv = m.groups()
            if conv == "%":
                out.append("%")
                continue
            arg = args.pop(0) if args else ""
            consumed_any = True
            if conv in "diouxX":
                try:
                    v = int(arg) if arg.strip() else 0
                except ValueError:
                    v, status = 0, 1
                conv2 = "d" if conv in "iu" else conv
                out.append(("%" + flags + (width or "") + conv2) % v)
            elif conv in "feEgG":
                try:
                    f = float(arg) if arg.strip() else 0.0
                except ValueError:
                    f, status = 0.0, 1
                out.append(("%" + flags + (width or "") + (("." + prec) if prec else "") + conv) % f)
            elif conv == "c":
                out.append(arg[:1])
            elif conv == "b":
                text, _ = _backslash_escapes(arg, echo=True)
                out.append(text)
            else:
                s = arg[: int(prec)] if prec and prec.isdigit() else arg
                out.append(("%" + flags + (width or "") + "s") % s)
        text, stop = _backslash_escapes(fmt[pos:])
        out.append(text)
        if stop:
            break
    return "".join(out), status


def _bre_to_python(p: str) -> str:
    out = []
    i = 0
    while i < len(p):
        c = p[i]
        if c == "\\" and i + 1 < len(p):
            n = p[i + 1]
            out.append(n if n in "(){}|+?" else "\\" + n)
            i += 2
            continue
        out.append("\\" + c if c in "(){}|+?" else c)
        i += 1
    return "".join(out)


def _ranges(spec: str) -> Callable[[int], list[int]]:
    parts = spec.split(",")

    def pick(n: int) -> list[int]:
        idx: list[int] = []
        for part in parts:
            if "-" in part:
                a, _, b = part.partition("-")
                lo = int(a) if a else 1
                hi = int(b) if b else n
                idx.extend(range(lo - 1, min(hi, n)))
            elif part.isdigit() and int(part) <= n:
                idx.append(int(part) - 1)
        return sorted(set(idx))
    return pick


def _tr_set(s: str) -> str:
    classes = {"[:lower:]": "abcdefghijklmnopqrstuvwxyz", "[:upper:]": "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
               "[:digit:]": "0123456789", "[:space:]": " \t\n\r\f\v"}
    for k, v in classes.items():
        s = s.replace(k, v)
    s, _ = _backslash_escapes(s)
    out = []
    i = 0
    while i < len(s):
        if i + 2 < len(s) and s[i + 1] == "-":
            out.extend(chr(c) for c in range(ord(s[i]), ord(s[i + 2]) + 1))
            i += 3
        else:
            out.append(s[i])
            i += 1
    return "".join(out)


def _expr(args: list[str]) -> int | str:
    if len(args) == 1:
        return args[0]
    if len(args) == 3:
        a, op, b = args
        if op in ("+", "-", "*", "/", "%"):
            x, y = int(a), int(b)
            return _apply_binary(op, x, y)
        if op in ("=", "!=", "<", ">", "<=", ">="):
            try:
                x2: int | str = int(a)
                y2: int | str = int(b)
            except ValueError:
                x2, y2 = a, b
            return int({"=": x2 == y2, "!=": x2 != y2, "<": x2 < y2, ">": x2 > y2,  # type: ignore[operator]
                        "<=": x2 <= y2, ">=": x2 >= y2}[op])  # type: ignore[operator]
        if op == ":":
            m = re.match(_bre_to_python(b), a)
            if not m:
                return 0
            return m.group(1) if m.groups() else len(m.group(0))
    if len(args) == 2 and args[0] == "length":
        return len(args[1])
    raise ValueError(args)


def _fake_ip(host: str) -> str:
    """A stable ClusterIP-looking address for a name (used only in error texts)."""
    h = sum((i + 1) * ord(c) for i, c in enumerate(host))
    return f"10.96.{h % 250 + 1}.{(h // 250) % 250 + 2}"


def _reason(code: int) -> str:
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return "Unknown"


def _human(n: int) -> str:
    if n < 1024:
        return str(n)
    if n < 1024 * 1024:
        return f"{n / 1024:.0f}k"
    return f"{n / 1024 / 1024:.1f}M"


_CURL_METER_HEAD = ("  % Total    % Received % Xferd  Average Speed   Time    Time     Time  Current\n"
                    "                                 Dload  Upload   Total   Spent    Left  Speed\n")


def _curl_meter(size: int) -> str:
    if size == 0:
        return "\r  0     0    0     0    0     0      0      0 --:--:-- --:--:-- --:--:--     0"
    s = _curl_size(size)
    speed = _curl_size(size * 500)
    return (f"\r  0     0    0     0    0     0      0      0 --:--:-- --:--:-- --:--:--     0"
            f"\r100 {s:>5}  100 {s:>5}    0     0  {speed:>5}      0 --:--:-- --:--:-- --:--:-- {speed:>5}\n")


def _curl_size(n: int) -> str:
    if n < 100_000:
        return str(n)
    if n < 10 * 1024 * 1024:
        return f"{n // 1024}k"
    return f"{n // 1024 // 1024}M"


def _curl_write_out(fmt: str, code: int, size: int) -> str:
    out = fmt.replace("%{http_code}", f"{code:03d}").replace("%{response_code}", f"{code:03d}")
    out = out.replace("%{size_download}", str(size)).replace("%{time_total}", "0.001234")
    out = out.replace("%{time_connect}", "0.000512").replace("%{remote_ip}", "10.96.0.1")
    text, _ = _backslash_escapes(out)
    return text


def _shell_options(args: list[str]) -> tuple[set[str], str | None, str | None, list[str]]:
    """Parse `sh [-ex] [-o opt] -c SCRIPT [NAME [ARGS...]]` → (options, script, $0, positional)."""
    opts: set[str] = set()
    script = None
    k = 0
    want_c = False
    while k < len(args):
        a = args[k]
        if a == "--":
            k += 1
            break
        if a in ("-o", "+o") and k + 1 < len(args):
            if a == "-o":
                opts.add(args[k + 1])
            k += 2
            continue
        if a.startswith("-") and len(a) > 1 and not a.startswith("--"):
            for ch in a[1:]:
                if ch == "c":
                    want_c = True
                elif ch == "o":
                    if k + 1 < len(args):
                        opts.add(args[k + 1])
                        k += 1
                else:
                    opts.add(ch)
            k += 1
            continue
        if a.startswith("--"):
            k += 1
            continue
        break
    rest = args[k:]
    if want_c:
        if not rest:
            return opts, "", None, []
        script, rest = rest[0], rest[1:]
        name = rest[0] if rest else None
        return opts, script, name, rest[1:]
    return opts, None, None, rest


def _prefix_opts(opts: set[str]) -> str:
    flags = "".join(sorted(o for o in opts if len(o) == 1 and o in "eux"))
    pre = f"set -{flags}\n" if flags else ""
    if "pipefail" in opts:
        pre += "set -o pipefail\n"
    return pre


# ------------------------------------------------------------------------------------------------ entry points

SHELLS = frozenset({"sh", "ash", "bash", "dash"})


def run_script(script: str, cfg: ShellConfig, *, argv0: str = "sh", args: list[str] | None = None,
               options: set[str] | None = None, cmdline: str = "") -> ShellResult:
    """Run `sh -c SCRIPT` (argv0 names the shell in messages and $0)."""
    it = _Interp(cfg, argv0)
    it.cmdline = cmdline or f"{argv0} -c {script}"
    it.positional = list(args or [])
    opts = options or set()
    it.errexit = "e" in opts or "errexit" in opts
    it.xtrace = "x" in opts or "xtrace" in opts
    it.nounset = "u" in opts or "nounset" in opts
    it.pipefail = "pipefail" in opts
    io = _IO(_In(cfg.stdin), _StreamSink("stdout"), _StreamSink("stderr"))
    try:
        node = parse(script)
    except ShellSyntaxError as e:
        it.emit_safe("stderr", it.syntax_message(e, script))
        return it.result(2, None)
    return it.execute(lambda: it.run_node(node, io), io)


def run_argv(argv: list[str], cfg: ShellConfig) -> ShellResult:
    """Run an exec-form command line: a shell (`sh -c ...`, `sh script`, `sh` reading stdin) or one command."""
    if not argv:
        return ShellResult([], 0, cfg.time0)
    base = posixpath.basename(argv[0])
    if base in SHELLS:
        flavor = cfg.flavor
        if base == "bash":
            flavor = BASH if cfg.flavor.tools == "gnu" else cfg.flavor
        elif base == "dash":
            flavor = DASH
        name = "sh" if base == "ash" else base
        cfg2 = _replace_flavor(cfg, Flavor(flavor.shell, flavor.tools, name))
        opts, script, dollar0, args = _shell_options(argv[1:])
        if script is None:
            if args:
                it = _Interp(cfg2, name)
                path = it.abspath(args[0])
                if path not in it.fs:
                    msg = (f"{name}: can't open '{args[0]}': No such file or directory\n" if flavor.shell == "ash"
                           else f"{name}: 0: cannot open {args[0]}: No such file\n" if flavor.shell == "dash"
                           else f"{name}: {args[0]}: No such file or directory\n")
                    it.emit_safe("stderr", msg)
                    return it.result(2 if flavor.shell != "bash" else 127, None)
                return run_script(it.fs[path], cfg2, argv0=args[0], args=args[1:], options=opts,
                                  cmdline=" ".join(argv))
            return run_script(cfg.stdin, cfg2, argv0=name, options=opts, cmdline=" ".join(argv))
        return run_script(script, cfg2, argv0=dollar0 or name, args=args, options=opts, cmdline=" ".join(argv))
    it = _Interp(cfg, "sh")
    io = _IO(_In(cfg.stdin), _StreamSink("stdout"), _StreamSink("stderr"))

    def go() -> int:
        if argv[0] in _BUILTINS - {"echo", "true", "false", "test", "[", "printf"} and "/" not in argv[0]:
            # exec form has no shell: `exit`, `export`, ... are not programs
            raise _ExecNotFound(argv[0])
        cmd = it.resolve_command(argv[0])
        if cmd is None and argv[0] not in ("echo", "true", "false", "test", "[", "printf"):
            raise _ExecNotFound(argv[0])
        if cmd is None:
            return it.builtin(argv[0], argv, io)
        return it.external(argv, io, it.env())

    return it.execute(go, io)


def _replace_flavor(cfg: ShellConfig, flavor: Flavor) -> ShellConfig:
    from dataclasses import replace
    return replace(cfg, flavor=flavor)
