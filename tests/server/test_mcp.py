"""The MCP server end to end: `python -m kubesage.cli_mcp` spawned as a subprocess against a demo-shop sandbox,
driven by the official SDK's client over stdio and over streamable HTTP.

What must hold: the read tools read the cluster as the configured identity, `ask` never proposes a change,
`propose` changes nothing, and only `approve` with the matching approval id applies the change.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config
from mcp import Client, StdioServerParameters

from sandbox.server import SandboxServer

ROOT = Path(__file__).resolve().parents[2]
TOOLS = {"ask", "list_resources", "get_resource", "pod_logs", "diagnose", "can_i", "propose", "approve"}


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SandboxServer, Path]]:
    server = SandboxServer(scenarios=["demo-shop"], speed=50.0).start()
    kc = server.write_kubeconfig(tmp_path_factory.mktemp("mcp") / "kubeconfig")
    api = config.new_client_from_config(config_file=str(kc))
    client.CoreV1Api(api).create_namespaced_secret("shop", {
        "metadata": {"name": "mcp-test-db"}, "data": {"password": "aHVudGVyMg=="}})  # hunter2
    time.sleep(2.5)  # two minutes of sandbox time: crash loops and OOM kills have happened
    yield server, kc
    server.stop()


def _params(kc: Path, home: Path, *args: str, env: dict[str, str] | None = None) -> StdioServerParameters:
    return StdioServerParameters(command=sys.executable, cwd=str(ROOT),
                                 args=["-m", "kubesage.cli_mcp", "--kubeconfig", str(kc), *args],
                                 env={"KUBESAGE_HOME": str(home), **(env or {})})


def _data(result: Any) -> Any:
    text = "".join(getattr(c, "text", "") for c in result.content)
    assert not result.is_error, text
    return result.structured_content if result.structured_content is not None else json.loads(text)


def _replicas(server: SandboxServer, name: str) -> int:
    return server.cluster.store.get("apps/deployments", "shop", name)["spec"]["replicas"]


def test_stdio_read_tools(shop, tmp_path):
    server, kc = shop

    async def main() -> None:
        async with Client(_params(kc, tmp_path), read_timeout_seconds=120) as client:
            tools = {t.name: t for t in (await client.list_tools()).tools}
            assert set(tools) == TOOLS
            assert tools["list_resources"].annotations.read_only_hint is True
            assert tools["approve"].annotations.destructive_hint is True

            pods = _data(await client.call_tool("list_resources", {"kind": "pods", "namespace": "shop"}))
            assert pods["kind"] == "Pod"
            by_name = {p["name"]: p for p in pods["items"]}
            checkout = next(p for n, p in by_name.items() if n.startswith("checkout-"))
            assert checkout["restarts"] > 0
            deploys = _data(await client.call_tool("list_resources", {"kind": "deploy", "namespace": "shop"}))
            assert {d["name"] for d in deploys["items"]} >= {"web", "checkout", "payments", "worker", "catalog"}

            diag = _data(await client.call_tool("diagnose", {"namespace": "shop"}))
            reasons = {(f["name"], f["reason"]) for f in diag["findings"]}
            assert ("checkout", "CrashLoopBackOff") in reasons
            assert any(f["name"] == "payments" and f["reason"] == "OOMKilled" for f in diag["findings"])
            assert any("PAYMENTS_URL" in f["text"] for f in diag["findings"] if f["name"] == "checkout")

            logs = _data(await client.call_tool("pod_logs", {"namespace": "shop", "pod": checkout["name"],
                                                             "tail": 5, "previous": True}))
            assert 0 < len(logs["lines"]) <= 5 and any("PAYMENTS_URL" in line for line in logs["lines"])

            cm = _data(await client.call_tool("get_resource", {"kind": "ConfigMap", "namespace": "shop",
                                                               "name": "checkout-config"}))
            assert cm["kind"] == "ConfigMap" and "PAYMENTS_URL" not in cm["data"]
            got = _data(await client.call_tool("get_resource", {"kind": "secret", "namespace": "shop",
                                                                "name": "mcp-test-db"}))
            assert got.get("data") == {"password": "<redacted>"} and "aHVudGVyMg" not in json.dumps(got), got
            listed = _data(await client.call_tool("list_resources", {"kind": "secrets", "namespace": "shop"}))
            assert {"name": "mcp-test-db", "namespace": "shop", "keys": ["password"]} in listed["items"]

            yes = _data(await client.call_tool("can_i", {"verb": "delete", "resource": "secrets", "namespace": "shop",
                                                         "user": "system:serviceaccount:shop:ci-bot"}))
            no = _data(await client.call_tool("can_i", {"verb": "patch", "resource": "deployments/scale",
                                                        "namespace": "shop", "user": "alice"}))
            assert yes["allowed"] is True and no["allowed"] is False

            missing = await client.call_tool("get_resource", {"kind": "Deployment", "namespace": "shop",
                                                              "name": "no-such-thing"})
            assert missing.is_error and "not found" in missing.content[0].text
            bad_kind = await client.call_tool("list_resources", {"kind": "widgets"})
            assert bad_kind.is_error and "known kinds" in bad_kind.content[0].text

            before = _replicas(server, "web")
            answer = _data(await client.call_tool("ask", {"question": f"scale web in shop to {before + 2}"}))
            assert "read-only" in answer["answer"]
            assert _replicas(server, "web") == before

    asyncio.run(main())


def test_stdio_changes_only_through_approval(shop, tmp_path):
    server, kc = shop

    async def main() -> None:
        async with Client(_params(kc, tmp_path), read_timeout_seconds=120) as client:
            before = _replicas(server, "web")
            target = before + 1
            proposed = _data(await client.call_tool("propose", {"question": f"scale web in shop to {target}"}))
            approval = proposed["approval"]
            assert approval and approval["action"] == "scale Deployment shop/web"
            assert f"+  replicas: {target}" in approval["diff"]
            assert _replicas(server, "web") == before  # proposing changed nothing

            wrong = await client.call_tool("approve", {"thread_id": proposed["thread_id"], "approval_id": "nope"})
            assert wrong.is_error and approval["id"] in wrong.content[0].text
            assert _replicas(server, "web") == before

            done = _data(await client.call_tool("approve", {"thread_id": proposed["thread_id"],
                                                            "approval_id": approval["id"], "decision": "approve"}))
            assert [o["status"] for o in done["outcomes"]] == ["applied"]
            assert _replicas(server, "web") == target

            again = await client.call_tool("approve", {"thread_id": proposed["thread_id"],
                                                       "approval_id": approval["id"]})
            assert again.is_error and "not waiting" in again.content[0].text

            proposed = _data(await client.call_tool("propose", {"question": f"scale web in shop to {target + 4}"}))
            rejected = _data(await client.call_tool("approve", {"thread_id": proposed["thread_id"],
                                                                "approval_id": proposed["approval"]["id"],
                                                                "decision": "reject"}))
            assert [o["status"] for o in rejected["outcomes"]] == ["rejected"]
            assert _replicas(server, "web") == target

    asyncio.run(main())


def test_stdio_identity_from_env_and_read_only_flag(shop, tmp_path):
    server, kc = shop

    async def main() -> None:
        params = _params(kc, tmp_path, "--read-only", env={"KUBESAGE_MCP_AS": "alice",
                                                           "KUBESAGE_MCP_AS_GROUPS": "shop-devs"})
        async with Client(params, read_timeout_seconds=120) as client:
            assert {t.name for t in (await client.list_tools()).tools} == TOOLS - {"propose", "approve"}
            mine = _data(await client.call_tool("can_i", {"verb": "list", "resource": "pods", "namespace": "shop"}))
            assert mine["allowed"] is True and mine["as"] == "alice"
            secret = _data(await client.call_tool("can_i", {"verb": "get", "resource": "secrets", "namespace": "shop"}))
            assert secret["allowed"] is False
            nodes = await client.call_tool("list_resources", {"kind": "nodes"})
            assert nodes.is_error and "forbidden" in nodes.content[0].text

    asyncio.run(main())


def test_streamable_http_lists_tools_and_reads(shop, tmp_path):
    server, kc = shop
    proc = subprocess.Popen([sys.executable, "-m", "kubesage.cli_mcp", "--kubeconfig", str(kc), "--transport", "http",
                             "--port", "0"], cwd=ROOT, env={**os.environ, "KUBESAGE_HOME": str(tmp_path)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        url = None
        for line in proc.stderr:
            m = re.search(r"(http://127\.0\.0\.1:\d+/mcp)", line)
            if m:
                url = m.group(1)
                break
        assert url, "the server did not say where it listens"
        port = int(url.rsplit(":", 1)[1].split("/")[0])
        deadline = time.monotonic() + 60
        while True:  # it may announce the address a moment before it accepts connections (a loaded machine)
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the MCP server never accepted a connection"
                time.sleep(0.2)

        async def main() -> None:
            async with Client(url, read_timeout_seconds=120) as client:
                assert {t.name for t in (await client.list_tools()).tools} == TOOLS
                svcs = _data(await client.call_tool("list_resources", {"kind": "svc", "namespace": "shop"}))
                orders = next(s for s in svcs["items"] if s["name"] == "orders")
                assert orders["selector"]

        asyncio.run(main())
    finally:
        proc.terminate()
        proc.wait(20)
