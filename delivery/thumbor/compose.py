"""thumbor's filters that lay one image over another: fill(), background_color(),
round_corner() and watermark(). Results are RGBA, as thumbor's paste makes them."""

import math

import pyvips
import webcolors

from delivery.thumbor import convolve, pixels
from shared.errors import PicshaError

Rgba = tuple[int, int, int, int]


def colour(word: str) -> Rgba:
    """PIL's colour words: CSS names, `transparent`, or hex digits (RGB, RGBA, RRGGBB,
    RRGGBBAA) — thumbor tries the word as a name first, then as `#word`."""
    word = word.lower()
    if word == "transparent":
        return (0, 0, 0, 0)
    if word == "rebeccapurple":  # CSS4's one addition PIL knows and webcolors' CSS3 lacks
        return (102, 51, 153, 255)
    try:
        return (*webcolors.name_to_rgb(word), 255)  # type: ignore[return-value]
    except ValueError:
        pass
    if len(word) in (3, 4) and all(c in "0123456789abcdef" for c in word):
        word = "".join(c * 2 for c in word)
    if len(word) in (6, 8) and all(c in "0123456789abcdef" for c in word):
        values = bytes.fromhex(word)
        return (values[0], values[1], values[2], values[3] if len(values) == 4 else 255)
    raise PicshaError(400, "invalid_thumbor_url", f"unknown colour {word!r}")


def _canvas(width: int, height: int, rgba: Rgba) -> pyvips.Image:
    return (
        (pyvips.Image.black(width, height, bands=4) + list(rgba))
        .cast("uchar")
        .copy(interpretation="srgb")
    )


def mean_colour(image: pyvips.Image) -> Rgba:
    """fill(auto): the mean of each colour band, rounded down, opaque."""
    colour_bands, _ = pixels.split(pixels.rgb(image))
    stats = colour_bands.stats()  # row 1+b: band b; column 2: sum
    area = image.width * image.height
    r, g, b = (int(stats(2, 1 + band)[0]) // area for band in range(3))
    return (r, g, b, 255)


def fill(image: pyvips.Image, word: str, merge: bool, box: tuple[int, int]) -> pyvips.Image:
    """A canvas of the request's size (the image's for a side not given) in `word`, the
    image centred on it. Unmerged, the image's own pixels (alpha included) replace the
    canvas'; merged (`fill(c,true)`), its transparent parts show the colour through."""
    width, height = box[0] or image.width, box[1] or image.height
    image = pixels.rgba(image)
    if word == "blur":
        # thumbor pastes the image on a clear canvas first, which blackens clear pixels;
        # blurred (edges replicated), that darkens the border of a transparent image.
        base = (image[3] == 0).ifthenelse([0, 0, 0, 0], image)
        canvas = pixels.resize(convolve.blur(base, 50), width, height)
    else:
        canvas = _canvas(width, height, mean_colour(image) if word == "auto" else colour(word))
    x, y = (width - image.width) // 2, (height - image.height) // 2
    if merge:
        return canvas.composite2(image, "over", x=x, y=y).cast("uchar")
    return canvas.insert(image, x, y)


def background_color(image: pyvips.Image, word: str) -> pyvips.Image:
    """The image over a canvas of the colour: its transparency filled."""
    image = pixels.rgba(image)
    canvas = _canvas(image.width, image.height, colour(word))
    return canvas.composite2(image, "over").cast("uchar")


def round_corner(
    image: pyvips.Image, radii: str, red: int, green: int, blue: int, transparent: bool = False
) -> pyvips.Image:
    """Elliptic corners (`a|b` radii, at most half the side) painted in the colour, and
    made clear too with `transparent`; edges antialiased."""
    a, _, b = radii.partition("|")
    rx = min(int(a[:10]), image.width // 2)
    ry = min(int(b[:10]) if b else int(a[:10]), image.height // 2)
    if rx <= 0 or ry <= 0:
        return image
    w, h = image.width, image.height
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}">'
        f'<rect width="{w}" height="{h}" rx="{rx}" ry="{ry}" fill="#fff"/></svg>'
    )
    inside = pyvips.Image.svgload_buffer(svg.encode())[3] / 255.0
    image = pixels.rgba(image) if transparent else pixels.rgb(image)
    colour_bands, alpha = pixels.split(image)
    paint = [max(0, min(255, v)) for v in (red, green, blue)]
    colour_bands = colour_bands * inside + (1 - inside) * paint
    if transparent and alpha is not None:
        alpha = alpha * inside
    return pixels.join(colour_bands, alpha.cast("uchar") if alpha is not None else None)


def watermark_size(
    image: tuple[int, int], mark: tuple[int, int], w_ratio: float, h_ratio: float
) -> tuple[int, int]:
    """The mark scaled to fit `w_ratio` of the width and/or `h_ratio` of the height."""
    max_w = image[0] * w_ratio if w_ratio else mark[0] * image[1] * h_ratio / mark[1]
    max_h = image[1] * h_ratio if h_ratio else mark[1] * max_w / mark[0]
    if mark[0] / max_w >= mark[1] / max_h:
        return max(1, round(max_w)), max(1, round(mark[1] * max_w / mark[0]))
    return max(1, round(mark[0] * max_h / mark[1])), max(1, round(max_h))


def ratio(text: str) -> float:
    """A watermark size ratio in percent; 0, `none` and negatives mean "not given"."""
    return max(0.0, int(text[:10]) / 100) if text.lstrip("-").isdigit() else 0.0


def watermark(image: pyvips.Image, mark: pyvips.Image, x: str, y: str, alpha: int) -> pyvips.Image:
    """The mark (already sized) made `alpha` % more transparent and laid at x, y: pixels
    from the left/top, negative from the right/bottom, `Np` percent of the side, `center`,
    or `repeat` (tiled, evenly spaced; at most 6 x 6 when both repeat more than 100)."""
    mark = pixels.rgba(mark)
    delta = (255 * min(alpha, 10**6)) // 100
    mark = mark.extract_band(0, n=3).bandjoin((mark[3] - delta).cast("uchar"))
    xs = _offsets(x, image.width, mark.width)
    ys = _offsets(y, image.height, mark.height)
    if len(xs) * len(ys) > 100:  # both axes repeat: thumbor's cap, spread over the side
        xs = _spread(min(6, len(xs)), image.width, mark.width)
        ys = _spread(min(6, len(ys)), image.height, mark.height)
    base = pixels.rgba(image)
    step_x = xs[1] - xs[0] if len(xs) > 1 else mark.width
    step_y = ys[1] - ys[0] if len(ys) > 1 else mark.height
    cell = mark.embed(0, 0, step_x, step_y)  # transparent gap between repeats
    tiles = cell.replicate(len(xs), len(ys))
    return base.composite2(tiles, "over", x=xs[0], y=ys[0]).cast("uchar")


def _position(text: str, length: int) -> str:
    """`Np` / `-Np` to pixels of `length`, half rounded up."""
    if text.endswith("p") and text.rstrip("p").lstrip("-").isdigit():
        sign = "-" if text.startswith("-") else ""
        return f"{sign}{round(length * int(text.strip('-p')[:10]) / 100 + 1e-5)}"
    return text


def _offsets(text: str, length: int, size: int) -> list[int]:
    text = _position(text, length)
    if text == "repeat":
        count, rest = divmod(length, size)
        if length / size < 2:
            count, rest = math.ceil(length / size), 10
        return _grid(count, rest, size)
    if text == "center":
        return [int((length - size) / 2)]
    value = int(text[:11])
    return [length - size + value if text.startswith("-") else value]


def _spread(count: int, length: int, size: int) -> list[int]:
    return _grid(count, length - count * size, size)


def _grid(count: int, rest: int, size: int) -> list[int]:
    gap = rest // (max(count, 2) - 1)
    return [i * (gap + size) for i in range(count)]
