"""Who a request runs as: the rules a principal's names must follow, and the impersonation headers that carry them.

Why here, below everything: a principal is checked where it is configured (settings, Slack links) and again
where it acts (the Kubernetes client), with one rule. A name the API server would read differently from what
kubesage recorded (blank once trimmed, padded, with control characters, not sendable as an HTTP header) is refused,
because a blank `Impersonate-User` means no impersonation at all: the call would run with kubesage's own
credentials. And every group is impersonated (one header line per group), not only the first one the official
client's header dict can hold.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

MAX_NAME = 256  # characters in a user or group name (Kubernetes user names are often e-mail addresses)
MAX_GROUPS = 64


class InvalidPrincipal(ValueError):
    """A user or group name kubesage refuses to act as; the message says which and why."""


def name_problem(name: Any) -> str | None:
    """Why `name` cannot be a user or group name, or None when it can."""
    if not isinstance(name, str):
        return f"must be a string, not {type(name).__name__}"
    if not name.strip():
        return "is blank"
    if name != name.strip():
        return "has leading or trailing whitespace (the API server would see a different name)"
    if len(name) > MAX_NAME:
        return f"is longer than {MAX_NAME} characters"
    bad = next((c for c in name if not " " <= c <= "~"), None)
    if bad is not None:
        what = "a control character" if bad < " " or bad == "\x7f" else "a non-ASCII character"
        return f"contains {what} ({ascii(bad)}), which an Impersonate-* header cannot carry"
    return None


def principal_problem(user: Any, groups: Iterable[Any]) -> str | None:
    """Why (user, groups) cannot be a principal, or None. A None user is the kubeconfig's own identity and may
    carry no groups (groups without a user cannot be impersonated)."""
    groups = list(groups)
    if user is None:
        return "groups given without a user" if groups else None
    why = name_problem(user)
    if why:
        return f"user {_shown(user)} {why}"
    if len(groups) > MAX_GROUPS:
        return f"more than {MAX_GROUPS} groups"
    for g in groups:
        why = name_problem(g)
        if why:
            return f"group {_shown(g)} of user {user} {why}"
    dup = next((g for i, g in enumerate(groups) if g in groups[:i]), None)
    if dup is not None:
        return f"group {dup} of user {user} is listed twice"
    return None


def check(user: Any, groups: Iterable[Any]) -> None:
    why = principal_problem(user, groups)
    if why:
        raise InvalidPrincipal(f"refusing to act as this principal: {why}")


def _shown(name: Any) -> str:
    return ascii(name[:40] + ("…" if len(name) > 40 else "")) if isinstance(name, str) else repr(type(name))


def install(api: Any, user: str | None, groups: tuple[str, ...]) -> None:
    """Make every request of a kubernetes `ApiClient` impersonate (user, groups): the generated APIs and raw calls
    alike. The header dict the client builds keeps one value per name, so the REST client's `request` is wrapped to
    send one `Impersonate-Group` line per group (urllib3's HTTPHeaderDict)."""
    check(user, groups)
    if user is None:
        return
    # imported here, not at the top: settings validate principals with this module, and `kubesage --help` must not
    # load urllib3 for that (issue 18)
    from urllib3 import HTTPHeaderDict

    api.set_default_header("Impersonate-User", user)
    if groups:
        api.set_default_header("Impersonate-Group", groups[0])  # for clients outside this one that read the defaults
    rest = api.rest_client
    send = rest.request

    def request(method: str, url: str, headers: Any = None, *args: Any, **kwargs: Any) -> Any:
        h = HTTPHeaderDict(dict(headers or {}))
        h.discard("Impersonate-User")
        h.discard("Impersonate-Group")
        h["Impersonate-User"] = user
        for g in groups:
            h.add("Impersonate-Group", g)
        return send(method, url, h, *args, **kwargs)

    rest.request = request
