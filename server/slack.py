"""Slack-style webhook bot: `/slack/events`, `/slack/commands` and `/slack/interactions` on the kubesage server.

    app.include_router(slack_router(runtime, settings))

Why this order in every route: read the raw body, verify the signature (server.slack_verify) and only then parse
it, so a forged, stale or replayed request gets 401 and nothing runs. A verified request is answered at once; the
turn or decision runs in the background (server.slack_bot) and answers in the Slack thread.

Slack retries an event it thinks we missed (`X-Slack-Retry-Num`, same `event_id`): the event id is remembered, so
a retry is acknowledged with 200 and never runs twice. A retry that carries a signature we already accepted is
acknowledged the same way (it runs nothing either); the same body without the retry header is a replay: 401.
The routes are left out of the OpenAPI document: they are Slack's webhooks, not part of the kubesage API.
"""

from __future__ import annotations

import json
import os
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from server.slack_bot import SlackBot
from server.slack_verify import SignatureVerifier

MAX_BODY = 256 * 1024  # Slack payloads are small; anything larger is not from Slack


def slack_router(runtime: Any, settings: Any, *, signing_secret: str | None = None,
                 bot_token: str | None = None) -> APIRouter:
    """The Slack routes for `runtime`; the signing secret defaults to env KUBESAGE_SLACK_SIGNING_SECRET and the
    bot token to KUBESAGE_SLACK_BOT_TOKEN. `router.slack_bot` is the bot (its `close()` drains the pool)."""
    bot = SlackBot(runtime, settings, token=bot_token)
    secret = os.environ.get("KUBESAGE_SLACK_SIGNING_SECRET", "") if signing_secret is None else signing_secret
    verifier = SignatureVerifier(secret, lambda sig, ts: bot.store.claim(f"sig:{sig}", ts))
    router = APIRouter(include_in_schema=False)
    router.slack_bot = bot  # type: ignore[attr-defined]

    async def verified(request: Request) -> bytes | Response:
        body = await request.body()
        if len(body) > MAX_BODY:
            return _error(413, "request_too_large", f"request body over {MAX_BODY} bytes")
        verdict = await run_in_threadpool(verifier.check, request.headers.get("x-slack-request-timestamp"),
                                          request.headers.get("x-slack-signature"), body)
        if verdict.ok:
            return body
        if verdict.replayed and request.headers.get("x-slack-retry-num"):
            return JSONResponse({"ok": True})  # a retry of a request we already took: acknowledged, runs nothing
        return _error(401, "unauthorized", verdict.reason)

    @router.post("/slack/events")
    async def slack_events(request: Request) -> Response:
        body = await verified(request)
        if isinstance(body, Response):
            return body
        try:
            payload = json.loads(body)
        except ValueError:
            return _error(400, "bad_request", "the body is not JSON")
        if not isinstance(payload, dict):
            return _error(400, "bad_request", "the body is not a JSON object")
        return JSONResponse(await run_in_threadpool(bot.on_event, payload))

    @router.post("/slack/commands")
    async def slack_commands(request: Request) -> Response:
        body = await verified(request)
        if isinstance(body, Response):
            return body
        return JSONResponse(await run_in_threadpool(bot.on_command, _form(body)))

    @router.post("/slack/interactions")
    async def slack_interactions(request: Request) -> Response:
        body = await verified(request)
        if isinstance(body, Response):
            return body
        try:
            payload = json.loads(_form(body).get("payload", ""))
        except ValueError:
            return _error(400, "bad_request", "form field `payload` is not JSON")
        if not isinstance(payload, dict):
            return _error(400, "bad_request", "form field `payload` is not a JSON object")
        await run_in_threadpool(bot.on_interaction, payload)
        return Response(status_code=200)

    return router


def _form(body: bytes) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()}


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)
