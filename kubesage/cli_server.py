"""`kubesage serve`: the HTTP API (and the Slack bot, when configured) under uvicorn."""

from __future__ import annotations

import argparse
import signal
import socket
import sys
from typing import Any

from kubesage.settings import Settings


def register(sub: Any) -> None:
    p = sub.add_parser("serve", help="run the HTTP API (OpenAPI at /openapi.json)")
    p.add_argument("--host", default=None, help="address to listen on (default: the server_host setting, 127.0.0.1)")
    p.add_argument("--port", type=int, default=None, help="port (default: the server_port setting, 8080; 0: a free one)")
    p.add_argument("--kubeconfig", default=None, help="a real cluster (default: the embedded sandbox)")
    p.add_argument("--context", default=None)
    p.add_argument("--scenario", default=None, help="sandbox scenario when no cluster is configured")
    p.set_defaults(func=_serve)


def _interrupt(*_: Any) -> None:
    raise KeyboardInterrupt


def _serve(args: argparse.Namespace, cfg: Settings) -> int:
    host = args.host or cfg.server_host
    port = cfg.server_port if args.port is None else args.port
    # Bind first: a busy port is a one-line error, not a traceback after the cluster and models are loaded.
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)  # connections made before uvicorn is up wait in the backlog instead of being refused
    except OSError as e:
        print(f"error: cannot listen on {host}:{port}: {e.strerror or e}", file=sys.stderr)
        sock.close()
        return 2
    if not cfg.api_tokens:
        print("warning: no api_tokens configured: every /v1/ request will get 401. Add to "
              f"{cfg.home / 'config.yaml'}:\n  api_tokens:\n    <a long random token>: {{user: <name>, groups: []}}",
              file=sys.stderr)

    import uvicorn

    from kubesage.runtime import Runtime
    from kubesage.stores import DatabaseUnavailable
    from server.app import create_app

    rt = Runtime(cfg, kubeconfig=args.kubeconfig, context=args.context, scenario=args.scenario)
    try:
        try:
            app = create_app(rt, cfg)
        except DatabaseUnavailable as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        if app.state.fault is not None:
            print(f"error: {app.state.fault}\nServing anyway: /healthz reports the fault and routes that need the "
                  "data answer 503 until it is repaired and the server restarted.", file=sys.stderr, flush=True)
        shown = f"[{host}]" if ":" in host else host
        print(f"kubesage HTTP API listening on http://{shown}:{sock.getsockname()[1]} "
              f"(OpenAPI: /openapi.json; cluster: {rt.kubeconfig})", flush=True)
        # uvicorn shuts down gracefully on SIGINT/SIGTERM, then re-raises the signal: end quietly with status 0.
        signal.signal(signal.SIGTERM, _interrupt)
        uvicorn.Server(uvicorn.Config(app, log_level=cfg.log_level, lifespan="on")).run(sockets=[sock])
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        sock.close()
        rt.close()
