"""One embedded cluster for all fast-path tests (each module works in its own namespaces), and the helpers they
share: build a request's context, ask the registry what it understood, plan, apply through the supervisor with an
approval, and check a plan's goal on the live cluster."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agents.context import build_context
from agents.coverage import Understanding
from agents.fastpaths import candidates
from agents.router import Route
from agents.state import AgentResult
from kubesage import settings as settings_mod
from kubesage.runtime import Runtime
from sandbox.server import SandboxServer
from tools.k8s.client import Kube, KubeError
from tools.k8s.goals import failed


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SandboxServer, Path]]:
    server = SandboxServer(scenarios=["default"], speed=50.0).start()
    kc = server.write_kubeconfig(tmp_path_factory.mktemp("fastpaths") / "kubeconfig")
    yield server, kc
    server.stop()


@pytest.fixture(scope="session")
def kube(sandbox) -> Kube:
    return Kube.from_kubeconfig(str(sandbox[1]))


def create(kube: Kube, *objs: dict[str, Any]) -> None:
    """Create objects (namespaces first, as listed); ones that exist already are left as they are."""
    for o in objs:
        ns = o["metadata"].get("namespace")
        try:
            kube.request("POST", kube.path(o["kind"], ns), o)
        except KubeError as e:
            if e.status != 409:
                raise


def deployment(ns: str, name: str, image: str = "nginx:1.27", replicas: int = 1, containers: list | None = None,
               **spec: Any) -> dict[str, Any]:
    cs = containers or [{"name": name, "image": image}]
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": ns},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": cs}}, **spec}}


def namespace(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def ctx_of(kube: Kube, text: str, default_ns: str | None = None) -> Any:
    return build_context(kube, text, default_ns)


def understood(kube: Kube, text: str, agent: str, intent: str,
               default_ns: str | None = None) -> tuple[Any, Understanding | None, Any]:
    """(the fast path of `intent`, what it understood or None when it did not match, the context)."""
    ctx = ctx_of(kube, text, default_ns)
    for fp, u in candidates(ctx, agent):
        if fp.intent == intent:
            return fp, u, ctx
    return None, None, ctx


def plan(kube: Kube, text: str, agent: str, intent: str, default_ns: str | None = None) -> AgentResult:
    """The plan of `intent` for `text`; fails the test when the fast path was not confident."""
    fp, u, ctx = understood(kube, text, agent, intent, default_ns)
    assert fp is not None and u is not None, f"{intent} did not match {text!r}"
    assert u.confident, f"{intent} did not understand {u.unused} of {text!r}"
    return fp.plan(ctx, u.slots)


def not_confident(kube: Kube, text: str, agent: str, intent: str, default_ns: str | None = None) -> bool:
    _, u, _ = understood(kube, text, agent, intent, default_ns)
    return u is None or not u.confident


def goals(result: AgentResult) -> list[dict[str, Any]]:
    return [g for m in result.mutations for g in (m.goal or [])]


def goal_holds(kube: Kube, assertions: list[dict[str, Any]], wait_s: float = 10.0) -> list[str]:
    """What of the goal does not hold, as tools.k8s.goals checks it (waiting up to `wait_s`); [] when it holds."""
    deadline = time.monotonic() + wait_s
    while True:
        failing = failed(kube, assertions)
        if not failing or time.monotonic() > deadline:
            return failing
        time.sleep(0.3)


class _ForcedRouter:
    """Routes every request to one agent: these tests are about the fast paths, not the router."""

    def __init__(self) -> None:
        self.agent = "resources"

    def route(self, text: str) -> Route:
        return Route([self.agent], 1.0, 1.0, "rule", [(text, self.agent)])


def _fast_agent(agent: str) -> Any:
    from agents.coverage import abstain
    from agents.fastpaths import answer, best

    def run(ctx: Any) -> AgentResult:
        fp, u = best(ctx, agent)
        if fp is None:
            return abstain(agent, u, "Please rephrase.")
        return answer(ctx, fp, u)

    return run


@pytest.fixture(scope="session")
def runtime(sandbox, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    home = tmp_path_factory.mktemp("fastpaths-home")
    r = Runtime(settings_mod.load({"KUBESAGE_HOME": str(home)}), kubeconfig=str(sandbox[1]))
    sup = r.supervisor
    sup.verify_stable_s = 1.0
    sup.router = _ForcedRouter()
    sup.agents = {a: _fast_agent(a) for a in ("resources", "scaling", "rbac")}
    yield r
    r.close()


def approve(rt: Runtime, text: str, agent: str) -> dict[str, Any]:
    """Ask `agent` through the supervisor and approve every proposed change."""
    rt.supervisor.router.agent = agent
    from tools.k8s.client import Principal

    r = rt.supervisor.start(text, Principal(), uuid.uuid4().hex[:10])
    while r.get("approval"):
        r = rt.supervisor.resume(r["thread_id"], "approve")
    return r


def held(out: dict[str, Any], n: int) -> None:
    """The plan's `n` changes were all applied, and the plan held (health and goals): nothing was rolled back."""
    assert [o["status"] for o in out["outcomes"]] == ["applied"] * n, out["answer"]
    assert not any(o.get("plan_failed") for o in out["outcomes"]), out["answer"]
