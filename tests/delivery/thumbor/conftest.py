"""Fixtures for thumbor URL tests: small synthetic sources ingested for real, and a getter
that asserts what a user sees (status, then the decoded image)."""

from collections.abc import Callable

import pytest
import pyvips

from tests.helpers import load, make_jpeg, make_png_alpha


def png_bytes(image: pyvips.Image) -> bytes:
    return image.cast("uchar").copy(interpretation="srgb").pngsave_buffer()


def solid(width: int, height: int, rgb: list[int]) -> pyvips.Image:
    return (
        (pyvips.Image.black(width, height, bands=3) + rgb).cast("uchar").copy(interpretation="srgb")
    )


@pytest.fixture
def photo(ingest, tmp_path):
    """An 800x600 textured JPEG."""
    return ingest(make_jpeg(tmp_path / "p.jpg", 800, 600).read_bytes(), "p.jpg")


@pytest.fixture
def portrait(ingest, tmp_path):
    """A 600x800 textured JPEG."""
    return ingest(make_jpeg(tmp_path / "q.jpg", 600, 800).read_bytes(), "q.jpg")


@pytest.fixture
def quadrants(ingest):
    """A 200x100 PNG: red | green on top, blue | white below, flat colours (exact pixels)."""
    top = solid(100, 50, [255, 0, 0]).join(solid(100, 50, [0, 255, 0]), "horizontal")
    bottom = solid(100, 50, [0, 0, 255]).join(solid(100, 50, [255, 255, 255]), "horizontal")
    return ingest(png_bytes(top.join(bottom, "vertical")), "quadrants.png")


@pytest.fixture
def ramp(ingest):
    """A 256x4 PNG whose pixel x is (x, 255 - x, x // 2): every byte value once per band."""
    x = pyvips.Image.xyz(256, 4)[0]
    return ingest(png_bytes(x.bandjoin([255 - x, x / 2])), "ramp.png")


@pytest.fixture
def mark(ingest):
    """A 40x30 opaque green PNG to watermark with."""
    return ingest(png_bytes(solid(40, 30, [0, 200, 0])), "mark.png")


@pytest.fixture
def logo(ingest, tmp_path):
    """A 120x80 PNG, red with alpha rising from 0 (left) to 253 (right)."""
    return ingest(make_png_alpha(tmp_path / "l.png", 120, 80).read_bytes(), "logo.png")


@pytest.fixture
def thumbor(client) -> Callable[..., pyvips.Image]:
    """GET /thumbor/unsafe/{url}/{asset id} and decode the 200's image."""

    def get(url: str, asset) -> pyvips.Image:
        path = f"/thumbor/unsafe/{url}/{asset.id}" if url else f"/thumbor/unsafe/{asset.id}"
        r = client.get(path)
        assert r.status_code == 200, r.text
        return load(r.content)

    return get


def rgb_at(image: pyvips.Image, x: int, y: int) -> list[int]:
    return [round(v) for v in image.getpoint(x, y)]
