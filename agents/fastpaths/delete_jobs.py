"""Delete the Jobs of a namespace by their outcome: "delete the completed jobs in batch", "clean up failed jobs".

Why its own fast path: the request names a set by status, not by name, and was not done. The set is read from the
Jobs' own conditions (Complete / Failed), one delete per Job with its pods (background propagation where the client
supports it), and the goal says both halves: the Jobs asked for are gone, and the others are still there. States
said after "keep" ("… but keep the ones that succeeded") are kept, never read as more Jobs to delete.
"""

from __future__ import annotations

import re
from typing import Any

from agents.coverage import tokens
from agents.fastpaths import register
from agents.fastpaths._words import (
    COMMON,
    absent,
    close,
    expect,
    has,
    listed,
    mutation,
    namespace,
    norm,
)
from agents.state import AgentResult
from tools.k8s.objects import condition_true

AGENT = "resources"
# Words → which finished states they mean.
STATES = {"completed": {"Complete"}, "complete": {"Complete"}, "succeeded": {"Complete"}, "successful": {"Complete"},
          "done": {"Complete"}, "finished": {"Complete", "Failed"}, "failed": {"Failed"}, "failing": {"Failed"},
          "errored": {"Failed"}, "unsuccessful": {"Failed"}}
_KEEP = re.compile(r"\bkeep\b")


def _states(text: str) -> set[str]:
    """The finished states the words of `text` name (one-letter typos allowed)."""
    return set().union(*[v for w in tokens(text) for k, v in STATES.items() if close(w, k)] or [set()])


_DELETE = re.compile(r"\b(?:delete|remove|clean\s*up|cleanup|purge|prune|get\s+rid\s+of|drop|clear\s+out|clear)\b")


class DeleteJobs:
    agent = AGENT
    intent = "delete-jobs"
    vocabulary = frozenset("""delete remove clean cleanup up purge prune rid drop clear out job jobs all every each old
        stale leftover left over any keep ones""".split()) | frozenset(STATES) | COMMON

    def match(self, ctx: Any) -> dict[str, Any] | None:
        low = norm(ctx.text)
        if not _DELETE.search(low) or not has(ctx, "job", "jobs"):
            return None
        if has(ctx, "cronjob", "cronjobs") or re.search(r"\bcron\s+jobs?\b", low):
            return None
        # "…, but keep the ones that succeeded": states said after "keep" are kept, never deleted
        cut = _KEEP.search(low)
        head, tail = (low[:cut.start()], low[cut.start():]) if cut else (low, "")
        states, kept = _states(head), _states(tail)
        if not states or states & kept:
            return None
        return {"namespace": namespace(ctx), "states": sorted(states), "kept": sorted(kept)}

    def plan(self, ctx: Any, slots: dict[str, Any]) -> AgentResult:
        ns, states = slots["namespace"], set(slots["states"])
        jobs = listed(ctx, "Job", ns)
        which = " or ".join(s.lower().replace("complete", "completed") for s in sorted(states))
        gone = [j for j in jobs if any(condition_true(j, s) for s in states)]
        kept = [j for j in jobs if j not in gone]
        evidence = [f"Job {ns}/{j['metadata']['name']}: " + (", ".join(
            c["type"] for c in (j.get("status") or {}).get("conditions") or [] if c.get("status") == "True") or "running")
            for j in jobs]
        if not gone:
            return AgentResult(AGENT, f"Already so: there are no {which} Jobs in namespace {ns}. Nothing to delete.",
                               evidence, data={"already": True, "jobs": []})
        goal = [absent("Job", ns, j["metadata"]["name"]) for j in gone]
        goal += [expect("Job", ns, j["metadata"]["name"], "metadata.name", j["metadata"]["name"]) for j in kept]
        names = [j["metadata"]["name"] for j in gone]
        muts = [mutation("delete", "Job", ns, n, goal if i == len(names) - 1 else [absent("Job", ns, n)],
                         f"a {which} Job", body={"propagationPolicy": "Background"})
                for i, n in enumerate(names)]
        keep = f"; {len(kept)} other Job(s) stay ({', '.join(j['metadata']['name'] for j in kept)})" if kept else ""
        return AgentResult(AGENT, f"Proposed: delete the {len(gone)} {which} Job(s) in namespace {ns} with their pods: "
                                  f"{', '.join(names)}{keep}.", evidence, muts, data={"jobs": names})


register(DeleteJobs())
