"""The side panel: how the last turn was answered (route, Kubernetes calls, who served the model calls).

Why beside the conversation: the answer says what is wrong; the panel shows the evidence trail, so the person
can judge the answer without leaving the chat. Each Kubernetes call is a Collapsible: one line by default, its
arguments and status on demand.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Collapsible, Static

from tui.format import NO_LLM, call_detail, call_title, outcome_text, route_text


class SidePanel(VerticalScroll):
    """Route, tool calls and LLM usage of the current turn."""

    DEFAULT_CSS = """
    SidePanel { width: 42%; max-width: 64; border-left: solid $panel; padding: 0 1; }
    SidePanel .heading { text-style: bold; color: $accent; margin-top: 1; }
    SidePanel Collapsible { padding: 0; margin: 0; border-top: none; }
    SidePanel Collapsible > Contents { padding: 0 0 0 2; }
    """

    def compose(self) -> ComposeResult:
        yield Static("Route", classes="heading")
        yield Static(Text("(no turn yet)"), id="route")
        yield Static("Kubernetes calls", classes="heading")
        yield Static(Text("(none)"), id="calls-empty")
        yield Vertical(id="calls")
        yield Static("Outcomes", classes="heading")
        yield Static(Text("(none)"), id="outcomes")
        yield Static("LLM calls", classes="heading")
        yield Static(Text(NO_LLM), id="llm")

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.route = ""
        self.calls: list[str] = []
        self.outcomes: list[str] = []
        self.llm = NO_LLM

    def new_turn(self) -> None:
        """Forget the previous turn's details."""
        self.route, self.calls, self.outcomes = "", [], []
        self.query_one("#route", Static).update(Text("(routing…)"))
        self.query_one("#calls", Vertical).remove_children()
        self.query_one("#calls-empty", Static).display = True
        self.query_one("#outcomes", Static).update(Text("(none)"))

    def show_route(self, ev: dict[str, Any]) -> None:
        self.route = route_text(ev)
        self.query_one("#route", Static).update(Text(self.route))

    def add_call(self, ev: dict[str, Any]) -> None:
        self.calls.append(f"{call_title(ev)}\n{call_detail(ev)}")
        self.query_one("#calls-empty", Static).display = False
        status = ev.get("status") or 0
        box = Collapsible(Static(Text(call_detail(ev))), title=call_title(ev), collapsed=True,
                          classes="call ok" if 200 <= status < 300 else "call failed")
        self.query_one("#calls", Vertical).mount(box)

    def add_outcome(self, ev: dict[str, Any]) -> None:
        self.outcomes.append(outcome_text(ev))
        self.query_one("#outcomes", Static).update(Text("\n".join(self.outcomes)))

    def show_llm(self, text: str) -> None:
        self.llm = text
        self.query_one("#llm", Static).update(Text(text))

    def text(self) -> str:
        """Everything the panel holds, as plain text, collapsed parts included (for tests and copy-paste)."""
        return "\n".join(["Route", self.route, "Kubernetes calls", *self.calls, "Outcomes", *self.outcomes,
                          "LLM calls", self.llm])
