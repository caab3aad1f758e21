"""The CP-SAT fit check: exact placements, and the resource that blocks."""

from __future__ import annotations

from tools.capacity import will_fit


def node(name: str, cpu: str, mem: str, pods: str = "110", taints=None, labels=None) -> dict:
    return {"metadata": {"name": name, "labels": labels or {}}, "spec": {"taints": taints or []},
            "status": {"allocatable": {"cpu": cpu, "memory": mem, "pods": pods},
                       "conditions": [{"type": "Ready", "status": "True"}]}}


def spec(cpu: str, mem: str, **extra) -> dict:
    return {"containers": [{"name": "c", "resources": {"requests": {"cpu": cpu, "memory": mem}}}], **extra}


def test_fits_and_spreads():
    r, cpu, mem = will_fit(spec("500m", "256Mi"), 4, [node("a", "2", "4Gi"), node("b", "2", "4Gi")], [])
    assert r.fits and cpu == 500 and mem == 256
    assert r.placement == {"a": 2, "b": 2}


def test_blocking_resource_is_named():
    r, _, _ = will_fit(spec("1500m", "128Mi"), 3, [node("a", "2", "8Gi"), node("b", "2", "8Gi")], [])
    assert not r.fits and r.placed == 2 and r.blocking == ["cpu"]
    r, _, _ = will_fit(spec("100m", "3Gi"), 3, [node("a", "8", "4Gi")], [])
    assert r.placed == 1 and r.blocking == ["memory"]
    r, _, _ = will_fit(spec("10m", "1Mi"), 5, [node("a", "8", "8Gi", pods="3")], [])
    assert r.placed == 3 and r.blocking == ["pods"]


def test_taints_selectors_and_running_pods_count():
    tainted = node("cp", "64", "64Gi", taints=[{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}])
    small = node("w", "1", "1Gi", labels={"disk": "ssd"})
    busy = {"spec": {"nodeName": "w", "containers": [{"resources": {"requests": {"cpu": "800m"}}}]},
            "status": {"phase": "Running"}}
    r, _, _ = will_fit(spec("500m", "64Mi"), 1, [tainted, small], [busy])
    assert not r.fits and r.blocking == ["cpu"]
    r, _, _ = will_fit(spec("500m", "64Mi", tolerations=[{"operator": "Exists"}]), 1, [tainted, small], [busy])
    assert r.fits and r.placement["cp"] == 1
    r, _, _ = will_fit(spec("100m", "64Mi", nodeSelector={"disk": "hdd"}), 1, [small], [])
    assert not r.fits and r.blocking[0].startswith("eligible nodes")
