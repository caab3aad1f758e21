"""logs-tail: the last lines of a workload's or pod's log, as written; a count, a namespace said with "in" beside a
workload said with "from", and the diagnosis keeping every request that names a symptom or asks why."""

from __future__ import annotations

import pytest

from agents import logs
from tests.agents.fastpaths.conftest import create, ctx_of, deployment, namespace, not_confident, plan
from tests.waiting import until

NS, OTHER = "fp-logs", "fp-logs-web"
AGENT, INTENT = "logs", "logs-tail"


@pytest.fixture(scope="module", autouse=True)
def objects(kube):
    # a namespace named like the workload: "the logs from fp-logs-web in fp-logs" names the workload, not it
    create(kube, namespace(NS), namespace(OTHER), deployment(NS, OTHER, image="busybox:1.36", containers=[
        {"name": "app", "image": "busybox:1.36", "command": ["sh", "-c", "for i in $(seq 1 40); do echo line $i; done; "
                                                            "sleep 3600"]}]))
    until(lambda: any((p.get("status") or {}).get("phase") == "Running" for p in kube.list("Pod", NS)), 60, "a running pod")


@pytest.mark.parametrize("text,tail", [
    (f"show me the last 5 lines of logs from {OTHER} in {NS}", 5),
    (f"print the logs of {OTHER} in namespace {NS}", 20),
    (f"tail 12 lines of the {OTHER} logs in {NS} please", 12),
    (f"show me the last 7 lines from the {OTHER} pod in {NS}", 7),  # lines of a workload's pod are its log
])
def test_the_lines_asked_for_are_quoted_from_the_live_log(kube, text, tail):
    res = plan(kube, text, AGENT, INTENT)
    assert not res.mutations
    assert f"Deployment {NS}/{OTHER}" in res.answer and "```" in res.answer
    quoted = [ln for ln in res.answer.split("```")[1].splitlines() if ln.startswith("line ")]
    wait = 40 - tail + 1  # the last `tail` lines of 40 written
    assert quoted and len(quoted) <= tail and quoted[-1] == "line 40" and (len(quoted) < tail or
                                                                           quoted[0] == f"line {wait}")


@pytest.mark.parametrize("text", [
    f"show me the last 20 lines of logs from {OTHER} in {NS} tonight",
    f"show me the last 20 lines of logs from {OTHER} in {NS} and restart it",
    f"show me the first 10 lines of logs from {OTHER} in {NS}",
])
def test_more_than_the_lines_is_not_understood(kube, text):
    assert not_confident(kube, text, AGENT, INTENT)


def test_a_symptom_or_a_why_keeps_the_diagnosis(kube):
    res = logs.run(ctx_of(kube, f"why is {OTHER} in {NS} crashing? show me its logs"))
    assert "```" not in res.answer.split("\n")[0]
    assert not (res.data or {}).get("understood", "").startswith("logs-tail")
