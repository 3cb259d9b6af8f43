"""`picsha ingest`'s choice of upload path, and a presigned upload against a real
`picsha serve` on S3 (moto's server), its object in the bucket, and ingest after the event."""

import json

import boto3
import pytest

from picsha.uploader import presigned_above
from tests.helpers import make_jpeg, wait_for
from tests.picsha.conftest import NO_ANALYSIS, bucket_event, start_server, stop_server
from tests.picsha.test_cli import picsha


def test_files_go_presigned_only_when_asked_or_past_the_stated_body_limit():
    assert presigned_above({"status": "ok"}) is None  # a server that says nothing
    assert presigned_above({"upload": {"presigned": False, "max_body_bytes": 10}}) is None
    assert presigned_above({"upload": {"presigned": True, "max_body_bytes": 4_000_000}}) == (
        4_000_000
    )
    assert presigned_above({"upload": {"presigned": True}}) == 0  # no limit stated: all
    assert presigned_above({"upload": {"presigned": "yes"}}) is None  # only a real true
    assert presigned_above({"status": "ok"}, forced=True) == 0


@pytest.mark.slow
def test_presigned_ingest_puts_the_bytes_in_the_bucket_and_the_event_ingests_them(
    tmp_path, s3_endpoint, s3_bucket
):
    s3_env = {"PICSHA_STORAGE": "s3", "PICSHA_S3_BUCKET": s3_bucket,
              "PICSHA_S3_ENDPOINT_URL": s3_endpoint}  # fmt: skip
    (tmp_path / "serve").mkdir()
    served = start_server(tmp_path / "serve", {**NO_ANALYSIS, **s3_env})
    try:
        photo = make_jpeg(tmp_path / "big photo.jpg", 1600, 1200)
        env = {"PICSHA_URL": served.base, "PICSHA_API_KEY": served.key}
        result = picsha("ingest", "--presigned", "--no-wait", "--json", str(photo), env=env)
        assert result.returncode == 0, result.stderr
        (outcome,) = json.loads(result.stdout)
        asset_id = outcome["id"]
        client = served.client()
        manifest = client.get(f"/v1/assets/{asset_id}").json()
        assert manifest["upload_via"] == "presigned" and manifest["status"] == "queued"
        key = f"assets/{asset_id}/original"
        s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
        assert s3.get_object(Bucket=s3_bucket, Key=key)["Body"].read() == photo.read_bytes()

        assert bucket_event(served, key, s3_bucket, s3_endpoint)
        done = wait_for(lambda: client.get(f"/v1/assets/{asset_id}").json())
        assert done["status"] == "ready", done
        assert done["source"]["size"] == photo.stat().st_size
        assert (done["image"]["width"], done["image"]["height"]) == (1600, 1200)
    finally:
        stop_server(served.proc)


def test_presigned_ingest_on_local_storage_says_it_needs_s3(served, tmp_path):
    photo = make_jpeg(tmp_path / "a.jpg", 40, 30)
    env = {"PICSHA_URL": served.base, "PICSHA_API_KEY": served.key}
    result = picsha("ingest", "--presigned", "--json", str(photo), env=env)
    assert result.returncode == 1
    (outcome,) = json.loads(result.stdout)
    assert outcome["status"] == "error" and outcome["code"] == "presigned_uploads_need_s3"
