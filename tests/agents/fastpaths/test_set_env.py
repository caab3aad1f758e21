"""set-env: one variable added (or changed, or removed) at an exact index of the live env list, with the goal on that
index; already-set values are "already so"; extra clauses leave it not confident."""

from __future__ import annotations

import pytest

from tests.agents.fastpaths.conftest import (
    approve,
    create,
    deployment,
    goal_holds,
    goals,
    namespace,
    not_confident,
    plan,
)

NS = "fp-env"
AGENT, INTENT = "resources", "set-env"


@pytest.fixture(scope="module", autouse=True)
def objects(kube):
    web = [{"name": "web", "image": "nginx:1.27", "env": [{"name": "MODE", "value": "prod"},
                                                         {"name": "DEBUG", "value": "0"}]}]
    two = [{"name": "app", "image": "nginx:1.27"}, {"name": "sidecar", "image": "busybox:1.36"}]
    create(kube, namespace(NS), deployment(NS, "web", containers=web), deployment(NS, "api", containers=two),
           deployment(NS, "worker"))


def _env(r):
    (m,) = r.mutations
    final = m.body[-1]["value"]
    return m, {e["name"]: e.get("value") for e in final}


@pytest.mark.parametrize("text,key,value", [
    ("add env var LOG_LEVEL=debug to deployment web in fp-env", "LOG_LEVEL", "debug"),
    ("Hey, could you please set the environment variable FEATURE_X to 'on' for the 'web' deployment in namespace "
     "fp-env? Thanks a lot!", "FEATURE_X", "on"),
    ("set MODE=staging on web -n fp-env", "MODE", "staging"),
    ("add an environmnet variable TIMEOUT=30 to the app container of api in fp-env", "TIMEOUT", "30"),
    ("web in fp-env is too quiet, could you change its MODE from prod to debug? nothing else", "MODE", "debug"),
])
def test_wordings_become_one_env_patch(kube, text, key, value):
    m, env = _env(plan(kube, text, AGENT, INTENT))
    assert (m.verb, m.kind, m.namespace, m.patch_type) == ("patch", "Deployment", NS, "json")
    assert env[key] == value
    names = [e["name"] for e in m.body[-1]["value"]]
    i = names.index(key)
    assert {"kind": "Deployment", "namespace": NS, "name": m.name, "path": f"spec.template.spec.containers.0.env.{i}.value",
            "op": "eq", "value": value} in m.goal
    if m.name == "web":
        assert names[:2] == ["MODE", "DEBUG"]  # the others are kept, in place


def test_a_from_value_that_does_not_hold_is_asked_not_changed(kube):
    r = plan(kube, "change MODE from staging to debug on web in fp-env", AGENT, INTENT)
    assert not r.mutations and "'prod'" in r.data["abstain"]["ask"]


def test_remove_a_variable(kube):
    m, env = _env(plan(kube, "remove the env var DEBUG from web in fp-env", AGENT, INTENT))
    assert list(env) == ["MODE"]
    assert {"kind": "Deployment", "namespace": NS, "name": "web", "path": "spec.template.spec.containers.0.env.1",
            "op": "missing", "value": None} in m.goal


def test_a_value_already_set_is_already_so(kube):
    r = plan(kube, "set env MODE=prod on web in fp-env", AGENT, INTENT)
    assert not r.mutations and r.answer.startswith("Already so")


@pytest.mark.parametrize("text", [
    "add env var LOG_LEVEL=debug to web in fp-env but only on weekdays",
    "add env var LOG_LEVEL=debug to web in fp-env and also expose it on port 80",
    "add env var LOG_LEVEL=debug to api in fp-env",  # two containers: which one?
    "add env var LOG_LEVEL=debug",  # which workload?
    "add env var LOG_LEVEL from the secret app-secrets to web in fp-env",
])
def test_extra_or_missing_clauses_are_not_understood(kube, text):
    assert not_confident(kube, text, AGENT, INTENT)


def test_applied_through_the_supervisor_the_variable_is_set(kube, runtime):
    text = "please add the environment variable LOG_LEVEL=debug to the worker deployment in fp-env"
    r = plan(kube, text, AGENT, INTENT)
    out = approve(runtime, text, AGENT)
    assert [o["status"] for o in out["outcomes"]] == ["applied"] and out["outcomes"][0].get("verified") is True
    assert goal_holds(kube, goals(r)) == []
    assert plan(kube, text, AGENT, INTENT).answer.startswith("Already so")
