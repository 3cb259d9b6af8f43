"""thumbor URLs: the grammar maps onto the /render pipeline; pixels checked as for /render."""

import pytest
import pyvips
from fastapi.testclient import TestClient

from delivery.app import create_app
from delivery.thumbor import check_security, parse_url, thumbor_signature
from shared.errors import PicshaError
from tests.helpers import HALF_LOGO_SVG, load, make_jpeg


def test_grammar_maps_to_render_params():
    r = parse_url("fit-in/300x200/filters:quality(70):format(webp):grayscale()/" + "a" * 21)
    p = r.params
    assert (p.wd, p.ht, p.fit, p.q, p.fm, p.gray) == (300, 200, "inside", 70, "webp", True)
    crop = parse_url("10x20:110x220/-100x0/right/top/" + "a" * 21)
    assert crop.extras.region == (10, 20, 110, 220)
    assert (crop.params.wd, crop.params.ht, crop.params.flip) == (100, None, "h")
    assert parse_url("300x300/right/top/" + "a" * 21).params.g == "ne"
    assert parse_url("300x300/smart/" + "a" * 21).params.g == "face"
    assert parse_url("-300x-300/" + "a" * 21).params.rot == 180
    assert parse_url("300x300/filters:no_upscale()/" + "a" * 21).params.up is False
    assert parse_url("300x300/filters:rotate(90)/" + "a" * 21).params.rot == 270
    wm = parse_url("filters:watermark(" + "b" * 21 + ",-10,-10,50,20)/" + "a" * 21).params
    assert (wm.wm, wm.wm_pos, wm.wm_opacity, wm.wm_scale) == ("b" * 21, "se", 0.5, 0.2)


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("trim/300x200/" + "a" * 21, "unsupported_operation"),
        ("adaptive-fit-in/300x200/" + "a" * 21, "unsupported_operation"),
        ("300x200/filters:sepia()/" + "a" * 21, "unsupported_filter"),
        ("300x200/filters:rotate(45)/" + "a" * 21, "unsupported_operation"),
        ("300x200/filters:blur(nan)/" + "a" * 21, "invalid_thumbor_url"),
        ("300x200/filters:fill(auto)/" + "a" * 21, "invalid_thumbor_url"),
        ("300x200/filters:quality(abc)/" + "a" * 21, "invalid_thumbor_url"),
        ("110x220:10x20/" + "a" * 21, "invalid_thumbor_url"),
        ("99999x1/" + "a" * 21, "limit_exceeded"),
    ],
)
def test_unsupported_or_bad_urls_are_4xx(client, url, code):
    r = client.get(f"/thumbor/unsafe/{url}")
    assert 400 <= r.status_code < 500
    assert r.json()["error"]["code"] in (code, "asset_not_found")


def test_signed_urls(settings, store, ingest, tmp_path):
    asset = ingest(make_jpeg(tmp_path / "p.jpg", 400, 300).read_bytes())
    settings.signing_key = "s3cret"
    client = TestClient(create_app(settings, store))
    rest = f"fit-in/100x100/{asset.id}"
    good = client.get(f"/thumbor/{thumbor_signature('s3cret', rest)}/{rest}")
    assert good.status_code == 200 and load(good.content).width == 100
    assert client.get(f"/thumbor/{'A' * 28}/{rest}").status_code == 403
    assert client.get(f"/thumbor/unsafe/{rest}").status_code == 403
    with pytest.raises(PicshaError):
        check_security(f"unsafe/{rest}", "s3cret")


@pytest.fixture
def photo(ingest, tmp_path):
    return ingest(make_jpeg(tmp_path / "p.jpg", 800, 600).read_bytes(), "p.jpg")


@pytest.mark.parametrize(
    ("url", "size"),
    [
        ("300x200", (300, 200)),
        ("fit-in/300x300", (300, 225)),
        ("300x0", (300, 225)),
        ("0x150", (200, 150)),
        ("1600x0", (1600, 1200)),  # thumbor enlarges by default
        ("1600x0/filters:no_upscale()", (800, 600)),
        ("100x100:300x200/100x50", (100, 50)),
        ("fit-in/300x300/filters:fill(ff0000)", (300, 300)),
    ],
)
def test_thumbor_geometry(client, photo, url, size):
    r = client.get(f"/thumbor/unsafe/{url}/{photo.id}")
    assert r.status_code == 200, r.text
    img = load(r.content)
    assert (img.width, img.height) == size


def test_fill_pads_with_the_colour(client, photo):
    img = load(
        client.get(
            f"/thumbor/unsafe/fit-in/300x300/filters:fill(red):format(png)/{photo.id}"
        ).content
    )
    assert [round(v) for v in img.getpoint(150, 5)[:3]] == [255, 0, 0]


def test_fill_transparent_pads_a_transparent_logo_clear(client, ingest):
    logo = ingest(HALF_LOGO_SVG, "logo.svg")
    r = client.get(
        f"/thumbor/unsafe/fit-in/300x300/filters:fill(transparent):format(png)/{logo.id}"
    )
    assert r.status_code == 200, r.text
    img = load(r.content)
    assert (img.width, img.height, img.bands) == (300, 300, 4)
    assert img.getpoint(150, 5)[3] == 0  # padding above the 300x150 logo
    assert [round(v) for v in img.getpoint(75, 150)] == [255, 0, 0, 255]


def test_brightness_contrast_round_corner(client, photo):
    base = load(client.get(f"/thumbor/unsafe/200x150/filters:format(png)/{photo.id}").content)
    bright = load(
        client.get(f"/thumbor/unsafe/200x150/filters:brightness(40):format(png)/{photo.id}").content
    )
    assert bright.avg() > base.avg() + 40
    flat = load(
        client.get(f"/thumbor/unsafe/200x150/filters:contrast(-100):format(png)/{photo.id}").content
    )
    assert flat.extract_band(0).deviate() < 2  # contrast -100 is flat grey
    rounded = load(
        client.get(
            f"/thumbor/unsafe/200x150/filters:round_corner(30):format(png)/{photo.id}"
        ).content
    )
    assert (
        rounded.hasalpha()
        and rounded.getpoint(0, 0)[3] == 0
        and rounded.getpoint(100, 75)[3] == 255
    )


def test_thumbor_takes_no_query(client, photo):
    assert client.get(f"/thumbor/unsafe/100x100/{photo.id}?x=1").status_code == 400


def test_same_pipeline_as_render(client, photo):
    a = client.get(f"/thumbor/unsafe/300x200/filters:format(webp):quality(80)/{photo.id}")
    b = client.get(f"/render/{photo.id}?wd=300&ht=200&crop=true&fm=webp&q=80&up=true")
    assert a.headers["etag"] == b.headers["etag"]
    assert pyvips.Image.new_from_buffer(a.content, "").avg() == pytest.approx(
        pyvips.Image.new_from_buffer(b.content, "").avg()
    )
