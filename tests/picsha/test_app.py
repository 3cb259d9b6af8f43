"""The combined app of `picsha serve`."""

from fastapi.testclient import TestClient

from picsha.app import create_app
from shared.settings import Settings


def test_healthz_reports_upload_capabilities_from_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("PICSHA_PRESIGNED_UPLOADS", "true")
    monkeypatch.setenv("PICSHA_MAX_BODY_BYTES", "4000000")
    settings = Settings(data_dir=tmp_path / "data", api_keys=["k"])
    health = TestClient(create_app(settings)).get("/healthz").json()
    assert health["status"] == "ok" and health["storage"] == "local"
    assert health["upload"] == {"presigned": True, "max_body_bytes": 4_000_000}
