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
    """Which cluster commands act on (and which source won), then every setting; nothing is started to find out."""
    from kubesage import cluster

    choice = cluster.find(cfg, args.kubeconfig, args.context, args.namespace)
    if choice is None and (args.context or cfg.context) not in (None, "", "kubesage-sandbox"):
        raise cluster.ClusterError(f'context "{args.context or cfg.context}" does not exist')
    where = choice.describe() if choice else {
        "source": cluster.EMBEDDED, "kubeconfig": [], "context": args.context or cfg.context or "kubesage-sandbox",
        "server": "(started by each command; no kubeconfig found: " + cluster.ORDER + ")",
        "namespace": args.namespace or "default"}
    if args.what == "current-context":
        print(where["context"])
        return 0
    print(json.dumps({"cluster": where, "settings": cfg.describe()}, indent=2))
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

    cfg = sub.add_parser("config", help="show which cluster commands act on (and why) and the resolved settings")
    cfg.add_argument("what", nargs="?", choices=("view", "current-context"), default="view",
                     help="view (default): cluster and settings as JSON; current-context: the context's name")
    cfg.add_argument("--kubeconfig", default=None, help="kubeconfig file (default: as for ask)")
    cfg.add_argument("--context", default=None, help="kubeconfig context (default: current-context)")
    cfg.add_argument("-n", "--namespace", default=None, help="namespace (default: the context's)")
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
    from kubesage.cluster import ClusterError
    from tools.k8s.errors import KubeError

    try:
        return int(args.func(args, cfg) or 0)
    except ClusterError as e:  # a kubeconfig or context that cannot be used: one line, as kubectl says it
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KubeError as e:  # an API that cannot be reached or refuses outside an agent: one line, as kubectl does
        print(f"error: {e.message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
