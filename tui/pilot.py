"""Driving the chat app headless (Textual's Pilot): type a question, wait until the turn settles.

Why a module of its own: the tests and the screenshot script drive the app the same way, and "settled" has one
definition (no worker running, no turn in progress) rather than sleeps scattered through callers.
"""

from __future__ import annotations

import asyncio
from typing import Any

from textual.widgets import Input


async def settle(app: Any, pilot: Any, timeout: float = 120.0) -> None:
    """Wait until every worker has finished and the UI has processed what they posted."""

    async def wait() -> None:
        while True:
            await app.workers.wait_for_complete()
            await pilot.pause()
            if not app.busy and not any(w.is_running for w in app.workers):
                return

    await asyncio.wait_for(wait(), timeout)


async def ask(app: Any, pilot: Any, text: str, timeout: float = 120.0) -> None:
    """Type `text` into the prompt, send it, and wait for the turn to settle."""
    prompt = app.query_one("#prompt", Input)
    prompt.focus()
    prompt.value = text
    await pilot.press("enter")
    await settle(app, pilot, timeout)
