"""The audit log: every tool call and every approval decision, one JSON object per line.

Why append-only JSON lines under KUBESAGE_HOME: an operator can tail it, grep it and ship it, and a crash never
loses earlier entries.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

_lock = threading.Lock()


class AuditLog:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)

    def record(self, principal: str, tool: str, arguments: dict[str, Any], outcome: str,
               approval_id: str | None = None, thread_id: str | None = None) -> None:
        entry = {"ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "principal": principal, "tool": tool,
                 "arguments": arguments, "outcome": outcome, "approval_id": approval_id, "thread_id": thread_id}
        line = json.dumps(entry, default=str, sort_keys=True)
        with _lock, open(self.path, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")

    def entries(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text().splitlines() if line.strip()]
