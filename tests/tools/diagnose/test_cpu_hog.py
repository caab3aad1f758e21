"""cpu_hog: a pod eating a node's CPU (>= 80%), or the node's top consumer with no CPU limit."""

from __future__ import annotations

from tests.tools.diagnose import builders as b
from tools.diagnose.base import REGISTRY, load_checks

load_checks()
CHECK = REGISTRY["cpu_hog"]


def node_with(usage: dict[str, int], limits: dict[str, str] | None = None):
    pods, deps, metrics = [], [], {}
    for name, m in usage.items():
        lim = (limits or {}).get(name)
        dep = b.deployment(name, [b.container(name, limits={"cpu": lim} if lim else None)])
        p = b.pod_of(dep, node="worker-1")
        deps.append(dep)
        pods.append(p)
        metrics[f"shop/{p['metadata']['name']}"] = {name: (m, 20 * 1024 * 1024)}
    return b.snapshot(pods=pods, deployments=deps, metrics=metrics, nodes=[b.node("worker-1", cpu="4")])


def test_unlimited_top_consumer_is_capped():
    [f] = CHECK.run(node_with({"report-cruncher": 1917, "web": 2}))
    assert (f.reason, f.kind, f.name, f.severity) == ("CPUHog", "Deployment", "report-cruncher", "warning")
    assert "worker-1" in f.summary and "no CPU limit" in f.summary
    assert any("1917m CPU = 48%" in e for e in f.evidence)
    assert "Node//worker-1" in f.related
    assert f.fix["patch"]["spec"]["template"]["spec"]["containers"] == [
        {"name": "report-cruncher", "resources": {"limits": {"cpu": "1"}, "requests": {"cpu": "500m"}}}]


def test_eighty_percent_of_a_node_is_critical_even_with_a_limit():
    [f] = CHECK.run(node_with({"batch": 3500}, limits={"batch": "4"}))
    assert f.severity == "critical"


def test_modest_usage_is_fine():
    assert CHECK.run(node_with({"web": 300, "api": 200})) == []


def test_limited_top_consumer_under_eighty_percent_is_fine():
    assert CHECK.run(node_with({"api": 1500}, limits={"api": "2"})) == []


def test_no_metrics_no_findings():
    snap = node_with({"api": 3900})
    snap.metrics = {}
    assert CHECK.run(snap) == []
