"""The kubesage chat app (Textual): a conversation, a side panel with the evidence trail, and approval dialogs.

Why threads and callbacks: the supervisor works synchronously (LangGraph, the Kubernetes client), so each turn
runs in a thread worker that hands every event to the UI with `call_from_thread`; the UI never blocks and never
touches the cluster itself. The app takes a Runtime (or any supervisor-like object), so tests drive it against a
real sandbox and the CLI against whatever cluster the kubeconfig names.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

from rich.text import Text
from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Footer, Header, Input, Static

from tools.k8s.client import Principal
from tui.approval import ApprovalScreen
from tui.format import error_text, kube_contexts, llm_snapshot, llm_usage
from tui.panel import SidePanel
from tui.pickers import NEW_THREAD, ContextScreen, NamespaceScreen, ThreadsScreen


def new_thread_id() -> str:
    return uuid.uuid4().hex[:12]


class ChatMessage(Static):
    """One line of the conversation; `role` is user, bot, note or error."""

    def __init__(self, role: str, text: str) -> None:
        super().__init__(Text(text), classes=role)
        self.role = role
        self.text = text

    def set_text(self, text: str) -> None:
        self.text = text
        self.update(Text(text))


class KubesageApp(App[None]):
    """`kubesage chat`. Pass a Runtime, or `supervisor=` an object with stream/stream_resume/threads/history/
    pending_approval (agents.supervisor.Supervisor's interface)."""

    TITLE = "kubesage"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    CSS = """
    #main { height: 1fr; }
    #chat { width: 1fr; }
    #conversation { height: 1fr; padding: 0 1; }
    #conversation > ChatMessage { margin-top: 1; }
    #conversation > .user { color: $accent; text-style: bold; }
    #conversation > .note { color: $text-muted; }
    #conversation > .error { color: $error; text-style: bold; }
    Screen.-narrow SidePanel { width: 30; }
    SidePanel.-hidden { display: none; }
    """
    BINDINGS = [
        Binding("ctrl+t", "threads", "Threads", priority=True),
        Binding("ctrl+n", "namespace", "Namespace", priority=True),
        Binding("ctrl+k", "context", "Context", priority=True),
        Binding("ctrl+b", "toggle_panel", "Panel", priority=True),
    ]

    def __init__(self, runtime: Any = None, *, supervisor: Any = None, principal: Principal | None = None,
                 namespace: str | None = None, thread_id: str | None = None) -> None:
        super().__init__()
        if runtime is None and supervisor is None:
            raise ValueError("KubesageApp needs a Runtime or a supervisor")
        self.runtime = runtime
        self._sup = supervisor
        self.principal = principal or Principal()
        self.namespace = namespace or (runtime.default_namespace() if hasattr(runtime, "default_namespace") else None)
        self.thread_id = thread_id or new_thread_id()
        self._open_on_mount = thread_id is not None
        self.busy = False
        self.pending: dict[str, Any] | None = None
        self._bot: ChatMessage | None = None
        self._streamed = False
        self._agent_answers: list[str] = []

    # -- layout --------------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="main"):
            with Vertical(id="chat"):
                yield VerticalScroll(id="conversation")
                yield Input(placeholder="Ask about your cluster (enter to send)", id="prompt")
            yield SidePanel(id="side")
        yield Footer()

    def on_mount(self) -> None:
        self._update_subtitle()
        self.query_one("#prompt", Input).focus()
        self.say("note", "Ask about your cluster, e.g. \"why is checkout crashing in shop?\". "
                 "ctrl+t threads · ctrl+n namespace · ctrl+k context · ctrl+b side panel · ctrl+q quit")
        if self._open_on_mount:
            self.busy = True
            self._open_thread(self.thread_id)

    @property
    def panel(self) -> SidePanel:
        return self.query_one(SidePanel)

    def context_name(self) -> str | None:
        explicit = getattr(self.runtime, "context", None)
        return explicit or kube_contexts(getattr(self.runtime, "kubeconfig", None))[1]

    def _update_subtitle(self) -> None:
        user = self.principal.user or "kubeconfig user"
        self.sub_title = (f"thread {self.thread_id} · context {self.context_name() or '-'} · "
                          f"ns {self.namespace or '(default)'} · as {user}")

    # -- the conversation ----------------------------------------------------------------------------
    def say(self, role: str, text: str) -> ChatMessage:
        msg = ChatMessage(role, text)
        conv = self.query_one("#conversation", VerticalScroll)
        conv.mount(msg)
        conv.scroll_end(animate=False)
        return msg

    def transcript(self) -> list[tuple[str, str]]:
        """(role, text) for every message shown, oldest first."""
        return [(m.role, m.text) for m in self.query_one("#conversation").query(ChatMessage)]

    def on_input_submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text:
            return
        if self.busy:
            self.notify("Still working on the last question.", severity="warning")
            return
        event.input.value = ""
        self.say("user", text)
        self.panel.new_turn()
        self._begin()
        ns, principal, tid = self.namespace, self.principal, self.thread_id
        self._run(lambda sup: sup.stream(text, principal, tid, ns))

    def _begin(self) -> None:
        self.busy = True
        self.pending = None
        self._streamed = False
        self._agent_answers = []
        self._bot = self.say("bot", "…")

    # -- driving the supervisor in a thread ----------------------------------------------------------
    def supervisor(self) -> Any:
        """The supervisor (built on first use: LangGraph is slow to import, so never on the UI thread)."""
        if self._sup is None:
            self._sup = self.runtime.supervisor
        return self._sup

    def _llm(self) -> Any:
        return getattr(self.runtime, "llm", None) or getattr(self._sup, "llm", None)

    @work(thread=True, exclusive=True, group="turn")
    def _run(self, events: Callable[[Any], Iterator[dict[str, Any]]]) -> None:
        usage, error = None, None
        try:
            sup = self.supervisor()
            before = llm_snapshot(self._llm())
            for ev in events(sup):
                self.call_from_thread(self._on_event, ev)
            usage = llm_usage(before, llm_snapshot(self._llm()))
        except Exception as e:  # noqa: BLE001 - any failure becomes a message in the conversation
            error = error_text(e)
        self.call_from_thread(self._turn_done, usage, error)

    def _on_event(self, ev: dict[str, Any]) -> None:
        kind = ev.get("type")
        if kind == "route":
            self.panel.show_route(ev)
        elif kind == "tool_call":
            self.panel.add_call(ev)
        elif kind == "outcome":
            self.panel.add_outcome(ev)
        elif kind == "approval_required":
            self.pending = ev
        elif kind == "token" and self._bot is not None:
            self._bot.set_text((self._bot.text if self._streamed else "") + ev.get("text", ""))
            self._streamed = True
            self.query_one("#conversation", VerticalScroll).scroll_end(animate=False)
        elif kind == "agent" and ev.get("answer"):
            self._agent_answers.append(ev["answer"])
        elif kind == "answer" and self._bot is not None and not self._streamed:
            self._bot.set_text(self._unstreamed_answer(ev))

    def _unstreamed_answer(self, ev: dict[str, Any]) -> str:
        """The text for a turn that paused for an approval (no tokens come then): this turn's agent answers.
        The event's own `answer` is not used while an approval waits, as it can be an earlier turn's."""
        if not self.pending:
            return ev.get("answer") or "(no answer)"
        if self._agent_answers:
            return "\n".join(self._agent_answers)
        return f"Next proposed change: {self.pending.get('action', '?')} (waiting for your approval)."

    def _turn_done(self, usage: str | None, error: str | None) -> None:
        self.busy = False
        if usage is not None:
            self.panel.show_llm(usage)
        if error:
            if self._bot is not None and not self._streamed:
                self._bot.remove()
            self.say("error", error)
        self._bot = None
        if self.pending and not error:
            self.ask_approval(self.pending)

    def ask_approval(self, approval: dict[str, Any]) -> None:
        self.push_screen(ApprovalScreen(approval), self._decided)

    def _decided(self, decision: str | None) -> None:
        decision = decision or "reject"
        action = (self.pending or {}).get("action", "the change")
        self.say("note", f"You {'approved' if decision == 'approve' else 'rejected'}: {action}")
        self._begin()
        tid = self.thread_id
        self._run(lambda sup: sup.stream_resume(tid, decision))

    # -- threads -------------------------------------------------------------------------------------
    def _refuse_if_busy(self) -> bool:
        if self.busy:
            self.notify("Wait for the current answer first.", severity="warning")
        return self.busy

    def action_threads(self) -> None:
        if not self._refuse_if_busy():
            self._list_threads()

    @work(thread=True, exclusive=True, group="threads")
    def _list_threads(self) -> None:
        try:
            threads = self.supervisor().threads()
        except Exception as e:  # noqa: BLE001
            self.call_from_thread(self.say, "error", error_text(e))
            return
        self.call_from_thread(self.push_screen, ThreadsScreen(threads, self.thread_id), self._thread_picked)

    def _thread_picked(self, thread_id: str | None) -> None:
        if not thread_id or thread_id == self.thread_id:
            return
        self._clear_conversation()
        self.panel.new_turn()
        if thread_id == NEW_THREAD:
            self.thread_id = new_thread_id()
            self._update_subtitle()
            self.say("note", f"New thread {self.thread_id}.")
            return
        self.thread_id = thread_id
        self._update_subtitle()
        self.busy = True
        self._open_thread(thread_id)

    @work(thread=True, exclusive=True, group="threads")
    def _open_thread(self, thread_id: str) -> None:
        try:
            sup = self.supervisor()
            history = sup.history(thread_id)
            pending = sup.pending_approval(thread_id)
            waiting_text = next((t.get("text") for t in sup.threads() if t["thread_id"] == thread_id), None) \
                if pending else None
        except Exception as e:  # noqa: BLE001
            self.call_from_thread(self._thread_loaded, [], None, None, error_text(e))
            return
        self.call_from_thread(self._thread_loaded, history, pending, waiting_text, None)

    def _thread_loaded(self, history: list[dict[str, Any]], pending: dict[str, Any] | None,
                       waiting_text: str | None, error: str | None) -> None:
        self.busy = False
        if error:
            self.say("error", error)
            return
        self.say("note", f"Thread {self.thread_id}: {len(history)} earlier turn(s).")
        for turn in history:
            self.say("user", turn.get("text") or "")
            self.say("bot", turn.get("answer") or "")
        if history and history[-1].get("route"):
            self.panel.show_route(history[-1]["route"])
        if pending:
            if waiting_text:
                self.say("user", waiting_text)
            self.say("note", "This thread is waiting for your approval.")
            self.pending = pending
            self.ask_approval(pending)

    def _clear_conversation(self) -> None:
        self.query_one("#conversation", VerticalScroll).remove_children()

    # -- namespace and context -----------------------------------------------------------------------
    def action_namespace(self) -> None:
        if not self._refuse_if_busy():
            self.push_screen(NamespaceScreen(self.namespace), self._namespace_set)

    def _namespace_set(self, namespace: str | None) -> None:
        if namespace is None:
            return
        self.namespace = namespace or None
        self._update_subtitle()
        self.say("note", f"Namespace: {self.namespace or '(the context default)'}")

    def action_context(self) -> None:
        if self._refuse_if_busy():
            return
        contexts, current = kube_contexts(getattr(self.runtime, "kubeconfig", None))
        if not contexts:
            self.say("note", "No kubeconfig contexts to switch between.")
            return
        self.push_screen(ContextScreen(contexts, self.context_name() or current), self._context_set)

    def _context_set(self, context: str | None) -> None:
        if not context or self.runtime is None:
            return
        self.runtime.context = context  # Runtime.kube reads it on every connection the supervisor makes
        self._update_subtitle()
        self.say("note", f"Context: {context}")

    def action_toggle_panel(self) -> None:
        self.panel.toggle_class("-hidden")
