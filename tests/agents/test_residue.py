"""agents.residue: which unused words are context and which could change the plan (issue 15)."""

from __future__ import annotations

import pytest

from agents.coverage import understand
from agents.residue import identifiers, negated, operative, without_told

KNOWN = frozenset({"web", "catalog", "shop", "checkout", "api", "payments"})
SCALE = ("scale-replicas", {"targets": [{"name": "web", "replicas": 2}], "namespace": "shop"},
         {"scale", "bring", "down", "replicas"})


def _u(text: str, intent: str, slots: dict, vocab: set[str]):
    return understand(text, "x", intent, slots, vocab, KNOWN)


@pytest.mark.parametrize("text", [
    "could you bring web in shop down to 2 replicas? traffic is low this week. thanks",
    "scale web in shop to 2 replicas, we're saving money on the cluster",
    "scale web in shop to 2 replicas. I think someone bumped it by mistake",
    "scale web in shop to 2 replicas and don't touch anything else",
    "scale web in shop to 2 replicas, leave catalog alone",
])
def test_reasons_stories_and_satisfied_limits_are_context(text: str) -> None:
    u = _u(text, *SCALE)
    assert u.confident, (u.unused, u.context)


@pytest.mark.parametrize("text,word", [
    ("scale web in shop to 2 replicas and catalog to 0", "catalog"),
    ("scale web in shop to 2 replicas tonight", "tonight"),
    ("scale web in shop to 2 replicas but only on weekdays", "weekdays"),
    ("scale web in shop to 2 replicas if the load drops", "if"),
    ("scale web in shop to 2 replicas and show me its pods", "show"),
    ("scale web in shop to 2 replicas and restart it", "restart"),
    ("scale web in shop to 2 replicas, keep web as it is", "keep"),
    ("scale web in shop to 2 replicas. also restart it", "restart"),
    ("scale web in shop to 2 replicas, don't scale catalog", "not"),
    ("scale webb in shop to 2 replicas", "webb"),
    ("scale web in shop to 2 replicas in the Berlin region", "berlin"),
    ("scale web in shop to 2 replicas, we need three for LOG_SINK", "log_sink"),
])
def test_what_could_change_the_plan_stays_not_understood(text: str, word: str) -> None:
    u = _u(text, *SCALE)
    assert not u.confident and word in u.unused, (u.unused, u.context)


def test_a_negation_is_satisfied_only_by_a_plan_that_does_not_do_it() -> None:
    hpa = ("create-hpa", {"workload": "web", "min": 2, "max": 6, "target": 60}, {"autoscale", "cpu", "target",
                                                                                 "between", "and", "at"})
    assert _u("autoscale web between 2 and 6 at 60% cpu, don't scale it by hand", *hpa).confident
    env = ("set-env", {"workload": "api", "env": {"TIMEOUT": "30"}}, {"set", "env"})
    u = _u("set env TIMEOUT=30 on api, don't restart it", *env)
    assert not u.confident  # setting env rolls the pods: the negation cannot be honoured
    assert _u("set env TIMEOUT=30 on api but keep its LOG_LEVEL", *env).confident  # not touched by the plan
    assert not _u("set env TIMEOUT=30 on api but keep TIMEOUT as it is", *env).confident  # contradicts the plan


def test_a_negated_permission_is_about_the_grant() -> None:
    grant = ("grant-access", {"subject": "ci-bot", "verbs": ["get", "list"], "resources": ["nodes"]},
             {"give", "get", "list", "nodes", "access"})
    assert _u("give ci-bot get and list access to nodes; it shouldn't be able to change nodes", *grant).confident
    wide = ("grant-access", {"subject": "ci-bot", "verbs": ["get", "update"], "resources": ["nodes"]},
            {"give", "get", "update", "nodes", "access"})
    assert not _u("give ci-bot get and update access to nodes; it shouldn't be able to change nodes", *wide).confident


def test_a_question_beside_a_change_is_not_the_change() -> None:
    r = ("rollout-restart", {"targets": [{"name": "web"}]}, {"restart", "restarts", "does", "have"})
    assert not _u("how many restarts does web have", *r).confident
    assert _u("how many restarts does web have", "pod-restarts", {"workload": "web"}, {"restarts", "have", "many"}).confident


def test_number_words_count_as_numbers_not_as_pronouns() -> None:
    read = ("usage", {"workload": "web"}, {"cpu", "web"})
    assert _u("cpu of web? the current one is fine", *read).confident
    assert not _u("cpu of web, top three pods", *read).confident


def test_names_written_as_identifiers() -> None:
    ids = identifiers('set "api-settings" and LOG_LEVEL in the Berlin zone. Then stop')
    assert {"api-settings", "log_level", "berlin"} <= ids and "then" not in ids
    assert operative("replicas", ids, frozenset()) and operative("traffic-free", ids, frozenset())  # a name
    assert not operative("roughly", ids, frozenset())


def test_negated_and_told_clauses() -> None:
    assert negated("why is checkout crashing? don't fix it, I'll do it through gitops") == {"change"}
    assert negated("give bob read access; he shouldn't be able to delete pods") == set()
    assert negated("catalog pods in shop won't start, why?") == set()  # a symptom, not an instruction
    assert without_told("find deployments using :latest — we're banning those") == "find deployments using :latest"
    assert without_told("which PVCs are not Bound, and how big are they?") == \
        "which PVCs are not Bound, and how big are they?"  # a question after "and" is asked, not told
    assert without_told("list pods of 'web-2' — we renamed web-2 last week") == \
        "list pods of 'web-2' — we renamed web-2 last week"  # a told clause that names something stays


def test_restart_in_a_why_question_is_the_symptom() -> None:
    from agents.logs import VOCAB

    u = understand("restart payments in shop", "logs", "diagnose", {"workload": "payments", "namespace": "shop"},
                   VOCAB, KNOWN)
    assert not u.confident  # an order: the rollout restart's, not the diagnosis's


def test_how_many_asks_for_a_count() -> None:
    u = _u("how many service accounts are in shop", "can-i", {"namespace": "shop"}, {"can", "service", "account"})
    assert not u.confident and "many" in u.unused


def test_a_clause_that_only_says_what_the_request_is_for_is_context():
    from agents.residue import purpose

    assert purpose(["for", "the", "load", "test", "later"])
    assert not purpose(["for", "tonight", "scale", "web"])  # an order in it
    assert not purpose(["for", "web", "if", "it", "is", "healthy"])  # a condition in it


def test_a_superlative_asks_for_a_ranking():
    from agents.residue import operative

    assert operative("busiest", frozenset(), frozenset()) and operative("heaviest", frozenset(), frozenset())
    assert not operative("heavy", frozenset(), frozenset())


def test_a_place_said_is_not_context_even_when_the_cluster_has_no_such_namespace():
    from agents.coverage import understand

    u = understand("create a service account 'tester' in qa", "resources", "author",
                   {"name": "tester", "kind": "ServiceAccount", "namespace": "default"}, {"create", "service", "account"})
    assert "qa" in u.unused
    ok = understand("create a service account 'tester' in the morning", "resources", "author",
                    {"name": "tester", "kind": "ServiceAccount"}, {"create", "service", "account"})
    assert "morning" in ok.unused  # a time: still operative, as before (a deferral)


@pytest.mark.parametrize("clause,told", [
    ("a config change went out and the pods did not pick it up", True),
    ("the catalog deployment in shop points at nginx:1.277 which obviously does not exist", True),
    ("security asked me to double check", True),
    ("we do not need the report-cruncher right now", True),
    ("we have got a marketing push starting in an hour", True),
    ("the api deployment to 4 replicas please", False),
    ("we have to scale web to 5", False),
    ("the web deployment should run 5 replicas", False),
])
def test_told_clauses(clause, told):
    from agents.coverage import tokens
    from agents.residue import narrative

    assert narrative(tokens(clause)) is told


def test_an_order_verb_used_as_a_noun_asks_nothing():
    from agents.coverage import tokens
    from agents.residue import _verbs_as_nouns

    assert "patch" in _verbs_as_nouns(tokens("we need the security patch"))
    assert "change" in _verbs_as_nouns(tokens("a config change went out"))
    assert "restart" not in _verbs_as_nouns(tokens("do a rolling restart and restart web"))


def test_loose_words_are_the_context_of_clauses_that_ask():
    from agents.residue import loose

    assert loose("total cpu requests of pods in web", ["total"]) == ["total"]
    assert loose("delete the debug pod, it's not needed anymore", ["needed", "anymore"]) == []


def test_a_negation_that_filters_is_not_an_instruction():
    from agents.coverage import understand

    u = understand("list secrets in web that no pod mounts", "resources", "read", {"kind": "Secret", "namespace": "web"},
                   {"list", "secrets"})
    assert "no" in u.unused or "mounts" in u.unused


def test_second_thoughts_asides_and_what_every_change_does():
    from agents.residue import context_words, loose

    def still(text: str, unused: list[str], intent: str = "scale-replicas") -> list[str]:
        return context_words(text, unused, intent, {}, frozenset())[0]

    # a retraction no reading has applied leaves the request not understood
    assert still("scale web to 5. no wait, that isn't right", [])
    assert still("scale web to 5, scratch that", [])
    # a short aside that names nothing is a label; one that names or limits something is read
    assert not still("ci-bot shouldn't read secrets any more (security finding). fix it", ["finding"], "revoke")
    from agents.residue import _asides

    assert _asides("give ci-bot access (read-only, nothing more) (get and list) (see OPS-12) (all pods)", [], []) == []
    # verified and kept: said of every change, asked of nothing more
    text = "switch catalog to nginx:1.28 and make sure it rolls out"
    assert not still(text, ["rolls", "out"], "set-image") and loose(text, ["rolls", "out"]) == []
    assert not still("suspend nightly-report until further notice", ["until", "further", "notice"], "cronjob-suspend")
    # a count pointing back at what was said is no count
    assert not still("let it read configmaps and secrets. only those two resources, nothing else", ["two"],
                     "grant-access")


@pytest.mark.parametrize("text,unused,intent", [
    ("the chekout deployment (shop ns) is using way too many pods for the traffic we get, please take it down to one",
     ["many", "traffic"], "scale-replicas"),                       # the aside leaves its sentence one told clause
    ("please label the namespace shop with team=payments so our cost reports pick it up", ["reports"], "set-labels"),
    ("Hi team-bot! scale web to 6", ["team-bot"], "scale-replicas"),  # who is greeted is no object
    ("we over-provisioned: set web to 2 replicas", ["over-provisioned"], "scale-replicas"),
    ("add FEATURE_FLAGS=beta to web, the frontend folks asked for it", ["frontend"], "set-env"),
    ("the web deployment only has 3 replicas. could you bump it to 6?", ["only"], "scale-replicas"),
    ("two things: scale web to 5, and restart orders", ["two", "things"], "scale-replicas"),
    ("who can read secrets in shop? asking for the audit", ["asking", "audit"], "who-can"),
    ("bob needs to view deployments in shop for his on-call shifts", ["on-call", "shifts"], "grant-access"),
    ("set LOG_LEVEL=debug on orders in shop, only for troubleshooting", ["only", "troubleshooting"], "set-env"),
    ("ci-bot should not read secrets any more; it still needs deployments. can you sort that out?", ["sort", "out"],
     "narrow-access"),
])
def test_what_is_told_around_a_request_is_context(text, unused, intent):
    from agents.residue import context_words, loose

    still, context = context_words(text, unused, intent, {}, frozenset(), frozenset({"frontend"}))
    assert still == [] and sorted(context) == sorted(unused)
    assert all(w not in loose(text, context) for w in ("team-bot", "two", "things"))


def test_an_order_beside_a_read_is_not_answered_by_it():
    from agents.coverage import understand

    text = "orders has no memory limit. please give its container a 256Mi memory limit"
    assert "give" in understand(text, "metrics", "usage", {"workload": "orders"}, {"memory", "limit"}).unused
    assert understand("give me the top 3 pods by cpu", "metrics", "usage", {"top": 3},
                      {"give", "top", "pods", "cpu"}).confident


def test_not_a_fix_asks_for_no_change():
    from agents.residue import negated

    assert "change" in negated("why do the orders pods keep restarting? I'd like the root cause, not a fix")
    assert not negated("is it not running?")


def test_make_sure_is_no_order_beside_a_read():
    from agents.coverage import _orders

    assert _orders("make sure we have a model server in models, just tell me its name") == []
    assert _orders("make a configmap x in shop") == ["make"]


def test_a_purpose_with_a_time_stays_a_time():
    from agents.residue import context_words

    assert context_words("scale web in shop to 3 for the weekend", ["weekend"], "scale-replicas", {}, frozenset())[0]


def test_a_refused_resource_is_satisfied_only_beside_a_grant():
    from agents.residue import context_words

    assert context_words("pods without memory limits", ["without", "memory", "limits"], "diagnose", {},
                         frozenset())[0]
    assert not context_words("give ci-bot create on configmaps, but nothing on secrets", ["nothing", "secrets"],
                             "grant-access", {}, frozenset({"configmaps"}))[0]
