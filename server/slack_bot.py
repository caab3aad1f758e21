"""The Slack bot's work: who is asking, which kubesage thread a Slack thread is, running turns and decisions in the
background, and posting answers, approvals and outcomes back in the thread through the Slack Web API.

Why a background pool: Slack wants an HTTP answer within 3 seconds and a diagnosis can take longer, so every route
only validates, de-duplicates and queues; the work posts its result through `chat.postMessage` when done.
Why principals here: each Slack user acts as the Kubernetes identity `slack_users` links them to. Unlinked users
get a polite refusal and no cluster access at all, unless an admin configured a `"*"` entry (a deliberate default
principal); approvals can only be decided by someone acting as the same identity as the asker.
"""

from __future__ import annotations

import html
import json
import logging
import os
import re
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from server import slack_format as fmt
from server.slack_store import SlackStore, SlackThread
from tools.k8s.client import KubeError, Principal
from tools.k8s.identity import principal_problem

log = logging.getLogger("kubesage.slack")
DEFAULT_API_URL = "https://slack.com/api/"
WILDCARD = "*"


def parse_users(raw: Any) -> dict[str, Principal]:
    """`{slack_user_id: {"user": str, "groups": [str]}}` (or a JSON string of it) → principals. Entries without a
    valid principal (tools/k8s/identity.py) are skipped with a warning: an empty entry must never mean "act as the
    kubeconfig's own identity"."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw) if raw.strip() else {}
        except ValueError:
            log.warning("slack_users is not valid JSON; no Slack user is linked")
            return {}
    out: dict[str, Principal] = {}
    for slack_id, entry in (raw or {}).items() if isinstance(raw, dict) else ():
        user = entry.get("user") if isinstance(entry, dict) else entry
        groups = entry.get("groups") or () if isinstance(entry, dict) else ()
        why = principal_problem(user, groups) if isinstance(groups, list | tuple) and user is not None else \
            "no user name"
        why = why or (None if str(slack_id).strip() == str(slack_id) and str(slack_id) else "a blank or padded id")
        if why:  # the settings loader refuses these at start; a raw mapping handed in here is checked the same way
            log.warning("slack_users[%r] is not linked: %s", slack_id, why)
            continue
        out[str(slack_id)] = Principal(user, tuple(groups))
    return out


_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")
_LINK = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|([^>]*))?>")


def clean_text(text: str) -> str:
    """A Slack message as the person typed it: bot mentions removed, links to their label, entities decoded."""
    text = _MENTION.sub(" ", text or "")
    text = _LINK.sub(lambda m: m.group(2) or m.group(1), text)
    return " ".join(html.unescape(text).split())


class SlackBot:
    def __init__(self, runtime: Any, settings: Any, *, token: str | None = None, workers: int = 4) -> None:
        self.runtime = runtime
        stores = getattr(runtime, "stores", None)  # the replicas' shared database when configured
        self.store = stores.slack() if stores is not None else SlackStore(settings.home / "slack.sqlite")
        self.users = parse_users(getattr(settings, "slack_users", None))
        base_url = getattr(settings, "slack_api_url", "") or DEFAULT_API_URL
        self.client = WebClient(token=token or os.environ.get("KUBESAGE_SLACK_BOT_TOKEN") or "xoxb-test",
                                base_url=base_url, timeout=15)
        self.pool = ThreadPoolExecutor(workers, thread_name_prefix="kubesage-slack")
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._jobs: list[Future] = []

    # -- identities ---------------------------------------------------------------------------------
    def principal_for(self, slack_user: str | None) -> Principal | None:
        if not slack_user:
            return None
        return self.users.get(slack_user) or self.users.get(WILDCARD)

    def _lock(self, kthread: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(kthread, threading.Lock())

    def submit(self, fn: Callable[..., Any], *args: Any, where: tuple[str, str | None]) -> Future:
        """Run `fn` in the pool; a failure is logged and told in one line (never a traceback) at `where`
        (channel, thread ts)."""
        def guarded() -> None:
            try:
                fn(*args)
            except Exception as e:  # noqa: BLE001 - the person gets one line; the log gets the details
                log.exception("slack job %s failed", getattr(fn, "__name__", fn))
                channel, thread_ts = where
                msg = e.message if isinstance(e, KubeError) else f"{type(e).__name__}: {e}"
                self.post(channel, thread_ts, f"Sorry, I could not finish: {fmt.escape(msg)[:500]}")
        future = self.pool.submit(guarded)
        with self._locks_guard:
            self._jobs = [f for f in self._jobs if not f.done()] + [future]
        return future

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait for every job queued so far (graceful shutdown, tests); False if some are still running."""
        with self._locks_guard:
            jobs = list(self._jobs)
        _, not_done = wait(jobs, timeout=timeout)
        return not not_done

    # -- requests (quick: validate, de-duplicate, queue) --------------------------------------------
    def on_event(self, payload: dict[str, Any]) -> dict[str, Any]:
        if payload.get("type") == "url_verification":
            return {"challenge": payload.get("challenge")}
        if payload.get("type") != "event_callback":
            return {"ok": True}
        event_id = payload.get("event_id")
        if event_id and not self.store.claim(f"event:{event_id}"):
            return {"ok": True}  # a Slack retry of an event we already took
        ev = payload.get("event") or {}
        if ev.get("bot_id") or ev.get("subtype") or not ev.get("channel") or not ev.get("ts"):
            return {"ok": True}  # our own posts, edits, joins: never answered (no loops)
        channel, ts, thread_ts = str(ev["channel"]), str(ev["ts"]), ev.get("thread_ts")
        if ev.get("type") == "app_mention":
            root = str(thread_ts or ts)
        elif ev.get("type") == "message" and thread_ts and self.store.thread_for(channel, str(thread_ts)):
            root = str(thread_ts)
        else:
            return {"ok": True}
        # A mention in a thread arrives as both `app_mention` and `message`: whichever comes first answers it.
        if self.store.claim(f"msg:{channel}:{ts}"):
            self.submit(self.converse, channel, root, str(ev.get("user") or ""), clean_text(ev.get("text", "")),
                        where=(channel, root))
        return {"ok": True}

    def on_command(self, form: dict[str, str]) -> dict[str, Any]:
        user, channel, text = form.get("user_id", ""), form.get("channel_id", ""), clean_text(form.get("text", ""))
        if self.principal_for(user) is None:
            return {"response_type": "ephemeral", "text": fmt.not_linked(user)}
        if not text or not channel:
            return {"response_type": "ephemeral", "text": fmt.USAGE}
        self.submit(self._command, channel, user, text, where=(channel, None))
        return {"response_type": "ephemeral", "text": "Working on it: I'll answer in a thread in this channel."}

    def on_interaction(self, payload: dict[str, Any]) -> dict[str, Any]:
        if payload.get("type") != "block_actions":
            return {}
        user = str((payload.get("user") or {}).get("id") or "")
        channel = str((payload.get("channel") or {}).get("id") or (payload.get("container") or {}).get("channel_id") or "")
        message = payload.get("message") or {}
        message_ts = str(message.get("ts") or (payload.get("container") or {}).get("message_ts") or "")
        for action in payload.get("actions") or []:
            if action.get("action_id") not in (fmt.APPROVE, fmt.REJECT):
                continue
            parsed = fmt.parse_button_value(str(action.get("value") or ""))
            if parsed is None:
                continue
            decision = "approve" if action["action_id"] == fmt.APPROVE else "reject"
            thread_ts = str(message.get("thread_ts") or message_ts)
            self.submit(self.decide, channel, thread_ts, user, parsed[0], parsed[1], decision, message_ts,
                        where=(channel, thread_ts))
            break
        return {}

    # -- background work ----------------------------------------------------------------------------
    def _command(self, channel: str, user: str, text: str) -> None:
        resp = self.post(channel, None, f"<@{fmt.escape(user)}> asked: {fmt.escape(text)}")
        if resp is None:
            return
        self.converse(channel, str(resp["ts"]), user, text)

    def converse(self, channel: str, root_ts: str, slack_user: str, text: str) -> None:
        """One turn in the kubesage thread that serves this Slack thread, answered in that Slack thread."""
        principal = self.principal_for(slack_user)
        if principal is None:
            self.post(channel, root_ts, fmt.not_linked(slack_user))
            return
        if not text:
            self.post(channel, root_ts, fmt.USAGE)
            return
        t = self.store.thread_for(channel, root_ts) or self.store.add_thread(SlackThread(
            channel, root_ts, f"slack-{uuid.uuid4().hex[:16]}", slack_user, principal.user, principal.groups))
        supervisor = self.runtime.supervisor
        with self._lock(t.kthread):
            pending = supervisor.pending_approval(t.kthread)
            if pending:
                self.post(channel, root_ts, f"This thread is waiting for a decision on `{fmt.escape(str(pending.get('action')))}`:"
                          " use the buttons above first (or ask in a new thread).")
                return
            if (t.slack_user, t.user, t.groups) != (slack_user, principal.user, principal.groups):
                self.store.set_asker(t.kthread, slack_user, principal)  # approvals go to whoever asked last
            result = supervisor.start(text, principal, t.kthread, via=f"slack {slack_user}")
        self._post_result(t.kthread, channel, root_ts, result)

    def decide(self, channel: str, thread_ts: str, slack_user: str, kthread: str, approval_id: str,
               decision: str, message_ts: str) -> None:
        """An Approve/Reject click: only someone acting as the asker's identity may decide, and only once."""
        t = self.store.thread_by_id(kthread)
        if t is None:
            self.post(channel, thread_ts or None, "I don't know that approval (it was not asked through this server).")
            return
        clicker = self.principal_for(slack_user)
        if clicker is None or clicker != Principal(t.user, t.groups):
            self.post(t.channel, t.thread_ts, fmt.not_yours(slack_user, t.slack_user))
            return
        supervisor = self.runtime.supervisor
        with self._lock(kthread):
            pending = supervisor.pending_approval(kthread)
            if not pending or pending.get("id") != approval_id or \
                    not self.store.claim(f"decision:{t.channel}:{message_ts or approval_id}"):
                self.post(t.channel, t.thread_ts, "That change is no longer waiting for a decision "
                          "(it was already approved or rejected).")
                return
            result = supervisor.resume(kthread, decision, by=clicker)
        if message_ts:
            text, blocks = fmt.decided_message(pending, decision, slack_user)
            self._call("chat_update", channel=t.channel, ts=message_ts, text=text, blocks=blocks)
        new = [o for o in result.get("outcomes") or [] if o.get("approval_id") == approval_id]
        self.post(t.channel, t.thread_ts, fmt.outcome_text(new, slack_user))
        if result.get("approval"):
            text, blocks = fmt.approval_message(kthread, result["approval"])
            self.post(t.channel, t.thread_ts, text, blocks)

    def _post_result(self, kthread: str, channel: str, root_ts: str, result: dict[str, Any]) -> None:
        answer = result.get("answer")
        if result.get("approval"):
            # Paused for an approval, the turn has no final answer yet: what its agents found is the answer so far
            # (the state's `answer` may still hold the previous turn's).
            answer = "\n".join(r["answer"] for r in result.get("results") or [] if r.get("answer")) or answer
        if answer:
            self.post(channel, root_ts, fmt.answer_text(answer))
        if result.get("approval"):
            text, blocks = fmt.approval_message(kthread, result["approval"])
            self.post(channel, root_ts, text, blocks)

    # -- Slack Web API --------------------------------------------------------------------------------
    def post(self, channel: str, thread_ts: str | None, text: str,
             blocks: list[dict[str, Any]] | None = None) -> Any:
        return self._call("chat_postMessage", channel=channel, thread_ts=thread_ts, text=text, blocks=blocks)

    def _call(self, method: str, **kwargs: Any) -> Any:
        try:
            return getattr(self.client, method)(**{k: v for k, v in kwargs.items() if v is not None})
        except SlackApiError as e:
            log.warning("Slack %s failed: %s", method, e.response.get("error") if e.response else e)
        except Exception as e:  # noqa: BLE001 - network errors: logged, the turn itself already finished
            log.warning("Slack %s failed: %s: %s", method, type(e).__name__, e)
        return None

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=False)
