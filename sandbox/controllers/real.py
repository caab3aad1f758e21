"""The kubelet's side of real containers: when to start one, and its probes run at real times.

Why probes differ from the model's: the model can answer "would the probe pass at offset t" for any t, so the
kubelet plans liveness kills ahead; a real process can only be asked now. `Probes` therefore runs each probe
when its period comes due (sandbox clock), counts consecutive failures against failureThreshold and
successThreshold as the kubelet does, and says when to look again.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sandbox.behaviour.model import expand_k8s_refs
from sandbox.jail.images import real_view
from sandbox.jail.runtime import Jail, RealRun
from sandbox.jail.volumes import MissingSource

REAL_POLL_S = 1.0  # real seconds between looks at a running real container (its exit also wakes the kubelet)
ENABLED = os.environ.get("KUBESAGE_SANDBOX_REAL", "1") != "0"


def argv_of(c: dict[str, Any], default_cmd: tuple[str, ...], env: dict[str, str]) -> list[str]:
    """command + args as the runtime execs them: the image's CMD when neither is given, `$(VAR)` expanded."""
    command, args = c.get("command"), c.get("args")
    argv = list(command) + list(args or []) if command else list(args) if args else list(default_cmd)
    return [expand_k8s_refs(str(a), env) for a in argv]


class RealContainers:
    """Starts real containers for the kubelet; None from `start` means the behaviour model runs this one."""

    def __init__(self) -> None:
        self._jail: Jail | None = None
        self._broken = "" if ENABLED and os.geteuid() == 0 else "disabled or not root"

    @property
    def jail(self) -> Jail | None:
        if self._broken:
            return None
        if self._jail is None:
            self._jail = Jail()
        return self._jail

    def view_for(self, c: dict[str, Any], env: dict[str, str]) -> tuple[Any, list[str]] | None:
        from sandbox.jail.images import VIEWS, repository

        view = VIEWS.get(repository(str(c.get("image", ""))))
        if view is None or self.jail is None:
            return None
        argv = argv_of(c, view.default_cmd, env)
        found = real_view(str(c.get("image", "")), argv)
        return (found, argv) if found else None

    def start(self, pod: dict[str, Any], ip: str, c: dict[str, Any], env: dict[str, str], memory: int | None,
              clock: Callable[[], float], lookup: Callable[[str, str], Any], field_ref: Callable[[str], str],
              wake: Callable[[], None]) -> RealRun | str | None:
        """A started RealRun; a FailedMount message; or None (not a real container here: use the model)."""
        chosen = self.view_for(c, env)
        if chosen is None:
            return None
        view, argv = chosen
        meta = pod["metadata"]
        try:
            pj = self.jail.pod(meta["uid"], meta["name"], meta["namespace"], ip)  # type: ignore[union-attr]
            pj.prepare_volumes(pod, lookup, field_ref)
            return pj.start(c, view, argv, env, memory, clock, wake)
        except MissingSource as e:
            return str(e)
        except OSError as e:  # the jail cannot be built on this machine: never run unjailed, use the model
            self._broken = f"{type(e).__name__}: {e}"
            self.stop_pod(meta["uid"])
            return None

    def stop_pod(self, uid: str, grace_s: float = 0.0) -> None:
        if self._jail is not None:
            self._jail.stop_pod(uid, grace_s)

    def close(self) -> None:
        if self._jail is not None:
            self._jail.close()


@dataclass
class ProbeState:
    next_at: float
    failures: int = 0
    successes: int = 0
    ok: bool = False
    message: str = ""
    ran: bool = False  # whether the last look ran the probe (events are recorded only then)


@dataclass
class Probes:
    """Liveness and readiness of one real container start, evaluated when due."""

    started: float
    states: dict[str, ProbeState] = field(default_factory=dict)

    def due(self, kind: str, probe: dict[str, Any] | None, now: float,
            check: Callable[[dict[str, Any]], tuple[bool, str]]) -> ProbeState | None:
        """Run `probe` if its period came due; its state (None when the container has no such probe)."""
        if not probe:
            return None
        st = self.states.get(kind)
        if st is None:
            st = self.states[kind] = ProbeState(self.started + float(probe.get("initialDelaySeconds", 0)))
        st.ran = now >= st.next_at
        if st.ran:
            ok, message = check(probe)
            st.next_at = now + float(probe.get("periodSeconds", 10))
            if ok:
                st.successes, st.failures = st.successes + 1, 0
                st.ok = st.ok or st.successes >= int(probe.get("successThreshold", 1))
            else:
                st.failures, st.successes, st.message = st.failures + 1, 0, message
                if st.failures >= int(probe.get("failureThreshold", 3)):
                    st.ok = False
        return st

    def failed_out(self, kind: str, probe: dict[str, Any] | None) -> bool:
        st = self.states.get(kind)
        return bool(probe and st and st.failures >= int(probe.get("failureThreshold", 3)))

    def next_due(self) -> float | None:
        return min((s.next_at for s in self.states.values()), default=None)


def exec_probe_argv(probe: dict[str, Any]) -> list[str]:
    return [str(a) for a in (probe.get("exec") or {}).get("command") or []]
