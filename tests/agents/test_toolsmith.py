"""The toolsmith agent through the supervisor on a sandbox: a new tool is synthesized, tested, registered and
answers right; asking again (or a paraphrase) reuses it; a bad model plan is rejected with a clear message; a
tool that writes is proposed and runs only after approval.

The model is a LangChain fake chat model scripted with the answers under test (an invalid plan, code that
deletes): what is tested is what the toolsmith does with them, not a model's skill."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from agents.context import build_context
from evals.bench_toolsmith import Checker, load_tasks, start_cluster
from kubesage import settings as settings_mod
from kubesage.runtime import Runtime
from tools.k8s.client import Kube, Principal
from tools.toolsmith.registry import Registry

ADMIN = Principal()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory):
    server, kc = start_cluster(tmp_path_factory.mktemp("toolsmith-agent"))
    yield server, kc
    server.stop()


@pytest.fixture()
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KUBESAGE_HOME", str(tmp_path))
    return tmp_path


def _runtime(home: Path, kc: Path, llm=None) -> Runtime:
    return Runtime(settings_mod.load({"KUBESAGE_HOME": str(home)}), kubeconfig=str(kc), llm=llm)


def _fake(*answers: str) -> GenericFakeChatModel:
    return GenericFakeChatModel(messages=iter([AIMessage(content=a) for a in answers]))


def test_new_tool_then_reuse(cluster, home) -> None:
    server, kc = cluster
    rt = _runtime(home, kc)
    try:
        task = next(t for t in load_tasks() if t["id"] == "cj-stale-batch")
        r = rt.supervisor.start(task["text"], ADMIN, uuid.uuid4().hex[:10])
        assert r["route"]["agents"] == ["toolsmith"]
        data = r["results"][0]["data"]
        assert data["path"] == "plan-deterministic" and data["reused"] is False
        ok, why = Checker(kc).grade(task, data["value"])
        assert ok, why
        for name in ("nightly-report", "weekly-backup"):
            assert name in r["answer"]
        assert "leap-day-audit" not in r["answer"]
        assert any(e.startswith("plan: ") for e in r["results"][0]["evidence"])
        reg = Registry(home)
        assert [t.name for t in reg.list()] == [data["tool"]]
        for text in (task["text"], "which cron jobs in batch haven't run for a day?"):
            again = rt.supervisor.start(text, ADMIN, uuid.uuid4().hex[:10])["results"][0]["data"]
            assert again["reused"] is True and again["path"] == "registry" and again["tool"] == data["tool"]
        assert len(reg.list()) == 1 and reg.get(data["tool"]).successes == 2
        assert all(c["method"] == "GET" for c in r["results"][0]["calls"])
    finally:
        rt.close()


def test_bad_model_plan_is_rejected_clearly(cluster, home, monkeypatch) -> None:
    monkeypatch.setenv("KUBESAGE_TOOLSMITH_LOCAL_MODEL", "1")  # the model steps, with a scripted model
    _, kc = cluster
    bad = '{"kind": "CronJob", "namespace": "batch", "filters": [{"field": "status.lastRun", "op": "older_than", ' \
          '"value": "1d"}], "project": []}'
    sneaky = "```python\nimport os\ndef main(kube, **args):\n    return {'items': [], 'env': dict(os.environ)}\n```"
    kube = Kube.from_kubeconfig(str(kc))
    ctx = build_context(kube, "cronjobs in batch whose last run was long ago", None, _fake(bad, bad, sneaky, sneaky))
    from agents.toolsmith import run

    res = run(ctx)
    assert res.answer.startswith("I did not act: I could not build a tool")
    assert res.data["abstain"]["understood"] == ["query (kind=CronJob, namespace=batch)"]
    assert "CronJob has no field status.lastRun; did you mean status.lastScheduleTime" in res.answer
    assert "import of 'os' is not allowed" in res.answer
    assert Registry(home).list() == []


def test_not_understood_is_an_abstention(cluster, home) -> None:
    """No model, and words the rules cannot account for: the toolsmith says what it read and changes nothing."""
    _, kc = cluster
    kube = Kube.from_kubeconfig(str(kc))
    from agents.toolsmith import run

    res = run(build_context(kube, "which deployments in web look suspicious to you?", None, None))
    ab = res.data["abstain"]
    assert res.answer.startswith("I did not act:") and not res.mutations
    assert ab["understood"] == ["query (kind=Deployment, namespace=web)"] and "suspicious" in ab["not_understood"]


def test_a_fast_path_elsewhere_takes_the_request(cluster, home) -> None:
    """A request another agent's fast path fully understands is answered there, not by a synthesized tool."""
    _, kc = cluster
    kube = Kube.from_kubeconfig(str(kc))
    from agents.toolsmith import run

    res = run(build_context(kube, "delete the failed jobs in batch", None, None))
    assert res.data["understood"].startswith("delete-jobs")
    assert [(m.verb, m.kind, m.name) for m in res.mutations] == [("delete", "Job", "failed-import")]
    assert Registry(home).list() == []


def test_mutating_codegen_tool_needs_approval(cluster, home, monkeypatch) -> None:
    monkeypatch.setenv("KUBESAGE_TOOLSMITH_LOCAL_MODEL", "1")  # the model steps, with a scripted model
    server, kc = cluster
    code = ("```python\ndef main(kube, **args):\n    ns = args.get('namespace') or 'batch'\n    gone = []\n"
            "    for j in kube.list('Job', ns):\n"
            "        conds = (j.get('status') or {}).get('conditions') or []\n"
            "        if any(c.get('type') == 'Failed' and c.get('status') == 'True' for c in conds):\n"
            "            name = j['metadata']['name']\n"
            "            kube.request('DELETE', '/apis/batch/v1/namespaces/' + ns + '/jobs/' + name)\n"
            "            gone.append({'metadata.namespace': ns, 'metadata.name': name})\n"
            "    return {'items': gone, 'count': len(gone)}\n```")
    rt = _runtime(home, kc, llm=_fake("not a plan", "{}", code))
    try:
        assert server.cluster.store.get("batch/jobs", "batch", "failed-import") is not None
        tid = uuid.uuid4().hex[:10]
        # a wording no fast path reads ("delete the failed jobs in batch" is the resources agent's delete-jobs)
        r = rt.supervisor.start("delete the jobs in batch that failed more than an hour ago", ADMIN, tid)
        assert r["route"]["agents"] == ["toolsmith"]
        assert r["approval"] is not None, r["answer"]
        pending = rt.supervisor.pending_approval(tid)
        assert pending["action"].startswith("action Tool batch/code-") and "DELETE" in pending["diff"]
        rec = Registry(home).list()[0]
        assert rec.mutates and rec.provenance["source"] == "codegen" and rec.test["outcome"] == "forbidden"
        assert server.cluster.store.get("batch/jobs", "batch", "failed-import") is not None  # not run yet
        done = rt.supervisor.resume(tid, "approve")
        assert done["outcomes"][0]["status"] == "applied", done["outcomes"]
        assert server.cluster.store.get("batch/jobs", "batch", "failed-import") is None
        assert server.cluster.store.get("batch/jobs", "batch", "old-migration") is not None
    finally:
        rt.close()


def test_rows_as_namespace_name() -> None:
    from agents.toolsmith import _AS_NS_NAME, ns_name_rows

    assert _AS_NS_NAME.sub("", "which pods in web have no probe? list them as namespace/name please") == \
        "which pods in web have no probe? please"
    assert _AS_NS_NAME.sub("", "services without endpoints, as ns/name") == "services without endpoints"
    items = [{"metadata.namespace": "web", "metadata.name": "api"}, {"namespace": "", "name": "node-1"}]
    assert ns_name_rows(items) == ["web/api", "node-1"]
    assert ns_name_rows([{"count": 3}]) is None
