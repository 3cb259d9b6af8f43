"""/healthz tells clients how to upload (read by picsha.uploader.presigned_above)."""

from fastapi.testclient import TestClient

from ingest_worker.http.app import create_app
from picsha.uploader import presigned_above


def test_healthz_says_a_plain_server_takes_every_upload_in_the_request(settings):
    health = TestClient(create_app(settings)).get("/healthz").json()
    assert health["upload"] == {"presigned": False, "max_body_bytes": None}
    assert presigned_above(health) is None


def test_healthz_says_a_gateway_server_wants_large_uploads_presigned(settings):
    settings.presigned_uploads, settings.max_body_bytes = True, 4_000_000
    health = TestClient(create_app(settings)).get("/healthz").json()
    assert health["upload"] == {"presigned": True, "max_body_bytes": 4_000_000}
    assert presigned_above(health) == 4_000_000
