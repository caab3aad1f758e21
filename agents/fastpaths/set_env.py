"""Set or remove environment variables on a workload's container ("add LOG_LEVEL=debug to web", "unset DEBUG on api").

Why its own fast path: "add one env var to a Deployment" was answered "I found nothing wrong". The change is a JSON
patch at exact indices of the live env list (guarded by `test` ops, so a list that moved under us fails the dry run
rather than editing the wrong entry), the goal is each variable at its index with the asked value (or gone), and the
rollout must become healthy or the change is undone.
"""

from __future__ import annotations

import re
from typing import Any

from agents.fastpaths import register
from agents.fastpaths._words import (
    COMMON,
    cite,
    container,
    expect,
    has,
    healthy,
    live_container,
    mutation,
    namespace,
    one,
    plain_quotes,
    resolve,
    template_path,
    value_of,
)
from agents.state import AgentResult
from tools.k8s.kinds import WORKLOADS

AGENT = "resources"
TRIGGERS = ("env", "environment", "variable", "variables", "envvar", "var", "vars")
_PAIR = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s,;'\"]+)")
# "change its LOG_LEVEL from debug to info": the value it must have now (checked against the live one) and the new one
_FROM_TO = re.compile(r"\b([A-Z_][A-Z0-9_]*)\s+from\s+(\"[^\"]*\"|'[^']*'|[^\s,;'\"]+)\s+to\s+(\"[^\"]*\"|'[^']*'|[^\s,;'\"]+)")
_TO = re.compile(r"\b([A-Z_][A-Z0-9_]*)\s+(?:to|as)\s+(\"[^\"]*\"|'[^']*'|[^\s,;'\"]+)")
_REMOVE = re.compile(r"^\s*(?:please\s+|can you\s+|could you\s+)?(?:remove|unset|delete|drop|get rid of)\b", re.I)


class SetEnv:
    agent = AGENT
    intent = "set-env"
    vocabulary = frozenset("""env environment variable variables envvar var vars value values add set put update change
        inject define configure remove unset delete drop rid to as on in into container containers deployment deploy from
        statefulset sts daemonset new another""".split()) | COMMON

    def match(self, ctx: Any) -> dict[str, Any] | None:
        text = plain_quotes(ctx.text)
        upper_pairs = _PAIR.findall(text) and all(re.fullmatch(r"[A-Z_][A-Z0-9_]*", k) for k, _ in _PAIR.findall(text))
        if not has(ctx, *TRIGGERS) and not upper_pairs and not _FROM_TO.search(text):  # MODE=prod is an env var; app=web could be a label
            return None
        remove = bool(_REMOVE.search(text))
        said_pairs: list[str] = []
        was: dict[str, str] = {}
        if (moves := _FROM_TO.findall(text)) and not remove:
            env = {k: value_of(b) for k, _, b in moves}
            was = {k: value_of(a) for k, a, _ in moves}
            said_pairs = [k for k, _, _ in moves] + [value_of(a) for _, a, _ in moves] + [value_of(b) for _, _, b in moves]
        elif remove:
            names = [n for n in re.findall(r"\b([A-Z_][A-Z0-9_]{1,})\b", text)]
            if not names or _PAIR.search(text):
                return None
            env: dict[str, str | None] = {n: None for n in dict.fromkeys(names)}
        else:
            pairs = _PAIR.findall(text) or _TO.findall(text)
            if not pairs:
                return None
            env = {k: value_of(v) for k, v in pairs}
            said_pairs = [f"{k}={v}" for k, v in pairs]
        found = one(resolve(ctx, WORKLOADS, namespace(ctx), skip={k.lower() for k in env}))
        if found is None:
            return None
        kind, obj, word = found
        picked = container(ctx, obj, kind)
        if picked is None:
            return None
        return {"kind": kind, "name": obj["metadata"]["name"], "namespace": obj["metadata"]["namespace"],
                "container": picked[1]["name"], "index": picked[0], "env": env, "was": was,
                "said": [word, *said_pairs], "from": bool(was)}

    def plan(self, ctx: Any, slots: dict[str, Any]) -> AgentResult:
        kind, ns, name, cname, ci = slots["kind"], slots["namespace"], slots["name"], slots["container"], slots["index"]
        live_c, refused = live_container(ctx, slots, AGENT)
        if refused is not None:
            return refused
        live = list(live_c.get("env") or [])
        base = "/" + template_path(kind).replace(".", "/") + f"/containers/{ci}"
        gpath = f"{template_path(kind)}.containers.{ci}.env"
        evidence = [f"{cite(kind, ns, name)} container {cname} env: " +
                    (", ".join(f"{e['name']}={e.get('value', '<from ' + str(list(e.get('valueFrom') or {})) + '>')}"
                               for e in live) or "none")]
        for key, old in (slots.get("was") or {}).items():  # "from debug": the premise must hold
            now = next((e.get("value") for e in live if e.get("name") == key), None)
            if now != old:
                ask = f"{key} is {now!r} now, not {old!r}: should it still become {slots['env'][key]!r}?"
                return AgentResult(AGENT, f"I did not act: {ask}", evidence, data={"abstain": {
                    "understood": [f"set-env {key}={slots['env'][key]}"], "not_understood": [], "ask": ask}})
        final = [dict(e) for e in live]
        for key, value in slots["env"].items():
            at = next((i for i, e in enumerate(final) if e.get("name") == key), None)
            if value is None:
                if at is not None:
                    final.pop(at)
            elif at is None:
                final.append({"name": key, "value": value})
            else:
                final[at] = {"name": key, "value": value}
        if final == live:
            said = ", ".join(f"{k}={v}" if v is not None else f"no {k}" for k, v in slots["env"].items())
            return AgentResult(AGENT, f"Already so: container {cname} of {cite(kind, ns, name)} has {said}. Nothing to "
                                      "change.", evidence, data={"already": True})
        # Guard every index we rely on, then put the list in its final form.
        ops: list[dict[str, Any]] = [{"op": "test", "path": f"{base}/env/{i}/name", "value": e["name"]}
                                     for i, e in enumerate(live)]
        ops.append({"op": "add", "path": f"{base}/env", "value": final})
        goal = []
        for key, value in slots["env"].items():
            at = next((i for i, e in enumerate(final) if e.get("name") == key), None)
            if value is None:
                goal += [expect(kind, ns, name, f"{gpath}.{i}.name", e["name"]) for i, e in enumerate(final)]
                goal.append(expect(kind, ns, name, f"{gpath}.{len(final)}", None, "missing"))
            else:
                goal += [expect(kind, ns, name, f"{gpath}.{at}.name", key),
                         expect(kind, ns, name, f"{gpath}.{at}.value", value)]
        goal = list({repr(g): g for g in goal}.values())
        sets = [f"{k}={v}" for k, v in slots["env"].items() if v is not None]
        drops = [k for k, v in slots["env"].items() if v is None]
        what = "; ".join(p for p in ((f"set {', '.join(sets)}" if sets else ""),
                                     (f"remove {', '.join(drops)}" if drops else "")) if p)
        m = mutation("patch", kind, ns, name, goal, f"env of container {cname}: {what}", body=ops, patch_type="json",
                     verify=healthy(kind, ns, name))
        return AgentResult(AGENT, f"Proposed: in container {cname} of {cite(kind, ns, name)}, {what} (a rolling "
                                  "restart follows; the change is undone if the rollout does not become healthy).",
                           evidence, [m])


register(SetEnv())
