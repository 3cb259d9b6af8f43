"""Model inputs are compliant JPEGs whatever came in."""

import pytest
import pyvips

from shared.ai.prepare import model_jpeg, rgb_array
from shared.imaging import sniff_format


def test_a_big_image_is_scaled_to_the_side_limit(tmp_path):
    path = tmp_path / "big.png"
    pyvips.Image.black(6000, 4000, bands=3).copy(interpretation="srgb").pngsave(str(path))
    data = model_jpeg(path, 1568, 5 * 1024 * 1024)
    image = pyvips.Image.new_from_buffer(data, "")
    assert sniff_format(data) == "jpeg" and (image.width, image.height) == (1568, 1045)


def test_the_byte_limit_is_kept_even_for_noise(tmp_path):
    noise = pyvips.Image.gaussnoise(2000, 2000, sigma=80).cast("uchar")
    path = tmp_path / "noise.png"
    noise.bandjoin([noise, noise]).copy(interpretation="srgb").pngsave(str(path))
    data = model_jpeg(path, 2000, 300_000)
    assert len(data) <= 300_000


def test_alpha_is_flattened_and_grey_becomes_rgb(tmp_path):
    path = tmp_path / "a.png"
    grey = pyvips.Image.black(20, 10).copy(interpretation="b-w")
    grey.bandjoin(128).cast("uchar").pngsave(str(path))
    array = rgb_array(model_jpeg(path, 100, 10**6))
    assert array.shape == (10, 20, 3)


@pytest.mark.slow
def test_a_50_megapixel_image_is_shrunk_on_load(tmp_path):
    path = tmp_path / "huge.jpg"
    pyvips.Image.black(8660, 5774, bands=3).copy(interpretation="srgb").jpegsave(str(path))
    image = pyvips.Image.new_from_buffer(model_jpeg(path, 1568, 5 * 1024 * 1024), "")
    assert max(image.width, image.height) == 1568
