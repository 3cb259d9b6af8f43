"""One ASGI middleware for the operational surface of every request.

- request id: taken from `x-request-id` (or minted), set in the log context, echoed back;
- one JSON access-log line per request;
- HTTP metrics by route *template* (bounded label values), bytes out, and render latency
  by operation and format, read from the request and response so the render code itself
  carries no metrics calls.
"""

import logging
import time
from urllib.parse import parse_qsl

from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared import metrics
from shared.logging import REQUEST_ID_HEADER, accept_request_id, log_context

log = logging.getLogger("picsha.access")

_RENDER_ROUTE = "/render/{asset_id}"
# Endpoints polled by machines: metered, but not worth an access-log line each.
_QUIET = {"/healthz", "/metrics"}


class ObservabilityMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        request_id = accept_request_id(headers.get(REQUEST_ID_HEADER.encode(), b"").decode())
        started = time.perf_counter()
        status = 500
        content_type = ""
        sent = 0

        async def send_wrapper(message: Message) -> None:
            nonlocal status, content_type, sent
            if message["type"] == "http.response.start":
                status = message["status"]
                raw = list(message.get("headers", []))
                raw.append((REQUEST_ID_HEADER.encode(), request_id.encode()))
                message = {**message, "headers": raw}
                content_type = dict(raw).get(b"content-type", b"").decode("latin-1")
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        with log_context(request_id=request_id):
            try:
                await self.app(scope, receive, send_wrapper)
            finally:
                seconds = time.perf_counter() - started
                route = _route_template(scope)
                self._observe(scope, route, status, content_type, sent, seconds)
                if route not in _QUIET:
                    log.info(
                        "%s %s %s",
                        scope["method"],
                        scope["path"],
                        status,
                        extra={"route": route, "status": status, "bytes": sent,
                               "ms": round(seconds * 1000, 1)},
                    )  # fmt: skip

    @staticmethod
    def _observe(
        scope: Scope, route: str, status: int, content_type: str, sent: int, seconds: float
    ) -> None:
        metrics.HTTP_REQUESTS.labels(route, scope["method"], str(status)).inc()
        metrics.HTTP_SECONDS.labels(route).observe(seconds)
        metrics.HTTP_BYTES_OUT.labels(route).inc(sent)
        if route != _RENDER_ROUTE:
            return
        if status == 304:
            metrics.RENDER_CACHE.labels("not_modified").inc()
        elif status == 200 and content_type.startswith("image/"):
            metrics.RENDER_CACHE.labels("miss").inc()
            fmt = content_type.split(";")[0].removeprefix("image/")
            metrics.RENDER_SECONDS.labels(_operation(scope), fmt).observe(seconds)


def _route_template(scope: Scope) -> str:
    """`/render/{asset_id}`, not the concrete path: one label value per route."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if path is not None:
        return path if path.startswith("/") else "/" + path
    # Mounts (static files) do not record themselves in the scope; match their prefix.
    for candidate in getattr(scope.get("app"), "routes", ()):
        prefix = getattr(candidate, "path", "")
        if isinstance(candidate, Mount) and prefix and scope["path"].startswith(prefix + "/"):
            return prefix
    return "unmatched"


def _operation(scope: Scope) -> str:
    """The resize mode asked for; only called on 200s, where the params were valid."""
    query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
    if query.get("crop", "").lower() in ("true", "1", "yes"):
        return "cover"
    return query.get("fit", "inside").lower()
