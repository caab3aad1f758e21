"""One error body for every failure the HTTP API returns: `{"error": {"code", "message", "details"?}}`.

Why one shape: clients (the TUI, scripts, the Slack bridge) handle errors with one parser, and schemathesis can check
every documented error response against one schema. Handlers here cover our own errors, FastAPI's validation
errors, Starlette's 404/405, cluster failures and anything unexpected, which becomes a 500 without a traceback.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from agents.approvals import DecisionPending
from kubesage import datastore
from kubesage.datastore import DataError
from tools.k8s.client import KubeError

log = logging.getLogger("kubesage.server")

_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
          409: "conflict", 413: "request_too_large", 415: "unsupported_media_type", 422: "invalid_request",
          500: "internal_error", 502: "cluster_error", 503: "cluster_unreachable"}


# Exceptions that mean "the shared database cannot be reached right now" (by class name, so this module needs no
# database driver): psycopg's connection failures and psycopg_pool's wait for a connection that never came.
# (Server shutdowns and refused connections are subclasses of OperationalError.)
_DOWN = {("psycopg", "OperationalError"), ("psycopg", "InterfaceError"), ("psycopg_pool", "PoolTimeout"),
         ("psycopg_pool", "PoolClosed")}


def _down_classes() -> list[type[BaseException]]:
    """The driver's classes in _DOWN, where the driver is installed (SQLite-only installs have none)."""
    try:
        import psycopg
        import psycopg_pool
    except ImportError:
        return []
    return [psycopg.OperationalError, psycopg.InterfaceError, psycopg_pool.PoolTimeout, psycopg_pool.PoolClosed]


def database_down(e: BaseException, database: str = "the kubesage database") -> ApiError | None:
    """A 503 naming the database when `e` (or what caused it) is a lost database connection; None otherwise. The
    pools reconnect on their own, so the caller is told to retry, not to restart anything."""
    seen: set[int] = set()
    cur: BaseException | None = e
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if any((c.__module__.split(".")[0], c.__name__) in _DOWN for c in type(cur).__mro__):
            why = (str(cur).strip().splitlines() or ["no detail"])[0][:200]
            return ApiError(503, "database_unavailable", f"The database {database} cannot be reached "
                            f"({type(cur).__name__}: {why}). kubesage reconnects by itself once it is back; "
                            "retry shortly.", {"database": database}, headers={"Retry-After": "2"})
        cur = cur.__cause__ or cur.__context__
    return None


def data_error(e: DataError) -> ApiError:
    """A damaged kubesage database: 503, naming the file and how to recover (never a traceback, never a 500)."""
    return ApiError(503, "data_unavailable", str(e), {"file": str(e.path), "problem": e.problem})


class ErrorInfo(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorBody(BaseModel):
    """The body of every error response."""

    error: ErrorInfo


class ApiError(Exception):
    """An error meant for the caller: status, a stable machine code and a sentence that says what to do."""

    def __init__(self, status: int, code: str, message: str, details: Any = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details, self.headers = status, code, message, details, headers


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    err: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        err["details"] = details
    return {"error": err}


def error_response(status: int, code: str, message: str, details: Any = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_body(code, message, details), status_code=status, headers=headers)


def kube_error(e: KubeError, thread_id: str | None = None) -> ApiError:
    """Map a failed Kubernetes call: unreachable → 503, the caller's own rights or input → 4xx, else 502. With a
    thread id, an unreachable cluster names the thread, so the client can retry the same turn."""
    if e.status == 0:
        return ApiError(503, "cluster_unreachable", f"The Kubernetes API cannot be reached: {e.message}. "
                        "Check that the cluster (or `kubesage sandbox serve`) is running and retry.",
                        {"thread_id": thread_id} if thread_id else None)
    if e.status in (401, 403):
        return ApiError(403, "forbidden", f"The Kubernetes API refused the request: {e.message}")
    if e.status == 404:
        return ApiError(404, "not_found", f"The Kubernetes API has no such object: {e.message}")
    if e.status in (400, 409, 422):
        return ApiError(409 if e.status == 409 else 400, _CODES[409 if e.status == 409 else 400],
                        f"The Kubernetes API rejected the request: {e.message}")
    return ApiError(502, "cluster_error", f"The Kubernetes API failed ({e.status} {e.reason}): {e.message}")


def _validation_details(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # Only what helps the caller fix the request: where, what, which rule (no echoed input, no internals).
    return [{"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
            for e in errors]


def install(app: FastAPI) -> None:
    """Register the handlers that turn every exception into the one error shape."""

    @app.exception_handler(ApiError)
    async def _api(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message, exc.details, exc.headers)

    @app.exception_handler(KubeError)
    async def _kube(request: Request, exc: KubeError) -> JSONResponse:
        e = kube_error(exc)
        return error_response(e.status, e.code, e.message)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(422, "invalid_request", "The request does not match the API schema: see details.",
                              _validation_details(list(exc.errors())))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _CODES.get(exc.status_code, "error")
        message = str(exc.detail) if exc.detail else code.replace("_", " ")
        if exc.status_code == 400 and message == "There was an error parsing the body":
            message = "The request body could not be read: send UTF-8 encoded JSON."
        elif exc.status_code == 404 and message == "Not Found":
            message = f"No such route: {request.method} {request.url.path}. See /openapi.json."
        elif exc.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path}. See /openapi.json."
        return error_response(exc.status_code, code, message, headers=getattr(exc, "headers", None))

    @app.exception_handler(RecursionError)
    async def _nested(request: Request, exc: RecursionError) -> JSONResponse:
        return error_response(400, "bad_request", "The request body is nested too deeply; send flat JSON.")

    @app.exception_handler(DataError)
    async def _data(request: Request, exc: DataError) -> JSONResponse:
        request.app.state.fault = exc  # /healthz tells the truth from now on
        e = data_error(exc)
        return error_response(e.status, e.code, e.message, e.details)

    @app.exception_handler(sqlite3.DatabaseError)
    async def _sqlite(request: Request, exc: sqlite3.DatabaseError) -> JSONResponse:
        damaged = datastore.explain(exc, request.app.state.home)
        if damaged is None:  # busy or locked, not damaged: worth a retry
            return error_response(503, "data_unavailable", f"A kubesage database could not be used ({exc}); retry.")
        return await _data(request, damaged)

    async def _database(request: Request, exc: Exception) -> JSONResponse:
        down = database_down(exc, getattr(request.app.state, "database", None) or "the kubesage database")
        if down is None:
            return await _unexpected(request, exc)
        log.warning("database unavailable on %s %s: %s", request.method, request.url.path, down.message)
        return error_response(down.status, down.code, down.message, down.details, down.headers)

    for cls in _down_classes():  # handled here, the server log gets one line, not a traceback
        app.add_exception_handler(cls, _database)

    @app.exception_handler(DecisionPending)
    async def _pending(request: Request, exc: DecisionPending) -> JSONResponse:
        return error_response(409, "decision_in_progress", f"{exc}.", headers={"Retry-After": "5"})

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        down = database_down(exc, getattr(request.app.state, "database", None) or "the kubesage database")
        if down is not None:  # wrapped in another exception on its way up
            log.warning("database unavailable on %s %s: %s", request.method, request.url.path, down.message)
            return error_response(down.status, down.code, down.message, down.details, down.headers)
        log.error("unhandled error on %s %s: %s: %s", request.method, request.url.path, type(exc).__name__, exc)
        return error_response(500, "internal_error", "kubesage failed to handle this request; the server log has "
                              f"the cause ({type(exc).__name__}).")
