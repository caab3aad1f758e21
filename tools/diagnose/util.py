"""Small helpers the checks share: quoting cluster text safely, quantities, labels, owners, images, names.

Everything read from the cluster is data. `quote()` is the one way a piece of it enters a Finding: control
characters and ANSI escapes are stripped and the line is cut to `MAX_EVIDENCE` characters. Nothing here
interprets what a log line or an event message *says* beyond matching fixed patterns.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

# The object and quantity helpers the checks call as util.X live in the one Kubernetes vocabulary.
from tools.k8s.objects import (  # noqa: F401 - re-exported for the checks
    Mi,
    bytes_,
    condition,
    container_statuses,
    fmt_cpu,
    fmt_mem,
    label_selector_matches,
    millicores,
    parse_quantity,
    selector_matches,
)

MAX_EVIDENCE = 300
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-_]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


# ---- quoting ----------------------------------------------------------------------------------------------
def clean(text: Any) -> str:
    """One line of text with ANSI escapes and control characters removed (tabs and newlines become spaces)."""
    s = _ANSI.sub("", str(text))
    s = s.replace("\t", " ").replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
    return _CONTROL.sub("", s)


def quote(text: Any, limit: int = MAX_EVIDENCE) -> str:
    """`clean()` and cut to `limit` characters (an ellipsis marks the cut)."""
    s = clean(text).rstrip()
    return s if len(s) <= limit else s[: limit - 1] + "…"


def pow2_mi(b: float) -> int:
    """The smallest power-of-two number of MiB that holds `b` bytes, in bytes."""
    mib = max(1.0, b / Mi)
    return int(2 ** math.ceil(math.log2(mib))) * Mi


# ---- object access ------------------------------------------------------------------------------------
def meta(obj: dict[str, Any]) -> dict[str, Any]:
    return obj.get("metadata") or {}


def name_of(obj: dict[str, Any]) -> str:
    return meta(obj).get("name", "")


def ns_of(obj: dict[str, Any]) -> str:
    return meta(obj).get("namespace", "") or ""


def ref(kind: str, namespace: str, name: str) -> str:
    """A stable textual reference: 'Deployment/shop/checkout' (cluster-scoped: 'Node//sandbox-worker-1')."""
    return f"{kind}/{namespace}/{name}"


def containers(pod_spec: dict[str, Any]) -> list[dict[str, Any]]:
    return list(pod_spec.get("containers") or [])


def container_spec(pod: dict[str, Any], name: str) -> dict[str, Any]:
    spec = pod.get("spec") or {}
    for c in list(spec.get("containers") or []) + list(spec.get("initContainers") or []):
        if c.get("name") == name:
            return c
    return {}


def describe_state(cs: dict[str, Any], which: str = "state") -> str:
    """'waiting: CrashLoopBackOff (back-off 160s ...)' / 'terminated: OOMKilled, exit code 137' from a status."""
    st = cs.get(which) or {}
    if "waiting" in st:
        w = st["waiting"] or {}
        msg = f" ({w['message']})" if w.get("message") else ""
        return f"waiting: {w.get('reason', '')}{msg}"
    if "terminated" in st:
        t = st["terminated"] or {}
        parts = [f"terminated: {t.get('reason', '')}", f"exit code {t.get('exitCode')}"]
        if t.get("signal"):
            parts.append(f"signal {t['signal']}")
        if t.get("finishedAt"):
            parts.append(f"finished {t['finishedAt']}")
        if t.get("message"):
            parts.append(str(t["message"]))
        return ", ".join(parts)
    if "running" in st:
        return f"running since {(st['running'] or {}).get('startedAt', '?')}"
    return "no state"


# ---- names and strings ------------------------------------------------------------------------------
def edit_distance(a: str, b: str, cap: int = 8) -> int:
    """Damerau-Levenshtein (optimal string alignment) distance, cut off at `cap`."""
    if a == b:
        return 0
    if abs(len(a) - len(b)) > cap:
        return cap + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]


def near(a: str, b: str) -> bool:
    """Two label values or names that look like a typo of each other (order/orders, api-v1/api-v2 excluded)."""
    if a == b or not a or not b:
        return False
    la, lb = a.lower(), b.lower()
    if la == lb:
        return True
    if la.rstrip("s") == lb.rstrip("s") or la.replace("-", "").replace("_", "") == lb.replace("-", "").replace("_", ""):
        return True
    # a differing trailing digit is usually a different thing (v1/v2), not a typo
    if len(la) == len(lb) and la[:-1] == lb[:-1] and la[-1].isdigit() and lb[-1].isdigit():
        return False
    return edit_distance(la, lb, 3) <= (1 if min(len(la), len(lb)) <= 5 else 2)


ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


def dns_name(*parts: str, limit: int = 63) -> str:
    """Join parts into a DNS-1123 label ('orders', 'configmap-reader' -> 'orders-configmap-reader')."""
    s = "-".join(p for p in parts if p).lower()
    s = re.sub(r"[^a-z0-9-]+", "-", s).strip("-")
    return s[:limit].rstrip("-") or "kubesage"


# ---- images ------------------------------------------------------------------------------------------
def split_image(image: str) -> tuple[str, str, str]:
    """(repository, tag, digest) with the repository normalised ('nginx' -> 'docker.io/library/nginx')."""
    digest = ""
    if "@" in image:
        image, digest = image.split("@", 1)
    tag = ""
    last = image.rsplit("/", 1)[-1]
    if ":" in last:
        image, tag = image.rsplit(":", 1)
    parts = image.split("/")
    if len(parts) == 1:
        repo = f"docker.io/library/{image}"
    elif "." not in parts[0] and ":" not in parts[0] and parts[0] != "localhost":
        repo = f"docker.io/{image}"
    else:
        repo = image
    return repo, tag or ("" if digest else "latest"), digest


def tag_typo_candidates(tag: str) -> list[str]:
    """Plausible intended tags for a mistyped version tag: a doubled character removed (1.277 -> 1.27),
    a doubled dot collapsed, a stray trailing character dropped, a leading 'v' toggled."""
    out: list[str] = []
    for i in range(1, len(tag)):
        if tag[i] == tag[i - 1]:
            out.append(tag[:i] + tag[i + 1:])
    if tag and not tag[-1].isalnum():
        out.append(tag[:-1])
    if tag.startswith("v") and len(tag) > 1 and tag[1].isdigit():
        out.append(tag[1:])
    seen: list[str] = []
    for c in out:
        if c and c != tag and c not in seen and re.match(r"^v?\d+(\.\d+)*([-.][\w.]+)?$", c):
            seen.append(c)
    return seen


def first(items: Iterable[Any], default: Any = None) -> Any:
    return next(iter(items), default)
