"""The HTTP face of the sandbox: an ASGI app that speaks the Kubernetes REST API to kubectl and client libraries.

Why a raw ASGI app: the Kubernetes URL space, content negotiation (Table, PartialObjectMetadata, aggregated
discovery) and long-lived watch streams do not fit a routing framework; a small dispatcher over
`Cluster` keeps every rule of the real API server visible in one place.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote

import yaml

from sandbox import discovery, protobuf, tables
from sandbox.cluster import Cluster, WriteOptions
from sandbox.errors import ApiError, bad_request, gone, method_not_allowed, not_found, unsupported_media_type
from sandbox.openapi import OpenAPI
from sandbox.rbac import Attributes, UserInfo
from sandbox.resources import VIRTUAL_KINDS, ResourceType
from sandbox.selectors import labels_match, parse_field_selector, parse_label_selector
from sandbox.store import TooOld

log = logging.getLogger(__name__)

MAX_BODY = 3 * 1024 * 1024  # the real server's default request size limit
PUBLIC_PATHS = {"/healthz", "/livez", "/readyz", "/version", "/version/"}
PATCH_TYPES = {
    "application/json-patch+json": "json",
    "application/merge-patch+json": "merge",
    "application/strategic-merge-patch+json": "strategic",
    "application/apply-patch+yaml": "apply",
}

Send = Callable[[dict[str, Any]], Awaitable[None]]
Receive = Callable[[], Awaitable[dict[str, Any]]]


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, list[str]]
    body: bytes

    def q(self, name: str, default: str | None = None) -> str | None:
        vals = self.query.get(name)
        return vals[0] if vals else default

    def qbool(self, name: str) -> bool:
        return (self.q(name) or "").lower() in ("true", "1")

    def header(self, name: str) -> str:
        vals = self.headers.get(name.lower())
        return vals[0] if vals else ""


@dataclass
class Target:
    """A parsed resource URL."""

    rt: ResourceType
    namespace: str
    name: str
    subresource: str
    watch_path: bool = False


# Response helpers ---------------------------------------------------------------------------------------
def _json(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


async def _respond(send: Send, status: int, body: bytes, content_type: str = "application/json",
                   headers: list[tuple[bytes, bytes]] | None = None) -> None:
    hdrs = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode()),
            (b"cache-control", b"no-cache, private"), (b"audit-id", b"sandbox")]
    hdrs.extend(headers or [])
    await send({"type": "http.response.start", "status": status, "headers": hdrs})
    await send({"type": "http.response.body", "body": body})


def _warning_headers(warnings: list[str]) -> list[tuple[bytes, bytes]]:
    return [(b"warning", f'299 - {json.dumps(w)}'.encode()) for w in warnings]


def _accepts(req: Request) -> list[dict[str, str]]:
    """Parse the Accept header into media types with their parameters (in order)."""
    out = []
    for part in req.header("accept").split(","):
        bits = [b.strip() for b in part.split(";") if b.strip()]
        if not bits:
            continue
        params = dict(b.split("=", 1) for b in bits[1:] if "=" in b)
        params["type"] = bits[0]
        out.append(params)
    return out


class SandboxAPI:
    """ASGI application serving one `Cluster`."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.openapi = OpenAPI(cluster.registry)
        self.subresource_handlers: dict[str, Callable[..., Awaitable[None]]] = {}
        # Read-only types computed on request (metrics.k8s.io), by resource key.
        self.virtual: dict[str, Callable[[ResourceType, str | None], list[dict[str, Any]]]] = {}
        self.prometheus: Callable[[], str] | None = None
        self.kubelet: Any = None
        cluster.hooks.append(self._on_write)

    def _on_write(self, _what: str, rt: ResourceType, _old: Any, _new: Any) -> None:
        if rt.key == "apiextensions.k8s.io/customresourcedefinitions":
            self.openapi.invalidate()

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                msg = await receive()
                if msg["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif msg["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] == "websocket":
            handler = self.subresource_handlers.get("websocket")
            if handler is not None:
                await handler(self, scope, receive, send)
            else:
                await send({"type": "websocket.close", "code": 1008})
            return
        if scope["type"] != "http":
            return
        headers: dict[str, list[str]] = {}
        for k, v in scope.get("headers", []):
            headers.setdefault(k.decode("latin-1").lower(), []).append(v.decode("latin-1"))
        body = b""
        try:
            if scope["method"] in ("POST", "PUT", "PATCH", "DELETE"):
                while True:
                    msg = await receive()
                    body += msg.get("body", b"")
                    if len(body) > MAX_BODY:
                        raise ApiError(413, "RequestEntityTooLarge", "Request entity too large: limit is 3145728")
                    if not msg.get("more_body"):
                        break
            req = Request(scope["method"], unquote(scope["path"]),
                          parse_qs(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True),
                          headers, body)
            await self.dispatch(req, receive, send)
        except ApiError as e:
            await _respond(send, e.code, _json(e.status()))
        except Exception as e:  # noqa: BLE001 - never a traceback to the client
            log.exception("sandbox internal error")
            err = ApiError(500, "InternalError", f"Internal error occurred: {type(e).__name__}: {e}")
            try:
                await _respond(send, 500, _json(err.status()))
            except Exception:  # noqa: BLE001 - response already started
                pass

    # -- authentication ----------------------------------------------------------------------------
    def _user(self, req: Request) -> UserInfo | None:
        auth = req.header("authorization")
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else None
        user = self.cluster.authenticate(token)
        if user is None:
            return None
        as_user = req.header("impersonate-user")
        as_groups = req.headers.get("impersonate-group", [])
        if as_user or as_groups:
            user = self.cluster.impersonate(user, as_user or None, as_groups, req.header("impersonate-uid") or None)
        return user

    # -- dispatch ----------------------------------------------------------------------------------
    async def dispatch(self, req: Request, receive: Receive, send: Send) -> None:
        path = req.path.rstrip("/") or "/"
        user = self._user(req)
        if user is None:
            if path in PUBLIC_PATHS and req.method == "GET":
                return await self.non_resource(req, send, path)
            raise ApiError(401, "Unauthorized", "Unauthorized")
        if path.startswith("/api/") or path.startswith("/apis/"):
            target = self._parse(path)
            if target is not None:
                return await self.resource(req, receive, send, user, target)
        self.cluster.authorize(user, Attributes("get", path=path))
        if req.method != "GET":
            raise method_not_allowed()
        return await self.non_resource(req, send, path)

    async def non_resource(self, req: Request, send: Send, path: str) -> None:
        reg = self.cluster.registry
        aggregated = any(a.get("g") == "apidiscovery.k8s.io" and a.get("as") == "APIGroupDiscoveryList"
                         for a in _accepts(req))
        agg_version = next((a.get("v") for a in _accepts(req) if a.get("g") == "apidiscovery.k8s.io"), "v2")
        if path in ("/healthz", "/livez", "/readyz"):
            return await _respond(send, 200, b"ok", "text/plain; charset=utf-8")
        if path == "/version":
            return await _respond(send, 200, _json(discovery.SERVER_VERSION))
        if path == "/metrics" and self.prometheus is not None:
            return await _respond(send, 200, self.prometheus().encode(), "text/plain; version=0.0.4; charset=utf-8")
        if path in ("/api", "/apis") and aggregated:
            ct = discovery.AGGREGATED_V2 if agg_version == "v2" else discovery.AGGREGATED_V2BETA1
            doc = discovery.aggregated(reg, path == "/api", f"apidiscovery.k8s.io/{agg_version}")
            return await _respond(send, 200, _json(doc), ct)
        if path == "/api":
            return await _respond(send, 200, _json(discovery.api_versions()))
        if path == "/apis":
            return await _respond(send, 200, _json(discovery.api_group_list(reg)))
        parts = path.strip("/").split("/")
        if parts[0] == "api" and len(parts) == 2:
            doc = discovery.resource_list(reg, "", parts[1])
            if doc is not None:
                return await _respond(send, 200, _json(doc))
        if parts[0] == "apis" and len(parts) == 2:
            versions = reg.groups().get(parts[1])
            if versions:
                return await _respond(send, 200, _json(discovery.api_group(parts[1], versions)))
        if parts[0] == "apis" and len(parts) == 3:
            doc = discovery.resource_list(reg, parts[1], parts[2])
            if doc is not None:
                return await _respond(send, 200, _json(doc))
        if path == "/openapi/v2":
            if not any(a["type"] in ("application/json", "*/*", "application/*") for a in _accepts(req)) and req.header("accept"):
                raise ApiError(406, "NotAcceptable", "only application/json is supported")
            return await _respond(send, 200, self.openapi.v2())
        if path == "/openapi/v3":
            return await _respond(send, 200, self.openapi.v3_root())
        if path.startswith("/openapi/v3/"):
            try:
                body, h = self.openapi.v3(path[len("/openapi/v3/"):])
            except KeyError:
                raise not_found("", "", path) from None
            return await _respond(send, 200, body, headers=[(b"etag", f'"{h}"'.encode())])
        raise ApiError(404, "NotFound", "the server could not find the requested resource")

    def _parse(self, path: str) -> Target | None:
        parts = path.strip("/").split("/")
        if parts[0] == "api":
            if len(parts) < 3:
                return None
            group, version, rest = "", parts[1], parts[2:]
        else:
            if len(parts) < 4:
                return None
            group, version, rest = parts[1], parts[2], parts[3:]
        watch_path = False
        if rest and rest[0] == "watch":
            watch_path, rest = True, rest[1:]
        namespace = ""
        if len(rest) >= 2 and rest[0] == "namespaces" and not (len(rest) == 3 and rest[2] in ("status", "finalize")) \
                and len(rest) != 2:
            namespace, rest = rest[1], rest[2:]
        if not rest:
            return None
        rt = self.cluster.registry.lookup(group, version, rest[0])
        if rt is None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        name = rest[1] if len(rest) > 1 else ""
        sub = rest[2] if len(rest) > 2 else ""
        if sub == "proxy" and len(rest) > 3:  # {name}/proxy/{path...}: the proxy handler reads req.path itself
            rest = rest[:3]
        if len(rest) > 3 or (sub and sub not in rt.subresources):
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if rt.namespaced and not namespace and name:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if not rt.namespaced and namespace:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        return Target(rt, namespace, name, sub, watch_path)

    # -- resources ---------------------------------------------------------------------------------
    def _verb(self, req: Request, t: Target) -> str:
        m = req.method
        if m == "GET":
            if t.watch_path or req.qbool("watch"):
                return "watch"
            return "get" if t.name else "list"
        if m == "POST":
            return "create"
        if m == "PUT":
            return "update"
        if m == "PATCH":
            return "patch"
        if m == "DELETE":
            return "delete" if t.name else "deletecollection"
        raise method_not_allowed()

    def _opts(self, req: Request) -> WriteOptions:
        dry = req.query.get("dryRun", [])
        if dry and any(d != "All" for d in dry):
            raise bad_request(f'Invalid value: "{dry[0]}": supported values: "All"')
        fv = req.q("fieldValidation") or "Warn"
        if fv not in ("Strict", "Warn", "Ignore"):
            raise bad_request(f"fieldValidation must be one of Strict, Warn, Ignore; got {fv}")
        return WriteOptions(dry_run=bool(dry), field_manager=req.q("fieldManager") or "", field_validation=fv,
                            force=req.qbool("force"))

    def _body(self, req: Request, allow_yaml: bool = True) -> Any:
        ct = req.header("content-type").split(";")[0].strip().lower()
        if not req.body:
            raise bad_request("the body of the request was empty")
        try:
            if ct in ("application/yaml", "application/apply-patch+yaml") and allow_yaml:
                docs = list(yaml.safe_load_all(req.body.decode("utf-8")))
                if len(docs) != 1:
                    raise bad_request("a single YAML document is required")
                return docs[0]
            if ct == protobuf.MEDIA_TYPE:
                return protobuf.decode(req.body)
            if ct.startswith("application/vnd.kubernetes.protobuf") or ct.endswith("+cbor") or ct == "application/cbor":
                raise unsupported_media_type(ct)
            return json.loads(req.body)
        except protobuf.ProtobufError as e:
            raise bad_request(f"error decoding protobuf body: {e}") from None
        except (ValueError, yaml.YAMLError) as e:
            msg = str(e).splitlines()[0] if str(e) else type(e).__name__
            raise bad_request(f"error decoding {'YAML' if 'yaml' in ct else 'JSON'} body: {msg}") from None

    async def resource(self, req: Request, receive: Receive, send: Send, user: UserInfo, t: Target) -> None:
        verb = self._verb(req, t)
        rt, cluster = t.rt, self.cluster
        if verb not in rt.verbs and not t.subresource:
            raise method_not_allowed()
        ns = t.namespace
        name = t.name
        if not name and verb == "create" and rt.kind not in VIRTUAL_KINDS:
            pass
        # For create, the name is in the body: authorize without it (as the real server does).
        cluster.authorize(user, Attributes(verb, ns, rt.group, rt.plural, t.subresource, name))
        ua = req.header("user-agent")

        provider = self.virtual.get(rt.key)
        if provider is not None:
            return await self._virtual(req, send, rt, ns, name, verb, provider)

        if t.subresource:
            handler = self.subresource_handlers.get(t.subresource)
            if handler is not None:
                return await handler(self, req, receive, send, user, t)
            return await self.subresource(req, send, user, t, verb)

        if verb == "get":
            return await self._send_obj(req, send, cluster.get(rt, ns, name), rt)
        if verb == "list":
            listed = cluster.list(rt, ns or None, req.q("labelSelector"), req.q("fieldSelector"),
                                  int(req.q("limit") or 0), req.q("continue"))
            return await self._send_list(req, send, listed, rt)
        if verb == "watch":
            return await self.watch(req, receive, send, t)
        if verb == "create":
            body = self._body(req)
            if rt.kind in VIRTUAL_KINDS:
                return await _respond(send, 201, _json(cluster.review(rt, ns, body, user)))
            res = cluster.create(rt, ns, body, user, self._opts(req), ua)
            return await self._send_obj(req, send, res.obj, rt, 201, res.warnings)
        if verb == "update":
            res = cluster.update(rt, ns, name, self._body(req), user, self._opts(req), user_agent=ua)
            return await self._send_obj(req, send, res.obj, rt, 200, res.warnings)
        if verb == "patch":
            ptype = PATCH_TYPES.get(req.header("content-type").split(";")[0].strip().lower())
            if ptype is None:
                raise unsupported_media_type(req.header("content-type"))
            res = cluster.patch(rt, ns, name, ptype, self._body(req), user, self._opts(req), user_agent=ua)
            return await self._send_obj(req, send, res.obj, rt, 201 if res.created else 200, res.warnings)
        if verb == "delete":
            options = self._delete_options(req)
            obj = cluster.delete(rt, ns, name, user, options, bool(options.get("dryRun")))
            return await self._send_obj(req, send, obj, rt, 200)
        if verb == "deletecollection":
            options = self._delete_options(req)
            out = cluster.delete_collection(rt, ns or None, user, req.q("labelSelector"), req.q("fieldSelector"),
                                            options, bool(options.get("dryRun")))
            return await _respond(send, 200, _json(out))
        raise method_not_allowed()

    async def _virtual(self, req: Request, send: Send, rt: ResourceType, ns: str, name: str, verb: str,
                       provider: Callable[[ResourceType, str | None], list[dict[str, Any]]]) -> None:
        items = provider(rt, ns or None)
        if verb == "get":
            found = next((i for i in items if i["metadata"]["name"] == name), None)
            if found is None:
                raise not_found(rt.plural, rt.group, name)
            return await _respond(send, 200, _json(found))
        if verb != "list":
            raise method_not_allowed()
        reqs = parse_label_selector(req.q("labelSelector"))
        items = [i for i in items if labels_match(reqs, i["metadata"].get("labels"))]
        return await _respond(send, 200, _json({"kind": rt.list_kind, "apiVersion": rt.api_version,
                                                "metadata": {}, "items": items}))

    def _delete_options(self, req: Request) -> dict[str, Any]:
        options: dict[str, Any] = {}
        if req.body:
            body = self._body(req)
            if isinstance(body, dict):
                options = body
        for k in ("propagationPolicy", "gracePeriodSeconds"):
            if req.q(k) is not None:
                options[k] = req.q(k)
        if req.q("orphanDependents") is not None:
            options["orphanDependents"] = req.qbool("orphanDependents")
        if req.query.get("dryRun"):
            options["dryRun"] = req.query["dryRun"]
        if options.get("dryRun") and options["dryRun"] != ["All"]:
            raise bad_request(f'Invalid value: {options["dryRun"]!r}: supported values: "All"')
        return options

    async def subresource(self, req: Request, send: Send, user: UserInfo, t: Target, verb: str) -> None:
        cluster, rt, sub = self.cluster, t.rt, t.subresource
        opts = self._opts(req) if verb in ("create", "update", "patch") else WriteOptions()
        ua = req.header("user-agent")
        if sub == "status":
            if verb == "get":
                return await self._send_obj(req, send, cluster.get(rt, t.namespace, t.name), rt)
            if verb == "update":
                res = cluster.update(rt, t.namespace, t.name, self._body(req), user, opts, "status", ua)
                return await self._send_obj(req, send, res.obj, rt)
            if verb == "patch":
                ptype = PATCH_TYPES.get(req.header("content-type").split(";")[0].strip().lower())
                if ptype is None:
                    raise unsupported_media_type(req.header("content-type"))
                res = cluster.patch(rt, t.namespace, t.name, ptype, self._body(req), user, opts, "status", ua)
                return await self._send_obj(req, send, res.obj, rt)
        if sub == "scale":
            if verb == "get":
                return await _respond(send, 200, _json(cluster.get_scale(rt, t.namespace, t.name)))
            if verb in ("update", "patch"):
                if verb == "update":
                    scale = self._body(req)
                else:
                    from sandbox import patch as patching

                    ptype = PATCH_TYPES.get(req.header("content-type").split(";")[0].strip().lower())
                    current = cluster.get_scale(rt, t.namespace, t.name)
                    raw = self._body(req)
                    try:
                        if ptype == "json":
                            scale = patching.json_patch(current, raw)
                        elif ptype in ("merge", "strategic", "apply"):
                            scale = patching.merge_patch(current, raw)
                        else:
                            raise unsupported_media_type(req.header("content-type"))
                    except patching.PatchError as e:
                        raise bad_request(str(e)) from None
                    # A patch that names no resourceVersion applies to the latest object, as the API server retries
                    # it on conflict; only a version the patch itself carries is checked (optimistic concurrency).
                    if isinstance(scale, dict) and not _patched_version(raw):
                        (scale.get("metadata") or {}).pop("resourceVersion", None)
                if not isinstance(scale, dict):
                    raise bad_request("the object provided is unrecognized (must be of type object)")
                return await _respond(send, 200, _json(cluster.set_scale(rt, t.namespace, t.name, scale, user, opts, ua)))
        if sub == "eviction" and verb == "create":
            return await _respond(send, 201, _json(cluster.evict(t.namespace, t.name, user, self._body(req))))
        if sub == "binding" and verb == "create":
            return await _respond(send, 201, _json(cluster.bind(t.namespace, t.name, self._body(req))))
        if sub == "finalize" and verb == "update" and rt.key == "/namespaces":
            body = self._body(req)
            current = cluster.get(rt, "", t.name)
            new = dict(current, spec=(body or {}).get("spec") or {})
            res = cluster.update(rt, "", t.name, new, user, opts, user_agent=ua)
            return await self._send_obj(req, send, res.obj, rt)
        if sub == "token" and verb == "create" and rt.key == "/serviceaccounts":
            cluster.get(rt, t.namespace, t.name)
            body = self._body(req) if req.body else {}
            token = cluster.service_account_token(t.namespace, t.name)
            spec = (body or {}).get("spec") or {}
            return await _respond(send, 201, _json({
                "kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1",
                "metadata": {"name": t.name, "namespace": t.namespace, "creationTimestamp": None},
                "spec": {"audiences": spec.get("audiences") or ["https://kubernetes.default.svc"],
                         "expirationSeconds": spec.get("expirationSeconds") or 3600},
                "status": {"token": token, "expirationTimestamp": "2099-01-01T00:00:00Z"}}))
        if sub == "log":
            cluster.get(rt, t.namespace, t.name)
            raise ApiError(404, "NotFound", "the server could not find the requested resource ( pods/log "
                           f"{t.name})")
        raise ApiError(405 if sub in rt.subresources else 404, "MethodNotAllowed" if sub in rt.subresources else "NotFound",
                       "the server does not allow this method on the requested resource")

    # -- representations ---------------------------------------------------------------------------
    def _wants(self, req: Request) -> tuple[str, str]:
        """(representation, include_object): representation is json | yaml | table | partial."""
        for a in _accepts(req):
            if a.get("as") == "Table" and a.get("g") == "meta.k8s.io":
                return "table", req.q("includeObject") or "Metadata"
            if a.get("as") in ("PartialObjectMetadata", "PartialObjectMetadataList") and a.get("g") == "meta.k8s.io":
                return "partial", ""
            if a["type"] in ("application/json", "*/*", "application/*"):
                return "json", ""
            if a["type"] == "application/yaml":
                return "yaml", ""
        return "json", ""

    def _table(self, rt: ResourceType, objs: list[dict[str, Any]], include: str,
               list_meta: dict[str, Any] | None = None) -> dict[str, Any]:
        return tables.to_table(objs, rt.kind, rt.group, list_meta=list_meta, include_object=include,
                               now=self.cluster.clock.now(),
                               additional_printer_columns=list(rt.printer_columns) if rt.is_custom else None)

    async def _send_obj(self, req: Request, send: Send, obj: dict[str, Any], rt: ResourceType, status: int = 200,
                        warnings: list[str] | None = None) -> None:
        rep, include = self._wants(req)
        hdrs = _warning_headers(warnings or [])
        if obj.get("kind") == rt.kind:  # a write answers with the object as served at the request's version
            obj = self.cluster._present(rt, obj)
        if rep == "table" and obj.get("kind") == rt.kind:
            return await _respond(send, status, _json(self._table(rt, [obj], include)), headers=hdrs)
        if rep == "partial":
            body = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj.get("metadata", {})}
            return await _respond(send, status, _json(body), headers=hdrs)
        if rep == "yaml":
            return await _respond(send, status, yaml.safe_dump(obj, sort_keys=False).encode(), "application/yaml", hdrs)
        return await _respond(send, status, _json(obj), headers=hdrs)

    async def _send_list(self, req: Request, send: Send, listed: dict[str, Any], rt: ResourceType) -> None:
        rep, include = self._wants(req)
        if rep == "table":
            return await _respond(send, 200, _json(self._table(rt, listed["items"], include, listed["metadata"])))
        if rep == "partial":
            body = {"kind": "PartialObjectMetadataList", "apiVersion": "meta.k8s.io/v1", "metadata": listed["metadata"],
                    "items": [{"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                               "metadata": o.get("metadata", {})} for o in listed["items"]]}
            return await _respond(send, 200, _json(body))
        if rep == "yaml":
            return await _respond(send, 200, yaml.safe_dump(listed, sort_keys=False).encode(), "application/yaml")
        return await _respond(send, 200, _json(listed))

    # -- watch -------------------------------------------------------------------------------------
    async def watch(self, req: Request, receive: Receive, send: Send, t: Target) -> None:
        cluster, rt = self.cluster, t.rt
        ns = t.namespace if rt.namespaced else ""
        reqs = parse_label_selector(req.q("labelSelector"))
        fsel = req.q("fieldSelector")
        if t.name:
            fsel = f"metadata.name={t.name}" + (f",{fsel}" if fsel else "")
        fpred = parse_field_selector(fsel, rt.key)
        rv_text = req.q("resourceVersion") or ""
        send_initial = req.qbool("sendInitialEvents")
        bookmarks = req.qbool("allowWatchBookmarks")
        timeout = float(req.q("timeoutSeconds") or 1800)
        if send_initial and rv_text and rv_text != "0" and req.q("resourceVersionMatch") != "NotOlderThan":
            raise bad_request("resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan")
        try:
            since = int(rv_text) if rv_text and rv_text != "0" else None
        except ValueError:
            raise bad_request(f'resourceVersion: Invalid value: "{rv_text}": must be a valid resource version') from None
        loop = asyncio.get_running_loop()
        with cluster.store.lock():
            try:
                watcher, replay = cluster.store.watch(rt.key, ns or None, None if (send_initial or since is None) else since, loop)
            except TooOld as e:
                raise gone(str(e)) from None
            initial = []
            if since is None or send_initial:
                items, _ = cluster.store.list(rt.key, ns or None)
                initial = list(items)
            start_rv = cluster.store.resource_version
        rep, include = self._wants(req)
        first = [True]

        def matches(obj: dict[str, Any]) -> bool:
            return (not reqs or labels_match(reqs, obj["metadata"].get("labels"))) and fpred(obj)

        def encode(etype: str, obj: dict[str, Any]) -> bytes:
            if etype != "BOOKMARK" and etype != "ERROR":
                obj = cluster._present(rt, obj)
                if rep == "table":
                    obj = self._table(rt, [obj], include)
                    if not first[0]:
                        obj["columnDefinitions"] = []
                    first[0] = False
                elif rep == "partial":
                    obj = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj["metadata"]}
            return _json({"type": etype, "object": obj}) + b"\n"

        def bookmark(rv: int, initial_end: bool = False) -> bytes:
            meta: dict[str, Any] = {"resourceVersion": str(rv)}
            if initial_end:
                meta["annotations"] = {"k8s.io/initial-events-end": "true"}
            kind = "Table" if rep == "table" else rt.kind
            api_version = "meta.k8s.io/v1" if rep == "table" else rt.api_version
            return _json({"type": "BOOKMARK", "object": {"kind": kind, "apiVersion": api_version, "metadata": meta}}) + b"\n"

        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"cache-control", b"no-cache, private")]})
        disconnected = asyncio.Event()

        async def watch_disconnect() -> None:
            while True:
                msg = await receive()
                if msg["type"] == "http.disconnect":
                    disconnected.set()
                    return

        disc_task = asyncio.create_task(watch_disconnect())
        try:
            chunk = b"".join(encode("ADDED", o) for o in initial if matches(o))
            if send_initial and bookmarks:
                chunk += bookmark(start_rv, True)
            for ev in replay:
                if matches(ev.obj):
                    chunk += encode(ev.type, ev.obj)
            await send({"type": "http.response.body", "body": chunk or b"", "more_body": True})
            deadline = loop.time() + timeout
            while not disconnected.is_set():
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                getter = asyncio.ensure_future(watcher.queue.get())
                stopper = asyncio.ensure_future(disconnected.wait())
                done, _ = await asyncio.wait({getter, stopper}, timeout=min(remaining, 30.0),
                                             return_when=asyncio.FIRST_COMPLETED)
                stopper.cancel()
                if getter not in done:
                    getter.cancel()
                    if bookmarks and not disconnected.is_set():
                        await send({"type": "http.response.body", "body": bookmark(cluster.store.resource_version),
                                    "more_body": True})
                    continue
                ev = getter.result()
                if ev is None:
                    break
                out = b""
                if ev.rv <= start_rv and (since is None or send_initial):
                    continue
                if ev.type == "MODIFIED" and rt.key:  # label changes move objects in and out of a selection
                    out = encode("MODIFIED", ev.obj) if matches(ev.obj) else b""
                elif matches(ev.obj):
                    out = encode(ev.type, ev.obj)
                while not watcher.queue.empty():
                    nxt = watcher.queue.get_nowait()
                    if nxt is None:
                        break
                    if nxt.rv > start_rv and matches(nxt.obj):
                        out += encode(nxt.type, nxt.obj)
                if out:
                    await send({"type": "http.response.body", "body": out, "more_body": True})
        finally:
            cluster.store.unwatch(watcher)
            disc_task.cancel()
            try:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
            except Exception:  # noqa: BLE001 - client already gone
                pass


def _patched_version(raw: Any) -> bool:
    """Whether a patch body sets metadata.resourceVersion itself (a merge patch's field, or a JSON patch op on it)."""
    if isinstance(raw, dict):
        return bool((raw.get("metadata") or {}).get("resourceVersion")) if isinstance(raw.get("metadata"), dict) else False
    if isinstance(raw, list):
        return any(isinstance(op, dict) and str(op.get("path", "")).startswith("/metadata/resourceVersion") for op in raw)
    return False
