"""unschedulable: the scheduler's message parsed, requests vs the largest eligible node, selector typos."""

from __future__ import annotations

from tests.tools.diagnose import builders as b
from tools.diagnose.base import REGISTRY, load_checks
from tools.diagnose.checks.unschedulable import parse_message

load_checks()
CHECK = REGISTRY["unschedulable"]

MSG = ("0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, "
       "2 Insufficient cpu. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, "
       "2 No preemption victims found for incoming pod.")
CP_TAINT = [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]


def pending(requests: dict[str, str], message: str = MSG, pod_spec: dict | None = None, busy: str = "500m"):
    dep = b.deployment("worker", [b.container("worker", requests=requests)], pod_spec=pod_spec)
    cond = [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": message}]
    p = b.pod_of(dep, node=None, phase="Pending", statuses=[], conditions=cond)
    other = b.pod("busy", spec={"containers": [b.container("busy", requests={"cpu": busy})]}, node="worker-1")
    nodes = [b.node("cp", "2", "4Gi", taints=CP_TAINT), b.node("worker-1", "4", "8Gi"), b.node("worker-2", "4", "8Gi")]
    ev = b.event("Pod", p["metadata"]["name"], "FailedScheduling", message, count=12)
    return b.snapshot(pods=[p, other], deployments=[dep], nodes=nodes, events=[ev])


def test_parse_scheduler_message():
    assert parse_message(MSG) == [(1, "taint", "node-role.kubernetes.io/control-plane: "), (2, "insufficient", "cpu")]
    assert parse_message("0/2 nodes are available: 2 Insufficient nvidia.com/gpu.") == [(2, "insufficient",
                                                                                        "nvidia.com/gpu")]
    assert parse_message("0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector.")[0][1] == \
        "selector"


def test_too_large_cpu_request_is_lowered_to_fit_the_largest_node():
    [f] = CHECK.run(pending({"cpu": "16", "memory": "2Gi"}))
    assert (f.reason, f.kind, f.name) == ("Unschedulable", "Deployment", "worker")
    assert any("Insufficient cpu" in e for e in f.evidence)
    assert any("pod requests: cpu 16" in e for e in f.evidence)
    assert any("largest eligible node" in e and "allocatable cpu 4" in e for e in f.evidence)
    assert "16" in f.root_cause and "4 allocatable" in f.root_cause
    assert f.confidence == "high"
    [c] = f.fix["patch"]["spec"]["template"]["spec"]["containers"]
    assert c == {"name": "worker", "resources": {"requests": {"cpu": "2"}}}


def test_request_that_fits_an_empty_node_is_medium_confidence():
    [f] = CHECK.run(pending({"cpu": "3900m"}, busy="3"))
    assert f.confidence == "medium" and "add node capacity" in f.suggested_fix


def test_limit_below_the_new_request_is_not_created():
    [f] = CHECK.run(pending({"cpu": "16"}))
    # requests default from limits: with only a request nothing else changes
    assert "limits" not in f.fix["patch"]["spec"]["template"]["spec"]["containers"][0]["resources"]


def test_node_selector_typo_is_corrected():
    msg = "0/3 nodes are available: 1 node(s) had untolerated taint {x: }, 2 node(s) didn't match Pod's node affinity/selector."
    snap = pending({"cpu": "100m"}, message=msg, pod_spec={"nodeSelector": {"disktype": "sdd"}})
    snap.nodes[1]["metadata"]["labels"]["disktype"] = "ssd"
    [f] = CHECK.run(snap)
    assert any("disktype=ssd exists" in e for e in f.evidence)
    assert f.fix["patch"]["spec"]["template"]["spec"] == {"nodeSelector": {"disktype": "ssd"}}


def test_ambiguous_node_selector_is_not_guessed():
    msg = "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector."
    snap = pending({"cpu": "100m"}, message=msg, pod_spec={"nodeSelector": {"kubernetes.io/hostname": "worker-01"}})
    [f] = CHECK.run(snap)
    assert f.fix is None and "nodeSelector" in f.root_cause


def test_taints_only():
    msg = "0/1 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}."
    snap = pending({"cpu": "100m"}, message=msg)
    snap.nodes = [b.node("gpu-1", taints=[{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}])]
    [f] = CHECK.run(snap)
    assert "taint" in f.root_cause and f.fix is None


def test_scheduled_pods_are_ignored():
    dep = b.deployment("web")
    assert CHECK.run(b.snapshot(pods=[b.pod_of(dep)], deployments=[dep], nodes=[b.node("node-1")])) == []
