"""probe_failure: readiness/liveness/startup probes that keep failing (Unhealthy events) on a container that is
not ready now, or that liveness kills restart.

Transient failures during start-up on a container that is ready now are not reported. The probe's port is
compared with the container's declared ports: a probe on a port the container does not declare, with exactly one
declared port, is fixed by pointing the probe at it (strategic-merge patch of the probe in the pod template).
"""

from __future__ import annotations

import re
from typing import Any

from tools.diagnose import common, util
from tools.diagnose.base import Finding, Snapshot, register
from tools.k8s.kinds import POD_OWNERS

_KIND = re.compile(r"^(Readiness|Liveness|Startup) probe (?:failed|errored)", re.I)


def _probe_port(probe: dict[str, Any]) -> Any:
    for k in ("httpGet", "tcpSocket", "grpc"):
        if probe.get(k):
            return probe[k].get("port")
    return None


@register
class ProbeFailureCheck:
    name = "probe_failure"
    kinds = POD_OWNERS

    def run(self, snapshot: Snapshot) -> list[Finding]:
        items = []
        for pod in snapshot.pods:
            ns, pname = util.ns_of(pod), util.name_of(pod)
            events = snapshot.events_for("Pod", ns, pname)
            if not events:
                continue
            for cs in (pod.get("status") or {}).get("containerStatuses") or []:
                cname = cs.get("name", "")
                fp = f"spec.containers{{{cname}}}"
                mine = [e for e in events if (e.get("involvedObject") or {}).get("fieldPath") in (fp, None, "")
                        or cname in (e.get("message") or "")]
                unhealthy = [e for e in mine if e.get("reason") == "Unhealthy"]
                killed = [e for e in mine if e.get("reason") == "Killing" and "liveness" in (e.get("message") or "")]
                running = "running" in (cs.get("state") or {})
                readiness = [e for e in unhealthy if (e.get("message") or "").lower().startswith("readiness")]
                liveness = [e for e in unhealthy if not (e.get("message") or "").lower().startswith("readiness")]
                if killed or (liveness and (cs.get("restartCount") or 0) > 0):
                    items.append((pod, (cs, "liveness", liveness, killed)))
                elif readiness and running and not cs.get("ready"):
                    items.append((pod, (cs, "readiness", readiness, [])))
        out = []
        for (ns, kind, name), group in common.group_by_workload(snapshot, items).items():
            seen: set[tuple[str, str]] = set()
            for pod, (cs, which, unhealthy, killed) in group:
                key = (cs.get("name", ""), which)
                if key in seen:
                    continue
                seen.add(key)
                pods = [p for p, it in group if (it[0].get("name"), it[1]) == key]
                out.append(self._finding(snapshot, ns, kind, name, pod, cs, which, unhealthy, killed, pods))
        return out

    def _finding(self, snapshot: Snapshot, ns: str, kind: str, name: str, pod: dict[str, Any], cs: dict[str, Any],
                 which: str, unhealthy: list[dict[str, Any]], killed: list[dict[str, Any]],
                 pods: list[dict[str, Any]]) -> Finding:
        cname = cs.get("name", "")
        wl = common.workload_label(kind, ns, name)
        spec = common.pod_template(snapshot, kind, ns, name, pod)
        c = common.find_container(spec, pod, cname)
        probe_field = f"{which}Probe"
        probe = c.get(probe_field) or {}
        evidence = [f"pod {ns}/{util.name_of(pod)} container {cname}: ready={cs.get('ready')}, "
                    f"restartCount={cs.get('restartCount', 0)}, {util.describe_state(cs)}"]
        for e in (unhealthy[-2:] + killed[-1:]):
            evidence.append(f"event {e.get('reason')} (x{e.get('count', 1)}): {e.get('message', '')}")
        if probe:
            evidence.append(f"{probe_field}: {_describe(probe)}")
        reason = "LivenessProbeFailed" if which == "liveness" else "ReadinessProbeFailed"
        f = Finding(check=self.name, severity="critical" if which == "liveness" else "warning", kind=kind,
                    namespace=ns, name=name, reason=reason,
                    summary=(f"the {which} probe of container {cname} in {wl} keeps failing" +
                             (" and the kubelet restarts it" if which == "liveness" else "; it receives no traffic")),
                    evidence=evidence, related=common.pod_refs(pods) + [util.ref(kind, ns, name)])
        ports = c.get("ports") or []
        numbers = {p.get("containerPort") for p in ports}
        names = {p.get("name") for p in ports if p.get("name")}
        pport = _probe_port(probe)
        last = (unhealthy[-1].get("message") if unhealthy else "") or ""
        if pport is not None and ports and pport not in numbers and pport not in names:
            f.root_cause = (f"the {which} probe checks port {pport}, but container {cname} listens on "
                            f"{', '.join(str(p.get('containerPort')) for p in ports)}")
            if len(ports) == 1:
                good = ports[0].get("containerPort")
                kind_key = next(k for k in ("httpGet", "tcpSocket", "grpc") if probe.get(k))
                f.suggested_fix = f"point the {which} probe of {cname} in {wl} at port {good}"
                f.fix = common.container_fix(kind, ns, name, cname,
                                             {probe_field: {kind_key: {"port": good}}}, spec)
            else:
                f.suggested_fix = f"point the {which} probe of {cname} in {wl} at the port the process serves on"
                f.confidence = "medium"
        elif re.search(r"statuscode: 404|status code 404|\b404\b", last):
            path = (probe.get("httpGet") or {}).get("path", "/")
            f.root_cause = f"the {which} probe path {path} answers 404: the application serves no such path"
            f.suggested_fix = f"set the {which} probe path of {cname} in {wl} to the application's health endpoint"
            f.confidence = "medium"
        elif re.search(r"timeout|deadline exceeded|Client\.Timeout", last, re.I):
            f.root_cause = f"the {which} probe times out after {probe.get('timeoutSeconds', 1)}s"
            f.suggested_fix = (f"raise timeoutSeconds/initialDelaySeconds of the {which} probe of {cname} in {wl}, or "
                               "find out why the application answers slowly")
            f.confidence = "medium"
        elif re.search(r"connection refused", last, re.I):
            f.root_cause = f"nothing listens on the probed port {pport} of container {cname}"
            f.suggested_fix = (f"check that the process listens on port {pport} (and on 0.0.0.0), or give it more "
                               f"start-up time (initialDelaySeconds / a startupProbe) in {wl}")
            f.confidence = "medium"
        else:
            f.root_cause = f"the {which} probe of container {cname} fails: see the probe's message above"
            f.suggested_fix = f"check what the probe tests against what the application serves in {wl}"
            f.confidence = "low"
        return f


def _describe(probe: dict[str, Any]) -> str:
    if probe.get("httpGet"):
        h = probe["httpGet"]
        what = f"httpGet {h.get('path', '/')} port {h.get('port')}"
    elif probe.get("tcpSocket"):
        what = f"tcpSocket port {probe['tcpSocket'].get('port')}"
    elif probe.get("exec"):
        what = f"exec {' '.join(map(str, probe['exec'].get('command') or []))}"
    elif probe.get("grpc"):
        what = f"grpc port {probe['grpc'].get('port')}"
    else:
        what = "?"
    opts = ", ".join(f"{k}={probe[k]}" for k in ("initialDelaySeconds", "periodSeconds", "timeoutSeconds",
                                                 "failureThreshold") if k in probe)
    return what + (f" ({opts})" if opts else "")
