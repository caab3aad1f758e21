"""Load every key of a ConfigMap or Secret into a workload's container as environment variables (`envFrom`):
"make the api deployment load all of configmap api-settings as env vars", "have web pick up the keys of the
web-flags configmap as environment variables", "inject secret db-creds into checkout's env".

Why its own fast path: such a request, read as "change the deployment", was taken for a read of the ConfigMap (the
verb "load" or "pick up" is no change verb), and beside a ConfigMap created in the same breath it was taken for the
creation alone. The change is a strategic merge patch of the container's `envFrom` (a list without a merge key: the
live entries are sent with the new one, so none is lost); the goal is the reference in `envFrom`, the container's
other env untouched by construction, and the rollout must become healthy or the change is undone.
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
    resolve,
    template_path,
    wrap,
)
from agents.state import AgentResult
from tools.k8s.kinds import WORKLOADS

AGENT = "resources"
_ENV = re.compile(r"\b(?:env|envs|environment|envfrom|env\s+vars?|variables?|vars)\b")
_SOURCES = ("ConfigMap", "Secret")


class EnvFrom:
    agent = AGENT
    intent = "env-from"
    vocabulary = frozenset("""load loads loading use uses using pick picks up import imports inject injects wire wires
        source sources consume consumes read reads expose exposes add adds attach attaches mount map expose get gets
        take takes pull pulls bring feed make have let so that it its all every each whole entire of from into onto
        to in as the keys key entries entry values value data contents content settings env envs environment envfrom
        variable variables var vars container deployment deployments statefulset daemonset workload configmap config
        map secret new""".split()) | COMMON

    def match(self, ctx: Any) -> dict[str, Any] | None:
        low = ctx.text.lower()
        if not _ENV.search(low) or not has(ctx, "configmap", "config map", "secret"):
            return None
        if re.search(r"\b(?:remove|unset|delete|drop|stop|without|no\s+longer)\b", low):
            return None  # taking a source away is not this path's
        ns = namespace(ctx)
        source = one(resolve(ctx, _SOURCES, ns))
        if source is None:
            return None
        src_kind, src, src_word = source
        target = one(resolve(ctx, WORKLOADS, ns, skip={src_word, src["metadata"]["name"]}))
        if target is None:
            return None
        kind, obj, word = target
        found = container(ctx, obj, kind)
        if found is None:
            return None
        i, c = found
        return {"kind": kind, "name": obj["metadata"]["name"], "namespace": obj["metadata"]["namespace"],
                "source_kind": src_kind, "source": src["metadata"]["name"], "container": c["name"], "index": i,
                "said": [word, src_word, c["name"]]}

    def plan(self, ctx: Any, slots: dict[str, Any]) -> AgentResult:
        kind, ns, name, i = slots["kind"], slots["namespace"], slots["name"], slots["index"]
        src_kind, src, cname = slots["source_kind"], slots["source"], slots["container"]
        c, failed = live_container(ctx, slots, AGENT)
        if failed is not None:
            return failed
        ref = {"secretRef": {"name": src}} if src_kind == "Secret" else {"configMapRef": {"name": src}}
        live = list(c.get("envFrom") or [])
        evidence = [f"{cite(kind, ns, name)} container {cname} envFrom: {live or 'none'}"]
        if ref in live:
            return AgentResult(AGENT, f"Already so: {cite(kind, ns, name)} (container {cname}) loads every key of "
                                      f"{src_kind} {src} as environment variables. Nothing to change.", evidence,
                               data={"already": True})
        body = wrap(kind, {"containers": [{"name": cname, "envFrom": live + [ref]}]})
        path = f"{template_path(kind)}.containers.{i}"
        goal = [expect(kind, ns, name, f"{path}.envFrom", ref, "contains")]
        goal += [expect(kind, ns, name, f"{path}.env", e, "contains") for e in c.get("env") or []]
        m = mutation("patch", kind, ns, name, goal, f"load every key of {src_kind} {src} as environment variables",
                     body=body, verify=healthy(kind, ns, name))
        kept = f"; its other env ({', '.join(e['name'] for e in c.get('env') or [])}) stays" if c.get("env") else ""
        return AgentResult(AGENT, f"Proposed for {cite(kind, ns, name)} (container {cname}): load every key of "
                                  f"{src_kind} {src} as environment variables (envFrom){kept}. The pods restart to "
                                  "pick it up.", evidence, [m])


register(EnvFrom())
