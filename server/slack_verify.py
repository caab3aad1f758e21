"""Slack request signing: is this request from Slack, fresh, and seen for the first time?

Why here and first: every Slack route runs this before it parses a byte of the body, so a forged, stale or
replayed request is answered 401 and nothing behind it (no turn, no approval, no post) ever starts.

Slack signs `v0:{X-Slack-Request-Timestamp}:{raw body}` with HMAC-SHA256 under the app's signing secret and sends
`X-Slack-Signature: v0=<hex>`. We accept a timestamp within five minutes of our clock (either way), compare in
constant time, and remember every accepted signature until it could no longer pass the time window, so the same
signed request cannot be played twice.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass

WINDOW_S = 5 * 60


@dataclass(frozen=True)
class Verdict:
    """The outcome of a check: `ok`, or why not (`reason` is safe to show the caller)."""

    ok: bool
    reason: str = ""
    replayed: bool = False


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The `X-Slack-Signature` value Slack would send for this body (used by our own tests and tools too)."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


class SignatureVerifier:
    """Checks signatures; `remember(signature) -> bool` (True when new) is the replay memory, shared by all routes
    and kept outside this class (a small SQLite table) so a restart does not forget what it accepted."""

    def __init__(self, secret: str, remember: Callable[[str, float], bool],
                 clock: Callable[[], float] = time.time) -> None:
        self._secret = secret
        self._remember = remember
        self._clock = clock

    def check(self, timestamp: str | None, signature: str | None, body: bytes) -> Verdict:
        if not self._secret:
            return Verdict(False, "Slack is not configured on this server (KUBESAGE_SLACK_SIGNING_SECRET is unset)")
        if not timestamp or not signature:
            return Verdict(False, "missing X-Slack-Request-Timestamp or X-Slack-Signature")
        try:
            ts = int(timestamp)
        except ValueError:
            return Verdict(False, "X-Slack-Request-Timestamp is not a Unix time")
        if abs(self._clock() - ts) > WINDOW_S:
            return Verdict(False, "stale request: timestamp is more than 5 minutes from the server's clock")
        if not hmac.compare_digest(sign(self._secret, timestamp, body), signature):
            return Verdict(False, "invalid signature")
        if not self._remember(signature, ts):
            return Verdict(False, "replayed request: this signature was already used", replayed=True)
        return Verdict(True)
