"""Lambda entry point for presigned uploads: S3 ObjectCreated (EventBridge → SQS) → the
same Celery ingest job that `POST /v1/assets` enqueues.

Only assets created by `POST /v1/assets/presigned` and still `queued` (or failed
`original_missing`: the bytes came late) are enqueued:
originals written by the API fire the same event and already have their job. Records that
fail are reported back by id (`batchItemFailures`), so SQS retries only those.
"""

import json
import logging
import re
from typing import Any

from celery import Celery

from ingest_worker import runtime
from ingest_worker.queue.celery_app import INGEST_TASK
from shared.manifest import load_manifest, save_manifest
from shared.storage import ObjectStore

log = logging.getLogger(__name__)
_ORIGINAL = re.compile(r"^assets/([0-9A-Za-z_-]{21})/original$")


def object_key(record: dict[str, Any]) -> str | None:
    """The object key of one SQS record carrying an EventBridge S3 event."""
    event = json.loads(record.get("body") or "{}")
    return ((event.get("detail") or {}).get("object") or {}).get("key")


def enqueue_if_presigned(key: str | None, store: ObjectStore, celery: Celery) -> bool:
    match = _ORIGINAL.match(key or "")
    if not match:
        return False
    asset_id = match.group(1)
    manifest = load_manifest(store, asset_id)
    if manifest is None or manifest.upload_via != "presigned":
        return False
    # Queued: its bytes just came. Failed `original_missing`: they came after the sweeper
    # gave up on them (a slow upload); the job runs all the same.
    error = manifest.error.code if manifest.error else None
    late = manifest.status == "failed" and error == "original_missing"
    if manifest.status != "queued" and not late:
        return False
    if late:  # queued again, or the job would take itself for a duplicate (tasks._settled)
        manifest.status, manifest.error, manifest.attempts = "queued", None, 0
        save_manifest(store, manifest)
    celery.send_task(INGEST_TASK, args=[asset_id])
    return True


def handler(event: dict[str, Any], context: object = None) -> dict[str, list[dict[str, str]]]:
    store, celery = runtime.store(), runtime.celery()
    failures = []
    for record in event.get("Records", []):
        try:
            enqueue_if_presigned(object_key(record), store, celery)
        except Exception:
            log.exception("upload event %s failed", record.get("messageId"))
            failures.append({"itemIdentifier": record.get("messageId", "")})
    return {"batchItemFailures": failures}
