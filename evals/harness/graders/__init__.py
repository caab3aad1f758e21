"""Grader registry: each grader is a class in its own module, registered by name with `@register`.

A grader validates its parameters when the case file loads (so a bad case fails early, naming itself) and
grades a `Trace` into a `Verdict`.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from typing import Any

from evals.harness.trace import Trace


@dataclass
class Verdict:
    passed: bool
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "detail": self.detail}


class Grader:
    """Base: subclasses set `name` and implement `grade`; `validate` raises ValueError on bad params."""

    name = ""

    @classmethod
    def validate(cls, params: Any) -> None:
        return None

    @classmethod
    def grade(cls, params: Any, trace: Trace) -> Verdict:  # pragma: no cover - abstract
        raise NotImplementedError


REGISTRY: dict[str, type[Grader]] = {}


def register(cls: type[Grader]) -> type[Grader]:
    REGISTRY[cls.name] = cls
    return cls


def grade(name: str, params: Any, trace: Trace) -> Verdict:
    """Run one grader; a grader that crashes fails with the error as its detail."""
    try:
        return REGISTRY[name].grade(params, trace)
    except Exception as e:  # noqa: BLE001 - a grading error is a failed check, reported, not a crash
        return Verdict(False, f"grader error: {type(e).__name__}: {e}")


def _load_all() -> None:
    for mod in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{mod.name}")


_load_all()
