"""crashloop: containers that keep exiting (CrashLoopBackOff, or restarts after a non-zero exit).

Reads the exit code and last terminated state, the previous instance's last log lines, and recognizes a cause in
them (tools.diagnose.logcauses). For a missing environment variable it finds where the container's environment
comes from: with `envFrom` a ConfigMap, the fix adds the key to that ConfigMap (value inferred only from a
Service of the matching name) and restarts the workload. OOM kills and liveness kills are left to the oom and
probe_failure checks.
"""

from __future__ import annotations

from typing import Any

from tools.diagnose import common, util
from tools.diagnose.base import Finding, Snapshot, register
from tools.diagnose.logcauses import Cause, classify, exit_meaning
from tools.k8s.kinds import POD_OWNERS

LOOP_RESTARTS = 3
_URL_SUFFIXES = ("_SERVICE_URL", "_API_URL", "_BASE_URL", "_URL", "_URI", "_ENDPOINT", "_ADDR", "_ADDRESS",
                 "_HOST", "_SERVICE_HOST")


def _crashing(cs: dict[str, Any]) -> bool:
    waiting = (cs.get("state") or {}).get("waiting") or {}
    last = (cs.get("lastState") or {}).get("terminated") or {}
    if last.get("reason") == "OOMKilled":
        return False
    if waiting.get("reason") == "CrashLoopBackOff":
        return True
    return (cs.get("restartCount") or 0) >= 1 and last and last.get("exitCode") not in (None, 0)


def infer_service_value(snapshot: Snapshot, ns: str, var: str) -> tuple[str, str] | None:
    """(value, how) for a URL/host-like variable whose stem names a Service in the namespace:
    PAYMENTS_URL -> ('http://payments.shop.svc.cluster.local', 'Service shop/payments port 80')."""
    suffix = next((s for s in _URL_SUFFIXES if var.endswith(s) and len(var) > len(s)), None)
    if suffix is None:
        return None
    stem = var[: -len(suffix)].lower().replace("_", "-")
    svc = snapshot.get("services", ns, stem)
    if svc is None:
        return None
    ports = (svc.get("spec") or {}).get("ports") or []
    port = next((p for p in ports if p.get("name") in ("http", "web")), ports[0] if ports else {"port": 80})
    number = int(port.get("port") or 80)
    host = f"{stem}.{ns}.svc.cluster.local"
    how = f"Service {ns}/{stem} port {number}"
    if suffix in ("_HOST", "_SERVICE_HOST"):
        return host, how
    if suffix in ("_ADDR", "_ADDRESS"):
        return f"{host}:{number}", how
    scheme = "https" if number == 443 or port.get("name") == "https" else "http"
    default = 443 if scheme == "https" else 80
    return f"{scheme}://{host}" + ("" if number == default else f":{number}"), how


@register
class CrashLoopCheck:
    name = "crashloop"
    kinds = POD_OWNERS

    def run(self, snapshot: Snapshot) -> list[Finding]:
        items = []
        for pod in snapshot.pods:
            for cs in util.container_statuses(pod):
                if _crashing(cs) and not self._liveness_killed(snapshot, pod, cs.get("name", "")):
                    items.append((pod, cs))
        out = []
        for (ns, kind, name), group in common.group_by_workload(snapshot, items).items():
            by_container: dict[str, list[tuple[dict[str, Any], dict[str, Any]]]] = {}
            for pod, cs in group:
                by_container.setdefault(cs.get("name", ""), []).append((pod, cs))
            for cname, pcs in by_container.items():
                out.append(self._finding(snapshot, ns, kind, name, cname, pcs))
        return out

    @staticmethod
    def _liveness_killed(snapshot: Snapshot, pod: dict[str, Any], container: str) -> bool:
        return any(e.get("reason") == "Killing" and "liveness" in (e.get("message") or "") and
                   container in (e.get("message") or "")
                   for e in snapshot.events_for("Pod", util.ns_of(pod), util.name_of(pod)))

    def _finding(self, snapshot: Snapshot, ns: str, kind: str, name: str, cname: str,
                 pcs: list[tuple[dict[str, Any], dict[str, Any]]]) -> Finding:
        pod, cs = max(pcs, key=lambda x: x[1].get("restartCount") or 0)
        last = (cs.get("lastState") or {}).get("terminated") or (cs.get("state") or {}).get("terminated") or {}
        # between two back-offs a crash-looping container briefly runs: 3+ failed restarts is a loop all the same
        looping = any(((c.get("state") or {}).get("waiting") or {}).get("reason") == "CrashLoopBackOff" or
                      (c.get("restartCount") or 0) >= LOOP_RESTARTS for _, c in pcs)
        reason = "CrashLoopBackOff" if looping else "ContainerRestarts"
        code = last.get("exitCode")
        restarts = cs.get("restartCount") or 0
        wl = common.workload_label(kind, ns, name)
        total = len(snapshot.pods_of(kind, ns, name)) if kind != "Pod" else 1
        evidence = [f"pod {ns}/{util.name_of(pod)} container {cname}: {util.describe_state(cs)}",
                    f"last state: {util.describe_state(cs, 'lastState')}" if cs.get("lastState") else "",
                    f"restartCount: {restarts}"]
        lines, prev = common.log_tail(snapshot, pod, cname, prefer_previous=True)
        cause = classify(lines) if lines else None
        tail = [ln for ln in lines[-5:] if ln.strip()]
        if cause is not None and cause.line not in tail:
            evidence.append(common.log_evidence(pod, cname, prev, cause.line))
        evidence += [common.log_evidence(pod, cname, prev, ln) for ln in tail]
        related = common.pod_refs([p for p, _ in pcs]) + [util.ref(kind, ns, name)]
        summary = (f"{len(pcs)}/{total} pod(s) of {wl}: container {cname} "
                   f"{'is in CrashLoopBackOff' if looping else 'keeps restarting'} "
                   f"(exit code {code}: {exit_meaning(code)}; {restarts} restarts)")
        f = Finding(check=self.name, severity="critical" if looping else "warning", kind=kind, namespace=ns,
                    name=name, reason=reason, summary=summary, evidence=evidence, related=related)
        self._explain(snapshot, f, pod, cname, cause, code, lines)
        return f

    def _explain(self, snapshot: Snapshot, f: Finding, pod: dict[str, Any], cname: str, cause: Cause | None,
                 code: int | None, lines: list[str]) -> None:
        ns, kind, name = f.namespace, f.kind, f.name
        wl = common.workload_label(kind, ns, name)
        if cause is None:
            if code == 0:
                f.root_cause = (f"container {cname} exits with code 0: its process finishes, but a {kind} restarts it "
                                "(restartPolicy Always)")
                f.suggested_fix = ("run the process in the foreground (it must not exit), or run it as a Job if it is "
                                   "a one-off task")
            else:
                f.root_cause = (f"container {cname} exits with code {code} ({exit_meaning(code)}); "
                                + ("its logs show no recognized cause" if lines else "no logs were available"))
                f.suggested_fix = f"read the full previous logs (kubectl logs --previous) of {util.name_of(pod)}"
            f.confidence = "low"
            return
        spec = common.pod_template(snapshot, kind, ns, name, pod)
        c = common.find_container(spec, pod, cname)
        if cause.kind == "missing_env":
            self._missing_env(snapshot, f, c, spec, cause.detail["var"], cause.detail.get("certain") != "no")
        elif cause.kind == "connection_refused":
            host, port = cause.detail.get("host", ""), cause.detail.get("port", "")
            target = f"{host}:{port}" if host else "a dependency"
            f.root_cause = f"container {cname} exits because the connection to {target} is refused"
            svc = snapshot.get("services", ns, host.split(".")[0]) if host else None
            if svc is not None:
                f.related.append(util.ref("Service", ns, util.name_of(svc)))
                f.root_cause += f" (Service {ns}/{util.name_of(svc)}: check that it has ready endpoints)"
            f.suggested_fix = (f"make {target} reachable (start or fix the upstream, check the Service's endpoints and "
                               "port), or let the application retry instead of exiting")
            f.confidence = "medium"
        elif cause.kind == "config_parse":
            mounted = [v["configMap"]["name"] for v in spec.get("volumes") or [] if v.get("configMap")]
            f.root_cause = f"container {cname} exits because its configuration does not parse"
            f.suggested_fix = ("correct the configuration syntax" +
                               (f" in ConfigMap {', '.join(f'{ns}/{m}' for m in mounted)} (mounted as a volume)"
                                if mounted else "") + f", then restart {wl}")
            for m in mounted:
                f.related.append(util.ref("ConfigMap", ns, m))
            f.confidence = "medium"
        elif cause.kind == "permission_denied":
            if cause.detail.get("rbac"):
                sa = spec.get("serviceAccountName") or "default"
                f.root_cause = (f"container {cname} exits after the API server denies its ServiceAccount {ns}/{sa} "
                                "(HTTP 403 forbidden)")
                f.suggested_fix = f"see the rbac_denial finding for ServiceAccount {ns}/{sa}"
                f.related.append(util.ref("ServiceAccount", ns, sa))
            else:
                f.root_cause = f"container {cname} exits on a permission error (file system or remote service)"
                f.suggested_fix = ("check the file permissions against the container's user (securityContext "
                                   "runAsUser/fsGroup) or the credentials it uses")
            f.confidence = "medium"
        elif cause.kind == "out_of_memory":
            f.root_cause = f"container {cname} runs out of memory inside the process (heap limit reached)"
            f.suggested_fix = "raise the runtime's heap limit (e.g. -Xmx) together with the container memory limit"
            f.confidence = "medium"
        else:
            f.root_cause = f"container {cname} exits with code {code} after logging an error"
            f.suggested_fix = f"fix the error shown in the logs of {util.name_of(pod)}, then restart {wl}"
            f.confidence = "low"

    def _missing_env(self, snapshot: Snapshot, f: Finding, c: dict[str, Any], spec: dict[str, Any], var: str,
                     certain: bool) -> None:
        ns, kind, name = f.namespace, f.kind, f.name
        wl = common.workload_label(kind, ns, name)
        cname = c.get("name", "")
        f.root_cause = f"container {cname} needs environment variable {var}, which is not set"
        f.confidence = "high" if certain else "medium"
        if not util.ENV_NAME.match(var):
            f.suggested_fix = f"set environment variable {var} for container {cname}"
            return
        if any(e.get("name") == var for e in c.get("env") or []):
            f.root_cause = f"container {cname} fails on environment variable {var} (it is set in the spec; check its value)"
            f.suggested_fix = f"check the value of {var} in {wl}"
            f.confidence = "low"
            return
        inferred = infer_service_value(snapshot, ns, var)
        value_txt = f" (for example {inferred[0]}, from {inferred[1]})" if inferred else ""
        cm_refs = [(s["configMapRef"].get("name", ""), s.get("prefix", "")) for s in c.get("envFrom") or []
                   if s.get("configMapRef")]
        for cm_name, prefix in cm_refs:
            if prefix and not var.startswith(prefix):
                continue
            key = var[len(prefix):]
            cm = snapshot.get("configmaps", ns, cm_name)
            if cm is None:
                continue
            keys = sorted((cm.get("data") or {}).keys()) + sorted((cm.get("binaryData") or {}).keys())
            f.evidence.append(f"ConfigMap {ns}/{cm_name} (envFrom of container {cname}) has keys: "
                              f"{', '.join(keys) or '(none)'}; no {key}")
            f.related.append(util.ref("ConfigMap", ns, cm_name))
            f.root_cause = (f"container {cname} reads its environment from ConfigMap {ns}/{cm_name} via envFrom, and "
                            f"that ConfigMap has no key {key}: the process exits on the missing {var}")
            f.suggested_fix = (f"add key {key} to ConfigMap {ns}/{cm_name}{value_txt} (the container reads it via "
                               f"envFrom) and restart {wl}")
            f.restart = common.restart_of(kind, ns, name)
            if inferred:
                f.fix = {"action": "patch", "kind": "ConfigMap", "namespace": ns, "name": cm_name,
                         "patch_type": "merge", "patch": {"data": {key: inferred[0]}}}
            return
        secret_refs = [s["secretRef"].get("name", "") for s in c.get("envFrom") or [] if s.get("secretRef")]
        where = f" (or to Secret {ns}/{secret_refs[0]}, which it reads via envFrom)" if secret_refs else ""
        f.suggested_fix = f"add env var {var}{value_txt} to container {cname} of {wl}{where}"
        if inferred:
            f.fix = common.container_fix(kind, ns, name, cname, {"env": [{"name": var, "value": inferred[0]}]}, spec)
