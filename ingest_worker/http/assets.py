"""The ingest HTTP API: upload, read, list, delete and reprocess assets (`/v1`)."""

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from ingest_worker.http import search, sha256_index, upload
from ingest_worker.http.auth import require_api_key
from ingest_worker.http.deps import ManifestDep, SettingsDep, StoreDep, links
from ingest_worker.http.idempotency import HEADER, IdempotencyKeys, fingerprint
from ingest_worker.http.jobs import broker_unavailable_as_503, enqueue_ingest
from shared import newest
from shared.errors import PicshaError
from shared.ids import is_valid_id, new_id
from shared.keys import ASSETS_PREFIX, asset_prefix, original_key
from shared.manifest import Manifest, Source, load_manifest, save_manifest
from shared.settings import Settings
from shared.storage import ObjectStore

router = APIRouter(prefix="/v1", dependencies=[Depends(require_api_key)], tags=["assets"])

# Multipart framing around the file: the Content-Length pre-check allows this much on top.
_MULTIPART_SLACK = 64 * 1024


def _manifest_json(manifest: Manifest) -> dict:
    return manifest.model_dump(mode="json", by_alias=True)


def _check_declared_length(request: Request, settings: Settings) -> None:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > settings.max_upload_bytes + _MULTIPART_SLACK:
        raise PicshaError(
            413, "upload_too_large", f"upload exceeds {settings.max_upload_bytes} bytes"
        )


_UPLOAD_SCHEMA = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "pre_render_sizes": {"type": "boolean", "default": False},
                    },
                }
            }
        },
    }
}


IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias=HEADER,
        description="Any unique string (≤ 255 printable ASCII), e.g. a UUID: a retry with the "
        "same key and request answers the first response again (header "
        "`Idempotent-Replayed: true`) instead of making a second asset; another request "
        "with the key is `422`. Kept 24 h, per API key.",
    ),
]


@router.post("/assets", status_code=202, openapi_extra=_UPLOAD_SCHEMA)
async def create_asset(
    request: Request,
    settings: SettingsDep,
    store: StoreDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response:
    """Upload a file (multipart `file`, optional `pre_render_sizes`); ingest runs async.

    `503 queue_unavailable` (with `Retry-After`) when the job queue cannot be reached: the
    upload is not kept, so retrying (with the same `Idempotency-Key`) is always safe."""
    # The body is read here, after the key and size checks, so an oversized or
    # unauthenticated body is refused before any of it is read; then streamed to storage.
    _check_declared_length(request, settings)
    scope = IdempotencyKeys.scope(request.headers.get("x-api-key", ""), idempotency_key)
    asset_id = new_id()
    try:
        got = await upload.receive(
            request, store, original_key(asset_id), settings.max_upload_bytes, ("pre_render_sizes",)
        )
        manifest = Manifest(
            id=asset_id,
            pre_render_sizes=_form_bool(got.fields.get("pre_render_sizes")),
            source=Source(
                filename=got.filename,
                size=got.size,
                sha256=got.sha256,
                declared_mime=got.content_type,
            ),
        )
        request_print = fingerprint(
            sha256=got.sha256, filename=got.filename, pre_render_sizes=manifest.pre_render_sizes
        )
        return await run_in_threadpool(
            _commit_upload, request, store, manifest, scope, request_print
        )
    except BaseException:
        # Nothing half-stored stays behind: no original without a manifest or job, no
        # manifest without an original.
        await run_in_threadpool(store.delete_prefix, asset_prefix(asset_id))
        raise


def _commit_upload(
    request: Request, store: ObjectStore, manifest: Manifest, scope: str | None, request_print: str
) -> Response:
    """Manifest, idempotency record, job — in that order, so a failure undoes them all."""
    keys: IdempotencyKeys = request.app.state.idempotency_keys
    with broker_unavailable_as_503(), keys.claim(scope, request_print) as claim:
        if claim.prior is not None:
            response = claim.replay()
            store.delete_prefix(asset_prefix(manifest.id))  # the retry's copy is not needed
            return response
        manifest.duplicate_of = sha256_index.find(store, manifest.source.sha256)
        body = _accepted(manifest, request.app.state.settings)
        if manifest.duplicate_of is not None:
            body["duplicate_of"] = manifest.duplicate_of
        save_manifest(store, manifest)
        claim.remember(202, body)
        enqueue_ingest(request.app.state.celery, manifest.id)
        newest.remember(store, manifest)
        if manifest.duplicate_of is None:  # only once queued: a failed upload names nothing
            sha256_index.remember(store, manifest.source.sha256, manifest.id)
    return JSONResponse(body, status_code=202)


def _accepted(manifest: Manifest, settings: Settings) -> dict:
    return {"id": manifest.id, "status": manifest.status, "links": links(manifest.id, settings)}


def _form_bool(value: object) -> bool:
    if value is None:
        return False
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off", ""):
        return False
    raise PicshaError(400, "invalid_request", "pre_render_sizes must be true or false")


class PresignedUploadRequest(BaseModel):
    filename: str = Field(min_length=1, max_length=255)
    content_type: str | None = Field(None, max_length=255)
    pre_render_sizes: bool = False


@router.post("/assets/presigned", status_code=201)
def create_presigned_upload(
    body: PresignedUploadRequest, settings: SettingsDep, store: StoreDep
) -> dict:
    """For large files in S3 mode: an upload form straight to the bucket. The object's
    S3 event enqueues the same ingest job as `POST /v1/assets` (see http/s3_events.py)."""
    asset_id = new_id()
    form = store.presigned_post(original_key(asset_id), settings.max_upload_bytes)
    if form is None:
        raise PicshaError(
            501, "presigned_uploads_need_s3", "presigned uploads need PICSHA_STORAGE=s3"
        )
    manifest = Manifest(
        id=asset_id,
        pre_render_sizes=body.pre_render_sizes,
        upload_via="presigned",
        source=Source(filename=body.filename, size=0, sha256="", declared_mime=body.content_type),
    )
    save_manifest(store, manifest)
    newest.remember(store, manifest)
    return {"id": asset_id, "status": manifest.status, "upload": form,
            "links": links(asset_id, settings)}  # fmt: skip


@router.get("/assets/{asset_id}")
def get_asset(manifest: ManifestDep) -> dict:
    return _manifest_json(manifest)


@router.get("/assets")
def list_assets(
    store: StoreDep,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    order: Annotated[
        Literal["id", "newest"],
        Query(description="`id` (default) or `newest`: by `created_at`, newest first"),
    ] = "id",
) -> dict:
    """Assets in id order, or newest first; pass `next_cursor` back for the next page. Both
    cursors are stable under inserts: an upload between pages never repeats or skips one."""
    if order == "newest":
        if cursor is not None and not newest.is_valid_cursor(cursor):
            raise PicshaError(400, "invalid_cursor", "cursor must be a next_cursor of order=newest")
        ids, next_cursor = newest.page(store, cursor, limit)
    else:
        if cursor is not None and not is_valid_id(cursor):
            raise PicshaError(400, "invalid_cursor", "cursor must be an asset id from next_cursor")
        ids = store.list_children(ASSETS_PREFIX, cursor, limit)
        next_cursor = ids[-1] if len(ids) == limit else None
    items = [m for m in (load_manifest(store, i) for i in ids) if m is not None]
    return {"items": [_manifest_json(m) for m in items], "next_cursor": next_cursor}


@router.delete("/assets/{asset_id}", status_code=204)
def delete_asset(manifest: ManifestDep, settings: SettingsDep, store: StoreDep) -> Response:
    store.delete_prefix(asset_prefix(manifest.id))
    newest.forget(store, manifest)
    if manifest.source.sha256:  # a presigned upload the worker has not hashed yet has none
        sha256_index.forget(store, manifest.source.sha256, manifest.id)
    search.forget(settings, manifest.id)
    return Response(status_code=204)


@router.post("/assets/{asset_id}/reprocess", status_code=202)
def reprocess_asset(
    manifest: ManifestDep, request: Request, settings: SettingsDep, store: StoreDep
) -> dict:
    before = manifest.model_copy(deep=True)
    manifest.status = "queued"
    manifest.error = None
    save_manifest(store, manifest)
    try:
        enqueue_ingest(request.app.state.celery, manifest.id)
    except BaseException:
        save_manifest(store, before)  # the asset stays as it was: nothing was queued
        raise
    return _accepted(manifest, settings)
