"""The ingest and search API (`/v1`): one app on its own (Lambda, `uvicorn`) or its routes
and state attached to the combined app of `picsha serve`."""

from fastapi import FastAPI

from ingest_worker.http import assets, search
from ingest_worker.http.auth import ensure_api_keys
from ingest_worker.http.idempotency import IdempotencyKeys
from ingest_worker.queue.celery_app import make_celery
from shared.errors import install_error_handlers
from shared.middleware import ObservabilityMiddleware
from shared.settings import Settings, get_settings
from shared.storage import ObjectStore, open_store


def configure(app: FastAPI, settings: Settings, store: ObjectStore | None = None) -> None:
    """Attach the ingest API's state (read by http/deps.py) and routes to an app."""
    ensure_api_keys(settings)
    app.state.settings = settings
    app.state.store = store or open_store(settings)
    app.state.celery = make_celery(settings)
    app.state.idempotency_keys = IdempotencyKeys(settings, app.state.store)
    app.include_router(assets.router)
    app.include_router(search.router)


def upload_capabilities(settings: Settings) -> dict:
    """The `upload` part of /healthz, read by clients to choose presigned uploads."""
    return {"presigned": settings.presigned_uploads, "max_body_bytes": settings.max_body_bytes}


def create_app(settings: Settings | None = None) -> FastAPI:
    app = FastAPI(title="Picsha ingest API")
    install_error_handlers(app)
    app.add_middleware(ObservabilityMiddleware)  # request id, access log, HTTP metrics
    settings = settings or get_settings()
    configure(app, settings)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict:
        return {"status": "ok", "upload": upload_capabilities(settings)}

    return app
