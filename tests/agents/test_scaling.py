"""The scaling agent's reading of autoscale bounds: each bound from its own phrasing, and a bound that is not said
is never invented (the request is then not understood)."""

from __future__ import annotations

import pytest

from agents.coverage import understand
from agents.scaling import VOCAB, _hpa_numbers


@pytest.mark.parametrize(("text", "want"), [
    ("autoscale web on cpu, target 60%, never fewer than 2 pods and never more than 6", (2, 6, 60)),
    ("autoscale web at 70% cpu with at least 2 and at most 8 replicas", (2, 8, 70)),
    ("autoscale web between 3 and 5 replicas at 80% cpu", (3, 5, 80)),
    ("make web autoscale, no fewer than 1 and no more than 4 pods, above 50 percent", (1, 4, 50)),
])
def test_bounds_said_each_their_own_way(text: str, want: tuple[int, int, int]) -> None:
    got = _hpa_numbers(text)
    assert (got["min"], got["max"], got["target"]) == want
    u = understand(text, "scaling", "autoscale", {**got, "workload": "web", "namespace": "shop"}, VOCAB["autoscale"])
    assert u.confident, u.unused


def test_one_bound_alone_is_not_understood() -> None:
    text = "autoscale web at 70% cpu, at least 3 replicas"
    got = _hpa_numbers(text)
    assert "min" not in got and "max" not in got
    u = understand(text, "scaling", "autoscale", {**got, "workload": "web"}, VOCAB["autoscale"])
    assert not u.confident and "3" in u.unused
