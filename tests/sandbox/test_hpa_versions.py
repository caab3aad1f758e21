"""HorizontalPodAutoscaler at autoscaling/v1 and v2 through the real kubectl: one stored object, two shapes
(sandbox/conversion.py), as the API server converts them."""

from __future__ import annotations

import json

from sandbox.conversion import hpa_v1_to_v2, hpa_v2_to_v1

V1 = """\
apiVersion: autoscaling/v1
kind: HorizontalPodAutoscaler
metadata: {name: web}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 2
  maxReplicas: 5
  targetCPUUtilizationPercentage: %d
"""


def test_a_v1_manifest_applies_and_reads_back_in_both_versions(kubectl, ns):
    kubectl("create", "deployment", "web", "--image=nginx:1.25", "-n", ns)
    assert "created" in kubectl("apply", "-n", ns, "-f", "-", stdin=V1 % 50)
    v2 = json.loads(kubectl("get", "horizontalpodautoscalers.v2.autoscaling", "web", "-n", ns, "-o", "json"))
    assert v2["apiVersion"] == "autoscaling/v2"
    assert v2["spec"]["metrics"] == [{"type": "Resource", "resource": {
        "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}}]
    assert "targetCPUUtilizationPercentage" not in v2["spec"]
    v1 = json.loads(kubectl("get", "horizontalpodautoscalers.v1.autoscaling", "web", "-n", ns, "-o", "json"))
    assert v1["apiVersion"] == "autoscaling/v1"
    assert (v1["spec"]["targetCPUUtilizationPercentage"], v1["spec"]["minReplicas"]) == (50, 2)
    assert "metrics" not in v1["spec"]
    # a second apply of the v1 manifest is a patch computed against the v1 view
    assert "configured" in kubectl("apply", "-n", ns, "-f", "-", stdin=V1 % 70)
    v2 = json.loads(kubectl("get", "horizontalpodautoscalers.v2.autoscaling", "web", "-n", ns, "-o", "json"))
    assert v2["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] == 70
    assert "cpu: <unknown>/70%" in kubectl("get", "hpa", "web", "-n", ns)


def test_kubectl_autoscale_writes_v2_and_v1_reads_it(kubectl, ns):
    kubectl("create", "deployment", "api", "--image=nginx:1.25", "-n", ns)
    kubectl("autoscale", "deployment", "api", "--min=2", "--max=5", "--cpu-percent=80", "-n", ns)
    v1 = json.loads(kubectl("get", "horizontalpodautoscalers.v1.autoscaling", "api", "-n", ns, "-o", "json",
                            "--show-managed-fields"))
    assert (v1["spec"]["targetCPUUtilizationPercentage"], v1["spec"]["maxReplicas"]) == (80, 5)
    managers = {m["manager"]: m["apiVersion"] for m in v1["metadata"]["managedFields"]}
    assert managers.get("kubectl-autoscale") == "autoscaling/v2"  # kubectl 1.37 writes v2


def test_what_v1_has_no_field_for_survives_a_round_trip():
    v2 = {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "w"},
          "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "w"}, "maxReplicas": 4,
                   "metrics": [{"type": "Resource", "resource": {"name": "memory", "target": {
                       "type": "Utilization", "averageUtilization": 60}}},
                               {"type": "Resource", "resource": {"name": "cpu", "target": {
                                   "type": "Utilization", "averageUtilization": 75}}}],
                   "behavior": {"scaleDown": {"stabilizationWindowSeconds": 60}}},
          "status": {"currentReplicas": 2, "desiredReplicas": 2, "currentMetrics": [
              {"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 40}}}],
              "conditions": [{"type": "AbleToScale", "status": "True"}]}}
    v1 = hpa_v2_to_v1(v2)
    assert v1["spec"]["targetCPUUtilizationPercentage"] == 75
    assert v1["status"]["currentCPUUtilizationPercentage"] == 40
    assert "metrics" not in v1["spec"] and "behavior" not in v1["spec"]
    back = hpa_v1_to_v2(v1)
    assert back["spec"]["behavior"] == v2["spec"]["behavior"]
    assert sorted(m["resource"]["name"] for m in back["spec"]["metrics"]) == ["cpu", "memory"]
    assert back["status"]["conditions"] == v2["status"]["conditions"]
    assert not back["metadata"].get("annotations")
