"""demo-shop: each fault looks on the sandbox exactly as on a real cluster, and fixing it through the API heals it.

The sandbox clock runs 50x faster here, so backoffs and rollouts take seconds of real time.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.server import SandboxServer
from tests.sandbox.conftest import Kubectl
from tests.waiting import until

SPEED = 50.0
EXPECTED_WEB_MEMORY_AT_60S = 8611465  # bytes, seed 42, web container 60 s after start


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SandboxServer, Kubectl]]:
    server = SandboxServer(scenarios=["demo-shop"], speed=SPEED).start()
    kubeconfig = server.write_kubeconfig(tmp_path_factory.mktemp("shop") / "config")
    yield server, Kubectl(Path(kubeconfig))
    server.stop()



def _pods(k: Kubectl, app: str) -> list[dict]:
    return json.loads(k("get", "pods", "-n", "shop", "-l", f"app={app}", "-o", "json"))["items"]


def _cstatus(pod: dict) -> dict:
    return (pod.get("status") or {}).get("containerStatuses", [{}])[0]


def _events(k: Kubectl, name_prefix: str, reason: str) -> list[dict]:
    items = json.loads(k("get", "events", "-n", "shop", "-o", "json"))["items"]
    return [e for e in items if e["involvedObject"]["name"].startswith(name_prefix) and e["reason"] == reason]


def test_healthy_web_tier(shop):
    _, k = shop
    k("wait", "--for=condition=Available", "deployment/web", "-n", "shop", "--timeout=60s")
    pods = _pods(k, "web")
    assert len(pods) == 3
    assert all(p["status"]["phase"] == "Running" and _cstatus(p)["ready"] for p in pods)
    k("wait", "--for=condition=Ready", f"pod/{pods[0]['metadata']['name']}", "-n", "shop", "--timeout=30s")
    rows = k("get", "pods", "-n", "shop", "-l", "app=web").splitlines()[1:]
    assert all(r.split()[1:3] == ["1/1", "Running"] for r in rows)
    ep = json.loads(k("get", "endpoints", "web", "-n", "shop", "-o", "json"))
    assert len(ep["subsets"][0]["addresses"]) == 3 and ep["subsets"][0]["ports"][0]["port"] == 80
    assert "successfully rolled out" in k("rollout", "status", "deployment/web", "-n", "shop", "--timeout=30s")


def test_checkout_crash_loops_on_missing_config_key_and_heals(shop):
    _, k = shop
    pod = until(lambda: next((p for p in _pods(k, "checkout")
                               if (_cstatus(p).get("state") or {}).get("waiting", {}).get("reason") == "CrashLoopBackOff"), None))
    cs = _cstatus(pod)
    assert cs["restartCount"] >= 1 and cs["lastState"]["terminated"]["exitCode"] == 1
    assert cs["lastState"]["terminated"]["reason"] == "Error"
    # The container restarts now and then (for ~1.4 s of sandbox time each): wait for kubectl to show the loop.
    row = until(lambda: (lambda r: r if r[1:3] == ["0/1", "CrashLoopBackOff"] else None)(
        k("get", "pod", pod["metadata"]["name"], "-n", "shop").splitlines()[1].split()))
    assert row[1:3] == ["0/1", "CrashLoopBackOff"]
    logs = k("logs", pod["metadata"]["name"], "-n", "shop", "--previous")
    assert "PAYMENTS_URL" in logs
    assert _events(k, pod["metadata"]["name"], "BackOff")
    k("patch", "configmap", "checkout-config", "-n", "shop", "--type=merge",
      "-p", '{"data":{"PAYMENTS_URL":"http://payments.shop.svc.cluster.local"}}')
    k("rollout", "restart", "deployment/checkout", "-n", "shop")
    out = k("rollout", "status", "deployment/checkout", "-n", "shop", "--timeout=60s")
    assert "successfully rolled out" in out
    assert all(_cstatus(p)["ready"] for p in _pods(k, "checkout"))


def test_payments_oom_killed_and_heals(shop):
    _, k = shop
    pod = until(lambda: next((p for p in _pods(k, "payments")
                               if (_cstatus(p).get("lastState") or {}).get("terminated")), None))
    term = _cstatus(pod)["lastState"]["terminated"]
    assert term["reason"] == "OOMKilled" and term["exitCode"] == 137
    k("set", "resources", "deployment/payments", "-n", "shop", "--limits=memory=512Mi")
    assert "successfully rolled out" in k("rollout", "status", "deployment/payments", "-n", "shop", "--timeout=60s")


def test_worker_does_not_fit_and_heals(shop):
    _, k = shop
    pod = until(lambda: next((p for p in _pods(k, "worker") if any(
        c.get("reason") == "Unschedulable" for c in p["status"].get("conditions") or [])), None))
    assert pod["status"]["phase"] == "Pending"
    ev = until(lambda: _events(k, pod["metadata"]["name"], "FailedScheduling"))
    assert ev[0]["message"].startswith("0/3 nodes are available: 1 node(s) had untolerated taint "
                                       "{node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu.")
    assert ev[0]["type"] == "Warning" and ev[0]["source"]["component"] == "default-scheduler"
    k("set", "resources", "deployment/worker", "-n", "shop", "--requests=cpu=500m,memory=256Mi")
    k("rollout", "status", "deployment/worker", "-n", "shop", "--timeout=60s")
    assert all(p["status"]["phase"] == "Running" for p in _pods(k, "worker"))


def test_catalog_image_typo_and_heals(shop):
    _, k = shop
    pod = until(lambda: next((p for p in _pods(k, "catalog") if (_cstatus(p).get("state") or {}).get(
        "waiting", {}).get("reason") in ("ErrImagePull", "ImagePullBackOff")), None))
    assert pod["status"]["phase"] == "Pending"
    failed = until(lambda: [e for e in _events(k, pod["metadata"]["name"], "Failed") if "nginx:1.277" in e["message"]])
    assert failed[0]["message"].startswith('Failed to pull image "nginx:1.277"')
    k("set", "image", "deployment/catalog", "catalog=nginx:1.27", "-n", "shop")
    assert "successfully rolled out" in k("rollout", "status", "deployment/catalog", "-n", "shop", "--timeout=60s")


def test_orders_service_without_endpoints_and_heals(shop):
    _, k = shop
    until(lambda: _pods(k, "orders"))
    ep = json.loads(k("get", "endpoints", "orders", "-n", "shop", "-o", "json"))
    assert not ep.get("subsets")
    k("patch", "service", "orders", "-n", "shop", "-p", '{"spec":{"selector":{"app":"orders"}}}')
    ep = until(lambda: json.loads(k("get", "endpoints", "orders", "-n", "shop", "-o", "json")).get("subsets"))
    assert ep[0]["ports"][0]["port"] == 8080


def test_orders_service_account_bound_to_wrong_role_and_heals(shop):
    _, k = shop
    sa = "system:serviceaccount:shop:orders"
    assert k.run("auth", "can-i", "list", "configmaps", "-n", "shop", "--as", sa, check=False).stdout.strip() == "no"
    pod = until(lambda: next((p for p in _pods(k, "orders") if _cstatus(p).get("restartCount", 0) >= 1), None))
    logs = k("logs", pod["metadata"]["name"], "-n", "shop", "--previous")
    assert "403" in logs and "configmaps" in logs
    changed = k.run("patch", "rolebinding", "orders-config", "-n", "shop", "--type=merge",
                    "-p", '{"roleRef":{"name":"configmap-reader"}}', check=False)
    assert changed.returncode != 0 and "cannot change roleRef" in changed.stderr
    k("create", "rolebinding", "orders-configmaps", "--role=configmap-reader", "--serviceaccount=shop:orders", "-n", "shop")
    assert k("auth", "can-i", "list", "configmaps", "-n", "shop", "--as", sa).strip() == "yes"
    k("rollout", "restart", "deployment/orders", "-n", "shop")
    assert "successfully rolled out" in k("rollout", "status", "deployment/orders", "-n", "shop", "--timeout=60s")


def test_noisy_pod_shows_in_top(shop):
    _, k = shop
    until(lambda: _pods(k, "report-cruncher") and _cstatus(_pods(k, "report-cruncher")[0]).get("ready"))
    rows = until(lambda: [r.split() for r in k.run("top", "pods", "-n", "shop", check=False).stdout.splitlines()[1:]])
    usage = {r[0]: int(r[1].rstrip("m")) for r in rows}
    cruncher = next(v for n, v in usage.items() if n.startswith("report-cruncher"))
    assert cruncher >= 1500 and cruncher == max(usage.values())
    nodes = {r.split()[0]: int(r.split()[1].rstrip("m")) for r in k("top", "nodes").splitlines()[1:]}
    assert max(nodes, key=nodes.get) == "sandbox-worker-1"


def test_same_seed_same_names_logs_and_metrics():
    def snapshot() -> tuple:
        with SandboxServer(scenarios=["demo-shop"], speed=SPEED) as s:
            s.behaviour.idle(30)
            time.sleep(0.5)
            s.behaviour.idle(30)
            pods = sorted(p["metadata"]["name"] for p in s.cluster.store.list("/pods", "shop")[0])
            web = [p for p in s.cluster.store.list("/pods", "shop")[0] if p["metadata"]["labels"].get("app") == "web"]
            web0 = min(web, key=lambda p: p["metadata"]["name"])
            lines = [line for _, line in (s.behaviour.kubelet.logs(web0, "web") or [])][:5]
            usage = s.behaviour.kubelet.usage(web0, offset=60.0)
            return pods, lines, {k: v[1] for k, v in usage.items()}

    first, second = snapshot(), snapshot()
    assert first == second
    # Exact values for seed 42 (they change only when the behaviour model or the scenario changes).
    assert first[0][:3] == ["catalog-jm6hgjfm6k-t5mst", "catalog-jm6hgjfm6k-vpdjl", "checkout-mg9lvkqgsh-hdl8h"]
    assert "web-jhlb5d7cwm-67czg" in first[0]
    assert first[1][0] == "/docker-entrypoint.sh: /docker-entrypoint.d/ is not empty, will attempt to perform configuration"
    assert first[2] == {"web": EXPECTED_WEB_MEMORY_AT_60S}
