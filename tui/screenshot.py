"""`python -m tui.screenshot [OUT.svg]`: the chat app mid-approval, as an SVG, for the docs.

Why a script rather than a hand-made picture: it runs the real app against a real demo-shop sandbox, so the
screenshot shows what a person sees today and can be regenerated whenever the UI changes.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

QUESTION = "scale web in shop to 4 replicas"
DEFAULT_OUT = Path("docs/tui-approval.svg")


async def _capture(out: Path, size: tuple[int, int], question: str, home: Path) -> Path:
    from kubesage import settings as settings_mod
    from kubesage.runtime import Runtime
    from sandbox.server import SandboxServer
    from tools.k8s.client import Principal
    from tui.app import KubesageApp
    from tui.approval import ApprovalScreen
    from tui.pilot import ask, settle

    server = SandboxServer(scenarios=["demo-shop"], speed=50.0).start()
    rt = None
    try:
        kc = server.write_kubeconfig(home / "kubeconfig")
        time.sleep(1.0)  # let the sandbox's controllers create the pods the answer talks about
        rt = Runtime(settings_mod.load({"KUBESAGE_HOME": str(home)}), kubeconfig=str(kc))
        app = KubesageApp(rt, principal=Principal(), namespace="shop", thread_id="demo-approval")
        async with app.run_test(size=size) as pilot:
            await settle(app, pilot)
            await ask(app, pilot, question)
            if not isinstance(app.screen, ApprovalScreen):
                raise RuntimeError(f"no approval dialog after {question!r}: {app.transcript()[-1][1]}")
            svg = app.export_screenshot(title="kubesage chat: approving a change")
            await pilot.press("r")  # leave the sandbox as it was
            await settle(app, pilot)
    finally:
        if rt is not None:
            rt.close()
        server.stop()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(svg, encoding="utf-8")
    return out


def capture(out: Path = DEFAULT_OUT, size: tuple[int, int] = (110, 32), question: str = QUESTION) -> Path:
    """Run the app on a fresh demo-shop sandbox, ask `question`, and write the approval dialog to `out`."""
    with tempfile.TemporaryDirectory(prefix="kubesage-shot-") as home:
        return asyncio.run(_capture(Path(out), size, question, Path(home)))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tui.screenshot", description=__doc__.splitlines()[0])
    p.add_argument("out", nargs="?", default=str(DEFAULT_OUT))
    p.add_argument("--width", type=int, default=110)
    p.add_argument("--height", type=int, default=32)
    args = p.parse_args(argv)
    try:
        path = capture(Path(args.out), (args.width, args.height))
    except Exception as e:  # noqa: BLE001 - a script for people: one line, no traceback
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
