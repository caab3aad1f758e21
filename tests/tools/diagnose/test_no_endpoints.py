"""no_endpoints: a selector that matches nothing (and the near-miss it meant), or pods that are not ready."""

from __future__ import annotations

from tests.tools.diagnose import builders as b
from tools.diagnose.base import REGISTRY, load_checks

load_checks()
CHECK = REGISTRY["no_endpoints"]


def shop(selector: dict[str, str], ready: bool = True, extra_deps: list[dict] | None = None):
    dep = b.deployment("orders", [b.container("orders", ports=[8080])])
    p = b.pod_of(dep, statuses=[b.running("orders", ready=ready)])
    matched = all(p["metadata"]["labels"].get(k) == v for k, v in selector.items())
    ep = b.endpoints("orders", ready=[p["metadata"]["name"]] if matched and ready else [],
                     not_ready=[p["metadata"]["name"]] if matched and not ready else [])
    return b.snapshot(pods=[p], deployments=[dep, *(extra_deps or [])],
                      services=[b.service("orders", selector)], endpoints=[ep])


def test_selector_typo_is_corrected_to_the_nearly_matching_pods_labels():
    [f] = CHECK.run(shop({"app": "order"}))
    assert (f.kind, f.name, f.reason, f.severity) == ("Service", "orders", "NoEndpoints", "critical")
    assert any("selector: app=order" in e for e in f.evidence)
    assert any("deployment shop/orders pods carry app=orders" in e for e in f.evidence)
    assert "app=orders" in f.root_cause
    assert f.fix == {"action": "patch", "kind": "Service", "namespace": "shop", "name": "orders",
                     "patch_type": "merge", "patch": {"spec": {"selector": {"app": "orders"}}}}
    assert "Deployment/shop/orders" in f.related


def test_two_near_candidates_are_not_guessed_between():
    other = b.deployment("orderz", labels={"app": "ordes"})
    [f] = CHECK.run(shop({"app": "order"}, extra_deps=[other]))
    assert f.fix is None and f.confidence == "medium"


def test_selector_far_from_everything():
    [f] = CHECK.run(shop({"app": "billing"}))
    assert f.fix is None and "none nearly does" in f.root_cause


def test_matching_pods_that_are_not_ready():
    [f] = CHECK.run(shop({"app": "orders"}, ready=False))
    assert (f.reason, f.severity) == ("NoReadyEndpoints", "warning")
    assert f.fix is None and "Deployment/shop/orders" in f.related


def test_service_with_ready_endpoints_is_fine():
    assert CHECK.run(shop({"app": "orders"})) == []


def test_services_without_selector_are_skipped():
    snap = b.snapshot(services=[b.service("external", {})])
    assert CHECK.run(snap) == []
