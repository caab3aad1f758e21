"""The gateway: cache → local → cloud, with verification, escalation, fallback and accounting.

Why one function decides everything (`Gateway.complete`): the routing rules are the product's cost, latency
and privacy lever, and they must be readable in one place:

- `local-only`: the local model answers; verification failures are recorded, never sent to the cloud.
- `local-first` (default): the local model answers; if a verifier rejects it (schema, the caller's check, low
  confidence) the request escalates to the cloud; if the cloud fails, the local answer is returned, marked.
- `cloud-first`: the cloud answers; on timeouts, 429, 5xx, connection errors or an open breaker, the local
  model answers instead, and the record says so.
- `cloud-only`: the cloud answers or the call fails (for requests that must not be answered by a small model).

Only verified answers from the preferred path are cached; a cached answer is re-verified on a hit.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from llm.accounting import CallRecord, Metrics, estimate_cost
from llm.cloud import CloudTier
from llm.config import POLICIES, LLMConfig
from llm.local import LocalTier
from llm.request import ChatRequest, cache_key
from llm.tiers import CloudError, GatewayError, LocalError, TierOutput
from llm.verify import verify
from memory import SemanticCache, tracing

log = logging.getLogger("kubesage.llm")


class GatewayResult:
    """The answer plus its CallRecord."""

    def __init__(self, output: TierOutput, record: CallRecord) -> None:
        self.output = output
        self.record = record

    @property
    def content(self) -> str:
        return self.output.content

    @property
    def tool_calls(self) -> list[dict[str, Any]]:
        return self.output.tool_calls


class Gateway:
    """Routes one chat request through the cache and the tiers the category's policy allows."""

    def __init__(self, config: LLMConfig, local: LocalTier | None, cloud: CloudTier | None = None,
                 cache: SemanticCache | None = None, metrics: Metrics | None = None) -> None:
        self.config = config
        self.local = local
        self.cloud = cloud
        self.cache = cache
        self.metrics = metrics or Metrics()
        self.model_id = config.model_id or "+".join(
            x for x in (f"local:{local.name}" if local else "", f"cloud:{cloud.name}" if cloud else "") if x)
        self._prices = {"cloud_input": config.price_cloud_input, "cloud_output": config.price_cloud_output,
                        "local_input": config.price_local_input, "local_output": config.price_local_output}

    # -- the one decision ---------------------------------------------------------------------------------------

    def complete(self, req: ChatRequest) -> GatewayResult:
        """Answer `req`; raises GatewayError only when no tier the policy allows could answer. One trace span per
        call: the tier that answered, the tokens, whether the cache answered."""
        with tracing.span(f"model {req.category}", {"gen_ai.operation.name": "chat", "kubesage.category": req.category}) as s:
            res = self._complete(req)
            rec = res.record
            s.set({"kubesage.tier": rec.served_by, "kubesage.policy": rec.policy, "gen_ai.response.model": rec.model,
                   "gen_ai.usage.input_tokens": rec.prompt_tokens, "gen_ai.usage.output_tokens": rec.completion_tokens,
                   "kubesage.cache_hit": rec.served_by.startswith("cache"), "kubesage.fallback": rec.fallback,
                   "kubesage.escalated": bool(rec.escalations)})
            return res

    def _complete(self, req: ChatRequest) -> GatewayResult:
        t0 = time.perf_counter()
        route = self.config.route(req.category)
        policy = req.policy or route.policy
        if policy not in POLICIES:
            raise GatewayError(f"unknown policy {policy!r}; use one of {', '.join(POLICIES)}")
        key = None
        if self.cache is not None and self.config.use_cache and req.use_cache:
            key = cache_key(req, self.model_id, policy)
        hit = None
        if key is not None:
            self.cache.set_pressure(self.cloud.pressure() if self.cloud is not None else 0.0)
            try:
                hit = self.cache.lookup(key)
            except Exception as e:  # noqa: BLE001 - a broken cache must not break the turn
                log.warning("cache lookup failed, answering without it: %s", e)
            if hit is not None:
                out = _from_payload(hit.payload)
                rejected = verify(req, out)
                if not rejected:
                    rec = CallRecord(served_by=f"cache-{hit.kind}", category=req.category, policy=policy,
                                     model=out.model, similarity=round(hit.similarity, 4),
                                     cache_threshold=round(hit.threshold, 4),
                                     saved_usd=estimate_cost(out.tier, out.prompt_tokens, out.completion_tokens,
                                                             self._prices))
                    return self._finish(out, rec, t0)
                log.info("cache %s hit rejected by verification: %s", hit.kind, rejected)
                if hit.kind == "exact":
                    self.cache.invalidate(key)
        out, rec = self._tiers(req, policy, route.min_logprob)
        if key is not None and rec.fallback is None and not rec.rejected:
            try:
                self.cache.store(key, out.payload())
            except Exception as e:  # noqa: BLE001 - the answer is good; only its reuse is lost
                log.warning("cache store failed: %s", e)
        return self._finish(out, rec, t0)

    def _tiers(self, req: ChatRequest, policy: str, min_logprob: float | None) -> tuple[TierOutput, CallRecord]:
        rec = CallRecord(served_by="", category=req.category, policy=policy, model="")
        if policy in ("cloud-first", "cloud-only"):
            try:
                out = self._cloud(req, rec)
            except CloudError as e:
                rec.cloud_attempts = e.attempts
                if policy == "cloud-only":
                    raise GatewayError(f"cloud-only request and the cloud tier failed: {e}") from e
                rec.fallback = f"{e.kind}: {e.detail}"
                try:
                    out = self._local(req, rec)
                except LocalError as le:
                    raise GatewayError(f"the cloud tier failed ({e}) and so did the local tier ({le})") from le
                rec.rejected = verify(req, out, min_logprob)
                return out, rec
            rec.rejected = verify(req, out)
            return out, rec
        # local-only / local-first
        try:
            out: TierOutput | None = self._local(req, rec)
            reasons = verify(req, out, min_logprob)
        except LocalError as e:
            out, reasons = None, [f"local error: {e}"]
        if not reasons:
            return out, rec  # type: ignore[return-value]
        if policy == "local-only" or self.cloud is None:
            if out is None:
                raise GatewayError(f"the local tier failed and the policy allows no other: {reasons[0]}")
            rec.rejected = reasons
            if policy != "local-only":
                rec.fallback = "not_configured: escalation wanted but no cloud tier is configured"
            return out, rec
        rec.escalations = reasons
        try:
            cloud_out = self._cloud(req, rec)
        except CloudError as e:
            rec.cloud_attempts = e.attempts
            if out is None:
                raise GatewayError(f"local tier failed ({reasons[0]}) and the cloud tier failed ({e})") from e
            rec.fallback = f"{e.kind}: {e.detail}"
            rec.rejected = reasons
            rec.served_by, rec.model = "local", out.model
            return out, rec
        rec.rejected = verify(req, cloud_out)
        return cloud_out, rec

    # -- tiers --------------------------------------------------------------------------------------------------

    def _local(self, req: ChatRequest, rec: CallRecord) -> TierOutput:
        if self.local is None:
            raise GatewayError("no local tier configured")
        out = self.local.complete(req)
        self._account(out, rec)
        rec.mean_logprob = None if out.mean_logprob is None else round(out.mean_logprob, 4)
        return out

    def _cloud(self, req: ChatRequest, rec: CallRecord) -> TierOutput:
        if self.cloud is None:
            raise CloudError("not_configured", "no cloud tier configured (set KUBESAGE_LLM_CLOUD_BASE_URL)")
        out = self.cloud.complete(req)
        rec.cloud_attempts = out.attempts
        self._account(out, rec)
        return out

    def _account(self, out: TierOutput, rec: CallRecord) -> None:
        cost = estimate_cost(out.tier, out.prompt_tokens, out.completion_tokens, self._prices)
        rec.tiers.append({"tier": out.tier, "model": out.model, "prompt_tokens": out.prompt_tokens,
                          "completion_tokens": out.completion_tokens, "latency_ms": round(out.latency_ms, 1),
                          "cost_usd": cost})
        rec.served_by, rec.model = out.tier, out.model
        rec.prompt_tokens += out.prompt_tokens
        rec.completion_tokens += out.completion_tokens
        rec.cost_usd += cost

    def _finish(self, out: TierOutput, rec: CallRecord, t0: float) -> GatewayResult:
        rec.verified = not rec.rejected
        rec.latency_ms = round((time.perf_counter() - t0) * 1000, 2)
        self.metrics.record(rec)
        return GatewayResult(out, rec)

    # -- observability ------------------------------------------------------------------------------------------

    def prometheus(self) -> str:
        """Counters for a /metrics endpoint, with breaker state and cache counters as gauges."""
        extra: dict[str, float] = {}
        if self.cloud is not None:
            extra["kubesage_llm_breaker_open"] = 0.0 if self.cloud.breaker.state == "closed" else 1.0
            extra["kubesage_llm_breaker_opened_total"] = float(self.cloud.breaker.opened_total)
            extra["kubesage_llm_cloud_pressure"] = round(self.cloud.pressure(), 4)
        if self.cache is not None:
            for k, v in self.cache.stats.as_dict().items():
                extra[f"kubesage_cache_{k}_total"] = float(v)
        return self.metrics.prometheus(extra)

    def close(self) -> None:
        """Flush the cache's pending writes."""
        if self.cache is not None:
            self.cache.close()


def _from_payload(p: dict[str, Any]) -> TierOutput:
    # tool-call ids must be unique per message in an agent's history: a reused answer gets fresh ones
    calls = [{**c, "id": f"call_{uuid.uuid4().hex[:16]}"} for c in p.get("tool_calls") or []]
    return TierOutput(tier=p.get("tier", "cache"), model=p.get("model", ""), content=p.get("content", ""),
                      tool_calls=calls, prompt_tokens=int(p.get("prompt_tokens", 0)),
                      completion_tokens=int(p.get("completion_tokens", 0)))
