"""`KubeError`: a Kubernetes call (or an approved action) that failed, with the API's own message.

Why its own module: the client, the mutations and the action table all raise it, and the mutations must not
import the client that imports them (one import direction, no cycle).
"""

from __future__ import annotations


class KubeError(Exception):
    """A Kubernetes call that failed, with the API's own message (never a traceback for the person)."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message
