"""The toolsmith grader: the tool's value against the task's checker, evaluated on a live (sandbox) cluster."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from evals.harness.graders import grade
from evals.harness.graders.toolsmith import ToolsmithGrader
from evals.harness.trace import Trace
from sandbox.server import SandboxServer
from tools.k8s.client import Kube

EXPR = {"type": "names", "expr": "[key(s) for s in L('Service')]"}


@pytest.fixture(scope="module")
def reader(tmp_path_factory):
    server = SandboxServer(scenarios=["default"]).start()
    kc = server.write_kubeconfig(tmp_path_factory.mktemp("tsg") / "kubeconfig")
    yield SimpleNamespace(kube=Kube.from_kubeconfig(str(kc)))
    server.stop()


def _trace(reader, value):
    results = [] if value is None else [{"agent": "toolsmith", "data": {"value": value}}]
    return Trace(results=results, reader=reader)


def test_matching_value_passes(reader):
    names = {f"{s['metadata']['namespace']}/{s['metadata']['name']}" for s in reader.kube.list("Service")}
    items = [{"namespace": n.split("/")[0], "name": n.split("/")[1]} for n in names]
    assert grade("toolsmith", EXPR, _trace(reader, {"items": items, "count": len(items)})).passed


def test_missing_or_extra_items_fail(reader):
    v = grade("toolsmith", EXPR, _trace(reader, {"items": [{"namespace": "x", "name": "y"}]}))
    assert not v.passed and "extra ['x/y']" in v.detail
    v = grade("toolsmith", EXPR, _trace(reader, None))
    assert not v.passed and "no toolsmith result" in v.detail


def test_bad_params_are_refused_at_load():
    with pytest.raises(ValueError):
        ToolsmithGrader.validate({"type": "names"})
    with pytest.raises(SyntaxError):
        ToolsmithGrader.validate({"type": "count", "expr": "len(("})
