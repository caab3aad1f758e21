"""The `kubesage` command. Subcommands are added here as the rooms that serve them land."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path

from kubesage import settings as settings_mod

COMMAND_MODULES = ("agents", "iam", "llm", "tools", "server", "mcp", "tui", "evals", "doctor")


def _cmd_sandbox_serve(args: argparse.Namespace, cfg: settings_mod.Settings) -> int:
    from sandbox.server import SandboxServer, ScenarioError

    scenarios = args.scenario or [cfg.sandbox_scenario]
    try:
        server = SandboxServer(port=cfg.sandbox_port if args.port is None else args.port,
                               state_dir=args.state, scenarios=scenarios, speed=args.speed or cfg.sandbox_speed)
    except ScenarioError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"error: cannot listen: {e}", file=sys.stderr)
        return 2
    kubeconfig = Path(args.kubeconfig or cfg.sandbox_kubeconfig)
    server.write_kubeconfig(kubeconfig)
    print(f"kubesage sandbox API server listening on {server.url}", flush=True)
    print(f"kubeconfig: {kubeconfig} (context kubesage-sandbox)", flush=True)
    print(f"state: {args.state or 'in memory'}; scenarios: {', '.join(scenarios)}", flush=True)
    print(f"try: KUBECONFIG={kubeconfig} kubectl get nodes", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


def _cmd_config(args: argparse.Namespace, cfg: settings_mod.Settings) -> int:
    print(json.dumps(cfg.describe(), indent=2))
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kubesage", description="Natural-language infrastructure management.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    sb = sub.add_parser("sandbox", help="the embedded Kubernetes API server")
    sbsub = sb.add_subparsers(dest="sandbox_command", metavar="SUBCOMMAND")
    serve = sbsub.add_parser("serve", help="run the embedded API server in the foreground")
    serve.add_argument("--port", type=int, default=None, help="port to listen on (0: a free one)")
    serve.add_argument("--kubeconfig", default=None, help="where to write the kubeconfig "
                       "(default $KUBESAGE_HOME/sandbox/kubeconfig)")
    serve.add_argument("--state", default=None, help="directory that persists the cluster (default: in memory)")
    serve.add_argument("--scenario", action="append", default=None, metavar="NAME|FILE",
                       help="scenario to load (repeatable; default: the sandbox_scenario setting)")
    serve.add_argument("--speed", type=float, default=None, help="clock speed factor (default 1)")
    serve.set_defaults(func=_cmd_sandbox_serve)

    cfg = sub.add_parser("config", help="show the resolved settings")
    cfg.set_defaults(func=_cmd_config)

    # Each room's commands live in their own module (kubesage/cli_<room>.py) with `register(subparsers)`.
    import importlib

    for room in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"kubesage.cli_{room}")
        except ModuleNotFoundError as e:
            if e.name == f"kubesage.cli_{room}":
                continue  # that room has no commands yet
            print(f"warning: the `{room}` commands are unavailable: {e}", file=sys.stderr)
            continue
        except ImportError as e:
            print(f"warning: the `{room}` commands are unavailable: {e}", file=sys.stderr)
            continue
        module.register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0 if args.command is None else 2
    try:
        cfg = settings_mod.load()
    except settings_mod.SettingsError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    os.environ.setdefault("KUBESAGE_HOME", str(cfg.home))
    return int(args.func(args, cfg) or 0)


if __name__ == "__main__":
    sys.exit(main())
