"""thumbor's URL grammar, total: every path parses into a `ThumborUrl` or a 400.

    [debug/][meta/][trim[:top-left|:bottom-right][:tolerance]/][AxB:CxD/]
    [adaptive-][full-]fit-in/][-]Wx[-]H/[left|center|right/][top|middle|bottom/][smart/]
    [filters:f(a):g(b)/]{asset id}

W and H are digits, `orig` (the source's side) or empty (0: proportional); a bare `-` flips
with the side left proportional (`-x194`, `x-`, `-x-`).
"""

import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote

from delivery.thumbor.filters import Filter, parse_filters
from shared.errors import PicshaError

Side = int | Literal["orig"]
Box = tuple[int, int, int, int]  # left, top, right, bottom

# No image has a side near this; larger numbers act the same (crops clamp to the image,
# sizes exceed the output limits), and Python's int() refuses strings over 4300 digits.
BIG = 10**9

_URL = re.compile(
    r"/?(?:(?P<debug>debug)/)?"
    r"(?:(?P<meta>meta)/)?"
    # `trim::15` (tolerance only) is what libthumbor composes; thumbor's own regex misses it.
    r"(?:trim(?P<trim>(?::(?:top-left|bottom-right)?)?(?::\d+)?)/)?"
    r"(?:(?P<crop>\d+x\d+:\d+x\d+)/)?"
    r"(?:(?P<adaptive>adaptive-)?(?P<full>full-)?(?P<fit_in>fit-in)/)?"
    r"(?:(?P<flip_h>-)?(?P<width>\d+|orig)?x(?P<flip_v>-)?(?P<height>\d+|orig)?/)?"
    r"(?:(?P<halign>left|right|center)/)?"
    r"(?:(?P<valign>top|bottom|middle)/)?"
    r"(?:(?P<smart>smart)/)?"
    r"(?:filters:(?P<filters>.+?\))/)?"
    r"(?P<image>[^/]+)$"
)


@dataclass(frozen=True)
class Trim:
    corner: Literal["top-left", "bottom-right"] = "top-left"  # whose colour is trimmed
    tolerance: int = 0  # euclidean RGB(A) distance still counted as that colour


@dataclass(frozen=True)
class ThumborUrl:
    image: str
    width: Side = 0
    height: Side = 0
    flip_h: bool = False
    flip_v: bool = False
    fit_in: bool = False
    adaptive: bool = False  # fit-in turns the box to the source's orientation
    full: bool = False  # fit-in covers the box instead of fitting into it
    crop: Box | None = None  # manual crop in source pixels
    halign: Literal["left", "center", "right"] = "center"
    valign: Literal["top", "middle", "bottom"] = "middle"
    smart: bool = False
    trim: Trim | None = None
    filters: tuple[Filter, ...] = ()
    meta: bool = False
    debug: bool = False


def number(text: str) -> int:
    """Digits as an int, capped at BIG."""
    return BIG if len(text) > 9 else int(text)


def _side(text: str | None) -> Side:
    if text == "orig":
        return "orig"
    return number(text) if text else 0


def _trim(text: str) -> Trim:
    parts = text.split(":")[1:]  # "", ":top-left", ":bottom-right:20", "::15", ":15"
    corner = next((p for p in parts if p in ("top-left", "bottom-right")), "top-left")
    tolerance = next((number(p) for p in parts if p.isdigit()), 0)
    return Trim(corner, tolerance)  # type: ignore[arg-type]


def _crop(text: str) -> Box | None:
    a, b = text.split(":")
    left, top = (number(v) for v in a.split("x"))
    right, bottom = (number(v) for v in b.split("x"))
    if not (left or top or right or bottom):
        return None  # 0x0:0x0 is thumbor's "no crop"
    return left, top, right, bottom


def parse(path: str) -> ThumborUrl:
    match = _URL.match(path)
    if not match:
        raise PicshaError(400, "invalid_thumbor_url", "not a thumbor URL")
    g = match.groupdict()
    return ThumborUrl(
        image=unquote(g["image"]),
        width=_side(g["width"]),
        height=_side(g["height"]),
        flip_h=bool(g["flip_h"]),
        flip_v=bool(g["flip_v"]),
        fit_in=bool(g["fit_in"]),
        adaptive=bool(g["adaptive"]),
        full=bool(g["full"]),
        crop=_crop(g["crop"]) if g["crop"] else None,
        halign=g["halign"] or "center",  # type: ignore[arg-type]
        valign=g["valign"] or "middle",  # type: ignore[arg-type]
        smart=bool(g["smart"]),
        trim=_trim(g["trim"]) if g["trim"] is not None else None,
        filters=parse_filters(g["filters"] or ""),
        meta=bool(g["meta"]),
        debug=bool(g["debug"]),
    )
