"""cronjob-schedule: phrases and cron expressions become exactly one spec.schedule; the same schedule is "already
so"; clauses the table does not cover leave it not confident."""

from __future__ import annotations

import pytest

from tests.agents.fastpaths.conftest import (
    approve,
    create,
    goal_holds,
    goals,
    namespace,
    not_confident,
    plan,
    understood,
)

NS = "fp-cron"
AGENT, INTENT = "resources", "cronjob-schedule"


def cronjob(name: str, schedule: str) -> dict:
    return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": name, "namespace": NS},
            "spec": {"schedule": schedule, "jobTemplate": {"spec": {"template": {"spec": {
                "restartPolicy": "OnFailure", "containers": [{"name": "run", "image": "busybox:1.36",
                                                              "command": ["true"]}]}}}}}}


@pytest.fixture(scope="module", autouse=True)
def objects(kube):
    create(kube, namespace(NS), cronjob("report", "0 * * * *"), cronjob("backup", "0 1 * * *"),
           cronjob("cleanup", "*/5 * * * *"))


@pytest.mark.parametrize("text,expr", [
    ("reschedule the cronjob report in fp-cron to run every 15 minutes", "*/15 * * * *"),
    ("Hi team, could you please change the schedule of the 'backup' cron job in namespace fp-cron so it runs daily at "
     "2am instead? Thanks a lot", "0 2 * * *"),
    ("set schedule of cronjob report -n fp-cron to \"30 3 * * 1\"", "30 3 * * 1"),
    ("the report cronjob in fp-cron runs at midnight but it should run at 3am, please change it", "0 3 * * *"),
    ("make the backup cronjob in fp-cron run on weekdays at 6:30pm", "30 18 * * 1-5"),
    ("reschedul report in fp-cron: every monday at 9am", "0 9 * * 1"),
    ("move the report cronjob in fp-cron to every two hours", "0 */2 * * *"),
])
def test_wordings_become_one_schedule(kube, text, expr):
    r = plan(kube, text, AGENT, INTENT)
    (m,) = r.mutations
    assert (m.verb, m.kind, m.namespace, m.body) == ("patch", "CronJob", NS, {"spec": {"schedule": expr}})
    assert m.goal == [{"kind": "CronJob", "namespace": NS, "name": m.name, "path": "spec.schedule", "op": "eq",
                       "value": expr}]


def test_the_same_schedule_is_already_so(kube):
    r = plan(kube, "reschedule report in fp-cron to every hour", AGENT, INTENT)
    assert not r.mutations and r.answer.startswith("Already so")


@pytest.mark.parametrize("text", [
    "reschedule report in fp-cron to every 15 minutes and also expose it on port 80",
    "reschedule report in fp-cron to every 15 minutes in the Berlin timezone",
    "reschedule report in fp-cron to every 90 minutes",  # not a cron interval
    "reschedule the cronjob to every 15 minutes",  # which one?
    "the report cronjob in fp-cron should run at midnight or at 3am",  # which of the two?
    "reschedule report in fp-cron to every 15 minutes and suspend backup",
])
def test_extra_or_unreadable_clauses_are_not_understood(kube, text):
    assert not_confident(kube, text, AGENT, INTENT)


def test_a_name_that_sounds_like_a_schedule_is_not_one(kube):
    create(kube, cronjob("nightly-report", "0 2 * * *"))
    fp, u, _ = understood(kube, "whats the schedule of the nightly-report cronjob in fp-cron?", AGENT, INTENT)
    assert u is None  # a question about the schedule: no new schedule said
    r = plan(kube, "move the nightly-report cronjob in fp-cron to 3am every day", AGENT, INTENT)
    assert [m.body for m in r.mutations] == [{"spec": {"schedule": "0 3 * * *"}}]


def test_applied_through_the_supervisor_the_schedule_is_set(kube, runtime):
    text = "please reschedule the cleanup cronjob in fp-cron to run nightly at 11 pm"
    r = plan(kube, text, AGENT, INTENT)
    out = approve(runtime, text, AGENT)
    assert [o["status"] for o in out["outcomes"]] == ["applied"]
    assert goal_holds(kube, goals(r)) == []
    assert kube.get("CronJob", NS, "cleanup")["spec"]["schedule"] == "0 23 * * *"
