"""thumbor's convolution filters on libvips: blur(), convolution() and sharpen().

thumbor convolves every band (alpha too), replicates edge pixels and truncates each pass's
result to 8 bits; libvips' `conv` in float precision does the same with these masks.
"""

import math

import pyvips

from delivery.thumbor import pixels
from shared.errors import PicshaError

MAX_BLUR_RADIUS = 150  # thumbor's cap


def _conv(image: pyvips.Image, rows: list[list[float]]) -> pyvips.Image:
    mask = pyvips.Image.new_from_list(rows)
    return image.conv(mask, precision="float").cast("uchar").copy(interpretation="srgb")


def blur(image: pyvips.Image, radius: int, sigma: float = 0.0) -> pyvips.Image:
    """A gaussian of `sigma` (default: the radius) cut off at `radius` pixels, normalised:
    blur(r) keeps only ±1 sigma, a softer, boxier blur than libvips' full gaussian."""
    sigma = sigma or radius
    radius = min(radius, MAX_BLUR_RADIUS)
    two_sigma_squared = 2 * sigma * sigma
    row = [math.exp(-(x * x) / two_sigma_squared) for x in range(-radius, radius + 1)]
    total = sum(row)
    row = [v / total for v in row]
    image = _conv(pixels.rgb(image), [row])  # horizontal pass, truncated, then vertical
    return _conv(image, [[v] for v in row])


def convolution(
    image: pyvips.Image, matrix: str, columns: int, normalize: bool = True
) -> pyvips.Image:
    values = [float(v) for v in matrix.split(";")]
    rows, remainder = divmod(len(values), columns)
    if remainder or len(values) % 2 == 0 or rows % 2 == 0:
        raise PicshaError(
            400, "invalid_thumbor_url", "convolution: the matrix needs odd rows and columns"
        )
    total = sum(values)
    if normalize and total:
        values = [v / total for v in values]
    mask = [values[r * columns : (r + 1) * columns] for r in range(rows)]
    return _conv(pixels.rgb(image), mask)


# JPEG's YCbCr (thumbor's lib/colors.c): sharpen(..., true) sharpens Y only.
_TO_YCC = [[0.299, 0.587, 0.114], [-0.1687, -0.3313, 0.5], [0.5, -0.4187, -0.0813]]
_FROM_YCC = [[1.0, 0.0, 1.402], [1.0, -0.34414, -0.71414], [1.0, 1.772, 0.0]]


def sharpen(
    image: pyvips.Image, amount: float, radius: float, luminance_only: bool
) -> pyvips.Image:
    """thumbor's wavelet sharpen (after GIMP's plugin): five à-trous levels of the [1 2 1]/4
    hat, each level's detail amplified by amount·exp(-(level - radius)²/1.5) + 1."""
    colour, alpha = pixels.split(pixels.rgb(image))
    colour = colour.cast("float")
    if luminance_only:
        ycc = colour.recomb(pyvips.Image.new_from_list(_TO_YCC)).linear([1, 1, 1], [0, 128, 128])
        y = _wavelet(ycc[0] / 255, amount, radius) * 255
        colour = y.bandjoin(ycc.extract_band(1, n=2)).linear([1, 1, 1], [0, -128, -128])
        colour = colour.recomb(pyvips.Image.new_from_list(_FROM_YCC))
    else:
        bands = [_wavelet(colour[b] / 255, amount, radius) * 255 for b in range(3)]
        colour = bands[0].bandjoin(bands[1:])
    return pixels.join(colour, alpha)


def _wavelet(channel: pyvips.Image, amount: float, radius: float) -> pyvips.Image:
    result = None
    previous = channel
    for level in range(5):
        step = 1 << level
        low = _hat(previous, step)
        gain = amount * math.exp(-((level - radius) ** 2) / 1.5) + 1
        detail = (previous - low) * gain
        result = detail if result is None else result + detail
        previous = low
    return result + previous  # type: ignore[operator]


def _hat(image: pyvips.Image, step: int) -> pyvips.Image:
    """[1 2 1]/4 with taps `step` apart, both axes, mirrored edges."""
    taps = [0.0] * (2 * step + 1)
    taps[0], taps[step], taps[-1] = 0.25, 0.5, 0.25
    padded = pixels.reflect(image, step)
    mask = pyvips.Image.new_from_list([taps])
    out = padded.convsep(mask, precision="float")
    return out.extract_area(step, step, image.width, image.height)
