"""Nothing lost under faults: real Redis, real worker processes, real S3 server behind a
flaky proxy. Run alone with `pytest -m faults`."""

import contextlib
import os
import random
import signal
import subprocess
import time

import boto3
import pytest
from fastapi.testclient import TestClient

from ingest_worker.http import sha256_index
from ingest_worker.http.app import create_app
from ingest_worker.queue.celery_app import INGEST_TASK, make_celery
from ingest_worker.queue.sweeper import sweep
from shared import newest
from shared.keys import ASSETS_PREFIX
from shared.manifest import load_manifest
from shared.settings import Settings
from shared.storage import open_store
from tests.faults import FlakyS3Proxy, pool_children, start_worker, stop
from tests.helpers import API_KEY, make_jpeg

pytestmark = [pytest.mark.slow, pytest.mark.faults]
AUTH = {"x-api-key": API_KEY}


def _env(settings: Settings) -> dict[str, str]:
    env = {
        "PICSHA_DATA_DIR": str(settings.data_dir),
        "PICSHA_BROKER_URL": settings.broker_url,
        "PICSHA_STORAGE": settings.storage,
        "PICSHA_API_KEYS": API_KEY,
        "PICSHA_ASSET_LOCK_SECONDS": str(settings.asset_lock_seconds),
    }
    if settings.storage == "s3":
        env |= {"PICSHA_S3_BUCKET": settings.s3_bucket or "",
                "PICSHA_S3_ENDPOINT_URL": settings.s3_endpoint_url or ""}  # fmt: skip
    return env


def _upload_batch(client: TestClient, tmp_path, n: int, side: int = 1600) -> list[str]:
    ids = []
    for i in range(n):
        data = make_jpeg(tmp_path / f"{i}.jpg", side, side * 3 // 4).read_bytes()
        r = client.post("/v1/assets", files={"file": (f"{i}.jpg", data, "image/jpeg")},
                        data={"pre_render_sizes": "true"}, headers=AUTH)  # fmt: skip
        assert r.status_code == 202, r.text
        ids.append(r.json()["id"])
    return ids


def _wait_all(store, ids: list[str], timeout: float = 180) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    states: dict[str, str] = {}
    while time.monotonic() < deadline:
        states = {i: load_manifest(store, i).status for i in ids}
        if all(s in ("ready", "failed") for s in states.values()):
            return states
        time.sleep(0.25)
    return states


def _assert_consistent(store, ids: list[str]) -> None:
    """Every asset ready, no extra assets, every referenced derivative really there."""
    assert sorted(store.list_children(ASSETS_PREFIX, None, 10_000)) == sorted(ids)
    for asset_id in ids:
        m = load_manifest(store, asset_id)
        assert m.status == "ready", (asset_id, m.status, m.error)
        assert set(m.derivatives) >= {"optimized", "thumb"}
        for d in m.derivatives.values():
            assert store.size(d.key) == d.bytes, d.key


def test_kill_minus_nine_workers_mid_batch_loses_nothing(tmp_path, redis_proc):
    settings = Settings(data_dir=tmp_path / "data", broker_url=redis_proc.url,
                        api_keys=[API_KEY], asset_lock_seconds=3)  # fmt: skip
    client = TestClient(create_app(settings))
    worker = start_worker(_env(settings), concurrency=2, log=tmp_path / "worker.log")
    try:
        ids = _upload_batch(client, tmp_path, 50)
        store = open_store(settings)
        rng = random.Random(3)
        kills = 0
        deadline = time.monotonic() + 120
        while kills < 10 and time.monotonic() < deadline:
            time.sleep(rng.uniform(0.2, 0.6))
            children = pool_children(worker.pid)
            if children:
                os.kill(rng.choice(children), signal.SIGKILL)
                kills += 1
        assert kills == 10
        assert worker.poll() is None  # the main worker process replaces its children
        states = _wait_all(store, ids)
        assert list(states.values()).count("ready") == 50, states
        _assert_consistent(store, ids)
        print(f"\nkills={kills} assets=50 ready={list(states.values()).count('ready')}")
    finally:
        stop(worker)


def test_embedded_broker_worker_killed_mid_batch_loses_nothing(tmp_path):
    """Embedded mode (filesystem broker, no sweeper running): kill -9 the whole worker
    mid-batch and start another, as `picsha serve` does. The jobs it had taken come back
    from its in-flight folder, so every asset ends ready without waiting 15 min for the
    sweeper (before: the taken messages were gone)."""
    settings = Settings(data_dir=tmp_path / "data", api_keys=[API_KEY])
    client = TestClient(create_app(settings))
    log = tmp_path / "worker.log"
    worker = start_worker(_env(settings), concurrency=2, log=log)
    store = open_store(settings)
    try:
        ids = _upload_batch(client, tmp_path, 20)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # kill once it is busy and some are done
            done = sum(load_manifest(store, i).status == "ready" for i in ids)
            if done >= 3:
                break
            time.sleep(0.1)
        children = pool_children(worker.pid)
        os.kill(worker.pid, signal.SIGKILL)
        for child in children:  # the pool goes down with it, mid-task
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGKILL)
        worker.wait()
        assert done < 20, "the batch finished before the kill: nothing was tested"
        worker = start_worker(_env(settings), concurrency=2, log=log)
        states = _wait_all(store, ids, timeout=120)
        assert list(states.values()).count("ready") == 20, states
        _assert_consistent(store, ids)
        assert "restored message" in log.read_text()
    finally:
        stop(worker)


def test_redis_restart_mid_batch_then_everything_finishes(tmp_path, redis_proc):
    settings = Settings(data_dir=tmp_path / "data", broker_url=redis_proc.url,
                        api_keys=[API_KEY], stuck_after_seconds=2)  # fmt: skip
    client = TestClient(create_app(settings))
    store = open_store(settings)
    worker = start_worker(_env(settings), concurrency=1, log=tmp_path / "worker.log")
    try:
        ids = _upload_batch(client, tmp_path, 20, side=2400)
        while sum(load_manifest(store, i).status == "ready" for i in ids) < 3:
            time.sleep(0.1)
        redis_proc.stop()  # no persistence: every queued message is gone
        time.sleep(1.5)
        redis_proc.start()
        # The sweeper finds what the broker forgot and enqueues it again.
        celery = make_celery(settings)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            states = [load_manifest(store, i).status for i in ids]
            if all(s == "ready" for s in states):
                break
            sweep(settings, store, lambda i: celery.send_task(INGEST_TASK, args=[i]))
            time.sleep(3)
        assert worker.poll() is None
        _assert_consistent(store, ids)
    finally:
        stop(worker)


def test_storage_errors_and_stalls_are_retried(tmp_path, redis_url, s3_endpoint, s3_bucket):
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    proxy = FlakyS3Proxy(s3_endpoint)
    settings = Settings(
        data_dir=tmp_path / "data",
        broker_url=redis_url,
        storage="s3",
        s3_bucket=s3_bucket,
        s3_endpoint_url=proxy.url,
        api_keys=[API_KEY],
    )
    client = TestClient(create_app(settings))
    worker = start_worker(_env(settings), concurrency=2, log=tmp_path / "worker.log")
    try:
        ids = _upload_batch(client, tmp_path, 8, side=800)
        proxy.fail_rate, proxy.slow_rate = 0.2, 0.1  # now the worker's reads/writes suffer
        store = open_store(settings.model_copy(update={"s3_endpoint_url": s3_endpoint}))
        states = _wait_all(store, ids)
        proxy.fail_rate = proxy.slow_rate = 0.0
        assert proxy.injected > 10
        assert list(states.values()).count("ready") == 8, states
        _assert_consistent(store, ids)
        # No stray objects: the assets' fixed keys, and one lookup marker per upload in
        # each of the small store-side indexes (newest first, sha256 duplicates).
        s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=s3_bucket)["Contents"]]
        asset_keys = [k for k in keys if k.startswith(f"{ASSETS_PREFIX}/")]
        assert all(k.split("/")[-1] in {"original", "manifest.json", "optimized.webp",
                                        "thumb.webp"} for k in asset_keys)  # fmt: skip
        for prefix in (newest.PREFIX, sha256_index.PREFIX):
            assert len([k for k in keys if k.startswith(f"{prefix}/")]) == len(ids), prefix
        assert len(keys) == len(asset_keys) + 2 * len(ids), keys
    finally:
        stop(worker)
        proxy.close()


@pytest.fixture
def full_disk(tmp_path):
    """A 3 MB tmpfs as the data folder, when this machine lets us mount one."""
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)],
                          capture_output=True)  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def test_disk_full_upload_is_507_and_leaves_nothing(full_disk, tmp_path):
    settings = Settings(data_dir=full_disk, api_keys=[API_KEY])
    client = TestClient(create_app(settings))
    ok = client.post("/v1/assets", files={"file": ("a.bin", b"x" * 1000)}, headers=AUTH)
    assert ok.status_code == 202
    big = os.urandom(4 * 1024 * 1024)  # more than the disk holds
    r = client.post("/v1/assets", files={"file": ("big.bin", big)}, headers=AUTH)
    assert r.status_code == 507
    assert r.json()["error"]["code"] == "insufficient_storage"
    assert r.headers["retry-after"]
    store = open_store(settings)
    assert store.list_children(ASSETS_PREFIX, None, 100) == [ok.json()["id"]]
    leftovers = [p for p in (full_disk / "objects").rglob("*") if p.is_file() and ".part" in p.name]
    assert leftovers == []
