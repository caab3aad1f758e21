"""A circuit breaker for the cloud tier.

Why: when the cloud is down, every request would otherwise pay timeouts and retries before falling back. After
`failure_threshold` consecutive failed attempts the breaker opens and the gateway goes straight to the local
tier; after `cooldown_s` one trial call is let through (half-open), and its outcome closes or re-opens it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class CircuitBreaker:
    """closed → open after N consecutive failures → half-open after the cooldown → closed on one success."""

    def __init__(self, failure_threshold: int = 5, cooldown_s: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.failure_threshold = max(1, failure_threshold)
        self.cooldown_s = cooldown_s
        self._clock = clock
        self._state = "closed"
        self._failures = 0
        self._opened_at = 0.0
        self._trial_in_flight = False
        self.opened_total = 0
        self._lock = threading.Lock()

    @property
    def state(self) -> str:
        """'closed', 'open' or 'half-open' (an open breaker whose cooldown passed reads as half-open)."""
        with self._lock:
            if self._state == "open" and self._clock() - self._opened_at >= self.cooldown_s:
                return "half-open"
            return self._state

    def allow(self) -> bool:
        """May a call go to the cloud now? In half-open, only one trial at a time."""
        with self._lock:
            if self._state == "closed":
                return True
            if self._state == "open":
                if self._clock() - self._opened_at < self.cooldown_s:
                    return False
                self._state = "half-open"
                self._trial_in_flight = False
            if self._trial_in_flight:
                return False
            self._trial_in_flight = True
            return True

    def record_success(self) -> None:
        with self._lock:
            self._state = "closed"
            self._failures = 0
            self._trial_in_flight = False

    def record_failure(self) -> None:
        with self._lock:
            self._failures += 1
            self._trial_in_flight = False
            if self._state == "half-open" or self._failures >= self.failure_threshold:
                if self._state != "open":
                    self.opened_total += 1
                self._state = "open"
                self._opened_at = self._clock()

    def retry_in(self) -> float:
        """Seconds until the next trial is allowed (0 when closed)."""
        with self._lock:
            if self._state != "open":
                return 0.0
            return max(0.0, self.cooldown_s - (self._clock() - self._opened_at))
