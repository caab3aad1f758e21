"""agents.decide: an own reading that finds, acting, that it lacks something gives way to the one registry path
that fully understood the request; with none, its own question stands."""

from __future__ import annotations

from types import SimpleNamespace

from agents import decide as decide_mod
from agents.coverage import Understanding
from agents.decide import Reading, decide
from agents.state import AgentResult

ASKED = AgentResult("resources", "Which key=value?", data={"abstain": {"understood": [], "not_understood": [],
                                                                      "ask": "Which key=value?"}})


class _Path:
    agent, intent = "resources", "set-image"

    def plan(self, ctx, slots):
        return AgentResult("resources", "Proposed: image → nginx:1.27", ["live image nginx:1.277"])


def _reading() -> Reading:
    return Reading(Understanding("resources", "change", {"image": "nginx:1.27"}), lambda: ASKED)


def test_the_registry_answers_when_the_own_reading_asks(monkeypatch):
    u = Understanding("resources", "set-image", {"to": "nginx:1.27"})
    monkeypatch.setattr(decide_mod.fastpaths, "best", lambda ctx, agent: (_Path(), u))
    res = decide(SimpleNamespace(text="switch catalog to nginx:1.27, the current tag doesn't exist", no_loop=True),
                 "resources", [_reading()], "ask")
    assert res.answer.startswith("Proposed: image") and res.data["understood"].startswith("set-image")


def test_with_no_registry_path_the_own_question_stands(monkeypatch):
    monkeypatch.setattr(decide_mod.fastpaths, "best", lambda ctx, agent: (None, None))
    res = decide(SimpleNamespace(text="label web", no_loop=True), "resources", [_reading()], "ask")
    assert res is ASKED


def test_a_reading_that_only_asks_what_to_change_yields_to_a_confident_registry_path():
    from agents.decide import _asks_back
    from agents.state import AgentResult

    assert _asks_back(AgentResult("resources", "I understood you want to change cronjob batch/x, but not what."))
    assert not _asks_back(AgentResult("resources", "Proposed: …"))
