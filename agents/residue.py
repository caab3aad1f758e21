"""What the words a fast path did not use say: context a person adds, or something the plan would have to do.

Why: people write to an assistant the way they write to a colleague. "Could you bring web down to 2 replicas?
traffic is low this week, thanks" asks for one scale; "the lambda fails with AccessDenied since someone widened the
Deny" tells a story around one repair. Requiring every word to belong to an intent's vocabulary makes a fast path
refuse every request worded in a way nobody foresaw; ignoring the words it did not use makes it act on half a
request ("… and the catalog to 0", "… but only for the sidecar"). The middle is to read the unused words for
what could change the plan, and count only those as not understood:

- **operative** words always count: names (anything with a digit or `-_.:/=@`, anything quoted or written in
  capitals as an identifier, the names of objects and namespaces in the cluster), numbers, the Kubernetes
  vocabulary (kinds and the parts of objects a person names: image, port, label, limit…), the verbs of acting
  and of asking for an answer (delete, scale, show, compare…), scope words (all, every, except, other, per…),
  conditions (if, unless) and times (tonight, tomorrow, later);
- every other word is **context**: a reason, a feeling, a story ("we archive those", "roughly is fine").

Operative words in three kinds of clause are context too, because the plan already satisfies them or they are
not addressed to kubesage:
- **narrative**: a clause whose subject is the person or someone else and whose verb is not a wish ("we're
  adding read replicas", "I think someone widened it", "I'll do it through gitops"); "I want / we need / you
  should …" is a request, not a narrative. Names in a narrative still count; a number told ("it's currently at
  2", "it has 0 replicas anyway") is context (a fast path that reads counts reads them from the whole text, so a
  told count it would act on is still its slot).
- **negated**: "don't / never / shouldn't / nothing / without …" up to the end of its clause: satisfied when the
  plan does not do what is negated (its effects, `EFFECTS`): "don't scale it by hand" beside an autoscaler,
  "don't create another" beside a read. A negated generic verb ("don't touch …", "don't change …") is satisfied
  only about *other* things ("else", "other", "rest") or objects the plan does not touch. A negated permission
  ("they shouldn't be able to change nodes") is satisfied by a grant whose verbs do not include it.
- **preservation**: "keep / leave / preserve …", "as it is", "nothing else", "only that": satisfied by a plan that
  changes only what it names (every fast path's plan is minimal) and deletes nothing, as long as what is kept is not
  a slot the plan changes.

The tables are the rule; no request is special-cased.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

# -- the vocabulary that can change a plan ---------------------------------------------------------------------------
# Verbs of acting, by the class of effect they ask for. A plan's effects (`EFFECTS`) are in the same classes.
VERB_CLASSES: dict[str, str] = {w: cls for cls, words in {
    "create": """create creates created creating add adds added adding make makes made making new spin deploy deploys
        deployed deploying launch launches launched provision provisions install installs installed generate generates
        setup expose exposes exposed""",
    "delete": """delete deletes deleted deleting remove removes removed removing drop drops dropped destroy destroys
        destroyed kill kills killed purge purges purged clean cleans cleaned cleaning evict evicts evicted wipe wipes
        uninstall prune prunes pruned terminate terminates terminated erase rid ditch nuke scrap discard decommission""",
    "scale": """scale scales scaled scaling resize resizes resized shrink grow grows""",
    "restart": """restart restarts restarted restarting bounce bounces bounced recycle recycles recycled reboot
        reboots redeploy redeploys redeployed roll rolls rolled rolling rollout recreate recreates recreated
        recreating""",
    "change": """change changes changed changing modify modifies modified edit edits edited update updates updated
        updating patch patches patched set sets setting alter alters altered adjust adjusts adjusted tweak bump bumps
        bumped raise raises raised lower lowers lowered increase increases increased decrease decreases decreased
        rename renames renamed replace replaces replaced move moves moved switch switches switched upgrade upgrades
        upgraded downgrade downgrades pin pins pinned unpin enable enables enabled disable disables disabled suspend
        suspends suspended resume resumes resumed pause pauses paused cordon uncordon drain drains drained taint
        label labels labeled labelled annotate annotates annotated mount mounts mounted attach attaches attached
        detach inject point points migrate migrates migrated fix fixes fixed fixing repair repairs repaired correct
        corrects corrected mend sort revert reverts reverted undo rollback apply applies applied cap caps capped
        throttle throttles restrict restricts constrain reduce reduces isolate quarantine protect harden rotate
        rotates renew renews regenerate reset resets clear clears flush backup restore restores copy clone sync
        trigger triggers execute exec start stop stops halt block blocks unblock approve reject promote tag retag push
        build rebuild reschedule expand extend shorten""",
    "grant": """grant grants granted granting give gives gave allow allows allowed let lets permit permits bind
        binds bound authorize authorise revoke revokes revoked deny denies denied""",
    "generic": """touch touches touched mess affect affects affected do does skip skips skipped ignore ignores omit
        exclude cancel cancels forget hold""",
}.items() for w in words.split()}

# Verbs of asking for an answer: a second question beside an action (or a different question) is a second request.
READ_VERBS = frozenset("""show shows list lists display print describe explain tell report count compare compared
    check checks verify validate review audit inspect investigate analyze analyse look
    rank ranked find search grep export dump watch monitor notify graph plot chart summarize summarise diff
    estimate predict forecast calculate compute trace""".split())

# The parts of Kubernetes objects, and the kinds, that people name. A word here is an object or field the plan
# would have to handle.
K8S_NOUNS = frozenset("""pod pods container containers sidecar sidecars initcontainer deployment deployments
    replicaset replicasets statefulset statefulsets daemonset daemonsets job jobs cronjob cronjobs service services svc
    ingress ingresses endpoint endpoints endpointslice configmap configmaps secret secrets namespace namespaces node
    nodes pv pvs pvc pvcs volume volumes claim claims storageclass storage serviceaccount serviceaccounts account
    accounts role roles rolebinding rolebindings clusterrole clusterroles clusterrolebinding binding bindings hpa hpas
    autoscaler pdb pdbs disruption quota quotas limitrange networkpolicy networkpolicies policy policies crd crds
    event events log logs image images tag tags version versions digest replica replicas port ports targetport
    nodeport label labels annotation annotations selector selectors env environment variable variables var vars
    probe probes liveness readiness startup limit limits request requests cpu cpus memory mem disk gpu gpus
    resources resource taint taints toleration tolerations affinity antiaffinity schedule cron command commands args
    argument arguments entrypoint mount mounts path paths key keys data value values field fields spec status
    condition conditions strategy revision revisions history timeout timeouts threshold target min max minimum
    maximum percent percentage utilization utilisation usage latency p50 p90 p95 p99 rate rates throughput
    traffic tls cert certs certificate certificates host hosts hostname dns domain url urls user users group groups
    subject subjects verb verbs permission permissions rights access privilege privileges admin readonly write writes
    owner finalizer finalizers priority runtime runtimeclass securitycontext root privileged capability
    capabilities network ip loadbalancer clusterip protocol tcp udp http https grpc weight canary bucket buckets arn
    action actions effect statement statements principal principals kms dynamodb table tables queue topic lambda
    context contexts cluster clusters kubeconfig adapter adapters lora model models backend backends server servers
    registry pull credentials token tokens password passwords webhook crashloop oom oomkilled backoff timezone
    zone zones region regions utc gmt""".split())

# Symptoms: a problem the answer must address. The diagnosis consumes them; beside any other intent they are a
# question that intent does not answer ("what is wrong with payments" is not a rollout status).
SYMPTOMS = frozenset("""wrong broken failing fails failed failure crashing crash crashes crashed down slow slowing
    slows error errors erroring problem problems issue issues dying dies died dead stuck hanging hang hangs hogs hog
    hogging leaking leak leaks oom oomkilled unhealthy unavailable unreachable pending restarting flapping
    misbehaving""".split())
SCOPE = frozenset("""all every each both other others another except excluding unless if instead rather per top
    bottom most least either neither whether whichever whatever everything anything across also additionally plus
    then too only many between above below under beyond exceed exceeds exceeding fewer less greater higher than at_least
    at_most""".split())
# A second thought said in the request ("no wait, that isn't right", "scratch that", "on second thought …"): what it
# takes back is not said in a form any reading has (agents.corrections applies the ones that name what goes), so a
# reading of the rest has not understood the request.
RETRACTION = re.compile(r"\b(?:no\s*,?\s*wait|wait\s*[,.!—–-]|scratch\s+that|never\s*mind|on\s+second\s+thoughts?|"
                        r"hold\s+on\b(?!\s+to)|that'?s\s+(?:not\s+right|wrong)|that\s+(?:isn'?t|is\s+not|was\s+not|"
                        r"wasn'?t)\s+right|i\s+(?:made\s+a\s+mistake|misspoke)|ignore\s+(?:that|what\s+i\s+(?:just\s+)?"
                        r"said)|oops)", re.I)
# Deferral: acting now on a request for later is a wrong action.
TIME = frozenset("""tonight tomorrow later midnight weekend weekends weekday weekdays weekly daily hourly nightly
    schedule scheduled until cron night nights morning mornings evening evenings week weeks month months day days hour
    hours minute minutes temporarily temporary monday tuesday wednesday thursday friday saturday sunday""".split())
# Numbers written as words are numbers.
NUMBER_WORDS = frozenset("""zero one two three four five six seven eight nine ten eleven twelve twenty fifty hundred
    single double triple twice thrice half halve dozen couple""".split())
NEGATIONS = frozenset("not no never nothing none nor without neither".split())
# A superlative asks for a ranking ("which node is busiest"): an answer that does not rank has not answered it.
RANKING = re.compile(r"[a-z]{2,}iest|biggest|largest|smallest|highest|lowest|newest|oldest|latest|fastest|slowest|"
                     r"longest|shortest|greatest|worst|best|hottest|coldest")
PRESERVE = frozenset("""keep keeps leave leaves preserve preserves retain retains untouched unchanged alone stay stays
    remain remains""".split())
# A wish or an obligation turns a first-person clause into a request ("we need 3 replicas", "I want it gone").
WISH = frozenset("""want wants wanted wanna need needs needed would like wish must should shall have has gotta
    expect expects require requires prefer going please""".split())
SUBJECTS = frozenset("""i we they he she it this that there someone somebody nobody everyone everybody people users
    customers team folks""".split())
_JOINS = frozenset("and but or so also then plus".split())
_IT = frozenset("it this that them these those".split())
_BECAUSE = frozenset("because cause cuz".split())
_PEOPLE = frozenset("""folks team teams people guys devs developers engineers squad crew owners oncall on-call lead leads
    manager managers folk""".split())
_GREETINGS = frozenset("hi hey hello hiya dear yo morning evening greetings howdy".split())
_NOT_TOLD = frozenset("if unless whether only until".split())  # a condition or a limit is asked, not told
COPULA = frozenset("is are was were been seems looks".split())
OTHER = frozenset("else other others rest another more".split())
PERMISSION = frozenset("able allowed permitted access rights permission permissions".split())
QUESTION_START = frozenset("""what which who whom whose how why where when is are was were does do did can could
    will would should has have""".split())

# What each intent's plan does, by the classes above. An intent not listed may do anything (every class): a negated
# or preserving clause beside it is never taken as satisfied.
ALL = frozenset({"create", "delete", "scale", "restart", "change", "grant"})
READ = frozenset()
EFFECTS: dict[str, frozenset[str]] = {
    # answers: nothing changes
    "usage": READ, "read": READ, "status": READ, "who-can": READ, "can-i": READ, "list-adapters": READ,
    "query": READ, "pod-restarts": READ, "diagnose-only": READ, "logs-tail": READ, "pod-node": READ, "object-field": READ,
    # the metrics agent's range questions (agents.metrics_range)
    "compare": READ, "latency": READ, "requests": READ, "top": READ, "trend": READ, "restarts": READ, "window": READ,
    # changes
    "scale-replicas": frozenset({"scale"}), "scale": frozenset({"scale"}),
    "create-hpa": frozenset({"create", "change"}), "autoscale": frozenset({"create", "change"}),
    "set-env": frozenset({"change", "restart"}), "env-from": frozenset({"change", "restart"}), "set-image": frozenset({"change", "restart"}),
    "set-resources": frozenset({"change", "restart"}), "set-labels": frozenset({"change", "restart"}),
    "rollout-restart": frozenset({"restart"}), "restart": frozenset({"restart"}),
    "undo": frozenset({"change", "restart"}),
    "recreate-pvc": frozenset({"delete", "create", "restart"}),
    "delete-jobs": frozenset({"delete"}), "delete": frozenset({"delete"}),
    "delete-hpa": frozenset({"delete"}),
    "cronjob-schedule": frozenset({"change"}), "cronjob-suspend": frozenset({"change"}),
    "create-namespace-workload": frozenset({"create"}), "author": frozenset({"create"}),
    "grant-access": frozenset({"create", "grant"}), "grant": frozenset({"create", "grant"}),
    "self-grant": frozenset({"create", "grant"}), "bind-role": frozenset({"create", "grant"}),
    "revoke": frozenset({"delete", "change", "grant"}), "list-rights": READ,  # agents.fastpaths.rbac_revoke, agents.rbac
    "fix-role-resource": frozenset({"change", "grant"}),
    "change": frozenset({"change", "restart"}),
    "deploy": frozenset({"create"}), "load-adapter": frozenset({"change"}), "unload-adapter": frozenset({"change"}),
    "policy": frozenset({"change", "grant"}),
}
# RBAC verbs a negated permission word stands for ("shouldn't be able to change nodes").
_RBAC_OF = {"create": {"create"}, "delete": {"delete", "deletecollection"}, "scale": {"update", "patch"},
            "restart": {"update", "patch"}, "change": {"update", "patch"}, "grant": {"bind", "escalate"},
            "generic": {"create", "update", "patch", "delete", "deletecollection"}}

_NAME_CHARS = re.compile(r"[0-9\-_.:/=@]")
_NUMBER = re.compile(r"\d+(?:%|m|mi|gi|ki|x)?")  # a count or a quantity told; a version (1.23) names something
# Clause boundaries in the text as written: sentence and clause punctuation, dashes set apart by spaces, and the
# conjunctions that start a new clause.
_CLAUSE_CUT = re.compile(r"[.;:!?()\n,]+(?:\s|$)|\s[—–-]+\s|[—–]|\s(?:but|and then|then|though|although|as|while)\s|"
                         r"\s(?=(?:so|because|cause|cuz)\s)|\s(?:and|but)\s(?=(?:please\s+)?(?:leave|keep|don'?t|do\s+not|"
                         r"never|nothing)\b)", re.I)


def _stem_in(word: str, table: Iterable[str] | Mapping[str, Any]) -> bool:
    """`word` or its singular/plural is in `table`."""
    return word in table or word.rstrip("s") in table or (word + "s") in table or (word[:-2] in table
                                                                                     and word.endswith("es"))


def verb_class(word: str) -> str | None:
    """The effect class of an acting verb (its inflections are in the table)."""
    return VERB_CLASSES.get(word)


def identifiers(text: str) -> frozenset[str]:
    """Words the text writes as identifiers: quoted, in backticks, or in capitals with an underscore or of 2+
    capital letters (`LOG_LEVEL`, `TLS`). Lower-cased, as `coverage.tokens` gives them."""
    out: set[str] = set()
    for q in re.findall(r"['\"`“”‘’]([^'\"`“”‘’\n]{1,80})['\"`“”‘’]", text):
        if not re.search(r"\s(?:s|t|re|ll|ve|d|m)\b", " " + q[:3]):  # not the inside of two contractions
            out.update(w.lower() for w in re.findall(r"[A-Za-z0-9_][A-Za-z0-9_.:/@=-]*", q))
    out.update(w.lower() for w in re.findall(r"\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b", text))
    # A capitalised word inside a sentence is a proper name ("the Berlin timezone", "since Monday").
    for sentence in re.split(r"[.!?:;()\n]+", text):
        out.update(w.lower() for w in re.findall(r"(?<=\s)[A-Z][a-z]+\b", sentence.strip()) if w != "I")
    return frozenset(out)


# The operative words long enough for a one-letter typo to count (built once, not on every word read).
_TYPO_TARGETS = frozenset(v for v in (*VERB_CLASSES, *READ_VERBS, *K8S_NOUNS, *TIME) if len(v) >= 5)


def operative(word: str, ids: frozenset[str], known: frozenset[str]) -> bool:
    """Whether an unused word could change what the plan must do (see the module docstring)."""
    from agents.coverage import damerau1

    if _NAME_CHARS.search(word) or word in ids or word in known:
        return True
    if len(word) >= 4 and any(abs(len(k) - len(word)) <= 1 and damerau1(word, k) for k in known):
        return True  # a typo of a name in the cluster ("webb"): which object is meant is not settled
    if word in SCOPE or word in TIME or word in READ_VERBS or word in VERB_CLASSES or word in NEGATIONS \
            or word in NUMBER_WORDS or word in PRESERVE or word in SYMPTOMS or RANKING.fullmatch(word):
        return True
    if _stem_in(word, K8S_NOUNS):
        return True
    if len(word) >= 5:  # a typo of an operative word is operative: "delte", "deploymnet"
        return any(abs(len(v) - len(word)) <= 1 and damerau1(word, v) for v in _TYPO_TARGETS)
    return False


_IS = re.compile(r"\b(it|that|there|here|he|she|what|who|where|this)['’]s\b", re.I)


def clauses(text: str) -> list[list[str]]:
    """The text cut into clauses, each as its words (`coverage.tokens`)."""
    from agents.coverage import tokens

    text = _IS.sub(lambda m: m.group(1) + " is", text)  # "it's for the upgrade" keeps its verb
    # a bracketed aside is a clause of its own, and the sentence around it one clause ("the checkout deployment (shop
    # ns) is using too many pods" tells, whole)
    asides = _ASIDE.findall(text)
    text = _ASIDE.sub(" ", text)
    return [t for t in (tokens(part) for chunk in (text, *asides) for part in _CLAUSE_CUT.split(chunk)) if t]


# Words that are a subject only when a verb follows ("it keeps crashing", "this is fine"), and otherwise a
# determiner or an object ("check this policy", "scale it").
_WEAK_SUBJECTS = frozenset("it this that there".split())
_DETERMINERS = frozenset("the a an our my its their his her your".split())
# Past forms that tell what happened ("went out", "broke", "did not"): a clause built on one is a story.
PAST = frozenset("""went came broke got did was were had made took ran fell left began stopped failed crashed died
    happened changed started""".split())
# Present forms that tell ("the deployment points at …", "the pod keeps dying"): never a plural noun ("the new ones").
TELLS = frozenset("""points keeps says looks seems fails crashes dies runs uses has does goes returns gets shows throws
    logs prints hangs waits sits stays needs wants lacks misses breaks exits restarts""".split())


def _verb_like(word: str) -> bool:
    return word in COPULA or word in {"just", "still", "never", "always", "will", "would", "can", "could", "did",
                                      "does", "was", "has", "had", "got"} or (len(word) > 3 and word.endswith(("s", "ed"))
                                                                              and not _stem_in(word, K8S_NOUNS))


def _past(word: str) -> bool:
    """A past form that tells: "went", "asked", "broke" (never a Kubernetes noun)."""
    return word in PAST or (len(word) > 4 and word.endswith("ed") and not _stem_in(word, K8S_NOUNS))


def _wish(words: list[str], i: int) -> bool:
    """words[i] turns the clause into a request: a wish or an obligation ("we need", "you should", "we have to");
    "have"/"has"/"going" only with "to" after them ("we've got a push", "it has 0 replicas" tell)."""
    w = words[i]
    if i and words[i - 1] in ("not", "longer"):  # "we don't need it right now", "we no longer need it": told
        return False
    if w in ("have", "has", "going"):
        return i + 1 < len(words) and words[i + 1] == "to"
    return w in WISH


def narrative(words: list[str]) -> bool:
    """A clause that tells rather than asks: a person or someone else as its subject, no wish or obligation, not a
    question; or a plain statement with a copula ("traffic is low this week")."""
    while words and (words[0] in _JOINS or words[0] in _BECAUSE):  # "and how big are they?" is a question
        words = words[1:]
    if not words or words[0] in QUESTION_START or verb_class(words[0]) or words[0] in READ_VERBS:
        return False
    lead = words[1:] if words[0] in ("i", "we") else words
    if len(lead) > 2 and lead[0] in ("need", "needed", "want", "wanted") and lead[1] in _IT and lead[2] == "for":
        return True  # "need it for the upgrade plan": why the answer is wanted, not another request
    if any(_wish(words, i) or (w in _NOT_TOLD and not _told_only(words, i)) for i, w in enumerate(words)):
        return False
    at = next((i for i, w in enumerate(words[:3]) if w in SUBJECTS and (w not in _WEAK_SUBJECTS or (
        i + 1 < len(words) and _verb_like(words[i + 1])))), None)
    if at is None and (words[0] in _DETERMINERS or (len(words) > 1 and _past(words[1]))):
        # "a config change went out", "the catalog deployment points at nginx:1.277", "security asked me to double
        # check": a noun phrase (an order never opens with one), then a verb that tells (past, third person)
        if any(i and (_past(w) or w in COPULA or w in TELLS) for i, w in enumerate(words)):
            return True
    if at is not None:  # a subject first: "we're adding…", not "also set it to 5" (a verb before it: an order)
        return not any(verb_class(w) or w in READ_VERBS for w in words[:at])
    # a plain statement: "traffic is low this week", "payments in shop is running 1 pod"
    return any(w in COPULA for w in words[1:6]) and not any(w == "you" or verb_class(w) or w in READ_VERBS
                                                          for w in words[:next(i for i, w in enumerate(words)
                                                                                  if w in COPULA)])


def _told_only(words: list[str], i: int) -> bool:
    """ "only" of a told amount ("the web deployment only has 3 replicas", "it's only at 2"), not a limit asked."""
    nxt = words[i + 1] if i + 1 < len(words) else ""
    return words[i] == "only" and (nxt in TELLS or nxt in COPULA or nxt in ("has", "have", "had", "got", "runs", "run")
                                   or nxt.isdigit() or (i > 0 and words[i - 1] in COPULA))


def purpose(words: list[str]) -> bool:
    """A clause that only says what a request is for: "for the load test later", "for the audit next week". It asks
    nothing (no order or answer verb, no condition), so a time in it is when the purpose is, not when to act."""
    while words and words[0] in _JOINS - {"so"}:
        words = words[1:]
    if len(words) > 2 and words[0] == "so" and (words[1] in SUBJECTS or words[1] in _DETERMINERS or words[1] == "that"):
        words = ["for", *words[1:]]  # "so our cost reports pick it up": what the change is for
    if len(words) > 2 and words[0] in ("asking", "it's", "its", "this", "that's") and "for" in words[1:3]:
        words = words[words.index("for", 1):]  # "asking for the audit", "it's for the audit": what the answer is for
    while words and words[0] in _BECAUSE:
        words = words[1:]
    return len(words) > 1 and words[0] == "for" and not any(
        ((verb_class(w) or w in READ_VERBS) and words[i - 1] not in _DETERMINERS) or w in _NOT_TOLD or w in NEGATIONS
        or w in SCOPE for i, w in enumerate(words))  # "for the audit": a noun after "the", not an order


def _satisfied_negation(words: list[str], at: int, effects: frozenset[str], touched: frozenset[str],
                        granted: frozenset[str], ids: frozenset[str] = frozenset(),
                        known: frozenset[str] = frozenset()) -> bool:
    """The words after the negation at `at` ask the plan not to do something it does not do."""
    span = words[at + 1:]
    classes = {c for w in span if (c := verb_class(w))}
    if not classes:  # "not the sidecar", "no more than 3": a limit on what is meant, for the intent to consume
        if "grant" in effects and effects != ALL and any(_stem_in(w, K8S_NOUNS) for w in span) and \
                not any(w in touched or _stem_in(w, touched) for w in span):
            return True  # "… but nothing on secrets": a grant that names no secrets gives none
        return not any(operative(w, ids, known) for w in span)
    if any(w in PERMISSION for w in words):  # "they shouldn't be able to change nodes": about what a grant gives
        wanted_off = set().union(*(_RBAC_OF[c] for c in classes))
        return not (wanted_off & granted)
    if any(w in OTHER for w in span):  # "don't touch anything else": a minimal plan touches nothing else
        return True
    if classes & {"generic", "change"} and effects:
        # "don't change it" / "don't touch web": about what the plan touches; "don't change its min and max"
        # beside a plan that sets only the target: about something else.
        nouns = [w for w in span if operative(w, ids, known) and not verb_class(w)]
        if not nouns or any(w in touched for w in span):
            return False
    return not (classes - {"generic", "change"}) & effects


def _satisfied_preservation(words: list[str], effects: frozenset[str], touched: frozenset[str]) -> bool:
    """"keep …", "leave … alone", "nothing else": the plan deletes nothing and keeps away from what is kept."""
    if "delete" in effects:
        return False
    return not any(w in touched and not w.isdigit() for w in words if w not in PRESERVE)


def without_told(text: str) -> str:
    """The text with its narrative clauses taken out ("… — we're banning those"), for readers that account for words
    by position (the toolsmith's rules); a clause that names something stays."""
    from agents.coverage import tokens

    ids = identifiers(text)
    keep = [part + cut for part, cut in _parts(text) if not ((words := tokens(part)) and narrative(words) and not any(
        _NAME_CHARS.search(w) or w in ids for w in words))]
    return "".join(keep).strip(" ,;—–-") or text


def _parts(text: str) -> list[tuple[str, str]]:
    """The text as written, cut into (clause, the cut after it); joined again they give the text back."""
    out, at = [], 0
    for m in [*_CLAUSE_CUT.finditer(text), None]:
        out.append((text[at:m.start() if m else len(text)], m.group(0) if m else ""))
        at = m.end() if m else len(text)
    return out


def loose(text: str, context: Iterable[str]) -> list[str]:
    """The context words that sit in a clause that asks (not one that tells, says what the request is for, negates or
    keeps): words a reading passed over in the request itself ("total cpu requests", "configmaps with the key THEME").
    A reading with loose words is good enough for the agent the request was sent to, never for another agent that
    picks the request up (agents.supervisor)."""
    asked: set[str] = set()
    for words in clauses(text):
        if narrative(words) or purpose(words) or any(w in NEGATIONS or w in PRESERVE for w in words) or \
                (words[0] in _GREETINGS and len(words) <= 3):
            continue
        asked.update(words)
    # said of every change, a label on the request, or what it is for
    settled = set(_assured(text)) | set(_asides(text, (), ())) | set(_prefaced(text))
    return [w for w in context if w in asked and w not in settled]


def told_counts_dropped(text: str) -> str:
    """The text with the counts of its told clauses blanked ("payments is running 1 pod and that's too few. please
    make it 3": the 1 is what is, not what to do), for readers that take a count from anywhere in the text."""
    from agents.coverage import tokens

    return "".join((re.sub(r"(?<![\w.:/-])\d+(?![\w.:/%-])", " ", part) if narrative(tokens(part)) else part) + cut
                   for part, cut in _parts(text))


def asks(words: list[str]) -> bool:
    """The words ask for something: an action or answer verb, or a question word. "only those two resources, nothing
    else" and "a number per pod please" limit a neighbouring request; they ask nothing of their own."""
    return any(verb_class(w) or w in READ_VERBS or w in QUESTION_START for w in words)


def negated(text: str) -> set[str]:
    """The effect classes a request asks not to happen ("don't fix it" → change; "without restarting" → restart),
    leaving out negated permissions ("they shouldn't be able to …"), which are about a grant, not the plan."""
    out: set[str] = set()
    for words in clauses(text):
        # an instruction not to ("do not", "never", "without", "must not"), not a description ("it won't start")
        at = next((i for i, w in enumerate(words) if w in ("never", "without") or (
            w == "not" and i and words[i - 1] in ("do", "must", "should", "shall")) or (
            w in ("not", "no") and i == 0)), None)  # "… the root cause, not a fix"
        if at is None or any(w in PERMISSION for w in words) or any(w in OTHER for w in words[at + 1:]):
            continue
        out.update(c for w in words[at + 1:] if (c := verb_class(w)))
    return out


_ALWAYS_NUMERIC = frozenset("half halve double triple twice thrice".split())
_BEFORE_NUMBER = frozenset("to at by of from than top first last only every".split())


# What every change already does or leaves as it is: kubesage verifies each change after the apply ("make sure it
# rolls out", "and check it comes up healthy") and a change stays until changed again ("until further notice", "for
# the time being"). Beside a change these words ask nothing more; beside a read they are not read here.
_ASSURANCE = re.compile(r"\b(?:and\s+)?(?:make\s+sure|ensure|check|verify|confirm|see)\s+(?:that\s+)?(?:it|they|the\s+"
                        r"(?:rollout|new\s+pods?|pods?|deployment))\s+(?:rolls?\s+out|rolled\s+out|comes?\s+up|came\s+up|"
                        r"(?:is|are)\s+(?:healthy|up|ready|running|fine|ok)|works?|goes\s+through|succeeds?|finish(?:es)?|"
                        r"completes?)(?:\s+(?:fine|ok|properly|cleanly|successfully|afterwards|after))*\b|"
                        r"\buntil\s+further\s+notice\b|\bfor\s+the\s+time\s+being\b|\bindefinitely\b|\bfor\s+good\b|"
                        r"\b(?:sort|take\s+care\s+of|handle|deal\s+with)\s+(?:it|that|this)(?:\s+out)?(?=\s*[?.!]*\s*$)",
                        re.I)  # "… can you sort that out?": the change the request describes, asked for
# A preface that only announces what follows ("two things:", "quick one -", "a couple of requests:")
_PREFACE = re.compile(r"(?:^|(?<=[.!?]\s))\s*(?:(?:ok|so|hey|hi)[\s,]+)?(?:(?:two|three|four|a\s+couple\s+of|a\s+few|some|"
                      r"couple(?:\s+of)?)\s+(?:things|requests|asks|items|changes|questions)|quick\s+(?:one|question|request|"
                      r"ask)|one\s+more\s+thing|also)\s*[:,—–-]", re.I)


def _assured(text: str) -> list[str]:
    """The words of what every change does anyway ("make sure it rolls out"); prefaces are `_prefaced`'s."""
    from agents.coverage import tokens

    return [w for m in _ASSURANCE.finditer(text) for w in tokens(m.group(0))]


def _prefaced(text: str, known: Iterable[str] = ()) -> list[str]:
    """The words of a preface ("two things:") and of a trailing purpose phrase that names nothing ("… for his on-call
    shifts", "… for the quarterly review")."""
    from agents.coverage import tokens

    out = [w for m in _PREFACE.finditer(text) for w in tokens(m.group(0))]
    for m in _FOR_WHAT.finditer(text):
        words = tokens(m.group(0))
        at = words.index("for") + 1
        if not any(_stem_in(w, K8S_NOUNS) or w in NEGATIONS or w in SCOPE or w in TIME or verb_class(w)
                   or w in READ_VERBS or _NUMBER.fullmatch(w) or w in known or _NAME_CHARS.search(w.replace("-", ""))
                   for w in words[at:]):
            out += words
    return out


# "… for his on-call shifts", "… for the quarterly review": what it is for, at the end of a clause
_FOR_WHAT = re.compile(r"\b(?:(?:only|just)\s+)?for\s+(?:(?:his|her|their|our|my|your|the|a|an|this|that)\s+)?"
                       r"(?:[a-z][a-z-]*\s*){1,3}(?=[.,;!?]|$)", re.I)


_ASIDE = re.compile(r"\(([^()]{1,60})\)")


def _asides(text: str, ids: Iterable[str], known: Iterable[str]) -> list[str]:
    """The words of short bracketed asides that name nothing and ask nothing ("(security finding)", "(long story)"):
    a label the person puts on the request, not a part of it. An aside with a name, a number, a Kubernetes word, a
    negation, a scope, a time or an order verb ("(read-only, nothing more)", "(get and list)") is read as written."""
    from agents.coverage import tokens

    names = set(ids) | set(known)
    out: list[str] = []
    for m in _ASIDE.finditer(text):
        words = tokens(m.group(1))
        if not words or len(words) > 4:
            continue
        if any(w in names or _NAME_CHARS.search(w) or _stem_in(w, K8S_NOUNS) or w in NEGATIONS or w in SCOPE or
               w in TIME or w in PRESERVE or w in NUMBER_WORDS or (verb_class(w) or w in READ_VERBS) and
               not (i and w.endswith("ing")) for i, w in enumerate(words)):
            continue
        out += words
    return out


def _numeric(word: str, words: list[str]) -> bool:
    """A number word used as a number somewhere in the request ("to one replica", "top three", "two resources"), not
    as a pronoun ("the current one", "if there is one already")."""
    if word in _ALWAYS_NUMERIC:
        return True
    for i, w in enumerate(words):
        if w != word:
            continue
        after = words[i + 1] if i + 1 < len(words) else ""
        before = words[i - 1] if i else ""
        if before in ("those", "these"):
            continue  # "only those two resources": a count of what was said, pointing back
        if before in _BEFORE_NUMBER or _stem_in(after, K8S_NOUNS) or after in ("more", "less", "of", "or", "to"):
            return True
    return False


def _verbs_as_nouns(words: list[str]) -> frozenset[str]:
    """Order verbs used only as nouns: right after a determiner, or after a determiner and one word that is no verb
    ("the security patch", "a config change", "the update"). Such a word names a thing; it asks nothing."""
    def nounish(i: int) -> bool:
        return i > 0 and (words[i - 1] in _DETERMINERS or (i > 1 and words[i - 2] in _DETERMINERS and not
                                                             verb_class(words[i - 1]) and words[i - 1] not in K8S_NOUNS))
    seen: dict[str, bool] = {}
    for i, w in enumerate(words):
        if verb_class(w) and not _stem_in(w, K8S_NOUNS):
            seen[w] = seen.get(w, True) and nounish(i)
    return frozenset(w for w, only in seen.items() if only)


_FILTER_LEAD = frozenset("that which who whose where with having".split())
_PLACE_WORDS = frozenset("in into -n namespace ns --namespace".split())
_NOT_PLACES = frozenset("""the a an this that it its my our your their all any every each some one order case fact
    general particular short total addition future past meantime time advance production prod""".split())


def _places(words: list[str]) -> frozenset[str]:
    """Words said as where something is or goes ("in qa", "-n staging", "namespace qa"): a namespace not (yet) in the
    cluster is still the place asked for, so a plan elsewhere has not understood it."""
    out = set()
    for i, w in enumerate(words[:-1]):
        if w in _PLACE_WORDS:
            nxt = words[i + 1]
            if nxt == "the" and i + 2 < len(words):
                nxt = words[i + 2]
            if nxt not in _NOT_PLACES and nxt not in TIME and not nxt.isdigit() and nxt.isascii():
                out.add(nxt)
    return frozenset(out)


def context_words(text: str, unused: Iterable[str], intent: str, slots: Mapping[str, Any], touched: frozenset[str],
                  known: frozenset[str] = frozenset()) -> tuple[list[str], list[str]]:
    """Split `unused` (the words no vocabulary or slot took) into (still not understood, context)."""
    unused = list(unused)
    taken_back = RETRACTION.search(text)
    if taken_back:  # "… no wait, that isn't right": the person took something back; what, no reading knows
        return [*unused, taken_back.group(0).strip()], []
    if not unused:
        return [], []
    effects = EFFECTS.get(intent, ALL)
    granted = frozenset(str(v).lower() for v in (slots.get("verbs") or []) if isinstance(v, str))
    if "grant" in effects and not granted:
        granted = frozenset(_RBAC_OF["generic"])  # a grant whose verbs the path did not say: assume the worst
    ids = identifiers(text)
    free: set[str] = set()      # operative words a clause makes context
    held: set[str] = set()      # operative words some clause keeps operative
    for words in clauses(text):
        if words[0] in _GREETINGS and len(words) <= 3 and not any(w in known for w in words[1:]):
            free.update(words)  # "Hi team-bot!": who is greeted is no object
            continue
        if narrative(words) or purpose(words):
            # a hyphenated word in what is told that names nothing in the cluster ("we over-provisioned") is a word;
            # a name before a word for people is a team ("the frontend folks asked for it")
            free.update(w for w in words if re.fullmatch(r"[a-z]+(?:-[a-z]+)+", w) and w not in ids and w not in known)
            free.update(w for w, nxt in zip(words, words[1:], strict=False) if nxt in _PEOPLE and w not in ids)
            # what the person tells ("it's currently at 2", "it has 0 replicas anyway") is context, numbers too;
            # names stay operative (a name told may still be the object the plan must be about)
            free.update(w for w in words if (not _NAME_CHARS.search(w) or _NUMBER.fullmatch(w)) and w not in ids
                        and w not in known)
            continue
        neg = next((i for i, w in enumerate(words) if w in NEGATIONS), None)
        if neg is not None and neg and words[neg - 1] in _FILTER_LEAD:
            neg = None  # "secrets that no pod mounts", "pods with no limits": which objects, not what not to do
        if neg is not None and _satisfied_negation(words, neg, effects, touched, granted, ids, known):
            free.update(words[neg:])
            words = words[:neg]
        if any(w in PRESERVE for w in words) and _satisfied_preservation(words, effects, touched):
            free.update(w for w in words if w not in touched)
            continue
        held.update(words)
    aside = set(_asides(text, ids, known)) | set(_prefaced(text, known)) | (set(_assured(text)) if effects - READ else set())
    held -= aside
    free |= aside
    still, context = [], []
    from agents.coverage import tokens

    all_words = tokens(text)
    where = _places(all_words)
    nouns = _verbs_as_nouns(all_words)
    for w in unused:
        if w in NUMBER_WORDS and not _numeric(w, all_words):
            context.append(w)
        elif w in nouns and w in free | held and w not in where:
            context.append(w)  # "we need the security patch": a noun, no order
        elif (operative(w, ids, known) or w in where) and (w in held or w not in free):
            still.append(w)
        else:
            context.append(w)
    return still, context
