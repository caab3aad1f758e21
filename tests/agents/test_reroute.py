"""An abstention of the routed agent is taken over by the one other agent that understood the whole request."""

from __future__ import annotations

from types import SimpleNamespace

from agents.state import AgentResult
from agents.supervisor import Supervisor, _settled
from tools.k8s.client import Mutation

ABSTAINED = AgentResult("logs", "I did not act: …", data={"abstain": {"understood": [], "not_understood": ["delete"]}})


def _agent(res: AgentResult | None, seen: list[bool] | None = None):
    def run(ctx):
        if seen is not None:
            seen.append(ctx.no_loop)
        return res if res is not None else ABSTAINED
    return run


def _proposal(agent: str) -> AgentResult:
    return AgentResult(agent, "Proposed: delete pod data/x.", ["pod data/x"],
                       [Mutation("delete", "Pod", "data", "x", why="delete as asked")], data={"understood": "delete"})


def _elsewhere(agents: dict, routed: str = "logs") -> AgentResult:
    me = SimpleNamespace(agents=agents)
    ctx = SimpleNamespace(no_loop=False, text="what is going on with x?")
    out = Supervisor._elsewhere(me, ctx, routed, ABSTAINED)
    assert ctx.no_loop is False  # restored for the rest of the turn
    return out


def test_one_other_reading_takes_over_without_the_model_loop():
    seen: list[bool] = []
    out = _elsewhere({"logs": _agent(None), "resources": _agent(_proposal("resources"), seen), "rbac": _agent(None)})
    assert out.agent == "resources" and out.mutations and out.data["rerouted_from"] == "logs"
    assert seen == [True]


def test_two_other_readings_are_ambiguous_and_the_abstention_stands():
    out = _elsewhere({"logs": _agent(None), "resources": _agent(_proposal("resources")),
                      "scaling": _agent(_proposal("scaling"))})
    assert out is ABSTAINED


def test_questions_and_answers_without_evidence_are_not_readings():
    question = AgentResult("resources", "What should I create? Name a kind.", data={"understood": "author"})
    bare = AgentResult("serving", "I found no model server.", data={"understood": "scale"})
    not_what = AgentResult("resources", "I understood you want to change web, but not what.", ["web"],
                           data={"understood": "change"})
    read = AgentResult("rbac", "No: bob cannot create deployments in web.", ["no binding"], data={"understood": "can-i"})
    assert not any(_settled(r) for r in (question, bare, not_what, ABSTAINED))
    assert _settled(read) and _settled(_proposal("resources"))
    assert _elsewhere({"logs": _agent(None), "resources": _agent(question), "serving": _agent(bare)}) is ABSTAINED


def test_an_agent_answering_through_another_agents_fast_path_is_that_agent():
    out = _elsewhere({"logs": _agent(None), "resources": _agent(_proposal("resources")),
                      "toolsmith": _agent(_proposal("resources"))})
    assert out.agent == "resources" and out.mutations


def test_an_order_is_never_taken_over_by_a_read():
    from agents.supervisor import _ordered

    read = AgentResult("rbac", "Yes: you can create deployments in shop.", ["review"], data={"understood": "can-i"})
    me = SimpleNamespace(agents={"resources": _agent(None), "rbac": _agent(read)})
    ctx = SimpleNamespace(no_loop=False, text="create a deployment in shop named empty")
    assert Supervisor._elsewhere(me, ctx, "resources", ABSTAINED) is ABSTAINED
    assert _ordered("please delete the debug pod") and not _ordered("can bob delete pods?")
    assert not _ordered("show me the pods")


def test_a_workload_the_request_does_not_name_is_not_changed_when_it_names_others():
    from agents.supervisor import _unasked

    class _Kube:
        def list(self, kind, ns):
            names = {"Deployment": ["catalog", "orders"], "RoleBinding": ["orders-config"]}.get(kind, [])
            return [{"metadata": {"name": n}} for n in names]

    fix = Mutation("patch", "Deployment", "shop", "catalog", why="image")
    assert _unasked(_Kube(), "the orders-config binding in shop is wrong, fix it", [fix]) == [fix]
    assert _unasked(_Kube(), "fix whatever is wrong in shop", [fix]) == []  # nothing named: the diagnosis's choice
    assert _unasked(_Kube(), "fix catalog in shop", [fix]) == []
