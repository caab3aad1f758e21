"""The behaviour of the sandbox cluster: scheduler, kubelet model and controllers, all acting through the
same API semantics as any client, plus the metrics they produce."""

from __future__ import annotations

from sandbox.cluster import Cluster
from sandbox.controllers.autoscale import HPAController, VolumeController
from sandbox.controllers.deployment import DeploymentController
from sandbox.controllers.endpoints import EndpointsController
from sandbox.controllers.events import EventRecorder
from sandbox.controllers.kubelet import Kubelet
from sandbox.controllers.manager import ControllerManager
from sandbox.controllers.replicaset import ReplicaSetController
from sandbox.controllers.scheduler import Scheduler
from sandbox.controllers.workloads import (
    CronJobController,
    DaemonSetController,
    JobController,
    StatefulSetController,
)
from sandbox.metrics import Metrics


class ClusterBehaviour:
    """Everything that makes a stored cluster behave like a running one."""

    def __init__(self, cluster: Cluster, seed: int = 0) -> None:
        self.cluster = cluster
        self.events = EventRecorder(cluster)
        self.kubelet = Kubelet(cluster, self.events, seed)
        self.manager = ControllerManager(cluster)
        for c in (Scheduler(cluster, self.events), self.kubelet, ReplicaSetController(cluster, self.events),
                  DeploymentController(cluster, self.events), StatefulSetController(cluster, self.events),
                  DaemonSetController(cluster, self.events), JobController(cluster, self.events),
                  CronJobController(cluster, self.events), EndpointsController(cluster),
                  HPAController(cluster, self.events, self.kubelet.usage), VolumeController(cluster, self.events)):
            self.manager.add(c)
        self.metrics = Metrics(cluster.store, cluster.clock, self.kubelet.usage)
        self.kubelet.wake = lambda key: self.manager.enqueue("kubelet", key)  # a real container exited

    def start(self) -> None:
        self.manager.start()

    def stop(self) -> None:
        self.manager.stop()
        self.kubelet.close()  # real model-server processes (sandbox/behaviour/serving.py) end with the sandbox

    def idle(self, timeout: float = 10.0) -> bool:
        return self.manager.idle(timeout)
