"""The approval dialog: the one place in the TUI where a change to the world is allowed or refused.

Why a modal screen: while a change waits, nothing else should be typed into the conversation; the person sees
the action, why it is proposed and the server-side dry-run diff, and answers with one key. Escape rejects, so
the safe choice is also the easiest one.
"""

from __future__ import annotations

from typing import Any

from rich.syntax import Syntax
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static

APPROVE, REJECT = "approve", "reject"


class ApprovalScreen(ModalScreen[str]):
    """Shows one pending approval; dismisses with "approve" or "reject"."""

    DEFAULT_CSS = """
    ApprovalScreen { align: center middle; }
    ApprovalScreen > #dialog {
        width: 90%; max-width: 84; height: auto; max-height: 90%;
        border: thick $warning; background: $surface; padding: 0 1;
    }
    ApprovalScreen #title { text-style: bold; color: $warning; }
    ApprovalScreen #diff { height: auto; max-height: 12; border: round $panel; }
    ApprovalScreen #buttons { height: auto; align-horizontal: right; margin-top: 1; }
    ApprovalScreen Button { margin: 0 0 0 2; }
    """
    BINDINGS = [
        Binding("a,y", "decide('approve')", "Approve"),
        Binding("r,n", "decide('reject')", "Reject"),
        Binding("escape", "decide('reject')", "Reject", show=False),
    ]

    def __init__(self, approval: dict[str, Any]) -> None:
        super().__init__()
        self.approval = approval

    def compose(self) -> ComposeResult:
        a = self.approval
        with Vertical(id="dialog"):
            yield Static(Text(f"Approval needed: {a.get('action', '?')}"), id="title")
            if a.get("why"):
                yield Static(Text(f"Why: {a['why']}"), id="why")
            if a.get("dry_run_error"):
                yield Static(Text(f"The server's dry run refused it: {a['dry_run_error']}", style="bold red"),
                             id="dry-run-error")
            with VerticalScroll(id="diff"):
                diff = a.get("diff") or "(no diff: the dry run returned nothing to compare)"
                yield Static(Syntax(diff, "diff", theme="ansi_dark", word_wrap=True, background_color="default"))
            with Horizontal(id="buttons"):
                yield Button(Text("Approve (a/y)"), id="approve", variant="success", compact=True)
                yield Button(Text("Reject (r/n/esc)"), id="reject", variant="error", compact=True)

    def on_mount(self) -> None:
        self.query_one("#reject", Button).focus()

    def action_decide(self, decision: str) -> None:
        self.dismiss(APPROVE if decision == APPROVE else REJECT)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_decide(event.button.id or REJECT)
