"""Token buckets per client, in-process: how often one client may make a model run.

Each server process keeps its own buckets (the limit is per process; N processes allow N
times the rate), which bounds spend without a shared store. Results already rendered are
served from the result store and never take a token.
"""

import threading
import time
from collections.abc import Callable

MAX_CLIENTS = 10_000  # buckets kept; beyond, full (idle) ones are dropped first


class RateLimiter:
    def __init__(
        self, per_minute: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # client → (tokens, at)
        self._lock = threading.Lock()

    def take(self, client: str) -> float:
        """0 when `client` may go now (a token is spent), else seconds until it may."""
        if self.rate <= 0:
            return 0.0
        now = self.clock()
        with self._lock:
            tokens, at = self._buckets.get(client, (self.burst, now))
            tokens = min(self.burst, tokens + (now - at) * self.rate)
            if tokens < 1:
                self._buckets[client] = (tokens, now)
                return (1 - tokens) / self.rate
            self._buckets[client] = (tokens - 1, now)
            if len(self._buckets) > MAX_CLIENTS:
                self._forget_idle(now)
            return 0.0

    def _forget_idle(self, now: float) -> None:
        for key, (tokens, at) in list(self._buckets.items()):
            if tokens + (now - at) * self.rate >= self.burst:
                del self._buckets[key]
