"""rollout_stuck: ProgressDeadlineExceeded, the new ReplicaSet's pods, and a rollback to the previous revision."""

from __future__ import annotations

from tests.tools.diagnose import builders as b
from tools.diagnose.base import REGISTRY, load_checks

load_checks()
CHECK = REGISTRY["rollout_stuck"]
STUCK = [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
          "message": 'ReplicaSet "api-new12" has timed out progressing.'}]


def test_stuck_rollout_offers_a_rollback_to_the_previous_revision():
    dep = b.deployment("api", [b.container("api", "example/api:2.0")], conditions=STUCK)
    old_tmpl = {"metadata": {"labels": {"app": "api"}}, "spec": {"containers": [b.container("api", "example/api:1.0")]}}
    old = b.replicaset(dep, "old12", revision=1, template=old_tmpl)
    new = b.replicaset(dep, "new12", revision=2)
    p = b.pod_of(dep, suffix="new12", statuses=[b.waiting("api", "ImagePullBackOff")])
    [f] = CHECK.run(b.snapshot(deployments=[dep], replicasets=[new, old], pods=[p]))
    assert (f.reason, f.name) == ("ProgressDeadlineExceeded", "api")
    assert any("timed out progressing" in e for e in f.evidence)
    assert any("ImagePullBackOff" in e for e in f.evidence)
    assert f.fix["patch_type"] == "json"
    [op] = f.fix["patch"]
    assert op["path"] == "/spec/template" and op["value"]["spec"]["containers"][0]["image"] == "example/api:1.0"
    assert "pod-template-hash" not in op["value"]["metadata"]["labels"]


def test_first_revision_has_nothing_to_roll_back_to():
    dep = b.deployment("api", conditions=STUCK)
    [f] = CHECK.run(b.snapshot(deployments=[dep], replicasets=[b.replicaset(dep)]))
    assert f.fix is None


def test_progressing_rollouts_are_fine():
    dep = b.deployment("api", conditions=[{"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"}])
    assert CHECK.run(b.snapshot(deployments=[dep])) == []
