"""Recognize why a process died from the last lines it logged: a missing environment variable, a refused
connection, a configuration that does not parse, a permission denied (an RBAC 403 included), an out-of-memory
error. Fixed patterns only: a log line is matched, quoted and never followed."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_ENV = r"([A-Z][A-Z0-9_]{1,63})"


@dataclass
class Cause:
    kind: str          # missing_env | connection_refused | config_parse | permission_denied | out_of_memory | error
    line: str          # the raw line that shows it (quote before use)
    index: int         # its index in the lines given
    detail: dict[str, str] = field(default_factory=dict)


_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("missing_env", re.compile(r"KeyError: ['\"]" + _ENV + r"['\"]")),
    ("missing_env", re.compile(r"(?:environment variable|env var(?:iable)?)\s+['\"`]?" + _ENV +
                               r"['\"`]?\s+(?:is\s+)?(?:not set|not defined|missing|required|undefined|must be set|is empty)",
                               re.I)),
    ("missing_env", re.compile(r"(?:missing|required|undefined)\s+(?:required\s+)?(?:environment variable|env(?:ironment)?"
                               r" var(?:iable)?)s?[:\s]+['\"`]?" + _ENV, re.I)),
    ("missing_env", re.compile(r"required key " + _ENV + r" missing value")),
    ("missing_env", re.compile(_ENV + r" (?:env(?:ironment)? var(?:iable)? )?(?:is )?(?:not set|must be set|is required)")),
    ("connection_refused", re.compile(r"(?:connection refused|ECONNREFUSED|Connection refused)", re.I)),
    ("config_parse", re.compile(r"(?:yaml: line \d+|yaml\.(?:scanner|parser)\.\w+Error|ScannerError|ParserError|"
                                r"JSONDecodeError|json: cannot unmarshal|invalid character .* looking for|"
                                r"(?:failed|unable|cannot|could not) (?:to )?(?:parse|load|read|decode) (?:the )?config|"
                                r"invalid config(?:uration)?|configuration error|malformed config)", re.I)),
    ("permission_denied", re.compile(r"(?:is forbidden: User|\b403\b.{0,12}Forbidden|Forbidden.{0,12}\b403\b|"
                                     r"permission denied|EACCES|AccessDenied|Operation not permitted|"
                                     r"status=\"?403)", re.I)),
    ("out_of_memory", re.compile(r"(?:OutOfMemoryError|Cannot allocate memory|MemoryError|out of memory|"
                                 r"JavaScript heap out of memory|fatal error: runtime: out of memory)", re.I)),
]

_HOSTPORT = re.compile(r"(?:dial tcp |connect to |connecting to |tcp://|https?://|at |to )?"
                       r"\(?['\"]?([A-Za-z0-9][\w.-]*):(\d{2,5})\b")
_ERRORISH = re.compile(r"(?:\bERROR\b|\bFATAL\b|\bCRITICAL\b|Exception|Error:|\bpanic:|^[EF]\d{4} |\bfatal\b)")


def classify(lines: list[str], window: int = 200) -> Cause | None:
    """The cause shown nearest the end of the last `window` lines (None if no pattern matches)."""
    start = max(0, len(lines) - window)
    for i in range(len(lines) - 1, start - 1, -1):
        line = lines[i]
        for kind, rx in _PATTERNS:
            m = rx.search(line)
            if not m:
                continue
            detail: dict[str, str] = {}
            if kind == "missing_env":
                detail["var"] = m.group(1)
                if rx.pattern.startswith("KeyError") and not _environ_context(lines, i):
                    # a KeyError on an UPPER_CASE key without os.environ in the traceback: still likely, but say so
                    detail["certain"] = "no"
            elif kind == "connection_refused":
                hp = _HOSTPORT.search(line)
                if hp:
                    detail["host"], detail["port"] = hp.group(1), hp.group(2)
            elif kind == "permission_denied" and "is forbidden: User" in line.replace('\\"', '"'):
                detail["rbac"] = "yes"
            return Cause(kind, line, i, detail)
    for i in range(len(lines) - 1, start - 1, -1):
        if _ERRORISH.search(lines[i]):
            return Cause("error", lines[i], i)
    return None


def _environ_context(lines: list[str], i: int) -> bool:
    ctx = "\n".join(lines[max(0, i - 8): i + 1])
    return "environ" in ctx or "getenv" in ctx or "<frozen os>" in ctx


EXIT_CODES = {
    0: "exited successfully (a long-running container must not exit)",
    1: "application error",
    2: "misuse of shell builtin or invalid arguments",
    126: "command not executable",
    127: "command not found",
    128: "invalid exit argument",
    134: "aborted (SIGABRT)",
    137: "killed (SIGKILL: OOM killer or liveness probe)",
    139: "segmentation fault (SIGSEGV)",
    143: "terminated (SIGTERM)",
    255: "fatal error (exit status -1)",
}


def exit_meaning(code: int | None) -> str:
    if code is None:
        return "unknown exit"
    return EXIT_CODES.get(code, f"killed by signal {code - 128}" if code > 128 else "non-zero exit")
