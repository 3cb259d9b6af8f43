"""thumbor's colour filters on libvips give its PIL engine's values."""

import pyvips

from delivery.thumbor import tone
from tests.delivery.thumbor.conftest import solid


def _ramp() -> pyvips.Image:
    x = pyvips.Image.xyz(256, 1)[0]
    return x.bandjoin([x, x]).cast("uchar").copy(interpretation="srgb")


def _values(image: pyvips.Image, band: int = 0) -> list[int]:
    return [int(v) for v in image[band].tolist()[0]]


def test_brightness_truncates_toward_zero_like_c():
    # 255 * -3 / 100 = -7.65 → -7 (C), not -8 (floor)
    assert _values(tone.brightness(_ramp(), -3))[10] == 3


def test_contrast_of_minus_100_is_flat_grey_and_below_it_grows_again():
    assert set(_values(tone.contrast(_ramp(), -100))) == {128}
    assert _values(tone.contrast(_ramp(), -200)) == _values(tone.contrast(_ramp(), 0))


def test_colorize_blends_toward_the_colour():
    out = tone.colorize(_ramp(), 100, 0, 50, "ff0000")
    assert set(_values(out, 0)) == {255}
    assert _values(out, 1) == list(range(256))
    assert _values(out, 2)[100] == 50  # 100 * 0.5 + 0 * 0.5


def test_saturation_zero_is_the_weighted_grey():
    rgb = solid(1, 1, [200, 100, 50])
    out = tone.saturation(rgb.copy(interpretation="srgb"), 0.0)
    grey = int((200 * 200 * 0.299 + 100 * 100 * 0.587 + 50 * 50 * 0.114) ** 0.5)
    assert [int(v) for v in out.getpoint(0, 0)] == [grey] * 3


def test_curve_passes_through_its_points_and_holds_past_the_ends():
    identity = "[(0,0),(255,255)]"
    out = tone.curve(_ramp(), identity, "[(10,20),(128,200),(200,240)]", identity, identity)
    red = _values(out, 0)
    assert red[:11] == [20] * 11 and red[128] == 200 and red[200:] == [240] * 56
    assert _values(out, 1) == list(range(256))


def test_equalize_leaves_a_one_colour_band_alone():
    grey = solid(4, 4, [90, 90, 90])
    out = tone.equalize(grey.copy(interpretation="srgb"))
    assert out.getpoint(0, 0) == [90.0, 90.0, 90.0]


def test_noise_of_zero_changes_nothing():
    assert (tone.noise(_ramp(), 0) - _ramp()).abs().max() == 0
