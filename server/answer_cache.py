"""A short-lived cache of read-only answers, per (principal scope, normalized question, namespace).

Why: dashboards and chat users repeat the same read questions ("what is failing in shop?") many times a minute; a
whole turn costs tens to hundreds of milliseconds of cluster reads. A TTL of seconds keeps answers about live
state fresh enough, and only turns that proposed no change are stored, so an approval is never replayed. Entries
are partitioned by the principal's user and groups: one user's answer (shaped by their rights) never reaches
another.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

_SPACE = re.compile(r"\s+")


def normalize(text: str) -> str:
    """Case, surrounding whitespace, runs of spaces and trailing `?`/`.`/`!` do not change the question."""
    return _SPACE.sub(" ", text.strip().lower()).rstrip("?.! ")


class AnswerCache:
    def __init__(self, ttl_s: float, max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s, self.max_entries, self._clock = ttl_s, max_entries, clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[str, str, str], tuple[float, dict[str, Any]]] = OrderedDict()

    @staticmethod
    def key(scope: str, text: str, namespace: str | None) -> tuple[str, str, str]:
        return scope, normalize(text), namespace or ""

    def get(self, key: tuple[str, str, str]) -> dict[str, Any] | None:
        if self.ttl_s <= 0:
            return None
        now = self._clock()
        with self._lock:
            hit = self._entries.get(key)
            if hit is None:
                return None
            if hit[0] <= now:
                del self._entries[key]
                return None
            return hit[1]

    @staticmethod
    def cacheable(result: dict[str, Any]) -> bool:
        """Only answers of turns that proposed no change and applied none."""
        return not result.get("approval") and not result.get("outcomes")

    def put(self, key: tuple[str, str, str], result: dict[str, Any]) -> bool:
        if self.ttl_s <= 0 or not self.cacheable(result):
            return False
        with self._lock:
            self._entries[key] = (self._clock() + self.ttl_s, result)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return True
