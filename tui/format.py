"""Plain-text renderings of supervisor events for the TUI's side panel.

Why apart from the widgets: what the person reads about a route, a Kubernetes call or the model's work is decided
here, as pure functions, so it can be tested without a terminal and reused by other text interfaces.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

NO_LLM = "no LLM calls"


def route_text(ev: dict[str, Any]) -> str:
    """The route event as a few lines: which agents, how sure the router was, and how it decided."""
    agents = ", ".join(ev.get("agents") or []) or "(none)"
    lines = [f"agents: {agents}"]
    conf, margin = ev.get("confidence"), ev.get("margin")
    if isinstance(conf, int | float):
        lines.append(f"confidence: {conf:.2f}" + (f" (margin {margin:.2f})" if isinstance(margin, int | float) else ""))
    if ev.get("method"):
        lines.append(f"method: {ev['method']}")
    if ev.get("unsupported"):
        lines.append(f"not available: {', '.join(ev['unsupported'])}")
    return "\n".join(lines)


def call_title(ev: dict[str, Any]) -> str:
    """One line per Kubernetes call: method, path, status (0 means no response came back)."""
    status = ev.get("status")
    return f"{ev.get('method', '?')} {ev.get('path', '?')} → {status if status else 'no response'}"


def call_detail(ev: dict[str, Any]) -> str:
    """What a collapsed call hides: the agent that made it, its query arguments and the result status."""
    query = ev.get("query") or {}
    lines = [f"agent: {ev.get('agent', '?')}", f"{ev.get('method', '?')} {ev.get('path', '?')}"]
    if query:
        lines += [f"  {k}={v}" for k, v in query.items()]
    else:
        lines.append("  (no query arguments)")
    status = ev.get("status") or 0
    verdict = "ok" if 200 <= status < 300 else "no response" if status == 0 else "error"
    lines.append(f"status: {status} ({verdict})")
    return "\n".join(lines)


def outcome_text(ev: dict[str, Any]) -> str:
    """An approval's outcome in one line."""
    text = f"{ev.get('status', '?')}: {ev.get('action', '?')}"
    return text + (f" ({ev['error']})" if ev.get("error") else "")


def llm_snapshot(llm: Any) -> dict[str, int] | None:
    """The gateway's per-(served_by/category) call counters, or None when no gateway is wired in."""
    metrics = getattr(getattr(llm, "gateway", None), "metrics", None)
    if metrics is None or not hasattr(metrics, "snapshot"):
        return None
    return dict(metrics.snapshot().get("requests") or {})


def llm_usage(before: dict[str, int] | None, after: dict[str, int] | None) -> str:
    """Who served the LLM calls made between two snapshots (cache-exact / cache-semantic / local / cloud)."""
    if after is None:
        return NO_LLM
    before = before or {}
    lines = [f"{key}: {n - before.get(key, 0)}" for key, n in sorted(after.items()) if n - before.get(key, 0) > 0]
    return "\n".join(lines) if lines else NO_LLM


def kube_contexts(kubeconfig: str | Path | None) -> tuple[list[str], str | None]:
    """The kubeconfig's context names and its current-context; empty when the file cannot be read."""
    if not kubeconfig:
        return [], None
    try:
        cfg = yaml.safe_load(Path(kubeconfig).read_text()) or {}
    except (OSError, yaml.YAMLError):
        return [], None
    names = [c["name"] for c in cfg.get("contexts") or [] if isinstance(c, dict) and c.get("name")]
    return names, cfg.get("current-context")


def error_text(exc: BaseException) -> str:
    """A one-line message for an exception that reached the interface (never a traceback)."""
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    first = str(message).strip().splitlines()[0] if str(message).strip() else type(exc).__name__
    return f"Something went wrong: {first}"
