"""The HTTP API: `create_app(runtime, settings)` returns the FastAPI app that `kubesage serve` runs under uvicorn.

Routes live under /v1/ (threads, messages, approvals); /healthz and /metrics sit at the root for probes and
scrapers. Every route but those two needs `Authorization: Bearer <token>`, mapped to a principal by the
`api_tokens` setting. The work is in small modules beside this one: auth (tokens → principals), threads
(ownership and per-thread locks), turns (running the supervisor, SSE), answer_cache, metrics, limits, errors.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Path, Query, Request, Security
from fastapi.responses import JSONResponse, PlainTextResponse, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from kubesage.datastore import DataError
from kubesage.settings import Settings
from kubesage.stores import Stores
from server import errors
from server.alerts import AlertDesk, AlertsAccepted, AlertsIn
from server.answer_cache import AnswerCache
from server.auth import Caller, TokenAuth
from server.errors import ErrorBody
from server.limits import SizeLimitMiddleware
from server.metrics import HttpMetrics, MetricsMiddleware
from server.models import (
    THREAD_ID,
    ApprovalList,
    DecisionIn,
    Health,
    MessageIn,
    ThreadCreated,
    ThreadCreateIn,
    ThreadDetail,
    ThreadList,
    ThreadOut,
    TurnOut,
)
from server.threads import ThreadRecord
from server.tracing import TraceMiddleware
from server.turns import TurnService

log = logging.getLogger("kubesage.server")

_SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def _err(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {c: {"model": ErrorBody} for c in codes}


def _event(names: list[str], content: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": ["event", "data"],
            "properties": {"event": {"type": "string", "enum": names},
                           "data": {"type": "string", "contentMediaType": "application/json", "contentSchema": content}}}


# One server-sent event (OpenAPI 3.1: `schema` of text/event-stream describes each event); `data` is JSON.
_SSE_EVENT = {"oneOf": [
    _event(["route", "tool_call", "agent", "outcome", "approval_required", "token"],
           {"type": "object", "required": ["type"]}),
    _event(["answer"], {"allOf": [{"$ref": "#/components/schemas/TurnOut"}, {"required": ["type"]}]}),
    _event(["error"], {"$ref": "#/components/schemas/ErrorBody"}),
]}
# Documented on every route so the schema is honest about what a client can get.
_COMMON = _err(401, 413, 422, 500)
_TURN = {**_COMMON, **_err(400, 403, 404, 409, 502, 503),
         200: {"content": {"text/event-stream": {"schema": _SSE_EVENT}},
               "description": "JSON by default; an SSE stream of events (route, tool_call, agent, outcome, "
                              "approval_required, token, answer; error on failure) with `Accept: text/event-stream` "
                              "or `?stream=true`."}}


_bearer = HTTPBearer(auto_error=False, description="A token from the `api_tokens` setting.")


async def _caller(request: Request, creds: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)]) -> Caller:
    return request.app.state.auth.resolve(f"{creds.scheme} {creds.credentials}" if creds else None)


# Module-level aliases: FastAPI resolves the (string) annotations of the route functions against this module.
Who = Annotated[Caller, Depends(_caller)]
ThreadId = Annotated[str, Path(pattern=THREAD_ID, description="A thread id from POST /v1/threads.")]
Stream = Annotated[bool, Query(description="Answer as an SSE event stream.")]


def _thread_out(rec: ThreadRecord) -> ThreadOut:
    return ThreadOut(thread_id=rec.thread_id, created=rec.created, title=rec.title, waiting=rec.waiting,
                     turns=rec.turns)


def _wants_stream(request: Request, stream: bool) -> bool:
    return stream or "text/event-stream" in request.headers.get("accept", "")


def _include_slack(app: FastAPI, runtime: Any, settings: Settings) -> Any:
    """The Slack bot rides on the same server when server/slack.py provides `slack_router`; if it cannot load,
    the HTTP API runs without it. The bot, or None."""
    try:
        from server.slack import slack_router
    except ModuleNotFoundError as e:
        if e.name != "server.slack":
            log.warning("Slack endpoints disabled: %s", e)
        return None
    except Exception as e:  # noqa: BLE001 - an optional part must never stop the API from starting
        log.warning("Slack endpoints disabled: %s: %s", type(e).__name__, e)
        return None
    try:
        router = slack_router(runtime, settings)
        app.include_router(router)
    except Exception as e:  # noqa: BLE001
        log.warning("Slack endpoints disabled: %s: %s", type(e).__name__, e)
        return None
    return router.slack_bot  # type: ignore[attr-defined]


def create_app(runtime: Any, settings: Settings) -> FastAPI:
    """Build the app around a Runtime (its supervisor, cluster connection and, when loaded, the LLM gateway).
    A damaged database does not stop it: `app.state.fault` says which file, /healthz reports it, and the routes
    that need the data answer 503 with the way out."""
    metrics = HttpMetrics()
    fault: DataError | None = None
    stores = getattr(runtime, "stores", None) or Stores(settings)
    try:
        store = stores.threads()  # SQLite under home, or the replicas' shared Postgres (database_url)
        turns = TurnService(runtime.supervisor, store, AnswerCache(settings.answer_cache_ttl), metrics)
        turns.database = stores.name
    except DataError as e:
        fault, store, turns = e, None, None  # type: ignore[assignment]

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if turns is not None:
            turns.pool.submit(turns.recover)  # approvals a crash left mid-apply: finished, never re-asked
        yield
        if turns is not None:
            turns.close()
            store.close()

    app = FastAPI(title="kubesage", version="1", lifespan=lifespan,
                  dependencies=[Depends(_known_query_only), Depends(_data_available)],
                  description="Ask kubesage about a Kubernetes cluster; approve or reject the changes it proposes.")
    app.state.fault = fault
    app.state.home = settings.home
    app.state.database = stores.name
    errors.install(app)
    app.add_middleware(SizeLimitMiddleware, max_bytes=settings.max_request_bytes)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.add_middleware(TraceMiddleware)  # outermost: the request's span holds everything else
    app.state.turns = turns
    app.state.auth = TokenAuth(settings.api_tokens)

    @app.get("/healthz", response_model=Health, tags=["ops"],
             responses={**_err(500), 503: {"model": Health, "description": "Degraded: `problems` says what and how "
                                                                           "to recover."}})
    async def healthz(request: Request) -> Any:
        fault = request.app.state.fault
        if fault is not None:
            return JSONResponse(Health(status="degraded", problems=[str(fault)]).model_dump(), status_code=503)
        return Health(status="ok")

    @app.get("/metrics", response_class=PlainTextResponse, tags=["ops"],
             responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}, **_err(500)})
    async def prometheus() -> PlainTextResponse:
        text = metrics.render()
        gateway = getattr(runtime.llm, "gateway", runtime.llm)
        if gateway is not None and hasattr(gateway, "prometheus"):
            text += gateway.prometheus()
        return PlainTextResponse(text, media_type="text/plain; version=0.0.4")

    @app.post("/v1/threads", response_model=ThreadCreated, status_code=201, tags=["threads"],
              responses={**_TURN, 201: _TURN[200]})
    async def create_thread(who: Who, request: Request, stream: Stream = False,
                            body: ThreadCreateIn | None = None) -> Any:
        body = body or ThreadCreateIn()
        rec = await turns.io(store.create, who.owner, body.text or "")
        if body.text is None:
            return ThreadCreated(thread=_thread_out(rec))
        if _wants_stream(request, stream):
            events = await turns.ask_stream(who, rec, body.text, body.namespace)
            return StreamingResponse(events, status_code=201, media_type="text/event-stream",
                                     headers={**_SSE_HEADERS, "Location": f"/v1/threads/{rec.thread_id}"})
        turn = await turns.ask(who, rec, body.text, body.namespace)
        return ThreadCreated(thread=_thread_out(await turns.io(store.get, rec.thread_id, who.owner) or rec),
                             turn=TurnOut(**turn))

    @app.get("/v1/threads", response_model=ThreadList, tags=["threads"], responses=_COMMON)
    async def list_threads(who: Who) -> ThreadList:
        return ThreadList(threads=[_thread_out(r) for r in await turns.io(store.owned_by, who.owner)])

    @app.get("/v1/threads/{thread_id}", response_model=ThreadDetail, tags=["threads"],
             responses={**_COMMON, **_err(404)})
    async def get_thread(who: Who, thread_id: ThreadId) -> ThreadDetail:
        rec = await turns.find(who, thread_id)
        pending = await turns.pending(rec)
        history = await turns.history(rec)
        return ThreadDetail(thread=_thread_out(await turns.io(store.get, thread_id, who.owner) or rec), history=history,
                            approval=pending)

    @app.post("/v1/threads/{thread_id}/messages", response_model=TurnOut, tags=["threads"], responses=_TURN)
    async def post_message(who: Who, thread_id: ThreadId, body: MessageIn, request: Request,
                           stream: Stream = False) -> Any:
        rec = await turns.find(who, thread_id)
        if _wants_stream(request, stream):
            events = await turns.ask_stream(who, rec, body.text, body.namespace)
            return StreamingResponse(events, media_type="text/event-stream", headers=_SSE_HEADERS)
        return await turns.ask(who, rec, body.text, body.namespace)

    @app.get("/v1/approvals", response_model=ApprovalList, tags=["approvals"], responses=_COMMON)
    async def list_approvals(who: Who) -> ApprovalList:
        return ApprovalList(approvals=await turns.approvals(who))

    @app.post("/v1/approvals/{thread_id}", response_model=TurnOut, tags=["approvals"], responses=_TURN)
    async def decide(who: Who, thread_id: ThreadId, body: DecisionIn, request: Request,
                     stream: Stream = False) -> Any:
        rec = await turns.find(who, thread_id)
        if _wants_stream(request, stream):
            events = await turns.decide_stream(who, rec, body.decision, body.approval_id)
            return StreamingResponse(events, media_type="text/event-stream", headers=_SSE_HEADERS)
        return await turns.decide(who, rec, body.decision, body.approval_id)

    @app.post("/v1/alerts", response_model=AlertsAccepted, status_code=202, tags=["alerts"],
              responses={**_COMMON, **_err(502, 503)})
    async def receive_alerts(who: Who, body: AlertsIn) -> AlertsAccepted:
        """Alertmanager's webhook (`webhook_configs` with `send_resolved: true` and this server's bearer token):
        each firing alert opens one read-only investigation thread in the `alerts_slack_channel` Slack channel;
        a resolved one closes it (server/alerts.py)."""
        desk = request_desk(app)
        return await run_in_threadpool(desk.receive, who, body)

    bot = _include_slack(app, runtime, settings)
    app.state.alert_desk = AlertDesk(runtime, bot, settings.alerts_slack_channel) \
        if bot is not None and settings.alerts_slack_channel else None
    return app


def request_desk(app: FastAPI) -> AlertDesk:
    """The alert desk, or a 503 saying what is missing."""
    if app.state.alert_desk is None:
        raise errors.ApiError(503, "alerts_not_configured", "Alert investigations post to Slack: set "
                              "`alerts_slack_channel` (and the Slack bot's KUBESAGE_SLACK_BOT_TOKEN) and restart.")
    return app.state.alert_desk


def _data_available(request: Request) -> None:
    """Routes under /v1/ need the thread and checkpoint databases: while one is damaged they answer 503 with the
    file and the way out (ops routes keep answering)."""
    fault = request.app.state.fault
    if fault is not None and request.url.path.startswith("/v1/"):
        raise errors.data_error(fault)


def _known_query_only(request: Request) -> None:
    """A query parameter the route does not declare is refused (422), not ignored: `?stream=ture` or a misspelt
    name must not silently change nothing."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    known = {p.alias for p in dependant.query_params}
    for sub in dependant.dependencies:
        known |= {p.alias for p in sub.query_params}
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        raise errors.ApiError(422, "unknown_query_parameter", f"unknown query parameter(s): {', '.join(unknown)}",
                              {"allowed": sorted(known)})
