"""The delivery app: `/render/{id}` on the fly, `/original/{id}` for the untouched upload,
`/media/{id}/{name}` for the web proxies of videos and audio."""

import contextlib
import logging
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

from delivery import caching, edits, faces, frames, negotiate, ranges, source, thumbor, transform
from delivery.manifests import ManifestCache
from delivery.overload import RenderGate
from delivery.params import RenderParams, parse
from shared import imaging, metrics, signing
from shared.errors import PicshaError, install_error_handlers
from shared.keys import (
    DERIVATIVE_FILES,
    RENDERS_PREFIX,
    Derivative,
    derivative_key,
    original_key,
)
from shared.manifest import Manifest
from shared.memory import Trimmer, limit_malloc_arenas
from shared.settings import Settings, get_settings
from shared.storage import ObjectNotFound, ObjectStore, open_store

log = logging.getLogger(__name__)
router = APIRouter(tags=["delivery"])


class Delivery:
    """What a request needs: settings, the store and the manifest cache."""

    def __init__(self, settings: Settings, store: ObjectStore) -> None:
        self.settings = settings
        self.store = store
        self.manifests = ManifestCache(store, settings.manifest_cache_seconds)
        self.gate = RenderGate(
            settings.render_concurrency, settings.render_queue, settings.render_queue_seconds
        )
        self.trimmer = Trimmer(settings.memory_trim_seconds).start()
        self.editor = edits.Editor(settings, self.gate)

    def source_data(self, key: str) -> transform.Source:
        local = self.store.local_path(key)
        return local if local is not None else self.store.get_bytes(key)


def _delivery(request: Request) -> Delivery:
    return request.app.state.delivery


def check_signature(d: Delivery, request: Request) -> None:
    key = d.settings.signing_key
    if not key:
        return
    items = request.query_params.multi_items()
    given = request.query_params.get("sig")
    if not given:
        raise PicshaError(403, "signature_required", "this server only serves signed URLs")
    if not signing.verify(key, request.url.path, items, given):
        raise PicshaError(403, "bad_signature", "the URL signature does not match")


def _openapi_parameters() -> list[dict]:
    schema = RenderParams.model_json_schema()["properties"]
    return [
        {
            "name": name,
            "in": "query",
            "required": False,
            "description": field.description,
            "schema": _query_schema(schema[name]),
        }
        for name, field in RenderParams.model_fields.items()
    ]


def _query_schema(schema: dict) -> dict:
    """A query parameter is absent or has a value, never null: drop pydantic's `None` branch
    (clients and fuzzers would otherwise send `wd=` and meet a 400)."""
    options = [s for s in schema.get("anyOf", ()) if s.get("type") != "null"]
    if len(options) != 1:
        return schema
    rest = {k: v for k, v in schema.items() if k not in ("anyOf", "default")}
    return rest | options[0]


@router.get(
    "/render/{asset_id}",
    summary="Render an asset on the fly",
    responses={
        200: {"content": {m: {} for m in imaging.MIME_BY_FORMAT.values()}},
        302: {"description": "no transform asked: redirect to the original"},
        304: {"description": "If-None-Match matched the ETag"},
    },
    openapi_extra={"parameters": _openapi_parameters()},
)
def render(asset_id: str, request: Request) -> Response:
    d = _delivery(request)
    check_signature(d, request)
    params = parse(request.query_params.multi_items())
    manifest = d.manifests.get(asset_id)
    if not params.is_transform:
        location = f"/original/{asset_id}"
        if d.settings.signing_key:  # /original checks signatures too
            location = signing.sign_url(d.settings.signing_key, location)
        return RedirectResponse(location, status_code=302)
    if params.edit:
        audit = d.editor.check(params, manifest)
        plan = d.editor.recipe(params, edits.client_key(request, d.settings))
        response = respond(d, request, manifest, params, lambda _: plan)
        response.headers.update(audit)
        return response
    return respond(d, request, manifest, params)


def respond(
    d: Delivery,
    request: Request,
    manifest: Manifest,
    params: RenderParams,
    plan: Callable[[source.RenderSource], transform.Recipe] | None = None,
) -> Response:
    """Render `params` of an asset, or the Recipe `plan` makes of them for the source chosen
    (thumbor URLs): the one path /render and /thumbor share."""
    fmt, headers = _output_format(params, manifest, request)
    if params.t is not None:  # a video's frame instead of its poster
        src = frames.plan(manifest, params, d.settings)
    else:
        src = source.choose(manifest, keep_alpha=fmt != "jpeg" or params.bg is not None)
    recipe = plan(src) if plan else transform.Recipe(params)
    params = recipe.params
    geometry = transform.target_geometry(params, src, d.settings)
    canonical = params.canonical() + recipe.canonical_extra
    etag = caching.etag_for(manifest.version, canonical, fmt)
    headers |= {"ETag": etag, "Cache-Control": recipe.cache_control or d.settings.cache_control}
    if caching.not_modified(request, etag):
        return Response(status_code=304, headers=headers)

    stored_key = f"{RENDERS_PREFIX}/{manifest.id}/{etag.strip(chr(34))}.{fmt}"
    keep = d.settings.render_result_store or bool(params.edit)  # an edit is never run twice
    if keep and d.store.exists(stored_key):
        metrics.RENDER_CACHE.labels("result").inc()  # served from the result store
        return _redirect_to_stored(d, stored_key, headers)

    # thumbor's own pipeline (trim, manual crops, focal points) works on the source's grid
    scale = None if recipe.pipeline else transform.source_scale(params, geometry, src)
    pyramid = source.pyramid(manifest, src, scale)
    pyramid_data = _pyramid_data(d, manifest, pyramid) if pyramid else None
    used = pyramid if pyramid and pyramid_data is not None else src
    # a frame is decoded inside the gate, below; its video is never read whole
    frame_asked = params.t is not None
    data = pyramid_data if used is pyramid else None if frame_asked else d.source_data(src.key)
    watermark = _watermark(d, manifest, params.wm) if params.wm else None
    marks = tuple(_watermark(d, manifest, mark) for mark in recipe.marks)
    try:
        # decoding is the expensive part: all of it inside the gate
        with d.gate.slot(), contextlib.ExitStack() as frame:
            if frame_asked:
                data, src = frame.enter_context(frames.extract(d.store, src, params.t))
                used = src
            boxes: list[transform.Box] = []
            if params.g == "face":  # never from the pyramid: the boxes are in source pixels
                known = None if frame_asked else faces.from_manifest(manifest)
                if known is None:
                    known = faces.detect(manifest, data, src, params.t)
                boxes = known
            job = transform.Job(data, used, params, geometry, fmt, watermark=watermark,
                                faces=boxes, marks=marks)  # fmt: skip
            try:
                body = _encode(job, recipe)
            except imaging.ImageDecodeError as exc:
                if used is src:
                    raise
                log.warning("asset %s: pyramid unreadable (%s); rendering from %s",
                            manifest.id, exc, src.key)  # fmt: skip
                body = _encode(replace(job, data=d.source_data(src.key), info=src), recipe)
    except imaging.ImageDecodeError as exc:
        raise PicshaError(422, "render_failed", f"cannot render this asset: {exc}") from exc
    finally:
        d.trimmer.worked()
    media_type = imaging.MIME_BY_FORMAT[fmt]
    if len(body) > d.settings.render_max_body_bytes or keep:
        d.store.put_bytes(stored_key, body, media_type)
        if len(body) > d.settings.render_max_body_bytes:
            return _redirect_to_stored(d, stored_key, headers)
    return Response(body, media_type=media_type, headers=headers)


def _encode(job: transform.Job, recipe: transform.Recipe) -> bytes:
    image = recipe.pipeline(job) if recipe.pipeline else transform.render(job, recipe.edit)
    encode = recipe.encode or imaging.encode
    return encode(image, job.fmt, job.params.q, transform.background_rgb(job.params))


def _pyramid_data(
    d: Delivery, manifest: Manifest, pyramid: source.RenderSource
) -> transform.Source | None:
    """The pyramid's bytes (or file), or None with a warning when the object is missing or
    not the size the manifest recorded (truncated, or written by another ingest)."""
    expected = manifest.derivatives["pyramid"].bytes
    try:
        local = d.store.local_path(pyramid.key)
        data = local if local is not None else d.store.get_bytes(pyramid.key)
        size = local.stat().st_size if local is not None else len(data)
    except (ObjectNotFound, OSError):
        data, size = None, None
    if size != expected:
        log.warning("asset %s: pyramid %s is %s bytes, the manifest says %d; rendering from "
                    "the original", manifest.id, pyramid.key, size, expected)  # fmt: skip
        return None
    return data


def _output_format(
    params: RenderParams, manifest: Manifest, request: Request
) -> tuple[imaging.OutputFormat, dict[str, str]]:
    if params.fm == "auto":
        has_alpha = bool(manifest.image and manifest.image.has_alpha) or edits.makes_alpha(params)
        return negotiate.pick_format(request.headers.get("accept"), has_alpha), {"Vary": "Accept"}
    if params.fm is None and edits.makes_alpha(params):
        return "png", {}
    return (params.fm or _default_format(manifest)), {}  # type: ignore[return-value]


def _default_format(manifest: Manifest) -> imaging.OutputFormat:
    """Keep the source's format when it is web-native; else JPEG (PNG with alpha)."""
    mime = manifest.source.mime or ""
    for fmt, fmt_mime in imaging.MIME_BY_FORMAT.items():
        if mime == fmt_mime and manifest.kind == "image":
            return fmt  # type: ignore[return-value]
    return "png" if manifest.image and manifest.image.has_alpha else "jpeg"


def _watermark(d: Delivery, manifest: Manifest, asset_id: str) -> transform.Watermark:
    if asset_id == manifest.id:
        raise PicshaError(400, "invalid_watermark", "an asset cannot watermark itself")
    try:
        mark = d.manifests.get(asset_id)
    except PicshaError as exc:
        raise PicshaError(400, "invalid_watermark", f"watermark: {exc.message}") from exc
    if mark.status != "ready" or mark.kind not in ("image", "complex_image", "vector"):
        raise PicshaError(400, "invalid_watermark", "the watermark must be a ready image asset")
    src = source.choose(mark)
    return transform.Watermark(d.source_data(src.key), src)


def _redirect_to_stored(d: Delivery, key: str, headers: dict[str, str]) -> Response:
    url = d.store.presigned_url(key) or f"/{key}"
    return RedirectResponse(
        url, status_code=302, headers={"Cache-Control": headers["Cache-Control"]}
    )


@router.get("/thumbor/{path:path}", summary="thumbor-compatible URL")
def thumbor_render(path: str, request: Request) -> Response:
    """`/thumbor/{unsafe|hmac}/[trim/][AxB:CxD/][fit-in/]WxH/[halign/valign/][smart/]
    [filters:...]/{asset id}` — see docs/delivery.md for what maps and what answers 400."""
    d = _delivery(request)
    rest = thumbor.check_security(path, d.settings.signing_key)
    if request.query_params:
        raise PicshaError(400, "unknown_parameter", "thumbor URLs take no query parameters")
    req = thumbor.parse_url(rest)
    manifest = d.manifests.get(req.asset_id)
    if req.url.meta:
        frames = manifest.image.pages if manifest.image else 1
        body = req.meta(source.choose(manifest), frames)
        return JSONResponse(body, headers={"Cache-Control": d.settings.cache_control})
    return respond(d, request, manifest, req.params, lambda src: req.recipe(src, d.settings))


@router.get("/renders/{asset_id}/{name}", include_in_schema=False)
def stored_render(asset_id: str, name: str, request: Request) -> Response:
    """A stored render (oversized or result-store), in local mode; S3 mode redirects."""
    d = _delivery(request)
    d.manifests.get(asset_id)
    if "/" in name or not name.replace(".", "").replace("-", "").isalnum():
        raise PicshaError(404, "not_found", "no such render")
    key = f"{RENDERS_PREFIX}/{asset_id}/{name}"
    try:
        data = d.store.get_bytes(key)
    except ObjectNotFound as exc:
        raise PicshaError(404, "not_found", "no such render") from exc
    fmt = Path(name).suffix.lstrip(".")
    media = imaging.MIME_BY_FORMAT.get(fmt, "application/octet-stream")
    return Response(data, media_type=media, headers={"Cache-Control": d.settings.cache_control})


@router.get(
    "/original/{asset_id}",
    summary="The untouched upload",
    responses={
        206: {"description": "the byte range asked with `Range: bytes=…` (one range)"},
        302: {"description": "S3 mode: a presigned URL (S3 answers Range itself)"},
        416: {"description": "the range lies outside the object"},
    },
)
def original(asset_id: str, request: Request) -> Response:
    """The uploaded bytes: a presigned redirect in S3 mode, streamed in local mode, with
    byte ranges (docs/delivery.md, "Video and audio")."""
    d = _delivery(request)
    check_signature(d, request)
    manifest = d.manifests.get(asset_id)
    key = original_key(asset_id)
    url = d.store.presigned_url(key, manifest.source.filename)
    if url:
        return RedirectResponse(url, status_code=302)
    headers = {
        "Cache-Control": d.settings.cache_control,
        "ETag": f'"{manifest.source.sha256}"',
        "X-Content-Type-Options": "nosniff",
        # Never let a browser run an uploaded HTML/SVG as a page of this origin.
        "Content-Security-Policy": "default-src 'none'; sandbox",
    }
    if caching.not_modified(request, headers["ETag"]):
        return Response(status_code=304, headers=headers)
    media_type = manifest.source.mime or "application/octet-stream"
    return ranges.stream(request, d.store, key, _size(d, key), media_type, headers)


# The web proxies ingest makes of videos and audio, by file name: derivative and type.
MEDIA_TYPES: dict[Derivative, str] = {
    "proxy_video": "video/mp4",
    "preview": "video/mp4",
    "proxy_audio": "audio/mp4",
}
MEDIA_FILES = {DERIVATIVE_FILES[name]: (name, type_) for name, type_ in MEDIA_TYPES.items()}


@router.get(
    "/media/{asset_id}/{name}",
    summary="A web proxy of a video or audio asset",
    responses={
        200: {"content": {"video/mp4": {}, "audio/mp4": {}}},
        206: {"description": "the byte range asked with `Range: bytes=…` (one range)"},
        302: {"description": "S3 mode: a presigned URL (S3 answers Range itself)"},
        404: {"description": "no such proxy (name not proxy.mp4/preview.mp4/proxy.m4a)"},
        416: {"description": "the range lies outside the object"},
    },
)
def media(asset_id: str, name: str, request: Request) -> Response:
    """`proxy.mp4` (H.264/AAC, faststart), `preview.mp4` (a few silent seconds) or
    `proxy.m4a` (AAC) as a `<video>`/`<audio>` element plays them: seekable by Range."""
    d = _delivery(request)
    check_signature(d, request)
    manifest = d.manifests.get(asset_id)
    derivative, media_type = MEDIA_FILES.get(name, (None, ""))
    if derivative is None or derivative not in manifest.derivatives:
        raise PicshaError(404, "not_found", f"asset {asset_id} has no {name!r}")
    key = derivative_key(asset_id, derivative)
    url = d.store.presigned_url(key, content_type=media_type)  # a player wants the type
    if url:
        return RedirectResponse(url, status_code=302)
    etag = caching.etag_for(manifest.version, name, "media")
    headers = {"Cache-Control": d.settings.cache_control, "ETag": etag}
    if caching.not_modified(request, etag):
        return Response(status_code=304, headers=headers)
    return ranges.stream(request, d.store, key, _size(d, key), media_type, headers)


# HEAD answers what GET would, headers only (players and link checkers ask for the size).
router.add_api_route("/original/{asset_id}", original, methods=["HEAD"], include_in_schema=False)
router.add_api_route("/media/{asset_id}/{name}", media, methods=["HEAD"], include_in_schema=False)


def _size(d: Delivery, key: str) -> int:
    try:
        return d.store.size(key)
    except ObjectNotFound as exc:
        raise PicshaError(404, "not_found", "the object is missing from the store") from exc


def configure(app: FastAPI, settings: Settings, store: ObjectStore | None = None) -> None:
    # libvips' operation cache would serve stale pixels after a reprocess rewrites a file,
    # and repeated renders are the CDN's job; keep memory flat instead.
    import pyvips

    pyvips.cache_set_max(0)
    limit_malloc_arenas()
    app.state.delivery = Delivery(settings, store or open_store(settings))
    app.include_router(router)


def create_app(settings: Settings | None = None, store: ObjectStore | None = None) -> FastAPI:
    app = FastAPI(title="Picsha delivery")
    install_error_handlers(app)
    configure(app, settings or get_settings(), store)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict:
        return {"status": "ok"}

    return app
