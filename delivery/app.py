"""The delivery app: `/render/{id}` on the fly, `/original/{id}` for the untouched upload."""

from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import RedirectResponse, StreamingResponse

from delivery import caching, negotiate, source, transform
from delivery.params import RenderParams, parse
from shared import imaging
from shared.errors import PicshaError, install_error_handlers
from shared.ids import is_valid_id
from shared.keys import original_key
from shared.manifest import Manifest, load_manifest
from shared.settings import Settings, get_settings
from shared.storage import ObjectStore, open_store

router = APIRouter(tags=["delivery"])


def _state(request: Request) -> tuple[Settings, ObjectStore]:
    return request.app.state.delivery_settings, request.app.state.delivery_store


def _manifest(store: ObjectStore, asset_id: str) -> Manifest:
    manifest = load_manifest(store, asset_id) if is_valid_id(asset_id) else None
    if manifest is None:
        raise PicshaError(404, "asset_not_found", f"no asset {asset_id!r}")
    return manifest


def _params(request: Request) -> RenderParams:
    """Validated render parameters (declared here so OpenAPI lists them with their ranges)."""
    return parse(request.query_params.multi_items())


@router.get(
    "/render/{asset_id}",
    responses={200: {"content": {m: {} for m in imaging.MIME_BY_FORMAT.values()}}},
    openapi_extra={
        "parameters": [
            {
                "name": name,
                "in": "query",
                "required": False,
                "description": field.description,
                "schema": RenderParams.model_json_schema()["properties"][name],
            }
            for name, field in RenderParams.model_fields.items()
        ]
    },
)
def render(
    asset_id: str, request: Request, params: Annotated[RenderParams, Depends(_params)]
) -> Response:
    settings, store = _state(request)
    manifest = _manifest(store, asset_id)
    if not params.is_transform:
        return RedirectResponse(f"/original/{asset_id}", status_code=302)
    src = source.choose(manifest)
    geometry = transform.target_geometry(params, src, settings)

    fmt = params.fm
    vary = {}
    if fmt == "auto":
        has_alpha = bool(manifest.image and manifest.image.has_alpha)
        fmt = negotiate.pick_format(request.headers.get("accept"), has_alpha)
        vary = {"Vary": "Accept"}
    elif fmt is None:
        fmt = _default_format(manifest)

    etag = caching.etag_for(manifest.version, params.canonical(), fmt)
    headers = {"ETag": etag, "Cache-Control": settings.cache_control, **vary}
    if caching.not_modified(request, etag):
        return Response(status_code=304, headers=headers)

    local = store.local_path(src.key)
    data = local if local is not None else store.get_bytes(src.key)
    try:
        image = transform.render(data, src, params, geometry)
        body = imaging.encode(image, fmt, params.q, transform.background_rgb(params))
    except imaging.ImageDecodeError as exc:
        raise PicshaError(422, "render_failed", f"cannot render this asset: {exc}") from exc
    return Response(body, media_type=imaging.MIME_BY_FORMAT[fmt], headers=headers)


def _default_format(manifest: Manifest) -> imaging.OutputFormat:
    """Keep the source's format when it is web-native; else JPEG (PNG with alpha)."""
    mime = manifest.source.mime or ""
    for fmt, fmt_mime in imaging.MIME_BY_FORMAT.items():
        if mime == fmt_mime and manifest.kind == "image":
            return fmt  # type: ignore[return-value]
    return "png" if manifest.image and manifest.image.has_alpha else "jpeg"


@router.get("/original/{asset_id}")
def original(asset_id: str, request: Request) -> Response:
    """The uploaded bytes: a presigned redirect in S3 mode, streamed in local mode."""
    settings, store = _state(request)
    manifest = _manifest(store, asset_id)
    key = original_key(asset_id)
    url = store.presigned_url(key, manifest.source.filename)
    if url:
        return RedirectResponse(url, status_code=302)
    media_type = manifest.source.mime or "application/octet-stream"
    headers = {
        "Cache-Control": settings.cache_control,
        "ETag": f'"{manifest.source.sha256}"',
        "Content-Length": str(manifest.source.size),
        "X-Content-Type-Options": "nosniff",
        # Never let a browser run an uploaded HTML/SVG as a page of this origin.
        "Content-Security-Policy": "default-src 'none'; sandbox",
    }
    if caching.not_modified(request, headers["ETag"]):
        return Response(status_code=304, headers=headers)
    return StreamingResponse(store.iter_chunks(key), media_type=media_type, headers=headers)


def configure(app: FastAPI, settings: Settings, store: ObjectStore | None = None) -> None:
    # libvips' operation cache would serve stale pixels after a reprocess rewrites a file,
    # and repeated renders are the CDN's job; keep memory flat instead.
    import pyvips

    pyvips.cache_set_max(0)
    app.state.delivery_settings = settings
    app.state.delivery_store = store or open_store(settings)
    app.include_router(router)


def create_app(settings: Settings | None = None, store: ObjectStore | None = None) -> FastAPI:
    app = FastAPI(title="Picsha delivery")
    install_error_handlers(app)
    configure(app, settings or get_settings(), store)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict:
        return {"status": "ok"}

    return app
