"""Byte ranges on /original and /media (delivery/ranges.py): what a <video> element sends
when it seeks, and the edge cases of RFC 9110 §14."""

import httpx
import pytest
from fastapi.testclient import TestClient

from delivery import ranges
from delivery.app import create_app
from shared.manifest import save_manifest
from shared.signing import sign_url


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-9", (0, 10)),
        ("bytes=10-", (10, 100)),
        ("bytes=-5", (95, 100)),
        ("bytes=-500", (0, 100)),  # a suffix longer than the object: all of it
        ("bytes=90-999", (90, 100)),  # clipped to the end
        ("bytes=99-99", (99, 100)),
        ("bytes = 5 - 6", (5, 7)),
    ],
)
def test_parse_one_range(header, expected):
    got = ranges.parse(header, 100)
    assert got is not None and (got.start, got.stop) == expected


@pytest.mark.parametrize(
    "header", [None, "", "bytes=0-1,5-6", "items=0-1", "bytes=5-2", "bytes=-", "bytes=a-b"]
)
def test_parse_ignores_what_it_does_not_serve(header):
    assert ranges.parse(header, 100) is None


@pytest.mark.parametrize(("header", "size"), [("bytes=100-", 100), ("bytes=-0", 100),
                                              ("bytes=0-", 0)])  # fmt: skip
def test_parse_unsatisfiable(header, size):
    with pytest.raises(ranges.Unsatisfiable):
        ranges.parse(header, size)


@pytest.fixture
def proxy(video, video_files):
    return f"/media/{video.id}/proxy.mp4", video_files["proxy.mp4"].read_bytes()


def test_media_serves_the_proxies_whole_with_their_types(client, video, video_files):
    for name, media_type in [("proxy.mp4", "video/mp4"), ("preview.mp4", "video/mp4"),
                             ("proxy.m4a", "audio/mp4")]:  # fmt: skip
        r = client.get(f"/media/{video.id}/{name}")
        assert r.status_code == 200
        assert r.headers["content-type"] == media_type
        assert r.headers["accept-ranges"] == "bytes"
        assert r.content == video_files[name].read_bytes()
        assert r.content[4:8] == b"ftyp"  # an ISO BMFF file
        assert int(r.headers["content-length"]) == len(r.content)


@pytest.mark.parametrize(
    ("header", "start", "last"),  # last: the last byte, None for the end
    [("bytes=0-99", 0, 99), ("bytes=1000-", 1000, None), ("bytes=-64", -64, None),
     ("bytes=500-10000000", 500, None)],
)  # fmt: skip
def test_media_range_gives_206_with_the_bytes(client, proxy, header, start, last):
    path, data = proxy
    start = start % len(data)
    last = len(data) - 1 if last is None else last
    r = client.get(path, headers={"Range": header})
    assert r.status_code == 206
    assert r.content == data[start : last + 1]
    assert r.headers["content-range"] == f"bytes {start}-{last}/{len(data)}"
    assert int(r.headers["content-length"]) == len(r.content) == last + 1 - start
    assert r.headers["accept-ranges"] == "bytes"
    assert r.headers["content-type"] == "video/mp4"


def test_range_past_the_end_is_416_with_the_size(client, proxy):
    path, data = proxy
    r = client.get(path, headers={"Range": f"bytes={len(data)}-"})
    assert r.status_code == 416
    assert r.headers["content-range"] == f"bytes */{len(data)}"
    assert r.json()["error"]["code"] == "range_not_satisfiable"


def test_several_ranges_get_the_whole_object(client, proxy):
    path, data = proxy
    r = client.get(path, headers={"Range": "bytes=0-9,20-29"})
    assert r.status_code == 200 and r.content == data


def test_if_range_with_another_etag_gets_the_whole_object(client, proxy):
    path, data = proxy
    etag = client.get(path).headers["etag"]
    same = client.get(path, headers={"Range": "bytes=0-9", "If-Range": etag})
    assert same.status_code == 206 and same.content == data[:10]
    stale = client.get(path, headers={"Range": "bytes=0-9", "If-Range": '"old"'})
    assert stale.status_code == 200 and stale.content == data


def test_if_none_match_gets_304(client, proxy):
    path, _ = proxy
    etag = client.get(path).headers["etag"]
    assert client.get(path, headers={"If-None-Match": etag}).status_code == 304


@pytest.mark.parametrize("name", ["original", "poster.jpg", "manifest.json", "proxy.mp3", ".."])
def test_media_names_other_than_the_proxies_are_404_json(client, video, name):
    r = client.get(f"/media/{video.id}/{name}")
    assert r.status_code == 404
    assert r.json()["error"]["code"] in ("not_found", "asset_not_found")


def test_a_proxy_the_asset_lacks_is_404(client, video, store):
    video.derivatives.pop("proxy_audio")
    save_manifest(store, video)
    r = client.get(f"/media/{video.id}/proxy.m4a")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


def test_original_answers_ranges(client, video, video_files):
    data = video_files["original"].read_bytes()
    r = client.get(f"/original/{video.id}", headers={"Range": "bytes=4-7"})
    assert r.status_code == 206 and r.content == b"ftyp" == data[4:8]
    assert r.headers["content-range"] == f"bytes 4-7/{len(data)}"
    assert r.headers["content-type"] == "video/mp4"
    whole = client.get(f"/original/{video.id}")
    assert whole.status_code == 200 and whole.content == data
    assert whole.headers["accept-ranges"] == "bytes"


def test_signing_covers_original_and_media(settings, store, video):
    settings.signing_key = "k3y"
    client = TestClient(create_app(settings, store))
    for path in (f"/original/{video.id}", f"/media/{video.id}/proxy.mp4"):
        r = client.get(path)
        assert r.status_code == 403 and r.json()["error"]["code"] == "signature_required"
        assert client.get(sign_url("k3y", path), headers={"Range": "bytes=0-9"}).status_code == 206
        bad = client.get(sign_url("other", path))
        assert bad.status_code == 403 and bad.json()["error"]["code"] == "bad_signature"
    # /render without a transform sends the client to a signed /original
    r = client.get(sign_url("k3y", f"/render/{video.id}"), follow_redirects=False)
    assert r.status_code == 302
    assert client.get(r.headers["location"]).status_code == 200


def test_s3_mode_redirects_and_s3_answers_the_range(settings, video, video_in_s3, video_files):
    s3 = video_in_s3
    client = TestClient(create_app(settings, s3))
    original = video_files["original"].read_bytes()
    for path, body in (
        (f"/media/{video.id}/proxy.mp4", video_files["proxy.mp4"].read_bytes()),
        (f"/original/{video.id}", original),
    ):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 302
        ranged = httpx.get(r.headers["location"], headers={"Range": "bytes=100-199"}, timeout=30)
        assert ranged.status_code == 206
        assert ranged.content == body[100:200]
        assert ranged.headers["content-range"] == f"bytes 100-199/{len(body)}"
    # stored without a type, the proxy is still served as video/mp4
    r = client.get(f"/media/{video.id}/proxy.mp4", follow_redirects=False)
    assert httpx.get(r.headers["location"], timeout=30).headers["content-type"] == "video/mp4"


def test_head_answers_what_get_would_without_a_body(client, video, proxy):
    path, data = proxy
    r = client.head(path)
    assert r.status_code == 200 and r.content == b""
    assert int(r.headers["content-length"]) == len(data)
    assert r.headers["accept-ranges"] == "bytes" and r.headers["content-type"] == "video/mp4"
    r = client.head(path, headers={"Range": "bytes=0-99"})
    assert r.status_code == 206 and r.content == b""
    assert r.headers["content-range"] == f"bytes 0-99/{len(data)}"
    r = client.head(f"/original/{video.id}")
    assert r.status_code == 200 and r.content == b""
    assert int(r.headers["content-length"]) == video.source.size
    assert client.head(f"/media/{video.id}/nope.mp4").status_code == 404
