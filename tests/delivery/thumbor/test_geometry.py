"""thumbor's transformer cases (its tests/fixtures/transformer_test_data.py inputs), with the
crops and sizes thumbor's own Transformer computes for them."""

import pytest

from delivery.thumbor.filters import Filter
from delivery.thumbor.geometry import Crop, Flip, Focus, Resize, plan
from delivery.thumbor.url import ThumborUrl

_ = None
# source w, h, requested w, h, halign, valign, focal points (x, y), crop or None, final size
CROP_CASES = [
    (800, 600, 400, 150, "center", "middle", [], (0, 150, 800, 450), (400, 150)),
    (600, 800, 150, 400, "center", "middle", [], (150, 0, 450, 800), (150, 400)),
    (600, 800, 300, 400, "center", "middle", [], _, (300, 400)),
    (800, 600, 0, 0, "center", "middle", [], _, (800, 600)),
    (800, 600, 400, 0, "center", "middle", [], _, (400, 300)),
    (200, 140, 180, 100, "center", "middle", [], (0, 14, 200, 125), (180, 100)),
    (200, 200, 100, 100, "center", "middle", [(100, 100)], _, (100, 100)),
    (400, 200, 100, 100, "center", "middle", [(100, 100)], (0, 0, 200, 200), (100, 100)),
    (400, 200, 100, 200, "center", "middle", [(100, 50), (300, 50)], (150, 0, 250, 200), _),
    (400, 200, 100, 200, "center", "middle", [(100, 150), (300, 150)], (150, 0, 250, 200), _),
    (400, 200, 100, 200, "center", "middle", [(100, 50), (100, 150)], (50, 0, 150, 200), _),
    (400, 200, 100, 200, "center", "middle", [(300, 50), (300, 150)], (250, 0, 350, 200), _),
    (200, 400, 100, 200, "center", "middle", [(100, 50), (300, 50)], _, (100, 200)),
    (
        400,
        200,
        100,
        100,
        "center",
        "middle",
        [(50, 100), (50, 300), (150, 100), (150, 300)],
        (0, 0, 200, 200),
        (100, 100),
    ),
    (800, 600, 400, 300, "center", "bottom", [], _, (400, 300)),
    (700, 300, 150, 300, "center", "bottom", [], (275, 0, 425, 300), (150, 300)),
    (700, 300, 300, 150, "right", "bottom", [], (100, 0, 700, 300), (300, 150)),
    (700, 300, 300, 150, "left", "bottom", [], (0, 0, 600, 300), (300, 150)),
    (700, 300, 150, 300, "left", "bottom", [], (0, 0, 150, 300), (150, 300)),
    (700, 300, 150, 300, "right", "bottom", [], (550, 0, 700, 300), (150, 300)),
    (300, 800, 200, 300, "center", "bottom", [], (0, 350, 300, 800), (200, 300)),
    (300, 800, 200, 300, "left", "bottom", [], (0, 350, 300, 800), (200, 300)),
    (500, 600, 300, 250, "right", "bottom", [], (0, 183, 500, 600), (300, 250)),
    (600, 800, 300, 0, "right", "bottom", [], _, (300, 400)),
    (600, 800, 250, 0, "left", "bottom", [], _, (250, 333)),
    (600, 800, 0, 400, "center", "bottom", [], _, (300, 400)),
    (600, 800, 0, 350, "center", "bottom", [], _, (262, 350)),  # 262.5 rounds to even
    (800, 300, 400, 150, "right", "middle", [], _, (400, 150)),
    (700, 300, 300, 150, "center", "middle", [], (50, 0, 650, 300), (300, 150)),
    (700, 300, 150, 300, "center", "middle", [], (275, 0, 425, 300), (150, 300)),
    (350, 700, 200, 600, "left", "middle", [], (0, 0, 234, 700), (200, 600)),
    (350, 700, 200, 600, "center", "middle", [], (58, 0, 292, 700), (200, 600)),
    (350, 700, 200, 600, "right", "middle", [], (116, 0, 350, 700), (200, 600)),
    (500, 600, 300, 250, "center", "middle", [], (0, 92, 500, 509), (300, 250)),
    (1, 1, 0, 0, "center", "middle", [], _, (1, 1)),
    (200, 200, 16, 16, "left", "middle", [], _, (16, 16)),
    (800, 600, 400, 150, "right", "top", [], (0, 0, 800, 300), (400, 150)),
    (600, 800, 150, 400, "left", "top", [], (0, 0, 300, 800), (150, 400)),
    (600, 800, 150, 400, "right", "top", [], (300, 0, 600, 800), (150, 400)),
    (800, 60, 400, 15, "center", "top", [], (0, 0, 800, 30), (400, 15)),
    (60, 800, 15, 400, "center", "top", [], (15, 0, 45, 800), (15, 400)),
    (60, 800, 15, 400, "right", "top", [], (30, 0, 60, 800), (15, 400)),
    (8, 6, 4, 2, "right", "top", [], (0, 0, 8, 4), (4, 2)),
    (6, 8, 2, 4, "left", "top", [], (0, 0, 4, 8), (2, 4)),
    (6, 8, 2, 4, "center", "top", [], (1, 0, 5, 8), (2, 4)),
    (6, 8, 2, 4, "right", "top", [], (2, 0, 6, 8), (2, 4)),
    (800, 600, 800, 600, "center", "top", [], _, (800, 600)),
    (800, 400, 400, "orig", "center", "middle", [], (200, 0, 600, 400), (400, 400)),
    (800, 400, "orig", 100, "center", "middle", [], (0, 150, 800, 250), (800, 100)),
    (800, 400, "orig", "orig", "center", "middle", [], _, (800, 400)),
]


@pytest.mark.parametrize(
    ("sw", "sh", "w", "h", "halign", "valign", "points", "crop", "size"), CROP_CASES
)
def test_crops_and_sizes_as_thumbor(sw, sh, w, h, halign, valign, points, crop, size):
    url = ThumborUrl("x", width=w, height=h, halign=halign, valign=valign)
    p = plan(sw, sh, url, [Focus(x, y) for x, y in points])
    crops = [(c.left, c.top, c.right, c.bottom) for c in p.steps if isinstance(c, Crop)]
    assert crops == ([crop] if crop else [])
    if size:
        assert p.size == size


# source w, h, requested w, h, adaptive, full → resize to (or None: left as it is)
FIT_IN_CASES = [
    (800, 400, 400, 100, False, False, (200, 100)),
    (1000, 250, 500, 200, False, False, (500, 125)),
    (200, 250, 500, 400, False, False, None),  # fit-in never enlarges
    (800, 400, 100, 400, True, False, (200, 100)),  # adaptive: the box turns to landscape
    (800, 400, 400, 100, False, True, (400, 200)),  # full: covers the box
    (200, 250, 500, 400, False, True, (500, 625)),  # full-fit-in enlarges
    (800, 400, 100, 400, True, True, (400, 200)),
    (500, 500, 250, "orig", False, False, (250, 250)),
    (500, 500, "orig", 250, False, False, (250, 250)),
    (500, 500, "orig", "orig", False, False, None),
    (800, 533, 500, 500, False, False, (500, 333)),
]


@pytest.mark.parametrize(("sw", "sh", "w", "h", "adaptive", "full", "resize"), FIT_IN_CASES)
def test_fit_in_as_thumbor(sw, sh, w, h, adaptive, full, resize):
    url = ThumborUrl("x", width=w, height=h, fit_in=True, adaptive=adaptive, full=full)
    p = plan(sw, sh, url)
    assert not [s for s in p.steps if isinstance(s, Crop)]
    assert [(s.width, s.height) for s in p.steps if isinstance(s, Resize)] == (
        [resize] if resize else []
    )


def test_full_fit_in_widens_the_box_fill_pads_to():
    p = plan(800, 533, ThumborUrl("x", width=800, height=800, fit_in=True, full=True))
    assert p.size == (1201, 800)  # 1200.75 rounds up
    assert p.box == (1201, 800)


def test_manual_crop_clamps_and_ignores_empty_or_reversed_crops():
    assert plan(800, 600, ThumborUrl("x", crop=(700, 500, 9000, 9000))).steps == (
        Crop(700, 500, 800, 600),
    )
    assert plan(800, 600, ThumborUrl("x", crop=(200, 0, 100, 100))).steps == ()
    assert plan(800, 600, ThumborUrl("x", crop=(900, 0, 1000, 100))).steps == ()


def test_targets_follow_the_manual_crop_and_focal_points_move_with_it():
    url = ThumborUrl("x", width=100, height=100, crop=(100, 0, 500, 200))
    p = plan(800, 600, url, [Focus(450, 100)])
    assert p.steps == (Crop(100, 0, 500, 200), Crop(200, 0, 400, 200, auto=True), Resize(100, 100))


def test_stretch_resizes_without_cropping():
    url = ThumborUrl("x", width=800, height=200, filters=(Filter("stretch"),))
    assert plan(800, 600, url).steps == (Resize(800, 200),)


def test_no_upscale_caps_the_request_by_the_source():
    url = ThumborUrl("x", width=1600, height=300, filters=(Filter("no_upscale"),))
    assert plan(800, 600, url).size == (800, 300)


def test_flips_come_last_and_debug_skips_the_transform():
    p = plan(800, 600, ThumborUrl("x", width=400, height=300, flip_h=True, flip_v=True))
    assert p.steps == (Resize(400, 300), Flip(True), Flip(False))
    assert plan(800, 600, ThumborUrl("x", width=10, height=10, debug=True)).steps == ()


def test_degenerate_sizes_keep_a_pixel():
    """thumbor would divide by zero or crop 0 pixels here; a pixel is kept instead."""
    assert plan(200, 400, ThumborUrl("x", width=0, height=1)).size == (1, 1)
    assert plan(9, 1150, ThumborUrl("x", width=6, height=28, fit_in=True)).size == (1, 28)
