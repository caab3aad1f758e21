"""The metrics agent's usage answer is about the workload asked: a workload with no metrics says so (it is not
replaced by other pods' numbers)."""

from __future__ import annotations

from types import SimpleNamespace

from agents.metrics import _usage
from tools.k8s.client import KubeError


class _Kube:
    def top_pods(self, ns):
        return [{"metadata": {"namespace": ns, "name": "web-1"},
                 "containers": [{"usage": {"cpu": "5m", "memory": "8Mi"}}]}]

    def top_nodes(self):
        return [{"metadata": {"name": "n1"}, "usage": {"cpu": "100m", "memory": "1Gi"}}]

    def list(self, kind, ns=None):
        if kind == "Pod":
            return []
        return [{"metadata": {"name": "n1"}, "status": {"allocatable": {"cpu": "4"}}}]

    def get(self, kind, ns, name):
        raise KubeError(404, "NotFound", f"{kind} {name} not found")


def _ctx(workload):
    return SimpleNamespace(kube=_Kube(), namespace="shop", text=f"is {workload} using a lot of memory?",
                           entities=SimpleNamespace(workload=workload, workload_kind=None))


def test_the_workload_asked_for_is_answered_first():
    assert _usage(_ctx("web")).answer.startswith("web: web-1 uses 5m CPU and 8Mi memory")


def test_a_workload_without_metrics_says_so():
    answer = _usage(_ctx("orders")).answer
    assert answer.startswith("orders: no CPU or memory metrics for its pods right now")


def test_two_workloads_each_get_their_line_and_top_n_is_kept():
    class Two(_Kube):
        def top_pods(self, ns):
            return [{"metadata": {"namespace": ns, "name": n}, "containers": [{"usage": {"cpu": c, "memory": "64Mi"}}]}
                    for n, c in (("web-a", "5m"), ("web-b", "7m"), ("cruncher-x", "900m"), ("db-0", "20m"))]

    ctx = SimpleNamespace(kube=Two(), namespace="shop", text="memory of cruncher compared with web",
                          entities=SimpleNamespace(workload="cruncher", workload_kind=None))
    answer = _usage(ctx, ["web"], top_n=2).answer
    assert "cruncher: cruncher-x uses 900m CPU and 64Mi memory" in answer
    assert "web: web-b uses 7m CPU and 64Mi memory; web-a uses 5m CPU and 64Mi memory (together 12m CPU, 128Mi)" in answer
    top = next(line for line in answer.splitlines() if line.startswith("Top pods"))
    assert top.count("/") == 2


class _Nodes(_Kube):
    """Three nodes: a control plane with little in use, a busy worker, and a worker with the most left."""

    def top_nodes(self):
        return [{"metadata": {"name": n}, "usage": {"cpu": c, "memory": m}}
                for n, c, m in (("cp", "50m", "200Mi"), ("w1", "3000m", "3Gi"), ("w2", "500m", "1Gi"))]

    def list(self, kind, ns=None):
        if kind == "Pod":
            return []
        cp = {"node-role.kubernetes.io/control-plane": ""}
        return [{"metadata": {"name": n, "labels": lab}, "status": {"allocatable": {"cpu": c, "memory": m}}}
                for n, lab, c, m in (("cp", cp, "1", "1Gi"), ("w1", {}, "4", "8Gi"), ("w2", {}, "4", "8Gi"))]


def _ask(text):
    ctx = SimpleNamespace(kube=_Nodes(), namespace=None, text=text, entities=SimpleNamespace(workload=None))
    return _usage(ctx).answer


def test_least_and_headroom_rank_nodes_by_what_is_left_and_worker_nodes_leave_out_the_control_plane():
    assert "Node using the least CPU: w2" in _ask("which worker node has the most CPU headroom?")
    assert "cp" not in _ask("which worker node has the most CPU headroom?").split("Node using")[1]
    assert "Node using the least memory: w2" in _ask("which node has the most free memory?")
    assert "Busiest node: w1" in _ask("what's the busiest node?")
    assert "Node using the most memory: w1" in _ask("which node uses the most memory?")


def test_a_total_and_a_node_said_come_first():
    ctx = SimpleNamespace(kube=_Nodes(), namespace="shop", text="what's the total cpu used in shop?",
                          entities=SimpleNamespace(workload=None))
    assert _usage(ctx).answer.startswith("Total in namespace shop: 5m CPU")
    ctx.text = "how loaded is w2?"
    assert _usage(ctx, nodes_said=["w2"]).answer.startswith("w2: 500m CPU (12% of allocatable) and 1024Mi memory")
