"""Redaction of credentials before any cluster text leaves the machine (to a model, a log, a cache).

Why three layers: a Secret's values are secret by kind (every `data`/`stringData` value goes); an env var or a
ConfigMap key is secret by its name (PASSWORD, TOKEN, API_KEY, …); and a log line or an annotation can carry a
credential with no name at all, recognised by its shape (AWS access keys, `sk-…`, JWTs, PEM blocks, long
random-looking strings). A `Redactor` also remembers every Secret value it removed and scrubs those exact values
from later text (a pod that prints its own password into its log).
"""

from __future__ import annotations

import base64
import re
from typing import Any

MASK = "<redacted>"

SECRET_NAME = re.compile(r"pass(word|wd)?|pwd|token|secret|api[_-]?key|access[_-]?key|private[_-]?key|credential|"
                         r"cert(ificate)?[_-]?key|signing[_-]?key|^key$|_key$|dsn|conn(ection)?[_-]?str(ing)?",
                         re.I)
# values that look like credentials whatever their name
_SHAPES = [
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S),
    re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    re.compile(r"\b(?:sk|pk|rk)-[A-Za-z0-9_-]{16,}\b"),
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}\b"),
    re.compile(r"\bxox[abpr]-[A-Za-z0-9-]{10,}\b"),
    re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b"),
    # long random-looking strings: letters and digits mixed, 32+ characters (keys, base64 blobs); dashes excluded
    # so generated object names (checkout-7d9f8b6c5d-x2x9z) stay readable, image digests kept
    re.compile(r"(?<![A-Za-z0-9+/=_:-])(?=[A-Za-z0-9+/]*\d)(?=[A-Za-z0-9+/]*[A-Za-z])[A-Za-z0-9+/]{32,}={0,2}"
               r"(?![A-Za-z0-9+/=_-])"),
]
# `password=hunter2`, `token: abc`, `"apiKey": "xyz"` inside free text
_ASSIGNED = re.compile(r"(?P<k>[\"']?[\w.-]*(?:pass(?:word|wd)?|pwd|token|secret|api[_-]?key|access[_-]?key|"
                       r"credential)[\w.-]*[\"']?\s*[:=]\s*)(?P<q>[\"']?)(?P<v>[^\s\"',;&]+)", re.I)
_DROP_ANNOTATIONS = ("kubectl.kubernetes.io/last-applied-configuration",)


class Redactor:
    """Redacts objects and text; remembers the Secret values it has seen so they never show up elsewhere."""

    def __init__(self) -> None:
        self.known: set[str] = set()

    # -- text --------------------------------------------------------------------------------------------
    def text(self, s: str) -> str:
        """Free text (logs, event messages, answers) with credential-shaped values and known secrets removed."""
        if not s:
            return s
        for value in sorted(self.known, key=len, reverse=True):
            if value in s:
                s = s.replace(value, MASK)
        for rx in _SHAPES:
            s = rx.sub(MASK, s)
        return _ASSIGNED.sub(lambda m: m.group("k") + m.group("q") + MASK, s)

    def value(self, name: str, v: Any) -> Any:
        """A named value: masked when the name says credential, else its text redacted by shape."""
        if isinstance(v, str):
            return MASK if (SECRET_NAME.search(name) and v) else self.text(v)
        return self.any(v)

    # -- objects -----------------------------------------------------------------------------------------
    def any(self, obj: Any) -> Any:
        """Any JSON value: Kubernetes objects (Secret, pod specs, lists) or plain data."""
        if isinstance(obj, list):
            return [self.any(x) for x in obj]
        if not isinstance(obj, dict):
            return self.text(obj) if isinstance(obj, str) else obj
        if obj.get("kind") == "Secret" or ("type" in obj and "data" in obj and _looks_secret_type(obj.get("type"))):
            return self._secret(obj)
        out: dict[str, Any] = {}
        for k, v in obj.items():
            if k == "managedFields":
                continue
            if k == "annotations" and isinstance(v, dict):
                out[k] = {a: self.value(a, x) for a, x in v.items() if a not in _DROP_ANNOTATIONS}
            elif k == "env" and isinstance(v, list):
                out[k] = [self._env(e) for e in v]
            elif k in ("data", "stringData") and isinstance(v, dict) and obj.get("kind") == "ConfigMap":
                out[k] = {a: self.value(a, x) for a, x in v.items()}
            else:
                out[k] = self.any(v)
        return out

    def _env(self, e: Any) -> Any:
        if not isinstance(e, dict) or "value" not in e:
            return self.any(e)  # valueFrom references are names, not values
        return {**e, "value": self.value(str(e.get("name", "")), e.get("value"))}

    def _secret(self, obj: dict[str, Any]) -> dict[str, Any]:
        out = {k: self.any(v) for k, v in obj.items() if k not in ("data", "stringData")}
        for key in ("data", "stringData"):
            values = obj.get(key)
            if isinstance(values, dict):
                for v in values.values():
                    self._remember(v, encoded=key == "data")
                out[key] = {k: MASK for k in values}
        return out

    def _remember(self, v: Any, encoded: bool) -> None:
        if not isinstance(v, str) or not v:
            return
        if len(v) >= 4:
            self.known.add(v)
        if encoded:
            try:
                plain = base64.b64decode(v, validate=True).decode("utf-8")
            except (ValueError, UnicodeDecodeError):
                return
            if len(plain) >= 4:
                self.known.add(plain)
                self.known.update(line for line in plain.splitlines() if len(line) >= 8)



def _looks_secret_type(t: Any) -> bool:
    return isinstance(t, str) and (t.startswith("kubernetes.io/") or t == "Opaque")
