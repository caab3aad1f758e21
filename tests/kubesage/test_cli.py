"""The `kubesage` command: help, settings, and `sandbox serve` as a user runs it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from kubesage import settings
from tests.sandbox.conftest import kubectl_path

KUBESAGE = [sys.executable, "-m", "kubesage.cli"]


def test_help_lists_subcommands():
    out = subprocess.run([*KUBESAGE, "--help"], capture_output=True, text=True, check=True).stdout
    assert "sandbox" in out and "config" in out


def test_settings_env_beats_file(tmp_path):
    (tmp_path / "config.yaml").write_text("sandbox_port: 7000\nlog_level: info\n")
    cfg = settings.load({"KUBESAGE_HOME": str(tmp_path), "KUBESAGE_SANDBOX_PORT": "7001"})
    assert cfg.home == tmp_path and cfg.sandbox_port == 7001 and cfg.log_level == "info"
    assert cfg.sandbox_kubeconfig == tmp_path / "sandbox" / "kubeconfig"


def test_bad_config_is_a_clear_error(tmp_path):
    (tmp_path / "config.yaml").write_text("sandbox_prot: 1\n")
    with pytest.raises(settings.SettingsError, match="unknown setting"):
        settings.load({"KUBESAGE_HOME": str(tmp_path)})
    proc = subprocess.run([*KUBESAGE, "config"], capture_output=True, text=True,
                          env=dict(os.environ, KUBESAGE_HOME=str(tmp_path)))
    assert proc.returncode == 2 and "unknown setting(s): sandbox_prot" in proc.stderr and "Traceback" not in proc.stderr


def test_unknown_scenario_is_a_clear_error(tmp_path):
    proc = subprocess.run([*KUBESAGE, "sandbox", "serve", "--port", "0", "--scenario", "nope"], capture_output=True,
                          text=True, env=dict(os.environ, KUBESAGE_HOME=str(tmp_path)), timeout=60)
    assert proc.returncode == 2 and "unknown scenario 'nope'" in proc.stderr and "Traceback" not in proc.stderr


def _serve(tmp_path: Path, *extra: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([*KUBESAGE, "sandbox", "serve", "--port", "0", "--kubeconfig", str(tmp_path / "kc"), *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, KUBESAGE_HOME=str(tmp_path)))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if "listening on" in line:
            return proc, line.rsplit(" ", 1)[1].strip()
        if proc.poll() is not None:
            break
    proc.kill()
    raise AssertionError(f"sandbox did not start: {proc.stderr.read()}")


def _kubectl(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([kubectl_path(), *args], capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, KUBECONFIG=str(tmp_path / "kc"), KUBECACHEDIR=str(tmp_path / "cache")))


def test_sandbox_serve_writes_kubeconfig_and_keeps_state(tmp_path):
    state = tmp_path / "state"
    proc, url = _serve(tmp_path, "--state", str(state))
    try:
        assert url.startswith("https://127.0.0.1:")
        kc = yaml.safe_load((tmp_path / "kc").read_text())
        assert kc["current-context"] == "kubesage-sandbox" and kc["clusters"][0]["cluster"]["server"] == url
        assert "sandbox-worker-1" in _kubectl(tmp_path, "get", "nodes").stdout
        made = _kubectl(tmp_path, "create", "configmap", "keep-me", "--from-literal=a=b")
        assert made.returncode == 0, made.stderr
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    proc, _ = _serve(tmp_path, "--state", str(state))
    try:
        got = _kubectl(tmp_path, "get", "configmap", "keep-me", "-o", "jsonpath={.data.a}")
        assert got.stdout == "b", got.stderr
    finally:
        proc.terminate()
        proc.wait(timeout=30)
