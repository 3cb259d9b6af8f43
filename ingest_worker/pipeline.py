"""The ingest pipeline: DESIGN.md's six stages, in their order, in this one module.

    ingest job     sniff → metadata → render (images) / documents → index
    analysis job   analysis → index → duplicates        (its own queue, once `ready`)

The Celery tasks (queue/tasks.py) only add locking, retries and the hand-over between the
two jobs. `process` runs the first three stages and records the outcome in the manifest.
Idempotent: every stage writes fixed keys and the manifest is written last, so running
the same asset twice (redelivery after a crash, reprocess) converges on the same result.
"""

import errno
import hashlib
import logging

from botocore.exceptions import BotoCoreError, ClientError
from celery.exceptions import SoftTimeLimitExceeded

from ingest_worker import runtime
from ingest_worker.errors import StageError, TransientError
from ingest_worker.stages import analysis, derivatives, duplicates, index, metadata, sniff
from shared.keys import original_key
from shared.manifest import AssetError, Manifest, load_manifest, save_manifest
from shared.metrics import observe_stage
from shared.search import SearchIndex
from shared.settings import Settings, get_settings
from shared.storage import ObjectNotFound, ObjectStore

log = logging.getLogger(__name__)


def ingest(asset_id: str) -> Manifest | None:
    """The ingest job: render the asset, then make it searchable by name and metadata."""
    manifest = process(asset_id)
    if manifest is not None:
        index.safe_index(manifest)
    return manifest


def analyse(asset_id: str) -> Manifest | None:
    """The analysis job: a provider error fails only the analysis, never the asset."""
    manifest = analysis.run(asset_id)
    if manifest is None:
        return None
    index.safe_index(manifest)
    if manifest.analysis and manifest.analysis.status == "done":
        manifest = _safe_duplicates(manifest, runtime.index(), runtime.store())
    return manifest


def _safe_duplicates(manifest: Manifest, found_in: SearchIndex, store: ObjectStore) -> Manifest:
    """Record near-duplicates in the manifest; a failure only logs (the route asks again)."""
    try:
        return duplicates.record(manifest, found_in, store)
    except Exception:
        log.exception("near-duplicate check of %s failed", manifest.id)
        return manifest


# Infrastructure trouble (storage, network): retried by the task, never the file's fault.
_TRANSIENT = (BotoCoreError, ClientError, ConnectionError, TimeoutError)


def process(asset_id: str, settings: Settings | None = None, store: ObjectStore | None = None):
    try:
        return _process(asset_id, settings, store)
    except _TRANSIENT as exc:
        raise TransientError(str(exc)) from exc


def _process(asset_id: str, settings: Settings | None, store: ObjectStore | None):
    settings = settings or get_settings()
    store = store or runtime.store()
    manifest = load_manifest(store, asset_id)
    if manifest is None:
        log.info("asset %s has no manifest (deleted?); nothing to do", asset_id)
        return None
    manifest.status = "processing"
    manifest.attempts += 1
    manifest.error = None
    save_manifest(store, manifest)
    try:
        with store.local_copy(original_key(asset_id)) as path:
            if not manifest.source.sha256:  # a presigned upload: the API never saw the bytes
                manifest.source.size, manifest.source.sha256 = _size_and_sha256(path)
            _run_stages(manifest, path, settings, store)
        manifest.status = "ready"
    except StageError as exc:
        log.info("asset %s failed at %s: %s", asset_id, exc.stage, exc.message)
        manifest.status = "failed"
        manifest.error = AssetError(stage=exc.stage, code=exc.code, message=exc.message)
    except ObjectNotFound:
        manifest.status = "failed"
        message = "the original object is missing"
        if manifest.upload_via == "presigned":
            message = "the presigned upload never reached the bucket (abandoned or refused)"
        manifest.error = AssetError(stage="fetch", code="original_missing", message=message)
    except _TRANSIENT:
        raise
    except SoftTimeLimitExceeded:  # Celery's job limit (stages' own bounds came first)
        manifest.status = "failed"
        limit = settings.ingest_time_limit_seconds
        manifest.error = AssetError(
            stage="pipeline", code="timeout", message=f"the job ran past its {limit:g} s limit"
        )
    except Exception as exc:  # a bug must not leave the asset stuck in `processing`
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise TransientError(str(exc)) from exc  # the disk, not the file: retry later
        log.exception("asset %s: unexpected error", asset_id)
        manifest.status = "failed"
        manifest.error = AssetError(stage="pipeline", code="internal_error", message=str(exc))
    manifest.progress = None  # ended either way: a failed transcode is not still under way
    save_manifest(store, manifest)
    return manifest


def _size_and_sha256(path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while chunk := f.read(1024 * 1024):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def _run_stages(manifest: Manifest, path, settings: Settings, store: ObjectStore) -> None:
    warnings: list[str] = []
    with observe_stage("sniff"):
        sniffed = sniff.sniff(path, manifest.source.filename)
    manifest.source.mime = sniffed.mime
    manifest.kind = sniffed.kind

    with observe_stage("metadata", sniffed.kind):
        meta, tags, warning = metadata.extract(path)
    manifest.metadata = meta
    if warning:
        warnings.append(warning)
    manifest.source.mime = metadata.refine_mime(sniffed.mime, tags)

    # sample images (+ proxy, or document.pdf + poster) and placeholders
    with observe_stage("render", sniffed.kind):
        derivatives.build(manifest, path, sniffed, tags, settings, store)
    manifest.warnings = warnings
