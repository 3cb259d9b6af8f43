"""Compass positions (`g`, `wm_pos`, `txt_pos`, thumbor's halign/valign), in one table: where
each sits on either axis, 0 = left/top, 0.5 = the middle, 1 = right/bottom."""

POSITIONS: dict[str, tuple[float, float]] = {
    "nw": (0, 0), "north": (0.5, 0), "ne": (1, 0),
    "west": (0, 0.5), "center": (0.5, 0.5), "east": (1, 0.5),
    "sw": (0, 1), "south": (0.5, 1), "se": (1, 1),
}  # fmt: skip
# thumbor's words for the same fractions, one axis each
ALIGN: dict[str, float] = {
    "left": 0, "center": 0.5, "right": 1, "top": 0, "middle": 0.5, "bottom": 1,
}  # fmt: skip


def offset(dx: int, dy: int, position: str, margin: int = 0) -> tuple[int, int]:
    """Where a box `dx`/`dy` pixels smaller than the image sits at `position`, `margin`
    pixels in from the edges it touches; any other gravity (face, smart) is the centre."""
    fx, fy = POSITIONS.get(position, (0.5, 0.5))
    return _along(dx, fx, margin), _along(dy, fy, margin)


def named(halign: str, valign: str) -> str:
    """The compass name of thumbor's `halign`/`valign` pair."""
    at = (ALIGN[halign], ALIGN[valign])
    return next(name for name, spot in POSITIONS.items() if spot == at)


def _along(room: int, fraction: float, margin: int) -> int:
    if fraction == 0:
        return margin
    if fraction == 1:
        return room - margin
    return room // 2
