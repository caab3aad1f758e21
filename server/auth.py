"""Bearer tokens → principals.

Why principals and not plain API keys: the principal (user + groups) travels into every Kubernetes call as
impersonation, into the answer-cache partition and into the audit log, so a token grants exactly the rights its
user has in the cluster, and threads and cached answers are never shared between users.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import Request

from server.errors import ApiError
from tools.k8s.client import Principal

_CHALLENGE = {"WWW-Authenticate": "Bearer"}


@dataclass(frozen=True)
class Caller:
    """Who is calling: the full principal (user and groups) keys thread ownership, approvals and the answer cache,
    so a token of the same user with fewer groups sees none of the threads a stronger one started; `via` names the
    token (by hash) in the audit log."""

    principal: Principal
    via: str | None = None

    @property
    def scope(self) -> str:
        """The principal as one unambiguous string (JSON: a group name with "," or "|" cannot alias another)."""
        return json.dumps([self.principal.user, sorted(self.principal.groups)], separators=(",", ":"))

    @property
    def owner(self) -> str:
        return self.scope


def token_id(token: str) -> str:
    """How the audit log names a token: a short hash, never the token."""
    return "api-token sha256:" + hashlib.sha256(token.encode()).hexdigest()[:8]


class TokenAuth:
    """Resolves `Authorization: Bearer <token>` against the `api_tokens` setting."""

    def __init__(self, tokens: Mapping[str, Mapping[str, Any]]) -> None:
        self._tokens = [(t.encode(), Caller(Principal(p["user"], tuple(p.get("groups") or ())), token_id(t)))
                        for t, p in tokens.items()]

    def resolve(self, authorization: str | None) -> Caller:
        if not self._tokens:
            raise ApiError(401, "unauthorized", "This server has no API tokens configured: add `api_tokens` "
                           "({token: {user, groups}}) to $KUBESAGE_HOME/config.yaml or KUBESAGE_API_TOKENS.",
                           headers=_CHALLENGE)
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(401, "unauthorized", "Send `Authorization: Bearer <token>`.", headers=_CHALLENGE)
        given = token.strip().encode()
        found = None
        for known, caller in self._tokens:  # compare with every token, in constant time each
            if hmac.compare_digest(known, given):
                found = caller
        if found is None:
            raise ApiError(401, "unauthorized", "Unknown API token.", headers=_CHALLENGE)
        return found

    async def __call__(self, request: Request) -> Caller:
        """FastAPI dependency."""
        return self.resolve(request.headers.get("authorization"))
