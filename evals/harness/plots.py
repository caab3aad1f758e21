"""PNG plots of a run (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def _plt():  # noqa: ANN202 - matplotlib.pyplot, imported lazily (slow) with the headless backend
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def runs_beside(out: Path) -> list[dict[str, Any]]:
    """Summaries of this run and the other reports under the same parent folder."""
    found = []
    for s in sorted(out.parent.glob("*/summary.json")):
        try:
            found.append({**json.loads(s.read_text()), "_dir": s.parent.name})
        except (OSError, ValueError):
            continue
    return found


def write_plots(out: Path, records: list[dict[str, Any]], summary: dict[str, Any]) -> list[str]:
    plt = _plt()
    written = []
    doms = summary["domains"]
    fig, ax = plt.subplots(figsize=(7, 3.5))
    names = list(doms)
    rates = [100 * doms[d]["pass_rate"] for d in names]
    bars = ax.bar(names, rates, color="#4c72b0")
    for b, d in zip(bars, names, strict=True):
        ax.text(b.get_x() + b.get_width() / 2, b.get_height() + 1, f"{doms[d]['passed']}/{doms[d]['cases']}",
                ha="center", fontsize=8)
    ax.set_ylim(0, 110)
    ax.set_ylabel("pass rate (%)")
    ax.set_title(f"Pass rate per domain — {summary.get('model_policy')} ({summary['passed']}/{summary['cases']})")
    ax.tick_params(axis="x", labelrotation=30)
    fig.tight_layout()
    fig.savefig(out / "pass_rate_by_domain.png", dpi=110)
    plt.close(fig)
    written.append("pass_rate_by_domain.png")

    lat = [r.get("latency_s", 0.0) for r in records if not r.get("error")]
    fig, ax = plt.subplots(figsize=(7, 3.5))
    if lat:
        ax.hist(lat, bins=min(40, max(5, len(lat) // 4)), color="#55a868")
    ax.set_xlabel("seconds per case (all turns and approvals)")
    ax.set_ylabel("cases")
    ax.set_title(f"Latency distribution (p50 {summary['latency_s']['p50']} s, p90 {summary['latency_s']['p90']} s)")
    fig.tight_layout()
    fig.savefig(out / "latency.png", dpi=110)
    plt.close(fig)
    written.append("latency.png")

    runs = runs_beside(out)
    if not any(r.get("_dir") == out.name for r in runs):
        runs.append({**summary, "_dir": out.name})
    fig, ax = plt.subplots(figsize=(6, 4))
    for r in runs:
        x, y = 100 * (r.get("llm") or {}).get("cloud_share", 0.0), 100 * r.get("pass_rate", 0.0)
        ax.scatter([x], [y], s=60)
        ax.annotate(f"{r.get('model_policy')} ({r['_dir']})", (x, y), textcoords="offset points", xytext=(5, 5),
                    fontsize=8)
    ax.set_xlim(-5, 105)
    ax.set_ylim(0, 105)
    ax.set_xlabel("cloud share of LLM calls (%)")
    ax.set_ylabel("pass rate (%)")
    ax.set_title("Cloud share vs pass rate, per model policy")
    fig.tight_layout()
    fig.savefig(out / "cloud_share_vs_pass_rate.png", dpi=110)
    plt.close(fig)
    written.append("cloud_share_vs_pass_rate.png")
    return written
