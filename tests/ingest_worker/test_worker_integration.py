"""Production mode end to end: a real Celery worker process on a real Redis broker, S3 over
HTTP (moto's server), the ingest API and delivery reading the same bucket."""

import os
import subprocess
import sys

import boto3
import httpx
import pytest
from fastapi.testclient import TestClient

import delivery.app
import ingest_worker.http.app
from shared import imaging
from shared.settings import Settings
from tests.helpers import API_KEY, corpus_file, load, make_jpeg, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.integration]
AUTH = {"x-api-key": API_KEY}


@pytest.fixture
def prod(tmp_path, redis_url, s3_endpoint, s3_bucket):
    env = {
        **os.environ,
        "PICSHA_DATA_DIR": str(tmp_path / "unused"),
        "PICSHA_STORAGE": "s3",
        "PICSHA_S3_BUCKET": s3_bucket,
        "PICSHA_S3_ENDPOINT_URL": s3_endpoint,
        "PICSHA_BROKER_URL": redis_url,
        "PICSHA_API_KEYS": API_KEY,
    }
    # Isolate this test's queue: a fresh Redis DB would need config; flush instead.
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    settings = Settings(
        data_dir=tmp_path / "unused",
        storage="s3",
        s3_bucket=s3_bucket,
        s3_endpoint_url=s3_endpoint,
        broker_url=redis_url,
        api_keys=[API_KEY],
    )
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "ingest_worker.queue.celery_app", "worker",
         "--concurrency=1", "--loglevel=WARNING", "-Q", "ingest", "--without-gossip",
         "--without-mingle"],
        env=env,
    )  # fmt: skip
    try:
        yield settings, worker
    finally:
        worker.terminate()
        worker.wait(30)


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def _exiftool_pids(worker_pid: int) -> set[int]:
    found = set()
    for child in _children(worker_pid):
        for grandchild in _children(child):
            with open(f"/proc/{grandchild}/cmdline", "rb") as f:
                if b"exiftool" in f.read():
                    found.add(grandchild)
    return found


def test_upload_ingest_render_on_redis_and_s3(prod, tmp_path):
    settings, worker = prod
    api = TestClient(ingest_worker.http.app.create_app(settings))
    cdn = TestClient(delivery.app.create_app(settings))
    s3 = boto3.client("s3", endpoint_url=settings.s3_endpoint_url, region_name="us-east-1")

    def upload(data: bytes, name: str) -> str:
        r = api.post(
            "/v1/assets",
            files={"file": (name, data, "image/jpeg")},
            data={"pre_render_sizes": "true"},
            headers=AUTH,
        )
        assert r.status_code == 202
        return r.json()["id"]

    def manifest(asset_id: str) -> dict:
        return api.get(f"/v1/assets/{asset_id}", headers=AUTH).json()

    photo = make_jpeg(tmp_path / "big.jpg", 4000, 3000).read_bytes()
    asset_id = upload(photo, "big.jpg")
    m = wait_for(lambda: manifest(asset_id))
    assert m["status"] == "ready", m
    assert (m["image"]["width"], m["image"]["height"]) == (4000, 3000)
    for name, size in (("optimized", (2048, 1536)), ("thumb", (150, 113))):
        key = m["derivatives"][name]["key"]
        body = s3.get_object(Bucket=settings.s3_bucket, Key=key)["Body"].read()
        assert imaging.sniff_format(body) == "webp"
        assert load(body).width == size[0]

    r = cdn.get(f"/render/{asset_id}?wd=500&ht=500&crop=true&fm=webp")
    assert r.status_code == 200
    img = load(r.content)
    assert (img.width, img.height) == (500, 500) and imaging.sniff_format(r.content) == "webp"

    redirect = cdn.get(f"/render/{asset_id}", follow_redirects=False)
    assert redirect.status_code == 302
    original = cdn.get(redirect.headers["location"], follow_redirects=False)
    assert original.status_code == 302  # a presigned URL on the bucket
    assert httpx.get(original.headers["location"]).content == photo

    # A bad file fails with a code, keeps its original, and the worker goes on.
    bad_id = upload(b"", "empty.jpg")
    bad = wait_for(lambda: manifest(bad_id))
    assert bad["status"] == "failed" and bad["error"]["code"] == "empty_file"
    assert s3.head_object(Bucket=settings.s3_bucket, Key=f"assets/{bad_id}/original")
    pids_before = _exiftool_pids(worker.pid)
    ids = [upload(corpus_file(p).read_bytes(), p) for p in (
        "jpeg/canon_eos40d.jpg", "jpeg/nikon_d70.jpg", "png/rgba_alpha_transparent.png"
    )]  # fmt: skip
    for i in ids:
        assert wait_for(lambda i=i: manifest(i))["status"] == "ready"
    assert worker.poll() is None
    # One persistent ExifTool for the worker process, the same one for every file.
    assert len(pids_before) == 1
    assert _exiftool_pids(worker.pid) == pids_before

    assert api.delete(f"/v1/assets/{asset_id}", headers=AUTH).status_code == 204
    listed = s3.list_objects_v2(Bucket=settings.s3_bucket, Prefix=f"assets/{asset_id}/")
    assert listed.get("KeyCount", 0) == 0
