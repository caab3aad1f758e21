"""`kubesage eval compare A B`: what changed between two runs — rates, and each case that flipped."""

from __future__ import annotations

from typing import Any

from evals.harness.report import failure_reason, load_report
from evals.harness.verdict import classify


def _verdict(rec: dict[str, Any]) -> str:
    """A record's verdict (reports written before verdicts existed: classified now)."""
    return rec.get("verdict") or classify(rec)[0]


def compare(a_dir: str, b_dir: str) -> dict[str, Any]:
    sa, ca = load_report(a_dir)
    sb, cb = load_report(b_dir)
    domains = sorted(set(sa["domains"]) | set(sb["domains"]))
    dom = {}
    for d in domains:
        ra = sa["domains"].get(d, {}).get("pass_rate")
        rb = sb["domains"].get(d, {}).get("pass_rate")
        dom[d] = {"a": ra, "b": rb, "delta": None if ra is None or rb is None else round(rb - ra, 4)}
    fixed = sorted(i for i in set(ca) & set(cb) if not ca[i]["passed"] and cb[i]["passed"])
    broken = sorted(i for i in set(ca) & set(cb) if ca[i]["passed"] and not cb[i]["passed"])
    return {"a": a_dir, "b": b_dir, "pass_rate": {"a": sa["pass_rate"], "b": sb["pass_rate"],
                                                  "delta": round(sb["pass_rate"] - sa["pass_rate"], 4)},
            "domains": dom, "fixed": fixed,
            "broken": [{"id": i, "reason": failure_reason(cb[i])} for i in broken],
            "verdicts": {side: {v: sum(1 for r in recs.values() if _verdict(r) == v) for v in ("pass", "abstain", "wrong")}
                         for side, recs in (("a", ca), ("b", cb))},
            "newly_wrong": [{"id": i, "was": _verdict(ca[i]), "reason": cb[i].get("verdict_reason") or failure_reason(cb[i])}
                            for i in sorted(set(ca) & set(cb)) if _verdict(cb[i]) == "wrong" and _verdict(ca[i]) != "wrong"],
            "only_in_a": sorted(set(ca) - set(cb)), "only_in_b": sorted(set(cb) - set(ca)),
            "latency_p50": {"a": sa["latency_s"]["p50"], "b": sb["latency_s"]["p50"]},
            "cloud_share": {"a": sa["llm"]["cloud_share"], "b": sb["llm"]["cloud_share"]}}


def render(diff: dict[str, Any]) -> str:
    def pct(v: float | None) -> str:
        return "—" if v is None else f"{100 * v:.1f}%"

    pr = diff["pass_rate"]
    lines = [f"A: {diff['a']}", f"B: {diff['b']}",
             f"pass rate: {pct(pr['a'])} → {pct(pr['b'])} ({100 * pr['delta']:+.1f} points)", "",
             f"{'domain':<16}{'A':>8}{'B':>8}{'Δ':>9}"]
    for d, v in diff["domains"].items():
        delta = "—" if v["delta"] is None else f"{100 * v['delta']:+.1f}"
        lines.append(f"{d:<16}{pct(v['a']):>8}{pct(v['b']):>8}{delta:>9}")
    lines.append("")
    va, vb = diff["verdicts"]["a"], diff["verdicts"]["b"]
    lines.append("verdicts pass/abstain/wrong: " + "/".join(str(va[k]) for k in va) + " → "
                 + "/".join(str(vb[k]) for k in vb))
    lines.append(f"newly wrong in B ({len(diff['newly_wrong'])}):" + ("" if diff["newly_wrong"] else " none"))
    lines += [f"  {w['id']} (was {w['was']}): {w['reason'][:200]}" for w in diff["newly_wrong"]]
    lines.append(f"fixed in B ({len(diff['fixed'])}): {', '.join(diff['fixed']) or 'none'}")
    lines.append(f"broken in B ({len(diff['broken'])}):" + ("" if diff["broken"] else " none"))
    lines += [f"  {b['id']}: {b['reason'][:200]}" for b in diff["broken"]]
    if diff["only_in_a"] or diff["only_in_b"]:
        lines.append(f"only in A: {len(diff['only_in_a'])} case(s); only in B: {len(diff['only_in_b'])} case(s)")
    lines.append(f"latency p50: {diff['latency_p50']['a']} s → {diff['latency_p50']['b']} s; cloud share: "
                 f"{pct(diff['cloud_share']['a'])} → {pct(diff['cloud_share']['b'])}")
    return "\n".join(lines)
