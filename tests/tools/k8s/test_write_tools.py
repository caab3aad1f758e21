"""Each write tool on a real sandbox API server: it proposes Mutations with goals and changes nothing; the
proposals pass the server's dry run; and applying one makes its goal hold (checked with the eval harness's own
goal checker, tools/k8s/goals.py, which the supervisor and the eval harness use)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.server import SandboxServer
from tools.k8s.client import Kube, KubeError
from tools.k8s.goals import failed
from tools.k8s.write_tools import WRITE_TOOLS
from tools.tool import Tool

T: dict[str, Tool] = {t.name: t for t in WRITE_TOOLS}


@pytest.fixture(scope="module")
def kube(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kube]:
    server = SandboxServer(scenarios=["demo-shop"], speed=50.0).start()
    path: Path = server.write_kubeconfig(tmp_path_factory.mktemp("wt") / "kubeconfig")
    yield Kube.from_kubeconfig(str(path))
    server.stop()


def _goal_holds(kube: Kube, goal: list[dict]) -> bool:
    return not failed(kube, goal)


def _execute(kube: Kube, m: object) -> None:
    """Apply, retrying a 409 as kubectl does (the sandbox's controllers update a workload right after a rollout)."""
    for attempt in range(3):
        try:
            kube.execute(m)
            return
        except KubeError as e:
            if e.status != 409 or attempt == 2:
                raise
            time.sleep(0.2)


def _propose_then_apply(kube: Kube, tool: str, args: dict) -> list:
    r = T[tool].call(kube, args)
    assert not r.error, r.text
    assert r.mutations and all(m.goal for m in r.mutations) and "not applied" in r.text
    assert not _goal_holds(kube, [g for m in r.mutations for g in m.goal])  # proposing changed nothing
    for m in r.mutations:
        assert not kube.preview(m).dry_run_error
        _execute(kube, m)
    assert _goal_holds(kube, [g for m in r.mutations for g in m.goal])
    return r.mutations


def test_declarations():
    for t in WRITE_TOOLS:
        assert t.mutating and "needs approval" in t.description and t.rbac


def test_set_image_env_scale(kube):
    _propose_then_apply(kube, "k8s_set_image", {"name": "web", "namespace": "shop", "image": "nginx:1.28"})
    ms = _propose_then_apply(kube, "k8s_set_env", {"name": "web", "namespace": "shop", "env": {"A": "1"}})
    assert ms[0].verify and ms[0].verify["name"] == "web"
    _propose_then_apply(kube, "k8s_set_env", {"name": "web", "namespace": "shop", "remove": ["A"]})
    _propose_then_apply(kube, "k8s_scale", {"name": "web", "namespace": "shop", "replicas": 4})
    assert "already has 4" in T["k8s_scale"].call(kube, {"name": "web", "namespace": "shop", "replicas": 4}).text


def test_hpa_role_binding_apply_patch_delete(kube):
    _propose_then_apply(kube, "k8s_create_hpa", {"namespace": "shop", "target_name": "catalog", "min_replicas": 1,
                                                 "max_replicas": 3, "cpu_percent": 50})
    _propose_then_apply(kube, "k8s_create_role", {"name": "cm-get", "namespace": "shop",
                                                  "rules": [{"resources": ["configmaps"], "verbs": ["get"]}]})
    ms = _propose_then_apply(kube, "k8s_create_rolebinding", {
        "name": "orders-cm-get", "namespace": "shop", "role": "cm-get",
        "subjects": [{"kind": "ServiceAccount", "name": "orders"}]})
    assert any("can" in g and g["value"] is False for g in ms[0].goal)
    _propose_then_apply(kube, "k8s_apply", {"manifest": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {
        "name": "new-cm", "namespace": "shop"}, "data": {"k": "v"}}})
    _propose_then_apply(kube, "k8s_patch", {"kind": "ConfigMap", "name": "new-cm", "namespace": "shop",
                                            "patch": {"data": {"k": "w"}}, "patch_type": "merge"})
    _propose_then_apply(kube, "k8s_delete", {"kind": "ConfigMap", "namespace": "shop", "name": "new-cm"})


def test_refusals_as_observations(kube):
    assert "say which" in T["k8s_delete"].call(kube, {"kind": "Pod", "namespace": "shop"}).text or \
        "give a name" in T["k8s_delete"].call(kube, {"kind": "Pod", "namespace": "shop"}).text
    r = T["k8s_create_hpa"].call(kube, {"namespace": "shop", "target_name": "web", "min_replicas": 5,
                                        "max_replicas": 2})
    assert r.error and "above max_replicas" in r.text
    r = T["k8s_set_image"].call(kube, {"name": "nope", "namespace": "shop", "image": "x"})
    assert r.error and "NotFound" in r.text
