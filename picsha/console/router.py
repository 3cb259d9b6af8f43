"""Console routes: the page, sign-in/out, thumbnails, and the API proxy under /console/api.

The page calls `/console/api/v1/...`; the proxy checks the session cookie, adds the
session's `x-api-key` server-side and hands the request to the same app's `/v1` routes.
Every proxied call must carry `x-picsha-console: 1`: a header a cross-site form or image
cannot send, so with the SameSite=Strict cookie it stops cross-site request forgery.
"""

import hmac
import json
import mimetypes
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import FileResponse, RedirectResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from picsha.console.sessions import COOKIE, SessionStore
from shared import signing
from shared.errors import PicshaError
from shared.ids import is_valid_id
from shared.keys import asset_prefix, derivative_key, original_key
from shared.logging import REQUEST_ID_HEADER, request_id_var
from shared.manifest import Manifest, load_manifest
from shared.settings import Settings
from shared.storage import ObjectNotFound
from shared.storage.base import content_disposition

STATIC = Path(__file__).parent / "static"
API_PREFIX = "/console/api"
CONSOLE_HEADER = "x-picsha-console"
# Nothing but this origin: scripts, styles, images, fetches. A second wall behind escaping.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
_OCTETS = "application/octet-stream"
THUMB_RENDER = {"wd": "300", "ht": "300", "fit": "cover", "fm": "webp"}

router = APIRouter(include_in_schema=False)


def _sessions(request: Request) -> SessionStore:
    return request.app.state.console_sessions


def _settings(request: Request) -> Settings:
    return request.app.state.settings


@router.get("/console")
def page() -> FileResponse:
    return FileResponse(STATIC / "index.html", headers=PAGE_HEADERS)


@router.get("/console/")
def page_slash() -> RedirectResponse:
    return RedirectResponse("/console", status_code=308)


@router.post("/console/login")
async def login(request: Request) -> Response:
    form = await request.form(max_files=0, max_fields=4)
    given = str(form.get("api_key") or "").strip()
    keys = _settings(request).api_keys
    if not given or not any(hmac.compare_digest(given.encode(), k.encode()) for k in keys):
        return RedirectResponse("/console#signin-failed", status_code=303)
    response = RedirectResponse("/console", status_code=303)
    response.set_cookie(
        COOKIE,
        _sessions(request).create(given),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/console",
    )
    return response


@router.post("/console/logout")
def logout(request: Request) -> Response:
    _sessions(request).end(request.cookies.get(COOKIE))
    response = RedirectResponse("/console", status_code=303)
    response.delete_cookie(COOKIE, path="/console")
    return response


@router.get("/console/thumb/{asset_id}")
def thumb(asset_id: str, request: Request) -> Response:
    """The stored 150 px thumb.webp when ingest made one, else a render of the same size."""
    if _sessions(request).key_for(request.cookies.get(COOKIE)) is None:
        return Response(status_code=401)
    store = request.app.state.store
    manifest = load_manifest(store, asset_id) if is_valid_id(asset_id) else None
    if manifest is None:
        return Response(status_code=404)
    if "thumb" in manifest.derivatives:
        data = store.get_bytes(derivative_key(asset_id, "thumb"))
        return Response(
            data, media_type="image/webp", headers={"Cache-Control": "private, max-age=300"}
        )
    url = f"/render/{asset_id}?{urlencode(THUMB_RENDER)}"
    key = _settings(request).signing_key
    return RedirectResponse(signing.sign_url(key, url) if key else url, status_code=302)


@router.get("/console/download/{asset_id}/{name}")
def download(asset_id: str, name: str, request: Request) -> Response:
    """The original (`name` = original) or a derivative the manifest lists, as a file to
    save: streamed here in local mode, a presigned redirect in S3 mode."""
    if _sessions(request).key_for(request.cookies.get(COOKIE)) is None:
        raise PicshaError(401, "signed_out", "sign in to the console")
    store = request.app.state.store
    manifest = load_manifest(store, asset_id) if is_valid_id(asset_id) else None
    if manifest is None:
        raise PicshaError(404, "asset_not_found", f"no asset {asset_id!r}")
    key, filename, media = _download_object(manifest, name)
    url = store.presigned_url(key, filename, attachment=True)
    if url:
        return RedirectResponse(url, status_code=302)
    try:
        size = store.size(key)
    except ObjectNotFound as exc:
        raise PicshaError(404, "not_found", f"{name} is not stored (yet)") from exc
    headers = {
        "Content-Disposition": content_disposition(filename, attachment=True),
        "Content-Length": str(size),
        "Cache-Control": "private, no-store",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",  # never a page of ours
    }
    return StreamingResponse(store.iter_chunks(key), media_type=media, headers=headers)


def _download_object(manifest: Manifest, name: str) -> tuple[str, str, str]:
    """(key, name to save as, media type): photo.jpg, photo-proxy.jpg, notes-document.pdf."""
    filename = manifest.source.filename
    if name == "original":
        return original_key(manifest.id), filename, manifest.source.mime or _OCTETS
    derivative = manifest.derivatives.get(name)
    if derivative is None or not derivative.key.startswith(asset_prefix(manifest.id)):
        raise PicshaError(404, "not_found", f"asset {manifest.id} has no {name!r}")
    saved = f"{Path(filename).stem or manifest.id}-{Path(derivative.key).name}"
    return derivative.key, saved, mimetypes.guess_type(derivative.key)[0] or _OCTETS


class ApiProxy:
    """ASGI app at /console/api: session check, then the same app's /v1 with the key."""

    def __init__(self, app: ASGIApp, sessions: SessionStore, settings: Settings) -> None:
        self.app = app
        self.sessions = sessions
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        full = scope["path"]
        rel = full[full.find(API_PREFIX) + len(API_PREFIX) :]
        headers = [(k, v) for k, v in scope["headers"]]
        named = {k.decode("latin-1"): v.decode("latin-1") for k, v in headers}
        if named.get(CONSOLE_HEADER) != "1":
            await _json(send, 403, _error("console_header", f"{CONSOLE_HEADER}: 1 is required"))
            return
        key = self.sessions.key_for(_cookie(named.get("cookie", "")))
        if key is None:
            await _json(send, 401, _error("signed_out", "sign in to the console"))
            return
        if rel == "/session":
            await _json(send, 200, {"signed_in": True, "signing": bool(self.settings.signing_key)})
            return
        if rel == "/sign":
            url = parse_qs(scope.get("query_string", b"").decode()).get("url", [""])[0]
            if not url.startswith("/render/"):
                await _json(send, 400, _error("invalid_request", "url must be a /render path"))
                return
            key_ = self.settings.signing_key
            await _json(send, 200, {"url": signing.sign_url(key_, url) if key_ else url})
            return
        if not rel.startswith("/v1/"):
            await _json(send, 404, _error("not_found", "not a console API route"))
            return
        forwarded = [
            (k, v)
            for k, v in headers
            if k not in (b"cookie", b"x-api-key", REQUEST_ID_HEADER.encode())
        ]
        forwarded.append((b"x-api-key", key.encode()))
        if request_id := request_id_var.get():
            forwarded.append((REQUEST_ID_HEADER.encode(), request_id.encode()))
        inner = {
            **scope,
            "path": rel,
            "raw_path": rel.encode(),
            "root_path": "",
            "headers": forwarded,
        }
        inner.pop("route", None)

        async def send_once(message: Message) -> None:
            if message["type"] == "http.response.start":  # the outer layer adds its own
                message = {
                    **message,
                    "headers": [
                        (k, v)
                        for k, v in message.get("headers", [])
                        if k.lower() != REQUEST_ID_HEADER.encode()
                    ],
                }
            await send(message)

        await self.app(inner, receive, send_once)


def _cookie(header: str) -> str | None:
    jar = SimpleCookie()
    try:
        jar.load(header)
    except Exception:
        return None
    morsel = jar.get(COOKIE)
    return morsel.value if morsel else None


def _error(code: str, message: str) -> dict:
    return {"error": {"code": code, "message": message}}


async def _json(send: Send, status: int, body: dict) -> None:
    data = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(data)).encode()),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})


def install_console(app: FastAPI, settings: Settings) -> None:
    sessions = SessionStore()
    app.state.console_sessions = sessions
    app.mount("/console/static", StaticFiles(directory=STATIC), name="console-static")
    app.mount(API_PREFIX, ApiProxy(app, sessions, settings), name="console-api")
    app.include_router(router)
