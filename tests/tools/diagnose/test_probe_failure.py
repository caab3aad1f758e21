"""probe_failure: Unhealthy events, readiness vs liveness, a probe on the wrong port, transient failures ignored."""

from __future__ import annotations

from tests.tools.diagnose import builders as b
from tools.diagnose.base import REGISTRY, load_checks

load_checks()
CHECK = REGISTRY["probe_failure"]
FP = "spec.containers{api}"


def probed(probe_field: str, probe: dict, status: dict, events: list[tuple[str, str]]):
    c = b.container("api", ports=[8080], **{probe_field: probe})
    dep = b.deployment("api", [c])
    p = b.pod_of(dep, statuses=[status])
    evs = [b.event("Pod", p["metadata"]["name"], r, m, field_path=FP, count=7) for r, m in events]
    return b.snapshot(pods=[p], deployments=[dep], events=evs)


def test_readiness_probe_on_an_undeclared_port_is_pointed_at_the_container_port():
    snap = probed("readinessProbe", {"httpGet": {"path": "/healthz", "port": 9090}, "periodSeconds": 5},
                  b.running("api", ready=False),
                  [("Unhealthy", 'Readiness probe failed: Get "http://10.0.0.1:9090/healthz": dial tcp 10.0.0.1:9090: '
                                 'connect: connection refused')])
    [f] = CHECK.run(snap)
    assert (f.reason, f.severity) == ("ReadinessProbeFailed", "warning")
    assert any("Readiness probe failed" in e for e in f.evidence)
    assert "port 9090" in f.root_cause and "8080" in f.root_cause
    assert f.fix["patch"]["spec"]["template"]["spec"]["containers"] == [
        {"name": "api", "readinessProbe": {"httpGet": {"port": 8080}}}]


def test_liveness_kills_with_a_404_path():
    snap = probed("livenessProbe", {"httpGet": {"path": "/health", "port": 8080}},
                  b.running("api", restarts=4, last=b.terminated(137)),
                  [("Unhealthy", "Liveness probe failed: HTTP probe failed with statuscode: 404"),
                   ("Killing", "Container api failed liveness probe, will be restarted")])
    [f] = CHECK.run(snap)
    assert (f.reason, f.severity) == ("LivenessProbeFailed", "critical")
    assert "404" in f.root_cause and f.fix is None
    assert any("will be restarted" in e for e in f.evidence)


def test_startup_failures_on_a_container_that_is_ready_now_are_not_reported():
    snap = probed("readinessProbe", {"httpGet": {"path": "/", "port": 8080}}, b.running("api", ready=True),
                  [("Unhealthy", "Readiness probe failed: connection refused")])
    assert CHECK.run(snap) == []
