"""Move a workload's container to another image or version ("from nginx:1.27 to nginx:1.28", "bump api to 2.4.1").

Why its own fast path: asked to move from one version to another, kubesage once patched the image to the version it
already had and called the rollout verified. Here the live image is read first: a change to what is already
running is "already so"; a "from" version that is not the one running is said, not papered over; the goal is the
container's image being exactly the one asked for, and the rollout must become healthy (or is undone).
"""

from __future__ import annotations

import re
from typing import Any

from agents.fastpaths import register
from agents.fastpaths._words import (
    COMMON,
    cite,
    container,
    containers,
    expect,
    has,
    healthy,
    live_container,
    mutation,
    namespace,
    norm,
    one,
    resolve,
    template_path,
    wrap,
)
from agents.state import AgentResult
from tools.k8s.kinds import WORKLOADS

AGENT = "resources"
KINDS = WORKLOADS + ("Pod",)
IMAGE = r"[a-z0-9][a-z0-9./_-]*(?::[a-z0-9][a-z0-9._-]*|@sha256:[a-f0-9]{16,})"
TAG = r"v?\d+(?:\.\d+)+(?:-[a-z0-9.]+)?|v\d+"
REF = rf"(?:{IMAGE}|{TAG})"
_FROM_TO = re.compile(rf"\bfrom\s+(?:image\s+|version\s+|tag\s+)?['\"]?({REF})['\"]?\s+(?:to|->|→|onto)\s+"
                      rf"(?:image\s+|version\s+|tag\s+)?['\"]?({REF})['\"]?")
_TO = re.compile(rf"(?:\bto|\bimage|\bversion|\btag|\buse|\busing|=|->|→)\s*(?:the\s+)?(?:image\s+|version\s+|tag\s+)?"
                 rf"['\"]?({REF})['\"]?(?![\w.:-])")
TRIGGERS = ("image", "version", "tag", "upgrade", "downgrade", "bump", "update", "rollout", "roll", "move", "migrate",
            "switch", "change", "deploy", "release", "pin", "set")
_DOWNTIME = re.compile(r"\b(?:no|zero|without|any)\s+(?:\w+\s+)?(?:downtime|outage)|\bno-downtime\b|\brolling\b")


def _images(low: str) -> tuple[str | None, str | None]:
    """(from, to) as written; `to` is None when no single new image or version is named."""
    m = _FROM_TO.search(low)
    if m:
        return m.group(1), m.group(2)
    found = list(dict.fromkeys(_TO.findall(low)))
    if len(found) == 1:
        return None, found[0]
    imgs = list(dict.fromkeys(re.findall(rf"(?<![\w./:-])({IMAGE})(?![\w.:-])", low)))
    return (None, imgs[0]) if len(imgs) == 1 else (None, None)


def _full(ref: str, live: str) -> str:
    """A bare version ("1.28", "v2") completed with the live image's repository."""
    if re.fullmatch(TAG, ref) and not re.fullmatch(IMAGE, ref):
        return f"{re.split(r'[:@]', live)[0]}:{ref}"
    return ref


def _joined(low: str, cs: list[dict[str, Any]]) -> str:
    """"from nginx 1.27 to 1.27.3": a repository of the workload's containers followed by a version is that image."""
    repos = sorted({_repo(c.get("image", "")) for c in cs if c.get("image")}, key=len, reverse=True)
    if not repos:
        return low
    alt = "|".join(re.escape(r) for r in repos)
    return re.sub(rf"(?<![\w./:-])((?:[a-z0-9./_-]*/)?(?:{alt}))\s+(?:version\s+)?({TAG})(?![\w.:-])", r"\1:\2", low)


def _repo(image: str) -> str:
    return re.split(r"[:@]", image)[0].rsplit("/", 1)[-1]


class SetImage:
    agent = AGENT
    intent = "set-image"
    vocabulary = frozenset("""image images version tag upgrade upgrades upgrading downgrade bump update updating roll
        rollout rolling out move migrate switch change deploy release pin set from to onto container containers
        deployment deploy statefulset sts daemonset pod use using run running runs new
        downtime zero no without any outage gracefully safely fix correct instead""".split()) | COMMON

    def match(self, ctx: Any) -> dict[str, Any] | None:
        if not has(ctx, *TRIGGERS):
            return None
        ns = namespace(ctx)
        found = one(resolve(ctx, KINDS, ns))
        if found is None:
            return None
        kind, obj, word = found
        low = _joined(norm(ctx.text), containers(obj, kind))
        old, new = _images(low)
        if new is None:
            return None
        picked = container(ctx, obj, kind)
        if picked is None:  # several containers: the one whose image is the repository named
            cs = [(i, c) for i, c in enumerate(containers(obj, kind)) if _repo(c.get("image", "")) == _repo(new)]
            if len(cs) != 1 or re.fullmatch(TAG, new):
                return None
            picked = cs[0]
        downtime = bool(_DOWNTIME.search(low))
        if downtime and ((obj.get("spec") or {}).get("strategy") or {}).get("type") == "Recreate":
            return None  # "without downtime" on a Recreate Deployment is a strategy change too
        live = picked[1].get("image", "")
        # "2.4.0 of checkout is broken, roll it back to 2.3.1": a version said that is the one running is the "from"
        running = [r for r in re.findall(rf"(?<![\w./:-])({REF})(?![\w.:-])", low)
                   if r not in (new, old) and _full(r, live) == live]
        return {"kind": kind, "name": obj["metadata"]["name"], "namespace": obj["metadata"]["namespace"],
                "container": picked[1]["name"], "index": picked[0], "from": old, "to": new, "said": [word],
                "no_downtime": downtime, "running": running}

    def plan(self, ctx: Any, slots: dict[str, Any]) -> AgentResult:
        kind, ns, name, cname, i = slots["kind"], slots["namespace"], slots["name"], slots["container"], slots["index"]
        live_c, refused = live_container(ctx, slots, AGENT)
        if refused is not None:
            return refused
        path = f"{template_path(kind)}.containers.{i}"
        live = live_c.get("image", "")
        new = _full(slots["to"], live)
        evidence = [f"{cite(kind, ns, name)} container {cname}: image {live}"]
        if live == new:
            return AgentResult(AGENT, f"Already so: container {cname} of {cite(kind, ns, name)} runs {live}. Nothing "
                                      "to change.", evidence, data={"already": True, "image": live})
        if slots.get("from"):
            old = _full(slots["from"], live)
            if old != live:
                return AgentResult(AGENT, f"I did not act: container {cname} of {cite(kind, ns, name)} runs {live}, not "
                                          f"{old} as you said. Say 'set the image of {name} to {new}' if you want "
                                          f"{live} replaced.", evidence, data={"image": live})
        patch = wrap(kind, {"containers": [{"name": cname, "image": new}]})
        goal = [expect(kind, ns, name, f"{path}.image", new), expect(kind, ns, name, f"{path}.name", cname)]
        was_ok, now = _health(ctx, kind, ns, name)
        # Undoing a change because the rollout is not healthy is right when it was healthy before; going back to a
        # workload that was already broken ("2.4.0 is broken, roll back to 2.3.1") undoes what was asked for nothing.
        m = mutation("patch", kind, ns, name, goal, f"image of container {cname}: {live} → {new}", body=patch,
                     verify=healthy(kind, ns, name) if was_ok else None)
        how = " as a rolling update (old pods are replaced only as new ones become ready)" if kind != "Pod" else ""
        after = ("the change is undone if the rollout does not become healthy" if was_ok else
                 f"it is not healthy now ({now}), so the check after the apply is that {new} is the image, and an "
                 "unhealthy rollout is reported, not undone")
        return AgentResult(AGENT, f"Proposed: change the image of container {cname} in {cite(kind, ns, name)} from "
                                  f"{live} to {new}{how}; {after}.", evidence, [m], data={"image": live})


def _health(ctx: Any, kind: str, ns: str, name: str) -> tuple[bool, str]:
    """(healthy now, how it stands) of the workload before the change; unreadable counts as healthy (the safe side:
    the rollout is then checked and undone when it fails)."""
    from tools.k8s.client import KubeError
    from tools.k8s.health import status_of

    try:
        ok, why, _ = status_of(ctx.kube, kind, ctx.kube.get(kind, ns, name))
    except KubeError:
        return True, ""
    return ok, why


register(SetImage())
