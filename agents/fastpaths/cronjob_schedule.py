"""Reschedule a CronJob: a cron expression, or the phrases people use ("every 15 minutes", "daily at 2am",
"weekdays at 6:30pm", "every monday at 9").

Why its own fast path: "reschedule the report CronJob" was answered with "what should the Job be called?". The
schedule is read from a small table of phrases (an interval, a time of day, days of the week or month), each part
consumed only when read; the goal is `spec.schedule` being exactly the expression proposed.
"""

from __future__ import annotations

import re
from typing import Any

from agents.fastpaths import register
from agents.fastpaths._words import (
    COMMON,
    NUMBER_WORDS,
    cite,
    digits,
    expect,
    has,
    mutation,
    namespace,
    norm,
    one,
    resolve,
)
from agents.state import AgentResult
from tools.k8s.client import KubeError

AGENT = "resources"
DAYS = {"sunday": 0, "monday": 1, "tuesday": 2, "wednesday": 3, "thursday": 4, "friday": 5, "saturday": 6,
        "sun": 0, "mon": 1, "tue": 2, "tues": 2, "wed": 3, "thu": 4, "thur": 4, "thurs": 4, "fri": 5, "sat": 6}
_CRON = re.compile(r"(?<![\w*/,-])((?:[\d*/,-]+\s+){4}[\d*/,a-z-]+)(?![\w*/,-])|(@(?:hourly|daily|weekly|monthly|yearly|"
                   r"annually|midnight))")
_EVERY = re.compile(r"\bevery\s+(\d+)\s*(minutes?|mins?|m|hours?|hrs?|h)\b")
_TIME = re.compile(r"\bat\s+(\d{1,2})(?::(\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?(?![\d:])|\bat\s+(midnight|noon)\b")
# A time of day said without "at" ("to 3am every day"): only with its am/pm, never a bare number.
_BARE_TIME = re.compile(r"(?<![\d:.])(\d{1,2})(?::(\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)(?!\w)")
# Phrase → (minute, hour) or (day-of-month, day-of-week) part of the expression; a missing time means midnight.
_PERIODS = (
    (re.compile(r"\bevery\s+minute\b|\beach\s+minute\b"), ("*", "*", "*", "*")),
    (re.compile(r"\bhourly\b|\bevery\s+hour\b|\beach\s+hour\b|\bonce\s+an\s+hour\b"), ("0", "*", "*", "*")),
)
_DAYPART = (  # (pattern, (day of month, day of week))
    (re.compile(r"\b(?:on\s+)?(?:every\s+)?weekdays?\b|\bmonday\s+(?:to|through|-)\s+friday\b|\bmon-fri\b"),
     ("*", "1-5")),
    (re.compile(r"\b(?:on\s+)?(?:every\s+)?weekends?\b"), ("*", "0,6")),
    (re.compile(r"\bweekly\b|\bevery\s+week\b|\bonce\s+a\s+week\b"), ("*", "0")),
    (re.compile(r"\bmonthly\b|\bevery\s+month\b|\bonce\s+a\s+month\b|\bfirst\s+(?:day\s+)?of\s+(?:every|each|the)\s+"
                r"month\b"), ("1", "*")),
    (re.compile(r"\bdaily\b|\bnightly\b|\bevery\s+(?:day|night|morning|evening)\b|\beach\s+(?:day|night)\b|"
                r"\bonce\s+a\s+day\b"), ("*", "*")),
)


def schedule(text: str) -> str | None:
    """The cron expression a phrase means, or None when the phrase is not in the table."""
    low = digits(text)
    m = _CRON.search(low)
    if m:
        return (m.group(1) or m.group(2)).strip()
    every = _EVERY.search(low)
    if every:
        n, unit = int(every.group(1)), every.group(2)
        if unit.startswith("m") and 0 < n < 60:
            minute, hour = f"*/{n}", "*"
        elif unit.startswith("h") and 0 < n < 24:
            minute, hour = "0", f"*/{n}"
        else:
            return None
        dom, dow = _days(low) or ("*", "*")
        return f"{minute} {hour} {dom} * {dow}" if not (_TIME.search(low) or _BARE_TIME.search(low)) else None
    for pat, (minute, hour, dom, dow) in _PERIODS:
        if pat.search(low):
            return f"{minute} {hour} {dom} * {dow}" if not (_TIME.search(low) or _BARE_TIME.search(low)) else None
    days = _days(low)
    at = _time(low)
    if days is None and at is None:
        return None
    dom, dow = days or ("*", "*")
    minute, hour = at or (0, 0)
    return f"{minute} {hour} {dom} * {dow}"


def _days(low: str) -> tuple[str, str] | None:
    named = [DAYS[d] for d in re.findall(r"\b(" + "|".join(DAYS) + r")(?:day)?s?\b", low) if d in DAYS]
    if named and not re.search(r"\b(?:to|through)\s+friday\b|mon-fri", low):
        return "*", ",".join(str(d) for d in sorted(set(named)))
    for pat, part in _DAYPART:
        if pat.search(low):
            return part
    return None


def _time(low: str) -> tuple[int, int] | None:
    m = _TIME.search(low) or _BARE_TIME.search(low)
    if not m:
        return None
    if m.re is _TIME and m.group(4):
        return 0, 0 if m.group(4) == "midnight" else 12
    hour, minute, half = int(m.group(1)), int(m.group(2) or 0), (m.group(3) or "").replace(".", "")
    if half == "pm" and hour < 12:
        hour += 12
    elif half == "am" and hour == 12:
        hour = 0
    return (minute, hour) if hour < 24 and minute < 60 else None


def _asked_schedule(low: str) -> str | None:
    """The one schedule the request asks for. "it runs at midnight but it should run at 3am" says two: the one in a
    clause that tells (what is) is not the one asked; two left, or two in one clause, is not understood."""
    from agents.coverage import tokens
    from agents.residue import _CLAUSE_CUT, narrative

    parts = [part for part in _CLAUSE_CUT.split(low) if schedule(part)]
    if any(len({"".join(t).replace(" ", "") for t in _TIMES.findall(part)}) > 1 for part in parts):
        return None  # "at midnight or at 3am": two times in one breath
    said = [(schedule(part), narrative(tokens(part))) for part in parts]
    whole = schedule(low)
    if len({e for e, _ in said}) <= 1:
        return whole if not said or whole == said[0][0] else None
    asked = {e for e, told in said if not told}
    return asked.pop() if len(asked) == 1 else None


# a time of day said: "3am", "at 6:30pm", "at 14:00", "midnight" (each once, however it is written)
_TIMES = re.compile(r"\b(?:at\s+)?(\d{1,2}(?::\d{2})?\s*(?:am|pm))\b|\bat\s+(\d{1,2}(?::\d{2})?)\b(?!\s*(?:am|pm))|"
                    r"\b(midnight|noon)\b")


class CronJobSchedule:
    agent = AGENT
    intent = "cronjob-schedule"
    vocabulary = frozenset("""cronjob cronjobs cron job jobs schedule scheduled schedules reschedule re-schedule run runs
        running execute fire trigger change set update move make every each minute minutes min mins hour hours hr hrs h
        m day days daily night nightly morning evening week weekly weekday weekdays weekend weekends month monthly
        first once at am pm a.m p.m midnight noon o'clock oclock instead on to through expression crontab from
        monday tuesday wednesday thursday friday saturday sunday mondays tuesdays wednesdays thursdays fridays
        saturdays sundays mon tue tues wed thu thur thurs fri sat sun mon-fri only""".split()) | COMMON

    def match(self, ctx: Any) -> dict[str, Any] | None:
        if not has(ctx, "cronjob", "cron", "schedule", "reschedule", "scheduled"):
            return None
        found = one(resolve(ctx, ("CronJob",), namespace(ctx)))
        if found is None:
            return None
        _, obj, word = found
        low = norm(ctx.text)
        # the schedule is read from the words around the name: "nightly-report" says nothing about when it runs
        unnamed = re.sub(rf"(?<![\w-]){re.escape(obj['metadata']['name'])}(?![\w-])|(?<![\w-]){re.escape(word)}(?![\w-])",
                         " ", low)
        expr = _asked_schedule(unnamed)
        if expr is None:
            return None
        said = [word, *expr.split(), *[w for w in NUMBER_WORDS if re.search(rf"\b{w}\b", low)],
                *re.findall(r"\b\d{1,2}(?::\d{2})?(?:am|pm)?\b", low)]
        return {"name": obj["metadata"]["name"], "namespace": obj["metadata"]["namespace"], "schedule": expr,
                "said": said}

    def plan(self, ctx: Any, slots: dict[str, Any]) -> AgentResult:
        ns, name, expr = slots["namespace"], slots["name"], slots["schedule"]
        try:
            obj = ctx.kube.get("CronJob", ns, name)
        except KubeError as e:
            return AgentResult(AGENT, f"I could not read {cite('CronJob', ns, name)}: {e.message}", [e.message])
        live = (obj.get("spec") or {}).get("schedule", "")
        evidence = [f"{cite('CronJob', ns, name)}: schedule {live!r}"]
        if live == expr:
            return AgentResult(AGENT, f"Already so: {cite('CronJob', ns, name)} runs on {expr!r}. Nothing to change.",
                               evidence, data={"already": True, "schedule": live})
        m = mutation("patch", "CronJob", ns, name, [expect("CronJob", ns, name, "spec.schedule", expr)],
                     f"schedule {live!r} → {expr!r}", body={"spec": {"schedule": expr}}, patch_type="merge")
        return AgentResult(AGENT, f"Proposed: change the schedule of {cite('CronJob', ns, name)} from {live!r} to "
                                  f"{expr!r}.", evidence, [m], data={"schedule": live})


register(CronJobSchedule())
