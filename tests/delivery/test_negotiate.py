"""`fm=auto`: which format a client gets for the Accept header it sends."""

import pytest

from delivery.negotiate import pick_format
from tests.helpers import make_png_alpha

CHROME = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"
SAFARI_15 = "image/webp,image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5"
FIREFOX_OLD = "image/webp,*/*"


@pytest.mark.parametrize(
    ("accept", "alpha", "expected"),
    [
        (CHROME, False, "avif"),
        (CHROME, True, "avif"),
        (SAFARI_15, False, "webp"),
        (FIREFOX_OLD, True, "webp"),
        ("image/webp;q=0.9, image/avif;q=0.5", False, "avif"),  # any q > 0 counts
        ("IMAGE/AVIF", False, "avif"),  # media types are case-insensitive
        ("image/avif ; q=0.1", False, "avif"),
        # q=0 means "not acceptable", however it is spelt
        ("image/avif;q=0,image/webp", False, "webp"),
        ("image/avif; q=0.0, image/webp;q=0.000", False, "jpeg"),
        ("image/avif;q=0.001", False, "avif"),
        # wildcards promise nothing: many clients send */* and cannot decode AVIF or WebP
        ("*/*", False, "jpeg"),
        ("image/*", True, "png"),
        ("", False, "jpeg"),
        (None, True, "png"),
        ("image/avifx,image/webpx", False, "jpeg"),  # only the exact media type
        ("image/avif;q=high,image/webp", False, "webp"),  # unreadable q: not relied on
    ],
)
def test_the_best_format_the_client_accepts(accept, alpha, expected):
    assert pick_format(accept, has_alpha=alpha) == expected


def test_auto_through_the_app_keeps_alpha_and_varies_on_accept(client, ingest, tmp_path):
    asset = ingest(make_png_alpha(tmp_path / "a.png", 60, 40).read_bytes(), "a.png")
    r = client.get(f"/render/{asset.id}?wd=30&fm=auto", headers={"accept": "*/*"})
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert r.headers["vary"] == "Accept"
    r = client.get(f"/render/{asset.id}?wd=30&fm=auto", headers={"accept": "image/avif;q=0"})
    assert r.headers["content-type"] == "image/png"
