"""Tests for sandbox.patch: RFC 6902, RFC 7386 and Kubernetes strategic merge patch."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from sandbox.patch import PatchError, PatchTestFailed, json_patch, merge_patch, strategic_merge_patch

DEPLOYMENT = "io.k8s.api.apps.v1.Deployment"
POD = "io.k8s.api.core.v1.Pod"


# --------------------------------------------------------------------------- RFC 6902 JSON patch

# RFC 6902 appendix A (A.13, a duplicate "op" member, is a JSON parsing matter and not representable here).
RFC6902_OK = [
    ("A.1 add object member", {"foo": "bar"}, [{"op": "add", "path": "/baz", "value": "qux"}],
     {"baz": "qux", "foo": "bar"}),
    ("A.2 add array element", {"foo": ["bar", "baz"]}, [{"op": "add", "path": "/foo/1", "value": "qux"}],
     {"foo": ["bar", "qux", "baz"]}),
    ("A.3 remove object member", {"baz": "qux", "foo": "bar"}, [{"op": "remove", "path": "/baz"}],
     {"foo": "bar"}),
    ("A.4 remove array element", {"foo": ["bar", "qux", "baz"]}, [{"op": "remove", "path": "/foo/1"}],
     {"foo": ["bar", "baz"]}),
    ("A.5 replace", {"baz": "qux", "foo": "bar"}, [{"op": "replace", "path": "/baz", "value": "boo"}],
     {"baz": "boo", "foo": "bar"}),
    ("A.6 move value", {"foo": {"bar": "baz", "waldo": "fred"}, "qux": {"corge": "grault"}},
     [{"op": "move", "from": "/foo/waldo", "path": "/qux/thud"}],
     {"foo": {"bar": "baz"}, "qux": {"corge": "grault", "thud": "fred"}}),
    ("A.7 move array element", {"foo": ["all", "grass", "cows", "eat"]},
     [{"op": "move", "from": "/foo/1", "path": "/foo/3"}], {"foo": ["all", "cows", "eat", "grass"]}),
    ("A.8 test success", {"baz": "qux", "foo": ["a", 2, "c"]},
     [{"op": "test", "path": "/baz", "value": "qux"}, {"op": "test", "path": "/foo/1", "value": 2}],
     {"baz": "qux", "foo": ["a", 2, "c"]}),
    ("A.10 add nested member object", {"foo": "bar"},
     [{"op": "add", "path": "/child", "value": {"grandchild": {}}}], {"foo": "bar", "child": {"grandchild": {}}}),
    ("A.11 ignore unrecognized elements", {"foo": "bar"},
     [{"op": "add", "path": "/baz", "value": "qux", "xyz": 123}], {"foo": "bar", "baz": "qux"}),
    ("A.14 ~ escape ordering", {"/": 9, "~1": 10}, [{"op": "test", "path": "/~01", "value": 10}],
     {"/": 9, "~1": 10}),
    ("A.16 add array value", {"foo": ["bar"]}, [{"op": "add", "path": "/foo/-", "value": ["abc", "def"]}],
     {"foo": ["bar", ["abc", "def"]]}),
    ("~1 escapes a slash", {"a/b": 1}, [{"op": "replace", "path": "/a~1b", "value": 2}], {"a/b": 2}),
    ("copy", {"a": {"x": [1]}}, [{"op": "copy", "from": "/a", "path": "/b"}], {"a": {"x": [1]}, "b": {"x": [1]}}),
    ("add at end index", {"a": [1]}, [{"op": "add", "path": "/a/1", "value": 2}], {"a": [1, 2]}),
    ("add replaces existing member", {"a": 1}, [{"op": "add", "path": "/a", "value": 2}], {"a": 2}),
    ("add at root replaces document", {"a": 1}, [{"op": "add", "path": "", "value": [1]}], [1]),
    ("replace root", {"a": 1}, [{"op": "replace", "path": "", "value": "x"}], "x"),
    ("move to same place", {"a": 1}, [{"op": "move", "from": "/a", "path": "/a"}], {"a": 1}),
    ("test whole document", {"a": [1, {"b": None}]}, [{"op": "test", "path": "", "value": {"a": [1, {"b": None}]}}],
     {"a": [1, {"b": None}]}),
    ("test numbers by value", {"n": 1}, [{"op": "test", "path": "/n", "value": 1.0}], {"n": 1}),
    ("empty patch", {"a": 1}, [], {"a": 1}),
    ("empty key", {"": 1}, [{"op": "replace", "path": "/", "value": 2}], {"": 2}),
    ("kubectl-style label add", {"metadata": {"name": "x"}},
     [{"op": "add", "path": "/metadata/labels", "value": {}},
      {"op": "add", "path": "/metadata/labels/app.kubernetes.io~1name", "value": "web"}],
     {"metadata": {"name": "x", "labels": {"app.kubernetes.io/name": "web"}}}),
]


@pytest.mark.parametrize(("doc", "ops", "want"), [c[1:] for c in RFC6902_OK], ids=[c[0] for c in RFC6902_OK])
def test_json_patch_applies(doc: Any, ops: Any, want: Any) -> None:
    before = copy.deepcopy(doc)
    assert json_patch(doc, ops) == want
    assert doc == before


RFC6902_TEST_FAILURES = [
    ("A.9 test error", {"baz": "qux"}, [{"op": "test", "path": "/baz", "value": "bar"}]),
    ("A.15 strings are not numbers", {"/": 9, "~1": 10}, [{"op": "test", "path": "/~01", "value": "10"}]),
    ("booleans are not numbers", {"a": True}, [{"op": "test", "path": "/a", "value": 1}]),
    ("missing path", {"a": 1}, [{"op": "test", "path": "/b", "value": 1}]),
    ("array order matters", {"a": [1, 2]}, [{"op": "test", "path": "/a", "value": [2, 1]}]),
]


@pytest.mark.parametrize(("doc", "ops"), [c[1:] for c in RFC6902_TEST_FAILURES],
                         ids=[c[0] for c in RFC6902_TEST_FAILURES])
def test_json_patch_failed_test_raises_patch_test_failed(doc: Any, ops: Any) -> None:
    with pytest.raises(PatchTestFailed):
        json_patch(doc, ops)


def test_failed_test_discards_earlier_operations() -> None:
    doc = {"a": 1}
    ops = [{"op": "replace", "path": "/a", "value": 2}, {"op": "test", "path": "/a", "value": 1}]
    with pytest.raises(PatchTestFailed):
        json_patch(doc, ops)
    assert doc == {"a": 1}


def test_patch_test_failed_is_a_patch_error_and_value_error() -> None:
    assert issubclass(PatchTestFailed, PatchError)
    assert issubclass(PatchError, ValueError)


RFC6902_INVALID = [
    ("A.12 add to nonexistent target", {"foo": "bar"}, [{"op": "add", "path": "/baz/bat", "value": "qux"}]),
    ("ops not a list", {}, {"op": "add", "path": "/a", "value": 1}),
    ("ops is a string", {}, "[]"),
    ("ops is None", {}, None),
    ("op not an object", {}, ["add"]),
    ("unknown op", {}, [{"op": "frobnicate", "path": "/a"}]),
    ("missing op", {}, [{"path": "/a", "value": 1}]),
    ("missing path", {}, [{"op": "add", "value": 1}]),
    ("path not a string", {}, [{"op": "add", "path": 3, "value": 1}]),
    ("missing value", {}, [{"op": "add", "path": "/a"}]),
    ("missing from", {"a": 1}, [{"op": "move", "path": "/b"}]),
    ("pointer without leading slash", {"a": 1}, [{"op": "replace", "path": "a", "value": 2}]),
    ("bad escape", {"a": 1}, [{"op": "add", "path": "/~2", "value": 2}]),
    ("remove missing member", {"a": 1}, [{"op": "remove", "path": "/b"}]),
    ("remove missing parent", {"a": 1}, [{"op": "remove", "path": "/b/c"}]),
    ("remove root", {"a": 1}, [{"op": "remove", "path": ""}]),
    ("replace missing member", {"a": 1}, [{"op": "replace", "path": "/b", "value": 2}]),
    ("replace past array end", {"a": [1]}, [{"op": "replace", "path": "/a/1", "value": 2}]),
    ("add past array end", {"a": [1]}, [{"op": "add", "path": "/a/2", "value": 2}]),
    ("leading zero index", {"a": [1, 2]}, [{"op": "remove", "path": "/a/01"}]),
    ("negative index", {"a": [1, 2]}, [{"op": "remove", "path": "/a/-1"}]),
    ("dash is only for add", {"a": [1, 2]}, [{"op": "remove", "path": "/a/-"}]),
    ("index into a string", {"a": "xy"}, [{"op": "add", "path": "/a/0", "value": "z"}]),
    ("move into own child", {"a": {"b": 1}}, [{"op": "move", "from": "/a", "path": "/a/b/c"}]),
    ("move from missing", {"a": 1}, [{"op": "move", "from": "/x", "path": "/y"}]),
    ("copy from missing", {"a": 1}, [{"op": "copy", "from": "/x", "path": "/y"}]),
    ("test with malformed pointer", {"a": 1}, [{"op": "test", "path": "a", "value": 1}]),
]


@pytest.mark.parametrize(("doc", "ops"), [c[1:] for c in RFC6902_INVALID], ids=[c[0] for c in RFC6902_INVALID])
def test_json_patch_invalid_raises_patch_error(doc: Any, ops: Any) -> None:
    with pytest.raises(PatchError) as info:
        json_patch(doc, ops)
    assert not isinstance(info.value, PatchTestFailed)
    assert str(info.value)


def test_json_patch_result_does_not_alias_the_patch() -> None:
    value = {"x": [1]}
    out = json_patch({}, [{"op": "add", "path": "/a", "value": value}])
    out["a"]["x"].append(2)
    assert value == {"x": [1]}


# --------------------------------------------------------------------------- RFC 7386 JSON merge patch

# RFC 7386 appendix A, in order.
RFC7386_TABLE = [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    (["a", "b"], ["c", "d"], ["c", "d"]),
    ({"a": "b"}, ["c"], ["c"]),
    ({"a": "foo"}, None, None),
    ({"a": "foo"}, "bar", "bar"),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
]


@pytest.mark.parametrize(("doc", "patch", "want"), RFC7386_TABLE, ids=[f"A.{i + 1}" for i in range(15)])
def test_merge_patch_rfc7386_appendix(doc: Any, patch: Any, want: Any) -> None:
    before_doc, before_patch = copy.deepcopy(doc), copy.deepcopy(patch)
    assert merge_patch(doc, patch) == want
    assert doc == before_doc and patch == before_patch


def test_merge_patch_rfc7386_section3_example() -> None:
    doc = {
        "title": "Goodbye!",
        "author": {"givenName": "John", "familyName": "Doe"},
        "tags": ["example", "sample"],
        "content": "This will be unchanged",
    }
    patch = {"title": "Hello!", "phoneNumber": "+01-123-456-7890", "author": {"familyName": None}, "tags": ["example"]}
    assert merge_patch(doc, patch) == {
        "title": "Hello!",
        "author": {"givenName": "John"},
        "tags": ["example"],
        "content": "This will be unchanged",
        "phoneNumber": "+01-123-456-7890",
    }


def test_merge_patch_result_shares_nothing_with_inputs() -> None:
    doc = {"keep": {"x": [1]}}
    patch = {"new": {"y": [2]}}
    out = merge_patch(doc, patch)
    out["keep"]["x"].append(9)
    out["new"]["y"].append(9)
    assert doc == {"keep": {"x": [1]}} and patch == {"new": {"y": [2]}}


def test_merge_patch_replaces_kubernetes_lists_wholesale() -> None:
    doc = {"spec": {"containers": [{"name": "a"}, {"name": "b"}]}}
    assert merge_patch(doc, {"spec": {"containers": [{"name": "c"}]}}) == {"spec": {"containers": [{"name": "c"}]}}


# --------------------------------------------------------------------------- strategic merge patch


def deployment() -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "web",
            "namespace": "default",
            "labels": {"app": "web", "tier": "frontend"},
            "finalizers": ["example.com/a", "example.com/b"],
        },
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [
                        {
                            "name": "web",
                            "image": "nginx:1.25",
                            "args": ["--port", "80"],
                            "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                            "ports": [{"containerPort": 80, "protocol": "TCP"}],
                        },
                        {"name": "sidecar", "image": "busybox:1.36"},
                    ],
                    "volumes": [{"name": "data", "emptyDir": {}}],
                },
            },
        },
    }


def smp(patch: dict[str, Any], doc: dict[str, Any] | None = None, definition: str | None = DEPLOYMENT) -> Any:
    doc = deployment() if doc is None else doc
    before_doc, before_patch = copy.deepcopy(doc), copy.deepcopy(patch)
    out = strategic_merge_patch(doc, patch, definition)
    assert doc == before_doc, "the document was mutated"
    assert patch == before_patch, "the patch was mutated"
    assert_no_directives(out)
    return out


def assert_no_directives(value: Any, path: str = "") -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            assert not key.startswith("$"), f"directive {key!r} left at {path or '/'}"
            assert_no_directives(item, f"{path}/{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            assert_no_directives(item, f"{path}/{i}")


def pod_spec(obj: dict[str, Any]) -> dict[str, Any]:
    return obj["spec"]["template"]["spec"]


def containers(obj: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in pod_spec(obj)["containers"]}


def names(items: list[dict[str, Any]], key: str = "name") -> list[Any]:
    return [i[key] for i in items]


def template_patch(spec: dict[str, Any]) -> dict[str, Any]:
    return {"spec": {"template": {"spec": spec}}}


def test_custom_resources_are_refused() -> None:
    with pytest.raises(PatchError, match="strategic merge patch is not supported for custom resources"):
        strategic_merge_patch({"spec": {}}, {"spec": {"a": 1}}, None)


def test_change_one_image_keeps_the_other_container() -> None:
    out = smp(template_patch({"containers": [{"name": "sidecar", "image": "busybox:1.37"}]}))
    assert names(pod_spec(out)["containers"]) == ["web", "sidecar"]
    assert containers(out)["sidecar"] == {"name": "sidecar", "image": "busybox:1.37"}
    assert containers(out)["web"] == deployment()["spec"]["template"]["spec"]["containers"][0]


def test_add_env_var_by_name_keeps_existing_ones() -> None:
    patch = template_patch({"containers": [{"name": "web", "env": [{"name": "C", "value": "3"}, {"name": "A", "value": "9"}]}]})
    env = containers(smp(patch))["web"]["env"]
    assert {e["name"]: e["value"] for e in env} == {"A": "9", "B": "2", "C": "3"}
    # Patch items keep the patch's order; B (server only) follows A, as in the live list.
    assert names(env) == ["C", "A", "B"]
    env = containers(smp(template_patch({"containers": [{"name": "web", "env": [{"name": "C", "value": "3"}]}]})))
    assert env["web"]["env"] == [{"name": "C", "value": "3"}, {"name": "A", "value": "1"}, {"name": "B", "value": "2"}]
    assert env["web"]["image"] == "nginx:1.25"


def test_new_items_land_before_server_only_items_like_the_real_server() -> None:
    # kubernetes.io "Update API Objects in Place Using kubectl patch": adding container patch-demo-ctr-2
    # with a strategic merge patch lists it *before* the existing patch-demo-ctr (strategicpatch's
    # mergeSortedSlice puts items unknown to the live list ahead of the remaining server-only items).
    out = smp(template_patch({"containers": [{"name": "redis", "image": "redis"}]}))
    assert names(pod_spec(out)["containers"]) == ["redis", "web", "sidecar"]
    out = smp({"metadata": {"finalizers": ["example.com/c"]}})
    assert out["metadata"]["finalizers"] == ["example.com/c", "example.com/a", "example.com/b"]


def test_order_without_set_element_order_follows_design_proposal() -> None:
    # design-proposals/cli/preserve-order-in-strategic-merge-patch.md: live B,C,A; patch A',B',D -> C,A',B',D
    doc = {"spec": {"containers": [{"name": "B"}, {"name": "C"}, {"name": "A"}]}}
    patch = {"spec": {"containers": [{"name": "A", "image": "a"}, {"name": "B", "image": "b"}, {"name": "D"}]}}
    out = smp(patch, doc, POD)
    assert out["spec"]["containers"] == [{"name": "C"}, {"name": "A", "image": "a"}, {"name": "B", "image": "b"},
                                         {"name": "D"}]


def test_delete_container_with_patch_delete() -> None:
    out = smp(template_patch({"containers": [{"name": "sidecar", "$patch": "delete"}]}))
    assert names(pod_spec(out)["containers"]) == ["web"]


def test_delete_unknown_list_element_is_a_no_op() -> None:
    out = smp(template_patch({"containers": [{"name": "nope", "$patch": "delete"}]}))
    assert names(pod_spec(out)["containers"]) == ["web", "sidecar"]


def test_set_element_order_reorders_containers() -> None:
    out = smp(template_patch({"$setElementOrder/containers": [{"name": "sidecar"}, {"name": "web"}]}))
    assert names(pod_spec(out)["containers"]) == ["sidecar", "web"]
    assert containers(out) == containers(deployment())


def test_set_element_order_with_changes_and_additions() -> None:
    patch = template_patch({
        "$setElementOrder/containers": [{"name": "sidecar"}, {"name": "log"}, {"name": "web"}],
        "containers": [{"name": "sidecar", "image": "busybox:1.37"}, {"name": "log", "image": "fluentbit"}],
    })
    out = smp(patch)
    assert names(pod_spec(out)["containers"]) == ["sidecar", "log", "web"]
    assert containers(out)["sidecar"]["image"] == "busybox:1.37"


def test_set_element_order_interleaves_server_only_items_by_live_position() -> None:
    # What strategicpatch.normalizeElementOrder computes for live C,B,D,A,E and order A,B.
    doc = {"spec": {"containers": [{"name": n} for n in "CBDAE"]}}
    patch = {"spec": {"$setElementOrder/containers": [{"name": "A"}, {"name": "B"}],
                      "containers": [{"name": "A", "image": "a"}, {"name": "B", "image": "b"}]}}
    assert names(smp(patch, doc, POD)["spec"]["containers"]) == ["C", "D", "A", "B", "E"]


def test_set_element_order_ignores_unknown_names() -> None:
    doc = {"spec": {"containers": [{"name": "A"}, {"name": "B"}]}}
    patch = {"spec": {"$setElementOrder/containers": [{"name": "C"}, {"name": "B"}, {"name": "A"}]}}
    assert names(smp(patch, doc, POD)["spec"]["containers"]) == ["B", "A"]


def test_set_element_order_for_primitive_list_with_deletions() -> None:
    # The finalizers example of the design proposal, as the real code orders it.
    doc = {"metadata": {"finalizers": ["b", "e", "a", "c", "d"]}}
    patch = {"metadata": {"$setElementOrder/finalizers": ["a", "b", "f"],
                          "$deleteFromPrimitiveList/finalizers": ["c"], "finalizers": ["f"]}}
    assert smp(patch, doc, POD)["metadata"]["finalizers"] == ["e", "a", "b", "f", "d"]


def test_set_element_order_must_agree_with_patch_list() -> None:
    patch = template_patch({"$setElementOrder/containers": [{"name": "web"}, {"name": "sidecar"}],
                            "containers": [{"name": "sidecar", "image": "x"}, {"name": "web", "image": "y"}]})
    with pytest.raises(PatchError, match="does not match"):
        strategic_merge_patch(deployment(), patch, DEPLOYMENT)


def test_set_element_order_for_absent_list_creates_it() -> None:
    patch = template_patch({"$setElementOrder/initContainers": [{"name": "init"}],
                            "initContainers": [{"name": "init", "image": "busybox"}]})
    assert pod_spec(smp(patch))["initContainers"] == [{"name": "init", "image": "busybox"}]


def test_retain_keys_switches_rolling_update_to_recreate() -> None:
    out = smp({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}})
    assert out["spec"]["strategy"] == {"type": "Recreate"}


def test_without_retain_keys_rolling_update_is_kept() -> None:
    out = smp({"spec": {"strategy": {"type": "Recreate"}}})
    assert out["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": "25%", "maxUnavailable": "25%"}


def test_retain_keys_rejects_patch_fields_it_does_not_list() -> None:
    patch = {"spec": {"strategy": {"$retainKeys": ["type"], "type": "RollingUpdate",
                                   "rollingUpdate": {"maxSurge": 1}}}}
    with pytest.raises(PatchError, match="retainKeys"):
        strategic_merge_patch(deployment(), patch, DEPLOYMENT)


def test_retain_keys_must_be_a_list() -> None:
    with pytest.raises(PatchError):
        strategic_merge_patch(deployment(), {"spec": {"strategy": {"$retainKeys": "type"}}}, DEPLOYMENT)


def test_retain_keys_on_volume_source_switch() -> None:
    # What `kubectl apply` sends when a volume changes from emptyDir to configMap (strategy merge,retainKeys).
    patch = template_patch({
        "$setElementOrder/volumes": [{"name": "data"}],
        "volumes": [{"$retainKeys": ["configMap", "name"], "configMap": {"name": "cfg"}, "name": "data"}],
    })
    assert pod_spec(smp(patch))["volumes"] == [{"name": "data", "configMap": {"name": "cfg"}}]


def test_finalizers_union_without_duplicates() -> None:
    out = smp({"metadata": {"finalizers": ["example.com/b", "example.com/c"]}})
    assert out["metadata"]["finalizers"] == ["example.com/a", "example.com/b", "example.com/c"]


def test_delete_from_primitive_list() -> None:
    out = smp({"metadata": {"$deleteFromPrimitiveList/finalizers": ["example.com/a", "example.com/zzz"]}})
    assert out["metadata"]["finalizers"] == ["example.com/b"]


def test_delete_from_absent_primitive_list_is_a_no_op() -> None:
    doc = deployment()
    del doc["metadata"]["finalizers"]
    out = smp({"metadata": {"$deleteFromPrimitiveList/finalizers": ["x"]}}, doc)
    assert "finalizers" not in out["metadata"]


def test_null_deletes_label_and_others_merge() -> None:
    out = smp({"metadata": {"labels": {"tier": None, "env": "prod", "absent": None}}})
    assert out["metadata"]["labels"] == {"app": "web", "env": "prod"}


def test_null_deletes_a_whole_field() -> None:
    out = smp({"spec": {"strategy": None}, "metadata": {"finalizers": None}})
    assert "strategy" not in out["spec"] and "finalizers" not in out["metadata"]


def test_ports_merge_by_container_port() -> None:
    patch = template_patch({"containers": [{"name": "web", "ports": [{"containerPort": 80, "name": "http"},
                                                                      {"containerPort": 443, "name": "https"}]}]})
    ports = containers(smp(patch))["web"]["ports"]
    assert ports == [{"containerPort": 80, "protocol": "TCP", "name": "http"}, {"containerPort": 443, "name": "https"}]


def test_args_without_patch_strategy_are_replaced() -> None:
    out = smp(template_patch({"containers": [{"name": "web", "args": ["--port", "8080", "--verbose"]}]}))
    assert containers(out)["web"]["args"] == ["--port", "8080", "--verbose"]


def test_tolerations_without_patch_strategy_are_replaced() -> None:
    doc = deployment()
    pod_spec(doc)["tolerations"] = [{"key": "a", "operator": "Exists"}]
    out = smp(template_patch({"tolerations": [{"key": "b", "operator": "Exists"}]}), doc)
    assert pod_spec(out)["tolerations"] == [{"key": "b", "operator": "Exists"}]


def test_patch_replace_on_a_map() -> None:
    out = smp({"metadata": {"labels": {"$patch": "replace", "only": "this"}}})
    assert out["metadata"]["labels"] == {"only": "this"}


def test_patch_replace_on_a_list() -> None:
    out = smp(template_patch({"containers": [{"$patch": "replace"}, {"name": "solo", "image": "x"}]}))
    assert pod_spec(out)["containers"] == [{"name": "solo", "image": "x"}]


def test_patch_delete_on_a_map() -> None:
    out = smp({"metadata": {"labels": {"$patch": "delete"}}})
    assert "labels" not in out["metadata"]


def test_patch_replace_strategy_on_field_replaces_the_map() -> None:
    # PodDisruptionBudgetSpec.selector carries x-kubernetes-patch-strategy: replace next to its $ref.
    doc = {"spec": {"selector": {"matchLabels": {"a": "b"},
                                 "matchExpressions": [{"key": "x", "operator": "Exists"}]}}}
    out = smp({"spec": {"selector": {"matchLabels": {"c": "d"}}}}, doc, "io.k8s.api.policy.v1.PodDisruptionBudget")
    assert out == {"spec": {"selector": {"matchLabels": {"c": "d"}}}}


def test_scalars_and_type_changes_replace() -> None:
    out = smp({"spec": {"replicas": 5, "selector": "oops"}})
    assert out["spec"]["replicas"] == 5 and out["spec"]["selector"] == "oops"


def test_unknown_fields_merge_as_maps_and_replace_as_lists() -> None:
    doc = deployment()
    doc["spec"]["extra"] = {"a": 1, "list": [{"name": "x"}, {"name": "y"}]}
    out = smp({"spec": {"extra": {"b": 2, "list": [{"name": "z"}]}, "brandNew": {"k": {"n": None}}}}, doc)
    assert out["spec"]["extra"] == {"a": 1, "list": [{"name": "z"}], "b": 2}
    assert out["spec"]["brandNew"] == {"k": {}}


def test_directives_in_fields_new_to_the_object_are_applied_not_stored() -> None:
    doc = deployment()
    del pod_spec(doc)["containers"][0]["env"]
    patch = template_patch({"containers": [{"name": "web", "$setElementOrder/env": [{"name": "X"}],
                                            "env": [{"name": "X", "value": "1"}, {"name": "Y", "$patch": "delete"}]},
                                           {"name": "new", "image": "i", "$setElementOrder/ports": [{"containerPort": 1}],
                                            "ports": [{"containerPort": 1}], "resources": {"$patch": "replace"}}]})
    out = smp(patch, doc)
    assert containers(out)["web"]["env"] == [{"name": "X", "value": "1"}]
    assert containers(out)["new"] == {"name": "new", "image": "i", "ports": [{"containerPort": 1}], "resources": {}}


def test_kubectl_apply_three_way_patch() -> None:
    doc = deployment()
    del pod_spec(doc)["containers"][1]
    last = json.dumps({"kind": "Deployment", "spec": {"template": {"spec": {"containers": [
        {"image": "nginx:1.26", "name": "web"}]}}}})
    patch = {
        "metadata": {"annotations": {"kubectl.kubernetes.io/last-applied-configuration": last}},
        "spec": {"template": {"spec": {"$setElementOrder/containers": [{"name": "web"}],
                                       "containers": [{"image": "nginx:1.26", "name": "web"}]}}},
    }
    out = smp(patch, doc)
    assert out["metadata"]["annotations"] == {"kubectl.kubernetes.io/last-applied-configuration": last}
    assert out["metadata"]["labels"] == doc["metadata"]["labels"]
    web = pod_spec(out)["containers"]
    assert len(web) == 1 and web[0]["image"] == "nginx:1.26" and web[0]["env"] == doc["spec"]["template"]["spec"][
        "containers"][0]["env"]


def test_kubectl_apply_removing_a_container_and_a_field() -> None:
    patch = template_patch({
        "$setElementOrder/containers": [{"name": "web"}],
        "containers": [{"$setElementOrder/env": [{"name": "A"}], "args": None, "name": "web",
                        "env": [{"$patch": "delete", "name": "B"}]},
                       {"$patch": "delete", "name": "sidecar"}],
    })
    out = smp(patch)
    (web,) = pod_spec(out)["containers"]
    assert "args" not in web and web["env"] == [{"name": "A", "value": "1"}]


def test_top_level_patch_replace() -> None:
    out = smp({"$patch": "replace", "kind": "Deployment", "metadata": {"name": "other"}})
    assert out == {"kind": "Deployment", "metadata": {"name": "other"}}


@pytest.mark.parametrize(
    ("doc", "patch", "definition"),
    [
        (deployment(), {"metadata": {"labels": {"$patch": "merge"}}}, DEPLOYMENT),
        (deployment(), {"metadata": {"labels": {"$patch": "bogus"}}}, DEPLOYMENT),
        (deployment(), template_patch({"containers": [{"image": "no-name"}]}), DEPLOYMENT),
        (deployment(), template_patch({"containers": [{"$patch": "delete"}]}), DEPLOYMENT),
        (deployment(), template_patch({"containers": [{"$patch": "merge", "name": "web"}]}), DEPLOYMENT),
        (deployment(), template_patch({"containers": [{"$patch": "bogus", "name": "web"}]}), DEPLOYMENT),
        (deployment(), template_patch({"containers": ["web"]}), DEPLOYMENT),
        (deployment(), template_patch({"containers": [[{"name": "web"}]]}), DEPLOYMENT),
        (deployment(), template_patch({"$setElementOrder/containers": {"name": "web"}}), DEPLOYMENT),
        (deployment(), template_patch({"$setElementOrder/containers": [{"nom": "web"}]}), DEPLOYMENT),
        (deployment(), template_patch({"$setElementOrder/": []}), DEPLOYMENT),
        (deployment(), {"metadata": {"finalizers": [1, "a"]}}, DEPLOYMENT),
        (deployment(), ["not", "a", "map"], DEPLOYMENT),
        (["not", "a", "map"], {}, DEPLOYMENT),
        (deployment(), {}, "io.k8s.api.apps.v1.NoSuchKind"),
        (deployment(), {"spec": {1: 2}}, DEPLOYMENT),
    ],
    ids=["patch-merge-on-map", "bogus-patch-on-map", "missing-merge-key", "delete-without-merge-key",
         "patch-merge-in-list", "bogus-patch-in-list", "mixed-element-types", "list-of-lists",
         "set-order-not-a-list", "set-order-without-merge-key", "directive-without-field", "mixed-finalizers",
         "patch-not-a-map", "doc-not-a-map", "unknown-definition", "non-string-key"],
)
def test_invalid_strategic_merge_patches_raise_patch_error(doc: Any, patch: Any, definition: str) -> None:
    with pytest.raises(PatchError) as info:
        strategic_merge_patch(doc, patch, definition)
    assert str(info.value)


def test_empty_patch_is_identity() -> None:
    assert smp({}) == deployment()
