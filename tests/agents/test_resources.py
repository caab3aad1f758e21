"""The resources agent end to end on demo-shop: reads cite objects, authored manifests become healthy objects, changes
are previewed and applied only on approval, repairs are verified healthy after the fix and leave everything unchanged
when rejected, and a change that does not hold is rolled back."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from kubesage import settings as settings_mod
from kubesage.runtime import Runtime
from sandbox.server import SandboxServer
from tests.waiting import until
from tools.k8s.client import Principal

ADMIN = Principal()


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SandboxServer, Path]]:
    server = SandboxServer(scenarios=["demo-shop"], speed=50.0).start()
    kc = server.write_kubeconfig(tmp_path_factory.mktemp("resources") / "kubeconfig")
    time.sleep(2.5)  # let the demo-shop faults show (crash loops, OOM kills, pull back-offs)
    yield server, kc
    server.stop()


@pytest.fixture()
def rt(shop, tmp_path: Path) -> Iterator[Runtime]:
    r = Runtime(settings_mod.load({"KUBESAGE_HOME": str(tmp_path)}), kubeconfig=str(shop[1]))
    r.supervisor.verify_stable_s = 2.0
    yield r
    r.close()


def ask(rt: Runtime, text: str, decision: str | None = None, principal: Principal = ADMIN) -> dict:
    r = rt.supervisor.start(text, principal, uuid.uuid4().hex[:10])
    while decision and r.get("approval"):
        r = rt.supervisor.resume(r["thread_id"], decision)
    return r


def obj(server: SandboxServer, coll: str, ns: str | None, name: str) -> dict | None:
    try:
        return server.cluster.store.get(coll, ns, name)
    except Exception:  # noqa: BLE001 - absent
        return None



def pod_ready(p: dict | None) -> bool:
    return bool(p) and any(c["type"] == "Ready" and c["status"] == "True" for c in p["status"].get("conditions") or [])


def deploy_healthy(server: SandboxServer, name: str, ns: str = "shop") -> bool:
    d = obj(server, "apps/deployments", ns, name)
    st = d["status"]
    return st.get("observedGeneration") == d["metadata"]["generation"] and \
        st.get("readyReplicas", 0) == st.get("updatedReplicas", 0) == d["spec"]["replicas"]


def container(server: SandboxServer, name: str, ns: str = "shop") -> dict:
    return obj(server, "apps/deployments", ns, name)["spec"]["template"]["spec"]["containers"][0]


# -- read --------------------------------------------------------------------------------------------------------
def test_images_are_read_from_the_live_pods(shop, rt):
    server, _ = shop
    r = ask(rt, "what images are running in shop?")
    assert r["route"]["agents"] == ["resources"]
    live = {c["image"] for p in server.cluster.store.list("/pods", "shop")[0] for c in p["spec"]["containers"]}
    assert set(r["results"][0]["data"]["images"]) == live
    assert "nginx:1.277" in r["answer"]


def test_services_without_endpoints(shop, rt):
    server, _ = shop
    r = ask(rt, "which services in shop have no endpoints")
    assert r["results"][0]["agent"] == "resources"
    empty = sorted(f"shop/{s['metadata']['name']}" for s in server.cluster.store.list("/services", "shop")[0]
                   if not any(sub.get("addresses") for sub in (obj(server, "/endpoints", "shop", s["metadata"]["name"])
                                                               or {}).get("subsets") or []))
    assert "shop/orders" in empty and "shop/web" not in empty
    assert sorted(r["results"][0]["data"]["services"]) == empty
    assert "shop/orders: selector {'app': 'order'} matches 0 pod(s) — no pod has those labels" in r["answer"]


def test_yaml_is_what_a_person_writes(rt):
    r = ask(rt, "show me the yaml of deployment web in shop")
    text = r["answer"]
    assert "image: nginx:1.27" in text
    for noise in ("managedFields", "resourceVersion", "uid:", "status:", "terminationMessagePath", "creationTimestamp"):
        assert noise not in text


def test_list_with_kind_found_by_discovery(shop, rt):
    server, _ = shop
    r = ask(rt, "list the endpointslices in shop")
    assert r["results"][0]["agent"] == "resources"
    items = r["results"][0]["data"]["items"]
    assert items and all(i.startswith("shop/") for i in items)
    assert len(items) == len(server.cluster.store.list("discovery.k8s.io/endpointslices", "shop")[0])


# -- author ------------------------------------------------------------------------------------------------------
def test_author_pod_in_a_new_namespace_becomes_ready(shop, rt):
    server, _ = shop
    r = ask(rt, "create an nginx pod named web-server in namespace web-server", "approve")
    assert [o["status"] for o in r["outcomes"]] == ["applied", "applied"]
    assert r["outcomes"][1].get("verified") is True
    p = obj(server, "/pods", "web-server", "web-server")
    assert p["spec"]["containers"][0]["image"] == "nginx" and pod_ready(p)


def test_author_deployment_and_service_that_selects_it(shop, rt):
    server, _ = shop
    ask(rt, "create a deployment named api in shop with image nginx:1.27, 2 replicas, port 80", "approve")
    until(lambda: deploy_healthy(server, "api"))
    r = ask(rt, "expose the api deployment in shop as a service on port 8080", "approve")
    assert r["outcomes"][0]["status"] == "applied"
    svc = obj(server, "/services", "shop", "api")
    assert svc["spec"]["selector"] == {"app": "api"} and svc["spec"]["ports"][0]["port"] == 8080
    assert svc["spec"]["ports"][0]["targetPort"] == 80
    ep = until(lambda: obj(server, "/endpoints", "shop", "api"))
    until(lambda: sum(len(s.get("addresses") or []) for s in
                      (obj(server, "/endpoints", "shop", "api") or {}).get("subsets") or []) == 2)
    assert ep


def test_author_rejected_creates_nothing(shop, rt):
    server, _ = shop
    r = ask(rt, "create a configmap called flags in shop with BETA=on", "reject")
    assert r["outcomes"][0]["status"] == "rejected"
    assert obj(server, "/configmaps", "shop", "flags") is None


def test_author_cronjob_from_plain_schedule(shop, rt):
    server, _ = shop
    ask(rt, "make a cronjob named nightly-report in shop that runs `echo report` every night at 2am", "approve")
    cj = obj(server, "batch/cronjobs", "shop", "nightly-report")
    assert cj["spec"]["schedule"] == "0 2 * * *"
    assert cj["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["command"] == ["echo", "report"]


def test_missing_fact_is_asked_for(rt):
    r = ask(rt, "create a deployment in shop named empty")
    assert "which image" in r["answer"].lower() and not r["approval"]


# -- change ------------------------------------------------------------------------------------------------------
def test_env_and_limits_change_only_on_approval(shop, rt):
    server, _ = shop
    before = container(server, "web")
    r = ask(rt, "add an environment variable FEATURE_X=true to the web deployment in shop")
    assert r["approval"] and "FEATURE_X" in r["approval"]["diff"]
    assert container(server, "web") == before
    rt.supervisor.resume(r["thread_id"], "approve")
    assert {"name": "FEATURE_X", "value": "true"} in container(server, "web")["env"]
    ask(rt, "give web in shop a memory limit of 300Mi", "approve")
    assert container(server, "web")["resources"]["limits"]["memory"] == "300Mi"
    until(lambda: deploy_healthy(server, "web"))


def test_service_switch_and_label_change(shop, rt):
    server, _ = shop
    r = ask(rt, "point the orders service in shop at the orders deployment", "approve")
    assert r["outcomes"][0]["status"] == "applied" and r["outcomes"][0].get("verified") is True
    assert obj(server, "/services", "shop", "orders")["spec"]["selector"] == {"app": "orders"}
    ask(rt, "label the report-cruncher deployment in shop with team=analytics", "approve")
    assert obj(server, "apps/deployments", "shop", "report-cruncher")["metadata"]["labels"]["team"] == "analytics"


def test_change_that_does_not_hold_is_rolled_back(shop, rt):
    server, _ = shop
    until(lambda: deploy_healthy(server, "web"))
    image = container(server, "web")["image"]
    r = ask(rt, "set the image of the web deployment in shop to nginx:9.99.9", "approve")
    o = r["outcomes"][0]
    assert o["status"] == "applied" and o["verified"] is False and o["rolled_back"] is True, o
    assert "rolled back" in r["answer"]
    assert container(server, "web")["image"] == image
    until(lambda: deploy_healthy(server, "web"))


# -- repair ------------------------------------------------------------------------------------------------------
REPAIRS = [
    ("fix whatever is wrong with deployment catalog in shop", "catalog",
     lambda s: container(s, "catalog")["image"] == "nginx:1.27"),
    ("the checkout deployment in shop is broken, repair it", "checkout",
     lambda s: "PAYMENTS_URL" in (obj(s, "/configmaps", "shop", "checkout-config")["data"] or {})),
    ("fix the payments deployment in shop", "payments",
     lambda s: container(s, "payments")["resources"]["limits"]["memory"] != "128Mi"),
    ("the worker deployment in shop won't start, fix it", "worker",
     lambda s: container(s, "worker")["resources"]["requests"]["cpu"] != "16"),
]


@pytest.mark.parametrize("question,name,fixed", REPAIRS, ids=[r[1] for r in REPAIRS])
def test_repair_rejected_changes_nothing_then_approved_heals(shop, rt, question, name, fixed):
    server, _ = shop
    def desired() -> tuple:  # what a fix would change (status moves on its own: crash loops, restarts)
        d = obj(server, "apps/deployments", "shop", name)
        return d["metadata"]["generation"], d["spec"], obj(server, "/configmaps", "shop", "checkout-config")["data"]

    before = desired()
    r = ask(rt, question, "reject")
    assert r["results"][0]["agent"] in ("resources", "logs")  # both propose the diagnosis' verified fixes
    assert r["outcomes"] and all(o["status"] == "rejected" for o in r["outcomes"])
    assert desired() == before
    # still broken: seen unhealthy within a while (a crash-looping pod is Ready for moments between crashes)
    until(lambda: not deploy_healthy(server, name), 30, f"{name} seen unhealthy")
    r = ask(rt, question, "approve")
    assert all(o["status"] == "applied" for o in r["outcomes"]), r["outcomes"]
    assert any(o.get("verified") is True for o in r["outcomes"]), r["outcomes"]
    assert fixed(server)
    assert deploy_healthy(server, name)


class _ScriptedModel:
    """A narrow stand-in for the gateway: answers with fixed text and, like the gateway, runs the caller's verifier
    (the server dry run) on it. It tests the agent's acceptance logic, not a model."""

    def __init__(self, text: str) -> None:
        self.text, self.kw, self.verdict = text, {}, "not called"

    def bind(self, **kw):
        self.kw = kw
        return self

    def invoke(self, messages):
        from langchain_core.messages import AIMessage

        msg = AIMessage(content=self.text, response_metadata={"served_by": "cloud"})
        self.verdict = self.kw["verifier"](msg)
        return msg


PDB = """```yaml
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: web-pdb
spec:
  minAvailable: 2
  selector:
    matchLabels:
      app: web
```"""


def test_kind_without_a_builder_is_model_written_and_server_checked(shop, rt):
    from agents.context import build_context
    from agents.resources import run

    server, _ = shop
    kube = rt.kube(ADMIN)
    text = "create a pod disruption budget named web-pdb in shop that keeps 2 web pods available"
    good = _ScriptedModel(PDB)
    res = run(build_context(kube, text, None, good))
    assert good.verdict is None and good.kw["category"] == "codegen"
    assert [m.describe() for m in res.mutations] == ["create PodDisruptionBudget shop/web-pdb"]
    assert obj(server, "policy/poddisruptionbudgets", "shop", "web-pdb") is None  # proposed, not applied
    bad = _ScriptedModel(PDB.replace("minAvailable: 2", "minAvailable: 2\n  maxUnavailible: 1"))
    res = run(build_context(kube, text, None, bad))
    assert "API server rejects" in bad.verdict and not res.mutations
    assert "not proposing" in res.answer


def test_a_word_the_model_written_manifest_does_not_reflect_is_not_understood(shop, rt):
    """The model writes a PodDisruptionBudget for every request about one; a requirement its manifest does not
    carry ("except on weekends") is a part left out, so nothing is proposed."""
    from agents.context import build_context
    from agents.resources import run

    text = "create a pod disruption budget named web-pdb in shop that keeps 2 web pods available except on weekends"
    res = run(build_context(rt.kube(ADMIN), text, None, _ScriptedModel(PDB)))
    assert not res.mutations and res.answer.startswith("I did not act:"), res.answer
    assert {"except", "weekends"} <= set(res.data["abstain"]["not_understood"])


def test_cli_yes_creates_a_ready_pod_in_a_new_namespace(tmp_path):
    """The issue's own acceptance command, through the installed CLI, on the embedded sandbox (no kubeconfig)."""
    import subprocess
    import sys

    env = {"KUBESAGE_HOME": str(tmp_path), "PATH": str(Path(sys.executable).parent)}
    out = subprocess.run([sys.executable, "-m", "kubesage.cli", "ask", "--yes",
                          "create an nginx pod named web-server in namespace web-server"],
                         capture_output=True, text=True, env=env, timeout=240)
    assert out.returncode == 0, out.stderr
    assert "Done: create Pod web-server/web-server (approved); verified healthy: pod is Running, ready" in out.stdout
    server = SandboxServer(state_dir=tmp_path / "sandbox-embedded", behaviour=False).start()  # read what was left
    try:
        pod = obj(server, "/pods", "web-server", "web-server")
        assert pod["spec"]["containers"][0]["image"] == "nginx" and pod_ready(pod)
    finally:
        server.stop()


@pytest.mark.parametrize("text", ["what's inside the checkout-config configmap in shop? keys and values please",
                                  "show me the contents of configmap checkout-config in shop"])
def test_one_configmap_is_read_with_its_values(shop, rt, text):
    r = ask(rt, text)
    assert "CURRENCY=EUR" in r["answer"] and "LOG_LEVEL=" in r["answer"], r["answer"]
    assert not r["approval"]


@pytest.mark.parametrize(("text", "ns"), [
    ("list every pod in the data namespace together with its labels", "data"),
    ("create a deployment api in namespace shop with a pod in it", "shop"),
    ("create namespace billing", "billing"),
    ("scale web -n shop", "shop"),
])
def test_namespace_said_most_explicitly_wins(text, ns):
    from agents.resource_text import namespace_of

    assert namespace_of(text) == ns


def test_a_filtered_list_is_the_toolsmiths_to_understand(shop, rt):
    """Conditions a plain list cannot apply go to the toolsmith, whose own account of the words decides."""
    r = ask(rt, "which PVCs in shop are not Bound yet, and how big are they?")
    assert "PersistentVolumeClaim" in r["answer"] and "plan-deterministic" in r["answer"], r["answer"]
    r = ask(rt, "which PVCs in shop are not Bound yet, and who made them?")
    assert r["answer"].startswith("I did not act") and not r["approval"]


def test_a_configmap_adjective_is_no_name(shop, rt):
    """'empty configmaps' filters the list (the toolsmith's); it does not name a ConfigMap called empty-…"""
    r = ask(rt, "empty configmaps in shop")
    assert "has 1 key(s)" not in r["answer"] and "keys and values" not in r["answer"]


def test_a_condition_on_keys_is_not_a_configmap_read(shop, rt):
    """'configmaps with the key THEME' is a filter no plain list applies: not answered with every ConfigMap."""
    r = ask(rt, "configmaps with the key THEME")
    assert "checkout-config" not in r["answer"] or r["answer"].startswith("I did not act"), r["answer"]
