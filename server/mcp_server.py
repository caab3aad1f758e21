"""kubesage as an MCP server (official `mcp` SDK, MCPServer): the read tools, a read-only `ask`, and changes only
through `propose` → `approve`.

    mcp = build_mcp(runtime, principal)      # principal: KUBESAGE_MCP_AS / --as, default the kubeconfig identity
    serve(mcp, "stdio")                      # or "http": streamable HTTP on /mcp

Why this split of tools: an MCP client is usually a model acting for a person. Reading is safe to hand over; a
change is not, so `ask` runs the supervisor read-only (it cannot even propose), and the only way to change the
cluster is `propose` (a turn that stops at its approval with the server-side dry-run diff, nothing applied) and
then `approve` with that approval's id: the client shows the diff, the person decides. `approve` only decides
threads proposed by this server's principal. Start the server with `read_only=True` (`kubesage mcp --read-only`)
to leave `propose` and `approve` out entirely.
"""

from __future__ import annotations

import dataclasses
import logging
import socket
import sys
import threading
import uuid
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations

from server import mcp_views as views
from tools.k8s.client import Kube, KubeError, Principal

log = logging.getLogger("kubesage.mcp")
READ = ToolAnnotations(read_only_hint=True, open_world_hint=False)
MAX_TAIL = 2000

INSTRUCTIONS = """kubesage answers questions about a Kubernetes cluster with evidence, acting as one identity.
Use `ask` for plain-language questions (diagnosis, rights, capacity); it never changes anything.
Use list_resources / get_resource / pod_logs / diagnose / can_i for direct reads.
To change something: `propose` describes the change and returns an approval (id + dry-run diff) WITHOUT applying
it; show the diff to the person and call `approve` only with their explicit decision."""


def build_mcp(runtime: Any, principal: Principal | None = None, *, read_only: bool = False) -> MCPServer:
    """The MCP server for `runtime`, acting as `principal` (None: the kubeconfig's own identity)."""
    who = principal or Principal()
    lock = threading.Lock()  # one turn at a time: tool calls run in worker threads, the checkpointer is shared
    ro_supervisor: list[Any] = []

    def kube() -> Kube:
        return Kube.from_kubeconfig(runtime.kubeconfig, runtime.context, who, read_only=True)

    def read_only_supervisor() -> Any:
        if not ro_supervisor:
            ro_supervisor.append(dataclasses.replace(
                runtime.supervisor, read_only=True,
                kube_for=lambda p: Kube.from_kubeconfig(runtime.kubeconfig, runtime.context, p, read_only=True)))
        return ro_supervisor[0]

    mcp = MCPServer("kubesage", instructions=INSTRUCTIONS, log_level="WARNING")

    @mcp.tool(annotations=READ)
    def ask(question: str, namespace: str | None = None) -> dict[str, Any]:
        """Ask kubesage a question in plain words ("why is checkout crashing in shop?", "can ci-bot delete secrets
        in shop?"). Read-only: it reads the cluster, answers with evidence and never proposes or makes changes."""
        with lock, _errors():
            r = read_only_supervisor().start(question, who, f"mcp-ro-{uuid.uuid4().hex[:12]}", namespace)
        return {"answer": r.get("answer"), "agents": (r.get("route") or {}).get("agents"),
                "evidence": [e for res in r.get("results") or [] for e in res.get("evidence") or []],
                "api_calls": sum(len(res.get("calls") or []) for res in r.get("results") or [])}

    @mcp.tool(annotations=READ)
    def list_resources(kind: str, namespace: str | None = None) -> dict[str, Any]:
        """List objects of one kind (pods, deployments, services, events, nodes, ...; kubectl short names work),
        in one namespace or, without one, in all. Each item is a short summary; use get_resource for details."""
        with _errors():
            k = views.resolve_kind(kind)
            items = kube().list(k, namespace if views.namespaced(k) else None)
        return {"kind": k, "namespace": namespace, "count": len(items),
                "items": [views.summarize(k, o) for o in items[: views.MAX_ITEMS]],
                "truncated": len(items) > views.MAX_ITEMS}

    @mcp.tool(annotations=READ)
    def get_resource(kind: str, namespace: str, name: str) -> dict[str, Any]:
        """One object as the API server has it (Secret values redacted); namespace "" for cluster-scoped kinds."""
        with _errors():
            k = views.resolve_kind(kind)
            obj = kube().get(k, namespace or None if views.namespaced(k) else None, name)
        return views.clean(k, obj)

    @mcp.tool(annotations=READ)
    def pod_logs(namespace: str, pod: str, tail: int = 100, container: str | None = None,
                 previous: bool = False) -> dict[str, Any]:
        """The last `tail` lines (at most 2000) of a pod's log; `previous` reads the container's last crashed run."""
        with _errors():
            k = kube()
            k.get("Pod", namespace, pod)  # a missing pod or a refusal is reported as the API says it
            text = k.logs(namespace, pod, container, previous, max(1, min(int(tail), MAX_TAIL)))
        if text is None:
            raise ToolError(f"no logs for pod {namespace}/{pod}{' (previous run)' if previous else ''}: "
                            "the container has not run, or you may not read pods/log there")
        return {"namespace": namespace, "pod": pod, "lines": text.splitlines()}

    @mcp.tool(annotations=READ)
    def diagnose(namespace: str | None = None, target: str | None = None) -> dict[str, Any]:
        """Run every diagnosis check (crash loops, OOM kills, image pulls, scheduling, probes, services without
        endpoints, RBAC denials, CPU hogs, ...) over a snapshot of a namespace (or all); `target` narrows to one
        workload. Findings carry quoted evidence, the root cause and a suggested fix (never applied here)."""
        from tools.diagnose import run_all, snapshot_from_client

        with _errors():
            snap = snapshot_from_client(kube().api, namespace, with_logs=True)
            findings = run_all(snap, namespace=namespace, target=target)
        return {"namespace": namespace, "findings": [{**f.to_dict(), "text": f.text()} for f in findings],
                "not_readable": list(getattr(snap, "errors", []) or [])}

    @mcp.tool(annotations=READ)
    def can_i(verb: str, resource: str, namespace: str | None = None, user: str | None = None,
              groups: list[str] | None = None) -> dict[str, Any]:
        """May this server's identity (or `user`, with `groups`) do `verb` on `resource` (e.g. "delete",
        "secrets"; "patch", "deployments/scale") in `namespace`? Asks the API server's own authorizer."""
        group, plural, sub = views.resource_of(resource)
        with _errors():
            if user:
                allowed, reason = kube().subject_can(user, list(groups or []), verb, plural if not sub else
                                                     f"{plural}/{sub}", namespace, group)
            else:
                allowed, reason = kube().can_i(verb, plural, namespace, group=group, subresource=sub)
        return {"allowed": allowed, "reason": reason, "verb": verb, "resource": plural + (f"/{sub}" if sub else ""),
                "group": group, "namespace": namespace, "as": user or who.label}

    if read_only:
        return mcp

    @mcp.tool(annotations=ToolAnnotations(read_only_hint=True, open_world_hint=False))
    def propose(question: str, namespace: str | None = None) -> dict[str, Any]:
        """Ask for a change in plain words ("scale web in shop to 3", "fix checkout in shop"). Nothing is applied:
        returns the pending approval (id, action, server-side dry-run diff) and the thread id for `approve`."""
        thread_id = f"mcp-{uuid.uuid4().hex[:12]}"
        with lock, _errors():
            r = runtime.supervisor.start(question, who, thread_id, namespace)
        answer = "\n".join(x["answer"] for x in r.get("results") or [] if x.get("answer")) or r.get("answer")
        return {"thread_id": thread_id, "answer": answer, "approval": r.get("approval"),
                "next": "show the diff to the person; then approve(thread_id, approval.id, 'approve' or 'reject')"
                if r.get("approval") else "no change was proposed"}

    @mcp.tool(annotations=ToolAnnotations(read_only_hint=False, destructive_hint=True, open_world_hint=False))
    def approve(thread_id: str, approval_id: str, decision: str = "approve") -> dict[str, Any]:
        """Apply ("approve") or drop ("reject") the change a `propose` call returned. Call it only with the
        person's explicit decision after they saw the diff."""
        if decision not in ("approve", "reject"):
            raise ToolError("decision must be 'approve' or 'reject'")
        sup = runtime.supervisor
        with lock, _errors():
            pending = sup.pending_approval(thread_id)
            if pending is None:
                raise ToolError(f"thread {thread_id} is not waiting for an approval")
            if pending.get("id") != approval_id:
                raise ToolError(f"thread {thread_id} waits for approval {pending.get('id')} "
                                f"({pending.get('action')}), not {approval_id}")
            owner = (sup.graph.get_state({"configurable": {"thread_id": thread_id}}).values or {}).get("principal")
            if owner != {"user": who.user, "groups": list(who.groups)}:
                raise ToolError(f"thread {thread_id} was proposed by another identity; "
                                f"this server acts as {who.label}")
            r = sup.resume(thread_id, decision, by=who)
        return {"thread_id": thread_id,
                "outcomes": [o for o in r.get("outcomes") or [] if o.get("approval_id") == approval_id],
                "answer": r.get("answer") if not r.get("approval") else None, "approval": r.get("approval")}

    return mcp


class _errors:
    """Kubernetes and kind errors become tool errors with the API's own message (no traceback for the client)."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, typ: Any, exc: BaseException | None, tb: Any) -> bool:
        if isinstance(exc, KubeError):
            raise ToolError(exc.message) from None
        if isinstance(exc, views.UnknownKind):
            raise ToolError(str(exc)) from None
        return False


def serve(mcp: MCPServer, transport: str = "stdio", host: str = "127.0.0.1", port: int = 8765) -> None:
    """Run until stopped: stdio (the client spawned us) or streamable HTTP on http://host:port/mcp. With port 0 a
    free port is chosen; the URL is printed on stderr either way (stdout belongs to the stdio protocol)."""
    if transport == "stdio":
        mcp.run("stdio")
        return
    import uvicorn

    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound = sock.getsockname()[1]
    app = mcp.streamable_http_app(host=host)
    print(f"kubesage MCP server (streamable HTTP) on http://{host}:{bound}/mcp", file=sys.stderr, flush=True)
    uvicorn.Server(uvicorn.Config(app, log_level="warning")).run(sockets=[sock])
