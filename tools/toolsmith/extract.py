"""Deterministic plan extraction: request text → plan, with no model, or None when the text says more than the
rules understand.

Why rules first: most ad-hoc questions ("cronjobs in batch that have not run for a day", "pods without memory
limits", "count pods per node") are one kind, a namespace and a few well-known conditions. Matching those with
phrases, checked against the catalog, is instant, free and exact. Precision matters more than reach: every word
the rules did not account for (`_residue`) sends the request on to the model, so a condition the rules do not know
is never silently dropped (which would answer a different question).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from tools.k8s.kinds import REPLICATED

NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
           "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30, "ninety": 90,
           "a couple of": 2, "a few": 3, "several": 3, "once": 1, "twice": 2, "thrice": 3}
UNITS = {"w": "w", "week": "w", "weeks": "w", "d": "d", "day": "d", "days": "d", "h": "h", "hr": "h", "hrs": "h",
         "hour": "h", "hours": "h", "m": "m", "min": "m", "mins": "m", "minute": "m", "minutes": "m", "s": "s",
         "sec": "s", "secs": "s", "second": "s", "seconds": "s", "month": "d30", "months": "d30", "year": "d365",
         "years": "d365"}
NUM = r"(\d+(?:\.\d+)?|a couple of|a few|several|an|a|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|" \
      r"fifteen|twenty|thirty|ninety)"
UNIT = r"(weeks?|days?|hours?|hrs?|minutes?|mins?|seconds?|secs?|months?|years?|[wdhms])\b"
DUR = NUM + r"\s*-?\s*" + UNIT
BYTES = {"b": 1, "byte": 1, "bytes": 1, "kb": 1000, "kib": 1024, "kilobyte": 1000, "kilobytes": 1000, "k": 1024,
         "mb": 1000 ** 2, "mib": 1024 ** 2, "megabyte": 1000 ** 2, "megabytes": 1000 ** 2, "m": 1024 ** 2}
POD_SPEC = {"Pod": "spec.", "Deployment": "spec.template.spec.", "StatefulSet": "spec.template.spec.",
            "DaemonSet": "spec.template.spec.", "ReplicaSet": "spec.template.spec.", "Job": "spec.template.spec.",
            "CronJob": "spec.jobTemplate.spec.template.spec.", "ReplicationController": "spec.template.spec.",
            "PodTemplate": "template.spec."}
STOP = set("""a an the all any every each some of in on at to for from by with within across and or is are was were be been
being do does did which what who whose where list show me give get find display tell print return i we you my our your
there their them it its that those these this please can could would will currently right now cluster kubernetes k8s
namespace namespaces ns have has having whole entire overall everything everywhere see only just names name how many
much count number total also still yet whether ones one has"""
           .split())
DEFAULT_PROJECT = {
    "Pod": ["spec.nodeName", "status.phase"], "Deployment": ["spec.replicas", "status.readyReplicas"],
    "StatefulSet": ["spec.replicas", "status.readyReplicas"], "Service": ["spec.type"], "Secret": ["type"],
    "PersistentVolumeClaim": ["status.phase"], "CronJob": ["spec.schedule", "status.lastScheduleTime"],
    "Job": ["status.completionTime"], "Event": ["reason", "message"], "PersistentVolume": ["status.phase"],
}


def _n(word: str) -> float:
    w = word.strip().lower()
    return float(NUMBERS[w]) if w in NUMBERS else float(w)


def duration(num: str, unit: str) -> str:
    """"two" "days" → "2d"; months and years become days."""
    n = _n(num)
    u = UNITS[unit.lower()]
    if u.startswith("d") and len(u) > 1:
        n, u = n * int(u[1:]), "d"
    return f"{int(n) if n == int(n) else n}{u}"


@dataclass
class Extraction:
    """What the rules made of a request: a plan (None when they could not), and why not."""

    plan: dict[str, Any] | None
    reason: str = ""
    kind: str | None = None
    namespace: str | None = None
    residue: list[str] = field(default_factory=list)


class _State:
    def __init__(self, text: str, kind: str) -> None:
        self.text = text
        self.kind = kind
        self.spans: list[tuple[int, int]] = []
        self.filters: list[dict[str, Any]] = []
        self.project: list[str] = []
        self.selector: list[str] = []
        self.sort_by: str | None = None
        self.limit: int | None = None
        self.aggregate: str | None = None

    def used(self, m: re.Match[str]) -> None:
        self.spans.append(m.span())

    def add(self, m: re.Match[str], path: str, op: str, value: Any = None, **extra: Any) -> None:
        self.used(m)
        f: dict[str, Any] = {"field": path, "op": op}
        if value is not None:
            f["value"] = value
        f.update(extra)
        if f not in self.filters:
            self.filters.append(f)


# Requests that need more than one kind or a relation between objects: a plan cannot say them.
JOINS = re.compile(
    r"\b(?:not|never|isn't|aren't)\s+(?:\w+\s+)?(?:used|referenced|mounted|selected|matched|consumed|bound to any|"
    r"attached)\b|\bno\s+(?:pods?|workloads?|deployments?|services?)\s+(?:use|uses|mount|mounts|reference|select|"
    r"tolerates?)|\bmatch(?:es|ing)?\s+no\b|\bthat\s+no\s+\w+\b|\bcontain(?:s|ing)?\s+no\b|\bpoint(?:s|ing)?\s+at\b|"
    r"\bdo(?:es)?\s+not\s+exist\b|\bsame\s+node\b|\bwith\s+no\s+(?:matching\s+)?(?:pods|deployments|endpoints|"
    r"secrets|services)\b|\bwithout\s+(?:a\s+|any\s+)?(?:matching\s+)?(?:pods|endpoints|pod disruption budget|"
    r"pdb)\b|\breferenc(?:e|ing)\s+a\s+missing\b|\bjoin\b")


def _rules(s: _State, t: str, known_nodes: list[str]) -> None:
    k = s.kind
    ps = POD_SPEC.get(k)
    ctr = f"{ps}containers[*]." if ps else None

    # -- time ------------------------------------------------------------------------------------
    stale = r"(?:(?:have|has|had)\s*n[o']t|haven't|hasn't|did\s*n[o']t|didn't|not|never)\s+(?:been\s+)?" \
            r"(?:run|ran|scheduled|executed|triggered|fired)"
    m = re.search(stale + r"\s+(?:in|for|during|within)\s+(?:the\s+)?(?:last|past)?\s*" + DUR, t) or \
        re.search(r"\blast\s+(?:run|schedule[d]?)\s+(?:was\s+)?(?:more\s+than|over|older\s+than)\s+" + DUR
                  + r"(?:\s+ago)?", t)
    if m and k == "CronJob":
        s.add(m, "status.lastScheduleTime", "older_than", duration(m.group(1), m.group(2)))
    elif (m := re.search(r"\b(?:that\s+)?(?:have\s+)?never\s+(?:been\s+)?(?:run|ran|scheduled)\b", t)) and k == "CronJob":
        s.add(m, "status.lastScheduleTime", "missing")
    elif (m := re.search(r"\b(?:that\s+)?(?:ran|run|were\s+scheduled|have\s+run)\s+(?:in|within)\s+(?:the\s+)?"
                         r"(?:last|past)\s+" + DUR, t)) and k == "CronJob":
        s.add(m, "status.lastScheduleTime", "newer_than", duration(m.group(1), m.group(2)))
    ts = "metadata.creationTimestamp"
    if k == "Job" and re.search(r"\b(?:finished|completed|done|ended)\b", t):
        ts = "status.completionTime"
    for m in re.finditer(r"\b(?:older\s+than|more\s+than|over|at\s+least|longer\s+than)\s+" + DUR
                         + r"(?:\s+(?:old|ago|of\s+age))?", t):
        before = t[max(0, m.start() - 40):m.start()]
        if s.filters and any(f["op"] == "older_than" for f in s.filters):
            break
        if re.search(r"restart", before) or not (re.search(r"old|ago|age|running|created|finished|completed|exist|been",
                                                          t[m.start() - 25:m.end() + 8]) or "older" in m.group(0)):
            continue
        s.add(m, ts, "older_than", duration(m.group(1), m.group(2)))
    m = re.search(r"\b(?:newer|younger)\s+than\s+" + DUR, t) or \
        re.search(r"\bless\s+than\s+" + DUR + r"\s+old\b", t) or \
        re.search(r"\b(?:created|started|made|added|finished|completed)\s+(?:in|within)\s+(?:the\s+)?(?:last|past)\s+"
                  + DUR, t)
    if m:
        s.add(m, ts, "newer_than", duration(m.group(1), m.group(2)))
    if (m := re.search(r"\b(?:created|started|made|added)\s+(?:in|within)\s+(?:the\s+)?(?:last|past)\s+(hour|day|week)"
                       r"\b", t)):
        s.add(m, ts, "newer_than", duration("1", m.group(1)))

    # -- containers ------------------------------------------------------------------------------
    if ctr:
        neg = r"(?:without|with\s+no|missing|lacking|that\s+lack|that\s+have\s+no|having\s+no|no|don't\s+have|" \
              r"do\s+not\s+have|not\s+having)"
        for m in re.finditer(neg + r"\s+(?:an?\s+|any\s+)?(?:(cpu|memory|mem|ram)\s+)?(?:resource\s+)?(limits?|requests?)"
                             r"(?:\s+(?:set|defined|specified))?", t):
            res = {"mem": "memory", "ram": "memory"}.get(m.group(1) or "", m.group(1))
            which = "limits" if m.group(2).startswith("limit") else "requests"
            s.add(m, f"{ctr}resources.{which}" + (f".{res}" if res else ""), "missing")
        for m in re.finditer(r"\b(?:with|having)\s+(?:an?\s+)?(cpu|memory)\s+(limits?|requests?)\s+(?:set|defined)\b", t):
            s.add(m, f"{ctr}resources.{'limits' if m.group(2).startswith('limit') else 'requests'}.{m.group(1)}",
                  "exists")
        cmp_words = r"(above|over|greater\s+than|more\s+than|larger\s+than|higher\s+than|at\s+least|below|under|" \
                    r"less\s+than|lower\s+than|smaller\s+than|at\s+most)"
        for m in re.finditer(r"\b(?:with\s+(?:an?\s+)?|whose\s+|requesting\s+|request(?:ing)?\s+)?(cpu|memory)\s+"
                             r"(limits?|requests?)?\s*(?:is\s+|of\s+)?" + cmp_words + r"\s+([\d.]+\s*(?:m|mi|gi|ki|g|"
                             r"cores?|cpus?)?)\b", t):
            which = "limits" if (m.group(2) or "").startswith("limit") else "requests"
            qty = re.sub(r"\s+", "", m.group(4))
            qty = re.sub(r"cores?|cpus?", "", qty)
            qty = qty[:-2] + qty[-2:].capitalize() if qty.endswith(("mi", "gi", "ki")) else qty
            s.add(m, f"{ctr}resources.{which}.{m.group(1)}", _cmp_op(m.group(3)), qty)
        for m in re.finditer(r"\b(?:requesting|request(?:s|ing)?|using|limited\s+to)\s+" + cmp_words
                             + r"\s+([\d.]+\s*(?:m|mi|gi|ki|g)?)\s+(?:of\s+)?(cpu|memory)\b", t):
            which = "limits" if "limit" in m.group(0) else "requests"
            qty = re.sub(r"\s+", "", m.group(2))
            qty = qty[:-2] + qty[-2:].capitalize() if qty.endswith(("mi", "gi", "ki")) else qty
            s.add(m, f"{ctr}resources.{which}.{m.group(3)}", _cmp_op(m.group(1)), qty)
        for m in re.finditer(r"\b" + neg + r"\s+(?:an?\s+|any\s+)?(liveness|readiness|startup)\s+probes?", t):
            s.add(m, f"{ctr}{m.group(1)}Probe", "missing")
        for m in re.finditer(r"\b(?:with|having|that\s+have)\s+(?:an?\s+)?(liveness|readiness|startup)\s+probes?", t):
            s.add(m, f"{ctr}{m.group(1)}Probe", "exists")
        if (m := re.search(r"\bprivileged\b(?:\s+containers?)?", t)):
            s.add(m, f"{ctr}securityContext.privileged", "eq", True)
        if (m := re.search(r"\b(?:using|with|on|in)\s+(?:the\s+)?host\s*network(?:ing)?\b|\bhost\s*network(?:ing)?\b", t)):
            s.add(m, f"{ps}hostNetwork", "eq", True)
        if (m := re.search(r"\b(?:mount(?:ing|s)?|with|using)\s+(?:an?\s+)?host\s*path(?:\s+volumes?)?\b", t)):
            s.add(m, f"{ps}volumes[*].hostPath", "exists")
        if (m := re.search(r"\b(?:(?:image\s+)?(?:tag(?:ged)?|pinned|set)\s+(?:is\s+|to\s+|at\s+|on\s+)?(?:the\s+)?"
                           r"[\"']?:?latest[\"']?(?:\s+tag)?|[\"']?:?latest[\"']?\s+(?:image\s+)?tag|:latest)\b", t)):
            s.add(m, f"{ctr}image", "matches", r"(:latest$)|^[^:@]+$")
        if (m := re.search(r"\b(?:running|using|with|from)\s+(?:the\s+)?image\s+([\w./:@-]+)", t)):
            s.add(m, f"{ctr}image", "contains", m.group(1))
        if (m := re.search(r"\b(?:with|having)\s+(?:the\s+)?(?:env(?:ironment)?\s+(?:var(?:iable)?|variable)s?)\s+"
                           r"([A-Za-z_][\w]*)", s.text)):
            s.add(m, f"{ctr}env[*].name", "eq", m.group(1))
        if (m := re.search(r"\b(?:pull\s+policy|imagepullpolicy)\s+(?:of\s+|is\s+|=\s*)?(always|never|ifnotpresent)\b", t)):
            s.add(m, f"{ctr}imagePullPolicy", "eq", {"always": "Always", "never": "Never",
                                                      "ifnotpresent": "IfNotPresent"}[m.group(1)])
        if (m := re.search(r"\b(?:listening|exposing|expose|on)\s+(?:container\s+)?port\s+(\d+)", t)) and k != "Service":
            s.add(m, f"{ctr}ports[*].containerPort", "eq", int(m.group(1)))
        if (m := re.search(r"\b(?:with|having)\s+more\s+than\s+(\d+|one|two|three)\s+containers\b", t)):
            s.add(m, f"len({ps}containers)", "gt", int(_n(m.group(1))))
        elif (m := re.search(r"\bmulti-?\s?container\b", t)):
            s.add(m, f"len({ps}containers)", "gt", 1)
        if (m := re.search(r"\b(?:with|having|that\s+have)\s+(?:an?\s+)?init\s*containers?\b", t)):
            s.add(m, f"{ps}initContainers", "exists")
        if (m := re.search(r"\b(?:with|having)\s+(?:a\s+)?node\s*selector\b", t)):
            s.add(m, f"{ps}nodeSelector", "exists")
        if (m := re.search(r"\b(?:with|having)\s+tolerations?\b", t)):
            s.add(m, f"{ps}tolerations", "exists")
        if (m := re.search(r"\b(?:using|with|run(?:ning)?\s+as)\s+(?:the\s+)?service\s*account\s+([a-z0-9-]+)", t)):
            s.add(m, f"{ps}serviceAccountName", "eq", m.group(1))

    # -- pods --------------------------------------------------------------------------------------
    if k == "Pod":
        if (m := re.search(r"\b(pending|failed|succeeded|running|unknown)\s+pods?\b|\bpods?\s+(?:that\s+are\s+|in\s+(?:the\s+)?"
                           r"|with\s+(?:status|phase)\s+)?(?:phase\s+|state\s+)?(pending|failed|succeeded)\b|\b(?:in\s+)?"
                           r"phase\s+(pending|failed|succeeded|running|unknown)\b", t)):
            s.add(m, "status.phase", "eq", (m.group(1) or m.group(2) or m.group(3)).capitalize())
        if (m := re.search(r"\b(?:(?:are|is)\s+)?(?:not|n't|aren'?t|isn'?t)\s+(?:in\s+(?:the\s+)?)?(running|pending|failed|"
                           r"succeeded)\b(?:\s+(?:state|phase))?", t)):
            s.add(m, "status.phase", "ne", m.group(1).capitalize())  # "pods that are not Running"
        if (m := re.search(r"\bnot\s+ready\b|\bunready\b", t)):
            s.add(m, "status.conditions[type=Ready].status", "ne", "True")
        if (m := re.search(r"\brestart(?:ed|s)?\s+(?:more\s+than|over|greater\s+than|at\s+least)\s+(\d+|once|twice|thrice|"
                           + NUM[1:-1] + r")\b\s*(?:times)?"
                           r"|\bmore\s+than\s+(\d+)\s+restarts\b", t)):
            n = int(_n(m.group(1) or m.group(2)))
            s.add(m, "sum(status.containerStatuses[*].restartCount)", "ge" if "least" in m.group(0) else "gt", n)
        elif (m := re.search(r"\b(?:that\s+)?(?:have|has)\s+restarted(?:\s+at\s+all)?\b|\bwith\s+(?:any\s+)?restarts\b", t)):
            s.add(m, "sum(status.containerStatuses[*].restartCount)", "gt", 0)
        if (m := re.search(r"\bcrash\s*-?\s*loop(?:ing|backoff)?\b", t)):
            s.add(m, "status.containerStatuses[*].state.waiting.reason", "eq", "CrashLoopBackOff")
        if (m := re.search(r"\boom\s*-?\s*killed\b|\bkilled\s+for\s+(?:lack\s+of\s+|running\s+out\s+of\s+)?memory\b|"
                           r"\bout\s+of\s+memory\b", t)):
            s.add(m, "status.containerStatuses[*].lastState.terminated.reason", "eq", "OOMKilled")
        if (m := re.search(r"\bimage\s*pull\s*(?:errors?|back\s*off|failures?|problems?)\b|\bcan(?:no|')t\s+pull\b|"
                           r"\bfail(?:ing|ed)?\s+to\s+pull\b", t)):
            s.add(m, "status.containerStatuses[*].state.waiting.reason", "in", ["ErrImagePull", "ImagePullBackOff"])
        for node in known_nodes:
            if (m := re.search(r"\b(?:on|scheduled\s+on|running\s+on|assigned\s+to)\s+(?:the\s+)?(?:node\s+)?"
                               + re.escape(node) + r"\b", t)):
                s.add(m, "spec.nodeName", "eq", node)
        if (m := re.search(r"\b(?:unscheduled|not\s+scheduled|without\s+a\s+node|not\s+assigned\s+to\s+a\s+node)\b", t)):
            s.add(m, "spec.nodeName", "missing")
        if (m := re.search(r"\bqos\s*(?:class)?\s*(?:of\s+|is\s+)?(besteffort|best-effort|burstable|guaranteed)\b|"
                           r"\b(besteffort|best-effort|burstable|guaranteed)\s+(?:qos\s*)?(?:class\s+)?pods?\b", t)):
            q = (m.group(1) or m.group(2)).replace("-", "")
            s.add(m, "status.qosClass", "eq", {"besteffort": "BestEffort", "burstable": "Burstable",
                                               "guaranteed": "Guaranteed"}[q])

    # -- workloads -------------------------------------------------------------------------------
    if k in REPLICATED:
        if (m := re.search(r"\b(?:whose\s+)?(?:(?:ready|desired)\s+)?(?:replicas?\s+)?(?:count\s+)?(?:differ|differs|different|does\s+not\s+match|"
                           r"doesn't\s+match|not\s+equal|mismatch(?:es)?)\s+(?:from\s+|to\s+|with\s+)?(?:the\s+)?"
                           r"(?:ready|desired|spec)?\s*(?:replicas?|count)?(?:\s+count)?\b", t)) and "replica" in t:
            s.add(m, "status.readyReplicas", "ne", {"field": "spec.replicas"}, default=0)
        elif (m := re.search(r"\b(?:fewer|less|lower)\s+ready\s+replicas\s+than\s+(?:desired|wanted|specified|requested)|"
                             r"\bnot\s+(?:fully\s+)?(?:ready|available)\b|\bunavailable\b|\bdegraded\b", t)):
            s.add(m, "status.readyReplicas", "lt", {"field": "spec.replicas"}, default=0)
        if (m := re.search(r"\b(?:scaled\s+(?:down\s+)?to\s+zero|(?:with\s+)?(?:zero|0)\s+replicas)\b", t)):
            s.add(m, "spec.replicas", "eq", 0)
        elif (m := re.search(r"\b(?:with\s+)?(more\s+than|over|at\s+least|fewer\s+than|less\s+than|exactly)?\s*(\d+)\s+"
                             r"(?:or\s+more\s+)?replicas?\b", t)):
            op = {"more than": "gt", "over": "gt", "at least": "ge", "fewer than": "lt", "less than": "lt"}.get(
                re.sub(r"\s+", " ", m.group(1) or ""), "eq")
            if "or more" in m.group(0):
                op = "ge"
            s.add(m, "spec.replicas", op, int(m.group(2)))

    # -- services ----------------------------------------------------------------------------------
    if k == "Service":
        types = {"nodeport": "NodePort", "loadbalancer": "LoadBalancer", "clusterip": "ClusterIP",
                 "externalname": "ExternalName"}
        if (m := re.search(r"\b(?:of\s+)?type\s*[=:]?\s*(node\s*port|load\s*balancer|cluster\s*ip|external\s*name)\b|"
                           r"\b(node\s*port|load\s*balancer|cluster\s*ip|external\s*name)\s+(?:type\s+)?services?\b|"
                           r"\b(?:exposed\s+(?:as|via)\s+(?:a\s+)?)(node\s*port|load\s*balancer)\b", t)):
            s.add(m, "spec.type", "eq", types[re.sub(r"\s+", "", next(g for g in m.groups() if g))])
        if (m := re.search(r"\bheadless\b", t)):
            s.add(m, "spec.clusterIP", "eq", "None")
        if (m := re.search(r"\b(?:without|with\s+no|missing)\s+(?:an?\s+|any\s+)?(?:pod\s+)?selectors?\b", t)):
            s.add(m, "spec.selector", "missing")
        if (m := re.search(r"\b(?:on|exposing|expose|with|listening\s+on)\s+port\s+(\d+)\b", t)):
            s.add(m, "spec.ports[*].port", "eq", int(m.group(1)))

    # -- secrets, configmaps -------------------------------------------------------------------------
    if k == "Secret":
        stypes = [(r"tls", "kubernetes.io/tls"), (r"docker\s+registry|docker\s*(?:config\s*)?(?:json)?|(?:image\s+)?pull|registry",
                                                   "kubernetes.io/dockerconfigjson"),
                  (r"opaque|generic", "Opaque"), (r"service\s*-?\s*account(?:\s+token)?", "kubernetes.io/service-account-token"),
                  (r"basic\s*-?\s*auth", "kubernetes.io/basic-auth"), (r"ssh(?:\s*-?\s*auth)?", "kubernetes.io/ssh-auth")]
        for pat, val in stypes:
            if (m := re.search(r"\b(?:of\s+)?type\s*[=:]?\s*(?:" + pat + r")\b|\b(?:" + pat + r")\s+(?:type\s+)?secrets?\b",
                               t)):
                s.add(m, "type", "eq", val)
                break
    if k in ("ConfigMap", "Secret"):
        if (m := re.search(r"\b(larger|bigger|greater|more|smaller|less)\s+than\s+([\d.]+)\s*(kib|kb|kilobytes?|mib|mb|"
                           r"megabytes?|bytes?|b|k)\b", t)):
            n = float(m.group(2)) * BYTES[m.group(3).rstrip("s") if m.group(3) not in BYTES else m.group(3)]
            s.add(m, "size(data)", "gt" if m.group(1) in ("larger", "bigger", "greater", "more") else "lt", int(n))
        if (m := re.search(r"\bempty\b|\b(?:with\s+)?no\s+(?:data|keys|entries)\b", t)):
            s.add(m, "len(data)", "eq", 0)
        if (m := re.search(r"\b(?:with|having)\s+more\s+than\s+(\d+|\w+)\s+(?:keys|entries|items)\b", t)):
            s.add(m, "len(data)", "gt", int(_n(m.group(1))))
        if (m := re.search(r"\b(?:with|having|containing)\s+(?:the\s+|a\s+)?key\s+([\w.-]+)", s.text, re.I)):
            s.add(m, f"data[{_quote(m.group(1))}]" if "." in m.group(1) else f"data.{m.group(1)}", "exists")
        if (m := re.search(r"\bimmutable\b", t)):
            s.add(m, "immutable", "eq", True)

    # -- storage ------------------------------------------------------------------------------------
    if k == "PersistentVolumeClaim":
        if (m := re.search(r"\b(?:not\s+bound|unbound|not\s+yet\s+bound|that\s+are\s+not\s+bound)\b", t)):
            s.add(m, "status.phase", "ne", "Bound")
        elif (m := re.search(r"\b(pending|bound|lost)\b", t)):
            s.add(m, "status.phase", "eq", m.group(1).capitalize())
        if (m := re.search(r"\b(larger|bigger|more|greater|smaller|less)\s+than\s+([\d.]+)\s*(gi|mi|ti|g|m|gb|mb)\b|"
                           r"\brequesting\s+(more|less)\s+than\s+([\d.]+)\s*(gi|mi|ti|g|m)\b", t)):
            big = (m.group(1) or m.group(4)) in ("larger", "bigger", "more", "greater")
            qty = (m.group(2) or m.group(5)) + {"gi": "Gi", "mi": "Mi", "ti": "Ti", "g": "G", "m": "M", "gb": "G",
                                                "mb": "M"}[m.group(3) or m.group(6)]
            s.add(m, "spec.resources.requests.storage", "gt" if big else "lt", qty)
        if (m := re.search(r"\b(?:without|with\s+no)\s+(?:a\s+)?storage\s*class\b", t)):
            s.add(m, "spec.storageClassName", "missing")
        elif (m := re.search(r"\b(?:storage\s*class|class)\s+(?:named\s+|of\s+|=\s*)?([a-z0-9-]+)\b", t)) and \
                m.group(1) not in ("per", "each"):
            s.add(m, "spec.storageClassName", "eq", m.group(1))
    if k == "PersistentVolume":
        if (m := re.search(r"\b(released|available|bound|failed)\b", t)):
            s.add(m, "status.phase", "eq", m.group(1).capitalize())
        if (m := re.search(r"\breclaim\s+policy\s+(?:of\s+|is\s+)?(retain|delete|recycle)\b", t)):
            s.add(m, "spec.persistentVolumeReclaimPolicy", "eq", m.group(1).capitalize())

    # -- nodes ----------------------------------------------------------------------------------------
    if k == "Node":
        if (m := re.search(r"\b(?:without|with\s+no|no)\s+taints?\b|\buntainted\b", t)):
            s.add(m, "spec.taints", "missing")
        elif (m := re.search(r"\b(?:with|having|that\s+have|carrying)\s+(?:a\s+|any\s+)?taints?\b|\btainted\b", t)):
            s.add(m, "spec.taints", "exists")
        if (m := re.search(r"\b(?:(?:are|is)\s+)?(?:not|n't|aren'?t|isn'?t)\s+(?:in\s+(?:the\s+)?)?(running|pending|failed|"
                           r"succeeded)\b(?:\s+(?:state|phase))?", t)):
            s.add(m, "status.phase", "ne", m.group(1).capitalize())  # "pods that are not Running"
        if (m := re.search(r"\bnot\s+ready\b|\bunready\b", t)):
            s.add(m, "status.conditions[type=Ready].status", "ne", "True")
        elif (m := re.search(r"\bready\b", t)):
            s.add(m, "status.conditions[type=Ready].status", "eq", "True")
        if (m := re.search(r"\b(?:unschedulable|cordoned)\b", t)):
            s.add(m, "spec.unschedulable", "eq", True)
        if (m := re.search(r"\bcontrol[\s-]*plane\b|\bmasters?\b", t)):
            s.add(m, 'metadata.labels["node-role.kubernetes.io/control-plane"]', "exists")
        elif (m := re.search(r"\bworkers?\b", t)):
            s.add(m, 'metadata.labels["node-role.kubernetes.io/control-plane"]', "missing")
        if (m := re.search(r"\b(?:with|having)\s+(more\s+than|at\s+least|fewer\s+than|less\s+than)\s+([\d.]+)\s*(cpus?|cores?|"
                           r"gi\s+(?:of\s+)?memory|gib\s+(?:of\s+)?memory)\b", t)):
            res = "cpu" if m.group(3).startswith(("cpu", "core")) else "memory"
            val = m.group(2) + ("Gi" if res == "memory" else "")
            s.add(m, f"status.capacity.{res}", _cmp_op(m.group(1)), val)

    # -- batch ------------------------------------------------------------------------------------------
    if k == "CronJob":
        if (m := re.search(r"\bnot\s+suspended\b|\bunsuspended\b|\bactive\s+cron", t)):
            s.add(m, "spec.suspend", "ne", True)
        elif (m := re.search(r"\bsuspended\b|\bpaused\b", t)):
            s.add(m, "spec.suspend", "eq", True)
    if k == "Job":
        if (m := re.search(r"\bfailed\b", t)):
            s.add(m, "status.conditions[type=Failed].status", "eq", "True")
        elif (m := re.search(r"\b(?:completed|succeeded|successful|finished|done)\b", t)):
            s.add(m, "status.conditions[type=Complete].status", "eq", "True")
        elif (m := re.search(r"\b(?:still\s+)?(?:running|active)\b", t)):
            s.add(m, "status.active", "gt", 0)

    # -- other kinds --------------------------------------------------------------------------------------
    if k == "Ingress":
        if (m := re.search(r"\b(?:without|with\s+no|no)\s+tls\b", t)):
            s.add(m, "spec.tls", "missing")
        elif (m := re.search(r"\b(?:with|using|having)\s+tls\b", t)):
            s.add(m, "spec.tls", "exists")
        if (m := re.search(r"\bhost(?:name)?\s+([a-z0-9.-]+\.[a-z]{2,})\b", t)):
            s.add(m, "spec.rules[*].host", "eq", m.group(1))
        if (m := re.search(r"\b(?:ingress\s*)?class\s+(?:name\s+)?([a-z0-9-]+)\b", t)):
            s.add(m, "spec.ingressClassName", "eq", m.group(1))
    if k in ("RoleBinding", "ClusterRoleBinding"):
        if (m := re.search(r"\b(?:to|of|for|that\s+bind|binding|bind|referencing|granting|grant)\s+(?:the\s+)?"
                           r"(?:cluster\s*-?\s*)?role\s+([a-z0-9:-]+)", t)) or \
                (m := re.search(r"\b(?:to|granting|grant|that\s+grant)\s+(cluster-admin|admin|edit|view)\b", t)):
            s.add(m, "roleRef.name", "eq", m.group(1))
        if (m := re.search(r"\b(?:for|to|of|binding|bind|subject|mention(?:ing)?)\s+(?:the\s+)?(?:user|group|service\s*account)"
                           r"\s+([a-z0-9:@._-]+)", t)):
            s.add(m, "subjects[*].name", "eq", m.group(1))
    if k in ("Role", "ClusterRole"):
        if (m := re.search(r"\bwildcard(?:\s+(?:verbs?|permissions?|rules?))?\b|\ball\s+verbs\b|\*\s*verbs?", t)):
            s.add(m, "rules[*].verbs", "contains", "*")
        if (m := re.search(r"\b(?:that\s+)?(?:allow|grant|can|permit)s?\s+(get|list|watch|create|update|patch|delete)\b", t)):
            s.add(m, "rules[*].verbs", "contains", m.group(1))
    if k == "Event":
        if (m := re.search(r"\bwarnings?\b", t)):
            s.add(m, "type", "eq", "Warning")
        elif (m := re.search(r"\bnormal\b", t)):
            s.add(m, "type", "eq", "Normal")
        if (m := re.search(r"\b(?:with\s+)?reason\s+([a-zA-Z]+)", s.text)):
            s.add(m, "reason", "eq", m.group(1))
        if (m := re.search(r"\b(?:for|about|of|on)\s+(?:the\s+)?(?:object\s+|pod\s+|deployment\s+)?([a-z0-9][a-z0-9.-]+)\b",
                           t)) and m.group(1) not in STOP and not re.fullmatch(r"\d+", m.group(1)):
            pass  # object names are resolved by the caller's namespace words; not a filter the rules guess
    if k == "ServiceAccount":
        if (m := re.search(r"\b(?:not\s+|don't\s+|do\s+not\s+)?automount(?:ing)?\b", t)):
            s.add(m, "automountServiceAccountToken", "eq", not bool(re.match(r"not|don't|do", m.group(0))))
    if k == "Namespace":
        if (m := re.search(r"\b(terminating|active)\b", t)):
            s.add(m, "status.phase", "eq", m.group(1).capitalize())

    # -- generic metadata ---------------------------------------------------------------------------------
    for m in re.finditer(r"\b(?:without|with\s+no|missing|lacking|no)\s+(?:the\s+|a\s+|an\s+)?labels?\s+([\w./-]+)", s.text,
                         re.I):
        s.add(m, f"metadata.labels[{_quote(m.group(1))}]" if "." in m.group(1) or "/" in m.group(1)
              else f"metadata.labels.{m.group(1)}", "missing")
    for m in re.finditer(r"\b(?:with|having|labell?ed|carrying|that\s+have)\s+(?:the\s+|a\s+)?(?:labels?\s+)?"
                         r"([\w./-]+)\s*(==|=|!=)\s*([\w.-]+)", s.text, re.I):
        s.used(m)
        s.selector.append(f"{m.group(1)}{'!=' if m.group(2) == '!=' else '='}{m.group(3)}")
    for m in re.finditer(r"\b(?:with|having|that\s+have)\s+(?:the\s+|a\s+)?label\s+([\w./-]+)(?![\w./-])(?!\s*[=!])", s.text, re.I):
        s.add(m, f"metadata.labels[{_quote(m.group(1))}]" if "." in m.group(1) or "/" in m.group(1)
              else f"metadata.labels.{m.group(1)}", "exists")
    for m in re.finditer(r"\b(?:with|having|that\s+have)\s+(?:the\s+|an\s+)?annotations?\s+([\w./-]+)", s.text, re.I):
        s.add(m, f"metadata.annotations[{_quote(m.group(1))}]", "exists")
    for m in re.finditer(r"\b(?:without|with\s+no|missing)\s+(?:the\s+|an\s+)?annotations?\s+([\w./-]+)", s.text, re.I):
        s.add(m, f"metadata.annotations[{_quote(m.group(1))}]", "missing")
    if (m := re.search(r"\b(?:without|with\s+no|lacking|no|missing)\s+(?:an?\s+|any\s+)?owner(?:\s*references?|\s*refs?|s)?\b|"
                       r"\borphan(?:ed)?\b|\bnot\s+owned\s+by\s+anything\b|\bbare\b|\bunowned\b", t)):
        s.add(m, "metadata.ownerReferences", "missing")
    if (m := re.search(r"\b(?:with|having)\s+(?:an?\s+|any\s+)?finalizers?\b", t)):
        s.add(m, "metadata.finalizers", "exists")
    if (m := re.search(r"\b(?:whose\s+)?names?\s+(?:starts?|begins?)\s+with\s+[\"']?([a-z0-9-]+)[\"']?|\b(?:starting|beginning)\s+"
                       r"with\s+[\"']?([a-z0-9-]+)[\"']?|\bprefixed\s+(?:with\s+)?[\"']?([a-z0-9-]+)", t)):
        s.add(m, "metadata.name", "matches", "^" + re.escape(next(g for g in m.groups() if g)))
    if (m := re.search(r"\b(?:whose\s+)?names?\s+ends?\s+with\s+[\"']?([a-z0-9-]+)|\bending\s+(?:in|with)\s+[\"']?([a-z0-9-]+)",
                       t)):
        s.add(m, "metadata.name", "matches", re.escape(next(g for g in m.groups() if g)) + "$")
    if (m := re.search(r"\b(?:whose\s+)?names?\s+contains?\s+[\"']?([a-z0-9-]+)|\b(?:with|having)\s+[\"']?([a-z0-9-]+)[\"']?"
                       r"\s+in\s+(?:the|their|its)\s+name", t)):
        s.add(m, "metadata.name", "contains", next(g for g in m.groups() if g))

    # -- shaping the answer -------------------------------------------------------------------------------
    group_fields = {
        "node": {"Pod": "spec.nodeName"}, "namespace": {"*": "metadata.namespace"},
        "phase": {"Pod": "status.phase", "PersistentVolumeClaim": "status.phase", "PersistentVolume": "status.phase",
                  "Namespace": "status.phase"},
        "status": {"Pod": "status.phase", "PersistentVolumeClaim": "status.phase", "PersistentVolume": "status.phase"},
        "type": {"Secret": "type", "Service": "spec.type", "Event": "type"},
        "image": {k2: f"{p}containers[*].image" for k2, p in POD_SPEC.items()},
        "storage class": {"PersistentVolumeClaim": "spec.storageClassName", "PersistentVolume": "spec.storageClassName"},
        "reason": {"Event": "reason"}, "qos class": {"Pod": "status.qosClass"}, "qos": {"Pod": "status.qosClass"},
        "service account": {"Pod": "spec.serviceAccountName"}, "role": {"RoleBinding": "roleRef.name",
                                                                       "ClusterRoleBinding": "roleRef.name"},
        "schedule": {"CronJob": "spec.schedule"}, "app": {"*": "metadata.labels.app"},
        "label app": {"*": "metadata.labels.app"}, "provisioner": {"StorageClass": "provisioner"},
    }
    # every way the request says its grouping ("of each type … a count per type") is consumed when all say the same
    for m in re.finditer(r"\b(?:per|by|for\s+each|for\s+every|each|grouped\s+by|group(?:ed)?\s+by|broken\s+down\s+by|"
                         r"in\s+each|on\s+each)\s+(node|namespace|phase|status|type|image|storage\s*class|reason|qos\s*class|"
                         r"qos|service\s*account|role|schedule|app|label\s+app|provisioner)s?\b(?:\s+(?:runs?|has|have|holds?|hosts?))?", t):
        key = re.sub(r"\s+", " ", m.group(1)).replace("storageclass", "storage class").replace("qosclass", "qos class") \
            .replace("serviceaccount", "service account")
        fld = group_fields.get(key, {}).get(k) or group_fields.get(key, {}).get("*")
        if fld and s.aggregate in (None, f"group_count:{fld}"):
            s.used(m)
            s.aggregate = f"group_count:{fld}"
    if s.aggregate is None and (m := re.search(r"^\s*(?:how\s+many|count(?:\s+(?:of|the))?|number\s+of|total\s+number\s+of)"
                                               r"\b|\bhow\s+many\b|\bcount\s+(?:of\s+)?(?:the\s+)?(?:\w+\s+)?$", t)):
        s.used(m)
        s.aggregate = "count"
    if s.aggregate is None and (m := re.search(r"\b(?:total|sum\s+of(?:\s+the)?|combined|overall)\s+(cpu|memory)\s+"
                                               r"(requests?|limits?)(?:\s+of)?\b", t)) and ctr:
        s.used(m)
        s.aggregate = f"sum:{ctr}resources.{'limits' if m.group(2).startswith('limit') else 'requests'}.{m.group(1)}"
    elif s.aggregate is None and (m := re.search(r"\b(?:total|sum\s+of(?:\s+the)?|combined)\s+(?:number\s+of\s+)?"
                                                 r"(?:desired\s+)?replicas\b", t)) and k in REPLICATED:
        s.used(m)
        s.aggregate = "sum:spec.replicas"
    elif s.aggregate is None and (m := re.search(r"\b(?:total|sum\s+of(?:\s+the)?|combined)\s+(?:requested\s+)?storage"
                                                 r"(?:\s+requested)?\b", t)) and k == "PersistentVolumeClaim":
        s.used(m)
        s.aggregate = "sum:spec.resources.requests.storage"
    if s.aggregate is None and ps and (m := re.search(r"\b(?:which|what|list(?:\s+the|\s+all)?|show(?:\s+the|\s+all)?|"
                                                      r"distinct|unique|all(?:\s+the)?)\s+(?:distinct\s+|unique\s+|container\s+)?"
                                                      r"images(?:\s+(?:are\s+)?(?:running|used|in\s+use|deployed))?\b|\bimages\s+(?:are\s+)?(?:running|used|in\s+use|"
                                                      r"deployed)\b", t)):
        s.used(m)
        s.aggregate = f"distinct:{ctr}image"
    elif ps and (m := re.search(r"\b(?:and|with)\s+(?:their|its|the)\s+images?\b|\bimages?\s+of\b", t)):
        s.used(m)
        s.project.append(f"{ctr}image")
    if k == "PersistentVolumeClaim" and (m := re.search(r"\bhow\s+(?:big|large)\s+(?:are\s+they|is\s+it|they\s+are)\b|"
                                                       r"\b(?:and|with)\s+(?:their|its)\s+sizes?\b", t)):
        s.used(m)  # "… and how big are they": the requested storage, as a column
        s.project.append("spec.resources.requests.storage")

    top = re.search(r"\btop\s+(\d+|\w+)\b|\b(\d+|one|two|three|five|ten)\s+(?:largest|biggest|oldest|newest|most|youngest)"
                    r"|\bthe\s+(largest|biggest|oldest|newest|youngest|most\s+recent(?:ly\s+created)?)\s+(?!than)", t)
    if top:
        s.used(top)
        try:
            s.limit = int(_n(top.group(1) or top.group(2))) if (top.group(1) or top.group(2)) else 1
        except (ValueError, KeyError):
            s.limit = None
    sorts = [
        (r"\b(?:by|most|with\s+the\s+most)\s+restart(?:s|ed)?\b|\bmost\s+restarted\b|\brestart\s+count\b",
         "-sum(status.containerStatuses[*].restartCount)", "Pod"),
        (r"\boldest\b", "metadata.creationTimestamp", "*"),
        (r"\b(?:newest|youngest|most\s+recent(?:ly\s+created)?)\b", "-metadata.creationTimestamp", "*"),
        (r"\b(?:largest|biggest)\b", "-size(data)", "ConfigMap"), (r"\b(?:largest|biggest)\b", "-size(data)", "Secret"),
        (r"\b(?:largest|biggest)\b", "-spec.resources.requests.storage", "PersistentVolumeClaim"),
        (r"\b(?:by|most)\s+replicas\b", "-spec.replicas", "Deployment"),
        (r"\b(?:by|most|highest)\s+(?:cpu\s+requests?|requested\s+cpu)\b", f"-sum({ctr}resources.requests.cpu)", "ctr"),
        (r"\b(?:by|most|highest)\s+(?:memory\s+requests?|requested\s+memory)\b",
         f"-sum({ctr}resources.requests.memory)", "ctr"),
        (r"\b(?:by|most|highest)\s+(?:memory\s+limits?)\b", f"-sum({ctr}resources.limits.memory)", "ctr"),
    ]
    for pat, path, kk in sorts:
        if kk == k or kk == "*" or (kk == "ctr" and ctr):
            if (m := re.search(pat, t)):
                s.used(m)
                s.sort_by = path
                break
    if s.limit and not s.sort_by:
        s.limit = None  # "top 3" without a measure: let the model decide what to sort by


def _cmp_op(words: str) -> str:
    w = re.sub(r"\s+", " ", words)
    return {"above": "gt", "over": "gt", "greater than": "gt", "more than": "gt", "larger than": "gt",
            "higher than": "gt", "at least": "ge", "below": "lt", "under": "lt", "less than": "lt", "lower than": "lt",
            "smaller than": "lt", "at most": "le", "fewer than": "lt"}.get(w, "gt")


def _quote(key: str) -> str:
    return '"' + key.replace('"', '\\"') + '"'


def _find_kind(t: str, catalog: Any) -> tuple[str | None, list[tuple[int, int]], list[tuple[str, int, int]]]:
    words = catalog.kind_words()
    found: list[tuple[str, int, int]] = []
    taken: list[tuple[int, int]] = []
    for w, kind in words.items():
        if len(w) <= 2 and w not in ("ns", "sa", "cm", "pv", "rs", "ds", "po", "cj"):
            continue
        for m in re.finditer(r"(?<![\w-])" + re.escape(w) + r"(?![\w-])", t):
            if any(a < m.end() and m.start() < b for a, b in taken):
                continue
            taken.append(m.span())
            found.append((kind, m.start(), m.end()))
    found.sort(key=lambda x: x[1])
    return (found[0][0] if found else None), taken, found


def namespace_in(text: str, namespaces: list[str]) -> tuple[str | None, list[tuple[int, int]]]:
    """The namespace a request names ("in batch", "namespace batch", "-n batch"), and where it was said; None for
    "all namespaces" or when none is named. A name counts when the cluster has it, or when it was introduced with
    the word namespace and the namespaces are not known."""
    t = " ".join(text.lower().replace("?", " ").replace(",", " , ").split())
    ns = None
    ns_spans: list[tuple[int, int]] = []
    all_ns = re.search(r"\b(?:across|in|from)\s+(?:all|every|each)\s+(?:the\s+)?namespaces?\b|\bcluster[\s-]*wide\b|"
                       r"\bin\s+the\s+(?:whole\s+|entire\s+)?cluster\b|\beverywhere\b|\ball\s+namespaces\b", t)
    if all_ns:
        ns_spans.append(all_ns.span())
    for m in re.finditer(r"\b(?:in|from|within|inside)\s+(?:the\s+)?(?:namespace\s+)?([a-z0-9][a-z0-9-]*)(?:\s+namespace)?\b|"
                         r"\b(?:namespace|ns|-n)\s+([a-z0-9][a-z0-9-]*)\b|\b([a-z0-9][a-z0-9-]*)\s+namespace\b", t):
        cand = m.group(1) or m.group(2) or m.group(3)
        explicit = "namespace" in m.group(0) or "-n " in m.group(0) or m.group(2)
        if cand in namespaces or (explicit and cand not in STOP and not namespaces):
            ns = cand
            ns_spans.append(m.span())
            break
    return ns, ns_spans


def extract(text: str, catalog: Any, namespaces: list[str] | None = None, nodes: list[str] | None = None) -> Extraction:
    """A plan for `text` from the rules, or an Extraction with plan None and the reason."""
    t = " ".join(text.lower().replace("?", " ").replace(",", " , ").split())
    raw = " ".join(text.replace("?", " ").split())
    if JOINS.search(t):
        return Extraction(None, "the request relates objects of different kinds (a join); a plan cannot say it")
    kind, kind_spans, found = _find_kind(t, catalog)
    if kind is None:
        return Extraction(None, "no kind named in the request")
    ns, ns_spans = namespace_in(t, namespaces or [])
    # a second kind is fine as a grouping word ("per node") or in "on node X"; anything else is a relation
    for other, a, _b in found:
        if other == kind:
            continue
        before = t[max(0, a - 22):a]
        if re.search(r"(?:per|by|each|every|on|for|group(?:ed)?\s+by|in)\s+(?:the\s+)?(?:a\s+)?$", before) and \
                other in ("Node", "Namespace", "StorageClass", "ServiceAccount", "Role", "ClusterRole"):
            continue
        if other == "Namespace":
            continue
        if other == "Pod" and kind in ("Node",) and re.search(r"\bpods?\b", t):
            return Extraction(None, f"the request relates {kind} and Pod", kind, ns)
        if other in ("Pod",) and kind in POD_SPEC and re.search(r"\bcontainers?\b|\bimages?\b", t[a:a + 12]):
            continue
        return Extraction(None, f"the request names {kind} and {other}: a relation a plan cannot express", kind, ns)
    info = catalog.kinds.get(kind)
    st = _State(raw, kind)
    _rules(st, t, nodes or [])
    spans = st.spans + kind_spans + ns_spans
    residue = _residue(t, spans, ns)
    if residue:
        return Extraction(None, f"words the rules do not understand: {' '.join(residue)}", kind, ns, residue)
    project = list(DEFAULT_PROJECT.get(kind, []))
    for f in st.filters:
        if f["field"] not in project:
            project.append(f["field"])
    project += [p for p in st.project if p not in project]
    plan: dict[str, Any] = {"kind": kind, "namespace": ns if (info is None or info.namespaced) else None,
                            "filters": st.filters, "project": project}
    if st.selector:
        plan["label_selector"] = ",".join(st.selector)
    if st.sort_by:
        plan["sort_by"] = st.sort_by
    if st.limit:
        plan["limit"] = st.limit
    if st.aggregate:
        plan["aggregate"] = st.aggregate
    return Extraction(plan, "", kind, ns)


FILLER = set("""that which whose who are is have has with their its them they it been being currently right now exist
exists existing defined set configured specified present objects resources items things please thanks there here ones
one all every whole entire single need needs""".split())


def _residue(t: str, spans: list[tuple[int, int]], ns: str | None) -> list[str]:
    chars = list(t)
    for a, b in spans:
        for i in range(a, min(b, len(chars))):
            chars[i] = " "
    left = re.findall(r"[a-z0-9][a-z0-9'./:=-]*", "".join(chars))
    return [w for w in left if w not in STOP and w not in FILLER and w != ns and w != ","]
