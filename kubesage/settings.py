"""kubesage settings: one place for every knob, read from `KUBESAGE_*` environment variables and a YAML config
file (`$KUBESAGE_HOME/config.yaml`, or the file named by `KUBESAGE_CONFIG`). Environment beats file beats
default.

Why one data directory: every file kubesage writes (cache, checkpoints, audit log, tool registry, sandbox
state) lives under `home`, so tests and users isolate a run by pointing `KUBESAGE_HOME` elsewhere.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
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

    @property
    def sandbox_state(self) -> Path:
        return self.home / "sandbox"

    @property
    def sandbox_kubeconfig(self) -> Path:
        return self.home / "sandbox" / "kubeconfig"

    def describe(self) -> dict[str, Any]:
        return {f.name: str(getattr(self, f.name)) for f in fields(self)}


_TYPES = {"sandbox_port": int, "sandbox_speed": float}


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
    return Settings(home=home, **{k: (str(v) if k not in _TYPES else v) for k, v in values.items()})
