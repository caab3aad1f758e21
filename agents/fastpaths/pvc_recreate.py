"""Recreate a PersistentVolumeClaim that names a StorageClass which does not exist: "the reports-cache PVC in shop is
stuck because the 'gold' storage class doesn't exist; recreate it with the standard class (and make it 10Gi)".

Why its own fast path: `spec.storageClassName` of a claim cannot change, so the fix is a delete and a create of the
same object, and the bare pods that mount the claim must be deleted and created again around it (a pod keeps
waiting for the claim it was created with). That is one plan, applied in order: the pods, then the claim, are
deleted; the claim is created with an existing class (the one named, else the cluster's default), then the pods as
they were. The supervisor previews each create against what it replaces and applies it once the old object has gone
(tools/k8s/mutations.py). The goal: the claim's class and size as asked, and, when something consumes it (a pod
recreated here, or a class that binds at once), the claim Bound (a status field: polled, not read once).

Acts only on a claim that is not Bound (nothing is stored in it yet) and whose pods are bare: a pod a controller owns
would be recreated by that controller mid-plan; a Bound claim holds data a delete would lose.
"""

from __future__ import annotations

import re
from typing import Any

from agents.fastpaths import register
from agents.fastpaths._words import (
    COMMON,
    cite,
    expect,
    healthy,
    listed,
    mutation,
    namespace,
    norm,
    one,
    resolve,
    words,
)
from agents.state import AgentResult
from tools.k8s.mutations import clean
from tools.k8s.objects import parse_quantity

AGENT = "resources"
DEFAULT_ANNOTATIONS = ("storageclass.kubernetes.io/is-default-class", "storageclass.beta.kubernetes.io/is-default-class")
_SIZE = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\s*(gi|mi|ti|gib|mib|tib|gb|mb|tb|g|m|t)\b")
_UNITS = {"gi": "Gi", "gib": "Gi", "gb": "Gi", "g": "Gi", "mi": "Mi", "mib": "Mi", "mb": "Mi", "m": "Mi", "ti": "Ti",
          "tib": "Ti", "tb": "Ti", "t": "Ti"}
_TRIGGER = re.compile(r"\b(?:re-?create|recreat\w*|delete\s+and\s+(?:re-?)?create|replace|re-?make|fix)\b")
_OLD = re.compile(r"\binstead\s+of\s+(\d+(?:\.\d+)?\s*[a-z]+)|\bfrom\s+(\d+(?:\.\d+)?\s*[a-z]+)\s+to\b")


def _size(num: str, unit: str) -> str:
    return f"{num}{_UNITS[unit]}"


def _classes(ctx: Any) -> list[dict[str, Any]]:
    return listed(ctx, "StorageClass", None)


def _default(classes: list[dict[str, Any]]) -> dict[str, Any] | None:
    found = [c for c in classes if any((c["metadata"].get("annotations") or {}).get(a) == "true"
                                       for a in DEFAULT_ANNOTATIONS)]
    return found[0] if len(found) == 1 else None


class RecreatePVC:
    agent = AGENT
    intent = "recreate-pvc"
    vocabulary = frozenset("""pvc pvcs claim claims persistent volume volumes persistentvolumeclaim storage class classes
        storageclass sc recreate re-create recreated create again delete replace remake fix stuck pending broken
        because since cause exist exists existing missing here use using with default instead make size bigger larger
        grow increase to from pod pods mounts mount mounting uses its new one same standard class""".split()
                           ) | COMMON | frozenset({"does not exist", "do not exist", "not exist", "no such",
                                                   "not found", "is not there", "while you are at it"})

    def match(self, ctx: Any) -> dict[str, Any] | None:
        low = norm(ctx.text)
        if not _TRIGGER.search(low) or not re.search(r"\b(?:pvc|claim|persistentvolumeclaim|volume)s?\b", low):
            return None
        ns = namespace(ctx)
        found = one(resolve(ctx, ["PersistentVolumeClaim"], ns))
        if found is None:
            return None
        _, pvc, word = found
        classes = _classes(ctx)
        names = {c["metadata"]["name"] for c in classes}
        old_class = (pvc.get("spec") or {}).get("storageClassName")
        said = [w for w in dict.fromkeys(words(ctx)) if w in names]
        if len(said) > 1:
            return None
        if said:
            new_class = said[0]
        elif re.search(r"\bdefault\b", low):
            d = _default(classes)
            if d is None:
                return None
            new_class = d["metadata"]["name"]
        else:
            return None
        sizes = [(m.group(0), _size(m.group(1), m.group(2))) for m in _SIZE.finditer(low)]
        olds = [re.sub(r"\s+", "", g) for m in _OLD.finditer(low) for g in m.groups() if g]
        news = [s for w, s in sizes if re.sub(r"\s+", "", w) not in olds]
        if len(set(news)) > 1 or len(olds) > 1:
            return None
        return {"kind": "PersistentVolumeClaim", "name": pvc["metadata"]["name"], "namespace": ns,
                "class": new_class, "old_class": old_class, "size": news[0] if news else None,
                "old_size": _size(*_SIZE.match(olds[0]).groups()) if olds and _SIZE.match(olds[0]) else None,
                "said": [word, *(w for w, _ in sizes)]}

    def plan(self, ctx: Any, slots: dict[str, Any]) -> AgentResult:
        ns, name, new_class = slots["namespace"], slots["name"], slots["class"]
        try:
            pvc = ctx.kube.get("PersistentVolumeClaim", ns, name)
        except Exception as e:  # noqa: BLE001 - KubeError or a vanished object: say so, no traceback
            return AgentResult(AGENT, f"I could not read PersistentVolumeClaim {ns}/{name}: {getattr(e, 'message', e)}")
        spec, status = pvc.get("spec") or {}, pvc.get("status") or {}
        live_class = spec.get("storageClassName")
        live_size = ((spec.get("resources") or {}).get("requests") or {}).get("storage")
        classes = {c["metadata"]["name"]: c for c in _classes(ctx)}
        evidence = [f"PersistentVolumeClaim {ns}/{name}: class {live_class or '(none)'}, {live_size}, "
                    f"{status.get('phase', 'Pending')}",
                    f"StorageClasses: {', '.join(sorted(classes)) or 'none'}"]
        if status.get("phase") == "Bound":
            return AgentResult(AGENT, f"I did not act: PersistentVolumeClaim {ns}/{name} is Bound, so it may hold data "
                                      "that deleting it would lose. Copy the data first, or ask for the new claim "
                                      "under another name.", evidence)
        if live_class in classes:
            return AgentResult(AGENT, f"I did not act: the StorageClass {live_class} of {ns}/{name} exists, so its "
                                      "class is not what keeps it pending; describe the claim for its events.",
                                      evidence)
        old_size = slots.get("old_size")
        if old_size and live_size and parse_quantity(old_size) != parse_quantity(live_size):
            return AgentResult(AGENT, f"I did not act: {ns}/{name} requests {live_size}, not {old_size} as you said.",
                               evidence)
        size = slots.get("size") or live_size
        pods = [p for p in listed(ctx, "Pod", ns) if any((v.get("persistentVolumeClaim") or {}).get("claimName") == name
                                                         for v in (p.get("spec") or {}).get("volumes") or [])]
        owned = [p["metadata"]["name"] for p in pods if p["metadata"].get("ownerReferences")]
        if owned:
            return AgentResult(AGENT, f"I did not act: {', '.join(owned)} mount {ns}/{name} and belong to a controller, "
                                      "which would recreate them while the claim is replaced; scale it to 0 first.",
                               evidence)
        evidence += [f"Pod {ns}/{p['metadata']['name']} mounts it" for p in pods]
        body = clean(pvc)
        body["metadata"] = {k: v for k, v in body["metadata"].items() if k in ("name", "namespace", "labels",
                                                                               "annotations")}
        (body["metadata"].get("annotations") or {}).pop("volume.beta.kubernetes.io/storage-class", None)
        body["spec"] = {k: v for k, v in spec.items() if k not in ("volumeName",)}
        body["spec"]["storageClassName"] = new_class
        body["spec"].setdefault("resources", {}).setdefault("requests", {})["storage"] = size
        binds = bool(pods) or classes[new_class].get("volumeBindingMode", "Immediate") == "Immediate"
        goal = [expect("PersistentVolumeClaim", ns, name, "spec.storageClassName", new_class),
                expect("PersistentVolumeClaim", ns, name, "spec.resources.requests.storage", size)]
        if binds:
            goal.append(expect("PersistentVolumeClaim", ns, name, "status.phase", "Bound"))
        muts = [mutation("delete", "Pod", ns, p["metadata"]["name"], [], f"it mounts {name}; created again after it")
                for p in pods]
        muts.append(mutation("delete", "PersistentVolumeClaim", ns, name, [],
                             f"its class {live_class} does not exist and cannot be changed in place"))
        muts.append(mutation("create", "PersistentVolumeClaim", ns, name, goal,
                             f"class {new_class}, {size}", body=body))
        for p in pods:
            pod = clean(p)
            pod["spec"].pop("nodeName", None)
            pname = p["metadata"]["name"]
            muts.append(mutation("create", "Pod", ns, pname, [expect("Pod", ns, pname, "metadata.name", pname)],
                                 f"as it was, mounting the new {name}", body=pod, verify=healthy("Pod", ns, pname)))
        steps = [f"delete pod {p['metadata']['name']}" for p in pods] + [
            f"delete claim {name} (class {live_class})", f"create it with class {new_class}, {size}"] + [
            f"create pod {p['metadata']['name']} again" for p in pods]
        return AgentResult(AGENT, f"Proposed, as one plan applied in this order: {'; '.join(steps)}. The class of "
                                  f"{cite('PersistentVolumeClaim', ns, name)} cannot change in place, so it is "
                                  "recreated (it is not Bound: no data is lost).", evidence, muts)


register(RecreatePVC())
