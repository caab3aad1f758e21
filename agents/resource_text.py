"""Plain words → what the resources agent should do: the intent, the kind, and the slots of a manifest or change.

Why rules and not a model: the facts in "create an nginx deployment named api with 3 replicas on port 8080 in
shop" sit in fixed phrasings (named/called, in/namespace, N replicas, port N, image X, K=V, every N minutes,
500m cpu, 256Mi memory). Reading them deterministically is instant, exact, and testable; only what the rules leave
unresolved would ever need the model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tools.manifests import Slots

# Images people name by product word; the tag is left to the registry default unless given.
IMAGE_WORDS = ("nginx", "redis", "busybox", "postgres", "postgresql", "mysql", "mariadb", "httpd", "apache", "alpine",
               "ubuntu", "debian", "python", "node", "memcached", "mongo", "mongodb", "rabbitmq", "traefik", "haproxy",
               "caddy", "grafana", "prometheus", "elasticsearch", "curl", "kafka", "zookeeper", "etcd", "vault",
               "consul", "golang", "openjdk", "tomcat", "wordpress", "ghost", "minio", "envoy")
IMAGE_ALIASES = {"postgresql": "postgres", "apache": "httpd", "mongodb": "mongo", "curl": "curlimages/curl"}

CREATE = re.compile(r"^\s*(?:please\s+|can you\s+|could you\s+|i need\s+|i want\s+|we need\s+|let'?s\s+)?(?:create|make|"
                    r"add|deploy|run|start|launch|spin up|set up|setup|generate|write|build|new|expose|provision|"
                    r"give me|store|save|schedule|put up)\b|^\s*(?:(?:hi|hey|hello|ok|so)[\s,!.]+)?(?:i|we)\s*"
                    r"(?:need|want|would\s+like|'d\s+like|would\s+love|'d\s+love)\s+(?:a|an|one|new)\b")
REPAIR = re.compile(r"\b(fix|repair|heal|remedy|whatever is wrong|what'?s wrong|broken|mend|sort out)\b")
DELETE = re.compile(r"^\s*(?:please\s+)?(?:delete|remove|destroy|drop|get rid of|clean up|clean\s+(?:it|them|that|this)\s+up|"
                    r"tear down)\b")
CHANGE = re.compile(r"\b(set|update|change|upgrade|downgrade|bump|replace|switch|point|mount|attach|inject|wire|"
                    r"add|put|raise|lower|increase|decrease|give|label|annotate|tag|expand|resize|grow|patch|edit|"
                    r"use|route|send|shift|enable|configure|limit|cap|move|remove|unset|rename)\b")

KIND_WORDS = {
    "pod": "Pod", "pods": "Pod", "deployment": "Deployment", "deployments": "Deployment", "deploy": "Deployment",
    "app": "Deployment", "service": "Service", "services": "Service", "svc": "Service", "configmap": "ConfigMap",
    "config map": "ConfigMap", "configmaps": "ConfigMap", "cm": "ConfigMap", "secret": "Secret",
    "secrets": "Secret", "job": "Job", "jobs": "Job", "cronjob": "CronJob", "cron job": "CronJob",
    "cronjobs": "CronJob", "statefulset": "StatefulSet", "stateful set": "StatefulSet", "statefulsets": "StatefulSet",
    "sts": "StatefulSet", "daemonset": "DaemonSet", "daemon set": "DaemonSet", "daemonsets": "DaemonSet",
    "pvc": "PersistentVolumeClaim", "volume claim": "PersistentVolumeClaim",
    "persistent volume claim": "PersistentVolumeClaim", "persistentvolumeclaim": "PersistentVolumeClaim",
    "pvcs": "PersistentVolumeClaim", "volume": "PersistentVolumeClaim", "disk": "PersistentVolumeClaim",
    "network policy": "NetworkPolicy", "networkpolicy": "NetworkPolicy", "netpol": "NetworkPolicy",
    "ingress": "Ingress", "ingresses": "Ingress", "hpa": "HorizontalPodAutoscaler", "autoscaler": "HorizontalPodAutoscaler",
    "role binding": "RoleBinding", "rolebinding": "RoleBinding", "role": "Role", "roles": "Role",
    "service account": "ServiceAccount", "serviceaccount": "ServiceAccount", "sa": "ServiceAccount",
    "namespace": "Namespace", "namespaces": "Namespace", "ns": "Namespace", "node": "Node", "nodes": "Node",
    "replicaset": "ReplicaSet", "replicasets": "ReplicaSet", "event": "Event", "events": "Event",
    "endpoints": "Endpoints", "container": "Pod", "containers": "Pod", "workload": "Deployment",
    "workloads": "Deployment", "load balancer": "Service", "loadbalancer": "Service",
}
NAME_STOP = {"a", "an", "the", "in", "with", "for", "to", "on", "that", "which", "named", "called", "of", "at",
             "using", "from", "and", "image", "namespace", "ns", "running", "it", "this", "my", "our", "new", "as",
             "by", "into", "under", "so", "all", "any", "every", "each", "some", "one", "replicas", "port"}


@dataclass
class Request:
    intent: str  # read | author | change | repair | delete
    kind: str | None
    slots: Slots
    words: list[str] = field(default_factory=list)


def _norm(text: str) -> str:
    low = text.strip().lower()
    low = re.sub(r"[`'\u2018\u2019\u201c\u201d]", lambda m: "'" if m.group(0) in "'\u2018\u2019" else '"', low)
    return low


def kind_of(text: str, after: int = 0) -> tuple[str | None, int]:
    """The first kind word at or after `after`, with its start position (words inside URLs and dotted host names,
    like the `svc` of payments.shop.svc.cluster.local, are not kinds)."""
    low = re.sub(r"\S*(?:://|\.[a-z0-9-]+\.)\S*", lambda m: " " * len(m.group(0)), _norm(text))
    best: tuple[int, int, int, str] | None = None
    for word, kind in KIND_WORDS.items():
        for m in re.finditer(rf"\b{re.escape(word)}(?:s|es)?\b", low):  # "service accounts" is not "service"
            if m.start() < after:
                continue
            # "in namespace X" / "-n X" names where, not what: the kind only when no other kind is said
            before = low[max(0, m.start() - 4):m.start()]
            where = kind == "Namespace" and (before.endswith("in ") or before.endswith("to "))
            if where and not CREATE.search(low[:m.start()]):
                continue
            cand = (int(where), m.start(), -len(word), kind)
            if best is None or cand < best:
                best = cand
            break
    if best is None:
        return None, -1
    return best[3], best[1]


def namespace_of(text: str) -> str:
    """The namespace a request names, most explicit phrasing first: "in namespace X" / "-n X", then "in the X
    namespace", then a bare "namespace X" ("in the data namespace together with …" is data, not together)."""
    low = _norm(text)
    for pat in (r"(?:\bin(?:to)?\s+(?:the\s+)?(?:namespace|ns)|-n|--namespace)\s+([a-z0-9][a-z0-9-]*)",
                r"\bin(?:to)?\s+(?:the\s+)?([a-z0-9][a-z0-9-]*)\s+(?:namespace|ns)\b",
                r"(?:\bnamespace|\bns)\s+([a-z0-9][a-z0-9-]*)"):
        for m in re.finditer(pat, low):
            if m.group(1) not in ("named", "called", "with", "the"):
                return m.group(1)
    return ""


def name_after_kind(text: str, kind: str | None) -> str:
    low = _norm(text)
    m = re.search(r"\b(?:named|called|name it|name)\s+['\"]?([a-z0-9][a-z0-9.-]*)", low)
    if m:
        return m.group(1).rstrip(".")
    if kind:
        for word, k in sorted(KIND_WORDS.items(), key=lambda x: -len(x[0])):
            if k != kind:
                continue
            m = re.search(rf"\b{re.escape(word)}\s+(?:called\s+|named\s+)?['\"]?([a-z0-9][a-z0-9.-]*[a-z0-9])\b", low)
            if m and m.group(1) not in NAME_STOP and m.group(1) not in KIND_WORDS and not m.group(1).isdigit():
                return m.group(1)
    return ""


def image_of(text: str) -> str:
    low = _norm(text)
    m = re.search(r"\b(?:image|using|uses|use|from|runs?|running|with)\s+(?:image\s+|the\s+)?['\"]?"
                  r"([a-z0-9][a-z0-9./_-]*(?::[a-z0-9._-]+|@sha256:[a-f0-9]+))", low)
    if m:
        return m.group(1)
    m = re.search(r"\bimage\s+['\"]?([a-z0-9][a-z0-9./_-]*[a-z0-9])", low)
    if m and m.group(1) not in NAME_STOP:
        return m.group(1)
    m = re.search(r"\b([a-z0-9.-]+(?:/[a-z0-9._-]+)+(?::[a-z0-9._-]+)?)\b", low)
    if m and "." in m.group(1).split("/")[0] or (m and ":" in m.group(1)):
        return m.group(1)
    for w in IMAGE_WORDS:
        m = re.search(rf"\b{w}(?:(?::|\s+version\s+|\s+v?)(\d+(?:\.\d+)*))?\b", low)
        if m:
            img = IMAGE_ALIASES.get(w, w)
            return f"{img}:{m.group(1)}" if m.group(1) else img
    return ""


def quantities(text: str) -> dict[str, dict[str, str]]:
    """{"requests": {...}, "limits": {...}} from '500m cpu', '256Mi memory', 'memory limit 1Gi', '2 cores'.

    When the text says which are requests and which are limits, the one careful reader
    (agents.fastpaths._words.quantities) decides, per phrase ("cpu request 200m and memory limit 512Mi" was read as
    the other way round by a look-back window); when it cannot tell, nothing is read. Only a request that names
    neither ("with 500m cpu and 256Mi memory") takes the default below."""
    low = _norm(text)
    if re.search(r"\brequest|\blimit|\bcap(?:ped)?\b", low):
        from agents.fastpaths._words import quantities as said

        found = said(text)
        return {k: dict(v) for k, v in found[0].items()} if found else {}
    out: dict[str, dict[str, str]] = {}
    default = "requests" if re.search(r"\brequest", low) and not re.search(r"\blimit", low) else "limits"
    cpu_re = r"(\d+(?:\.\d+)?m\b|\d+(?:\.\d+)?\s*(?:cores?|cpus?|vcpus?))"
    mem_re = r"(\d+(?:\.\d+)?\s*(?:mi|gi|ki|ti|m|g|mb|gb|mib|gib)\b)"
    for m in re.finditer(rf"{cpu_re}(?:\s+(?:of\s+)?cpu)?|cpu(?:\s+(?:limit|request)s?)?\s+(?:of\s+|to\s+|=\s*)?{cpu_re}",
                         low):
        val = (m.group(1) or m.group(2)).replace(" ", "")
        val = re.sub(r"(cores?|cpus?|vcpus?)$", "", val)
        which = _which(low, m.start(), default)
        out.setdefault(which, {})["cpu"] = val
    for m in re.finditer(rf"{mem_re}(?:\s+(?:of\s+)?(?:memory|ram|mem))?|(?:memory|ram|mem)(?:\s+(?:limit|request)s?)?"
                         rf"\s+(?:of\s+|to\s+|=\s*)?{mem_re}", low):
        raw = (m.group(1) or m.group(2)).replace(" ", "")
        val = _mem(raw)
        if val is None:
            continue
        which = _which(low, m.start(), default)
        out.setdefault(which, {})["memory"] = val
    return out


def _which(low: str, pos: int, default: str) -> str:
    window = low[max(0, pos - 30):pos]
    if "request" in window:
        return "requests"
    if "limit" in window:
        return "limits"
    return default


def _mem(raw: str) -> str | None:
    m = re.match(r"(\d+(?:\.\d+)?)(mi|gi|ki|ti|m|g|mb|gb|mib|gib)$", raw)
    if not m:
        return None
    unit = {"mi": "Mi", "gi": "Gi", "ki": "Ki", "ti": "Ti", "m": "Mi", "g": "Gi", "mb": "Mi", "gb": "Gi", "mib": "Mi",
            "gib": "Gi"}[m.group(2)]
    return f"{m.group(1)}{unit}"


def schedule_of(text: str) -> str:
    low = _norm(text)
    m = re.search(r'"([0-9*/,\- ]{9,})"', text) or re.search(r"((?:[0-9*/,-]+\s+){4}[0-9*/,-]+)", low)
    if m:
        return m.group(1).strip()
    m = re.search(r"every\s+(\d+)\s*(minutes?|mins?|hours?|hrs?|h|m)\b", low)
    if m:
        n = int(m.group(1))
        return f"*/{n} * * * *" if m.group(2).startswith("m") else f"0 */{n} * * *"
    if re.search(r"every\s+minute", low):
        return "* * * * *"
    hour = 0
    m = re.search(r"\bat\s+(\d{1,2})(?!\d)(?::(\d{2}))?\s*(am|pm)?", low)
    minute = 0
    if m:
        hour = int(m.group(1)) % 12 + (12 if m.group(3) == "pm" else 0) if m.group(3) else int(m.group(1))
        minute = int(m.group(2) or 0)
    if re.search(r"\bhourly\b|every\s+hour", low):
        return "0 * * * *"
    if re.search(r"\bweekly\b|every\s+week|every\s+sunday", low):
        return f"{minute} {hour} * * 0"
    if re.search(r"\bmonthly\b|every\s+month", low):
        return f"{minute} {hour} 1 * *"
    if re.search(r"\b(daily|nightly|every\s+(?:day|night)|each\s+(?:day|night)|at\s+midnight)\b", low) or m:
        return f"{minute} {hour} * * *"
    return ""


def command_of(text: str) -> list[str]:
    m = re.search(r"`([^`]+)`", text) or re.search(r"\b(?:command|runs?|running|execute|executes)\s+\"([^\"]+)\"", text)
    if m:
        cmd = m.group(1).strip()
        return ["sh", "-c", cmd] if re.search(r"[;&|><$]", cmd) else cmd.split()
    low = _norm(text)
    m = re.search(r"\bsleeps?(?:\s+(?:for\s+)?(\d+))?", low)
    if m:
        return ["sleep", m.group(1) or "3600"]
    m = re.search(r"\b(?:prints?|echoe?s?|says?)\s+\"?([a-z0-9 ,.!-]+?)\"?(?:\s+(?:every|and|in|then)\b|$)", low)
    if m:
        return ["echo", m.group(1).strip()]
    return []


def pairs(text: str) -> dict[str, str]:
    """KEY=value pairs (env, configmap data, labels) in the order given; quotes stripped."""
    out: dict[str, str] = {}
    for m in re.finditer(r"([A-Za-z_][A-Za-z0-9_.\-/]*)\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s,;]+)", text):
        out[m.group(1)] = m.group(2).strip("\"'").rstrip(".?!")
    for m in re.finditer(r"\b([A-Za-z_][A-Za-z0-9_.\-/]*):\s+(\"[^\"]*\"|[^\s,;]+)", text):
        if m.group(1).lower() not in ("image", "note", "e.g", "port", "ports") and m.group(1) not in out:
            pass  # "key: value" is too ambiguous in prose; only K=V is read
    return out


# How a request says a Service's targetPort: "target port 8080", "targeting 8080", "80 -> 8080", "forwarding to
# 8080", "to container port 8080" (the first phrasing found wins).
TARGET_PORT = (r"\btarget(?:ing|s)?(?:\s*-?\s*port|port)?\s+(?:to\s+|of\s+|=\s*)?(?:port\s+)?(\d{2,5})\b",
               r"\b(?:to|on)\s+(?:the\s+)?container(?:'s)?\s*port\s+(\d{2,5})\b",
               r"\b\d{2,5}\s*(?:->|to)\s*(\d{2,5})\b",
               r"\bforward(?:ing|s|ed)?\s+(?:traffic\s+)?to\s+(?:port\s+)?(\d{2,5})\b",
               r"\b(?:point(?:ing|s|ed)?|send(?:ing|s)?|rout(?:ing|es?|ed))\s+(?:traffic\s+)?(?:at|to)\s+(?:the\s+)?"
               r"(?:container(?:'s)?\s+)?(?:port\s+)?(\d{2,5})\b")


def ports_of(text: str) -> tuple[list[int], int | None]:
    low = _norm(text)
    ports = [int(p) for p in re.findall(r"\bports?\s+(?:number\s+)?(\d{2,5})\b", low)]
    ports += [int(p) for p in re.findall(r"\bon\s+(\d{2,5})\b", low) if int(p) not in ports]
    ports += [int(a) for a, _ in re.findall(r"\b(\d{2,5})\s*(?:->|to|:)\s*(\d{2,5})\b", low) if int(a) not in ports]
    tgt = next((m for p in TARGET_PORT if (m := re.search(p, low))), None)
    target = int(tgt.group(1)) if tgt else None
    if target is not None and target in ports and len(ports) > 1:
        ports.remove(target)
    return ports, target


def replicas_of(text: str) -> int | None:
    low = _norm(text)
    words = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "ten": 10, "single": 1}
    m = re.search(r"\b(\d{1,3}|one|two|three|four|five|six|ten|single)\s+(?:replicas?|instances?|copies|pods)\b", low) \
        or re.search(r"\breplicas?\s*(?:=|of|to|:)?\s*(\d{1,3})\b", low)
    if not m:
        return None
    v = m.group(1)
    return int(v) if v.isdigit() else words[v]


def _asking_clauses(low: str) -> list[str]:
    """The clauses, each from its order verb on ("I think there's a leftover job called old-migration in batch, can
    you clean it up?" → "clean it up?"): an order need not open the request, nor come without "can you"."""
    parts = re.split(r"(?<=[.?!;,:])\s+|\s[—–-]+\s", low)
    return [re.sub(r"^(?:(?:and|so|then|also|please|pls|kindly|can|could|would|will|you|u|just)\s+)+", "", p)
            for p in parts]


def intent_of(text: str) -> str:
    from agents.residue import without_told

    low = _norm(without_told(text))
    if REPAIR.search(low):
        return "repair"
    # a part of an object said as a word ("remove the DEBUG key"), not inside a name ("the secret api-keys")
    part_of_object = re.search(r"(?<![\w-])(annotation|label|env|variable|limit|sidecar|key|mount|probe)s?(?![\w-])", low)
    if not part_of_object and (DELETE.search(low) or any(DELETE.search(c) for c in _asking_clauses(low)) or re.search(
            r"\b(delete|destroy|get rid of|tear down)\s+(?:the|a|an|this|that|all)?\s*[a-z0-9-]*\s*(?:deployment|pod|"
            r"service|configmap|secret|job|cronjob|statefulset|daemonset|namespace|pvc|ingress)s?\b", low)):
        return "delete"
    adds_to_existing = re.match(r"\s*(?:please\s+)?(?:add|put|give)\b", low) and (
        re.search(r"\b(env|environment|label|annotation|limits?|requests?|probe|readiness|liveness|sidecar|volume|"
                  r"mount|container|cpu|memory)\b", low)
        or re.search(r"\b(?:to|on|into)\s+(?:the\s+)?[a-z0-9-]+\s+(?:deployment|pod|statefulset|daemonset|service|"
                     r"container|job|cronjob)\b", low))
    if (CREATE.search(low) or any(CREATE.search(c) for c in _asking_clauses(low))) and not adds_to_existing:
        return "author"
    if re.search(r"^\s*(?:what|which|who|where|how|show|list|get|describe|display|print|tell|give me the|find|are there|is "
                 r"there|do we|does|count|view|dump|explain)\b", low):
        return "read"
    if CHANGE.search(low):
        return "change"
    return "read"


def parse(text: str) -> Request:
    intent = intent_of(text)
    low = _norm(text)
    start = 0
    if intent == "author":
        m = CREATE.search(low)
        start = m.end() if m else 0
    kind, _ = kind_of(text, start)
    if intent == "author" and re.search(r"^\s*(?:(?:please|pls|can\s+you|could\s+you|would\s+you|kindly)\s+)?expose\b",
                                        low):
        kind = "Service"
    s = Slots()
    s.namespace = namespace_of(text)
    s.name = name_after_kind(text, kind)
    s.image = image_of(text)
    s.replicas = replicas_of(text)
    s.ports, s.target_port = ports_of(text)
    kv = pairs(text)
    s.command = command_of(text)
    q = quantities(text)
    s.requests, s.limits = q.get("requests", {}), q.get("limits", {})
    s.schedule = schedule_of(text)
    m = re.search(r"\b(\d+(?:\.\d+)?)\s*(gi|mi|ti|gb|g|mb|tb)\b", low)
    if m and kind in ("PersistentVolumeClaim", "StatefulSet"):
        s.storage = _mem(m.group(1) + m.group(2).replace("tb", "ti")) or ""
        s.requests, s.limits = {}, {}
    m = re.search(r"\bstorage\s*class(?:name)?\s*(?:[:=]|of|called|named)?\s*['\"]?([a-z0-9][a-z0-9.-]*)|['\"]?"
                  r"([a-z0-9][a-z0-9.-]*)['\"]?\s+(?:storage\s*class|sc)\b", low)
    if m and kind == "PersistentVolumeClaim" and (m.group(1) or m.group(2)) not in ("the", "a", "its", "default"):
        s.storage_class = m.group(1) or m.group(2)
    m = re.search(r"\b(?:at|under|on|to|into)\s+(/[a-z0-9._/-]*)", low)
    if m:
        s.mount_path = m.group(1)
    m = re.search(r"\b((?:[a-z0-9-]+\.)+[a-z]{2,})\b", low)
    if m and not re.match(r"\d", m.group(1)) and "." in m.group(1) and not re.search(r":\S*$", m.group(1)) \
            and m.group(1) not in s.image:
        s.host = m.group(1)
    m = re.search(r"\b(nodeport|node port|loadbalancer|load balancer|clusterip|cluster ip|headless)\b", low)
    if m:
        s.service_type = m.group(1).replace(" ", "")
    if kind == "Secret" and re.search(r"\btls\b", low):
        s.secret_type = "kubernetes.io/tls"
    labels = {k: v for k, v in kv.items() if not re.fullmatch(r"[A-Z0-9_]+", k)}
    env = {k: v for k, v in kv.items() if k not in labels}
    if re.search(r"\b(selects?|selector|matching|match)\b", low):
        s.selector = labels
    elif re.search(r"\b(label(?:ed|led)?|tag(?:ged)?)\b", low):
        s.labels = labels
    if kind in ("ConfigMap", "Secret"):
        s.data = dict(kv)
    else:
        s.env = env
    s.probe = probe_of(text)
    return Request(intent, kind, s, re.findall(r"[a-z0-9][a-z0-9.-]*", low))


def probe_of(text: str) -> dict[str, object]:
    low = _norm(text)
    m = re.search(r"\b(readiness|liveness|startup|health)\s*(?:check|probe)", low)
    if not m:
        return {}
    kind = {"health": "liveness"}.get(m.group(1), m.group(1))
    path = re.search(r"\s(/[a-z0-9._/-]*)", low)
    port = re.search(r"\bport\s+(\d{2,5})", low)
    return {"kind": kind, "path": path.group(1) if path else ("" if not port else "/"),
            "port": int(port.group(1)) if port else None}
