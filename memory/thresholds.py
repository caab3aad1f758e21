"""Load-adaptive similarity thresholds.

Why: while the cloud tier is slow or failing, a near-miss from the cache is worth more than a slow or degraded
answer, so thresholds loosen in proportion to the pressure the gateway reports — but never below the
operator's floor, and a single request may only tighten its own threshold, never loosen it.
"""

from __future__ import annotations

import threading

from memory.config import CategoryPolicy


class AdaptiveThresholds:
    """Turns a category's base threshold and the current pressure (0 calm … 1 cloud down) into the one used."""

    def __init__(self, floor: float, max_loosen: float) -> None:
        self.floor = floor
        self.max_loosen = max(0.0, max_loosen)
        self._pressure = 0.0
        self._lock = threading.Lock()

    @property
    def pressure(self) -> float:
        """The pressure last reported by the gateway."""
        return self._pressure

    def set_pressure(self, pressure: float) -> None:
        """Report how strained the expensive tier is: 0 healthy, 1 unusable (breaker open)."""
        with self._lock:
            self._pressure = min(1.0, max(0.0, float(pressure)))

    def effective(self, policy: CategoryPolicy, request_min: float | None = None) -> float:
        """The threshold a semantic hit in `policy`'s category needs right now."""
        base = policy.threshold
        loosened = base - self.max_loosen * self._pressure
        threshold = max(loosened, min(base, self.floor))
        if request_min is not None:
            threshold = max(threshold, request_min)  # a request may tighten, never loosen
        return threshold
