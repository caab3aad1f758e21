"""`make bench`: runs every benchmark module `evals/bench_*.py` (each has a `main()`), one after another.

`make bench ONLY=sandbox` runs just `evals/bench_sandbox.py`.
"""

from __future__ import annotations

import importlib
import os
import sys
import time
from pathlib import Path


def main() -> int:
    only = [x for x in os.environ.get("ONLY", "").split(",") if x]
    names = sorted(p.stem for p in Path(__file__).parent.glob("bench_*.py"))
    failed = []
    for name in names:
        if only and name.removeprefix("bench_") not in only:
            continue
        print(f"\n=== {name} ===", flush=True)
        t = time.perf_counter()
        try:
            importlib.import_module(f"evals.{name}").main()
        except Exception as e:  # noqa: BLE001 - report and go on with the other benchmarks
            print(f"{name} failed: {type(e).__name__}: {e}", file=sys.stderr)
            failed.append(name)
        print(f"({name}: {time.perf_counter() - t:.1f} s)", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
