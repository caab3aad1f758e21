"""How the resources agent reads a request's words into an intent, a kind and slots (agents.resource_text)."""

from __future__ import annotations

import pytest

from agents.resource_text import kind_of, parse, ports_of, schedule_of
from tools.manifests import build


@pytest.mark.parametrize("text,intent,kind", [
    ("I'd like a PVC named scratch in shop, 2Gi", "author", "PersistentVolumeClaim"),
    ("hey, we would like a new configmap called x in shop", "author", "ConfigMap"),
    ("please expose the orders deployment in shop as a service on port 80", "author", "Service"),
    ("deploy nginx:1.27 in namespace qa as a deployment called smoke", "author", "Deployment"),
])
def test_wishes_and_polite_orders_are_read_as_what_they_ask(text, intent, kind):
    req = parse(text)
    assert (req.intent, req.kind) == (intent, kind)


def test_in_namespace_names_where_unless_nothing_else_is_said():
    assert kind_of("deploy nginx in namespace qa as a deployment")[0] == "Deployment"
    assert kind_of("create namespace qa")[0] == "Namespace"


def test_a_storage_class_said_is_the_claims():
    req = parse("I'd like a PVC named scratch in shop, 2Gi, standard storage class")
    assert build(req.kind, req.slots)["spec"]["storageClassName"] == "standard"
    assert "storageClassName" not in build("PersistentVolumeClaim", parse("create a pvc data of 1Gi in shop").slots)["spec"]


def test_ports_and_times_are_not_read_inside_other_numbers():
    assert ports_of("expose orders as a service on port 80 pointing at 8080") == ([80], 8080)
    assert schedule_of("a service on port 80 pointing at 8080") == ""
    assert schedule_of("every day at 2am") == "0 2 * * *"


def test_which_quantities_are_requests_and_which_limits_is_read_per_phrase():
    req = parse("set cpu request 200m and memory limit 512Mi on the orders deployment in shop")
    assert (req.slots.requests, req.slots.limits) == ({"cpu": "200m"}, {"memory": "512Mi"})
    assert parse("set the memory limit and request of web to 512Mi").slots.limits == {"memory": "512Mi"}
    both = parse("create a pod p running nginx with 100m cpu and 128Mi memory").slots
    assert both.limits == {"cpu": "100m", "memory": "128Mi"}  # neither said: the default, as before


def test_a_read_applies_no_condition_it_cannot_filter_by():
    from agents.resources import _READ_IGNORES

    req = parse("which deployments in shop don't have a readiness probe?")
    assert req.intent == "read" and req.slots.probe and "probe" in _READ_IGNORES


@pytest.mark.parametrize("text,intent", [
    ("I think there's a leftover job called old-migration in batch, can you clean it up? we don't need it", "delete"),
    ("the catalog deployment in shop keeps failing, can you delete it?", "delete"),
    ("we need somewhere to keep flags. could you make a configmap flags in shop with A=1", "author"),
])
def test_an_order_need_not_open_the_request(text, intent):
    assert parse(text).intent == intent
