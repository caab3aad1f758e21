"""`kubesage ask` and `kubesage approve`: questions to the supervisor, and decisions on pending changes."""

from __future__ import annotations

import argparse
import json
import re
import sys
import uuid
from typing import Any

from kubesage.settings import Settings


def register(sub: Any) -> None:
    ask = sub.add_parser("ask", help="ask kubesage a question in plain words")
    ask.add_argument("question")
    ask.add_argument("--kubeconfig", default=None, help="kubeconfig file (default: KUBESAGE_KUBECONFIG, KUBECONFIG, "
                     "~/.kube/config, in-cluster; else the embedded sandbox)")
    ask.add_argument("--context", default=None, help="kubeconfig context (default: current-context)")
    ask.add_argument("--as", dest="as_user", default=None, help="ask as this user (impersonation)")
    ask.add_argument("--as-group", dest="as_group", action="append", default=[])
    ask.add_argument("-n", "--namespace", default=None, help="namespace (default: the context's)")
    ask.add_argument("--json", action="store_true", help="print route, tool calls, approvals and the answer as JSON")
    ask.add_argument("--yes", action="store_true", help="approve proposed changes without asking")
    ask.add_argument("--read-only", action="store_true", help="never change anything")
    ask.add_argument("--thread", default=None, help="conversation thread id (default: a new one)")
    ask.add_argument("--scenario", default=None, help="sandbox scenario when no cluster is configured")
    ask.set_defaults(func=_ask)
    ap = sub.add_parser("approve", help="approve (or --reject) the change a thread is waiting on")
    ap.add_argument("thread")
    ap.add_argument("--reject", action="store_true")
    ap.add_argument("--kubeconfig", default=None, help="kubeconfig file (default: as for ask)")
    ap.add_argument("--context", default=None, help="kubeconfig context (default: current-context)")
    ap.add_argument("--as", dest="as_user", default=None,
                    help="decide as this user (must be the principal who asked; default: the kubeconfig's own)")
    ap.add_argument("--as-group", dest="as_group", action="append", default=[])
    ap.add_argument("--json", action="store_true")
    ap.set_defaults(func=_approve)


_ACTION_NS = re.compile(r"^\S+ \S+ ([a-z0-9][-a-z0-9.]*)/")  # "scale Deployment shop/web" (Mutation.describe)


def _where(cluster: Any, result: dict[str, Any]) -> str | None:
    """Where a turn that acts (or proposes to) did so: the context, its server and the namespace(s) the changes name
    (else the default namespace); None for a turn that changed nothing."""
    actions = [o.get("action") or "" for o in result.get("outcomes") or []]
    appr = result.get("approval") or {}
    actions += [c.get("action") or "" for c in appr.get("changes") or [appr] if appr]
    if not any(actions):
        return None
    spaces = sorted({m.group(1) for a in actions if (m := _ACTION_NS.match(a))}) or [cluster.namespace]
    label = "namespaces" if len(spaces) > 1 else "namespace"
    names = ", ".join(f'"{n}"' for n in spaces)
    return f'context "{cluster.context}" ({cluster.server}), {label} {names}'


def _print(result: dict[str, Any], as_json: bool, cluster: Any = None) -> None:
    if as_json:
        out = {k: result.get(k) for k in ("thread_id", "route", "results", "approval", "outcomes", "answer")}
        if cluster is not None:
            out["cluster"] = cluster.describe()
        print(json.dumps(out, indent=2, default=str))
        return
    if result.get("answer"):
        print(result["answer"])
    where = _where(cluster, result) if cluster is not None else None
    if where and result.get("outcomes"):
        print(f"\nActed on {where}.")
    appr = result.get("approval")
    if appr:
        print(f"\nProposed change (approval {appr['id']}): {appr['action']} — {appr.get('why', '')}")
        if where:
            print(f"On {where}.")
        if appr.get("dry_run_error"):
            print(f"The server's dry run refused it: {appr['dry_run_error']}")
        elif appr.get("diff"):
            print(appr["diff"])


def _drive(rt: Any, result: dict[str, Any], yes: bool, as_json: bool, by: Any) -> dict[str, Any]:
    while result.get("approval"):
        if yes:
            result = rt.supervisor.resume(result["thread_id"], "approve", by=by)
            continue
        if sys.stdin.isatty() and not as_json:
            _print(result, False, rt.cluster)
            answer = input("Apply this change? [y/N] ").strip().lower()
            result = rt.supervisor.resume(result["thread_id"], "approve" if answer in ("y", "yes") else "reject", by=by)
            continue
        _print(result, as_json, rt.cluster)
        if not as_json:
            print(f"\nNot applied. To apply: kubesage approve {result['thread_id']}  (or --reject)")
        return {}
    return result


def _say_which(rt: Any) -> None:
    """A sandbox used because no kubeconfig names a cluster is said, on stderr (answers stay on stdout)."""
    from kubesage.cluster import notice

    line = notice(rt.cluster)
    if line:
        print(line, file=sys.stderr)


def _principal(args: argparse.Namespace) -> Any:
    """The principal of --as/--as-group; InvalidPrincipal (a ValueError) when kubesage cannot act as it."""
    from tools.k8s.client import Principal

    return Principal(args.as_user, tuple(args.as_group))


def _guarded(work: Any, cfg: Settings) -> int:
    """Run a command's work; what goes wrong in a way the person can fix is one line on stderr and exit code 2."""
    import sqlite3

    from agents.approvals import ApprovalRefused
    from kubesage import datastore
    from tools.k8s.identity import InvalidPrincipal

    try:
        return work()
    except (datastore.DataError, InvalidPrincipal, ApprovalRefused) as e:
        print(f"error: {e}", file=sys.stderr)
    except sqlite3.DatabaseError as e:
        print(f"error: {datastore.explain(e, cfg.home) or f'a kubesage database failed ({e}); retry'}", file=sys.stderr)
    return 2


def _prefetch_embedder(question: str) -> None:
    """Start building the router's embedder (MiniLM's ONNX session) in the background when no rule routes the
    question, as for most questions: the build then overlaps with loading the supervisor (LangGraph) instead of
    following it (issue 18). A hint only: the router decides as always, and builds the embedder itself when no
    hint was given."""
    from agents.router import rule_route
    from memory.embeddings import prefetch

    if rule_route(question) is None:
        prefetch()


def _ask(args: argparse.Namespace, cfg: Settings) -> int:
    from kubesage.runtime import Runtime

    if not args.question.strip():
        print("error: the question is empty; ask in plain words, e.g. kubesage ask \"why is checkout crashing in "
              "shop?\"", file=sys.stderr)
        return 2

    def work() -> int:
        principal = _principal(args)
        rt = Runtime(cfg, kubeconfig=args.kubeconfig, context=args.context, scenario=args.scenario,
                     read_only=args.read_only, namespace=args.namespace)
        _say_which(rt)
        _prefetch_embedder(args.question)
        try:
            result = rt.supervisor.start(args.question, principal, args.thread or uuid.uuid4().hex[:12],
                                         args.namespace)
            final = _drive(rt, result, args.yes, args.json, principal)
            if final:
                _print(final, args.json, rt.cluster)
            return 0
        finally:
            rt.close()

    return _guarded(work, cfg)


def _approve(args: argparse.Namespace, cfg: Settings) -> int:
    from kubesage.runtime import Runtime

    def work() -> int:
        principal = _principal(args)
        rt = Runtime(cfg, kubeconfig=args.kubeconfig, context=args.context)
        _say_which(rt)
        try:
            settled = rt.supervisor.settle(args.thread)  # a decision a crash interrupted: finished, not re-asked
            if settled is not None:
                print(f"Finished the change approved before kubesage stopped (thread {args.thread}):", file=sys.stderr)
                final = _drive(rt, settled, False, args.json, principal)
                if final:
                    _print(final, args.json, rt.cluster)
                return 0
            pending = rt.supervisor.pending_approval(args.thread)
            if pending is None:
                print(f"error: thread {args.thread} is not waiting for an approval", file=sys.stderr)
                return 2
            result = rt.supervisor.resume(args.thread, "reject" if args.reject else "approve", by=principal)
            final = _drive(rt, result, False, args.json, principal)
            if final:
                _print(final, args.json, rt.cluster)
            return 0
        finally:
            rt.close()

    return _guarded(work, cfg)
