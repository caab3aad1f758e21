"""The supervisor graph: route → domain agents → one approval per proposed change → answer.

Why this shape: every mutation passes through `approve`, which pauses the graph with `interrupt()` carrying the
server-side dry-run diff, so nothing changes without the person's yes; the checkpointer makes that pause
survive a crash; the wiring fits on one screen.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, interrupt

from agents import metrics, rbac, scaling
from agents.audit import AuditLog
from agents.context import build_context
from agents.state import AgentResult, TurnState
from tools.k8s.client import Kube, KubeError, Mutation, Principal
from tools.serving import load_adapter  # noqa: F401 - registers the serving tools' approved actions
from tools.toolsmith.actions import run_registered  # noqa: F401 - and the toolsmith's (tools/k8s/actions.py)

AgentFn = Callable[[Any], AgentResult]


def _lazy(name: str) -> AgentFn:
    """Import a domain agent on first use: some pull heavy libraries (the diagnosis miner, the tool catalog)."""

    def run(ctx: Any) -> AgentResult:
        return importlib.import_module(f"agents.{name}").run(ctx)

    run.__name__ = f"{name}_agent"
    return run


def discover_agents() -> dict[str, AgentFn]:
    """Every label the router knows that has a module `agents/<label>.py` with a `run(ctx)`: adding a domain agent
    is adding its module."""
    from agents.router import LABELS

    found: dict[str, AgentFn] = {"metrics": metrics.run, "rbac": rbac.run, "scaling": scaling.run}
    for label in LABELS:
        if label not in found and importlib.util.find_spec(f"agents.{label}") is not None:
            found[label] = _lazy(label)
    return found


AGENTS: dict[str, AgentFn] = discover_agents()
FALLBACK = "logs"
# Agents whose objects a pronoun in the next turn refers to (the model server just deployed; the tool just made).
FOLLOW_UP = ("serving", "toolsmith")
# Checkpoints are written when a turn ends or pauses for an approval (the states worth resuming); writing one
# after every node costs more than the rest of the framework together.
DURABILITY = "exit"


@dataclass
class Supervisor:
    """Holds what the graph's nodes need; `graph` is the compiled LangGraph."""

    kube_for: Callable[[Principal], Kube]
    router: Any
    audit: AuditLog
    checkpointer: Any
    llm: Any = None
    default_namespace: str | None = None
    read_only: bool = False
    verify_stable_s: float | None = None  # overrides how long a verified fix must stay healthy (tests, evals)
    agents: dict[str, AgentFn] = field(default_factory=lambda: dict(AGENTS))

    def __post_init__(self) -> None:
        g = StateGraph(TurnState)
        g.add_node("route", self._route)
        g.add_node("work", self._work)
        g.add_node("approve", self._approve)
        g.add_node("respond", self._respond)
        g.add_edge(START, "route")
        g.add_edge("route", "work")
        g.add_conditional_edges("work", self._next_after_work, {"approve": "approve", "respond": "respond"})
        g.add_conditional_edges("approve", self._next_after_work, {"approve": "approve", "respond": "respond"})
        g.add_edge("respond", END)
        self.graph = g.compile(checkpointer=self.checkpointer)

    # -- nodes -------------------------------------------------------------------------------------
    def _principal(self, state: TurnState) -> Principal:
        p = state.get("principal") or {}
        return Principal(p.get("user"), tuple(p.get("groups") or ()))

    def _route(self, state: TurnState) -> dict[str, Any]:
        r = self.router.route(state["text"])
        agents = [a for a in r.agents if a in self.agents] or [FALLBACK]
        prev = ((state.get("history") or [{}])[-1].get("route") or {}).get("agents") or []
        if len(prev) == 1 and prev[0] in FOLLOW_UP and len(agents) == 1 and agents != prev and \
                re.search(r"\b(it|its|them|their)\b", state["text"].lower()):
            # "scale it to 3" right after "deploy the small model": "it" is what the previous turn was about
            return {"route": {"agents": prev, "unsupported": [], "confidence": r.confidence, "margin": r.margin,
                              "method": "follow-up", "parts": [(state["text"], prev[0])]}}
        unsupported = [a for a in r.agents if a not in self.agents]
        return {"route": {"agents": agents, "unsupported": unsupported, "confidence": r.confidence,
                          "margin": r.margin, "method": r.method, "parts": r.parts}}

    def _work(self, state: TurnState) -> dict[str, Any]:
        principal = self._principal(state)
        kube = self.kube_for(principal)
        results, pending = [], []
        parts = dict((agent, text) for text, agent in state["route"].get("parts") or [])
        for agent in state["route"]["agents"]:
            text = parts.get(agent, state["text"])
            first_call = len(kube.calls)
            ctx = build_context(kube, text, state.get("namespace") or self.default_namespace, self.llm)
            context_calls = len(kube.calls)
            try:
                res = self.agents[agent](ctx)
            except KubeError as e:
                res = AgentResult(agent, f"I could not finish: {e.message}", [e.message])
            self.audit.record(principal.label, f"agent:{agent}", {"text": text, "namespace": ctx.namespace},
                              "ok" if not res.answer.startswith("I could not") else "error")
            first_pending = len(pending)
            new_ns = {m.name for m in res.mutations if m.verb == "create" and m.kind == "Namespace"}
            for m in res.mutations:
                if self.read_only:
                    res.answer += f"\n(read-only mode: not proposing to {m.describe()})"
                    continue
                if m.verb == "action":  # not a Kubernetes write: its handler checks rights when it runs
                    pending.append(kube.preview(m).to_dict())
                    continue
                allowed, _ = kube.can_i("patch" if m.verb in ("scale", "patch") else m.verb, m.kind, m.namespace or None,
                                        None if m.verb == "create" else m.name,
                                        subresource="scale" if m.verb == "scale" else "")
                if not allowed:
                    res.answer += (f"\nYou ({principal.label}) are not allowed to {m.verb} {m.kind.lower()} "
                                   f"{m.namespace}/{m.name}, so I am not proposing it.")
                    self.audit.record(principal.label, "propose", m.to_dict(), "refused: no rights")
                    continue
                pending.append(kube.preview(m, new_ns).to_dict())
            _undo_together(pending[first_pending:])
            results.append({"agent": res.agent or agent, "answer": res.answer, "evidence": res.evidence,
                            "calls": kube.calls[context_calls:], "context_calls": context_calls - first_call,
                            "data": res.data})
        return {"results": results, "pending": pending, "outcomes": []}

    def _next_after_work(self, state: TurnState) -> str:
        return "approve" if state.get("pending") else "respond"

    def _approve(self, state: TurnState) -> dict[str, Any]:
        pending = list(state["pending"])
        m = Mutation.from_dict(pending[0])
        approval_id = uuid.uuid5(uuid.NAMESPACE_URL, f"{state['text']}/{m.describe()}/{len(state.get('outcomes') or [])}").hex[:12]
        decision = interrupt({"type": "approval", "id": approval_id, "action": m.describe(), "why": m.why,
                              "diff": m.diff, "dry_run_error": m.dry_run_error})
        principal = self._principal(state)
        approved = decision is True or (isinstance(decision, str) and decision.lower() in ("approve", "yes", "y")) or \
            (isinstance(decision, dict) and decision.get("approve"))
        if not approved:
            outcome = {"action": m.describe(), "status": "rejected", "approval_id": approval_id}
        elif m.dry_run_error:
            outcome = {"action": m.describe(), "status": "failed", "error": m.dry_run_error, "approval_id": approval_id}
        else:
            kube = self.kube_for(principal)
            try:
                kube.execute(m)
                outcome = {"action": m.describe(), "status": "applied", "approval_id": approval_id}
            except KubeError as e:
                outcome = {"action": m.describe(), "status": "failed", "error": e.message, "approval_id": approval_id}
            if outcome["status"] == "applied" and m.verify:
                outcome.update(self._verify(kube, m, principal.label))
        self.audit.record(principal.label, m.verb, m.to_dict(), outcome["status"], approval_id)
        return {"pending": pending[1:], "outcomes": (state.get("outcomes") or []) + [outcome]}

    def _verify(self, kube: Kube, m: Mutation, who: str) -> dict[str, Any]:
        """Wait for the object the change should heal; undo the change when it did not hold."""
        from tools.k8s.health import wait_healthy

        v = m.verify or {}
        ok, detail = wait_healthy(kube, v["kind"], v.get("namespace", m.namespace), v["name"],
                                  float(v.get("timeout_s", 60)),
                                  self.verify_stable_s if self.verify_stable_s is not None else float(v.get("stable_s", 5)))
        if ok:
            return {"verified": True, "health": detail}
        out: dict[str, Any] = {"verified": False, "health": detail, "rolled_back": False}
        if v.get("undo") is False:
            return out
        for undo in ([m.rollback] if m.rollback else []) + list(v.get("also_undo") or []):
            try:
                kube.execute(Mutation.from_dict(undo))
                out["rolled_back"] = True
            except KubeError as e:
                out["rollback_error"] = e.message
        self.audit.record(who, "rollback", m.to_dict(), "rolled back" if out["rolled_back"] else "not rolled back")
        return out

    def _respond(self, state: TurnState) -> dict[str, Any]:
        parts = [r["answer"] for r in state.get("results") or []]
        unsupported = (state.get("route") or {}).get("unsupported") or []
        if unsupported:
            parts.append(f"(The {', '.join(unsupported)} agent is not available yet.)")
        for o in state.get("outcomes") or []:
            if o["status"] == "applied" and o.get("verified") is False:
                undone = ("rolled back" if o.get("rolled_back") else
                          "NOT rolled back: " + o["rollback_error"] if o.get("rollback_error") else "left in place")
                parts.append(f"Applied {o['action']} (approved), but it did not fix the problem ({o.get('health')}); "
                             f"{undone}.")
            elif o["status"] == "applied":
                health = f"; verified healthy: {o['health']}" if o.get("verified") else ""
                parts.append(f"Done: {o['action']} (approved){health}.")
            elif o["status"] == "rejected":
                parts.append(f"Not done: {o['action']} was rejected; nothing changed.")
            else:
                parts.append(f"Failed: {o['action']}: {o.get('error')}")
        answer = "\n".join(parts)
        turn = {"text": state.get("text"), "answer": answer, "route": state.get("route"),
                "outcomes": state.get("outcomes") or [], "principal": state.get("principal")}
        return {"answer": answer, "history": [turn]}

    # -- driving a turn ----------------------------------------------------------------------------
    def start(self, text: str, principal: Principal, thread_id: str, namespace: str | None = None) -> dict[str, Any]:
        cfg = {"configurable": {"thread_id": thread_id}}
        state = {"text": text, "principal": {"user": principal.user, "groups": list(principal.groups)},
                 "namespace": namespace, "answer": None}
        return self._result(self.graph.invoke(state, cfg, durability=DURABILITY), cfg)

    def resume(self, thread_id: str, decision: Any) -> dict[str, Any]:
        cfg = {"configurable": {"thread_id": thread_id}}
        return self._result(self.graph.invoke(Command(resume=decision), cfg, durability=DURABILITY), cfg)

    def stream(self, text: str, principal: Principal, thread_id: str,
               namespace: str | None = None) -> Iterator[dict[str, Any]]:
        """The same turn as `start`, as events for streaming interfaces (SSE, the TUI): `route`, one `tool_call`
        per Kubernetes call an agent made, `agent` per agent answer, `approval_required` or `token`s and a final
        `answer` carrying what `start` returns."""
        state = {"text": text, "principal": {"user": principal.user, "groups": list(principal.groups)},
                 "namespace": namespace, "answer": None}
        yield from self._events(state, thread_id)

    def stream_resume(self, thread_id: str, decision: Any) -> Iterator[dict[str, Any]]:
        yield from self._events(Command(resume=decision), thread_id)

    def _events(self, inp: Any, thread_id: str) -> Iterator[dict[str, Any]]:
        cfg = {"configurable": {"thread_id": thread_id}}
        for update in self.graph.stream(inp, cfg, stream_mode="updates", durability=DURABILITY):
            for node, value in update.items():
                if node == "route" and value:
                    yield {**value["route"], "type": "route"}
                elif node == "work" and value:
                    for r in value.get("results") or []:
                        for c in r.get("calls") or []:
                            yield {**c, "type": "tool_call", "agent": r["agent"]}
                        yield {"type": "agent", "agent": r["agent"], "answer": r["answer"], "evidence": r["evidence"]}
                elif node == "approve" and value:
                    for o in (value.get("outcomes") or [])[-1:]:
                        yield {**o, "type": "outcome"}
        snap = self.graph.get_state(cfg)
        result = self._result(snap.values, cfg)
        result["approval"] = _interrupt_of(snap)
        if result["approval"]:
            yield {**result["approval"], "type": "approval_required"}
        else:
            for chunk in _chunks(result.get("answer") or ""):
                yield {"type": "token", "text": chunk}
        yield {**result, "type": "answer"}

    def history(self, thread_id: str) -> list[dict[str, Any]]:
        """The finished turns of a thread, oldest first (each: text, answer, route, outcomes, principal)."""
        return list(self.graph.get_state({"configurable": {"thread_id": thread_id}}).values.get("history") or [])

    def threads(self, limit: int = 100) -> list[dict[str, Any]]:
        """Threads with a checkpoint, newest first: id, last text, whether one waits for an approval."""
        seen: dict[str, dict[str, Any]] = {}
        for cp in self.checkpointer.list(None):
            tid = cp.config["configurable"]["thread_id"]
            if tid in seen:
                continue
            values = cp.checkpoint.get("channel_values") or {}
            seen[tid] = {"thread_id": tid, "text": values.get("text"), "waiting": bool(cp.pending_writes and any(
                w[1] == "__interrupt__" for w in cp.pending_writes)), "ts": cp.checkpoint.get("ts")}
            if len(seen) >= limit:
                break
        return sorted(seen.values(), key=lambda t: t["ts"] or "", reverse=True)

    def pending_approval(self, thread_id: str) -> dict[str, Any] | None:
        return _interrupt_of(self.graph.get_state({"configurable": {"thread_id": thread_id}}))

    def _result(self, out: dict[str, Any], cfg: dict[str, Any]) -> dict[str, Any]:
        intr = out.get("__interrupt__") if isinstance(out, dict) else None
        answer = out.get("answer")
        if intr and not answer:
            answer = "\n".join(r["answer"] for r in out.get("results") or [])
        return {"answer": answer, "route": out.get("route"), "results": out.get("results"),
                "outcomes": out.get("outcomes"),
                "approval": intr[0].value if intr else None,
                "thread_id": cfg["configurable"]["thread_id"]}


def _interrupt_of(snap: Any) -> dict[str, Any] | None:
    """The approval a checkpointed thread waits on, if any."""
    for task in snap.tasks or ():
        for intr in task.interrupts or ():
            return intr.value
    return None


def _undo_together(group: list[dict[str, Any]]) -> None:
    """A verified change undoes the earlier changes of its own fix too (newest first) when it does not hold: a
    ConfigMap edit and the restart that reads it stand or fall together."""
    start = 0
    for i, p in enumerate(group):
        if p.get("verify"):
            p["verify"]["also_undo"] = [q["rollback"] for q in reversed(group[start:i]) if q.get("rollback")]
            start = i + 1


def _chunks(text: str, size: int = 24) -> Iterator[str]:
    """Word-aligned pieces of the answer (joined, exactly the answer), so interfaces can render it progressively."""
    buf = ""
    for word in re.findall(r"\s*\S+\s*", text) or [text]:
        buf += word
        if len(buf) >= size:
            yield buf
            buf = ""
    if buf:
        yield buf
