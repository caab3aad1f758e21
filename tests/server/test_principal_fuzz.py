"""Fuzzing principal mappings (issue 20): blank, whitespace, unicode, control characters, very long and duplicate
names and keys, through the settings loader, the HTTP API's token resolution (and a live server) and Slack links.
Every mapping is either refused with an error that names the entry but never prints a token, or accepted as
principals kubesage can act as exactly (what the API server will see is what was configured)."""

from __future__ import annotations

import json

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubesage import settings as settings_mod
from kubesage.runtime import Runtime
from server.app import create_app
from server.auth import TokenAuth
from server.loopback import LoopbackServer
from server.slack_bot import parse_users
from tools.k8s.client import Principal
from tools.k8s.identity import MAX_NAME, principal_problem

# names as people mistype them: blank, padded, unicode, control characters, very long, plain
NAMES = st.one_of(
    st.sampled_from(["", " ", "\t", "\u00a0", "\u3000", "alice", " alice", "alice ", "al ice", "system:masters",
                     "élodie", "用户", "a\x00b", "a\nb", "a\x7fb", "x" * MAX_NAME, "x" * (MAX_NAME + 1)]),
    st.text(min_size=0, max_size=300),
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=40),
)
TOKENS = st.one_of(st.sampled_from(["", " ", "tok en", "tok\n", "*"]),
                   st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_.", min_size=8, max_size=40))
ENTRY = st.fixed_dictionaries({"user": NAMES, "groups": st.lists(NAMES, max_size=4)})


def _raw_json(pairs: list[tuple[str, dict]]) -> str:
    """A JSON object that may repeat a key (json.dumps of a dict never would)."""
    return "{" + ",".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in pairs) + "}"


def _check(pairs: list[tuple[str, dict]], name: str) -> dict[str, dict]:
    """Load one fuzzed mapping; assert the loader's contract; the accepted mapping (or {} when refused)."""
    raw = _raw_json(pairs)
    try:
        cfg = settings_mod.load({"KUBESAGE_HOME": "/nonexistent-kubesage-home", f"KUBESAGE_{name.upper()}": raw})
    except settings_mod.SettingsError as e:
        msg = str(e)
        assert name in msg
        if name == "api_tokens":  # a refused entry is named by position and hash, never by its token
            names = " ".join(str(v) for _, p in pairs for v in [p["user"], *p["groups"]])
            assert not any(len(k) >= 8 and k in msg and k not in names for k, _ in pairs), msg
        return {}
    got = getattr(cfg, name)
    keys = [k for k, _ in pairs]
    assert len(set(keys)) == len(keys)  # a duplicate key is never silently resolved
    for key, p in got.items():
        assert key.strip() and principal_problem(p["user"], p["groups"]) is None
        assert p == dict(pairs)[key] | {"groups": list(dict(pairs)[key]["groups"])}  # exactly what was configured
        principal = Principal(p["user"], tuple(p["groups"]))
        assert principal.user == p["user"].strip() and len(set(principal.groups)) == len(principal.groups)
    return got


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(TOKENS, ENTRY), max_size=4))
def test_api_token_mappings(pairs):
    got = _check(pairs, "api_tokens")
    auth = TokenAuth(got) if got else None
    for token, p in got.items():
        who = auth.resolve(f"Bearer {token}")
        assert (who.principal.user, list(who.principal.groups)) == (p["user"], p["groups"])
        assert token not in (who.via or "")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.one_of(TOKENS, st.sampled_from(["U123", "U123", "*"])), ENTRY), max_size=4))
def test_slack_user_mappings(pairs):
    got = _check(pairs, "slack_users")
    linked = parse_users(got)
    assert set(linked) == set(got)  # every accepted entry links, exactly as configured
    for sid, p in got.items():
        assert linked[sid] == Principal(p["user"], tuple(p["groups"]))
    # a raw mapping that skipped the loader is filtered by the same rule: nothing invalid is ever linked
    for sid, principal in parse_users(dict(pairs)).items():
        assert principal_problem(principal.user, principal.groups) is None and sid


@settings(max_examples=1, deadline=None)
@given(st.lists(st.tuples(st.text(alphabet="abcdefghij0123456789", min_size=12, max_size=20),
                          st.fixed_dictionaries({"user": st.text(alphabet=st.characters(min_codepoint=33,
                                                                                        max_codepoint=126),
                                                                 min_size=1, max_size=30),
                                                 "groups": st.lists(st.sampled_from(["g1", "g,2", "g|3", "a b"]),
                                                                    unique=True, max_size=3)})),
                min_size=6, max_size=6, unique_by=lambda t: t[0]))
def test_a_live_server_keeps_fuzzed_principals_apart(shop, tmp_path_factory, pairs):
    """Every accepted token reaches the API as its own principal: its threads are its own, and no two principals
    (even "g,2" against ["g", "2"]-like groups) share one."""
    home = tmp_path_factory.mktemp("fuzz-live")
    cfg = settings_mod.load({"KUBESAGE_HOME": str(home), "KUBESAGE_API_TOKENS": _raw_json(pairs)})
    rt = Runtime(cfg, kubeconfig=str(shop[1]))
    srv = LoopbackServer(create_app(rt, cfg)).start()
    try:
        made: dict[str, str] = {}
        for token, _ in pairs:
            r = httpx.post(f"{srv.url}/v1/threads", headers={"Authorization": f"Bearer {token}"}, json={}, timeout=30)
            assert r.status_code == 201, r.text
            made[token] = r.json()["thread"]["thread_id"]
        scope = {t: (p["user"], sorted(p["groups"])) for t, p in pairs}
        for token, _ in pairs:
            r = httpx.get(f"{srv.url}/v1/threads", headers={"Authorization": f"Bearer {token}"}, timeout=30)
            seen = {t["thread_id"] for t in r.json()["threads"]}
            assert seen == {made[t] for t in made if scope[t] == scope[token]}
    finally:
        srv.stop()
        rt.close()
