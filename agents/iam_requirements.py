"""Requirements said in plain words around a pasted IAM policy, read into a spec of requests (allow and deny).

Why a reader of its own: people do not write `{"requests": [...]}`. They write "reads must work again, deletes must
stay blocked", "let it decrypt with that key, and nothing more (no encrypt, no other keys)" or "it must not be able
to delete the table or touch other tables". The repair (`policies.repair`) proves whatever spec it is given, so the
spec must say exactly what the person said and nothing else: every clause is either read into requests, a fact
that names a resource ("the secret is encrypted with key ARN"), or narrative ("I think someone widened it", "but
gets AccessDenied"). A clause with a word this reader does not account for is *unread*, and the agent abstains
naming it: a requirement half read is a proof of the wrong thing.

Tables, not branches: the verbs per service (`VERBS`), the nouns that name a resource kind (`NOUNS`), how a resource
name becomes an ARN in the policy's own partition/account/region (`_arn`). A word is in a table only when this
reader fully acts on it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

SAMPLE = "any-object"  # the object key standing for every object; agents.iam widens it back to "*"
OTHER_KEY = "00000000-0000-0000-0000-000000000000"  # "no other keys": a key id that is not the one said

# service -> verb -> (data actions, container actions). Data: on the objects/items/messages; container: on the
# bucket/table/queue/topic/key/secret/log group itself ("delete the table"). Container actions only where said.
VERBS: dict[str, dict[str, tuple[tuple[str, ...], tuple[str, ...]]]] = {
    "s3": {"read": (("GetObject", "ListBucket"), ()), "get": (("GetObject",), ()), "fetch": (("GetObject",), ()),
           "download": (("GetObject",), ()), "list": (("ListBucket",), ()), "write": (("PutObject",), ()),
           "upload": (("PutObject",), ()), "put": (("PutObject",), ()),
           "delete": (("DeleteObject",), ("DeleteBucket",))},
    "dynamodb": {"read": (("GetItem", "Query"), ()), "get": (("GetItem",), ()), "query": (("Query",), ()),
                 "scan": (("Scan",), ()), "write": (("PutItem", "UpdateItem"), ()), "put": (("PutItem",), ()),
                 "update": (("UpdateItem",), ()), "delete": (("DeleteItem",), ("DeleteTable",))},
    "kms": {"decrypt": (("Decrypt",), ()), "encrypt": (("Encrypt",), ()), "sign": (("Sign",), ()),
            "verify": (("Verify",), ()), "describe": (("DescribeKey",), ())},
    "secretsmanager": {"read": (("GetSecretValue",), ()), "get": (("GetSecretValue",), ()),
                       "fetch": (("GetSecretValue",), ()), "describe": (("DescribeSecret",), ()),
                       "rotate": (("RotateSecret",), ()), "update": (("PutSecretValue",), ()),
                       "write": (("PutSecretValue",), ()), "delete": ((), ("DeleteSecret",))},
    "sqs": {"send": (("SendMessage",), ()), "receive": (("ReceiveMessage",), ()), "read": (("ReceiveMessage",), ()),
            "consume": (("ReceiveMessage", "DeleteMessage"), ()), "purge": ((), ("PurgeQueue",)),
            "delete": (("DeleteMessage",), ("DeleteQueue",))},
    "sns": {"publish": (("Publish",), ()), "subscribe": ((), ("Subscribe",)), "delete": ((), ("DeleteTopic",))},
    "logs": {"write": (("CreateLogStream", "PutLogEvents"), ()), "put": (("PutLogEvents",), ()),
             "read": (("GetLogEvents", "FilterLogEvents"), ()), "delete": ((), ("DeleteLogGroup",))},
    "ec2": {"describe": (("DescribeInstances",), ()), "list": (("DescribeInstances",), ()),
            "start": (("StartInstances",), ()), "stop": (("StopInstances",), ()),
            "reboot": (("RebootInstances",), ()), "terminate": (("TerminateInstances",), ())},
}
# The forms a verb is written in ("reads must work", "deletes", "uploading", "writes").
_VERB_FORMS = {f: v for v in {v for t in VERBS.values() for v in t}
               for f in (v, v + "s", v + "es", v + "ing", v + "ed", v + "d", v.rstrip("e") + "ing")
               if f not in ("gets", "getting", "geted", "getd")}  # "gets AccessDenied": a symptom, not a read
GENERIC = frozenset("touch access use".split())  # "touch other tables": every action the text is about

# Words naming a resource kind, with the service and whether it is the container (bucket) or what is in it.
NOUNS: dict[str, tuple[str, str]] = {
    "bucket": ("s3", "container"), "buckets": ("s3", "container"), "object": ("s3", "data"),
    "objects": ("s3", "data"), "files": ("s3", "data"), "file": ("s3", "data"),
    "table": ("dynamodb", "container"), "tables": ("dynamodb", "container"), "item": ("dynamodb", "data"),
    "items": ("dynamodb", "data"), "rows": ("dynamodb", "data"), "records": ("dynamodb", "data"),
    "key": ("kms", "container"), "keys": ("kms", "container"),
    "secret": ("secretsmanager", "container"), "secrets": ("secretsmanager", "container"),
    "queue": ("sqs", "container"), "queues": ("sqs", "container"), "messages": ("sqs", "data"),
    "message": ("sqs", "data"), "topic": ("sns", "container"), "topics": ("sns", "container"),
    "group": ("logs", "container"), "groups": ("logs", "container"), "events": ("logs", "data"),
    "instances": ("ec2", "data"), "instance": ("ec2", "data"),
}
SERVICE_WORDS = {"s3": "s3", "dynamodb": "dynamodb", "dynamo": "dynamodb", "kms": "kms", "sqs": "sqs",
                 "sns": "sns", "secretsmanager": "secretsmanager", "ec2": "ec2", "cloudwatch": "logs",
                 "logs": "logs", "log": "logs"}
# Action service prefixes as IAM writes them.
_PREFIX = {"s3": "s3", "dynamodb": "dynamodb", "kms": "kms", "secretsmanager": "secretsmanager", "sqs": "sqs",
           "sns": "sns", "logs": "logs", "ec2": "ec2"}

# Words that carry the requirement itself (modality, polarity, least privilege) — consumed in any read clause.
REQUIRE = frozenset("""must should need needs needed needing has have to be able allowed allow allows permitted let
work works working again still keep keeps continue stay stays remain remains blocked block blocks denied deny
stop stops prevent prevented forbidden supposed meant intended only nothing more else no not never without none
other others another any anything all every can may will same nobody anyone everyone""".split())
LEAST = frozenset("only nothing more else".split())  # "and nothing more", "only read"
NEGATIONS = frozenset("not no never nothing without none block blocked blocks stop stops prevent prevented deny "
                      "denied forbidden".split())
# A symptom: what fails today. With an action in it ("nobody can read X anymore") the action must work again.
SYMPTOMS = frozenset("anymore longer fails failing failed fail accessdenied error errors broken 403 "
                     "denied".split())
# Context around a requirement that does not change it: who is asking, when, where the policy is.
CONTEXT = frozenset("""after since last week week's yesterday today lately recently currently now change changes
changed deploy deployment release service app application lambda function job role user team pod worker our my
policy below above attached current here it's gets getting get got with on in from for our the from""".split())
_FACT = re.compile(r"\b(?:is|are)\s+(?:encrypted|stored|kept)\s+(?:with|by|using|in)\b")
_ARN = re.compile(r"arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:\d{0,12}:[^\s,;()'\"]+?(?=[.,;)]?(?:\s|$|['\"]))")
_FULL_ACTION = re.compile(r"\b([a-z0-9-]+):([A-Z][A-Za-z0-9]+)\b")
_BARE_ACTION = re.compile(r"\b((?:Get|Put|Update|Delete|List|Describe|Create|Send|Receive|Batch|Generate|Start|Stop|"
                          r"Reboot|Terminate|Filter|Rotate|Purge|Invoke|ReEncrypt)[A-Z][A-Za-z]*|Query|Scan|Publish|"
                          r"Decrypt|Encrypt|Sign|Verify|Subscribe)\b")  # GetItem, Query: an action without its service
_QUOTED = re.compile(r"['\"“‘]([A-Za-z0-9][A-Za-z0-9._/-]*)['\"”’]")
_CLAUSE_WORDS = NEGATIONS | SYMPTOMS | frozenset("must should need needs let allow can may please but it they we i "
                                                  "nobody".split())


@dataclass
class Clause:
    """One clause of the text and how it was read: 'allow'/'deny' (requests), 'fact', 'context', or 'unread'."""

    text: str
    kind: str = "unread"
    requests: list[dict[str, Any]] = field(default_factory=list)
    why: str = ""


@dataclass
class Requirements:
    """The spec read from the words, the clauses it came from, and notes for the answer (a typo'd name)."""

    clauses: list[Clause]
    notes: list[str] = field(default_factory=list)

    @property
    def requests(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for c in self.clauses:
            out += [r for r in c.requests if r not in out]
        return out

    @property
    def unread(self) -> list[Clause]:
        return [c for c in self.clauses if c.kind == "unread"]

    def spec(self) -> dict[str, Any]:
        return {"requests": self.requests}


# ---------------------------------------------------------------------------------------------------------------
# Splitting: sentences, then clauses; a parenthesis is either a list of actions (elaborating its clause) or clauses.


def _without_json(text: str) -> str:
    dec = json.JSONDecoder()
    out, i = [], 0
    while (j := text.find("{", i)) != -1:
        try:
            _, end = dec.raw_decode(text, j)
        except ValueError:
            out.append(text[i:j + 1])
            i = j + 1
            continue
        out.append(text[i:j] + " . ")
        i = end
    out.append(text[i:])
    return "".join(out)


_SENTENCE_CUT = re.compile(r"(?<=[.!?;:])\s+|\n\s*\n|\s[—–]\s|\s-\s|\n")
# A line break inside a sentence: after a word that needs more ("supposed to / stop deletes"), inside parentheses.
_GOES_ON = re.compile(r"(\b(?:to|and|or|the|a|an|with|in|on|of|from|for|be|not|no|can|must|should|able)|,)[ \t]*\n")


def _sentences(body: str) -> list[str]:
    """Sentences; a line break ends one unless the line plainly goes on (people wrap lines anywhere)."""
    body = re.sub(r"\([^()]*\)", lambda m: m.group(0).replace("\n", " "), body)
    body = _GOES_ON.sub(lambda m: m.group(1) + " ", body)
    return [s for s in _SENTENCE_CUT.split(body) if s.strip()]


def _segments(sentence: str) -> list[tuple[str, str]]:
    """(clause, its parenthesis) pairs: 'let it decrypt, and nothing more (no encrypt, no other keys)' — a
    parenthesis belongs to the clause it is written in."""
    parens = re.findall(r"\(([^()]*)\)", sentence)
    marked = re.sub(r"\([^()]*\)", lambda m: f" \x00{len(m.string[:m.start()].split('(')) - 1} ", sentence)
    out = []
    for part in _clauses(marked):
        idx = [int(i) for i in re.findall(r"\x00(\d+)", part)]
        out.append((re.sub(r"\x00\d+", " ", part), " ; ".join(parens[i] for i in idx if i < len(parens))))
    return out


def _clauses(main: str) -> list[str]:
    """Cut at commas and 'but', joining a piece that starts no clause of its own ('read, write and delete')."""
    from agents.coverage import tokens

    pieces = [p.strip() for p in re.split(r",|;|\bbut\b|\bthen\b", main) if p.strip()]
    out: list[str] = []
    for p in pieces:
        if out and not (set(tokens(p)) & _CLAUSE_WORDS):
            out[-1] += ", " + p
        else:
            out.append(p)
    return out


# ---------------------------------------------------------------------------------------------------------------
# Resources: the policy's own ARNs by service, names said in the text, and the ARN a name becomes.


@dataclass(frozen=True)
class Res:
    """A resource the text is about: its service, its name (bucket, table, key id, …) and its container ARN."""

    service: str
    name: str
    arn: str


def _policy_arns(policy: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for st in policy.get("Statement", []) if isinstance(policy.get("Statement"), list) else [policy.get("Statement")]:
        if not isinstance(st, dict):
            continue
        res = st.get("Resource", [])
        out += [r for r in ([res] if isinstance(res, str) else res) if isinstance(r, str) and r.startswith("arn:")]
    return out


def _policy_actions(policy: dict[str, Any]) -> list[str]:
    out: list[str] = []
    sts = policy.get("Statement", [])
    for st in sts if isinstance(sts, list) else [sts]:
        if isinstance(st, dict):
            act = st.get("Action", [])
            out += [a for a in ([act] if isinstance(act, str) else act) if isinstance(a, str)]
    return out


def _split_arn(arn: str) -> tuple[str, str, str, str, str]:
    parts = arn.split(":", 5)
    parts += [""] * (6 - len(parts))
    return parts[1], parts[2], parts[3], parts[4], parts[5]


def _res_of_arn(arn: str) -> Res | None:
    """The container a policy or text ARN names: bucket of an object, table of an index, key, queue, …"""
    part, svc, region, acct, rest = _split_arn(arn)
    if svc == "s3":
        name = rest.split("/", 1)[0]
        return Res("s3", name, f"arn:{part}:s3:::{name}") if name and "*" not in name else None
    kinds = {"dynamodb": "table/", "kms": "key/", "logs": "log-group:", "secretsmanager": "secret:"}
    if svc in kinds:
        if not rest.startswith(kinds[svc]):
            return None
        name = re.split(r"[/:]", rest[len(kinds[svc]):], maxsplit=1)[0]
        if not name or "*" in name:
            return None
        return Res(svc, name, f"arn:{part}:{svc}:{region}:{acct}:{kinds[svc]}{name}")
    if svc in ("sqs", "sns") and rest and "*" not in rest:
        return Res(svc, rest, arn)
    return None


def _where(service: str, policy_arns: list[str], text_arns: list[str]) -> tuple[str, str, str] | None:
    """(partition, region, account) for a new ARN of the service: the policy's own ARNs of it, else any ARN."""
    for pool in ([a for a in policy_arns if _split_arn(a)[1] == service], [a for a in text_arns + policy_arns
                                                                           if _split_arn(a)[1] == service],
                 [a for a in policy_arns + text_arns if _split_arn(a)[3]]):
        for a in pool:
            part, _, region, acct, _ = _split_arn(a)
            if region and acct:
                return part, region, acct
    return None


def _arn(service: str, name: str, where: tuple[str, str, str] | None) -> str | None:
    if service == "s3":
        return f"arn:aws:s3:::{name}"
    if where is None:
        return None
    part, region, acct = where
    tail = {"dynamodb": f"table/{name}", "kms": f"key/{name}", "logs": f"log-group:{name}",
            "secretsmanager": f"secret:{name}", "sqs": name, "sns": name}.get(service)
    return f"arn:{part}:{service}:{region}:{acct}:{tail}" if tail else None


def _other(r: Res) -> Res:
    """A resource of the same kind and place that is not `r` ("other tables", "no other keys")."""
    name = OTHER_KEY if r.service == "kms" else f"other-than-{r.name}"
    if r.service == "kms" and r.name == OTHER_KEY:
        name = "ffffffff-0000-0000-0000-000000000000"
    base = r.arn[: len(r.arn) - len(r.name)] if r.arn.endswith(r.name) else None
    return Res(r.service, name, (base + name) if base else r.arn + "-other")


_S3_BUCKET_ACTIONS = frozenset({"ListBucket", "DeleteBucket", "GetBucketLocation", "GetBucketPolicy",
                                "PutBucketPolicy", "ListBucketVersions"})
_LOG_STREAM_ACTIONS = frozenset({"PutLogEvents", "GetLogEvents"})


def _resource_for(action: str, r: Res | None) -> str | None:
    """The request resource of an action on a container: objects of a bucket get the sample key."""
    svc, name = action.split(":", 1)
    if svc == "ec2" and name.startswith("Describe"):
        return "*"
    if r is None:
        return None
    if svc == "s3" and name not in _S3_BUCKET_ACTIONS:
        return f"{r.arn}/{SAMPLE}"
    if svc == "logs" and name in _LOG_STREAM_ACTIONS:
        return f"{r.arn}:log-stream:{SAMPLE}"
    return r.arn


# ---------------------------------------------------------------------------------------------------------------
# Reading one clause.


@dataclass
class _State:
    """What the text has said so far: the resource last meant per service, the service last meant, the allows."""

    policy_arns: list[str]
    text_arns: list[str]
    policy_services: list[str]
    said: dict[str, list[Res]]              # every resource named anywhere in the text, by service, in order
    last: dict[str, Res] = field(default_factory=dict)
    service: str | None = None
    allowed: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    policy: dict[str, Any] = field(default_factory=dict)

    def allows_now(self, action: str, resource: str) -> bool:
        """Whether the pasted policy allows it today ('and nothing more' limits what is added, not what is kept)."""
        from policies import PolicyError, is_allowed, parse_policy, parse_request

        try:
            return is_allowed(parse_policy(self.policy), parse_request({"action": action, "resource": resource}))
        except (PolicyError, ValueError):
            return False

    def context(self, service: str) -> Res | None:
        """'the table', 'that key', no resource said: the last one meant, else the one named, else the policy's."""
        if service in self.last:
            return self.last[service]
        said = self.said.get(service, [])
        if len({r.arn for r in said}) == 1:
            return said[0]
        own = {x.arn: x for a in self.policy_arns if (x := _res_of_arn(a)) and x.service == service}
        return next(iter(own.values())) if len(own) == 1 else None


_LOG_GROUP = re.compile(r"\blog[- ]group\s+['\"“]?(/?[A-Za-z0-9][\w./-]*?)['\"”]?(?=[\s,;)]|\.(?:\s|$)|$)")


def _name_after(cand: str) -> bool:
    """A bare word after a resource noun is its name ('table sessions', 'queue jobs') unless it is a word of the
    requirement itself ('the table or …', 'the bucket must …')."""
    from agents.coverage import FILLER

    return bool(re.fullmatch(r"[a-z0-9][a-z0-9._-]*", cand)) and not (
        cand in FILLER or cand in REQUIRE or cand in _VERB_FORMS or cand in CONTEXT or cand in SERVICE_WORDS
        or cand in GENERIC or NOUNS.get(cand, ("", ""))[1] == "container")


def _names(text: str, words: list[str], st: _State) -> tuple[list[Res], list[str], set[str]]:
    """Resources named in a clause: ARNs, and 'the "orders" table' / 'table orders' / 'the invoices bucket'.
    Returns (resources, the words they used, the services 'other …' refers to)."""
    out: list[Res] = []
    used: list[str] = []
    for a in _ARN.findall(text):
        r = _res_of_arn(a)
        if r is not None:
            out.append(r)
            used.append(a.lower())
    for name in _LOG_GROUP.findall(text):
        arn = _named_arn("logs", name, st)
        if arn:
            out.append(Res("logs", name, arn))
            used += ["log", "group", name.lower(), name.lower().strip("/")]
    quoted = {q.lower() for q in _QUOTED.findall(text)}
    others: set[str] = set()
    for i, w in enumerate(words):
        if w not in NOUNS or NOUNS[w][1] != "container" or w in ("group", "groups"):
            continue
        svc = NOUNS[w][0]
        if i > 0 and words[i - 1] in ("other", "another", "others"):
            others.add(svc)
            continue
        for j in (i - 1, i + 1):
            if not 0 <= j < len(words):
                continue
            cand = words[j]
            # "the invoices bucket"; "the uploads bucket" too: a verb form between "the" and the noun is its name
            named_by_the = j > 0 and words[j - 1] in ("the", "our", "my", "their") and cand in _VERB_FORMS
            before = j == i - 1 and (cand not in _known() or named_by_the) and \
                re.fullmatch(r"[a-z0-9][a-z0-9._-]*", cand)
            if cand in quoted or before or (j == i + 1 and _name_after(cand)):
                arn = _named_arn(svc, cand, st)
                if arn:
                    out.append(Res(svc, cand, arn))
                    used.append(cand)
                break
    return out, used, others


def _named_arn(service: str, name: str, st: _State) -> str | None:
    """A name said for a service: a policy ARN whose name is it (a secret's random suffix included), else new."""
    for a in st.policy_arns:
        r = _res_of_arn(a)
        if r and r.service == service and (r.name == name or (service == "secretsmanager"
                                                             and re.fullmatch(re.escape(name) + r"-[A-Za-z0-9]{6}",
                                                                              r.name))):
            return r.arn
    return _arn(service, name, _where(service, st.policy_arns, st.text_arns))


@cache
def _known() -> frozenset[str]:
    """Every word a read clause may hold besides names and actions (agents.coverage is imported lazily)."""
    from agents.coverage import FILLER

    return frozenset(FILLER | REQUIRE | CONTEXT | frozenset(NOUNS) | frozenset(_VERB_FORMS) | GENERIC
                     | frozenset(SERVICE_WORDS) | SYMPTOMS | frozenset("dynamodb s3 kms".split()))


def _verbs(words: list[str]) -> list[tuple[int, str]]:
    """The verbs of a clause in order; 'stop' is an EC2 verb only beside instances ('supposed to stop deletes' is a
    negation)."""
    ec2 = any(NOUNS.get(w, ("",))[0] == "ec2" for w in words)
    out = [(i, _VERB_FORMS[w]) for i, w in enumerate(words) if w in _VERB_FORMS
           and (ec2 or _VERB_FORMS[w] != "stop")] + [(i, "*") for i, w in enumerate(words) if w in GENERIC]
    return sorted(out)


def _services_of(words: list[str], text: str, res: list[Res], st: _State, names: list[str]) -> list[str]:
    svcs = [r.service for r in res] + [NOUNS[w][0] for w in words if w in NOUNS and w not in names]
    svcs += [SERVICE_WORDS[w] for w in words if w in SERVICE_WORDS and w not in ("log", "logs")]
    svcs += [m.group(1) for m in _FULL_ACTION.finditer(text) if m.group(1) in _PREFIX]
    if not svcs:
        only = {v for i, v in _verbs(words) if v != "*"}
        owners = {s for s in VERBS if only and only <= set(VERBS[s])}
        if len(owners) == 1:
            svcs.append(owners.pop())
    if not svcs and st.service:
        svcs.append(st.service)
    if not svcs and len(set(st.policy_services)) == 1:
        svcs.append(st.policy_services[0])
    return list(dict.fromkeys(svcs))


def _explicit(text: str, service: str | None) -> tuple[list[str], list[str]]:
    """Actions written out: 'kms:Decrypt', or bare 'GetItem, PutItem' with the clause's service."""
    acts = [f"{m.group(1)}:{m.group(2)}" for m in _FULL_ACTION.finditer(text)]
    used = [a.lower() for a in acts]
    stripped = _FULL_ACTION.sub(" ", _ARN.sub(" ", text))
    for m in _BARE_ACTION.finditer(stripped):
        if service:
            acts.append(f"{service}:{m.group(1)}")
            used.append(m.group(1).lower())
    return acts, used


def _polarity(words: list[str]) -> str:
    """'deny' when a negation governs the clause; a symptom ('nobody can read it anymore') asks for the allow."""
    if any(w in SYMPTOMS for w in words) or ("no" in words and "longer" in words):
        return "allow"
    lp = {i for i, w in enumerate(words) if w in ("nothing", "no") and i + 1 < len(words)
          and words[i + 1] in ("more", "else")}  # "and nothing more": least privilege, not a deny of the clause
    if any(w in NEGATIONS and i not in lp for i, w in enumerate(words)) or "nobody" in words:
        return "deny"
    return "allow"


def read_clause(text: str, st: _State, parens: str = "") -> Clause:
    """One clause into requests, a fact, or context; 'unread' when a word is not accounted for."""
    from agents.coverage import tokens
    from agents.residue import narrative

    words = tokens(text)
    c = Clause(text.strip())
    subject = _subject(words)
    if not words:
        c.kind = "context"
        return c
    res, res_used, others = _names(text, words, st)
    if _FACT.search(text.lower()):  # "the secret is encrypted with key ARN": which key is meant, no request
        for r in res:
            st.last[r.service] = r
        c.kind = "fact"
        return _account(c, words, res_used, []) or c
    services = _services_of(words, text + " " + parens, res, st, res_used)
    service = services[0] if len(services) == 1 else next((s for s in services if s != "secretsmanager"), None)
    acts, act_used = _explicit(text + " " + parens, service)
    verbs = _verbs(words)
    if not acts and not verbs and not others and not (set(words) & LEAST):
        c.kind = "context" if (narrative(words) or _all_context(words, res_used)) else "unread"
        if c.kind == "unread":
            c.why = "no action or resource I can read in it"
        for r in res:
            st.last[r.service] = r
        return c
    if len(services) > 1 and not acts:
        c.why = f"it names several services ({', '.join(services)})"
        return c
    if service is None:
        c.why = "I cannot tell which AWS service it is about"
        return c
    effect = _polarity(words)
    for r in res:
        st.last[r.service] = r
    target = next((r for r in res if r.service == service), None) or st.context(service)
    reqs: list[dict[str, Any]] = []
    if acts:
        check = _verbs_agree(verbs, acts, service)
        if check:
            c.why = check
            return c
        reqs += _reqs(acts, target, effect)
    else:
        for i, verb in verbs:
            kind = _noun_kind(words, i)
            if verb == "*":
                base = [r["action"] for r in st.allowed if r["action"].startswith(service + ":")] or \
                       [f"{service}:{a}" for d, k in VERBS[service].values() for a in d]
                acts_v = list(dict.fromkeys(base))
            elif verb not in VERBS.get(service, {}):
                c.why = f"'{verb}' is not something I know for {service}"
                return c
            else:
                data, cont = VERBS[service][verb]
                acts_v = [f"{service}:{a}" for a in (cont if kind == "container" and cont else data or cont)]
            where = _other(target) if (service in others and target and _other_after(words, i)) else target
            reqs += _reqs(acts_v, where, effect)
        if others and not verbs and target:  # "no other keys": what the text allows, on another one
            acts_o = [r["action"] for r in st.allowed if r["action"].startswith(service + ":")]
            reqs += _reqs(acts_o, _other(target), "deny")
    if any(r["resource"] is None for r in reqs) or not reqs and not (set(words) & LEAST):
        c.why = f"I cannot tell which {service} resource it means (say its name or ARN)"
        return c
    reqs = [r for r in reqs if r["resource"] is not None]
    c.kind, c.requests = effect, reqs
    st.service = service
    if effect == "allow":
        st.allowed += [r for r in reqs if r not in st.allowed]
        _typos(st, res, reqs, c)
    if _least_alone(words) and not verbs and not acts:
        c.kind, c.requests = "deny", _least(st, service, keep=True)
    elif set(words) & LEAST and effect == "allow":  # "only read": the rest goes; "… and nothing more": none added
        c.requests += _least(st, service, keep="only" not in words)
    return _account(c, words, res_used + act_used, subject) or c


_MODALS = frozenset("must should needs need can may has have will".split())


def _subject(words: list[str]) -> list[str]:
    """'the reporting job must …', 'consumers should …': the words before the first modal name who asks, when
    none of them is a verb, negation or resource word of the tables (those change what is asked)."""
    at = next((i for i, w in enumerate(words) if w in _MODALS), None)
    if at is None or at > 4:
        return []
    lead = words[:at]
    from agents.coverage import CONDITIONS, QUESTIONS
    from agents.residue import SCOPE, TIME

    if any(w in _VERB_FORMS or w in NEGATIONS or w in NOUNS or w in GENERIC or w in SYMPTOMS or w in SCOPE
           or w in TIME or w in CONDITIONS or w in QUESTIONS or w in LEAST or w.isdigit() for w in lead):
        return []  # "except weekends it must …", "only bob can …": a condition or a limit, not who asks
    return lead


def _other_after(words: list[str], i: int) -> bool:
    """The 'other' belongs to this verb: it follows it before the next verb."""
    nxt = next((j for j, _ in _verbs(words) if j > i), len(words))
    return any(w in ("other", "another", "others") for w in words[i:nxt])


def _noun_kind(words: list[str], i: int) -> str:
    """Whether the verb at `i` acts on the container ('delete the table') or what is in it ('delete items')."""
    nxt = next((j for j, _ in _verbs(words) if j > i), len(words))
    for w in words[i + 1:nxt]:
        if w in NOUNS:
            return NOUNS[w][1]
    return "data"


def _verbs_agree(verbs: list[tuple[int, str]], acts: list[str], service: str) -> str:
    """Verbs beside a written list ('read and write items (GetItem, PutItem)') must each be one of the list's."""
    names = {a.split(":", 1)[1] for a in acts}
    for _, v in verbs:
        if v == "*":
            continue
        data, cont = VERBS.get(service, {}).get(v, ((), ()))
        if not (set(data) | set(cont)) & names:
            return f"'{v}' is none of the actions listed ({', '.join(sorted(names))})"
    return ""


def _reqs(actions: list[str], r: Res | None, effect: str) -> list[dict[str, Any]]:
    out = []
    for a in actions:
        res = _resource_for(a, r)
        out.append({"action": a, "resource": res, "expect": effect})
    return out


def _least_alone(words: list[str]) -> bool:
    """'and nothing more', 'nothing else', 'no more': least privilege on what the text allows."""
    return set(words) <= (LEAST | frozenset("and no but that's it is".split())) and bool(set(words) & LEAST)


def _least(st: _State, service: str, keep: bool) -> list[dict[str, Any]]:
    """Nothing beyond the allows: the service's other actions on each allowed resource, and the allowed actions on
    another resource of its kind, are denied. `keep`: what the pasted policy allows today stays ('let it decrypt,
    and nothing more' adds nothing else; 'only read' takes the rest away)."""
    out: list[dict[str, Any]] = []
    allowed = [r for r in st.allowed if r["action"].startswith(service + ":")]
    acts = {r["action"] for r in allowed}
    targets = {(r["resource"]) for r in allowed}
    for res_arn in targets:
        r = next((_res_of_arn(a) for a in (res_arn,) if _res_of_arn(a)), None)
        if r is None:
            continue
        for data, cont in VERBS.get(service, {}).values():
            for a in data + cont:
                full = f"{service}:{a}"
                req = {"action": full, "resource": _resource_for(full, r), "expect": "deny"}
                if keep and st.allows_now(full, req["resource"]):
                    continue
                if full not in acts and req not in out:
                    out.append(req)
        for a in sorted(acts):
            req = {"action": a, "resource": _resource_for(a, _other(r)), "expect": "deny"}
            if req not in out:
                out.append(req)
    return out


def _typos(st: _State, said: list[Res], reqs: list[dict[str, Any]], c: Clause) -> None:
    """A policy resource one letter off the name said ('table/order' for "orders") is the mistake to fix: what the
    clause allows on the said name is denied on the misspelt one, and the answer says so."""
    from agents.coverage import damerau1

    for r in said:
        for a in st.policy_arns:
            p = _res_of_arn(a)
            if p and p.service == r.service and p.name != r.name and damerau1(p.name, r.name) and \
                    not any(x.name == p.name for x in st.said.get(p.service, [])):
                for q in [q for q in reqs if q["resource"] == _resource_for(q["action"], r)]:
                    c.requests.append({"action": q["action"], "resource": _resource_for(q["action"], p),
                                       "expect": "deny"})
                note = f"the policy names {p.service} '{p.name}' where you said '{r.name}'"
                if note not in st.notes:
                    st.notes.append(note)


def _all_context(words: list[str], used: list[str]) -> bool:
    from agents.coverage import FILLER

    return all(w in FILLER or w in CONTEXT or w in SYMPTOMS or w in used or w in SERVICE_WORDS for w in words)


def _account(c: Clause, words: list[str], used: list[str], extra: list[str]) -> Clause | None:
    """Every word of a read clause is filler, requirement wording, a verb/noun of the tables, a name or an action;
    otherwise the clause is unread (and its requests dropped)."""
    known = _known()
    slot = set(used) | {t for u in used for t in re.split(r"[/:=,]", u)}
    left = [w for w in words if w not in known and w not in slot and w not in extra and not w.startswith("arn:")]
    if left:
        c.kind, c.requests = "unread", []
        c.why = "I do not understand " + ", ".join(repr(w) for w in left)
    return None


# ---------------------------------------------------------------------------------------------------------------


def read(text: str, policy: dict[str, Any]) -> Requirements:
    """The requirements said around `policy` in `text`, clause by clause."""
    from agents.coverage import tokens

    body = _without_json(text)
    policy_arns = _policy_arns(policy)
    text_arns = _ARN.findall(body)
    services = [a.split(":", 1)[0] for a in _policy_actions(policy) if ":" in a]
    st = _State(policy_arns, text_arns, services, {}, policy=policy)
    # every name said anywhere (for 'the table' before or after the name) — a first pass over the whole text
    for sentence in _sentences(body):
        for main, parens in _segments(sentence):
            for part in [main, parens]:
                for r in _names(part, tokens(part), st)[0]:
                    st.said.setdefault(r.service, []).append(r)
    clauses: list[Clause] = []
    for sentence in _sentences(body):
        for main, parens in _segments(sentence):
            listed = bool(parens) and _is_action_list(parens)
            clauses.append(read_clause(main, st, parens if listed else ""))
            if parens and not listed:
                for part in re.split(r"[,;]", parens):
                    if part.strip():
                        clauses.append(read_clause(part, st))
    return Requirements(clauses, st.notes)


def _is_action_list(parens: str) -> bool:
    """'(GetItem, PutItem, UpdateItem and Query)': only action names, commas and 'and'."""
    from agents.coverage import tokens

    rest = _BARE_ACTION.sub(" ", _FULL_ACTION.sub(" ", parens))
    return bool(_BARE_ACTION.search(parens) or _FULL_ACTION.search(parens)) and all(
        w in ("and", "or", "e.g", "eg", "i.e", "ie") for w in tokens(rest))
