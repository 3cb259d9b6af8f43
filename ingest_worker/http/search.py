"""Search and AI HTTP routes (`/v1`): search, similar, duplicates, alt text, generate."""

import hashlib
import json
import logging
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from ingest_worker import runtime
from ingest_worker.http.auth import require_api_key
from ingest_worker.http.deps import IndexDep, ManifestDep, SettingsDep, StoreDep
from ingest_worker.http.jobs import enqueue_ingest
from shared import newest
from shared.ai import (
    CapabilityMissing,
    ProviderError,
    ProviderUnavailable,
)
from shared.errors import PicshaError
from shared.ids import new_id
from shared.keys import asset_prefix, original_key
from shared.manifest import Manifest, Source, save_manifest
from shared.search import Filters, InvalidCursor, SearchHit, SearchIndex
from shared.search.base import Person
from shared.settings import Settings
from shared.storage import ObjectStore

log = logging.getLogger(__name__)

router = APIRouter(prefix="/v1", dependencies=[Depends(require_api_key)], tags=["search"])

MAX_QUERY_CHARS = 16_384  # a pasted paragraph is fine; it is cut to its first terms


def forget(settings: Settings, asset_id: str) -> None:
    """Take a deleted asset out of the index (called by DELETE /v1/assets/{id})."""
    try:
        runtime.index(settings).delete(asset_id)
    except Exception:  # the objects are gone; a stale entry is filtered when looked up
        log.exception("could not remove %s from the search index", asset_id)


def _hit_json(hit: SearchHit) -> dict[str, Any]:
    return {
        "id": hit.id,
        "score": hit.score,
        "matched": hit.matched,
        "kind": hit.kind,
        "filename": hit.filename,
        "labels": hit.labels,
        "alt_text": hit.alt_text,
        "duration": hit.duration,  # seconds, videos and audio; null for stills
        "links": {"self": f"/v1/assets/{hit.id}", "render": f"/render/{hit.id}"},
    }


def _query_vector(settings: Settings, q: str):
    """The query in the asset vectors' space, or (None, reason) when no model can embed it."""
    if not q.strip():
        return None, None, None
    try:
        embedding = runtime.provider(settings).embed_query(q)
    except (ProviderUnavailable, ProviderError, CapabilityMissing) as exc:
        return None, None, str(exc)
    return embedding.vector, embedding.model, None


@router.get("/search")
def search(
    settings: SettingsDep,
    index: IndexDep,
    q: Annotated[str, Query(max_length=MAX_QUERY_CHARS)] = "",
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    kind: Annotated[
        Literal["image", "complex_image", "vector", "document", "video", "audio", "other"] | None,
        Query(),
    ] = None,
    mime: Annotated[str | None, Query(max_length=255)] = None,
    label: Annotated[str | None, Query(max_length=255)] = None,
    has_faces: bool | None = None,
    camera: Annotated[str | None, Query(max_length=255)] = None,
    date_from: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}-\d{2}([T ][\d:.+-Z]*)?$")] = None,
    date_to: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}-\d{2}([T ][\d:.+-Z]*)?$")] = None,
    min_duration: Annotated[
        float | None,
        Query(
            ge=0,
            description="Videos and audio at least this long (seconds); stills never"
            " match a duration filter",
        ),
    ] = None,
    max_duration: Annotated[
        float | None, Query(ge=0, description="Videos and audio at most this long (seconds)")
    ] = None,
    codec: Annotated[
        str | None,
        Query(
            max_length=64,
            description="A video or audio codec as ffprobe names it, whole"
            " and case-insensitive: `h264`, `hevc`, `vp9`, `av1`, `aac`, `mp3`, `flac`,"
            " `opus`, ...",
        ),
    ] = None,
) -> dict[str, Any]:
    """Ranked assets: keyword (BM25) and embedding results fused by reciprocal rank.

    A video's or audio file's title, artist and album tags are matched like its other
    metadata."""
    filters = Filters(
        kind,
        mime,
        label,
        has_faces,
        camera,
        date_from,
        date_to,
        min_duration=min_duration,
        max_duration=max_duration,
        codec=codec,
    )
    vector, model, reason = _query_vector(settings, q)
    try:
        page = index.search(q, vector, model, filters, limit, cursor)
    except InvalidCursor as exc:
        raise PicshaError(400, "invalid_cursor", str(exc)) from exc
    body: dict[str, Any] = {
        "items": [_hit_json(h) for h in page.hits],
        "next_cursor": page.next_cursor,
        "total": page.total,
        "mode": "hybrid" if vector is not None else ("keyword" if q.strip() else "browse"),
    }
    if reason:
        body["note"] = f"keyword search only: {reason}"
    return body


@router.get("/assets/{asset_id}/similar")
def similar(
    manifest: ManifestDep, index: IndexDep, limit: Annotated[int, Query(ge=1, le=100)] = 20
) -> dict[str, Any]:
    """Nearest assets by embedding (empty until the asset has been analysed)."""
    hits = index.similar(manifest.id, limit)
    return {"items": [_hit_json(h) for h in hits]}


@router.get("/assets/{asset_id}/duplicates")
def duplicates(manifest: ManifestDep, index: IndexDep, store: StoreDep) -> dict[str, Any]:
    """Near-duplicates: nearest by embedding, confirmed by a close perceptual hash (dHash)."""
    from ingest_worker.stages import duplicates as near

    found = near.find(manifest, index, store)
    return {"items": [{**d.model_dump(), "links": {"self": f"/v1/assets/{d.id}"}} for d in found]}


@router.get("/assets/{asset_id}/alt-text", response_model=None)
def alt_text(
    manifest: ManifestDep, request: Request, settings: SettingsDep, store: StoreDep
) -> dict[str, Any] | StreamingResponse:
    """The asset's alt text (JSON); `Accept: text/event-stream` streams it where the provider
    writes it live (bedrock), else the stored text comes as one event."""
    analysis = manifest.analysis
    wants_stream = "text/event-stream" in request.headers.get("accept", "")
    if wants_stream:
        return StreamingResponse(
            _alt_text_events(settings, store, manifest), media_type="text/event-stream"
        )
    if analysis is None or analysis.status != "done":
        status = (analysis.status if analysis else None) or "pending"
        raise PicshaError(
            409,
            "analysis_not_done",
            f"analysis is {status}; alt text comes with it",
        )
    return {
        "id": manifest.id,
        "alt_text": analysis.alt_text,
        "source": analysis.alt_text_source,
        "provider": analysis.provider,
    }


def _alt_text_events(settings: Settings, store: ObjectStore, manifest: Manifest) -> Iterator[str]:
    chunks = None
    try:
        provider = runtime.provider(settings)
        from ingest_worker.stages.analysis import manifest_facts

        facts = manifest_facts(manifest)  # a video's or audio's duration and tags too
        chunks = provider.stream_alt_text(facts, _stream_source(store, manifest, provider))
    except (ProviderUnavailable, ProviderError, CapabilityMissing) as exc:
        log.info("alt text stream for %s falls back to the stored text: %s", manifest.id, exc)
    if chunks is None:
        stored = manifest.analysis.alt_text if manifest.analysis else None
        chunks = iter([stored or ""])
    for chunk in chunks:
        yield f"data: {json.dumps({'text': chunk})}\n\n"
    yield "event: done\ndata: {}\n\n"


def _stream_source(store: ObjectStore, manifest: Manifest, provider) -> bytes | None:
    from ingest_worker.stages.analysis import source_key
    from shared.ai.prepare import model_jpeg

    key = source_key(manifest, store)
    if key is None:
        return None
    with store.local_copy(key) as path:
        return model_jpeg(path, provider.max_image_side, provider.max_image_bytes)


@router.get("/people")
def people(index: IndexDep, limit: Annotated[int, Query(ge=1, le=500)] = 100) -> dict[str, Any]:
    """People: faces grouped by their descriptors across the library, largest group first."""
    found = _people(index)
    return {"items": [_person_json(p, assets=20) for p in found[:limit]], "total": len(found)}


@router.get("/people/{person_id}")
def person(person_id: str, index: IndexDep) -> dict[str, Any]:
    """One person and every asset their face appears in."""
    for p in _people(index):
        if p.id == person_id:
            return _person_json(p, assets=None)
    raise PicshaError(404, "person_not_found", f"no person {person_id!r}")


def _people(index: SearchIndex) -> list[Person]:
    try:
        return index.people()
    except NotImplementedError as exc:
        raise PicshaError(501, "capability_missing", str(exc)) from exc


def _person_json(p: Person, assets: int | None) -> dict[str, Any]:
    ids = p.asset_ids if assets is None else p.asset_ids[:assets]
    return {
        "id": p.id,
        "face_count": p.face_count,
        "asset_count": len(p.asset_ids),
        "assets": [{"id": a, "links": {"render": f"/render/{a}"}} for a in ids],
        "cover": {"asset_id": p.cover[0], "box": p.cover[1]},
        "links": {"self": f"/v1/people/{p.id}"},
    }


class GenerateRequest(BaseModel):
    prompt: str = Field(min_length=1, max_length=2000)
    pre_render_sizes: bool = True


@router.post("/generate", status_code=202)
async def generate(
    body: GenerateRequest, request: Request, settings: SettingsDep, store: StoreDep
) -> dict[str, Any]:
    """Text-to-image: the prompt is refined by the text model, the image ingested like an
    upload. The local provider has no image generator: 501 naming the capability."""
    try:
        provider = runtime.provider(settings)
        png, refined = await run_in_threadpool(provider.generate_image, body.prompt)
    except CapabilityMissing as exc:
        raise PicshaError(
            501, "capability_missing", f"{exc}; set PICSHA_AI=bedrock for text-to-image"
        ) from exc
    except ProviderUnavailable as exc:
        raise PicshaError(501, "capability_missing", str(exc)) from exc
    except ProviderError as exc:
        raise PicshaError(502, "provider_error", str(exc)) from exc
    asset_id = new_id()
    manifest = Manifest(
        id=asset_id,
        pre_render_sizes=body.pre_render_sizes,
        source=Source(
            filename="generated.png",
            size=len(png),
            sha256=hashlib.sha256(png).hexdigest(),
            declared_mime="image/png",
        ),
    )
    manifest.generated = {"prompt": body.prompt, "refined_prompt": refined}
    try:
        await run_in_threadpool(store.put_bytes, original_key(asset_id), png, "image/png")
        await run_in_threadpool(save_manifest, store, manifest)
        await run_in_threadpool(enqueue_ingest, request.app.state.celery, asset_id)
        await run_in_threadpool(newest.remember, store, manifest)
    except BaseException:  # e.g. 503, the broker is away: no asset the client never heard of
        await run_in_threadpool(store.delete_prefix, asset_prefix(asset_id))
        raise
    return {
        "id": asset_id,
        "status": manifest.status,
        "refined_prompt": refined,
        "links": {"self": f"/v1/assets/{asset_id}", "render": f"/render/{asset_id}"},
    }
