"""Tests for sandbox.apply: server-side apply and managedFields tracking."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from sandbox.apply import ApplyConflict, fields_v1, server_side_apply, track_update

DEPLOYMENT = "io.k8s.api.apps.v1.Deployment"
POD = "io.k8s.api.core.v1.Pod"
T1, T2, T3 = "2024-05-01T10:00:00Z", "2024-05-01T11:00:00Z", "2024-05-01T12:00:00Z"


def deployment(replicas: int | None = 2, image: str = "nginx:1.25", labels: dict[str, str] | None = None,
               containers: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}},
                     "spec": {"containers": containers if containers is not None else
                              [{"name": "web", "image": image, "ports": [{"containerPort": 80}]}]}},
    }
    if replicas is not None:
        spec["replicas"] = replicas
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "default", "labels": labels or {"app": "web"}},
            "spec": spec}


def partial(spec: dict[str, Any] | None = None, labels: dict[str, str] | None = None) -> dict[str, Any]:
    """A minimal apply configuration, as a second tool would send."""
    cfg: dict[str, Any] = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}}
    if labels is not None:
        cfg["metadata"]["labels"] = labels
    if spec is not None:
        cfg["spec"] = spec
    return cfg


def apply(live: dict[str, Any] | None, cfg: dict[str, Any], manager: str = "kubectl", *, force: bool = False,
          now: str = T1, definition: str | None = DEPLOYMENT, api_version: str = "apps/v1") -> dict[str, Any]:
    return server_side_apply(live, cfg, manager=manager, force=force, definition=definition,
                             api_version=api_version, now=now)


def update(old: dict[str, Any] | None, new: dict[str, Any], manager: str, *, now: str = T2,
           subresource: str | None = None, definition: str | None = DEPLOYMENT) -> dict[str, Any]:
    return track_update(old, new, manager=manager, operation="Update", definition=definition,
                        api_version="apps/v1", now=now, subresource=subresource)


def entry(obj: dict[str, Any], manager: str, operation: str = "Apply") -> dict[str, Any] | None:
    for item in obj["metadata"].get("managedFields", []):
        if item["manager"] == manager and item["operation"] == operation:
            return item
    return None


def owned(obj: dict[str, Any], manager: str, operation: str = "Apply") -> dict[str, Any]:
    found = entry(obj, manager, operation)
    assert found is not None, f"{manager} has no {operation} entry"
    return found["fieldsV1"]


def without_managed(obj: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(obj)
    out["metadata"].pop("managedFields", None)
    return out


DEPLOYMENT_APPLY_FIELDS = {
    "f:metadata": {"f:labels": {"f:app": {}}},
    "f:spec": {
        "f:replicas": {},
        "f:selector": {},
        "f:template": {
            "f:metadata": {"f:labels": {"f:app": {}}},
            "f:spec": {"f:containers": {'k:{"name":"web"}': {
                ".": {}, "f:image": {}, "f:name": {},
                "f:ports": {'k:{"containerPort":80,"protocol":"TCP"}': {".": {}, "f:containerPort": {}}},
            }}},
        },
    },
}


# --------------------------------------------------------------------------- apply basics

def test_create_via_apply_records_the_applier() -> None:
    cfg = deployment()
    before = copy.deepcopy(cfg)
    obj = apply(None, cfg)
    assert cfg == before  # inputs untouched
    assert without_managed(obj) == cfg
    assert obj["metadata"]["managedFields"] == [{
        "manager": "kubectl", "operation": "Apply", "apiVersion": "apps/v1", "time": T1,
        "fieldsType": "FieldsV1", "fieldsV1": DEPLOYMENT_APPLY_FIELDS,
    }]
    # The fieldsV1 text is what kubectl prints (keys sorted, ports keyed by both map keys).
    text = json.dumps(obj["metadata"]["managedFields"])
    assert '"k:{\\"containerPort\\":80,\\"protocol\\":\\"TCP\\"}"' in text


def test_apply_twice_leaves_the_object_unchanged() -> None:
    first = apply(None, deployment(), now=T1)
    live = copy.deepcopy(first)
    second = apply(first, deployment(), now=T2)
    assert second == first  # not even the timestamp moves on a no-op
    assert first == live


def test_server_fields_in_the_configuration_are_ignored() -> None:
    cfg = deployment()
    cfg["metadata"].update(
        resourceVersion="7", uid="u-1", generation=3, creationTimestamp="2020-01-01T00:00:00Z",
        managedFields=[{"manager": "evil", "operation": "Apply", "fieldsV1": {"f:spec": {}}}])
    cfg["status"] = {"replicas": 9}
    obj = apply(None, cfg)
    assert "status" not in obj
    for key in ("resourceVersion", "uid", "generation", "creationTimestamp"):
        assert key not in obj["metadata"]
    assert [m["manager"] for m in obj["metadata"]["managedFields"]] == ["kubectl"]
    assert owned(obj, "kubectl") == DEPLOYMENT_APPLY_FIELDS


def test_status_is_kept_from_live_and_never_owned() -> None:
    live = apply(None, deployment())
    live["status"] = {"replicas": 2}
    cfg = deployment()
    cfg["status"] = {"replicas": 5}
    obj = apply(live, cfg, now=T2)
    assert obj["status"] == {"replicas": 2}
    assert "f:status" not in owned(obj, "kubectl")


# --------------------------------------------------------------------------- conflicts and force

def test_second_manager_conflicts_on_a_changed_value() -> None:
    live = apply(None, deployment(replicas=2))
    with pytest.raises(ApplyConflict) as exc:
        apply(live, partial({"replicas": 5}), "autoscaler", now=T2)
    assert str(exc.value) == 'Apply failed with 1 conflict: conflict with "kubectl": .spec.replicas'
    assert exc.value.conflicts == [("kubectl", ".spec.replicas")]
    assert exc.value.causes == [{"reason": "FieldManagerConflict", "message": 'conflict with "kubectl"',
                                 "field": ".spec.replicas"}]


def test_conflict_with_an_update_manager_names_its_api_version() -> None:
    live = update(None, deployment(replicas=2), "kubectl-client-side-apply", now=T1)
    with pytest.raises(ApplyConflict) as exc:
        apply(live, deployment(replicas=3), now=T2)
    assert str(exc.value) == ('Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" '
                              "using apps/v1: .spec.replicas")


def test_several_conflicts_are_grouped_by_manager() -> None:
    live = update(None, deployment(replicas=2), "kubectl-client-side-apply", now=T1)
    with pytest.raises(ApplyConflict) as exc:
        apply(live, deployment(replicas=3, image="nginx:1.27"), now=T2)
    assert str(exc.value) == (
        'Apply failed with 2 conflicts: conflicts with "kubectl-client-side-apply" using apps/v1:\n'
        "- .spec.replicas\n"
        '- .spec.template.spec.containers[name="web"].image')
    assert exc.value.conflicts == [
        ("kubectl-client-side-apply", ".spec.replicas"),
        ("kubectl-client-side-apply", '.spec.template.spec.containers[name="web"].image'),
    ]


def test_same_value_is_no_conflict_and_ownership_is_shared() -> None:
    live = apply(None, deployment(replicas=2))
    obj = apply(live, partial({"replicas": 2}), "autoscaler", now=T2)
    assert owned(obj, "autoscaler") == {"f:spec": {"f:replicas": {}}}
    assert "f:replicas" in owned(obj, "kubectl")["f:spec"]
    assert "time" not in entry(obj, "autoscaler")  # as the apiserver: no timestamp when nothing changed


def test_force_moves_ownership() -> None:
    live = apply(None, deployment(replicas=2))
    obj = apply(live, partial({"replicas": 5}), "autoscaler", force=True, now=T2)
    assert obj["spec"]["replicas"] == 5
    assert owned(obj, "autoscaler") == {"f:spec": {"f:replicas": {}}}
    assert entry(obj, "autoscaler")["time"] == T2
    assert "f:replicas" not in owned(obj, "kubectl")["f:spec"]
    assert owned(obj, "kubectl")["f:spec"]["f:selector"] == {}
    # The first applier no longer owns replicas, so leaving it out does not remove it.
    again = apply(obj, deployment(replicas=None), now=T3)
    assert again["spec"]["replicas"] == 5


# --------------------------------------------------------------------------- removal on re-apply

def test_field_dropped_from_a_later_apply_is_removed() -> None:
    live = apply(None, deployment(labels={"app": "web", "tier": "frontend"}))
    obj = apply(live, deployment(replicas=None), now=T2)
    assert obj["metadata"]["labels"] == {"app": "web"}
    assert "replicas" not in obj["spec"]
    assert owned(obj, "kubectl")["f:metadata"] == {"f:labels": {"f:app": {}}}
    assert "f:replicas" not in owned(obj, "kubectl")["f:spec"]
    assert entry(obj, "kubectl")["time"] == T2


def test_dropping_every_label_removes_the_map() -> None:
    live = apply(None, deployment())
    cfg = deployment()
    del cfg["metadata"]["labels"]
    obj = apply(live, cfg, now=T2)
    assert "labels" not in obj["metadata"]
    assert "f:metadata" not in owned(obj, "kubectl")


def test_field_shared_by_two_managers_survives_when_one_drops_it() -> None:
    live = apply(None, deployment(labels={"app": "web", "team": "a"}))
    shared = apply(live, partial(labels={"team": "a"}), "team-bot", now=T2)
    obj = apply(shared, deployment(), now=T3)
    assert obj["metadata"]["labels"] == {"app": "web", "team": "a"}
    assert owned(obj, "team-bot") == {"f:metadata": {"f:labels": {"f:team": {}}}}
    assert owned(obj, "kubectl")["f:metadata"] == {"f:labels": {"f:app": {}}}


def test_fields_nobody_applied_are_not_pruned() -> None:
    live = apply(None, deployment())
    live["spec"]["revisionHistoryLimit"] = 10  # e.g. a default: set, but owned by no one
    obj = apply(live, deployment(replicas=None), now=T2)
    assert obj["spec"]["revisionHistoryLimit"] == 10
    assert "replicas" not in obj["spec"]


# --------------------------------------------------------------------------- granularity

def test_containers_merge_by_name_with_one_owner_each() -> None:
    live = apply(None, deployment())
    sidecar = {"name": "sidecar", "image": "busybox"}
    both = apply(live, partial({"template": {"spec": {"containers": [sidecar]}}}), "injector", now=T2)
    assert [c["name"] for c in both["spec"]["template"]["spec"]["containers"]] == ["web", "sidecar"]
    assert owned(both, "injector") == {"f:spec": {"f:template": {"f:spec": {"f:containers": {
        'k:{"name":"sidecar"}': {".": {}, "f:image": {}, "f:name": {}}}}}}}
    # Re-applying the first configuration leaves the other manager's container alone...
    again = apply(both, deployment(), now=T3)
    assert [c["name"] for c in again["spec"]["template"]["spec"]["containers"]] == ["web", "sidecar"]
    # ...and the injector dropping its container removes only that one.
    gone = apply(again, partial({"template": {"spec": {"containers": []}}}), "injector", now=T3)
    assert [c["name"] for c in gone["spec"]["template"]["spec"]["containers"]] == ["web"]
    assert entry(gone, "injector") is None


def test_labels_are_granular() -> None:
    live = apply(None, deployment())
    obj = apply(live, partial(labels={"team": "payments"}), "team-bot", now=T2)
    assert obj["metadata"]["labels"] == {"app": "web", "team": "payments"}
    assert owned(obj, "team-bot") == {"f:metadata": {"f:labels": {"f:team": {}}}}
    with pytest.raises(ApplyConflict, match=r'conflict with "kubectl": \.metadata\.labels\.app$'):
        apply(obj, partial(labels={"app": "api"}), "team-bot", now=T3)


def test_atomic_selector_is_owned_whole_and_replaced() -> None:
    live = apply(None, deployment())
    cfg = deployment()
    cfg["spec"]["selector"] = {"matchLabels": {"app": "web", "tier": "x"}}
    obj = apply(live, cfg, now=T2)
    assert obj["spec"]["selector"] == {"matchLabels": {"app": "web", "tier": "x"}}
    assert owned(obj, "kubectl")["f:spec"]["f:selector"] == {}


def test_set_lists_union_and_prune_per_value() -> None:
    live = apply(None, {**deployment(), "metadata": {**deployment()["metadata"], "finalizers": ["a/one"]}})
    cfg = partial()
    cfg["metadata"]["finalizers"] = ["b/two"]
    both = apply(live, cfg, "other", now=T2)
    assert both["metadata"]["finalizers"] == ["a/one", "b/two"]
    assert owned(both, "other") == {"f:metadata": {"f:finalizers": {'v:"b/two"': {}}}}
    gone = apply(both, deployment(), now=T3)
    assert gone["metadata"]["finalizers"] == ["b/two"]


def test_list_item_without_its_key_is_rejected() -> None:
    with pytest.raises(ValueError, match='omits key field "name"'):
        apply(None, deployment(containers=[{"image": "nginx"}]))


# --------------------------------------------------------------------------- track_update

def test_create_by_update_owns_everything_like_kubectl_create() -> None:
    obj = update(None, deployment(), "kubectl-create", now=T1)
    assert obj["metadata"]["managedFields"] == [{
        "manager": "kubectl-create", "operation": "Update", "apiVersion": "apps/v1", "time": T1,
        "fieldsType": "FieldsV1",
        "fieldsV1": {
            "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
            "f:spec": {
                "f:replicas": {},
                "f:selector": {},
                "f:template": {
                    "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
                    "f:spec": {"f:containers": {'k:{"name":"web"}': {
                        ".": {}, "f:image": {}, "f:name": {},
                        "f:ports": {".": {}, 'k:{"containerPort":80,"protocol":"TCP"}': {
                            ".": {}, "f:containerPort": {}}},
                    }}},
                },
            },
        },
    }]


def test_scale_takes_replicas_and_the_applier_then_conflicts() -> None:
    live = apply(None, deployment(replicas=2), now=T1)
    scaled_body = copy.deepcopy(live)
    scaled_body["spec"]["replicas"] = 5
    scaled = update(live, scaled_body, "kubectl", subresource="scale", now=T2)
    scale_entry = entry(scaled, "kubectl", "Update")
    assert scale_entry == {"manager": "kubectl", "operation": "Update", "apiVersion": "apps/v1", "time": T2,
                           "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:replicas": {}}},
                           "subresource": "scale"}
    assert "f:replicas" not in owned(scaled, "kubectl")["f:spec"]
    assert entry(scaled, "kubectl")["time"] == T1  # the applier's entry is otherwise untouched

    with pytest.raises(ApplyConflict) as exc:
        apply(scaled, deployment(replicas=3), now=T3)
    assert str(exc.value) == ('Apply failed with 1 conflict: conflict with "kubectl" with subresource '
                              '"scale" using apps/v1: .spec.replicas')

    forced = apply(scaled, deployment(replicas=3), force=True, now=T3)
    assert forced["spec"]["replicas"] == 3
    assert entry(forced, "kubectl", "Update") is None  # its only field moved
    assert owned(forced, "kubectl") == DEPLOYMENT_APPLY_FIELDS


def test_status_subresource_owns_status_only() -> None:
    live = apply(None, deployment(), now=T1)
    live["status"] = {"replicas": 1}
    body = copy.deepcopy(live)
    body["status"] = {"replicas": 2, "readyReplicas": 2}
    body["spec"]["replicas"] = 9  # the status strategy would reset this; it is not recorded either way
    obj = update(live, body, "kube-controller-manager", subresource="status", now=T2)
    status_entry = entry(obj, "kube-controller-manager", "Update")
    assert status_entry["subresource"] == "status"
    assert status_entry["fieldsV1"] == {"f:status": {"f:readyReplicas": {}, "f:replicas": {}}}
    assert "f:replicas" in owned(obj, "kubectl")["f:spec"]
    # The main resource never hands status to its writers.
    edited = copy.deepcopy(obj)
    edited["status"]["replicas"] = 7
    assert entry(update(obj, edited, "kubectl-edit", now=T3), "kubectl-edit", "Update") is None


def test_update_that_changes_nothing_records_nothing() -> None:
    live = apply(None, deployment(), now=T1)
    same = update(live, copy.deepcopy(live), "kubectl-edit", now=T2)
    assert same == live


def test_label_update_moves_one_label() -> None:
    live = update(None, deployment(labels={"app": "web", "env": "dev"}), "kubectl-create", now=T1)
    body = copy.deepcopy(live)
    body["metadata"]["labels"].update(env="prod", new="yes")
    labelled = update(live, body, "kubectl-label", now=T2)
    assert owned(labelled, "kubectl-label", "Update") == {
        "f:metadata": {"f:labels": {"f:env": {}, "f:new": {}}}}
    assert owned(labelled, "kubectl-create", "Update")["f:metadata"] == {"f:labels": {".": {}, "f:app": {}}}
    # Removing a label drops it from its owner's set too.
    body = copy.deepcopy(labelled)
    del body["metadata"]["labels"]["new"]
    unlabelled = update(labelled, body, "kubectl-label", now=T3)
    assert owned(unlabelled, "kubectl-label", "Update") == {"f:metadata": {"f:labels": {"f:env": {}}}}


def test_entries_are_sorted_apply_first_then_by_time() -> None:
    live = update(None, deployment(), "kubectl-create", now=T1)
    body = copy.deepcopy(live)
    body["metadata"]["labels"]["x"] = "1"
    live = update(live, body, "zz-late", now=T3)
    obj = apply(live, partial(labels={"y": "2"}), "applier", now=T2)
    assert [(m["manager"], m["operation"]) for m in obj["metadata"]["managedFields"]] == [
        ("applier", "Apply"), ("kubectl-create", "Update"), ("zz-late", "Update")]


def test_managed_fields_sent_with_an_update_replace_the_live_ones() -> None:
    live = update(None, deployment(), "kubectl-create", now=T1)
    body = copy.deepcopy(live)
    body["metadata"]["managedFields"] = [{}]  # the documented way to reset them
    body["spec"]["replicas"] = 4
    obj = update(live, body, "kubectl-edit", now=T2)
    assert [m["manager"] for m in obj["metadata"]["managedFields"]] == ["kubectl-edit"]
    assert owned(obj, "kubectl-edit", "Update") == {"f:spec": {"f:replicas": {}}}


def test_untyped_update_drops_managed_fields() -> None:
    live = update(None, deployment(), "kubectl-create", now=T1)
    body = copy.deepcopy(live)
    body["spec"]["template"]["spec"]["containers"].append({"image": "x"})  # no name: cannot be keyed
    obj = update(live, body, "kubectl-edit", now=T2)
    assert "managedFields" not in obj["metadata"]


def test_object_without_managed_fields_belongs_to_before_first_apply() -> None:
    live = deployment(replicas=2)
    with pytest.raises(ApplyConflict, match='"before-first-apply" using apps/v1: .spec.replicas'):
        apply(live, deployment(replicas=3))
    obj = apply(live, deployment(replicas=2))
    assert owned(obj, "kubectl") == DEPLOYMENT_APPLY_FIELDS
    assert entry(obj, "before-first-apply", "Update") is not None


# --------------------------------------------------------------------------- custom resources

def test_custom_resource_without_schema() -> None:
    widget = {"apiVersion": "example.com/v1", "kind": "Widget",
              "metadata": {"name": "w1", "labels": {"a": "b"}},
              "spec": {"size": 3, "tags": ["x", "y"], "config": {"k": "v"}}}
    obj = apply(None, widget, definition=None, api_version="example.com/v1")
    assert owned(obj, "kubectl") == {
        "f:metadata": {"f:labels": {"f:a": {}}},
        "f:spec": {"f:config": {".": {}, "f:k": {}}, "f:size": {}, "f:tags": {}},
    }
    # Lists are atomic: another manager's list replaces the whole value and conflicts.
    other = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w1"},
             "spec": {"tags": ["z"]}}
    with pytest.raises(ApplyConflict, match=r'conflict with "kubectl": \.spec\.tags$'):
        apply(obj, other, "other", definition=None, api_version="example.com/v1", now=T2)
    forced = apply(obj, other, "other", force=True, definition=None, api_version="example.com/v1", now=T2)
    assert forced["spec"]["tags"] == ["z"]
    # Maps stay granular; dropping a map key removes it.
    smaller = copy.deepcopy(widget)
    smaller["spec"]["config"] = {"j": "w"}
    del smaller["spec"]["tags"]
    again = apply(forced, smaller, definition=None, api_version="example.com/v1", now=T3)
    assert again["spec"]["config"] == {"j": "w"}
    assert again["spec"]["tags"] == ["z"]  # owned by "other" since the forced apply
    created = update(None, widget, "kubectl-create", definition=None)
    assert owned(created, "kubectl-create", "Update")["f:spec"] == {
        ".": {}, "f:config": {".": {}, "f:k": {}}, "f:size": {}, "f:tags": {}}


# --------------------------------------------------------------------------- fields_v1 encoding

def test_fields_v1_encoding() -> None:
    pod = {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "p", "labels": {"app": "web"}, "finalizers": ["x"],
                     "managedFields": [{"manager": "m"}]},
        "spec": {"containers": [{"name": "web", "image": "nginx", "resources": {},
                                 "ports": [{"containerPort": 80, "protocol": "TCP"},
                                           {"containerPort": 53, "protocol": "UDP", "name": "dns"}]}],
                 "nodeSelector": {"disk": "ssd"}},
    }
    encoded = fields_v1(pod, POD)
    assert encoded == {
        "f:metadata": {"f:finalizers": {'v:"x"': {}}, "f:labels": {"f:app": {}}},
        "f:spec": {
            "f:containers": {'k:{"name":"web"}': {
                ".": {}, "f:image": {}, "f:name": {},
                "f:ports": {
                    'k:{"containerPort":53,"protocol":"UDP"}': {".": {}, "f:containerPort": {}, "f:name": {},
                                                                "f:protocol": {}},
                    'k:{"containerPort":80,"protocol":"TCP"}': {".": {}, "f:containerPort": {},
                                                                "f:protocol": {}},
                },
            }},
            "f:nodeSelector": {},  # atomic map
        },
    }
    # Serialized key order is SMD's: "." first, then fields, then keys sorted by value.
    ports = encoded["f:spec"]["f:containers"]['k:{"name":"web"}']
    assert list(ports) == [".", "f:image", "f:name", "f:ports"]
    assert list(ports["f:ports"]) == ['k:{"containerPort":53,"protocol":"UDP"}',
                                      'k:{"containerPort":80,"protocol":"TCP"}']


def test_fields_v1_round_trips_through_managed_fields() -> None:
    obj = apply(None, deployment())
    assert fields_v1(obj, DEPLOYMENT) == owned(obj, "kubectl")


# --------------------------------------------------------------------------- client-side apply upgrade

def client_side_applied(replicas: int, annotated_replicas: int) -> dict[str, Any]:
    """An object `kubectl apply` (client-side) made: last-applied annotation plus its Update entry."""
    body = deployment(replicas=replicas)
    last = deployment(replicas=annotated_replicas)
    body["metadata"]["annotations"] = {
        "kubectl.kubernetes.io/last-applied-configuration": json.dumps(last, separators=(",", ":"))}
    return update(None, body, "kubectl-client-side-apply", now=T1)


def test_kubectl_takes_over_fields_its_last_applied_annotation_matches() -> None:
    live = client_side_applied(replicas=2, annotated_replicas=2)
    obj = apply(live, deployment(replicas=3), now=T2)
    assert obj["spec"]["replicas"] == 3
    assert "f:replicas" in owned(obj, "kubectl")["f:spec"]
    assert "f:replicas" not in owned(obj, "kubectl-client-side-apply", "Update")["f:spec"]
    # The annotation follows, so a later client-side apply diffs against this configuration.
    annotation = obj["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
    assert json.loads(annotation) == deployment(replicas=3)
    # Only the manager named "kubectl" gets this upgrade path.
    with pytest.raises(ApplyConflict, match='conflict with "kubectl-client-side-apply" using apps/v1'):
        apply(live, deployment(replicas=3), "my-tool", now=T2)


def test_fields_changed_since_the_last_client_side_apply_still_conflict() -> None:
    live = client_side_applied(replicas=5, annotated_replicas=2)  # e.g. scaled by kubectl edit since
    with pytest.raises(ApplyConflict) as exc:
        apply(live, deployment(replicas=3, image="nginx:1.27"), now=T2)
    assert exc.value.conflicts == [("kubectl-client-side-apply", ".spec.replicas")]
