"""What a cold `kubesage` process loads before it answers (issue 18). Timings live in `evals/bench_cli.py`; these
tests pin the reasons for them, so a module-level import of a heavy library on these paths fails here."""

from __future__ import annotations

import json
import subprocess
import sys

# libraries that cost a tenth of a second or more to import, none of which `--help` needs
HEAVY = ("z3", "langgraph", "langchain_core", "kubernetes", "urllib3", "numpy", "onnxruntime", "chromadb", "openai",
         "llama_cpp", "ortools", "pandas", "matplotlib")


def _loaded_after(code: str) -> list[str]:
    probe = f"import sys, json\n{code}\nprint(json.dumps(sorted(set(m.split('.')[0] for m in sys.modules))))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_help_loads_no_heavy_library():
    loaded = _loaded_after("from kubesage import cli\ncli.build_parser().format_help()")
    assert [m for m in HEAVY if m in loaded] == []


def test_reading_settings_loads_no_heavy_library():
    loaded = _loaded_after("from kubesage import settings\nsettings.load({})")
    assert [m for m in HEAVY if m in loaded] == []


def test_a_rule_routed_request_builds_no_onnx_session():
    # the rbac rule routes it: MiniLM (onnxruntime) is not needed, while the router itself is built as for any ask
    loaded = _loaded_after("from agents.router import Router\n"
                           "assert Router().route('can alice list pods in default').method == 'rule'")
    assert "onnxruntime" not in loaded and "numpy" in loaded
