"""`kubesage llm ask` as a user runs it: a fresh process, the bundled model, the cache under KUBESAGE_HOME."""

from __future__ import annotations

import json
import os
import subprocess
import sys

KUBESAGE = [sys.executable, "-m", "kubesage.cli"]


def test_llm_ask_prints_the_answer_and_who_served_it(tmp_path):
    env = dict(os.environ, KUBESAGE_HOME=str(tmp_path), KUBESAGE_LLM_LOCAL_THREADS="1",
               KUBESAGE_LLM_EXPLAIN_MIN_LOGPROB="none")
    args = [*KUBESAGE, "llm", "ask", "What is a Kubernetes pod?", "--category", "explain", "--max-tokens", "12",
            "--principal", "alice"]
    first = subprocess.run(args, capture_output=True, text=True, env=env, timeout=120)
    assert first.returncode == 0, first.stderr
    answer, footer = first.stdout.rstrip("\n").rsplit("\n", 1)
    assert answer.strip() and footer.startswith("-- served by local (smollm2")
    second = subprocess.run([*args, "--json"], capture_output=True, text=True, env=env, timeout=120)
    out = json.loads(second.stdout)
    assert out["record"]["served_by"] == "cache-exact" and out["answer"] == answer
    assert (tmp_path / "cache" / "chroma").is_dir()


def test_llm_ask_rejects_an_unknown_policy(tmp_path):
    proc = subprocess.run([*KUBESAGE, "llm", "ask", "hi", "--policy", "sometimes"], capture_output=True, text=True,
                          env=dict(os.environ, KUBESAGE_HOME=str(tmp_path)))
    assert proc.returncode == 2 and "invalid choice" in proc.stderr
