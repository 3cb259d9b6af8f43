"""Celery tasks: thin wrappers (lock, retries, the hand-over to analysis); the stages and
their order are in `ingest_worker.pipeline`, so the work runs the same anywhere."""

import logging

from ingest_worker import pipeline, runtime
from ingest_worker.errors import TransientError
from ingest_worker.queue import sweeper
from ingest_worker.queue.celery_app import ANALYSIS_TASK, INGEST_TASK, SWEEP_TASK, app
from ingest_worker.queue.locks import asset_lock
from shared.ai import TransientProviderError
from shared.manifest import load_manifest
from shared.settings import get_settings

log = logging.getLogger(__name__)


@app.task(
    name=INGEST_TASK,
    autoretry_for=(TransientError,),
    retry_backoff=2,
    retry_backoff_max=120,
    retry_jitter=True,
    max_retries=8,
)
def ingest_asset(asset_id: str) -> str | None:
    with asset_lock(get_settings(), asset_id) as held:
        if not held:  # another run of this asset is alive: come back after it
            raise TransientError(f"asset {asset_id} is being processed by another run")
        settled = _settled(asset_id)
        if settled is not None:
            return settled
        manifest = pipeline.ingest(asset_id)
    if manifest is not None and manifest.status == "ready" and get_settings().analysis_enabled:
        analyze_asset.delay(asset_id)  # routed to the analysis queue
    return manifest.status if manifest else None


def _settled(asset_id: str) -> str | None:
    """The status of an asset a duplicate job finds already done, else None.

    Every real job finds its asset `queued` or `processing` (upload, reprocess and the
    sweeper all ask for work in those states); one that finds it `ready` or `failed` is a
    copy of a job that already ran — the sweeper re-enqueues what looks lost, S3 delivers
    events at least once — and running it again would flip a ready asset back to
    `processing` for clients to see, for nothing.
    """
    manifest = load_manifest(runtime.store(), asset_id)
    if manifest is None or manifest.status not in ("ready", "failed"):
        return None
    log.info("asset %s is already %s: duplicate job skipped", asset_id, manifest.status)
    return manifest.status


@app.task(
    name=ANALYSIS_TASK,
    autoretry_for=(TransientProviderError, TransientError),
    retry_backoff=5,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=6,
)
def analyze_asset(asset_id: str) -> str | None:
    manifest = pipeline.analyse(asset_id)
    return manifest.analysis.status if manifest and manifest.analysis else None


@app.task(name=SWEEP_TASK, ignore_result=True)
def sweep_stuck() -> dict[str, int]:
    """Periodic (Celery beat): re-enqueue lost jobs, fail assets that never finish."""
    report = sweeper.sweep(get_settings(), runtime.store(), ingest_asset.delay)
    return {"requeued": len(report.requeued), "failed": len(report.failed)}
