"""Small modal pickers: the thread list, the namespace input and the kubeconfig context list.

Why modal: each asks one question and returns one answer (or None on escape), so the app's flow stays a chain of
callbacks rather than a state machine.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

NEW_THREAD = "__new__"

_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{
    width: 90%; max-width: 90; height: auto; max-height: 80%;
    border: thick $accent; background: $surface; padding: 0 1;
}}
{name} .title {{ text-style: bold; }}
{name} OptionList {{ height: auto; max-height: 16; }}
"""


class _Picker(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def action_cancel(self) -> None:
        self.dismiss(None)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)


class ThreadsScreen(_Picker):
    """The supervisor's threads, newest first; returns a thread id, NEW_THREAD, or None."""

    DEFAULT_CSS = _CSS.format(name="ThreadsScreen")

    def __init__(self, threads: list[dict[str, Any]], current: str | None = None) -> None:
        super().__init__()
        self.threads = threads
        self.current = current

    def compose(self) -> ComposeResult:
        options = [Option(Text("+ new thread"), id=NEW_THREAD)]
        for t in self.threads:
            mark = "⏸ waiting for approval · " if t.get("waiting") else ""
            here = " (current)" if t["thread_id"] == self.current else ""
            options.append(Option(Text(f"{mark}{t.get('text') or '(no text)'} · {t['thread_id']}{here}"),
                                  id=t["thread_id"]))
        with Vertical():
            yield Static(f"Threads ({len(self.threads)}): enter to open, escape to close", classes="title")
            yield OptionList(*options, id="threads")


class ContextScreen(_Picker):
    """The kubeconfig's contexts; returns a context name or None."""

    DEFAULT_CSS = _CSS.format(name="ContextScreen")

    def __init__(self, contexts: list[str], current: str | None) -> None:
        super().__init__()
        self.contexts = contexts
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Kubernetes context: enter to switch, escape to keep", classes="title")
            yield OptionList(*[Option(Text(c + ("  (current)" if c == self.current else "")), id=c)
                               for c in self.contexts], id="contexts")


class NamespaceScreen(ModalScreen[str | None]):
    """Asks for a namespace; returns it, "" for the kubeconfig's default, or None on escape."""

    DEFAULT_CSS = _CSS.format(name="NamespaceScreen")
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, current: str | None) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Namespace (empty: the context's default): enter to set, escape to keep", classes="title")
            yield Input(value=self.current or "", placeholder="e.g. shop", id="namespace")

    def action_cancel(self) -> None:
        self.dismiss(None)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value.strip())
