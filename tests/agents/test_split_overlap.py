"""Two parts of one split request that would change the same field of the same object: neither is proposed
(agents.supervisor._overlapping); different fields of one object are no conflict."""

from __future__ import annotations

from agents.coverage import understand
from agents.supervisor import _overlapping


def _p(part: int, verb: str, body, kind: str = "ConfigMap", name: str = "cfg") -> dict:
    return {"kind": kind, "namespace": "shop", "name": name, "verb": verb, "body": body, "part": part}


def test_same_key_different_values_is_a_conflict() -> None:
    assert _overlapping([_p(0, "patch", {"data": {"URL": "a"}}), _p(1, "patch", {"data": {"URL": "b"}})]) == \
        "ConfigMap shop/cfg"


def test_a_create_or_delete_conflicts_with_any_change_of_the_object() -> None:
    assert _overlapping([_p(0, "delete", None), _p(1, "patch", {"data": {"URL": "b"}})])


def test_different_fields_or_one_part_are_no_conflict() -> None:
    scale = _p(0, "scale", 3, "Deployment", "web")
    restart = _p(1, "patch", {"spec": {"template": {"metadata": {"annotations": {"restartedAt": "t"}}}}},
                 "Deployment", "web")
    assert _overlapping([scale, restart]) == ""
    assert _overlapping([_p(0, "patch", {"data": {"URL": "a"}}), _p(0, "patch", {"data": {"URL": "b"}})]) == ""
    json_patch = [{"op": "test", "path": "/spec/x", "value": 1}, {"op": "add", "path": "/spec/y", "value": 2}]
    assert _overlapping([_p(0, "patch", json_patch), _p(1, "patch", {"spec": {"x": 5}})]) == ""


def test_an_order_verb_is_never_a_typo_of_a_vocabulary_word() -> None:
    u = understand("restart checkout", "logs", "diagnose", {"workload": "checkout"}, {"restarts", "restarted"})
    assert not u.confident and "restart" in u.unused
