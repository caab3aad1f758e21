"""A plain-text progress bar with a live pass count (one updating line on a terminal, one line per case
otherwise, so logs stay readable)."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO


class Progress:
    def __init__(self, total: int, stream: TextIO | None = None, width: int = 30) -> None:
        self.total, self.done, self.passed = total, 0, 0
        self.stream = stream or sys.stderr
        self.width = width
        self.t0 = time.monotonic()
        self.tty = self.stream.isatty()

    def update(self, rec: dict[str, Any]) -> None:
        self.done += 1
        self.passed += bool(rec.get("passed"))
        filled = int(self.width * self.done / max(1, self.total))
        mark = "ok" if rec.get("passed") else ("ERR" if rec.get("error") else "FAIL")
        if not rec.get("passed") and rec.get("verdict"):
            mark += f" ({rec['verdict']})"
        line = (f"[{'#' * filled}{'.' * (self.width - filled)}] {self.done}/{self.total} "
                f"pass {self.passed} ({100 * self.passed / self.done:.0f}%) {time.monotonic() - self.t0:.0f}s "
                f"{mark} {rec.get('id')}")
        if self.tty:
            self.stream.write("\r" + line[:150].ljust(150))
            if self.done == self.total:
                self.stream.write("\n")
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
