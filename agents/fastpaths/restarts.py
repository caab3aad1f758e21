"""Restart counts per pod (a read): "what is the restart count of every pod in shop?", "which pods restarted most?",
"did checkout's pods restart?", "any restarts on the web pods since the last deploy? a number per pod".

Why its own fast path: this request once got a CPU ranking. The count is kubectl's RESTARTS column (the sum of the
containers' restartCount), read from the live pods and cited per pod and container, most restarts first; every pod
is listed, 0 included, and "no restarts" is said plainly. A pod that is not running says why (its waiting reason,
agents.pod_states), since "0 restarts" of a pod that never started is not "healthy". "Since the last deploy": a
rollout replaces the pods, and their counts with them, so the current pods' counts are the restarts since it; the
answer says so, and names a pod of an older rollout still there.

Why registered for the metrics, scaling and logs agents too: the router sends a question about restarts by how it
sounds ("restart counts …" like an order to restart, "did catalog restart at all?" like a diagnosis, "numbers" like
metrics), and an agent whose own reading did not understand the question asks its registry paths; the answer is the
same read whoever asks (its agent is "resources", so a takeover counts it once).
"""

from __future__ import annotations

import re
from typing import Any

from agents.coverage import tokens
from agents.fastpaths import register
from agents.fastpaths._words import COMMON, has, listed, namespace, norm, one, resolve
from agents.pod_states import not_running
from agents.state import AgentResult
from tools.k8s.client import KubeError
from tools.k8s.kinds import WORKLOADS
from tools.k8s.objects import container_statuses, label_selector_matches, restarts

AGENT = "resources"
# A question opener before the restart it asks about: "did the catalog pods restart", "have web's pods restarted",
# "has payments been restarting" (never "did you restart web": that asks about an action, not the pods).
_DID = (r"^\s*(?:(?:so|and|hey|hi|ok|quick\s+question)[,:]?\s+)?(?:did|have|has|had|were|was|is|are)\b"
        r"(?:(?!\b(?:you|i|we|they|someone|anyone|somebody)\b)[^?.;])*?\b(?:restarted|restart|restarting)\b")
_ASKS = re.compile(r"\brestart\s*(?:counts?|numbers?|totals?|tally)\b|\bhow\s+(?:many|often)\b.*\brestart|"
                   r"\bnumber\s+of\s+restarts\b|\brestarts\b|\brestarted\s+(?:the\s+)?(?:most|least)\b|"
                   r"\b(?:most|many)\s+restarts\b|\brestarted\s+at\s+least\s+once\b|\bnever\s+restarted\b|" + _DID)
_IMPERATIVE = re.compile(r"^\s*(?:please\s+|can you\s+|could you\s+)?(?:restart(?!\s*(?:counts?|numbers?)\b)|bounce|"
                         r"recycle)\b")
_ALL_NS = re.compile(r"\b(?:all|every|each)\s+namespaces?\b|\bcluster[- ]wide\b|\bacross\s+(?:the\s+)?cluster\b|"
                     r"\bin\s+the\s+(?:whole\s+|entire\s+)?cluster\b|\ball-namespaces\b|(?:^|\s)-a\b")
# Words that say a time window; outside "since the last deploy" the counts (each since its pod began) do not answer
# them (the metrics agent's range reading does, from Prometheus).
_WINDOW = frozenset("""since until before after ago yesterday today tonight morning evening night weekend week weeks
    month months year years day days hour hours hr hrs minute minutes min mins last past previous recent recently
    lately earlier""".split())
# A name with a restart word in it ("fp-restarts", "restart-helper"): a name, not the question's word
_NAMES = re.compile(r"[\w.]*[-_.:/][\w.:/-]*restart[\w.:/-]*|[\w.]*restart\w*[-_.:/][\w.:/-]+")
# "since the last deploy", "since we last rolled it out", "since the latest rollout": the current pods' counts
_SINCE = re.compile(r"\bsince\s+(?:(?:the|our|its|their|his|her)\s+)?(?:last|latest|most\s+recent|previous|recent)?\s*"
                    r"(?:deploy|deployment|rollout|roll-out|release|update|upgrade)\b|"
                    r"\bsince\s+(?:we|i|you|they|someone)\s+(?:last\s+)?(?:deployed|rolled|released|updated|upgraded|"
                    r"shipped)(?:\s+(?:it|them|this|that))?(?:\s+out)?(?:\s+last)?\b")


class PodRestarts:
    intent = "pod-restarts"
    vocabulary = frozenset("""restart restarts restarted restarting count counts number numbers times many often pod
        pods every all each per per-pod container containers show list display print tell report give table sorted
        sort order ordered most least highest by far so how across whole entire cluster cluster-wide all-namespaces a
        namespaces deployment deploy statefulset sts daemonset belonging belong owned ones overview total totals tally
        ever yet""".split()) | COMMON | {
        # which pods restarted and which did not: the table of counts says both (0 is "never restarted")
        "at least once", "never restarted", "have restarted", "at all", "been restarting", "a number per pod",
        "one number per pod", "a count per pod", "one count per pod", "number per pod", "count per pod",
        "yes or no", "so far"}

    def __init__(self, agent: str = AGENT) -> None:
        self.agent = agent

    def match(self, ctx: Any) -> dict[str, Any] | None:
        low = norm(ctx.text)
        if not _ASKS.search(_NAMES.sub(" ", low)) or _IMPERATIVE.search(low) or not has(ctx, "restart", "restarts", "restarted",
                                                                        "restarting"):
            return None
        since = _SINCE.search(low)
        extra = {"since": since.group(0)} if since else {}
        if set(tokens(_SINCE.sub(" ", low))) & _WINDOW:
            return None  # "since yesterday", "in the last hour": a window the counts (since each pod began) are not
        if _ALL_NS.search(low):
            return {"namespace": None, "workload": None, "said": [], **extra}
        ns = namespace(ctx)
        found = resolve(ctx, WORKLOADS, ns)
        if found and one(found) is None:
            return None
        kind, obj, word = found[0] if found else (None, None, None)
        return {"namespace": ns, "workload": f"{kind}/{obj['metadata']['name']}" if obj else None,
                "said": [word] if word else [], **extra}

    def plan(self, ctx: Any, slots: dict[str, Any]) -> AgentResult:
        ns, workload = slots["namespace"], slots["workload"]
        pods = listed(ctx, "Pod", ns)
        where = f"namespace {ns}" if ns else "all namespaces"
        current: set[str] | None = None
        if workload:
            kind, name = workload.split("/", 1)
            owner = next((o for o in listed(ctx, kind, ns) if o["metadata"]["name"] == name), None)
            sel = ((owner or {}).get("spec") or {}).get("selector") or {}
            pods = [p for p in pods if label_selector_matches(sel, (p.get("metadata") or {}).get("labels"))]
            where = f"{kind.lower()} {ns}/{name}"
            current = _current(ctx, kind, owner) if owner else None
        rows = sorted(((restarts(p), f"{p['metadata'].get('namespace', '')}/{p['metadata']['name']}", p) for p in pods),
                      key=lambda r: (-r[0], r[1]))
        if not rows:
            return AgentResult(AGENT, f"There are no pods in {where}, so there are no restarts to count.",
                               [f"no pods in {where}"], data={"restarts": {}})
        lines = [_line(n, key, p, current) for n, key, p in rows]
        total = sum(n for n, _, _ in rows)
        again, never = [key for n, key, _ in rows if n], [key for n, key, _ in rows if not n]
        head = (f"No restarts: none of the {len(rows)} pod(s) in {where} has restarted." if not total else
                f"{len(again)} of the {len(rows)} pod(s) in {where} restarted ({total} restarts in all).")
        down = [key for _, key, p in rows if not_running(p)]
        if down and not total:  # "0 restarts" of a pod that never started is no sign of health
            head += f" But {len(down)} of them {'is' if len(down) == 1 else 'are'} not running (see below)."
        answer = f"{head}\nRestart counts per pod (most first):\n" + "\n".join(f"- {line}" for line in lines)
        answer += (f"\nRestarted at least once: {', '.join(again) or 'none'}."
                   f"\nNever restarted (0 restarts): {', '.join(never) or 'none'}.")
        if slots.get("since"):
            answer += "\n" + _since(current, where)
        return AgentResult(AGENT, answer, lines, data={"restarts": {key: n for n, key, _ in rows}})


def _line(n: int, key: str, pod: dict[str, Any], current: set[str] | None) -> str:
    """'shop/web-abc: 0 restarts', with each container's count when it has several, why it is not running, and
    whether it is left from an older rollout."""
    per = [f"{c.get('name')}: {int(c.get('restartCount') or 0)}" for c in container_statuses(pod, init=False)]
    why = not_running(pod)
    old = current is not None and pod["metadata"]["name"] not in current
    return (f"{key}: {n} restart{'' if n == 1 else 's'}" + (f" ({', '.join(per)})" if len(per) > 1 else "")
            + (f", not running ({why})" if why else "") + (", from an older rollout" if old else ""))


def _current(ctx: Any, kind: str, owner: dict[str, Any]) -> set[str] | None:
    """The names of the workload's pods of its newest rollout (tools.k8s.health's reading of revisions), or None
    when the kind has no revisions to tell apart."""
    from tools.k8s.health import _current_pods  # the one reading of "the newest revision's pods"

    if kind not in ("Deployment", "StatefulSet"):
        return None
    try:
        names = {p["metadata"]["name"] for p in _current_pods(ctx.kube, kind, owner)}
    except KubeError:
        return None
    return names or None  # no revision to read (not annotated yet): which rollout a pod is of is not known


def _since(current: set[str] | None, where: str) -> str:
    """What "since the last deploy" means for these counts."""
    if current is not None:
        return (f"Since the last deploy: a rollout replaces the pods, so the {len(current)} pod(s) of {where}'s latest "
                "rollout are the last deploy's pods and their counts are the restarts since it (a pod marked 'from an "
                "older rollout' predates it).")
    return ("Since the last deploy: a rollout replaces the pods, so the pods there now are the last deploy's pods and "
            "each count is the restarts since that deploy (since the pod was created).")


for _agent in (AGENT, "metrics", "scaling", "logs"):
    register(PodRestarts(_agent))
