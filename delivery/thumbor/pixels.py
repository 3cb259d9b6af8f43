"""Pixel helpers thumbor's filters share: images are 8-bit sRGB here, grey (L, LA) only after
grayscale(); like thumbor's PIL engine, a filter that needs colour turns grey back to RGB."""

from collections.abc import Sequence

import pyvips

from shared import imaging


def rgb(image: pyvips.Image) -> pyvips.Image:
    """RGB or RGBA: grey bands repeated, as PIL converts L to RGB."""
    image = imaging.web_ready(image)
    if image.bands in (1, 2):
        grey = image[0]
        colour = grey.bandjoin([grey, grey])
        image = colour.bandjoin(image[1]) if image.bands == 2 else colour
    return image.copy(interpretation="srgb")


def rgba(image: pyvips.Image) -> pyvips.Image:
    image = rgb(image)
    return image if image.bands == 4 else image.bandjoin(255)


def split(image: pyvips.Image) -> tuple[pyvips.Image, pyvips.Image | None]:
    """Colour bands and alpha (None when opaque by format)."""
    if image.hasalpha():
        return image.extract_band(0, n=image.bands - 1), image[image.bands - 1]
    return image, None


def join(colour: pyvips.Image, alpha: pyvips.Image | None) -> pyvips.Image:
    """Colour back as 8 bits (truncated toward zero and clamped, as thumbor's C filters
    store their int results) with the alpha it had."""
    colour = colour.cast("uchar")
    out = colour.bandjoin(alpha) if alpha is not None else colour
    interpretation = "b-w" if colour.bands == 1 else "srgb"
    return out.copy(interpretation=interpretation)


def map_colour(image: pyvips.Image, luts: Sequence[Sequence[int]]) -> pyvips.Image:
    """Each colour band through its 256-entry table (one table for all, or one per band)."""
    colour, alpha = split(rgb(image))
    bands = [pyvips.Image.new_from_list([list(t)]) for t in luts]
    lut = bands[0].bandjoin(bands[1:]) if len(bands) > 1 else bands[0]
    return join(colour.maplut(lut.cast("uchar")), alpha)


def clamp(value: float) -> int:
    return max(0, min(255, int(value)))


def resize(image: pyvips.Image, width: int, height: int) -> pyvips.Image:
    """Exactly `width` x `height` (thumbor's PIL resize ignores the aspect), alpha-aware."""
    width, height = max(1, int(width)), max(1, int(height))
    if (width, height) == (image.width, image.height):
        return image
    return imaging.thumbnail_image(image, width, height, size="force", to_srgb=False)


def reflect(image: pyvips.Image, pad: int) -> pyvips.Image:
    """Pad every side by `pad`, mirrored without repeating the edge (thumbor's wavelet
    edges); libvips' own mirror (which repeats it) where the image is too small."""
    if pad <= 0:
        return image
    if pad >= min(image.width, image.height):
        return image.embed(pad, pad, image.width + 2 * pad, image.height + 2 * pad,
                           extend="mirror")  # fmt: skip
    w, h = image.width, image.height
    left = image.extract_area(1, 0, pad, h).flip("horizontal")
    right = image.extract_area(w - 1 - pad, 0, pad, h).flip("horizontal")
    wide = left.join(image, "horizontal").join(right, "horizontal")
    top = wide.extract_area(0, 1, wide.width, pad).flip("vertical")
    bottom = wide.extract_area(0, h - 1 - pad, wide.width, pad).flip("vertical")
    return top.join(wide, "vertical").join(bottom, "vertical")
