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
    if inst.real:  # a real process: the command runs inside its namespaces and view (sandbox/jail/)
        result = await asyncio.to_thread(inst.run.exec, list(argv), 300.0)
    else:
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


# ------------------------------------------------------------------------------------------------ proxies

_HOP_HEADERS = {"host", "authorization", "content-length", "connection", "transfer-encoding", "keep-alive",
                "accept-encoding", "upgrade", "te", "trailer", "proxy-authorization"}
_rr: dict[tuple[str, str], int] = {}  # (namespace, service) → next endpoint (round robin, as kube-proxy spreads)


def _split_proxy_name(name: str) -> tuple[str, str]:
    """`[scheme:]name[:port]` of a proxy URL → (name, port or "")."""
    parts = name.split(":")
    if len(parts) == 3:
        return parts[1], parts[2]
    if len(parts) == 2:
        return parts[0], parts[1]
    return name, ""


def _proxy_target(api: SandboxAPI, t: Target) -> tuple[dict[str, Any], int]:
    """(pod, container port) a services/proxy or pods/proxy request goes to, or the API server's 503/404."""
    name, port_s = _split_proxy_name(t.name)
    store = api.cluster.store
    if t.rt.plural == "pods":
        pod = api.cluster.get(t.rt, t.namespace, name)
        ports = {p.get("name"): p.get("containerPort") for c in pod["spec"].get("containers") or []
                 for p in c.get("ports") or []}
        if port_s.isdigit():
            port = int(port_s)
        elif port_s:
            if port_s not in ports:
                raise ApiError(503, "ServiceUnavailable", f'no such port "{port_s}" on pod "{name}"')
            port = int(ports[port_s])
        else:
            port = next((int(p) for p in ports.values() if p), 80)
        return pod, port
    svc = api.cluster.get(t.rt, t.namespace, name)
    sports = (svc.get("spec") or {}).get("ports") or []
    sp = next((p for p in sports if port_s and (p.get("name") == port_s or str(p.get("port")) == port_s)), None)
    if sp is None and not port_s and sports:
        sp = sports[0]
    if sp is None:
        raise ApiError(503, "ServiceUnavailable", f'no service port "{port_s}" found for service "{name}"')
    ep = store.get("/endpoints", t.namespace, name) or {}
    ready: list[tuple[str, int]] = []
    for subset in ep.get("subsets") or []:
        target = next((p.get("port") for p in subset.get("ports") or [] if p.get("name", "") == sp.get("name", "")),
                      None)
        if target is not None:
            ready += [((a.get("targetRef") or {}).get("name", ""), int(target)) for a in subset.get("addresses") or []]
    if not ready:
        raise ApiError(503, "ServiceUnavailable", f'no endpoints available for service "{name}"')
    ready.sort()
    k = _rr.get((t.namespace, name), 0)
    _rr[(t.namespace, name)] = k + 1
    pod_name, port = ready[k % len(ready)]
    pod = store.get("/pods", t.namespace, pod_name)
    if pod is None:
        raise ApiError(503, "ServiceUnavailable", f'no endpoints available for service "{name}"')
    return pod, port


async def proxy_handler(api: SandboxAPI, req: Request, receive: Any, send: Any, user: UserInfo, t: Target) -> None:
    """`/api/v1/namespaces/{ns}/{services|pods}/{name[:port]}/proxy/{path}`: forward to a ready endpoint.

    A pod whose container runs a real model server (sandbox/behaviour/serving.py) is answered by that process
    (streamed, so server-sent events pass through); any other pod by the behaviour model (GET only), with the
    simulated vLLM's LoRA adapter endpoints on top. Authorization was checked by the caller (services/proxy or
    pods/proxy, verb get for GET and create for POST), as the real API server does."""
    from urllib.parse import urlencode

    from sandbox.api import _respond

    pod, port = _proxy_target(api, t)
    marker = "/proxy"
    sub_path = req.path[req.path.index(marker) + len(marker):] if marker in req.path else ""
    sub_path = sub_path or "/"
    query = urlencode([(k, v) for k, vs in req.query.items() for v in vs])
    ip = (pod.get("status") or {}).get("podIP", "")
    kubelet: Kubelet | None = getattr(api, "kubelet", None)
    backend = kubelet.serving.route(ip, port) if kubelet is not None else None
    if backend is not None:
        local = backend.local_answer(req.method, sub_path)
        if local is not None:
            return await _respond(send, local[0], local[2].encode(), local[1])
        if not (backend.healthy and backend.alive):
            raise ApiError(503, "ServiceUnavailable", f"error trying to reach service: dial tcp {ip}:{port}: "
                                                      "connect: connection refused")
        return await _forward(backend, req, send, sub_path + (f"?{query}" if query else ""))
    containers = [c for c in (pod.get("spec") or {}).get("containers") or []
                  if any(p.get("containerPort") == port for p in c.get("ports") or [])] or \
        list((pod.get("spec") or {}).get("containers") or [])
    for c in containers:
        inst = kubelet.running_instance(pod, c.get("name")) if kubelet is not None else None
        if inst is None:
            continue
        if inst.real:  # a real process listens in the pod's network namespace: forward the request to it
            answer = await _forward_real(inst, port, req, sub_path + (f"?{query}" if query else ""))
            if answer is None:
                continue
            return await _respond(send, answer[0], answer[2], answer[1])
        at = api.cluster.clock.time() - inst.started
        base = inst.run.http(port, sub_path + (f"?{query}" if query else ""), at)
        if _is_vllm(c):
            state = _vllm_state(kubelet, pod, c)
            answer = state.handle(req.method, sub_path, req.body, base)
            if answer is not None:
                return await _respond(send, answer[0], answer[2].encode(), answer[1])
        if base is None:
            continue
        if req.method != "GET":
            return await _respond(send, 405, b'{"detail":"Method Not Allowed"}')
        body = base[1]
        ctype = "application/json" if body[:1] in ("{", "[") else "text/plain; charset=utf-8"
        return await _respond(send, base[0], body.encode(), ctype)
    raise ApiError(503, "ServiceUnavailable", f"error trying to reach service: dial tcp {ip}:{port}: connect: "
                                              "connection refused")


async def _forward_real(inst: Any, port: int, req: Request, path: str) -> tuple[int, str, bytes] | None:
    """(status, content type, body) from a real container's port; None when nothing listens there."""
    from sandbox.jail import netns

    headers = {k: v[0] for k, v in req.headers.items() if k not in _HOP_HEADERS and not k.startswith("impersonate-")}
    try:
        return await asyncio.to_thread(netns.http_request, inst.run.pod.pause_pid, port, req.method, path,
                                       req.body or None, headers)
    except OSError:
        return None


def _is_vllm(container: dict[str, Any]) -> bool:
    return "vllm/vllm-openai" in str(container.get("image", ""))


def _vllm_state(kubelet: Any, pod: dict[str, Any], container: dict[str, Any]) -> Any:
    from sandbox.behaviour.serving import VLLMAdapters

    states = kubelet.vllm_adapters
    inst = kubelet.running_instance(pod, container.get("name"))
    key = (pod["metadata"].get("uid", ""), container.get("name"), inst.container_id if inst else "")
    if key not in states:  # a restarted container starts with no adapters, as vLLM does
        states[key] = VLLMAdapters.for_container(container)
    return states[key]


async def _forward(backend: Any, req: Request, send: Any, path: str) -> None:
    """Pass the request to the real process and stream its answer back."""
    import httpx

    headers = {k: v[0] for k, v in req.headers.items() if k not in _HOP_HEADERS and not k.startswith("impersonate-")}
    est = backend.begin(req.body)
    collected = bytearray()
    started = False
    try:
        async with httpx.AsyncClient(timeout=httpx.Timeout(300.0, connect=5.0)) as client:
            async with client.stream(req.method, backend.url + path, content=req.body or None,
                                     headers=headers) as resp:
                out_headers = [(b"content-type", resp.headers.get("content-type", "application/json").encode())]
                await send({"type": "http.response.start", "status": resp.status_code, "headers": out_headers})
                started = True
                async for chunk in resp.aiter_raw():
                    if len(collected) < 1 << 20:
                        collected.extend(chunk)
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                await send({"type": "http.response.body", "body": b"", "more_body": False})
    except httpx.HTTPError as e:
        if not started:
            raise ApiError(503, "ServiceUnavailable", f"error trying to reach service: {type(e).__name__}: "
                                                      f"{e}") from None
        await send({"type": "http.response.body", "body": b"", "more_body": False})  # the stream broke off
    finally:
        backend.end(est, bytes(collected) if collected[:1] == b"{" else None)
