"""Fixtures for the policies suite: the independent simulator (installed on first use) and small helpers."""

from __future__ import annotations

import pytest

from evals.iam_bench.simulator import PREFIX, ensure_installed


@pytest.fixture(scope="session")
def simulator_prefix():
    """`@cloud-copilot/iam-simulate` under <repo>/.cache/npm; installing it is part of the set-up and a
    failure fails the tests that need it (never a silent skip)."""
    return ensure_installed(PREFIX)
