import pytest
import pyvips

from shared import imaging
from tests.helpers import corpus_file, load, make_jpeg


def test_probe_reports_displayed_size_after_orientation(tmp_path):
    path = make_jpeg(tmp_path / "r.jpg", 400, 600, orientation=6)
    header = imaging.probe(path, 100_000_000)
    assert (header.width, header.height, header.orientation) == (600, 400, 6)


def test_probe_refuses_a_decompression_bomb_from_the_header():
    path = corpus_file("hostile/bomb_20000x14000.jpg")
    with pytest.raises(imaging.TooManyPixels, match="280000000 pixels"):
        imaging.probe(path, 100_000_000)


def test_probe_on_text_is_a_decode_error(tmp_path):
    path = tmp_path / "x.jpg"
    path.write_text("not an image")
    with pytest.raises(imaging.ImageDecodeError):
        imaging.probe(path, 100_000_000)


def test_thumbnail_applies_orientation_and_shrinks(tmp_path):
    path = make_jpeg(tmp_path / "r.jpg", 400, 600, orientation=6)
    image = imaging.thumbnail(path, 300, 300)
    assert (image.width, image.height) == (300, 200)


def test_validate_turns_truncation_into_an_error():
    path = corpus_file("hostile/truncated_jpeg.jpg")
    with pytest.raises(imaging.ImageDecodeError, match="Premature end"):
        imaging.in_memory(imaging.thumbnail(path, 64, validate=True))


@pytest.mark.parametrize("fmt", ["jpeg", "png", "webp", "avif", "gif"])
def test_encode_writes_the_format_by_magic_bytes(tmp_path, fmt):
    image = imaging.thumbnail(make_jpeg(tmp_path / "s.jpg", 64, 48), 64)
    data = imaging.encode(image, fmt)
    assert imaging.sniff_format(data) == fmt
    out = load(data)
    assert (out.width, out.height) == (64, 48)


@pytest.mark.parametrize("fmt", ["jpeg", "webp", "png", "avif"])
def test_encode_strips_metadata(fmt):
    path = corpus_file("jpeg/nikon_coolpix_p6000_gps_DSCN0010.jpg")
    assert "exif-data" in pyvips.Image.new_from_file(str(path)).get_fields()
    data = imaging.encode(imaging.thumbnail(path, 100), fmt)
    out = load(data)
    assert b"NIKON" not in data and b"COOLPIX" not in data  # no camera EXIF, any format
    assert "icc-profile-data" not in out.get_fields()
    assert "gps" not in " ".join(out.get_fields()).lower()


def test_cmyk_becomes_srgb():
    path = corpus_file("jpeg/cmyk_swop_canon_eos300d.jpg")
    assert pyvips.Image.new_from_file(str(path)).interpretation == "cmyk"
    out = load(imaging.encode(imaging.thumbnail(path, 200), "webp"))
    assert out.interpretation == "srgb" and out.bands == 3


def test_adobe_rgb_is_converted_not_just_relabelled():
    path = corpus_file("jpeg/nikon_d1x_adobergb_Reagan.jpg")
    converted = imaging.thumbnail(path, 100, to_srgb=True)
    relabelled = imaging.thumbnail(path, 100, to_srgb=False)
    assert converted.interpretation == "srgb"
    # Adobe RGB → sRGB moves pixel values; a relabel would leave them identical.
    assert (converted - relabelled).abs().max() > 3


def test_sixteen_bit_png_is_made_eight_bit():
    path = corpus_file("png/16bit_rgb_flag.png")
    source = pyvips.Image.new_from_file(str(path))
    assert source.format == "ushort"
    out = load(imaging.encode(imaging.thumbnail(path, 100), "png"))
    assert out.format == "uchar" and out.interpretation == "srgb"
    # Scaled, not clipped: the 8-bit mean matches the 16-bit mean / 257.
    assert abs(out.avg() - source.avg() / 257) < 6
