"""Dominant colour names of an image (words people search by: "red car", "blue sky")."""

import numpy as np

# Hue ranges in degrees → name; saturation/value decide greys, black, white and brown.
_HUES = [
    (15, "red"),
    (40, "orange"),
    (70, "yellow"),
    (165, "green"),
    (200, "cyan"),
    (255, "blue"),
    (290, "purple"),
    (335, "pink"),
    (360, "red"),
]


def dominant_colors(rgb: np.ndarray, top: int = 3, min_share: float = 0.12) -> list[str]:
    """Colour names covering at least `min_share` of the pixels, most common first."""
    small = rgb[:: max(1, rgb.shape[0] // 64), :: max(1, rgb.shape[1] // 64)].reshape(-1, 3)
    names = [_name(px) for px in small.astype(np.float32) / 255.0]
    counts: dict[str, int] = {}
    for n in names:
        counts[n] = counts.get(n, 0) + 1
    total = max(1, len(names))
    ranked = sorted(counts.items(), key=lambda kv: -kv[1])
    return [n for n, c in ranked[:top] if c / total >= min_share]


def _name(px: np.ndarray) -> str:
    r, g, b = (float(v) for v in px)
    hi, lo = max(r, g, b), min(r, g, b)
    sat = 0.0 if hi == 0 else (hi - lo) / hi
    if hi < 0.18:
        return "black"
    if sat < 0.15:
        return "white" if hi > 0.85 else "grey"
    if hi == lo:
        hue = 0.0
    elif hi == r:
        hue = (60 * (g - b) / (hi - lo)) % 360
    elif hi == g:
        hue = 60 * (b - r) / (hi - lo) + 120
    else:
        hue = 60 * (r - g) / (hi - lo) + 240
    if 15 <= hue < 45 and hi < 0.65:
        return "brown"
    return next(name for limit, name in _HUES if hue < limit)
