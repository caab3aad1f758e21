"""The toolsmith agent: answers ad-hoc questions no fixed tool covers by finding or synthesizing a tool for them.

Why an agent of its own: the other agents know a few questions well; this one turns any read-only question that
one list call, filters and a projection can answer into a tested, registered tool (tools.toolsmith), reuses it the
next time (the registry), and only falls back to model-written code when a plan cannot say it. A tool that would
change the cluster is never run here: it becomes a proposal that needs approval on every use.

What "understood" means here (agents.decide's rule, in the toolsmith's own terms): the rules' plan accounts for every
word of the request (tools.toolsmith.extract's residue is empty), or a model wrote a plan or code that passed its
test. Anything else is an abstention (`data["abstain"]`: the kind and namespace read, the words not understood, and
a rephrasing to ask for); nothing is guessed. A request one of the other agents' fast paths fully understands
("delete the failed jobs in batch", "restart counts of the pods in shop") is theirs: it is answered there, so a
routing near-miss costs nothing.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from agents import fastpaths
from agents.context import AgentContext
from agents.coverage import Understanding, abstain
from agents.residue import without_told
from agents.state import AgentResult
from tools.k8s.client import KubeError, Mutation
from tools.toolsmith.synthesize import Outcome, Toolsmith

MAX_ROWS = 15
AGENT = "toolsmith"
ASK = ("Ask one question about one kind of object with conditions I know, for example 'which deployments in web "
       "have no readiness probe', 'count the secrets in web by type' or 'pods in shop that restarted more than 3 "
       "times'; or configure a model that can write the tool.")


def _home() -> Path:
    return Path(os.environ.get("KUBESAGE_HOME") or Path.home() / ".kubesage").expanduser()


def _cell(v: Any) -> str:
    if isinstance(v, list):
        v = ", ".join(str(x) for x in v)
    elif isinstance(v, dict):
        v = json.dumps(v, sort_keys=True)
    s = "-" if v is None or v == "" else str(v)
    return s if len(s) <= 60 else s[:57] + "..."


def table(rows: list[dict[str, Any]], limit: int = MAX_ROWS) -> str:
    """A small text table: one column per projected field, headed by the field's last segment."""
    if not rows:
        return ""
    cols = list(rows[0].keys())
    heads = [c.rsplit(".", 1)[-1].replace("[*]", "") if "(" not in c else c for c in cols]
    body = [[_cell(r.get(c)) for c in cols] for r in rows[:limit]]
    widths = [max(len(h), *(len(b[i]) for b in body)) for i, h in enumerate(heads)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(heads, widths, strict=True)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(b, widths, strict=True)).rstrip() for b in body]
    if len(rows) > limit:
        lines.append(f"... and {len(rows) - limit} more")
    return "\n".join(lines)


# "list them as namespace/name": how the person wants the rows written, not a condition on them. Taken out of the
# request before a tool is found or made (the tool is the same), and the rows are written that way.
_AS_NS_NAME = re.compile(r"[,;]?\s*\b(?:(?:and\s+)?(?:list|show|give|print|write)\s+(?:them|those|it|these)\s+)?"
                         r"as\s+(?:namespace|ns)/name\b", re.I)


def ns_name_rows(items: list[dict[str, Any]]) -> list[str] | None:
    """Each row as `namespace/name` (cluster-scoped objects by name), or None when the rows carry no name."""
    def pick(item: dict[str, Any], last: str) -> Any:
        return next((v for k, v in item.items() if k == last or k.endswith("." + last)), None)

    rows = [(pick(i, "namespace"), pick(i, "name")) for i in items]
    if not rows or any(n is None for _, n in rows):
        return None
    return [f"{ns}/{n}" if ns else str(n) for ns, n in rows]


def summarize(out: Outcome, as_ns_name: bool = False) -> str:
    """The answer's words: the numbers and names the tool returned."""
    v = out.value if isinstance(out.value, dict) else {}
    kind = v.get("kind") or (out.tool.plan or {}).get("kind", "object") if out.tool else "object"
    where = f" in {v['namespace']}" if v.get("namespace") else ""
    items = v.get("items") or []
    if "groups" in v:
        groups = ", ".join(f"{k}: {n}" for k, n in v["groups"].items()) or "none"
        return f"{kind} count by group{where}: {groups}."
    if "values" in v:
        return f"{len(v['values'])} distinct value(s){where}: {', '.join(map(str, v['values'])) or 'none'}."
    if "sum" in v:
        return f"Total over {v.get('count', len(items))} {kind}(s){where}: {v['sum']:g}."
    n = v.get("count", len(items))
    if not n:
        return f"No {kind} matches{where}."
    head = f"{n} {kind}(s) match{where}:"
    listed = ns_name_rows(items) if as_ns_name else None
    if listed is not None:
        return head + "\n" + "\n".join(listed[:MAX_ROWS]) + (f"\n... and {len(listed) - MAX_ROWS} more"
                                                             if len(listed) > MAX_ROWS else "")
    return head + "\n" + table(items)


def _model(ctx: AgentContext) -> Any:
    """The gateway for plans and code, when one can help: measured on the task set, the bundled 135M model solved
    none of the requests the rules decline and took up to three minutes each, so without a cloud tier the model
    steps are skipped unless KUBESAGE_TOOLSMITH_LOCAL_MODEL=1 asks for them."""
    import os

    from llm.config import cloud_configured

    if cloud_configured() or os.environ.get("KUBESAGE_TOOLSMITH_LOCAL_MODEL") == "1":
        return ctx.llm
    return None


def elsewhere(ctx: AgentContext) -> AgentResult | None:
    """The answer of the one fast path of another agent that understood the whole request, else None."""
    fastpaths.candidates(ctx, AGENT)  # loads the registry
    sure = []
    for agent in dict.fromkeys(fp.agent for fp in fastpaths.REGISTRY if fp.agent != AGENT):
        fp, u = fastpaths.best(ctx, agent)
        if fp is not None and u is not None:
            sure.append((fp, u))
    if len(sure) != 1:
        return None
    return fastpaths.answer(ctx, *sure[0])


def _not_understood(smith: Toolsmith, text: str, out: Outcome) -> AgentResult:
    """The abstention when no tool could be found or made: what the rules read (kind, namespace), the words they
    could not account for, and why each way of making a tool failed."""
    from tools.toolsmith import extract as rules

    try:
        ext = rules.extract(text, smith.catalog, smith.namespaces(), smith.nodes())
    except Exception:  # noqa: BLE001 - the abstention stands without the rules' reading
        ext = None
    slots = {"kind": ext.kind, "namespace": ext.namespace} if ext is not None else {}
    u = Understanding(AGENT, "query", {k: v for k, v in slots.items() if v}, unused=list(ext.residue) if ext else [])
    why = "; ".join(out.attempts) if out.attempts else "no tool could be found or made"
    res = abstain(AGENT, u, ASK, f"I could not build a tool for this ({why})")
    res.evidence = list(out.attempts)
    res.data.update({"path": out.path, "attempts": out.attempts})
    return res


def run(ctx: AgentContext) -> AgentResult:
    theirs = elsewhere(ctx)
    if theirs is not None:
        return theirs
    smith = Toolsmith(ctx.kube, _home(), llm=_model(ctx))
    text = without_told(_AS_NS_NAME.sub("", ctx.text))  # "… — we're banning those": a reason, not a filter
    try:
        out = smith.solve(text, ctx.namespace if ctx.namespace and ctx.namespace in text else None)
        if not out.ok:
            return _not_understood(smith, text, out)
    except KubeError as e:
        return AgentResult("toolsmith", f"I could not finish: {e.message}", [e.message])
    finally:
        smith.registry.close()
    rec = out.tool
    how = (f"reused tool {rec.name} (similarity {out.similarity:.2f})" if out.reused
           else f"new tool {rec.name} ({out.path}, tested and registered)")
    evidence = [how]
    if rec.plan:
        evidence.append("plan: " + json.dumps(rec.plan, sort_keys=True))
    else:
        evidence.append("code:\n" + rec.code)
    data = {"tool": rec.name, "path": out.path, "reused": out.reused, "similarity": out.similarity,
            "plan": rec.plan, "args": out.args, "value": out.value, "served_by": out.served_by,
            "attempts": out.attempts}
    if out.needs_approval:
        preview = rec.code if len(rec.code) < 2500 else rec.code[:2500] + "\n..."
        m = Mutation("action", "Tool", out.args.get("namespace") or "", rec.name,
                     body={"action": "toolsmith.run_registered",
                           "args": {"name": rec.name, "args": out.args, "home": str(_home())}},
                     why=f"run the synthesized tool {rec.name}, which changes the cluster "
                         f"({', '.join(rec.provenance.get('writes') or ['writes'])})",
                     diff=f"tool {rec.name} will run with {json.dumps(out.args)}:\n{preview}")
        return AgentResult("toolsmith", f"The tool {rec.name} changes the cluster, so it runs only with your "
                                        f"approval ({how}).", evidence, [m], data)
    return AgentResult("toolsmith", f"{summarize(out, text != ctx.text)}\n({how})", evidence, data=data)
