"""Which renders thumbor URLs become: /render's (same ETag, same pixels) when /render's
parameters express them, thumbor's pipeline (an ETag of its own) otherwise; and the
answers that are not pixels (meta/, max_age, max_bytes)."""

import pytest

from delivery.source import RenderSource
from delivery.thumbor import parse_url
from tests.helpers import load

SRC = RenderSource("k", 800, 600, has_icc=False)


def _recipe(url, settings):
    return parse_url(f"{url}/{'a' * 21}").recipe(SRC, settings)


@pytest.mark.parametrize(
    ("url", "query"),
    [
        ("300x200", "wd=300&ht=200&fit=cover&up=true"),
        ("300x0", "wd=300&ht=225&fit=fill&up=true"),
        ("0x350", "wd=467&ht=350&fit=fill&up=true"),
        ("400x150/left/top", "wd=400&ht=150&fit=cover&g=nw&up=true"),
        ("400x150/smart", "wd=400&ht=150&fit=cover&g=face&up=true"),
        ("fit-in/300x300", "wd=300&ht=225&fit=fill&up=true"),
        ("fit-in/1600x1600", "up=true"),  # fit-in never enlarges: the source as it is
        ("fit-in/1600x1600/filters:upscale()", "wd=1600&ht=1200&fit=fill&up=true"),
        ("-300x-200/filters:format(webp):quality(70)",
         "wd=300&ht=200&fit=cover&rot=180&up=true&fm=webp&q=70"),
        ("-x/filters:strip_exif():no_upscale()", "flip=h&up=true"),
    ],
)  # fmt: skip
def test_plain_urls_are_render_parameters(settings, url, query):
    recipe = _recipe(url, settings)
    expected = dict(item.split("=") for item in query.split("&"))
    got = recipe.params.model_dump(exclude_defaults=True, exclude={"sig"})
    assert {k: str(v).lower() for k, v in got.items()} == expected
    assert recipe.pipeline is None and recipe.canonical_extra == ""


@pytest.mark.parametrize(
    "url",
    [
        "10x10:200x200/100x100",
        "trim/100x100",
        "300x200/filters:focal(0x0:100x100)",
        "300x200/filters:rotate(90)",
        "300x200/filters:grayscale()",
        "fit-in/300x300/filters:fill(red)",
        "300x200/filters:blur(2)",
    ],
)
def test_other_urls_run_thumbors_pipeline_with_their_own_key(settings, url):
    recipe = _recipe(url, settings)
    assert recipe.pipeline is not None
    assert recipe.canonical_extra.startswith("|thumbor=")


def test_every_pixel_changing_extra_changes_the_key(settings):
    keys = {
        _recipe(url, settings).canonical_extra
        for url in [
            "300x200/filters:blur(2)",
            "300x200/filters:blur(3)",
            "300x200/filters:blur(2,1)",
            "301x200/filters:blur(2)",
            "-300x200/filters:blur(2)",
            "fit-in/300x200/filters:blur(2)",
            "full-fit-in/300x200/filters:blur(2)",
            "300x200/left/filters:blur(2)",
            "1x1:300x200/300x200/filters:blur(2)",
            "trim/300x200/filters:blur(2)",
            "trim::9/300x200/filters:blur(2)",
            "300x200/filters:blur(2):max_bytes(900)",
        ]
    }
    assert len(keys) == 12
    # ...but an output-only filter or another spelling keeps it.
    assert _recipe("300x200/filters:blur(2):strip_icc()", settings).canonical_extra == (
        _recipe("300x200/filters:blur( 2 )", settings).canonical_extra
    )


def test_plain_thumbor_url_shares_etag_and_pixels_with_render(client, photo):
    a = client.get(f"/thumbor/unsafe/300x200/filters:format(webp):quality(80)/{photo.id}")
    b = client.get(f"/render/{photo.id}?wd=300&ht=200&crop=true&fm=webp&q=80&up=true")
    assert a.headers["etag"] == b.headers["etag"]
    assert a.content == b.content
    c = client.get(f"/thumbor/unsafe/0x150/{photo.id}")
    d = client.get(f"/render/{photo.id}?wd=200&ht=150&fit=fill&up=true")
    assert c.headers["etag"] == d.headers["etag"]


def test_pipeline_renders_key_apart_from_the_plain_ones(client, photo):
    plain = client.get(f"/thumbor/unsafe/300x200/{photo.id}")
    blurred = client.get(f"/thumbor/unsafe/300x200/filters:blur(1)/{photo.id}")
    assert plain.status_code == blurred.status_code == 200
    assert plain.headers["etag"] != blurred.headers["etag"]
    again = client.get(
        f"/thumbor/unsafe/300x200/filters:blur(1)/{photo.id}",
        headers={"If-None-Match": blurred.headers["etag"]},
    )
    assert again.status_code == 304


def test_meta_answers_thumbors_json(client, photo):
    r = client.get(f"/thumbor/unsafe/meta/300x200/filters:rotate(90)/{photo.id}")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    body = r.json()["thumbor"]
    assert body["source"] == {"url": photo.id, "width": 800, "height": 600, "frameCount": 1}
    assert body["operations"] == [
        {"type": "crop", "left": 0, "top": 34, "right": 800, "bottom": 567},  # 33.5: half to even
        {"type": "resize", "width": 300, "height": 200},
    ]
    assert body["target"] == {"width": 300, "height": 200}
    flips = client.get(f"/thumbor/unsafe/meta/-x-/{photo.id}").json()["thumbor"]
    assert [op["type"] for op in flips["operations"]] == ["flip_horizontally", "flip_vertically"]


def test_max_age_sets_cache_control(client, photo):
    r = client.get(f"/thumbor/unsafe/100x100/filters:max_age(30)/{photo.id}")
    assert r.headers["cache-control"] == "max-age=30,public"
    default = client.get(f"/thumbor/unsafe/100x100/{photo.id}")
    assert default.headers["cache-control"] != "max-age=30,public"


def test_max_bytes_lowers_quality_until_the_body_fits(client, photo):
    full = client.get(f"/thumbor/unsafe/filters:quality(95)/{photo.id}")
    limit = len(full.content) // 2
    small = client.get(f"/thumbor/unsafe/filters:quality(95):max_bytes({limit})/{photo.id}")
    assert small.status_code == 200 and len(small.content) <= limit
    assert (load(small.content).width, load(small.content).height) == (800, 600)
    impossible = client.get(f"/thumbor/unsafe/filters:quality(95):max_bytes(100)/{photo.id}")
    assert impossible.content == full.content  # thumbor keeps the first encoding then


@pytest.mark.parametrize(
    "url",
    [
        "99999x1",
        "fit-in/5000x5000/filters:fill(red)",
        "fit-in/5000x5000/filters:upscale()",
        "full-fit-in/5000x1",
    ],
)
def test_sizes_over_the_output_limits_are_refused_before_rendering(client, photo, url):
    r = client.get(f"/thumbor/unsafe/{url}/{photo.id}")
    assert r.status_code in (400, 413) and r.json()["error"]["code"] == "limit_exceeded"


def test_thumbor_takes_no_query(client, photo):
    assert client.get(f"/thumbor/unsafe/100x100/{photo.id}?x=1").status_code == 400
