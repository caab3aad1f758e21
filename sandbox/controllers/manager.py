"""The controller manager of the sandbox: work queues fed by every write, timers in sandbox time, one thread.

Why one thread: controllers then act in a fixed order, so the same scenario and seed give the same names,
logs and metrics; timers run in the sandbox clock, so `--speed` fast-forwards backoffs and rollouts alike.
"""

from __future__ import annotations

import heapq
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any, Protocol

from sandbox.cluster import Cluster
from sandbox.resources import ResourceType

log = logging.getLogger(__name__)


class Controller(Protocol):
    name: str
    watches: tuple[str, ...]  # resource keys such as "/pods", "apps/deployments"

    def keys_for(self, resource: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> list[Hashable]:
        """Which of this controller's keys a write affects."""
        ...

    def reconcile(self, key: Hashable) -> float | None:
        """Bring `key` to its desired state; return sandbox seconds until it wants another look (or None)."""
        ...


class ControllerManager:
    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.controllers: dict[str, Controller] = {}
        self._queue: OrderedDict[tuple[str, Hashable], None] = OrderedDict()
        self._timers: list[tuple[float, int, str, Hashable]] = []
        self._seq = 0
        self._cv = threading.Condition()
        self._busy = False
        self._stop = False
        self._thread: threading.Thread | None = None
        cluster.hooks.append(self._on_write)

    def add(self, controller: Controller) -> None:
        self.controllers[controller.name] = controller

    # -- feeding -----------------------------------------------------------------------------------
    def _on_write(self, _what: str, rt: ResourceType, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
        items = []
        for c in self.controllers.values():
            if rt.key in c.watches:
                items.extend((c.name, k) for k in c.keys_for(rt.key, old, new))
        if items:
            with self._cv:
                for item in items:
                    self._queue[item] = None
                self._cv.notify()

    def enqueue(self, controller: str, key: Hashable) -> None:
        with self._cv:
            self._queue[(controller, key)] = None
            self._cv.notify()

    def after(self, controller: str, key: Hashable, seconds: float) -> None:
        """Look at `key` again after `seconds` of sandbox time."""
        with self._cv:
            self._seq += 1
            heapq.heappush(self._timers, (self.cluster.clock.time() + max(seconds, 0.0), self._seq, controller, key))
            self._cv.notify()

    def resync(self) -> None:
        """Enqueue every object each controller watches (start-up and after a restart from --state)."""
        for c in self.controllers.values():
            for key in c.watches:
                for obj in self.cluster.store.list(key)[0]:
                    for k in c.keys_for(key, None, obj):
                        self.enqueue(c.name, k)

    # -- running -----------------------------------------------------------------------------------
    def start(self) -> None:
        self.resync()
        self._thread = threading.Thread(target=self._run, name="sandbox-controllers", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._cv:
            self._stop = True
            self._cv.notify()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _next(self) -> tuple[str, Hashable] | None:
        with self._cv:
            while not self._stop:
                now = self.cluster.clock.time()
                while self._timers and self._timers[0][0] <= now:
                    _, _, c, k = heapq.heappop(self._timers)
                    self._queue[(c, k)] = None
                if self._queue:
                    item, _ = self._queue.popitem(last=False)
                    self._busy = True
                    return item
                self._busy = False
                self._cv.notify_all()
                wait = 1.0
                if self._timers:
                    wait = min(wait, max((self._timers[0][0] - now) / self.cluster.clock.speed, 0.0005))
                self._cv.wait(wait)
            return None

    def _run(self) -> None:
        while True:
            item = self._next()
            if item is None:
                return
            name, key = item
            try:
                again = self.controllers[name].reconcile(key)
            except Exception:  # noqa: BLE001 - one bad object must not stop the cluster
                log.exception("controller %s failed on %s", name, key)
                again = 5.0
            if again is not None:
                self.after(name, key, again)

    def idle(self, timeout: float = 10.0) -> bool:
        """Wait until no work is queued or due (timers in the future are fine); for tests and benchmarks."""
        deadline = time.monotonic() + timeout
        self.cluster.settle()
        with self._cv:
            while time.monotonic() < deadline:
                due = self._timers and self._timers[0][0] <= self.cluster.clock.time()
                if not self._queue and not self._busy and not due:
                    return True
                self._cv.wait(0.01)
        return False
