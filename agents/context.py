"""What every domain agent gets: the Kubernetes connection as the principal, the resolved entities, the text."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from agents.entities import Entities, extract, subjects_in
from tools.k8s.client import Kube, KubeError
from tools.k8s.kinds import TARGETS


@dataclass
class AgentContext:
    kube: Kube
    text: str
    entities: Entities
    llm: Any = None  # the gateway (optional): used for wording, never for facts
    known: frozenset[str] = frozenset()  # every object, namespace, service account and user name seen: words that name
    no_loop: bool = False  # set while other agents are asked for a reading (supervisor._elsewhere): no model loop

    @property
    def namespace(self) -> str | None:
        return self.entities.namespace


# Words after "in" that name no namespace ("in the shop namespace", "in my team", "in order to")
_NO_NAMESPACE = frozenset("""the a an my our your their this that it its order case general fact short total addition
    any all every each some which what there here""".split())


def build_context(kube: Kube, text: str, default_ns: str | None = None, llm: Any = None) -> AgentContext:
    """Resolve names in the text against what the principal can list."""
    names: dict[str, list[tuple[str, str]]] = {}
    namespaces: list[str] = []
    sas: list[tuple[str, str]] = []
    users: set[str] = set()
    cluster_wide = True
    try:
        namespaces = [n["metadata"]["name"] for n in kube.list("Namespace")]
    except KubeError as e:
        if e.status == 0:  # the API is not reachable: say so, never answer as if the cluster were empty
            raise
        # Without the right to list namespaces, trust the names the person gave ("in shop", "-n shop").
        cluster_wide = False
        named = [n for m in re.findall(r"(?:\bin|\bnamespace|\bns|-n)\s+(?:the\s+)?([a-z0-9][a-z0-9-]*)|"
                                       r"\b([a-z0-9][a-z0-9-]*)\s+(?:namespace|ns)\b", text.lower())
                 for n in m if n and n not in _NO_NAMESPACE]
        namespaces = list(dict.fromkeys(named + ([default_ns] if default_ns else [])))
    for kind in TARGETS:
        names[kind] = []
        for ns in ([None] if cluster_wide else namespaces):
            try:
                names[kind] += [(o["metadata"].get("namespace", ""), o["metadata"]["name"]) for o in kube.list(kind, ns)]
            except KubeError:
                if cluster_wide:
                    for ns2 in namespaces:
                        try:
                            names[kind] += [(o["metadata"].get("namespace", ""), o["metadata"]["name"])
                                            for o in kube.list(kind, ns2)]
                        except KubeError:
                            continue
    try:
        sas = [(o["metadata"]["namespace"], o["metadata"]["name"]) for o in kube.list("ServiceAccount")]
    except KubeError:
        pass
    for kind in ("RoleBinding", "ClusterRoleBinding"):
        try:
            for b in kube.list(kind):
                users.update(s.get("name", "") for s in b.get("subjects") or [] if s.get("kind") == "User")
        except KubeError:
            pass
    users.update(subjects_in(text))  # a person no binding names yet ("can dana read pods?"): found by grammar
    from agents.residue import told_counts_dropped

    # a count the person only tells ("it's currently at 2") is never the request's number
    ents = extract(told_counts_dropped(text), names, namespaces, sas, sorted(users), default_ns)
    known = frozenset(n.lower() for found in names.values() for _, n in found) | frozenset(
        n.lower() for n in namespaces) | frozenset(n.lower() for _, n in sas) | frozenset(u.lower() for u in users)
    return AgentContext(kube, text, ents, llm, known)
