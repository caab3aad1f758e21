"""Synthesis: request text → a registered, tested tool (found again or made), and its result.

Order, cheapest and safest first:
  (a) the registry: a tool whose plan is the same as the rules' plan for this text (any namespace), or, when the
      rules cannot plan, the nearest tool by meaning above `REUSE_THRESHOLD` — reused without new synthesis;
  (b) the rules (tools.toolsmith.extract) → a plan, checked against the catalog;
  (c) the gateway asked for a plan under the plan's JSON schema (`category="plan"`), its answer verified (a plan
      that does not validate is rejected, which lets the gateway escalate), with one repair round;
  (d) free-form Python through the gateway (`category="codegen"`), accepted only when the AST gate passes.
Every new tool is tested before it is registered: run in the sandboxed runner against the cluster with the
request's arguments, its result checked against its declared JSON schema. A tool that writes (only codegen can)
is marked `mutates` and is rehearsed read-only: every later use is a proposal that needs approval.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema

from tools.k8s.client import KubeError
from tools.toolsmith import extract as rules
from tools.toolsmith.catalog import Catalog, shared_catalog
from tools.toolsmith.compile import compile_plan
from tools.toolsmith.plan import PlanError, describe, fingerprint, plan_schema, result_schema, validate

# Cosine between a new request and a registered tool's request/description at or above which the tool is reused
# when the rules cannot plan the request (when they can, reuse is by the plan's fingerprint, whatever the wording).
# Measured on the task set (evals/bench_toolsmith.py prints it): a request's nearest DIFFERENT registered request
# scores p50 0.63, p90 0.77, max 0.88 with MiniLM, so the bar sits above that maximum.
REUSE_THRESHOLD = 0.90
PATHS = ("registry", "plan-deterministic", "plan-llm", "codegen")
CODEGEN_SCHEMA = {"type": "object", "required": ["items"], "properties": {"items": {"type": "array"},
                                                                          "count": {"type": "integer"}}}
MUTATING_WORDS = re.compile(r"\b(delete|remove|restart|scale|label|annotate|patch|cordon|drain|evict|kill|clean\s*up|"
                            r"set|update|create)\b", re.I)


@dataclass
class Outcome:
    """What one request came to: the tool (new or reused), how it was found or made, and its result."""

    ok: bool
    path: str  # registry | plan-deterministic | plan-llm | codegen | failed
    tool: Any = None  # tools.toolsmith.registry.ToolRecord
    args: dict[str, Any] = field(default_factory=dict)
    value: Any = None
    error: str = ""
    reused: bool = False
    similarity: float | None = None
    attempts: list[str] = field(default_factory=list)
    served_by: str = ""  # who produced a new tool: rules | local | cloud | cache-… (gateway)
    needs_approval: bool = False
    calls: list[dict[str, Any]] = field(default_factory=list)


def _home() -> Path:
    import os

    return Path(os.environ.get("KUBESAGE_HOME") or Path.home() / ".kubesage").expanduser()


def tool_name(plan: dict[str, Any] | None, text: str) -> str:
    """A readable, stable name: for a plan its kind, the fields it tests and its fingerprint (so the same plan is
    the same tool whatever the wording); for code the request's words and a hash."""
    if plan is not None:
        words = [plan["kind"].lower()]
        for f in plan.get("filters") or []:
            leaf = re.sub(r"\W+", "-", f["field"].rsplit(".", 1)[-1].replace("[*]", "")).strip("-")
            words += [leaf, f["op"].replace("_", "-")]
        if plan.get("aggregate"):
            words.append(plan["aggregate"].split(":")[0].replace("_", "-"))
        stem = "-".join(w for w in words if w)[:60]
        return f"{stem}-{fingerprint(plan)[:8]}"
    slug = "-".join(re.findall(r"[a-z0-9]+", text.lower())[:8])[:60] or "tool"
    return f"code-{slug}-{hashlib.sha256(text.encode()).hexdigest()[:8]}"


def mutating_calls(code: str) -> list[str]:
    """The non-GET `kube.request(...)` calls in `code` (a method that is not a literal counts as a write)."""
    found: list[str] = []
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return found
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "request":
            method = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "method"), None)
            if isinstance(method, ast.Constant) and isinstance(method.value, str):
                if method.value.upper() != "GET":
                    found.append(method.value.upper())
            else:
                found.append("?")
    return found


def extract_code(text: str) -> str:
    """The Python in a model's answer: the first fenced block, else the whole text."""
    m = re.search(r"```(?:python|py)?\s*\n(.*?)```", text, re.S)
    return (m.group(1) if m else text).strip() + "\n"


class Toolsmith:
    """Finds or makes the tool for a request, as the principal of `kube` (their rights apply to every call)."""

    def __init__(self, kube: Any, home: Path | None = None, llm: Any = None, registry: Any = None,
                 catalog: Catalog | None = None, threshold: float = REUSE_THRESHOLD, use_llm: bool = True) -> None:
        from tools.toolsmith.registry import open_registry

        self.kube = kube
        self.home = Path(home or _home())
        self.llm = llm
        self.use_llm = use_llm
        self.registry = registry or open_registry(self.home)
        self.catalog = catalog or shared_catalog(kube, self.home)
        self.threshold = threshold
        self._namespaces: list[str] | None = None
        self._nodes: list[str] | None = None

    # -- cluster words -------------------------------------------------------------------------------
    def namespaces(self) -> list[str]:
        if self._namespaces is None:
            try:
                self._namespaces = [n["metadata"]["name"] for n in self.kube.list("Namespace")]
            except KubeError:
                self._namespaces = []
        return self._namespaces

    def nodes(self) -> list[str]:
        if self._nodes is None:
            try:
                self._nodes = [n["metadata"]["name"] for n in self.kube.list("Node")]
            except KubeError:
                self._nodes = []
        return self._nodes

    # -- the whole flow ------------------------------------------------------------------------------
    def solve(self, text: str, namespace: str | None = None) -> Outcome:
        """Reuse or synthesize the tool for `text`, then run it (a mutating tool is not run: it needs approval)."""
        attempts: list[str] = []
        ext = rules.extract(text, self.catalog, self.namespaces(), self.nodes())
        det_plan = None
        if ext.plan is not None:
            try:
                det_plan = validate(ext.plan, self.catalog)
            except PlanError as e:
                attempts.append(f"rules: {e}")
        else:
            attempts.append(f"rules: {ext.reason}")
        ns = det_plan["namespace"] if det_plan else (rules.namespace_in(text, self.namespaces())[0] or namespace)
        found = self.find(text, det_plan)
        if found is not None:
            rec, score = found
            args = {"namespace": ns} if "namespace" in ((rec.params or {}).get("properties") or {}) else {}
            return self._use(rec, args, score, attempts)
        return self.make(text, det_plan, ns, attempts)

    def find(self, text: str, det_plan: dict[str, Any] | None) -> tuple[Any, float] | None:
        """A registered tool for this request: the same plan (by name), else — only when the rules could not plan
        — the nearest by meaning at or above the threshold."""
        if det_plan is not None:
            rec = self.registry.get(tool_name(det_plan, text))
            if rec is not None:
                return rec, 1.0
        hits = self.registry.search(text, k=3)
        for rec, score in hits:
            if score < self.threshold:
                break
            if det_plan is None or rec.plan is None:
                return rec, score
            if fingerprint(rec.plan) == fingerprint(det_plan):
                return rec, score
        return None

    def _use(self, rec: Any, args: dict[str, Any], score: float, attempts: list[str]) -> Outcome:
        if rec.mutates:
            return Outcome(True, "registry", rec, args, None, "", True, score, attempts, needs_approval=True)
        from tools.toolsmith.runner import run_tool

        r = run_tool(rec.code, args, self.kube)
        self.registry.record_outcome(rec.name, r.ok)
        return Outcome(r.ok, "registry", rec, args, r.value, "" if r.ok else r.error, True, score, attempts,
                       calls=r.calls)

    def make(self, text: str, det_plan: dict[str, Any] | None, ns: str | None, attempts: list[str]) -> Outcome:
        """Synthesize, test and register a new tool: rules' plan, then the model's plan, then model code."""
        if det_plan is not None:
            out = self._try_plan(text, det_plan, "plan-deterministic", "rules", attempts)
            if out.ok:
                return out
        if self.use_llm and self._model() is not None:
            plan, served_by = self._llm_plan(text, ns, attempts)
            if plan is not None:
                out = self._try_plan(text, plan, "plan-llm", served_by, attempts)
                if out.ok:
                    return out
            out = self._codegen(text, ns, attempts)
            if out.ok:
                return out
        elif det_plan is None:
            attempts.append("model: not used (no gateway, or local-only rules were asked for)")
        return Outcome(False, "failed", None, {}, None, self._failure(text, attempts), attempts=attempts)

    @staticmethod
    def _failure(text: str, attempts: list[str]) -> str:
        why = "; ".join(attempts) if attempts else "nothing could be tried"
        return f"I could not build a tool for {text!r}: {why}"

    # -- testing and registering ---------------------------------------------------------------------
    def _try_plan(self, text: str, plan: dict[str, Any], path: str, served_by: str, attempts: list[str]) -> Outcome:
        from tools.toolsmith.registry import ToolRecord

        try:
            code = compile_plan(plan, self.catalog)
        except (ValueError, KeyError) as e:
            attempts.append(f"{path}: cannot compile: {e}")
            return Outcome(False, path, attempts=attempts)
        args = {"namespace": plan["namespace"]} if self.catalog.kinds[plan["kind"]].namespaced else {}
        schema = result_schema(plan)
        rec = ToolRecord(
            name=tool_name(plan, text), description=f"{text.strip()} ({describe({**plan, 'namespace': None})})",
            code=code, params={"type": "object", "properties": {"namespace": {"type": ["string", "null"]}}}
            if args else {"type": "object", "properties": {}},
            result_schema=schema, mutates=False, plan=plan,
            provenance={"source": "plan", "path": path, "served_by": served_by, "request": text,
                        "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")})
        return self._test_and_register(rec, args, path, served_by, attempts)

    def _test_and_register(self, rec: Any, args: dict[str, Any], path: str, served_by: str,
                           attempts: list[str]) -> Outcome:
        from tools.toolsmith.runner import run_tool

        r = run_tool(rec.code, args, self.kube, mutating=False)
        if rec.mutates:
            # rehearsed read-only: it must run up to its first write, which the runner refuses
            if not (r.ok or r.reason == "forbidden"):
                attempts.append(f"{path}: rehearsal failed ({r.reason}): {r.error}")
                return Outcome(False, path, attempts=attempts, calls=r.calls)
            rec.test = {"args": args, "mode": "read-only rehearsal", "outcome": r.reason or "ok",
                        "calls": len(r.calls)}
            self.registry.add(rec)
            return Outcome(True, path, rec, args, None, "", False, None, attempts, served_by, True, r.calls)
        if not r.ok:
            attempts.append(f"{path}: test run failed ({r.reason}): {r.error}")
            return Outcome(False, path, attempts=attempts, calls=r.calls)
        try:
            jsonschema.validate(r.value, rec.result_schema)
        except jsonschema.ValidationError as e:
            attempts.append(f"{path}: result does not match its schema: {e.message}")
            return Outcome(False, path, attempts=attempts, calls=r.calls)
        rec.test = {"args": args, "ok": True, "count": (r.value or {}).get("count") if isinstance(r.value, dict)
                    else None, "calls": len(r.calls)}
        self.registry.add(rec)
        return Outcome(True, path, rec, args, r.value, "", False, None, attempts, served_by, False, r.calls)

    # -- the model -----------------------------------------------------------------------------------
    def _model(self) -> Any:
        return self.llm

    def _hints(self, text: str) -> str:
        kinds = [m.kind for m, _ in self.catalog.search(text, 3)]
        ext_kind = rules._find_kind(" ".join(text.lower().split()), self.catalog)[0]
        if ext_kind and ext_kind not in kinds:
            kinds.insert(0, ext_kind)
        lines = []
        for k in kinds[:3]:
            fields = [p for p, _ in self.catalog.search_fields(k, text, 8)]
            lines.append(f"- {k}: fields like {', '.join(fields)}")
        return "\n".join(lines)

    def _llm_plan(self, text: str, ns: str | None, attempts: list[str]) -> tuple[dict[str, Any] | None, str]:
        schema = plan_schema(sorted(self.catalog.kinds))
        system = (
            "You turn a question about a Kubernetes cluster into a JSON query plan. Fields are JSON paths as on the "
            "wire (camelCase): [*] walks a list (spec.containers[*].image), [type=Ready] picks list elements, a path "
            "under a map is a key (metadata.labels.app). Functions: len(p), size(p), sum(p), max(p), min(p). "
            "ops: older_than/newer_than (value a duration like \"1d\", \"2h\"), eq, ne, gt, lt, ge, le, contains, "
            "matches (regex), exists, missing, in (list). A filter may have \"default\" (value when missing) and a "
            "value {\"field\": \"<path>\"} compares two fields. aggregate: count | sum:<field> | "
            "group_count:<field> | distinct:<field>. namespace: the namespace named, or null for all.\n"
            "Example: \"cronjobs in batch that have not run for a day\" -> {\"kind\": \"CronJob\", \"namespace\": "
            "\"batch\", \"filters\": [{\"field\": \"status.lastScheduleTime\", \"op\": \"older_than\", \"value\": "
            "\"1d\"}], \"project\": [\"status.lastScheduleTime\"]}\n"
            "Example: \"count pods per node\" -> {\"kind\": \"Pod\", \"namespace\": null, \"filters\": [], "
            "\"project\": [], \"aggregate\": \"group_count:spec.nodeName\"}\n"
            f"Candidate kinds and fields for this question:\n{self._hints(text)}\n"
            f"Namespaces in the cluster: {', '.join(self.namespaces()) or 'unknown'}. Answer with the JSON plan only.")

        def verify(msg: Any) -> str | None:
            try:
                validate(json.loads(getattr(msg, "content", msg) or "{}"), self.catalog)
            except (ValueError, PlanError) as e:
                return f"invalid plan: {e}"
            return None

        question = text if not ns else f"{text} (namespace: {ns})"
        messages: list[tuple[str, str]] = [("system", system), ("human", question)]
        for round_ in range(2):
            try:
                model = self.llm.bind(response_format={"type": "json_schema", "json_schema": {"name": "plan",
                                                                                             "schema": schema}},
                                      category="plan", verifier=verify, temperature=0.0, max_tokens=400)
                msg = model.invoke(messages)
            except Exception as e:  # noqa: BLE001 - a gateway failure is one failed attempt, not a crash
                attempts.append(f"plan-llm: the gateway failed: {e}")
                return None, ""
            served_by = str((getattr(msg, "response_metadata", {}) or {}).get("served_by", "model"))
            content = str(getattr(msg, "content", "") or "")
            try:
                plan = validate(json.loads(content), self.catalog)
                return plan, served_by
            except ValueError as e:
                problem = str(e) if isinstance(e, PlanError) else f"not JSON: {e}"
                attempts.append(f"plan-llm (round {round_ + 1}, {served_by}): {problem}")
                messages += [("ai", content), ("human", f"That plan is invalid: {problem}. Answer with a corrected "
                                                        "JSON plan only.")]
        return None, ""

    def _codegen(self, text: str, ns: str | None, attempts: list[str]) -> Outcome:
        from tools.toolsmith.registry import ToolRecord
        from tools.toolsmith.validate import check

        writes = bool(MUTATING_WORDS.search(text))
        system = (
            "Write one Python function `def main(kube, **args)` that answers the question about a Kubernetes "
            "cluster. `kube` has: get(kind, ns, name), list(kind, ns=None, label_selector=None, "
            "field_selector=None), logs(ns, pod, container=None, tail=None), top_pods(ns), top_nodes(), "
            "request(method, path, body=None, query=None); each returns plain JSON dicts as the API serves them "
            "(camelCase keys). Kinds for get/list: Pod, Service, ConfigMap, Secret, ServiceAccount, Endpoints, Event, "
            "Node, Namespace, PersistentVolumeClaim, Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob, "
            "HorizontalPodAutoscaler, Role, RoleBinding, ClusterRole, ClusterRoleBinding, Ingress, NetworkPolicy; "
            "others through request('GET', '/apis/<group>/<version>/...'). args may hold 'namespace' (None = all). "
            "Only these imports: re, json, math, datetime, collections, itertools, functools, statistics, fnmatch, "
            "ipaddress, typing. No files, no network, no os. Return {\"items\": [{\"metadata.namespace\": ..., "
            "\"metadata.name\": ..., <other columns>}], \"count\": <len(items)>}. "
            + ("The question asks for a change: make it with kube.request('PATCH'|'DELETE'|'POST', path, body) and "
               "return what was changed in items. " if writes else "Only read; never change anything. ")
            + "Answer with one ```python block.")
        question = text if not ns else f"{text} (namespace: {ns})"

        def verify(msg: Any) -> str | None:
            reasons = check(extract_code(str(getattr(msg, "content", msg) or "")))
            return "; ".join(reasons) if reasons else None

        messages: list[tuple[str, str]] = [("system", system), ("human", question)]
        for round_ in range(2):
            try:
                msg = self.llm.bind(category="codegen", verifier=verify, temperature=0.0, max_tokens=900) \
                    .invoke(messages)
            except Exception as e:  # noqa: BLE001 - a gateway failure is one failed attempt, not a crash
                attempts.append(f"codegen: the gateway failed: {e}")
                return Outcome(False, "codegen", attempts=attempts)
            served_by = str((getattr(msg, "response_metadata", {}) or {}).get("served_by", "model"))
            code = extract_code(str(getattr(msg, "content", "") or ""))
            reasons = check(code)
            if reasons:
                attempts.append(f"codegen (round {round_ + 1}, {served_by}): refused by the AST gate: "
                                + "; ".join(reasons[:3]))
                messages += [("ai", code), ("human", "Refused: " + "; ".join(reasons) + ". Fix it.")]
                continue
            writes_found = mutating_calls(code)
            args = {"namespace": ns}
            rec = ToolRecord(
                name=tool_name(None, text), description=text.strip(), code=code,
                params={"type": "object", "properties": {"namespace": {"type": ["string", "null"]}}},
                result_schema=CODEGEN_SCHEMA, mutates=bool(writes_found),
                provenance={"source": "codegen", "path": "codegen", "served_by": served_by, "request": text,
                            "writes": writes_found, "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")})
            out = self._test_and_register(rec, args, "codegen", served_by, attempts)
            if out.ok:
                return out
            messages += [("ai", code), ("human", f"It failed when run: {attempts[-1]}. Fix it.")]
        return Outcome(False, "codegen", attempts=attempts)
