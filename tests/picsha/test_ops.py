"""Metrics and logs of a real `picsha serve`: API and worker processes add up in /metrics,
and the request id of an upload reaches the worker's log lines."""

import json
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.helpers import make_jpeg, wait_for

pytestmark = pytest.mark.slow


def scrape(served) -> dict[tuple[str, frozenset], float]:
    text = served.client().get("/metrics").text
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples, name: str, **labels: str) -> float:
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= ls)


def log_events(path) -> list[dict]:
    events = []
    for line in path.read_text().splitlines():
        try:
            events.append(json.loads(line))
        except ValueError:  # a start-up banner, or a line still being written
            continue
    return events


def test_metrics_move_after_upload_and_render(served, tmp_path):
    before = scrape(served)
    client = served.client()
    photo = make_jpeg(tmp_path / "m.jpg", 640, 480)
    with photo.open("rb") as f:
        asset_id = client.post("/v1/assets", files={"file": ("m.jpg", f)}).json()["id"]
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"\0" * 2048)
    with junk.open("rb") as f:
        junk_id = client.post("/v1/assets", files={"file": ("junk.png", f)}).json()["id"]
    assert wait_for(lambda: client.get(f"/v1/assets/{asset_id}").json())["status"] == "ready"
    assert wait_for(lambda: client.get(f"/v1/assets/{junk_id}").json())["status"] == "failed"
    r = client.get(f"/render/{asset_id}?wd=200&fm=webp")
    assert r.status_code == 200
    assert (
        client.get(
            f"/render/{asset_id}?wd=200&fm=webp", headers={"If-None-Match": r.headers["etag"]}
        ).status_code
        == 304
    )
    ingest = {"task": "ingest", "kind": "image", "status": "ready"}
    # The worker records a task's metrics just after it writes the manifest: poll a little.
    for _ in range(100):
        after = scrape(served)
        if value(after, "picsha_ingest_task_seconds_count", **ingest) > value(
            before, "picsha_ingest_task_seconds_count", **ingest
        ) and value(after, "picsha_ingest_failures_total") > value(
            before, "picsha_ingest_failures_total"
        ):
            break
        time.sleep(0.1)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("picsha_http_requests_total", route="/v1/assets", status="202") == 2
    assert moved("picsha_render_seconds_count", operation="inside", format="webp") == 1
    assert moved("picsha_render_cache_total", result="not_modified") == 1
    assert moved("picsha_http_response_bytes_total", route="/render/{asset_id}") >= len(r.content)
    # Recorded in the worker process, through Celery signals.
    assert moved("picsha_ingest_task_seconds_count", **ingest) == 1
    assert moved("picsha_ingest_failures_total", code="unsupported_type") == 1
    assert value(after, "picsha_worker_processes") >= 1
    assert 0 <= value(after, "picsha_worker_busy_ratio") <= 1
    assert ("picsha_queue_depth", frozenset()) in after


def test_request_id_reaches_the_worker_log(served, tmp_path):
    client = served.client()
    photo = make_jpeg(tmp_path / "r.jpg", 64, 64)
    with photo.open("rb") as f:
        r = client.post(
            "/v1/assets", files={"file": ("r.jpg", f)}, headers={"x-request-id": "trace-me-42"}
        )
    assert r.headers["x-request-id"] == "trace-me-42"
    asset_id = r.json()["id"]
    wait_for(lambda: client.get(f"/v1/assets/{asset_id}").json())
    for _ in range(100):  # the worker logs "task finished" just after writing the manifest
        events = log_events(served.log)
        if any(e.get("msg") == "task finished" and e.get("asset_id") == asset_id for e in events):
            break
        time.sleep(0.1)
    mine = [e for e in events if e.get("request_id") == "trace-me-42"]
    loggers = {e["logger"] for e in mine}
    assert "picsha.access" in loggers  # the API's access line
    worker = [e for e in mine if e["logger"] == "picsha.worker"]
    assert worker and all(e["asset_id"] == asset_id and e["stage"] for e in worker)
    assert any(e.get("status") == "ready" for e in worker)
