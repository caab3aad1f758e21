"""OpenTelemetry spans for a turn, its route, each agent, each tool call and each model call.

Why here: `agents/`, `tools/` and `llm/` all open spans, and `memory/` is the lowest room all three may import
(docs/architecture.md); this module imports nothing of ours. Why a switch of our own in front of OpenTelemetry:
when tracing is not configured, `span()` hands back one shared do-nothing object (no OpenTelemetry import, no
context attach, no allocation), so an untraced turn pays a function call per span and nothing else.

Configured (`configure`) by the composition root from the `otel_endpoint` setting, else the standard
`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` / `OTEL_EXPORTER_OTLP_ENDPOINT` variables (`OTEL_SDK_DISABLED=true` turns it
off, `OTEL_SERVICE_NAME` names the service, `OTEL_EXPORTER_OTLP_PROTOCOL` picks `http/protobuf` or `grpc`), or
by a test with an exporter of its own (`InMemorySpanExporter`).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from typing import Any

_lock = threading.Lock()
_tracer: Any = None       # an opentelemetry Tracer while tracing is on; None: every span is the no-op one
_provider: Any = None
_configured_for: str | None = None


class TracingError(ValueError):
    """Tracing was asked for and cannot run (an unknown protocol, its exporter package not installed)."""


class _NoSpan:
    """What `span()` returns while tracing is off: a context manager whose `set` does nothing."""

    __slots__ = ()

    def __enter__(self) -> _NoSpan:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def set(self, attrs: Mapping[str, Any]) -> None:
        return None


NO_SPAN = _NoSpan()


class _Span:
    """A live span made current for its `with` block; an exception ends it with an error status."""

    __slots__ = ("_cm", "_span")

    def __init__(self, name: str, attrs: Mapping[str, Any] | None) -> None:
        self._cm = _tracer.start_as_current_span(name, attributes=_clean(attrs))
        self._span: Any = None

    def __enter__(self) -> _Span:
        self._span = self._cm.__enter__()
        return self

    def __exit__(self, *exc: Any) -> Any:
        return self._cm.__exit__(*exc)

    def set(self, attrs: Mapping[str, Any]) -> None:
        self._span.set_attributes(_clean(attrs))


def span(name: str, attrs: Mapping[str, Any] | None = None) -> _Span | _NoSpan:
    """`with span("agent logs", {"kubesage.agent": "logs"}) as s: ...; s.set({...})` — a child of the current span."""
    if _tracer is None:
        return NO_SPAN
    return _Span(name, attrs)


def enabled() -> bool:
    return _tracer is not None


def trace_id() -> str | None:
    """The current trace's id (32 hex digits), or None when tracing is off or no span is current."""
    if _tracer is None:
        return None
    from opentelemetry import trace

    ctx = trace.get_current_span().get_span_context()
    return format(ctx.trace_id, "032x") if ctx.is_valid else None


class remote_parent:  # noqa: N801 - used as a context manager, like contextlib's
    """Make the W3C `traceparent` in `headers` (if any) the parent of the spans opened inside: a caller's trace
    goes on through kubesage."""

    __slots__ = ("_carrier", "_token")

    def __init__(self, headers: Mapping[str, str]) -> None:
        self._carrier, self._token = headers, None

    def __enter__(self) -> None:
        if _tracer is not None and "traceparent" in self._carrier:
            from opentelemetry import context, propagate

            self._token = context.attach(propagate.extract(self._carrier))

    def __exit__(self, *exc: object) -> None:
        if self._token is not None:
            from opentelemetry import context

            context.detach(self._token)


def _clean(attrs: Mapping[str, Any] | None) -> dict[str, Any]:
    """OpenTelemetry takes str, bool, int, float and lists of one of them; None is left out, the rest is text."""
    out: dict[str, Any] = {}
    for k, v in (attrs or {}).items():
        if v is None:
            continue
        if isinstance(v, str | bool | int | float):
            out[k] = v
        elif isinstance(v, list | tuple) and all(isinstance(x, str) for x in v):
            out[k] = list(v)
        else:
            out[k] = str(v)
    return out


def endpoint_from(setting: str = "", env: Mapping[str, str] | None = None) -> tuple[str, bool]:
    """(endpoint, is_signal_specific): the setting first, then the standard variables. A generic OTLP endpoint is a
    base URL to which the HTTP exporter appends /v1/traces, as every OpenTelemetry SDK does."""
    env = os.environ if env is None else env
    if setting:
        return setting, False
    if env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        return env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"], True
    return env.get("OTEL_EXPORTER_OTLP_ENDPOINT", ""), False


def _otlp_exporter(endpoint: str, specific: bool, env: Mapping[str, str]) -> Any:
    protocol = env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or env.get("OTEL_EXPORTER_OTLP_PROTOCOL") or ""
    if protocol in ("", "http/protobuf"):
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        except ImportError:
            if protocol:
                raise TracingError("OTLP over http/protobuf needs the package opentelemetry-exporter-otlp-proto-http, "
                                   "which is not installed; install it or set OTEL_EXPORTER_OTLP_PROTOCOL=grpc") from None
        else:
            url = endpoint if specific else endpoint.rstrip("/") + "/v1/traces"
            return OTLPSpanExporter(endpoint=url)
        protocol = "grpc"  # not asked for by name, and the HTTP exporter is absent: the one that is installed
    if protocol == "grpc":
        try:
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter
        except ImportError:
            raise TracingError("OTLP over grpc needs the package opentelemetry-exporter-otlp-proto-grpc, which is not "
                               "installed") from None
        return GrpcExporter(endpoint=endpoint)
    raise TracingError(f"OTEL_EXPORTER_OTLP_PROTOCOL={protocol!r} is not supported; use http/protobuf or grpc")


def configure(endpoint: str = "", *, exporter: Any = None, env: Mapping[str, str] | None = None) -> bool:
    """Turn tracing on (OTLP to `endpoint` or the standard variables, or into `exporter`, synchronously, for tests);
    with neither, leave it off. Idempotent for the same endpoint. True when tracing is on afterwards."""
    global _tracer, _provider, _configured_for
    env = os.environ if env is None else env
    target, specific = endpoint_from(endpoint, env)
    if exporter is None and (not target or env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true"):
        return _tracer is not None
    with _lock:
        if exporter is None and _configured_for == target:
            return True
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

        provider = TracerProvider(resource=Resource.create({"service.name": env.get("OTEL_SERVICE_NAME") or "kubesage"}))
        if exporter is not None:
            provider.add_span_processor(SimpleSpanProcessor(exporter))
        else:
            provider.add_span_processor(BatchSpanProcessor(_otlp_exporter(target, specific, env)))
        if _provider is not None:
            _provider.shutdown()
        _provider, _configured_for = provider, (None if exporter is not None else target)
        _tracer = provider.get_tracer("kubesage")
    return True


def reset() -> None:
    """Tracing off again (tests); spans already ended are flushed first."""
    global _tracer, _provider, _configured_for
    with _lock:
        if _provider is not None:
            _provider.shutdown()
        _tracer = _provider = _configured_for = None
