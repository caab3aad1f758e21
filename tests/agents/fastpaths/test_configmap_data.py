"""configmap-data: keys of an existing ConfigMap set or removed by a merge patch of exactly those keys; the others
stay; a ConfigMap that does not exist, or extra clauses, leave it not confident."""

from __future__ import annotations

import pytest

from tests.agents.fastpaths.conftest import approve, create, held, namespace, not_confident, plan

NS = "fp-cm"
AGENT, INTENT = "resources", "configmap-data"


@pytest.fixture(scope="module", autouse=True)
def objects(kube):
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "app-config", "namespace": NS},
          "data": {"CURRENCY": "EUR", "DEBUG": "1"}}
    create(kube, namespace(NS), cm)


@pytest.mark.parametrize("text,data", [
    ("could you add API_URL=http://api.fp-cm.svc to the app-config configmap in fp-cm?", {"API_URL": "http://api.fp-cm.svc"}),
    ("set TIMEOUT=30 and RETRIES=3 in configmap app-config -n fp-cm", {"TIMEOUT": "30", "RETRIES": "3"}),
    ("please remove DEBUG from the app-config config map in fp-cm", {"DEBUG": None}),
])
def test_wordings_become_one_merge_patch_of_the_said_keys(kube, text, data):
    (m,) = plan(kube, text, AGENT, INTENT).mutations
    assert (m.verb, m.kind, m.name, m.patch_type, m.body) == ("patch", "ConfigMap", "app-config", "merge",
                                                              {"data": data})
    kept = {g["path"] for g in m.goal if g.get("op") == "eq"}
    assert "data.CURRENCY" in kept  # the other keys are part of the goal: untouched


@pytest.mark.parametrize("text", [
    "add API_URL=http://x to the other-config configmap in fp-cm",  # no such ConfigMap
    "add API_URL=http://x to the app-config configmap in fp-cm and restart web",
    "add API_URL=http://x to the app-config configmap in fp-cm tonight",
])
def test_missing_object_or_extra_clauses_are_not_understood(kube, text):
    assert not_confident(kube, text, AGENT, INTENT)


def test_applied_the_keys_hold_and_the_others_stay(kube, runtime):
    out = approve(runtime, "add FEATURE=on to the app-config configmap in fp-cm", AGENT)
    held(out, 1)
    data = kube.get("ConfigMap", NS, "app-config")["data"]
    assert data["FEATURE"] == "on" and data["CURRENCY"] == "EUR"
