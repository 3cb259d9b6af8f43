"""ETags and conditional requests on /render and /original, as a browser or CDN sees them."""

import re

import pytest
from fastapi.testclient import TestClient

from delivery.app import create_app
from shared.manifest import save_manifest
from tests.helpers import make_jpeg


@pytest.fixture
def photo(ingest, tmp_path):
    return ingest(make_jpeg(tmp_path / "p.jpg", 160, 120).read_bytes(), "p.jpg")


def _etag(client, url: str) -> str:
    r = client.get(url)
    assert r.status_code == 200
    return r.headers["etag"]


def test_render_etags_are_strong_quoted_digests(client, photo):
    etag = _etag(client, f"/render/{photo.id}?wd=50&fm=webp")
    assert re.fullmatch(r'"[0-9a-f]{32}"', etag)  # strong: no W/ prefix


def test_the_etag_follows_the_request_and_the_format(client, photo):
    base = _etag(client, f"/render/{photo.id}?wd=50&fm=webp")
    assert _etag(client, f"/render/{photo.id}?fm=webp&wd=50") == base  # same render, same tag
    assert _etag(client, f"/render/{photo.id}?wd=51&fm=webp") != base
    assert _etag(client, f"/render/{photo.id}?wd=50&fm=png") != base


def test_auto_format_tags_each_picked_format_apart(client, photo):
    url = f"/render/{photo.id}?wd=50&fm=auto"
    webp = client.get(url, headers={"accept": "image/webp"})
    avif = client.get(url, headers={"accept": "image/avif,image/webp"})
    assert webp.headers["vary"] == avif.headers["vary"] == "Accept"
    assert webp.headers["etag"] != avif.headers["etag"]
    r = client.get(url, headers={"accept": "image/webp", "if-none-match": avif.headers["etag"]})
    assert r.status_code == 200 and r.content[8:12] == b"WEBP"


def test_the_etag_changes_when_the_asset_is_reprocessed(settings, client, photo, store):
    settings.manifest_cache_seconds = 0  # see the rewrite at once (test_manifests.py: expiry)
    client = TestClient(create_app(settings, store))
    before = _etag(client, f"/render/{photo.id}?wd=50&fm=webp")
    save_manifest(store, photo)  # a reprocess writes the manifest again
    assert _etag(client, f"/render/{photo.id}?wd=50&fm=webp") != before


@pytest.mark.parametrize(
    "if_none_match",
    [
        "{etag}",
        " {etag} ",
        '"0123", {etag}',  # a list: any member matches
        '{etag},"0123"',
        "W/{etag}",  # weak comparison (RFC 9110 13.1.2): a CDN may have weakened the tag
        '"0123", W/{etag}',
        "*",
    ],
)
def test_if_none_match_answers_304_without_a_body(client, photo, if_none_match):
    url = f"/render/{photo.id}?wd=50&fm=webp"
    etag = _etag(client, url)
    r = client.get(url, headers={"if-none-match": if_none_match.format(etag=etag)})
    assert r.status_code == 304 and r.content == b""
    assert r.headers["etag"] == etag and "max-age" in r.headers["cache-control"]


@pytest.mark.parametrize(
    "if_none_match",
    ['"0123"', "{bare}", '"{bare}x"', '"{prefix}"', 'W/"0123"', ""],
)
def test_other_tags_get_the_full_render(client, photo, if_none_match):
    url = f"/render/{photo.id}?wd=50&fm=webp"
    etag = _etag(client, url)
    bare = etag.strip('"')
    header = if_none_match.format(bare=bare, prefix=bare[:16])
    r = client.get(url, headers={"if-none-match": header})
    assert r.status_code == 200 and r.content[8:12] == b"WEBP"


def test_the_original_is_tagged_with_its_sha256_and_revalidates(client, photo):
    r = client.get(f"/original/{photo.id}")
    assert r.status_code == 200 and r.headers["etag"] == f'"{photo.source.sha256}"'
    again = client.get(f"/original/{photo.id}", headers={"if-none-match": r.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
