"""Celery tasks: thin wrappers; the work is in `pipeline`, so it runs the same anywhere."""

from ingest_worker import pipeline
from ingest_worker.celery_app import INGEST_TASK, app
from ingest_worker.errors import TransientError


@app.task(
    name=INGEST_TASK,
    autoretry_for=(TransientError,),
    retry_backoff=2,
    retry_backoff_max=120,
    retry_jitter=True,
    max_retries=8,
)
def ingest_asset(asset_id: str) -> str | None:
    manifest = pipeline.process(asset_id)
    return manifest.status if manifest else None
