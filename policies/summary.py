"""Summary: what a policy allows, as request patterns derived from the model (not free prose).

For each Allow statement: its actions, resources, principals and conditions as a pattern, the Deny
statements that carve into it (found with Z3: the two can apply to one request), and whether anything of it
survives at all (Z3: some request it allows is not denied). Statements that never allow anything, and
Allow statements wholly covered by another, are reported as findings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import z3

from policies.encoding import Encoder, SymbolicRequest, Universe
from policies.model import Policy, Statement
from policies.verify import solve


@dataclass
class Pattern:
    statement: int
    sid: str | None
    actions: list[str]
    not_action: bool
    resources: list[str] | None
    not_resource: bool
    principals: list[str] | None
    not_principal: bool
    conditions: list[str]
    except_: list[int] = field(default_factory=list)       # Deny statements that carve into it
    effective: bool = True                                 # some request it allows survives the Denies
    covered_by: int | None = None                          # another Allow allows everything it does

    def text(self, policy: Policy) -> str:
        acts = ("any action except " if self.not_action else "") + ", ".join(self.actions)
        if self.resources is None:
            res = "any resource"
        else:
            res = ("any resource except " if self.not_resource else "") + ", ".join(self.resources)
        out = f"ALLOW {acts} ON {res}"
        if self.principals is not None:
            out += (" FOR anyone except " if self.not_principal else " FOR ") + ", ".join(self.principals)
        if self.conditions:
            out += " WHEN " + " AND ".join(self.conditions)
        for d in self.except_:
            out += f"\n    EXCEPT where {policy.statements[d].label(d)} denies: " + _deny_text(policy.statements[d])
        if not self.effective:
            out += "\n    (allows nothing: every request it matches is denied)"
        elif self.covered_by is not None:
            out += f"\n    (redundant: {policy.statements[self.covered_by].label(self.covered_by)} allows all of it)"
        return out

    def to_json(self) -> dict[str, Any]:
        return {"statement": self.statement, "sid": self.sid, "actions": self.actions, "not_action": self.not_action,
                "resources": self.resources, "not_resource": self.not_resource, "principals": self.principals,
                "not_principal": self.not_principal, "conditions": self.conditions, "except": self.except_,
                "effective": self.effective, "covered_by": self.covered_by}


def _deny_text(st: Statement) -> str:
    acts = ("any action except " if st.not_action else "") + ", ".join(st.actions)
    res = "any resource" if st.resources is None else (
        ("any resource except " if st.not_resource else "") + ", ".join(st.resources))
    out = f"{acts} on {res}"
    if st.conditions:
        out += " when " + " and ".join(c.describe() for c in st.conditions)
    return out


@dataclass
class Summary:
    patterns: list[Pattern]
    denies: list[int]
    findings: list[str]

    def text(self, policy: Policy) -> str:
        lines = [p.text(policy) for p in self.patterns if p.effective] or ["ALLOW nothing"]
        for p in self.patterns:
            if not p.effective:
                lines.append(p.text(policy))
        if self.findings:
            lines.append("")
            lines += [f"finding: {f}" for f in self.findings]
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {"allows": [p.to_json() for p in self.patterns], "denies": self.denies, "findings": self.findings}


def summarize(policy: Policy, timeout_ms: int = 10_000) -> Summary:
    universe = Universe.of([policy])
    req = SymbolicRequest(universe)
    enc = Encoder(req)
    domain = req.domain()
    forms = [enc.statement(s, policy) for s in policy.statements]
    deny_idx = [i for i, s in enumerate(policy.statements) if not s.allow]
    any_deny = z3.Or([forms[i] for i in deny_idx]) if deny_idx else z3.BoolVal(False)
    patterns: list[Pattern] = []
    findings: list[str] = []
    for i, st in enumerate(policy.statements):
        if not st.allow:
            continue
        pr = None
        if st.principal is not None:
            pr = [v if t in ("AWS", "*") else f"{t}:{v}" for t, v in st.principal.entries]
        pat = Pattern(i, st.sid, list(st.actions), st.not_action, list(st.resources) if st.resources is not None else None,
                      st.not_resource, pr, st.not_principal, [c.describe() for c in st.conditions])
        for d in deny_idx:
            if solve(domain + [forms[i], forms[d]], timeout_ms)[0] == z3.sat:
                pat.except_.append(d)
        pat.effective = solve(domain + [forms[i], z3.Not(any_deny)], timeout_ms)[0] == z3.sat
        if not pat.effective:
            findings.append(f"{st.label(i)} allows nothing (it is empty or always denied)")
        patterns.append(pat)
    for p in patterns:
        if not p.effective:
            continue
        for q in patterns:
            if q is p or not q.effective or q.covered_by == p.statement:
                continue
            if solve(domain + [forms[p.statement], z3.Not(forms[q.statement])], timeout_ms)[0] == z3.unsat:
                p.covered_by = q.statement
                findings.append(f"{policy.statements[p.statement].label(p.statement)} is redundant: "
                                f"{policy.statements[q.statement].label(q.statement)} allows everything it does")
                break
    for d in deny_idx:
        if solve(domain + [forms[d]], timeout_ms)[0] == z3.unsat:
            findings.append(f"{policy.statements[d].label(d)} never applies")
    wild = [i for i, s in enumerate(policy.statements) if s.allow and not s.not_action and "*" in s.actions
            and (s.resources is None or "*" in s.resources) and not s.conditions]
    for i in wild:
        findings.append(f"{policy.statements[i].label(i)} allows every action on every resource")
    return Summary(patterns, deny_idx, findings)
