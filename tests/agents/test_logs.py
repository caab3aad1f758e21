"""The logs agent on the demo-shop sandbox: a request that says a workload crashes when it does not gets that
answer and no change; a negation outside the symptom phrases is not understood (no diagnosis acts on it)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from agents.context import build_context
from agents.logs import run
from sandbox.server import SandboxServer
from tools.k8s.client import Kube


@pytest.fixture(scope="module")
def kube(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kube]:
    server = SandboxServer(scenarios=["demo-shop"], speed=50.0).start()
    kc = server.write_kubeconfig(tmp_path_factory.mktemp("logs") / "kubeconfig")
    time.sleep(2.5)  # let the demo-shop faults show (crash loops, OOM kills, pull back-offs)
    yield Kube.from_kubeconfig(str(kc))
    server.stop()


@pytest.mark.parametrize("text", [
    "why does report-cruncher in shop keep crashing? please fix it",
    "report-cruncher in the shop namespace is restarting all the time, can you repair it",
    "the report-cruncher deployment in shop dies every few minutes, why?",
])
def test_a_crash_that_is_not_there_is_the_answer(kube: Kube, text: str) -> None:
    res = run(build_context(kube, text, None, None))
    assert "is not crashing" in res.answer and "0 restarts" in res.answer, res.answer
    assert not res.mutations
    assert "OOMKilled" not in res.answer  # about the workload asked for, not the namespace


def test_a_real_crash_is_still_diagnosed(kube: Kube) -> None:
    res = run(build_context(kube, "why does checkout in shop keep crashing? please fix it", None, None))
    assert "not crashing" not in res.answer and "CrashLoopBackOff" in res.answer


@pytest.mark.parametrize(("text", "reason"), [
    ("why won't catalog start in shop?", "ImagePullBackOff"),
    ("why can't the worker deployment in shop be scheduled?", "Unschedulable"),
])
def test_a_negated_why_question_asks_why_it_fails(kube: Kube, text: str, reason: str) -> None:
    res = run(build_context(kube, text, None, None))
    assert reason in res.answer, res.answer


@pytest.mark.parametrize("text", [
    "why is checkout in shop crashing? do not look at payments",
    "why is checkout crashing in shop, but never mind orders",
])
def test_a_negation_is_not_vocabulary(kube: Kube, text: str) -> None:
    res = run(build_context(kube, text, None, None))
    ab = res.data["abstain"]
    assert not res.mutations and ({"not", "never"} & set(ab["not_understood"])), res.answer


def test_a_namespace_wide_diagnosis_fixes_only_what_the_request_names(kube: Kube) -> None:
    from agents.context import build_context
    from agents.logs import _diagnose

    ctx = build_context(kube, "why can't the orders service account in shop read configmaps? fix it")
    ctx.entities.workload = None  # the subject named, no workload: the whole namespace is read
    names = {(m.kind, m.name) for m in _diagnose(ctx).mutations}
    assert ("Deployment", "catalog") not in names and ("RoleBinding", "orders-configmap-reader") in names


def test_a_namespace_wide_diagnosis_fixes_no_object_the_request_does_not_name(kube: Kube) -> None:
    from agents.context import build_context
    from agents.logs import _diagnose

    ctx = build_context(kube, "the orders-config rolebinding in shop points at the wrong role, please fix whatever is "
                              "wrong")
    ctx.entities.workload, ctx.entities.subject = None, None
    assert not any(m.name == "catalog" for m in _diagnose(ctx).mutations)
    whole = build_context(kube, "what is wrong in shop? fix it")
    assert _diagnose(whole).mutations  # the namespace as a whole: its first finding's fix, as before
