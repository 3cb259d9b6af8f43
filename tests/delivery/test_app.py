"""/render through the real app and real libvips; checked on output pixels."""

import pytest

from delivery.params import MAX_SIDE
from shared import imaging
from tests.helpers import corpus_file, load, make_jpeg, make_png_alpha


@pytest.fixture
def photo(ingest, tmp_path):
    return ingest(make_jpeg(tmp_path / "p.jpg", 1600, 1200).read_bytes(), "p.jpg")


def test_crop_fills_the_box_exactly(client, photo):
    r = client.get(f"/render/{photo.id}?wd=500&ht=500&crop=true&fm=webp")
    assert r.status_code == 200
    assert r.headers["content-type"] == "image/webp"
    assert imaging.sniff_format(r.content) == "webp"
    img = load(r.content)
    assert (img.width, img.height) == (500, 500)


@pytest.mark.parametrize(
    ("query", "size"),
    [
        ("wd=400", (400, 300)),
        ("ht=300", (400, 300)),
        ("wd=400&ht=400", (400, 300)),
        ("wd=400&ht=400&fit=fill", (400, 400)),
        ("wd=400&ht=400&fit=contain", (400, 400)),
        ("wd=400&ht=100&fit=cover&g=north", (400, 100)),
        ("wd=3000", (1600, 1200)),  # no upscaling unless up=true
        ("wd=3200&up=true", (3200, 2400)),
        ("wd=200&dpr=2", (400, 300)),
        ("fm=png", (1600, 1200)),
    ],
)
def test_geometry(client, photo, query, size):
    r = client.get(f"/render/{photo.id}?{query}")
    assert r.status_code == 200, r.text
    img = load(r.content)
    assert (img.width, img.height) == size


def test_contain_pads_with_the_background_colour(client, photo):
    r = client.get(f"/render/{photo.id}?wd=400&ht=400&fit=contain&bg=00ff00&fm=png")
    img = load(r.content)
    assert img.getpoint(200, 5)[:3] == [0, 255, 0]  # top band is padding
    assert img.getpoint(200, 395)[:3] == [0, 255, 0]


def test_default_format_keeps_the_source_format(client, photo):
    r = client.get(f"/render/{photo.id}?wd=100")
    assert r.headers["content-type"] == "image/jpeg" and imaging.sniff_format(r.content) == "jpeg"


@pytest.mark.parametrize(
    ("accept", "fmt"),
    [
        ("image/avif,image/webp,*/*", "avif"),
        ("image/webp,*/*", "webp"),
        ("image/avif;q=0,image/webp", "webp"),
        ("*/*", "jpeg"),
        (None, "jpeg"),
    ],
)
def test_auto_format_follows_accept_and_varies(client, photo, accept, fmt):
    headers = {"accept": accept} if accept else {}
    r = client.get(f"/render/{photo.id}?wd=100&fm=auto", headers=headers)
    assert r.status_code == 200
    assert imaging.sniff_format(r.content) == fmt
    assert r.headers["vary"] == "Accept"


def test_auto_keeps_alpha_as_png_when_no_modern_format(client, ingest, tmp_path):
    asset = ingest(make_png_alpha(tmp_path / "a.png", 120, 80).read_bytes())
    r = client.get(f"/render/{asset.id}?wd=60&fm=auto", headers={"accept": "*/*"})
    img = load(r.content)
    assert imaging.sniff_format(r.content) == "png" and img.hasalpha()


def test_caching_headers_etag_and_304(client, photo):
    r = client.get(f"/render/{photo.id}?wd=100&ht=100&crop=true")
    assert r.headers["cache-control"] == "public, max-age=86400, immutable"
    etag = r.headers["etag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    same = client.get(f"/render/{photo.id}?crop=true&ht=100&wd=100")
    assert same.headers["etag"] == etag  # another spelling, same ETag
    other = client.get(f"/render/{photo.id}?wd=101&ht=100&crop=true")
    assert other.headers["etag"] != etag
    r304 = client.get(
        f"/render/{photo.id}?wd=100&ht=100&crop=true", headers={"if-none-match": etag}
    )
    assert r304.status_code == 304 and r304.content == b""


def test_no_transform_redirects_to_the_original(client, photo, store):
    r = client.get(f"/render/{photo.id}", follow_redirects=False)
    assert r.status_code == 302
    assert r.headers["location"] == f"/original/{photo.id}"
    original = client.get(r.headers["location"])
    assert original.status_code == 200
    assert original.content == store.get_bytes(f"assets/{photo.id}/original")
    assert original.headers["content-type"] == "image/jpeg"


def test_orientation_is_applied(client, ingest):
    asset = ingest(corpus_file("jpeg/orientation_6_Landscape_6.jpg").read_bytes())
    img = load(client.get(f"/render/{asset.id}?wd=300").content)
    assert (img.width, img.height) == (300, 200)  # stored 400x600, displayed landscape


def test_metadata_stripped_and_srgb_out(client, ingest):
    asset = ingest(corpus_file("jpeg/nikon_d1x_adobergb_Reagan.jpg").read_bytes())
    assert asset.image.icc  # Adobe RGB (1998): ingest names it (stages/test_metadata.py)
    img = load(client.get(f"/render/{asset.id}?wd=100&fm=jpeg").content)
    fields = img.get_fields()
    assert "exif-data" not in fields and "icc-profile-data" not in fields
    assert img.interpretation == "srgb"


def test_cmyk_source_renders_as_rgb(client, ingest):
    asset = ingest(corpus_file("jpeg/cmyk_swop_canon_eos300d.jpg").read_bytes())
    img = load(client.get(f"/render/{asset.id}?wd=100&fm=png").content)
    assert img.bands == 3 and img.interpretation == "srgb"


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ("wd=abc", 400, "invalid_parameter"),
        ("wd=5000", 400, "limit_exceeded"),
        ("wd=3000&dpr=2", 400, "limit_exceeded"),
        ("wd=" + "9" * 400 + "&dpr=2", 400, "invalid_parameter"),  # past a float's range
        ("ht=" + "9" * 400, 400, "invalid_parameter"),
        ("wd=10&nope=1", 400, "unknown_parameter"),
        ("wd=10&wd=20", 400, "repeated_parameter"),
    ],
)
def test_bad_requests_are_json_4xx(client, photo, query, status, code):
    r = client.get(f"/render/{photo.id}?{query}")
    assert r.status_code == status
    assert r.json()["error"]["code"] == code
    assert r.json()["error"]["message"]


def test_missing_not_ready_and_failed_assets(client, ingest, failed_asset, tmp_path):
    assert client.get("/render/" + "a" * 21 + "?wd=10").json()["error"]["code"] == "asset_not_found"
    assert client.get("/render/..%2F..%2Fetc%2Fpasswd?wd=10").status_code == 404
    queued = ingest(make_jpeg(tmp_path / "q.jpg", 10, 10).read_bytes(), process=False)
    r = client.get(f"/render/{queued.id}?wd=10")
    assert r.status_code == 409 and r.json()["error"]["code"] == "asset_not_ready"
    r = client.get(f"/render/{failed_asset.id}?wd=10")
    assert r.status_code == 422 and r.json()["error"]["code"] == "asset_failed"


def test_animated_gif_renders_first_frame_size(client, ingest):
    asset = ingest(corpus_file("gif/animated_cogs.gif").read_bytes())
    assert asset.image.animated and asset.image.pages > 1
    r = client.get(f"/render/{asset.id}?wd=50&fm=webp")
    assert r.status_code == 200
    assert load(r.content).width == 50


def test_openapi_lists_render_parameters_with_ranges(client):
    spec = client.get("/openapi.json").json()
    params = {p["name"]: p for p in spec["paths"]["/render/{asset_id}"]["get"]["parameters"]}
    assert {"wd", "ht", "crop", "fit", "fm", "q", "dpr"} <= set(params)
    q = params["q"]["schema"]
    assert (q["type"], q["minimum"], q["maximum"]) == ("integer", 1, 100)
    for side in ("wd", "ht"):  # every number has an upper bound
        assert params[side]["schema"]["maximum"] == MAX_SIDE
    assert all("null" not in str(p["schema"]) for p in params.values())  # absent, never null
    assert params["bg"]["schema"]["pattern"] == params["txt_color"]["schema"]["pattern"]


def test_signed_urls_are_enforced_when_a_key_is_set(settings, store, photo):
    from fastapi.testclient import TestClient

    from delivery.app import create_app
    from shared.signing import sign_url

    settings.signing_key = "k3y"
    client = TestClient(create_app(settings, store))
    unsigned = client.get(f"/render/{photo.id}?wd=100")
    assert unsigned.status_code == 403 and unsigned.json()["error"]["code"] == "signature_required"
    signed = sign_url("k3y", f"/render/{photo.id}?wd=100&fm=webp")
    assert client.get(signed).status_code == 200
    # The same parameters in another order (as the CDN normalises them) stay valid.
    sig = signed.rsplit("sig=", 1)[1]
    assert client.get(f"/render/{photo.id}?sig={sig}&fm=webp&wd=100").status_code == 200
    tampered = signed.replace("wd=100", "wd=101")
    r = client.get(tampered)
    assert r.status_code == 403 and r.json()["error"]["code"] == "bad_signature"


def test_source_pixel_limit_applies_to_rendering_too(settings, store, photo):
    from fastapi.testclient import TestClient

    from delivery.app import create_app

    settings.max_source_pixels = 1000
    r = TestClient(create_app(settings, store)).get(f"/render/{photo.id}?wd=10")
    assert r.status_code == 413
    assert "max_source_pixels" in r.json()["error"]["message"]
