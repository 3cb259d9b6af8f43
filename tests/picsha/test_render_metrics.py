"""Render metrics on the combined app in-process: latency by format, cache outcomes."""

from fastapi.testclient import TestClient

from ingest_worker import pipeline
from picsha.app import create_app
from shared.ids import new_id
from shared.keys import original_key
from shared.manifest import Manifest, Source, save_manifest
from shared.storage import open_store
from tests.helpers import make_jpeg
from tests.shared.test_metrics import sample


def test_result_store_hits_and_etag_revalidations_are_counted(settings, tmp_path):
    settings.render_result_store = True
    app = create_app(settings)
    store = open_store(settings)
    data = make_jpeg(tmp_path / "p.jpg", 300, 200).read_bytes()
    asset_id = new_id()
    store.put_bytes(original_key(asset_id), data)
    save_manifest(
        store,
        Manifest(id=asset_id, source=Source(filename="p.jpg", size=len(data), sha256="0" * 64)),
    )
    pipeline.process(asset_id, settings, store)
    client = TestClient(app)
    before = {
        r: sample("picsha_render_cache_total", result=r) for r in ("miss", "result", "not_modified")
    }
    first = client.get(f"/render/{asset_id}?wd=64&fm=png")
    assert first.status_code == 200
    again = client.get(f"/render/{asset_id}?wd=64&fm=png", follow_redirects=False)
    assert again.status_code == 302  # the stored result
    client.get(f"/render/{asset_id}?wd=64&fm=png", headers={"If-None-Match": first.headers["etag"]})
    after = {r: sample("picsha_render_cache_total", result=r) for r in before}
    assert {r: after[r] - before[r] for r in before} == {"miss": 1, "result": 1, "not_modified": 1}
    assert sample("picsha_render_seconds_count", operation="inside", format="png") >= 1
