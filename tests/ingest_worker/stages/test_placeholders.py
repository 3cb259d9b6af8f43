import blurhash
import pyvips

from ingest_worker.stages import placeholders
from tests.helpers import corpus_file


def _solid(r: int, g: int, b: int, width: int = 300, height: int = 200) -> pyvips.Image:
    image = pyvips.Image.black(width, height, bands=3).linear([1, 1, 1], [r, g, b])
    return image.cast("uchar").copy(interpretation="srgb")


def test_a_solid_image_has_its_colour_as_dominant_and_a_valid_blurhash():
    result = placeholders.compute(_solid(200, 30, 30))
    assert result["dominant_color"] == "#c81e1e"
    assert len(result["blurhash"]) == 4 + 2 * (4 * 3)  # 4x3 components
    # Decoding the hash gives back (nearly) the same colour.
    pixel = blurhash.decode(result["blurhash"], 4, 4)[2][2]
    assert abs(pixel[0] - 200) < 8 and abs(pixel[1] - 30) < 8


def test_dominant_is_the_largest_area_not_the_average():
    blue_sky = _solid(30, 90, 220, 300, 140)
    sand = _solid(230, 200, 140, 300, 60)
    image = blue_sky.join(sand, "vertical")
    assert placeholders.compute(image)["dominant_color"] == "#1e5adc"


def test_grey_and_alpha_images_work():
    grey = pyvips.Image.black(64, 64).linear(1, 128).cast("uchar")
    assert placeholders.compute(grey)["dominant_color"] == "#808080"
    rgba = pyvips.Image.new_from_file(str(corpus_file("png/rgba_alpha_transparent.png")))
    assert placeholders.compute(rgba)["blurhash"]
