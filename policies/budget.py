"""Time and memory budgets that every long step of the room honours cooperatively.

Why a context-scoped deadline instead of a parameter on every function: a budget must reach the inner loops
(building the Z3 universe statement by statement, encoding conditions, the concrete screen, localization,
the repair search, each solver call) without threading an argument through every helper. `budget(...)`
opens a scope; `checkpoint(stage)` in a loop raises `BudgetExceeded` once the deadline (or the memory cap)
is passed; `solver_timeout_ms(cap)` gives each Z3 call at most what is left. Outside a scope nothing is
limited and `checkpoint` costs one context-variable read.

The step that was running when the budget ran out is named in the exception, so callers can say what was
and was not proven.
"""

from __future__ import annotations

import contextlib
import contextvars
import resource
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

# The share of the budget kept back for reporting: the search stops at 90% so that the answer (and a
# best-effort result) still comes within 10% of the budget.
RESERVE = 0.1


class BudgetExceeded(Exception):
    """The time or memory budget ran out while `stage` was running."""

    def __init__(self, stage: str, reason: str = "time") -> None:
        self.stage = stage
        self.reason = reason
        super().__init__(f"the {reason} budget ran out during {stage}")


@dataclass
class Budget:
    """A deadline (monotonic seconds) and an optional cap on the process's peak resident memory."""

    seconds: float
    memory_mb: int | None = None
    start: float = field(default_factory=time.monotonic)
    stage: str = "start"
    exhausted: bool = False        # set once a checkpoint found the budget spent
    _ticks: int = 0

    @property
    def deadline(self) -> float:
        return self.start + self.seconds * (1 - RESERVE)

    def left(self) -> float:
        return self.deadline - time.monotonic()

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def check(self, stage: str) -> None:
        self.stage = stage
        if time.monotonic() > self.deadline:
            self.exhausted = True
            raise BudgetExceeded(stage)
        self._ticks += 1
        if self.memory_mb is not None and self._ticks % 64 == 0 and peak_rss_mb() > self.memory_mb:
            self.exhausted = True
            raise BudgetExceeded(stage, "memory")


_CURRENT: contextvars.ContextVar[Budget | None] = contextvars.ContextVar("policies_budget", default=None)


@contextlib.contextmanager
def budget(seconds: float | None, memory_mb: int | None = None) -> Iterator[Budget | None]:
    """Run the block under a budget (None: unlimited). Nested scopes keep the tighter deadline."""
    if seconds is None:
        yield _CURRENT.get()
        return
    outer = _CURRENT.get()
    b = Budget(seconds, memory_mb)
    if outer is not None and outer.deadline < b.deadline:
        b = outer
    capped = memory_mb is not None and b is not outer
    if capped:   # Z3's own allocations are capped too (it answers unknown beyond the cap)
        import z3

        z3.set_param("memory_max_size", int(memory_mb))
    token = _CURRENT.set(b)
    try:
        yield b
    finally:
        _CURRENT.reset(token)
        if capped:   # the Z3 setting is process-wide: give back the outer scope's (0: unlimited)
            import z3

            z3.set_param("memory_max_size", int(outer.memory_mb) if outer and outer.memory_mb else 0)


def current() -> Budget | None:
    return _CURRENT.get()


def checkpoint(stage: str) -> None:
    """Raise `BudgetExceeded` if the current budget (if any) is spent."""
    b = _CURRENT.get()
    if b is not None:
        b.check(stage)


def solver_timeout_ms(cap_ms: int) -> int:
    """The Z3 timeout for one call: `cap_ms`, or less when the budget has less left (at least 1 ms, so that
    Z3 answers `unknown` rather than running unbounded)."""
    b = _CURRENT.get()
    if b is None:
        return cap_ms
    return max(1, min(cap_ms, int(b.left() * 1000)))


def peak_rss_mb() -> float:
    """Peak resident memory of this process in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
