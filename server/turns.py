"""Running supervisor turns for HTTP callers: ownership, the per-thread lock, the answer cache, SSE events.

Why a thread pool: the supervisor (LangGraph + the kubernetes client) is synchronous. Turns run in worker threads
so the event loop keeps serving other requests (and cached answers never wait behind a slow turn). A turn holds
its thread's lock for its whole run, in the worker, so a client that disconnects mid-stream cannot let a second
turn of the same thread start before the first has written its checkpoint.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from starlette.concurrency import run_in_threadpool

from agents.approvals import ApprovalRefused
from server.answer_cache import AnswerCache
from server.auth import Caller
from server.errors import ApiError, database_down, error_body, kube_error
from server.metrics import HttpMetrics
from server.threads import ThreadRecord, ThreadStore
from tools.k8s.client import KubeError

log = logging.getLogger("kubesage.server")

_NOT_FOUND = "No thread {} for this caller. Create one with POST /v1/threads."


def _plain(value: Any) -> Any:
    """JSON-safe copy (the supervisor's results may hold tuples, sets or other objects)."""
    return json.loads(json.dumps(value, default=str))


def _unreachable(result: dict[str, Any]) -> bool:
    """A call that never got an HTTP status means the Kubernetes API could not be reached."""
    return any(c.get("status") == 0 for r in result.get("results") or [] for c in r.get("calls") or [])


def public(result: dict[str, Any], cached: bool = False) -> dict[str, Any]:
    out = {k: result.get(k) for k in ("thread_id", "answer", "route", "results", "outcomes", "approval")}
    return {**_plain(out), "cached": cached}


def sse(event: str, data: Any) -> bytes:
    payload = json.dumps(data, default=str).replace("\n", "\\n")  # json never has raw newlines; be explicit
    return f"event: {event}\ndata: {payload}\n\n".encode()


class TurnService:
    def __init__(self, supervisor: Any, store: ThreadStore, cache: AnswerCache, metrics: HttpMetrics,
                 workers: int = 16) -> None:
        self.supervisor, self.store, self.cache, self.metrics = supervisor, store, cache, metrics
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="kubesage-turn")
        self.database = "the kubesage database"  # how a 503 names the shared database (create_app sets it)

    async def _run(self, fn: Callable[..., Any], *args: Any) -> Any:
        # The request's context goes with the work (its trace span: the turn's spans are its children).
        return await asyncio.get_running_loop().run_in_executor(self.pool, contextvars.copy_context().run, fn, *args)

    async def io(self, fn: Callable[..., Any], *args: Any) -> Any:
        """A thread-store call from the event loop: inline when the store answers from memory (SQLite), in a worker
        when it goes over the network (Postgres), so a slow or unreachable database never stalls /healthz or
        other requests."""
        if getattr(self.store, "remote", False):
            return await run_in_threadpool(fn, *args)
        return fn(*args)

    # -- threads -----------------------------------------------------------------------------------
    async def find(self, caller: Caller, thread_id: str) -> ThreadRecord:
        """`thread`, from the event loop."""
        return await self.io(self.thread, caller, thread_id)

    def thread(self, caller: Caller, thread_id: str) -> ThreadRecord:
        rec = self.store.get(thread_id, caller.owner)
        if rec is None:
            raise ApiError(404, "not_found", _NOT_FOUND.format(thread_id))
        return rec

    async def pending(self, rec: ThreadRecord) -> dict[str, Any] | None:
        """The approval the thread waits for; the store's flag spares the checkpoint read for threads that do not."""
        if not rec.waiting:
            return None
        found = await self._run(self.supervisor.pending_approval, rec.thread_id)
        if found is None:  # decided elsewhere (e.g. `kubesage approve`): remember that
            await self.io(self.store.finished_turn, rec.thread_id, None, False)
        return _plain(found) if found else None

    async def history(self, rec: ThreadRecord) -> list[dict[str, Any]]:
        return _plain(await self._run(self.supervisor.history, rec.thread_id))

    async def approvals(self, caller: Caller) -> list[dict[str, Any]]:
        out = []
        for rec in await self.io(self.store.owned_by, caller.owner):
            found = await self.pending(rec)
            if found:
                out.append({"thread_id": rec.thread_id, "approval": found})
        return out

    # -- messages ----------------------------------------------------------------------------------
    async def _not_waiting(self, rec: ThreadRecord) -> None:
        found = await self.pending(rec)
        if found:
            raise ApiError(409, "approval_pending", "This thread waits for a decision on a proposed change: "
                           f"POST /v1/approvals/{rec.thread_id} with approve or reject first.", {"approval": found})

    def cached(self, caller: Caller, rec: ThreadRecord, text: str, namespace: str | None) -> dict[str, Any] | None:
        hit = self.cache.get(self.cache.key(caller.scope, text, namespace))
        self.metrics.cache_event("hit" if hit is not None else "miss")
        return {**hit, "thread_id": rec.thread_id, "cached": True} if hit is not None else None

    def _ask_locked(self, caller: Caller, rec: ThreadRecord, text: str, namespace: str | None,
                    body: Callable[[], Any]) -> Any:
        """Runs in a worker, under the thread's lock: re-check the approval gate, run, record, cache."""
        with self.store.turn_lock(rec.thread_id):
            found = self.supervisor.pending_approval(rec.thread_id)
            if found:
                raise ApiError(409, "approval_pending", "This thread waits for a decision on a proposed change: "
                               f"POST /v1/approvals/{rec.thread_id} first.", {"approval": _plain(found)})
            return body()

    def _finish(self, caller: Caller, rec: ThreadRecord, text: str | None, namespace: str | None,
                result: dict[str, Any]) -> dict[str, Any]:
        """Bookkeeping after a turn (also for streams whose client went away): waiting flag, cache, metrics; then
        a dead cluster becomes a 503 rather than an answer that only says so."""
        self.store.finished_turn(rec.thread_id, text, bool(result.get("approval")))
        out = public(result)
        if _unreachable(result):
            self.metrics.turn("unreachable")
            raise ApiError(503, "cluster_unreachable", "The Kubernetes API cannot be reached; check that the cluster "
                           "(or `kubesage sandbox serve`) is running and retry.",
                           {"thread_id": rec.thread_id, "answer": out["answer"]})
        self.metrics.turn("approval_required" if out["approval"] else "answered")
        if text is not None:
            if self.cache.put(self.cache.key(caller.scope, text, namespace), out):
                self.metrics.cache_event("store")
            elif not AnswerCache.cacheable(out):
                self.metrics.cache_event("skip")
        return out

    async def ask(self, caller: Caller, rec: ThreadRecord, text: str, namespace: str | None) -> dict[str, Any]:
        await self._not_waiting(rec)
        hit = self.cached(caller, rec, text, namespace)
        if hit is not None:
            return hit

        def body() -> dict[str, Any]:
            try:
                result = self.supervisor.start(text, caller.principal, rec.thread_id, namespace, via=caller.via)
            except KubeError as e:
                self.metrics.turn("error")
                raise kube_error(e, rec.thread_id) from None
            return self._finish(caller, rec, text, namespace, result)

        return await self._run(self._ask_locked, caller, rec, text, namespace, body)

    async def ask_stream(self, caller: Caller, rec: ThreadRecord, text: str,
                         namespace: str | None) -> AsyncIterator[bytes]:
        """Checks that can fail with a status run before the stream starts; the events follow."""
        await self._not_waiting(rec)
        hit = self.cached(caller, rec, text, namespace)
        if hit is not None:
            return _replay(hit)

        def events() -> Iterator[dict[str, Any]]:
            return self.supervisor.stream(text, caller.principal, rec.thread_id, namespace, via=caller.via)

        return self._stream(lambda emit: self._ask_locked(
            caller, rec, text, namespace, lambda: self._pump(caller, rec, text, namespace, events, emit)))

    # -- approvals ---------------------------------------------------------------------------------
    def _decide_locked(self, rec: ThreadRecord, approval_id: str, body: Callable[[], Any]) -> Any:
        with self.store.turn_lock(rec.thread_id):
            found = self.supervisor.pending_approval(rec.thread_id)
            if (not found or found.get("id") != approval_id) and self.supervisor.decided(rec.thread_id, approval_id):
                return body()  # decided already (a retry, a double click, another replica): answered with its outcome
            if not found:
                self.store.finished_turn(rec.thread_id, None, False)
                raise ApiError(409, "no_pending_approval", f"Thread {rec.thread_id} is not waiting for an approval.")
            if found.get("id") != approval_id:
                raise ApiError(409, "stale_approval", f"Approval {approval_id} is not the one thread {rec.thread_id} "
                               "waits for (it was decided, or a newer one replaced it); review the current one.",
                               {"approval": _plain(found)})
            return body()

    async def decide(self, caller: Caller, rec: ThreadRecord, decision: str, approval_id: str) -> dict[str, Any]:
        def body() -> dict[str, Any]:
            try:
                result = self.supervisor.resume(rec.thread_id, decision, by=caller.principal, approval_id=approval_id)
            except KubeError as e:
                raise kube_error(e, rec.thread_id) from None
            except ApprovalRefused as e:
                raise _refused(e) from None
            return self._finish(caller, rec, None, None, result)

        return await self._run(self._decide_locked, rec, approval_id, body)

    async def decide_stream(self, caller: Caller, rec: ThreadRecord, decision: str,
                            approval_id: str) -> AsyncIterator[bytes]:
        found = await self._run(self.supervisor.pending_approval, rec.thread_id)
        if (not found or found.get("id") != approval_id) and \
                not await self._run(self.supervisor.decided, rec.thread_id, approval_id):
            await self._run(self._decide_locked, rec, approval_id, lambda: None)  # raises the precise 409

        def events() -> Iterator[dict[str, Any]]:
            try:
                if not self.supervisor.decided(rec.thread_id, approval_id):
                    self.supervisor.check_decider(rec.thread_id, caller.principal)
                yield from self.supervisor.stream_resume(rec.thread_id, decision, by=caller.principal,
                                                         approval_id=approval_id)
            except ApprovalRefused as e:
                raise _refused(e) from None

        return self._stream(lambda emit: self._decide_locked(
            rec, approval_id, lambda: self._pump(caller, rec, None, None, events, emit)))

    # -- streaming plumbing ------------------------------------------------------------------------
    def _pump(self, caller: Caller, rec: ThreadRecord, text: str | None, namespace: str | None,
              events: Callable[[], Iterator[dict[str, Any]]], emit: Callable[[bytes], None]) -> None:
        for ev in events():
            kind = ev.get("type", "event")
            if kind != "answer":
                emit(sse(kind, ev))
                continue
            result = dict(ev)
            result.pop("type", None)
            emit(sse("answer", {**self._finish(caller, rec, text, namespace, result), "type": "answer"}))

    def _stream(self, work: Callable[[Callable[[bytes], None]], None]) -> AsyncIterator[bytes]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[bytes | None] = asyncio.Queue()

        def emit(chunk: bytes | None) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, chunk)
            except RuntimeError:  # the server is shutting down: nobody is listening any more
                pass

        def run() -> None:
            try:
                work(emit)
            except ApiError as e:
                emit(sse("error", error_body(e.code, e.message, e.details)))
            except KubeError as e:
                err = kube_error(e)
                emit(sse("error", error_body(err.code, err.message)))
            except Exception as e:  # noqa: BLE001 - reported to the client as an event, logged here
                down = database_down(e, self.database)
                if down is not None:
                    emit(sse("error", error_body(down.code, down.message, down.details)))
                    return
                log.error("turn failed: %s: %s", type(e).__name__, e)
                emit(sse("error", error_body("internal_error", f"The turn failed ({type(e).__name__}).")))
            finally:
                emit(None)

        self.pool.submit(contextvars.copy_context().run, run)

        async def gen() -> AsyncIterator[bytes]:
            while (chunk := await queue.get()) is not None:
                yield chunk

        return gen()

    def recover(self) -> list[str]:
        """At start-up: finish the approvals a crash left mid-apply (under each thread's lock, so a request for the
        same thread waits); the threads finished."""
        done = []
        for tid in self.supervisor.ledger.open_threads():
            try:
                with self.store.turn_lock(tid):
                    result = self.supervisor.settle(tid)
            except Exception as e:  # noqa: BLE001 - one thread's failure must not stop the others or the server
                log.error("could not finish thread %s after a restart: %s: %s", tid, type(e).__name__, e)
                continue
            if result is not None:
                self.store.finished_turn(tid, None, bool(result.get("approval")))
                done.append(tid)
        if done:
            log.warning("finished %d approval(s) interrupted by a restart: %s", len(done), ", ".join(done))
        return done

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


def _refused(e: ApprovalRefused) -> ApiError:
    return ApiError(403, "forbidden", f"{e} Decide with a token for that principal.")


async def _replay(hit: dict[str, Any]) -> AsyncIterator[bytes]:
    """A cached answer as the same event sequence a live turn ends with."""
    if hit.get("route"):
        yield sse("route", {**hit["route"], "type": "route"})
    if hit.get("answer"):
        yield sse("token", {"type": "token", "text": hit["answer"]})
    yield sse("answer", {**hit, "type": "answer"})
