"""Enqueueing ingest jobs from the HTTP API: a broker that cannot be reached is a clear
`503 queue_unavailable` with `Retry-After`, never a bare 500 (docs/reliability.md)."""

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import redis
from celery import Celery
from kombu.exceptions import OperationalError

from ingest_worker.queue.celery_app import INGEST_TASK
from shared.errors import PicshaError

log = logging.getLogger(__name__)

# kombu wraps a publish's connection errors; the Redis lock (ingest_worker/queue/locks.py) meets
# the same server through redis-py directly.
BROKER_ERRORS = (OperationalError, redis.ConnectionError, redis.TimeoutError)
RETRY_AFTER_SECONDS = 10


@contextmanager
def broker_unavailable_as_503() -> Iterator[None]:
    try:
        yield
    except BROKER_ERRORS as exc:
        log.warning("the job queue cannot be reached: %s", exc)
        raise PicshaError(
            503,
            "queue_unavailable",
            "the job queue cannot be reached; nothing was changed, retry later",
            {"Retry-After": str(RETRY_AFTER_SECONDS)},
        ) from exc


def enqueue_ingest(celery: Celery, asset_id: str) -> None:
    with broker_unavailable_as_503():
        celery.send_task(INGEST_TASK, args=[asset_id])
