"""config_error: CreateContainerConfigError for a missing ConfigMap/Secret or key."""

from __future__ import annotations

from tests.tools.diagnose import builders as b
from tools.diagnose.base import REGISTRY, load_checks

load_checks()
CHECK = REGISTRY["config_error"]


def config_error(message: str, container: dict, configmaps: list[dict]):
    dep = b.deployment("api", [container])
    p = b.pod_of(dep, statuses=[b.waiting("api", "CreateContainerConfigError", message)])
    return b.snapshot(pods=[p], deployments=[dep], configmaps=configmaps)


def test_missing_key_that_is_a_typo_of_an_existing_key():
    c = b.container("api", env=[{"name": "DB_HOST", "valueFrom": {"configMapKeyRef": {"name": "api-cfg", "key": "db_hots"}}}])
    snap = config_error("couldn't find key db_hots in ConfigMap shop/api-cfg", c,
                        [b.configmap("api-cfg", {"db_host": "pg", "db_port": "5432"})])
    [f] = CHECK.run(snap)
    assert (f.reason, f.name) == ("CreateContainerConfigError", "api")
    assert any("has keys: db_host, db_port" in e for e in f.evidence)
    assert f.fix["patch"]["spec"]["template"]["spec"]["containers"] == [{"name": "api", "env": [
        {"name": "DB_HOST", "valueFrom": {"configMapKeyRef": {"name": "api-cfg", "key": "db_host"}}}]}]


def test_missing_key_without_a_near_key_says_what_to_add_and_guesses_no_value():
    c = b.container("api", env=[{"name": "TOKEN", "valueFrom": {"configMapKeyRef": {"name": "api-cfg", "key": "token"}}}])
    snap = config_error("couldn't find key token in ConfigMap shop/api-cfg", c, [b.configmap("api-cfg", {"a": "1"})])
    [f] = CHECK.run(snap)
    assert f.fix is None and "add key token to ConfigMap shop/api-cfg" in f.suggested_fix


def test_missing_configmap_that_is_a_typo_of_an_existing_one():
    c = b.container("api", envFrom=[{"configMapRef": {"name": "api-confg"}}])
    snap = config_error('configmap "api-confg" not found', c, [b.configmap("api-config", {"a": "1"})])
    [f] = CHECK.run(snap)
    assert "does not exist" in f.root_cause
    assert f.fix["patch"]["spec"]["template"]["spec"]["containers"] == [
        {"name": "api", "envFrom": [{"configMapRef": {"name": "api-config"}}]}]


def test_missing_secret_with_nothing_close():
    c = b.container("api", envFrom=[{"secretRef": {"name": "db-creds"}}])
    snap = config_error('secret "db-creds" not found', c, [])
    [f] = CHECK.run(snap)
    assert f.fix is None and "create Secret shop/db-creds" in f.suggested_fix
