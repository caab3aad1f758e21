"""The one Tool contract: what a model (and the router) sees of a tool, separate from the code that runs it.

Why a declaration apart from the function (HolmesGPT's toolsets, DESIGN.md "Contracts worth keeping stable"): the
name, the description written for a model (with an example question), the JSON schema of the arguments, whether
the tool mutates, and the Kubernetes rights it needs are what a model, the router, an RBAC pre-check and the
tests all read; they must be short, precise and testable on their own. `Tool.call` is the one way a loop runs a
tool: arguments validated against the schema, Kubernetes refusals (Forbidden, NotFound) returned as observations
rather than raised, and the output cut to the tool's token budget by its transformer.

Write tools never apply anything: their `ToolResult.mutations` are proposals (Mutations with a goal) for the
supervisor's dry-run → approval → apply → verify path.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from memory import tracing

# Rough size of a token in characters for English and YAML-ish text (SmolLM2's and GPT's BPEs give 3.5–4.2): the
# budgets below use it so that they hold without loading a tokenizer; the bench checks them with a real one.
CHARS_PER_TOKEN = 3.5


def estimate_tokens(text: str) -> int:
    """A cheap, slightly pessimistic token count of `text`."""
    return int(len(text) / CHARS_PER_TOKEN) + 1


@dataclass
class ToolResult:
    """What every tool returns: `data` for programs, `text` for the model or the person, proposed `mutations`
    (tools.k8s Mutation, never applied by the tool) and `mutated` for the few tools that act after an approval."""

    data: dict[str, Any]
    text: str
    mutations: list[Any] = field(default_factory=list)
    mutated: bool = False
    error: bool = False  # the observation reports a failure (bad arguments, Forbidden, NotFound, …)


@dataclass(frozen=True)
class Tool:
    """A declared tool. Positional order (name, description, mutating, iam_actions) keeps the older IAM
    declarations (`tools/iam.py`) valid unchanged.

    `rbac`: the (verb, resource, group) triples the tool needs, for a pre-check against the principal's rights.
    `max_tokens` with `transform(result, max_tokens)`: the output transformer (e.g. cut or summarize a result that
    is longer than the budget).
    """

    name: str
    description: str
    mutating: bool = False
    iam_actions: tuple[str, ...] = ()
    args: type[BaseModel] | None = None
    rbac: tuple[tuple[str, str, str], ...] = ()
    run: Callable[[Any, Any], ToolResult] | None = field(default=None, compare=False, repr=False)
    max_tokens: int | None = None
    transform: Callable[[ToolResult, int], ToolResult] | None = field(default=None, compare=False, repr=False)

    @property
    def mutates(self) -> bool:
        return self.mutating

    def parameters(self) -> dict[str, Any]:
        """The JSON schema of the arguments, without pydantic's titles (tokens a model does not need)."""
        if self.args is None:
            return {"type": "object", "properties": {}}
        return _strip_titles(self.args.model_json_schema())

    def schema(self) -> dict[str, Any]:
        """The OpenAI tool declaration (what `bind_tools` and any OpenAI-compatible server take)."""
        return {"type": "function", "function": {"name": self.name, "description": self.description,
                                                 "parameters": self.parameters()}}

    def to_langchain(self, kube: Any) -> Any:
        """This tool as a langchain-core StructuredTool bound to a connection (for LangChain agents and MCP)."""
        from langchain_core.tools import StructuredTool

        def _run(**kw: Any) -> str:
            return self.call(kube, kw).text

        return StructuredTool.from_function(_run, name=self.name, description=self.description,
                                            args_schema=self.args)

    def call(self, kube: Any, raw_args: dict[str, Any] | str | None) -> ToolResult:
        """Validate the arguments, run, and cut the output to the budget. Never raises for what a model can fix
        (bad arguments) or what the cluster refused (a KubeError): those come back as error observations.
        One trace span per call; the Kubernetes requests it makes are its children."""
        with tracing.span(f"tool {self.name}", {"kubesage.tool": self.name, "kubesage.mutating": self.mutating}) as s:
            result = self._call(kube, raw_args)
            s.set({"kubesage.tool.error": bool(result.error)})
            return result

    def _call(self, kube: Any, raw_args: dict[str, Any] | str | None) -> ToolResult:
        from tools.k8s.client import KubeError

        if self.run is None:
            return ToolResult({"error": "not runnable"}, f"{self.name} is a declaration only", error=True)
        if isinstance(raw_args, str):
            try:
                raw_args = json.loads(raw_args or "{}")
            except json.JSONDecodeError as e:
                return _error(f"arguments are not valid JSON ({e.msg} at {e.pos}); send one JSON object")
        raw_args = raw_args or {}
        if not isinstance(raw_args, dict):
            return _error("arguments must be a JSON object")
        try:
            args = self.args.model_validate(raw_args) if self.args is not None else None
        except ValidationError as e:
            problems = "; ".join(f"{'.'.join(str(p) for p in err['loc']) or '(object)'}: {err['msg']}"
                                 for err in e.errors()[:5])
            return _error(f"invalid arguments for {self.name}: {problems}")
        try:
            result = self.run(kube, args)
        except KubeError as e:
            return _error(f"{e.reason or 'Error'} ({e.status}): {e.message}", status=e.status, reason=e.reason)
        except ToolInputError as e:
            return _error(str(e))
        if self.max_tokens and self.transform is not None and estimate_tokens(result.text) > self.max_tokens:
            result = self.transform(result, self.max_tokens)
        return result


class ToolInputError(ValueError):
    """Arguments that passed the schema but make no sense (an unknown kind, a path that does not parse): the
    message goes back to the model as the observation."""


def _error(message: str, **data: Any) -> ToolResult:
    return ToolResult({"error": message, **data}, f"ERROR: {message}", error=True)


def _strip_titles(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {k: _strip_titles(v) for k, v in schema.items()
                if not (k == "title" and isinstance(v, str))}
    if isinstance(schema, list):
        return [_strip_titles(v) for v in schema]
    return schema


def fence(label: str, text: str) -> str:
    """Quote cluster text as data: a labelled fence the system prompt tells the model never to obey. Backtick runs
    inside are broken so the text cannot close the fence itself."""
    body = text.replace("```", "`\u200b``")
    return f"```untrusted cluster data: {label}\n{body}\n```"


def cut_text(result: ToolResult, max_tokens: int) -> ToolResult:
    """The default transformer: keep the head of the text within the budget and say how much was left out."""
    limit = int(max_tokens * CHARS_PER_TOKEN)
    text = result.text
    if len(text) <= limit:
        return result
    kept = text[: max(0, limit - 80)]
    closing = "\n```" if kept.count("```") % 2 else ""
    return ToolResult(result.data, kept + closing + f"\n[cut: {len(text) - len(kept)} more characters; narrow "
                      "the request (a name, a selector, fields) to see them]", result.mutations, result.mutated,
                      result.error)
