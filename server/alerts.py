"""Alertmanager investigations: `POST /v1/alerts` takes Alertmanager's webhook payload (version 4); each firing
alert opens one read-only investigation thread in the `alerts_slack_channel` Slack channel, and its resolution
closes that thread.

Why a thread per alert, keyed by fingerprint and start time: Alertmanager repeats a notification every
`repeat_interval` and whenever its group changes; the same alert (same fingerprint, same `startsAt`) must find the
thread it already has, never open a second one. The key is claimed in the Slack store (`claim`, atomic), and the
thread is recorded there like any Slack thread, so an approval click on its button works as for a question asked
in Slack, after a restart too. A new firing of the same alert after it resolved has a new `startsAt`: a new thread.
Why the workload is looked up: alert labels name a pod or a container (kube-state-metrics series), and the agents
answer about workloads; the pod's owner chain (ReplicaSet → Deployment) gives the name a person would use.
The investigation runs the resources, metrics and logs agents through the supervisor as the alert token's
principal: reads only; a fix the diagnosis proposes waits for an Approve click by someone acting as that principal.
"""

from __future__ import annotations

import hashlib
import logging
from concurrent.futures import Future
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from memory import tracing
from server import slack_format as fmt
from server.auth import Caller
from server.errors import ApiError
from server.slack_store import SlackThread
from tools.k8s.client import KubeError

log = logging.getLogger("kubesage.alerts")


class AlertIn(BaseModel):
    """One alert of the webhook payload (fields Alertmanager adds later are ignored)."""

    model_config = ConfigDict(extra="ignore")
    status: Literal["firing", "resolved"]
    labels: dict[str, str] = Field(max_length=64)
    annotations: dict[str, str] = Field(default_factory=dict, max_length=64)
    startsAt: str = Field("", max_length=64)  # noqa: N815 - Alertmanager's field names
    endsAt: str = Field("", max_length=64)  # noqa: N815
    fingerprint: str = Field(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z]+$")


class AlertsIn(BaseModel):
    """Alertmanager's webhook body (https://prometheus.io/docs/alerting/latest/configuration/#webhook_config)."""

    model_config = ConfigDict(extra="ignore")
    version: Literal["4"]
    status: Literal["firing", "resolved"]
    receiver: str = ""
    groupKey: str = ""  # noqa: N815
    alerts: list[AlertIn] = Field(max_length=1000)


class AlertsAccepted(BaseModel):
    """What the receiver did with each alert, by thread id: opened, already open (a repeat), closed, or ignored
    (resolved with no thread here)."""

    opened: list[str]
    repeated: list[str]
    closed: list[str]
    ignored: list[str]


def thread_key(alert: AlertIn) -> str:
    """The kubesage thread of one firing of one alert: its fingerprint and when it started."""
    return f"alert-{alert.fingerprint[:32]}-{hashlib.sha256(alert.startsAt.encode()).hexdigest()[:8]}"


# What the diagnosis asks, by words in the alert's reason label or name (first match); the reads come first.
_WHY = ((("crashloop", "restart", "oom", "crash", "backoff"), "why is {name} crashing in {ns}?"),
        (("imagepull", "errimage", "image"), "why won't {name} start in {ns}?"),
        (("unschedulable", "pending", "schedul"), "why can't {name} be scheduled in {ns}?"))
_UNHEALTHY = "why is {name} unhealthy in {ns}?"
_READS = ("describe {kind} {name} in {ns}", "how much cpu and memory does {name} use in {ns}?")
_WORKLOAD_LABELS = {"deployment": "Deployment", "statefulset": "StatefulSet", "daemonset": "DaemonSet",
                    "job_name": "Job", "cronjob": "CronJob"}  # kube-state-metrics label → kind


def questions(alert: AlertIn, kind: str, name: str) -> list[str]:
    """The investigation as questions to the agents: the object (resources), its usage (metrics), why it fails
    (logs; the one that may propose a fix)."""
    labels = alert.labels
    ns = labels.get("namespace") or "default"
    said = f"{labels.get('reason', '')} {labels.get('alertname', '')}".lower().replace("_", "")
    why = next((q for words, q in _WHY if any(w in said for w in words)), _UNHEALTHY)
    return [q.format(kind=kind.lower(), name=name, ns=ns) for q in (*_READS, why)]


def workload(kube: Any, labels: dict[str, str]) -> tuple[str, str] | None:
    """(kind, name) of the workload an alert is about: a workload label, else the owner of its pod, else of a
    pod running its container; None when the labels name none."""
    ns = labels.get("namespace")
    for label, kind in _WORKLOAD_LABELS.items():
        if labels.get(label):
            return kind, labels[label]
    if not ns:
        return None
    try:
        if labels.get("pod"):
            pod = kube.get("Pod", ns, labels["pod"])
        elif labels.get("container"):
            pod = next((p for p in kube.list("Pod", ns) if any(c.get("name") == labels["container"]
                                                                for c in p["spec"].get("containers") or [])), None)
        else:
            return None
    except KubeError:
        return None
    if pod is None:
        return None
    kind, name = "Pod", pod["metadata"]["name"]
    for _ in range(2):  # Pod → ReplicaSet → Deployment (or Job → CronJob)
        owner = next((o for o in pod["metadata"].get("ownerReferences") or [] if o.get("controller")), None)
        if owner is None:
            break
        kind, name = owner["kind"], owner["name"]
        if kind not in ("ReplicaSet", "Job"):
            break
        try:
            pod = kube.get(kind, ns, name)
        except KubeError:
            break
    return kind, name


class AlertDesk:
    """Receives notifications (quick: de-duplicate, post the thread's first message, queue) and runs the
    investigations in the Slack bot's pool."""

    def __init__(self, runtime: Any, bot: Any, channel: str) -> None:
        self.runtime, self.bot, self.channel = runtime, bot, channel
        self._jobs: dict[str, Future] = {}

    def receive(self, caller: Caller, payload: AlertsIn) -> AlertsAccepted:
        out = AlertsAccepted(opened=[], repeated=[], closed=[], ignored=[])
        for alert in payload.alerts:
            key = thread_key(alert)
            if alert.status == "firing":
                if self.bot.store.thread_by_id(key) is not None or not self.bot.store.claim(f"alert:{key}"):
                    out.repeated.append(key)
                    continue
                thread = self._open(alert, key, caller)
                if thread is None:
                    self.bot.store.release(f"alert:{key}")  # Slack refused the post: the next repeat tries again
                    raise ApiError(502, "slack_unavailable", "The alert thread could not be posted to Slack; "
                                   "Alertmanager will retry.")
                self._jobs[key] = self.bot.submit(self.investigate, alert, thread, caller,
                                                  where=(thread.channel, thread.thread_ts))
                out.opened.append(key)
            else:
                thread = self.bot.store.thread_by_id(key)
                if thread is None:
                    out.ignored.append(key)
                elif self.bot.store.claim(f"alert-closed:{key}"):
                    self.bot.submit(self.close, alert, thread, where=(thread.channel, thread.thread_ts))
                    out.closed.append(key)
                else:
                    out.repeated.append(key)
        return out

    def _open(self, alert: AlertIn, key: str, caller: Caller) -> SlackThread | None:
        resp = self.bot.post(self.channel, None, fmt.alert_opened(alert.labels, alert.annotations))
        if resp is None:
            return None
        p = caller.principal
        return self.bot.store.add_thread(SlackThread(self.channel, str(resp["ts"]), key, "alertmanager", p.user,
                                                     tuple(p.groups)))

    def investigate(self, alert: AlertIn, thread: SlackThread, caller: Caller) -> None:
        """The read-only investigation, one supervisor turn per question, in the alert's thread; the last turn's
        proposed fix (if any) is posted with the Approve / Reject buttons. One trace: its turns are children."""
        with tracing.span(f"alert {alert.labels.get('alertname', '')}", {
                "kubesage.alert.fingerprint": alert.fingerprint, "kubesage.thread_id": thread.kthread}):
            self._investigate(alert, thread, caller)

    def _investigate(self, alert: AlertIn, thread: SlackThread, caller: Caller) -> None:
        ns = alert.labels.get("namespace") or None
        found = workload(self.runtime.kube(caller.principal), alert.labels)
        if found is None:
            self.bot.post(thread.channel, thread.thread_ts, "The alert's labels name no workload I can find "
                          f"({fmt.escape(', '.join(f'{k}={v}' for k, v in sorted(alert.labels.items())))}); "
                          "nothing to investigate.")
            return
        sup, sections, result = self.runtime.supervisor, [], {}
        with self.bot._lock(thread.kthread):
            for text in questions(alert, *found):
                result = sup.start(text, caller.principal, thread.kthread, ns, via=f"alertmanager {caller.via}")
                agents = ", ".join((result.get("route") or {}).get("agents") or [])
                sections.append((text, agents, result.get("answer") or ""))
                if result.get("approval"):
                    sections[-1] = (text, agents, "\n".join(r["answer"] for r in result.get("results") or []))
                    break
        self.bot.post(thread.channel, thread.thread_ts, fmt.alert_finding(found, sections))
        if result.get("approval"):
            text, blocks = fmt.approval_message(thread.kthread, result["approval"])
            self.bot.post(thread.channel, thread.thread_ts, text, blocks)

    def close(self, alert: AlertIn, thread: SlackThread) -> None:
        """The alert resolved: after its investigation has posted, say so in the thread and mark the first message."""
        job = self._jobs.pop(thread.kthread, None)
        if job is not None:
            job.exception()  # waits; its own failure was already told in the thread
        pending = self.runtime.supervisor.pending_approval(thread.kthread)
        text = fmt.alert_resolved(alert.labels, alert.endsAt, bool(pending))
        self.bot.post(thread.channel, thread.thread_ts, text)
        self.bot._call("chat_update", channel=thread.channel, ts=thread.thread_ts,
                       text=fmt.alert_opened(alert.labels, alert.annotations, resolved=True))
