"""Image references, the catalog, and pull results with the kubelet's exact wording."""

from __future__ import annotations

import pytest

from sandbox.behaviour import CATALOG, ImageSpec, InvalidReference, parse_reference, pull


@pytest.mark.parametrize("ref, name, tag, digest, canonical", [
    ("nginx", "docker.io/library/nginx", None, None, "docker.io/library/nginx:latest"),
    ("nginx:1.27", "docker.io/library/nginx", "1.27", None, "docker.io/library/nginx:1.27"),
    ("docker.io/library/nginx:1.27", "docker.io/library/nginx", "1.27", None, "docker.io/library/nginx:1.27"),
    ("index.docker.io/library/redis", "docker.io/library/redis", None, None, "docker.io/library/redis:latest"),
    ("bitnami/redis:7.2", "docker.io/bitnami/redis", "7.2", None, "docker.io/bitnami/redis:7.2"),
    ("ghcr.io/ggml-org/llama.cpp:server", "ghcr.io/ggml-org/llama.cpp", "server", None,
     "ghcr.io/ggml-org/llama.cpp:server"),
    ("localhost:5000/team/app:v1", "localhost:5000/team/app", "v1", None, "localhost:5000/team/app:v1"),
    ("registry.k8s.io/pause:3.10", "registry.k8s.io/pause", "3.10", None, "registry.k8s.io/pause:3.10"),
    ("nginx@sha256:" + "a" * 64, "docker.io/library/nginx", None, "sha256:" + "a" * 64,
     "docker.io/library/nginx@sha256:" + "a" * 64),
    ("nginx:1.27@sha256:" + "b" * 64, "docker.io/library/nginx", "1.27", "sha256:" + "b" * 64,
     "docker.io/library/nginx:1.27@sha256:" + "b" * 64),
])
def test_parse_reference(ref: str, name: str, tag: str | None, digest: str | None, canonical: str) -> None:
    r = parse_reference(ref)
    assert (r.name, r.tag, r.digest, r.canonical) == (name, tag, digest, canonical)


def test_familiar_name() -> None:
    assert parse_reference("docker.io/library/nginx:1.27").familiar == "nginx:1.27"
    assert parse_reference("bitnami/redis").familiar == "bitnami/redis:latest"
    assert parse_reference("ghcr.io/a/b:1").familiar == "ghcr.io/a/b:1"


@pytest.mark.parametrize("ref, message", [
    ("Nginx", "invalid reference format: repository name (library/Nginx) must be lowercase"),
    ("myorg/MyApp:1", "invalid reference format: repository name (myorg/MyApp) must be lowercase"),
    ("nginx:", "invalid reference format"),
    ("nginx::1", "invalid reference format"),
    ("nginx@sha256:abc", "invalid reference format"),
    ("a" * 64, "invalid repository name (" + "a" * 64 + "), cannot specify 64-byte hexadecimal strings"),
])
def test_invalid_references(ref: str, message: str) -> None:
    with pytest.raises(InvalidReference) as e:
        parse_reference(ref)
    assert str(e.value) == message


def test_catalog_has_the_images_the_sandbox_promises() -> None:
    names = set(CATALOG.names())
    for repo in ["library/nginx", "library/httpd", "library/busybox", "library/alpine", "library/redis",
                 "library/postgres", "library/mysql", "library/mariadb", "library/mongo", "library/rabbitmq",
                 "library/memcached", "library/python", "library/node", "library/golang", "library/ubuntu",
                 "library/debian", "curlimages/curl", "prom/prometheus", "grafana/grafana", "library/traefik",
                 "library/haproxy", "vllm/vllm-openai", "kubesage/shop-web", "kubesage/checkout",
                 "kubesage/payments", "kubesage/worker", "kubesage/orders", "kubesage/cpu-burner"]:
        assert "docker.io/" + repo in names
    assert "registry.k8s.io/pause" in names and "ghcr.io/ggml-org/llama.cpp" in names
    nginx = CATALOG.get("nginx")
    assert nginx is not None
    for tag in ["1.25", "1.25.5", "1.26", "1.27", "1.27.3", "latest", "alpine", "stable", "1.27-alpine"]:
        assert nginx.has_tag(tag), tag
    assert not nginx.has_tag("1.277")
    assert nginx.version_of("1.27") == "1.27.5" and nginx.version_of("1.27.3-alpine") == "1.27.3"
    assert nginx.base_for("1.27-alpine") == "alpine" and nginx.base_for("1.27") == "debian"
    assert nginx.digest_of("latest") == nginx.digest_of("mainline")


def test_image_spec_from_dict() -> None:
    spec = ImageSpec.from_dict({"image": "myorg/app", "tags": ["1.0"], "ports": [8080], "memory": "64Mi",
                                "cpu": "50m", "logs_every": [{"period": 5, "line": "{time} tick {i}"}]})
    assert spec.name == "docker.io/myorg/app" and spec.memory == 64 * 1024 * 1024 and spec.cpu == 50
    assert spec.logs_every == ((5.0, "{time} tick {i}"),)
    with pytest.raises(ValueError, match="unknown image spec fields"):
        ImageSpec.from_dict({"name": "x", "colour": "blue"})


def test_pull_known_tag() -> None:
    r = pull("nginx:1.27")
    digest = CATALOG.get("nginx").digest_of("1.27")  # type: ignore[union-attr]
    assert r.ok and r.reason is None and r.message == ""
    assert r.ref == "docker.io/library/nginx:1.27"
    assert r.image_id == "docker.io/library/nginx@" + digest
    assert [e[:2] for e in r.events] == [("Normal", "Pulling"), ("Normal", "Pulled")]
    assert r.events[0][2] == 'Pulling image "nginx:1.27"'
    assert r.events[1][2].startswith('Successfully pulled image "nginx:1.27" in ')
    assert r.events[1][2].endswith(f"Image size: {r.size} bytes.")
    assert pull("nginx:1.27") == r


def test_pull_unknown_tag_exact_message() -> None:
    r = pull("nginx:1.277")
    assert not r.ok and r.reason == "ErrImagePull" and r.code == "NotFound"
    assert r.message == ('rpc error: code = NotFound desc = failed to pull and unpack image '
                         '"docker.io/library/nginx:1.277": failed to resolve reference '
                         '"docker.io/library/nginx:1.277": docker.io/library/nginx:1.277: not found')
    assert r.events[1] == ("Warning", "Failed", f'Failed to pull image "nginx:1.277": {r.message}')
    assert r.events[2] == ("Warning", "Failed", "Error: ErrImagePull")
    assert r.backoff_message == f'Back-off pulling image "nginx:1.277": ErrImagePull: {r.message}'


def test_pull_unknown_repository_and_registry() -> None:
    r = pull("kubesage/checkuot:2.4.0")
    assert r.message == ('rpc error: code = Unknown desc = failed to pull and unpack image '
                         '"docker.io/kubesage/checkuot:2.4.0": failed to resolve reference '
                         '"docker.io/kubesage/checkuot:2.4.0": pull access denied, repository does not exist or may '
                         'require authorization: server message: insufficient_scope: authorization failed')
    r = pull("registry.internal.example:5000/app:1")
    assert r.code == "Unknown" and r.message.endswith(
        'failed to do request: Head "https://registry.internal.example:5000/v2/app/manifests/1": dial tcp: lookup '
        "registry.internal.example on 127.0.0.53:53: no such host")
    assert pull("ghcr.io/acme/api:1").message.endswith("401 Unauthorized")


def test_pull_digest() -> None:
    digest = CATALOG.get("redis").digest_of("7.2")  # type: ignore[union-attr]
    assert pull("redis@" + digest).ok
    bad = "sha256:" + "0" * 64
    r = pull("redis@" + bad)
    assert r.message.endswith(f'failed to resolve reference "docker.io/library/redis@{bad}": '
                              f"docker.io/library/redis@{bad}: not found")


def test_pull_invalid_image_name() -> None:
    r = pull("Nginx:1.27")
    assert r.reason == "InvalidImageName"
    assert r.message == ('Failed to apply default image tag "Nginx:1.27": couldn\'t parse image name "Nginx:1.27": '
                         "invalid reference format: repository name (library/Nginx) must be lowercase")
    assert r.events == (("Warning", "InspectFailed", r.message), ("Warning", "Failed", "Error: InvalidImageName"))
