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

MAX_EVIDENCE = 300
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-_]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")

Mi = 1024 * 1024


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


# ---- quantities ---------------------------------------------------------------------------------------
_SUFFIX = {
    "n": 1e-9, "u": 1e-6, "m": 1e-3, "": 1.0, "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15,
    "E": 1e18, "Ki": 2.0 ** 10, "Mi": 2.0 ** 20, "Gi": 2.0 ** 30, "Ti": 2.0 ** 40, "Pi": 2.0 ** 50, "Ei": 2.0 ** 60,
}
_QTY = re.compile(r"^\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*(Ki|Mi|Gi|Ti|Pi|Ei|[numkKMGTPE]?)\s*$")


def parse_quantity(q: Any) -> float | None:
    """A Kubernetes quantity ('100m', '2Gi', '1917000000n', 4) as a float in base units; None if unparseable."""
    if q is None:
        return None
    if isinstance(q, int | float):
        return float(q)
    m = _QTY.match(str(q))
    if not m:
        return None
    return float(m.group(1)) * _SUFFIX[m.group(2)]


def millicores(q: Any) -> int | None:
    v = parse_quantity(q)
    return None if v is None else int(round(v * 1000))


def bytes_(q: Any) -> int | None:
    v = parse_quantity(q)
    return None if v is None else int(round(v))


def fmt_cpu(m: int | float) -> str:
    """Millicores as a quantity: 1500 -> '1500m', 2000 -> '2'."""
    m = int(m)
    return str(m // 1000) if m % 1000 == 0 and m > 0 else f"{m}m"


def fmt_mem(b: int | float) -> str:
    """Bytes as a binary quantity: whole Gi when exact, else Mi (rounded up)."""
    b = int(b)
    if b >= 2 ** 30 and b % 2 ** 30 == 0:
        return f"{b // 2 ** 30}Gi"
    return f"{math.ceil(b / Mi)}Mi"


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


def container_statuses(pod: dict[str, Any]) -> list[dict[str, Any]]:
    st = pod.get("status") or {}
    return list(st.get("initContainerStatuses") or []) + list(st.get("containerStatuses") or [])


def condition(obj: dict[str, Any], ctype: str) -> dict[str, Any] | None:
    for c in (obj.get("status") or {}).get("conditions") or []:
        if c.get("type") == ctype:
            return c
    return None


def selector_matches(selector: dict[str, str] | None, labels: dict[str, str] | None) -> bool:
    """A Service-style equality selector (an empty selector matches nothing here)."""
    if not selector:
        return False
    labels = labels or {}
    return all(labels.get(k) == v for k, v in selector.items())


def label_selector_matches(sel: dict[str, Any] | None, labels: dict[str, str] | None) -> bool:
    """A metav1.LabelSelector (matchLabels + matchExpressions)."""
    if not sel:
        return False
    labels = labels or {}
    if any(labels.get(k) != v for k, v in (sel.get("matchLabels") or {}).items()):
        return False
    for e in sel.get("matchExpressions") or []:
        key, op, vals = e.get("key"), e.get("operator"), e.get("values") or []
        if op == "In" and labels.get(key) not in vals:
            return False
        if op == "NotIn" and labels.get(key) in vals:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


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
