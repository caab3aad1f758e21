"""Small charts for answers about a trend: a text sparkline (CLI, TUI, chat) and a PNG (HTTP, Slack).

Why both: a terminal shows text only, and an HTTP or Slack client can attach an image. The PNG travels in an
answer's `data["chart"]` as base64 (`{"media_type": "image/png", "base64": …, "title": …}`), because answers are
JSON on the wire. matplotlib is imported only when a chart is drawn (it costs a quarter second at start-up).
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Sequence
from typing import Any

BARS = "▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[float], width: int = 40) -> str:
    """The values as block characters, lowest to highest; at most `width` of them (evenly picked)."""
    vals = [v for v in values if not math.isnan(v)]
    if not vals:
        return ""
    if len(vals) > width:
        vals = [vals[round(i * (len(vals) - 1) / (width - 1))] for i in range(width)]
    lo, hi = min(vals), max(vals)
    if hi == lo:
        return BARS[len(BARS) // 2] * len(vals)
    return "".join(BARS[min(len(BARS) - 1, int((v - lo) / (hi - lo) * len(BARS)))] for v in vals)


def png(points: Sequence[tuple[float, float]], title: str, unit: str, scale: float = 1.0) -> dict[str, Any]:
    """A line chart of (unix time, value) points, values multiplied by `scale` and labelled with `unit`."""
    import matplotlib

    matplotlib.use("Agg")
    from datetime import UTC, datetime

    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 2.4), dpi=100)
    try:
        ax.plot([datetime.fromtimestamp(t, UTC) for t, _ in points], [v * scale for _, v in points], linewidth=1.5)
        ax.set_title(title, fontsize=9)
        ax.set_ylabel(unit, fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
        fig.autofmt_xdate()
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
    finally:
        plt.close(fig)
    return {"media_type": "image/png", "title": title, "base64": base64.b64encode(buf.getvalue()).decode()}
