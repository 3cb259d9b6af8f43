"""Every render parameter, checked on the output pixels (through the real app)."""

import math

import pytest
import pyvips

from delivery import transform
from delivery.params import RenderParams
from delivery.source import RenderSource
from shared import imaging
from shared.errors import PicshaError
from tests.helpers import corpus_file, load, make_jpeg, make_png_alpha


def _solid(path, width: int, height: int, rgb: list[int], alpha: int | None = None):
    image = pyvips.Image.black(width, height, bands=3).linear([1, 1, 1], rgb)
    if alpha is not None:
        image = image.bandjoin(alpha)
    image.cast("uchar").copy(interpretation="srgb").pngsave(str(path))
    return path


@pytest.fixture
def quadrants(ingest, tmp_path):
    """400x200: left half red, right half blue, a green stripe along the top."""
    red = pyvips.Image.black(200, 200, bands=3).linear([1, 1, 1], [255, 0, 0])
    blue = pyvips.Image.black(200, 200, bands=3).linear([1, 1, 1], [0, 0, 255])
    image = red.join(blue, "horizontal")
    stripe = pyvips.Image.black(400, 20, bands=3).linear([1, 1, 1], [0, 255, 0])
    image = image.insert(stripe, 0, 0).cast("uchar").copy(interpretation="srgb")
    path = tmp_path / "q.png"
    image.pngsave(str(path))
    return ingest(path.read_bytes(), "q.png")


def _px(client, asset, query: str) -> pyvips.Image:
    r = client.get(f"/render/{asset.id}?{query}")
    assert r.status_code == 200, r.text
    return load(r.content)


def _rgb(image: pyvips.Image, x: int, y: int) -> list[int]:
    return [round(v) for v in image.getpoint(x, y)[:3]]


def _close(a: list[int], b: list[int], tol: int = 40) -> bool:
    return all(abs(x - y) <= tol for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize(
    ("gravity", "colour"), [("west", [255, 0, 0]), ("east", [0, 0, 255])]
)  # fmt: skip
def test_compass_gravity_chooses_the_side(client, quadrants, gravity, colour):
    img = _px(client, quadrants, f"wd=100&ht=100&crop=true&g={gravity}&fm=png")
    assert (img.width, img.height) == (100, 100)
    assert _close(_rgb(img, 50, 80), colour)


def test_north_and_south_gravity(client, quadrants):
    north = _px(client, quadrants, "wd=400&ht=50&crop=true&g=north&fm=png")
    south = _px(client, quadrants, "wd=400&ht=50&crop=true&g=south&fm=png")
    assert _close(_rgb(north, 10, 2), [0, 255, 0])  # the top stripe is kept
    assert _close(_rgb(south, 10, 2), [255, 0, 0])


def test_rotation_and_flip(client, quadrants):
    rot = _px(client, quadrants, "rot=90&fm=png")
    assert (rot.width, rot.height) == (200, 400)
    assert _close(_rgb(rot, 100, 20), [255, 0, 0])  # red (left) is now on top
    assert _close(_rgb(rot, 190, 200), [0, 255, 0])  # the top stripe is now on the right
    flipped = _px(client, quadrants, "flip=h&fm=png")
    assert _close(_rgb(flipped, 50, 100), [0, 0, 255])
    vflip = _px(client, quadrants, "flip=v&fm=png")
    assert _close(_rgb(vflip, 10, 195), [0, 255, 0])


def test_rotation_keeps_the_asked_box(client, quadrants):
    img = _px(client, quadrants, "wd=100&ht=200&crop=true&rot=90&fm=png")
    assert (img.width, img.height) == (100, 200)


@pytest.mark.parametrize(
    ("wd", "dpr"),
    [(10**400, 1.0), (10**400, 2.0), (5000, 1.0), (3000, 2.0), (100, math.nan)],
    ids=["400-digits", "400-digits-dpr2", "5000", "3000-dpr2", "dpr-nan"],
)
def test_target_geometry_refuses_an_oversized_side_of_any_magnitude(settings, wd, dpr):
    # model_construct: unvalidated, as a caller that skips RenderParams' bounds would pass it.
    params = RenderParams.model_construct(wd=wd, dpr=dpr)
    with pytest.raises(PicshaError) as err:
        transform.target_geometry(params, RenderSource("k", 640, 480, False), settings)
    assert (err.value.status, err.value.code) == (400, "limit_exceeded")


def test_gray(client, quadrants):
    img = _px(client, quadrants, "gray=true&fm=png")
    assert img.bands == 1 and img.interpretation == "b-w"
    red, blue = img.getpoint(50, 100)[0], img.getpoint(350, 100)[0]
    assert 90 < red < 160 and 40 < blue < 110  # luminance, not a channel pick


def test_blur_softens_edges_and_sharpen_hardens(client, quadrants):
    sharp = _px(client, quadrants, "fm=png")
    blurred = _px(client, quadrants, "blur=8&fm=png")
    # Across the red/blue edge at x=200 the blurred image has intermediate values.
    assert sharp.getpoint(197, 100)[2] < 10
    assert 20 < blurred.getpoint(197, 100)[2] < 235
    assert _px(client, quadrants, "sharpen=2&fm=png").width == 400


@pytest.mark.parametrize("sigma", [1, 3, 8, 20])
def test_blur_is_the_gaussian_of_the_asked_sigma_and_keeps_brightness(
    client, ingest, tmp_path, sigma
):
    """`blur=sigma` matches the exact gaussian (float, cut at 0.1 % of the peak) and keeps the
    image's mean. libvips' integer blur, its default on 8-bit images, rounds its mask into
    fixed point: +2.4 % brightness and 34 dB at sigma 3, -1.1 % at sigma 20 on a photo."""
    # Mid tones: at 0 and 255 a brightness error would clip and hide.
    left = pyvips.Image.black(200, 200, bands=3).linear([1, 1, 1], [180, 90, 40])
    right = pyvips.Image.black(200, 200, bands=3).linear([1, 1, 1], [60, 120, 200])
    path = tmp_path / "mid.png"
    left.join(right, "horizontal").cast("uchar").copy(interpretation="srgb").pngsave(str(path))
    asset = ingest(path.read_bytes(), "mid.png")
    source = pyvips.Image.new_from_file(str(_px_source(client, asset, tmp_path)))
    truth = source.cast("float").gaussblur(sigma, min_ampl=0.001)
    blurred = _px(client, asset, f"blur={sigma}&fm=png")
    margin = 3 * sigma  # edge handling may differ there
    inner = [im.crop(margin, margin, 400 - 2 * margin, 200 - 2 * margin)
             for im in (blurred, truth)]  # fmt: skip
    assert _psnr(*inner) > 50
    for band in range(3):
        mean, want = inner[0][band].avg(), inner[1][band].avg()
        assert abs(mean - want) < 0.5, f"band {band}: mean {mean:.2f}, gaussian {want:.2f}"


def _px_source(client, asset, tmp_path):
    path = tmp_path / "unblurred.png"
    path.write_bytes(client.get(f"/render/{asset.id}?fm=png").content)
    return path


def _psnr(a: pyvips.Image, b: pyvips.Image) -> float:
    mse = ((a.cast("float") - b.cast("float")) ** 2).avg()
    return 10 * math.log10(255**2 / max(mse, 1e-9))


def test_background_flattens_alpha_into_jpeg(client, ingest, tmp_path):
    asset = ingest(_solid(tmp_path / "t.png", 50, 50, [0, 0, 0], alpha=0).read_bytes())
    img = _px(client, asset, "fm=jpeg&bg=ff0000")
    assert _close(_rgb(img, 25, 25), [255, 0, 0], 10)


def test_quality_changes_size(client, ingest):
    asset = ingest(corpus_file("jpeg/progressive_canon_eos6d.jpg").read_bytes())
    small = client.get(f"/render/{asset.id}?wd=600&q=20&fm=jpeg").content
    large = client.get(f"/render/{asset.id}?wd=600&q=95&fm=jpeg").content
    assert len(small) * 2 < len(large)


def test_watermark_is_composited_where_asked(client, ingest, quadrants, tmp_path):
    mark = ingest(_solid(tmp_path / "w.png", 40, 40, [0, 255, 0]).read_bytes())
    img = _px(client, quadrants, f"wm={mark.id}&wm_pos=se&wm_scale=0.25&wm_opacity=1&fm=png")
    # 25% of 400 = 100 px wide mark in the bottom-right corner, 2% margin.
    assert _close(_rgb(img, 340, 150), [0, 255, 0], 10)
    assert _close(_rgb(img, 250, 100), [0, 0, 255], 10)
    half = _px(client, quadrants, f"wm={mark.id}&wm_pos=se&wm_opacity=0.5&fm=png")
    mixed = _rgb(half, 340, 150)
    assert 80 < mixed[1] < 180 and 80 < mixed[2] < 180  # green over blue at 50 %


def test_watermark_refusals(client, quadrants, failed_asset):
    r = client.get(f"/render/{quadrants.id}?wd=10&wm={quadrants.id}")
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_watermark"
    r = client.get(f"/render/{quadrants.id}?wd=10&wm={'b' * 21}")
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_watermark"
    r = client.get(f"/render/{quadrants.id}?wd=10&wm={failed_asset.id}")
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_watermark"
    r = client.get(f"/render/{quadrants.id}?wd=10&wm=../../x")
    assert r.status_code == 400


def test_text_is_drawn_in_its_colour_and_position(client, quadrants):
    plain = _px(client, quadrants, "fm=png")
    img = _px(
        client, quadrants, "txt=HELLO%20WORLD&txt_size=40&txt_color=00ff00&txt_pos=south&fm=png"
    )
    diff = (img.extract_band(0, n=3) - plain.extract_band(0, n=3)).abs()
    bottom = diff.crop(0, 120, 400, 80)
    top = diff.crop(0, 30, 400, 60)
    assert bottom.max() > 100 and top.max() == 0  # text at the bottom only
    # green ink present
    greens = img.crop(0, 120, 400, 80)[1] > 200
    assert greens.avg() > 0


def test_text_is_not_markup(client, quadrants):
    r = client.get(
        f"/render/{quadrants.id}?txt=%3Cb%3Ex%3C/b%3E%20%26%20%3Cspan%20foo%3D%27&fm=png"
    )
    assert r.status_code == 200


def test_text_limits(client, quadrants):
    r = client.get(f"/render/{quadrants.id}?txt={'x' * 201}")
    assert r.status_code == 400 and "txt" in r.json()["error"]["message"]
    r = client.get(f"/render/{quadrants.id}?txt=a%00b")
    assert r.status_code == 400


@pytest.mark.parametrize(
    "txt",
    [
        "%20", "%20%20%20", "%C2%A0", "%E3%80%80", "%E2%80%83%20",  # spaces of any kind
        "%E2%80%8B", "%E2%80%8D%EF%BB%BF",  # zero-width space, ZWJ + BOM: format marks only
        "%E2%A0%80",  # a braille blank: a visible character by category that draws no ink
        "%0A", "%E2%80%A8", "a%1Bb",  # line breaks and controls
    ],
)  # fmt: skip
def test_text_that_draws_nothing_is_400(client, quadrants, txt):
    r = client.get(f"/render/{quadrants.id}?txt={txt}&fm=png")
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "invalid_parameter"
    assert r.json()["error"]["message"].startswith("txt:")


@pytest.mark.parametrize(
    "txt",
    [
        "%CC%81",  # a lone combining mark (drawn on a dotted circle)
        "%D7%A9%D7%9C%D7%95%D7%9D%20%E2%80%8F",  # Hebrew with a right-to-left mark
        "%F0%9F%91%A8%E2%80%8D%F0%9F%91%A9%E2%80%8D%F0%9F%91%A7",  # an emoji ZWJ sequence
        "a%C2%A0b",  # a no-break space inside text
        "%ED%A0%80",  # a UTF-8-encoded lone surrogate: decoded to U+FFFD
    ],
)
def test_text_in_any_script_is_drawn(client, quadrants, txt):
    plain = _px(client, quadrants, "fm=png")
    img = _px(client, quadrants, f"txt={txt}&txt_size=40&fm=png")
    assert (img.width, img.height) == (plain.width, plain.height)
    assert (img.extract_band(0, n=3) - plain.extract_band(0, n=3)).abs().max() > 100  # ink


@pytest.mark.parametrize("gravity", ["attention", "entropy"])
def test_smart_gravities_use_libvips_smartcrop(client, ingest, tmp_path, gravity):
    # A busy textured square on the right of a flat field: smartcrop must find it.
    flat = pyvips.Image.black(600, 200, bands=3).linear([1, 1, 1], [128, 128, 128])
    noise = pyvips.Image.gaussnoise(150, 150, sigma=80, mean=128).bandjoin([128, 128])
    image = flat.insert(noise.cast("uchar"), 420, 25).cast("uchar").copy(interpretation="srgb")
    path = tmp_path / "busy.png"
    image.pngsave(str(path))
    asset = ingest(path.read_bytes())
    img = _px(client, asset, f"wd=200&ht=200&crop=true&g={gravity}&fm=png")
    assert (img.width, img.height) == (200, 200)
    assert img.extract_band(0).deviate() > 20  # the busy square is in frame


# Displayed source size → {asked box: what crop gives without up=true}.
NO_UPSCALE_CROPS = {
    (640, 480): {(500, 500): (480, 480), (800, 200): (640, 160), (300, 600): (240, 480),
                 (1000, 750): (640, 480), (320, 240): (320, 240)},
    (300, 600): {(500, 500): (300, 300), (400, 100): (300, 75), (200, 800): (150, 600),
                 (100, 100): (100, 100)},
    (400, 400): {(600, 300): (400, 200), (300, 600): (200, 400), (800, 800): (400, 400)},
}  # fmt: skip
CROP_GRAVITIES = ["center", "north", "east", "sw", "attention", "entropy", "face"]


@pytest.mark.parametrize(
    ("kind", "size"),
    [("jpeg", (640, 480)), ("exif-rotated", (640, 480)), ("png", (300, 600)),
     ("png-alpha", (400, 400))],
)  # fmt: skip
def test_crop_never_upscales_and_keeps_the_asked_aspect_ratio(client, ingest, tmp_path, kind, size):
    w, h = size
    if kind == "jpeg":
        path = make_jpeg(tmp_path / "s.jpg", w, h)
    elif kind == "exif-rotated":  # stored 480x640, displayed 640x480: the resize-first path
        path = make_jpeg(tmp_path / "s.jpg", h, w, orientation=6)
    elif kind == "png":
        path = tmp_path / "s.png"
        pyvips.Image.new_from_file(str(make_jpeg(tmp_path / "s.jpg", w, h))).pngsave(str(path))
    else:
        path = make_png_alpha(tmp_path / "s.png", w, h)
    asset = ingest(path.read_bytes(), path.name)
    wrong = []
    for (bw, bh), expected in NO_UPSCALE_CROPS[size].items():
        for gravity in CROP_GRAVITIES:
            for up, want in (("false", expected), ("true", (bw, bh))):
                img = _px(client, asset, f"wd={bw}&ht={bh}&crop=true&g={gravity}&up={up}&fm=png")
                if (img.width, img.height) != want:
                    wrong.append(f"{bw}x{bh} g={gravity} up={up}: {img.width}x{img.height}")
    assert not wrong, wrong


def test_crop_that_cannot_fill_the_box_shows_the_window_of_its_gravity(client, quadrants):
    # 400x200 (red | blue) at 300x300: a 200x200 window, west all red, east all blue.
    west = _px(client, quadrants, "wd=300&ht=300&crop=true&g=west&fm=png")
    east = _px(client, quadrants, "wd=300&ht=300&crop=true&g=east&fm=png")
    assert (west.width, west.height) == (east.width, east.height) == (200, 200)
    assert _close(_rgb(west, 190, 100), [255, 0, 0]) and _close(_rgb(east, 10, 100), [0, 0, 255])


def test_face_gravity_uses_boxes_from_the_manifest(client, quadrants, store):
    from shared.manifest import Analysis, load_manifest, save_manifest

    m = load_manifest(store, quadrants.id)
    m.analysis = Analysis(faces=[{"box": [0.8, 0.4, 0.1, 0.2], "confidence": 0.99}])
    save_manifest(store, m)
    img = _px(client, quadrants, "wd=100&ht=100&crop=true&g=face&fm=png")
    assert _close(_rgb(img, 50, 50), [0, 0, 255])  # the "face" is on the blue side


def test_face_gravity_without_faces_falls_back_to_attention(client, quadrants):
    img = _px(client, quadrants, "wd=100&ht=100&crop=true&g=face&fm=png")
    assert (img.width, img.height) == (100, 100)


def test_animated_gif_stays_animated_in_gif_and_webp(client, ingest):
    asset = ingest(corpus_file("gif/animated_cogs.gif").read_bytes())
    for fmt in ("gif", "webp"):
        r = client.get(f"/render/{asset.id}?wd=50&fm={fmt}")
        frames = pyvips.Image.new_from_buffer(r.content, "", n=-1)
        assert frames.get("n-pages") == asset.image.pages
        assert frames.width == 50
    jpeg = load(client.get(f"/render/{asset.id}?wd=50&fm=jpeg").content)
    assert abs(jpeg.height - 50 * asset.image.height / asset.image.width) <= 1  # one frame


def test_gif_output_and_alpha_png(client, ingest, tmp_path):
    asset = ingest(make_png_alpha(tmp_path / "a.png", 100, 50).read_bytes())
    r = client.get(f"/render/{asset.id}?wd=50&fm=gif")
    assert imaging.sniff_format(r.content) == "gif"
    png = load(client.get(f"/render/{asset.id}?wd=50&fm=png").content)
    assert png.hasalpha()


@pytest.mark.parametrize("query", ["rot=90", "rot=180", "rot=270", "flip=v", "flip=h"])
def test_rotation_and_flips_of_a_large_jpeg(client, ingest, tmp_path, query):
    asset = ingest(make_jpeg(tmp_path / "big.jpg", 1600, 1200).read_bytes())
    r = client.get(f"/render/{asset.id}?wd=1200&fm=webp&{query}")
    assert r.status_code == 200, r.text
    img = load(r.content)
    # `wd` is the final width: a quarter turn is resized for the rotated box.
    assert (img.width, img.height) == (
        (1200, 1600) if "9" in query or "27" in query else (1200, 900)
    )


def test_jpeg_dct_shrink_is_chosen_for_the_exact_target_and_keeps_quality(tmp_path):
    import math
    from pathlib import Path

    from delivery.source import RenderSource
    from delivery.transform import _jpeg_shrink
    from shared import imaging
    from tests.helpers import make_jpeg

    src = RenderSource("k", 4000, 3000, False, is_jpeg=True)
    path = Path("x.jpg")
    assert _jpeg_shrink(src, path, 500 / 4000) == 8
    assert _jpeg_shrink(src, path, 501 / 4000) == 4
    assert _jpeg_shrink(src, path, 0.9) == 1
    assert _jpeg_shrink(src, b"bytes", 0.1) == 1  # buffers go through thumbnail_buffer
    png = RenderSource("k", 4000, 3000, False, is_jpeg=False)
    assert _jpeg_shrink(png, path, 0.1) == 1

    jpeg = make_jpeg(tmp_path / "big.jpg", 2400, 1800)
    plain = imaging.in_memory(imaging.thumbnail(jpeg, 300, 300))
    shrunk = imaging.in_memory(imaging.thumbnail(jpeg, 300, 300, jpeg_shrink=8))
    assert (shrunk.width, shrunk.height) == (plain.width, plain.height) == (300, 225)
    mse = ((plain.cast("float") - shrunk.cast("float")) ** 2).avg()
    assert 10 * math.log10(255**2 / max(mse, 1e-9)) > 30  # the same picture


def _cover_then_cut(path, w: int, h: int, gravity: str) -> pyvips.Image:
    """Reference: resize the displayed image to cover the box, then cut at the gravity."""
    full = pyvips.Image.new_from_file(str(path)).autorot()
    if full.get_typeof("icc-profile-data"):
        full = full.icc_transform("srgb", embedded=True)
    scale = max(w / full.width, h / full.height)
    cover = full.resize(scale)
    dx, dy = cover.width - w, cover.height - h
    x = {"west": 0, "east": dx}.get(gravity, dx // 2)
    y = {"north": 0, "south": dy}.get(gravity, dy // 2)
    return cover.crop(x, y, w, h)


@pytest.mark.parametrize(
    ("name", "box", "gravity"),
    [
        ("jpeg/orientation_1_Landscape_1.jpg", (100, 100), "center"),
        ("jpeg/orientation_1_Landscape_1.jpg", (60, 150), "west"),
        ("jpeg/nikon_d1x_adobergb_Reagan.jpg", (200, 60), "south"),  # ICC, DCT shrink
        ("jpeg/orientation_6_Landscape_6.jpg", (100, 100), "east"),  # rotated: resize first
        ("jpeg/orientation_8_Landscape_8.jpg", (150, 50), "north"),
    ],
)
def test_compass_cover_matches_resize_then_cut(client, ingest, name, box, gravity):
    path = corpus_file(name)
    asset = ingest(path.read_bytes())
    w, h = box
    img = _px(client, asset, f"wd={w}&ht={h}&crop=true&g={gravity}&fm=png")
    assert (img.width, img.height) == (w, h)
    ref = _cover_then_cut(path, w, h, gravity)
    diff = (img[:3].cast("float") - ref[:3].cast("float")).abs().avg()
    assert diff < 6, f"mean abs difference {diff:.1f} levels from resize-then-cut"


def test_compass_cover_on_alpha_png_keeps_alpha_and_pixels(client, ingest, tmp_path):
    path = make_png_alpha(tmp_path / "a.png", 600, 300)
    asset = ingest(path.read_bytes(), "a.png")
    img = _px(client, asset, "wd=120&ht=120&crop=true&g=east&fm=png")
    assert (img.width, img.height, img.bands) == (120, 120, 4)
    ref = pyvips.Image.new_from_file(str(path)).premultiply()
    ref = ref.resize(120 / 300).unpremultiply().cast("uchar")
    ref = ref.crop(ref.width - 120, 0, 120, 120)
    diff = (img.cast("float") - ref.cast("float")).abs().avg()
    assert diff < 4, f"mean abs difference {diff:.1f} levels"


@pytest.mark.parametrize("query", ["wd=100&ht=100&fm=png", "wd=100&ht=100&crop=true&fm=png"])
def test_semi_transparent_colours_keep_their_brightness(client, ingest, tmp_path, query):
    """Alpha 128 over a ramp of every level: resized, the colours stay where they were.
    libvips 8.15+'s own 8-bit premultiply truncates twice: -1.5 levels on average here
    (-3 at alpha 40). Premultiplying with rounding keeps them; 8.14's float path is off
    by the final cast's -0.5 at most."""
    ramp = pyvips.Image.xyz(256, 128)[0].cast("uchar")
    image = ramp.bandjoin([ramp, ramp, ramp.new_from_image(128)])
    path = tmp_path / "ramp.png"
    image.copy(interpretation="srgb").pngsave(str(path))
    asset = ingest(path.read_bytes(), "ramp.png")
    img = _px(client, asset, query)
    want = image.resize(img.width / 256, vscale=img.height / 128)  # same alpha: no premultiply
    if "crop" in query:
        want = image.resize(100 / 128).crop((200 - 100) // 2, 0, 100, 100)
    bias = (img.extract_band(0, n=3).cast("float") - want.extract_band(0, n=3)).avg()
    assert abs(bias) < 0.6, f"colours moved by {bias:+.2f} levels on average"
    assert abs(img[3].avg() - 128) < 0.5


def test_the_page_read_is_at_least_1_4_times_the_output_or_exactly_its_size():
    # pages of a 2000 px page 0: 1000, 500, 250
    assert transform._pyramid_shrink(4, 500 / 2000) == 4  # page 2, exactly
    assert transform._pyramid_shrink(4, 480 / 2000) == 2  # page 2 is only 1.04x: page 1
    assert transform._pyramid_shrink(4, 350 / 2000) == 4  # page 2 is 1.43x
    assert transform._pyramid_shrink(4, 1500 / 2000) == 1  # page 0
