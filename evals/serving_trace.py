"""A BurstGPT-style LLM request trace, synthesized and replayed against a deployed backend.

Why synthetic: BurstGPT (Wang et al., 2024; Azure OpenAI traces) is not shipped here and runs are offline, but
its published shape is what matters for routing and autoscaling: bursty arrivals (inter-arrival times fit a
Gamma distribution with shape < 1, i.e. burstier than Poisson), a few conversations that get most requests
(Zipf), and heavy-tailed request and response lengths (log-normal). `synth_trace` draws exactly those, seeded,
scaled down to what a 135M model with n_ctx 512 can take (docs/serving.md lists the parameters).

`replay` plays a trace against a `BackendTier` in (scaled) real time: every request is a chat completion whose
conversation prefix is its conversation's system prompt and first question, so affinity can be measured; every
`sample_s` it scrapes the replicas' /metrics (tools.serving.scrape), feeds them to the tier's load-aware choice,
and asks the Recommender for a replica count. `plot` draws the timeline (matplotlib, Agg).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from llm.backends import BackendTier
from llm.request import ChatRequest
from tools import serving as S

WORDS = ("pod node deploy service ingress replica latency error restart memory cpu quota label selector volume "
         "secret config rollout image probe").split()


@dataclass(frozen=True)
class TraceRequest:
    t: float  # seconds from the start
    conversation: int
    turn: int
    prompt_tokens: int
    response_tokens: int


def synth_trace(n: int = 60, seed: int = 7, rate: float = 2.0, burst_shape: float = 0.35, conversations: int = 12,
                zipf_s: float = 1.2, prompt_median: int = 60, prompt_sigma: float = 0.7, response_median: int = 12,
                response_sigma: float = 0.5, max_prompt: int = 300, max_response: int = 32) -> list[TraceRequest]:
    """n requests: Gamma(shape=burst_shape, mean 1/rate) inter-arrivals, Zipf(zipf_s) conversation popularity
    over `conversations`, log-normal prompt and response token counts (medians and sigmas as given, clipped)."""
    rng = np.random.default_rng(seed)
    gaps = rng.gamma(burst_shape, 1.0 / (rate * burst_shape), size=n)
    times = np.cumsum(gaps) - gaps[0]
    weights = 1.0 / np.arange(1, conversations + 1) ** zipf_s
    convs = rng.choice(conversations, size=n, p=weights / weights.sum())
    prompts = np.clip(rng.lognormal(np.log(prompt_median), prompt_sigma, n), 8, max_prompt).astype(int)
    responses = np.clip(rng.lognormal(np.log(response_median), response_sigma, n), 1, max_response).astype(int)
    turns: dict[int, int] = {}
    out = []
    for i in range(n):
        c = int(convs[i])
        turns[c] = turns.get(c, 0) + 1
        out.append(TraceRequest(round(float(times[i]), 3), c, turns[c], int(prompts[i]), int(responses[i])))
    return out


def messages_for(r: TraceRequest) -> list[dict[str, str]]:
    """A chat whose prefix (system prompt + first question) is the conversation's, then this turn's question."""
    rng = np.random.default_rng(r.conversation)
    topic = " ".join(rng.choice(WORDS, size=12))
    msgs = [{"role": "system", "content": f"You are an SRE assistant for team {r.conversation}."},
            {"role": "user", "content": f"Conversation {r.conversation} about {topic}."}]
    if r.turn > 1:
        body = " ".join(np.random.default_rng(r.conversation * 1000 + r.turn).choice(WORDS, size=r.prompt_tokens))
        msgs += [{"role": "assistant", "content": "Noted."}, {"role": "user", "content": body[: r.prompt_tokens * 4]}]
    return msgs


@dataclass
class Replay:
    """What a replay observed: per request (replica, latency, ok), and samples over time."""

    results: list[dict[str, Any]] = field(default_factory=list)
    samples: list[dict[str, Any]] = field(default_factory=list)

    def affinity(self) -> float:
        """Share of follow-up requests served by the replica that served their conversation's first request."""
        first: dict[int, str] = {}
        hits = total = 0
        for r in sorted(self.results, key=lambda x: x["t"]):
            if not r["ok"]:
                continue
            if r["conversation"] in first:
                total += 1
                hits += first[r["conversation"]] == r["replica"]
            else:
                first[r["conversation"]] = r["replica"]
        return hits / total if total else 0.0

    def balance(self) -> dict[str, Any]:
        counts: dict[str, int] = {}
        for r in self.results:
            if r["ok"]:
                counts[r["replica"]] = counts.get(r["replica"], 0) + 1
        mean = sum(counts.values()) / len(counts) if counts else 0.0
        return {"requests": counts, "max_over_mean": round(max(counts.values()) / mean, 3) if mean else 0.0}


def replay(trace: list[TraceRequest], tier: BackendTier, sample: Callable[[], dict[str, Any]] | None = None,
           time_scale: float = 1.0, sample_s: float = 1.0, workers: int = 8) -> Replay:
    """Send each request at t × time_scale seconds after the start; sample every sample_s seconds meanwhile."""
    out = Replay()
    lock = threading.Lock()
    done = threading.Event()
    t0 = time.monotonic()

    def one(r: TraceRequest) -> None:
        delay = r.t * time_scale - (time.monotonic() - t0)
        if delay > 0:
            time.sleep(delay)
        start = time.monotonic()
        try:
            res = tier.complete(ChatRequest(messages=messages_for(r), max_tokens=r.response_tokens, temperature=0.0))
            replica, ok = res.model.split("@")[-1], True
        except Exception as e:  # noqa: BLE001 - a failed request is a data point, not the end of the replay
            replica, ok = f"error: {e}", False
        with lock:
            out.results.append({"t": round(start - t0, 3), "conversation": r.conversation, "replica": replica,
                                "ok": ok, "latency_s": round(time.monotonic() - start, 3)})

    def sampler() -> None:
        while not done.wait(sample_s):
            if sample is not None:
                try:
                    s = sample()
                except Exception as e:  # noqa: BLE001 - a missed sample is recorded as such
                    s = {"error": str(e)}
                s["t"] = round(time.monotonic() - t0, 3)
                with lock:
                    out.samples.append(s)

    th = threading.Thread(target=sampler, daemon=True)
    th.start()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(one, trace))
    done.set()
    th.join(timeout=5)
    return out


def sampler_for(kube: Any, namespace: str, name: str, tier: BackendTier,
                recommender: S.Recommender | None = None) -> Callable[[], dict[str, Any]]:
    """A sample function: scrape the replicas, feed their load to the tier, ask for a replica count."""
    rec = recommender or S.Recommender()

    def sample() -> dict[str, Any]:
        dep = kube.get("Deployment", namespace, name)
        replicas = S.scrape(kube, dep)
        for r in replicas:
            tier.observe(r.pod, r.running, r.waiting)
        current = int(dep["spec"].get("replicas", 1))
        decision = rec.recommend(current, replicas)
        return {"replicas": current, "running": sum(r.running for r in replicas),
                "waiting": sum(r.waiting for r in replicas),
                "kv": max((r.kv_usage for r in replicas), default=0.0), "recommended": decision.replicas,
                "action": decision.action}

    return sample


def plot(run: Replay, path: str | Path, title: str = "replayed trace") -> Path:
    """Arrivals, queue (running + waiting), KV usage and the recommended replica count over time (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    samples = [s for s in run.samples if "error" not in s]
    fig, axes = plt.subplots(3, 1, figsize=(8, 7), sharex=True)
    axes[0].hist([r["t"] for r in run.results], bins=40, color="tab:gray")
    axes[0].set_ylabel("requests sent")
    ts = [s["t"] for s in samples]
    axes[1].plot(ts, [s["running"] for s in samples], label="running")
    axes[1].plot(ts, [s["waiting"] for s in samples], label="waiting")
    axes[1].plot(ts, [s["kv"] * 10 for s in samples], label="max KV usage × 10", linestyle=":")
    axes[1].legend(loc="upper right")
    axes[1].set_ylabel("requests")
    axes[2].step(ts, [s["replicas"] for s in samples], where="post", label="replicas")
    axes[2].step(ts, [s["recommended"] for s in samples], where="post", label="recommended")
    axes[2].legend(loc="upper right")
    axes[2].set_ylabel("replicas")
    axes[2].set_xlabel("seconds")
    fig.suptitle(title)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
