"""Images and tags as a registry knows them, through the official Kubernetes client: every modelled image's three
newest release lines and the versions of recent tutorials become Ready when set up as their documentation says;
a tag that does not exist fails with containerd's message; postgres/mysql without their password crash with the
image's own log line and run with it (from a Secret), a MySQL StatefulSet included.

python/busybox/debian/ubuntu/alpine containers may run as real jailed processes here: Ready is asserted the
same way for both."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from kubernetes import client, config

from sandbox.behaviour import tags
from sandbox.server import SandboxServer
from tests.waiting import until

NS = "tags"
SLEEP = {"command": ["sleep", "3600"]}
DB_SECRET = [{"name": "MYSQL_ROOT_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}]

# How each image's documentation runs it (README on Docker Hub / the project's docs). Images whose default
# command exits at once (shells, language runtimes, curl) are kept alive as their docs' Kubernetes examples do.
SETUP: dict[str, dict] = {
    "docker.io/library/postgres": {"env": [{"name": "POSTGRES_PASSWORD",
                                            "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}]},
    "docker.io/library/mysql": {"env": DB_SECRET},
    "docker.io/library/mariadb": {"envFrom": [{"secretRef": {"name": "mariadb"}}]},
    "docker.io/library/busybox": SLEEP, "docker.io/library/alpine": SLEEP, "docker.io/library/ubuntu": SLEEP,
    "docker.io/library/debian": SLEEP, "docker.io/library/node": SLEEP, "docker.io/library/golang": SLEEP,
    "docker.io/curlimages/curl": SLEEP,
    "docker.io/library/python": {"command": ["python", "-c", "import time; time.sleep(3600)"]},
    "docker.io/library/haproxy": {"volumeMounts": [{"name": "cfg", "mountPath": "/usr/local/etc/haproxy"}]},
}
HAPROXY_CFG = ("global\n  log stdout format raw local0\ndefaults\n  mode http\n  timeout client 10s\n"
               "  timeout connect 5s\n  timeout server 10s\nfrontend web\n  bind :8080\n  default_backend none\n"
               "backend none\n")
# Model servers need a GPU (vLLM) or a model file (llama.cpp): their tags are checked to pull, not to serve.
PULL_ONLY = {"docker.io/vllm/vllm-openai", "ghcr.io/ggml-org/llama.cpp"}

# The Done-when list: the versions of the last three years' tutorials.
TUTORIALS = ([f"nginx:1.{m}" for m in range(19, 28)] + ["redis:6", "redis:6.2", "redis:7", "redis:7.0"]
             + [f"postgres:{m}" for m in range(13, 18)] + ["mysql:8", "mysql:8.0", "httpd:2.4"]
             + [f"busybox:1.{m}" for m in range(30, 38)] + [f"python:3.{m}" for m in range(8, 14)]
             + ["python:3.9-slim", "nginx:1.25-alpine", "postgres:15-alpine", "mysql:8.4", "redis:7.2-alpine"])


def _vkey(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", v))


def newest_three(repo: str) -> list[str]:
    """The tags of the three newest release lines (or, for images without lines, the three newest versions)."""
    lines = tags.lines(repo)
    if lines:
        chosen = sorted(lines, key=_vkey)[-3:]
    else:
        published = tags.published(repo) or {}
        versions = sorted({v for v in published.values() if re.match(r"\d", v)}, key=_vkey)[-3:]
        chosen = [min((t for t, v in published.items() if v == want), key=len) for want in versions]
    short = repo.removeprefix("docker.io/library/").removeprefix("docker.io/")
    return [f"{short}:{t}" for t in chosen]


def repo_of(image: str) -> str:
    name = image.rsplit(":", 1)[0]
    if name.count("/") == 0:
        return "docker.io/library/" + name
    return name if "." in name.split("/")[0] else "docker.io/" + name


def pod_name(image: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", image.rsplit("/", 1)[-1].lower()).strip("-")[:60]


def pod(image: str, **extra: object) -> dict:
    c = {"name": "main", "image": image, **SETUP.get(repo_of(image), {}), **extra}
    spec: dict = {"containers": [c], "terminationGracePeriodSeconds": 0}
    if "volumeMounts" in c:
        spec["volumes"] = [{"name": "cfg", "configMap": {"name": "haproxy"}}]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": pod_name(image), "labels": {"suite": "tags"}},
            "spec": spec}


@pytest.fixture(scope="module")
def core(tmp_path_factory: pytest.TempPathFactory) -> Iterator[client.CoreV1Api]:
    server = SandboxServer(scenarios=["default"], speed=50.0).start()
    path = server.write_kubeconfig(tmp_path_factory.mktemp("tags") / "config")
    api = client.ApiClient(config.new_client_from_config(str(path)).configuration)
    v1 = client.CoreV1Api(api)
    v1.create_namespace({"metadata": {"name": NS}})
    v1.create_namespaced_secret(NS, {"metadata": {"name": "db"}, "stringData": {"password": "s3cret"}})
    v1.create_namespaced_secret(NS, {"metadata": {"name": "mariadb"},
                                     "stringData": {"MARIADB_ROOT_PASSWORD": "s3cret"}})
    v1.create_namespaced_config_map(NS, {"metadata": {"name": "haproxy"}, "data": {"haproxy.cfg": HAPROXY_CFG}})
    yield v1
    server.stop()


def ready(p: client.V1Pod) -> bool:
    return any(c.type == "Ready" and c.status == "True" for c in p.status.conditions or [])


def pulled(p: client.V1Pod) -> bool:
    return any(cs.image_id for cs in p.status.container_statuses or [])


def events(core: client.CoreV1Api, name: str, reason: str) -> list[str]:
    return [e.message for e in core.list_namespaced_event(NS).items
            if e.involved_object.name == name and e.reason == reason]


def test_tags_data_names_its_source_and_date():
    for repo in tags.repositories():
        e = tags.entry(repo)
        assert e and e["source"] and re.fullmatch(r"\d{4}-\d{2}-\d{2}", e["as_of"]), repo
        published = tags.published(repo)
        assert published, repo
        assert "latest" in published or repo == "ghcr.io/ggml-org/llama.cpp", repo  # llama.cpp tags builds


def test_every_modelled_image_runs_its_newest_lines_and_the_tutorials_versions(core):
    images = list(dict.fromkeys(TUTORIALS + [i for r in tags.repositories() for i in newest_three(r)]))
    for image in images:
        core.create_namespaced_pod(NS, pod(image))
    names = {pod_name(i): i for i in images}
    assert len(names) == len(images)

    def not_yet() -> list[str]:
        pods = {p.metadata.name: p for p in core.list_namespaced_pod(NS, label_selector="suite=tags").items}
        return [names[n] for n, p in pods.items()
                if not (pulled(p) if repo_of(names[n]) in PULL_ONLY else ready(p))]
    left: list[str] = []

    def all_ready() -> bool:
        left[:] = not_yet()
        return not left
    # generous: ~130 pods on a shared 2-core machine; `until` returns as soon as all are Ready
    try:
        until(all_ready, 90, "every image Ready")
    except AssertionError:
        raise AssertionError(f"not Ready within 90 s: {left}") from None


def test_a_tag_that_does_not_exist_fails_with_the_registrys_message(core):
    core.create_namespaced_pod(NS, {"metadata": {"name": "typo"},
                                    "spec": {"containers": [{"name": "web", "image": "nginx:1.999"}]}})
    ref = "docker.io/library/nginx:1.999"
    want = (f'Failed to pull image "nginx:1.999": rpc error: code = NotFound desc = failed to pull and unpack image '
            f'"{ref}": failed to resolve reference "{ref}": {ref}: not found')
    assert until(lambda: events(core, "typo", "Failed"), 15, "the pull to fail")[0] in (want, "Error: ErrImagePull", "Error: ImagePullBackOff")
    until(lambda: want in events(core, "typo", "Failed"), 15, "containerd's NotFound message")

    def reason() -> str | None:
        cs = (core.read_namespaced_pod("typo", NS).status.container_statuses or [None])[0]
        return cs and cs.state.waiting and cs.state.waiting.reason
    until(lambda: reason() in ("ErrImagePull", "ImagePullBackOff"), 15, "the container to wait on the pull")


@pytest.mark.parametrize("image, line", [
    ("postgres:16", "Error: Database is uninitialized and superuser password is not specified."),
    ("mysql:8.4", "[ERROR] [Entrypoint]: Database is uninitialized and password option is not specified"),
])
def test_databases_without_their_password_crash_with_the_images_message(core, image, line):
    name = "nopw-" + image.split(":")[0]
    core.create_namespaced_pod(NS, {"metadata": {"name": name},
                                    "spec": {"containers": [{"name": "db", "image": image}]}})

    def restarted() -> bool:
        cs = (core.read_namespaced_pod(name, NS).status.container_statuses or [None])[0]
        return bool(cs and cs.restart_count >= 1)
    until(restarted, 20, f"{image} to crash and restart")
    assert line in core.read_namespaced_pod_log(name, NS, previous=True)
    assert not ready(core.read_namespaced_pod(name, NS))


def test_mysql_statefulset_with_its_password_secret_gets_ready(core):
    probe = ["sh", "-c", "mysql -h 127.0.0.1 -uroot -p\"$MYSQL_ROOT_PASSWORD\" -e 'SELECT 1'"]
    sts = {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "mysql"},
           "spec": {"serviceName": "mysql", "replicas": 1, "selector": {"matchLabels": {"app": "mysql"}},
                    "template": {"metadata": {"labels": {"app": "mysql"}}, "spec": {"containers": [{
                        "name": "mysql", "image": "mysql:8.0", "env": DB_SECRET,
                        "ports": [{"containerPort": 3306, "name": "mysql"}],
                        "volumeMounts": [{"name": "data", "mountPath": "/var/lib/mysql"}],
                        "livenessProbe": {"exec": {"command": ["mysqladmin", "ping"]}, "initialDelaySeconds": 30,
                                          "periodSeconds": 10, "timeoutSeconds": 5},
                        "readinessProbe": {"exec": {"command": probe}, "initialDelaySeconds": 5,
                                           "periodSeconds": 2, "timeoutSeconds": 1}}]}},
                    "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {
                        "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]}}
    apps = client.AppsV1Api(core.api_client)
    core.create_namespaced_service(NS, {"metadata": {"name": "mysql"}, "spec": {
        "clusterIP": "None", "selector": {"app": "mysql"}, "ports": [{"port": 3306, "name": "mysql"}]}})
    apps.create_namespaced_stateful_set(NS, sts)

    def ready_replicas() -> int:  # status is None until the controller first writes it
        st = apps.read_namespaced_stateful_set("mysql", NS).status
        return (st.ready_replicas if st else 0) or 0
    until(lambda: ready_replicas() == 1, 60, "the MySQL StatefulSet to be Ready")
    log = core.read_namespaced_pod_log("mysql-0", NS)
    assert "ready for connections" in log and "[ERROR]" not in log
    assert core.read_namespaced_persistent_volume_claim("data-mysql-0", NS).status.phase == "Bound"


@pytest.mark.parametrize("argv, env, up, out", [
    (["mysqladmin", "ping"], {}, True, ("mysqld is alive\n", "", 0)),
    (["mysql", "-h", "127.0.0.1", "-e", "SELECT 1"], {"MYSQL_ROOT_PASSWORD": "x"}, True,
     ("", "ERROR 1045 (28000): Access denied for user 'root'@'localhost' (using password: NO)\n", 1)),
    (["mysql", "-h", "127.0.0.1", "-uroot", "-px", "-e", "SELECT 1"], {"MYSQL_ROOT_PASSWORD": "x"}, True,
     ("1\n1\n", "", 0)),
    (["mysql", "-h", "127.0.0.1", "-e", "SELECT 1"], {}, False,
     ("", "ERROR 2003 (HY000): Can't connect to MySQL server on '127.0.0.1:3306' (111)\n", 1)),
    (["pg_isready", "-U", "postgres"], {}, True, ("/var/run/postgresql:5432 - accepting connections\n", "", 0)),
    (["pg_isready", "-h", "localhost"], {}, False, ("localhost:5432 - no response\n", "", 2)),
    (["redis-cli", "ping"], {}, False, ("", "Could not connect to Redis at 127.0.0.1:6379: Connection refused\n", 1)),
])
def test_database_clients_answer_probes_like_the_real_ones(argv, env, up, out):
    from sandbox.behaviour.clients import CLIENTS

    assert CLIENTS[argv[0]](argv, env, lambda port: up) == out
