"""kubesage settings: one place for every knob, read from `KUBESAGE_*` environment variables and a YAML config
file (`$KUBESAGE_HOME/config.yaml`, or the file named by `KUBESAGE_CONFIG`). Environment beats file beats
default.

Why one data directory: every file kubesage writes (cache, checkpoints, audit log, tool registry, sandbox
state) lives under `home`, so tests and users isolate a run by pointing `KUBESAGE_HOME` elsewhere.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml


class SettingsError(ValueError):
    """A config file or variable that cannot be used; the message says which and why."""


@dataclass(frozen=True)
class Settings:
    home: Path
    kubeconfig: str = ""           # empty: use the embedded sandbox
    context: str = ""              # kubeconfig context (empty: current-context)
    sandbox_port: int = 0          # 0: pick a free port
    sandbox_scenario: str = "default"
    sandbox_speed: float = 1.0
    log_level: str = "warning"
    # HTTP API (`kubesage serve`): bearer token -> {user, groups}; Slack user id -> {user, groups}.
    api_tokens: dict[str, dict[str, Any]] = field(default_factory=dict, hash=False)
    slack_users: dict[str, dict[str, Any]] = field(default_factory=dict, hash=False)
    slack_api_url: str = "https://slack.com/api/"
    max_request_bytes: int = 65536
    server_host: str = "127.0.0.1"
    server_port: int = 8080
    answer_cache_ttl: float = 15.0  # seconds a read-only answer is reused for the same principal and question

    @property
    def sandbox_state(self) -> Path:
        return self.home / "sandbox"

    @property
    def sandbox_kubeconfig(self) -> Path:
        return self.home / "sandbox" / "kubeconfig"

    def describe(self) -> dict[str, Any]:
        """Every setting as text, with secrets (API tokens) replaced by the principals they map to."""
        out = {f.name: str(getattr(self, f.name)) for f in fields(self)}
        out["api_tokens"] = f"{len(self.api_tokens)} token(s) for: " + \
            ", ".join(sorted({str(p.get("user")) for p in self.api_tokens.values()}))
        return out


_TYPES = {"sandbox_port": int, "sandbox_speed": float, "max_request_bytes": int, "server_port": int,
          "answer_cache_ttl": float}
# Settings whose value is a mapping of key -> principal ({user: str, groups: [str]}); from the environment, JSON.
_PRINCIPAL_MAPS = ("api_tokens", "slack_users")


def _principal_map(name: str, value: Any) -> dict[str, dict[str, Any]]:
    """Validate a `{key: {user, groups}}` setting, so a typo fails at start-up, not on the first request."""
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip() else {}
        except ValueError as e:
            raise SettingsError(f"setting {name} must be a JSON object of key: {{user, groups}}: {e}") from None
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise SettingsError(f"setting {name} must be a mapping of key: {{user, groups}}, got {type(value).__name__}")
    out: dict[str, dict[str, Any]] = {}
    for key, p in value.items():
        if not isinstance(p, dict) or not isinstance(p.get("user"), str) or not p["user"]:
            raise SettingsError(f"setting {name}: the entry for {str(key)[:4]}… needs a non-empty `user`")
        groups = p.get("groups") or []
        if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
            raise SettingsError(f"setting {name}: `groups` of user {p['user']} must be a list of strings")
        out[str(key)] = {"user": p["user"], "groups": list(groups)}
    return out


def load(env: dict[str, str] | None = None) -> Settings:
    """Resolve settings from the environment and the config file."""
    env = dict(os.environ if env is None else env)
    home = Path(env.get("KUBESAGE_HOME") or Path.home() / ".kubesage").expanduser()
    config_path = Path(env.get("KUBESAGE_CONFIG") or home / "config.yaml").expanduser()
    values: dict[str, Any] = {}
    if config_path.exists():
        try:
            loaded = yaml.safe_load(config_path.read_text()) or {}
        except yaml.YAMLError as e:
            raise SettingsError(f"{config_path}: not valid YAML: {e}") from None
        if not isinstance(loaded, dict):
            raise SettingsError(f"{config_path}: expected a mapping of setting: value")
        values.update(loaded)
    names = {f.name for f in fields(Settings)} - {"home"}
    unknown = set(values) - names
    if unknown:
        raise SettingsError(f"{config_path}: unknown setting(s): {', '.join(sorted(unknown))} "
                            f"(known: {', '.join(sorted(names))})")
    for name in names:
        var = f"KUBESAGE_{name.upper()}"
        if var in env:
            values[name] = env[var]
    for name, typ in _TYPES.items():
        if name in values:
            try:
                values[name] = typ(values[name])
            except (TypeError, ValueError):
                raise SettingsError(f"setting {name} must be a {typ.__name__}, got {values[name]!r}") from None
    for name in _PRINCIPAL_MAPS:
        if name in values:
            values[name] = _principal_map(name, values[name])
    return Settings(home=home, **{k: (v if k in _TYPES or k in _PRINCIPAL_MAPS else str(v)) for k, v in values.items()})
