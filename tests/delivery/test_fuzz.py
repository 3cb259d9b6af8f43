"""Property test: random parameter soup never gets a 500 or a non-JSON 4xx."""

import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import make_jpeg

NAMES = [
    "wd", "ht", "crop", "fit", "up", "g", "fm", "q", "dpr", "bg", "blur", "sharpen", "gray",
    "rot", "flip", "wm", "wm_pos", "wm_scale", "wm_opacity", "txt", "txt_size", "txt_color",
    "txt_pos", "txt_font", "sig", "nope",
]  # fmt: skip
VALUES = st.one_of(
    st.integers(-10, 5000).map(str),
    st.sampled_from(
        [
            "nan",
            "inf",
            "-inf",
            "1e309",
            "0",
            "true",
            "false",
            "",
            "center",
            "face",
            "attention",
            "webp",
            "avif",
            "auto",
            "h",
            "v",
            "90",
            "0.5",
            "ffffff",
            "zz",
            "9" * 40,
            "../../etc/passwd",
            "a" * 21,
        ]
    ),
    st.text(string.printable, max_size=30),
)
SEGMENTS = st.sampled_from(
    ["fit-in", "300x200", "-300x-0", "0x0", "smart", "left", "top", "trim", "10x10:5x5",
     "10x10:100x100", "filters:blur(5)", "filters:quality(101)", "filters:format(bmp)",
     "filters:watermark(x,1,1,1)", "filters:fill(red):rotate(90)", "filters:brightness(x)",
     "filters:round_corner(10|20,1,2,3)", "99999x99999", "unsafe", ""]
)  # fmt: skip


@pytest.fixture
def photo_id(ingest, tmp_path):
    return ingest(make_jpeg(tmp_path / "f.jpg", 64, 48).read_bytes()).id


def _check(r) -> None:
    assert r.status_code < 500, r.text
    if r.status_code >= 400:
        body = r.json()
        assert body["error"]["code"] and body["error"]["message"]


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(params=st.lists(st.tuples(st.sampled_from(NAMES), VALUES), max_size=6))
def test_render_never_500(client, photo_id, params):
    _check(client.get(f"/render/{photo_id}", params=params))


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(segments=st.lists(SEGMENTS, max_size=5))
def test_thumbor_never_500(client, photo_id, segments):
    path = "/".join(s for s in segments if s)
    _check(client.get(f"/thumbor/unsafe/{path}/{photo_id}".replace("//", "/")))


@pytest.mark.parametrize(
    "path",
    [
        "/render/..%2F..%2Fetc%2Fpasswd?wd=1",
        "/render/%00?wd=1",
        "/render/" + "a" * 5000 + "?wd=1",
        "/thumbor/unsafe/300x200/..%2Fmanifest.json",
        "/original/..%2F..%2Fetc%2Fpasswd",
    ],
)
def test_hostile_paths(client, path):
    r = client.get(path)
    assert r.status_code in (400, 404)
    assert r.json()["error"]["code"] in ("asset_not_found", "not_found", "invalid_thumbor_url")
