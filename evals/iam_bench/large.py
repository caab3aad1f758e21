"""Large generated policies for budget tests and `make bench`: many condition keys × values, or many
statements, each with a small spec that the policy violates (so repair has work to do).

Why generated: the two shapes of issue 20 (500 condition keys × 20 values; 5,000 statements) stress every
stage (parsing, the Z3 encoding, the concrete screen, localization, the search); they must stop near the
time budget instead of running for minutes.
"""

from __future__ import annotations

from typing import Any


def many_conditions(keys: int = 500, values: int = 20) -> tuple[dict[str, Any], dict[str, Any]]:
    """One Allow on a bucket guarded by `keys` StringEquals conditions of `values` values each, and a spec
    asking for a read the conditions block (a value outside every list) and a delete to stay denied."""
    cond = {f"aws:PrincipalTag/k{i}": [f"v{i}-{j}" for j in range(values)] for i in range(keys)}
    policy = {"Version": "2012-10-17", "Statement": [
        {"Sid": "Guarded", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
         "Resource": "arn:aws:s3:::data/*", "Condition": {"StringEquals": cond}}]}
    good = {f"aws:PrincipalTag/k{i}": f"v{i}-0" for i in range(keys)}
    odd = dict(good, **{"aws:PrincipalTag/k0": "other"})
    spec = {"requests": [
        {"action": "s3:GetObject", "resource": "arn:aws:s3:::data/a", "context": good, "expect": "allow"},
        {"action": "s3:GetObject", "resource": "arn:aws:s3:::data/b", "context": odd, "expect": "allow"},
        {"action": "s3:DeleteObject", "resource": "arn:aws:s3:::data/a", "context": good, "expect": "deny"}]}
    return policy, spec


def many_statements(n: int = 5000) -> tuple[dict[str, Any], dict[str, Any]]:
    """`n` statements, each allowing one action on its own bucket prefix (a tenth with an IP condition, a
    twentieth Deny), and a spec one of whose requests the policy gets wrong."""
    sts = []
    for i in range(n):
        st: dict[str, Any] = {"Sid": f"S{i}", "Effect": "Deny" if i % 20 == 19 else "Allow",
                              "Action": ["s3:GetObject", "s3:PutObject", "s3:ListBucket"][i % 3],
                              "Resource": f"arn:aws:s3:::bucket{i % 97}/team{i}/*"}
        if i % 10 == 3:
            st["Condition"] = {"IpAddress": {"aws:SourceIp": f"10.{i % 250}.0.0/16"}}
        sts.append(st)
    policy = {"Version": "2012-10-17", "Statement": sts}
    spec = {"requests": [
        {"action": "s3:GetObject", "resource": "arn:aws:s3:::bucket0/team0/x", "expect": "allow"},
        {"action": "s3:GetObject", "resource": "arn:aws:s3:::bucket1/team1/x", "expect": "allow"},
        {"action": "s3:DeleteObject", "resource": "arn:aws:s3:::bucket0/team0/x", "expect": "deny"}]}
    return policy, spec
