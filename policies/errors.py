"""Errors of the policies room.

Why one exception type with a JSON path: a malformed policy or spec must reach the person as one line that
says where the problem is (`$.Statement[1].Condition.IpAddress.aws:SourceIp[0]`) and what is wrong, never as
a traceback. Every parser in this room raises `PolicyError`; callers print `str(error)`.
"""

from __future__ import annotations


class PolicyError(ValueError):
    """A policy (or spec) document that cannot be used. `path` is a JSON path into the document."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        self.message = message
        super().__init__(f"{path}: {message}" if path else message)


class SpecError(PolicyError):
    """A spec file (`{"requests": [...]}`) that cannot be used."""


class UnsupportedError(PolicyError):
    """A construct the Z3 encoding cannot express exactly (the concrete evaluator still handles it).

    Raised instead of silently approximating, so that a proof is never claimed for something not modelled.
    """
