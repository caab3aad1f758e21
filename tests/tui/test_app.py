"""The chat app driven by Textual's Pilot at 80×24 against a real demo-shop sandbox and a real Runtime: answers
with their evidence trail, approvals that change the cluster, rejections that do not, thread resume, the namespace
and context switchers, and an unreachable cluster shown as a message."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from textual.widgets import Collapsible, OptionList

from kubesage import settings as settings_mod
from kubesage.runtime import Runtime
from sandbox.server import SandboxServer
from tools.k8s.client import Principal
from tui.app import KubesageApp
from tui.approval import ApprovalScreen
from tui.pickers import ContextScreen, NamespaceScreen, ThreadsScreen
from tui.pilot import ask, settle

SIZE = (80, 24)


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SandboxServer, Path]]:
    server = SandboxServer(scenarios=["demo-shop"], speed=50.0).start()
    kc = server.write_kubeconfig(tmp_path_factory.mktemp("tui") / "kubeconfig")
    time.sleep(2.5)  # two minutes of sandbox time: the checkout crash loop has happened
    yield server, kc
    server.stop()


@pytest.fixture()
def runtime(shop, tmp_path: Path) -> Iterator[Runtime]:
    rt = Runtime(settings_mod.load({"KUBESAGE_HOME": str(tmp_path)}), kubeconfig=str(shop[1]))
    yield rt
    rt.close()


def _replicas(server: SandboxServer, name: str) -> int:
    return server.cluster.store.get("apps/deployments", "shop", name)["spec"]["replicas"]


def _bot_text(app: KubesageApp) -> str:
    return "\n".join(t for role, t in app.transcript() if role in ("bot", "error", "note"))


def test_diagnosis_streams_answer_and_fills_side_panel(shop, runtime):
    server, _ = shop

    async def scenario() -> None:
        app = KubesageApp(runtime)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            await ask(app, pilot, "why is checkout crashing in shop?")
            assert "PAYMENTS_URL" in _bot_text(app)
            assert "agents: logs" in app.panel.route and "method:" in app.panel.route
            calls = app.panel.calls
            assert calls and any(c.startswith("GET /api") and "→ 200" in c for c in calls), calls
            assert len(app.panel.query(Collapsible)) == len(calls)
            # the side panel narrows at 80 columns but the conversation keeps most of the width
            assert app.panel.size.width <= 30 and app.query_one("#conversation").size.width >= 45
            # the fix is proposed: escape rejects the first proposal, `n` the next one
            assert isinstance(app.screen, ApprovalScreen)
            await pilot.press("escape")
            await settle(app, pilot)
            while isinstance(app.screen, ApprovalScreen):
                await pilot.press("n")
                await settle(app, pilot)
            assert "rejected" in "\n".join(app.panel.outcomes)
            assert "Not done" in app.transcript()[-1][1]

    asyncio.run(scenario())
    cm = server.cluster.store.get("/configmaps", "shop", "checkout-config")
    assert "PAYMENTS_URL" not in (cm.get("data") or {})


def test_approve_then_reject_a_scale(shop, runtime):
    server, _ = shop
    before = _replicas(server, "web")
    assert before != 4

    async def scenario() -> None:
        app = KubesageApp(runtime)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            await ask(app, pilot, "scale web in shop to 4 replicas")
            assert isinstance(app.screen, ApprovalScreen)
            assert app.screen.approval["action"] == "scale Deployment shop/web"
            assert "+  replicas: 4" in app.screen.approval["diff"]
            assert _replicas(server, "web") == before  # nothing happens until the person says yes
            await pilot.press("a")
            await settle(app, pilot)
            assert not isinstance(app.screen, ApprovalScreen)
            assert _replicas(server, "web") == 4
            assert "Done: scale Deployment shop/web" in app.transcript()[-1][1]
            assert app.panel.outcomes == ["applied: scale Deployment shop/web"]

            await ask(app, pilot, "scale web in shop to 5 replicas")
            assert isinstance(app.screen, ApprovalScreen) and "+  replicas: 5" in app.screen.approval["diff"]
            await pilot.press("r")
            await settle(app, pilot)
            assert _replicas(server, "web") == 4
            assert "Not done: scale Deployment shop/web was rejected" in app.transcript()[-1][1]

    asyncio.run(scenario())


def test_thread_list_resumes_history_and_waiting_approval(shop, runtime):
    server, _ = shop
    sup = runtime.supervisor
    done, waiting = f"done-{uuid.uuid4().hex[:6]}", f"wait-{uuid.uuid4().hex[:6]}"
    sup.start("how much memory do pods in shop use", Principal(), done)
    assert sup.start("scale web in shop to 7 replicas", Principal(), waiting)["approval"]
    before = _replicas(server, "web")

    async def pick(app: KubesageApp, pilot, thread_id: str) -> None:
        await pilot.press("ctrl+t")
        await settle(app, pilot)
        assert isinstance(app.screen, ThreadsScreen)
        options = app.screen.query_one(OptionList)
        ids = [options.get_option_at_index(i).id for i in range(options.option_count)]
        assert done in ids and waiting in ids
        options.highlighted = ids.index(thread_id)
        await pilot.press("enter")
        await settle(app, pilot)

    async def scenario() -> None:
        app = KubesageApp(runtime)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            await pick(app, pilot, done)
            assert app.thread_id == done
            texts = [t for _, t in app.transcript()]
            assert "how much memory do pods in shop use" in texts
            assert sup.history(done)[0]["answer"] in texts

            await pick(app, pilot, waiting)
            assert isinstance(app.screen, ApprovalScreen)
            assert "+  replicas: 7" in app.screen.approval["diff"]
            await pilot.press("r")
            await settle(app, pilot)
            assert "Not done" in app.transcript()[-1][1]
            threads = {t["thread_id"]: t for t in sup.threads()}
            assert not threads[waiting]["waiting"]

    asyncio.run(scenario())
    assert _replicas(server, "web") == before


def test_namespace_and_context_switch_and_unreachable_cluster(shop, tmp_path):
    _, kc = shop
    cfg = yaml.safe_load(kc.read_text())
    cfg["clusters"].append({"name": "gone", "cluster": {"server": "https://127.0.0.1:1",
                                                         "insecure-skip-tls-verify": True}})
    cfg["contexts"].append({"name": "gone", "context": {"cluster": "gone", "user": cfg["contexts"][0]["context"]["user"]}})
    two = tmp_path / "two-contexts"
    two.write_text(yaml.safe_dump(cfg))
    rt = Runtime(settings_mod.load({"KUBESAGE_HOME": str(tmp_path)}), kubeconfig=str(two))

    async def scenario() -> None:
        app = KubesageApp(rt)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            await pilot.press("ctrl+n")
            await pilot.pause()
            assert isinstance(app.screen, NamespaceScreen)
            app.screen.query_one("#namespace").value = "shop"
            await pilot.press("enter")
            await pilot.pause()
            assert app.namespace == "shop" and "ns shop" in app.sub_title

            await pilot.press("ctrl+k")
            await pilot.pause()
            assert isinstance(app.screen, ContextScreen)
            options = app.screen.query_one(OptionList)
            names = [options.get_option_at_index(i).id for i in range(options.option_count)]
            assert names == [cfg["contexts"][0]["name"], "gone"]
            options.highlighted = 1
            await pilot.press("enter")
            await pilot.pause()
            assert rt.context == "gone" and "context gone" in app.sub_title

            await ask(app, pilot, "how much memory do pods use?")
            shown = _bot_text(app)
            assert "cannot reach" in shown and "Traceback" not in shown, shown

            await pilot.press("ctrl+k")
            await pilot.pause()
            app.screen.query_one(OptionList).highlighted = 0
            await pilot.press("enter")
            await pilot.pause()
            await ask(app, pilot, "which pods use the most memory?")  # no namespace in the text: ctrl+n's applies
            assert "in namespace shop" in app.transcript()[-1][1], app.transcript()[-1][1]

    try:
        asyncio.run(scenario())
    finally:
        rt.close()


def test_failure_outside_the_agents_is_a_message_not_a_traceback(tmp_path):
    # a cluster that does not answer fails when the supervisor first connects, before any agent runs (a kubeconfig
    # that does not exist is refused earlier, by the CLI, as kubectl refuses it)
    dead = tmp_path / "dead-kubeconfig"
    dead.write_text("apiVersion: v1\nkind: Config\ncurrent-context: dead\n"
                    "clusters: [{name: dead, cluster: {server: 'http://127.0.0.1:9'}}]\n"
                    "contexts: [{name: dead, context: {cluster: dead, user: u}}]\nusers: [{name: u, user: {}}]\n")
    rt = Runtime(settings_mod.load({"KUBESAGE_HOME": str(tmp_path)}), kubeconfig=str(dead))

    async def scenario() -> None:
        app = KubesageApp(rt)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            await ask(app, pilot, "why is checkout crashing in shop?")
            role, text = app.transcript()[-1]
            assert role == "error" and text.startswith("Something went wrong: ") and "\n" not in text, text
            assert not isinstance(app.screen, ApprovalScreen) and not app.busy
            await ask(app, pilot, "list pods in shop")  # the app is still usable
            assert [r for r, _ in app.transcript()].count("error") == 2

    try:
        asyncio.run(scenario())
    finally:
        rt.close()
