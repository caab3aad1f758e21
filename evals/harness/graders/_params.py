"""Small parameter checks shared by the graders (each raises ValueError with what is wrong)."""

from __future__ import annotations

from typing import Any


def mapping(params: Any, allowed: set[str], what: str) -> dict[str, Any]:
    if params is None:
        return {}
    if not isinstance(params, dict):
        raise ValueError(f"{what} params must be a mapping with keys {', '.join(sorted(allowed))}")
    unknown = set(params) - allowed
    if unknown:
        raise ValueError(f"unknown key(s) {', '.join(sorted(map(str, unknown)))} (known: {', '.join(sorted(allowed))})")
    return params


def str_list(value: Any, key: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str | int | float) for v in value):
        raise ValueError(f"{key} must be a list of strings")
    return [str(v) for v in value]
