"""A correction said in the request takes one object out of it (agents.corrections); nothing is guessed."""

from __future__ import annotations

import pytest

from agents.corrections import corrected


@pytest.mark.parametrize("text,fixed", [
    ("scale web to 5 and catalog to 0 in shop. Actually, skip catalog — just do web.", "scale web to 5 in shop"),
    ("restart web and checkout in shop. oh wait, leave checkout alone, only web", "restart web in shop"),
    ("restart web and checkout in shop, actually never mind checkout", "restart web in shop"),
    ("set web to 3 replicas, checkout to 2 and orders to 4 in shop. Wait, forget orders. thanks",
     "set web to 3 replicas and checkout to 2 in shop"),
    ("restart web and checkout in shop. actually, just do web", "restart web in shop"),
    ("delete the debug pods and the old jobs in shop. actually, don't touch the jobs", "delete the debug pods in shop"),
])
def test_the_part_taken_back_goes_and_the_namespace_stays(text, fixed):
    assert corrected(text) == fixed


@pytest.mark.parametrize("text", [
    "scale web to 5 in shop. actually skip it",                   # what "it" is taken back from is everything
    "restart web. actually skip web",                             # nothing would be left
    "restart web and checkout in shop. actually, just checkout",  # the part kept is not the one that acts
    "scale web to 5 and catalog to 0. actually skip catalog and set web to 7",  # a second order: not a confirmation
    "restart web and web-api in shop. actually skip payments",    # named by no part
    "scale web to 5 and catalog to 0 in shop",                    # no correction
])
def test_nothing_is_guessed(text):
    assert corrected(text) is None
