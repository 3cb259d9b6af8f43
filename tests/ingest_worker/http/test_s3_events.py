"""Presigned uploads: a form straight to S3 (moto's server over HTTP), then the S3 event
enqueues the ingest job, and the worker fills in size and sha256."""

import hashlib
import json
from datetime import timedelta

import httpx
import pytest
from fastapi.testclient import TestClient

from ingest_worker import pipeline
from ingest_worker.http.app import create_app
from ingest_worker.http.s3_events import enqueue_if_presigned, handler, object_key
from ingest_worker.queue.celery_app import make_celery
from ingest_worker.queue.sweeper import sweep
from shared.keys import manifest_key
from shared.manifest import load_manifest
from shared.settings import Settings
from shared.storage import open_store
from tests.helpers import API_KEY, make_jpeg

AUTH = {"x-api-key": API_KEY}


def _record(key: str, message_id: str = "m1") -> dict:
    detail = {"bucket": {"name": "b"}, "object": {"key": key}}
    return {"messageId": message_id, "body": json.dumps({"detail": detail})}


def _queued(settings: Settings) -> int:
    folder = settings.broker_dir / "queue"
    return sum(1 for p in folder.iterdir() if p.is_file()) if folder.is_dir() else 0


@pytest.fixture
def s3_settings(tmp_path, s3_endpoint, s3_bucket):
    return Settings(data_dir=tmp_path / "data", storage="s3", s3_bucket=s3_bucket,
                    s3_endpoint_url=s3_endpoint, api_keys=[API_KEY])  # fmt: skip


def test_presigned_upload_then_event_then_ingest(s3_settings, tmp_path):
    client = TestClient(create_app(s3_settings))
    r = client.post("/v1/assets/presigned", json={"filename": "big.jpg",
                    "pre_render_sizes": True}, headers=AUTH)  # fmt: skip
    assert r.status_code == 201, r.text
    body = r.json()
    asset_id, form = body["id"], body["upload"]
    data = make_jpeg(tmp_path / "big.jpg", 1200, 900).read_bytes()
    sent = httpx.post(form["url"], data=form["fields"], files={"file": ("big.jpg", data)})
    assert sent.status_code in (200, 204), sent.text

    store, celery = open_store(s3_settings), make_celery(s3_settings)
    key = f"assets/{asset_id}/original"
    assert enqueue_if_presigned(key, store, celery)
    assert _queued(s3_settings) == 1
    m = pipeline.process(asset_id, s3_settings, store)
    assert m.status == "ready"
    assert m.source.size == len(data) and m.source.sha256 == hashlib.sha256(data).hexdigest()
    assert set(m.derivatives) >= {"optimized", "thumb"}
    listed = client.get("/v1/assets?order=newest", headers=AUTH).json()["items"]  # S3 listing
    assert [m["id"] for m in listed] == [asset_id]
    # The event of a processed (or API-uploaded) asset enqueues nothing.
    assert not enqueue_if_presigned(key, store, celery)


def test_presigned_form_carries_the_size_limit(s3_settings):
    import base64

    s3_settings.max_upload_bytes = 1000
    client = TestClient(create_app(s3_settings))
    form = client.post("/v1/assets/presigned", json={"filename": "x"}, headers=AUTH).json()
    # S3 enforces the policy's range (moto's server does not, so read the policy itself).
    policy = json.loads(base64.b64decode(form["upload"]["fields"]["policy"]))
    assert ["content-length-range", 1, 1000] in policy["conditions"]


def test_local_mode_says_presigned_needs_s3(settings):
    r = TestClient(create_app(settings)).post(
        "/v1/assets/presigned", json={"filename": "x"}, headers=AUTH
    )
    assert r.status_code == 501 and r.json()["error"]["code"] == "presigned_uploads_need_s3"


def test_handler_reports_only_failed_records(monkeypatch):
    import ingest_worker.http.s3_events as events

    calls: list[str | None] = []

    def fake(key, store, celery):
        calls.append(key)
        if key == "boom":
            raise RuntimeError("broker down")
        return True

    monkeypatch.setattr(events.runtime, "store", lambda: None)
    monkeypatch.setattr(events.runtime, "celery", lambda: None)
    monkeypatch.setattr(events, "enqueue_if_presigned", fake)
    out = handler({"Records": [_record("assets/x/original", "a"), _record("boom", "b")]})
    assert out == {"batchItemFailures": [{"itemIdentifier": "b"}]}
    assert calls == ["assets/x/original", "boom"]
    assert object_key({"body": "{}"}) is None


def _age(store, asset_id: str, seconds: float) -> None:
    """Move the asset's clock back, as if it had been created `seconds` ago."""
    m = load_manifest(store, asset_id)
    m.created_at -= timedelta(seconds=seconds)
    m.updated_at -= timedelta(seconds=seconds)
    store.put_bytes(manifest_key(asset_id), m.to_json())  # bypass save_manifest's timestamp


def test_an_abandoned_upload_fails_after_its_form_expires_and_a_late_one_still_lands(
    s3_settings, tmp_path
):
    s3_settings.stuck_after_seconds, s3_settings.s3_presign_seconds = 60, 3600
    client = TestClient(create_app(s3_settings))
    body = client.post("/v1/assets/presigned", json={"filename": "gone.jpg"}, headers=AUTH).json()
    asset_id, form = body["id"], body["upload"]
    store = open_store(s3_settings)

    def sweep_and_run() -> list[str]:
        enqueued: list[str] = []
        sweep(s3_settings, store, enqueued.append)
        for each in enqueued:
            pipeline.process(each, s3_settings, store)
        return enqueued

    # The browser closed: no bytes. While the form is valid the asset waits.
    _age(store, asset_id, 1800)
    assert sweep_and_run() == []
    assert load_manifest(store, asset_id).status == "queued"
    # Past the form's life (and the sweeper's grace) the job fails it, with a code.
    _age(store, asset_id, 3600)
    assert sweep_and_run() == [asset_id]
    m = load_manifest(store, asset_id)
    assert (m.status, m.error.code) == ("failed", "original_missing")
    assert "presigned upload" in m.error.message
    # The bytes came after all (a slow link): the bucket's event revives the asset.
    data = make_jpeg(tmp_path / "late.jpg", 320, 240).read_bytes()
    sent = httpx.post(form["url"], data=form["fields"], files={"file": ("late.jpg", data)})
    assert sent.status_code in (200, 204), sent.text
    assert enqueue_if_presigned(f"assets/{asset_id}/original", store, make_celery(s3_settings))
    assert _queued(s3_settings) == 1
    m = load_manifest(store, asset_id)  # queued again: the job will not skip it as settled
    assert (m.status, m.error) == ("queued", None)
    m = pipeline.process(asset_id, s3_settings, store)
    assert (m.status, m.error, m.image.width) == ("ready", None, 320)
