"""thumbor URLs render as thumbor renders them: sizes, crops, pads, overlays and filters
checked on the output, as a user migrating from thumbor would."""

import pytest

from tests.delivery.thumbor.conftest import png_bytes, rgb_at, solid
from tests.helpers import load

RED, GREEN, BLUE, WHITE = [255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255]


@pytest.mark.parametrize(
    ("url", "size"),
    [
        ("300x200", (300, 200)),
        ("300x0", (300, 225)),
        ("0x150", (200, 150)),
        ("1600x0", (1600, 1200)),  # thumbor enlarges outside fit-in
        ("1600x0/filters:no_upscale()", (800, 600)),
        ("100xorig", (100, 600)),  # orig: the source's side
        ("origx100", (800, 100)),
        ("origxorig", (800, 600)),
        ("fit-in/250xorig", (250, 188)),  # 187.5 rounds up in fit-in
        ("fit-in/300x300", (300, 225)),
        ("fit-in/1600x1600", (800, 600)),  # fit-in never enlarges...
        ("fit-in/1600x1600/filters:upscale()", (1600, 1200)),  # ...unless asked to
        ("adaptive-fit-in/150x400", (200, 150)),  # the box turned to the source's way
        ("full-fit-in/300x300", (400, 300)),  # covers the box
        ("-x194", (259, 194)),  # a bare minus flips, the side stays proportional
        ("x-", (800, 600)),
        ("-x-", (800, 600)),
        ("0x0:0x0/300x0", (300, 225)),  # 0x0:0x0 is no crop
        ("110x220:10x20", (800, 600)),  # a crop ending left of its start is ignored
        ("100x100:300x200/100x50", (100, 50)),
        ("300x200/filters:rotate(90)", (200, 300)),  # rotate() turns the resized image
        ("300x200/filters:rotate(45)", (300, 200)),  # thumbor ignores other angles
        ("filters:proportion(0.5)", (400, 300)),
        ("filters:proportion(1.5)", (800, 600)),  # out of (0, 1]: ignored
        ("fit-in/1000x1000/filters:fill(red)", (1000, 1000)),
        ("fit-in/300x300/filters:fill(red)", (300, 300)),
    ],
)
def test_sizes(thumbor, photo, url, size):
    img = thumbor(url, photo)
    assert (img.width, img.height) == size


@pytest.mark.parametrize("size", ["9" * 400 + "x10", "-" + "9" * 320 + "x", "x" + "9" * 700])
def test_sizes_of_hundreds_of_digits_are_a_400(client, photo, size):
    r = client.get(f"/thumbor/unsafe/{size}/{photo.id}")
    assert r.status_code == 400 and r.json()["error"]["code"] == "limit_exceeded"


@pytest.mark.parametrize(
    ("filters", "size"), [("", (300, 300)), ("filters:no_upscale()/", (200, 100))]
)
def test_manual_crop_then_no_upscale_as_thumbor(client, quadrants, filters, size):
    """A 100x50 region at 300x300 enlarges; no_upscale() caps the request by the whole
    200x100 source, not by the region (thumbor 7.8.0 gives these sizes too)."""
    r = client.get(f"/thumbor/unsafe/0x0:100x50/300x300/{filters}{quadrants.id}")
    assert r.status_code == 200, r.text
    img = load(r.content)
    assert (img.width, img.height) == size


def test_proportional_sides_round_half_to_even(thumbor, portrait):
    img = thumbor("0x350", portrait)  # 600x800: 262.5 wide
    assert (img.width, img.height) == (262, 350)


@pytest.mark.parametrize(
    ("url", "fmt"),
    [
        ("filters:format(asdf)", "jpeg"),  # unknown: skipped, the source's format stays
        ("filters:format('webp')", "webp"),  # quoted
        ("filters:format(webp):format(nope)", "jpeg"),  # a later bad one resets it
        ("filters:format(heic)", "jpeg"),  # not served here: as a thumbor without HEIF
        ("filters:format(png)", "png"),
    ],
)
def test_format(client, photo, url, fmt):
    r = client.get(f"/thumbor/unsafe/{url}/{photo.id}")
    assert r.status_code == 200 and r.headers["content-type"] == f"image/{fmt}"


@pytest.mark.parametrize(
    "junk", ["brightness(x)", "quality(-1)", "sepia()", "blur(nan)", "rotate()", "fill(red"]
)
def test_filters_thumbor_cannot_parse_are_skipped(client, photo, junk):
    plain = client.get(f"/thumbor/unsafe/300x200/{photo.id}")
    r = client.get(f"/thumbor/unsafe/300x200/filters:{junk}:strip_icc()/{photo.id}")
    assert r.status_code == 200 and r.headers["etag"] == plain.headers["etag"]


def test_fit_in_fill_pads_around_the_unscaled_image(thumbor, quadrants):
    img = thumbor("fit-in/400x400/filters:fill(black)", quadrants)  # 200x100 source
    assert (img.width, img.height) == (400, 400)
    assert rgb_at(img, 100, 150)[:3] == RED and rgb_at(img, 299, 150)[:3] == GREEN
    assert rgb_at(img, 100, 249)[:3] == BLUE and rgb_at(img, 299, 249)[:3] == WHITE
    assert rgb_at(img, 99, 150)[:3] == [0, 0, 0] and rgb_at(img, 100, 149)[:3] == [0, 0, 0]


def test_fill_transparent_pads_clear_even_around_an_opaque_image(thumbor, photo):
    img = thumbor("fit-in/900x900/filters:fill(transparent):format(png)", photo)
    assert (img.width, img.height, img.bands) == (900, 900, 4)
    assert img.getpoint(450, 10)[3] == 0 and img.getpoint(450, 450)[3] == 255


def test_fill_auto_is_the_mean_colour_and_a_given_size_is_the_canvas(thumbor, quadrants):
    img = thumbor("fit-in/200x200/filters:fill(auto)", quadrants)
    assert rgb_at(img, 0, 0)[:3] == [127, 127, 127]
    canvas = thumbor("300x0/filters:fill(red)", quadrants)  # no free side: no padding
    assert (canvas.width, canvas.height) == (300, 150)


def test_fill_merged_shows_the_colour_through_transparency(thumbor, logo):
    plain = thumbor("fit-in/200x200/filters:fill(blue)", logo)
    merged = thumbor("fit-in/200x200/filters:fill(blue,true)", logo)
    # The logo's left edge is clear: unmerged it stays clear, merged it turns blue.
    assert plain.getpoint(40, 100)[3] == 0
    assert rgb_at(merged, 40, 100) == [0, 0, 255, 255]


def test_fill_blur_is_the_image_blurred_behind_it(thumbor, quadrants):
    img = thumbor("fit-in/200x300/filters:fill(blur)", quadrants)
    assert (img.width, img.height) == (200, 300)
    top = rgb_at(img, 100, 10)
    assert top not in (RED, GREEN, BLUE, WHITE, [0, 0, 0, 0])  # a mix, not a flat pad


def test_rotate_turns_counter_clockwise(thumbor, quadrants):
    img = thumbor("filters:rotate(90)", quadrants)
    assert (img.width, img.height) == (100, 200)
    assert rgb_at(img, 10, 190) == RED  # the top-left corner went to the bottom left
    assert rgb_at(thumbor("filters:rotate(-90)", quadrants), 90, 10) == RED


def test_flips_come_from_the_size(thumbor, quadrants):
    assert rgb_at(thumbor("-0x0", quadrants), 10, 10) == GREEN
    assert rgb_at(thumbor("0x-0", quadrants), 10, 10) == BLUE
    assert rgb_at(thumbor("-100x-50", quadrants), 5, 5) == WHITE


def test_contrast_is_pils_formula(thumbor, ramp):
    img = thumbor("filters:contrast(40)", ramp)
    # factor (100 + 40)² // 100 = 196; v → trunc(196 (v - 128) / 100) + 128, clamped
    for v in (0, 100, 128, 150, 200):
        expected = max(0, min(255, int(196 * (v - 128) / 100) + 128))
        assert rgb_at(img, v, 0)[0] == expected


def test_grayscale_is_pils_luma_on_the_stored_values(thumbor, quadrants):
    img = thumbor("filters:grayscale()", quadrants)
    assert img.bands == 1
    # L = (19595 R + 38470 G + 7471 B + 32768) >> 16; libvips' b-w would give 54/182/18
    assert [rgb_at(img, x, y)[0] for x, y in ((0, 0), (150, 0), (0, 75))] == [76, 150, 29]


def test_brightness_and_rgb_add_percentages_of_full_scale(thumbor, quadrants):
    assert rgb_at(thumbor("filters:brightness(-20)", quadrants), 150, 75) == [204] * 3
    assert rgb_at(thumbor("filters:rgb(10,-10,20)", quadrants), 0, 0) == [255, 0, 51]


def test_equalize_stretches_a_flat_histogram(thumbor, ramp):
    flat = thumbor("filters:contrast(-80)", ramp)[0]
    assert (flat.min(), flat.max()) == (123, 133)
    img = thumbor("filters:contrast(-80):equalize()", ramp)[0]
    assert (img.min(), img.max()) == (0, 255)


def test_noise_is_seeded(client, photo):
    a = client.get(f"/thumbor/unsafe/100x100/filters:noise(40)/{photo.id}")
    b = client.get(f"/thumbor/unsafe/100x100/filters:noise(40)/{photo.id}")
    plain = client.get(f"/thumbor/unsafe/100x100/{photo.id}")
    assert a.content == b.content  # one URL, one body: CDNs and ETags stay right
    assert (load(a.content) - load(plain.content)).abs().avg() > 3


def test_sharpen_with_no_amount_changes_nothing_and_with_some_adds_contrast(thumbor, photo):
    plain = thumbor("200x150/filters:rotate(0):format(png)", photo)  # the same pipeline
    same = thumbor("200x150/filters:sharpen(0,1,false):format(png)", photo)
    assert (same - plain).abs().max() <= 1
    sharp = thumbor("200x150/filters:sharpen(3,1,true):format(png)", photo)
    assert sharp.deviate() > plain.deviate()


def test_blur_softens(thumbor, photo):
    plain = thumbor("200x150/filters:format(png)", photo)
    assert thumbor("200x150/filters:blur(3):format(png)", photo).deviate() < plain.deviate()


def test_round_corner_paints_the_corners(thumbor, quadrants):
    img = thumbor("filters:round_corner(20,0,0,255)", quadrants)
    assert rgb_at(img, 0, 0) == BLUE and rgb_at(img, 50, 10) == RED
    clear = thumbor("filters:round_corner(20,0,0,255,true)", quadrants)
    assert clear.getpoint(0, 0)[3] == 0 and clear.getpoint(50, 10)[3] == 255


def test_background_color_fills_transparency(thumbor, logo):
    img = thumbor("filters:background_color(blue)", logo)
    assert rgb_at(img, 0, 40) == [0, 0, 255, 255]


def test_stretch_ignores_the_aspect(thumbor, quadrants):
    cropped = thumbor("300x50/top", quadrants)
    stretched = thumbor("300x50/top/filters:stretch()", quadrants)
    assert rgb_at(cropped, 0, 49) == RED  # the top third of the source
    assert rgb_at(stretched, 0, 49) == BLUE  # all of it, squashed


def test_focal_point_steers_the_crop(thumbor, quadrants):
    assert rgb_at(thumbor("50x100", quadrants), 0, 0) != GREEN  # centred: red|green seam
    assert rgb_at(thumbor("50x100/filters:focal(150x0:200x50)", quadrants), 0, 0) == GREEN


def test_trim_cuts_the_border(thumbor, ingest):
    framed = solid(100, 80, [255, 255, 255]).insert(solid(20, 10, [255, 0, 0]), 30, 40)
    asset = ingest(png_bytes(framed), "framed.png")
    for url in ("trim", "trim:bottom-right", "trim:top-left:30"):
        img = thumbor(url, asset)
        assert (img.width, img.height) == (20, 10) and rgb_at(img, 0, 0) == RED


def test_debug_outlines_the_focal_points_instead_of_transforming(thumbor, quadrants):
    img = thumbor("debug/50x50/filters:focal(10x10:30x30)", quadrants)
    assert (img.width, img.height) == (200, 100)
    assert rgb_at(img, 10, 20) == WHITE and rgb_at(img, 30, 30) == WHITE
    assert rgb_at(img, 20, 20) == RED


@pytest.mark.parametrize(
    ("url", "inside", "outside"),
    [
        ("watermark(MARK,10,20,0)", [(10, 20), (49, 49)], [(9, 20), (50, 20), (10, 50)]),
        ("watermark(MARK,-10,-20,0)", [(150, 50), (189, 79)], [(149, 50), (190, 79)]),
        ("watermark(MARK,10p,-10p,0)", [(20, 60), (59, 89)], [(19, 60), (20, 59)]),
        ("watermark(MARK,center,center,0)", [(80, 35), (119, 64)], [(79, 35), (80, 65)]),
        ("watermark(MARK,-0,-0,0)", [(160, 70), (199, 99)], [(159, 70)]),
        # repeat: 5 across with no gap; 3 down, the 10 spare pixels split into 5-pixel gaps
        ("watermark(MARK,repeat,repeat,0)", [(0, 0), (199, 29), (0, 35), (0, 99)],
         [(0, 30), (0, 34), (199, 65)]),
        ("watermark(MARK,0,0,0,50)", [(99, 74)], [(100, 0), (0, 75)]),  # 50 % of the width
        ("watermark(MARK,0,0,0,none,50)", [(66, 49)], [(67, 0), (0, 50)]),  # of the height
    ],
)  # fmt: skip
def test_watermark_positions(client, quadrants, mark, url, inside, outside):
    r = client.get(f"/thumbor/unsafe/filters:{url.replace('MARK', mark.id)}/{quadrants.id}")
    assert r.status_code == 200, r.text
    img = load(r.content)
    assert (img.width, img.height) == (200, 100)  # the mark never resizes the image
    for x, y in inside:
        assert rgb_at(img, x, y)[:3] == [0, 200, 0], (x, y)
    for x, y in outside:
        assert rgb_at(img, x, y)[:3] != [0, 200, 0], (x, y)


def test_watermark_alpha_is_subtracted_transparency(client, quadrants, mark):
    r = client.get(f"/thumbor/unsafe/filters:watermark({mark.id},0,0,50)/{quadrants.id}")
    # alpha 255 - 255 * 50 // 100 = 128 over red
    assert rgb_at(load(r.content), 0, 0)[:3] == pytest.approx([127, 100, 0], abs=1)


def test_watermark_of_a_missing_asset_is_a_400(client, quadrants):
    r = client.get(f"/thumbor/unsafe/filters:watermark({'z' * 21},0,0,0)/{quadrants.id}")
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_watermark"


def test_colour_words_follow_pil(thumbor, quadrants):
    def pad(word):
        return rgb_at(thumbor(f"fit-in/200x200/filters:fill({word})", quadrants), 0, 0)

    assert pad("rebeccapurple") == [102, 51, 153, 255]
    assert pad("f80") == [255, 136, 0, 255]
    assert pad("FF000080") == [255, 0, 0, 128]


def test_unknown_colour_is_a_400(client, quadrants):
    r = client.get(f"/thumbor/unsafe/fit-in/200x200/filters:fill(zzz)/{quadrants.id}")
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_thumbor_url"


def test_filters_run_in_url_order(thumbor, quadrants):
    padded_then_halved = thumbor("fit-in/200x200/filters:fill(black):proportion(0.5)", quadrants)
    halved_then_padded = thumbor("fit-in/200x200/filters:proportion(0.5):fill(black)", quadrants)
    assert (padded_then_halved.width, padded_then_halved.height) == (100, 100)
    assert (halved_then_padded.width, halved_then_padded.height) == (200, 200)


def test_jpeg_drops_alpha_as_pil_does(thumbor, logo, quadrants):
    """PIL's RGB conversion shows the stored colour of clear pixels, flattening nothing."""
    assert rgb_at(thumbor("filters:format(jpeg)", logo), 2, 40) == pytest.approx(
        [200, 30, 30], abs=3
    )
    padded = thumbor("fit-in/400x400/filters:fill(transparent):format(jpeg)", quadrants)
    assert rgb_at(padded, 200, 10) == pytest.approx([0, 0, 0], abs=3)
    corners = thumbor("filters:round_corner(20,0,0,255,true):format(jpeg)", quadrants)
    assert rgb_at(corners, 0, 0) == pytest.approx(BLUE, abs=12)  # JPEG ringing from red
