"""One compass table for gravity crops, watermark and text positions and thumbor's alignment."""

import pytest

from delivery import compass


@pytest.mark.parametrize(
    ("position", "expected"),
    [
        ("nw", (0, 0)), ("north", (50, 0)), ("ne", (100, 0)),
        ("west", (0, 20)), ("center", (50, 20)), ("east", (100, 20)),
        ("sw", (0, 41)), ("south", (50, 41)), ("se", (100, 41)),
        ("face", (50, 20)), ("attention", (50, 20)),  # not compass: the centre
    ],
)  # fmt: skip
def test_a_smaller_box_sits_where_the_compass_says(position, expected):
    assert compass.offset(100, 41, position) == expected


def test_a_margin_keeps_the_box_off_the_edges_it_touches():
    assert compass.offset(100, 40, "se", margin=5) == (95, 35)
    assert compass.offset(100, 40, "north", margin=5) == (50, 5)  # the middle stays put


@pytest.mark.parametrize(
    ("halign", "valign", "name"),
    [("left", "top", "nw"), ("center", "middle", "center"), ("right", "bottom", "se"),
     ("center", "bottom", "south"), ("left", "middle", "west")],
)  # fmt: skip
def test_thumbor_alignment_names_a_compass_position(halign, valign, name):
    assert compass.named(halign, valign) == name
