"""The supervisor graph: route → domain agents → one approval per proposed change → answer.

Why this shape: every mutation passes through `approve`, which pauses the graph with `interrupt()` carrying the
server-side dry-run diff, so nothing changes without the person's yes; the checkpointer makes that pause
survive a crash; the wiring fits on one screen.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, interrupt

from agents import metrics, rbac, scaling
from agents.approvals import (
    ApprovalRefused,
    Ledger,
    approved,
    carry_out,
    crash_point,
    hold,
    run_held,
    same_principal,
)
from agents.audit import AuditLog
from agents.context import build_context
from agents.corrections import corrected
from agents.state import AgentResult, TurnState
from memory import tracing
from tools.k8s.client import Kube, KubeError, Mutation, Principal
from tools.k8s.goals import settled_verdicts
from tools.k8s.mutations import unchanged
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
    # Decisions written before the cluster is touched (agents/approvals.py); in memory when none is given (tests).
    ledger: Ledger | None = None
    verify_timeout_s: float | None = None  # caps how long the health wait may take (tests, evals)
    approval_lease_s: float = 20.0  # how long a claim on a decision outlives its owner's last renewal

    def __post_init__(self) -> None:
        self.ledger = self.ledger or Ledger(None)
        self._settling: dict[str, threading.Lock] = {}
        self._settling_guard = threading.Lock()
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
        self.graph = _TracedGraph(g.compile(checkpointer=self.checkpointer))

    # -- nodes -------------------------------------------------------------------------------------
    def _principal(self, state: TurnState) -> Principal:
        p = state.get("principal") or {}
        return Principal(p.get("user"), tuple(p.get("groups") or ()))

    def _route(self, state: TurnState) -> dict[str, Any]:
        # "scale web to 5 and catalog to 0. Actually, skip catalog": the request as corrected is the request
        fixed = corrected(state["text"])
        with tracing.span("route") as s:
            r = self.router.route(fixed or state["text"])
            s.set({"kubesage.route.agents": list(r.agents), "kubesage.route.method": r.method,
                   "kubesage.route.confidence": float(r.confidence), "kubesage.route.margin": float(r.margin)})
        agents = [a for a in r.agents if a in self.agents] or [FALLBACK]
        prev = ((state.get("history") or [{}])[-1].get("route") or {}).get("agents") or []
        if len(prev) == 1 and prev[0] in FOLLOW_UP and len(agents) == 1 and agents != prev and \
                re.search(r"\b(it|its|them|their)\b", state["text"].lower()):
            # "scale it to 3" right after "deploy the small model": "it" is what the previous turn was about
            return {"route": {"agents": prev, "unsupported": [], "confidence": r.confidence, "margin": r.margin,
                              "method": "follow-up", "parts": [(state["text"], prev[0])]}}
        unsupported = [a for a in r.agents if a not in self.agents]
        return {"route": {"agents": agents, "unsupported": unsupported, "confidence": r.confidence,
                          "margin": r.margin, "method": r.method, "parts": r.parts,
                          **({"corrected": fixed} if fixed else {})}}

    def _work(self, state: TurnState, config: RunnableConfig) -> dict[str, Any]:
        principal = self._principal(state)
        who, thread_id = state.get("principal") or {}, config["configurable"]["thread_id"]
        kube = self.kube_for(principal)
        parts = dict((agent, text) for text, agent in state["route"].get("parts") or [])
        ns0 = state.get("namespace") or self.default_namespace
        if len(parts) >= 2:  # "… web in shop … and then scale it to 4": each part written out in full
            parts = self._written_out(kube, parts, ns0)
        text = state["route"].get("corrected") or state["text"]
        steps = [(agent, parts.get(agent, text)) for agent in state["route"]["agents"]]
        results, pending = self._run_steps(kube, steps, principal, who, thread_id, ns0)
        if len(steps) >= 2 and any((r.get("data") or {}).get("abstain") for r in results):
            # the router cut a request that tells as much as it asks ("payments is running 1 pod and that's too few
            # for prod. please make it 3"), and a part that only told was not understood on its own: the whole
            # request, read by one agent that understands all of it, is the request
            whole = self._whole(kube, text, ns0, [a for a, _ in steps])
            if whole is not None:
                steps = [(whole.agent, text)]
                results, pending = self._run_steps(kube, steps, principal, who, thread_id, ns0, [whole])
        if len(steps) == 1 and (results[0].get("data") or {}).get("abstain"):
            # "scale checkout to 3 and restart web in shop": two requests for one agent, which the router does not
            # cut (it cuts only between agents); each half fully understood on its own is the request
            split = self._compound(kube, text, ns0)
            if split:
                steps = [(a, t) for a, t, _ in split]
                results, pending = self._run_steps(kube, steps, principal, who, thread_id, ns0,
                                                   [r for _, _, r in split])
        if any((r.get("data") or {}).get("abstain") for r in results):
            # "create a namespace reporting, a service account reporter in it, and let it list pods in shop": the
            # plain objects set up on the way, then the rest of the request read on its own with them in place
            made = self._creating(kube, text, ns0)
            if made is not None:
                steps = [(made.agent, text)]
                results, pending = self._run_steps(kube, steps, principal, who, thread_id, ns0, [made])
        if pending and _retracted(pending, [(t, r) for (_, t), r in zip(steps, results, strict=False)]):
            # One request split in parts is still one request: a part not understood may change the others
            # ("scale web to 5 and catalog to 0. Actually, skip catalog"), so nothing is proposed on a partial
            # understanding of the whole request.
            for r in results:
                if not (r.get("data") or {}).get("abstain"):
                    r["answer"] += ("\nNot proposed: another part of your request was not understood, and it may "
                                    "change this part. Nothing was changed; please reword that part and ask again.")
            pending = []
        if pending and (same := _overlapping(pending)):
            # Two parts of one request change the same object ("add X=1 to the config … then restart so it picks
            # it up", diagnosed as "add X=2"): which one the person meant is not settled, so neither is proposed.
            for r in results:
                r["answer"] += (f"\nNot proposed: two parts of your request would both change {same}, and I cannot "
                                "tell which change you mean. Nothing was changed; please ask for that change once.")
            pending = []
        if text != state["text"] and results:
            results[0]["answer"] = f"(Read with your correction: \"{text}\".)\n{results[0]['answer']}"
        for p in pending:  # the idempotency key of each proposal: random, never derived from the text
            p["approval_id"] = uuid.uuid4().hex
        out: dict[str, Any] = {"results": results, "pending": pending, "outcomes": []}
        answered = [r["agent"] for r in results]
        if answered != list(state["route"]["agents"]) and not any((r.get("data") or {}).get("abstain")
                                                                  for r in results):
            # the agents that understood and answered, not only the router's guess: the route says who handled the
            # request (the router's own choice is kept beside it)
            out["route"] = {**state["route"], "agents": answered, "parts": [(t, a) for (_, t), a in
                                                                            zip(steps, answered, strict=False)],
                            "method": f"{state['route'].get('method')}+reread", "routed": state["route"]["agents"]}
        return out

    @staticmethod
    def _written_out(kube: Kube, parts: dict[str, str], default_ns: str | None) -> dict[str, str]:
        """The parts of a split request with the namespace said once and "it" resolved (agents.coreference)."""
        from agents.coreference import resolve_parts, workload_reader

        texts = resolve_parts(list(parts.values()), _namespaces(kube), workload_reader(kube, default_ns))
        return dict(zip(parts, texts, strict=True))

    def _read(self, ctx: Any, agent: str) -> AgentResult:
        """`agent`'s answer to the request, or when it abstains, the one other agent's that understood all of it."""
        res = self.agents[agent](ctx)
        return self._elsewhere(ctx, agent, res) if (res.data or {}).get("abstain") else res

    def _elsewhere(self, ctx: Any, routed: str, abstained: AgentResult) -> AgentResult:
        """The answer of the one other domain agent that understood the whole request, else the abstention.

        Why: the router picks a domain from how a request sounds ("delete the debug-shell pod, it's not needed" sounds
        like a diagnosis; "is bob allowed to create deployments" like a listing), and a domain agent that did not
        understand a request abstains. Every agent reads with the same rule (`agents.decide`: act only through a
        reading that accounted for every word), so when exactly one other agent fully understood the request, that
        reading is the request's meaning. Two or more such readings are ambiguous: the abstention stands. The
        tool-calling loop is not run here (`ctx.no_loop`): it is the routed agent's, and a model asked seven times is
        not one decision."""
        found: list[AgentResult] = []
        ctx.no_loop = True
        try:
            for name, fn in self.agents.items():
                if name in (routed, "toolsmith"):
                    continue  # the toolsmith answers for others only through their fast paths, read here already
                try:
                    res = fn(ctx)
                except KubeError:
                    continue
                if _ordered(ctx.text) and not res.mutations:
                    continue  # an order answered by a read ("create a deployment …" → "yes, you can create …")
                if _settled(res) and all((res.agent or name) != (f.agent or "") for f in found):
                    found.append(res)  # an agent answering through another's fast path (toolsmith) is that one
        finally:
            ctx.no_loop = False
        if len(found) != 1:
            return abstained
        res = found[0]
        res.data["rerouted_from"] = routed
        return res

    def _run_steps(self, kube: Kube, steps: list[tuple[str, str]], principal: Principal, who: Any, thread_id: str,
                   ns: str | None, given: list[AgentResult] | None = None) -> tuple[list[dict[str, Any]],
                                                                                   list[dict[str, Any]]]:
        """Run each (agent, text) part (or take its `given` result) and collect the changes it proposes that the
        principal may make and that would change something."""
        results: list[dict[str, Any]] = []
        pending: list[dict[str, Any]] = []
        for i, (agent, text) in enumerate(steps):
            first_call = len(kube.calls)
            with tracing.span(f"agent {agent}", {"kubesage.agent": agent}) as span:
                if given is not None:  # already run (a compound request's halves): their calls are counted there
                    res, context_calls, where = given[i], len(kube.calls), ns
                else:
                    ctx = build_context(kube, text, ns, self.llm)
                    context_calls, where = len(kube.calls), ctx.namespace
                    try:
                        res = self._read(ctx, agent)
                    except KubeError as e:
                        res = AgentResult(agent, f"I could not finish: {e.message}", [e.message])
                span.set({"kubesage.namespace": where, "kubesage.mutations": len(res.mutations),
                          "kubesage.abstained": bool((res.data or {}).get("abstain"))})
                self.audit.record(who, f"agent:{agent}", {"text": text, "namespace": where},
                                  "ok" if not res.answer.startswith("I could not") else "error", thread_id=thread_id)
            first_pending = len(pending)
            if not_asked := _unasked(kube, " ".join(t for _, t in steps), res.mutations):  # the whole request's names
                # a workload the request does not name, while it names others ("… the orders binding …, fix it" is
                # no reason to change catalog, the namespace's first finding): not proposed
                said = "Not proposed: " + "; ".join(m.describe() for m in not_asked) + \
                    " (your request does not name it; ask for it on its own if you want it)."
                res.mutations = [m for m in res.mutations if m not in not_asked]
                if res.mutations:
                    res.answer += "\n" + said
                else:  # what the reading would have done is not what was asked: nothing was understood to do
                    res.answer = f"I did not act: {said}\n{res.answer}"
                    res.data = {**(res.data or {}), "abstain": {"understood": [], "not_understood": [],
                                                                "ask": "Say which object to change."}}
            new_ns = {m.name for m in res.mutations if m.verb == "create" and m.kind == "Namespace"}
            deleted: set[tuple[str, str, str]] = set()  # what an earlier change of the answer deletes (recreations)
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
                    self.audit.record(who, "propose", m.to_dict(), "refused: no rights", thread_id=thread_id)
                    continue
                pm = kube.preview(m, new_ns, deleted)
                if m.verb == "delete":
                    deleted.add((m.kind, m.namespace, m.name))
                if unchanged(pm):  # a change that changes nothing is not a fix: say so instead of proposing it
                    res.answer += f"\nAlready so: {pm.describe()} would change nothing ({pm.why or 'as asked'}), so " \
                                  "I am not proposing it."
                    continue
                pending.append(pm.to_dict())
            pending[first_pending:] = _plans(pending[first_pending:])
            for p in pending[first_pending:]:
                p["part"] = len(results)  # which part of a split request proposed it (see _overlapping)
            results.append({"agent": res.agent or agent, "answer": res.answer, "evidence": res.evidence,
                            "calls": kube.calls[context_calls:], "context_calls": context_calls - first_call,
                            "data": res.data})
        return results, pending

    def _whole(self, kube: Kube, text: str, ns: str | None, agents: list[str]) -> AgentResult | None:
        """The one reading of the whole request by one of `agents` (then any other, as `_elsewhere` allows) that
        understood all of it, else None."""
        ctx = build_context(kube, text, ns, self.llm)
        ctx.no_loop = True
        found = []
        for agent in dict.fromkeys(agents):
            try:
                res = self.agents[agent](ctx)
            except KubeError:
                continue
            if _settled(res) and not (_ordered(text) and not res.mutations):
                found.append(res)
        if len(found) == 1:
            return found[0]
        if found:
            return None  # two of the agents read all of it, differently
        res = self._elsewhere(ctx, "", AgentResult("", "", data={"abstain": {}}))
        return res if _settled(res) else None

    def _compound(self, kube: Kube, text: str, ns: str | None) -> list[tuple[str, str, AgentResult]] | None:
        """The halves of a request no agent understood whole, when every half is fully understood on its own
        (`_settled`): [(agent, half as written out, its result)], else None. The cut points are the router's; the
        halves are written out with the namespace said once and "it" resolved (agents.coreference); each half is
        routed, and taken over by another agent only as `_elsewhere` allows. No model loop runs here."""
        from agents.coreference import resolve_parts, workload_reader
        from agents.router import split_points

        namespaces, workload_of = _namespaces(kube), workload_reader(kube, ns)
        starters = getattr(getattr(self.router, "embedding", self.router), "starters", None)
        for left, right in split_points(" ".join(text.split()), starters, orders_on_it=True):
            out = []
            for half in resolve_parts([left, right], namespaces, workload_of):
                agent = next(iter(a for a in self.router.route(half).agents if a in self.agents), None)
                if agent is None:
                    break
                ctx = build_context(kube, half, ns, self.llm)
                ctx.no_loop = True
                try:
                    res = self._read(ctx, agent)
                except KubeError:
                    break
                if not _settled(res):
                    break
                out.append((res.agent or agent, half, res))
            else:
                return out
        return None

    def _creating(self, kube: Kube, text: str, ns: str | None) -> AgentResult | None:
        """One answer for a request that creates plain objects on the way (agents.creations) and whose rest, read on
        its own by one agent with those objects in place, is understood in full (`_settled`); else None."""
        from agents.creations import Planned, plan, split

        cut = split(text, _namespaces(kube), ns)
        if cut is None:
            return None
        try:
            made, already, _ = plan(cut.items, kube)
        except KubeError:
            return None
        said = ("Proposed: " + "; ".join(m.why for m in made) + "." if made else "") + \
            "".join(f"\n{line}" for line in already)
        evidence = [f"{m.kind} {m.namespace + '/' if m.namespace else ''}{m.name} does not exist yet" for m in made]
        if not cut.rest:
            if not made:
                return None
            return AgentResult("resources", said.strip(), evidence, made,
                               data={"understood": [m.why for m in made]})
        ctx = build_context(Planned(kube, cut.items), cut.rest, ns, self.llm)
        ctx.no_loop = True
        agent = next(iter(a for a in self.router.route(cut.rest).agents if a in self.agents), None)
        if agent is None:
            return None
        try:
            res = self._read(ctx, agent)
        except KubeError:
            return None
        if not _settled(res, loose_ok=True) or (_ordered(cut.rest) and not res.mutations):
            return None  # (the rest went to the agent the router picked for it: context it passed over is its call)
        res.mutations = made + list(res.mutations)
        res.answer = f"{said.strip()}\nThen, with {'them' if len(cut.items) > 1 else 'it'} in place: {res.answer}"
        res.evidence = evidence + list(res.evidence)
        res.data["setup"] = [m.why for m in made]
        return res

    def _next_after_work(self, state: TurnState) -> str:
        return "approve" if state.get("pending") else "respond"

    def _approve(self, state: TurnState, config: RunnableConfig) -> dict[str, Any]:
        """Ask, then carry out the decision exactly once (agents/approvals.py: ledger, idempotent apply, one audit
        line), then the health wait. A run resumed after a crash reads the ledger instead of asking again."""
        pending = list(state["pending"])
        size = _plan_size(pending)
        plan = [Mutation.from_dict(p) for p in pending[:size]]
        ids = [p.get("approval_id") or _legacy_id(state, m) for p, m in zip(pending, plan, strict=False)]
        who = state.get("principal") or {}
        # `id` names the approval; `ids` are its changes' own idempotency keys (each outcome carries one of them)
        decision = interrupt({"type": "approval", "id": ids[0], "ids": ids, **_asked(plan),
                              "principal": {"user": who.get("user"), "groups": list(who.get("groups") or [])}})
        crash_point("decided")
        principal = self._principal(state)
        thread_id = config["configurable"]["thread_id"]
        entries, outcomes, kube = [], [], None
        for m, aid in zip(plan, ids, strict=True):  # in order; after a change that failed, the rest are not made
            if approved(decision) and any(o["status"] != "applied" for o in outcomes):
                outcomes.append({"action": m.describe(), "approval_id": aid, "status": "skipped",
                                 "error": "not applied, because an earlier change of the same plan failed"})
                continue
            entry, k = carry_out(self.ledger, self.audit, lambda: self.kube_for(principal), aid, thread_id, who, m,
                                 decision)
            kube = kube or k
            entries.append(entry)
            outcomes.append({"action": m.describe(), "approval_id": aid, **entry.outcome})
        applied = [e for e in entries if e.state == "applied"]
        if applied and not all("settled" in e.outcome for e in applied):  # a resumed run settled it already
            self._settle(kube or self.kube_for(principal), plan, outcomes, who, thread_id)
            for e in applied:
                o = next(o for o in outcomes if o["approval_id"] == e.approval_id)
                e.outcome = {k: v for k, v in o.items() if k not in ("action", "approval_id")} | {"settled": True}
                self.ledger.put(e)
        crash_point("verified")
        return {"pending": pending[size:], "outcomes": (state.get("outcomes") or []) + outcomes}

    def _settle(self, kube: Kube, plan: list[Mutation], outcomes: list[dict[str, Any]], who: Any,
                thread_id: str | None) -> None:
        """After the apply: every change of the plan must become healthy (its health wait) and then hold its goal;
        otherwise the whole plan is undone, newest first. A change that failed to apply undoes the ones before it."""
        done = [(m, o) for m, o in zip(plan, outcomes, strict=True) if o["status"] == "applied"]
        problems = [f"{o['action']} failed: {o.get('error')}" for o in outcomes if o["status"] == "failed"]
        for m, o in done if not problems else []:
            if m.verify:
                o.update(self._verify(kube, m))
                if not o["verified"] and (m.verify or {}).get("undo") is not False:
                    problems.append(f"{o['action']} did not become healthy ({o['health']})")
        for m, o in done if not problems else []:
            problems += self._check_goals(kube, m, o)
        if not problems:
            return
        undone, error = self._undo(kube, [m for m, _ in done])
        for _, o in done:
            o.update({"rolled_back": undone, "plan_failed": "; ".join(problems)},
                     **({"rollback_error": error} if error else {}))
        for m, _ in done[-1:]:
            self.audit.record(who, "rollback", m.to_dict(), "rolled back" if undone else "not rolled back",
                              thread_id=thread_id)

    def _verify(self, kube: Kube, m: Mutation) -> dict[str, Any]:
        """Wait for the object the change should heal (healthy, restarts steady)."""
        from tools.k8s.health import wait_healthy

        v = m.verify or {}
        ok, detail = wait_healthy(kube, v["kind"], v.get("namespace", m.namespace), v["name"],
                                  min(float(v.get("timeout_s", 60)), self.verify_timeout_s or float("inf")),
                                  self.verify_stable_s if self.verify_stable_s is not None else float(v.get("stable_s", 5)))
        return {"verified": ok, "health": detail}

    def _check_goals(self, kube: Kube, m: Mutation, outcome: dict[str, Any]) -> list[str]:
        """The change's post-condition (tools/k8s/goals.py) on the live cluster: what did not hold, in words. A goal
        that could not be read is reported, not counted as failed (nothing proves the change wrong)."""
        if not m.goal:
            return []
        found = settled_verdicts(kube, m.goal)  # status fields are polled for a while, not read once
        failed = [d for ok, d in found if ok is False]
        outcome["goal"] = {"held": not failed and all(ok for ok, _ in found), "failed": failed,
                           "unchecked": [d for ok, d in found if ok is None], "checked": len(found)}
        return [f"goal of {m.describe()} not met: {d}" for d in failed]

    def _undo(self, kube: Kube, done: list[Mutation]) -> tuple[bool, str]:
        """Undo applied changes newest first (a create by a delete, a delete by re-creating what was captured, a
        patch or scale by restoring the fields); a lone change of an older checkpoint also undoes its `also_undo`."""
        undos = [m.rollback for m in reversed(done) if m.rollback]
        if len(done) == 1:
            undos += list((done[0].verify or {}).get("also_undo") or [])
        undone, errors = False, []
        for undo in undos:
            try:
                kube.execute(Mutation.from_dict(undo))
                undone = True
            except KubeError as e:
                errors.append(e.message)
        return undone, "; ".join(errors)

    def _respond(self, state: TurnState) -> dict[str, Any]:
        parts = [r["answer"] for r in state.get("results") or []]
        unsupported = (state.get("route") or {}).get("unsupported") or []
        if unsupported:
            parts.append(f"(The {', '.join(unsupported)} agent is not available yet.)")
        for o in state.get("outcomes") or []:
            undone = ("rolled back" if o.get("rolled_back") else
                      "NOT rolled back: " + o["rollback_error"] if o.get("rollback_error") else "left in place")
            if o["status"] == "applied" and o.get("plan_failed"):
                parts.append(f"Applied {o['action']} (approved), but the plan did not hold: {o['plan_failed']}; "
                             f"{undone}.")
            elif o["status"] == "applied" and o.get("verified") is False:
                parts.append(f"Applied {o['action']} (approved), but it did not fix the problem ({o.get('health')}); "
                             f"{undone}.")
            elif o["status"] == "applied" and (o.get("goal") or {}).get("unchecked"):
                parts.append(f"Applied {o['action']} (approved), but I could not check that it did what was asked: "
                             f"{'; '.join(o['goal']['unchecked'])}.")
            elif o["status"] == "applied":
                health = f"; verified healthy: {o['health']}" if o.get("verified") else ""
                goal = f"; goal holds ({o['goal']['checked']} check(s))" if (o.get("goal") or {}).get("held") else ""
                parts.append(f"Done: {o['action']} (approved){health}{goal}.")
            elif o["status"] == "skipped":
                parts.append(f"Not done: {o['action']}: {o.get('error')}.")
            elif o["status"] == "rejected":
                parts.append(f"Not done: {o['action']} was rejected; nothing changed.")
            else:
                parts.append(f"Failed: {o['action']}: {o.get('error')}")
        answer = "\n".join(parts)
        turn = {"text": state.get("text"), "answer": answer, "route": state.get("route"),
                "outcomes": state.get("outcomes") or [], "principal": state.get("principal")}
        return {"answer": answer, "history": [turn]}

    # -- driving a turn ----------------------------------------------------------------------------
    @staticmethod
    def _state(text: str, principal: Principal, namespace: str | None, via: str | None) -> dict[str, Any]:
        who: dict[str, Any] = {"user": principal.user, "groups": list(principal.groups)}
        if via:
            who["via"] = via  # the credential an interface resolved (e.g. which API token), for the audit log
        return {"text": text, "principal": who, "namespace": namespace, "answer": None}

    def start(self, text: str, principal: Principal, thread_id: str, namespace: str | None = None,
              via: str | None = None) -> dict[str, Any]:
        self.settle(thread_id)
        cfg = {"configurable": {"thread_id": thread_id}}
        state = self._state(text, principal, namespace, via)
        return self._result(self.graph.invoke(state, cfg, durability=DURABILITY), cfg)

    def resume(self, thread_id: str, decision: Any, by: Principal | None = None,
               approval_id: str | None = None) -> dict[str, Any]:
        """Decide on the approval the thread waits for. `by`: who decides; interfaces always pass it, and only the
        principal who proposed the change (same user and groups) may decide (ApprovalRefused otherwise).
        Exactly once across processes: the decision is a claim in the ledger (agents/approvals.py `hold`); a
        second decision on the same approval, here or on another replica, at the same moment or later, waits for
        the first and answers with its result. `approval_id`: the approval the caller decides on (an interface
        passes it, so a retry after the thread moved on still gets that approval's outcome)."""
        settled = self.settle(thread_id)
        if settled is not None:  # the decision was already made before a crash: that one stands
            return settled
        cfg = {"configurable": {"thread_id": thread_id}}
        held = self._hold(thread_id, decision, by, approval_id)
        if held is None:
            return self._result(self.graph.invoke(Command(resume=decision), cfg, durability=DURABILITY), cfg)
        return run_held(held, lambda d: self._result(self.graph.invoke(Command(resume=d), cfg,
                                                                       durability=DURABILITY), cfg))

    def _hold(self, thread_id: str, decision: Any, by: Principal | None, approval_id: str | None) -> Any:
        """The claim on the approval being decided (after the decider check), or None when the thread waits for
        none and no claim names `approval_id` (LangGraph then resumes as it would)."""
        appr = _interrupt_of(self.graph.get_state({"configurable": {"thread_id": thread_id}}))
        aid = approval_id or (appr or {}).get("id")
        claim = self.ledger.get_claim(aid) if aid else None
        if claim is not None and claim.thread_id == thread_id:
            if by is not None and not same_principal(claim.principal, by):
                raise ApprovalRefused(claim.principal, by)
        elif appr is None or appr.get("id") != aid:
            self.check_decider(thread_id, by)
            return None
        else:
            self.check_decider(thread_id, by)
        who = (claim.principal if claim else appr.get("principal")) or {}
        return hold(self.ledger, aid, thread_id, decision, who, self.approval_lease_s)

    def check_decider(self, thread_id: str, by: Principal | None) -> None:
        if by is None:
            return
        snap = self.graph.get_state({"configurable": {"thread_id": thread_id}})
        if _interrupt_of(snap) is not None and not same_principal(snap.values.get("principal"), by):
            raise ApprovalRefused(snap.values.get("principal") or {}, by)

    def settle(self, thread_id: str) -> dict[str, Any] | None:
        """Finish an approval that was decided before a crash (the ledger or a claim has it) while the thread's
        checkpoint still waits on it: apply at most once, write the missing audit line, run the health wait; the
        result, or None when there was nothing to finish. A claim whose owner is alive (another replica) is waited
        for, never carried out a second time."""
        with self._settling_guard:
            lock = self._settling.setdefault(thread_id, threading.Lock())
        with lock:
            result = None
            cfg = {"configurable": {"thread_id": thread_id}}
            seen: set[str] = set()
            while True:
                appr = _interrupt_of(self.graph.get_state(cfg))
                if not appr or appr["id"] in seen:
                    break
                entry, claim = self.ledger.get(appr["id"]), self.ledger.get_claim(appr["id"])
                if entry is None and claim is None:
                    break
                seen.add(appr["id"])
                decision = claim.decision if claim else entry.decision
                held = hold(self.ledger, appr["id"], thread_id, decision, appr.get("principal") or {},
                            self.approval_lease_s)
                result = run_held(held, lambda d: self._result(self.graph.invoke(Command(resume=d), cfg,
                                                                                 durability=DURABILITY), cfg))
            self.ledger.close_thread(thread_id)
            return result

    def recover(self) -> list[str]:
        """Settle every thread a crash left mid-approval (at start-up); the ids of the threads settled."""
        return [tid for tid in self.ledger.open_threads() if self.settle(tid) is not None]

    def stream(self, text: str, principal: Principal, thread_id: str,
               namespace: str | None = None, via: str | None = None) -> Iterator[dict[str, Any]]:
        """The same turn as `start`, as events for streaming interfaces (SSE, the TUI): `route`, one `tool_call`
        per Kubernetes call an agent made, `agent` per agent answer, `approval_required` or `token`s and a final
        `answer` carrying what `start` returns."""
        self.settle(thread_id)
        yield from self._events(self._state(text, principal, namespace, via), thread_id)

    def stream_resume(self, thread_id: str, decision: Any, by: Principal | None = None,
                      approval_id: str | None = None) -> Iterator[dict[str, Any]]:
        settled = self.settle(thread_id)
        if settled is not None:
            yield {**settled, "type": "answer"}
            return
        held = self._hold(thread_id, decision, by, approval_id)
        if held is None:
            yield from self._events(Command(resume=decision), thread_id)
            return
        if held.result is not None:  # decided already (a retry, a double click, another replica): its outcome
            yield {**held.result, "type": "answer"}
            return
        with held:
            for ev in self._events(Command(resume=held.decision), thread_id):
                if ev.get("type") == "answer":
                    held.finish({k: v for k, v in ev.items() if k != "type"})
                yield ev

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
        """The approval the thread waits for; None when there is none, or when it was already decided (a crash
        before the checkpoint caught up: `settle` finishes it, and it must never be offered again)."""
        found = _interrupt_of(self.graph.get_state({"configurable": {"thread_id": thread_id}}))
        if found is None or self.ledger.get(found["id"]) is not None or self.ledger.get_claim(found["id"]):
            return None
        return found

    def decided(self, thread_id: str, approval_id: str) -> bool:
        """Whether this approval of this thread was decided (here or on another replica): a decision sent for it
        again is answered with that decision's outcome, not refused."""
        claim = self.ledger.get_claim(approval_id)
        return claim is not None and claim.thread_id == thread_id

    def _result(self, out: dict[str, Any], cfg: dict[str, Any]) -> dict[str, Any]:
        intr = out.get("__interrupt__") if isinstance(out, dict) else None
        answer = out.get("answer")
        if intr and not answer:
            answer = "\n".join(r["answer"] for r in out.get("results") or [])
        return {"answer": answer, "route": out.get("route"), "results": out.get("results"),
                "outcomes": out.get("outcomes"),
                "approval": intr[0].value if intr else None,
                "thread_id": cfg["configurable"]["thread_id"]}


class _TracedGraph:
    """The compiled graph, each run of it (a turn, or a decision resuming one) inside a `turn` span: the root of the
    turn's trace, or a child of the interface's own span (the HTTP request's). Everything else passes through."""

    def __init__(self, graph: Any) -> None:
        self._graph = graph

    def __getattr__(self, name: str) -> Any:
        return getattr(self._graph, name)

    @staticmethod
    def _span(inp: Any, cfg: dict[str, Any]) -> Any:
        who = inp.get("principal") or {} if isinstance(inp, dict) else {}
        return tracing.span("turn" if isinstance(inp, dict) else "turn resume",
                            {"kubesage.thread_id": cfg["configurable"]["thread_id"], "kubesage.principal": who.get("user"),
                             "kubesage.via": who.get("via")})

    def invoke(self, inp: Any, cfg: dict[str, Any], **kw: Any) -> Any:
        with self._span(inp, cfg):
            return self._graph.invoke(inp, cfg, **kw)

    def stream(self, inp: Any, cfg: dict[str, Any], **kw: Any) -> Iterator[Any]:
        with self._span(inp, cfg):
            yield from self._graph.stream(inp, cfg, **kw)


def _legacy_id(state: TurnState, m: Mutation) -> str:
    """The approval id of a checkpoint written before ids were random (it must not change between pause and resume)."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"{state['text']}/{m.describe()}/{len(state.get('outcomes') or [])}").hex[:12]


def _interrupt_of(snap: Any) -> dict[str, Any] | None:
    """The approval a checkpointed thread waits on, if any."""
    for task in snap.tasks or ():
        for intr in task.interrupts or ():
            return intr.value
    return None


def _ordered(text: str) -> bool:
    """The request opens with an order to change something ("create …", "please delete …"): an answer that changes
    nothing is no reading of it."""
    from agents.coverage import tokens
    from agents.residue import verb_class

    words = [w for w in tokens(text) if w not in ("please", "kindly", "pls", "hey", "hi", "ok", "so", "now")]
    return bool(words) and verb_class(words[0]) not in (None, "generic")


def _unasked(kube: Kube, text: str, plan: list[Mutation]) -> list[Mutation]:
    """The changes to existing workloads the request does not name while it names other objects of the cluster.

    Why: every reading checks that it understood the words it used; none checks that what it changes is what the
    words were about. A workload changed (patched, scaled, deleted) whose name the request never says, beside a
    request that names other objects, is a change nobody asked for. A request that names no object ("fix whatever
    is wrong in shop") leaves the diagnosis its choice."""
    from agents.coverage import tokens
    from tools.k8s.kinds import WORKLOADS

    changes = [m for m in plan if m.verb in ("patch", "scale", "delete") and m.kind in WORKLOADS]
    if not changes:
        return []
    words = set(tokens(text))
    named: dict[str, set[str]] = {}
    for m in changes:
        if m.namespace not in named:
            named[m.namespace] = set()
            for kind in ("Deployment", "StatefulSet", "DaemonSet", "ServiceAccount", "ConfigMap", "Secret",
                         "RoleBinding", "Role", "Service"):
                try:
                    named[m.namespace] |= {o["metadata"]["name"] for o in kube.list(kind, m.namespace)}
                except KubeError:
                    continue
    out = []
    for m in changes:
        said = words & named[m.namespace]
        if m.name not in words and said and not any(n.startswith(m.name + "-") or m.name.startswith(n + "-")
                                                    for n in said):
            out.append(m)
    return out


def _namespaces(kube: Kube) -> list[str]:
    """The namespaces the principal can list ([] when it cannot)."""
    try:
        return [n["metadata"]["name"] for n in kube.list("Namespace")]
    except KubeError:
        return []


def _settled(res: AgentResult, loose_ok: bool = False) -> bool:
    """(`loose_ok`: the reading is the routed agent's own, as the rest of a setup request is, so context it passed
    over is its call.) A reading another agent may take over with: it understood the whole request (`understood`, set by
    `agents.decide`) and either proposes a change or answers from evidence it read. A question back ("What should I
    create?", "… but not what") or an answer with nothing read behind it ("I found no model server") is no reading of
    the request, only of its words."""
    data = res.data or {}
    if not data.get("understood") or data.get("abstain") or (data.get("loose") and not loose_ok):
        return False  # a word of the request that asks was passed over: good enough for the agent it was sent to only
    if res.mutations:
        return True
    last = res.answer.strip().splitlines()[-1] if res.answer.strip() else ""
    return bool(res.evidence) and not last.rstrip().endswith("?") and "but not what" not in res.answer


def _retracted(pending: list[dict[str, Any]], parts: list[tuple[str, dict[str, Any]]]) -> bool:
    """Whether a part of a split request was not understood. One request split in parts is still one request: a
    part not understood may take back, narrow or complete another part's change ("Actually, skip catalog"; "…and
    mount it in a pod"), so when any part abstained, no part proposes anything (issue 15: act only on what was
    understood in full). `pending` is kept in the signature for callers that weigh the proposals."""
    del pending
    return len(parts) >= 2 and any((r.get("data") or {}).get("abstain") for _, r in parts)


def _overlapping(pending: list[dict[str, Any]]) -> str:
    """The object two parts of a split request both propose to change in the same place ("" when none): a create or
    a delete of it, or the same field (a merge patch's leaf, a JSON patch's path, the replica count) with different
    values. Different fields of one object ("scale web to 3 and set its image") are no conflict."""
    seen: dict[tuple[str, str, str], list[tuple[int, dict[str, Any]]]] = {}
    for p in pending:
        key = (str(p.get("kind")), str(p.get("namespace") or ""), str(p.get("name")))
        mine = _fields(p)
        for part, other in seen.get(key, []):
            if part != int(p.get("part", 0)) and ("*" in mine or "*" in other or any(
                    k in other and other[k] != v for k, v in mine.items())):
                return f"{key[0]} {key[1] + '/' if key[1] else ''}{key[2]}"
        seen.setdefault(key, []).append((int(p.get("part", 0)), mine))
    return ""


def _fields(p: dict[str, Any]) -> dict[str, Any]:
    """What a proposal sets: {field path: value}; {"*": …} for a create or delete (the whole object)."""
    verb, body = p.get("verb"), p.get("body")
    if verb in ("create", "delete"):
        return {"*": verb}
    if verb == "scale":
        return {"spec.replicas": body}
    if isinstance(body, list):  # a JSON patch: each op's path (its test ops only guard)
        return {str(op.get("path")): op.get("value") for op in body if isinstance(op, dict) and op.get("op") != "test"}
    out: dict[str, Any] = {}

    def walk(prefix: str, v: Any) -> None:
        if isinstance(v, dict) and v:
            for k, x in v.items():
                walk(f"{prefix}.{k}" if prefix else str(k), x)
        else:
            out[prefix] = v
    walk("", body)
    return out


def _plans(group: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One agent answer's proposals as plans: those with the same `plan` label (None included) share a plan id and
    stand next to each other (in their order), so they are approved as one, applied in order, and verified and
    rolled back together."""
    ids: dict[Any, str] = {}
    for p in group:
        p["plan_id"] = ids.setdefault(p.get("plan"), uuid.uuid4().hex)
    order = list(ids.values())
    return sorted(group, key=lambda p: order.index(p["plan_id"]))


def _plan_size(pending: list[dict[str, Any]]) -> int:
    """How many of the first pending proposals form its plan (one for proposals from before plans)."""
    first = pending[0].get("plan_id")
    n = 1
    while first and n < len(pending) and pending[n].get("plan_id") == first:
        n += 1
    return n


def _asked(plan: list[Mutation]) -> dict[str, Any]:
    """What the approval prompt shows: one action, or a plan's actions with every diff under its own header."""
    if len(plan) == 1:
        m = plan[0]
        return {"action": m.describe(), "why": m.why, "diff": m.diff, "dry_run_error": m.dry_run_error,
                "changes": [{"action": m.describe(), "why": m.why, "diff": m.diff, "dry_run_error": m.dry_run_error}]}
    changes = [{"action": m.describe(), "why": m.why, "diff": m.diff, "dry_run_error": m.dry_run_error} for m in plan]
    return {"action": "; ".join(c["action"] for c in changes),
            "why": "; ".join(c["why"] for c in changes if c["why"]),
            "diff": "\n".join(f"# {i}. {c['action']}\n{c['diff']}" for i, c in enumerate(changes, 1)),
            "dry_run_error": "; ".join(f"{c['action']}: {c['dry_run_error']}" for c in changes if c["dry_run_error"]),
            "changes": changes}


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
