"""kubesage room: policies — AWS IAM policy model, parser, evaluator, Z3 encoding, verification, fault
localization, repair, synthesis and summary. Imports only z3 and the standard library.

Public surface (everything else is internal):
- `parse_policy`, `parse_spec`, `policy_to_json`, `dumps_policy`, `PolicyError`
- `evaluate`, `decide`, `Decision`, `Request`
- `check` (policy vs spec), `difference` / `contains` / `equivalent` (two policies), `prove_bound`
- `policies.localize.localize`, `policies.repair.repair`, `policies.synthesize.synthesize`,
  `policies.summary.summarize` (import them from their modules)
- `policies.checks` (CI gates: no new access, access not granted, no public access),
  `policies.account` / `policies.account_questions` (an account's policies combined as AWS does, and proven
  questions about it), `policies.usage` (CloudTrail usage), `policies.syntax` (obvious syntax repairs),
  `policies.extra` (what a best-effort repair adds), `policies.budget` (time and memory budgets)

AMBIGUITIES lists where AWS's documentation leaves room and `@cloud-copilot/iam-simulate` (the independent
simulator of the differential tests) decides differently from kubesage. kubesage follows the AWS
documentation; the evaluator can be asked to decide each the simulator's way (`decide(..., compat={...})`),
and the differential suite checks that every disagreement is explained by one of these, and nothing else.

What the Z3 encoding does not model exactly (the evaluator still decides these):
- a case-insensitive operator or a `?` wildcard next to a policy variable, and a Bool value mixing text and
  a variable: proofs about such policies raise `UnsupportedError` instead of approximating;
- a request resource that starts with "arn:" but has fewer than six segments lies outside the model;
- typed views of one context key (string, number, date, IP) are separate variables, linked only for the
  literal values the spec and policies mention: "no request does X" proofs stay sound, and every
  counterexample is re-checked with the evaluator;
- for the repair bound, a single value and a one-element list of the same key count as the same request
  (AWS never gives one key both shapes).

Constructs the generators avoid because the simulator is known to mis-handle them (not AWS ambiguities):
IPv4 `/0` blocks (it treats them as /32), epoch-seconds dates mixed with ISO dates (it compares seconds to
milliseconds), wildcards inside the resource-type prefix of an ARN (`u*/bob`), case variations in ARN
partition/service/region/account (it compares those case-insensitively), `"*"` as an `Arn*` condition value,
ARNs with fewer than six segments in Resource (it pads them with `*`), account principals in resource
policies (it requires the account's identity policy to allow too; kubesage evaluates one policy at a time
and reads an account principal as "any principal of that account").
"""

from __future__ import annotations

AMBIGUITIES: dict[str, str] = {
    "A1": "ForAnyValue:…IfExists on an absent key. AWS: '…IfExists: if the key is not present, evaluate the "
          "condition element as true' — kubesage: true; iam-simulate: false (it ignores IfExists under "
          "ForAnyValue).",
    "A2": "A negated String/Arn operator whose value holds a policy variable that cannot be resolved (absent "
          "or multivalued key, no default). AWS (policy variables, 'no value'): 'inverted condition operators "
          "like StringNotEquals … do match against a null value' — kubesage: the value matches nothing, so "
          "the negated test holds; iam-simulate: the condition is false (for Arn operators only when the ARN "
          "segments before the variable's segment match: it stops comparing at the first mismatch).",
    "A3": "NotResource with a policy variable that cannot be resolved. AWS: such a resource 'will not match "
          "any resource' — kubesage: so NotResource excludes nothing through it and the statement applies; "
          "iam-simulate: the statement does not apply (except for a wildcard-only action's `*` resource).",
    "A4": "NotIpAddress with a bare address (no /prefix) of the other IP version than the request. kubesage: "
          "a bare address is a /32 (/128) block (AWS: 'IAM uses the default prefix value of /32'), so the "
          "address is outside it and NotIpAddress holds; iam-simulate: false (it compares bare addresses as "
          "strings with an operator-precedence slip), although it agrees for the written /32 form.",
}

from policies.errors import PolicyError, SpecError, UnsupportedError  # noqa: E402
from policies.evaluator import Decision, decide, evaluate, is_allowed  # noqa: E402
from policies.model import Policy, Request, Spec, SpecCase, Statement  # noqa: E402
from policies.parser import dumps_policy, parse_policy, parse_request, parse_spec, policy_to_json  # noqa: E402
from policies.verify import check, contains, difference, equivalent, prove_bound  # noqa: E402

__all__ = [
    "AMBIGUITIES", "Decision", "Policy", "PolicyError", "Request", "Spec", "SpecCase", "SpecError", "Statement",
    "UnsupportedError", "check", "contains", "decide", "difference", "dumps_policy", "equivalent", "evaluate",
    "is_allowed", "parse_policy", "parse_request", "parse_spec", "policy_to_json", "prove_bound",
]
