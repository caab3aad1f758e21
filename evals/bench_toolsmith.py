"""The toolsmith's synthesis task set (evals/sets/toolsmith.yaml) on a sandbox cluster: success rate, reuse and
synthesis paths, for rules only, the local model only, and a cloud tier.

Why each task has a checker over the cluster's real state: a tool is right when its answer equals what an
independent reading of the cluster says — computed here with the official kubernetes client's typed objects,
not with the toolsmith's plans or paths — so an answer that merely looks plausible does not count.

The "cloud" is a local `python -m llama_cpp.server` with the bundled SmolLM2 GGUF (no network): the numbers for
that row say what this plumbing does with a 135M model behind it, not what a cloud-class model would reach.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

SET_PATH = Path(__file__).parent / "sets" / "toolsmith.yaml"
SCENARIO = Path(__file__).resolve().parent.parent / "sandbox" / "scenarios" / "toolsmith.yaml"


def load_tasks(tier: str | None = None) -> list[dict[str, Any]]:
    tasks = yaml.safe_load(SET_PATH.read_text())["tasks"]
    return [t for t in tasks if tier is None or t["tier"] == tier]


def start_cluster(workdir: Path) -> tuple[Any, Path]:
    """The sandbox with `default` + `toolsmith`, at real speed (ages stay meaningful), once pods have settled."""
    from sandbox.server import SandboxServer
    from tools.k8s.client import Kube

    server = SandboxServer(scenarios=["default", str(SCENARIO)], speed=1.0).start()
    kc = server.write_kubeconfig(workdir / "kubeconfig")
    kube = Kube.from_kubeconfig(str(kc))
    last, stable_since, deadline = None, time.monotonic(), time.monotonic() + 60
    while time.monotonic() < deadline:
        state = sorted((p["metadata"]["name"], (p.get("status") or {}).get("phase"),
                        str([c.get("ready") for c in (p.get("status") or {}).get("containerStatuses") or []]))
                       for p in kube.list("Pod"))
        if state != last:
            last, stable_since = state, time.monotonic()
        elif time.monotonic() - stable_since > 1.5:
            break
        time.sleep(0.3)
    return server, kc


# -- checkers ------------------------------------------------------------------------------------------
_UNITS = {"": 1, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "Ki": 1024, "Mi": 1024 ** 2, "Gi": 1024 ** 3,
          "Ti": 1024 ** 4}


def qty(s: Any) -> float:
    """A Kubernetes quantity as a number (written apart from the generated tools' own helper)."""
    if s is None:
        return 0.0
    text = str(s)
    for suffix in sorted(_UNITS, key=len, reverse=True):
        if suffix and text.endswith(suffix):
            return float(text[: -len(suffix)]) * _UNITS[suffix]
    return float(text)


class Checker:
    """Evaluates a task's `expect.expr` over the cluster read with the kubernetes client."""

    LISTS = {"Pod": ("CoreV1Api", "pod"), "Service": ("CoreV1Api", "service"),
             "ConfigMap": ("CoreV1Api", "config_map"), "Secret": ("CoreV1Api", "secret"),
             "ServiceAccount": ("CoreV1Api", "service_account"),
             "PersistentVolumeClaim": ("CoreV1Api", "persistent_volume_claim"), "Node": ("CoreV1Api", "node"),
             "Namespace": ("CoreV1Api", "namespace"), "Deployment": ("AppsV1Api", "deployment"),
             "StatefulSet": ("AppsV1Api", "stateful_set"), "DaemonSet": ("AppsV1Api", "daemon_set"),
             "Job": ("BatchV1Api", "job"), "CronJob": ("BatchV1Api", "cron_job"),
             "Ingress": ("NetworkingV1Api", "ingress"), "Role": ("RbacAuthorizationV1Api", "role"),
             "RoleBinding": ("RbacAuthorizationV1Api", "role_binding"),
             "ClusterRoleBinding": ("RbacAuthorizationV1Api", "cluster_role_binding"),
             "PodDisruptionBudget": ("PolicyV1Api", "pod_disruption_budget"),
             "StorageClass": ("StorageV1Api", "storage_class")}

    def __init__(self, kubeconfig: Path | None = None, api: Any = None) -> None:
        from kubernetes import client, config

        self.api = api if api is not None else config.new_client_from_config(config_file=str(kubeconfig))
        self.client = client

    def L(self, kind: str, ns: str | None = None) -> list[Any]:  # noqa: N802 - short name for the expressions
        api_name, res = self.LISTS[kind]
        api = getattr(self.client, api_name)(self.api)
        if ns and hasattr(api, f"list_namespaced_{res}"):
            return getattr(api, f"list_namespaced_{res}")(ns).items
        if hasattr(api, f"list_{res}_for_all_namespaces"):
            return getattr(api, f"list_{res}_for_all_namespaces")().items
        return getattr(api, f"list_{res}")().items

    def expected(self, task: dict[str, Any]) -> Any:
        def key(o: Any) -> str:
            return f"{o.metadata.namespace}/{o.metadata.name}" if o.metadata.namespace else o.metadata.name

        def ctrs(o: Any) -> list[Any]:
            spec = o.spec.template.spec if hasattr(o.spec, "template") and o.spec.template else o.spec
            return list(spec.containers or [])

        safe = {f.__name__: f for f in (any, all, len, sum, sorted, dict, set, list, str, int, float, max, min)}
        env = {"__builtins__": safe, "L": self.L, "key": key, "ctrs": ctrs, "qty": qty, "now": datetime.now(UTC),
               "timedelta": timedelta, "Counter": Counter}
        return eval(task["expect"]["expr"], env)  # noqa: S307 - our own task file, no user input

    def grade(self, task: dict[str, Any], value: Any) -> tuple[bool, str]:
        """Does a tool's result answer the task? (ok, what differed)."""
        want = self.expected(task)
        kind = task["expect"]["type"]
        v = value if isinstance(value, dict) else {}
        if kind == "names":
            got = {_item_key(i) for i in v.get("items") or [] if isinstance(i, dict)}
            want_set = set(want)
            return got == want_set, f"missing {sorted(want_set - got)}, extra {sorted(got - want_set)}"
        if kind == "count":
            return v.get("count") == want, f"count {v.get('count')} != {want}"
        if kind == "groups":
            got = {str(k): n for k, n in (v.get("groups") or {}).items()}
            return got == {str(k): n for k, n in want.items()}, f"groups {got} != {want}"
        if kind == "values":
            return set(v.get("values") or []) == set(want), f"values {v.get('values')} != {want}"
        if kind == "sum":
            got = v.get("sum")
            ok = isinstance(got, (int, float)) and abs(got - want) <= 1e-6 * max(1.0, abs(want))
            return ok, f"sum {got} != {want}"
        return False, f"unknown expectation type {kind}"


def _item_key(i: dict[str, Any]) -> str:
    meta = i.get("metadata") if isinstance(i.get("metadata"), dict) else {}
    name = i.get("metadata.name") or meta.get("name") or i.get("name")
    ns = i.get("metadata.namespace") or meta.get("namespace") or i.get("namespace")
    return f"{ns}/{name}" if ns else str(name)


# -- running the set -------------------------------------------------------------------------------------
def run_set(tasks: list[dict[str, Any]], kube: Any, home: Path, checker: Checker, llm: Any = None,
            use_llm: bool = True) -> list[dict[str, Any]]:
    """Each task once through the toolsmith; one row per task: ok, path, reused, error."""
    from tools.toolsmith.synthesize import Toolsmith

    smith = Toolsmith(kube, home, llm=llm, use_llm=use_llm)
    rows = []
    try:
        for t in tasks:
            t0 = time.perf_counter()
            out = smith.solve(t["text"])
            ms = (time.perf_counter() - t0) * 1000
            ok, why = checker.grade(t, out.value) if out.ok else (False, out.error)
            rows.append({"id": t["id"], "tier": t["tier"], "ok": ok, "path": out.path, "reused": out.reused,
                         "served_by": out.served_by, "why": "" if ok else why, "ms": ms})
    finally:
        smith.registry.close()
    return rows


def report(label: str, rows: list[dict[str, Any]]) -> None:
    n = len(rows)
    ok = sum(r["ok"] for r in rows)
    paths = Counter(r["path"] for r in rows)
    reused = sum(r["reused"] for r in rows)
    by_tier = {tier: (sum(r["ok"] for r in rows if r["tier"] == tier), sum(1 for r in rows if r["tier"] == tier))
               for tier in sorted({r["tier"] for r in rows})}
    ms = sorted(r["ms"] for r in rows)
    print(f"{label}: {ok}/{n} correct ({100 * ok / max(n, 1):.1f}%); by tier "
          + ", ".join(f"{t} {a}/{b}" for t, (a, b) in by_tier.items())
          + f"; reused {reused}; paths " + ", ".join(f"{p} {c}" for p, c in sorted(paths.items()))
          + f"; p50 {ms[n // 2]:.0f} ms, max {ms[-1]:.0f} ms" if n else "")
    for r in rows:
        if not r["ok"]:
            print(f"  FAIL {r['id']} [{r['path']}]: {r['why'][:160]}")


def _llama_server(model: Path, log: Path) -> tuple[subprocess.Popen, str]:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--model_alias",
                             "cloud-smollm2", "--host", "127.0.0.1", "--port", str(port), "--n_threads", "1",
                             "--n_ctx", "4096", "--verbose", "False"], stdout=log.open("wb"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.time() + 90
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"llama_cpp.server exited: {log.read_text()[-1000:]}")
        try:
            with urllib.request.urlopen(url + "/models", timeout=2):
                return proc, url
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("llama_cpp.server did not start in 90 s")


def _gateway(home: Path, env: dict[str, str]) -> Any:
    from llm.factory import create_chat_model, create_gateway

    return create_chat_model(create_gateway(env={**os.environ, **env}, home=home))


def main() -> None:
    from tools.k8s.client import Kube

    # TOOLSMITH_BENCH_TIER=model runs only the model-tier tasks (the rules-tier ones never reach a model);
    # TOOLSMITH_BENCH_RULES_ONLY=1 stops after the rules rows; TOOLSMITH_BENCH_SKIP_LOCAL=1 skips the local-only row.
    tasks = load_tasks(os.environ.get("TOOLSMITH_BENCH_TIER") or None)
    only_rules = os.environ.get("TOOLSMITH_BENCH_RULES_ONLY") == "1"
    with tempfile.TemporaryDirectory(prefix="bench-toolsmith-") as tmp:
        work = Path(tmp)
        server, kc = start_cluster(work)
        try:
            kube = Kube.from_kubeconfig(str(kc))
            checker = Checker(kc)
            print(f"toolsmith task set: {len(tasks)} tasks ({len(load_tasks('rules'))} rules-tier, "
                  f"{len(load_tasks('model'))} model-tier)")
            home = work / "rules"
            rows = run_set(tasks, kube, home, checker, use_llm=False)
            report("rules only (no model)", rows)
            again = run_set(tasks, kube, home, checker, use_llm=False)
            report("rules only, asked again (registry)", again)
            _similarities(tasks, home)
            if only_rules:
                return
            if os.environ.get("TOOLSMITH_BENCH_SKIP_LOCAL") != "1":
                home = work / "local"
                llm = _gateway(home, {"KUBESAGE_LLM_POLICY": "local-only", "KUBESAGE_LLM_CLOUD_BASE_URL": ""})
                report("local model only (SmolLM2-135M)", run_set(tasks, kube, home, checker, llm=llm))
            from llm.local import resolve_model

            model = resolve_model("smollm2", work / "models")
            proc, url = _llama_server(Path(getattr(model, "path", model)), work / "llama-server.log")
            try:
                home = work / "cloud"
                llm = _gateway(home, {"KUBESAGE_LLM_CLOUD_BASE_URL": url, "KUBESAGE_LLM_CLOUD_MODEL": "cloud-smollm2",
                                      "KUBESAGE_LLM_CLOUD_API_KEY": "none",
                                      "KUBESAGE_LLM_CLOUD_STRUCTURED": "json_object_schema"})
                report("with a cloud tier (llama_cpp.server + SmolLM2 standing in)",
                       run_set(tasks, kube, home, checker, llm=llm))
            finally:
                proc.terminate()
                proc.wait(timeout=10)
        finally:
            server.stop()


def _similarities(tasks: list[dict[str, Any]], home: Path) -> None:
    """What REUSE_THRESHOLD was read from: each request's best cosine to a DIFFERENT registered request."""
    from tools.toolsmith.registry import Registry
    from tools.toolsmith.synthesize import REUSE_THRESHOLD

    reg = Registry(home)
    try:
        cross = []
        for t in tasks:
            hits = [s for rec, s in reg.search(t["text"], k=3) if (rec.provenance or {}).get("request") != t["text"]]
            if hits:
                cross.append(hits[0])
        cross.sort()
        if cross:
            q = [cross[int(p * (len(cross) - 1))] for p in (0.5, 0.9, 1.0)]
            print(f"nearest other tool per request: p50 {q[0]:.2f}, p90 {q[1]:.2f}, max {q[2]:.2f} "
                  f"(reuse threshold {REUSE_THRESHOLD})")
    finally:
        reg.close()


if __name__ == "__main__":
    main()
