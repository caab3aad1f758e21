"""`kubesage iam ...`: verify, repair, compare, explain and synthesize AWS IAM policies (the `policies` room).

Exit codes follow one rule across subcommands: 0 the answer is "yes" (holds / repaired / equivalent), 1 the
answer is "no" (violations / no repair / different), 2 the input could not be used (message on stderr,
never a traceback).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from policies import PolicyError, parse_policy, parse_spec
from policies.parser import dumps_policy, policy_to_json


def register(subparsers: Any) -> None:
    iam = subparsers.add_parser("iam", help="verify, repair, compare and explain AWS IAM policies (Z3-proven)")
    sub = iam.add_subparsers(dest="iam_command", metavar="SUBCOMMAND")

    c = sub.add_parser("check", help="does POLICY decide every request of SPEC as expected? (exit 0 yes, 1 no)")
    c.add_argument("policy", help="policy JSON file ('-' for stdin)")
    c.add_argument("--spec", required=True, help='spec JSON: {"requests": [{"action", "resource", "expect"...}]}')
    c.add_argument("--json", action="store_true", help="machine-readable output")
    c.set_defaults(func=_check)

    r = sub.add_parser("repair", help="fewest edits making POLICY meet SPEC, proven no more permissive")
    r.add_argument("policy", help="policy JSON file ('-' for stdin)")
    r.add_argument("--spec", required=True, help="spec JSON file")
    r.add_argument("--out", help="write the repaired policy here")
    r.add_argument("--json", action="store_true", help="machine-readable output")
    r.add_argument("--time-budget", type=float, default=30.0, help="seconds to search before the exact patch")
    r.set_defaults(func=_repair)

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


def _read(path: str) -> Any:
    if path == "-":
        return sys.stdin.read()
    return Path(path)


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def _load(args: argparse.Namespace, *names: str):
    out = []
    for name in names:
        value = getattr(args, name)
        try:
            if name == "spec":
                out.append(parse_spec(_read(value)))
            else:
                out.append(parse_policy(_read(value)))
        except PolicyError as e:
            raise _Bad(f"{value}: {e}") from None
    return out


class _Bad(Exception):
    pass


def _emit(args: argparse.Namespace, data: dict, text: str) -> None:
    if getattr(args, "json", False):
        print(json.dumps(data, indent=2))
    else:
        print(text)


def _guard(fn):
    def run(args: argparse.Namespace, cfg: Any) -> int:
        try:
            return fn(args)
        except _Bad as e:
            return _fail(str(e))
        except PolicyError as e:   # e.g. a construct the prover cannot model
            return _fail(str(e))
        except TimeoutError as e:
            return _fail(f"the solver gave up: {e}")
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
    suspects = localize(policy, spec).suspects if result.violations else []
    if suspects:
        lines.append("most suspicious statements:")
        for s in suspects[:3]:
            lines.append(f"  {policy.statements[s.index].label(s.index)} (score {s.score}): " + "; ".join(s.reasons[:2]))
    if result.holds:
        agree = " (evaluator and Z3 agree on every request)" if result.proved_by_z3 else ""
        lines.append("the policy meets the spec" + agree)
    _emit(args, {"holds": result.holds, "violations": [v.describe() for v in result.violations],
                 "decisions": [d.value for d in result.decisions],
                 "suspects": [{"statement": s.index, "score": s.score, "reasons": s.reasons} for s in suspects]},
          "\n".join(lines))
    return 0 if result.holds else 1


@_guard
def _repair(args: argparse.Namespace) -> int:
    from policies.repair import repair

    policy, spec = _load(args, "policy", "spec")
    result = repair(policy, spec, time_budget=args.time_budget)
    if result.status == "holds":
        _emit(args, result.to_json(), "the policy already meets the spec; nothing to repair")
        return 0
    if result.status != "repaired" or result.policy is None:
        _emit(args, result.to_json(), "no repair found: " + result.message)
        return 1
    if args.out:
        Path(args.out).write_text(dumps_policy(result.policy) + "\n")
    lines = [f"repaired with {len(result.edits)} change(s) in {result.seconds:.2f} s "
             f"({result.candidates} candidates checked, {result.proofs} proofs):"]
    lines += ["  - " + e.text for e in result.edits]
    lines.append("violations fixed:")
    lines += ["  " + v.describe() for v in result.violations]
    lines.append("proof: " + (result.proof.summary() if result.proof else ""))
    if not args.out:
        lines += ["", dumps_policy(result.policy)]
    else:
        lines.append(f"wrote {args.out}")
    _emit(args, result.to_json(), "\n".join(lines))
    return 0


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
