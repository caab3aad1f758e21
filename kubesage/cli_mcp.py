"""`kubesage mcp`: serve kubesage's tools to MCP clients (Claude Desktop, IDEs, agents) over stdio or HTTP.

Why stdout stays silent: with `--transport stdio` the client speaks JSON-RPC on our stdout, so every message for
people goes to stderr. Also runnable as `python -m kubesage.cli_mcp ...` (same arguments).

The identity: `--as` / `--as-group`, else env `KUBESAGE_MCP_AS` (user) and `KUBESAGE_MCP_AS_GROUPS`
(comma-separated), else the kubeconfig's own identity.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from kubesage.settings import Settings


def register(sub: Any) -> None:
    p = sub.add_parser("mcp", help="serve kubesage to MCP clients (stdio or streamable HTTP)")
    add_arguments(p)
    p.set_defaults(func=run)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--transport", choices=("stdio", "http"), default="stdio",
                   help="stdio (the client starts kubesage) or http (streamable HTTP on /mcp)")
    p.add_argument("--host", default="127.0.0.1", help="address for --transport http (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8765, help="port for --transport http (0: a free one; default 8765)")
    p.add_argument("--kubeconfig", default=None, help="a real cluster (default: the embedded sandbox)")
    p.add_argument("--context", default=None)
    p.add_argument("--as", dest="as_user", default=None, help="act as this user (default: env KUBESAGE_MCP_AS, "
                   "else the kubeconfig's identity)")
    p.add_argument("--as-group", dest="as_group", action="append", default=None)
    p.add_argument("--read-only", action="store_true", help="offer only the read tools (no propose/approve)")
    p.add_argument("--scenario", default=None, help="sandbox scenario when no cluster is configured")


def principal_from(args: argparse.Namespace, env: dict[str, str] | None = None) -> Any:
    from tools.k8s.client import Principal

    env = dict(os.environ if env is None else env)
    user = args.as_user or env.get("KUBESAGE_MCP_AS") or None
    groups = args.as_group if args.as_group is not None else \
        [g.strip() for g in env.get("KUBESAGE_MCP_AS_GROUPS", "").split(",") if g.strip()]
    return Principal(user, tuple(groups) if user else ())


def run(args: argparse.Namespace, cfg: Settings) -> int:
    from kubesage.runtime import Runtime
    from server.mcp_server import build_mcp, serve

    try:
        rt = Runtime(cfg, kubeconfig=args.kubeconfig, context=args.context, scenario=args.scenario)
    except Exception as e:  # noqa: BLE001 - a bad kubeconfig or scenario: one line, not a traceback
        print(f"error: cannot start kubesage: {e}", file=sys.stderr)
        return 2
    try:
        principal = principal_from(args)
        print(f"kubesage MCP server acting as {principal.label} on {rt.kubeconfig}"
              f"{' (read-only)' if args.read_only else ''}", file=sys.stderr, flush=True)
        serve(build_mcp(rt, principal, read_only=args.read_only), args.transport, args.host, args.port)
        return 0
    except OSError as e:
        print(f"error: cannot listen on {args.host}:{args.port}: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    finally:
        rt.close()


def main(argv: list[str] | None = None) -> int:
    from kubesage import settings as settings_mod

    parser = argparse.ArgumentParser(prog="kubesage mcp", description="Serve kubesage to MCP clients.")
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        cfg = settings_mod.load()
    except settings_mod.SettingsError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return run(args, cfg)


if __name__ == "__main__":
    sys.exit(main())
