"""proxy.jpg from complex formats, on real corpus files through real libvips, LibRaw and
Ghostscript: what a user checks is size, upright orientation, sRGB 8-bit JPEG, pages."""

import http.server
import threading
from pathlib import Path
from typing import ClassVar

import pytest
import pyvips

from ingest_worker.errors import StageError
from ingest_worker.stages import proxy, sniff
from shared import imaging
from tests.helpers import corpus_file


def _proxy(path: Path, tmp_path: Path, settings) -> tuple[proxy.Proxy, pyvips.Image]:
    made = proxy.make(sniff.sniff(path, path.name), path, tmp_path, settings)
    data = made.path.read_bytes()
    assert imaging.sniff_format(data) == "jpeg"
    image = pyvips.Image.new_from_buffer(data, "")
    assert (image.width, image.height) == (made.width, made.height)
    assert image.format == "uchar"
    assert (image.bands, image.interpretation) in ((3, "srgb"), (1, "b-w"))  # grey stays grey
    assert "icc-profile-data" not in image.get_fields()  # plain sRGB, metadata stripped
    assert "orientation" not in image.get_fields() or image.get("orientation") == 1
    return made, image


@pytest.mark.parametrize(
    ("relpath", "size"),
    [
        ("heif/iphone_8plus_orientation6.heic", (3024, 4032)),  # portrait: rotation applied
        ("heif/iphone_xs_gps_p3.heic", (1025, 900)),
        ("hostile/heic_named_jpg.jpg", (1440, 1440)),  # the extension lies; bytes decide
        ("avif/irot1_imir0.avif", (640, 427)),  # irot + imir transforms applied
        ("avif/hdr_10bit_bt2020_pq.avif", (2048, 858)),  # 10-bit → 8-bit
        ("other/nikon_d1x_Reagan.jp2", (200, 130)),
        ("other/nikon_d1x_Reagan.jxl", (200, 130)),
    ],
)
def test_heif_avif_and_friends_become_full_size_upright_srgb(relpath, size, tmp_path, settings):
    made, _ = _proxy(corpus_file(relpath), tmp_path, settings)
    assert (made.width, made.height) == size


def test_display_p3_is_converted_not_just_relabelled(tmp_path, settings):
    """An iPhone's P3 red is outside sRGB: converted, it clips; relabelled, it would not."""
    made, image = _proxy(corpus_file("heif/iphone_xs_gps_p3.heic"), tmp_path, settings)
    assert made.has_icc
    direct = pyvips.Image.new_from_file(str(corpus_file("heif/iphone_xs_gps_p3.heic")))
    assert abs(image.avg() - direct.avg()) > 0.1


@pytest.mark.parametrize(
    ("relpath", "size", "pages"),
    [
        ("tiff/multipage_fax_g3.tif", (2464, 3248), 2),
        ("tiff/multipage_ghostscript_total_pages_zero.tif", (1728, 2156), 3),
        ("tiff/multipage_irfanview.tiff", (10, 10), 3),
    ],
)
def test_multipage_tiff_is_its_first_page_with_a_page_count(
    relpath, size, pages, tmp_path, settings
):
    made, _ = _proxy(corpus_file(relpath), tmp_path, settings)
    assert (made.width, made.height, made.pages) == (*size, pages)


@pytest.mark.parametrize(
    "relpath",
    [
        "tiff/16bit_rgb_pixelmator.tiff",
        "tiff/16bit_fujifilm_xt2_photoshop.tiff",  # 16-bit Adobe RGB
        "tiff/16bit_lab_nikon_d5200.tiff",  # CIELab
        "tiff/cmyk_tiled_jpeg_photoshop.tif",  # CMYK
    ],
)
def test_16_bit_lab_and_cmyk_end_as_8_bit_srgb(relpath, tmp_path, settings):
    _, image = _proxy(corpus_file(relpath), tmp_path, settings)
    assert image.max() > 100  # not crushed to black by a missing 16→8 bit shift


def test_cmyk_is_not_inverted(tmp_path, settings):
    _, image = _proxy(corpus_file("tiff/cmyk_tiled_jpeg_photoshop.tif"), tmp_path, settings)
    direct = pyvips.Image.new_from_file(str(corpus_file("tiff/cmyk_tiled_jpeg_photoshop.tif")))
    reference = direct.icc_transform("srgb", input_profile="cmyk")
    assert abs(image.avg() - reference.avg()) < 3


@pytest.mark.parametrize(
    ("relpath", "size"),
    [
        ("psd/group_clipping.psd", (627, 510)),
        ("psd/text_layers_cs5.psd", (400, 400)),
        ("psd/16bit_rgb_layers.psd", (4, 4)),
        ("psd/large_document_2layers.psb", (101, 55)),
    ],
)
def test_psd_and_psb_become_their_flattened_composite(relpath, size, tmp_path, settings):
    made, _ = _proxy(corpus_file(relpath), tmp_path, settings)
    assert (made.width, made.height, made.pages) == (*size, 1)


def test_raw_is_demosaiced_to_full_size(tmp_path, settings):
    made, _ = _proxy(corpus_file("raw/panasonic_dmc-lx3.rw2"), tmp_path, settings)
    assert (made.width, made.height) == (3664, 2754)


def test_raw_orientation_is_applied(tmp_path, settings):
    made, _ = _proxy(corpus_file("raw/apple_iphone12pro_proraw.dng"), tmp_path, settings)
    assert made.orientation == 6
    assert (made.width, made.height) == (3024, 4032)


def test_raw_without_image_data_fails_with_decode_error(tmp_path, settings):
    with pytest.raises(StageError) as err:
        _proxy(corpus_file("raw/nikon_d70.nef"), tmp_path, settings)
    assert err.value.code == "decode_error"
    assert "LibRaw" in err.value.message


@pytest.mark.parametrize(
    "relpath",
    [
        "vector/wikimedia_commons_logo.svg",
        "vector/libvips_logo.svgz",
        "vector/gnuplot.eps",  # Ghostscript's pngalpha: clear where nothing is painted
        "vector/illustrator_2020.ai",  # poppler on a clear page
        "psd/gimp_cyrillic_layer_name.psd",  # 16-bit RGBA, transparent background
        "psd/smartobject_layer.psd",
    ],
)
def test_transparency_is_kept_in_a_png_beside_the_jpeg(relpath, tmp_path, settings):
    made, jpeg = _proxy(corpus_file(relpath), tmp_path, settings)
    assert made.alpha_path is not None and made.has_alpha
    data = made.alpha_path.read_bytes()
    assert imaging.sniff_format(data) == "png"
    png = pyvips.Image.new_from_buffer(data, "")
    assert (png.width, png.height) == (made.width, made.height)
    assert (png.bands, png.format, png.interpretation) == (4, "uchar", "srgb")
    alpha = png[3]
    assert alpha.min() == 0 and alpha.max() == 255  # see-through and solid parts both kept
    assert "icc-profile-data" not in png.get_fields()
    # The JPEG is the same picture flattened on white: where the PNG is clear, it is white
    # (but for JPEG ringing next to edges).
    clear = alpha == 0
    shortfall = clear.ifthenelse(255 - jpeg, 0).avg() / (clear.avg() / 255)
    assert shortfall < 4  # flattened on black it would be ~255
    solid = png.flatten(background=[255, 255, 255])
    assert (solid - jpeg).abs().avg() < 3  # JPEG Q92 noise


@pytest.mark.parametrize(
    "relpath",
    [
        "psd/text_layers_cs5.psd",  # no alpha band
        "heif/iphone_xs_gps_p3.heic",
    ],
)
def test_opaque_images_get_only_the_jpeg(relpath, tmp_path, settings):
    made, _ = _proxy(corpus_file(relpath), tmp_path, settings)
    assert made.alpha_path is None and not made.has_alpha


@pytest.mark.parametrize(
    ("relpath", "long_side"),
    [
        ("vector/gnuplot.eps", 2048),
        ("vector/illustrator88.eps", 2048),
        ("vector/illustrator_2020.ai", 2048),  # PDF-based Illustrator
        ("vector/wikimedia_commons_logo.svg", 2048),
        ("vector/libvips_logo.svgz", 2048),
        ("vector/tv_test_pattern.svg", 2048),  # viewBox only
    ],
)
def test_vectors_are_rasterised_sharp(relpath, long_side, tmp_path, settings):
    made, image = _proxy(corpus_file(relpath), tmp_path, settings)
    assert max(made.width, made.height) == long_side
    assert image.deviate() > 1  # something was drawn, not a blank page


def test_the_eps_bounding_box_keeps_the_aspect_ratio(tmp_path, settings):
    made, _ = _proxy(corpus_file("vector/gnuplot.eps"), tmp_path, settings)
    assert abs(made.width / made.height - 360 / 252) < 0.01  # %%BoundingBox: 50 50 410 302


@pytest.mark.parametrize(
    "body",
    [
        "(/etc/passwd) (r) file 100 string readstring pop",
        "(%pipe%touch {marker}) (w) file pop",
        "({marker}) (w) file dup (x) writestring closefile",
        "<< /OutputFile ({marker}) >> setpagedevice",
    ],
)
def test_postscript_file_and_device_operators_are_refused(body, tmp_path, settings):
    marker = tmp_path / "outside" / "pwned.txt"
    marker.parent.mkdir()
    eps = tmp_path / "evil.eps"
    eps.write_text(
        "%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 100 100\n"
        + body.format(marker=marker)
        + "\nshowpage\n"
    )
    work = tmp_path / "work"
    work.mkdir()
    with pytest.raises(StageError) as err:
        proxy.make(sniff.sniff(eps), eps, work, settings)
    assert err.value.code == "forbidden_operation", err.value.message
    assert not marker.exists()


def _svg(tmp_path: Path, inner: str, prolog: str = "") -> Path:
    path = tmp_path / "drawing.svg"
    path.write_text(
        f'<?xml version="1.0"?>{prolog}<svg xmlns="http://www.w3.org/2000/svg" '
        'xmlns:xlink="http://www.w3.org/1999/xlink" width="200" height="100">'
        f'<rect width="200" height="100" fill="#00ff00"/>{inner}</svg>'
    )
    return path


class _Recorder(http.server.BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        _Recorder.hits.append(self.path)
        self.send_response(404)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def test_svg_external_references_are_never_fetched(tmp_path, settings):
    red = tmp_path / "red.png"
    pyvips.Image.black(50, 50, bands=3).linear([1, 1, 1], [255, 0, 0]).cast("uchar").pngsave(
        str(red)
    )
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    _Recorder.hits.clear()
    try:
        path = _svg(
            tmp_path,
            f'<style>@import url("{url}/style.css");</style>'
            f'<image href="{url}/net.png" x="0" y="0" width="100" height="100"/>'
            f'<image xlink:href="{red.as_uri()}" x="100" y="0" width="100" height="100"/>'
            '<image href="red.png" x="100" y="0" width="100" height="100"/>'
            f'<use href="{url}/sprite.svg#a"/>',
        )
        (tmp_path / "work").mkdir()
        made, image = _proxy(path, tmp_path / "work", settings)
    finally:
        server.shutdown()
    assert _Recorder.hits == []
    # The local red PNG was not read: the right half is still the green rectangle.
    r, g, _b = image.crop(made.width * 3 // 4, made.height // 2, 1, 1).getpoint(0, 0)
    assert g > 200 and r < 50


def test_svg_entities_are_refused(tmp_path, settings):
    path = _svg(
        tmp_path,
        "<text y='50'>&xxe;</text>",
        '<!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
    )
    with pytest.raises(StageError) as err:
        proxy.make(sniff.sniff(path), path, tmp_path, settings)
    assert err.value.code == "unsafe_svg"


def test_svg_declaring_a_giant_canvas_is_refused_from_the_header(tmp_path, settings):
    with pytest.raises(StageError) as err:
        _proxy(corpus_file("hostile/bomb_svg_10000000px.svg"), tmp_path, settings)
    assert err.value.code == "too_many_pixels"


def test_the_pixel_limit_is_configurable(tmp_path, settings):
    small = settings.model_copy(update={"max_source_pixels": 1_000_000})
    with pytest.raises(StageError) as err:
        _proxy(corpus_file("heif/iphone_8plus_orientation6.heic"), tmp_path, small)
    assert err.value.code == "too_many_pixels"
