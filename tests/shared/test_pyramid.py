"""The render pyramid: a tiled multi-page TIFF whose pages halve, readable by libvips, and as
bright as the source (libvips' own pyramid darkens each level)."""

import io

import numpy as np
import pytest
import pyvips
import tifffile

from shared import pyramid


def _photo(width: int, height: int, alpha: bool = False) -> pyvips.Image:
    xy = pyvips.Image.xyz(width, height)
    rgb = (xy[0] * (255 / width)).bandjoin([xy[1] * (255 / height), xy[0] * 0 + 128])
    rgb = rgb + pyvips.Image.gaussnoise(width, height, sigma=20)
    if alpha:
        rgb = rgb.bandjoin(255 - xy[0] * (255 / width))
    return rgb.cast("uchar").copy(interpretation="srgb").copy_memory()


def _pages(data: bytes) -> list[pyvips.Image]:
    first = pyvips.Image.new_from_buffer(data, "")
    return [pyvips.Image.new_from_buffer(data, "", page=k) for k in range(first.get("n-pages"))]


def test_pages_halve_from_half_the_source_down_to_one_tile():
    made = pyramid.make(_photo(1500, 1000), 3000, 2000)
    assert made.data[:4] == b"II*\x00"
    sizes = [(p.width, p.height) for p in _pages(made.data)]
    assert sizes == [(1500, 1000), (750, 500), (375, 250), (188, 125)]
    assert (made.width, made.height, made.levels) == (1500, 1000, 4)
    with tifffile.TiffFile(io.BytesIO(made.data)) as tif:
        assert all(p.is_tiled and p.tilewidth == pyramid.TILE for p in tif.pages)
        assert {p.compression.name for p in tif.pages} == {"JPEG"}


def test_a_larger_decode_is_resized_to_half_the_source():
    made = pyramid.make(_photo(1000, 700), 1001, 701)
    assert (made.width, made.height) == (501, 351)


def test_alpha_is_kept_losslessly_with_deflate():
    image = _photo(800, 600, alpha=True)
    made = pyramid.make(image, 1600, 1200)
    page = _pages(made.data)[0]
    assert page.bands == 4
    assert (page == image).min() == 255  # page 0 is the decode itself, untouched
    with tifffile.TiffFile(io.BytesIO(made.data)) as tif:
        assert {p.compression.name for p in tif.pages} == {"ADOBE_DEFLATE"}


@pytest.mark.parametrize("alpha", [False, True])
def test_levels_keep_the_brightness_and_detail_of_a_lanczos_resize(alpha):
    image = _photo(1024, 768, alpha)
    page = _pages(pyramid.make(image, 2048, 1536).data)[2]  # 256x192: 4x smaller
    ref = (image.premultiply() if alpha else image.cast("float")).resize(0.25, gap=0.0)
    if alpha:
        ref = ref.unpremultiply()
    got, want = page.numpy().astype(float), ref.numpy().astype(float)
    assert abs(got.mean() - want.mean()) < 0.1  # libvips' pyramid=True: -0.9 here
    mse = np.mean((got - want) ** 2)
    assert 10 * np.log10(255**2 / mse) > 38


def test_small_sources_get_none_and_alpha_is_decoded_whole():
    assert not pyramid.wanted(1023, 800) and pyramid.wanted(1024, 10)
    assert pyramid.decode_side(4000, 3000, has_alpha=False) == 2000
    assert pyramid.decode_side(4000, 3000, has_alpha=True) == 4000
