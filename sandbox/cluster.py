"""The API semantics of the sandbox: create, read, update, patch, delete and watch objects the way the
kube-apiserver does (admission, defaulting, validation, managedFields, finalizers, garbage collection,
namespace termination, CRDs), independent of HTTP.

Why apart from the HTTP layer: controllers of the sandbox (next issue) and tests act through the same
semantics without a socket; the HTTP layer only parses requests and negotiates representations.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import ipaddress
import json
import queue
import random
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sandbox import apply as ssa
from sandbox import conversion
from sandbox import patch as patching
from sandbox.clock import Clock
from sandbox.defaults import apply_defaults
from sandbox.errors import (
    ApiError,
    already_exists,
    bad_request,
    conflict,
    forbidden,
    invalid,
    not_found,
)
from sandbox.rbac import Attributes, Authorizer, UserInfo, bootstrap_policy, forbidden_message
from sandbox.resources import VIRTUAL_KINDS, Registry, ResourceType
from sandbox.selectors import (
    format_label_selector,
    labels_match,
    parse_field_selector,
    parse_label_selector,
    selector_from_label_selector,
)
from sandbox.store import Store
from sandbox.validation import decode, validate

ADMIN = UserInfo("kubernetes-admin", ("system:masters", "system:authenticated"))
SYSTEM = UserInfo("system:apiserver", ("system:masters",))
GENERATE_CHARS = "bcdfghjklmnpqrstvwxz2456789"
SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


@dataclass
class WriteOptions:
    """Query options shared by writes."""

    dry_run: bool = False
    field_manager: str = ""
    field_validation: str = "Warn"  # Strict | Warn | Ignore
    force: bool = False


@dataclass
class Result:
    obj: dict[str, Any]
    created: bool = False
    warnings: list[str] = field(default_factory=list)


def _gen_suffix(n: int = 5) -> str:
    return "".join(random.choice(GENERATE_CHARS) for _ in range(n))


def _meta(obj: dict[str, Any]) -> dict[str, Any]:
    m = obj.get("metadata")
    if not isinstance(m, dict):
        m = {}
        obj["metadata"] = m
    return m


def _without(obj: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k not in keys}


def _get_path(obj: Any, dotted: str) -> Any:
    cur = obj
    for part in [p for p in dotted.split(".") if p]:
        if not isinstance(cur, dict):
            return None
        cur = cur.get(part)
    return cur


def _set_path(obj: dict[str, Any], dotted: str, value: Any) -> None:
    parts = [p for p in dotted.split(".") if p]
    cur = obj
    for part in parts[:-1]:
        cur = cur.setdefault(part, {})
    cur[parts[-1]] = value


class Cluster:
    """One sandbox cluster: a store plus the API's semantics over it."""

    def __init__(self, store: Store | None = None, clock: Clock | None = None, secret: bytes | None = None,
                 seed: int = 0) -> None:
        self.store = store or Store()
        self.seed = seed
        self._name_counters: dict[str, int] = {}
        self.clock = clock or Clock()
        self.registry = Registry()
        self.tokens: dict[str, UserInfo] = {}
        self.authorizer = Authorizer(lambda key, ns: self.store.list(key, ns)[0])
        self._secret = secret or self._load_secret()
        self._work: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self._worker = threading.Thread(target=self._run_worker, name="sandbox-gc", daemon=True)
        self._worker.start()
        self.hooks: list[Callable[[str, ResourceType, dict[str, Any] | None, dict[str, Any] | None], None]] = []
        for crd in self.store.list("apiextensions.k8s.io/customresourcedefinitions")[0]:
            self.registry.set_crd(crd)
        self._bootstrap()

    # -- background work (garbage collection, namespace termination) -------------------------------
    def _run_worker(self) -> None:
        while True:
            job = self._work.get()
            if job is None:
                return
            try:
                job()
            except Exception:  # noqa: BLE001 - background work must never kill the worker
                import logging

                logging.getLogger(__name__).exception("sandbox background job failed")
            finally:
                self._work.task_done()

    def defer(self, job: Callable[[], None]) -> None:
        self._work.put(job)

    def settle(self) -> None:
        """Wait until deferred work (GC, namespace termination) is done; for tests and benchmarks."""
        self._work.join()

    def close(self) -> None:
        self._work.put(None)
        self.store.close()

    # -- identity ----------------------------------------------------------------------------------
    def _load_secret(self) -> bytes:
        stored = self.store.get("kubesage.io/secrets", "", "signing-key")
        if stored:
            return base64.b64decode(stored["key"])
        key = secrets.token_bytes(32)
        self.store.put("kubesage.io/secrets", "", "signing-key", {"metadata": {"name": "signing-key"},
                                                                  "key": base64.b64encode(key).decode()}, "ADDED")
        return key

    def add_user(self, token: str, name: str, groups: list[str] | tuple[str, ...] = ()) -> UserInfo:
        user = UserInfo(name, tuple(dict.fromkeys([*groups, "system:authenticated"])))
        self.tokens[token] = user
        return user

    def service_account_token(self, namespace: str, name: str) -> str:
        """A bearer token for a ServiceAccount (what `kubectl create token` returns)."""
        payload = base64.urlsafe_b64encode(f"{namespace}:{name}".encode()).decode().rstrip("=")
        sig = hmac.new(self._secret, payload.encode(), hashlib.sha256).hexdigest()[:32]
        return f"ksa.{payload}.{sig}"

    def authenticate(self, token: str | None) -> UserInfo | None:
        if not token:
            return None
        if token in self.tokens:
            return self.tokens[token]
        if token.startswith("ksa."):
            try:
                _, payload, sig = token.split(".")
                good = hmac.new(self._secret, payload.encode(), hashlib.sha256).hexdigest()[:32]
                if not hmac.compare_digest(good, sig):
                    return None
                ns, name = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode().split(":", 1)
            except (ValueError, UnicodeDecodeError):
                return None
            if self.store.get("/serviceaccounts", ns, name) is None:
                return None
            from sandbox.rbac import service_account_user

            return service_account_user(ns, name)
        return None

    def impersonate(self, user: UserInfo, as_user: str | None, as_groups: list[str], as_uid: str | None = None) -> UserInfo:
        """Apply Impersonate-User/-Group headers after checking the `impersonate` verb."""
        if not as_user and not as_groups:
            return user
        if not as_user:
            raise ApiError(500, "InternalError", "Internal error occurred: requested impersonation of groups "
                           "without impersonating a user")
        if as_user.startswith("system:serviceaccount:"):
            parts = as_user.split(":")
            if len(parts) != 4:
                raise bad_request(f"invalid service account name {as_user!r}")
            self.authorize(user, Attributes("impersonate", parts[2], "", "serviceaccounts", "", parts[3]))
            groups = ["system:serviceaccounts", f"system:serviceaccounts:{parts[2]}"]
        else:
            self.authorize(user, Attributes("impersonate", "", "", "users", "", as_user))
            groups = []
        for g in as_groups:
            self.authorize(user, Attributes("impersonate", "", "", "groups", "", g))
            groups.append(g)
        if as_user != "system:anonymous":
            groups.append("system:authenticated")
        return UserInfo(as_user, tuple(dict.fromkeys(groups)), as_uid or "")

    def authorize(self, user: UserInfo, attrs: Attributes) -> None:
        allowed, _ = self.authorizer.authorize(user, attrs)
        if not allowed:
            if not attrs.is_resource:
                raise forbidden(forbidden_message(user, attrs))
            raise forbidden(forbidden_message(user, attrs), attrs.resource, attrs.group, attrs.name or None)

    # -- bootstrap ---------------------------------------------------------------------------------
    def _bootstrap(self) -> None:
        opts = WriteOptions(field_manager="kube-apiserver")
        for ns in SYSTEM_NAMESPACES:
            if self.store.get("/namespaces", "", ns) is None:
                self.create(self.rt("", "v1", "namespaces"), "", {"metadata": {"name": ns}}, SYSTEM, opts)
        for obj in bootstrap_policy():
            plural = obj["kind"].lower() + "s"
            if self.store.get(f"rbac.authorization.k8s.io/{plural}", "", obj["metadata"]["name"]) is None:
                self.create(self.rt("rbac.authorization.k8s.io", "v1", plural), "", obj, SYSTEM, opts)
        if self.store.get("/services", "default", "kubernetes") is None:
            self.create(self.rt("", "v1", "services"), "default", {
                "metadata": {"name": "kubernetes", "labels": {"component": "apiserver", "provider": "kubernetes"}},
                "spec": {"clusterIP": "10.96.0.1", "ports": [{"name": "https", "port": 443, "targetPort": 6443}]},
            }, SYSTEM, opts)
        self.settle()

    def rt(self, group: str, version: str, plural: str) -> ResourceType:
        found = self.registry.lookup(group, version, plural)
        if found is None:
            raise not_found(plural, group, "")
        return found

    # -- reads -------------------------------------------------------------------------------------
    def get(self, rt: ResourceType, ns: str, name: str) -> dict[str, Any]:
        obj = self.store.get(rt.key, ns if rt.namespaced else "", name)
        if obj is None:
            raise not_found(rt.plural, rt.group, name)
        return self._present(rt, obj)

    def _present(self, rt: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
        """The stored object as served at `rt`'s version (objects are stored with their kind/apiVersion)."""
        if obj.get("apiVersion") == rt.api_version:
            return obj
        converted = conversion.from_storage(rt.group, rt.plural, rt.version, obj)
        if converted is not None:  # a version whose fields differ from the stored one (autoscaling/v1 HPA)
            return converted
        out = dict(obj)
        out["apiVersion"] = rt.api_version
        return out

    def list(self, rt: ResourceType, ns: str | None, label_selector: str | None = None,
             field_selector: str | None = None, limit: int = 0, cont: str | None = None) -> dict[str, Any]:
        reqs = parse_label_selector(label_selector)
        fpred = parse_field_selector(field_selector, rt.key)
        items, rv = self.store.list(rt.key, ns if rt.namespaced else None)
        start = 0
        if cont:
            try:
                token = json.loads(base64.b64decode(cont))
                rv, start_key = int(token["rv"]), tuple(token["start"])
            except (ValueError, KeyError, TypeError):
                raise bad_request("continue key is not valid: illegal base64 data") from None
            keys = [((i["metadata"].get("namespace") or ""), i["metadata"]["name"]) for i in items]
            start = next((n for n, k in enumerate(keys) if k >= start_key), len(keys))
        out: list[dict[str, Any]] = []
        meta: dict[str, Any] = {"resourceVersion": str(rv)}
        for n in range(start, len(items)):
            obj = items[n]
            if (not reqs or labels_match(reqs, obj["metadata"].get("labels"))) and fpred(obj):
                if limit and len(out) >= limit:
                    nxt = (obj["metadata"].get("namespace") or "", obj["metadata"]["name"])
                    meta["continue"] = base64.b64encode(json.dumps({"rv": rv, "start": nxt}).encode()).decode()
                    meta["remainingItemCount"] = sum(
                        1 for o in items[n:]
                        if (not reqs or labels_match(reqs, o["metadata"].get("labels"))) and fpred(o))
                    break
                out.append(self._present(rt, obj))
        return {"kind": rt.list_kind, "apiVersion": rt.api_version, "metadata": meta, "items": out}

    # -- writes: shared steps ----------------------------------------------------------------------
    def _decode(self, rt: ResourceType, body: dict[str, Any], opts: WriteOptions) -> tuple[dict[str, Any], list[str]]:
        """Check apiVersion/kind, types and unknown fields (per fieldValidation)."""
        if not isinstance(body, dict):
            raise bad_request("the object provided is unrecognized (must be of type object)")
        kind = body.get("kind")
        api_version = body.get("apiVersion")
        if kind and kind != rt.kind:
            raise bad_request(f"the API version in the data ({api_version}) does not match the expected API "
                              f"version ({rt.api_version})" if api_version != rt.api_version else
                              f'the object provided is unrecognized (kind "{kind}" is not "{rt.kind}")')
        if api_version and api_version != rt.api_version:
            raise bad_request(f"the API version in the data ({api_version}) does not match the expected API "
                              f"version ({rt.api_version})")
        body = dict(body, kind=rt.kind, apiVersion=rt.api_version)
        if not isinstance(body.get("metadata", {}), dict):
            raise bad_request(f'{rt.kind} in version "{rt.version}" cannot be handled as a {rt.kind}: json: cannot '
                              "unmarshal value into Go struct field ObjectMeta.metadata of type v1.ObjectMeta")
        if rt.crd_schema is not None:
            decoded, unknown = _prune_custom(body, rt.crd_schema)
        else:
            decoded, unknown = decode(body, rt.definition, rt.kind, rt.version)
        warnings: list[str] = []
        if unknown:
            if opts.field_validation == "Strict":
                fields = ", ".join(f'unknown field "{f}"' for f in unknown)
                raise bad_request(f"strict decoding error: {fields}")
            if opts.field_validation == "Warn":
                warnings = [f'unknown field "{f}"' for f in unknown]
        return conversion.to_storage(rt.group, rt.plural, rt.version, decoded), warnings

    def _check_namespace(self, rt: ResourceType, ns: str, obj: dict[str, Any], creating: bool) -> str:
        meta = _meta(obj)
        if not rt.namespaced:
            meta.pop("namespace", None)
            return ""
        body_ns = meta.get("namespace")
        if body_ns and ns and body_ns != ns:
            raise bad_request("the namespace of the provided object does not match the namespace sent on the request")
        ns = ns or body_ns or ""
        if not ns:
            raise bad_request("an empty namespace may not be set during creation" if creating else
                              "an empty namespace may not be set when a resource name is provided")
        meta["namespace"] = ns
        if creating:
            nsobj = self.store.get("/namespaces", "", ns)
            if nsobj is None:
                raise not_found("namespaces", "", ns)
            if (nsobj.get("status") or {}).get("phase") == "Terminating":
                raise ApiError(403, "Forbidden", f'{rt.plural} "{meta.get("name", "")}" is forbidden: unable to create '
                               f"new content in namespace {ns} because it is being terminated",
                               {"name": meta.get("name", ""), "kind": rt.plural,
                                "causes": [{"reason": "NamespaceTerminating", "field": "metadata.namespace",
                                            "message": f"namespace {ns} is being terminated"}]})
        return ns

    def _finish(self, rt: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
        """Defaulting and validation of a fully formed object."""
        obj = apply_defaults(obj, rt.group, rt.kind)
        if rt.kind not in VIRTUAL_KINDS:
            validate(obj, rt.group, rt.kind, rt.definition, rt.namespaced)
        if rt.group == "apiextensions.k8s.io" and rt.kind == "CustomResourceDefinition":
            _validate_crd(obj)
        return obj

    def _manager(self, opts: WriteOptions, user_agent: str = "") -> str:
        return opts.field_manager or (user_agent.split("/", 1)[0] if user_agent else "unknown")

    # -- create ------------------------------------------------------------------------------------
    def create(self, rt: ResourceType, ns: str, body: dict[str, Any], user: UserInfo, opts: WriteOptions,
               user_agent: str = "") -> Result:
        obj, warnings = self._decode(rt, body, opts)
        obj = copy.deepcopy(obj)
        meta = _meta(obj)
        if meta.get("resourceVersion"):
            raise bad_request("resourceVersion should not be set on objects to be created")
        with self.store.lock():
            if not meta.get("name") and meta.get("generateName"):
                meta["name"] = self._generate_name(rt, ns if rt.namespaced else "", meta["generateName"], meta)
            ns = self._check_namespace(rt, ns, obj, creating=True)
            name = meta.get("name") or ""
            if name and self.store.get(rt.key, ns, name) is not None:
                if body.get("metadata", {}).get("generateName") and not body.get("metadata", {}).get("name"):
                    raise ApiError(409, "AlreadyExists", f'{rt.plural} "{name}" already exists, the server was not '
                                   "able to generate a unique name for the object", {"name": name, "kind": rt.plural})
                raise already_exists(rt.plural, rt.group, name)
            meta["uid"] = self._uid(rt, ns, name)
            meta["creationTimestamp"] = self.clock.rfc3339()
            if _has_generation(rt):
                meta["generation"] = 1
            else:
                meta.pop("generation", None)
            for k in ("deletionTimestamp", "deletionGracePeriodSeconds", "managedFields", "selfLink"):
                meta.pop(k, None)
            obj = self._admit_create(rt, ns, obj)
            obj = self._finish(rt, obj)
            obj = ssa.track_update(None, obj, manager=self._manager(opts, user_agent), operation="Update",
                                   definition=rt.definition, api_version=rt.api_version, now=self.clock.rfc3339())
            if opts.dry_run:
                return Result(obj, True, warnings)
            stored = self.store.put(rt.key, ns, meta["name"], obj, "ADDED")
            self._after_write(rt, None, stored)
        return Result(stored, True, warnings)

    def _generate_name(self, rt: ResourceType, ns: str, prefix: str, meta: dict[str, Any]) -> str:
        """generateName: deterministic for a seed (same scenario, same names), unique in the store."""
        body_ns = ns or meta.get("namespace") or ""
        counter_key = f"{rt.key}/{body_ns}/{prefix}"
        for _ in range(1000):
            n = self._name_counters.get(counter_key, 0)
            self._name_counters[counter_key] = n + 1
            digest = hashlib.sha256(f"{self.seed}/{counter_key}/{n}".encode()).digest()
            name = prefix + "".join(GENERATE_CHARS[b % len(GENERATE_CHARS)] for b in digest[:5])
            if self.store.get(rt.key, body_ns if rt.namespaced else "", name) is None:
                return name
        return prefix + _gen_suffix()

    def _uid(self, rt: ResourceType, ns: str, name: str) -> str:
        digest = hashlib.sha256(f"{self.seed}/{self.store.resource_version}/{rt.key}/{ns}/{name}".encode()).digest()
        return str(uuid.UUID(bytes=digest[:16], version=4))

    def _admit_create(self, rt: ResourceType, ns: str, obj: dict[str, Any]) -> dict[str, Any]:
        """Admission: what the real server's admission plugins and registries add on create."""
        if rt.key == "/services":
            spec = obj.setdefault("spec", {})
            if spec.get("type") != "ExternalName" and not spec.get("clusterIP"):
                spec["clusterIP"] = self._allocate_ip()
            if spec.get("clusterIP") and spec.get("clusterIP") != "None":
                spec.setdefault("clusterIPs", [spec["clusterIP"]])
                spec.setdefault("ipFamilies", ["IPv4"])
                spec.setdefault("ipFamilyPolicy", "SingleStack")
            if spec.get("type") in ("NodePort", "LoadBalancer"):
                used = self._used_node_ports()
                for p in spec.get("ports") or []:
                    if isinstance(p, dict) and not p.get("nodePort"):
                        port = next(n for n in range(30000, 32768) if n not in used)
                        used.add(port)
                        p["nodePort"] = port
        elif rt.key == "/pods":
            spec = obj.get("spec") or {}
            if spec.get("serviceAccountName") and ns:
                sa = spec["serviceAccountName"]
                if self.store.get("/serviceaccounts", ns, sa) is None and sa != "default":
                    raise forbidden(f'pods "{_meta(obj).get("name")}" is forbidden: error looking up service account '
                                    f'{ns}/{sa}: serviceaccount "{sa}" not found', "pods", "", _meta(obj).get("name"))
        elif rt.key == "apiextensions.k8s.io/customresourcedefinitions":
            obj["status"] = _crd_status(obj, self.clock.rfc3339())
        return obj

    def _allocate_ip(self) -> str:
        used = {(s.get("spec") or {}).get("clusterIP") for s in self.store.list("/services")[0]}
        base = int(ipaddress.IPv4Address("10.96.0.0"))
        for n in range(10, 1 << 20):
            ip = str(ipaddress.IPv4Address(base + n))
            if ip not in used:
                return ip
        raise ApiError(500, "InternalError", "Internal error occurred: failed to allocate a serviceIP: range is full")

    def _used_node_ports(self) -> set[int]:
        return {p.get("nodePort") for s in self.store.list("/services")[0]
                for p in (s.get("spec") or {}).get("ports") or [] if isinstance(p, dict) and p.get("nodePort")}

    # -- update ------------------------------------------------------------------------------------
    def update(self, rt: ResourceType, ns: str, name: str, body: dict[str, Any], user: UserInfo, opts: WriteOptions,
               subresource: str = "", user_agent: str = "") -> Result:
        obj, warnings = self._decode(rt, body, opts)
        obj = copy.deepcopy(obj)
        meta = _meta(obj)
        if meta.get("name") and meta["name"] != name:
            raise bad_request(f"the name of the object ({meta['name']}) does not match the name on the URL ({name})")
        meta["name"] = name
        with self.store.lock():
            ns = self._check_namespace(rt, ns, obj, creating=False)
            current = self.store.get(rt.key, ns, name)
            if current is None:
                raise not_found(rt.plural, rt.group, name)
            want_rv = meta.get("resourceVersion")
            if want_rv and want_rv != current["metadata"].get("resourceVersion"):
                raise conflict(rt.plural, rt.group, name)
            return self._replace(rt, ns, current, obj, opts, subresource, "Update", user_agent, warnings)

    def _replace(self, rt: ResourceType, ns: str, current: dict[str, Any], obj: dict[str, Any], opts: WriteOptions,
                 subresource: str, operation: str, user_agent: str, warnings: list[str],
                 managed_done: bool = False) -> Result:
        """Write `obj` over `current`, keeping what clients may not change."""
        name = current["metadata"]["name"]
        cur_meta = current["metadata"]
        if subresource == "status":
            new = copy.deepcopy(current)
            new["status"] = obj.get("status")
            if new["status"] is None:
                new.pop("status")
        else:
            new = obj
            meta = _meta(new)
            for k in ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation"):
                if k in cur_meta:
                    meta[k] = cur_meta[k]
                else:
                    meta.pop(k, None)
            meta["namespace"] = cur_meta.get("namespace") if rt.namespaced else None
            if not rt.namespaced:
                meta.pop("namespace", None)
            if "status" in rt.subresources or rt.key == "/namespaces":
                if "status" in current:
                    new["status"] = current["status"]
                else:
                    new.pop("status", None)
            if rt.key == "/services":
                spec, old_spec = new.setdefault("spec", {}), current.get("spec") or {}
                for k in ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"):
                    if k in old_spec and not spec.get(k):
                        spec[k] = old_spec[k]
            if rt.key == "/namespaces":
                new.setdefault("spec", current.get("spec", {}))
        new = self._finish(rt, new)
        _check_immutable(rt, current, new)
        if _has_generation(rt) and _spec_changed(current, new):
            _meta(new)["generation"] = int(cur_meta.get("generation") or 1) + 1
        _meta(new).pop("resourceVersion", None)
        if not managed_done:
            new = ssa.track_update(current, new, manager=self._manager(opts, user_agent), operation=operation,
                                   definition=rt.definition, api_version=rt.api_version, now=self.clock.rfc3339(),
                                   subresource=subresource or None)
        if _same(current, new):
            return Result(current, False, warnings)
        if opts.dry_run:
            new["metadata"]["resourceVersion"] = cur_meta.get("resourceVersion")
            return Result(new, False, warnings)
        if cur_meta.get("deletionTimestamp") and not _meta(new).get("finalizers"):
            final = self.store.remove(rt.key, ns, name)
            self._after_write(rt, current, None)
            return Result(final or new, False, warnings)
        stored = self.store.put(rt.key, ns, name, new, "MODIFIED")
        self._after_write(rt, current, stored)
        return Result(stored, False, warnings)

    # -- patch -------------------------------------------------------------------------------------
    def patch(self, rt: ResourceType, ns: str, name: str, patch_type: str, raw: Any, user: UserInfo,
              opts: WriteOptions, subresource: str = "", user_agent: str = "") -> Result:
        with self.store.lock():
            key_ns = ns if rt.namespaced else ""
            current = self.store.get(rt.key, key_ns, name)
            if patch_type == "apply":
                return self._apply(rt, key_ns, name, current, raw, user, opts, subresource, user_agent)
            if current is None:
                raise not_found(rt.plural, rt.group, name)
            doc = self._present(rt, current)
            try:
                if patch_type == "json":
                    patched = patching.json_patch(doc, raw)
                elif patch_type == "merge":
                    patched = patching.merge_patch(doc, raw)
                else:
                    if rt.definition is None:
                        raise ApiError(415, "UnsupportedMediaType", "the body of the request was in an unknown "
                                       "format - accepted media types include: application/json-patch+json, "
                                       "application/merge-patch+json, application/apply-patch+yaml")
                    if not isinstance(raw, dict):
                        raise patching.PatchError("strategic merge patch must be a JSON object")
                    patched = patching.strategic_merge_patch(doc, raw, rt.definition)
            except patching.PatchTestFailed as e:
                raise ApiError(422, "Invalid", str(e)) from None
            except patching.PatchError as e:
                raise ApiError(422 if patch_type == "json" else 400, "Invalid" if patch_type == "json" else "BadRequest",
                               str(e)) from None
            if not isinstance(patched, dict):
                raise bad_request("patch produced a value that is not an object")
            want_rv = (patched.get("metadata") or {}).get("resourceVersion")
            if want_rv and want_rv != current["metadata"].get("resourceVersion"):
                raise conflict(rt.plural, rt.group, name)
            obj, warnings = self._decode(rt, patched, opts)
            obj = copy.deepcopy(obj)
            _meta(obj)["name"] = name
            return self._replace(rt, key_ns, current, obj, opts, subresource, "Update", user_agent, warnings)

    def _apply(self, rt: ResourceType, ns: str, name: str, current: dict[str, Any] | None, raw: Any,
               user: UserInfo, opts: WriteOptions, subresource: str, user_agent: str) -> Result:
        if not opts.field_manager:
            raise bad_request("PATCH, application/apply-patch+yaml requires fieldManager to be set")
        applied, warnings = self._decode(rt, raw, opts)
        amet = _meta(applied)
        if amet.get("name") and amet["name"] != name:
            raise bad_request(f"the name of the object ({amet['name']}) does not match the name on the URL ({name})")
        amet["name"] = name
        try:
            merged = ssa.server_side_apply(current, applied, manager=opts.field_manager, force=opts.force,
                                           definition=rt.definition, api_version=rt.api_version,
                                           now=self.clock.rfc3339(), ignore_status=subresource != "status",
                                           subresource=subresource or None)
        except ssa.ApplyConflict as e:
            raise ApiError(409, "Conflict", str(e), {"causes": e.causes}) from None
        except ValueError as e:
            raise ApiError(422, "Invalid", str(e)) from None
        if current is None:
            merged_meta = _meta(merged)
            merged_meta.pop("resourceVersion", None)
            managed = merged_meta.get("managedFields")
            res = self.create(rt, ns, merged, user, opts, user_agent)
            if managed and not opts.dry_run:
                fixed = copy.deepcopy(res.obj)
                fixed["metadata"]["managedFields"] = managed
                with self.store.lock():
                    res = Result(self.store.put(rt.key, ns if rt.namespaced else "", name, fixed, "MODIFIED"), True)
            elif managed:
                res.obj["metadata"]["managedFields"] = managed
            return res
        obj = copy.deepcopy(merged)
        return self._replace(rt, ns, current, obj, opts, subresource, "Apply", user_agent, warnings, managed_done=True)

    # -- delete ------------------------------------------------------------------------------------
    def delete(self, rt: ResourceType, ns: str, name: str, user: UserInfo, options: dict[str, Any] | None = None,
               dry_run: bool = False) -> dict[str, Any]:
        options = options or {}
        key_ns = ns if rt.namespaced else ""
        with self.store.lock():
            current = self.store.get(rt.key, key_ns, name)
            if current is None:
                raise not_found(rt.plural, rt.group, name)
            pre = options.get("preconditions") or {}
            if pre.get("uid") and pre["uid"] != current["metadata"].get("uid"):
                raise conflict(rt.plural, rt.group, name,
                               f"Precondition failed: UID in precondition: {pre['uid']}, UID in object meta: {current['metadata'].get('uid')}")
            if pre.get("resourceVersion") and pre["resourceVersion"] != current["metadata"].get("resourceVersion"):
                raise conflict(rt.plural, rt.group, name, "Precondition failed: ResourceVersion in precondition: "
                               f"{pre['resourceVersion']}, ResourceVersion in object meta: {current['metadata'].get('resourceVersion')}")
            if dry_run:
                return self._present(rt, current)
            policy = options.get("propagationPolicy")
            if policy is None and options.get("orphanDependents") is not None:
                policy = "Orphan" if options["orphanDependents"] else "Background"
            if policy not in (None, "Background", "Foreground", "Orphan"):
                raise invalid("DeleteOptions", "", "", [("propagationPolicy", f'Unsupported value: "{policy}": '
                              'supported values: "Foreground", "Background", "Orphan", "nil"')])
            meta = current["metadata"]
            finalizers = list(meta.get("finalizers") or [])
            if policy == "Foreground" and "foregroundDeletion" not in finalizers:
                finalizers.append("foregroundDeletion")
            if policy == "Orphan" and "orphan" not in finalizers:
                finalizers.append("orphan")
            if rt.key == "/namespaces":
                return self._terminate_namespace(current)
            if rt.key == "apiextensions.k8s.io/customresourcedefinitions":
                finalizers.append("customresourcecleanup.apiextensions.k8s.io")
            if finalizers:
                if meta.get("deletionTimestamp") and finalizers == meta.get("finalizers"):
                    return current
                new = copy.deepcopy(current)
                new["metadata"]["finalizers"] = finalizers
                new["metadata"].setdefault("deletionTimestamp", self.clock.rfc3339())
                new["metadata"].setdefault("deletionGracePeriodSeconds", 0)
                new["metadata"].pop("resourceVersion", None)
                stored = self.store.put(rt.key, key_ns, name, new, "MODIFIED")
                self._after_write(rt, current, stored)
                self.defer(lambda: self._run_finalizers(rt, key_ns, name))
                return stored
            final = self.store.remove(rt.key, key_ns, name)
            self._after_write(rt, current, None)
            return final or current

    def delete_collection(self, rt: ResourceType, ns: str | None, user: UserInfo, label_selector: str | None,
                          field_selector: str | None, options: dict[str, Any] | None, dry_run: bool) -> dict[str, Any]:
        listed = self.list(rt, ns, label_selector, field_selector)
        gone = []
        for obj in listed["items"]:
            try:
                gone.append(self.delete(rt, obj["metadata"].get("namespace", ""), obj["metadata"]["name"], user,
                                        options, dry_run))
            except ApiError as e:
                if e.code != 404:
                    raise
        return {"kind": rt.list_kind, "apiVersion": rt.api_version, "metadata": listed["metadata"], "items": gone}

    def _run_finalizers(self, rt: ResourceType, ns: str, name: str) -> None:
        """The system finalizers: foregroundDeletion, orphan, CRD cleanup."""
        current = self.store.get(rt.key, ns, name)
        if current is None:
            return
        uid = current["metadata"]["uid"]
        fins = list(current["metadata"].get("finalizers") or [])
        if "foregroundDeletion" in fins:
            for dkey, dns, dname in self._dependents(uid):
                drt = self.registry.by_key(dkey)
                if drt is not None:
                    try:
                        self.delete(drt, dns, dname, SYSTEM, {"propagationPolicy": "Foreground"})
                    except ApiError:
                        pass
            self.defer(lambda: self._drop_finalizer(rt, ns, name, "foregroundDeletion"))
            return
        if "orphan" in fins:
            for dkey, dns, dname in self._dependents(uid):
                with self.store.lock():
                    dep = self.store.get(dkey, dns, dname)
                    if dep is None:
                        continue
                    new = copy.deepcopy(dep)
                    new["metadata"]["ownerReferences"] = [r for r in new["metadata"].get("ownerReferences", [])
                                                          if r.get("uid") != uid]
                    if not new["metadata"]["ownerReferences"]:
                        del new["metadata"]["ownerReferences"]
                    self.store.put(dkey, dns, dname, new, "MODIFIED")
            self._drop_finalizer(rt, ns, name, "orphan")
        if "customresourcecleanup.apiextensions.k8s.io" in fins:
            for crt in self.registry.all():
                if crt.crd_schema is not None and f"{crt.plural}.{crt.group}" == name:
                    for obj in self.store.list(crt.key)[0]:
                        try:
                            self.delete(crt, obj["metadata"].get("namespace", ""), obj["metadata"]["name"], SYSTEM)
                        except ApiError:
                            pass
            self._drop_finalizer(rt, ns, name, "customresourcecleanup.apiextensions.k8s.io")

    def _drop_finalizer(self, rt: ResourceType, ns: str, name: str, fin: str) -> None:
        with self.store.lock():
            current = self.store.get(rt.key, ns, name)
            if current is None:
                return
            if fin == "foregroundDeletion" and self._dependents(current["metadata"]["uid"], blocking_only=True):
                time.sleep(0.02)  # dependents still going away; look again shortly
                self.defer(lambda: self._drop_finalizer(rt, ns, name, fin))
                return
            new = copy.deepcopy(current)
            new["metadata"]["finalizers"] = [f for f in new["metadata"].get("finalizers", []) if f != fin]
            new["metadata"].pop("resourceVersion", None)
            if not new["metadata"]["finalizers"]:
                del new["metadata"]["finalizers"]
                self.store.remove(rt.key, ns, name)
                self._after_write(rt, current, None)
            else:
                self._after_write(rt, current, self.store.put(rt.key, ns, name, new, "MODIFIED"))

    def _dependents(self, uid: str, blocking_only: bool = False) -> list[tuple[str, str, str]]:
        out = []
        for key, ns, name in self.store.dependents(uid):
            obj = self.store.get(key, ns, name)
            if obj is None:
                continue
            if not blocking_only or any(r.get("uid") == uid and r.get("blockOwnerDeletion")
                                        for r in obj["metadata"].get("ownerReferences") or []):
                out.append((key, ns, name))
        return out

    def _collect_garbage(self, uid: str) -> None:
        """Background propagation: delete dependents whose owners are all gone."""
        for dkey, dns, dname in self._dependents(uid):
            dep = self.store.get(dkey, dns, dname)
            if dep is None:
                continue
            owners = [r.get("uid") for r in dep["metadata"].get("ownerReferences") or []]
            if any(o != uid and self.store.has_uid(o) for o in owners):
                continue
            drt = self.registry.by_key(dkey)
            if drt is not None:
                try:
                    self.delete(drt, dns, dname, SYSTEM)
                except ApiError:
                    pass

    def _terminate_namespace(self, current: dict[str, Any]) -> dict[str, Any]:
        name = current["metadata"]["name"]
        if (current.get("status") or {}).get("phase") != "Terminating":
            new = copy.deepcopy(current)
            new["metadata"].setdefault("deletionTimestamp", self.clock.rfc3339())
            new["metadata"].pop("resourceVersion", None)
            new["status"] = {"phase": "Terminating"}
            current = self.store.put("/namespaces", "", name, new, "MODIFIED")
            self.defer(lambda: self._finalize_namespace(name))
        return current

    def _finalize_namespace(self, name: str) -> None:
        remaining = 0
        for rt in self.registry.all():
            if not rt.namespaced or rt.kind in VIRTUAL_KINDS:
                continue
            for obj in self.store.list(rt.key, name)[0]:
                remaining += 1
                if obj["metadata"].get("deletionTimestamp"):
                    continue
                try:
                    self.delete(rt, name, obj["metadata"]["name"], SYSTEM)
                except ApiError:
                    pass
        with self.store.lock():
            left = any(self.store.list(rt.key, name)[0] for rt in self.registry.all() if rt.namespaced)
            ns = self.store.get("/namespaces", "", name)
            if ns is None:
                return
            if left:
                if remaining:
                    self.defer(lambda: self._finalize_namespace(name))
                return
            self.store.remove("/namespaces", "", name)

    # -- effects of writes -------------------------------------------------------------------------
    def _after_write(self, rt: ResourceType, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
        if rt.key == "/namespaces" and old is None and new is not None:
            ns = new["metadata"]["name"]
            self.defer(lambda: self._namespace_defaults(ns))
        if rt.key == "apiextensions.k8s.io/customresourcedefinitions":
            if new is not None:
                self.registry.set_crd(new)
            else:
                self.registry.drop_crd(old["metadata"]["name"] if old else "")
        if rt.key == "rbac.authorization.k8s.io/clusterroles":
            self.defer(self._aggregate_cluster_roles)
        if new is None and old is not None:
            uid = old["metadata"].get("uid")
            if uid and self.store.dependents(uid):
                self.defer(lambda: self._collect_garbage(uid))
        for hook in self.hooks:
            hook("write", rt, old, new)

    def _aggregate_cluster_roles(self) -> None:
        """The clusterrole-aggregation controller: an aggregated ClusterRole's rules are the union of the rules of
        the ClusterRoles its selectors match (written into the object, as on a real cluster)."""
        key = "rbac.authorization.k8s.io/clusterroles"
        for _ in range(5):  # aggregated roles may feed other aggregated roles (view -> edit -> admin)
            changed = False
            roles = self.store.list(key)[0]
            for role in roles:
                agg = role.get("aggregationRule")
                if not agg:
                    continue
                rules: list[dict[str, Any]] = []
                for sel in agg.get("clusterRoleSelectors") or []:
                    reqs = selector_from_label_selector(sel)
                    for other in roles:
                        if other is not role and reqs and labels_match(reqs, other["metadata"].get("labels")):
                            rules.extend(r for r in other.get("rules") or [] if r not in rules)
                if rules != (role.get("rules") or []):
                    new = copy.deepcopy(role)
                    new["rules"] = rules
                    new["metadata"].pop("resourceVersion", None)
                    with self.store.lock():
                        self.store.put(key, "", role["metadata"]["name"], new, "MODIFIED")
                    changed = True
            if not changed:
                return

    def _namespace_defaults(self, ns: str) -> None:
        """What controllers add to a new namespace: the default ServiceAccount and the root CA ConfigMap."""
        opts = WriteOptions(field_manager="kube-controller-manager")
        for plural, _name, body in (
            ("serviceaccounts", "default", {"metadata": {"name": "default"}}),
            ("configmaps", "kube-root-ca.crt", {"metadata": {"name": "kube-root-ca.crt", "annotations": {
                "kubernetes.io/description": "Contains a CA bundle that can be used to verify the kube-apiserver "
                                             "when using internal endpoints such as the internal service IP or "
                                             "kubernetes.default.svc. No other usage is guaranteed across "
                                             "distributions of Kubernetes clusters."}},
                                                "data": {"ca.crt": "-----BEGIN CERTIFICATE-----\nkubesage-sandbox\n-----END CERTIFICATE-----\n"}}),
        ):
            try:
                self.create(self.rt("", "v1", plural), ns, body, SYSTEM, opts)
            except ApiError:
                pass

    # -- subresources ------------------------------------------------------------------------------
    def get_scale(self, rt: ResourceType, ns: str, name: str) -> dict[str, Any]:
        obj = self.get(rt, ns, name)
        spec_path, status_path, sel_path = rt.scale_paths or (".spec.replicas", ".status.replicas", "")
        selector = ""
        if rt.scale_paths is None:
            selector = format_label_selector((obj.get("spec") or {}).get("selector"))
        elif sel_path:
            selector = _get_path(obj, sel_path) or ""
        meta = obj["metadata"]
        return {"kind": "Scale", "apiVersion": "autoscaling/v1",
                "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
                             if k in meta},
                "spec": {"replicas": _get_path(obj, spec_path) or 0},
                "status": {"replicas": _get_path(obj, status_path) or 0, **({"selector": selector} if selector else {})}}

    def set_scale(self, rt: ResourceType, ns: str, name: str, scale: dict[str, Any], user: UserInfo,
                  opts: WriteOptions, user_agent: str = "") -> dict[str, Any]:
        replicas = (scale.get("spec") or {}).get("replicas")
        if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
            raise invalid("Scale", "autoscaling", name, [("spec.replicas", f"Invalid value: {replicas}: must be greater than or equal to 0")])
        with self.store.lock():
            current = self.store.get(rt.key, ns if rt.namespaced else "", name)
            if current is None:
                raise not_found(rt.plural, rt.group, name)
            want_rv = (scale.get("metadata") or {}).get("resourceVersion")
            if want_rv and want_rv != current["metadata"].get("resourceVersion"):
                raise conflict(rt.plural, rt.group, name)
            new = copy.deepcopy(current)
            _set_path(new, (rt.scale_paths or (".spec.replicas",))[0], replicas)
            self._replace(rt, ns, current, new, opts, "scale", "Update", user_agent, [])
        return self.get_scale(rt, ns, name)

    def evict(self, ns: str, name: str, user: UserInfo, body: dict[str, Any]) -> dict[str, Any]:
        rt = self.rt("", "v1", "pods")
        self.delete(rt, ns, name, user, (body or {}).get("deleteOptions") or {})
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}

    def bind(self, ns: str, name: str, body: dict[str, Any]) -> dict[str, Any]:
        """pods/binding: what the scheduler posts to put a pod on a node."""
        node = ((body or {}).get("target") or {}).get("name")
        if not node:
            raise invalid("Binding", "", name, [("target.name", "Required value")])
        rt = self.rt("", "v1", "pods")
        with self.store.lock():
            current = self.store.get(rt.key, ns, name)
            if current is None:
                raise not_found("pods", "", name)
            if (current.get("spec") or {}).get("nodeName"):
                raise conflict("pods", "", name, f"pod {name} is already assigned to node \"{current['spec']['nodeName']}\"")
            new = copy.deepcopy(current)
            new["spec"]["nodeName"] = node
            new["metadata"].pop("resourceVersion", None)
            status = new.setdefault("status", {})
            status["conditions"] = [c for c in status.get("conditions") or [] if c.get("type") != "PodScheduled"] + [
                {"type": "PodScheduled", "status": "True", "lastProbeTime": None,
                 "lastTransitionTime": self.clock.rfc3339()}]
            self.store.put(rt.key, ns, name, new, "MODIFIED")
            self._after_write(rt, current, new)
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}

    # -- reviews -----------------------------------------------------------------------------------
    def review(self, rt: ResourceType, ns: str, body: dict[str, Any], user: UserInfo) -> dict[str, Any]:
        """Answer SelfSubjectAccessReview, SubjectAccessReview, LocalSubjectAccessReview, SelfSubjectRulesReview,
        SelfSubjectReview and TokenReview, as the real authorization/authentication APIs do."""
        spec = (body or {}).get("spec") or {}
        out = {"kind": rt.kind, "apiVersion": rt.api_version, "metadata": (body or {}).get("metadata") or {},
               "spec": spec}
        if rt.kind == "SelfSubjectReview":
            out.pop("spec")
            out["status"] = {"userInfo": {"username": user.name, "groups": list(user.groups),
                                          **({"uid": user.uid} if user.uid else {})}}
            return out
        if rt.kind == "TokenReview":
            who = self.authenticate(spec.get("token"))
            out["status"] = {"authenticated": bool(who), **({"user": {"username": who.name, "groups": list(who.groups)}}
                                                               if who else {})}
            return out
        if rt.kind == "SelfSubjectRulesReview":
            target_ns = spec.get("namespace") or ""
            out["status"] = self.rules_review(user, target_ns)
            return out
        subject = user
        if rt.kind in ("SubjectAccessReview", "LocalSubjectAccessReview"):
            subject = UserInfo(spec.get("user") or "", tuple(spec.get("groups") or ()), spec.get("uid") or "")
        ra, nra = spec.get("resourceAttributes"), spec.get("nonResourceAttributes")
        if rt.kind == "LocalSubjectAccessReview":
            if not ra or (ra.get("namespace") or ns) != ns:
                raise invalid(rt.kind, rt.group, "", [("spec.resourceAttributes.namespace",
                              "Invalid value: must match metadata.namespace")])
        if ra:
            attrs = Attributes(ra.get("verb", ""), ra.get("namespace", ""), ra.get("group", ""), ra.get("resource", ""),
                               ra.get("subresource", ""), ra.get("name", ""))
        elif nra:
            attrs = Attributes(nra.get("verb", ""), path=nra.get("path", "/"))
        else:
            raise invalid(rt.kind, rt.group, "", [("spec.resourceAttributes", "Required value: exactly one of "
                          "nonResourceAttributes or resourceAttributes must be specified")])
        allowed, reason = self.authorizer.authorize(subject, attrs)
        out["status"] = {"allowed": allowed, **({"reason": reason} if reason else {})}
        return out

    def rules_review(self, user: UserInfo, ns: str) -> dict[str, Any]:
        if user.is_master:
            return {"resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}],
                    "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}], "incomplete": False}
        rr, nrr = [], []
        for rule, _ in self.authorizer.rules_for(user, ns):
            if rule.get("nonResourceURLs"):
                nrr.append({"verbs": rule.get("verbs") or [], "nonResourceURLs": rule["nonResourceURLs"]})
            else:
                item = {"verbs": rule.get("verbs") or [], "apiGroups": rule.get("apiGroups") or [],
                        "resources": rule.get("resources") or []}
                if rule.get("resourceNames"):
                    item["resourceNames"] = rule["resourceNames"]
                rr.append(item)
        return {"resourceRules": rr, "nonResourceRules": nrr, "incomplete": False}


# -- helpers -------------------------------------------------------------------------------------------
IMMUTABLE = {
    "rbac.authorization.k8s.io/rolebindings": [("roleRef", "cannot change roleRef")],
    "rbac.authorization.k8s.io/clusterrolebindings": [("roleRef", "cannot change roleRef")],
    "apps/deployments": [("spec.selector", "field is immutable")],
    "apps/replicasets": [("spec.selector", "field is immutable")],
    "apps/statefulsets": [("spec.selector", "field is immutable")],
    "apps/daemonsets": [("spec.selector", "field is immutable")],
    "batch/jobs": [("spec.selector", "field is immutable"), ("spec.completions", "field is immutable")],
}


def _check_immutable(rt: ResourceType, old: dict[str, Any], new: dict[str, Any]) -> None:
    """Fields the real API server refuses to change once set (422 Invalid)."""
    errs = []
    for path, why in IMMUTABLE.get(rt.key, []):
        before, after = _get_path(old, path), _get_path(new, path)
        if before is not None and before != after:
            errs.append((path, f"Invalid value: {json.dumps(after, sort_keys=True)}: {why}"))
    if rt.key == "/services":
        before = (old.get("spec") or {}).get("clusterIP")
        after = (new.get("spec") or {}).get("clusterIP")
        if before and after and before != after:
            errs.append(("spec.clusterIPs[0]", f'Invalid value: "{after}": may not change once set'))
    if rt.key == "/persistentvolumeclaims" and _claim_spec(old, True, old) != _claim_spec(new, bool(
            (old.get("spec") or {}).get("volumeName")), old):
        errs.append(("spec", "Forbidden: spec is immutable after creation except resources.requests and "
                             "volumeAttributesClassName for bound claims"))
    if errs:
        raise invalid(rt.kind, rt.group, old["metadata"]["name"], errs)


def _claim_spec(obj: dict[str, Any], bound_volume: bool, old: dict[str, Any]) -> dict[str, Any]:
    """A claim's spec without what may change: requests, volumeAttributesClassName, volumeName until set, and
    storageClassName while unset (the default class is assigned retroactively, as Kubernetes ≥1.28 does: the
    claims a StatefulSet's volumeClaimTemplates create get their class from the PV controller)."""
    spec = copy.deepcopy(obj.get("spec") or {})
    if (old.get("spec") or {}).get("storageClassName") is None:
        spec.pop("storageClassName", None)
    (spec.get("resources") or {}).pop("requests", None)
    if not spec.get("resources"):
        spec.pop("resources", None)
    spec.pop("volumeAttributesClassName", None)
    if not bound_volume:
        spec.pop("volumeName", None)
    return spec


def _has_generation(rt: ResourceType) -> bool:
    """Only kinds with a spec (and custom resources) track metadata.generation, as on a real server."""
    if rt.crd_schema is not None:
        return True
    from sandbox import schema

    return "spec" in (schema.definitions().get(rt.definition or "", {}).get("properties") or {})

def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    strip = ("resourceVersion", "managedFields")
    am = {k: v for k, v in (a.get("metadata") or {}).items() if k not in strip}
    bm = {k: v for k, v in (b.get("metadata") or {}).items() if k not in strip}
    return am == bm and _without(a, "metadata") == _without(b, "metadata")


def _spec_changed(old: dict[str, Any], new: dict[str, Any]) -> bool:
    skip = ("metadata", "status", "kind", "apiVersion")
    return {k: v for k, v in old.items() if k not in skip} != {k: v for k, v in new.items() if k not in skip}


def _crd_status(crd: dict[str, Any], now: str) -> dict[str, Any]:
    names = (crd.get("spec") or {}).get("names") or {}
    accepted = dict(names)
    accepted.setdefault("singular", str(names.get("kind", "")).lower())
    accepted.setdefault("listKind", f"{names.get('kind', '')}List")
    return {
        "acceptedNames": accepted,
        "conditions": [
            {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts",
             "message": "no conflicts found", "lastTransitionTime": now},
            {"type": "Established", "status": "True", "reason": "InitialNamesAccepted",
             "message": "the initial names have been accepted", "lastTransitionTime": now},
        ],
        "storedVersions": [v.get("name") for v in (crd.get("spec") or {}).get("versions") or [] if v.get("storage")],
    }


def _validate_crd(crd: dict[str, Any]) -> None:
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    name = crd["metadata"].get("name", "")
    errs = []
    if f"{names.get('plural')}.{spec.get('group')}" != name:
        errs.append(("metadata.name", f'Invalid value: "{name}": must be spec.names.plural+"."+spec.group'))
    versions = spec.get("versions") or []
    if not versions:
        errs.append(("spec.versions", "Invalid value: null: must have exactly one version marked as storage version"))
    elif sum(1 for v in versions if v.get("storage")) != 1:
        errs.append(("spec.versions", "Invalid value: must have exactly one version marked as storage version"))
    if spec.get("scope") not in ("Namespaced", "Cluster"):
        errs.append(("spec.scope", f'Unsupported value: "{spec.get("scope")}": supported values: "Cluster", "Namespaced"'))
    for i, v in enumerate(versions):
        if not (v.get("schema") or {}).get("openAPIV3Schema"):
            errs.append((f"spec.versions[{i}].schema.openAPIV3Schema", "Required value: schemas are required"))
    if errs:
        raise invalid("CustomResourceDefinition", "apiextensions.k8s.io", name, errs)


_META_KEYS = {"name", "namespace", "generateName", "labels", "annotations", "uid", "resourceVersion", "generation",
              "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "ownerReferences",
              "finalizers", "managedFields", "selfLink"}


def _prune_custom(obj: dict[str, Any], sch: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Structural-schema pruning of a custom resource; returns the pruned object and the dropped fields."""
    dropped: list[str] = []

    def walk(value: Any, s: dict[str, Any], path: str) -> Any:
        if not isinstance(s, dict) or s.get("x-kubernetes-preserve-unknown-fields"):
            return value
        if isinstance(value, dict):
            props = s.get("properties")
            addl = s.get("additionalProperties")
            if props is None and addl is None:
                return value
            out = {}
            for k, v in value.items():
                sub = f"{path}.{k}" if path else k
                if props is not None and k in props:
                    out[k] = walk(v, props[k], sub)
                elif isinstance(addl, dict):
                    out[k] = walk(v, addl, sub)
                elif addl is True:
                    out[k] = v
                else:
                    dropped.append(sub)
            return out
        if isinstance(value, list):
            return [walk(v, s.get("items") or {}, f"{path}[{i}]") for i, v in enumerate(value)]
        return value

    out = {}
    props = sch.get("properties") or {}
    for k, v in obj.items():
        if k in ("apiVersion", "kind"):
            out[k] = v
        elif k == "metadata":
            if isinstance(v, dict):
                out[k] = {mk: mv for mk, mv in v.items() if mk in _META_KEYS}
                dropped.extend(f"metadata.{mk}" for mk in v if mk not in _META_KEYS)
            else:
                out[k] = v
        elif k in props or sch.get("x-kubernetes-preserve-unknown-fields"):
            out[k] = walk(v, props.get(k, {}), k)
        else:
            dropped.append(k)
    return out, dropped
