"""API docs that work offline: Swagger UI and ReDoc assets served from an installed package.

FastAPI's default `/docs` page loads its JavaScript and CSS from a CDN. `fastapi-offline`
ships the same Swagger UI (5.x, which reads OpenAPI 3.1) and ReDoc bundles; they are
mounted under `/docs-assets` and the pages point there. Examples are merged into the
generated schema from picsha/openapi_examples.py, one table for every route.
"""

from importlib.resources import files
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from picsha.openapi_examples import ERROR_EXAMPLE, EXAMPLES, PARAMETER_EXAMPLES

ASSETS_URL = "/docs-assets"


def install_docs(app: FastAPI) -> None:
    """Serve /docs and /redoc from local assets; the app must be made with docs_url=None."""
    static = files("fastapi_offline") / "static"
    app.mount(ASSETS_URL, StaticFiles(directory=str(static)), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def swagger() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} - API docs",
            swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_URL}/favicon.png",
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} - API reference",
            redoc_js_url=f"{ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{ASSETS_URL}/favicon.png",
            with_google_fonts=False,
        )

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            add_examples(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def add_examples(schema: dict[str, Any]) -> None:
    """Merge the example table into the generated schema (the routes stay example-free)."""
    for path, methods in schema.get("paths", {}).items():
        for method, operation in methods.items():
            for status, example in EXAMPLES.get((method.upper(), path), {}).items():
                response = operation.setdefault("responses", {}).setdefault(
                    str(status), {"description": _describe(status)}
                )
                media = "application/json" if not isinstance(example, str) else "text/plain"
                if isinstance(example, tuple):  # (media type, example)
                    media, example = example
                if example is None:  # a response with no body (204, 302)
                    continue
                content = response.setdefault("content", {}).setdefault(media, {})
                content["example"] = example
            for param in operation.get("parameters", []):
                name = param["name"]
                example = PARAMETER_EXAMPLES.get((path, name), PARAMETER_EXAMPLES.get(name))
                if example is not None:
                    param["example"] = example
            if str(401) not in operation.get("responses", {}) and path.startswith("/v1"):
                operation["responses"]["401"] = {
                    "description": "missing or wrong x-api-key",
                    "content": {"application/json": {"example": ERROR_EXAMPLE(
                        "unauthorized", "a valid x-api-key header is required")}},
                }  # fmt: skip
    # The API key header, so "Authorize" in Swagger UI fills x-api-key.
    components = schema.setdefault("components", {})
    components.setdefault("securitySchemes", {})["apiKey"] = {
        "type": "apiKey",
        "in": "header",
        "name": "x-api-key",
    }
    for path, methods in schema.get("paths", {}).items():
        if path.startswith("/v1"):
            for operation in methods.values():
                operation.setdefault("security", [{"apiKey": []}])


def _describe(status: int) -> str:
    return {200: "OK", 202: "Accepted", 204: "No content", 302: "Redirect", 304: "Not modified",
            400: "Bad request", 401: "Unauthorized", 404: "Not found", 409: "Conflict",
            413: "Too large", 422: "Cannot process",
            503: "Unavailable, retry later"}.get(status, "Response")  # fmt: skip
