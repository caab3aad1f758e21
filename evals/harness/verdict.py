"""Per-case verdicts: pass, abstain or wrong.

Why three and not two: a refusal that says what it did not understand costs a person one more message; a wrong
action or a false answer costs them an incident. Issue 15 bounds the second separately (wrong ≤ 2%), so the
report must tell them apart.

- **pass**: every grader passed.
- **abstain**: not passed, no successful write happened (no write call — not a GET, not a server-side dry run, not
  an access review — among the case's recorded Kubernetes calls, and no applied outcome), and an agent said what it
  did not understand. The contract: an agent result's `data["abstain"] = {"understood": [str], "not_understood":
  [str], "ask": str}` with a non-empty `not_understood` or `ask`. Fallback, for agents that only answer in text: a
  turn's answer that starts with "I did not act", or an answer that contains "I did not understand".
- **wrong**: everything else — a change that should not have happened or was not the one asked, a factual answer
  that fails its grader without abstaining, a case that errored.
"""

from __future__ import annotations

from typing import Any

from evals.harness.trace import describe, is_write, succeeded

VERDICTS = ("pass", "abstain", "wrong")
_SEVERITY = {v: i for i, v in enumerate(VERDICTS)}  # a repeat's worst verdict is the case's
TEXT_STARTS = ("i did not act",)
TEXT_CONTAINS = ("i did not understand",)


def abstentions(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The abstentions the agents reported (`data["abstain"]` of each result), with the agent's name."""
    out = []
    for r in results:
        a = (r.get("data") or {}).get("abstain") if isinstance(r.get("data"), dict) else None
        if isinstance(a, dict) and (a.get("not_understood") or a.get("ask")):
            out.append({"agent": r.get("agent"), "understood": list(a.get("understood") or []),
                        "not_understood": list(a.get("not_understood") or []), "ask": str(a.get("ask") or "")})
    return out


def writes(rec: dict[str, Any]) -> list[str]:
    """Every successful change the case made: write calls and applied outcomes, described."""
    out = [describe(c) for c in rec.get("calls") or [] if is_write(c) and succeeded(c)]
    out += [f"applied: {o.get('action')}" for o in rec.get("outcomes") or [] if o.get("status") == "applied"]
    return out


def _text_abstains(rec: dict[str, Any]) -> bool:
    answers = [str(t.get("answer") or "") for t in rec.get("turns") or []] or [str(rec.get("answer") or "")]
    if any(a.lstrip().lower().startswith(TEXT_STARTS) for a in answers):
        return True
    joined = "\n".join(answers).lower()
    return any(s in joined for s in TEXT_CONTAINS)


def failure_reason(rec: dict[str, Any]) -> str:
    """Why a case failed: its error, else each failed grader's detail."""
    if rec.get("error"):
        return f"error: {rec['error']}"
    return "; ".join(f"{g['name']}: {g['detail']}" for g in rec.get("graders") or [] if not g["passed"])


def classify(rec: dict[str, Any]) -> tuple[str, str]:
    """(verdict, reason) of one case record."""
    if rec.get("passed") and not rec.get("error"):
        return "pass", "every grader passed"
    changed = writes(rec)
    if changed:
        return "wrong", f"changed {'; '.join(changed[:4])} — and {failure_reason(rec)}"
    said = rec.get("abstain") or []
    if said:
        what = "; ".join(f"{a.get('agent')}: {', '.join(a.get('not_understood') or []) or a.get('ask')}"
                         for a in said)
        return "abstain", f"nothing changed; did not understand — {what}"
    if _text_abstains(rec):
        return "abstain", "nothing changed; the answer says it did not act / did not understand"
    return "wrong", f"no abstention — {failure_reason(rec)}"


def worst(verdicts: list[tuple[str, str]]) -> tuple[str, str]:
    """The (verdict, reason) of repeats: the most severe (one wrong repeat makes the case wrong)."""
    return max(verdicts, key=lambda v: _SEVERITY.get(v[0], len(VERDICTS)), default=("wrong", "no run"))


def tally(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts and rates of each verdict."""
    n = len(records)
    counts = {v: sum(1 for r in records if r.get("verdict") == v) for v in VERDICTS}
    return {"cases": n, **counts, **{f"{v}_rate": round(counts[v] / n, 4) if n else 0.0 for v in VERDICTS}}
