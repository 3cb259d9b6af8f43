"""The sweeper re-enqueues lost jobs and fails assets that never finish."""

from datetime import timedelta

from ingest_worker.queue.sweeper import sweep
from shared.ids import new_id
from shared.keys import manifest_key
from shared.manifest import Manifest, Source, load_manifest, utcnow


def _asset(store, status: str, age_s: float, attempts: int = 0) -> str:
    m = Manifest(id=new_id(), status=status, attempts=attempts,
                 source=Source(filename="x", size=1, sha256="0" * 64))  # fmt: skip
    m.updated_at = utcnow() - timedelta(seconds=age_s)
    store.put_bytes(manifest_key(m.id), m.to_json())  # bypass save_manifest's timestamp
    return m.id


def test_sweeps_only_stuck_assets(settings, store):
    settings.stuck_after_seconds, settings.max_attempts = 60, 3
    fresh = _asset(store, "processing", 5)
    lost = _asset(store, "queued", 600)
    slow_twice = _asset(store, "processing", 600, attempts=2)
    hopeless = _asset(store, "processing", 600, attempts=3)
    done = _asset(store, "ready", 6000)
    enqueued: list[str] = []
    report = sweep(settings, store, enqueued.append)
    assert report.checked == 5
    assert sorted(enqueued) == sorted([lost, slow_twice])
    assert report.failed == [hopeless]
    m = load_manifest(store, hopeless)
    assert m.status == "failed" and m.error.code == "stuck" and m.error.stage == "sweeper"
    assert load_manifest(store, fresh).status == "processing"
    assert load_manifest(store, done).status == "ready"
    assert load_manifest(store, lost).status == "queued"  # re-enqueue writes nothing
