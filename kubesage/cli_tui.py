"""`kubesage chat`: the Textual chat app over the same Runtime the other interfaces use."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from kubesage.settings import Settings


def register(sub: Any) -> None:
    chat = sub.add_parser("chat", help="chat with kubesage in a terminal UI (approvals, threads, tool calls)")
    chat.add_argument("--kubeconfig", default=None, help="a real cluster (default: the embedded sandbox)")
    chat.add_argument("--context", default=None, help="kubeconfig context (switch later with ctrl+k)")
    chat.add_argument("--as", dest="as_user", default=None, help="ask as this user (impersonation)")
    chat.add_argument("--as-group", dest="as_group", action="append", default=[])
    chat.add_argument("-n", "--namespace", default=None, help="default namespace (switch later with ctrl+n)")
    chat.add_argument("--scenario", default=None, help="sandbox scenario when no cluster is configured")
    chat.add_argument("--thread", default=None, help="open this thread (default: a new one)")
    chat.add_argument("--read-only", action="store_true", help="never propose changes")
    chat.set_defaults(func=_chat)


def _chat(args: argparse.Namespace, cfg: Settings) -> int:
    from kubesage.runtime import Runtime
    from tools.k8s.client import Principal

    try:
        rt = Runtime(cfg, kubeconfig=args.kubeconfig, context=args.context, scenario=args.scenario,
                     read_only=args.read_only)
    except Exception as e:  # noqa: BLE001 - a bad scenario or state directory: one line, no traceback
        print(f"error: cannot start kubesage: {e}", file=sys.stderr)
        return 2
    try:
        from tui.app import KubesageApp

        app = KubesageApp(rt, principal=Principal(args.as_user, tuple(args.as_group)), namespace=args.namespace,
                          thread_id=args.thread)
        app.run()
        return 0
    finally:
        rt.close()
