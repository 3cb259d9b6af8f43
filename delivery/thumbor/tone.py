"""thumbor's per-pixel colour filters, with its PIL engine's integer arithmetic (C division
truncating toward zero, results clamped to 0-255); alpha is never touched.

Most are exact 256-entry tables per band; grayscale is PIL's fixed-point luma on the
stored sRGB values (not a colorimetric conversion); saturation is evaluated per pixel.
"""

import math
import re

import pyvips

from delivery.thumbor import pixels
from shared.errors import PicshaError


def _div(a: int, b: int) -> int:
    """C's integer division: truncates toward zero."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def brightness(image: pyvips.Image, percent: int) -> pyvips.Image:
    delta = _div(255 * percent, 100)
    return pixels.map_colour(image, [[pixels.clamp(v + delta) for v in range(256)]])


def contrast(image: pyvips.Image, percent: int) -> pyvips.Image:
    """Scale around 128 by (1 + percent/100)², in thumbor's integer steps."""
    factor = _div((percent + 100) ** 2, 100)
    table = [pixels.clamp(_div(factor * (v - 128), 100) + 128) for v in range(256)]
    return pixels.map_colour(image, [table])


def rgb(image: pyvips.Image, red: int, green: int, blue: int) -> pyvips.Image:
    tables = []
    for percent in (red, green, blue):
        delta = _div(255 * percent, 100)
        tables.append([pixels.clamp(v + delta) for v in range(256)])
    return pixels.map_colour(image, tables)


def colorize(image: pyvips.Image, red: int, green: int, blue: int, fill: str) -> pyvips.Image:
    """Blend each band toward `fill` (hex RRGGBB) by its percentage."""
    if not re.fullmatch(r"[0-9a-fA-F]{6}", fill):
        raise PicshaError(400, "invalid_thumbor_url", f"colorize: {fill!r} is not RRGGBB")
    target = bytes.fromhex(fill)
    tables = [
        [pixels.clamp((v * (100.0 - p) + t * p) / 100.0) for v in range(256)]
        for p, t in zip((red, green, blue), target, strict=True)
    ]
    return pixels.map_colour(image, tables)


def grayscale(image: pyvips.Image) -> pyvips.Image:
    """PIL's L = (19595 R + 38470 G + 7471 B + 2^15) >> 16; grey (L or LA) from here on.
    Exact in float: every intermediate is an integer below 2^24."""
    colour, alpha = pixels.split(pixels.rgb(image))
    luma = colour.recomb(pyvips.Image.new_from_list([[19595, 38470, 7471]]))
    return pixels.join(((luma + 32768) / 65536).floor(), alpha)


def saturation(image: pyvips.Image, change: float) -> pyvips.Image:
    """Each band pushed away from (or toward) sqrt(.299 R² + .587 G² + .114 B²)."""
    colour, alpha = pixels.split(pixels.rgb(image))
    squares = colour.cast("float") * colour
    p = squares.recomb(pyvips.Image.new_from_list([[0.299, 0.587, 0.114]])) ** 0.5
    return pixels.join(p + (colour - p) * change, alpha)


def equalize(image: pyvips.Image) -> pyvips.Image:
    """thumbor's histogram equalisation, per band, quirks included: a band's lowest
    cumulative count is found only while no band has found its own yet."""
    colour, _ = pixels.split(pixels.rgb(image))
    area = colour.width * colour.height
    hists = [colour[b].hist_find().tolist()[0] for b in range(3)]
    cums = []
    for hist in hists:
        total, cum = 0, []
        for count in hist:
            total += int(count)
            cum.append(total if count else 0)
        cums.append(cum)
    minima = [0, 0, 0]
    for i in range(256):
        if any(minima):
            break
        minima = [m or cum[i] for m, cum in zip(minima, cums, strict=True)]
    tables = []
    for cum, low in zip(cums, minima, strict=True):
        if area == low:  # one colour only: thumbor divides by zero; leave the band alone
            tables.append(list(range(256)))
        else:
            tables.append([max(0, min(255, int((c - low) / (area - low) * 255))) for c in cum])
    return pixels.map_colour(image, tables)


def noise(image: pyvips.Image, amount: int, seed: int = 0) -> pyvips.Image:
    """Noise of thumbor's spread added to all bands alike: thumbor draws uniform integers in
    [-amount/2, amount/2) from C's random(); this draws libvips' gaussian noise with the same
    variance, seeded so one URL always renders the same bytes."""
    if amount <= 0:
        return image
    colour, alpha = pixels.split(pixels.rgb(image))
    sigma = min(amount, 10_000) / math.sqrt(12)
    grain = pyvips.Image.gaussnoise(colour.width, colour.height, sigma=sigma, mean=0,
                                    seed=seed % 2**31).rint()  # fmt: skip
    return pixels.join(colour + grain, alpha)


def curve(image: pyvips.Image, *curves: str) -> pyvips.Image:
    """Natural cubic spline tables through (x, y) points: per band, then the all-band one."""
    overall, *per_band = (_spline_table(_points(c)) for c in curves)
    tables = [[overall[t[v]] for v in range(256)] for t in per_band]
    return pixels.map_colour(image, tables)


def _points(text: str) -> list[tuple[int, int]]:
    # Values wrap to a byte as thumbor's C code stores them.
    return [(int(x) & 255, int(y) & 255) for x, y in re.findall(r"\((\d+),(\d+)\)", text)]


def _spline_table(points: list[tuple[int, int]]) -> list[int]:
    """The curve's value at 0..255: the first point's y before it, the last's after it."""
    if not points:
        return list(range(256))
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    second = _second_derivatives(xs, ys)
    table = [ys[0]] * 256
    for i in range(len(points) - 1):
        x0, x1, y0, y1 = xs[i], xs[i + 1], ys[i], ys[i + 1]
        for x in range(x0, x1):
            t = (x - x0) / (x1 - x0)
            a, h = 1 - t, x1 - x0
            y = a * y0 + t * y1 + h * h / 6 * ((a**3 - a) * second[i] + (t**3 - t) * second[i + 1])
            table[x] = max(0, min(255, math.floor(y + 0.5)))  # C's round(), half up
    for x in range(xs[-1], 256):
        table[x] = ys[-1]
    return table


def _second_derivatives(xs: list[int], ys: list[int]) -> list[float]:
    """Natural spline (zero curvature at both ends): the tridiagonal system, solved by the
    Thomas algorithm. Repeated x values (no slope) count as straight segments."""
    n = len(xs)
    if n < 3:
        return [0.0] * n
    sub, diag, sup, rhs = [0.0] * n, [1.0] * n, [0.0] * n, [0.0] * n
    for i in range(1, n - 1):
        h0, h1 = xs[i] - xs[i - 1], xs[i + 1] - xs[i]
        if h0 <= 0 or h1 <= 0:
            continue
        sub[i], diag[i], sup[i] = h0 / 6, (xs[i + 1] - xs[i - 1]) / 3, h1 / 6
        rhs[i] = (ys[i + 1] - ys[i]) / h1 - (ys[i] - ys[i - 1]) / h0
    for i in range(1, n):
        k = sub[i] / diag[i - 1]
        diag[i] -= k * sup[i - 1]
        rhs[i] -= k * rhs[i - 1]
    second = [0.0] * n
    second[-1] = rhs[-1] / diag[-1]
    for i in range(n - 2, -1, -1):
        second[i] = (rhs[i] - sup[i] * second[i + 1]) / diag[i]
    return second
