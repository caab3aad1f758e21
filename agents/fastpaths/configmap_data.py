"""Add, change or remove keys of an existing ConfigMap ("add PAYMENTS_URL=http://payments to the checkout-config
configmap", "set TIMEOUT=30 in configmap api-settings", "remove DEBUG from the api-settings configmap").

Why its own fast path: such a request read as "author a ConfigMap" asked what the new ConfigMap should be called, or
would have replaced the live one, losing its other keys. The change is a JSON merge patch of exactly the said keys
(a removed key is `null`); the goal is each key with the asked value (or gone), and every other key is untouched by
construction.
"""

from __future__ import annotations

import re
from typing import Any

from agents.fastpaths import register
from agents.fastpaths._words import (
    COMMON,
    cite,
    expect,
    has,
    mutation,
    namespace,
    one,
    plain_quotes,
    resolve,
    value_of,
)
from agents.state import AgentResult

AGENT = "resources"
_PAIR = re.compile(r"\b([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s,;'\"]+)")
_REMOVE = re.compile(r"\b(?:remove|unset|delete|drop)\s+(?:the\s+)?(?:keys?\s+)?((?:[A-Za-z_][A-Za-z0-9_.-]*"
                     r"(?:\s*,\s*|\s+and\s+)?)+)\s+from\b")


class ConfigMapData:
    agent = AGENT
    intent = "configmap-data"
    vocabulary = frozenset("""configmap configmaps config map key keys value values entry entries data add set put
        update change remove unset delete drop to in into on of from with new""".split()) | COMMON

    def match(self, ctx: Any) -> dict[str, Any] | None:
        if not has(ctx, "configmap", "config map"):
            return None
        text = plain_quotes(ctx.text)
        pairs = {k: value_of(v) for k, v in _PAIR.findall(text)}
        rm = _REMOVE.search(text)
        data: dict[str, str | None] = dict(pairs)
        if rm and not pairs:
            data = {k: None for k in re.findall(r"[A-Za-z_][A-Za-z0-9_.-]*", rm.group(1)) if k.lower() != "and"}
        if not data:
            return None
        found = one(resolve(ctx, ("ConfigMap",), namespace(ctx), skip={k.lower() for k in data}))
        if found is None:
            return None
        _, obj, word = found
        said = [word, *data, *(f"{k}={v}" for k, v in data.items() if v is not None),
                *(v for v in data.values() if v is not None)]
        return {"name": obj["metadata"]["name"], "namespace": obj["metadata"]["namespace"], "data": data,
                "said": said}

    def plan(self, ctx: Any, slots: dict[str, Any]) -> AgentResult:
        ns, name, data = slots["namespace"], slots["name"], slots["data"]
        try:
            live = (ctx.kube.get("ConfigMap", ns, name).get("data") or {})
        except Exception as e:  # noqa: BLE001 - a KubeError's message is the answer
            return AgentResult(AGENT, f"I could not read ConfigMap {ns}/{name}: {getattr(e, 'message', e)}")
        evidence = [f"{cite('ConfigMap', ns, name)} keys: {', '.join(sorted(live)) or 'none'}"]
        if all(live.get(k) == v if v is not None else k not in live for k, v in data.items()):
            return AgentResult(AGENT, f"Already so: {cite('ConfigMap', ns, name)} has "
                                      f"{', '.join(f'{k}={v}' if v is not None else f'no {k}' for k, v in data.items())}"
                                      ". Nothing to change.", evidence, data={"already": True})
        goal = [expect("ConfigMap", ns, name, f"data.{k}", v) if v is not None else
                expect("ConfigMap", ns, name, f"data.{k}", None, "missing") for k, v in data.items()]
        goal += [expect("ConfigMap", ns, name, f"data.{k}", v) for k, v in live.items() if k not in data]
        what = "; ".join(f"set {k}={v}" if v is not None else f"remove {k}" for k, v in data.items())
        m = mutation("patch", "ConfigMap", ns, name, goal, f"ConfigMap data: {what}", body={"data": data},
                     patch_type="merge")
        return AgentResult(AGENT, f"Proposed: in {cite('ConfigMap', ns, name)}, {what}; its other keys stay as they "
                                  "are. Pods read a changed ConfigMap only when they restart (env) or after the "
                                  "kubelet's sync (mounted files).", evidence, [m])


register(ConfigMapData())
