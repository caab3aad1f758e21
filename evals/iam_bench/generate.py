"""The faulty-policy benchmark: realistic policies (`templates.py`), one mutation each, and a spec of 5,
10 or 15 requests whose expectations come from the original (un-mutated) policy.

How an item is made (seeded, so the set is the same on every machine):
1. pick a template and a mutation operator (below) and apply it to one statement;
2. draw 400 requests from the template's request pool and decide each with the original and the mutant;
   a mutant that decides none of them differently is discarded (the mutation did not matter);
3. the spec takes 1 to n/3 requests the two decide differently (the fault's witnesses) and fills up to n
   with others, half expected allow where possible; expectations are the original policy's decisions.

Mutation operators (the faults people make): widen an action to `svc:*`/`svc:Prefix*`/`*`; swap or
misspell an action; drop an action; widen a resource (`bucket/*`, `*`, account `*`); break a resource
(drop `/*`, wrong bucket/account/region); drop a condition; change a condition value; negate an operator;
toggle `IfExists`; swap `ForAllValues`/`ForAnyValue`; flip an Effect; drop a statement; swap Action/
NotAction or Resource/NotResource; open a Principal; widen a Deny's action.

`python -m evals.iam_bench.generate --out DIR` writes the items as JSON files.
"""

from __future__ import annotations

import argparse
import copy
import json
import random
from pathlib import Path
from typing import Any

from evals.iam_bench.templates import TEMPLATES
from policies.evaluator import decide
from policies.parser import parse_policy, parse_request

SEED = 20240601
SIZES = (5, 10, 15)

NEGATIONS = {"StringEquals": "StringNotEquals", "StringNotEquals": "StringEquals", "StringLike": "StringNotLike",
             "StringNotLike": "StringLike", "ArnEquals": "ArnNotEquals", "ArnLike": "ArnNotLike",
             "IpAddress": "NotIpAddress", "NotIpAddress": "IpAddress", "NumericLessThan": "NumericGreaterThanEquals",
             "DateGreaterThan": "DateLessThanEquals", "DateLessThan": "DateGreaterThanEquals",
             "StringNotEqualsIfExists": "StringEqualsIfExists", "StringEqualsIfExists": "StringNotEqualsIfExists"}


def _listify(v: Any) -> list:
    return list(v) if isinstance(v, list) else [v]


def _mutations(rng: random.Random, policy: dict, pool: dict) -> list[tuple[str, dict]]:
    """All applicable single mutations (name, mutant) of a policy, in a seeded order."""
    out: list[tuple[str, dict]] = []
    sts = policy["Statement"]
    for i, st in enumerate(sts):
        def mut(name: str, fn, i: int = i) -> None:
            m = copy.deepcopy(policy)
            if fn(m["Statement"][i], m) is not False:
                out.append((f"{name}@{i}", m))

        akey = "Action" if "Action" in st else "NotAction"
        acts = _listify(st[akey])
        for j, a in enumerate(acts):
            svc, name = a.split(":", 1) if ":" in a else ("*", a)

            def widen(s, m, j=j, svc=svc, name=name, akey=akey):
                v = _listify(s[akey])
                v[j] = rng.choice([f"{svc}:*", f"{svc}:{name[:3]}*", "*"]) if svc != "*" else "*"
                s[akey] = v

            def swap(s, m, j=j, svc=svc, a=a, akey=akey):
                others = [x for x in pool["actions"] if x.split(":")[0] == svc and x not in _listify(s[akey])]
                if not others:
                    return False
                v = _listify(s[akey])
                v[j] = rng.choice(others)
                s[akey] = v

            def typo(s, m, j=j, a=a, akey=akey):
                if "*" in a or len(a.split(":", 1)[1]) < 4:
                    return False
                v = _listify(s[akey])
                k = rng.randrange(len(a) - len(a.split(":", 1)[1]), len(a))
                v[j] = a[:k] + a[k + 1:]
                s[akey] = v

            def drop(s, m, j=j, akey=akey):
                v = _listify(s[akey])
                if len(v) < 2:
                    return False
                del v[j]
                s[akey] = v
            mut("action-wildcard", widen)
            mut("action-swap", swap)
            mut("action-typo", typo)
            mut("action-drop", drop)
        if "Resource" in st or "NotResource" in st:
            rkey = "Resource" if "Resource" in st else "NotResource"
            for j, r in enumerate(_listify(st[rkey])):
                def widen_r(s, m, j=j, r=r, rkey=rkey):
                    v = _listify(s[rkey])
                    parts = r.split(":", 5)
                    if len(parts) < 6:
                        return False
                    res = parts[5]
                    options = ["*", ":".join(parts[:5] + ["*"])]
                    if "/" in res:
                        options.append(":".join(parts[:5] + [res.split("/")[0] + "/*"]))
                    if parts[4]:
                        options.append(":".join(parts[:4] + ["*", res]))
                    v[j] = rng.choice([o for o in options if o != r] or ["*"])
                    s[rkey] = v

                def break_r(s, m, j=j, r=r, rkey=rkey):
                    v = _listify(s[rkey])
                    if r == "*":
                        return False
                    options = []
                    if r.endswith("/*"):
                        options.append(r[:-2])
                    if "acme-" in r:
                        options.append(r.replace("acme-", "acme-prod-", 1))
                    if "111122223333" in r:
                        options.append(r.replace("111122223333", "111122223334"))
                    if "us-east-1" in r:
                        options.append(r.replace("us-east-1", "us-east-2"))
                    if not options:
                        return False
                    v[j] = rng.choice(options)
                    s[rkey] = v
                mut("resource-widen", widen_r)
                mut("resource-break", break_r)

            def flip_not(s, m, rkey=rkey):
                other = "NotResource" if rkey == "Resource" else "Resource"
                s[other] = s.pop(rkey)
            mut("notresource-swap", flip_not)

        def flip_not_action(s, m, akey=akey):
            other = "NotAction" if akey == "Action" else "Action"
            s[other] = s.pop(akey)
        mut("notaction-swap", flip_not_action)
        for op, block in st.get("Condition", {}).items():
            for key, val in block.items():
                def drop_c(s, m, op=op, key=key):
                    del s["Condition"][op][key]
                    if not s["Condition"][op]:
                        del s["Condition"][op]
                    if not s["Condition"]:
                        del s["Condition"]

                def change_c(s, m, op=op, key=key, val=val):
                    choices = [v for v in pool["context"].get(key, []) if v is not None and v != val]
                    if "Ip" in op:
                        choices = ["10.0.0.0/8", "192.0.2.0/24", "203.0.113.0/25"]
                    elif "Date" in op:
                        choices = ["2024-02-01T00:00:00Z", "2023-01-01T00:00:00Z", "2025-01-01T00:00:00Z"]
                    elif "Numeric" in op:
                        choices = ["60", "86400"]
                    elif op == "Bool" or op == "Null":
                        choices = ["false" if str(val).lower() == "true" else "true"]
                    choices = [c for c in choices if c != val and not isinstance(c, list)]
                    if not choices:
                        return False
                    s["Condition"][op][key] = rng.choice(choices)

                def negate_c(s, m, op=op, key=key):
                    base = op.split(":")[-1]
                    neg = NEGATIONS.get(base)
                    if not neg:
                        return False
                    new = op[: len(op) - len(base)] + neg
                    if new in s["Condition"] and key in s["Condition"][new]:
                        return False
                    v = s["Condition"][op].pop(key)
                    if not s["Condition"][op]:
                        del s["Condition"][op]
                    s["Condition"].setdefault(new, {})[key] = v

                def ifexists_c(s, m, op=op, key=key):
                    if op == "Null":
                        return False
                    new = op[:-8] if op.endswith("IfExists") else op + "IfExists"
                    if new in s["Condition"] and key in s["Condition"][new]:
                        return False
                    v = s["Condition"][op].pop(key)
                    if not s["Condition"][op]:
                        del s["Condition"][op]
                    s["Condition"].setdefault(new, {})[key] = v

                def setop_c(s, m, op=op, key=key):
                    if not op.startswith("For"):
                        return False
                    new = op.replace("ForAllValues", "ForAnyValue") if op.startswith("ForAll") else \
                        op.replace("ForAnyValue", "ForAllValues")
                    v = s["Condition"][op].pop(key)
                    if not s["Condition"][op]:
                        del s["Condition"][op]
                    s["Condition"].setdefault(new, {})[key] = v
                mut("condition-drop", drop_c)
                mut("condition-value", change_c)
                mut("condition-negate", negate_c)
                mut("condition-ifexists", ifexists_c)
                mut("condition-setop", setop_c)

        def flip_effect(s, m):
            s["Effect"] = "Deny" if s["Effect"] == "Allow" else "Allow"

        def drop_statement(s, m):
            if len(m["Statement"]) < 2:
                return False
            m["Statement"].remove(s)

        def open_principal(s, m):
            if "Principal" not in s or s["Principal"] == "*":
                return False
            s["Principal"] = "*"

        def widen_deny(s, m):
            if s["Effect"] != "Deny" or "Action" not in s:
                return False
            first = _listify(s["Action"])[0]
            s["Action"] = first.split(":")[0] + ":*" if ":" in first else "*"
        mut("effect-flip", flip_effect)
        mut("statement-drop", drop_statement)
        mut("principal-open", open_principal)
        mut("deny-widen", widen_deny)
    rng.shuffle(out)
    return out


def _pool_request(rng: random.Random, pool: dict) -> dict:
    req = {"action": rng.choice(pool["actions"]), "resource": rng.choice(pool["resources"])}
    if pool.get("principals"):
        req["principal"] = rng.choice(pool["principals"])
    ctx = {}
    for key, values in pool.get("context", {}).items():
        v = rng.choice(values)
        if v is not None:
            ctx[key] = v
    if ctx:
        req["context"] = ctx
    return req


def make_item(rng: random.Random, template: dict, size: int, index: int) -> dict | None:
    truth = parse_policy(template["policy"])
    pool = template["pool"]
    requests = []
    seen = set()
    for _ in range(400):
        r = _pool_request(rng, pool)
        key = json.dumps(r, sort_keys=True)
        if key not in seen:
            seen.add(key)
            requests.append(r)
    parsed = [parse_request(r) for r in requests]
    truth_dec = [decide(truth, p).allowed for p in parsed]
    for name, mutant_doc in _mutations(rng, template["policy"], pool):
        try:
            mutant = parse_policy(mutant_doc)
        except Exception:  # noqa: BLE001 - a mutation that breaks the grammar is skipped
            continue
        diff = [i for i, p in enumerate(parsed) if decide(mutant, p).allowed != truth_dec[i]]
        if not diff:
            continue
        k = rng.randint(1, max(1, size // 3))
        chosen = rng.sample(diff, k=min(k, len(diff)))
        rest = [i for i in range(len(parsed)) if i not in chosen]
        allow = [i for i in rest if truth_dec[i]]
        deny = [i for i in rest if not truth_dec[i]]
        rng.shuffle(allow)
        rng.shuffle(deny)
        need = size - len(chosen)
        half = min(len(allow), need // 2)
        picked = chosen + allow[:half] + deny[: need - half]
        if len(picked) < size:
            picked += allow[half: half + size - len(picked)]
        rng.shuffle(picked)
        spec = {"requests": [{**requests[i], "expect": "allow" if truth_dec[i] else "deny"} for i in picked]}
        return {"id": f"{template['name']}-{size}-{index:03d}", "template": template["name"], "mutation": name,
                "size": size, "policy": mutant_doc, "spec": spec, "original": template["policy"]}
    return None


def generate(count_per_size: int = 80, seed: int = SEED) -> list[dict]:
    """The benchmark: `count_per_size` items for each spec size (5, 10, 15)."""
    rng = random.Random(seed)
    items = []
    for size in SIZES:
        n = 0
        attempts = 0
        while n < count_per_size and attempts < count_per_size * 10:
            attempts += 1
            template = TEMPLATES[(n + attempts) % len(TEMPLATES)]
            item = make_item(rng, template, size, n)
            if item is not None:
                items.append(item)
                n += 1
    return items


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="directory to write the items to")
    ap.add_argument("--per-size", type=int, default=80)
    ap.add_argument("--seed", type=int, default=SEED)
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for item in generate(args.per_size, args.seed):
        (out / f"{item['id']}.json").write_text(json.dumps(item, indent=2))
    print(f"wrote {len(list(out.glob('*.json')))} items to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
