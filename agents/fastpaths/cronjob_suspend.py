"""Pause or resume a CronJob: "suspend the report cronjob in batch", "pause backup", "resume the nightly cron job".

Why its own fast path: a pause request was sent to the toolsmith and came back as "I could not build a tool". The
change is one field, `spec.suspend`, merge-patched; the goal is that field being what was asked. "Don't change its
schedule or anything else" is a constraint this plan keeps by construction (it patches nothing else), so it is
consumed, and the goal also asserts that the fields it names (schedule, image…) still have their live values. The
same state is "already so".
"""

from __future__ import annotations

import re
from typing import Any

from agents.fastpaths import register
from agents.fastpaths._words import COMMON, cite, expect, has, mutation, namespace, one, resolve, words
from agents.state import AgentResult
from tools.k8s.client import KubeError

AGENT = "resources"
# whole words ("fp-suspend" is a name, not a request to suspend)
_PAUSE = frozenset("suspend pause halt".split())
_RESUME = frozenset("resume unpause unsuspend un-suspend reenable re-enable".split())
# "don't change its schedule or anything else": the fields named stay as they are (asserted in the goal)
_KEEP_AS_IS = re.compile(r"\bdo not\s+(?:change|touch|modify)\s+(?:its\s+|the\s+)?([a-z]+)")
_FIELDS = {"schedule": "spec.schedule", "timezone": "spec.timeZone"}


class CronJobSuspend:
    agent = AGENT
    intent = "cronjob-suspend"
    vocabulary = frozenset("""cronjob cronjobs cron job jobs suspend suspended pause paused halt resume resumed unpause
        unsuspend un-suspend reenable re-enable""".split()) | COMMON | {
        # the constraint the one-field patch keeps (and its goal asserts)
        "do not change", "do not touch", "do not modify", "or anything else", "schedule"}

    def match(self, ctx: Any) -> dict[str, Any] | None:
        said = set(words(ctx))
        pause, resume = bool(said & _PAUSE), bool(said & _RESUME)
        if pause == resume or not has(ctx, "cronjob", "cronjobs", "cron"):
            return None
        found = one(resolve(ctx, ("CronJob",), namespace(ctx)))
        if found is None:
            return None
        _, obj, word = found
        kept = [m.group(1) for m in _KEEP_AS_IS.finditer(" ".join(words(ctx)))]  # "don't" spelled "do not"
        if any(k not in _FIELDS and k not in ("anything",) for k in kept):
            return None  # "don't change its image": not a field of this object's that the plan can assert
        return {"name": obj["metadata"]["name"], "namespace": obj["metadata"]["namespace"], "suspend": pause,
                "kept": [k for k in kept if k in _FIELDS], "said": [word]}

    def plan(self, ctx: Any, slots: dict[str, Any]) -> AgentResult:
        ns, name, want = slots["namespace"], slots["name"], bool(slots["suspend"])
        try:
            obj = ctx.kube.get("CronJob", ns, name)
        except KubeError as e:
            return AgentResult(AGENT, f"I could not read {cite('CronJob', ns, name)}: {e.message}", [e.message])
        spec = obj.get("spec") or {}
        live = bool(spec.get("suspend"))
        state = "suspended" if live else "active"
        evidence = [f"{cite('CronJob', ns, name)}: {state}, schedule {spec.get('schedule')!r}"]
        if live == want:
            return AgentResult(AGENT, f"Already so: {cite('CronJob', ns, name)} is {state}. Nothing to change.",
                               evidence, data={"already": True, "suspend": live})
        goal = [expect("CronJob", ns, name, "spec.suspend", want)]
        goal += [expect("CronJob", ns, name, _FIELDS[k], _get(obj, _FIELDS[k])) for k in slots.get("kept") or []]
        verb = "suspend" if want else "resume"
        m = mutation("patch", "CronJob", ns, name, goal, f"{verb} (spec.suspend {live} → {want}); nothing else changes",
                     body={"spec": {"suspend": want}}, patch_type="merge")
        return AgentResult(AGENT, f"Proposed: {verb} {cite('CronJob', ns, name)} (spec.suspend → {want}); its "
                                  f"schedule {spec.get('schedule')!r} and everything else stay as they are.",
                           evidence, [m], data={"suspend": live})


def _get(obj: dict[str, Any], path: str) -> Any:
    for key in path.split("."):
        obj = (obj or {}).get(key) if isinstance(obj, dict) else None
    return obj


register(CronJobSuspend())
