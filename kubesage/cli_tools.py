"""`kubesage tools list|show NAME|rm NAME`: look after the synthesized tools in $KUBESAGE_HOME's registry.

Why a CLI for it: a registered tool is code that will run again for other people; whoever runs kubesage should be
able to see what is there, read exactly what a tool does, and take it out.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from kubesage.settings import Settings


def register(sub: Any) -> None:
    tools = sub.add_parser("tools", help="synthesized tools: list, show, remove")
    tsub = tools.add_subparsers(dest="tools_command", metavar="SUBCOMMAND")
    tools.set_defaults(func=lambda _args, _cfg: _usage(tools))
    ls = tsub.add_parser("list", help="list the registered tools")
    ls.add_argument("--json", action="store_true", help="print the tools as JSON")
    ls.set_defaults(func=_list)
    show = tsub.add_parser("show", help="show one tool: description, schemas, provenance, code")
    show.add_argument("name")
    show.add_argument("--json", action="store_true", help="print the whole record as JSON")
    show.set_defaults(func=_show)
    rm = tsub.add_parser("rm", help="remove a tool from the registry")
    rm.add_argument("name")
    rm.set_defaults(func=_rm)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _registry(cfg: Settings) -> Any:
    from kubesage.stores import Stores

    return Stores(cfg).registry()  # tools.sqlite under home, or the replicas' shared table (database_url)


def _unknown(name: str) -> int:
    print(f"error: no tool named {name!r} (see `kubesage tools list`)", file=sys.stderr)
    return 1


def _list(args: argparse.Namespace, cfg: Settings) -> int:
    recs = _registry(cfg).list()
    if args.json:
        print(json.dumps([r.to_dict() for r in recs], indent=2))
        return 0
    if not recs:
        print("no synthesized tools yet")
        return 0
    width = max(len(r.name) for r in recs)
    for r in recs:
        flag = "mutates" if r.mutates else "read"
        desc = r.description if len(r.description) <= 70 else r.description[:67] + "..."
        print(f"{r.name:<{width}}  {flag:<7}  {r.successes:>3} ok {r.failures:>3} failed  {desc}")
    return 0


def _show(args: argparse.Namespace, cfg: Settings) -> int:
    rec = _registry(cfg).get(args.name)
    if rec is None:
        return _unknown(args.name)
    if args.json:
        print(json.dumps(rec.to_dict(), indent=2))
        return 0
    prov = rec.provenance or {}
    print(f"{rec.name}: {rec.description}")
    print(f"changes the cluster: {'yes (every use needs approval)' if rec.mutates else 'no'}")
    print(f"runs: {rec.successes} succeeded, {rec.failures} failed")
    made = ", ".join(f"{k}={v}" for k, v in sorted(prov.items()) if k != "request" and v not in (None, ""))
    if made:
        print(f"made by: {made}")
    if prov.get("request"):
        print(f"asked as: {prov['request']}")
    print(f"parameters: {json.dumps(rec.params, sort_keys=True)}")
    print(f"result: {json.dumps(rec.result_schema, sort_keys=True)}")
    if rec.test:
        print(f"registration test: {json.dumps(rec.test, sort_keys=True)}")
    if rec.plan:
        print(f"plan: {json.dumps(rec.plan, sort_keys=True)}")
    print("code:")
    for line in rec.code.rstrip().splitlines():
        print(f"    {line}")
    return 0


def _rm(args: argparse.Namespace, cfg: Settings) -> int:
    if not _registry(cfg).remove(args.name):
        return _unknown(args.name)
    print(f"removed tool {args.name!r}")
    return 0
