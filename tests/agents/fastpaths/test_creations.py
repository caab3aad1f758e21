"""Plain objects set up on the way (agents.creations): the clauses that create them, the rest of the request written
out with them in place, and the whole plan through the supervisor (created first, then the rest, approved as one).
Also the two fast paths such requests lean on: env-from (load a ConfigMap as env) and bind-role (bind a subject to
an existing Role)."""

from __future__ import annotations

import pytest

from agents.creations import Item, Planned, split
from tests.agents.fastpaths.conftest import approve, create, deployment, held, namespace, not_confident, plan
from tools.k8s.client import KubeError

NS = "fp-made"
KNOWN = ["shop", "default", NS]


@pytest.fixture(scope="module", autouse=True)
def objects(kube):
    api = deployment(NS, "api", containers=[{"name": "api", "image": "nginx:1.27",
                                             "env": [{"name": "LOG_LEVEL", "value": "debug"}]}])
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "api-flags", "namespace": NS},
          "data": {"MODE": "on"}}
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "cm-reader",
                                                                                       "namespace": NS},
            "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}]}
    sa = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "exporter", "namespace": NS}}
    create(kube, namespace(NS), api, cm, role, sa)


# -- reading the setup clauses ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("text,items,rest", [
    ("for the new reporting team: create a namespace 'reporting', a service account 'reporter' in it, and let that "
     "service account list pods in the shop namespace",
     [("Namespace", "reporting", ""), ("ServiceAccount", "reporter", "reporting")],
     "for the new reporting team: let system:serviceaccount:reporting:reporter list pods in the shop namespace"),
    ("set up a namespace called analytics with a service account etl in it",
     [("Namespace", "analytics", ""), ("ServiceAccount", "etl", "analytics")], ""),
    ("I need a service account named deployer in shop that can patch deployments there",
     [("ServiceAccount", "deployer", "shop")], "let system:serviceaccount:shop:deployer patch deployments in shop"),
    ("Could you add a config map called flags to shop with DARK=true, and wire it into orders as env vars?",
     [("ConfigMap", "flags", "shop")], "Could you wire configmap flags into orders as env vars in shop?"),
    ("new namespace 'pay-staging' please, plus a 'ci' service account inside it",
     [("Namespace", "pay-staging", ""), ("ServiceAccount", "ci", "pay-staging")], ""),
])
def test_setup_clauses_and_the_rest_written_out(text, items, rest):
    cut = split(text, KNOWN, "default")
    assert cut is not None
    assert [(i.kind, i.name, i.namespace) for i in cut.items] == items
    assert cut.rest == rest


def test_configmap_data_keeps_its_case():
    cut = split("create a configmap app-env in shop containing MODE=prod and REGION=eu", KNOWN, None)
    assert cut is not None and cut.items[0].data == {"MODE": "prod", "REGION": "eu"} and cut.rest == ""


@pytest.mark.parametrize("text", [
    "I need a namespace for the tests",                     # "for" is no name
    "create a service account x and let it read pods in shop and in default",  # where x goes is not said
    "create a namespace qa in shop",                        # a namespace is in no namespace
    "create a service account bot with token=abc in shop",  # data on a service account: not understood here
    "scale web to 3",
])
def test_nothing_is_guessed(text):
    assert split(text, KNOWN, None) is None


def test_a_bare_name_of_a_created_service_account_is_that_account_not_a_user():
    cut = split("create a service account reporter in shop and give reporter read access to pods", KNOWN, None)
    assert cut is not None and "system:serviceaccount:shop:reporter read access" in cut.rest


def test_planned_objects_are_seen_before_they_exist(kube):
    planned = Planned(kube, [Item("Namespace", "fp-later"), Item("ServiceAccount", "bot", "fp-later")])
    assert "fp-later" in [n["metadata"]["name"] for n in planned.list("Namespace")]
    assert [s["metadata"]["name"] for s in planned.list("ServiceAccount", "fp-later")] == ["bot"]
    assert planned.get("ServiceAccount", "fp-later", "bot")["metadata"]["namespace"] == "fp-later"
    with pytest.raises(KubeError):
        kube.get("ServiceAccount", "fp-later", "bot")  # nothing was created


# -- the fast paths such requests lean on ------------------------------------------------------------------------------
def test_env_from_keeps_the_live_env_and_the_goal_says_so(kube):
    (m,) = plan(kube, f"have the api deployment in {NS} pick up every key of configmap api-flags as env vars",
                "resources", "env-from").mutations
    c = m.body["spec"]["template"]["spec"]["containers"][0]
    assert c == {"name": "api", "envFrom": [{"configMapRef": {"name": "api-flags"}}]}
    assert {"kind": "Deployment", "namespace": NS, "name": "api", "path": "spec.template.spec.containers.0.env",
            "op": "contains", "value": {"name": "LOG_LEVEL", "value": "debug"}} in m.goal


@pytest.mark.parametrize("text", [
    f"stop loading configmap api-flags as env vars in the api deployment in {NS}",  # taking it away: not this path
    f"load configmap nosuch into the api deployment in {NS} as env vars",           # no such source
    f"load configmap api-flags into the api deployment in {NS} as env vars tonight",
])
def test_env_from_is_not_guessed(kube, text):
    assert not_confident(kube, text, "resources", "env-from")


def test_bind_role_binds_to_the_existing_role(kube):
    (m,) = plan(kube, f"bind the exporter service account in {NS} to the cm-reader role", "rbac",
                "bind-role").mutations
    assert (m.verb, m.kind, m.body["roleRef"]["name"], m.body["subjects"][0]["name"]) == \
        ("create", "RoleBinding", "cm-reader", "exporter")
    assert {"can": {"user": f"system:serviceaccount:{NS}:exporter", "groups": [
        "system:serviceaccounts", f"system:serviceaccounts:{NS}"], "verb": "list", "resource": "configmaps",
        "namespace": NS}, "value": True} in m.goal


@pytest.mark.parametrize("text", [
    f"which subjects are bound to the cm-reader role in {NS}?",
    f"bind the exporter service account in {NS} to the nosuch role",
])
def test_bind_role_is_not_guessed(kube, text):
    assert not_confident(kube, text, "rbac", "bind-role")


# -- through the supervisor: one plan, created first, approved as one ---------------------------------------------------
def test_a_service_account_made_and_granted_in_one_request(runtime, kube):
    out = approve(runtime, f"please create a service account auditor in {NS} and let it get and list pods there",
                  "rbac")
    held(out, 3)
    kube.get("ServiceAccount", NS, "auditor")
    ok, _ = kube.subject_can(f"system:serviceaccount:{NS}:auditor", [f"system:serviceaccounts:{NS}"], "list", "pods",
                             NS)
    assert ok


def test_a_configmap_made_and_loaded_in_one_request(runtime, kube):
    out = approve(runtime, f"create a configmap app-env in {NS} with TIMEOUT=30 and load it into the api deployment "
                           "as environment variables, keep its LOG_LEVEL", "resources")
    held(out, 2)
    assert kube.get("ConfigMap", NS, "app-env")["data"] == {"TIMEOUT": "30"}
    c = kube.get("Deployment", NS, "api")["spec"]["template"]["spec"]["containers"][0]
    assert {"configMapRef": {"name": "app-env"}} in c["envFrom"] and c["env"] == [{"name": "LOG_LEVEL",
                                                                                   "value": "debug"}]


def test_a_rest_not_understood_creates_nothing(runtime, kube):
    out = approve(runtime, f"create a configmap half in {NS} with A=1 and load it into the nosuch deployment as env "
                           "vars", "resources")
    assert out["outcomes"] == [] and not out.get("approval")
    with pytest.raises(KubeError):
        kube.get("ConfigMap", NS, "half")
