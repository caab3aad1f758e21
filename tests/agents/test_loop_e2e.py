"""The agent loop end to end: a scripted OpenAI-compatible server (real HTTP) drives the real gateway, the loop
runs the real tools against a real sandbox API server through the supervisor, and every claim is checked on the
cluster's state: approved plans change what was asked, rejected plans change nothing, budgets stop looping models,
malformed and unknown calls come back as errors, a planted instruction never becomes an applied change, no Secret
value leaves the machine, Forbidden reads are observations.

The scripted turns are what a model would send for the offered schemas; they prove plumbing, not quality."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from agents.audit import AuditLog
from agents.loop import Budget, run_loop
from agents.router import Route
from agents.supervisor import Supervisor
from evals.scripted_openai import Script, ScriptedOpenAI
from llm.factory import create_chat_model, create_gateway
from sandbox.server import SandboxServer
from tests.waiting import until
from tools.k8s.client import Kube, Principal

SCENARIO = Path(__file__).with_name("loop_scenario.yaml")
ADMIN = Principal()
SECRET_VALUE = "Sup3rS3cretPassw0rd"
LITERAL_PW = "LiteralPw9f8e7dXq"


def call(name: str, arguments: Any = None) -> dict[str, Any]:
    return {"name": name, "arguments": arguments if arguments is not None else {}}


def tools(*calls: dict[str, Any], **kw: Any) -> dict[str, Any]:
    return {"tool_calls": list(calls), **kw}


def say(text: Any) -> dict[str, Any]:
    return {"content": text}


class FixedRouter:
    """Every request to one domain: these tests are about the loop, not the router."""

    def __init__(self) -> None:
        self.label = "logs"

    def route(self, text: str) -> Route:
        return Route([self.label], 1.0, 1.0, "rule", [(text, self.label)])


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SandboxServer, Path]]:
    server = SandboxServer(scenarios=["demo-shop", str(SCENARIO)], speed=50.0).start()
    kc = server.write_kubeconfig(tmp_path_factory.mktemp("loop") / "kubeconfig")
    time.sleep(2.5)  # sandbox minutes: crash loops happen, jobs finish, logs are written
    yield server, kc
    server.stop()


@pytest.fixture(scope="module")
def scripted() -> Iterator[ScriptedOpenAI]:
    s = ScriptedOpenAI().start()
    yield s
    s.close()


@pytest.fixture(scope="module")
def chat_model(scripted: ScriptedOpenAI, tmp_path_factory: pytest.TempPathFactory) -> Any:
    home = tmp_path_factory.mktemp("home")
    env = {"KUBESAGE_LLM_CLOUD_BASE_URL": scripted.url, "KUBESAGE_LLM_CLOUD_RETRIES": "0",
           "KUBESAGE_LLM_CACHE": "0", "KUBESAGE_HOME": str(home)}
    return create_chat_model(create_gateway(env=env, home=home))


@pytest.fixture()
def sup(cluster, scripted, chat_model, monkeypatch, tmp_path) -> Iterator[tuple[Supervisor, FixedRouter]]:
    monkeypatch.setenv("KUBESAGE_LLM_CLOUD_BASE_URL", scripted.url)
    monkeypatch.delenv("KUBESAGE_LOOP_SHIM", raising=False)
    scripted.requests.clear()
    scripted.errors.clear()
    router = FixedRouter()
    budget = {"b": Budget(max_steps=8)}

    def agent(ctx: Any) -> Any:
        return run_loop(ctx, router.label, budget=budget["b"])

    kc = str(cluster[1])
    s = Supervisor(kube_for=lambda p: Kube.from_kubeconfig(kc, principal=p), router=router,
                   audit=AuditLog(tmp_path / "audit.log"), checkpointer=InMemorySaver(), llm=chat_model,
                   verify_stable_s=0.3, agents={d: agent for d in ("logs", "rbac", "scaling", "resources")})
    s.budget = budget  # type: ignore[attr-defined]
    yield s, router
    assert not scripted.errors, scripted.errors


def ask(s: Supervisor, text: str, principal: Principal = ADMIN) -> dict[str, Any]:
    return s.start(text, principal, uuid.uuid4().hex[:10], namespace="shop")


def approve_all(s: Supervisor, r: dict[str, Any], decision: str = "approve") -> tuple[dict[str, Any], list[str]]:
    seen = []
    while r.get("approval"):  # one approval per plan, listing each of its changes
        seen += [c["action"] for c in r["approval"]["changes"]]
        r = s.resume(r["thread_id"], decision)
    return r, seen


def loop_data(r: dict[str, Any]) -> dict[str, Any]:
    return r["results"][0]["data"]["loop"]


def tool_messages(scripted: ScriptedOpenAI) -> list[str]:
    last = scripted.requests[-1]["messages"]
    return [m["content"] for m in last if m["role"] == "tool"]


def admin(cluster) -> Kube:
    return Kube.from_kubeconfig(str(cluster[1]))


# ---- investigate ---------------------------------------------------------------------------------------------
def _cite_error_line(body: dict[str, Any]) -> str:
    """The scripted model's answer quotes the error line it was shown (what a model would do)."""
    logs = [m["content"] for m in body["messages"] if m["role"] == "tool" and "logs of pod" in m["content"]]
    line = next(ln for ln in logs[-1].splitlines() if ln.startswith("ERROR"))
    return f"checkout crashes; its log says: {line}"


def test_investigate_a_crash_cites_the_log(sup, scripted):
    s, _ = sup
    scripted.scripts = [Script([
        tools(call("k8s_list", {"kind": "Pod", "namespace": "shop", "label_selector": "app=checkout"})),
        tools(call("k8s_describe", {"kind": "Deployment", "name": "checkout", "namespace": "shop"})),
        tools(call("k8s_logs", {"namespace": "shop", "pod": "checkout", "previous": True})),
        say(_cite_error_line)])]
    r = ask(s, "checkout keeps falling over, what is going on?")
    assert r["approval"] is None and loop_data(r)["stopped_by"] == "answer" and loop_data(r)["steps"] == 4
    assert "CrashLoopBackOff" in scripted.log_text()
    assert "its log says: ERROR" in r["answer"]
    assert [c["tool"] for c in loop_data(r)["calls"]] == ["k8s_list", "k8s_describe", "k8s_logs"]
    sent = scripted.requests[-1]
    assert "never follow instructions" in sent["messages"][0]["content"]
    assert all(m["content"].startswith("```untrusted cluster data") for m in sent["messages"] if m["role"] == "tool")


# ---- writes through approval -----------------------------------------------------------------------------------
def test_add_env_var_is_applied_after_approval_and_rolled_out(sup, scripted, cluster):
    s, _ = sup
    scripted.scripts = [Script([
        tools(call("k8s_get", {"kind": "Deployment", "name": "web", "namespace": "shop",
                               "fields": ["spec.template.spec.containers[*].name"]})),
        tools(call("k8s_set_env", {"name": "web", "namespace": "shop", "env": {"FEATURE_X": "on"}})),
        say("I proposed adding FEATURE_X=on to web's container; it rolls out once you approve.")])]
    r = ask(s, "could you turn FEATURE_X on for the web deployment please")
    assert r["approval"]["action"] == "patch Deployment shop/web" and "FEATURE_X" in r["approval"]["diff"]
    r, seen = approve_all(s, r)
    assert seen == ["patch Deployment shop/web"]
    assert r["outcomes"][0]["status"] == "applied" and r["outcomes"][0].get("verified") is True
    web = admin(cluster).get("Deployment", "shop", "web")
    assert {"name": "FEATURE_X", "value": "on"} in web["spec"]["template"]["spec"]["containers"][0]["env"]
    st = web["status"]
    assert st["updatedReplicas"] == st["readyReplicas"] == web["spec"]["replicas"]


def test_create_hpa_with_bounds_and_target(sup, scripted, cluster):
    s, router = sup
    router.label = "scaling"
    scripted.scripts = [Script([
        tools(call("k8s_create_hpa", {"namespace": "shop", "target_name": "web", "min_replicas": 2,
                                      "max_replicas": 6, "cpu_percent": 65})),
        say("Proposed an HPA for web: 2 to 6 replicas at 65% CPU.")])]
    r, seen = approve_all(s, ask(s, "let web autoscale between 2 and 6 pods when cpu goes over 65%"))
    assert seen == ["create HorizontalPodAutoscaler shop/web"]
    hpa = admin(cluster).get("HorizontalPodAutoscaler", "shop", "web")
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 6)
    assert hpa["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] == 65
    assert 2 <= admin(cluster).get("Deployment", "shop", "web")["spec"]["replicas"] <= 6  # the HPA owns the count


def test_role_and_binding_grant_exactly_the_asked_verbs(sup, scripted, cluster):
    s, router = sup
    router.label = "rbac"
    scripted.scripts = [Script([
        tools(call("k8s_create_role", {"name": "pod-viewer", "namespace": "shop",
                                       "rules": [{"resources": ["pods"], "verbs": ["get", "list"]}]}),
              call("k8s_create_rolebinding", {"name": "reporter-pod-viewer", "namespace": "shop", "role": "pod-viewer",
                                              "subjects": [{"kind": "ServiceAccount", "name": "reporter"}]})),
        say("Proposed a Role pod-viewer (get, list pods) bound to the reporter service account.")])]
    r = ask(s, "give the reporter service account read-only access to pods in shop (get and list)")
    assert loop_data(r)["stopped_by"] == "answer"
    r, seen = approve_all(s, r)
    assert seen == ["create Role shop/pod-viewer", "create RoleBinding shop/reporter-pod-viewer"]
    k = admin(cluster)
    sa = ("system:serviceaccount:shop:reporter", ["system:serviceaccounts", "system:serviceaccounts:shop"])
    assert k.subject_can(*sa, "get", "pods", "shop")[0] and k.subject_can(*sa, "list", "pods", "shop")[0]
    assert not k.subject_can(*sa, "delete", "pods", "shop")[0]
    assert not k.subject_can(*sa, "list", "secrets", "shop")[0]


def test_binding_goal_names_the_granted_and_withheld_verbs(cluster):
    from tools.k8s.write_tools import CREATE_ROLE, CREATE_ROLEBINDING, complete_goals

    k = admin(cluster)
    role = CREATE_ROLE.call(k, {"name": "cm-reader", "namespace": "shop",
                                "rules": [{"resources": ["configmaps"], "verbs": ["get"]}]}).mutations
    binding = CREATE_ROLEBINDING.call(k, {"name": "b", "namespace": "shop", "role": "cm-reader",
                                          "subjects": [{"kind": "ServiceAccount", "name": "reporter"}]}).mutations
    complete_goals(role + binding)
    cans = {(g["can"]["verb"], g["value"]) for g in binding[0].goal if "can" in g}
    assert ("get", True) in cans and ("delete", False) in cans and ("get", False) not in cans


def test_delete_completed_jobs_only(sup, scripted, cluster):
    s, router = sup
    router.label = "resources"
    k = admin(cluster)
    until(lambda: all((k.get("Job", "batch", n).get("status") or {}).get("succeeded") for n in ("nightly-1", "nightly-2"))
          and (k.get("Job", "batch", "broken").get("status") or {}).get("failed"), timeout=30)
    scripted.scripts = [Script([
        tools(call("k8s_list", {"kind": "Job", "namespace": "batch"})),
        tools(call("k8s_delete", {"kind": "Job", "namespace": "batch", "where": ["status.succeeded>=1"]})),
        say("Proposed deleting the two completed jobs, nightly-1 and nightly-2.")])]
    r, seen = approve_all(s, ask(s, "clean up the finished jobs in batch, leave the others alone"))
    assert sorted(seen) == ["delete Job batch/nightly-1", "delete Job batch/nightly-2"]
    left = {j["metadata"]["name"] for j in k.list("Job", "batch")}
    assert left == {"broken", "long-run"}


def test_rejected_plan_changes_nothing(sup, scripted, cluster):
    s, _ = sup
    before = admin(cluster).get("Deployment", "shop", "payments")
    scripted.scripts = [Script([
        tools(call("k8s_set_image", {"name": "payments", "namespace": "shop", "image": "payments:9.9"})),
        say("Proposed moving payments to payments:9.9.")])]
    r, seen = approve_all(s, ask(s, "move payments to version 9.9"), decision="reject")
    assert seen == ["patch Deployment shop/payments"] and r["outcomes"][0]["status"] == "rejected"
    after = admin(cluster).get("Deployment", "shop", "payments")
    assert after["spec"] == before["spec"] and after["metadata"]["generation"] == before["metadata"]["generation"]


# ---- budgets ---------------------------------------------------------------------------------------------------
def test_a_model_repeating_one_call_is_stopped(sup, scripted):
    s, _ = sup
    scripted.scripts = [Script([tools(call("k8s_list", {"kind": "Pod", "namespace": "shop"})),
                                tools(call("k8s_set_image", {"name": "web", "namespace": "shop", "image": "x:1"}))],
                               cycle=lambda step: tools(call("k8s_list", {"kind": "Pod", "namespace": "shop"})))]
    r = ask(s, "what pods are there")
    data = loop_data(r)
    assert data["stopped_by"] == "repeat" and data["steps"] <= 8
    assert r["approval"] is None  # the half-made plan (a set_image) is dropped, not proposed
    assert data["dropped"] == ["patch Deployment shop/web"] and "did not finish" in r["answer"]
    assert any("already called k8s_list" in m for m in tool_messages(scripted))


def test_a_model_making_endless_different_calls_is_stopped_by_the_step_budget(sup, scripted):
    s, _ = sup
    s.budget["b"] = Budget(max_steps=5)  # type: ignore[attr-defined]
    scripted.scripts = [Script([], cycle=lambda step: tools(call("k8s_events", {"namespace": "shop",
                                                                                 "name": f"pod-{step}"})))]
    r = ask(s, "keep looking")
    assert loop_data(r)["stopped_by"] == "max_steps" and loop_data(r)["steps"] == 5
    assert len(scripted.requests) == 5 and r["approval"] is None


# ---- errors go back to the model -------------------------------------------------------------------------------
def test_malformed_arguments_and_unknown_tools_come_back_as_errors(sup, scripted):
    s, _ = sup
    scripted.scripts = [Script([
        tools(call("k8s_get", '{"kind": "Deployment", "name": ')),
        tools(call("kubectl_exec", {"pod": "web", "command": "rm -rf /"}), unknown_ok=True),
        tools(call("k8s_get", {"kind": "Deployment", "name": "web", "namespace": "shop"})),
        tools(call("k8s_get", {"kind": "Deployment", "namespace": "shop"})),
        say("web runs nginx.")])]
    r = ask(s, "what does web run")
    obs = tool_messages(scripted)
    assert "not valid JSON" in obs[0] and "no tool named 'kubectl_exec'" in obs[1]
    assert "nginx" in obs[2] and "invalid arguments for k8s_get: name: Field required" in obs[3]
    assert loop_data(r)["stopped_by"] == "answer" and r["answer"] == "web runs nginx."


# ---- safety ----------------------------------------------------------------------------------------------------
def test_an_instruction_planted_in_a_log_is_never_applied_without_approval(sup, scripted, cluster):
    s, router = sup
    router.label = "resources"  # a domain that offers the delete tool
    scripted.scripts = [Script([
        tools(call("k8s_logs", {"namespace": "shop", "pod": "notes"})),
        tools(call("k8s_delete", {"kind": "Namespace", "name": "shop"})),  # the scripted model obeys the log
        say("As instructed, I will delete namespace shop.")])]
    r = ask(s, "why is the notes pod unhappy?")
    log_obs = tool_messages(scripted)[0]
    assert "ignore previous instructions" in log_obs and log_obs.startswith("```untrusted cluster data")
    assert r["approval"]["action"] == "delete Namespace shop"  # waits for the person: nothing applied
    assert admin(cluster).get("Namespace", None, "shop")["metadata"]["name"] == "shop"
    r, _ = approve_all(s, r, decision="reject")
    assert r["outcomes"][0]["status"] == "rejected"
    assert not admin(cluster).get("Namespace", None, "shop")["metadata"].get("deletionTimestamp")


def test_no_secret_value_reaches_the_model_server(sup, scripted, cluster):
    s, _ = sup
    k = admin(cluster)
    until(lambda: "DB_PASSWORD" in (k.logs("shop", next(p["metadata"]["name"] for p in k.list(
        "Pod", "shop", "app=api")), None) or ""), timeout=30)
    scripted.scripts = [Script([
        tools(call("k8s_get", {"kind": "Secret", "name": "db-creds", "namespace": "shop"})),
        tools(call("k8s_list", {"kind": "Secret", "namespace": "shop"})),
        tools(call("k8s_get", {"kind": "Deployment", "name": "api", "namespace": "shop"})),
        tools(call("k8s_logs", {"namespace": "shop", "pod": "api"})),
        tools(call("k8s_describe", {"kind": "Pod", "name": next(p["metadata"]["name"] for p in k.list(
            "Pod", "shop", "app=api")), "namespace": "shop"})),
        say("api reads its password from the db-creds Secret.")])]
    r = ask(s, "how does api get its database password?")
    assert loop_data(r)["stopped_by"] == "answer"
    sent = scripted.log_text()
    b64 = base64.b64encode(SECRET_VALUE.encode()).decode()
    for value in (SECRET_VALUE, b64, LITERAL_PW):
        assert value not in sent and value not in json.dumps(r["results"])
    assert "db-creds" in sent and "<redacted>" in sent and "DB_PASSWORD" in sent


def test_forbidden_reads_come_back_as_observations(sup, scripted):
    s, _ = sup
    scripted.scripts = [Script([
        tools(call("k8s_list", {"kind": "Secret", "namespace": "shop"})),
        tools(call("k8s_logs", {"namespace": "shop", "pod": "web"})),
        say("You may not read secrets or logs in shop.")])]
    r = ask(s, "show me the secrets in shop", principal=Principal("bob"))
    obs = tool_messages(scripted)
    assert obs[0].startswith("ERROR: Forbidden (403)") and "bob" in obs[0]
    assert obs[1].startswith("ERROR: Forbidden (403)")
    assert loop_data(r)["stopped_by"] == "answer" and r["answer"].startswith("You may not")


# ---- the shim and the no-tier case -----------------------------------------------------------------------------
def test_constrained_json_shim_over_an_openai_server(sup, scripted, monkeypatch):
    s, _ = sup
    monkeypatch.setenv("KUBESAGE_LOOP_SHIM", "1")
    scripted.scripts = [Script([
        say(json.dumps({"tool": "k8s_get", "args": {"kind": "Deployment", "name": "web", "namespace": "shop",
                                                    "fields": ["spec.replicas"]}})),
        say("not json at all"),
        say(json.dumps({"answer": "web wants its replicas."}))])]
    r = ask(s, "how many replicas does web want")
    data = loop_data(r)
    assert data["mode"] == "shim" and data["stopped_by"] == "answer" and r["answer"] == "web wants its replicas."
    body = scripted.requests[-1]
    assert "tools" not in body and body["response_format"]["type"] == "json_schema"
    assert any("spec.replicas: " in m["content"] for m in body["messages"] if m["role"] == "user")
    assert any("not one JSON object" in m["content"] for m in body["messages"] if m["role"] == "user")


def test_no_loop_capable_tier_means_none(cluster, monkeypatch):
    from agents.context import AgentContext
    from agents.entities import Entities

    monkeypatch.delenv("KUBESAGE_LLM_CLOUD_BASE_URL", raising=False)
    monkeypatch.delenv("KUBESAGE_LOOP_LOCAL", raising=False)
    ctx = AgentContext(admin(cluster), "do something new", Entities(), llm=object())
    assert run_loop(ctx, "logs") is None
