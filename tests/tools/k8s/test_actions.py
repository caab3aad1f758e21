"""The closed table of approved actions: only registered names run; an old checkpoint's `tools.mod:fn` is mapped
through the table, never imported."""

from __future__ import annotations

import sys

import pytest

from tools.k8s import actions
from tools.k8s.errors import KubeError
from tools.k8s.mutations import Mutation


@pytest.fixture
def echo():
    @actions.action("test.echo")
    def echo_action(kube, text: str) -> str:  # noqa: ANN001
        return f"{kube}:{text}"

    yield echo_action
    actions._TABLE.pop("test.echo", None)


def test_a_registered_action_runs_with_the_proposal_arguments(echo):
    m = Mutation("action", "Thing", "", "x", body={"action": "test.echo", "args": {"text": "hi"}})
    assert actions.run_action("kube", m) == "kube:hi"


def test_an_old_checkpoint_handler_is_mapped_through_the_table(echo):
    legacy = f"{echo.__module__}:{echo.__name__}"
    assert actions.lookup({"handler": legacy}) == ("test.echo", echo)


@pytest.mark.parametrize("body", [{"action": "os.system"}, {"handler": "os:system"}, {"handler": "tools.k8s.client:Kube"},
                                  {"action": ""}, {}, None])
def test_unknown_names_are_refused_and_nothing_is_imported(body):
    before = set(sys.modules)
    with pytest.raises(KubeError) as e:
        actions.run_action(None, Mutation("action", "Thing", "", "x", body=body))
    assert e.value.reason == "BadAction" and "not an approved action" in e.value.message
    assert set(sys.modules) == before


def test_a_name_cannot_be_taken_over(echo):
    with pytest.raises(ValueError):
        actions.action("test.echo")(lambda kube: None)


def test_the_tools_that_offer_actions_register_them():
    import tools.serving  # noqa: F401
    import tools.toolsmith.actions  # noqa: F401

    assert {"serving.load_adapter", "serving.unload_adapter", "toolsmith.run_registered"} <= set(actions.names())
    assert actions.lookup({"handler": "tools.serving:load_adapter"})[0] == "serving.load_adapter"
