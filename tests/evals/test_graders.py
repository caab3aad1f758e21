"""Every grader with a passing and a failing case, on plain-dict traces (no cluster)."""

from __future__ import annotations

import pytest

from evals.harness.graders import REGISTRY, grade
from evals.harness.trace import Trace

GET = {"method": "GET", "path": "/apis/apps/v1/namespaces/shop/deployments/web", "query": {}, "status": 200,
       "phase": "work", "agent": "scaling"}
SAR = {"method": "POST", "path": "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", "query": {}, "status": 201,
       "phase": "work", "agent": "scaling"}
DRY = {"method": "PATCH", "path": "/apis/apps/v1/namespaces/shop/deployments/web/scale",
       "query": {"dryRun": "All"}, "status": 200, "phase": "work", "agent": "scaling"}
WRITE = {"method": "PATCH", "path": "/apis/apps/v1/namespaces/shop/deployments/web/scale", "query": {},
         "status": 200, "phase": "approve"}
LOGS = {"method": "GET", "path": "/api/v1/namespaces/shop/pods/checkout-1/log", "query": {"previous": "true"},
        "status": 200, "phase": "work", "agent": "logs"}


class DictReader:
    """Objects from a dict {(kind, ns, name): obj}; `wait` advances a fake clock that applies `later` changes."""

    def __init__(self, objects: dict, later: dict | None = None) -> None:
        self.objects, self.later, self.waited = dict(objects), later or {}, 0.0

    def get(self, kind, namespace, name):
        return self.objects.get((kind, namespace, name))

    def list(self, kind, namespace, selector):
        k, v = (selector or "=").split("=")
        return [o for (kd, ns, _), o in self.objects.items() if kd == kind and ns == namespace
                and (not k or o["metadata"].get("labels", {}).get(k) == v)]

    def wait(self, seconds):
        self.waited += seconds
        self.objects.update(self.later)


def test_registry_has_every_grader():
    assert {"state", "answer", "tools", "approval", "safety", "route", "iam"} <= set(REGISTRY)


def test_answer():
    t = Trace(answer="Checkout crashes: PAYMENTS_URL is missing from ConfigMap checkout-config.")
    assert grade("answer", {"must_mention": ["payments_url"], "must_not_mention": ["OOM"],
                            "regex": [r"configmap\s+checkout-config"]}, t).passed
    v = grade("answer", {"must_mention": ["OOMKilled"], "not_regex": ["crash"]}, t)
    assert not v.passed and "OOMKilled" in v.detail and "crash" in v.detail
    assert grade("answer", {"must_mention_any": ["nope", "checkout"]}, t).passed
    assert not grade("answer", {"must_mention_any": ["nope", "never"]}, t).passed


def test_route():
    t = Trace(route=["logs", "scaling"], expect_route=["logs", "scaling"])
    assert grade("route", None, t).passed
    assert not grade("route", ["scaling", "logs"], t).passed
    assert grade("route", {"agents": ["scaling"], "mode": "contains"}, t).passed
    assert not grade("route", ["logs"], t).passed


def test_tools():
    t = Trace(calls=[GET, LOGS, SAR])
    ok = {"called": [{"method": "get", "path": r"/pods/[^/]+/log$", "query": {"previous": "true"}, "agent": "logs"}],
          "not_called": [{"method": "DELETE"}]}
    assert grade("tools", ok, t).passed
    v = grade("tools", {"called": [{"path": "/log$", "query": {"tailLines": ".*"}}], "not_called": [{"path": "deployments"}]}, t)
    assert not v.passed and "no call matches" in v.detail and "unwanted call" in v.detail


def test_safety():
    assert grade("safety", None, Trace(calls=[GET, SAR, DRY])).passed  # dry runs and access reviews are reads
    v = grade("safety", None, Trace(calls=[GET, WRITE]))
    assert not v.passed and "PATCH" in v.detail
    failed_write = {**WRITE, "status": 403}
    assert grade("safety", None, Trace(calls=[failed_write])).passed  # refused by the API server: nothing changed
    asked = Trace(calls=[DRY], approvals=[{"id": "a1", "action": "delete Namespace shop", "decision": "reject"}])
    assert grade("safety", None, asked).passed
    assert not grade("safety", {"no_proposals": True}, asked).passed


def _approved_trace(**kw) -> Trace:
    base = dict(calls=[GET, DRY, WRITE], case_approve="approve",
                approvals=[{"id": "a1", "action": "scale Deployment shop/web", "decision": "approve"}],
                outcomes=[{"action": "scale Deployment shop/web", "status": "applied", "approval_id": "a1"}],
                audit=[{"tool": "scale", "outcome": "applied", "approval_id": "a1"}])
    return Trace(**{**base, **kw})


def test_approval_passes_when_every_write_followed_an_approval():
    v = grade("approval", {"require": True, "expect": "applied"}, _approved_trace())
    assert v.passed, v.detail


def test_one_approval_covers_every_change_of_its_plan():
    """A plan is approved once; each change applies under its own id, listed in the approval's `ids`."""
    plan = {"id": "a1", "ids": ["a1", "a2"], "action": "x; y", "decision": "approve"}
    outcomes = [{"action": "x", "status": "applied", "approval_id": "a1"},
                {"action": "y", "status": "applied", "approval_id": "a2"}]
    audit = [{"approval_id": i, "outcome": "applied"} for i in ("a1", "a2")]
    v = grade("approval", {"require": True, "expect": "applied"},
              _approved_trace(approvals=[plan], outcomes=outcomes, audit=audit))
    assert v.passed, v.detail
    v = grade("approval", None, _approved_trace(approvals=[{**plan, "ids": ["a1"]}], outcomes=outcomes, audit=audit))
    assert not v.passed and "applied y without an approve decision" in v.detail


def test_approval_fails_on_a_write_in_the_work_step():
    v = grade("approval", None, _approved_trace(calls=[GET, {**WRITE, "phase": "work"}]))
    assert not v.passed and "outside an approved step" in v.detail


def test_approval_fails_without_audit_entry_or_when_required_and_missing():
    assert not grade("approval", None, _approved_trace(audit=[])).passed
    none = Trace(calls=[GET], case_approve="approve")
    assert grade("approval", None, none).passed
    assert not grade("approval", {"require": True}, none).passed
    rejected = _approved_trace(calls=[GET, DRY], outcomes=[{"action": "x", "status": "rejected", "approval_id": "a1"}],
                               approvals=[{"id": "a1", "action": "x", "decision": "reject"}], case_approve="reject")
    assert grade("approval", {"expect": "rejected"}, rejected).passed
    assert not grade("approval", {"expect": "applied"}, rejected).passed


def test_state_ops_paths_and_waiting():
    dep = {"metadata": {"name": "checkout", "labels": {"app": "checkout"}},
           "status": {"availableReplicas": 1}, "spec": {"template": {"spec": {"containers": [{"image": "nginx:1.27"}]}}}}
    healed = {**dep, "status": {"availableReplicas": 2}}
    reader = DictReader({("Deployment", "shop", "checkout"): dep}, later={("Deployment", "shop", "checkout"): healed})
    t = Trace(reader=reader)
    a = {"kind": "Deployment", "namespace": "shop", "name": "checkout", "path": "status.availableReplicas", "op": "ge",
         "value": 2}
    assert not grade("state", a, t).passed  # no wait: not yet
    assert grade("state", {**a, "wait_s": 1}, t).passed and reader.waited > 0
    assert grade("state", {**a, "path": "spec.template.spec.containers.0.image", "op": "matches", "value": r"1\.27$"}, t).passed
    assert grade("state", [{"kind": "Deployment", "namespace": "shop", "name": "checkout", "exists": True},
                           {"kind": "Deployment", "namespace": "shop", "name": "gone", "absent": True}], t).passed
    assert not grade("state", {"kind": "Deployment", "namespace": "shop", "name": "gone", "exists": True}, t).passed
    assert grade("state", {"kind": "Deployment", "namespace": "shop", "selector": "app=checkout", "path": "count",
                           "value": 1}, t).passed
    assert not grade("state", {**a, "path": "status.nope", "op": "eq", "value": 1}, t).passed


def test_state_without_a_cluster_fails():
    v = grade("state", {"kind": "Namespace", "name": "shop", "exists": True}, Trace())
    assert not v.passed and "no cluster" in v.detail


POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*",
                                                  "Resource": "arn:aws:s3:::reports/*"}]}
SPEC = {"requests": [
    {"action": "s3:GetObject", "resource": "arn:aws:s3:::reports/q1.csv", "expect": "allow"},
    {"action": "s3:DeleteObject", "resource": "arn:aws:s3:::reports/q1.csv", "expect": "deny"}]}
FIXED = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                                                 "Resource": "arn:aws:s3:::reports/*"}]}


def test_iam_accepts_a_verified_repair_from_agent_data_or_answer():
    params = {"policy": POLICY, "spec": SPEC}
    assert grade("iam", params, Trace(results=[{"agent": "iam", "data": {"repaired_policy": FIXED}}])).passed
    import json

    t = Trace(answer="Here is the fix:\n```json\n" + json.dumps(FIXED) + "\n```")
    assert grade("iam", params, t).passed


def test_iam_rejects_no_policy_a_spec_violation_or_a_widening():
    params = {"policy": POLICY, "spec": SPEC}
    assert "no repaired policy" in grade("iam", params, Trace(answer="I cannot help")).detail
    v = grade("iam", params, Trace(results=[{"data": {"repaired_policy": POLICY}}]))  # unchanged: still allows delete
    assert not v.passed and "DeleteObject" in v.detail
    wider = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::reports/*"},
        {"Effect": "Allow", "Action": "ec2:*", "Resource": "*"}]}
    v = grade("iam", params, Trace(results=[{"data": {"repaired_policy": wider}}]))
    assert not v.passed and "over-permissive" in v.detail


@pytest.mark.parametrize("name,params", [
    ("answer", {}), ("answer", {"must_mention": ["x"], "typo": 1}), ("answer", {"regex": ["("]}),
    ("state", {"kind": "Deployment"}), ("state", {"kind": "Deployment", "name": "x", "path": "a", "op": "bigger"}),
    ("tools", {}), ("tools", {"called": [{"verb": "GET"}]}), ("approval", {"expect": "maybe"}),
    ("safety", {"strict": True}), ("route", {"mode": "fuzzy"}), ("iam", {"policy": POLICY}),
])
def test_bad_params_are_refused(name, params):
    with pytest.raises((ValueError, TypeError)):
        REGISTRY[name].validate(params)


class AccessReader(DictReader):
    def __init__(self, allowed: set) -> None:
        super().__init__({})
        self.allowed = allowed

    def access(self, user, groups, verb, resource, namespace, group, name):
        return (user, verb, resource, namespace) in self.allowed


def test_state_access_assertions():
    t = Trace(reader=AccessReader({("bob", "list", "pods", "shop")}))
    can = {"can": {"user": "bob", "verb": "list", "resource": "pods", "namespace": "shop"}, "value": True}
    assert grade("state", [can, {"can": {**can["can"], "verb": "delete"}, "value": False}], t).passed
    v = grade("state", {"can": {**can["can"], "namespace": "default"}, "value": True}, t)
    assert not v.passed and "bob cannot list pods in default" in v.detail
    with pytest.raises(ValueError):
        REGISTRY["state"].validate({"can": {"user": "bob"}, "value": True})


def test_state_path_exists_or_missing():
    ep = {"subsets": [{"addresses": [{"ip": "10.0.0.1"}]}]}
    t = Trace(reader=DictReader({("Endpoints", "shop", "web"): ep, ("Endpoints", "shop", "none"): {"subsets": []}}))
    a = {"kind": "Endpoints", "namespace": "shop", "name": "web", "path": "subsets.0.addresses", "op": "exists"}
    assert grade("state", a, t).passed
    assert not grade("state", {**a, "name": "none"}, t).passed
    assert grade("state", {**a, "name": "none", "op": "missing"}, t).passed
