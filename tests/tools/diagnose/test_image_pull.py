"""image_pull: the registry's message, a verified sibling tag, an honest typo guess, credentials, network."""

from __future__ import annotations

from tests.tools.diagnose import builders as b
from tools.diagnose.base import REGISTRY, load_checks
from tools.diagnose.util import split_image, tag_typo_candidates

load_checks()
CHECK = REGISTRY["image_pull"]

NOT_FOUND = ('Back-off pulling image "nginx:1.277": ErrImagePull: rpc error: code = NotFound desc = failed to '
             'resolve reference "docker.io/library/nginx:1.277": docker.io/library/nginx:1.277: not found')


def pulling(image: str, message: str, with_sibling: bool = True, secrets: list[dict] | None = None):
    dep = b.deployment("catalog", [b.container("catalog", image, ports=[80])], replicas=2)
    st = b.waiting("catalog", "ImagePullBackOff", message, image=image)
    pods = [b.pod_of(dep, i, statuses=[dict(st)]) for i in range(2)]
    deps = [dep]
    if with_sibling:
        web = b.deployment("web", [b.container("web", "nginx:1.27", ports=[80])])
        deps.append(web)
        wp = b.pod_of(web, suffix="zz999")
        wp["status"]["containerStatuses"][0]["image"] = "nginx:1.27"
        pods.append(wp)
    ev = b.event("Pod", pods[0]["metadata"]["name"], "Failed", f'Failed to pull image "{image}": {message}')
    return b.snapshot(pods=pods, deployments=deps, events=[ev], secrets=secrets or [])


def test_tag_typo_with_a_running_sibling_is_fixed_with_high_confidence():
    [f] = CHECK.run(pulling("nginx:1.277", NOT_FOUND))
    assert (f.reason, f.kind, f.name) == ("ImagePullBackOff", "Deployment", "catalog")
    assert any("nginx:1.277: not found" in e for e in f.evidence)
    assert any("tag 1.27: running in pod" in e for e in f.evidence)
    assert f.confidence == "high"
    assert f.fix["patch"]["spec"]["template"]["spec"]["containers"] == [{"name": "catalog", "image": "nginx:1.27"}]
    assert "nginx:1.277 to nginx:1.27" in f.suggested_fix


def test_tag_typo_without_evidence_names_no_tag():
    """A typo repair proves nothing: 1.999-nope -> 1.99-nope does not exist either. Only a running pod proves a tag."""
    msg = NOT_FOUND.replace("1.277", "1.999-nope")
    for image in ("nginx:1.277", "nginx:1.999-nope"):
        [f] = CHECK.run(pulling(image, msg, with_sibling=False))
        assert f.confidence == "medium" and f.fix is None
        assert "check the tags" in f.suggested_fix
        assert "1.27'" not in f.suggested_fix + f.root_cause and "1.99-nope" not in f.suggested_fix + f.root_cause


def test_suggestion_names_only_a_tag_a_pod_runs():
    """Another workload's template proves nothing (it may fail to pull too); a pod running the tag does."""
    snap = pulling("nginx:1.999-nope", NOT_FOUND.replace("1.277", "1.999-nope"), with_sibling=False)
    other = b.deployment("other", [b.container("other", "nginx:1.99-nope")])
    snap.deployments.append(other)
    snap.pods.append(b.pod_of(other, suffix="yy888", statuses=[b.waiting("other", "ImagePullBackOff", NOT_FOUND,
                                                                         image="nginx:1.99-nope")]))
    [f, _] = sorted(CHECK.run(snap), key=lambda x: x.name)
    assert f.name == "catalog" and f.fix is None
    assert "1.99-nope" not in f.suggested_fix and "1.99-nope" not in f.root_cause


def test_missing_tag_with_no_candidate_gets_no_fix():
    msg = 'failed to pull "example/app:banana": manifest unknown'
    [f] = CHECK.run(pulling("example/app:banana", msg, with_sibling=False))
    assert f.fix is None and "check the tags" in f.suggested_fix


def test_private_registry_with_one_pull_secret_references_it():
    secret = {"metadata": {"name": "regcred", "namespace": "shop"}, "type": "kubernetes.io/dockerconfigjson"}
    msg = 'pull access denied for private/app, repository does not exist or may require authorization: unauthorized'
    [f] = CHECK.run(pulling("private/app:1.0", msg, with_sibling=False, secrets=[secret]))
    assert "credentials" in f.root_cause
    assert f.fix["patch"]["spec"]["template"]["spec"] == {"imagePullSecrets": [{"name": "regcred"}]}


def test_unreachable_registry():
    msg = 'dial tcp: lookup registry.internal on 10.0.0.10:53: no such host'
    [f] = CHECK.run(pulling("registry.internal/app:1.0", msg, with_sibling=False))
    assert "cannot be reached" in f.root_cause and f.fix is None


def test_image_helpers():
    assert split_image("nginx:1.27") == ("docker.io/library/nginx", "1.27", "")
    assert split_image("kubesage/checkout") == ("docker.io/kubesage/checkout", "latest", "")
    assert split_image("localhost:5000/app:2") == ("localhost:5000/app", "2", "")
    assert split_image("ghcr.io/a/b@sha256:abc")[2] == "sha256:abc"
    assert tag_typo_candidates("1.277") == ["1.27"]
    assert "1.2" in tag_typo_candidates("1..2")
