"""The one definition of readiness, restarts, quantities, selectors and pod specs; kinds and mutations as data."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tools.k8s import kinds, objects
from tools.k8s.mutations import RESTARTED_AT, Mutation, diff, restart, restart_patch, rollback_for, unchanged


def _pod(ready: str = "True", restarts=(0, 2), deleting: bool = False) -> dict:
    meta = {"name": "web-1", "namespace": "shop"}
    if deleting:
        meta["deletionTimestamp"] = "2024-01-01T00:00:00Z"
    return {"metadata": meta, "spec": {"containers": [{"name": "a"}, {"name": "b"}]},
            "status": {"conditions": [{"type": "PodScheduled", "status": "True"}, {"type": "Ready", "status": ready}],
                       "initContainerStatuses": [{"name": "init", "restartCount": 7}],
                       "containerStatuses": [{"name": "a", "ready": True, "restartCount": restarts[0]},
                                             {"name": "b", "ready": False, "restartCount": restarts[1],
                                              "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}}


def test_readiness_is_the_ready_condition_of_a_pod_not_being_deleted():
    assert objects.is_ready(_pod())
    assert not objects.is_ready(_pod(ready="False"))
    assert not objects.is_ready(_pod(deleting=True))
    assert not objects.is_ready({"metadata": {}})
    assert objects.condition(_pod(), "PodScheduled") == {"type": "PodScheduled", "status": "True"}


def test_restarts_count_the_app_containers_like_kubectl():
    assert objects.restarts(_pod()) == 2
    assert objects.restart_counts([_pod(restarts=(1, 1))]) == {"web-1": 2}
    assert objects.ready_containers(_pod()) == "1/2"
    assert [c["name"] for c in objects.container_statuses(_pod())] == ["init", "a", "b"]
    assert [objects.waiting_reason(c) for c in objects.container_statuses(_pod(), init=False)] == [
        None, "CrashLoopBackOff"]


@pytest.mark.parametrize("q,want", [("100m", 0.1), ("2Gi", 2 * 2 ** 30), ("1.5", 1.5), (4, 4.0), ("1e3", 1000.0),
                                    ("512Mi", 512 * 2 ** 20), ("1917000000n", 1.917), ("lots", None), (None, None)])
def test_quantities(q, want):
    got = objects.parse_quantity(q)
    assert got == pytest.approx(want) if want is not None else got is None


def test_quantity_formatting_round_trips():
    assert objects.millicores("250m") == 250 and objects.fmt_cpu(2000) == "2" and objects.fmt_cpu(1500) == "1500m"
    assert objects.bytes_("1Gi") == 2 ** 30 and objects.fmt_mem(2 ** 30) == "1Gi" and objects.fmt_mem(3 * 2 ** 20) == "3Mi"


def test_selectors_render_as_the_api_query_and_match_labels():
    sel = {"matchLabels": {"tier": "web", "app": "shop"},
           "matchExpressions": [{"key": "env", "operator": "In", "values": ["a", "b"]},
                                {"key": "canary", "operator": "DoesNotExist"}, {"key": "x", "operator": "Exists"}]}
    assert objects.selector_string(sel) == "app=shop,tier=web,env in (a,b),!canary,x"
    assert objects.selector_string({"app": "web"}) == "app=web"  # a Service's plain map
    assert objects.selector_string(None) == ""
    assert objects.label_selector_matches(sel, {"app": "shop", "tier": "web", "env": "a", "x": "1"})
    assert not objects.label_selector_matches(sel, {"app": "shop", "tier": "web", "env": "c", "x": "1"})
    assert objects.selector_matches({"app": "web"}, {"app": "web", "v": "1"}) and not objects.selector_matches({}, {})


def test_pod_spec_of_each_kind():
    tmpl = {"template": {"spec": {"containers": [{"name": "c"}]}}}
    assert objects.pod_spec({"spec": tmpl}, "Deployment")["containers"][0]["name"] == "c"
    assert objects.pod_spec({"spec": {"jobTemplate": {"spec": tmpl}}}, "CronJob")["containers"][0]["name"] == "c"
    assert objects.pod_spec({"spec": {"containers": []}}, "Pod") == {"containers": []}
    assert objects.pod_spec({}, "Service") == {}


def test_kind_tuples_agree_with_each_other():
    assert set(kinds.WORKLOADS) <= set(kinds.POD_TEMPLATED) and set(kinds.SCALABLE) <= set(kinds.REPLICATED)
    assert set(kinds.POD_OWNERS) <= set(kinds.RUNS_CONTAINERS) and kinds.TARGETS[: len(kinds.WORKLOADS)] == kinds.WORKLOADS
    assert all(k in kinds.KINDS for k in kinds.RUNS_CONTAINERS + kinds.TARGETS + kinds.REPLICATED)


def test_the_one_restart_patch():
    p = restart_patch(datetime(2024, 5, 1, 12, 0, tzinfo=UTC))
    assert p == {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: "2024-05-01T12:00:00Z"}}}}}
    m = restart("Deployment", "shop", "web", verify={"kind": "Deployment", "namespace": "shop", "name": "web"})
    assert m.verb == "patch" and RESTARTED_AT in m.body["spec"]["template"]["metadata"]["annotations"] and m.verify


def test_mutation_round_trips_with_its_goal():
    goal = [{"kind": "Deployment", "namespace": "shop", "name": "web", "path": "spec.replicas", "op": "eq", "value": 3}]
    m = Mutation("scale", "Deployment", "shop", "web", body=3, goal=goal)
    assert Mutation.from_dict(m.to_dict()) == m
    old = {k: v for k, v in m.to_dict().items() if k != "goal"}  # an older checkpoint, before goals
    assert Mutation.from_dict(old).goal is None


def test_rollback_of_each_verb():
    live = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "n", "uid": "u",
                                                                   "resourceVersion": "9", "labels": {"a": "1"}},
            "data": {"k": "v"}}
    undo_create = rollback_for(Mutation("create", "ConfigMap", "n", "c"), {})
    assert (undo_create["verb"], undo_create["name"]) == ("delete", "c")
    undo_delete = rollback_for(Mutation("delete", "ConfigMap", "n", "c"), live)
    assert undo_delete["verb"] == "create" and undo_delete["body"]["data"] == {"k": "v"}
    assert "uid" not in undo_delete["body"]["metadata"] and "resourceVersion" not in undo_delete["body"]["metadata"]
    undo_patch = rollback_for(Mutation("patch", "ConfigMap", "n", "c", body={"data": {"k": "w"}}), live)
    assert {"op": "replace", "path": "/data", "value": {"k": "v"}} in undo_patch["body"]
    undo_scale = rollback_for(Mutation("scale", "Deployment", "n", "d", body=5), {"spec": {"replicas": 2}})
    assert undo_scale["body"] == 2


def test_a_change_that_changes_nothing_is_unchanged():
    obj = {"metadata": {"name": "c", "resourceVersion": "1"}, "data": {"k": "v"}}
    same = Mutation("patch", "ConfigMap", "n", "c", diff=diff(obj, {**obj, "metadata": {"name": "c",
                                                                                           "resourceVersion": "2"}}))
    assert same.diff == "" and unchanged(same)
    changed = Mutation("patch", "ConfigMap", "n", "c", diff=diff(obj, {**obj, "data": {"k": "w"}}))
    assert "+  k: w" in changed.diff and not unchanged(changed)
    assert not unchanged(Mutation("action", "Tool", "", "t"))  # an action's preview is its own
    assert not unchanged(Mutation("patch", "ConfigMap", "n", "c", dry_run_error="not found"))
