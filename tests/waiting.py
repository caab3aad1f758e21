"""Waiting for the sandbox to converge: poll a condition, fail with what was awaited."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def until(fn: Callable[[], Any], timeout: float = 40.0, what: str = "condition") -> Any:
    """The first truthy value of `fn()` within `timeout` seconds of wall time."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(0.2)
    raise AssertionError(f"{what} not met within {timeout}s (last: {last!r})")
