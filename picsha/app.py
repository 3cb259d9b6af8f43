"""Ingest API + delivery in one FastAPI app, for `picsha serve`."""

from fastapi import FastAPI
from fastapi.responses import RedirectResponse

import delivery.app
import ingest_worker.http.app
from picsha import ops
from picsha.console import install_console
from picsha.docs import install_docs
from shared import libvips
from shared.errors import install_error_handlers
from shared.middleware import ObservabilityMiddleware
from shared.settings import Settings
from shared.storage import open_store


def create_app(settings: Settings) -> FastAPI:
    app = FastAPI(
        title="Picsha",
        description="Upload anything; serve any size of it.",
        docs_url=None,  # served offline by install_docs
        redoc_url=None,
    )
    install_error_handlers(app)
    app.add_middleware(ObservabilityMiddleware)
    install_docs(app)
    store = open_store(settings)
    ingest_worker.http.app.configure(app, settings, store)
    delivery.app.configure(app, settings, store)
    app.include_router(ops.router)
    install_console(app, settings)

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/console", status_code=307)  # a person's way in

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict:
        return {
            "status": "ok",
            "storage": settings.storage,
            "libvips": libvips.describe(),
            "upload": ingest_worker.http.app.upload_capabilities(settings),
        }

    return app
