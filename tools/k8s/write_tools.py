"""Write tools, declared for a model: apply a manifest, set image, set env, scale, create an HPA, create a Role or
RoleBinding, delete (by name or by selector / field conditions), patch.

Why they never apply: a write tool only reads what it needs (the live object, to find a container or check a
name) and returns Mutations for the supervisor's dry-run → approval → apply → verify → rollback path. Each
Mutation carries its goal, the request's own post-condition in the shape of the eval harness's `state`
assertion ({kind, namespace, name, path, op, value} or {can: {...}, value}), so after the apply kubesage checks
that what was asked holds (the image is the one asked for, the HPA has the asked bounds, the ServiceAccount can
do exactly the granted verbs), not only that the pods are healthy.
"""

from __future__ import annotations

import copy
from typing import Any, Literal

from pydantic import BaseModel, Field

from tools.k8s import fieldpath
from tools.k8s.client import Kube, KubeError, Mutation
from tools.k8s.kinds import WORKLOADS
from tools.k8s.read_tools import manifest_mutation, resolve_kind, select
from tools.tool import Tool, ToolInputError, ToolResult

DELETE_LIMIT = 50
VERIFY_TIMEOUT_S = 90


def with_goal(m: Mutation, goal: list[dict[str, Any]], verify: bool = False) -> Mutation:
    """Attach the post-condition (and, for workloads, the health wait that undoes a change that did not hold)."""
    m.goal = goal
    if verify and m.kind in WORKLOADS and m.verb != "delete":
        m.verify = {"kind": m.kind, "namespace": m.namespace, "name": m.name, "timeout_s": VERIFY_TIMEOUT_S}
    return m


def _result(muts: list[Mutation], what: str) -> ToolResult:
    lines = [f"Proposed (not applied; the person approves or rejects it after you answer): {m.describe()}"
             for m in muts]
    return ToolResult({"proposed": [m.describe() for m in muts], "goal": [g for m in muts for g in m.goal or []]},
                      "\n".join(lines) or what, mutations=muts)


def _template_path(kind: str) -> str:
    """Where a kind keeps the pod spec its containers are in (dotted)."""
    return {"Pod": "spec", "CronJob": "spec.jobTemplate.spec.template.spec"}.get(kind, "spec.template.spec")


def _nest(path: str, leaf: Any) -> dict[str, Any]:
    out: Any = leaf
    for part in reversed(path.split(".")):
        out = {part: out}
    return out


def _container(kube: Kube, kind: str, namespace: str, name: str, container: str) -> tuple[dict[str, Any], int, str]:
    """(live object, container index, container name); a single container is picked when none is named."""
    obj = kube.get(kind, namespace, name)
    containers = fieldpath.get(obj, _template_path(kind) + ".containers")
    if containers is fieldpath.MISSING or not containers:
        raise ToolInputError(f"{kind} {namespace}/{name} has no containers")
    names = [c.get("name") for c in containers]
    if not container:
        if len(names) > 1:
            raise ToolInputError(f"{kind} {name} has containers {', '.join(names)}: say which one")
        container = names[0]
    if container not in names:
        raise ToolInputError(f"{kind} {name} has no container {container!r} (it has {', '.join(names)})")
    return obj, names.index(container), container


# ---- apply / diff ------------------------------------------------------------------------------------------
def _leaves(obj: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Scalar leaves of a manifest outside lists (list positions may move in a merge), for goals."""
    out: list[tuple[str, Any]] = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += _leaves(v, f"{prefix}.{k}" if prefix else k)
    elif not isinstance(obj, list) and obj is not None:
        out.append((prefix, obj))
    return out


def _manifest_goal(m: Mutation, limit: int = 12) -> list[dict[str, Any]]:
    body = m.body or {}
    goal: list[dict[str, Any]] = [{"kind": m.kind, "namespace": m.namespace, "name": m.name, "exists": True}]
    for path, v in _leaves({k: body[k] for k in body if k not in ("apiVersion", "kind", "metadata")})[:limit]:
        goal.append({"kind": m.kind, "namespace": m.namespace, "name": m.name, "path": path, "op": "eq", "value": v})
    return goal


class ApplyArgs(BaseModel):
    manifest: dict[str, Any] | str = Field(description="The full manifest (a JSON object, or YAML text)")


def _apply(kube: Kube, a: ApplyArgs) -> ToolResult:
    m = manifest_mutation(kube, a.manifest)
    return _result([with_goal(m, _manifest_goal(m), verify=True)], "")


APPLY = Tool("k8s_apply", "Propose creating an object from a manifest, or patching it when it exists (needs "
             "approval). Example: 'create a ConfigMap app-config in shop with LOG_LEVEL=debug' -> manifest={apiVersion: "
             "v1, kind: ConfigMap, metadata: {name: app-config, namespace: shop}, data: {LOG_LEVEL: debug}}",
             mutating=True, args=ApplyArgs, rbac=(("create", "*", "*"), ("patch", "*", "*")), run=_apply)


# ---- set image / set env -----------------------------------------------------------------------------------
class SetImageArgs(BaseModel):
    kind: str = "Deployment"
    name: str
    namespace: str
    container: str = Field("", description="Container name (may be empty when there is only one)")
    image: str


def _set_image(kube: Kube, a: SetImageArgs) -> ToolResult:
    kind = resolve_kind(kube, a.kind)
    obj, idx, cname = _container(kube, kind, a.namespace, a.name, a.container)
    base = _template_path(kind)
    current = obj and fieldpath.get(obj, f"{base}.containers[{idx}].image")
    if current == a.image:
        return ToolResult({"unchanged": True}, f"{kind} {a.namespace}/{a.name} container {cname} already runs "
                          f"{a.image}: nothing to change.")
    body = _nest(base, {"containers": [{"name": cname, "image": a.image}]})
    m = Mutation("patch", kind, a.namespace, a.name, body=body, why=f"set image of {cname} to {a.image}")
    return _result([with_goal(m, [{"kind": kind, "namespace": a.namespace, "name": a.name,
                                   "path": f"{base}.containers.{idx}.image", "op": "eq", "value": a.image}],
                              verify=True)], "")


SET_IMAGE = Tool("k8s_set_image", "Propose changing a container's image (a rolling update; needs approval). "
                 "Example: 'move web in shop to nginx:1.27' -> name=web, namespace=shop, image=nginx:1.27",
                 mutating=True, args=SetImageArgs, rbac=(("patch", "*", "*"),), run=_set_image)


class SetEnvArgs(BaseModel):
    kind: str = "Deployment"
    name: str
    namespace: str
    container: str = ""
    env: dict[str, str] = Field(default_factory=dict, description="Variables to set, e.g. {\"LOG_LEVEL\": \"debug\"}")
    remove: list[str] = Field(default_factory=list, description="Variables to remove")


def _set_env(kube: Kube, a: SetEnvArgs) -> ToolResult:
    if not a.env and not a.remove:
        raise ToolInputError("give env (variables to set) or remove (variables to remove)")
    kind = resolve_kind(kube, a.kind)
    _, idx, cname = _container(kube, kind, a.namespace, a.name, a.container)
    base = _template_path(kind)
    entries: list[dict[str, Any]] = [{"name": k, "value": str(v)} for k, v in a.env.items()]
    entries += [{"name": k, "$patch": "delete"} for k in a.remove]
    m = Mutation("patch", kind, a.namespace, a.name, body=_nest(base, {"containers": [{"name": cname, "env": entries}]}),
                 why=f"set env of {cname}: " + ", ".join([f"{k}={v}" for k, v in a.env.items()] +
                                                         [f"remove {k}" for k in a.remove]))
    path = f"{base}.containers.{idx}.env"
    goal = [{"kind": kind, "namespace": a.namespace, "name": a.name, "path": path, "op": "contains",
             "value": {"name": k, "value": str(v)}} for k, v in a.env.items()]
    goal += [{"kind": kind, "namespace": a.namespace, "name": a.name, "path": path, "op": "not_contains",
              "value": k} for k in a.remove]
    return _result([with_goal(m, goal, verify=True)], "")


SET_ENV = Tool("k8s_set_env", "Propose setting or removing environment variables of a container (a rolling update; "
               "needs approval). Example: 'add LOG_LEVEL=debug to checkout in shop' -> name=checkout, namespace=shop, "
               "env={LOG_LEVEL: debug}", mutating=True, args=SetEnvArgs, rbac=(("patch", "*", "*"),), run=_set_env)


# ---- scale / HPA -------------------------------------------------------------------------------------------
class ScaleArgs(BaseModel):
    kind: str = "Deployment"
    name: str
    namespace: str
    replicas: int = Field(ge=0, le=1000)


def _scale(kube: Kube, a: ScaleArgs) -> ToolResult:
    kind = resolve_kind(kube, a.kind)
    obj = kube.get(kind, a.namespace, a.name)
    if (obj.get("spec") or {}).get("replicas") == a.replicas:
        return ToolResult({"unchanged": True}, f"{kind} {a.namespace}/{a.name} already has {a.replicas} replicas.")
    m = Mutation("scale", kind, a.namespace, a.name, body=a.replicas, why=f"scale to {a.replicas} replicas")
    return _result([with_goal(m, [{"kind": kind, "namespace": a.namespace, "name": a.name, "path": "spec.replicas",
                                   "op": "eq", "value": a.replicas}], verify=True)], "")


SCALE = Tool("k8s_scale", "Propose a fixed replica count for a Deployment or StatefulSet (needs approval). For "
             "autoscaling between bounds use k8s_create_hpa instead. Example: 'scale web in shop to 4' -> name=web, "
             "namespace=shop, replicas=4", mutating=True, args=ScaleArgs,
             rbac=(("patch", "deployments/scale", "apps"),), run=_scale)


class HpaArgs(BaseModel):
    namespace: str
    target_name: str = Field(description="The Deployment (or StatefulSet) to autoscale")
    target_kind: str = "Deployment"
    min_replicas: int = Field(ge=1, le=1000)
    max_replicas: int = Field(ge=1, le=1000)
    cpu_percent: int = Field(80, ge=1, le=1000, description="Target average CPU utilization, percent of requests")
    name: str = Field("", description="HPA name (default: the target's name)")


def _create_hpa(kube: Kube, a: HpaArgs) -> ToolResult:
    if a.min_replicas > a.max_replicas:
        raise ToolInputError(f"min_replicas {a.min_replicas} is above max_replicas {a.max_replicas}")
    kind = resolve_kind(kube, a.target_kind)
    group, version, _, _ = kube.info(kind)
    kube.get(kind, a.namespace, a.target_name)  # the target must exist (NotFound comes back as an observation)
    name = a.name or a.target_name
    man = {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
           "metadata": {"name": name, "namespace": a.namespace},
           "spec": {"scaleTargetRef": {"apiVersion": f"{group}/{version}" if group else version, "kind": kind,
                                       "name": a.target_name},
                    "minReplicas": a.min_replicas, "maxReplicas": a.max_replicas,
                    "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {
                        "type": "Utilization", "averageUtilization": a.cpu_percent}}}]}}
    m = manifest_mutation(kube, man)
    m.why = f"autoscale {kind} {a.target_name} between {a.min_replicas} and {a.max_replicas} at {a.cpu_percent}% CPU"
    w = {"kind": "HorizontalPodAutoscaler", "namespace": a.namespace, "name": name}
    goal = [{**w, "path": "spec.minReplicas", "op": "eq", "value": a.min_replicas},
            {**w, "path": "spec.maxReplicas", "op": "eq", "value": a.max_replicas},
            {**w, "path": "spec.scaleTargetRef.name", "op": "eq", "value": a.target_name},
            {**w, "path": "spec.metrics.0.resource.target.averageUtilization", "op": "eq", "value": a.cpu_percent}]
    return _result([with_goal(m, goal)], "")


CREATE_HPA = Tool("k8s_create_hpa", "Propose a HorizontalPodAutoscaler: the workload scales itself between min and "
                  "max replicas around a CPU target (needs approval). Example: 'let web in shop autoscale from 2 to 8 "
                  "pods above 70% CPU' -> target_name=web, namespace=shop, min_replicas=2, max_replicas=8, "
                  "cpu_percent=70", mutating=True, args=HpaArgs,
                  rbac=(("create", "horizontalpodautoscalers", "autoscaling"),), run=_create_hpa)


# ---- Role / RoleBinding ------------------------------------------------------------------------------------
class Rule(BaseModel):
    resources: list[str] = Field(description="Plural resource names, e.g. [pods, pods/log]")
    verbs: list[str] = Field(description="e.g. [get, list, watch]")
    api_groups: list[str] = Field(default_factory=lambda: [""], description="\"\" for core, apps, batch, …")
    resource_names: list[str] = Field(default_factory=list)


class RoleArgs(BaseModel):
    name: str
    namespace: str = Field("", description="Namespace of a Role; empty with cluster=true for a ClusterRole")
    rules: list[Rule]
    cluster: bool = False


def _rules(rules: list[Rule]) -> list[dict[str, Any]]:
    out = []
    for r in rules:
        d: dict[str, Any] = {"apiGroups": r.api_groups, "resources": r.resources, "verbs": r.verbs}
        if r.resource_names:
            d["resourceNames"] = r.resource_names
        out.append(d)
    return out


def _create_role(kube: Kube, a: RoleArgs) -> ToolResult:
    kind = "ClusterRole" if a.cluster else "Role"
    if kind == "Role" and not a.namespace:
        raise ToolInputError("a Role needs a namespace (or set cluster=true for a ClusterRole)")
    man = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind,
           "metadata": {"name": a.name, **({"namespace": a.namespace} if kind == "Role" else {})},
           "rules": _rules(a.rules)}
    m = manifest_mutation(kube, man)
    w = {"kind": kind, "namespace": a.namespace if kind == "Role" else "", "name": a.name}
    return _result([with_goal(m, [{**w, "path": "rules", "op": "eq", "value": man["rules"]}])], "")


CREATE_ROLE = Tool("k8s_create_role", "Propose a Role (or ClusterRole) with rules (needs approval); bind it with "
                   "k8s_create_rolebinding. Example: 'a read-only role for pods in shop' -> name=pod-reader, "
                   "namespace=shop, rules=[{resources: [pods], verbs: [get, list, watch]}]", mutating=True,
                   args=RoleArgs, rbac=(("create", "roles", "rbac.authorization.k8s.io"),), run=_create_role)


class Subject(BaseModel):
    kind: Literal["ServiceAccount", "User", "Group"]
    name: str
    namespace: str = Field("", description="A ServiceAccount's namespace (default: the binding's)")


class RoleBindingArgs(BaseModel):
    name: str
    namespace: str
    role: str = Field(description="The Role (or ClusterRole) to grant")
    role_kind: Literal["Role", "ClusterRole"] = "Role"
    subjects: list[Subject]


def subject_user(s: dict[str, Any]) -> tuple[str, list[str]] | None:
    """(user, groups) that a binding subject acts as, for access goals (None for a Group subject)."""
    if s.get("kind") == "ServiceAccount":
        ns = s.get("namespace", "")
        return f"system:serviceaccount:{ns}:{s['name']}", ["system:serviceaccounts", f"system:serviceaccounts:{ns}"]
    if s.get("kind") == "User":
        return s["name"], []
    return None


# verbs checked as "not granted" so a goal also says the subject can do no more than asked
_OTHER_VERBS = ("get", "list", "create", "update", "delete")


def access_goal(rules: list[dict[str, Any]], subjects: list[dict[str, Any]], namespace: str) -> list[dict[str, Any]]:
    """For every subject: each granted (verb, resource) is allowed, and the common verbs not granted are not."""
    goal: list[dict[str, Any]] = []
    for s in subjects:
        who = subject_user(s)
        if who is None:
            continue
        user, groups = who
        for r in rules:
            if r.get("resourceNames"):
                continue
            group = (r.get("apiGroups") or [""])[0]
            for res in r.get("resources") or []:
                if "*" in res:
                    continue
                verbs = r.get("verbs") or []
                for verb in verbs if "*" not in verbs else ["get"]:
                    goal.append({"can": {"user": user, "groups": groups, "verb": verb, "resource": res,
                                         "group": group, "namespace": namespace}, "value": True})
                granted = {v for rr in rules if res in (rr.get("resources") or []) for v in rr.get("verbs") or []}
                if "*" not in granted:
                    for verb in _OTHER_VERBS:
                        if verb not in granted:
                            goal.append({"can": {"user": user, "groups": groups, "verb": verb, "resource": res,
                                                 "group": group, "namespace": namespace}, "value": False})
    return goal


def _create_rolebinding(kube: Kube, a: RoleBindingArgs) -> ToolResult:
    subjects = []
    for s in a.subjects:
        d: dict[str, Any] = {"kind": s.kind, "name": s.name}
        if s.kind == "ServiceAccount":
            d["namespace"] = s.namespace or a.namespace
        else:
            d["apiGroup"] = "rbac.authorization.k8s.io"
        subjects.append(d)
    man = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
           "metadata": {"name": a.name, "namespace": a.namespace},
           "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": a.role_kind, "name": a.role},
           "subjects": subjects}
    m = manifest_mutation(kube, man)
    goal: list[dict[str, Any]] = [{"kind": "RoleBinding", "namespace": a.namespace, "name": a.name,
                                   "path": "roleRef.name", "op": "eq", "value": a.role}]
    try:  # the Role may exist already; when it is proposed in the same plan, complete_goals() adds the access goal
        role = kube.get(a.role_kind, a.namespace if a.role_kind == "Role" else None, a.role)
        goal += access_goal(role.get("rules") or [], subjects, a.namespace)
    except KubeError:
        pass
    return _result([with_goal(m, goal)], "")


CREATE_ROLEBINDING = Tool("k8s_create_rolebinding", "Propose a RoleBinding granting a Role or ClusterRole to "
                          "ServiceAccounts, users or groups in a namespace (needs approval). Example: 'bind pod-reader "
                          "to the ci-bot service account in shop' -> name=ci-bot-pod-reader, namespace=shop, "
                          "role=pod-reader, subjects=[{kind: ServiceAccount, name: ci-bot}]", mutating=True,
                          args=RoleBindingArgs, rbac=(("create", "rolebindings", "rbac.authorization.k8s.io"),),
                          run=_create_rolebinding)


def complete_goals(mutations: list[Mutation]) -> None:
    """Access goals for bindings whose Role is created by the same plan (the binding's tool could not read it)."""
    roles = {(m.kind, m.namespace, m.name): (m.body or {}).get("rules") or [] for m in mutations
             if m.verb in ("create", "patch") and m.kind in ("Role", "ClusterRole")}
    for m in mutations:
        if m.kind != "RoleBinding" or m.verb not in ("create", "patch") or any("can" in g for g in m.goal or []):
            continue
        ref = (m.body or {}).get("roleRef") or {}
        rules = roles.get((ref.get("kind"), m.namespace if ref.get("kind") == "Role" else "", ref.get("name")))
        if rules:
            m.goal = list(m.goal or []) + access_goal(rules, (m.body or {}).get("subjects") or [], m.namespace)


# ---- delete / patch ----------------------------------------------------------------------------------------
class DeleteArgs(BaseModel):
    kind: str
    namespace: str = ""
    name: str = Field("", description="One object by name; or leave empty and give selectors / where")
    label_selector: str = ""
    field_selector: str = ""
    where: list[str] = Field(default_factory=list, description="Conditions, e.g. status.succeeded>=1 for "
                             "completed Jobs, status.phase=Failed for failed Pods")


def _delete(kube: Kube, a: DeleteArgs) -> ToolResult:
    kind = resolve_kind(kube, a.kind)
    namespaced = kube.info(kind)[3]
    if a.name:
        kube.get(kind, a.namespace or None, a.name)  # NotFound comes back as an observation
        names = [(a.namespace if namespaced else "", a.name)]
    else:
        if not (a.label_selector or a.field_selector or a.where):
            raise ToolInputError("give a name, or a selector / where conditions saying which objects; deleting every "
                                 f"{kind} is not something this tool proposes")
        items = select(kube, kind, a.namespace, a.label_selector, a.field_selector, a.where)
        if len(items) > DELETE_LIMIT:
            raise ToolInputError(f"{len(items)} {kind} objects match; narrow the selection (at most {DELETE_LIMIT})")
        names = [((o.get("metadata") or {}).get("namespace", ""), o["metadata"]["name"]) for o in items]
        if not names:
            return ToolResult({"matched": 0}, f"No {kind} objects match; nothing to delete.")
    muts = []
    for ns, name in names:
        m = Mutation("delete", kind, ns, name, why=f"delete {kind} {ns + '/' if ns else ''}{name}")
        muts.append(with_goal(m, [{"kind": kind, "namespace": ns, "name": name, "absent": True}]))
    return _result(muts, "")


DELETE = Tool("k8s_delete", "Propose deleting objects, by name or by selector / field conditions (needs approval). "
              "Example: 'delete the completed jobs in batch' -> kind=Job, namespace=batch, where=[status.succeeded>=1]",
              mutating=True, args=DeleteArgs, rbac=(("delete", "*", "*"),), run=_delete)


class PatchArgs(BaseModel):
    kind: str
    name: str
    namespace: str = ""
    patch: dict[str, Any] | list[dict[str, Any]] = Field(description="The patch document")
    patch_type: Literal["strategic", "merge", "json"] = "strategic"


def _patch(kube: Kube, a: PatchArgs) -> ToolResult:
    kind = resolve_kind(kube, a.kind)
    if a.patch_type == "json" and not isinstance(a.patch, list):
        raise ToolInputError("a json patch is a list of operations ({op, path, value})")
    if a.patch_type != "json" and not isinstance(a.patch, dict):
        raise ToolInputError("a strategic or merge patch is a JSON object")
    kube.get(kind, a.namespace or None, a.name)
    m = Mutation("patch", kind, a.namespace, a.name, patch_type=a.patch_type, body=copy.deepcopy(a.patch),
                 why=f"{a.patch_type} patch")
    w = {"kind": kind, "namespace": a.namespace, "name": a.name}
    if isinstance(a.patch, dict):
        goal = [{**w, "path": p, "op": "eq", "value": v} for p, v in _leaves(a.patch)
                if not p.split(".")[-1].startswith("$")][:12]
    else:
        goal = [{**w, "path": op["path"].strip("/").replace("/", "."), "op": "eq", "value": op.get("value")}
                for op in a.patch if op.get("op") in ("add", "replace") and not isinstance(op.get("value"), dict | list)]
    return _result([with_goal(m, goal or [{**w, "exists": True}], verify=True)], "")


PATCH = Tool("k8s_patch", "Propose a patch of any field (strategic merge, JSON merge or JSON patch; needs approval). "
             "Example: 'set web's memory limit to 512Mi' -> kind=Deployment, name=web, namespace=shop, patch={spec: "
             "{template: {spec: {containers: [{name: web, resources: {limits: {memory: 512Mi}}}]}}}}", mutating=True,
             args=PatchArgs, rbac=(("patch", "*", "*"),), run=_patch)


WRITE_TOOLS: tuple[Tool, ...] = (APPLY, SET_IMAGE, SET_ENV, SCALE, CREATE_HPA, CREATE_ROLE, CREATE_ROLEBINDING,
                                 DELETE, PATCH)
