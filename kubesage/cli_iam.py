"""`kubesage iam ...`: verify, repair, compare, explain and synthesize AWS IAM policies (the `policies` room).

Exit codes follow one rule across subcommands: 0 the answer is "yes" (holds / repaired / equivalent), 1 the
answer is "no" (violations / no repair / different / a CI gate fails / only a best-effort repair / the time
or memory budget ran out before an answer was proven: undecided fails closed), 2 the input could not be used
(message on stderr, never a traceback; a policy the AWS parser rejects gets its obvious syntax repair offered,
applied with `--fix-syntax`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from policies import PolicyError

# `policies` is imported when an `iam` command runs, never at registration: it loads Z3 (about half a second), which
# `kubesage --help` and every other command would pay for nothing (issue 18).


def dumps_policy(policy: Any) -> str:
    from policies.parser import dumps_policy as dumps

    return dumps(policy)


def policy_to_json(policy: Any) -> Any:
    from policies.parser import policy_to_json as to_json

    return to_json(policy)


def register(subparsers: Any) -> None:
    iam = subparsers.add_parser("iam", help="verify, repair, compare and explain AWS IAM policies (Z3-proven)")
    sub = iam.add_subparsers(dest="iam_command", metavar="SUBCOMMAND")

    c = sub.add_parser("check", help="does POLICY decide every request of SPEC as expected? (exit 0 yes, 1 no)")
    c.add_argument("policy", help="policy JSON file ('-' for stdin)")
    c.add_argument("--spec", required=True, help='spec JSON: {"requests": [{"action", "resource", "expect"...}]}')
    _common_args(c, 30.0)
    c.set_defaults(func=_check)

    r = sub.add_parser("repair", help="fewest edits making POLICY meet SPEC, proven no more permissive")
    r.add_argument("policy", help="policy JSON file ('-' for stdin)")
    r.add_argument("--spec", required=True, help="spec JSON file")
    r.add_argument("--out", help="write the repaired policy here")
    _common_args(r, 30.0)
    r.add_argument("--no-best-effort", action="store_true",
                   help="do not offer a repair that allows more than the original policy and the spec")
    r.set_defaults(func=_repair)

    g = sub.add_parser("check-no-new-access", help="CI gate: NEW grants nothing OLD did not (exit 0 pass, 1 fail)")
    g.add_argument("old", help="the deployed policy JSON file")
    g.add_argument("new", help="the proposed policy JSON file")
    _common_args(g, 60.0)
    g.set_defaults(func=_gate_new_access)

    g = sub.add_parser("check-access-not-granted",
                       help="CI gate: POLICY never allows ACTIONS on RESOURCES (exit 0 pass, 1 fail)")
    g.add_argument("policy", help="policy JSON file ('-' for stdin)")
    g.add_argument("--actions", nargs="+", required=True, metavar="ACTION", help="actions (wildcards allowed)")
    g.add_argument("--resources", nargs="+", metavar="ARN", help="resource ARNs or patterns (default: any)")
    _common_args(g, 60.0)
    g.set_defaults(func=_gate_not_granted)

    g = sub.add_parser("check-no-public-access",
                       help="CI gate: resource POLICY allows no outsider or anonymous caller (exit 0 pass, 1 fail)")
    g.add_argument("policy", help="resource policy JSON file ('-' for stdin)")
    _common_args(g, 60.0)
    g.set_defaults(func=_gate_public)

    _register_account(sub)

    d = sub.add_parser("diff", help="requests one policy allows and the other does not (exit 0 equivalent)")
    d.add_argument("a", help="first policy JSON file")
    d.add_argument("b", help="second policy JSON file")
    d.add_argument("--limit", type=int, default=5, help="examples per direction")
    d.add_argument("--json", action="store_true", help="machine-readable output")
    d.set_defaults(func=_diff)

    e = sub.add_parser("explain", help="what POLICY allows, as request patterns, with findings")
    e.add_argument("policy", help="policy JSON file ('-' for stdin)")
    e.add_argument("--json", action="store_true", help="machine-readable output")
    e.set_defaults(func=_explain)

    s = sub.add_parser("synthesize", help="least-permissive policy meeting SPEC, proven")
    s.add_argument("--spec", required=True, help="spec JSON file")
    s.add_argument("--out", help="write the policy here")
    s.add_argument("--json", action="store_true", help="machine-readable output")
    s.set_defaults(func=_synthesize)
    iam.set_defaults(func=lambda args, cfg: (iam.print_help(), 2)[1])


def _register_account(sub: Any) -> None:
    """Account subcommands: read an account into a snapshot, then ask proven questions about it."""
    a = sub.add_parser("account-read", help="read an AWS account (boto3; moto with --endpoint-url) into a snapshot")
    a.add_argument("--out", required=True, help="snapshot JSON file to write")
    a.add_argument("--endpoint-url", help="AWS endpoint (e.g. a moto server)")
    a.add_argument("--profile", help="AWS profile")
    a.add_argument("--region", default="us-east-1")
    a.add_argument("--scp", nargs="*", default=[], metavar="FILE", help="SCP documents (member accounts cannot read them)")
    a.add_argument("--org-id", help="the account's organization id (for aws:PrincipalOrgID)")
    a.set_defaults(func=_account_read)

    w = sub.add_parser("who-can", help="who in the account can do ACTION on RESOURCE (each answer proven)")
    w.add_argument("snapshot", help="account snapshot JSON (from account-read)")
    w.add_argument("--action", required=True)
    w.add_argument("--resource", required=True)
    _common_args(w, 120.0)
    w.set_defaults(func=_who_can)

    o = sub.add_parser("outside-access", help="can anyone outside the account (or org) act on RESOURCE? (0 no, 1 yes)")
    o.add_argument("snapshot", help="account snapshot JSON")
    o.add_argument("--resource", required=True)
    o.add_argument("--action", help="one action (default: any)")
    o.add_argument("--trusted-account", nargs="*", default=None, metavar="ID", help="default: the snapshot's account")
    o.add_argument("--trusted-org", help="also trust this organization id")
    _common_args(o, 60.0)
    o.set_defaults(func=_outside)

    n = sub.add_parser("new-access", help="does NEW, in place of policy NAME, grant anyone anything new? (0 no, 1 yes)")
    n.add_argument("snapshot", help="account snapshot JSON")
    n.add_argument("new", help="the proposed policy JSON file")
    n.add_argument("--policy-name", required=True, help="the policy it replaces, as the snapshot names it")
    _common_args(n, 120.0)
    n.set_defaults(func=_new_access)

    u = sub.add_parser("unused", help="actions PRINCIPAL may do on RESOURCE but never used, and a least-privilege policy")
    u.add_argument("snapshot", help="account snapshot JSON")
    u.add_argument("--principal", required=True, help="user or role name or ARN")
    u.add_argument("--resource", required=True)
    u.add_argument("--usage", required=True, help="CloudTrail log file ({\"Records\": [...]})")
    u.add_argument("--out", help="write the proposed policy here")
    _common_args(u, 60.0)
    u.set_defaults(func=_unused)


def _common_args(p: argparse.ArgumentParser, seconds: float) -> None:
    """`--json` and the budget flags every question and repair takes."""
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--time-budget", type=float, default=seconds, metavar="SECONDS",
                   help=f"stop within this many seconds, saying what was and was not proven (default {seconds:g})")
    p.add_argument("--memory-mb", type=int, default=2048, metavar="MB",
                   help="stop when the process's peak memory passes this (Z3 included; default 2048)")
    p.add_argument("--fix-syntax", action="store_true",
                   help="apply the obvious repair of a policy the parser rejects (it is shown otherwise)")


def _read(path: str) -> Any:
    if path == "-":
        return sys.stdin.read()
    return Path(path)


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def _load(args: argparse.Namespace, *names: str):
    from policies import PolicyError, parse_policy, parse_spec

    out = []
    for name in names:
        value = getattr(args, name)
        try:
            if name == "spec":
                out.append(parse_spec(_read(value)))
                continue
            text = _read(value)
            if isinstance(text, Path):
                text = text.read_text(encoding="utf-8")
            out.append(parse_policy(text))
        except PolicyError as e:
            if name == "spec":
                raise _Bad(f"{value}: {e}") from None
            out.append(_syntax_fixed(args, value, text, e))
        except UnicodeDecodeError:
            raise _Bad(f"{value}: policy file is not UTF-8 text") from None
    return out


def _syntax_fixed(args: argparse.Namespace, name: str, text: str, error: PolicyError):
    """The policy with its obvious syntax repair when `--fix-syntax` asks for it; else the error, with the
    repair offered when there is one."""
    from policies.syntax import suggest_fix

    fix = suggest_fix(text)
    if fix is None:
        raise _Bad(f"{name}: {error}")
    changes = "\n".join("  - " + c for c in fix.changes)
    if not getattr(args, "fix_syntax", False):
        raise _Bad(f"{name}: {error}\nthe AWS parser rejects this policy too; an obvious syntax repair:\n"
                   f"{changes}\nrerun with --fix-syntax to use it")
    print(f"{name}: fixed the syntax:\n{changes}", file=sys.stderr)
    return fix.policy


class _Bad(Exception):
    pass


def _emit(args: argparse.Namespace, data: dict, text: str) -> None:
    if getattr(args, "json", False):
        print(json.dumps(data, indent=2))
    else:
        print(text)


def _end_at_once(rc: int) -> int:
    """When the budget ran out in the `kubesage` program itself, end the process now: freeing the millions
    of solver terms a large policy leaves behind takes seconds past the budget. (Called in-process, e.g. by
    tests, it just returns.)"""
    if Path(sys.argv[0]).name in ("kubesage", "cli.py", "__main__.py"):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(rc)
    return rc


def _guard(fn):
    def run(args: argparse.Namespace, cfg: Any) -> int:
        from policies import PolicyError
        from policies.budget import BudgetExceeded, budget

        try:
            with budget(getattr(args, "time_budget", None), getattr(args, "memory_mb", None)) as b:
                rc = fn(args)
            if b is not None and b.exhausted:
                return _end_at_once(rc)
            return rc
        except _Bad as e:
            return _fail(str(e))
        except PolicyError as e:   # e.g. a construct the prover cannot model
            return _fail(str(e))
        except TimeoutError as e:
            return _fail(f"the solver gave up: {e}")
        except BudgetExceeded as e:
            print(f"undecided: {e} (--time-budget {args.time_budget:g} s, --memory-mb {args.memory_mb}); "
                  "nothing was proven", file=sys.stderr)
            return _end_at_once(1)
        except OSError as e:
            return _fail(str(e))
        except Exception as e:  # noqa: BLE001 - a bug must still reach the person as one line
            return _fail(f"internal error ({type(e).__name__}: {e}); please report it with the input files")
    return run


@_guard
def _check(args: argparse.Namespace) -> int:
    from policies.verify import check

    policy, spec = _load(args, "policy", "spec")
    from policies.localize import localize

    result = check(policy, spec)
    lines = [f"{len(spec.cases)} requests, {len(result.violations)} violation(s)"]
    lines += ["  " + v.describe() for v in result.violations]
    suspects = localize(policy, spec).suspects if result.violations and not result.note else []
    if suspects:
        lines.append("most suspicious statements:")
        for s in suspects[:3]:
            lines.append(f"  {policy.statements[s.index].label(s.index)} (score {s.score}): " + "; ".join(s.reasons[:2]))
    if result.holds:
        agree = " (evaluator and Z3 agree on every request)" if result.proved_by_z3 else ""
        lines.append("the policy meets the spec" + agree)
    if result.note:
        lines.append(result.note)
    _emit(args, {"holds": result.holds, "cross_checked_by_z3": result.proved_by_z3, "note": result.note,
                 "violations": [v.describe() for v in result.violations],
                 "decisions": [d.value for d in result.decisions],
                 "suspects": [{"statement": s.index, "score": s.score, "reasons": s.reasons} for s in suspects]},
          "\n".join(lines))
    return 0 if result.holds else 1


@_guard
def _repair(args: argparse.Namespace) -> int:
    from policies.repair import repair

    policy, spec = _load(args, "policy", "spec")
    # repair keeps its own budget (it reports what was proven when it runs out) inside the CLI's
    result = repair(policy, spec, time_budget=args.time_budget, memory_mb=args.memory_mb,
                    best_effort=not args.no_best_effort)
    wrote = _write_result(args, result)
    if result.status == "holds":
        _emit(args, result.to_json(), "the policy already meets the spec; nothing to repair" + wrote)
        return 0
    if result.status == "best-effort" and result.policy is not None:
        lines = [result.message.split("; best effort:")[0],
                 f"best effort ({len(result.edits)} change(s), NOT within the original policy and the spec):"]
        lines += ["  - " + e.text for e in result.edits]
        lines.append(result.extra.summary() if result.extra else "")
        if not args.out:
            lines += ["", dumps_policy(result.policy)]
        _emit(args, result.to_json(), "\n".join(lines) + wrote)
        return 1
    if result.status != "repaired" or result.policy is None:
        _emit(args, result.to_json(), ("no repair found: " if result.status == "failed" else "")
              + result.message + wrote)
        return 1
    lines = [f"repaired with {len(result.edits)} change(s) in {result.seconds:.2f} s "
             f"({result.candidates} candidates checked, {result.proofs} proofs):"]
    lines += ["  - " + e.text for e in result.edits]
    lines.append("violations fixed:")
    lines += ["  " + v.describe() for v in result.violations]
    lines.append("proof: " + (result.proof.summary() if result.proof else ""))
    if not args.out:
        lines += ["", dumps_policy(result.policy)]
    _emit(args, result.to_json(), "\n".join(lines) + wrote)
    return 0


def _write_result(args: argparse.Namespace, result: Any) -> str:
    """`--out` always receives the result: the repaired policy, the unchanged one when it already meets the
    spec, or the best effort (exit 1 says it is not proven); nothing when there is no result."""
    if not args.out:
        return ""
    if result.status in ("holds", "repaired", "best-effort") and result.policy is not None:
        Path(args.out).write_text(dumps_policy(result.policy) + "\n")
        return f"\nwrote {args.out}"
    return f"\nnothing written to {args.out} (no result)"


def _gate(args: argparse.Namespace, outcome: Any) -> int:
    _emit(args, outcome.to_json(), outcome.text())
    return outcome.exit_code


@_guard
def _gate_new_access(args: argparse.Namespace) -> int:
    from policies.checks import check_no_new_access

    old, new = _load(args, "old", "new")
    return _gate(args, check_no_new_access(old, new))


@_guard
def _gate_not_granted(args: argparse.Namespace) -> int:
    from policies.checks import check_access_not_granted

    (policy,) = _load(args, "policy")
    return _gate(args, check_access_not_granted(policy, args.actions, args.resources))


@_guard
def _gate_public(args: argparse.Namespace) -> int:
    from policies.checks import check_no_public_access

    (policy,) = _load(args, "policy")
    return _gate(args, check_no_public_access(policy))


@_guard
def _diff(args: argparse.Namespace) -> int:
    from policies.verify import difference

    a, b = _load(args, "a", "b")
    d = difference(a, b, limit=args.limit)
    data = {"equivalent": d.equivalent, "only_a": [r.to_json() for r in d.only_a],
            "only_b": [r.to_json() for r in d.only_b]}
    if d.equivalent:
        text = "equivalent: Z3 proved that both policies allow exactly the same requests"
    else:
        lines = ["different:"]
        if d.only_a:
            lines.append(f"  allowed by {args.a} only:")
            lines += ["    " + r.describe() for r in d.only_a]
        elif d.complete_a:
            lines.append(f"  {args.a} allows nothing that {args.b} does not (proved)")
        if d.only_b:
            lines.append(f"  allowed by {args.b} only:")
            lines += ["    " + r.describe() for r in d.only_b]
        elif d.complete_b:
            lines.append(f"  {args.b} allows nothing that {args.a} does not (proved)")
        text = "\n".join(lines)
    _emit(args, data, text)
    return 0 if d.equivalent else 1


@_guard
def _explain(args: argparse.Namespace) -> int:
    from policies.summary import summarize

    (policy,) = _load(args, "policy")
    s = summarize(policy)
    _emit(args, s.to_json(), s.text(policy))
    return 0


@_guard
def _synthesize(args: argparse.Namespace) -> int:
    from policies.synthesize import synthesize

    (spec,) = _load(args, "spec")
    result = synthesize(spec)
    if not result.ok or result.policy is None:
        _emit(args, result.to_json(), "no policy: " + result.message)
        return 1
    if args.out:
        Path(args.out).write_text(dumps_policy(result.policy) + "\n")
    text = (dumps_policy(result.policy) if not args.out else f"wrote {args.out}") + "\nproof: " + result.proof.summary()  # type: ignore[union-attr]
    _emit(args, {**result.to_json(), "policy": policy_to_json(result.policy)}, text)
    return 0


def _brief(request: Any) -> str:
    """A request described without the identity keys AWS sets from the principal (the JSON keeps them)."""
    from policies.account import is_identity_key
    from policies.model import Request

    ctx = {request.key_names.get(k, k): v for k, v in request.context.items() if not is_identity_key(k)}
    return Request.make(request.action, request.resource, request.principal, ctx).describe()


def _snapshot(path: str):
    from policies.account import account_from_snapshot
    from policies.parser import load_json

    doc = load_json(Path(path), "account snapshot")
    if not isinstance(doc, dict) or "account_id" not in doc:
        raise _Bad(f"{path}: not an account snapshot (write one with `kubesage iam account-read`)")
    try:
        return account_from_snapshot(doc)
    except (KeyError, TypeError) as e:
        raise _Bad(f"{path}: malformed account snapshot ({e})") from None


def _account_read(args: argparse.Namespace, cfg: Any) -> int:
    try:
        import boto3
        from botocore.exceptions import BotoCoreError, ClientError

        from tools.iam_account import read_account

        session = boto3.Session(profile_name=args.profile, region_name=args.region)
        snap = read_account(session, scp_files=args.scp, org_id=args.org_id, endpoint_url=args.endpoint_url)
    except (BotoCoreError, ClientError, OSError, ValueError) as e:
        return _fail(f"cannot read the account: {e}")
    Path(args.out).write_text(json.dumps(snap, indent=2) + "\n")
    print(f"account {snap['account_id']}: {len(snap['principals'])} principals, {len(snap['resources'])} resources "
          f"({sum(1 for r in snap['resources'] if r['policy'])} with a policy), {len(snap['scps'])} SCPs; wrote {args.out}")
    return 0


@_guard
def _who_can(args: argparse.Namespace) -> int:
    from policies.account_questions import who_can

    account = _snapshot(args.snapshot)
    answers = who_can(account, args.action, args.resource)
    yes = [a for a in answers if a.allowed]
    lines = [f"{len(yes)} of {len(answers)} principals can {args.action} on {args.resource}:"]
    for a in yes:
        lines.append(f"  {a.principal} — {a.proof}; e.g. {_brief(a.request) if a.request else ''}")
        lines += ["      " + r for r in a.responsible]
    lines.append(f"the other {len(answers) - len(yes)} cannot (each proven: no context allows it)")
    _emit(args, {"action": args.action, "resource": args.resource, "answers": [a.to_json() for a in answers]},
          "\n".join(lines))
    return 0


@_guard
def _outside(args: argparse.Namespace) -> int:
    from policies.account_questions import outside_access

    account = _snapshot(args.snapshot)
    return _gate(args, outside_access(account, args.resource, args.action, args.trusted_account, args.trusted_org))


@_guard
def _new_access(args: argparse.Namespace) -> int:
    from policies.account_questions import new_access

    account = _snapshot(args.snapshot)
    (new,) = _load(args, "new")
    answers = new_access(account, args.policy_name, new)
    if not answers:
        raise _Bad(f"no principal of the snapshot has a policy named {args.policy_name!r}")
    grown = [a for a in answers if a.allowed]
    lines = [f"{len(grown)} of {len(answers)} principals with {args.policy_name} would gain access:"]
    for a in answers:
        lines.append(f"  {a.principal}: " + (f"NEW — {_brief(a.request)}" if a.allowed and a.request else a.proof))
    _emit(args, {"policy_name": args.policy_name, "answers": [a.to_json() for a in answers]}, "\n".join(lines))
    return 1 if grown else 0


@_guard
def _unused(args: argparse.Namespace) -> int:
    from policies.account_questions import unused_actions
    from policies.parser import load_json
    from policies.usage import used_actions

    account = _snapshot(args.snapshot)
    try:
        principal = account.principal(args.principal)
    except KeyError as e:
        raise _Bad(str(e.args[0])) from None
    used = used_actions(load_json(Path(args.usage), "usage file"), principal.arn, args.resource)
    result = unused_actions(account, principal, args.resource, used)
    if args.out:
        Path(args.out).write_text(dumps_policy(result.proposal) + "\n")
    lines = [f"{principal.arn} used on {args.resource}: {', '.join(result.used) or 'nothing'}",
             "allowed but never used" + (" (complete, proven by Z3):" if result.complete else " (at least):")]
    lines += ["  " + u for u in result.unused] or ["  nothing"]
    lines += ["least-privilege proposal: " + result.proposal_proof,
              f"wrote {args.out}" if args.out else dumps_policy(result.proposal)]
    _emit(args, result.to_json(), "\n".join(lines))
    return 0
