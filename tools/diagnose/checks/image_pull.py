"""image_pull: ErrImagePull / ImagePullBackOff / InvalidImageName.

Quotes the registry's message and classifies it: the tag or repository does not exist, the registry wants
credentials, or it cannot be reached. For a missing tag it names only a tag the cluster proves exists: one of the
same repository that a pod runs and that looks like what was typed. A typo repair alone (1.999-nope -> 1.99-nope)
proves nothing (that tag may not exist either), so without such a pod it names none and says to check the
registry's tags.
"""

from __future__ import annotations

import re
from typing import Any

from tools.diagnose import common, util
from tools.diagnose.base import Finding, Snapshot, register
from tools.k8s.kinds import POD_OWNERS

PULL_REASONS = ("ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull", "RegistryUnavailable")
_NOT_FOUND = re.compile(r"not found|manifest unknown|does not exist|no such manifest|repository does not exist", re.I)
_AUTH = re.compile(r"unauthorized|authentication required|pull access denied|denied: |403 Forbidden|"
                   r"no basic auth credentials", re.I)
_NET = re.compile(r"no such host|i/o timeout|connection refused|dial tcp|TLS handshake timeout|"
                  r"server misbehaving|network is unreachable", re.I)


def _siblings(snapshot: Snapshot, repo: str, bad_tag: str) -> dict[str, list[str]]:
    """{tag: [where it is used]} for other tags of the same repository; 'running' marks a running pod."""
    out: dict[str, list[str]] = {}

    def note(image: str, where: str) -> None:
        r, tag, _ = util.split_image(image)
        if r == repo and tag and tag != bad_tag:
            out.setdefault(tag, []).append(where)
    for pod in snapshot.pods:
        for cs in util.container_statuses(pod):
            if "running" in (cs.get("state") or {}):
                note(cs.get("image", ""), f"running in pod {util.ns_of(pod)}/{util.name_of(pod)}")
    for coll, kind in (("deployments", "Deployment"), ("statefulsets", "StatefulSet"), ("daemonsets", "DaemonSet")):
        for w in getattr(snapshot, coll):
            spec = ((w.get("spec") or {}).get("template") or {}).get("spec") or {}
            for c in spec.get("containers") or []:
                note(c.get("image", ""), f"{kind.lower()} {util.ns_of(w)}/{util.name_of(w)}")
    return out


@register
class ImagePullCheck:
    name = "image_pull"
    kinds = POD_OWNERS

    def run(self, snapshot: Snapshot) -> list[Finding]:
        items = common.waiting_in(snapshot, PULL_REASONS)
        out = []
        for (ns, kind, name), group in common.group_by_workload(snapshot, items).items():
            seen: set[str] = set()
            for pod, cs in group:
                if cs.get("name") in seen:
                    continue
                seen.add(cs.get("name", ""))
                out.append(self._finding(snapshot, ns, kind, name, pod, cs,
                                         [p for p, c in group if c.get("name") == cs.get("name")]))
        return out

    def _finding(self, snapshot: Snapshot, ns: str, kind: str, name: str, pod: dict[str, Any], cs: dict[str, Any],
                 pods: list[dict[str, Any]]) -> Finding:
        cname = cs.get("name", "")
        waiting = (cs.get("state") or {}).get("waiting") or {}
        spec = common.pod_template(snapshot, kind, ns, name, pod)
        c = common.find_container(spec, pod, cname)
        image = c.get("image") or cs.get("image", "")
        events = snapshot.events_for("Pod", ns, util.name_of(pod))
        pull_msgs = [e.get("message", "") for e in events if e.get("reason") == "Failed" and
                     "pull" in (e.get("message") or "").lower() and not (e.get("message") or "").startswith("Error:")]
        message = pull_msgs[-1] if pull_msgs else (waiting.get("message") or "")
        wl = common.workload_label(kind, ns, name)
        evidence = [f"pod {ns}/{util.name_of(pod)} container {cname}: {util.describe_state(cs)}"]
        if pull_msgs:
            evidence.append(f"event Failed: {pull_msgs[-1]}")
        f = Finding(check=self.name, severity="critical", kind=kind, namespace=ns, name=name,
                    reason=waiting.get("reason", "ErrImagePull"),
                    summary=f"{len(pods)} pod(s) of {wl} cannot pull image {image} for container {cname}",
                    evidence=evidence, related=common.pod_refs(pods) + [util.ref(kind, ns, name)])
        repo, tag, digest = util.split_image(image)
        if waiting.get("reason") == "InvalidImageName":
            f.root_cause = f"the image reference {image!r} is not a valid image name"
            f.suggested_fix = f"correct the image of container {cname} in {wl}"
            return f
        if _AUTH.search(message):
            self._auth(snapshot, f, kind, ns, name, spec, image)
        elif _NOT_FOUND.search(message) or not message:
            self._not_found(snapshot, f, kind, ns, name, cname, image, repo, tag, digest, spec)
        elif _NET.search(message):
            f.root_cause = f"the registry of {image} cannot be reached from the node"
            f.suggested_fix = ("check the registry host name, the nodes' DNS and egress (proxy, firewall), or mirror "
                               "the image to a reachable registry")
            f.confidence = "medium"
        else:
            f.root_cause = f"pulling {image} fails"
            f.suggested_fix = "read the registry's message above and check the image reference and credentials"
            f.confidence = "low"
        return f

    def _auth(self, snapshot: Snapshot, f: Finding, kind: str, ns: str, name: str, spec: dict[str, Any],
              image: str) -> None:
        f.root_cause = f"the registry refuses to serve {image} without (valid) credentials, or the image is private"
        have = [s.get("name") for s in spec.get("imagePullSecrets") or []]
        pull_secrets = [util.name_of(s) for s in snapshot.secrets if util.ns_of(s) == ns and
                        s.get("type") in ("kubernetes.io/dockerconfigjson", "kubernetes.io/dockercfg")]
        if not have and len(pull_secrets) == 1:
            f.suggested_fix = (f"reference the pull secret {ns}/{pull_secrets[0]} in imagePullSecrets of "
                               f"{common.workload_label(kind, ns, name)}")
            f.fix = common.template_fix(kind, ns, name, {"imagePullSecrets": [{"name": pull_secrets[0]}]})
            f.confidence = "medium"
        else:
            f.suggested_fix = ("create a docker-registry Secret with credentials for the registry and list it in "
                               "imagePullSecrets" + (f" (referenced now: {', '.join(have)})" if have else "") +
                               ", or check that the repository name is right")
            f.confidence = "medium"

    def _not_found(self, snapshot: Snapshot, f: Finding, kind: str, ns: str, name: str, cname: str, image: str,
                   repo: str, tag: str, digest: str, spec: dict[str, Any]) -> None:
        wl = common.workload_label(kind, ns, name)
        if digest:
            f.root_cause = f"the digest {digest} of {repo} does not exist in the registry"
            f.suggested_fix = f"point container {cname} of {wl} at an existing tag or digest of {repo}"
            return
        siblings = _siblings(snapshot, repo, tag)
        typos = util.tag_typo_candidates(tag)
        verified = [t for t in siblings if (t in typos or util.near(t, tag))
                    and any("running" in w for w in siblings[t])]  # a running pod proves the tag exists
        verified.sort(key=lambda t: (t not in typos, util.edit_distance(t, tag)))
        f.root_cause = f"tag {tag!r} of {repo} does not exist in the registry (not found)"
        for t, where in sorted(siblings.items()):
            f.evidence.append(f"same repository, tag {t}: {', '.join(where[:3])}")
        base = image[: len(image) - len(tag) - 1] if image.endswith(":" + tag) else image
        if verified:
            good = verified[0]
            f.root_cause += f"; {good!r} of the same repository runs in this cluster and looks like what was meant"
            f.suggested_fix = f"change the image of container {cname} in {wl} from {image} to {base}:{good}"
            f.fix = common.container_fix(kind, ns, name, cname, {"image": f"{base}:{good}"}, spec)
            f.confidence = "high"
        else:
            proven = sorted(t for t, where in siblings.items() if any("running" in w for w in where))
            others = ", ".join(proven) if proven else "none seen in this cluster"
            f.suggested_fix = (f"check the tags of {repo} in its registry and set an existing one on container {cname} "
                               f"of {wl} (tags of this repository running here: {others})")
            f.confidence = "medium"
