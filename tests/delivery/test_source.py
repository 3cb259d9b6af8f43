"""Which object a render reads, checked on output pixels through the real app and pipeline:
transparent vectors keep their alpha, opaque complex images and documents still render."""

import pytest
import pyvips

from delivery import source
from shared.keys import derivative_key
from tests.helpers import HALF_LOGO_SVG, corpus_file, load, needs_worker_libvips


@pytest.fixture
def logo(ingest):
    asset = ingest(HALF_LOGO_SVG, "logo.svg")
    assert asset.status == "ready", asset.error
    return asset


def _render(client, asset, query: str) -> pyvips.Image:
    r = client.get(f"/render/{asset.id}?{query}")
    assert r.status_code == 200, r.text
    return load(r.content)


def _rgba(image: pyvips.Image, x: int, y: int) -> list[int]:
    return [round(v) for v in image.getpoint(x, y)]


def test_a_transparent_vector_gets_both_proxies(logo):
    assert {"proxy", "proxy_alpha"} <= set(logo.derivatives)
    assert logo.derivatives["proxy_alpha"].key.endswith("/proxy.png")
    assert logo.image.has_alpha


@pytest.mark.parametrize("fm", ["png", "webp", "avif"])
def test_transparency_survives_into_formats_that_carry_it(client, logo, fm):
    image = _render(client, logo, f"wd=200&fm={fm}")
    assert (image.width, image.height) == (200, 100) and image.bands == 4
    red, clear = _rgba(image, 50, 50), _rgba(image, 150, 50)
    assert red[3] == 255 and red[0] > 240 and red[1] < 15
    assert clear[3] == 0


def test_the_default_format_of_a_transparent_vector_is_a_transparent_png(client, logo):
    r = client.get(f"/render/{logo.id}?wd=100")
    assert r.headers["content-type"] == "image/png"
    assert _rgba(load(r.content), 75, 25)[3] == 0


@pytest.mark.parametrize(("bg", "rgb"), [(None, [255, 255, 255]), ("000000", [0, 0, 0])])
def test_jpeg_flattens_on_the_asked_background(client, logo, bg, rgb):
    query = "wd=200&fm=jpeg" + (f"&bg={bg}" if bg else "")
    image = _render(client, logo, query)
    assert image.bands == 3
    assert all(abs(a - b) <= 3 for a, b in zip(_rgba(image, 150, 50), rgb, strict=True))
    assert _rgba(image, 50, 50)[0] > 240


def test_a_transparent_logo_watermarks_without_a_box(client, ingest, tmp_path, logo):
    blue = pyvips.Image.black(400, 200, bands=3).linear([1, 1, 1], [0, 0, 255]).cast("uchar")
    path = tmp_path / "blue.png"
    blue.copy(interpretation="srgb").pngsave(str(path))
    base = ingest(path.read_bytes(), "blue.png")
    # wm_scale 0.5 of 400 = a 200x100 mark in the bottom-right corner, 2 % margin.
    image = _render(client, base, f"wm={logo.id}&wm_pos=se&wm_scale=0.5&wm_opacity=1&fm=png")
    assert _rgba(image, 240, 140)[:3] == [255, 0, 0]  # the logo's solid half
    assert _rgba(image, 340, 140)[:3] == [0, 0, 255]  # its clear half shows the base


@needs_worker_libvips
def test_an_opaque_complex_image_renders_from_its_jpeg_proxy(client, ingest):
    asset = ingest(corpus_file("heif/iphone_xs_gps_p3.heic").read_bytes(), "p3.heic")
    assert "proxy_alpha" not in asset.derivatives and not asset.image.has_alpha
    image = _render(client, asset, "wd=205&fm=webp")
    assert (image.width, image.height, image.bands) == (205, 180, 3)


@needs_worker_libvips
def test_a_document_renders_from_its_poster(client, ingest):
    asset = ingest(b"# Title\n\nSome *Markdown* text.\n", "notes.md")
    r = client.get(f"/render/{asset.id}?wd=300&fm=jpeg")
    assert r.status_code == 200, r.text
    image = load(r.content)
    assert image.width == 300 and image.height > 300  # a portrait page
    assert image.avg() > 200  # a mostly white page with some text


def test_jpeg_outputs_read_the_jpeg_proxy_and_the_rest_the_png(logo):
    assert source.choose(logo, keep_alpha=False).key == derivative_key(logo.id, "proxy")
    chosen = source.choose(logo)
    assert chosen.key == derivative_key(logo.id, "proxy_alpha") and not chosen.is_jpeg
