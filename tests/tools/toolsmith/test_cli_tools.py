"""`kubesage tools list|show|rm` over the registry in KUBESAGE_HOME; unknown names are clear errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from kubesage.cli import main
from tools.toolsmith.registry import Registry, ToolRecord


class _Hashing:
    name, dim = "hashing-test", 8

    def embed(self, texts):
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        out[:, 0] = 1.0
        return out


@pytest.fixture()
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KUBESAGE_HOME", str(tmp_path))
    reg = Registry(tmp_path, embedder=_Hashing())
    reg.add(ToolRecord(name="stale_cronjobs", description="CronJobs that have not run for a day",
                       code="def main(kube, namespace=None):\n    return []\n",
                       params={"type": "object", "properties": {"namespace": {"type": "string"}}},
                       result_schema={"type": "array"},
                       provenance={"how": "plan", "model": "local-gguf", "request": "cronjobs idle for a day"},
                       test={"args": {"namespace": "batch"}}, successes=4, failures=1))
    reg.add(ToolRecord(name="scale_to_zero", description="Scale a deployment to zero replicas",
                       code="def main(kube, name):\n    return 0\n", mutates=True))
    reg.close()
    return tmp_path


def test_list(home, capsys):
    assert main(["tools", "list"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in out] == ["scale_to_zero", "stale_cronjobs"]
    assert "mutates" in out[0] and "read" in out[1]
    assert "4 ok" in out[1] and "1 failed" in out[1] and "CronJobs that have not run for a day" in out[1]
    assert main(["tools", "list", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [d["name"] for d in data] == ["scale_to_zero", "stale_cronjobs"] and data[0]["mutates"] is True


def test_show(home, capsys):
    assert main(["tools", "show", "stale_cronjobs"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("stale_cronjobs: CronJobs that have not run for a day")
    assert "changes the cluster: no" in out and "runs: 4 succeeded, 1 failed" in out
    assert "how=plan" in out and "model=local-gguf" in out and "asked as: cronjobs idle for a day" in out
    assert "    def main(kube, namespace=None):" in out
    assert main(["tools", "show", "scale_to_zero", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["code"].startswith("def main(kube, name)")


def test_rm(home, capsys):
    assert main(["tools", "rm", "scale_to_zero"]) == 0
    assert "removed tool 'scale_to_zero'" in capsys.readouterr().out
    assert [r.name for r in Registry(home).list()] == ["stale_cronjobs"]


@pytest.mark.parametrize("argv", [["tools", "show", "nope"], ["tools", "rm", "nope"]])
def test_unknown_names_are_clear_errors(home, capsys, argv):
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.strip() == "error: no tool named 'nope' (see `kubesage tools list`)"


def test_empty_registry_and_no_subcommand(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KUBESAGE_HOME", str(tmp_path))
    assert main(["tools", "list"]) == 0
    assert capsys.readouterr().out.strip() == "no synthesized tools yet"
    assert main(["tools"]) == 2
    assert "list" in capsys.readouterr().err


def test_the_real_command_line(home):
    env = {**os.environ, "KUBESAGE_HOME": str(home)}
    p = subprocess.run([sys.executable, "-m", "kubesage.cli", "tools", "show", "nope"], capture_output=True,
                       text=True, env=env, timeout=120)
    assert p.returncode == 1 and "no tool named 'nope'" in p.stderr and "Traceback" not in p.stderr
    p = subprocess.run([sys.executable, "-m", "kubesage.cli", "tools", "list"], capture_output=True, text=True,
                       env=env, timeout=120)
    assert p.returncode == 0 and "stale_cronjobs" in p.stdout
