"""Plans: validation with clear errors, compilation to code the AST gate accepts, and correct results on a real
sandbox cluster through the sandboxed runner (checked against the cluster read independently)."""

from __future__ import annotations

import jsonschema
import pytest

from evals.bench_toolsmith import Checker, load_tasks, start_cluster
from tools.k8s.client import Kube
from tools.toolsmith.catalog import Catalog
from tools.toolsmith.compile import compile_plan
from tools.toolsmith.plan import PlanError, plan_schema, result_schema, validate
from tools.toolsmith.runner import run_tool
from tools.toolsmith.validate import check


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    return Catalog.load(tmp_path_factory.mktemp("catalog-home"))


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory):
    server, kc = start_cluster(tmp_path_factory.mktemp("toolsmith-cluster"))
    yield Kube.from_kubeconfig(str(kc)), Checker(kc)
    server.stop()


@pytest.mark.parametrize(("plan", "message"), [
    ({"kind": "Cronjob", "filters": [], "project": []}, None),  # resolved, not an error
    ({"kind": "Widget", "filters": [], "project": []}, "unknown kind 'Widget'"),
    ({"kind": "Pod", "filters": [{"field": "spec.containers[*].imag", "op": "eq", "value": "x"}], "project": []},
     "Pod has no field spec.containers[*].imag; did you mean spec.containers[*].image"),
    ({"kind": "Pod", "filters": [{"field": "status.phase", "op": "like", "value": "x"}], "project": []},
     "unknown op 'like'"),
    ({"kind": "Job", "filters": [{"field": "status.startTime", "op": "older_than", "value": "yesterday"}],
      "project": []}, "older_than needs a duration"),
    ({"kind": "Pod", "filters": [{"field": "status.phase", "op": "in", "value": "Running"}], "project": []},
     "in needs a list"),
    ({"kind": "Pod", "filters": [], "project": [], "aggregate": "median:spec.nodeName"}, "aggregate must be"),
    ({"kind": "Pod", "filters": [], "project": [], "limit": 0}, "limit must be a positive integer"),
    ({"kind": "Pod", "filters": [], "project": [], "namespace": "Bad_NS"}, "namespace must be a DNS label"),
])
def test_validation_errors_say_what_to_fix(catalog: Catalog, plan: dict, message: str | None) -> None:
    if message is None:
        assert validate(plan, catalog)["kind"] == "CronJob"
        return
    with pytest.raises(PlanError) as e:
        validate(plan, catalog)
    assert message in str(e.value)


def test_normalization_adds_list_walks_and_scope(catalog: Catalog) -> None:
    p = validate({"kind": "Node", "namespace": "web", "filters": [
        {"field": "spec.taints.effect", "op": "eq", "value": "NoSchedule"}], "project": []}, catalog)
    assert p["namespace"] is None  # cluster-scoped
    assert p["filters"][0]["field"] == "spec.taints[*].effect"
    assert p["project"] == ["metadata.name"]
    p = validate({"kind": "Pod", "filters": [{"field": 'metadata.labels.app.kubernetes.io/name', "op": "exists"}],
                  "project": []}, catalog)
    assert p["filters"][0]["field"] == 'metadata.labels["app.kubernetes.io/name"]'


def test_schema_accepts_a_valid_plan(catalog: Catalog) -> None:
    plan = {"kind": "CronJob", "namespace": "batch", "filters": [
        {"field": "status.lastScheduleTime", "op": "older_than", "value": "1d"}], "project": []}
    jsonschema.validate(plan, plan_schema(sorted(catalog.kinds)))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**plan, "kind": "Widget"}, plan_schema(sorted(catalog.kinds)))


PLANS = {
    "cj-stale-batch": {"kind": "CronJob", "namespace": "batch", "filters": [
        {"field": "status.lastScheduleTime", "op": "older_than", "value": "1d"}], "project": []},
    "dep-ready-differs": {"kind": "Deployment", "filters": [
        {"field": "status.readyReplicas", "op": "ne", "value": {"field": "spec.replicas"}, "default": 0}],
        "project": []},
    "pods-per-node": {"kind": "Pod", "filters": [], "project": [], "aggregate": "group_count:spec.nodeName"},
    "cm-large": {"kind": "ConfigMap", "filters": [{"field": "size(data)", "op": "gt", "value": 1024}], "project": []},
    "cpu-requests-web": {"kind": "Pod", "namespace": "web", "filters": [], "project": [],
                         "aggregate": "sum:spec.containers[*].resources.requests.cpu"},
    "pdb-web": {"kind": "PodDisruptionBudget", "namespace": "web", "filters": [], "project": []},
    "dep-memlimit-1gi": {"kind": "Deployment", "filters": [
        {"field": "spec.template.spec.containers.resources.limits.memory", "op": "gt", "value": "1Gi"}],
        "project": []},
    "job-failed": {"kind": "Job", "filters": [
        {"field": "status.conditions[type=Failed].status", "op": "eq", "value": "True"}], "project": []},
}


@pytest.mark.parametrize("task_id", sorted(PLANS))
def test_compiled_plans_pass_the_gate_and_answer_right(catalog: Catalog, cluster, task_id: str) -> None:
    kube, checker = cluster
    task = next(t for t in load_tasks() if t["id"] == task_id)
    plan = validate(PLANS[task_id], catalog)
    code = compile_plan(plan, catalog)
    assert check(code) == []
    r = run_tool(code, {"namespace": plan["namespace"]}, kube)
    assert r.ok, r.error
    jsonschema.validate(r.value, result_schema(plan))
    ok, why = checker.grade(task, r.value)
    assert ok, why
    assert all(c["method"] == "GET" for c in r.calls)
