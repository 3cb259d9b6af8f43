"""Watermark placement and sizing arithmetic (thumbor's watermark fixtures), and colours."""

import itertools

import pytest

from delivery.thumbor import compose
from shared.errors import PicshaError
from tests.delivery.thumbor.conftest import solid

# length, position, pixels (thumbor's POSITIONS)
POSITIONS = [
    (800, "-20p", "-160"),
    (800, "30p", "240"),
    (800, "230p", "1840"),
    (50, "37p", "19"),  # 18.5 rounds up
    (55, "53p", "29"),
    (55, "-53p", "-29"),
    (800, "center", "center"),
    (800, "30", "30"),
    (800, "-40", "-40"),
    (800, "repeat", "repeat"),
]


@pytest.mark.parametrize(("length", "position", "pixels"), POSITIONS)
def test_percent_positions(length, position, pixels):
    assert compose._position(position, length) == pixels


SOURCES = [(800, 600), (600, 600), (600, 800)]
MARKS = [(1200, 900), (900, 900), (900, 1200), (1200, 500), (700, 400), (400, 700),
         (800, 600), (600, 600), (500, 300), (300, 300), (300, 500)]  # fmt: skip
RATIOS = [(300, None), (100, None), (25, None), (None, 200), (None, 50), (300, 300),
          (50, 50), (300, 25), (25, 300), (25, 50), (50, 25)]  # fmt: skip


@pytest.mark.parametrize(
    ("source", "mark", "ratios"), list(itertools.product(SOURCES, MARKS, RATIOS))
)
def test_watermark_size_fits_fills_and_keeps_the_aspect(source, mark, ratios):
    w_ratio, h_ratio = ((r or 0) / 100 for r in ratios)
    width, height = compose.watermark_size(source, mark, w_ratio, h_ratio)
    max_w = source[0] * w_ratio if w_ratio else float("inf")
    max_h = source[1] * h_ratio if h_ratio else float("inf")
    assert width <= max_w + 0.5 and height <= max_h + 0.5
    assert abs(width - max_w) <= 0.5 or abs(height - max_h) <= 0.5
    assert abs(1 - (width / height) / (mark[0] / mark[1])) <= 0.02


@pytest.mark.parametrize(
    ("text", "value"), [("50", 0.5), ("300", 3.0), ("none", 0.0), ("0", 0.0), ("-20", 0.0)]
)
def test_ratios(text, value):
    assert compose.ratio(text) == value


@pytest.mark.parametrize(
    ("word", "rgba"),
    [
        ("red", (255, 0, 0, 255)),
        ("Navy", (0, 0, 128, 255)),
        ("transparent", (0, 0, 0, 0)),
        ("ff8800", (255, 136, 0, 255)),
        ("f80", (255, 136, 0, 255)),
        ("f808", (255, 136, 0, 136)),
        ("00ff0080", (0, 255, 0, 128)),
    ],
)
def test_colour_words(word, rgba):
    assert compose.colour(word) == rgba


@pytest.mark.parametrize("word", ["zzz", "ff0000f", "12345", "é"])
def test_unknown_colours(word):
    with pytest.raises(PicshaError):
        compose.colour(word)


def test_repeats_beyond_100_are_capped_at_6_by_6_spread_over_the_image():
    base, dot = solid(100, 100, [255, 0, 0]), solid(5, 5, [0, 0, 255])
    out = compose.watermark(base, dot, "repeat", "repeat", 0)
    blue = (out[2] == 255).project()[0].tolist()[0]  # per column: rows that are blue
    columns_with_marks = [x for x, v in enumerate(blue) if v]
    # 6 marks 5 wide, the 70 spare pixels in 14-pixel gaps: x = 0, 19, 38, 57, 76, 95
    assert [x for x in columns_with_marks if x % 19 == 0] == [0, 19, 38, 57, 76, 95]
    assert len(columns_with_marks) == 30
