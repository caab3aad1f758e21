"""The runtime: one place that wires settings → cluster connection, router, checkpointer, audit log, gateway
and the supervisor graph, for every interface (CLI, HTTP, TUI, evals).

Why the embedded default lives here: with no kubeconfig, kubesage uses a sandbox cluster whose state persists
under KUBESAGE_HOME, so a question, an approval given later, and a restarted process all see one cluster.
"""

from __future__ import annotations

import logging
from typing import Any

from kubesage import cluster
from kubesage.settings import Settings
from kubesage.stores import Stores
from memory import tracing
from tools.k8s.client import Kube, Principal

log = logging.getLogger("kubesage")


class _LazyModel:
    """The gateway, built on the first call an agent makes (loading the local model costs a second; most turns never
    need it)."""

    def __init__(self, make: Any) -> None:
        self._make = make
        self._model: Any = None

    def __getattr__(self, name: str) -> Any:
        if self._model is None:
            self._model = self._make()
        return getattr(self._model, name)


class Runtime:
    def __init__(self, settings: Settings, kubeconfig: str | None = None, context: str | None = None,
                 scenario: str | None = None, speed: float | None = None, read_only: bool = False,
                 llm: Any = None, namespace: str | None = None) -> None:
        """Connect as kubectl would (kubesage.cluster); cluster.ClusterError when the chosen kubeconfig or context
        cannot be used. The embedded sandbox starts only when no source names a cluster."""
        self.settings = settings
        try:  # OTLP traces when otel_endpoint (or OTEL_EXPORTER_OTLP_ENDPOINT) is set; otherwise spans cost nothing
            tracing.configure(settings.otel_endpoint)
        except tracing.TracingError as e:
            log.warning("tracing is off: %s", e)
        self.sandbox = None
        choice = cluster.find(settings, kubeconfig, context, namespace)
        if choice is None:
            from sandbox.server import SandboxServer

            state = settings.home / "sandbox-embedded"
            self.sandbox = SandboxServer(state_dir=state, scenarios=[scenario or settings.sandbox_scenario],
                                         speed=speed or settings.sandbox_speed).start()
            choice = cluster.embedded(self.sandbox.write_kubeconfig(state / "kubeconfig"),
                                      context or settings.context or None, namespace)
        self.cluster: cluster.Choice = choice
        self.kubeconfig = choice.kubeconfig
        self.context: str | None = choice.context
        self.read_only = read_only
        self.llm = llm
        self._supervisor = None
        self.stores = Stores(settings)  # SQLite under home, or the shared Postgres database (database_url)

    def kube(self, principal: Principal | None = None) -> Kube:
        return Kube.from_kubeconfig(self.kubeconfig, self.context, principal, self.read_only)

    def default_namespace(self) -> str | None:
        """-n, else the context's namespace, else "default" (kubectl's rule)."""
        return self.cluster.namespace

    @property
    def supervisor(self):  # noqa: ANN201 - agents.supervisor.Supervisor (imported lazily: LangGraph is heavy)
        if self._supervisor is None:
            from agents.router import Router
            from agents.supervisor import Supervisor

            # Low-margin ties go to the gateway only when a cloud tier is configured: measured on the routing set,
            # the bundled 135M/270M models add seconds and get no more of those ties right than the embeddings.
            from llm.config import cloud_configured

            tie_break = self._llm_route if cloud_configured() else None
            checkpointer = self.stores.checkpointer()  # DataError (one line) when a SQLite file is damaged
            self._supervisor = Supervisor(kube_for=self.kube, router=Router(llm_route=tie_break),
                                          audit=self.stores.audit(),
                                          checkpointer=checkpointer,
                                          llm=self.llm if self.llm is not None else _LazyModel(self.gateway_model),
                                          default_namespace=self.cluster.context_namespace or None,
                                          read_only=self.read_only,
                                          ledger=self.stores.ledger(),
                                          verify_stable_s=self.settings.health_stable_s or None,
                                          verify_timeout_s=self.settings.health_timeout_s or None,
                                          approval_lease_s=self.settings.approval_lease_s)
            self._supervisor.agents.update(self._prometheus_agents(self._supervisor.agents))
        return self._supervisor

    def _prometheus_agents(self, agents: dict[str, Any]) -> dict[str, Any]:
        """The metrics agent given the Prometheus client when `prometheus_url` is set (its range questions); without
        it, the metrics agent answers current usage and says that Prometheus is not configured."""
        if not self.settings.prometheus_url or "metrics" not in agents:
            return {}
        from functools import partial

        from tools.prometheus import Prometheus

        return {"metrics": partial(agents["metrics"], prometheus=Prometheus(self.settings.prometheus_url))}

    def gateway_model(self) -> Any:
        """The gateway as a chat model (bundled local model first; a cloud tier only when configured); built on
        first use, because loading the local model costs a second."""
        if self.llm is None:
            from llm.factory import create_chat_model, create_gateway

            self.llm = create_chat_model(create_gateway(home=self.settings.home))
        return self.llm

    def _llm_route(self, text: str, candidates: list[str]) -> str | None:
        """Low-margin routing decisions go to the gateway (category `routing`, JSON-schema constrained)."""
        from agents.router import LABEL_DESCRIPTIONS
        from llm.routing import make_llm_route

        return make_llm_route(self.gateway_model(), descriptions=LABEL_DESCRIPTIONS)(text, candidates)

    def close(self) -> None:
        self.stores.close()
        if self.sandbox is not None:
            self.sandbox.stop()
            self.sandbox = None
