"""thumbor's convolutions: kernel reach, normalisation and odd-size rule."""

import pytest
import pyvips

from delivery.thumbor import convolve
from shared.errors import PicshaError


def _dot(size: int = 21) -> pyvips.Image:
    """Black with one white pixel in the middle, RGB."""
    image = pyvips.Image.black(size, size, bands=3).draw_rect([255] * 3, size // 2, size // 2, 1, 1)
    return image.cast("uchar").copy(interpretation="srgb")


def test_blur_reaches_radius_pixels_and_no_further():
    out = convolve.blur(_dot(), 3, 10.0)  # a wide sigma, cut at 3 pixels
    row = [int(v) for v in out[0].tolist()[10]]
    assert row[10 - 3] > 0 and row[10 + 3] > 0
    assert row[10 - 4] == 0 and row[10 + 4] == 0


def test_convolution_identity_and_normalisation():
    dot = _dot(5)
    assert convolve.convolution(dot, "0;0;0;0;1;0;0;0;0", 3).avg() == dot.avg()
    box = convolve.convolution(dot, "1;1;1;1;1;1;1;1;1", 3, True)
    assert box.getpoint(1, 1)[0] == 28  # 255 / 9 truncated
    raw = convolve.convolution(dot, "1;1;1;1;1;1;1;1;1", 3, False)
    assert raw.getpoint(1, 1)[0] == 255


@pytest.mark.parametrize(("matrix", "columns"), [("1;1", 1), ("1;1;1;1;1;1", 3), ("1;1;1", 2)])
def test_convolution_needs_an_odd_square_or_line(matrix, columns):
    with pytest.raises(PicshaError):
        convolve.convolution(_dot(5), matrix, columns)


def test_sharpen_without_amount_is_the_identity():
    x = pyvips.Image.xyz(64, 64)
    image = ((x[0] * 3 + x[1] * 5) % 256).bandjoin([x[0] * 2, x[1] * 4]).cast("uchar")
    image = image.copy(interpretation="srgb")
    for luminance in (False, True):
        assert (convolve.sharpen(image, 0, 2, luminance) - image).abs().max() <= 1
