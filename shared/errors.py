"""One error type and one JSON error shape for every HTTP surface: {error: {code, message}}."""

import errno
import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.logging import REQUEST_ID_HEADER, accept_request_id, log_context, request_id_var

log = logging.getLogger(__name__)


class PicshaError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers


def error_response(status: int, code: str, message: str, headers: dict | None = None):
    return JSONResponse(
        {"error": {"code": code, "message": message}}, status_code=status, headers=headers
    )


class UnexpectedErrorMiddleware:
    """Any exception no handler took becomes a JSON 500 here, and goes no further.

    Starlette's own last resort (ServerErrorMiddleware, which runs an `Exception` handler)
    sends its response and then re-raises, for the server to log; uvicorn then closes the
    connection without `Connection: close`, and a keep-alive client's next request on it
    is reset. Answering here, inside that middleware, ends the request normally. Once a
    response has started there is nothing left to answer with: the exception goes on and
    the server drops the connection, which is all a half-sent body can get.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_wrapper(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception:
            # ObservabilityMiddleware, outside this one, has set the id; alone, take the
            # caller's or mint one, so the log line and the answer share it.
            headers = dict(scope.get("headers") or [])
            given = headers.get(REQUEST_ID_HEADER.encode(), b"").decode("latin-1")
            request_id = request_id_var.get() or accept_request_id(given)
            with log_context(request_id=request_id):
                if started:
                    log.exception("error after the response started on %s", scope["path"])
                    raise
                log.exception("unhandled error on %s", scope["path"])
            response = error_response(
                500, "internal_error", f"internal error (request id {request_id})"
            )
            await response(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    """The JSON error handlers, and the last-resort 500 (install before outer middleware,
    e.g. ObservabilityMiddleware, so its request id and access log cover the 500 too)."""
    app.add_middleware(UnexpectedErrorMiddleware)

    @app.exception_handler(PicshaError)
    async def _picsha(_: Request, exc: PicshaError):
        return error_response(exc.status, exc.code, exc.message, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("query", "body"))
        message = f"{where}: {first.get('msg', 'invalid request')}" if where else "invalid request"
        return error_response(400, "invalid_request", message)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException):
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return error_response(exc.status_code, code, str(exc.detail), exc.headers)

    @app.exception_handler(OSError)
    async def _os(_: Request, exc: OSError):
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            # Disk or quota full: the client may retry later; nothing was kept half-written.
            return error_response(
                507, "insufficient_storage", "storage is full; retry later", {"Retry-After": "60"}
            )
        raise exc  # any other OS error: the one 500 of UnexpectedErrorMiddleware
