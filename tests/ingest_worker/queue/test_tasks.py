"""The Celery tasks, called in-process with embedded-mode settings (real lock files, real
pipeline): a duplicate job leaves a settled asset alone."""

import pytest

from ingest_worker import runtime
from ingest_worker.queue import tasks
from shared.ids import new_id
from shared.keys import original_key
from shared.manifest import Manifest, Source, load_manifest, save_manifest
from shared.settings import get_settings
from shared.storage import open_store
from tests.helpers import make_jpeg


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("PICSHA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PICSHA_ANALYSIS_ENABLED", "false")  # no analysis job to send
    runtime.reset()  # the store and settings of this environment, not an earlier test's
    yield open_store(get_settings())
    runtime.reset()


def _queued(store, tmp_path) -> str:
    asset_id = new_id()
    data = make_jpeg(tmp_path / "a.jpg", 64, 48).read_bytes()
    store.put_bytes(original_key(asset_id), data)
    save_manifest(store, Manifest(id=asset_id, source=Source(filename="a.jpg", size=1, sha256="0")))
    return asset_id


def test_a_duplicate_job_leaves_a_ready_asset_alone_and_a_reprocess_runs(store, tmp_path):
    asset_id = _queued(store, tmp_path)
    assert tasks.ingest_asset.run(asset_id) == "ready"
    first = load_manifest(store, asset_id)
    assert first.attempts == 1

    # The same job again (the sweeper's copy, an S3 event delivered twice): nothing runs.
    assert tasks.ingest_asset.run(asset_id) == "ready"
    again = load_manifest(store, asset_id)
    assert (again.attempts, again.updated_at) == (1, first.updated_at)

    # A reprocess asks for work by setting `queued` first: that job runs.
    again.status = "queued"
    save_manifest(store, again)
    assert tasks.ingest_asset.run(asset_id) == "ready"
    assert load_manifest(store, asset_id).attempts == 2
