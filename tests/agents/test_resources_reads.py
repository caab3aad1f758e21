"""Reads about one object's parts, answered from the live object in its kind's own terms: an Ingress's routes and
TLS (never another object's events), a Service's ports, a workload's images, a CronJob list's schedules, a Secret's
keys (never its values); and a Service authored with the target port said ("targeting 8080"), with its goal."""

from __future__ import annotations

import base64
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from agents import resources
from agents.context import build_context
from agents.resource_text import ports_of
from agents.state import AgentResult
from sandbox.server import SandboxServer
from tools.k8s.client import Kube


@pytest.fixture(scope="module")
def kube() -> Iterator[Kube]:
    server = SandboxServer(scenarios=["demo-shop", "toolsmith"], speed=50.0).start()
    kc = server.write_kubeconfig(Path(tempfile.mkdtemp()) / "kubeconfig")
    time.sleep(2.0)  # let the workloads' pods appear
    yield Kube.from_kubeconfig(str(kc))
    server.stop()


def ask(kube: Kube, text: str) -> AgentResult:
    ctx = build_context(kube, text)
    ctx.no_loop = True
    return resources.run(ctx)


def answered(kube: Kube, text: str) -> str:
    r = ask(kube, text)
    assert "abstain" not in r.data and not r.mutations, r.answer
    return r.answer


def test_describe_ingress_is_the_ingress(kube):
    a = answered(kube, "describe the frontend ingress in web")
    assert a.startswith("ingress web/frontend")
    assert "class nginx" in a and "service frontend:80" in a and "shop.example.com" in a
    assert "secret frontend-tls" in a
    assert "ScalingReplicaSet" not in a  # the frontend Deployment's events are not the Ingress's


def test_ingress_backend_and_tls_question(kube):
    a = answered(kube, "which service and port does the 'frontend' ingress in web send traffic to, and does it "
                       "terminate TLS?")
    assert "ingress web/frontend" in a and "service frontend:80" in a and "TLS: yes" in a and "frontend-tls" in a
    a = answered(kube, "where does the api ingress in web route traffic?")
    assert "service api-nodeport:8080" in a and "TLS: no" in a


@pytest.mark.parametrize("text, cite, port", [
    ("what ports does the web service in shop expose?", "service shop/web", "port 80/TCP → targetPort 80"),
    ("which port does the frontend service listen on", "service web/frontend", "port 80/TCP"),
    ("what's the target port of api-nodeport in web", "service web/api-nodeport", "targetPort 80, nodePort 30000"),
])
def test_service_ports(kube, text, cite, port):
    a = answered(kube, text)
    assert cite in a and port in a


def test_describe_service_has_its_own_summary(kube):
    a = answered(kube, "describe the api-nodeport service in web")  # "port" inside the name asks for nothing
    assert "type NodePort" in a and "nodePort 30000" in a and "selector app=api" in a and "endpoints:" in a


def test_describe_cronjob_secret_deployment(kube):
    a = answered(kube, "describe the weekly-backup cronjob in batch")
    assert 'schedule "0 3 * * 0"' in a and "suspended yes" in a
    a = answered(kube, "describe the frontend-tls secret in web")
    assert "type kubernetes.io/tls" in a and "tls.crt" in a and "tls.key" in a
    secret = kube.get("Secret", "web", "frontend-tls")
    for v in (secret.get("data") or {}).values():  # keys only: neither the encoded nor the decoded value
        assert v not in a and base64.b64decode(v).decode(errors="ignore")[:20] not in a
    a = answered(kube, "describe the checkout deployment in shop")
    assert "replicas 2 desired" in a and "strategy RollingUpdate" in a and "kubesage/checkout:2.4.0" in a


@pytest.mark.parametrize("text", ["list all cronjobs in batch and their schedules",
                                  "list the cronjobs in batch with their schedules",
                                  "list the cronjobs in batch and when they run"])
def test_cronjob_list_shows_schedules(kube, text):
    a = answered(kube, text)
    for cj in kube.list("CronJob", "batch"):
        assert f"batch/{cj['metadata']['name']}: schedule \"{cj['spec']['schedule']}\"" in a
    assert "weekly-backup: schedule \"0 3 * * 0\", suspended yes" in a


def test_image_of_one_workload(kube):
    r = ask(kube, "what image is the checkout deployment in shop running?")
    assert "abstain" not in r.data, r.answer
    assert r.answer.startswith("deployment shop/checkout runs") and r.data["images"] == ["kubesage/checkout:2.4.0"]
    assert "nginx" not in r.answer  # not every image of the namespace
    a = answered(kube, "what images are running in shop?")  # no object named: the namespace's images
    assert "image(s) running in namespace shop" in a


def test_expose_with_target_port(kube):
    r = ask(kube, "expose the worker deployment in shop as a ClusterIP service on port 80 targeting 8080")
    assert "abstain" not in r.data, r.answer
    (m,) = [m for m in r.mutations if m.kind == "Service"]
    port = m.body["spec"]["ports"][0]
    assert (port["port"], port["targetPort"], m.body["spec"]["type"]) == (80, 8080, "ClusterIP")
    assert {"kind": "Service", "namespace": "shop", "name": "worker", "path": "spec.ports", "op": "contains",
            "value": {"port": 80, "targetPort": 8080}} in m.goal


def test_expose_what_exists_proposes_nothing(kube):
    r = ask(kube, "expose the orders deployment in shop as a ClusterIP service on port 80 targeting 8080")
    assert not r.mutations and "service shop/orders already exists" in r.answer  # its selector is app=order
    assert "selector is {'app': 'order'}" in r.answer
    r = ask(kube, "expose the payments deployment in shop on port 80 targeting 8080")
    assert not r.mutations and r.answer.startswith("Already so: service shop/payments")


@pytest.mark.parametrize("text, target", [
    ("a service on port 80 targeting 8080", 8080), ("on port 80 with target port 9090", 9090),
    ("port 80 to container port 8081", 8081), ("port 80 forwarding to 8082", 8082), ("port 80 -> 8083", 8083),
    ("a service on port 80", None),
])
def test_target_port_phrasings(text, target):
    assert ports_of(text) == ([80], target)


@pytest.mark.parametrize("text", [
    "what image is the frontend deployment in web running and how many replicas does it have",  # a second question
    "what ports does the web service in shop expose? and scale it to 3",  # a change beside the read
])
def test_a_part_read_is_not_more(kube, text):
    r = ask(kube, text)
    assert "abstain" in r.data and not r.mutations, r.answer
