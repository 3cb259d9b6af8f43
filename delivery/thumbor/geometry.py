"""thumbor's transformer arithmetic: which crops, resizes and flips a URL asks of a source.

Pure integer/float arithmetic in thumbor's order, so sizes match thumbor's to the pixel:
manual crop → target size (the free side proportional, rounded half to even) → fit-in
resize (never enlarging unless `full-`; half rounded up) or crop to the target's aspect
around the focal points' centre of mass, then resize → flips. Where thumbor would divide
by zero or make a 0-pixel image, sides are kept at 1 pixel.
"""

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from delivery import compass
from delivery.thumbor.url import Side, ThumborUrl

_FOCAL = re.compile(r"(\d+)x(\d+):(\d+)x(\d+)")


@dataclass(frozen=True)
class Focus:
    """A focal point: the crop centres on the weighted mean of these."""

    x: int
    y: int
    width: int = 1
    height: int = 1
    weight: float = 1.0

    @classmethod
    def square(cls, left: int, top: int, width: int, height: int) -> "Focus":
        return cls(left + width // 2, top + height // 2, width, height, width * height)


@dataclass(frozen=True)
class Crop:
    left: int
    top: int
    right: int
    bottom: int
    auto: bool = False  # the crop to the target's aspect (not the URL's manual one)


@dataclass(frozen=True)
class Resize:
    width: int
    height: int


@dataclass(frozen=True)
class Flip:
    horizontal: bool


Step = Crop | Resize | Flip


@dataclass(frozen=True)
class Plan:
    steps: tuple[Step, ...]
    size: tuple[int, int]  # the image after the steps
    # thumbor's request width/height after the transform: fill()'s canvas and upscale()'s
    # target (0: not given). fit-in widens it to a resize that overflows it (full-fit-in).
    box: tuple[int, int]
    focus: tuple[Focus, ...] = ()  # the given focal points, moved with the manual crop


def focal_points(url: ThumborUrl) -> list[Focus]:
    """Points from `focal(AxB:CxD)` filters; invalid or empty regions add none (thumbor)."""
    points = []
    for f in url.filters:
        if f.name == "focal" and (m := _FOCAL.match(str(f.args[0]))):
            left, top, right, bottom = (min(int(v), 10**9) for v in m.groups())
            if right - left and bottom - top:
                points.append(Focus.square(left, top, right - left, bottom - top))
    return points


def plan(width: int, height: int, url: ThumborUrl, focus: Sequence[Focus] = ()) -> Plan:
    """The steps for a `width` x `height` source (after EXIF rotation and trim)."""
    names = {f.name for f in url.filters}
    req_w, req_h = url.width, url.height
    if "no_upscale" in names:  # thumbor caps the request by the whole source
        req_w = req_w if req_w == "orig" else min(req_w, width)
        req_h = req_h if req_h == "orig" else min(req_h, height)

    steps: list[Step] = []
    points = list(focus)
    if url.crop:
        left, top, right, bottom = (
            min(max(v, 0), limit) for v, limit in zip(url.crop, (width, height) * 2, strict=True)
        )
        if left < right and top < bottom:  # otherwise thumbor ignores the crop
            steps.append(Crop(left, top, right, bottom))
            points = [
                Focus(p.x - left, p.y - top, p.width, p.height, p.weight)
                for p in points
                if left <= p.x <= right and top <= p.y <= bottom
            ]
            width, height = right - left, bottom - top

    target_w, target_h = _target(width, height, req_w, req_h)
    given = tuple(points)
    if url.debug:
        return Plan(tuple(steps), (width, height), _resolve(width, height, req_w, req_h), given)
    if not points:
        fx, fy = compass.ALIGN[url.halign], compass.ALIGN[url.valign]
        points = [Focus(int(width * fx), int(height * fy))]

    if url.fit_in:
        resize, box = _fit_in(width, height, target_w, target_h, (req_w, req_h), url)
    else:
        box = _resolve(width, height, req_w, req_h)
        crop = None if "stretch" in names else _auto_crop(width, height, target_w, target_h, points)
        if crop:
            steps.append(crop)
            width, height = crop.right - crop.left, crop.bottom - crop.top
        resize = None
        if (target_w, target_h) != (width, height):
            resize = Resize(max(1, int(target_w)), max(1, int(target_h)))
    if resize:
        steps.append(resize)
        width, height = resize.width, resize.height
    steps += [Flip(True)] if url.flip_h else []
    steps += [Flip(False)] if url.flip_v else []
    return Plan(tuple(steps), (width, height), box, given)


def _target(width: int, height: int, req_w: Side, req_h: Side) -> tuple[float, float]:
    """thumbor's target size: `orig` is the source's side, a missing side proportional."""
    if not req_w and not req_h:
        return float(width), float(height)
    w = float(width) if req_w == "orig" else float(req_w)
    h = float(height) if req_h == "orig" else float(req_h)
    if not req_w:
        w = round(h * width / height, 0)  # Python rounds half to even, as thumbor does
    if not req_h:
        h = round(w * height / width, 0)
    return w, h


def _resolve(width: int, height: int, req_w: Side, req_h: Side) -> tuple[int, int]:
    return width if req_w == "orig" else req_w, height if req_h == "orig" else req_h


def _fit_in(
    width: int, height: int, tw: float, th: float, req: tuple[Side, Side], url: ThumborUrl
) -> tuple[Resize | None, tuple[int, int]]:
    req_w, req_h = req
    if url.adaptive and ((width < height and tw > th) or (width > height and tw < th)):
        tw, th, req_w, req_h = th, tw, req_h, req_w  # `orig` now names the other side
    req_w, req_h = _resolve(width, height, req_w, req_h)
    if not url.full and tw >= width and th >= height:
        return None, (req_w, req_h)  # fit-in never enlarges (upscale() does)
    tw, th = max(tw, 1.0), max(th, 1.0)
    sign = -1 if url.full else 1
    # thumbor adds 1e-5 so halves round up here (Python 2's rounding).
    if width / tw * sign >= height / th * sign:
        rw, rh = tw, round(height * tw / width + 1e-5)
    else:
        rw, rh = round(width * th / height + 1e-5), th
    box = (int(max(req_w, rw)), int(max(req_h, rh)))
    return Resize(max(1, int(rw)), max(1, int(rh))), box


def _auto_crop(
    width: int, height: int, tw: float, th: float, points: Sequence[Focus]
) -> Crop | None:
    """The window with the target's aspect centred on the focal points (clamped), or None
    when the aspects agree to two decimals (thumbor then stretches the last bit)."""
    if round(width / height, 2) == round((tw or 1) / (th or 1), 2):
        return None
    total = sum(p.weight for p in points)
    cx = sum(p.x * p.weight for p in points) // total
    cy = sum(p.y * p.weight for p in points) // total
    if tw / width > th / height:
        crop_w, crop_h = width, int(round(width * th / (tw or 1), 0))
    else:
        crop_w, crop_h = int(round(math.ceil(tw * height / (th or 1)), 0)), height
    crop_w, crop_h = max(1, crop_w), max(1, crop_h)
    left = round(min(max(cx - crop_w / 2, 0.0), width - crop_w))
    top = round(min(max(cy - crop_h / 2, 0.0), height - crop_h))
    return Crop(left, top, min(left + crop_w, width), min(top + crop_h, height), auto=True)
