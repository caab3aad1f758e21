"""Which kinds the API serves, found at run time (built-ins and CRDs), and how a person's word names one.

Why discovery rather than a fixed table: a cluster serves whatever CRDs its operators installed; "certificates",
"cert", "Certificate" and "certificates.cert-manager.io" must all land on the same resource, exactly as kubectl
resolves them, and a kind the API does not serve must get a clear "no such resource" instead of a guess.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ResourceInfo:
    kind: str
    group: str
    version: str
    plural: str
    namespaced: bool
    singular: str = ""
    short_names: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ()

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def path(self, namespace: str | None, name: str | None = None, sub: str = "") -> str:
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            base += f"/namespaces/{namespace}"
        base += f"/{self.plural}"
        if name:
            base += f"/{name}"
        if sub:
            base += f"/{sub}"
        return base


@dataclass
class Catalog:
    """Every top-level resource the server lists in discovery, preferred versions first."""

    resources: list[ResourceInfo] = field(default_factory=list)

    def by_kind(self, kind: str) -> ResourceInfo | None:
        return next((r for r in self.resources if r.kind == kind), None)

    def names(self) -> dict[str, ResourceInfo]:
        """Every word that names a resource: kind, plural, singular, short names, plural.group."""
        out: dict[str, ResourceInfo] = {}
        for r in reversed(self.resources):  # earlier (preferred, core) entries win
            words = {r.kind.lower(), r.plural, r.singular or r.kind.lower(), *r.short_names}
            if r.group:
                words |= {f"{r.plural}.{r.group}", f"{r.kind.lower()}.{r.group}"}
            for w in words:
                out[w] = r
        return out

    def resolve(self, word: str) -> ResourceInfo | None:
        w = word.strip().lower().replace(" ", "")
        names = self.names()
        if w in names:
            return names[w]
        if w.endswith("es") and w[:-2] in names:
            return names[w[:-2]]
        if w.endswith("s") and w[:-1] in names:
            return names[w[:-1]]
        return None

    def suggest(self, word: str) -> list[str]:
        return difflib.get_close_matches(word.lower(), sorted(self.names()), n=3, cutoff=0.75)


def discover(request: Any) -> Catalog:
    """Build the catalog with `request(method, path)` (a Kube's), one call per group version."""
    resources: list[ResourceInfo] = []
    seen: set[str] = set()
    group_versions: list[tuple[str, str]] = [("", v) for v in (request("GET", "/api") or {}).get("versions", ["v1"])]
    for g in (request("GET", "/apis") or {}).get("groups") or []:
        preferred = (g.get("preferredVersion") or {}).get("version")
        versions = [v["version"] for v in g.get("versions") or []]
        for v in sorted(versions, key=lambda v: v != preferred):
            group_versions.append((g["name"], v))
    for group, version in group_versions:
        path = f"/apis/{group}/{version}" if group else f"/api/{version}"
        try:
            listing = request("GET", path) or {}
        except Exception:  # noqa: BLE001 - one broken aggregated API must not hide the rest
            continue
        for r in listing.get("resources") or []:
            if "/" in r.get("name", "") or f"{group}/{r['kind']}" in seen:
                continue
            seen.add(f"{group}/{r['kind']}")
            resources.append(ResourceInfo(r["kind"], group, version, r["name"], bool(r.get("namespaced")),
                                          r.get("singularName") or r["kind"].lower(),
                                          tuple(r.get("shortNames") or ()), tuple(r.get("verbs") or ())))
    return Catalog(resources)


_WORD = re.compile(r"[a-z][a-z0-9.-]*")


def kinds_in(text: str, catalog: Catalog) -> list[ResourceInfo]:
    """The resources a sentence names, in the order it names them ("config maps" and "network policy" included)."""
    low = text.lower()
    for two in ("config map", "network polic", "service account", "role binding", "cluster role", "stateful set",
                "daemon set", "replica set", "cron job", "persistent volume claim", "persistent volume",
                "storage class", "pod disruption budget", "horizontal pod autoscaler", "ingress class"):
        low = re.sub(rf"\b{two}", two.replace(" ", ""), low)
    out: list[ResourceInfo] = []
    for w in _WORD.findall(low):
        r = catalog.resolve(w.rstrip("."))
        if r is not None and r not in out:
            out.append(r)
    return out
