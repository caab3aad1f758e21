"""The IAM agent: repair, explain or write AWS IAM policies, every answer proven by the policies room (Z3).

Why the request must carry the policy (or a spec): the proof is only as good as its inputs, so this agent works
on the policy and requirements the person gives — pasted JSON, or a plain sentence such as "so alice can read the
reports bucket" for S3 — and never guesses a policy it has not seen. Live AWS policies go through `kubesage iam`
(boto3), which applies a repair only after the same approval as every other change.
"""

from __future__ import annotations

import json
import re
from typing import Any

from agents.context import AgentContext
from agents.state import AgentResult

AGENT = "iam"
SAMPLE = "any-object"  # the object key a sentence's S3 request uses; see _widen
S3_VERBS = {"read": ["s3:GetObject", "s3:ListBucket"], "list": ["s3:ListBucket"], "write": ["s3:PutObject"],
            "upload": ["s3:PutObject"], "delete": ["s3:DeleteObject"]}


def json_objects(text: str) -> list[dict[str, Any]]:
    """Every top-level JSON object in the text, in order (pasted policies and specs)."""
    out: list[dict[str, Any]] = []
    dec = json.JSONDecoder()
    i = 0
    while (i := text.find("{", i)) != -1:
        try:
            obj, end = dec.raw_decode(text, i)
        except ValueError:
            i += 1
            continue
        if isinstance(obj, dict):
            out.append(obj)
        i = end
    return out


_ITEM = re.compile(r"([a-z0-9-]+:[A-Za-z0-9*]+) on (arn:[^\s;()]+?|\*)(?: (?:as|by) ([^\s;()]+?))?"
                   r"(?: \((?:context: |with )?([^)]*)\))?(?: with ([^;]+?))?(?=;|\.\s|\.$|$)")


def _listed(section: str, expect: str) -> list[dict[str, Any]]:
    """'s3:GetObject on arn:… (context: aws:username=bob, s3:prefix=home/); …' → spec requests."""
    out = []
    for action, resource, principal, ctx, ctx2 in _ITEM.findall(section):
        ctx = ctx or ctx2
        context: dict[str, str | list[str]] = {}
        # "aws:RequestTag/env=dev, aws:TagKeys=['env', 'owner']": a comma starts a pair only before the next key
        for pair in (re.split(r",\s*(?=[A-Za-z0-9-]+:[^\s=,]+=)", ctx) if ctx else []):
            k, _, v = pair.partition("=")
            v = v.strip()
            if v.startswith("[") and v.endswith("]"):  # a multi-valued key, written as a list
                context[k.strip()] = [x.strip().strip("'\"") for x in v[1:-1].split(",") if x.strip()]
            else:
                context[k.strip()] = v
        out.append({"action": action, "resource": resource, **({"principal": principal} if principal else {}),
                    **({"context": context} if context else {}), "expect": expect})
    return out


def spec_from_sentence(text: str) -> dict[str, Any] | None:
    """The requirements in words: listed requests ('these requests are allowed: A on ARN (context: k=v); … these
    must be denied: …'), or 'so alice can read the reports bucket' for S3 (other services need a listed spec)."""
    head = text.split("{", 1)[0]
    m = re.search(r"(?:be )?allowed:(.*?)(?:and these must be denied:|$)(.*)", head, re.S | re.I)
    if m:
        reqs = _listed(m.group(1), "allow") + _listed(m.group(2), "deny")
        if reqs:
            return {"requests": reqs}
    m = re.search(r"must be denied:(.*)", head, re.S | re.I)
    if m and _listed(m.group(1), "deny"):
        return {"requests": _listed(m.group(1), "deny")}
    low = text.lower()
    reqs = []
    for m in re.finditer(r"\b([a-z][a-z0-9_.@-]*)\s+(?:can|may|should be able to|to)\s+(?:only\s+)?(read|list|write|upload|"
                         r"delete)"
                         r"\s+(?:from\s+|to\s+|objects in\s+|in\s+)?(?:the\s+)?([a-z0-9][a-z0-9.-]+)\s+bucket\b", low):
        user, verb, bucket = m.groups()
        for action in S3_VERBS[verb]:
            # a sample key stands for every object: the repair's narrowing to it is widened back to "/*" after
            res = f"arn:aws:s3:::{bucket}" if action == "s3:ListBucket" else f"arn:aws:s3:::{bucket}/{SAMPLE}"
            reqs.append({"action": action, "resource": res, "expect": "allow"})
        if re.search(r"\bonly\b|nothing else|and no more|least privilege", low):  # and everything else denied
            allowed = set(S3_VERBS[verb])
            for action in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket", "s3:DeleteBucket"):
                if action not in allowed:
                    res = f"arn:aws:s3:::{bucket}" if "Bucket" in action else f"arn:aws:s3:::{bucket}/{SAMPLE}"
                    reqs.append({"action": action, "resource": res, "expect": "deny"})
            reqs.append({"action": "s3:GetObject", "resource": f"arn:aws:s3:::other-than-{bucket}/{SAMPLE}",
                         "expect": "deny"})
            reqs.append({"action": "iam:CreateUser", "resource": "*", "expect": "deny"})
    return {"requests": reqs} if reqs else None


def _widen(policy: dict[str, Any], spec: Any) -> tuple[dict[str, Any], bool]:
    """A repair narrows to the requests it was given; for a sentence ("alice can read the reports bucket") the one
    object key in them is a stand-in for every object, so put `bucket/*` back — only if the spec still holds."""
    from policies import check, parse_policy

    text = json.dumps(policy)
    if f"/{SAMPLE}" not in text and f":{SAMPLE}" not in text:
        return policy, False
    wide = json.loads(text.replace(f"/{SAMPLE}\"", "/*\"").replace(f":{SAMPLE}\"", ":*\""))
    if check(parse_policy(wide), spec).holds:
        return wide, True
    return policy, False


def _asked(raw_spec: dict[str, Any]) -> dict[str, Any] | None:
    """The allows as the person meant them: a sample object key stands for every object ('reads must work' on a
    bucket means every object in it). None when no request uses the sample."""
    sts = [{"Effect": "Allow", "Action": r["action"], "Resource": r["resource"].replace(SAMPLE, "*")}
           for r in raw_spec["requests"] if r["expect"] == "allow" and SAMPLE in r["resource"]]
    return {"Version": "2012-10-17", "Statement": sts} if sts else None


def _bound_with(original: Any, repaired: Any, spec: Any, asked: Any) -> bool:
    """Z3: `repaired` allows nothing beyond `original` ∪ `asked` (the asked allows with every object) ∪ the spec's
    allows — the repair's own bound, with the sample key read as what it stands for."""
    import z3

    from policies.encoding import Encoder, SymbolicRequest, Universe
    from policies.verify import solve

    universe = Universe.of([original, repaired, asked], [c.request for c in spec.cases])
    req = SymbolicRequest(universe)
    enc = Encoder(req)
    cons = req.domain() + [enc.allows(repaired), z3.Not(enc.allows(original)), z3.Not(enc.allows(asked))]
    cons += [z3.Not(req.same_as(c.request)) for c in spec.cases if c.expect_allow]
    res, _ = solve(cons, 20_000)
    return res == z3.unsat


def _rescue(policy: Any, spec: Any, result: Any, raw_spec: dict[str, Any]) -> dict[str, Any] | None:
    """A repair the bound refused only because it opens every object where the spec names a sample one ('reads must
    work again' on a bucket): widen the candidate to every object, check the spec on it, and prove it allows nothing
    beyond the original policy plus the allows as asked. None when any step fails."""
    from policies import check, parse_policy
    from policies.parser import policy_to_json

    asked = _asked(raw_spec)
    cand = result.policy or result.best_effort
    if asked is None or cand is None:
        return None
    text = json.dumps(policy_to_json(cand))
    wide = json.loads(text.replace(f"/{SAMPLE}\"", "/*\"").replace(f":{SAMPLE}\"", ":*\""))
    parsed = parse_policy(wide)
    if not check(parsed, spec).holds or not _bound_with(policy, parsed, spec, parse_policy(asked)):
        return None
    return wide


def _answer_rescued(raw_policy: dict[str, Any], fixed: dict[str, Any], result: Any, read: list[str],
                    data: dict[str, Any]) -> AgentResult:
    from policies import parse_policy
    from policies.parser import dumps_policy

    edits = result.edits or result.best_effort_edits
    lines = [f"Repaired with {len(edits)} change(s):", *[f"  - {e.text}" for e in edits],
             "  - then widened the sample object key to every object (bucket/*)",
             "It fixes:", *[f"  {v.describe()}" for v in result.violations],
             "Proof: every requirement holds on the widened policy, and Z3 proved it allows nothing beyond the "
             "pasted policy plus what you asked (on every object)", "", dumps_policy(parse_policy(fixed)), "",
             *read, "", "Diff:", *_diff(raw_policy, fixed)]
    data = {**data, "status": "repaired", "policy": fixed, "repaired_policy": fixed, "extra": None,
            "message": "repaired; bound proven with the asked allows on every object"}
    return AgentResult(AGENT, "\n".join(lines), [v.describe() for v in result.violations], data=data)


def _read_lines(plain: Any, raw_spec: dict[str, Any]) -> list[str]:
    """The requests read from plain words, as proven: what the person can check against what they meant."""
    if plain is None:
        return []
    out = ["Requirements read from your words (each proven on the policy below):"]
    out += [f"  {r['expect']:5} {r['action']} on {r['resource']}" for r in raw_spec["requests"]]
    out += [f"  note: {n}" for n in plain.notes]
    return out


def _diff(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    import difflib

    a = json.dumps(before, indent=2).splitlines()
    b = json.dumps(after, indent=2).splitlines()
    return list(difflib.unified_diff(a, b, "policy (pasted)", "policy (repaired)", lineterm=""))


# The words around a pasted policy and spec that this agent fully acts on: repair / write / explain a policy, the
# listed-requests form, and the S3 sentence form. A clause beyond those ("and also let bob start ec2 instances",
# "except on weekends") is a requirement the proof would not cover, so the agent does not act on it.
VOCAB = frozenset("""repair fix policy policies iam aws this so satisfies satisfy spec specification without allowing
allow allowed anything more requests request must denied deny be these following can may able read list write upload
delete bucket buckets only nothing else least privilege get objects object no explain summarize summarise describe
does what check verify write create generate synthesize synthesise draft make json document statement statements
s3 amazon""".split()) | {"should be able to", "and no more", "least privilege"}
ASK = ("Paste the policy JSON and say what must be allowed or denied, as a spec {\"requests\": [...]}, as 'these "
       "requests are allowed: ACTION on ARN; …', or as 'so USER can read the BUCKET bucket'; put any other "
       "requirement in one of those forms.")
_SENTENCE = re.compile(r"\b([a-z][a-z0-9_.@-]*)\s+(?:can|may|should be able to|to)\s+(?:only\s+)?(read|list|write|"
                       r"upload|delete)\s+(?:from\s+|to\s+|objects in\s+|in\s+)?(?:the\s+)?([a-z0-9][a-z0-9.-]+)\s+"
                       r"bucket\b")
# A bucket named in a requirement ("for the reports bucket", "the logs buckets"): the name is a slot value.
_BUCKET = re.compile(r"\b([a-z0-9][a-z0-9.-]*)\s+buckets?\b")


def understood_text(text: str) -> tuple[str, dict[str, Any]]:
    """The request with what the parsers consumed taken out (pasted JSON objects and listed spec requests), and
    the slots of the sentence form (user, verb, bucket) and the buckets named ("the reports bucket": a name, not a
    word to understand): what `agents.coverage` accounts for."""
    dec = json.JSONDecoder()
    rest, i = [], 0
    while (j := text.find("{", i)) != -1:
        try:
            _, end = dec.raw_decode(text, j)
        except ValueError:
            rest.append(text[i:j + 1])
            i = j + 1
            continue
        rest.append(text[i:j] + " ")
        i = end
    rest.append(text[i:])
    remainder = _ITEM.sub(" ", "".join(rest))
    low = remainder.lower()
    slots: dict[str, Any] = {"sentences": [list(m.groups()) for m in _SENTENCE.finditer(low)],
                             "buckets": [b for b in _BUCKET.findall(low) if b not in VOCAB]}
    return remainder, slots


def run(ctx: AgentContext) -> AgentResult:
    from agents.coverage import understand
    from agents.decide import Reading, decide

    remainder, slots = understood_text(ctx.text)
    u = understand(remainder, AGENT, "policy", slots, VOCAB)
    plain = _plain(ctx, u.confident)
    if plain is not None:  # requirements in plain words: every clause read, or abstain naming the ones that were not
        reqs, understood = plain
        why = "; ".join(f"I could not read {c.text!r} ({c.why})" for c in reqs.unread)
        return decide(ctx, AGENT, [Reading(understood, lambda: _act(ctx, reqs))], ASK, why)
    return decide(ctx, AGENT, [Reading(u, lambda: _act(ctx))], ASK)


_EXPLAIN = re.compile(r"\b(explain|summari[sz]e|describe|what does|what can)\b", re.I)


def _plain(ctx: AgentContext, set_form_confident: bool) -> tuple[Any, Any] | None:
    """The plain-words reading (`agents.iam_requirements`) when a policy is pasted with no spec in a set form and
    the words ask for requests: its requirements and the understanding `decide` weighs (the words of unread
    clauses are the ones not understood)."""
    from agents.coverage import Understanding, tokens
    from agents.iam_requirements import read

    objs = json_objects(ctx.text)
    policy = next((o for o in objs if "Statement" in o), None)
    if policy is None or any("requests" in o for o in objs) or spec_from_sentence(ctx.text) is not None:
        return None
    if set_form_confident and _EXPLAIN.search(ctx.text.split("{", 1)[0]):
        return None
    reqs = read(ctx.text, policy)
    if not reqs.requests and (set_form_confident or not reqs.unread):
        return None
    used = [w for c in reqs.clauses if c.kind != "unread" for w in tokens(c.text)]
    unused = [w for c in reqs.unread for w in tokens(c.text)]
    return reqs, Understanding(AGENT, "repair", {"requests": len(reqs.requests)}, used, unused)


def _act(ctx: AgentContext, plain: Any = None) -> AgentResult:
    """Repair (policy and spec), write (spec and a verb to write), or explain (policy alone). `plain`: the
    requirements read from plain words (`agents.iam_requirements.Requirements`), the spec when given."""
    from policies import PolicyError, SpecError, UnsupportedError, parse_policy, parse_spec
    from policies.parser import dumps_policy, policy_to_json

    objs = json_objects(ctx.text)
    raw_policy = next((o for o in objs if "Statement" in o), None)
    raw_spec = plain.spec() if plain is not None else (next((o for o in objs if "requests" in o), None)
                                                       or spec_from_sentence(ctx.text))
    low = ctx.text.lower()
    try:
        if raw_policy is not None and raw_spec is not None:
            from policies.repair import repair

            policy, spec = parse_policy(raw_policy), parse_spec(raw_spec)
            result = repair(policy, spec, time_budget=20.0)
            data = result.to_json()
            read = _read_lines(plain, raw_spec)
            if result.status == "holds":
                return AgentResult(AGENT, "\n".join(["The policy already meets every requirement; nothing to repair.",
                                                     *read]),
                                   ["verified against the spec with Z3"], data={**data, "repaired_policy": raw_policy})
            rescued = _rescue(policy, spec, result, raw_spec) if plain is not None and not result.ok else None
            if rescued is not None:
                return _answer_rescued(raw_policy, rescued, result, read, data)
            if not result.ok or result.policy is None:
                if plain is not None:  # an unproven best effort is not a proposal
                    data = {k: v for k, v in data.items() if k != "policy"}
                return AgentResult(AGENT, "\n".join([f"I found no repair that meets the spec: {result.message}",
                                                     *read]), data=data)
            fixed, widened = _widen(policy_to_json(result.policy), spec)
            lines = [f"Repaired with {len(result.edits)} change(s), proven in {result.seconds:.2f} s:"]
            lines += [f"  - {e.text}" for e in result.edits]
            if widened:
                lines.append("  - then widened the sample object key back to every object (bucket/*); the spec was "
                             "checked again on the widened policy")
            lines += ["It fixes:"] + [f"  {v.describe()}" for v in result.violations]
            proof = result.proof.summary() if result.proof else "spec verified"
            lines += [f"Proof{' (of the repair before widening)' if widened else ''}: {proof}", "",
                      dumps_policy(parse_policy(fixed))]
            if plain is not None:
                lines += ["", *read, "", "Diff:", *_diff(raw_policy, fixed)]
            return AgentResult(AGENT, "\n".join(lines), [v.describe() for v in result.violations],
                               data={**data, "repaired_policy": fixed})
        if raw_spec is not None and re.search(r"\b(write|create|generate|synthesi[sz]e|draft|make)\b", low):
            from policies.synthesize import synthesize

            result = synthesize(parse_spec(raw_spec))
            if not result.ok or result.policy is None:
                return AgentResult(AGENT, f"I could not write a policy for that spec: {result.message}")
            fixed = policy_to_json(result.policy)
            return AgentResult(AGENT, "A least-privilege policy for the spec (proven):\n" + dumps_policy(result.policy),
                               ["synthesized and verified with Z3"], data={"policy": fixed})
        if raw_policy is not None:
            from policies.summary import summarize

            s = summarize(parse_policy(raw_policy))
            return AgentResult(AGENT, s.text(parse_policy(raw_policy)), data=s.to_json())
    except (PolicyError, SpecError, UnsupportedError) as e:
        return AgentResult(AGENT, f"That policy or spec is not valid: {e}")
    ask = ("Paste the IAM policy JSON (and, to repair it, what must be allowed or denied: a spec {\"requests\": [...]} "
           "or a sentence like 'so alice can read the reports bucket'). Policy files work with `kubesage iam "
           "check|repair|explain` too.")
    # a question back, not an answer: nothing was read, so nothing of a request split around it is acted on alone
    return AgentResult(AGENT, ask, data={"abstain": {"understood": [], "not_understood": [], "ask": ask}})
