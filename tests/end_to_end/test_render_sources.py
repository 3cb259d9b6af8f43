"""Which object a render reads, checked on output pixels through the real app and pipeline:
transparent vectors keep their alpha, opaque complex images and documents still render, and
large images render from their pyramid unless it is damaged, stale or too small."""

import logging
import math
from dataclasses import replace

import pytest
import pyvips

from delivery import source
from shared.keys import derivative_key, original_key
from shared.manifest import save_manifest
from tests.helpers import (
    HALF_LOGO_SVG,
    corpus_file,
    load,
    make_jpeg,
    make_png_alpha,
    needs_worker_libvips,
)


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


@needs_worker_libvips
def test_an_edit_on_a_document_poster_is_a_clear_400(client, ingest):
    asset = ingest(b"# Title\n\nSome text.\n", "notes.md")
    r = client.get(f"/render/{asset.id}?wd=300&edit=bg_remove")
    assert r.status_code == 400 and r.json()["error"]["code"] == "edit_unsupported_source"
    assert "document" in r.json()["error"]["message"]


def test_jpeg_outputs_read_the_jpeg_proxy_and_the_rest_the_png(logo):
    assert source.choose(logo, keep_alpha=False).key == derivative_key(logo.id, "proxy")
    chosen = source.choose(logo)
    assert chosen.key == derivative_key(logo.id, "proxy_alpha") and not chosen.is_jpeg


# --- the pyramid --------------------------------------------------------------------------


@pytest.fixture
def photo_2400(ingest, tmp_path, store):
    """A 2400x1800 photo whose original is then replaced by a black image of the same size,
    so every render shows which object it read: black = the original, a photo = the pyramid."""
    asset = ingest(make_jpeg(tmp_path / "photo.jpg", 2400, 1800).read_bytes(), "photo.jpg")
    assert asset.status == "ready", asset.error
    black = pyvips.Image.black(2400, 1800, bands=3).copy(interpretation="srgb")
    store.put_bytes(original_key(asset.id), black.jpegsave_buffer())
    return asset


def _from_pyramid(image: pyvips.Image) -> bool:
    return image.avg() > 30  # the black original averages 0


@pytest.mark.parametrize(
    ("query", "size", "pyramid"),
    [
        ("wd=500&ht=500&crop=true&fm=webp", (500, 500), True),
        ("wd=500&fm=webp", (500, 375), True),
        ("wd=500&fm=png&edit=bg_remove", (500, 375), True),  # an edit reads it too
        ("ht=300&fm=jpeg&rot=90", (225, 300), True),
        ("wd=1200&fm=jpeg", (1200, 900), True),  # exactly page 0
        ("wd=1201&fm=jpeg", (1201, 901), False),  # more than page 0 holds
        ("wd=500&ht=500&crop=true&g=face&fm=jpeg", (500, 500), False),  # boxes in source px
        ("fm=png&gray=true", (2400, 1800), False),  # the source's own size
    ],
)
@pytest.mark.parametrize("as_bytes", [False, True], ids=["file", "bytes"])
def test_renders_read_the_pyramid_when_it_holds_enough_pixels(
    client, photo_2400, query, size, pyramid, as_bytes, monkeypatch
):
    if as_bytes:  # as from S3: objects arrive as bytes, not as files of a local folder
        monkeypatch.setattr(client.app.state.delivery.store, "local_path", lambda key: None)
    image = _render(client, photo_2400, query)
    assert (image.width, image.height) == size
    assert _from_pyramid(image) == pyramid


def test_a_pyramid_render_matches_the_render_from_the_original(
    client, ingest, photo_2400, tmp_path
):
    image = _render(client, photo_2400, "wd=500&ht=500&crop=true&fm=png")
    photo = (tmp_path / "photo.jpg").read_bytes()
    original = ingest(photo, "photo.jpg", process=False)  # not ingested: no
    original.status, original.kind = "ready", "image"  # pyramid, same pixels otherwise
    original.source.mime, original.image = "image/jpeg", photo_2400.image
    save_manifest(client.app.state.delivery.store, original)
    expected = _render(client, original, "wd=500&ht=500&crop=true&fm=png")
    diff = (image.cast("float") - expected.cast("float")) ** 2
    assert 10 * math.log10(255**2 / max(diff.avg(), 1e-9)) > 38


def _damage(store, asset, how: str) -> None:
    key = asset.derivatives["pyramid"].key
    data = store.get_bytes(key)
    if how == "missing":
        store.delete_prefix(key)
    elif how == "truncated":
        store.put_bytes(key, data[: len(data) // 2])
    else:  # unreadable, same size
        store.put_bytes(key, b"II*\x00" + b"\xff" * (len(data) - 4))


@pytest.mark.parametrize("how", ["missing", "truncated", "unreadable"])
def test_a_damaged_pyramid_falls_back_to_the_original_with_a_warning(
    client, store, photo_2400, caplog, how
):
    _damage(store, photo_2400, how)
    with caplog.at_level(logging.WARNING, logger="delivery.app"):
        image = _render(client, photo_2400, "wd=500&fm=webp")
    assert (image.width, image.height) == (500, 375) and not _from_pyramid(image)
    assert any("pyramid" in r.getMessage() for r in caplog.records)


def test_assets_without_a_pyramid_render_from_the_original(client, store, photo_2400):
    del photo_2400.derivatives["pyramid"]  # ingested before pyramids existed
    save_manifest(store, photo_2400)
    assert not _from_pyramid(_render(client, photo_2400, "wd=500&fm=webp"))


def test_a_pyramid_of_another_upload_is_never_used(client, store, photo_2400):
    photo_2400.source.sha256 = "1" * 64  # the asset now holds another upload
    save_manifest(store, photo_2400)
    assert not _from_pyramid(_render(client, photo_2400, "wd=500&fm=webp"))


def test_animations_and_full_size_renders_never_take_the_pyramid(photo_2400):
    src = source.choose(photo_2400)
    assert source.pyramid(photo_2400, src, 0.2).key.endswith("/pyramid.tif")
    assert source.pyramid(photo_2400, src, None) is None
    assert source.pyramid(photo_2400, replace(src, animated=True), 0.2) is None


def test_a_transparent_image_renders_from_its_pyramid_with_alpha(client, ingest, tmp_path):
    asset = ingest(make_png_alpha(tmp_path / "a.png", 2400, 1600).read_bytes(), "a.png")
    assert "pyramid" in asset.derivatives
    image = _render(client, asset, "wd=500&fm=webp")
    assert (image.width, image.height, image.bands) == (500, 333, 4)
    left, right = image.getpoint(5, 150), image.getpoint(494, 150)
    assert left[3] < 10 and right[3] > 245 and abs(right[0] - 200) <= 2
