"""The runner against a real demo-shop sandbox API server (HTTPS, the official kubernetes client): tools get real
answers through the proxy, act as the principal who asked, and write only when marked mutating."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.server import SandboxServer
from tools.k8s.client import Kube, Principal
from tools.toolsmith.runner import run_tool

ALICE = Principal("alice", ("shop-devs",))


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SandboxServer, Path]]:
    server = SandboxServer(scenarios=["demo-shop"], speed=50.0).start()
    kc = server.write_kubeconfig(tmp_path_factory.mktemp("runner") / "kubeconfig")
    time.sleep(2.5)  # two minutes of sandbox time: pods exist, checkout has crashed, metrics have samples
    yield server, kc
    server.stop()


def kube(shop, principal: Principal | None = None, read_only: bool = False) -> Kube:
    return Kube.from_kubeconfig(str(shop[1]), principal=principal, read_only=read_only)


LIST_PODS = '''
def main(kube, namespace):
    return sorted(p["metadata"]["name"] for p in kube.list("Pod", namespace))
'''


def test_a_tool_lists_the_pods_in_shop(shop):
    r = run_tool(LIST_PODS, {"namespace": "shop"}, kube(shop))
    assert r.ok, r.error
    pods, _ = shop[0].cluster.store.list("/pods", "shop")
    expected = sorted(p["metadata"]["name"] for p in pods)
    assert expected and r.value == expected
    assert any(n.startswith("checkout-") for n in r.value)
    assert r.calls == [{"method": "GET", "path": "/api/v1/namespaces/shop/pods", "query": {}, "status": 200}]


def test_the_proxy_mirrors_the_kube_read_methods(shop):
    code = '''
def main(kube):
    web = kube.get("Deployment", "shop", "web")
    pods = kube.list("Pod", namespace="shop", label_selector="app=checkout")
    logs = kube.logs("shop", pods[0]["metadata"]["name"], tail=50) or ""
    top = kube.top_pods("shop")
    busiest = max(top, key=lambda m: int(m["containers"][0]["usage"]["cpu"].rstrip("nm") or 0))
    print("checked", len(pods), "checkout pods")
    return {"web_replicas": web["spec"]["replicas"], "checkout": len(pods), "says_payments": "PAYMENTS_URL" in logs,
            "busiest": busiest["metadata"]["name"], "nodes": len(kube.top_nodes())}
'''
    r = run_tool(code, {}, kube(shop))
    assert r.ok, r.error
    web = shop[0].cluster.store.get("apps/deployments", "shop", "web")
    assert r.value["web_replicas"] == web["spec"]["replicas"]
    assert r.value["checkout"] >= 1 and r.value["says_payments"]
    assert r.value["busiest"].startswith("report-cruncher-")
    assert r.value["nodes"] >= 1
    assert r.stdout.startswith("checked ")
    assert [c["method"] for c in r.calls] == ["GET"] * 5


def test_the_principals_rights_apply(shop):
    code = '''
def main(kube):
    return [s["metadata"]["name"] for s in kube.list("Secret")]
'''
    r = run_tool(code, {}, kube(shop, ALICE))
    assert not r.ok and r.reason == "error"
    assert "403 Forbidden" in r.error and 'User "alice" cannot list resource "secrets"' in r.error
    assert r.calls[0]["status"] == 403
    admin = run_tool(code, {}, kube(shop))  # the same tool as the kubeconfig's admin identity
    assert admin.ok and isinstance(admin.value, list)


def test_a_tool_may_catch_a_kube_error_and_ask_its_rights(shop):
    code = '''
def main(kube):
    try:
        kube.get("Secret", "shop", "payments-db")
        seen = "read"
    except KubeError as e:
        seen = e.status
    return {"seen": seen, "can": kube.can_i("get", "secrets", "shop"), "pods": len(kube.list("Pod", "shop"))}
'''
    r = run_tool(code, {}, kube(shop, ALICE))
    assert r.ok, r.error
    assert r.value["seen"] == 403 and r.value["can"]["allowed"] is False and r.value["pods"] > 0
    # the access review is a POST, and a read-only tool may make it: it changes nothing
    assert any(c["method"] == "POST" and c["path"].endswith("/selfsubjectaccessreviews") for c in r.calls)


SCALE = '''
def main(kube, name, replicas):
    out = kube.request("PATCH", f"/apis/apps/v1/namespaces/shop/deployments/{name}/scale",
                       body={"spec": {"replicas": replicas}})
    return out["spec"]["replicas"]
'''


def test_a_mutating_tool_can_scale_when_allowed(shop):
    store = shop[0].cluster.store
    before = store.get("apps/deployments", "shop", "web")["spec"]["replicas"]
    try:
        r = run_tool(SCALE, {"name": "web", "replicas": before + 2}, kube(shop), mutating=True)
        assert r.ok, r.error
        assert r.value == before + 2
        assert store.get("apps/deployments", "shop", "web")["spec"]["replicas"] == before + 2
        assert r.calls[0]["method"] == "PATCH" and r.calls[0]["status"] == 200
    finally:
        run_tool(SCALE, {"name": "web", "replicas": before}, kube(shop), mutating=True)
    assert store.get("apps/deployments", "shop", "web")["spec"]["replicas"] == before


def test_mutating_tools_still_obey_rbac_and_read_only_mode(shop):
    store = shop[0].cluster.store
    before = store.get("apps/deployments", "shop", "web")["spec"]["replicas"]
    r = run_tool(SCALE, {"name": "web", "replicas": 9}, kube(shop, ALICE), mutating=True)
    assert not r.ok and "403 Forbidden" in r.error and 'User "alice" cannot patch' in r.error
    r = run_tool(SCALE, {"name": "web", "replicas": 9}, kube(shop, read_only=True), mutating=True)
    assert not r.ok and r.reason == "forbidden" and "read-only mode" in r.error
    r = run_tool(SCALE, {"name": "web", "replicas": 9}, kube(shop))  # not marked mutating
    assert not r.ok and r.reason == "forbidden" and "this tool is read-only" in r.error
    assert store.get("apps/deployments", "shop", "web")["spec"]["replicas"] == before


def test_bad_requests_come_back_as_clear_errors(shop):
    r = run_tool("def main(kube):\n    return kube.list('Widget', 'shop')\n", {}, kube(shop))
    assert not r.ok and "unknown kind 'Widget'" in r.error
    r = run_tool("def main(kube):\n    return kube.get('Deployment', 'shop', 'nope')\n", {}, kube(shop))
    assert not r.ok and "404" in r.error and "nope" in r.error
    r = run_tool(LIST_PODS, {"namespace": {1, 2}}, kube(shop))
    assert not r.ok and r.reason == "error" and "arguments are not usable" in r.error
    r = run_tool(LIST_PODS, {"wrong": "shop"}, kube(shop))
    assert not r.ok and "unexpected keyword argument 'wrong'" in r.error


def test_the_child_runs_isolated(shop):
    r = run_tool(LIST_PODS, {"namespace": "shop"}, kube(shop))
    assert r.ok
    assert r.sandbox["cpu_s"] == 5 and r.sandbox["mem_mb"] == 512
    assert set(r.sandbox) >= {"network", "filesystem", "uid", "nproc"}


EVERY_ALLOWED_MODULE = '''
import re, json, math, datetime, itertools, functools, statistics, fnmatch, ipaddress, heapq, bisect, textwrap
import decimal, fractions
import collections
import collections.abc
from collections import Counter, defaultdict, namedtuple
from typing import Any, NamedTuple, TypeVar
from datetime import datetime as dt, timezone

T = TypeVar("T")
P = namedtuple("P", "a b")


class Row(NamedTuple):
    name: str
    restarts: int = 0


class Tally:
    seen = 0

    def __init__(self, start: int) -> None:
        self.n = start


@functools.lru_cache(maxsize=None)
def fib(n: int) -> int:
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def main(kube, **args: Any) -> dict:
    pods = kube.list("Pod", args["namespace"])
    born = [dt.strptime(p["metadata"]["creationTimestamp"], "%Y-%m-%dT%H:%M:%SZ") for p in pods]
    Tally.seen = len(pods)
    rows = [Row(p["metadata"]["name"])._asdict() for p in pods if fnmatch.fnmatch(p["metadata"]["name"], "catalog-*")]
    return {
        "born_year": min(born).year, "now_aware": dt.now(timezone.utc).tzinfo is not None,
        "catalog": len(rows), "seen": Tally.seen, "tally": Tally(2).n,
        "digits": re.findall(r"[0-9]+", "a1b22"), "json": json.loads(json.dumps({"x": [1]})),
        "ceil": math.ceil(2.1), "groups": {k: len(list(g)) for k, g in itertools.groupby("aab")},
        "mean": statistics.mean([1, 2, 3, 4]), "net": ipaddress.ip_network("10.0.0.0/24").num_addresses,
        "top": heapq.nlargest(2, [5, 1, 9]), "pos": bisect.bisect([1, 3, 5], 4),
        "short": textwrap.shorten("hello world this is long", width=12),
        "dec": str(decimal.Decimal("1.10") + decimal.Decimal("2.20")), "frac": str(fractions.Fraction(3, 6)),
        "common": Counter("abca").most_common(1), "dd": dict(defaultdict(list, {"k": [1]})), "nt": list(P(1, 2)),
        "mapping": isinstance(args, collections.abc.Mapping), "fib": fib(25),
    }
'''


def test_legit_tools_can_use_every_allowed_module(shop):
    r = run_tool(EVERY_ALLOWED_MODULE, {"namespace": "shop"}, kube(shop))
    assert r.ok, r.error
    v = r.value
    pods, _ = shop[0].cluster.store.list("/pods", "shop")
    assert v["catalog"] == len([p for p in pods if p["metadata"]["name"].startswith("catalog-")]) > 0
    assert v["born_year"] >= 2024 and v["now_aware"] is True and v["seen"] >= 10 and v["tally"] == 2
    assert v["digits"] == ["1", "22"] and v["ceil"] == 3 and v["groups"] == {"a": 2, "b": 1} and v["mean"] == 2.5
    assert v["net"] == 256 and v["top"] == [9, 5] and v["pos"] == 2 and v["short"] == "hello [...]"
    assert v["dec"] == "3.30" and v["frac"] == "1/2" and v["common"] == [["a", 2]] and v["nt"] == [1, 2]
    assert v["mapping"] is True and v["fib"] == 75025 and v["dd"] == {"k": [1]}
