"""The sweeper: no asset stays `queued` or `processing` for ever.

An asset stuck past `stuck_after_seconds` is enqueued again (its job was lost: a broker
restarted without persistence, a worker died in embedded mode); one that has already been
tried `max_attempts` times ends `failed` with code `stuck`. Re-enqueueing writes nothing,
so a slow run that is still alive is never overwritten; duplicates meet the asset lock.
A presigned upload whose bytes never came is left alone while its form is valid, then its
job fails it `original_missing`.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from ingest_worker.queue.locks import asset_lock
from shared.keys import ASSETS_PREFIX
from shared.manifest import AssetError, Manifest, load_manifest, save_manifest, utcnow
from shared.settings import Settings
from shared.storage import ObjectStore

PAGE = 500


@dataclass
class SweepReport:
    checked: int = 0
    requeued: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def sweep(settings: Settings, store: ObjectStore, enqueue: Callable[[str], None]) -> SweepReport:
    report = SweepReport()
    deadline = utcnow() - timedelta(seconds=settings.stuck_after_seconds)
    cursor: str | None = None
    while True:
        ids = store.list_children(ASSETS_PREFIX, cursor, PAGE)
        for asset_id in ids:
            report.checked += 1
            manifest = load_manifest(store, asset_id)
            if manifest is None or manifest.status not in ("queued", "processing"):
                continue
            if manifest.updated_at > deadline or _upload_may_come(manifest, settings):
                continue
            if manifest.attempts >= settings.max_attempts:
                _fail_stuck(settings, store, asset_id, report)
            else:
                enqueue(asset_id)
                report.requeued.append(asset_id)
        if len(ids) < PAGE:
            return report
        cursor = ids[-1]


def _upload_may_come(manifest: Manifest, settings: Settings) -> bool:
    """A presigned asset waits for its bytes while its form can still be used (a large file
    on a slow link takes a while); once the form has expired the job fails it
    `original_missing`, and a late upload still revives it (s3_events.py)."""
    if manifest.upload_via != "presigned" or manifest.source.sha256:
        return False
    lifetime = timedelta(seconds=settings.s3_presign_seconds + settings.stuck_after_seconds)
    return manifest.created_at + lifetime > utcnow()


def _fail_stuck(settings: Settings, store: ObjectStore, asset_id: str, report: SweepReport):
    with asset_lock(settings, asset_id) as held:
        if not held:
            return  # a run is alive right now: leave it be
        manifest = load_manifest(store, asset_id)  # re-read under the lock
        if manifest is None or manifest.status not in ("queued", "processing"):
            return
        manifest.status = "failed"
        manifest.error = AssetError(
            stage="sweeper",
            code="stuck",
            message=f"no result after {manifest.attempts} attempts",
        )
        save_manifest(store, manifest)
        report.failed.append(asset_id)
