"""The analysis queue end to end: a real Celery worker (embedded broker) consuming
`ingest,analysis` as `picsha serve` runs it; upload → ready → analysed → searchable."""

import importlib.util
import io

import pytest
from fastapi.testclient import TestClient

from ingest_worker.http.app import create_app
from picsha.worker import start_worker, stop_worker
from tests.helpers import API_KEY, wait_for
from tests.helpers_ai import skimage_jpeg

pytestmark = pytest.mark.slow
AUTH = {"x-api-key": API_KEY}
HAS_AI = importlib.util.find_spec("torch") is not None


def _analysed(client, asset_id):
    def get():
        m = client.get(f"/v1/assets/{asset_id}", headers=AUTH).json()
        if m.get("analysis") and m["analysis"].get("status"):
            return {**m, "status": "ready"}
        if m["status"] == "failed":
            return m
        return None

    return get


def test_upload_is_analysed_on_its_own_queue_and_found_by_search(settings):
    client = TestClient(create_app(settings))
    worker = start_worker(settings, concurrency=1, loglevel="WARNING")
    try:
        files = {"file": ("IMG_0001.jpg", io.BytesIO(skimage_jpeg("chelsea")), "image/jpeg")}
        asset_id = client.post("/v1/assets", files=files, headers=AUTH).json()["id"]
        ready = wait_for(lambda: client.get(f"/v1/assets/{asset_id}", headers=AUTH).json(), 120)
        assert ready["status"] == "ready"
        # Searchable by name as soon as it is ready, before any model has run.
        hits = client.get("/v1/search", params={"q": "img_0001"}, headers=AUTH).json()["items"]
        assert [h["id"] for h in hits] == [asset_id]
        m = wait_for(_analysed(client, asset_id), 300)
        analysis = m["analysis"]
        if HAS_AI:
            assert analysis["status"] == "done", analysis
            hits = client.get("/v1/search", params={"q": "cat"}, headers=AUTH).json()["items"]
            assert hits and hits[0]["id"] == asset_id and "labels" in hits[0]["matched"]
        else:
            assert analysis["status"] == "skipped" and ".[ai]" in analysis["reason"]
        assert client.delete(f"/v1/assets/{asset_id}", headers=AUTH).status_code == 204
        hits = client.get("/v1/search", params={"q": "img_0001"}, headers=AUTH).json()["items"]
        assert hits == []
    finally:
        stop_worker(worker)
