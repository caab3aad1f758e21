"""object-field: the fields asked of one named object, read live; a field the object's kind does not have, a kind said
that is not the object's, or a Secret-looking env value never answered as asked."""

from __future__ import annotations

import pytest

from agents import resources
from tests.agents.fastpaths.conftest import create, ctx_of, deployment, namespace, not_confident, plan

NS = "fp-field"
AGENT, INTENT = "resources", "object-field"


@pytest.fixture(scope="module", autouse=True)
def objects(kube):
    app = deployment(NS, "app", containers=[{"name": "app", "image": "nginx:1.27", "env": [
        {"name": "MODE", "value": "prod"}, {"name": "DB_PASSWORD", "value": "hunter2"}]}])
    app["metadata"]["labels"] = {"team": "core"}
    cron = {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "nightly", "namespace": NS},
            "spec": {"schedule": "0 2 * * *", "suspend": True, "jobTemplate": {"spec": {"template": {"spec": {
                "restartPolicy": "OnFailure", "containers": [{"name": "r", "image": "busybox:1.36"}]}}}}}}
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "app", "namespace": NS},
           "spec": {"selector": {"app": "app"}, "ports": [{"port": 80, "targetPort": 8080}]}}
    create(kube, namespace(NS), app, cron, svc)


@pytest.mark.parametrize("text,expect", [
    (f"is the nightly cronjob in {NS} suspended?", "suspended: yes"),
    (f"whats the schedule of nightly in {NS}?", '"0 2 * * *"'),
    (f"what labels does the app deployment in {NS} have and what is its image?", "labels: team=core; images: container app: image nginx:1.27"),
    (f"what type is the app service in {NS}?", "type: ClusterIP"),
])
def test_the_fields_asked_are_read_live(kube, text, expect):
    r = plan(kube, text, AGENT, INTENT)
    assert expect in r.answer and not r.mutations


def test_env_values_that_look_like_credentials_are_never_shown(kube):
    r = plan(kube, f"what env vars does the app deployment in {NS} have?", AGENT, INTENT)
    assert "MODE=prod" in r.answer and "hunter2" not in r.answer and "DB_PASSWORD=<redacted>" in r.answer


@pytest.mark.parametrize("text", [
    f"what is the schedule of the app deployment in {NS}?",  # no such field on a Deployment
    f"what is the type of the app deployment in {NS}?",  # the Service has a type; the kind said is a Deployment
    f"is the nightly cronjob in {NS} suspended? if not, suspend it",
])
def test_a_field_the_object_does_not_have_is_not_understood(kube, text):
    assert not_confident(kube, text, AGENT, INTENT)


def test_the_resources_agent_answers_every_field_asked(kube):
    res = resources.run(ctx_of(kube, f"what labels does the app deployment in {NS} have and what is its image?"))
    assert "team=core" in res.answer and "nginx:1.27" in res.answer
