"""The contract: Finding (quoting), Snapshot (lookups, memoized logs), REGISTRY, run_all (namespace, target)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.tools.diagnose import builders as b
from tools.diagnose import util
from tools.diagnose.base import (
    REGISTRY,
    Check,
    Finding,
    Snapshot,
    load_checks,
    register,
    run_all,
    target_refs,
)
from tools.diagnose.fixes import FixError, apply_finding, apply_fix, restart_fix

EXPECTED = {"crashloop", "oom", "image_pull", "unschedulable", "config_error", "probe_failure", "no_endpoints",
            "rbac_denial", "cpu_hog", "pending_pvc", "rollout_stuck"}


def test_registry_has_every_check_each_with_its_test():
    reg = load_checks()
    assert EXPECTED <= set(reg)
    here = Path(__file__).parent
    for name, check in reg.items():
        assert isinstance(check, Check) and check.name == name and check.kinds
        assert (here / f"test_{name}.py").exists(), f"check {name} has no test module"


def test_finding_quotes_its_evidence():
    f = Finding(check="x", severity="warning", kind="Pod", namespace="ns", name="p", reason="R",
                summary="multi\nline\x1b[2J summary", evidence=["a\x00b\x1b[31mred\x1b[0m\r\nnext", "", "z" * 1000])
    assert f.evidence[0] == "abred next"
    assert len(f.evidence) == 2 and len(f.evidence[1]) == 300 and f.evidence[1].endswith("…")
    assert "\n" not in f.summary and "\x1b" not in f.summary
    assert f.ref == "Pod/ns/p"
    assert f.to_dict()["reason"] == "R"
    assert "evidence: abred" in f.text()
    with pytest.raises(ValueError):
        Finding(check="x", severity="urgent", kind="Pod", namespace="", name="p", reason="R", summary="s")


def test_snapshot_logs_are_memoized_and_never_raise():
    calls = []

    def logs(ns, pod, container, previous):
        calls.append((ns, pod, container, previous))
        if pod == "boom":
            raise RuntimeError("connection reset")
        return ["line"]
    snap = Snapshot(logs=logs)
    assert snap.read_logs("ns", "p", "c") == ["line"]
    assert snap.read_logs("ns", "p", "c") == ["line"]
    assert snap.read_logs("ns", "boom", "c", True) is None
    assert len(calls) == 2


def test_workload_resolution():
    dep = b.deployment("checkout")
    rs = b.replicaset(dep)
    p = b.pod_of(dep)
    snap = b.snapshot(pods=[p], deployments=[dep], replicasets=[rs])
    assert snap.workload_of(p) == ("Deployment", "checkout")
    # without the ReplicaSet listed, the pod-template-hash still leads to the Deployment
    assert b.snapshot(pods=[p], deployments=[dep]).workload_of(p) == ("Deployment", "checkout")
    assert snap.workload_of(b.pod("bare")) == ("Pod", "bare")


def demo_like() -> Snapshot:
    checkout = b.deployment("checkout", [b.container("checkout", envFrom=[{"configMapRef": {"name": "cfg"}}])])
    web = b.deployment("web", [b.container("web", ports=[80])])
    crash = b.waiting("checkout", "CrashLoopBackOff", restarts=3, last=b.terminated(1))
    pods = [b.pod_of(checkout, statuses=[crash]), b.pod_of(web, suffix="w1234")]
    other_ns = b.pod("elsewhere", ns="other", statuses=[b.waiting("app", "CrashLoopBackOff", restarts=2,
                                                                   last=b.terminated(2))])
    return b.snapshot(pods=pods + [other_ns], deployments=[checkout, web],
                      services=[b.service("web", {"app": "web"}), b.service("orders", {"app": "order"})],
                      endpoints=[b.endpoints("web", ready=[pods[1]["metadata"]["name"]]), b.endpoints("orders")],
                      configmaps=[b.configmap("cfg", {})])


def test_run_all_sorts_and_filters_by_namespace_and_target():
    snap = demo_like()
    everything = run_all(snap)
    assert {(f.namespace, f.name) for f in everything} == {("shop", "checkout"), ("shop", "orders"), ("other", "elsewhere")}
    assert [f.severity for f in everything] == sorted((f.severity for f in everything),
                                                      key=["critical", "warning", "info"].index)
    assert {f.name for f in run_all(snap, namespace="shop")} == {"checkout", "orders"}
    assert [f.name for f in run_all(snap, target="checkout")] == ["checkout"]
    assert run_all(snap, target="checkout-abc12")[0].name == "checkout"   # a pod name prefix
    assert run_all(snap, target="web") == []
    assert [f.reason for f in run_all(snap, target="orders")] == ["NoEndpoints"]
    assert run_all(snap, target="nothing-by-that-name") == []
    assert [f.check for f in run_all(snap, checks=["no_endpoints"])] == ["no_endpoints"]


def test_target_refs_follow_services_to_their_pods():
    snap = demo_like()
    refs = target_refs(snap, "web")
    assert "Deployment/shop/web" in refs and "Service/shop/web" in refs
    assert any(r.startswith("Pod/shop/web-") for r in refs)


def test_a_failing_check_is_reported_not_fatal():
    @register
    class Broken:
        name = "zz_broken"
        kinds = ("Pod",)

        def run(self, snapshot):
            raise KeyError("spec")
    try:
        out = run_all(demo_like(), checks=["zz_broken", "crashloop"])
        assert any(f.reason == "CheckFailed" and "KeyError" in f.summary for f in out)
        assert any(f.check == "crashloop" for f in out)
    finally:
        REGISTRY.pop("zz_broken", None)


def test_quantities_and_names():
    assert util.millicores("100m") == 100 and util.millicores("16") == 16000 and util.millicores("1917000000n") == 1917
    assert util.bytes_("128Mi") == 128 * util.Mi and util.bytes_("28327Ki") == 28327 * 1024 and util.bytes_("1G") == 10 ** 9
    assert util.parse_quantity("bogus") is None
    assert util.fmt_cpu(2000) == "2" and util.fmt_cpu(1500) == "1500m"
    assert util.fmt_mem(512 * util.Mi) == "512Mi" and util.fmt_mem(2 * 1024 * util.Mi) == "2Gi"
    assert util.pow2_mi(300 * util.Mi) == 512 * util.Mi
    assert util.near("order", "orders") and util.near("paymnets", "payments") and not util.near("v1", "v2")
    assert not util.near("api-1", "api-2") and not util.near("web", "db")
    assert util.dns_name("orders", "Config_Map Reader") == "orders-config-map-reader"


def test_restart_fix_and_fix_validation():
    r = restart_fix("Deployment", "shop", "checkout")
    assert r["patch_type"] == "strategic"
    assert "kubectl.kubernetes.io/restartedAt" in r["patch"]["spec"]["template"]["metadata"]["annotations"]
    with pytest.raises(FixError):
        apply_fix(None, {"action": "patch", "kind": "Gadget", "name": "x", "namespace": "y", "patch": {}})
    with pytest.raises(FixError):
        apply_fix(None, {"action": "explode"})
    with pytest.raises(FixError):
        apply_fix(None, {"action": "patch", "kind": "Service", "name": "x", "namespace": "y", "patch": {},
                         "patch_type": "yaml"})
    f = Finding(check="x", severity="info", kind="Pod", namespace="", name="p", reason="R", summary="s")
    with pytest.raises(FixError):
        apply_finding(None, f)
