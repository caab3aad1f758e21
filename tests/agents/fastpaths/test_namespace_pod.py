"""create-namespace-workload: a namespace (when missing), ConfigMaps and a Pod or Deployment as one ordered plan,
each value read from its own phrase, with a goal on every field asked; values it cannot attribute and extra clauses
leave it not confident."""

from __future__ import annotations

import pytest

from tests.agents.fastpaths.conftest import (
    approve,
    create,
    goal_holds,
    goals,
    held,
    namespace,
    not_confident,
    plan,
)

AGENT, INTENT = "resources", "create-namespace-workload"


@pytest.fixture(scope="module", autouse=True)
def objects(kube):
    create(kube, namespace("fp-nsw-old"))


def _asserted(r):
    return {(g["kind"], g.get("path", "exists")): g.get("value", True) for g in goals(r)}


def test_namespace_and_deployment_with_requests_and_limits(kube):
    r = plan(kube, "please set up a namespace 'fp-billing' with a deployment 'invoice-api' in it: 2 replicas, one "
                   "container called \"api\" running httpd:2.4, requests 200m CPU / 256Mi memory and limits 1 CPU / "
                   "512Mi.", AGENT, INTENT)
    assert [m.describe() for m in r.mutations] == ["create Namespace fp-billing",
                                                   "create Deployment fp-billing/invoice-api"]
    c = r.mutations[1].body["spec"]["template"]["spec"]["containers"][0]
    assert (c["name"], c["image"]) == ("api", "httpd:2.4")
    assert c["resources"] == {"requests": {"cpu": "200m", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}}
    g = _asserted(r)
    p = "spec.template.spec.containers.0"
    assert g[("Namespace", "exists")] is True and g[("Deployment", "spec.replicas")] == 2
    assert g[("Deployment", f"{p}.resources.limits.memory")] == "512Mi" and g[("Deployment", f"{p}.name")] == "api"


def test_configmap_mounted_into_a_pod_with_env_and_port(kube):
    r = plan(kube, "Hi! could you create a namespace fp-lab with a configmap 'tool-config' with MODE=dev and LEVEL=3 "
                   "mounted at /etc/tool, and a pod 'tool' running nginx:1.27 with env DEBUG=1 on port 8080? thanks",
             AGENT, INTENT)
    assert [m.describe() for m in r.mutations] == ["create Namespace fp-lab", "create ConfigMap fp-lab/tool-config",
                                                   "create Pod fp-lab/tool"]
    assert r.mutations[1].body["data"] == {"MODE": "dev", "LEVEL": "3"}
    pod = r.mutations[2].body["spec"]
    assert pod["volumes"] == [{"name": "tool-config", "configMap": {"name": "tool-config"}}]
    c = pod["containers"][0]
    assert c["volumeMounts"] == [{"name": "tool-config", "mountPath": "/etc/tool"}]
    assert c["env"] == [{"name": "DEBUG", "value": "1"}] and c["ports"] == [{"containerPort": 8080}]
    assert _asserted(r)[("ConfigMap", "data")] == {"MODE": "dev", "LEVEL": "3"}


def test_an_existing_namespace_is_not_created_again(kube):
    r = plan(kube, "create a namespace fp-nsw-old with a pod 'probe' running nginx:1.27", AGENT, INTENT)
    assert [m.describe() for m in r.mutations] == ["create Pod fp-nsw-old/probe"]


def test_a_missing_namespace_only_said_as_where_is_not_created(kube):
    r = plan(kube, "add a pod 'probe' running nginx:1.27 in namespace fp-nsw-typo", AGENT, INTENT)
    assert not r.mutations and "did not ask me to create" in r.answer


@pytest.mark.parametrize("text", [
    "create a namespace fp-x with a deployment 'web' running nginx:1.27 and expose it with a service on port 80",
    "create a namespace fp-x with a deployment 'web' running nginx:1.27 and a deployment 'api' running httpd:2.4",
    "create a namespace fp-x with a pod 'web' running nginx:1.27 with 3 replicas",  # a Pod has no replicas
    "create a namespace fp-x with a pod 'web' running nginx:1.27 and MODE=dev",  # data of what? env or a ConfigMap?
    "create a namespace fp-x with a pod 'web' running nginx:1.27 with 500m",  # cpu or memory, request or limit?
    "create a namespace fp-x with a pod 'web'",  # which image?
    "create a namespace fp-x with a deployment 'web' running nginx:1.27 but only on weekdays",
    "create a namespace fp-x with a configmap 'a' with X=1 and a configmap 'b' with Y=2 mounted at /etc/x and a pod "
    "'web' running nginx:1.27",  # which ConfigMap is mounted?
])
def test_extra_or_missing_clauses_are_not_understood(kube, text):
    assert not_confident(kube, text, AGENT, INTENT)


def test_applied_through_the_supervisor_every_field_holds(kube, runtime):
    text = ("create a namespace 'fp-shop2' with a configmap 'web-config' with GREETING=hi mounted at /etc/web and a "
            "deployment 'web' with 2 replicas, container \"nginx\" running nginx:1.27, requests 100m cpu and 64Mi "
            "memory, limits 200m cpu and 128Mi memory")
    r = plan(kube, text, AGENT, INTENT)
    assert len(r.mutations) == 3
    out = approve(runtime, text, AGENT)
    held(out, 3)
    assert goal_holds(kube, goals(r)) == []
    assert kube.get("Deployment", "fp-shop2", "web")["spec"]["template"]["spec"]["containers"][0]["name"] == "nginx"
