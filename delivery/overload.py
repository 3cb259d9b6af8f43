"""Bounded render concurrency: a few renders at a time, a short queue, then 503.

libvips already uses every core inside one render, so more concurrent renders than cores
only add latency and memory; beyond a short queue the honest answer is 503 + Retry-After,
which a CDN or client retries, instead of latency growing without bound.
"""

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from shared.errors import PicshaError


class RenderGate:
    def __init__(self, concurrency: int, queue: int, wait_seconds: float) -> None:
        self._slots = threading.BoundedSemaphore(max(1, concurrency))
        self._lock = threading.Lock()
        self._queue = max(0, queue)
        self._waiting = 0
        self._wait_seconds = wait_seconds

    @contextmanager
    def slot(self) -> Iterator[None]:
        if not self._slots.acquire(blocking=False):
            with self._lock:
                if self._waiting >= self._queue:
                    raise _busy()
                self._waiting += 1
            try:
                acquired = self._slots.acquire(timeout=self._wait_seconds)
            finally:
                with self._lock:
                    self._waiting -= 1
            if not acquired:
                raise _busy()
        try:
            yield
        finally:
            self._slots.release()

    @contextmanager
    def released(self) -> Iterator[None]:
        """Inside `slot()`: give the slot back while waiting on another machine (a remote
        model), so waiting holds no CPU slot, then take one again. Re-entry waits without
        the queue's bound: slots are held only by CPU work, which ends."""
        self._slots.release()
        try:
            yield
        finally:
            self._slots.acquire()


def _busy() -> PicshaError:
    return PicshaError(
        503, "overloaded", "too many renders in progress; retry shortly", {"Retry-After": "1"}
    )
