"""A manifest of every kind the sandbox serves, applied with kubectl, and each status checked as a person would."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.server import SandboxServer
from tests.sandbox.conftest import Kubectl
from tests.waiting import until

MANIFEST = """\
apiVersion: v1
kind: Namespace
metadata: {name: kinds}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: app-config, namespace: kinds}
data: {greeting: hello, app.conf: "listen 80;"}
---
apiVersion: v1
kind: Secret
metadata: {name: app-secret, namespace: kinds}
stringData: {password: s3cret}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: app, namespace: kinds}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: kinds}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: manual-pv}
spec:
  capacity: {storage: 5Gi}
  accessModes: [ReadWriteOnce]
  hostPath: {path: /data/manual}
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: fast}
provisioner: rancher.io/local-path
volumeBindingMode: Immediate
allowVolumeExpansion: true
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: kinds}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      serviceAccountName: app
      containers:
      - name: web
        image: nginx:1.27
        ports: [{containerPort: 80, name: http}]
        resources: {requests: {cpu: 100m, memory: 64Mi}}
        env:
        - name: GREETING
          valueFrom: {configMapKeyRef: {name: app-config, key: greeting}}
        volumeMounts: [{name: conf, mountPath: /etc/app}]
        readinessProbe: {httpGet: {path: /, port: http}, periodSeconds: 5}
      volumes: [{name: conf, configMap: {name: app-config}}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: kinds}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: kinds}
spec:
  serviceName: db
  replicas: 2
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers:
      - name: db
        image: redis:7.2
        ports: [{containerPort: 6379}]
        volumeMounts: [{name: data, mountPath: /data}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      storageClassName: fast
      resources: {requests: {storage: 1Gi}}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: kinds}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      containers: [{name: agent, image: busybox:1.36, command: [sh, -c, "while true; do echo tick; sleep 10; done"]}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: once, namespace: kinds}
spec:
  completions: 2
  parallelism: 1
  template:
    spec:
      restartPolicy: Never
      containers: [{name: once, image: busybox:1.36, command: [sh, -c, "echo working; sleep 2; echo done"]}]
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: every-minute, namespace: kinds}
spec:
  schedule: "* * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers: [{name: tick, image: busybox:1.36, command: [sh, -c, "date; echo tick"]}]
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web, namespace: kinds}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 2
  maxReplicas: 5
  metrics: [{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 80}}}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: kinds}
spec:
  rules:
  - host: web.example.com
    http:
      paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-only, namespace: kinds}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress: [{from: [{podSelector: {matchLabels: {app: web}}}]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: reader, namespace: kinds}
rules: [{apiGroups: [""], resources: [pods], verbs: [get, list]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: app-reader, namespace: kinds}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader}
subjects: [{kind: ServiceAccount, name: app, namespace: kinds}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: node-reader}
rules: [{apiGroups: [""], resources: [nodes], verbs: [get, list]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: app-node-reader}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: node-reader}
subjects: [{kind: ServiceAccount, name: app, namespace: kinds}]
---
apiVersion: coordination.k8s.io/v1
kind: Lease
metadata: {name: leader, namespace: kinds}
spec: {holderIdentity: web-0, leaseDurationSeconds: 15}
"""


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SandboxServer, Kubectl]]:
    server = SandboxServer(scenarios=["default"], speed=30.0).start()
    kubeconfig = server.write_kubeconfig(tmp_path_factory.mktemp("kinds") / "config")
    yield server, Kubectl(Path(kubeconfig))
    server.stop()



def _get(k: Kubectl, *args: str) -> dict:
    return json.loads(k("get", *args, "-o", "json"))


def test_every_kind_reaches_its_status(cluster):
    _, k = cluster
    out = k("apply", "-f", "-", stdin=MANIFEST)
    assert out.count(" created") == MANIFEST.count("\nkind: ")
    k("wait", "--for=condition=Available", "deployment/web", "-n", "kinds", "--timeout=60s")
    k("rollout", "status", "statefulset/db", "-n", "kinds", "--timeout=60s")
    k("rollout", "status", "daemonset/agent", "-n", "kinds", "--timeout=60s")
    k("wait", "--for=condition=Complete", "job/once", "-n", "kinds", "--timeout=60s")

    web = _get(k, "deploy", "web", "-n", "kinds")
    assert web["status"]["availableReplicas"] == 2 and web["status"]["updatedReplicas"] == 2
    rs = _get(k, "rs", "-n", "kinds", "-l", "app=web")["items"]
    assert len(rs) == 1 and rs[0]["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1"
    ep = _get(k, "endpoints", "web", "-n", "kinds")
    assert len(ep["subsets"][0]["addresses"]) == 2 and ep["subsets"][0]["ports"] == [{"name": "http", "port": 80, "protocol": "TCP"}]
    slices = _get(k, "endpointslices", "-n", "kinds", "-l", "kubernetes.io/service-name=web")["items"]
    assert len(slices) == 1 and len(slices[0]["endpoints"]) == 2

    db = _get(k, "sts", "db", "-n", "kinds")
    assert db["status"]["readyReplicas"] == 2
    assert sorted(p["metadata"]["name"] for p in _get(k, "pods", "-n", "kinds", "-l", "app=db")["items"]) == ["db-0", "db-1"]
    pvcs = {p["metadata"]["name"]: p for p in _get(k, "pvc", "-n", "kinds")["items"]}
    assert pvcs["data-db-0"]["status"]["phase"] == "Bound" and pvcs["data-db-1"]["status"]["phase"] == "Bound"
    assert pvcs["data"]["status"].get("phase") == "Pending"  # WaitForFirstConsumer and no consumer yet
    assert until(lambda: _events_for(k, "data", "WaitForFirstConsumer"))

    agent = _get(k, "ds", "agent", "-n", "kinds")
    assert agent["status"]["desiredNumberScheduled"] == 2 and agent["status"]["numberReady"] == 2  # not the tainted node

    job = _get(k, "job", "once", "-n", "kinds")
    assert job["status"]["succeeded"] == 2 and any(c["type"] == "Complete" for c in job["status"]["conditions"])
    pod = _get(k, "pods", "-n", "kinds", "-l", "job-name=once")["items"][0]
    assert pod["status"]["phase"] == "Succeeded"
    assert k("logs", pod["metadata"]["name"], "-n", "kinds").splitlines() == ["working", "done"]

    cron = until(lambda: _get(k, "cronjob", "every-minute", "-n", "kinds").get("status", {}).get("lastScheduleTime"), 60)
    assert cron
    hpa = until(lambda: _get(k, "hpa", "web", "-n", "kinds").get("status", {}).get("currentMetrics"))
    assert hpa[0]["resource"]["name"] == "cpu"
    assert k("get", "ingress", "web", "-n", "kinds", "-o", "jsonpath={.spec.rules[0].host}") == "web.example.com"
    assert k("auth", "can-i", "list", "pods", "-n", "kinds", "--as", "system:serviceaccount:kinds:app").strip() == "yes"
    assert k("auth", "can-i", "list", "nodes", "--as", "system:serviceaccount:kinds:app").strip() == "yes"
    assert "metrics.k8s.io/v1beta1" in k("api-resources", "--api-group=metrics.k8s.io")


def _events_for(k: Kubectl, name: str, reason: str) -> list[dict]:
    return [e for e in _get(k, "events", "-n", "kinds")["items"]
            if e["involvedObject"]["name"] == name and e["reason"] == reason]


def test_pod_io_logs_exec_and_rollouts(cluster):
    _, k = cluster
    k("wait", "--for=condition=Available", "deployment/web", "-n", "kinds", "--timeout=60s")
    pod = sorted(p["metadata"]["name"] for p in _get(k, "pods", "-n", "kinds", "-l", "app=web")["items"])[0]
    assert k("exec", pod, "-n", "kinds", "--", "cat", "/etc/app/greeting") == "hello"
    env = k("exec", pod, "-n", "kinds", "--", "env")
    assert "GREETING=hello" in env.splitlines()
    page = k("exec", pod, "-n", "kinds", "--", "curl", "-s", "http://web.kinds.svc.cluster.local")
    assert "Welcome to nginx!" in page
    failed = k.run("exec", pod, "-n", "kinds", "--", "sh", "-c", "exit 3", check=False)
    assert failed.returncode == 3

    agent = _get(k, "pods", "-n", "kinds", "-l", "app=agent")["items"][0]["metadata"]["name"]
    until(lambda: len(k("logs", agent, "-n", "kinds").splitlines()) >= 3)
    assert k("logs", agent, "-n", "kinds", "--tail=2").splitlines() == ["tick", "tick"]
    stamped = k("logs", agent, "-n", "kinds", "--tail=1", "--timestamps").strip()
    assert stamped.endswith(" tick") and stamped[:4].isdigit() and "T" in stamped.split()[0]
    assert k("logs", agent, "-n", "kinds", "-c", "agent", "--since=1h").count("tick") >= 3
    missing = k.run("logs", agent, "-n", "kinds", "-c", "nope", check=False)
    assert missing.returncode != 0 and "container nope is not valid for pod" in missing.stderr

    k("set", "image", "deployment/web", "web=nginx:1.26", "-n", "kinds")
    assert "successfully rolled out" in k("rollout", "status", "deployment/web", "-n", "kinds", "--timeout=60s")
    history = k("rollout", "history", "deployment/web", "-n", "kinds")
    assert [line.split()[0] for line in history.splitlines()[2:] if line.strip()] == ["1", "2"]
    k("rollout", "undo", "deployment/web", "-n", "kinds")
    k("rollout", "status", "deployment/web", "-n", "kinds", "--timeout=60s")
    assert k("get", "deploy", "web", "-n", "kinds", "-o", "jsonpath={.spec.template.spec.containers[0].image}") == "nginx:1.27"
