"""oom: OOMKilled containers, limit vs observed usage, the raised limit."""

from __future__ import annotations

from tests.tools.diagnose import builders as b
from tools.diagnose.base import REGISTRY, load_checks
from tools.diagnose.checks.oom import proposed_limit
from tools.diagnose.util import Mi

load_checks()
CHECK = REGISTRY["oom"]


def oomed(limit: str | None = "128Mi", usage: int | None = None, logs: list[str] | None = None, bare: bool = False):
    c = b.container("payments", limits={"memory": limit} if limit else None, requests={"memory": "64Mi"})
    dep = b.deployment("payments", [c])
    st = b.waiting("payments", "CrashLoopBackOff", restarts=4, last=b.terminated(137, "OOMKilled"))
    p = b.pod("payments-x", spec={"containers": [c]}, statuses=[st]) if bare else b.pod_of(dep, statuses=[st])
    name = p["metadata"]["name"]
    metrics = {f"shop/{name}": {"payments": (50, usage)}} if usage else {}
    return b.snapshot(logs={(name, "payments", True): logs} if logs else {}, pods=[p],
                      deployments=[] if bare else [dep], metrics=metrics)


def test_oomkilled_raises_the_limit_with_headroom():
    [f] = CHECK.run(oomed())
    assert (f.reason, f.kind, f.name, f.severity) == ("OOMKilled", "Deployment", "payments", "critical")
    assert any("OOMKilled, exit code 137" in e for e in f.evidence)
    assert any("memory limit: 128Mi" in e for e in f.evidence)
    assert "128Mi" in f.summary
    assert f.fix == {"action": "patch", "kind": "Deployment", "namespace": "shop", "name": "payments",
                     "patch_type": "strategic", "patch": {"spec": {"template": {"spec": {"containers": [
                         {"name": "payments", "resources": {"limits": {"memory": "512Mi"}}}]}}}}}
    assert "from 128Mi to 512Mi" in f.suggested_fix


def test_observed_working_set_drives_the_proposal():
    [f] = CHECK.run(oomed(limit="512Mi", usage=500 * Mi))
    assert any("working set" in e and "500Mi" in e for e in f.evidence)
    assert f.fix["patch"]["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] == "1Gi"


def test_jvm_heap_setting_in_the_logs_is_taken_into_account():
    [f] = CHECK.run(oomed(logs=["Picked up JAVA_TOOL_OPTIONS: -Xmx512m", "Starting PaymentsApplication"]))
    assert any("-Xmx512m" in e for e in f.evidence)
    assert "-Xmx" in f.root_cause
    assert f.fix["patch"]["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] == "1Gi"


def test_no_limit_means_node_pressure_and_no_automatic_fix():
    [f] = CHECK.run(oomed(limit=None))
    assert f.fix is None and "no memory limit" in f.root_cause


def test_bare_pod_gets_advice_not_a_patch():
    [f] = CHECK.run(oomed(bare=True))
    assert f.kind == "Pod" and f.fix is None and "recreate" in f.suggested_fix


def test_proposed_limit_rules():
    assert proposed_limit(128 * Mi, None) == 512 * Mi          # floor
    assert proposed_limit(300 * Mi, None) == 1024 * Mi         # 2x rounded up to a power of two
    assert proposed_limit(128 * Mi, 100 * Mi) == 512 * Mi
    assert proposed_limit(1024 * Mi, 900 * Mi) == 2048 * Mi
    assert proposed_limit(128 * Mi, None, xmx=1024 * Mi) == 2048 * Mi


def test_running_containers_without_oom_are_ignored():
    dep = b.deployment("web")
    assert CHECK.run(b.snapshot(pods=[b.pod_of(dep)], deployments=[dep])) == []
