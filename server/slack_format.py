"""Slack messages the bot posts: answers, approval requests with buttons, decisions, refusals.

Why escaped: answers quote cluster text (log lines, event messages), and Slack turns `<!channel>` or `<@U123>`
in a message into real pings; escaping `&`, `<`, `>` makes every quoted byte show as text. Block texts are cut to
Slack's limits so a long diff never makes the post fail.
"""

from __future__ import annotations

import json
from typing import Any

APPROVE = "kubesage_approve"
REJECT = "kubesage_reject"
SECTION_LIMIT = 3000
TEXT_LIMIT = 3900


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 20] + "\n… (truncated)"


def answer_text(answer: str) -> str:
    return _cut(escape(answer or "(no answer)"), TEXT_LIMIT)


def button_value(kthread: str, approval_id: str) -> str:
    return json.dumps({"thread": kthread, "approval": approval_id}, separators=(",", ":"))


def parse_button_value(value: str) -> tuple[str, str] | None:
    try:
        data = json.loads(value)
        thread, approval = data["thread"], data["approval"]
    except (ValueError, TypeError, KeyError):
        return None
    if not (isinstance(thread, str) and isinstance(approval, str) and thread and approval):
        return None
    return thread, approval


def _proposal_blocks(approval: dict[str, Any]) -> list[dict[str, Any]]:
    head = f"*Proposed change* (approval `{escape(str(approval.get('id')))}`): `{escape(str(approval.get('action')))}`"
    if approval.get("why"):
        head += f"\n{escape(str(approval['why']))}"
    blocks: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": _cut(head, SECTION_LIMIT)}}]
    if approval.get("dry_run_error"):
        body = f"The server's dry run refused it: {escape(str(approval['dry_run_error']))}"
    else:
        body = "```\n" + _cut(escape(approval.get("diff") or "(no change)"), SECTION_LIMIT - 10) + "\n```"
    blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": body}})
    return blocks


def approval_message(kthread: str, approval: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    """(fallback text, blocks): the dry-run diff and Approve / Reject buttons that carry thread + approval id."""
    value = button_value(kthread, str(approval.get("id")))
    buttons = [
        {"type": "button", "action_id": APPROVE, "style": "primary", "value": value,
         "text": {"type": "plain_text", "text": "Approve"}},
        {"type": "button", "action_id": REJECT, "style": "danger", "value": value,
         "text": {"type": "plain_text", "text": "Reject"}},
    ]
    blocks = _proposal_blocks(approval) + [{"type": "actions", "block_id": "kubesage_approval", "elements": buttons}]
    return f"Approval needed: {escape(str(approval.get('action')))}", blocks


def decided_message(approval: dict[str, Any] | None, decision: str, slack_user: str) -> tuple[str, list[dict[str, Any]]]:
    """The approval message once decided: same proposal, buttons replaced by who decided what."""
    verb = "Approved" if decision == "approve" else "Rejected"
    note = {"type": "context", "elements": [{"type": "mrkdwn", "text": f"{verb} by <@{escape(slack_user)}>"}]}
    blocks = (_proposal_blocks(approval) if approval else []) + [note]
    return f"{verb}: {escape(str((approval or {}).get('action', 'the proposed change')))}", blocks


def outcome_text(outcomes: list[dict[str, Any]], slack_user: str) -> str:
    lines = []
    for o in outcomes:
        action = escape(str(o.get("action")))
        if o.get("status") == "applied":
            lines.append(f"Done: {action} (approved by <@{escape(slack_user)}>).")
        elif o.get("status") == "rejected":
            lines.append(f"Not done: {action} was rejected by <@{escape(slack_user)}>; nothing changed.")
        else:
            lines.append(f"Failed: {action}: {escape(str(o.get('error')))}")
    return "\n".join(lines) or "Nothing was changed."


def not_linked(slack_user: str) -> str:
    return (f"Sorry <@{escape(slack_user)}>, I can't act for you: your Slack account is not linked to a Kubernetes "
            "identity on this kubesage server, so I have no cluster access on your behalf. "
            "An admin can link it in the `slack_users` setting.")


def not_yours(slack_user: str, asker: str) -> str:
    return (f"Sorry <@{escape(slack_user)}>, only <@{escape(asker)}> (or someone acting as the same Kubernetes "
            "identity) can approve or reject this change.")


USAGE = "Ask me about the cluster, e.g. `why is checkout crashing in shop?` or `scale web in shop to 3`."


# -- Alertmanager investigations (server/alerts.py) ----------------------------------------------------------
def _alert_title(labels: dict[str, str]) -> str:
    where = "/".join(escape(labels[k]) for k in ("namespace", "deployment", "pod", "container") if labels.get(k))
    return f"*{escape(labels.get('alertname') or 'alert')}*" + (f" ({where})" if where else "")


def alert_opened(labels: dict[str, str], annotations: dict[str, str], resolved: bool = False) -> str:
    """The thread's first message: which alert, its summary; marked once resolved."""
    summary = annotations.get("summary") or annotations.get("description") or ""
    head = "Resolved" if resolved else "Alert firing"
    tail = "" if resolved else "\nInvestigating (read-only); findings follow in this thread."
    return _cut(f"{head}: {_alert_title(labels)}" + (f": {escape(summary)}" if summary else "") + tail, TEXT_LIMIT)


def alert_finding(target: tuple[str, str], sections: list[tuple[str, str, str]]) -> str:
    """The investigation's finding: each question asked, which agent answered, and its answer with evidence."""
    parts = [f"*Finding* for {escape(target[0])} {escape(target[1])}:"]
    for question, agents, answer in sections:
        parts.append(f"_{escape(question)}_ ({escape(agents or 'no agent')})\n{escape(answer or '(no answer)')}")
    return _cut("\n\n".join(parts), TEXT_LIMIT)


def alert_resolved(labels: dict[str, str], ends_at: str, pending: bool) -> str:
    note = (" The proposed change above is still waiting: reject it if it is no longer wanted." if pending else "")
    ended = f" (ended {escape(ends_at)})" if ends_at and not ends_at.startswith("0001") else ""
    return f"Resolved: {_alert_title(labels)} is no longer firing{ended}. This investigation is closed.{note}"
