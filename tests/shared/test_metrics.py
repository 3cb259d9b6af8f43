"""HTTP metrics and request ids from the middleware, on a real app in-process."""

import httpx
from fastapi import FastAPI, Response
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from shared import metrics
from shared.logging import stage_var
from shared.middleware import ObservabilityMiddleware
from tests.helpers import free_port


def sample(name: str, **labels: str) -> float:
    body, _ = metrics.exposition()
    for family in text_string_to_metric_families(body.decode()):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    return 0.0


def make_app() -> FastAPI:
    app = FastAPI()
    app.add_middleware(ObservabilityMiddleware)

    @app.get("/things/{thing_id}")
    def thing(thing_id: str) -> dict:
        return {"id": thing_id}

    @app.get("/render/{asset_id}")
    def render(asset_id: str, fm: str = "webp") -> Response:
        return Response(b"x" * 100, media_type=f"image/{fm}")

    return app


def test_requests_counted_by_route_template_and_status():
    client = TestClient(make_app())
    labels = {"route": "/things/{thing_id}", "method": "GET", "status": "200"}
    before = sample("picsha_http_requests_total", **labels)
    bytes_before = sample("picsha_http_response_bytes_total", route="/things/{thing_id}")
    client.get("/things/a")
    client.get("/things/b")
    client.get("/nowhere")
    assert sample("picsha_http_requests_total", **labels) == before + 2
    assert sample("picsha_http_response_bytes_total", route="/things/{thing_id}") > bytes_before
    assert sample("picsha_http_requests_total", route="unmatched", status="404") >= 1


def test_render_latency_by_operation_and_format():
    client = TestClient(make_app())
    labels = {"operation": "cover", "format": "avif"}
    before = sample("picsha_render_seconds_count", **labels)
    client.get("/render/x?fm=avif&crop=true")
    client.get("/render/x?fm=avif&fit=cover")
    assert sample("picsha_render_seconds_count", **labels) == before + 2


def test_request_id_echoed_or_minted():
    client = TestClient(make_app())
    assert client.get("/things/a", headers={"x-request-id": "abc"}).headers["x-request-id"] == "abc"
    minted = client.get("/things/a").headers["x-request-id"]
    assert len(minted) == 16


def test_scrape_time_probes_and_a_failing_probe():
    def broken() -> float:
        raise RuntimeError("probe down")

    body, content_type = metrics.exposition(
        [("picsha_test_depth", "d", lambda: 7.0), ("picsha_test_broken", "b", broken)]
    )
    text = body.decode()
    assert content_type.startswith("text/plain")
    assert "picsha_test_depth 7.0" in text
    assert "picsha_test_broken" not in text
    assert "picsha_libvips_memory_bytes" in text


def test_worker_metrics_port_serves_the_exposition():
    port = free_port()
    metrics.serve_http(port, "127.0.0.1")
    text = httpx.get(f"http://127.0.0.1:{port}/metrics").text
    assert "picsha_worker_busy" in text


def test_observe_stage_times_and_tags_logs():
    before = sample("picsha_ingest_stage_seconds_count", stage="metadata", kind="image")
    with metrics.observe_stage("metadata", "image"):
        assert stage_var.get() == "metadata"
    assert stage_var.get() is None
    assert sample("picsha_ingest_stage_seconds_count", stage="metadata", kind="image") == before + 1
