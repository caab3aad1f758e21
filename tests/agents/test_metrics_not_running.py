"""The usage answer on the demo-shop sandbox when pods are not running: a workload whose pods do not run says so,
with each pod's waiting reason, and no number; a workload with some pods running gives their usage and names the
others; a ranking names the pods it has no metrics for. A request with words the usage answer does not answer is
not answered."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator

import pytest

from agents import metrics
from agents.context import build_context
from sandbox.server import SandboxServer
from tests.waiting import until
from tools.k8s.client import Kube

MIXED = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "mixed", "namespace": "shop"},
         "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "mixed"}},
                  "strategy": {"rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
                  "template": {"metadata": {"labels": {"app": "mixed"}},
                               "spec": {"containers": [{"name": "mixed", "image": "nginx:1.27"}]}}}}


def _reason(kube: Kube, prefix: str) -> set[str]:
    return {c.get("state", {}).get("waiting", {}).get("reason") for p in kube.list("Pod", "shop")
            if p["metadata"]["name"].startswith(prefix) for c in p.get("status", {}).get("containerStatuses") or []}


@pytest.fixture(scope="module")
def kube() -> Iterator[Kube]:
    server = SandboxServer(scenarios=["demo-shop"], speed=50.0).start()
    kc = server.write_kubeconfig(tempfile.mkdtemp(prefix="metrics-not-running-") + "/kubeconfig")
    k = Kube.from_kubeconfig(str(kc))
    k.request("POST", k.path("Deployment", "shop"), MIXED)
    until(lambda: sum(p["metadata"]["name"].startswith("mixed-") for p in k.top_pods("shop")) == 2, timeout=30)
    # a rollout to an image that does not exist: the two old pods keep running, the new one cannot pull
    k.request("PATCH", k.path("Deployment", "shop", "mixed"),
              {"spec": {"template": {"spec": {"containers": [{"name": "mixed", "image": "nginx:1.277"}]}}}},
              content_type="application/strategic-merge-patch+json")
    until(lambda: _reason(k, "mixed-") & {"ErrImagePull", "ImagePullBackOff"}, timeout=30)
    until(lambda: _reason(k, "catalog-") & {"ImagePullBackOff"}, timeout=30)
    yield k
    server.stop()


def _ask(kube: Kube, text: str):
    return metrics.run(build_context(kube, text, None, None))


@pytest.mark.parametrize("text", [
    "how much CPU is catalog using in shop? I want to right-size its requests",
    "what's the cpu of the catalog deployment in shop right now?",
    "is catalog in shop using a lot of memory?",
])
def test_a_workload_whose_pods_do_not_run_has_no_usage_and_says_why(kube: Kube, text: str) -> None:
    res = _ask(kube, text)
    first = res.answer.splitlines()[0]
    assert first.startswith("catalog: its pods are not running, so there is no CPU or memory usage to report"), \
        res.answer
    pods = [p["metadata"]["name"] for p in kube.list("Pod", "shop") if p["metadata"]["name"].startswith("catalog-")]
    assert pods and all(re.search(rf"{p} is not running \((?:ImagePullBackOff|ErrImagePull)\): no usage to report",
                                  first) for p in pods)
    assert "uses" not in first and not res.mutations


def test_right_sizing_gives_the_requests_beside_no_usage(kube: Kube) -> None:
    res = _ask(kube, "how much CPU is catalog using in shop? I want to right-size its requests")
    assert "Requests per pod: 100m CPU and 64Mi memory; with no pod running there is no usage" in res.answer


def test_an_unscheduled_pod_says_pending(kube: Kube) -> None:
    res = _ask(kube, "memory of worker in shop?")
    assert re.match(r"worker: its pods are not running.*worker-\S+ is not running \(Pending: Unschedulable\)",
                    res.answer), res.answer


def test_some_pods_running_give_their_usage_and_name_the_others(kube: Kube) -> None:
    res = _ask(kube, "how much cpu is mixed using in shop?")
    first = res.answer.splitlines()[0]
    assert len(re.findall(r"mixed-\S+ uses \d+m CPU and \d+Mi memory", first)) == 2, res.answer
    assert re.search(r"mixed-\S+ is not running \((?:ImagePullBackOff|ErrImagePull)\): no usage to report", first)


def test_a_ranking_names_the_pods_it_has_no_metrics_for(kube: Kube) -> None:
    res = _ask(kube, "which pods in shop use the most cpu?")
    missing = next(line for line in res.answer.splitlines() if line.startswith("Not in these numbers (no metrics):"))
    for p in kube.list("Pod", "shop"):
        name = p["metadata"]["name"]
        if name.startswith(("catalog-", "worker-")):
            assert name in missing
    assert "(not running: ImagePullBackOff)" in missing and "(not running: Pending: Unschedulable)" in missing
    top = next(line for line in res.answer.splitlines() if line.startswith("Top pods"))
    assert not any(name in top for name in re.findall(r"(catalog-\S+?)[,( ]", missing))


@pytest.mark.parametrize("text", [
    "how much CPU is catalog using in shop? set its requests to 50m",  # a change, not a usage question
    "how much CPU did catalog use in shop since the last deploy?",  # a window the current usage does not answer
])
def test_what_the_usage_answer_does_not_answer_is_not_answered(kube: Kube, text: str) -> None:
    res = _ask(kube, text)
    assert (res.data or {}).get("abstain") and not res.mutations, res.answer
