"""`/metrics` for the combined app, with the probes only the composition root can make."""

from collections.abc import Callable

from fastapi import APIRouter, Request, Response

from ingest_worker.queue.celery_app import INGEST_QUEUE
from shared import metrics
from shared.settings import Settings

router = APIRouter(tags=["ops"])

_METRICS_EXAMPLE = (
    "# HELP picsha_http_requests_total HTTP requests by route template, method and status\n"
    "# TYPE picsha_http_requests_total counter\n"
    'picsha_http_requests_total{method="GET",route="/render/{asset_id}",status="200"} 42.0\n'
)


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"example": _METRICS_EXAMPLE}}}},
)
def prometheus_metrics(request: Request) -> Response:
    """Prometheus text format: HTTP, render, ingest (all worker processes) and queue depth."""
    settings: Settings = request.app.state.settings
    probes = [("picsha_queue_depth", "Ingest messages waiting in the broker",
               queue_depth_probe(settings))]  # fmt: skip
    body, content_type = metrics.exposition(probes)
    return Response(body, media_type=content_type)


def queue_depth_probe(settings: Settings) -> Callable[[], float | None]:
    if settings.embedded_broker:
        queue_dir = settings.broker_dir / "queue"
        return lambda: float(sum(1 for _ in queue_dir.glob(f"*.{INGEST_QUEUE}.msg")))

    def redis_depth() -> float | None:
        if not settings.broker_url.startswith(("redis://", "rediss://")):
            return None
        import redis

        client = redis.Redis.from_url(settings.broker_url, socket_timeout=1)
        try:
            return float(client.llen(INGEST_QUEUE))
        finally:
            client.close()

    return redis_depth
