"""The logs agent: diagnose a workload (or a whole namespace) from its state, events and logs, name the root
cause with its evidence, and propose the fix as a change that waits for approval.

Text from the cluster (log lines, event messages) is quoted as evidence and never acted upon: fixes come only
from the structured findings of the diagnosis checks.
"""

from __future__ import annotations

import re
from typing import Any

from agents.context import AgentContext
from agents.coverage import tokens
from agents.decide import decide, reading
from agents.residue import SYMPTOMS, negated
from agents.state import AgentResult
from tools.k8s.client import KubeError, Mutation
from tools.k8s.kinds import TARGETS
from tools.k8s.mutations import restart
from tools.k8s.objects import (
    container_statuses,
    label_selector_matches,
    restarts,
    selector_matches,
    waiting_reason,
)


def _mutation(fix: dict[str, Any], why: str) -> Mutation | None:
    if not isinstance(fix, dict):
        return None
    if fix.get("action") == "create" and isinstance(fix.get("manifest"), dict):
        man = fix["manifest"]
        meta = man.get("metadata") or {}
        return Mutation("create", man.get("kind", ""), meta.get("namespace", ""), meta.get("name", ""), body=man, why=why)
    if fix.get("kind") and fix.get("name") and "patch" in fix:
        return Mutation("patch", fix["kind"], fix.get("namespace", ""), fix["name"],
                        patch_type=fix.get("patch_type", "strategic"), body=fix["patch"], why=why)
    return None


def _restart(r: dict[str, Any]) -> Mutation:
    return restart(r["kind"], r.get("namespace", ""), r["name"], why="rollout restart, so the pods start again with "
                                                                     "the change")


# The words a diagnosis (and the fix it proposes from its findings) fully answers: symptoms, "why", "fix it".
# Negations are never words of their own here: they count only inside the symptom phrases below ("can't pull", "no
# endpoints", "never starts"), where the diagnosis handles them; any other clause ("and add
# an env var", "but keep 2 replicas") is a request the diagnosis does not do (agents.decide).
VOCAB = frozenset("""why crashing crash crashes crashed crashloop crashloopbackoff crash-looping looping loop failing fails
fail failed failure wrong broken diagnose diagnosis problem problems issue issues cause causes root restarting
restarts restarted often dying dies died oomkilled oom killed pending start starts started starting scheduled
schedule schedulable unschedulable imagepullbackoff errimagepull pull pulling image endpoints endpoint routes route
nothing requests 403 errors error missing slow node healthy unhealthy events event warning warnings happened
happening recently recent logs log previous container containers look take tell find out fix repair heal runs run
running stuck ages keeps keep seems hogs hog cpu cap heavy deployment pod pods service app workload status health
check investigate troubleshoot debug going on state fine anything everything empty down mend sort whatever
sick wrong dead says say getting show me ready what which how output printing prints print saying said key keys
configmap config variable startup boot booting boots launch""".split()) | {
    "on start", "at start", "start up", "starting up", "on boot", "at boot",
    "can not pull", "can not be scheduled", "can not start", "will not start", "will not run", "does not start",
    "do not start", "is not ready", "not ready", "not running", "no endpoints", "has no endpoints", "have no endpoints",
    "never start", "never started", "never scheduled", "never ready", "never becomes ready",
    # "why won't catalog start", "why can't the worker be scheduled": the negation asks why it fails
    "why will not", "why would not", "why can not", "why does not", "why do not", "why did not", "why is not",
    "why are not",
    "slow down", "crash loop", "so often", "all the time", "every few minutes", "for ages", "has been", "what is missing"}
# A request that says the workload crashes ("keeps crashing", "restarting", "dies"): the diagnosis must be about a
# crash. When its pods show none, the premise is false, and that is the answer; other findings are reported, not fixed.
CRASH_WORDS = frozenset("""crash crashing crashes crashed crashloop crashloopbackoff crash-looping looping restarting
dies dying died""".split())
ASK = ("I diagnose what is failing (a workload or a whole namespace) and propose the fix its findings support: ask "
       "for that, for example 'why is checkout crashing in shop?', and send any other change as its own request.")


def _unread(ctx: AgentContext, snap: Any, where: str) -> tuple[bool, str, dict[str, str]]:
    """(whether a list a health verdict needs was unreadable, the sentence saying what could not be read and as
    whom, everything unreadable)."""
    from tools.diagnose.snapshot import ESSENTIAL, unreadable

    missing = unreadable(snap)
    if not missing:
        return False, "", {}
    p = ctx.kube.principal
    who = f"{p.label}" + (f" (groups: {', '.join(p.groups)})" if p.groups else "")
    essential = [k for k in missing if k in ESSENTIAL]
    shown = "; ".join(f"{k} ({v})" for k, v in list(missing.items())[:8])
    if essential:
        return True, (f"I cannot tell whether {where} is healthy: you ({who}) cannot read {', '.join(essential)} "
                      f"there. Could not read: {shown}. Ask someone who can, or get read access to them."), missing
    return False, f"(As {who} I could not read: {shown}; what I say rests on the rest.)", missing


def run(ctx: AgentContext) -> AgentResult:
    slots = {"namespace": ctx.namespace, "workload": ctx.entities.workload}
    if negated(ctx.text) & FIXING:  # "… don't fix it, I'll do it through gitops": the diagnosis, and no change
        return decide(ctx, "logs", [reading(ctx, "logs", "diagnose-only", slots, VOCAB,
                                            lambda: _diagnose(ctx, propose=False))], ASK)
    # "why does payments restart so often?": in a why-question "restart" is the symptom, not an order
    vocab = VOCAB | ({"restart"} if re.match(r"\s*(?:why|how\s+come)\b", ctx.text.lower()) else set())
    own = [reading(ctx, "logs", "diagnose", slots, vocab, lambda: _diagnose(ctx))]
    if not set(tokens(ctx.text)) & ASKS_CAUSE and _lines_asked(ctx):
        own = []  # "print the logs of web", no symptom and no why: the lines themselves (fastpaths.logs_tail)
    return decide(ctx, "logs", own, ASK)


# Words that ask for a cause or name a symptom: with any of them a request for logs is a diagnosis.
ASKS_CAUSE = SYMPTOMS | frozenset("""why diagnose diagnosis cause causes root wrong happened happening investigate
    troubleshoot debug fix repair heal""".split())


def _lines_asked(ctx: AgentContext) -> bool:
    """The one registry path that fully understood the request is the log lines' (a read of the log as written)."""
    from agents import fastpaths

    return fastpaths.best_intent(ctx, "logs") == "logs-tail"


# The effect classes (agents.residue) a diagnosis's fix may have: negating any of them asks for the diagnosis alone.
FIXING = frozenset({"change", "restart", "delete", "create", "scale", "generic"})
# Words that ask what the log says: the diagnosis then quotes it (as templates, errors first).
LOG_ASKED = frozenset("logs log output printing prints print say says saying said".split())


def _log_section(ctx: AgentContext, ns: str, target: str) -> tuple[str, list[str]]:
    """What the target's log says, summarized (tools.k8s.read_tools.summarize_log), for a request that asks; the
    previous container's log when the request asks about the run that died."""
    from tools.k8s.read_tools import LOGS

    words = set(tokens(ctx.text))
    previous = bool(words & {"previous", "died", "crashed", "before", "last"})
    out = LOGS.call(ctx.kube, {"namespace": ns, "pod": target, "previous": previous, "max_tokens": 600})
    if out.error and previous:
        out = LOGS.call(ctx.kube, {"namespace": ns, "pod": target, "max_tokens": 600})
    if out.error:
        return f"\nLog: {out.text}", []
    lines = out.text.strip().splitlines()
    body = "\n".join(lines[1:-1] if lines and lines[0].startswith("```") else lines)  # the person reads it unfenced
    return f"\nWhat its log says ({'previous container, ' if previous else ''}summarized):\n{body}", [body]


def _not_crashing(ctx: AgentContext, ns: str, target: str) -> str | None:
    """"<target> is not crashing: …" when every pod of the target runs with no restart and no waiting container;
    None when it does crash, or when its pods cannot be read (then the diagnosis says what it finds)."""
    kind = ctx.entities.workload_kind or "Deployment"
    try:
        pods = ctx.kube.list("Pod", ns)
        if kind == "Pod":
            mine = [p for p in pods if p["metadata"]["name"] == target]
        else:
            sel = (ctx.kube.get(kind, ns, target).get("spec") or {}).get("selector")
            matches = selector_matches if kind == "Service" else label_selector_matches
            mine = [p for p in pods if matches(sel, p["metadata"].get("labels"))]
    except (KubeError, KeyError):
        return None
    if not mine:
        return None
    for p in mine:
        st = p.get("status") or {}
        if restarts(p) or st.get("phase") != "Running" or any(waiting_reason(c) for c in container_statuses(p)):
            return None
    said = ", ".join(f"{p['metadata']['name']} Running with 0 restarts" for p in mine)
    return f"{target} in namespace {ns} is not crashing: its pod{'s' if len(mine) > 1 else ''} {said}."


# kind words after a name ("the orders-config rolebinding", "the app-env configmap")
_KIND_AFTER = frozenset("""rolebinding binding role clusterrole clusterrolebinding configmap secret sa serviceaccount
    service deployment pod job cronjob pvc ingress statefulset daemonset""".split())


def _about_what_was_named(ctx: AgentContext, f: Any) -> bool:
    """Whether a namespace-wide finding may carry a proposed fix: only when the request names no subject, or the
    finding is about the one it names ("the orders service account can't read configmaps" is not a reason to fix
    the catalog image, the namespace's first finding)."""
    subject = ctx.entities.subject or ""
    if subject:
        return subject.startswith("system:serviceaccount:") and f.kind == "ServiceAccount" and \
            f.name == subject.rsplit(":", 1)[-1]
    # an object of the cluster named in the request ("the orders-config binding"): only its own finding
    ws = tokens(ctx.text)
    said = {w for w in ws if w in ctx.known and w != ctx.namespace}
    said |= {w for w, nxt in zip(ws, ws[1:], strict=False) if nxt in _KIND_AFTER and re.search(r"[-\d]", w)}
    return not said or f.name in said


def _diagnose(ctx: AgentContext, propose: bool = True) -> AgentResult:
    from tools.diagnose import run_all
    from tools.diagnose.snapshot import snapshot_from_client

    ns = ctx.namespace
    try:
        snap = snapshot_from_client(ctx.kube.api, ns, with_logs=True)
    except KubeError as e:
        return AgentResult("logs", f"I could not read the namespace: {e.message}", [e.message])
    except Exception as e:  # noqa: BLE001 - an API refusal from the client library
        status = getattr(e, "status", None)
        if status == 403:
            return AgentResult("logs", f"You ({ctx.kube.principal.label}) are not allowed to read what I need in "
                                       f"namespace {ns}: {getattr(e, 'reason', 'Forbidden')}.")
        raise
    target = ctx.entities.workload
    findings = run_all(snap, namespace=ns, target=target)
    where = f"{target} in namespace {ns}" if target else f"namespace {ns}"
    calm = _not_crashing(ctx, ns, target) if target and CRASH_WORDS & set(tokens(ctx.text)) else None
    if calm is not None:  # the request says it crashes, and it does not: that is the answer, and nothing to fix
        lines = [f"{f.kind} {f.namespace}/{f.name}: {f.reason} — {f.root_cause or f.summary}" for f in findings[:3]]
        other = ("\nOther findings (not a crash, so I propose no change for them; ask for one on its own if you want "
                 "it):\n" + "\n".join(lines)) if lines else ""
        return AgentResult("logs", calm + " There is nothing crashing to fix." + other, [calm],
                           data={"findings": [f.reason for f in findings], "crashing": False})
    unread = _unread(ctx, snap, where)
    if not findings and unread[0]:  # never "healthy" from data that could not be read
        return AgentResult("logs", unread[1], [unread[1]], data={"unreadable": unread[2]})
    if not findings:
        return AgentResult("logs", f"I found nothing wrong with {where}: pods are running and ready, and there are no "
                                   "warning events." + (f"\n{unread[1]}" if unread[1] else ""))
    lines, evidence, muts = [], [], []
    for f in findings[: 3 if target else 8]:
        lines.append(f"{f.kind} {f.namespace}/{f.name}: {f.reason} — {f.root_cause or f.summary}")
        if f.suggested_fix:
            lines.append(f"  Fix: {f.suggested_fix}")
        evidence.extend(f"{f.name}: {e}" for e in f.evidence[:4])
        m = _mutation(getattr(f, "fix", None), f.suggested_fix or f.summary)
        if m is not None and (target or (len(muts) < 1 and _about_what_was_named(ctx, f))):
            first = len(muts)
            muts.append(m)
            r = getattr(f, "restart", None)
            if isinstance(r, dict) and r.get("kind") and r.get("name"):
                muts.append(_restart(r))
            for x in muts[first:]:  # each finding's fix is its own plan: approved, verified and undone on its own
                x.plan = f"{f.reason} {f.kind}/{f.namespace}/{f.name}"
            if f.kind in TARGETS:  # after the apply: wait until it is healthy, undo the fix when it is not
                muts[-1].verify = {"kind": f.kind, "namespace": f.namespace, "name": f.name, "timeout_s": 90,
                                   "stable_s": 8}
    answer = f"Diagnosis of {where}:\n" + "\n".join(lines) + (f"\n{unread[1]}" if unread[1] else "")
    if evidence:
        answer += "\nEvidence:\n" + "\n".join(f"  - {e}" for e in evidence[:10])
    if target and LOG_ASKED & set(tokens(ctx.text)):
        section, quoted = _log_section(ctx, ns, target)
        answer += section
        evidence += quoted
    if not propose and muts:
        answer += "\nNo change proposed, as you asked."
        muts = []
    return AgentResult("logs", answer, evidence, muts, data={"findings": [f.reason for f in findings]})
