"""The sandbox clock: real time by default, fast-forwarded by a speed factor for tests and demos."""

from __future__ import annotations

import time
from datetime import UTC, datetime


class Clock:
    """Time since a fixed origin, scaled by `speed` (speed 100 → one real second is 100 sandbox seconds)."""

    def __init__(self, speed: float = 1.0) -> None:
        self.speed = speed
        self._real0 = time.time()
        self._mono0 = time.monotonic()

    def time(self) -> float:
        return self._real0 + (time.monotonic() - self._mono0) * self.speed

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.time(), UTC)

    def rfc3339(self) -> str:
        return self.now().strftime("%Y-%m-%dT%H:%M:%SZ")

    def rfc3339_micro(self) -> str:
        return self.now().strftime("%Y-%m-%dT%H:%M:%S.%fZ")
