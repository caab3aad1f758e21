"""Kubernetes resource quantities ("250m", "64Mi", "1.5G") as numbers."""

from __future__ import annotations

import re

_SUFFIX = {"": 1, "m": 1e-3, "u": 1e-6, "n": 1e-9, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18,
           "Ki": 1024, "Mi": 1024**2, "Gi": 1024**3, "Ti": 1024**4, "Pi": 1024**5, "Ei": 1024**6}
_RE = re.compile(r"^([+-]?[0-9.]+)(e[+-]?[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|m|u|n|k|M|G|T|P|E)?$")


def parse(q: object) -> float:
    """The value of a quantity; 0 for anything unparsable (validation reports those elsewhere)."""
    if isinstance(q, (int, float)) and not isinstance(q, bool):
        return float(q)
    m = _RE.match(str(q).strip())
    if not m:
        return 0.0
    value = float(m.group(1) + (m.group(2) or ""))
    return value * _SUFFIX[m.group(3) or ""]


def millicores(q: object) -> int:
    return int(round(parse(q) * 1000))


def bytes_(q: object) -> int:
    return int(parse(q))


def format_cpu(m: int) -> str:
    return f"{m}m"


def format_memory(b: int) -> str:
    return f"{b // 1024}Ki"
