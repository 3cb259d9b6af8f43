"""`Idempotency-Key` on `POST /v1/assets`: a client's retry never makes a second asset.

The first request with a key (per API key) stores its response next to the assets, in the
object store, so every API instance sees it (S3 in production, the data folder embedded).
A retry with the same key and the same request gets that response again (its asset id);
the same key with another request is refused. Records last 24 h.

Layout: `idempotency/<UTC day>/<sha256 of API key and Idempotency-Key>.json`; a lookup
reads today's and yesterday's day, and days older than that are deleted whole (at most
once an hour per process), so cleaning up needs no listing of single records.

A record is written after the manifest and before the job is enqueued, under a lock on
the key (ingest_worker/queue/locks.py): two requests with one key never both make an asset, and
a request that fails (503: the broker is away) forgets its record with its asset.
"""

import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from fastapi.responses import JSONResponse
from pydantic import BaseModel

from ingest_worker.queue.locks import asset_lock
from shared.errors import PicshaError
from shared.manifest import utcnow
from shared.settings import Settings
from shared.storage import ObjectNotFound, ObjectStore

HEADER = "Idempotency-Key"
PREFIX = "idempotency"
KEEP = timedelta(hours=24)
MAX_KEY_LENGTH = 255
_PURGE_EVERY = timedelta(hours=1)


class Record(BaseModel):
    fingerprint: str  # of the request: what a retry must repeat exactly
    status_code: int
    body: dict
    created_at: datetime


def fingerprint(**request: object) -> str:
    return hashlib.sha256(json.dumps(request, sort_keys=True).encode()).hexdigest()


class Claim:
    """What a request holding its key may do: replay an earlier answer, or remember its own."""

    def __init__(self, keys: "IdempotencyKeys", scope: str | None, fingerprint: str) -> None:
        self._keys, self._scope, self._fingerprint = keys, scope, fingerprint
        self.prior = keys.find(scope) if scope is not None else None
        self.remembered = False

    def replay(self) -> JSONResponse:
        """The earlier answer, when this request repeats it; 422 when it is another one."""
        assert self.prior is not None
        if self.prior.fingerprint != self._fingerprint:
            raise PicshaError(
                422,
                "idempotency_key_reused",
                f"this {HEADER} was used for a different request (another file or fields)",
            )
        return JSONResponse(
            self.prior.body,
            status_code=self.prior.status_code,
            headers={"Idempotent-Replayed": "true"},
        )

    def remember(self, status_code: int, body: dict) -> None:
        if self._scope is not None:
            record = Record(
                fingerprint=self._fingerprint,
                status_code=status_code,
                body=body,
                created_at=utcnow(),
            )
            self._keys.save(self._scope, record)
            self.remembered = True


class IdempotencyKeys:
    def __init__(self, settings: Settings, store: ObjectStore) -> None:
        self._settings, self._store = settings, store
        self._purged_at: datetime | None = None
        self._purge_lock = threading.Lock()

    @staticmethod
    def scope(api_key: str, key: str | None) -> str | None:
        """The record's name: keys of different API keys never meet; None without a key."""
        if key is None:
            return None
        if not 0 < len(key) <= MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
            raise PicshaError(
                400,
                "invalid_idempotency_key",
                f"{HEADER} must be 1 to {MAX_KEY_LENGTH} printable ASCII characters",
            )
        return hashlib.sha256(f"{api_key}\0{key}".encode()).hexdigest()

    @contextmanager
    def claim(self, scope: str | None, fingerprint: str) -> Iterator[Claim]:
        """Hold the key while the request commits; a failure forgets what it remembered."""
        if scope is None:
            yield Claim(self, None, fingerprint)
            return
        with asset_lock(self._settings, f"idempotency-{scope}") as held:
            if not held:
                raise PicshaError(
                    409,
                    "idempotency_key_in_use",
                    f"a request with this {HEADER} is in progress; retry",
                    {"Retry-After": "1"},
                )
            claim = Claim(self, scope, fingerprint)
            try:
                yield claim
            except BaseException:
                if claim.remembered:
                    self.forget(scope)
                raise

    def find(self, scope: str) -> Record | None:
        now = utcnow()
        for day in (now, now - KEEP):
            try:
                record = Record.model_validate_json(self._store.get_bytes(_key(day, scope)))
            except ObjectNotFound:
                continue
            if record.created_at > now - KEEP:
                return record
        return None

    def save(self, scope: str, record: Record) -> None:
        data = record.model_dump_json().encode()
        self._store.put_bytes(_key(record.created_at, scope), data, "application/json")
        self._purge_now_and_then(record.created_at)

    def forget(self, scope: str) -> None:
        now = utcnow()
        for day in (now, now - KEEP):
            self._store.delete_prefix(_key(day, scope))

    def purge(self, now: datetime) -> list[str]:
        """Delete the days no lookup reads any more; returns them."""
        oldest_read = _day(now - KEEP)
        old = [d for d in self._store.list_children(PREFIX, None, 10_000) if d < oldest_read]
        for day in old:
            self._store.delete_prefix(f"{PREFIX}/{day}/")
        return old

    def _purge_now_and_then(self, now: datetime) -> None:
        with self._purge_lock:
            if self._purged_at is not None and now - self._purged_at < _PURGE_EVERY:
                return
            self._purged_at = now
        self.purge(now)


def _day(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d")


def _key(moment: datetime, scope: str) -> str:
    return f"{PREFIX}/{_day(moment)}/{scope}.json"
