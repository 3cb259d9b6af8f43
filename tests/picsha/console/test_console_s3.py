"""The console on S3 storage (moto's server): large files go to the bucket presigned."""

import re

import boto3
import pytest
from playwright.sync_api import Page, expect

from tests.helpers import make_jpeg
from tests.picsha.conftest import NO_ANALYSIS, bucket_event, start_server, stop_server
from tests.picsha.console.test_console import sign_in

pytestmark = pytest.mark.slow
BODY_LIMIT = 2000  # what /healthz states as the largest request body


@pytest.fixture
def browser_context_args(browser_context_args: dict) -> dict:
    # The page's real CSP this time: it must let the upload reach the bucket's origin.
    return {**browser_context_args, "bypass_csp": False}


@pytest.fixture
def served_s3(tmp_path, s3_endpoint, s3_bucket):
    env = {**NO_ANALYSIS, "PICSHA_STORAGE": "s3", "PICSHA_S3_BUCKET": s3_bucket,
           "PICSHA_S3_ENDPOINT_URL": s3_endpoint, "PICSHA_PRESIGNED_UPLOADS": "true",
           "PICSHA_MAX_BODY_BYTES": str(BODY_LIMIT)}  # fmt: skip
    (tmp_path / "serve").mkdir()
    served = start_server(tmp_path / "serve", env)
    try:
        yield served
    finally:
        stop_server(served.proc)


def test_a_file_past_the_body_limit_goes_to_the_bucket_presigned(
    page: Page, served_s3, tmp_path, s3_endpoint, s3_bucket
):
    big = make_jpeg(tmp_path / "big photo.jpg", 400, 300)
    small = make_jpeg(tmp_path / "small.jpg", 8, 8, q=50)
    assert small.stat().st_size <= BODY_LIMIT < big.stat().st_size
    sign_in(page, served_s3)
    page.set_input_files("#files", [str(big), str(small)])

    small_row = page.locator("#uploads li", has_text="small.jpg")
    expect(small_row.locator(".state")).to_have_text("ready", timeout=60_000)
    row = page.locator("#uploads li", has_text="big photo.jpg")
    expect(row.locator("progress")).to_have_js_property("value", 100)
    expect(row).to_have_attribute("data-id", re.compile(r"^[A-Za-z0-9_-]{21}$"), timeout=30_000)
    # Queued, not failed: the bytes are in the bucket and wait for the bucket's event.
    expect(row.locator(".state")).to_have_text("queued")
    asset_id = row.get_attribute("data-id")
    client = served_s3.client()
    manifest = client.get(f"/v1/assets/{asset_id}").json()
    assert manifest["upload_via"] == "presigned"
    small_id = small_row.get_attribute("data-id")
    assert client.get(f"/v1/assets/{small_id}").json()["upload_via"] == "api"
    key = f"assets/{asset_id}/original"
    s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    assert s3.get_object(Bucket=s3_bucket, Key=key)["Body"].read() == big.read_bytes()

    assert bucket_event(served_s3, key, s3_bucket, s3_endpoint)
    expect(row.locator(".state")).to_have_text("ready", timeout=60_000)
    tile = page.locator("#grid li", has_text="big photo.jpg")
    expect(tile.locator("img")).to_have_js_property("naturalWidth", 150, timeout=30_000)
    done = client.get(f"/v1/assets/{asset_id}").json()
    assert (done["image"]["width"], done["image"]["height"]) == (400, 300)
    assert done["source"]["size"] == big.stat().st_size
