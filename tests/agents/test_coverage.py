"""Never act on a partial understanding (issue 15, parts 2 and 4): the coverage accounting, every domain agent's
abstention on a request with a clause it does not understand, the routing rule for splits, and a context without
demo names."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from agents import context as context_mod
from agents.context import build_context
from agents.coverage import tokens, understand
from agents.entities import subjects_in
from agents.router import split_points
from sandbox.server import SandboxServer
from tools.k8s.client import Kube

# -- the accounting ---------------------------------------------------------------------------------------------


def test_every_word_accounted_for_is_confident() -> None:
    u = understand("please scale web in shop to 5 replicas", "scaling", "scale",
                   {"workload": "web", "namespace": "shop", "replicas": 5}, {"scale", "replicas"})
    assert u.confident, u.unused


def test_an_unconsumed_clause_is_not_confident() -> None:
    u = understand("let web autoscale between 3 and 10 pods above 70% cpu", "scaling", "scale",
                   {"workload": "web", "replicas": 10}, {"scale", "replicas", "pods"})
    assert not u.confident
    assert {"autoscale", "between", "3", "above", "70%", "cpu"} <= set(u.unused)


def test_negations_and_quantifiers_are_never_filler() -> None:
    for text in ("delete every pod except web", "do not restart web", "only scale web", "limit web"):
        u = understand(text, "x", "y", {"workload": "web"}, {"delete", "pod", "restart", "scale"})
        assert not u.confident, text


def test_contractions_become_negations() -> None:
    assert tokens("why can't it start? it won't") == ["why", "can", "not", "it", "start", "it", "will", "not"]


def test_phrases_consume_their_words_only_together() -> None:
    vocab = {"why", "no endpoints"}
    assert understand("why no endpoints", "logs", "d", {}, vocab).confident
    assert not understand("why no restart", "logs", "d", {}, vocab).confident


def test_numbers_with_units_count_when_the_number_is_a_slot() -> None:
    assert understand("at 70% cpu", "s", "hpa", {"target": 70}, {"cpu"}).confident
    assert not understand("at 70% cpu", "s", "hpa", {"target": 80}, {"cpu"}).confident


def test_a_typo_of_a_resolved_name_counts_but_not_another_numbered_name() -> None:
    assert understand("why is chekout failing", "logs", "d", {"workload": "checkout"}, {"why", "failing"}).confident
    assert not understand("why is web2 failing", "logs", "d", {"workload": "web1"}, {"why", "failing"}).confident


def test_key_value_pairs_count_as_written() -> None:
    assert understand("label web with team=analytics", "r", "label", {"labels": {"team": "analytics"},
                                                                       "workload": "web"}, {"label"}).confident


# -- the routing rule -------------------------------------------------------------------------------------------

STARTERS = frozenset({"scale", "show", "why", "what", "create", "a", "the"})


def test_and_between_two_objects_is_not_a_clause_boundary() -> None:
    from agents.router import _NOT_CLAUSE

    starters = STARTERS - _NOT_CLAUSE
    cuts = split_points("create namespace lab and a pod probe with 100m cpu limits", starters)
    assert cuts == []


def test_and_before_a_verb_and_strong_boundaries_still_split() -> None:
    from agents.router import _NOT_CLAUSE

    starters = STARTERS - _NOT_CLAUSE
    assert ("why is checkout crashing in shop", "scale web to 4") in \
        split_points("why is checkout crashing in shop and scale web to 4", starters)
    assert split_points("create namespace lab; show the pods in shop", starters)


# -- context without demo names ---------------------------------------------------------------------------------


def test_context_has_no_demo_names() -> None:
    src = Path(context_mod.__file__).read_text()
    assert "alice" not in src and "bob" not in src


def test_subjects_are_found_by_grammar() -> None:
    assert subjects_in("can dana delete pods in shop?") == ["dana"]
    assert subjects_in("give erin read access to pods") == ["erin"]
    assert subjects_in("check if frank can list pods") == ["frank"]
    assert subjects_in("can you list pods") == []
    assert subjects_in("which pods use the most cpu") == []


# -- every domain agent abstains on an extra clause, and proposes nothing -----------------------------------------


@pytest.fixture(scope="module")
def kube(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kube]:
    server = SandboxServer(scenarios=["demo-shop"], speed=50.0).start()
    kc = server.write_kubeconfig(tmp_path_factory.mktemp("coverage") / "kubeconfig")
    time.sleep(2.0)
    k = Kube.from_kubeconfig(str(kc))
    yield k
    k.api.close()
    server.stop()


EXTRA_CLAUSE = {
    "scaling": "let web in shop autoscale between 3 and 10 replicas whenever latency rises above 200ms",
    "metrics": "what is the restart count of every pod in shop",
    "logs": "why is checkout crashing in shop and add an env var DEBUG=1 to it",
    "rbac": "create a read-only role for pods in shop bound to the ci-bot service account",
    "resources": "create namespace lab and a pod probe with 100m cpu limits and 128Mi memory requests",
    "serving": "deploy the bundled small model in namespace models behind an ingress with tls",
    "iam": 'fix this IAM policy so alice can read the reports bucket except on weekends: '
           '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}',
}


@pytest.mark.parametrize("agent", sorted(EXTRA_CLAUSE))
def test_each_agent_abstains_on_an_extra_clause(kube: Kube, agent: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    from agents import decide, fastpaths

    monkeypatch.setattr(decide, "run_loop", None)  # offline: no model can run the tool loop
    monkeypatch.setattr(fastpaths, "best", lambda ctx, agent: (None, None))  # the agent's own rules alone
    ctx = build_context(kube, EXTRA_CLAUSE[agent], None)
    res = importlib.import_module(f"agents.{agent}").run(ctx)
    assert res.mutations == []
    assert res.answer.startswith("I did not act:"), res.answer
    ab = res.data["abstain"]
    assert ab["ask"] and ab["not_understood"]


@pytest.mark.parametrize("agent,text", [
    ("scaling", "scale web in shop to 4 replicas"),
    ("scaling", "autoscale web in shop from 3 to 10 replicas at 70% cpu"),
    ("metrics", "which pods are using the most CPU in shop?"),
    ("rbac", "can ci-bot delete secrets in shop?"),
    ("resources", "add an environment variable FEATURE_X=true to the web deployment in shop"),
])
def test_a_fully_understood_request_is_acted_on(kube: Kube, agent: str, text: str,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    from agents import decide

    monkeypatch.setattr(decide, "run_loop", None)
    res = importlib.import_module(f"agents.{agent}").run(build_context(kube, text, None))
    assert "abstain" not in res.data, res.answer


def test_autoscale_bounds_are_read_by_phrase_not_order(kube: Kube) -> None:
    from agents import scaling

    res = scaling.run(build_context(kube, "autoscale web in shop at 70% cpu between 3 and 10 replicas", None))
    spec = res.mutations[0].body["spec"]
    assert (spec["minReplicas"], spec["maxReplicas"]) == (3, 10)
    assert spec["metrics"][0]["resource"]["target"]["averageUtilization"] == 70


def test_give_me_an_overview_is_a_read_in_reads_only():
    read = understand("give me a quick overview of the pods in shop", "resources", "read",
                      {"namespace": "shop"}, {"pods", "overview"})
    assert "give" not in read.unused
    change = understand("give me a quick overview of the pods in shop", "rbac", "grant",
                        {"namespace": "shop"}, {"pods", "overview"})
    assert "give" in change.unused


def test_a_yes_no_question_about_a_change_is_not_the_change():
    from agents.coverage import understand

    for text in ("did you restart web in shop?", "do I need to restart web in shop?",
                 "does checkout in shop have an autoscaler?"):
        assert not understand(text, "scaling", "restart", {"workload": "web", "namespace": "shop"},
                              {"restart", "autoscaler", "need", "have"}).confident
    for text in ("can you restart web in shop?", "have the web deployment in shop restart"):
        assert understand(text, "scaling", "restart", {"workload": "web", "namespace": "shop"},
                          {"restart", "deployment"}).confident


def test_a_question_to_the_diagnosis_is_its_own():
    from agents.coverage import understand

    assert understand("is anything wrong with the web deployment in shop?", "logs", "diagnose",
                      {"workload": "web", "namespace": "shop"}, {"anything", "wrong", "deployment"}).confident
