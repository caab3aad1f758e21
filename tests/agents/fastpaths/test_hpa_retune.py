"""The scaling agent's autoscale intent beside an autoscaler that exists: only the said fields change (found by its
scaleTargetRef, whatever its name), and "lower its target" with no autoscaler creates nothing."""

from __future__ import annotations

import pytest

from agents.context import build_context
from agents.scaling import run
from tests.agents.fastpaths.conftest import create, deployment, namespace

NS = "fp-retune"


@pytest.fixture(scope="module", autouse=True)
def objects(kube):
    hpa = {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
           "metadata": {"name": "api-hpa", "namespace": NS},
           "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "api"},
                    "minReplicas": 2, "maxReplicas": 7, "metrics": [{"type": "Resource", "resource": {
                        "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}]}}
    create(kube, namespace(NS), deployment(NS, "api"), deployment(NS, "web"), hpa)


def test_lowering_the_target_keeps_the_bounds(kube):
    r = run(build_context(kube, f"please lower the CPU target of the api autoscaler in {NS} to 50% — keep its min "
                                "and max as they are"))
    (m,) = r.mutations
    assert (m.verb, m.kind, m.name) == ("patch", "HorizontalPodAutoscaler", "api-hpa")
    assert set(m.body["spec"]) == {"metrics"}
    assert m.body["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] == 50
    assert {"kind": "HorizontalPodAutoscaler", "namespace": NS, "name": "api-hpa",
            "path": "spec.metrics.0.resource.target.averageUtilization", "op": "eq", "value": 50} in m.goal


def test_no_autoscaler_to_lower_creates_none(kube):
    r = run(build_context(kube, f"lower the cpu target of the web autoscaler in {NS} to 40%"))
    assert not r.mutations and r.data["abstain"]["ask"]


@pytest.mark.parametrize("text,field,value", [
    (f"the hpa for api in {NS} is too aggressive. can you change its max replicas to 4? leave the min and the cpu "
     "target alone", "maxReplicas", 4),
    (f"for the api autoscaler in {NS}: set min replicas to 3, nothing else", "minReplicas", 3),
])
def test_one_bound_said_changes_only_that_bound(kube, text, field, value):
    r = run(build_context(kube, text))
    (m,) = r.mutations
    assert (m.kind, m.name, m.body) == ("HorizontalPodAutoscaler", "api-hpa", {"spec": {field: value}})


def test_a_bound_from_one_value_to_another_is_that_bound_and_no_bare_number_is_a_target():
    from agents.scaling import _hpa_numbers

    assert _hpa_numbers("raise the max of the web hpa from 5 to 12, the min stays at 2") == {"max": 12}
    assert _hpa_numbers("autoscale web from 2 to 8 pods at 70% cpu") == {"target": 70, "min": 2, "max": 8}
    assert "target" not in _hpa_numbers("keep web at 5 and its autoscaler between 2 and 9")


def test_a_count_told_is_never_an_autoscaler_number(kube):
    r = run(build_context(kube, f"the api autoscaler in {NS} is at 3 replicas right now. please raise its max to 9"))
    (m,) = r.mutations
    assert m.body == {"spec": {"maxReplicas": 9}}


def test_an_autoscaler_is_never_created_beside_a_number_no_bound_took(kube):
    r = run(build_context(kube, f"autoscale web in {NS}, it must never go past 10 pods"))
    assert not r.mutations and "10" in r.data["abstain"]["not_understood"]
    from agents.scaling import _unread_numbers

    assert _unread_numbers("autoscale web, 3 replicas minimum, and it must not go past 10", {"min": 3}) == ["10"]
    assert _unread_numbers("autoscale web between 3 and 10 at 70% cpu", {"min": 3, "max": 10, "target": 70}) == []
