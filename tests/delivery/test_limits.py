"""Lambda limits: oversized bodies go to the store and are redirected to; the result store."""

from fastapi.testclient import TestClient

from delivery.app import create_app
from shared import imaging
from tests.helpers import load, make_jpeg


def test_oversized_result_is_stored_and_redirected(settings, store, ingest, tmp_path):
    asset = ingest(make_jpeg(tmp_path / "p.jpg", 1200, 900).read_bytes())
    settings.render_max_body_bytes = 10_000
    client = TestClient(create_app(settings, store))
    r = client.get(f"/render/{asset.id}?wd=1200&fm=png", follow_redirects=False)
    assert r.status_code == 302
    location = r.headers["location"]
    assert location.startswith(f"/renders/{asset.id}/") and location.endswith(".png")
    stored = client.get(location)
    assert stored.status_code == 200 and imaging.sniff_format(stored.content) == "png"
    assert load(stored.content).width == 1200
    assert store.exists(location.lstrip("/"))


def test_result_store_serves_a_second_request_without_rendering(settings, store, ingest, tmp_path):
    asset = ingest(make_jpeg(tmp_path / "p.jpg", 600, 400).read_bytes())
    settings.render_result_store = True
    client = TestClient(create_app(settings, store))
    first = client.get(f"/render/{asset.id}?wd=100&fm=webp")
    assert first.status_code == 200
    keys = list((settings.data_dir / "objects" / "renders" / asset.id).iterdir())
    assert len(keys) == 1
    # Corrupt the stored result: the second answer must come from it, proving no re-render.
    keys[0].write_bytes(b"stored")
    second = client.get(f"/render/{asset.id}?fm=webp&wd=100", follow_redirects=True)
    assert second.content == b"stored"


def test_stored_render_route_rejects_junk_names(client):
    assert client.get("/renders/" + "a" * 21 + "/x.png").status_code == 404
    assert client.get("/renders/" + "a" * 21 + "/..%2Fmanifest.json").status_code == 404
