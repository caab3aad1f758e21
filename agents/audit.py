"""The audit log: every tool call and every approval decision, one JSON object per line.

Why append-only JSON lines under KUBESAGE_HOME: an operator can tail it, grep it and ship it, and a crash never
loses earlier entries. Each entry names the full principal (user and groups: the rights the call ran with, and the
credential it came through when an interface knows it), the conversation thread and the approval it belongs to, so
"who changed this, on whose yes, in which conversation" has one answer. Lines are flushed and fsynced before
`record` returns: the approval step writes its line before it reports the change as done.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any

from memory import tracing

_lock = threading.Lock()


def _who(principal: Any) -> tuple[str, list[str], str | None]:
    """(label, groups, via) of a Principal, a principal dict ({user, groups, via?}) or a plain name."""
    if isinstance(principal, dict):
        return principal.get("user") or "kubeconfig-user", list(principal.get("groups") or []), principal.get("via")
    if hasattr(principal, "groups"):
        return principal.label, list(principal.groups), None
    return str(principal), [], None


class AuditLog:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)

    def record(self, principal: Any, tool: str, arguments: dict[str, Any], outcome: str,
               approval_id: str | None = None, thread_id: str | None = None, via: str | None = None) -> None:
        label, groups, principal_via = _who(principal)
        entry = {"ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "principal": label, "groups": groups,
                 "via": via or principal_via, "tool": tool, "arguments": arguments, "outcome": outcome,
                 "approval_id": approval_id, "thread_id": thread_id}
        tid = tracing.trace_id()  # the turn's trace, when tracing is on: from this line to its spans
        if tid:
            entry["trace_id"] = tid
        self._append(entry)

    def _append(self, entry: dict[str, Any]) -> None:
        """Write one entry durably (a subclass keeps them elsewhere: kubesage/pgstore.py's append-only table)."""
        line = json.dumps(entry, default=str, sort_keys=True)
        with _lock, open(self.path, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")
            fh.flush()
            os.fsync(fh.fileno())

    def has(self, approval_id: str, tool: str) -> bool:
        """Whether the line for this approval's change is already written (a run resumed after a crash between
        writing it and recording so must not write it twice)."""
        return any(e.get("approval_id") == approval_id and e.get("tool") == tool for e in self.entries())

    def entries(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        out = []
        for line in self.path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                continue  # a line cut short by a crash mid-write: the others still count
        return out
