"""Placeholders a grid paints before the thumb arrives: a BlurHash and a dominant colour.

Computed from the small image the render stage already decoded (no second decode): it is
shrunk to 32 px in memory, which is all a 4x3-component hash needs.
"""

from collections import Counter

import blurhash
import pyvips

from shared import imaging

SIDE = 32
COMPONENTS = (4, 3)  # x, y: BlurHash's own recommendation for photos


def compute(base: pyvips.Image) -> dict[str, str]:
    small = base.thumbnail_image(SIDE, height=SIDE)
    small = imaging.web_ready(small)
    if small.hasalpha():
        small = small.flatten(background=[255, 255, 255])
    if small.bands == 1:
        small = small.bandjoin([small, small])
    small = small[:3]
    width, height = small.width, small.height
    data = bytes(small.write_to_memory())
    pixels = [
        [list(data[(y * width + x) * 3 : (y * width + x) * 3 + 3]) for x in range(width)]
        for y in range(height)
    ]
    return {
        "blurhash": blurhash.encode(pixels, *COMPONENTS),
        "dominant_color": _dominant(data),
    }


def _dominant(data: bytes) -> str:
    """Mean colour of the most populated 4-bit-per-channel bucket: the colour a viewer
    names, where a plain mean of a blue sky over sand gives grey."""
    buckets: Counter[tuple[int, int, int]] = Counter()
    sums: dict[tuple[int, int, int], list[int]] = {}
    for i in range(0, len(data) - 2, 3):
        r, g, b = data[i], data[i + 1], data[i + 2]
        key = (r >> 4, g >> 4, b >> 4)
        buckets[key] += 1
        acc = sums.setdefault(key, [0, 0, 0])
        acc[0] += r
        acc[1] += g
        acc[2] += b
    key, count = buckets.most_common(1)[0]
    r, g, b = (round(v / count) for v in sums[key])
    return f"#{r:02x}{g:02x}{b:02x}"
