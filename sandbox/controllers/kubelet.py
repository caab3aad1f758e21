"""The kubelet model: runs the pods bound to each node through the container behaviour model and reports
their status, events, logs and resource usage exactly as a real kubelet would.

Why a model and not processes: there is no container engine here; what agents and evals need is what a
cluster shows (states, reasons, exit codes, restart counts, backoffs, probe results, logs), which the
behaviour model produces deterministically from the pod spec, the seed and the sandbox clock.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Hashable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sandbox.behaviour import model as behaviour
from sandbox.behaviour.serving import ServingProcesses
from sandbox.cluster import SYSTEM, Cluster, WriteOptions
from sandbox.controllers import quantity
from sandbox.controllers.events import EventRecorder
from sandbox.controllers.real import REAL_POLL_S, Probes, RealContainers, exec_probe_argv
from sandbox.errors import ApiError
from sandbox.rbac import Attributes, service_account_user

BACKOFF_START = 10.0
BACKOFF_MAX = 300.0
LOG_HORIZON_MAX = 6 * 3600.0
RUN_HORIZON = 120.0  # first look ahead; extended (x4) as a container keeps running
SERVING_POLL_S = 0.25  # real seconds between looks at a real model server that is not answering yet
SERVING_CHECK_S = 2.0  # real seconds between looks at one that answers (it may die)


def ts(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def ts_nano(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"


@dataclass
class Instance:
    """One run of a container (a restart makes a new one)."""

    started: float
    inp: behaviour.ContainerInput
    run: Any
    container_id: str
    finished: float | None = None
    exit_code: int | None = None
    reason: str = ""
    killed_by_liveness: bool = False

    horizon: float = 0.0
    probes: Probes | None = None  # a real process's probes, run when due (sandbox/controllers/real.py)

    @property
    def real(self) -> bool:
        return getattr(self.run, "real", False)

    def exit_at(self) -> float | None:
        if self.finished is not None:
            return self.finished
        if self.run.exit is not None:
            return self.started + self.run.exit[0]
        return None


@dataclass
class CState:
    name: str
    image: str
    init: bool = False
    restarts: int = 0
    instances: list[Instance] = field(default_factory=list)
    waiting: tuple[str, str] | None = ("ContainerCreating", "")
    next_start: float = 0.0
    pull_failures: int = 0
    pulled: bool = False
    image_id: str = ""
    ready: bool = False
    done: bool = False  # init container completed / main container finished for good

    @property
    def current(self) -> Instance | None:
        return self.instances[-1] if self.instances else None


@dataclass
class PState:
    uid: str
    node: str
    ip: str
    start: float
    containers: dict[str, CState]
    init_order: list[str]
    main_order: list[str]


class Kubelet:
    """One kubelet for every node of the sandbox (events carry the node as their host)."""

    name = "kubelet"
    watches = ("/pods", "/configmaps", "/secrets")

    def __init__(self, cluster: Cluster, events: EventRecorder, seed: int = 0) -> None:
        self.cluster = cluster
        self.events = events
        self.seed = seed
        self.pods_rt = cluster.rt("", "v1", "pods")
        self.state: dict[str, PState] = {}
        self._ips: dict[str, int] = {}
        self._opts = WriteOptions(field_manager="kubelet")
        self._port_names: dict[tuple[str, str, str], dict[str, int]] = {}
        self.resolver_factory: Any = None  # set by the server: namespace -> URL resolver for wget/curl
        self.serving = ServingProcesses()  # serving hook: real llama.cpp servers behind llama.cpp pods
        self.vllm_adapters: dict[tuple[str, str, str], Any] = {}  # simulated vLLM LoRA state (sandbox/pod_io.py)
        self.real = RealContainers()  # real processes for interpreter/shell images (sandbox/jail/)
        self.wake: Any = None  # set by ClusterBehaviour: (namespace, name) → look at that pod now

    def close(self) -> None:
        """Kill the real model-server processes and real containers (the sandbox stops)."""
        self.serving.close()
        self.real.close()

    def resolver(self, namespace: str) -> Any:
        return self.resolver_factory(namespace) if self.resolver_factory else None

    # -- controller protocol -----------------------------------------------------------------------
    def keys_for(self, resource: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> list[Hashable]:
        if resource == "/pods":
            obj = new or old
            if new is None:
                self.state.pop(obj["metadata"].get("uid", ""), None)
                self.serving.stop_pod(obj["metadata"].get("uid", ""))  # serving hook: the pod is gone
                grace = float((obj.get("spec") or {}).get("terminationGracePeriodSeconds", 30))
                self.real.stop_pod(obj["metadata"].get("uid", ""), min(grace / self.cluster.clock.speed, 1.0))
                return []
            if (new.get("spec") or {}).get("nodeName"):
                return [(obj["metadata"]["namespace"], obj["metadata"]["name"])]
            return []
        # A ConfigMap or Secret appeared or changed: pods waiting on it may start now.
        obj = new or old
        ns = obj["metadata"].get("namespace")
        return [(p["metadata"]["namespace"], p["metadata"]["name"]) for p in self.cluster.store.list("/pods", ns)[0]
                if (p.get("spec") or {}).get("nodeName")]

    def reconcile(self, key: Hashable) -> float | None:
        ns, name = key  # type: ignore[misc]
        pod = self.cluster.store.get("/pods", ns, name)
        if pod is None or not (pod.get("spec") or {}).get("nodeName"):
            return None
        now = self.cluster.clock.time()
        st = self._state(pod, now)
        due = self._advance(pod, st, now)
        self._write_status(pod, st, now)
        return None if due is None else max(due - now, 0.01)

    # -- pod state ---------------------------------------------------------------------------------
    def _state(self, pod: dict[str, Any], now: float) -> PState:
        uid = pod["metadata"]["uid"]
        st = self.state.get(uid)
        if st is not None:
            return st
        node = pod["spec"]["nodeName"]
        nodes = sorted(n["metadata"]["name"] for n in self.cluster.store.list("/nodes")[0])
        idx = nodes.index(node) + 1 if node in nodes else 250
        self._ips[node] = self._ips.get(node, 1) + 1
        ip = f"10.244.{idx}.{self._ips[node] % 250 + 2}"
        spec = pod.get("spec") or {}
        containers = {}
        for c in spec.get("initContainers") or []:
            containers[c["name"]] = CState(c["name"], c.get("image", ""), init=True)
        for c in spec.get("containers") or []:
            containers[c["name"]] = CState(c["name"], c.get("image", ""))
        start = _parse_time((pod.get("status") or {}).get("startTime")) or now
        st = PState(uid, node, (pod.get("status") or {}).get("podIP") or ip, start, containers,
                    [c["name"] for c in spec.get("initContainers") or []],
                    [c["name"] for c in spec.get("containers") or []])
        for cs in containers.values():
            cs.next_start = start
        self.state[uid] = st
        return st

    def _container_spec(self, pod: dict[str, Any], name: str) -> dict[str, Any]:
        spec = pod.get("spec") or {}
        for c in (spec.get("initContainers") or []) + (spec.get("containers") or []):
            if c.get("name") == name:
                return c
        return {}

    # -- inputs ------------------------------------------------------------------------------------
    def _resolve_env(self, pod: dict[str, Any], c: dict[str, Any]) -> tuple[dict[str, str] | None, str]:
        """Environment of a container, or (None, message) when a referenced key is missing."""
        ns = pod["metadata"]["namespace"]
        env: dict[str, str] = {"HOSTNAME": pod["metadata"]["name"],
                               "KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"}
        for src in c.get("envFrom") or []:
            ref = src.get("configMapRef") or src.get("secretRef")
            kind = "configmaps" if "configMapRef" in src else "secrets"
            obj = self.cluster.store.get(f"/{kind}", ns, (ref or {}).get("name", ""))
            if obj is None:
                if (ref or {}).get("optional"):
                    continue
                return None, f'{kind[:-1]} "{(ref or {}).get("name")}" not found'
            for k, v in _data(obj).items():
                env[src.get("prefix", "") + k] = v
        for e in c.get("env") or []:
            if "value" in e or "valueFrom" not in e:
                env[e["name"]] = _expand(str(e.get("value", "")), env)
                continue
            vf = e["valueFrom"] or {}
            if "configMapKeyRef" in vf or "secretKeyRef" in vf:
                ref = vf.get("configMapKeyRef") or vf.get("secretKeyRef") or {}
                kind, label = ("configmaps", "ConfigMap") if "configMapKeyRef" in vf else ("secrets", "Secret")
                obj = self.cluster.store.get(f"/{kind}", ns, ref.get("name", ""))
                if obj is None:
                    if ref.get("optional"):
                        continue
                    return None, f'{kind[:-1]} "{ref.get("name")}" not found'
                data = _data(obj)
                if ref.get("key") not in data:
                    if ref.get("optional"):
                        continue
                    return None, f"couldn't find key {ref.get('key')} in {label} {ns}/{ref.get('name')}"
                env[e["name"]] = data[ref["key"]]
            elif "fieldRef" in vf:
                path = (vf["fieldRef"] or {}).get("fieldPath", "")
                env[e["name"]] = self._field_ref(pod, path)
            elif "resourceFieldRef" in vf:
                rf = vf["resourceFieldRef"] or {}
                lim = ((c.get("resources") or {}).get("limits") or {}).get(rf.get("resource", "").split(".")[-1], "0")
                env[e["name"]] = str(int(quantity.parse(lim) / quantity.parse(rf.get("divisor", "1") or "1")))
        return env, ""

    def _field_ref(self, pod: dict[str, Any], path: str) -> str:
        st = self.state.get(pod["metadata"].get("uid", ""))
        values = {"metadata.name": pod["metadata"]["name"], "metadata.namespace": pod["metadata"]["namespace"],
                  "metadata.uid": pod["metadata"].get("uid", ""), "spec.nodeName": pod["spec"].get("nodeName", ""),
                  "spec.serviceAccountName": pod["spec"].get("serviceAccountName", ""),
                  "status.podIP": st.ip if st else "", "status.hostIP": self._host_ip(pod["spec"].get("nodeName"))}
        if path.startswith("metadata.labels['"):
            return (pod["metadata"].get("labels") or {}).get(path[17:-2], "")
        return values.get(path, "")

    def _host_ip(self, node_name: str | None) -> str:
        node = self.cluster.store.get("/nodes", "", node_name or "")
        for a in ((node or {}).get("status") or {}).get("addresses") or []:
            if a.get("type") == "InternalIP":
                return a.get("address", "")
        return ""

    def _files(self, pod: dict[str, Any], c: dict[str, Any]) -> tuple[dict[str, str] | None, str]:
        ns = pod["metadata"]["namespace"]
        volumes = {v.get("name"): v for v in (pod.get("spec") or {}).get("volumes") or []}
        files: dict[str, str] = {}
        for m in c.get("volumeMounts") or []:
            v = volumes.get(m.get("name")) or {}
            src = v.get("configMap") or v.get("secret")
            if src is None:
                continue
            kind = "configmaps" if "configMap" in v else "secrets"
            obj = self.cluster.store.get(f"/{kind}", ns, src.get("name") or src.get("secretName") or "")
            if obj is None:
                if src.get("optional"):
                    continue
                return None, (f'MountVolume.SetUp failed for volume "{m.get("name")}" : {kind[:-1]} '
                              f'"{src.get("name") or src.get("secretName")}" not found')
            data = _data(obj)
            items = src.get("items")
            pairs = [(i.get("key"), i.get("path")) for i in items] if items else [(k, k) for k in data]
            for key, path in pairs:
                if key in data:
                    base = m.get("mountPath", "/").rstrip("/")
                    if m.get("subPath"):
                        if m["subPath"] == path:
                            files[m.get("mountPath", "/")] = data[key]
                    else:
                        files[f"{base}/{path}"] = data[key]
        return files, ""

    def _api_allowed(self, pod: dict[str, Any]):
        ns = pod["metadata"]["namespace"]
        user = service_account_user(ns, (pod.get("spec") or {}).get("serviceAccountName") or "default")

        def allowed(verb: str, group: str, resource: str, namespace: str) -> bool:
            return self.cluster.authorizer.authorize(user, Attributes(verb, namespace or ns, group, resource))[0]

        return allowed

    def _input(self, pod: dict[str, Any], cs: CState, env: dict[str, str], files: dict[str, str], start: float,
               ip: str) -> behaviour.ContainerInput:
        c = self._container_spec(pod, cs.name)
        limits = (c.get("resources") or {}).get("limits") or {}
        return behaviour.ContainerInput(
            image=c.get("image", ""), command=c.get("command"), args=c.get("args"), env=env, files=files,
            memory_limit=quantity.bytes_(limits["memory"]) if "memory" in limits else None,
            cpu_limit=quantity.millicores(limits["cpu"]) if "cpu" in limits else None,
            ports=[p.get("containerPort") for p in c.get("ports") or [] if p.get("containerPort")],
            name=cs.name, pod=pod["metadata"]["name"], namespace=pod["metadata"]["namespace"], seed=self.seed,
            restart_count=cs.restarts, api_allowed=self._api_allowed(pod),
            service_account=(pod.get("spec") or {}).get("serviceAccountName") or "default", start_time=start,
            pod_ip=ip, gpus=int(quantity.parse(limits.get("nvidia.com/gpu", 0))))

    # -- the state machine -------------------------------------------------------------------------
    def _advance(self, pod: dict[str, Any], st: PState, now: float) -> float | None:
        """Play every transition due up to `now`; return when the next one is due."""
        dues: list[float] = []
        policy = (pod.get("spec") or {}).get("restartPolicy", "Always")
        # Init containers, one after another.
        for name in st.init_order:
            cs = st.containers[name]
            if cs.done:
                continue
            due = self._step_container(pod, st, cs, now, "Never" if policy == "Never" else "OnFailure")
            if due is not None:
                dues.append(due)
            if not cs.done:
                return min(dues) if dues else None
        for name in st.main_order:
            due = self._step_container(pod, st, st.containers[name], now, policy)
            if due is not None:
                dues.append(due)
        return min(dues) if dues else None

    def _step_container(self, pod: dict[str, Any], st: PState, cs: CState, now: float, policy: str) -> float | None:
        c = self._container_spec(pod, cs.name)
        kind = "initContainers" if cs.init else "containers"
        field_path = f"spec.{kind}{{{cs.name}}}"
        for _ in range(1000):  # play transitions in order until the next one lies in the future
            inst = cs.current
            if inst is not None and inst.finished is None:
                if inst.real:
                    due = self._step_real(pod, st, cs, c, inst, now, field_path)
                    if due is not None:
                        return due
                else:
                    if inst.run.exit is None and inst.started + inst.horizon <= now + 1.0:
                        self._extend(inst, now)
                    exit_at = inst.exit_at()
                    live_kill = self._liveness_kill_time(c, inst)
                    if live_kill is not None and (exit_at is None or live_kill < exit_at):
                        if live_kill > now:
                            return min(live_kill, self._probe_due(c, inst, now))
                        self.events.emit(pod, "Normal", "Killing",
                                         f"Container {cs.name} failed liveness probe, will be restarted", "kubelet",
                                         st.node, field_path)
                        inst.finished, inst.exit_code, inst.reason, inst.killed_by_liveness = live_kill, 137, "Error", True
                    elif exit_at is not None and exit_at <= now:
                        code, reason = inst.run.exit[1], inst.run.exit[2]
                        inst.finished, inst.exit_code, inst.reason = exit_at, code, reason
                    else:
                        cs.ready = self._ready(pod, st, c, inst, now)
                        nxt = [t for t in (exit_at, self._probe_due(c, inst, now)) if t is not None]
                        if inst.run.serve:  # serving hook: Ready only while the real process answers
                            up = self.serving.ready((st.uid, cs.name))
                            cs.ready = cs.ready and up
                            nxt.append(now + (SERVING_CHECK_S if up else SERVING_POLL_S) * self.cluster.clock.speed)
                        if inst.run.exit is None:
                            nxt.append(inst.started + inst.horizon)
                        return min(nxt) if nxt else None
                # the instance just ended
                cs.ready = False
                if inst.real:
                    inst.run.kill(0)
                self.serving.stop((st.uid, cs.name))  # serving hook: its real process ends with it
                restart = policy == "Always" or (policy == "OnFailure" and inst.exit_code != 0)
                if not restart:
                    cs.done = cs.init and inst.exit_code == 0 or not cs.init
                    if cs.init and inst.exit_code != 0:
                        cs.done = False
                    cs.waiting = None
                    return None
                if cs.init and inst.exit_code == 0:
                    cs.done = True
                    cs.waiting = None
                    return None
                delay = min(BACKOFF_START * (2 ** cs.restarts), BACKOFF_MAX)
                cs.restarts += 1
                cs.next_start = inst.finished + delay
                cs.waiting = ("CrashLoopBackOff", f"back-off {int(delay)}s restarting failed container={cs.name} "
                              f"pod={pod['metadata']['name']}_{pod['metadata']['namespace']}({st.uid})")
                if cs.next_start > now:
                    self.events.emit(pod, "Warning", "BackOff", f"Back-off restarting failed container {cs.name} in "
                                     f"pod {pod['metadata']['name']}_{pod['metadata']['namespace']}({st.uid})",
                                     "kubelet", st.node, field_path)
                continue
            if cs.done:
                return None
            if inst is not None and inst.finished is not None and policy == "Never":
                return None
            # waiting to (re)start
            if cs.next_start > now:
                return cs.next_start
            start_at = max(cs.next_start, st.start)
            if not cs.pulled:
                image = cs.image
                result = behaviour.pull(image, seed=self.seed)
                for etype, reason, message in result.events:
                    if reason == "Pulled" and cs.instances:
                        continue
                    self.events.emit(pod, etype, reason, message, "kubelet", st.node, field_path)
                if not result.ok:
                    cs.pull_failures += 1
                    delay = min(BACKOFF_START * (2 ** (cs.pull_failures - 1)), BACKOFF_MAX)
                    if cs.pull_failures == 1 or result.reason == "InvalidImageName":
                        cs.waiting = (result.reason or "ErrImagePull", result.message)
                    else:
                        cs.waiting = ("ImagePullBackOff", result.backoff_message or f'Back-off pulling image "{image}"')
                        self.events.emit(pod, "Normal", "BackOff", f'Back-off pulling image "{image}"', "kubelet",
                                         st.node, field_path)
                        self.events.emit(pod, "Warning", "Failed", "Error: ImagePullBackOff", "kubelet", st.node,
                                         field_path)
                    cs.next_start = start_at + delay
                    if cs.next_start <= now:
                        continue
                    return cs.next_start
                cs.pulled = True
                cs.image_id = result.image_id
                cs.next_start = start_at + result.duration_s  # the pull takes time, as on a real node
                if cs.next_start > now:
                    return cs.next_start
                start_at = cs.next_start
            env, problem = self._resolve_env(pod, c)
            files, fproblem = self._files(pod, c) if env is not None else ({}, "")
            if env is None or files is None:
                if files is None:
                    cs.waiting = ("ContainerCreating", "")
                    self.events.emit(pod, "Warning", "FailedMount", fproblem, "kubelet", st.node)
                else:
                    cs.waiting = ("CreateContainerConfigError", problem)
                    self.events.emit(pod, "Warning", "Failed", f"Error: {problem}", "kubelet", st.node, field_path)
                cs.next_start = now + 10.0
                return cs.next_start
            if cs.instances:
                self.events.emit(pod, "Normal", "Pulled", f'Container image "{cs.image}" already present on machine '
                                 "and can be accessed by the pod", "kubelet", st.node, field_path)
            self._port_names[(pod["metadata"]["namespace"], pod["metadata"]["name"], cs.name)] = {
                p.get("name"): p.get("containerPort") for p in c.get("ports") or [] if p.get("name")}
            real = self._start_real(pod, st, c, env)
            if isinstance(real, str):  # a volume's source vanished between the checks: FailedMount, as above
                cs.waiting = ("ContainerCreating", "")
                self.events.emit(pod, "Warning", "FailedMount", real, "kubelet", st.node)
                cs.next_start = now + 10.0
                return cs.next_start
            inp = self._input(pod, cs, env, files, real.started if real else start_at, st.ip)
            cid = hashlib.sha256(f"{st.uid}/{cs.name}/{cs.restarts}".encode()).hexdigest()
            if real is not None:
                cs.instances.append(Instance(real.started, inp, real, f"containerd://{cid}", horizon=real.horizon,
                                             probes=Probes(real.started)))
                run = real
            else:
                run = behaviour.run(inp, horizon_s=RUN_HORIZON, resolver=self.resolver(pod["metadata"]["namespace"]),
                                    max_lines=200)
                cs.instances.append(Instance(start_at, inp, run, f"containerd://{cid}", horizon=RUN_HORIZON))
            if run.serve:  # serving hook: a llama.cpp server that loads a model runs for real
                self.serving.start((st.uid, cs.name), f"{pod['metadata']['namespace']}/{pod['metadata']['name']}",
                                   st.ip, run.serve, env)
            cs.waiting = None
            self.events.emit(pod, "Normal", "Created", f"Created container: {cs.name}", "kubelet", st.node, field_path)
            self.events.emit(pod, "Normal", "Started", f"Started container {cs.name}", "kubelet", st.node, field_path)
        return now + 1.0

    # -- real containers (sandbox/jail/) -------------------------------------------------------------
    def _start_real(self, pod: dict[str, Any], st: PState, c: dict[str, Any], env: dict[str, str]) -> Any:
        """A started real process for this container, a FailedMount message, or None (the model runs it)."""
        ns, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
        limits = (c.get("resources") or {}).get("limits") or {}
        memory = quantity.bytes_(limits["memory"]) if "memory" in limits else None

        def wake() -> None:
            if self.wake is not None:
                self.wake((ns, name))

        return self.real.start(pod, st.ip, c, env, memory, self.cluster.clock.time,
                               lambda kind, obj: self.cluster.store.get(f"/{kind}", ns, obj),
                               lambda path: self._field_ref(pod, path), wake)

    def _step_real(self, pod: dict[str, Any], st: PState, cs: CState, c: dict[str, Any], inst: Instance,
                   now: float, field_path: str) -> float | None:
        """A running real container: its exit, then liveness (kill on failureThreshold), then readiness.
        Returns when to look again, or None when the instance ended (the caller restarts it or not)."""
        run, probes = inst.run, inst.probes
        assert probes is not None
        if run.exit is not None:
            inst.finished = inst.started + run.exit[0]
            inst.exit_code, inst.reason = run.exit[1], run.exit[2]
            return None

        def check(probe: dict[str, Any]) -> tuple[bool, str]:
            return self._probe_ok(probe, inst, now)

        for kind, label in (("livenessProbe", "Liveness"), ("readinessProbe", "Readiness")):
            state = probes.due(kind, c.get(kind), now, check)
            if state is not None and state.ran and state.failures:
                self.events.emit(pod, "Warning", "Unhealthy", f"{label} probe failed: {state.message}", "kubelet",
                                 st.node, field_path)
            if kind == "livenessProbe" and probes.failed_out(kind, c.get(kind)):
                self.events.emit(pod, "Normal", "Killing",
                                 f"Container {cs.name} failed liveness probe, will be restarted", "kubelet", st.node,
                                 field_path)
                run.kill(0)
                inst.finished, inst.exit_code, inst.reason, inst.killed_by_liveness = now, 137, "Error", True
                return None
        readiness = probes.states.get("readinessProbe")
        cs.ready = run.alive() and (not c.get("readinessProbe") or bool(readiness and readiness.ok))
        nxt = [now + REAL_POLL_S * self.cluster.clock.speed]
        if probes.next_due() is not None:
            nxt.append(max(probes.next_due(), now + 0.01))
        return min(nxt)

    def _extend(self, inst: Instance, now: float) -> None:
        """Look further ahead for a container that is still running (the model's prefix never changes)."""
        horizon = inst.horizon
        while inst.started + horizon <= now + 1.0:
            horizon *= 4
        inst.run = behaviour.run(inst.inp, horizon_s=horizon, resolver=self.resolver(inst.inp.namespace), max_lines=200)
        inst.horizon = horizon

    # -- probes ------------------------------------------------------------------------------------
    def _probe_ok(self, probe: dict[str, Any], inst: Instance, t: float) -> tuple[bool, str]:
        offset = t - inst.started
        ip = inst.inp.pod_ip or "10.244.0.2"
        if "httpGet" in probe:
            hg = probe["httpGet"] or {}
            port = self._named_port(inst, hg.get("port"))
            return inst.run.probe("http", port, hg.get("path", "/"), offset, host=ip,
                                  scheme=str(hg.get("scheme", "HTTP")).lower())
        if "tcpSocket" in probe:
            port = self._named_port(inst, (probe["tcpSocket"] or {}).get("port"))
            return inst.run.probe("tcp", port, "/", offset, host=ip)
        if "exec" in probe and inst.real:
            res = inst.run.exec(exec_probe_argv(probe), timeout_s=max(float(probe.get("timeoutSeconds", 1)), 1.0))
            return res.exit_code == 0, (res.stdout + res.stderr).strip()
        if "exec" in probe:
            res = behaviour.exec(inst.inp, list((probe["exec"] or {}).get("command") or []), None, at=offset,
                                 run_=inst.run, timeout_s=float(probe.get("timeoutSeconds", 1)))
            return res.exit_code == 0, (res.stdout + res.stderr).strip()
        return True, ""

    def _named_port(self, inst: Instance, port: Any) -> int:
        if isinstance(port, int):
            return port
        if isinstance(port, str) and port.isdigit():
            return int(port)
        spec = self._port_names.get((inst.inp.namespace, inst.inp.pod, inst.inp.name), {})
        return spec.get(port, inst.inp.ports[0] if inst.inp.ports else 0)

    def _liveness_kill_time(self, c: dict[str, Any], inst: Instance) -> float | None:
        probe = c.get("livenessProbe")
        if not probe:
            return None
        period = float(probe.get("periodSeconds", 10))
        t = inst.started + float(probe.get("initialDelaySeconds", 0))
        failures = 0
        limit = inst.exit_at() or inst.started + LOG_HORIZON_MAX
        for _ in range(int(LOG_HORIZON_MAX / max(period, 1)) + 1):
            if t > limit:
                return None
            ok, _ = self._probe_ok(probe, inst, t)
            failures = 0 if ok else failures + 1
            if failures >= int(probe.get("failureThreshold", 3)):
                return t
            if ok and failures == 0 and t - inst.started > float(probe.get("initialDelaySeconds", 0)) + 60:
                return None  # healthy for a minute: the model does not change its mind later
            t += period
        return None

    def _probe_due(self, c: dict[str, Any], inst: Instance, now: float) -> float:
        probe = c.get("readinessProbe")
        if not probe:
            return now + 3600
        period = float(probe.get("periodSeconds", 10))
        first = inst.started + float(probe.get("initialDelaySeconds", 0))
        if now < first:
            return first
        return first + (int((now - first) / period) + 1) * period

    def _ready(self, pod: dict[str, Any], st: PState, c: dict[str, Any], inst: Instance, now: float) -> bool:
        probe = c.get("readinessProbe")
        if not probe:
            return True
        first = inst.started + float(probe.get("initialDelaySeconds", 0))
        if now < first:
            return False
        period = float(probe.get("periodSeconds", 10))
        last = first + int((now - first) / period) * period
        ok, why = self._probe_ok(probe, inst, last)
        if not ok:
            self.events.emit(pod, "Warning", "Unhealthy", f"Readiness probe failed: {why}", "kubelet", st.node,
                             f"spec.containers{{{c.get('name')}}}")
        return ok

    # -- status ------------------------------------------------------------------------------------
    def _container_status(self, cs: CState) -> dict[str, Any]:
        inst = cs.current
        out: dict[str, Any] = {"name": cs.name, "image": cs.image, "imageID": "", "ready": cs.ready,
                               "restartCount": cs.restarts, "started": False}
        if cs.pulled:
            out["imageID"] = cs.image_id
        if inst is not None:
            out["containerID"] = inst.container_id
        if cs.waiting is not None:
            w = {"reason": cs.waiting[0]}
            if cs.waiting[1]:
                w["message"] = cs.waiting[1]
            out["state"] = {"waiting": w}
        elif inst is not None and inst.finished is None:
            out["state"] = {"running": {"startedAt": ts(inst.started)}}
            out["started"] = True
        elif inst is not None:
            out["state"] = {"terminated": self._terminated(inst)}
        else:
            out["state"] = {"waiting": {"reason": "ContainerCreating"}}
        previous = [i for i in cs.instances if i.finished is not None and i is not (inst if cs.waiting is None else None)]
        if previous and (cs.waiting is not None or (inst is not None and inst.finished is None)):
            out["lastState"] = {"terminated": self._terminated(previous[-1])}
        else:
            out["lastState"] = {}
        return out

    def _terminated(self, inst: Instance) -> dict[str, Any]:
        return {"exitCode": inst.exit_code, "reason": inst.reason, "startedAt": ts(inst.started),
                "finishedAt": ts(inst.finished or inst.started), "containerID": inst.container_id}

    def _write_status(self, pod: dict[str, Any], st: PState, now: float) -> None:
        old = pod.get("status") or {}
        status = copy.deepcopy(old)
        init_statuses = [self._container_status(st.containers[n]) for n in st.init_order]
        statuses = [self._container_status(st.containers[n]) for n in st.main_order]
        init_done = all(st.containers[n].done for n in st.init_order)
        mains = [st.containers[n] for n in st.main_order]
        all_ready = init_done and all(cs.ready for cs in mains) and bool(mains)
        ever_started = any(cs.instances for cs in mains)
        policy = (pod.get("spec") or {}).get("restartPolicy", "Always")
        finished = [cs for cs in mains if cs.current and cs.current.finished is not None and cs.waiting is None]
        phase = "Pending"
        if init_done and ever_started:
            phase = "Running"
        if mains and len(finished) == len(mains) and policy != "Always":
            phase = "Succeeded" if all(cs.current.exit_code == 0 for cs in finished) else "Failed"
        if any(st.containers[n].current and st.containers[n].current.finished is not None and
               st.containers[n].current.exit_code and policy == "Never" for n in st.init_order):
            phase = "Failed"
        prev = {c.get("type"): c for c in old.get("conditions") or []}

        def cond(ctype: str, ok: bool, reason: str = "") -> dict[str, Any]:
            s = "True" if ok else "False"
            was = prev.get(ctype)
            when = was.get("lastTransitionTime") if was and was.get("status") == s else ts(now)
            c: dict[str, Any] = {"type": ctype, "status": s, "lastProbeTime": None, "lastTransitionTime": when}
            if reason and not ok:
                c["reason"] = reason
            return c

        not_ready = [cs.name for cs in mains if not cs.ready]
        reason_ready = "PodCompleted" if phase == "Succeeded" else "ContainersNotReady"
        conditions = [
            cond("PodReadyToStartContainers", True),
            cond("Initialized", init_done, "ContainersNotInitialized"),
            cond("Ready", all_ready and phase == "Running", reason_ready),
            cond("ContainersReady", all_ready and phase == "Running", reason_ready),
            prev.get("PodScheduled") or cond("PodScheduled", True),
        ]
        for c in conditions[2:4]:
            if c["status"] == "False" and not_ready and phase != "Succeeded":
                c["message"] = f"containers with unready status: [{' '.join(not_ready)}]"
        if not init_done:
            conditions[1]["message"] = "containers with incomplete status: [" + " ".join(
                n for n in st.init_order if not st.containers[n].done) + "]"
        status.update({"phase": phase, "conditions": conditions, "hostIP": self._host_ip(st.node),
                       "hostIPs": [{"ip": self._host_ip(st.node)}], "podIP": st.ip, "podIPs": [{"ip": st.ip}],
                       "startTime": ts(st.start), "containerStatuses": statuses})
        if init_statuses:
            status["initContainerStatuses"] = init_statuses
        if status == old:
            return
        new = copy.deepcopy(pod)
        new["status"] = status
        try:
            self.cluster.update(self.pods_rt, pod["metadata"]["namespace"], pod["metadata"]["name"], new, SYSTEM,
                                self._opts, "status")
        except ApiError:
            pass

    # -- what other parts of the sandbox ask ---------------------------------------------------------
    def logs(self, pod: dict[str, Any], container: str, previous: bool = False) -> list[tuple[float, str]] | None:
        """(sandbox time, line) of a container's current (or previous) run; None when there is none."""
        st = self.state.get(pod["metadata"].get("uid", ""))
        if st is None or container not in st.containers:
            return None
        cs = st.containers[container]
        insts = cs.instances
        if previous:
            done = [i for i in insts if i.finished is not None and (i is not insts[-1] or cs.waiting is not None)]
            if cs.waiting is None and insts and insts[-1].finished is not None and len(done) == len(insts):
                done = done[:-1] if len(done) > 1 else []
            if not done:
                return None
            inst = done[-1]
        else:
            if not insts:
                return None
            inst = insts[-1]
        end = inst.finished if inst.finished is not None else self.cluster.clock.time()
        return [(inst.started + ln.t, ln.text) for ln in inst.run.logs_between(0.0, end - inst.started)]

    def usage(self, pod: dict[str, Any], offset: float | None = None) -> dict[str, tuple[int, int]]:
        """Per running container: (CPU millicores, memory bytes) now, or `offset` seconds after it started
        (a pure function of the scenario, the seed and that offset)."""
        st = self.state.get(pod["metadata"].get("uid", ""))
        out: dict[str, tuple[int, int]] = {}
        if st is None:
            return out
        now = self.cluster.clock.time()
        for name in st.main_order:
            inst = st.containers[name].current
            if inst is not None and inst.finished is None:
                out[name] = inst.run.usage(now - inst.started if offset is None else offset)
        return out

    def running_instance(self, pod: dict[str, Any], container: str) -> Instance | None:
        st = self.state.get(pod["metadata"].get("uid", ""))
        if st is None or container not in st.containers:
            return None
        inst = st.containers[container].current
        return inst if inst is not None and inst.finished is None else None


def _data(obj: dict[str, Any]) -> dict[str, str]:
    import base64

    out = dict(obj.get("data") or {}) if obj.get("kind") != "Secret" else {}
    if obj.get("kind") == "Secret":
        for k, v in (obj.get("data") or {}).items():
            try:
                out[k] = base64.b64decode(v).decode("utf-8", "replace")
            except (ValueError, TypeError):
                out[k] = ""
        out.update(obj.get("stringData") or {})
    return {k: str(v) for k, v in out.items()}


def _expand(value: str, env: dict[str, str]) -> str:
    """$(VAR) references in env values, as the kubelet expands them."""
    import re

    return re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda m: env.get(m.group(1), m.group(0)), value)


def _parse_time(value: Any) -> float | None:
    if not value:
        return None
    try:
        return datetime.strptime(str(value), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()
    except ValueError:
        return None
