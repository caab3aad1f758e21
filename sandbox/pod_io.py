"""What a person reaches inside pods: `kubectl logs` (pods/log) and `kubectl exec` (pods/exec over the
websocket channel protocol kubectl 1.37 speaks), answered from the kubelet model.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote

from sandbox.behaviour import model as behaviour
from sandbox.behaviour.shell import NetError
from sandbox.errors import ApiError, bad_request
from sandbox.rbac import Attributes

if TYPE_CHECKING:
    from sandbox.api import Request, SandboxAPI, Target
    from sandbox.controllers.kubelet import Kubelet
    from sandbox.rbac import UserInfo

EXEC_PROTOCOLS = ("v5.channel.k8s.io", "v4.channel.k8s.io")


def _ts(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"


def _pick_container(pod: dict[str, Any], name: str | None) -> str:
    names = [c.get("name") for c in (pod.get("spec") or {}).get("containers") or []]
    inits = [c.get("name") for c in (pod.get("spec") or {}).get("initContainers") or []]
    if not name:
        default = (pod["metadata"].get("annotations") or {}).get("kubectl.kubernetes.io/default-container")
        if default in names:
            return default
        if len(names) == 1:
            return names[0]
        raise bad_request(f"a container name must be specified for pod {pod['metadata']['name']}, choose one of: "
                          f"[{' '.join(names)}]" + (f" or one of the init containers: [{' '.join(inits)}]" if inits else ""))
    if name not in names and name not in inits:
        raise bad_request(f"container {name} is not valid for pod {pod['metadata']['name']}")
    return name


def _waiting_reason(pod: dict[str, Any], container: str) -> str | None:
    status = pod.get("status") or {}
    for cs in (status.get("containerStatuses") or []) + (status.get("initContainerStatuses") or []):
        if cs.get("name") == container:
            waiting = (cs.get("state") or {}).get("waiting")
            if waiting and not cs.get("lastState"):
                reason = waiting.get("reason", "ContainerCreating")
                if reason in ("ErrImagePull", "ImagePullBackOff"):
                    return "trying and failing to pull image"
                return reason
            return None
    return "ContainerCreating"


async def log_handler(api: SandboxAPI, req: Request, receive: Any, send: Any, user: UserInfo, t: Target) -> None:
    from sandbox.api import _respond

    kubelet: Kubelet | None = getattr(api, "kubelet", None)
    pod = api.cluster.get(t.rt, t.namespace, t.name)
    container = _pick_container(pod, req.q("container"))
    previous = req.qbool("previous")
    if kubelet is None:
        raise ApiError(404, "NotFound", f"the server could not find the requested resource ( pods/log {t.name})")
    lines = kubelet.logs(pod, container, previous)
    if lines is None:
        if previous:
            raise bad_request(f'previous terminated container "{container}" in pod "{t.name}" not found')
        reason = _waiting_reason(pod, container) or "ContainerCreating"
        raise bad_request(f'container "{container}" in pod "{t.name}" is waiting to start: {reason}')
    timestamps = req.qbool("timestamps")
    since = req.q("sinceSeconds")
    since_time = req.q("sinceTime")
    now = api.cluster.clock.time()
    if since:
        try:
            cutoff = now - float(since)
        except ValueError:
            raise bad_request(f"invalid sinceSeconds: {since}") from None
        lines = [x for x in lines if x[0] >= cutoff]
    elif since_time:
        try:
            cutoff = datetime.strptime(since_time[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC).timestamp()
        except ValueError:
            raise bad_request(f"invalid sinceTime: {since_time}") from None
        lines = [x for x in lines if x[0] >= cutoff]
    tail = req.q("tailLines")
    if tail is not None:
        try:
            n = int(tail)
        except ValueError:
            raise bad_request(f"invalid tailLines: {tail}") from None
        lines = lines[-n:] if n > 0 else []

    def fmt(items: list[tuple[float, str]]) -> bytes:
        return "".join(f"{_ts(ts)} {line}\n" if timestamps else f"{line}\n" for ts, line in items).encode()

    body = fmt(lines)
    limit = req.q("limitBytes")
    if limit and limit.isdigit():
        body = body[: int(limit)]
    if not req.qbool("follow") or previous:
        return await _respond(send, 200, body, "text/plain")
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain"), (b"cache-control", b"no-cache, private")]})
    await send({"type": "http.response.body", "body": body, "more_body": True})
    seen = len(kubelet.logs(pod, container) or [])
    disconnected = asyncio.Event()

    async def watch_disconnect() -> None:
        while True:
            if (await receive())["type"] == "http.disconnect":
                disconnected.set()
                return

    task = asyncio.create_task(watch_disconnect())
    try:
        while not disconnected.is_set():
            await asyncio.sleep(0.2)
            current = api.cluster.store.get("/pods", t.namespace, t.name)
            if current is None or current["metadata"].get("uid") != pod["metadata"].get("uid"):
                break
            all_lines = kubelet.logs(current, container) or []
            fresh = all_lines[seen:]
            if fresh:
                seen = len(all_lines)
                await send({"type": "http.response.body", "body": fmt(fresh), "more_body": True})
            if kubelet.running_instance(current, container) is None:
                break
    finally:
        task.cancel()
        await send({"type": "http.response.body", "body": b"", "more_body": False})


def resolver(api: SandboxAPI, namespace: str):
    """URL → (HTTP status, body) for wget/curl inside containers: Service DNS names answered by their ready
    backends through the behaviour model (NetError when the name does not resolve or nothing listens)."""

    def resolve(url: str) -> Any:
        kubelet = getattr(api, "kubelet", None)
        scheme, _, rest = url.partition("://")
        hostport, _, path = rest.partition("/")
        host, _, port_s = hostport.partition(":")
        parts = host.split(".")
        svc_ns = parts[1] if len(parts) > 1 and parts[1] != "svc" else namespace
        svc = api.cluster.store.get("/services", svc_ns, parts[0])
        if svc is None:
            return None  # the name does not resolve
        cluster_ip = (svc.get("spec") or {}).get("clusterIP", "")
        if scheme == "dns":
            return 0, f"{parts[0]}.{svc_ns}.svc.cluster.local {cluster_ip}"
        port = int(port_s) if port_s.isdigit() else (443 if url.startswith("https") else 80)
        sp = next((p for p in (svc.get("spec") or {}).get("ports") or [] if p.get("port") == port), None)
        if sp is None:
            return NetError("timeout", (svc.get("spec") or {}).get("clusterIP"))
        ep = api.cluster.store.get("/endpoints", svc_ns, parts[0]) or {}
        for subset in ep.get("subsets") or []:
            target = next((p.get("port") for p in subset.get("ports") or [] if p.get("name", "") == sp.get("name", "")),
                          None)
            for addr in subset.get("addresses") or []:
                pod = api.cluster.store.get("/pods", svc_ns, (addr.get("targetRef") or {}).get("name", ""))
                if pod is None or kubelet is None or target is None:
                    continue
                for c in pod["spec"].get("containers") or []:
                    inst = kubelet.running_instance(pod, c.get("name"))
                    if inst is None:
                        continue
                    at = api.cluster.clock.time() - inst.started
                    if scheme == "tcp":
                        if inst.run.tcp_open(target, at):
                            return 0, ""
                        continue
                    answer = inst.run.http(target, "/" + path, at)
                    if answer is not None:
                        return answer
        return NetError("refused", (svc.get("spec") or {}).get("clusterIP"))

    return resolve


async def exec_websocket(api: SandboxAPI, scope: dict[str, Any], receive: Any, send: Any) -> None:
    """pods/exec over websockets: channel 1 stdout, 2 stderr, 3 the final Status."""
    path = unquote(scope["path"])
    query = parse_qs(scope.get("query_string", b"").decode(), keep_blank_values=True)
    headers = {k.decode().lower(): v.decode() for k, v in scope.get("headers", [])}
    offered = [p.strip() for p in headers.get("sec-websocket-protocol", "").split(",") if p.strip()]
    protocol = next((p for p in EXEC_PROTOCOLS if p in offered), None)
    msg = await receive()
    if msg["type"] != "websocket.connect":
        return
    try:
        parts = path.strip("/").split("/")
        if len(parts) != 7 or parts[:3] != ["api", "v1", "namespaces"] or parts[4] != "pods" or parts[6] not in ("exec", "attach"):
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        ns, name = parts[3], parts[5]
        token = headers.get("authorization", "")[7:].strip()
        user = api.cluster.authenticate(token)
        if user is None:
            raise ApiError(401, "Unauthorized", "Unauthorized")
        as_user = headers.get("impersonate-user")
        if as_user:
            user = api.cluster.impersonate(user, as_user, [v.decode() for k, v in scope.get("headers", [])
                                                           if k.decode().lower() == "impersonate-group"])
        api.cluster.authorize(user, Attributes("create", ns, "", "pods", parts[6], name))
        pod = api.cluster.get(api.cluster.rt("", "v1", "pods"), ns, name)
        container = _pick_container(pod, (query.get("container") or [""])[0])
        kubelet = getattr(api, "kubelet", None)
        inst = kubelet.running_instance(pod, container) if kubelet else None
        if inst is None:
            raise bad_request(f'unable to upgrade connection: container not found ("{container}")')
        if protocol is None:
            raise bad_request("unable to upgrade connection: no supported subprotocol offered")
    except ApiError as e:
        await send({"type": "websocket.close", "code": 1008, "reason": e.message[:120]})
        return
    await send({"type": "websocket.accept", "subprotocol": protocol})
    argv = query.get("command") or ["sh"]
    result = behaviour.exec(inst.inp, argv, resolver(api, ns), at=api.cluster.clock.time() - inst.started,
                            run_=inst.run)
    if result.error:
        status = {"metadata": {}, "status": "Failure", "reason": "InternalError", "code": 500,
                  "message": f"Internal error occurred: error executing command in container: {result.error}"}
        await send({"type": "websocket.send", "bytes": b"\x03" + json.dumps(status).encode()})
        await send({"type": "websocket.close", "code": 1000})
        return
    if result.stdout:
        await send({"type": "websocket.send", "bytes": b"\x01" + result.stdout.encode()})
    if result.stderr:
        await send({"type": "websocket.send", "bytes": b"\x02" + result.stderr.encode()})
    if result.exit_code == 0:
        status = {"metadata": {}, "status": "Success"}
    else:
        status = {"metadata": {}, "status": "Failure",
                  "message": f"command terminated with non-zero exit code: error executing command "
                             f"[{' '.join(argv)}], exit code {result.exit_code}",
                  "reason": "NonZeroExitCode",
                  "details": {"causes": [{"reason": "ExitCode", "message": str(result.exit_code)}]}}
    await send({"type": "websocket.send", "bytes": b"\x03" + json.dumps(status).encode()})
    await send({"type": "websocket.close", "code": 1000})
