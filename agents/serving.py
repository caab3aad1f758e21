"""The serving agent: deploy, scale and watch LLM model servers (llama.cpp, vLLM) and manage vLLM LoRA adapters.

Deterministic intents, no LLM needed: "deploy the small model with 2 replicas" → a Deployment and a Service
(two approvals); "scale it to 3" → a scale of the one model server in the namespace ("it"); "how is the model
server doing" → each replica's running/waiting requests and KV-cache usage plus a replica recommendation
(tools.serving.Recommender); "load adapter X into vllm-server" → an approved action that calls
`/v1/load_lora_adapter` on every replica. Every change is a Mutation, so it waits for the person's yes.
"""

from __future__ import annotations

import re

from agents.context import AgentContext
from agents.state import AgentResult
from tools import serving as S
from tools.k8s.client import KubeError, Mutation

AGENT = "serving"
NUMBER_WORDS = {"one": 1, "single": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8}
# The name a request gives a new server: "named chat", "called 'chat'", "call it chat", "name it chat".
_NAME_SAID = re.compile(r"\b(?:named|called|call\s+it|name\s+it)\s+['\"`]?([a-z0-9][a-z0-9-]*)")


# The words each serving intent fully acts on, besides filler and its slots (server name, namespace, replicas,
# model, adapter, engine). Anything else is a requirement it would not meet (agents.decide).
_SERVER = """model models server servers llm vllm llama llama.cpp llama_cpp llamacpp cpp inference endpoint engine
    bundled small smollm2 smollm gemma local gguf openai-compatible api replicas replica instances copies pods
    deployment backend backends"""
VOCAB: dict[str, frozenset[str]] = {k: frozenset((v + " " + _SERVER).split()) for k, v in {
    "unload-adapter": "unload remove drop detach adapter adapters lora loras from",
    "load-adapter": "load add attach install adapter adapters lora loras from onto",
    "list-adapters": "list show which what adapters adapter lora loras loaded",
    "deploy": "deploy serve spin up launch stand run start with as named called call new create",
    "scale": "scale scaled up down to set bump increase decrease raise lower",
    # what _status answers: each replica's running and waiting requests, its KV-cache use, and a replica count
    "status": """status show list which what running healthy ready state how is are there check tell doing many
        much number count requests request waiting queued queue pending busy load kv cache usage used utilization
        utilisation kv-cache gpu metrics recommendation recommend recommended""",
}.items()}
ASK = ("Say one serving action, for example 'deploy the bundled small model as an inference server named chat in "
       "namespace models', 'scale chat to 2 replicas' or 'load the LoRA adapter sql from /adapters/sql on chat'.")


def _intent(text: str, number: int | None) -> str:
    if re.search(r"\b(adapters?|loras?)\b", text):
        if re.search(r"\b(unload|remove|drop|detach)\b", text):
            return "unload-adapter"
        if re.search(r"\b(load|add|attach|install)\b", text):
            return "load-adapter"
        return "list-adapters"
    if re.search(r"\b(deploy|serve|spin up|launch|stand up)\b", text) or (
            re.search(r"\b(run|start)\b", text) and re.search(r"\b(model|server|llm|vllm|llama)", text)
            and "scale" not in text):
        return "deploy"
    if number is not None and re.search(r"\b(scale|replicas?|instances|copies)\b", text):
        return "scale"
    return "status"


def run(ctx: AgentContext) -> AgentResult:
    from agents.decide import decide, reading

    text = ctx.text.lower()
    number = _number(ctx)
    intent = _intent(text, number)
    acts = {"unload-adapter": lambda: _adapter(ctx, load=False), "load-adapter": lambda: _adapter(ctx, load=True),
            "list-adapters": lambda: _list_adapters(ctx), "deploy": lambda: _deploy(ctx, number),
            "scale": lambda: _scale(ctx, number), "status": lambda: _status(ctx)}
    named = re.findall(r"\b(?:named|called|from|on|for|of|serving)\s+(\S+)", ctx.text) + \
        _NAME_SAID.findall(ctx.text.lower())
    slots = {"namespace": _namespace(ctx), "workload": ctx.entities.workload, "replicas": number, "named": named,
             "number_word": [w for w, n in NUMBER_WORDS.items() if n == number],
             "adapter": _adapter_name(text) if intent.endswith("adapter") else None}  # "load adapter sql-lora into …"
    return decide(ctx, AGENT, [reading(ctx, AGENT, intent, slots, VOCAB[intent], acts[intent])], ASK)


def _number(ctx: AgentContext) -> int | None:
    if ctx.entities.number is not None:
        return ctx.entities.number
    m = re.search(r"\b(\d{1,3}|" + "|".join(NUMBER_WORDS) + r")\s+(?:replicas?|instances|copies|pods)\b",
                  ctx.text.lower())
    if m:
        return int(m.group(1)) if m.group(1).isdigit() else NUMBER_WORDS[m.group(1)]
    return None


def _namespace(ctx: AgentContext) -> str:
    """The namespace the request names ("in namespace models", even one that does not exist yet), else the
    context's, else default."""
    from agents.resource_text import namespace_of

    return namespace_of(ctx.text) or ctx.namespace or "default"


def _servers(ctx: AgentContext) -> list[dict]:
    return S.find_model_servers(ctx.kube, ctx.namespace)


def _pick(ctx: AgentContext, servers: list[dict]) -> tuple[dict | None, str]:
    """The server the request means: named in the text, else the only one ("it"); else a question back."""
    words = set(re.findall(r"[a-z0-9][a-z0-9.-]*", ctx.text.lower()))
    named = [d for d in servers if d["metadata"]["name"] in words or d["metadata"]["name"] == ctx.entities.workload]
    if len(named) == 1:
        return named[0], ""
    if len(servers) == 1:
        return servers[0], ""
    where = f" in namespace {ctx.namespace}" if ctx.namespace else ""
    if not servers:
        return None, f"I found no model server (a vLLM or llama.cpp Deployment){where}."
    names = ", ".join(f"{d['metadata']['namespace']}/{d['metadata']['name']}" for d in servers)
    return None, f"Which model server? There are several{where}: {names}."


# ------------------------------------------------------------------------------------------------ intents

def _deploy(ctx: AgentContext, number: int | None) -> AgentResult:
    text = ctx.text.lower()
    engine = "vllm" if "vllm" in text else "llama.cpp"
    named = _NAME_SAID.search(text)
    model = S.SMALL_MODEL
    if engine == "vllm":
        m = re.search(r"\b(?:for|of|serving)\s+([a-z0-9][\w./-]*)", ctx.text)
        model = m.group(1) if m and m.group(1).lower() not in ("the", "a") else "Qwen/Qwen2.5-0.5B-Instruct"
    name = named.group(1) if named else ("smollm2" if engine == "llama.cpp" else "vllm-server")
    ns = _namespace(ctx)
    spec = S.ModelServerSpec(name=name, namespace=ns, engine=engine, model=model, replicas=number or 1,
                             enable_lora=engine == "vllm" and bool(re.search(r"\blora|adapter", text)))
    try:
        ctx.kube.get("Deployment", ns, name)
        return AgentResult(AGENT, f"A deployment {ns}/{name} already exists; ask me to scale it, or name the new "
                                  "server (\"... named my-llm\").")
    except KubeError as e:
        if e.status != 404:
            return AgentResult(AGENT, f"I cannot check deployment {ns}/{name}: {e.message}", [e.message])
    dep, svc = S.manifests(spec)
    args = " ".join(dep["spec"]["template"]["spec"]["containers"][0]["args"])
    what = (f"{engine} server {ns}/{name} serving {model} with {spec.replicas} "
            f"replica{'s' if spec.replicas != 1 else ''} (args: {args}) behind Service {name}:{S.PORTS[engine]}")
    muts = [Mutation("create", "Deployment", ns, name, body=dep, why=f"deploy the {what}"),
            Mutation("create", "Service", ns, name, body=svc, why=f"expose {name} on port {S.PORTS[engine]}")]
    return AgentResult(AGENT, f"Proposed: a {what}.", [f"image {dep['spec']['template']['spec']['containers'][0]['image']}"],
                       muts, {"spec": spec.__dict__})


def _scale(ctx: AgentContext, want: int) -> AgentResult:
    dep, problem = _pick(ctx, _servers(ctx))
    if dep is None:
        return AgentResult(AGENT, problem)
    ns, name = dep["metadata"]["namespace"], dep["metadata"]["name"]
    current = int((dep.get("spec") or {}).get("replicas", 1))
    ready = int((dep.get("status") or {}).get("readyReplicas", 0) or 0)
    state = f"model server {ns}/{name}: {ready}/{current} ready"
    if want == current:
        return AgentResult(AGENT, f"{state}; it already has {want} replicas.", [state])
    m = Mutation("scale", "Deployment", ns, name, body=want, why=f"scale the model server from {current} to {want}")
    return AgentResult(AGENT, f"Proposed: scale {ns}/{name} from {current} to {want} replicas. Now: {state}.",
                       [state], [m])


def _status(ctx: AgentContext) -> AgentResult:
    servers = _servers(ctx)
    picked, problem = _pick(ctx, servers)
    targets = [picked] if picked else servers
    if not targets:
        return AgentResult(AGENT, problem)
    lines, evidence, data = [], [], {}
    for dep in targets:
        ns, name = dep["metadata"]["namespace"], dep["metadata"]["name"]
        current = int((dep.get("spec") or {}).get("replicas", 1))
        replicas = S.scrape(ctx.kube, dep)
        rec = S.Recommender(down_after=1).recommend(current, replicas)
        ready = len(replicas)
        lines.append(f"{S.engine_of(dep)} server {ns}/{name}: {ready}/{current} replicas ready.")
        lines += [f"  {r.text()}" for r in replicas]
        verb = {"up": "scale up to", "down": "scale down to", "hold": "keep"}[rec.action]
        lines.append(f"  Recommendation: {verb} {rec.replicas} replica{'s' if rec.replicas != 1 else ''} — "
                     f"{rec.reason}.")
        evidence += [r.text() for r in replicas]
        data[f"{ns}/{name}"] = {"replicas": [r.__dict__ for r in replicas], "recommendation": rec.__dict__}
    return AgentResult(AGENT, "\n".join(lines), evidence, data=data)


def _adapter_name(text: str) -> str | None:
    for pat in (r"\b(?:called|named)\s+([a-z0-9][\w.-]*)", r"\b(?:adapter|lora)s?\s+([a-z0-9][\w.-]*)",
                r"\b([a-z0-9][\w.-]*)\s+(?:lora\s+)?adapter\b"):
        for m in re.finditer(pat, text):
            if m.group(1) not in ("the", "a", "an", "lora", "adapter", "adapters", "into", "on", "from", "to",
                                  "called", "named", "for"):
                return m.group(1)
    return None


def _adapter(ctx: AgentContext, load: bool) -> AgentResult:
    servers = [d for d in _servers(ctx) if S.engine_of(d) == "vllm"]
    dep, problem = _pick(ctx, servers)
    if dep is None:
        return AgentResult(AGENT, problem.replace("model server", "vLLM server"))
    ns, name = dep["metadata"]["namespace"], dep["metadata"]["name"]
    adapter = _adapter_name(ctx.text.lower())
    if not adapter:
        return AgentResult(AGENT, "Which adapter? Name it, e.g. \"load adapter sql-lora from /adapters/sql into "
                                  f"{name}\".")
    pods = [p["metadata"]["name"] for p in S.ready_pods(ctx.kube, dep)]
    if load:
        m = re.search(r"\bfrom\s+(\S+)", ctx.text)
        path = m.group(1) if m else f"/adapters/{adapter}"
        args = {"namespace": ns, "name": name, "lora_name": adapter, "lora_path": path}
        action, verb, sign = "serving.load_adapter", "load", "+"
        detail = f"{adapter} from {path}"
    else:
        args = {"namespace": ns, "name": name, "lora_name": adapter}
        action, verb, sign = "serving.unload_adapter", "unload", "-"
        detail = adapter
    diff = "\n".join(f"{sign} pod {ns}/{p}: LoRA adapter {detail}" for p in pods) or f"(no ready replica of {name})"
    mut = Mutation("action", "ModelServer", ns, name, body={"action": action, "args": args},
                   why=f"{verb} LoRA adapter {detail} on {len(pods)} replica(s) of {name}", diff=diff)
    return AgentResult(AGENT, f"Proposed: {verb} LoRA adapter {detail} on vLLM server {ns}/{name} "
                              f"({len(pods)} ready replica(s)).", [diff], [mut])


def _list_adapters(ctx: AgentContext) -> AgentResult:
    servers = [d for d in _servers(ctx) if S.engine_of(d) == "vllm"]
    if not servers:
        return AgentResult(AGENT, "I found no vLLM server; LoRA adapters are loaded into vLLM.")
    lines = []
    for dep in servers:
        per_pod = S.loaded_adapters(ctx.kube, dep)
        names = sorted({a for v in per_pod.values() for a in v})
        lines.append(f"{dep['metadata']['namespace']}/{dep['metadata']['name']}: "
                     f"{', '.join(names) if names else 'no adapters'} ({len(per_pod)} ready replicas)")
    return AgentResult(AGENT, "LoRA adapters loaded:\n" + "\n".join(lines), lines)
