"""`python -m tui.screenshot` writes an SVG of the app while it waits for an approval."""

from __future__ import annotations

import html
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_screenshot_script_writes_the_approval_dialog(tmp_path: Path):
    out = tmp_path / "shot.svg"
    proc = subprocess.run([sys.executable, "-m", "tui.screenshot", str(out), "--width", "80", "--height", "24"],
                          cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr
    svg = out.read_text()
    assert svg.lstrip().startswith("<svg")
    text = html.unescape(svg).replace("\xa0", " ")
    assert "Approval needed: scale Deployment shop/web" in text
    assert "Approve (a/y)" in text and "replicas: 4" in text
