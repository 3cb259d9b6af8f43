"""Console sign-in sessions, kept server-side: the browser holds only an opaque id.

The API key a user typed lives in this process's memory, keyed by a random session id
sent as an HttpOnly, SameSite=Strict cookie; page JavaScript never sees the key. Sessions
end on sign-out, after `ttl` seconds, or when the server restarts.
"""

import secrets
import threading
import time

COOKIE = "picsha_console"


class SessionStore:
    def __init__(self, ttl: float = 12 * 3600, max_sessions: int = 1000) -> None:
        self.ttl = ttl
        self.max_sessions = max_sessions
        self._sessions: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def create(self, api_key: str) -> str:
        sid = secrets.token_urlsafe(32)
        with self._lock:
            self._expire()
            if len(self._sessions) >= self.max_sessions:  # drop the oldest
                oldest = min(self._sessions, key=lambda s: self._sessions[s][1])
                del self._sessions[oldest]
            self._sessions[sid] = (api_key, time.monotonic() + self.ttl)
        return sid

    def key_for(self, sid: str | None) -> str | None:
        if not sid:
            return None
        with self._lock:
            entry = self._sessions.get(sid)
            if entry is None or entry[1] < time.monotonic():
                self._sessions.pop(sid, None)
                return None
            return entry[0]

    def end(self, sid: str | None) -> None:
        with self._lock:
            self._sessions.pop(sid or "", None)

    def _expire(self) -> None:
        now = time.monotonic()
        for sid in [s for s, (_, until) in self._sessions.items() if until < now]:
            del self._sessions[sid]
