"""Tests for sandbox.tables: the server-side printers behind ``kubectl get``.

Expected cells are what kube-apiserver's printers (pkg/printers/internalversion/printers.go) produce for
the same objects, so the sandbox prints exactly what a real cluster prints.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from sandbox.tables import PRINTERS, human_duration, to_table

NOW = datetime(2026, 11, 26, 12, 0, 0, tzinfo=UTC)


def ts(**ago: float) -> str:
    """An RFC3339 timestamp ``ago`` before NOW."""
    return (NOW - timedelta(**ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def meta(name: str = "x", **ago: float) -> dict:
    return {"name": name, "namespace": "default", "creationTimestamp": ts(**(ago or {"minutes": 5}))}


def table(objs: list[dict], kind: str, group: str = "", **kw) -> dict:
    return to_table(objs, kind, group, now=NOW, **kw)


def row(obj: dict, kind: str, group: str = "", **kw) -> list:
    """The cells of a single object's row, keyed by column name for readability."""
    t = table([obj], kind, group, **kw)
    return t["rows"][0]["cells"]


def cells(obj: dict, kind: str, group: str = "", **kw) -> dict:
    t = table([obj], kind, group, **kw)
    return dict(zip([c["name"] for c in t["columnDefinitions"]], t["rows"][0]["cells"], strict=True))


def headers(kind: str, group: str = "") -> tuple[list[str], list[str]]:
    """(default headers, wide-only headers) as kubectl prints them."""
    cols = table([], kind, group)["columnDefinitions"]
    return (
        [c["name"].upper() for c in cols if c["priority"] == 0],
        [c["name"].upper() for c in cols if c["priority"] > 0],
    )


# --------------------------------------------------------------------------------------------------------
# human_duration and ages
# --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (timedelta(seconds=-5), "<invalid>"),
        (timedelta(seconds=-1), "0s"),
        (timedelta(0), "0s"),
        (timedelta(seconds=5), "5s"),
        (timedelta(seconds=119), "119s"),
        (timedelta(minutes=2), "2m"),
        (timedelta(minutes=3, seconds=20), "3m20s"),
        (timedelta(minutes=9, seconds=59), "9m59s"),
        (timedelta(minutes=10, seconds=30), "10m"),
        (timedelta(minutes=179), "179m"),
        (timedelta(hours=3), "3h"),
        (timedelta(hours=5, minutes=7), "5h7m"),
        (timedelta(hours=8, minutes=30), "8h"),
        (timedelta(hours=47), "47h"),
        (timedelta(days=2), "2d"),
        (timedelta(days=3, hours=4), "3d4h"),
        (timedelta(days=8, hours=4), "8d"),
        (timedelta(days=729), "729d"),
        (timedelta(days=365 * 2), "2y"),
        (timedelta(days=365 * 3 + 10), "3y10d"),
        (timedelta(days=365 * 9 + 10), "9y"),
    ],
)
def test_human_duration(delta: timedelta, expected: str) -> None:
    assert human_duration(delta) == expected


def test_age_cells_use_now_and_unknown_without_timestamp() -> None:
    assert cells({"metadata": meta("a", seconds=5)}, "ConfigMap")["Age"] == "5s"
    assert cells({"metadata": meta("a", minutes=3, seconds=20)}, "ConfigMap")["Age"] == "3m20s"
    assert cells({"metadata": {"name": "a"}}, "ConfigMap")["Age"] == "<unknown>"
    assert (
        cells({"metadata": {"name": "a", "creationTimestamp": "garbage"}}, "ConfigMap")["Age"] == "<unknown>"
    )
    fractional = {"name": "a", "creationTimestamp": "2026-11-26T11:59:30.123456789Z"}
    assert cells({"metadata": fractional}, "ConfigMap")["Age"] == "29s"
    offset = {"name": "a", "creationTimestamp": "2026-11-26T13:00:00+02:00"}  # 11:00Z
    assert cells({"metadata": offset}, "ConfigMap")["Age"] == "60m"


def test_default_now_is_current_time_and_naive_now_is_utc() -> None:
    created = (datetime.now(UTC) - timedelta(seconds=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    age = to_table([{"metadata": {"name": "a", "creationTimestamp": created}}], "ConfigMap", "")["rows"][0]
    assert age["cells"][2] in {"29s", "30s", "31s", "32s"}
    naive = to_table([{"metadata": meta("a", seconds=7)}], "ConfigMap", "", now=NOW.replace(tzinfo=None))
    assert naive["rows"][0]["cells"][2] == "7s"


# --------------------------------------------------------------------------------------------------------
# Table envelope and includeObject
# --------------------------------------------------------------------------------------------------------


def test_table_envelope() -> None:
    t = table([{"metadata": meta("cfg")}], "ConfigMap", list_meta={"resourceVersion": "42"})
    assert t["kind"] == "Table"
    assert t["apiVersion"] == "meta.k8s.io/v1"
    assert t["metadata"] == {"resourceVersion": "42"}
    assert table([], "ConfigMap")["metadata"] == {}
    for column in t["columnDefinitions"]:
        assert set(column) == {"name", "type", "format", "description", "priority"}
    assert t["columnDefinitions"][0]["format"] == "name"
    assert t["rows"][0]["cells"] == ["cfg", 0, "5m"]
    json.dumps(t)  # must be serialisable as-is


def test_include_object_variants() -> None:
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta("cfg"), "data": {"a": "b"}}
    metadata_row = table([obj], "ConfigMap")["rows"][0]
    assert metadata_row["object"] == {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": obj["metadata"],
    }
    assert table([obj], "ConfigMap", include_object="Object")["rows"][0]["object"] == obj
    assert "object" not in table([obj], "ConfigMap", include_object="None")["rows"][0]
    assert table([{}], "ConfigMap")["rows"][0]["object"]["metadata"] == {}


# --------------------------------------------------------------------------------------------------------
# Column layouts: kubectl upper-cases the names; priority>0 columns only show with -o wide.
# --------------------------------------------------------------------------------------------------------

EXPECTED_HEADERS = {
    ("Pod", ""): (
        ["NAME", "READY", "STATUS", "RESTARTS", "AGE"],
        ["IP", "NODE", "NOMINATED NODE", "READINESS GATES"],
    ),
    ("Namespace", ""): (["NAME", "STATUS", "AGE"], []),
    ("Node", ""): (
        ["NAME", "STATUS", "ROLES", "AGE", "VERSION"],
        ["INTERNAL-IP", "EXTERNAL-IP", "OS-IMAGE", "KERNEL-VERSION", "CONTAINER-RUNTIME"],
    ),
    ("Service", ""): (["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"], ["SELECTOR"]),
    ("Endpoints", ""): (["NAME", "ENDPOINTS", "AGE"], []),
    ("EndpointSlice", "discovery.k8s.io"): (["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"], []),
    ("ConfigMap", ""): (["NAME", "DATA", "AGE"], []),
    ("Secret", ""): (["NAME", "TYPE", "DATA", "AGE"], []),
    ("ServiceAccount", ""): (["NAME", "SECRETS", "AGE"], []),
    ("PersistentVolume", ""): (
        [
            "NAME",
            "CAPACITY",
            "ACCESS MODES",
            "RECLAIM POLICY",
            "STATUS",
            "CLAIM",
            "STORAGECLASS",
            "VOLUMEATTRIBUTESCLASS",
            "REASON",
            "AGE",
        ],
        ["VOLUMEMODE"],
    ),
    ("PersistentVolumeClaim", ""): (
        [
            "NAME",
            "STATUS",
            "VOLUME",
            "CAPACITY",
            "ACCESS MODES",
            "STORAGECLASS",
            "VOLUMEATTRIBUTESCLASS",
            "AGE",
        ],
        ["VOLUMEMODE"],
    ),
    ("StorageClass", "storage.k8s.io"): (
        ["NAME", "PROVISIONER", "RECLAIMPOLICY", "VOLUMEBINDINGMODE", "ALLOWVOLUMEEXPANSION", "AGE"],
        [],
    ),
    ("Event", ""): (
        ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"],
        ["SUBOBJECT", "SOURCE", "FIRST SEEN", "COUNT", "NAME"],
    ),
    ("Event", "events.k8s.io"): (
        ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"],
        ["SUBOBJECT", "SOURCE", "FIRST SEEN", "COUNT", "NAME"],
    ),
    ("Deployment", "apps"): (
        ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"],
        ["CONTAINERS", "IMAGES", "SELECTOR"],
    ),
    ("ReplicaSet", "apps"): (
        ["NAME", "DESIRED", "CURRENT", "READY", "AGE"],
        ["CONTAINERS", "IMAGES", "SELECTOR"],
    ),
    ("StatefulSet", "apps"): (["NAME", "READY", "AGE"], ["CONTAINERS", "IMAGES"]),
    ("DaemonSet", "apps"): (
        ["NAME", "DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE", "NODE SELECTOR", "AGE"],
        ["CONTAINERS", "IMAGES", "SELECTOR"],
    ),
    ("Job", "batch"): (
        ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"],
        ["CONTAINERS", "IMAGES", "SELECTOR"],
    ),
    ("CronJob", "batch"): (
        ["NAME", "SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE", "LAST SCHEDULE", "AGE"],
        ["CONTAINERS", "IMAGES", "SELECTOR"],
    ),
    ("HorizontalPodAutoscaler", "autoscaling"): (
        ["NAME", "REFERENCE", "TARGETS", "MINPODS", "MAXPODS", "REPLICAS", "AGE"],
        [],
    ),
    ("Ingress", "networking.k8s.io"): (["NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE"], []),
    ("NetworkPolicy", "networking.k8s.io"): (["NAME", "POD-SELECTOR", "AGE"], []),
    ("RoleBinding", "rbac.authorization.k8s.io"): (
        ["NAME", "ROLE", "AGE"],
        ["USERS", "GROUPS", "SERVICEACCOUNTS"],
    ),
    ("ClusterRoleBinding", "rbac.authorization.k8s.io"): (
        ["NAME", "ROLE", "AGE"],
        ["USERS", "GROUPS", "SERVICEACCOUNTS"],
    ),
    ("Lease", "coordination.k8s.io"): (["NAME", "HOLDER", "AGE"], []),
    ("Role", "rbac.authorization.k8s.io"): (["NAME", "CREATED AT"], []),
    ("ClusterRole", "rbac.authorization.k8s.io"): (["NAME", "CREATED AT"], []),
    ("CustomResourceDefinition", "apiextensions.k8s.io"): (["NAME", "CREATED AT"], []),
    ("Widget", "example.com"): (["NAME", "CREATED AT"], []),
    ("Pod", "apps"): (["NAME", "CREATED AT"], []),  # kind and group must both match
}


@pytest.mark.parametrize(("kind", "group"), list(EXPECTED_HEADERS))
def test_headers(kind: str, group: str) -> None:
    assert headers(kind, group) == EXPECTED_HEADERS[(kind, group)]


def test_group_spellings_are_tolerated() -> None:
    assert headers("Pod", "core") == EXPECTED_HEADERS[("Pod", "")]
    assert headers("Deployment", "apps/v1") == EXPECTED_HEADERS[("Deployment", "apps")]
    assert headers("pod", "") == EXPECTED_HEADERS[("Pod", "")]


# --------------------------------------------------------------------------------------------------------
# Pods
# --------------------------------------------------------------------------------------------------------


def running_pod(name: str = "web-1", **status: object) -> dict:
    pod = {
        "metadata": meta(name, hours=2),
        "spec": {"nodeName": "node-a", "containers": [{"name": "web", "image": "nginx"}]},
        "status": {
            "phase": "Running",
            "podIP": "10.244.0.5",
            "podIPs": [{"ip": "10.244.0.5"}],
            "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [
                {
                    "name": "web",
                    "ready": True,
                    "restartCount": 0,
                    "state": {"running": {"startedAt": ts(hours=2)}},
                }
            ],
        },
    }
    pod["status"].update(status)
    return pod


def test_running_pod() -> None:
    assert row(running_pod(), "Pod") == [
        "web-1",
        "1/1",
        "Running",
        "0",
        "120m",
        "10.244.0.5",
        "node-a",
        "<none>",
        "<none>",
    ]


def test_crash_looping_pod_with_last_restart() -> None:
    pod = running_pod("crash")
    pod["status"]["conditions"] = [{"type": "Ready", "status": "False"}]
    pod["status"]["containerStatuses"] = [
        {
            "name": "web",
            "ready": False,
            "restartCount": 5,
            "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s"}},
            "lastState": {
                "terminated": {"exitCode": 1, "reason": "Error", "finishedAt": ts(minutes=3, seconds=20)}
            },
        }
    ]
    c = cells(pod, "Pod")
    assert (c["Ready"], c["Status"], c["Restarts"]) == ("0/1", "CrashLoopBackOff", "5 (3m20s ago)")


def test_restarts_without_last_termination_time_are_plain() -> None:
    pod = running_pod()
    pod["status"]["containerStatuses"][0]["restartCount"] = 2
    assert cells(pod, "Pod")["Restarts"] == "2"


def test_pending_pod_without_status_and_wide_defaults() -> None:
    pod = {"metadata": meta("p"), "spec": {"containers": [{"name": "a"}, {"name": "b"}]}}
    assert row(pod, "Pod") == ["p", "0/2", "Pending", "0", "5m", "<none>", "<none>", "<none>", "<none>"]


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ({"waiting": {"reason": "ContainerCreating"}}, "ContainerCreating"),
        ({"waiting": {"reason": "ImagePullBackOff"}}, "ImagePullBackOff"),
        ({"terminated": {"reason": "OOMKilled", "exitCode": 137}}, "OOMKilled"),
        ({"terminated": {"exitCode": 3}}, "ExitCode:3"),
        ({"terminated": {"exitCode": 0, "signal": 9}}, "Signal:9"),
    ],
)
def test_container_state_reasons(state: dict, expected: str) -> None:
    pod = running_pod()
    pod["status"]["containerStatuses"][0].update({"ready": False, "state": state})
    assert cells(pod, "Pod")["Status"] == expected


def test_completed_pod_and_row_conditions() -> None:
    pod = running_pod("job-abc", phase="Succeeded")
    pod["status"]["containerStatuses"][0].update(
        {"ready": False, "state": {"terminated": {"reason": "Completed"}}}
    )
    t = table([pod], "Pod")
    assert t["rows"][0]["cells"][1:3] == ["0/1", "Completed"]
    assert t["rows"][0]["conditions"] == [
        {
            "type": "Completed",
            "status": "True",
            "reason": "Succeeded",
            "message": "The pod has completed successfully.",
        }
    ]
    failed = running_pod("f", phase="Failed")
    assert table([failed], "Pod")["rows"][0]["conditions"][0]["reason"] == "Failed"
    assert "conditions" not in table([running_pod()], "Pod")["rows"][0]


def test_completed_container_next_to_running_one() -> None:
    pod = running_pod()
    pod["spec"]["containers"].append({"name": "done"})
    done = {"name": "done", "ready": False, "state": {"terminated": {"reason": "Completed", "exitCode": 0}}}
    pod["status"]["containerStatuses"].append(done)
    assert cells(pod, "Pod")["Status"] == "Running"
    pod["status"]["conditions"] = [{"type": "Ready", "status": "False"}]
    assert cells(pod, "Pod")["Status"] == "NotReady"


def test_terminating_and_node_lost_pods() -> None:
    pod = running_pod()
    pod["metadata"]["deletionTimestamp"] = ts(seconds=1)
    assert cells(pod, "Pod")["Status"] == "Terminating"
    pod["status"]["reason"] = "NodeLost"
    assert cells(pod, "Pod")["Status"] == "Unknown"
    done = running_pod(phase="Succeeded")
    done["status"]["containerStatuses"][0]["state"] = {"terminated": {"reason": "Completed"}}
    done["metadata"]["deletionTimestamp"] = ts(seconds=1)
    assert cells(done, "Pod")["Status"] == "Completed"


def test_pod_status_reason_and_scheduling_gates() -> None:
    evicted = {"metadata": meta("e"), "spec": {}, "status": {"phase": "Failed", "reason": "Evicted"}}
    assert cells(evicted, "Pod")["Status"] == "Evicted"
    gated = {
        "metadata": meta("g"),
        "status": {"phase": "Pending", "conditions": [{"type": "PodScheduled", "reason": "SchedulingGated"}]},
    }
    assert cells(gated, "Pod")["Status"] == "SchedulingGated"


def init_pod(*init_statuses: dict, initialized: bool = False) -> dict:
    conditions = [{"type": "Initialized", "status": "True" if initialized else "False"}]
    return {
        "metadata": meta("init"),
        "spec": {"initContainers": [{"name": "i1"}, {"name": "i2"}], "containers": [{"name": "app"}]},
        "status": {
            "phase": "Pending",
            "conditions": conditions,
            "initContainerStatuses": list(init_statuses),
            "containerStatuses": [{"name": "app", "state": {"waiting": {"reason": "PodInitializing"}}}],
        },
    }


@pytest.mark.parametrize(
    ("second", "expected"),
    [
        ({"state": {"running": {}}}, "Init:1/2"),
        ({"state": {"waiting": {"reason": "PodInitializing"}}}, "Init:1/2"),
        ({"state": {"waiting": {"reason": "CrashLoopBackOff"}}, "restartCount": 3}, "Init:CrashLoopBackOff"),
        ({"state": {"terminated": {"reason": "Error", "exitCode": 1}}}, "Init:Error"),
        ({"state": {"terminated": {"exitCode": 2}}}, "Init:ExitCode:2"),
        ({"state": {"terminated": {"exitCode": 2, "signal": 15}}}, "Init:Signal:15"),
    ],
)
def test_init_container_states(second: dict, expected: str) -> None:
    pod = init_pod({"name": "i1", "state": {"terminated": {"exitCode": 0}}}, {"name": "i2", **second})
    c = cells(pod, "Pod")
    assert (c["Ready"], c["Status"]) == ("0/1", expected)


def test_init_restarts_count_while_initializing() -> None:
    pod = init_pod(
        {"name": "i1", "restartCount": 4, "state": {"waiting": {"reason": "CrashLoopBackOff"}}},
        {"name": "i2", "state": {"waiting": {"reason": "PodInitializing"}}},
    )
    assert cells(pod, "Pod")["Restarts"] == "4"
    done = init_pod(
        {"name": "i1", "restartCount": 4, "state": {"terminated": {"exitCode": 0}}},
        {"name": "i2", "state": {"terminated": {"exitCode": 0}}},
    )
    c = cells(done, "Pod")
    assert (c["Status"], c["Restarts"]) == ("PodInitializing", "0")  # init restarts stop counting once done


def test_sidecar_init_container_counts_as_container() -> None:
    pod = running_pod()
    pod["spec"]["initContainers"] = [{"name": "proxy", "restartPolicy": "Always"}]
    pod["status"]["conditions"].append({"type": "Initialized", "status": "True"})
    sidecar = {
        "name": "proxy",
        "ready": True,
        "started": True,
        "restartCount": 1,
        "state": {"running": {}},
        "lastState": {"terminated": {"exitCode": 1, "finishedAt": ts(minutes=1)}},
    }
    pod["status"]["initContainerStatuses"] = [sidecar]
    c = cells(pod, "Pod")
    assert (c["Ready"], c["Status"], c["Restarts"]) == ("2/2", "Running", "1 (60s ago)")


def test_pod_wide_cells() -> None:
    pod = running_pod()
    pod["status"].update({"nominatedNodeName": "node-b", "podIPs": [{"ip": "10.1.1.1"}, {"ip": "fd00::1"}]})
    pod["spec"]["readinessGates"] = [{"conditionType": "lb/ready"}, {"conditionType": "other"}]
    pod["status"]["conditions"].append({"type": "lb/ready", "status": "True"})
    c = cells(pod, "Pod")
    assert (c["IP"], c["Node"], c["Nominated Node"], c["Readiness Gates"]) == (
        "10.1.1.1",
        "node-a",
        "node-b",
        "1/2",
    )


# --------------------------------------------------------------------------------------------------------
# Workloads
# --------------------------------------------------------------------------------------------------------

TEMPLATE = {
    "metadata": {"labels": {"app": "web"}},
    "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}, {"name": "log", "image": "fluent-bit"}]},
}


def test_deployment() -> None:
    deploy = {
        "metadata": meta("web", days=3),
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}}, "template": TEMPLATE},
        "status": {"replicas": 3, "readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2},
    }
    assert row(deploy, "Deployment", "apps") == [
        "web",
        "2/3",
        3,
        2,
        "3d",
        "web,log",
        "nginx:1.27,fluent-bit",
        "app=web",
    ]


def test_deployment_defaults_and_selectors() -> None:
    bare = {"metadata": meta("d")}
    assert row(bare, "Deployment", "apps") == ["d", "0/1", 0, 0, "5m", "", "", ""]
    selector = {
        "matchLabels": {"tier": "front", "app": "web"},
        "matchExpressions": [
            {"key": "env", "operator": "In", "values": ["prod", "dev"]},
            {"key": "canary", "operator": "DoesNotExist"},
            {"key": "zone", "operator": "NotIn", "values": ["b"]},
            {"key": "owner", "operator": "Exists"},
        ],
    }
    deploy = {"metadata": meta("d"), "spec": {"selector": selector}}
    assert cells(deploy, "Deployment", "apps")["Selector"] == (
        "app=web,!canary,env in (dev,prod),owner,tier=front,zone notin (b)"
    )
    bad = {
        "metadata": meta("d"),
        "spec": {"selector": {"matchExpressions": [{"key": "a", "operator": "Nope"}]}},
    }
    assert cells(bad, "Deployment", "apps")["Selector"] == "<invalid>"
    assert cells({"metadata": meta("r"), "spec": bad["spec"]}, "ReplicaSet", "apps")["Selector"] == "<error>"


def test_replica_set_stateful_set_daemon_set() -> None:
    rs = {
        "metadata": meta("web-5d4f", hours=1),
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}}, "template": TEMPLATE},
        "status": {"replicas": 3, "readyReplicas": 1},
    }
    assert row(rs, "ReplicaSet", "apps") == [
        "web-5d4f",
        3,
        3,
        1,
        "60m",
        "web,log",
        "nginx:1.27,fluent-bit",
        "app=web",
    ]
    sts = {
        "metadata": meta("db"),
        "spec": {"replicas": 3, "template": TEMPLATE},
        "status": {"readyReplicas": 3},
    }
    assert row(sts, "StatefulSet", "apps") == ["db", "3/3", "5m", "web,log", "nginx:1.27,fluent-bit"]
    ds = {
        "metadata": meta("agent"),
        "spec": {
            "selector": {"matchLabels": {"app": "agent"}},
            "template": {
                "spec": {
                    "nodeSelector": {"kubernetes.io/os": "linux"},
                    "containers": [{"name": "a", "image": "i"}],
                }
            },
        },
        "status": {
            "desiredNumberScheduled": 3,
            "currentNumberScheduled": 3,
            "numberReady": 2,
            "updatedNumberScheduled": 3,
            "numberAvailable": 2,
        },
    }
    assert row(ds, "DaemonSet", "apps") == [
        "agent",
        3,
        3,
        2,
        3,
        2,
        "kubernetes.io/os=linux",
        "5m",
        "a",
        "i",
        "app=agent",
    ]
    assert cells({"metadata": meta("x")}, "DaemonSet", "apps")["Node Selector"] == "<none>"
    assert cells({"metadata": meta("x")}, "DaemonSet", "apps")["Selector"] == "<none>"


def job(conditions: list[dict] | None = None, **spec: object) -> dict:
    return {
        "metadata": meta("pi", minutes=10),
        "spec": {"template": {"spec": {"containers": [{"name": "pi", "image": "perl"}]}}, **spec},
        "status": {"succeeded": 1, "startTime": ts(minutes=10), "conditions": conditions or []},
    }


def test_job_complete() -> None:
    done = job([{"type": "Complete", "status": "True"}], completions=1)
    done["status"]["completionTime"] = ts(minutes=9, seconds=15)
    assert row(done, "Job", "batch") == ["pi", "Complete", "1/1", "45s", "10m", "pi", "perl", "<none>"]


@pytest.mark.parametrize(
    ("conditions", "status"),
    [
        ([], "Running"),
        ([{"type": "Failed", "status": "True"}], "Failed"),
        ([{"type": "Suspended", "status": "True"}], "Suspended"),
        ([{"type": "FailureTarget", "status": "True"}], "FailureTarget"),
        ([{"type": "Complete", "status": "False"}], "Running"),
    ],
)
def test_job_status(conditions: list[dict], status: str) -> None:
    c = cells(job(conditions), "Job", "batch")
    assert (c["Status"], c["Duration"]) == (status, "10m")


def test_job_completions_and_terminating() -> None:
    assert cells(job(completions=5), "Job", "batch")["Completions"] == "1/5"
    assert cells(job(parallelism=3), "Job", "batch")["Completions"] == "1/1 of 3"
    assert cells(job(), "Job", "batch")["Completions"] == "1/1"
    deleting = job()
    deleting["metadata"]["deletionTimestamp"] = ts(seconds=1)
    assert cells(deleting, "Job", "batch")["Status"] == "Terminating"
    assert cells({"metadata": meta("j")}, "Job", "batch")["Duration"] == ""


def test_cron_job() -> None:
    cj = {
        "metadata": meta("nightly", days=2),
        "spec": {
            "schedule": "0 3 * * *",
            "timeZone": "Etc/UTC",
            "jobTemplate": {
                "spec": {"template": {"spec": {"containers": [{"name": "b", "image": "busybox"}]}}}
            },
        },
        "status": {"active": [{"name": "nightly-1"}], "lastScheduleTime": ts(hours=9)},
    }
    assert row(cj, "CronJob", "batch") == [
        "nightly",
        "0 3 * * *",
        "Etc/UTC",
        "False",
        1,
        "9h",
        "2d",
        "b",
        "busybox",
        "<none>",
    ]
    paused = {"metadata": meta("p"), "spec": {"schedule": "@hourly", "suspend": True}}
    c = cells(paused, "CronJob", "batch")
    assert (c["Timezone"], c["Suspend"], c["Active"], c["Last Schedule"]) == ("<none>", "True", 0, "<none>")


def test_hpa() -> None:
    hpa = {
        "metadata": meta("web"),
        "spec": {
            "scaleTargetRef": {"kind": "Deployment", "name": "web"},
            "minReplicas": 2,
            "maxReplicas": 10,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}},
                },
                {
                    "type": "Resource",
                    "resource": {
                        "name": "memory",
                        "target": {"type": "AverageValue", "averageValue": "500Mi"},
                    },
                },
            ],
        },
        "status": {
            "currentReplicas": 3,
            "currentMetrics": [
                {"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 23}}}
            ],
        },
    }
    assert row(hpa, "HorizontalPodAutoscaler", "autoscaling") == [
        "web",
        "Deployment/web",
        "cpu: 23%/50%, memory: <unknown>/500Mi",
        "2",
        10,
        3,
        "5m",
    ]


def test_hpa_defaults_v1_and_more_metrics() -> None:
    bare = {
        "metadata": meta("h"),
        "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "maxReplicas": 4},
    }
    c = cells(bare, "HorizontalPodAutoscaler", "autoscaling")
    assert (c["Targets"], c["MinPods"], c["MaxPods"], c["Replicas"]) == ("cpu: <unknown>/80%", "1", 4, 0)
    v1 = {
        "metadata": meta("h"),
        "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "w"}, "targetCPUUtilizationPercentage": 70},
        "status": {"currentCPUUtilizationPercentage": 12},
    }
    assert cells(v1, "HorizontalPodAutoscaler", "autoscaling")["Targets"] == "cpu: 12%/70%"
    many = {
        "metadata": meta("h"),
        "spec": {
            "metrics": [
                {"type": "Pods", "pods": {"metric": {"name": "qps"}, "target": {"averageValue": "10"}}},
                {"type": "External", "external": {"target": {"type": "Value", "value": "100"}}},
                {"type": "Object", "object": {"target": {"type": "AverageValue", "averageValue": "2"}}},
            ]
        },
        "status": {"currentMetrics": [{"type": "Pods", "pods": {"current": {"averageValue": "4"}}}]},
    }
    assert (
        cells(many, "HorizontalPodAutoscaler", "autoscaling")["Targets"] == "4/10, <unknown>/100 + 1 more..."
    )


# --------------------------------------------------------------------------------------------------------
# Services and networking
# --------------------------------------------------------------------------------------------------------


def service(**spec: object) -> dict:
    return {
        "metadata": meta("web", days=10),
        "spec": {"clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10"], **spec},
    }


def test_cluster_ip_service() -> None:
    svc = service(
        type="ClusterIP", ports=[{"port": 80, "protocol": "TCP", "targetPort": 8080}], selector={"app": "web"}
    )
    assert row(svc, "Service") == ["web", "ClusterIP", "10.96.0.10", "<none>", "80/TCP", "10d", "app=web"]


def test_service_ports_and_types() -> None:
    node_port = service(
        type="NodePort", ports=[{"port": 80, "nodePort": 30080}, {"port": 53, "protocol": "UDP"}]
    )
    c = cells(node_port, "Service")
    assert (c["Port(s)"], c["External-IP"], c["Selector"]) == ("80:30080/TCP,53/UDP", "<none>", "<none>")
    assert cells(service(externalIPs=["1.2.3.4", "5.6.7.8"]), "Service")["External-IP"] == "1.2.3.4,5.6.7.8"
    assert cells(service(), "Service")["Type"] == "ClusterIP"  # API default
    assert cells(service(), "Service")["Port(s)"] == "<none>"
    headless = {
        "metadata": meta("db"),
        "spec": {"clusterIP": "None", "clusterIPs": ["None"], "ports": [{"port": 5432}]},
    }
    assert cells(headless, "Service")["Cluster-IP"] == "None"
    external_name = {
        "metadata": meta("ext"),
        "spec": {"type": "ExternalName", "externalName": "db.example.com"},
    }
    c = cells(external_name, "Service")
    assert (c["Cluster-IP"], c["External-IP"]) == ("<none>", "db.example.com")


def test_load_balancer_service() -> None:
    lb = service(type="LoadBalancer", ports=[{"port": 443, "nodePort": 31443, "protocol": "TCP"}])
    assert cells(lb, "Service")["External-IP"] == "<pending>"
    lb["status"] = {"loadBalancer": {"ingress": [{"ip": "203.0.113.9"}, {"hostname": "lb.example.com"}]}}
    assert cells(lb, "Service")["External-IP"] == "203.0.113.9,lb.example.com"
    lb["spec"]["externalIPs"] = ["198.51.100.1"]
    assert cells(lb, "Service")["External-IP"] == "203.0.113.9,lb.example.com,198.51.100.1"


def test_endpoints() -> None:
    ep = {
        "metadata": meta("web"),
        "subsets": [
            {
                "addresses": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}],
                "ports": [{"name": "http", "port": 80}, {"name": "https", "port": 443}],
            }
        ],
    }
    assert row(ep, "Endpoints") == ["web", "10.0.0.1:80,10.0.0.2:80,10.0.0.1:443 + 1 more...", "5m"]
    assert cells({"metadata": meta("none")}, "Endpoints")["Endpoints"] == "<none>"
    headless = {"metadata": meta("h"), "subsets": [{"addresses": [{"ip": "fd00::1"}]}]}
    assert cells(headless, "Endpoints")["Endpoints"] == "fd00::1"
    v6 = {"metadata": meta("h"), "subsets": [{"addresses": [{"ip": "fd00::1"}], "ports": [{"port": 53}]}]}
    assert cells(v6, "Endpoints")["Endpoints"] == "[fd00::1]:53"


def test_endpoint_slice() -> None:
    eps = {
        "metadata": meta("web-abcde"),
        "addressType": "IPv4",
        "ports": [{"name": "http", "port": 80}, {"name": "named"}, {}, {"port": 9090}],
        "endpoints": [{"addresses": ["10.0.0.1"]}, {"addresses": ["10.0.0.2"]}],
    }
    assert row(eps, "EndpointSlice", "discovery.k8s.io") == [
        "web-abcde",
        "IPv4",
        "80,named,* + 1 more...",
        "10.0.0.1,10.0.0.2",
        "5m",
    ]
    empty = {"metadata": meta("e"), "addressType": "IPv6"}
    assert row(empty, "EndpointSlice", "discovery.k8s.io")[2:4] == ["<unset>", "<unset>"]


def test_ingress() -> None:
    ing = {
        "metadata": meta("web"),
        "spec": {
            "ingressClassName": "nginx",
            "rules": [{"host": "a.example.com"}, {"host": "b.example.com"}],
            "tls": [{"hosts": ["a.example.com"]}],
        },
        "status": {"loadBalancer": {"ingress": [{"ip": "192.0.2.10"}]}},
    }
    assert row(ing, "Ingress", "networking.k8s.io") == [
        "web",
        "nginx",
        "a.example.com,b.example.com",
        "192.0.2.10",
        "80, 443",
        "5m",
    ]
    bare = {"metadata": meta("b"), "spec": {"rules": [{"http": {}}]}}
    assert row(bare, "Ingress", "networking.k8s.io")[1:5] == ["<none>", "*", "", "80"]
    many = {"metadata": meta("m"), "spec": {"rules": [{"host": f"h{i}"} for i in range(5)]}}
    assert cells(many, "Ingress", "networking.k8s.io")["Hosts"] == "h0,h1,h2 + 2 more..."


def test_network_policy() -> None:
    deny_all = {"metadata": meta("deny"), "spec": {"podSelector": {}}}
    assert row(deny_all, "NetworkPolicy", "networking.k8s.io") == ["deny", "<none>", "5m"]
    web = {"metadata": meta("web"), "spec": {"podSelector": {"matchLabels": {"app": "web"}}}}
    assert cells(web, "NetworkPolicy", "networking.k8s.io")["Pod-Selector"] == "app=web"


# --------------------------------------------------------------------------------------------------------
# Cluster, config and storage objects
# --------------------------------------------------------------------------------------------------------


def test_namespace() -> None:
    assert row({"metadata": meta("dev", days=1), "status": {"phase": "Active"}}, "Namespace") == [
        "dev",
        "Active",
        "24h",
    ]
    assert cells({"metadata": meta("x")}, "Namespace")["Status"] == "Active"
    terminating = {"metadata": meta("x"), "status": {"phase": "Terminating"}}
    assert cells(terminating, "Namespace")["Status"] == "Terminating"


def test_node() -> None:
    node = {
        "metadata": {
            "name": "cp-1",
            "creationTimestamp": ts(days=20),
            "labels": {
                "node-role.kubernetes.io/control-plane": "",
                "node-role.kubernetes.io/etcd": "true",
                "kubernetes.io/role": "master",
            },
        },
        "spec": {"unschedulable": True},
        "status": {
            "conditions": [
                {"type": "MemoryPressure", "status": "False"},
                {"type": "Ready", "status": "True"},
            ],
            "addresses": [
                {"type": "InternalIP", "address": "172.18.0.2"},
                {"type": "Hostname", "address": "cp-1"},
            ],
            "nodeInfo": {
                "kubeletVersion": "v1.37.0",
                "osImage": "Debian GNU/Linux 12 (bookworm)",
                "kernelVersion": "6.8.0",
                "containerRuntimeVersion": "containerd://2.1.0",
            },
        },
    }
    assert row(node, "Node") == [
        "cp-1",
        "Ready,SchedulingDisabled",
        "control-plane,etcd,master",
        "20d",
        "v1.37.0",
        "172.18.0.2",
        "<none>",
        "Debian GNU/Linux 12 (bookworm)",
        "6.8.0",
        "containerd://2.1.0",
    ]
    worker = {"metadata": {"name": "w"}, "status": {"conditions": [{"type": "Ready", "status": "Unknown"}]}}
    assert row(worker, "Node")[:5] == ["w", "NotReady", "<none>", "<unknown>", ""]
    assert row({"metadata": {"name": "n"}}, "Node")[1] == "Unknown"
    assert row({"metadata": {"name": "n"}}, "Node")[7:] == ["<unknown>", "<unknown>", "<unknown>"]


def test_config_map_secret_service_account() -> None:
    cm = {"metadata": meta("cfg"), "data": {"a": "1", "b": "2"}, "binaryData": {"c": "AA=="}}
    assert row(cm, "ConfigMap") == ["cfg", 3, "5m"]
    secret = {"metadata": meta("tls"), "type": "kubernetes.io/tls", "data": {"tls.crt": "x", "tls.key": "y"}}
    assert row(secret, "Secret") == ["tls", "kubernetes.io/tls", 2, "5m"]
    assert row({"metadata": meta("s")}, "Secret") == ["s", "Opaque", 0, "5m"]
    sa = {"metadata": meta("default"), "secrets": [{"name": "t"}]}
    assert row(sa, "ServiceAccount") == ["default", 1, "5m"]
    assert row({"metadata": meta("d")}, "ServiceAccount") == ["d", 0, "5m"]


def test_persistent_volume() -> None:
    pv = {
        "metadata": meta("pv-1", days=1),
        "spec": {
            "capacity": {"storage": "10Gi"},
            "accessModes": ["ReadWriteMany", "ReadWriteOnce", "ReadWriteOnce"],
            "persistentVolumeReclaimPolicy": "Delete",
            "claimRef": {"namespace": "default", "name": "data"},
            "storageClassName": "standard",
            "volumeMode": "Block",
        },
        "status": {"phase": "Bound"},
    }
    assert row(pv, "PersistentVolume") == [
        "pv-1",
        "10Gi",
        "RWO,RWX",
        "Delete",
        "Bound",
        "default/data",
        "standard",
        "<unset>",
        "",
        "24h",
        "Block",
    ]
    bare = row({"metadata": meta("p")}, "PersistentVolume")
    assert bare[1:8] == ["0", "", "Retain", "Pending", "", "", "<unset>"]
    assert bare[10] == "Filesystem"
    pv["metadata"]["deletionTimestamp"] = ts(seconds=1)
    pv["metadata"]["annotations"] = {"volume.beta.kubernetes.io/storage-class": "legacy"}
    c = cells(pv, "PersistentVolume")
    assert (c["Status"], c["StorageClass"]) == ("Terminating", "legacy")


def test_persistent_volume_claim() -> None:
    pvc = {
        "metadata": meta("data"),
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": "1Gi"}},
            "storageClassName": "standard",
            "volumeName": "pv-1",
            "volumeAttributesClassName": "gold",
        },
        "status": {"phase": "Bound", "accessModes": ["ReadWriteOnce"], "capacity": {"storage": "10Gi"}},
    }
    assert row(pvc, "PersistentVolumeClaim") == [
        "data",
        "Bound",
        "pv-1",
        "10Gi",
        "RWO",
        "standard",
        "gold",
        "5m",
        "Filesystem",
    ]
    pending = {
        "metadata": meta("p"),
        "spec": {"storageClassName": "standard", "resources": {"requests": {"storage": "1Gi"}}},
    }
    assert row(pending, "PersistentVolumeClaim") == [
        "p",
        "Pending",
        "",
        "",
        "",
        "standard",
        "<unset>",
        "5m",
        "Filesystem",
    ]


def test_storage_class() -> None:
    sc = {
        "metadata": {
            "name": "standard",
            "creationTimestamp": ts(days=3),
            "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
        },
        "provisioner": "rancher.io/local-path",
        "volumeBindingMode": "WaitForFirstConsumer",
        "allowVolumeExpansion": True,
    }
    assert row(sc, "StorageClass", "storage.k8s.io") == [
        "standard (default)",
        "rancher.io/local-path",
        "Delete",
        "WaitForFirstConsumer",
        True,
        "3d",
    ]
    plain = {"metadata": meta("fast"), "provisioner": "csi.example.com", "reclaimPolicy": "Retain"}
    assert row(plain, "StorageClass", "storage.k8s.io") == [
        "fast",
        "csi.example.com",
        "Retain",
        "Immediate",
        False,
        "5m",
    ]


def test_lease_and_bindings() -> None:
    lease = {"metadata": meta("kube-scheduler"), "spec": {"holderIdentity": "cp-1_abc"}}
    assert row(lease, "Lease", "coordination.k8s.io") == ["kube-scheduler", "cp-1_abc", "5m"]
    assert row({"metadata": meta("l")}, "Lease", "coordination.k8s.io") == ["l", "", "5m"]
    binding = {
        "metadata": meta("read-pods"),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "pod-reader"},
        "subjects": [
            {"kind": "User", "name": "jane"},
            {"kind": "User", "name": "joe"},
            {"kind": "Group", "name": "devs"},
            {"kind": "ServiceAccount", "name": "ci", "namespace": "build"},
        ],
    }
    assert row(binding, "RoleBinding", "rbac.authorization.k8s.io") == [
        "read-pods",
        "Role/pod-reader",
        "5m",
        "jane, joe",
        "devs",
        "build/ci",
    ]
    crb = {"metadata": meta("admins"), "roleRef": {"kind": "ClusterRole", "name": "cluster-admin"}}
    assert row(crb, "ClusterRoleBinding", "rbac.authorization.k8s.io") == [
        "admins",
        "ClusterRole/cluster-admin",
        "5m",
        "",
        "",
        "",
    ]


def test_default_table_for_kinds_without_printer() -> None:
    for kind, group in [
        ("Role", "rbac.authorization.k8s.io"),
        ("ClusterRole", "rbac.authorization.k8s.io"),
        ("CustomResourceDefinition", "apiextensions.k8s.io"),
        ("Gadget", "example.com"),
    ]:
        t = table(
            [{"metadata": {"name": "r", "creationTimestamp": "2026-11-26T13:00:00+01:00"}}], kind, group
        )
        assert [c["type"] for c in t["columnDefinitions"]] == ["string", "date"]
        assert t["rows"][0]["cells"] == ["r", "2026-11-26T12:00:00Z"]
    assert table([{}], "Role", "rbac.authorization.k8s.io")["rows"][0]["cells"] == [
        "",
        "0001-01-01T00:00:00Z",
    ]


# --------------------------------------------------------------------------------------------------------
# Events
# --------------------------------------------------------------------------------------------------------


def test_core_event() -> None:
    event = {
        "metadata": meta("web-1.17a"),
        "involvedObject": {"kind": "Pod", "name": "web-1", "fieldPath": "spec.containers{web}"},
        "reason": "BackOff",
        "type": "Warning",
        "message": "Back-off restarting failed container\n",
        "firstTimestamp": ts(minutes=10),
        "lastTimestamp": ts(seconds=75),
        "count": 7,
        "source": {"component": "kubelet", "host": "node-a"},
    }
    assert row(event, "Event") == [
        "75s",
        "Warning",
        "BackOff",
        "pod/web-1",
        "spec.containers{web}",
        "kubelet, node-a",
        "Back-off restarting failed container",
        "10m",
        7,
        "web-1.17a",
    ]


def test_event_time_fallbacks_and_series() -> None:
    new_style = {
        "metadata": meta("e"),
        "involvedObject": {"kind": "Node"},
        "eventTime": "2026-11-26T11:59:00.123456Z",
        "reportingController": "kubelet",
    }
    c = cells(new_style, "Event")
    assert (c["Last Seen"], c["First Seen"], c["Object"], c["Source"], c["Count"]) == (
        "59s",
        "59s",
        "node",
        "kubelet",
        1,
    )
    series = dict(new_style, series={"count": 4, "lastObservedTime": ts(seconds=3)})
    c = cells(series, "Event")
    assert (c["Last Seen"], c["Count"]) == ("3s", 4)
    assert cells({"metadata": meta("e")}, "Event")["Last Seen"] == "<unknown>"


def test_events_k8s_io_event() -> None:
    event = {
        "apiVersion": "events.k8s.io/v1",
        "kind": "Event",
        "metadata": meta("web-1.17b"),
        "regarding": {"kind": "Deployment", "name": "web"},
        "note": "Scaled up replica set web-5d4f to 3",
        "reason": "ScalingReplicaSet",
        "type": "Normal",
        "eventTime": ts(minutes=2),
        "reportingController": "deployment-controller",
        "deprecatedCount": 2,
        "deprecatedSource": {"component": "deployment-controller"},
        "deprecatedFirstTimestamp": ts(minutes=4),
        "deprecatedLastTimestamp": ts(minutes=2),
    }
    assert row(event, "Event", "events.k8s.io") == [
        "2m",
        "Normal",
        "ScalingReplicaSet",
        "deployment/web",
        "",
        "deployment-controller",
        "Scaled up replica set web-5d4f to 3",
        "4m",
        2,
        "web-1.17b",
    ]


# --------------------------------------------------------------------------------------------------------
# Less common built-in printers
# --------------------------------------------------------------------------------------------------------


def test_other_builtin_printers() -> None:
    pdb = {"metadata": meta("pdb"), "spec": {"minAvailable": 2}, "status": {"disruptionsAllowed": 1}}
    assert row(pdb, "PodDisruptionBudget", "policy") == ["pdb", "2", "N/A", 1, "5m"]
    pdb_pct = {"metadata": meta("pdb"), "spec": {"maxUnavailable": "25%"}}
    assert row(pdb_pct, "PodDisruptionBudget", "policy")[1:3] == ["N/A", "25%"]
    rev = {
        "metadata": {
            "name": "web-7b9",
            "creationTimestamp": ts(minutes=5),
            "ownerReferences": [
                {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "web", "controller": True}
            ],
        },
        "revision": 2,
    }
    assert row(rev, "ControllerRevision", "apps") == ["web-7b9", "statefulset.apps/web", 2, "5m"]
    quota = {
        "metadata": meta("q"),
        "status": {
            "hard": {"requests.cpu": "2", "limits.memory": "4Gi", "pods": "10"},
            "used": {"requests.cpu": "500m", "pods": "3"},
        },
    }
    assert row(quota, "ResourceQuota") == [
        "q",
        "pods: 3/10, requests.cpu: 500m/2",
        "limits.memory: 0/4Gi",
        "5m",
    ]
    pc = {"metadata": meta("high"), "value": 1000, "globalDefault": True}
    assert row(pc, "PriorityClass", "scheduling.k8s.io") == ["high", 1000, True, "5m", "PreemptLowerPriority"]
    hook = {"metadata": meta("w"), "webhooks": [{"name": "a"}, {"name": "b"}]}
    assert row(hook, "ValidatingWebhookConfiguration", "admissionregistration.k8s.io") == ["w", 2, "5m"]
    ic = {"metadata": meta("nginx"), "spec": {"controller": "k8s.io/ingress-nginx"}}
    assert row(ic, "IngressClass", "networking.k8s.io") == ["nginx", "k8s.io/ingress-nginx", "<none>", "5m"]
    tmpl = {"metadata": meta("t"), "template": TEMPLATE}
    assert row(tmpl, "PodTemplate") == ["t", "web,log", "nginx:1.27,fluent-bit", "app=web"]


# --------------------------------------------------------------------------------------------------------
# Custom resources
# --------------------------------------------------------------------------------------------------------

PRINTER_COLUMNS = [
    {"name": "Engine", "type": "string", "jsonPath": ".spec.engine"},
    {"name": "Replicas", "type": "integer", "jsonPath": ".spec.replicas"},
    {"name": "Ready", "type": "string", "jsonPath": '.status.conditions[?(@.type=="Ready")].status'},
    {"name": "Weight", "type": "number", "jsonPath": ".spec.weight", "priority": 1},
    {"name": "Paused", "type": "boolean", "jsonPath": ".spec.paused", "priority": 1},
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
    {
        "name": "Primary",
        "type": "string",
        "jsonPath": ".status.nodes[0]",
        "description": "First node",
        "format": "hostname",
    },
]
DATABASE = {
    "apiVersion": "example.com/v1",
    "kind": "Database",
    "metadata": meta("db1", hours=1),
    "spec": {"engine": "postgres", "replicas": 3, "weight": 0.5, "paused": False},
    "status": {
        "nodes": ["db1-0", "db1-1"],
        "conditions": [{"type": "Synced", "status": "False"}, {"type": "Ready", "status": "True"}],
    },
}


def test_custom_resource_printer_columns() -> None:
    t = table([DATABASE], "Database", "example.com", additional_printer_columns=PRINTER_COLUMNS)
    assert [(c["name"], c["type"], c["priority"]) for c in t["columnDefinitions"]] == [
        ("Name", "string", 0),
        ("Engine", "string", 0),
        ("Replicas", "integer", 0),
        ("Ready", "string", 0),
        ("Weight", "number", 1),
        ("Paused", "boolean", 1),
        ("Age", "date", 0),
        ("Primary", "string", 0),
    ]
    assert t["columnDefinitions"][1]["description"] == (
        "Custom resource definition column (in JSONPath format): .spec.engine"
    )
    assert t["columnDefinitions"][7]["description"] == "First node"
    assert t["columnDefinitions"][7]["format"] == "hostname"
    assert t["rows"][0]["cells"] == ["db1", "postgres", 3, "True", 0.5, False, "60m", "db1-0"]


def test_custom_resource_missing_and_mistyped_values() -> None:
    sparse = {"metadata": {"name": "db2"}, "spec": {"replicas": "three", "paused": "no"}}
    cells_ = row(sparse, "Database", "example.com", additional_printer_columns=PRINTER_COLUMNS)
    assert cells_ == ["db2", None, None, None, None, None, None, None]  # missing keys: null cells


def test_custom_resource_string_rendering() -> None:
    columns = [
        {"name": "Spec", "type": "string", "jsonPath": ".spec"},
        {"name": "Count", "type": "string", "jsonPath": ".spec.replicas"},
        {"name": "Flag", "type": "string", "jsonPath": ".spec.paused"},
        {"name": "Ratio", "type": "string", "jsonPath": ".spec.weight"},
        {"name": "Nodes", "type": "string", "jsonPath": ".status.nodes"},
        {"name": "All", "type": "string", "jsonPath": ".status.nodes[*]"},
        {"name": "Last", "type": "string", "jsonPath": ".status.nodes[-1]"},
        {"name": "Label", "type": "string", "jsonPath": ".metadata.labels['app.kubernetes.io/name']"},
        {"name": "Big", "type": "string", "jsonPath": ".spec.big"},
        {"name": "Created", "type": "date", "jsonPath": "{.spec.created}"},
        {"name": "Trunc", "type": "integer", "jsonPath": ".spec.weight"},
    ]
    obj = {
        "metadata": {"name": "x", "labels": {"app.kubernetes.io/name": "shop"}},
        "spec": {
            "replicas": 2,
            "paused": True,
            "weight": 2.5,
            "big": 12345678.0,
            "created": "not-a-date",
            "b": "<&>",
        },
        "status": {"nodes": ["n0", "n1"]},
    }
    assert row(obj, "Thing", "example.com", additional_printer_columns=columns) == [
        "x",
        '{"b":"\\u003c\\u0026\\u003e","big":12345678,"created":"not-a-date","paused":true,"replicas":2,"weight":2.5}',
        "2",
        "true",
        "2.5",
        '["n0","n1"]',
        "n0",
        "n1",
        "shop",
        "1.2345678e+07",
        "<invalid>",
        2,
    ]


def test_custom_resource_filters() -> None:
    columns = [
        {"name": "NotReady", "type": "string", "jsonPath": '.status.conditions[?(@.type!="Ready")].type'},
        {"name": "Big", "type": "string", "jsonPath": ".status.items[?(@.size > 5)].name"},
        {"name": "Has", "type": "string", "jsonPath": ".status.items[?(@.tag)].name"},
        {"name": "Reason", "type": "string", "jsonPath": ".status.conditions[?(@.type=='Missing')].reason"},
        {"name": "Bad", "type": "string", "jsonPath": "spec[[["},
    ]
    obj = dict(
        DATABASE,
        status={
            **DATABASE["status"],
            "items": [{"name": "a", "size": 3}, {"name": "b", "size": 9, "tag": 1}],
        },
    )
    assert row(obj, "Database", "example.com", additional_printer_columns=columns) == [
        "db1",
        "Synced",
        "b",
        "b",
        None,
        None,
    ]


def test_custom_resource_without_printer_columns_serves_age() -> None:
    t = table([DATABASE], "Database", "example.com", additional_printer_columns=[])
    assert [c["name"] for c in t["columnDefinitions"]] == ["Name", "Age"]
    assert t["rows"][0]["cells"] == ["db1", "60m"]


# --------------------------------------------------------------------------------------------------------
# Robustness: odd objects never raise and always fill every column.
# --------------------------------------------------------------------------------------------------------

ODD_OBJECTS = [
    {},
    {"metadata": None, "spec": None, "status": None},
    {"metadata": "x", "spec": "y", "status": 5, "data": "z", "subsets": "nope", "subjects": 3},
    {
        "metadata": {"name": 5, "labels": [], "creationTimestamp": 12},
        "spec": {"containers": "c", "ports": {}},
    },
    {
        "metadata": {"name": "n", "deletionTimestamp": "soon", "ownerReferences": [None, 1]},
        "spec": {
            "replicas": "3",
            "selector": {"matchLabels": None, "matchExpressions": [None]},
            "containers": [None, {"name": None}],
            "initContainers": [{"restartPolicy": 5}],
            "ports": [{"port": "80", "nodePort": None}],
            "metrics": [{"type": "Resource"}, {"type": "Pods", "pods": None}, {"type": "Weird"}],
            "rules": [None, {"host": 7}],
            "capacity": [],
            "accessModes": "RWO",
            "claimRef": "c",
            "podSelector": "all",
        },
        "status": {
            "phase": 3,
            "conditions": "x",
            "containerStatuses": [{"state": "bad", "lastState": {"terminated": {"finishedAt": 1}}}, None],
            "initContainerStatuses": [{"state": {"terminated": None, "waiting": {"reason": None}}}],
            "currentMetrics": [None],
            "loadBalancer": {"ingress": "x"},
            "hard": {"cpu": None},
        },
        "involvedObject": "o",
        "series": {"count": "many"},
        "regarding": 1,
    },
    None,
    "not an object",
]


@pytest.mark.parametrize(("kind", "group"), sorted(PRINTERS) + [("Role", "rbac.authorization.k8s.io")])
def test_printers_survive_odd_objects(kind: str, group: str) -> None:
    t = to_table(ODD_OBJECTS, kind, group, now=NOW)  # type: ignore[arg-type]
    width = len(t["columnDefinitions"])
    assert len(t["rows"]) == len(ODD_OBJECTS)
    for r in t["rows"]:
        assert len(r["cells"]) == width
    json.dumps(t)


def test_custom_columns_survive_odd_definitions_and_objects() -> None:
    columns = [
        None,
        {"name": "A", "type": "integer", "jsonPath": ".spec.a", "priority": "high"},
        {"jsonPath": 5},
    ]
    t = to_table(ODD_OBJECTS, "X", "example.com", now=NOW, additional_printer_columns=columns)  # type: ignore[arg-type]
    assert [c["name"] for c in t["columnDefinitions"]] == ["Name", "A", ""]
    assert all(len(r["cells"]) == 3 for r in t["rows"])


def test_bad_arguments_do_not_raise() -> None:
    t = to_table(None, None, None, list_meta="x", include_object="Bogus", now=NOW)  # type: ignore[arg-type]
    assert t["rows"] == [] and t["metadata"] == {}
    bogus = to_table([{"metadata": meta("a")}], "ConfigMap", "", include_object="Bogus", now=NOW)
    assert bogus["rows"][0]["object"]["kind"] == "PartialObjectMetadata"


# --------------------------------------------------------------------------------------------------------
# The real kubectl reads these tables (skipped when the kubectl binary is not installed).
# --------------------------------------------------------------------------------------------------------


def _kubectl() -> str | None:
    local = Path(sys.executable).parent / "kubectl"
    return str(local) if local.exists() else shutil.which("kubectl")


@pytest.mark.skipif(_kubectl() is None, reason="kubectl binary not installed")
def test_real_kubectl_prints_the_table(tmp_path: Path) -> None:
    pods = [running_pod("web-1"), init_pod({"name": "i1", "state": {"running": {}}})]
    discovery = {
        "/api": {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []},
        "/apis": {"kind": "APIGroupList", "apiVersion": "v1", "groups": []},
        "/api/v1": {
            "kind": "APIResourceList",
            "groupVersion": "v1",
            "resources": [
                {
                    "name": "pods",
                    "singularName": "pod",
                    "namespaced": True,
                    "kind": "Pod",
                    "verbs": ["get", "list"],
                }
            ],
        },
    }

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            if path.endswith("/pods") and "as=Table" in self.headers.get("Accept", ""):
                body = to_table(pods, "Pod", "", list_meta={"resourceVersion": "7"}, now=NOW)
            else:
                body = discovery.get(
                    path, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 404}
                )
            data = json.dumps(body).encode()
            self.send_response(404 if body.get("kind") == "Status" else 200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        kubeconfig = tmp_path / "config"
        kubeconfig.write_text(
            json.dumps(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "clusters": [
                        {"name": "t", "cluster": {"server": f"http://127.0.0.1:{server.server_port}"}}
                    ],
                    "contexts": [{"name": "t", "context": {"cluster": "t", "namespace": "default"}}],
                    "current-context": "t",
                    "users": [],
                }
            )
        )
        env = {**os.environ, "KUBECONFIG": str(kubeconfig), "HOME": str(tmp_path)}

        def kubectl(*args: str) -> list[list[str]]:
            out = subprocess.run(
                [_kubectl(), *args], env=env, capture_output=True, text=True, timeout=60, check=True
            )
            return [line.split() for line in out.stdout.splitlines()]

        assert kubectl("get", "pods") == [
            ["NAME", "READY", "STATUS", "RESTARTS", "AGE"],
            ["web-1", "1/1", "Running", "0", "120m"],
            ["init", "0/1", "Init:0/2", "0", "5m"],
        ]
        wide = kubectl("get", "pods", "-o", "wide")
        assert wide[0] == [
            "NAME",
            "READY",
            "STATUS",
            "RESTARTS",
            "AGE",
            "IP",
            "NODE",
            "NOMINATED",
            "NODE",
            "READINESS",
            "GATES",
        ]
        assert wide[1] == ["web-1", "1/1", "Running", "0", "120m", "10.244.0.5", "node-a", "<none>", "<none>"]
    finally:
        server.shutdown()
        server.server_close()
