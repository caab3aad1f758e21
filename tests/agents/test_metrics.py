"""The metrics agent's usage answer is about the workload asked: a workload with no metrics says so (it is not
replaced by other pods' numbers)."""

from __future__ import annotations

from types import SimpleNamespace

from agents.metrics import _usage


class _Kube:
    def top_pods(self, ns):
        return [{"metadata": {"namespace": ns, "name": "web-1"},
                 "containers": [{"usage": {"cpu": "5m", "memory": "8Mi"}}]}]

    def top_nodes(self):
        return [{"metadata": {"name": "n1"}, "usage": {"cpu": "100m", "memory": "1Gi"}}]

    def list(self, kind, ns=None):
        return [{"metadata": {"name": "n1"}, "status": {"allocatable": {"cpu": "4"}}}]


def _ctx(workload):
    return SimpleNamespace(kube=_Kube(), namespace="shop", text=f"is {workload} using a lot of memory?",
                           entities=SimpleNamespace(workload=workload))


def test_the_workload_asked_for_is_answered_first():
    assert _usage(_ctx("web")).answer.startswith("web: web-1 uses 5m CPU and 8Mi memory")


def test_a_workload_without_metrics_says_so():
    answer = _usage(_ctx("orders")).answer
    assert answer.startswith("orders: no CPU or memory metrics for its pods right now")
