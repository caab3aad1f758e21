"""The catalog indexes the installed kubernetes client (methods, kinds, wire field paths) and the live API's
discovery; field errors name the close fields."""

from __future__ import annotations

import pytest

from evals.bench_toolsmith import start_cluster
from tools.toolsmith.catalog import Catalog
from tools.toolsmith.plan import PlanError, validate


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory):
    server, kc = start_cluster(tmp_path_factory.mktemp("toolsmith-cluster"))
    yield server, kc
    server.stop()


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    return Catalog.load(tmp_path_factory.mktemp("catalog-home"))


def test_client_methods_and_kinds_are_indexed(catalog: Catalog) -> None:
    m = next(m for m in catalog.methods if m.api == "CoreV1Api" and m.name == "list_namespaced_pod")
    assert m.verb == "GET" and m.path == "/api/v1/namespaces/{namespace}/pods"
    assert m.response == "V1PodList" and m.kind == "Pod" and "label_selector" in m.params
    cj = catalog.kinds["CronJob"]
    assert (cj.group, cj.version, cj.plural, cj.namespaced) == ("batch", "v1", "cronjobs", True)
    assert catalog.kinds["Node"].namespaced is False
    assert catalog.kinds["HorizontalPodAutoscaler"].version == "v2"  # the newest stable version wins
    assert catalog.fields("CronJob")["status.lastScheduleTime"] == "datetime"
    assert catalog.fields("Pod")["spec.containers[*].image"] == "str"
    assert catalog.fields("Pod")["spec.containers[*].resources.limits"] == "map"


def test_index_is_cached_as_json(tmp_path) -> None:
    Catalog.load(tmp_path)
    cached = list((tmp_path / "toolsmith").glob("catalog-*.json"))
    assert len(cached) == 1
    again = Catalog.load(tmp_path)
    assert "CronJob" in again.kinds and again.fields("CronJob") == Catalog.load(tmp_path).fields("CronJob")


def test_kind_words_and_field_types(catalog: Catalog) -> None:
    assert catalog.resolve_kind("pvcs") == "PersistentVolumeClaim"
    assert catalog.resolve_kind("cron jobs") == "CronJob"
    assert catalog.resolve_kind("network policies") == "NetworkPolicy"
    assert catalog.field_type("Pod", "metadata.labels.app")[0] == "str"  # below a map: a key
    assert catalog.field_type("Pod", "status.conditions[type=Ready].status")[0] == "str"
    assert catalog.field_type("Pod", "spec.nope")[0] is None


def test_wrong_field_names_the_close_one(catalog: Catalog) -> None:
    with pytest.raises(PlanError) as e:
        validate({"kind": "CronJob", "filters": [{"field": "status.lastRun", "op": "older_than", "value": "1d"}],
                  "project": []}, catalog)
    assert str(e.value).startswith("CronJob has no field status.lastRun; did you mean status.lastScheduleTime")


def test_retrieval_finds_kinds_and_fields(catalog: Catalog) -> None:
    assert catalog.search("cronjobs that have not run for a day", 3)[0][0].kind == "CronJob"
    assert catalog.search_fields("CronJob", "last run", 2)[0][0] == "status.lastScheduleTime"


def test_discovery_adds_served_kinds(catalog: Catalog, cluster) -> None:
    from tools.k8s.client import Kube

    kube = Kube.from_kubeconfig(str(cluster[1]))
    added = catalog.add_discovery(kube)
    assert "PodMetrics" in added and catalog.kinds["PodMetrics"].plural == "pods"
    assert catalog.resolve_kind("pods") == "Pod"  # a discovered kind never takes the client's words
