"""`kubesage doctor [--repair]`: check the data directory's databases, and move damaged ones aside.

Why a command: a damaged database (a disk fault, a copy taken mid-write, garbage written over it) makes every
interface refuse with the same one-line error; this is the one place that lists all of them and does the safe
repair (rename, never delete: the file can still be examined or restored).
"""

from __future__ import annotations

import argparse
from typing import Any

from kubesage import datastore
from kubesage.settings import Settings


def register(sub: Any) -> None:
    p = sub.add_parser("doctor", help="check kubesage's data directory (databases); --repair moves damaged ones aside")
    p.add_argument("--repair", action="store_true", help="rename each damaged database to <name>.broken-<time>")
    p.set_defaults(func=_doctor)


def _doctor(args: argparse.Namespace, cfg: Settings) -> int:
    bad = datastore.check(cfg.home)
    for name in datastore.FILES:
        path = cfg.home / name
        if path in bad:
            continue
        print(f"ok       {path}" if path.exists() else f"absent   {path} (created when first needed)")
    for path, why in bad.items():
        if args.repair:
            moved = datastore.move_aside(path)
            print(f"REPAIRED {path}: {why}; moved to {moved}; lost: {datastore.FILES[path.name]}")
        else:
            print(f"DAMAGED  {path}: {why}")
    if bad and not args.repair:
        print("Run `kubesage doctor --repair` to move the damaged file(s) aside (kubesage starts them afresh).")
        return 1
    return 0
