"""cronjob-suspend: pause or resume one CronJob with a one-field merge patch and its goal; the fields the request
says to leave alone are asserted unchanged; the same state is "already so"; anything else leaves it not confident."""

from __future__ import annotations

import pytest

from tests.agents.fastpaths.conftest import create, goals, namespace, not_confident, plan

NS = "fp-suspend"
AGENT, INTENT = "resources", "cronjob-suspend"


def cronjob(name: str, schedule: str, suspend: bool = False) -> dict:
    return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": name, "namespace": NS},
            "spec": {"schedule": schedule, "suspend": suspend, "jobTemplate": {"spec": {"template": {"spec": {
                "restartPolicy": "OnFailure", "containers": [{"name": "run", "image": "busybox:1.36",
                                                              "command": ["true"]}]}}}}}}


@pytest.fixture(scope="module", autouse=True)
def objects(kube):
    create(kube, namespace(NS), cronjob("ledger", "0 3 * * *"), cronjob("sweeper", "*/10 * * * *", suspend=True))


@pytest.mark.parametrize("text,name,want", [
    ("please suspend the ledger cronjob in fp-suspend", "ledger", True),
    ("could you pause cron job 'ledger' in the fp-suspend namespace for us? thanks a lot", "ledger", True),
    ("pause the ledger cronjob in fp-suspend, don't change its schedule or anything else", "ledger", True),
    ("resume the sweeper cronjob -n fp-suspend", "sweeper", False),
])
def test_one_field_patch_with_its_goal(kube, text, name, want):
    r = plan(kube, text, AGENT, INTENT)
    (m,) = r.mutations
    assert (m.verb, m.kind, m.namespace, m.name, m.patch_type) == ("patch", "CronJob", NS, name, "merge")
    assert m.body == {"spec": {"suspend": want}}
    assert {"kind": "CronJob", "namespace": NS, "name": name, "path": "spec.suspend", "op": "eq",
            "value": want} in goals(r)
    if "schedule" in text:
        assert {"kind": "CronJob", "namespace": NS, "name": name, "path": "spec.schedule", "op": "eq",
                "value": "0 3 * * *"} in goals(r)


def test_the_same_state_is_already_so(kube):
    r = plan(kube, "suspend the sweeper cronjob in fp-suspend", AGENT, INTENT)
    assert not r.mutations and r.data["already"] is True


@pytest.mark.parametrize("text", [
    "suspend the ledger cronjob in fp-suspend and change its schedule to 5am",
    "pause the ledger cronjob in fp-suspend but don't change its image",  # not a field this plan can assert
    "suspend the ledger cronjob in fp-suspend, then resume it tomorrow",
    "suspend every cronjob in fp-suspend",  # which one?
])
def test_extra_or_missing_clauses_are_not_understood(kube, text):
    assert not_confident(kube, text, AGENT, INTENT)
