"""kubesage settings: one place for every knob, read from `KUBESAGE_*` environment variables and a YAML config
file (`$KUBESAGE_HOME/config.yaml`, or the file named by `KUBESAGE_CONFIG`). Environment beats file beats
default.

Why one data directory: every file kubesage writes (cache, checkpoints, audit log, tool registry, sandbox
state) lives under `home`, so tests and users isolate a run by pointing `KUBESAGE_HOME` elsewhere.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from tools.k8s.identity import principal_problem


class SettingsError(ValueError):
    """A config file or variable that cannot be used; the message says which and why."""


@dataclass(frozen=True)
class Settings:
    home: Path
    kubeconfig: str = ""           # empty: KUBECONFIG, ~/.kube/config, in-cluster, else the embedded sandbox
    context: str = ""              # kubeconfig context (empty: current-context)
    # Where a pod's service account is mounted (in-cluster config, with KUBERNETES_SERVICE_HOST).
    serviceaccount_dir: str = "/var/run/secrets/kubernetes.io/serviceaccount"
    sandbox_port: int = 0          # 0: pick a free port
    sandbox_scenario: str = "default"
    sandbox_speed: float = 1.0
    log_level: str = "warning"
    # Prometheus's HTTP API (http://prometheus.monitoring:9090): range questions of the metrics agent (trends, rates,
    # percentiles, comparisons over a window); empty: only current usage from metrics.k8s.io.
    prometheus_url: str = ""
    # HTTP API (`kubesage serve`): bearer token -> {user, groups}; Slack user id -> {user, groups}.
    api_tokens: dict[str, dict[str, Any]] = field(default_factory=dict, hash=False)
    slack_users: dict[str, dict[str, Any]] = field(default_factory=dict, hash=False)
    slack_api_url: str = "https://slack.com/api/"
    max_request_bytes: int = 65536
    server_host: str = "127.0.0.1"
    server_port: int = 8080
    answer_cache_ttl: float = 15.0  # seconds a read-only answer is reused for the same principal and question
    # The health wait after an applied fix: how long it must stay healthy, and at most how long to wait (0: each
    # change's own, 5 s and 60-90 s); short ones make tests and demos quick.
    health_stable_s: float = 0.0
    health_timeout_s: float = 0.0
    # Alertmanager investigations (`POST /v1/alerts`): the Slack channel each firing alert's thread is opened in.
    alerts_slack_channel: str = ""
    # OpenTelemetry: an OTLP endpoint for traces (empty: OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT, else no tracing).
    otel_endpoint: str = ""
    # Where shared state lives: empty is SQLite files under `home` (one process); `postgresql://…` is a Postgres
    # database that several `kubesage serve` replicas share (kubesage/stores.py).
    database_url: str = ""
    # How long a replica's claim on an approval it is carrying out lasts without renewal (it renews a third of
    # this while alive); a replica on another host that dies is taken over after this (agents/approvals.py).
    approval_lease_s: float = 20.0

    @property
    def sandbox_state(self) -> Path:
        return self.home / "sandbox"

    @property
    def sandbox_kubeconfig(self) -> Path:
        return self.home / "sandbox" / "kubeconfig"

    @property
    def postgres(self) -> bool:
        return bool(self.database_url)

    def describe(self) -> dict[str, Any]:
        """Every setting as text, with secrets (API tokens) replaced by the principals they map to."""
        out = {f.name: str(getattr(self, f.name)) for f in fields(self)}
        out["api_tokens"] = f"{len(self.api_tokens)} token(s) for: " + \
            ", ".join(sorted({str(p.get("user")) for p in self.api_tokens.values()}))
        out["database_url"] = redact_url(self.database_url)
        return out


_TYPES = {"sandbox_port": int, "sandbox_speed": float, "max_request_bytes": int, "server_port": int,
          "answer_cache_ttl": float, "health_stable_s": float, "health_timeout_s": float, "approval_lease_s": float}
# Settings whose value is a mapping of key -> principal ({user: str, groups: [str]}); from the environment, JSON.
_PRINCIPAL_MAPS = ("api_tokens", "slack_users")


_DATABASE_SCHEMES = ("postgresql://", "postgres://")


def redact_url(url: str) -> str:
    """A database URL fit for logs and error messages: the password replaced by ***."""
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


def _database_url(value: str) -> str:
    """Empty (SQLite under home) or a Postgres URL; anything else is refused at start-up, naming what is known."""
    value = value.strip()
    if value and not value.startswith(_DATABASE_SCHEMES):
        raise SettingsError(f"setting database_url must be empty (SQLite under KUBESAGE_HOME) or a "
                            f"postgresql://user:password@host:port/dbname URL, got {redact_url(value)!r}")
    return value


def _entry(name: str, index: int | None, key: str) -> str:
    """How an error names a mapping's entry: API tokens are secrets (a position and a short hash, never the token);
    Slack user ids are not."""
    at = f"entry #{index} " if index else "entry "
    if name == "api_tokens":
        return f"{at}(token sha256:{hashlib.sha256(key.encode()).hexdigest()[:8]})"
    return f"{at}({ascii(key[:40])})"


def _key_problem(name: str, key: str) -> str | None:
    if not key.strip():
        return "its key is blank"
    if any(c.isspace() or not c.isprintable() for c in key) and not (name == "slack_users" and key == "*"):
        return "its key contains whitespace or control characters (a bearer token or Slack id never does)"
    if len(key) > 4096:
        return "its key is longer than 4096 characters"
    return None


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """json/yaml mapping hook: a key given twice is an error (the last one silently winning hides a mistake)."""
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise _Duplicate(k)
        out[k] = v
    return out


class _Duplicate(ValueError):
    def __init__(self, key: Any) -> None:
        super().__init__(key)
        self.key = key


class _StrictLoader(yaml.SafeLoader):
    """yaml.safe_load, except that a key given twice in one mapping is an error."""

    def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
        keys = [self.construct_object(k, deep=deep) for k, _ in node.value]
        _no_duplicates([(k, None) for k in keys])
        return super().construct_mapping(node, deep=deep)


def _looks_secret(key: Any) -> bool:
    """A duplicate key we cannot place: shown hashed unless it is obviously a setting name."""
    return not (isinstance(key, str) and key in {f.name for f in fields(Settings)})


def _principal_map(name: str, value: Any) -> dict[str, dict[str, Any]]:
    """Validate a `{key: {user, groups}}` setting, so a mistake fails at start-up, not on the first request: a
    blank, padded, over-long or unsendable user or group (tools/k8s/identity.py), a blank key, or a key given twice
    is refused with the entry named (tokens by position and hash only)."""
    if isinstance(value, str):
        try:
            value = json.loads(value, object_pairs_hook=_no_duplicates) if value.strip() else {}
        except _Duplicate as d:
            key = str(d.key)
            raise SettingsError(f"setting {name}: {_entry(name, None, key)} is given twice; "
                                "keep one") from None
        except (ValueError, RecursionError) as e:
            raise SettingsError(f"setting {name} must be a JSON object of key: {{user, groups}}: {e}") from None
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise SettingsError(f"setting {name} must be a mapping of key: {{user, groups}}, got {type(value).__name__}")
    out: dict[str, dict[str, Any]] = {}
    for index, (key, p) in enumerate(value.items(), 1):
        key = str(key)
        where = f"setting {name}: {_entry(name, index, key)}"
        why = _key_problem(name, key)
        if why:
            raise SettingsError(f"{where}: {why}; fix or remove it")
        if not isinstance(p, dict) or "user" not in p or p["user"] is None:
            raise SettingsError(f"{where} needs a `user` ({{user: NAME, groups: [GROUP, ...]}})")
        unknown = set(p) - {"user", "groups"}
        if unknown:
            raise SettingsError(f"{where}: unknown field(s) {', '.join(sorted(map(str, unknown)))} (known: user, groups)")
        groups = p.get("groups") or []
        if not isinstance(groups, list):
            raise SettingsError(f"{where}: `groups` must be a list of strings")
        why = principal_problem(p["user"], groups)
        if why:
            raise SettingsError(f"{where}: {why}; fix or remove it")
        out[key] = {"user": p["user"], "groups": list(groups)}
    return out


def load(env: dict[str, str] | None = None) -> Settings:
    """Resolve settings from the environment and the config file."""
    env = dict(os.environ if env is None else env)
    home = Path(env.get("KUBESAGE_HOME") or Path.home() / ".kubesage").expanduser()
    config_path = Path(env.get("KUBESAGE_CONFIG") or home / "config.yaml").expanduser()
    values: dict[str, Any] = {}
    if config_path.exists():
        try:
            loaded = yaml.load(config_path.read_text(), Loader=_StrictLoader) or {}  # noqa: S506 - a SafeLoader
        except _Duplicate as d:
            raise SettingsError(f"{config_path}: a key is given twice in one mapping "
                                f"({_entry('api_tokens', None, str(d.key)) if _looks_secret(d.key) else ascii(d.key)}); "
                                "keep one") from None
        except (yaml.YAMLError, RecursionError) as e:
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
    if "database_url" in values:
        values["database_url"] = _database_url(str(values["database_url"] or ""))
    if chroma := (env.get("KUBESAGE_CHROMA_URL") or env.get("KUBESAGE_CACHE_CHROMA_URL") or "").strip():
        from memory.config import CacheConfigError, check_chroma_url  # stdlib only: no cost on the cold path

        try:
            check_chroma_url("KUBESAGE_CHROMA_URL", chroma)
        except CacheConfigError as e:
            raise SettingsError(str(e)) from None
    if values.get("approval_lease_s", 1.0) <= 0:
        raise SettingsError(f"setting approval_lease_s must be a positive number of seconds, "
                            f"got {values['approval_lease_s']!r}")
    return Settings(home=home, **{k: (v if k in _TYPES or k in _PRINCIPAL_MAPS else str(v)) for k, v in values.items()})
