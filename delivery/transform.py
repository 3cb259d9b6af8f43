"""The render pipeline: shrink-on-load resize to the asked geometry, then encode."""

import math
from dataclasses import dataclass
from pathlib import Path

import pyvips

from delivery.params import RenderParams
from delivery.source import RenderSource
from shared import imaging
from shared.errors import PicshaError
from shared.settings import Settings

# libvips thumbnail's crop names for the compass gravities it supports directly.
_SMART_CROP = {"center": "centre"}


@dataclass(frozen=True)
class Geometry:
    width: int | None
    height: int | None


def target_geometry(params: RenderParams, src: RenderSource, settings: Settings) -> Geometry:
    """Requested box in output pixels (dpr applied), checked against the output limits."""
    w = round(params.wd * params.dpr) if params.wd else None
    h = round(params.ht * params.dpr) if params.ht else None
    for name, value in (("width", w), ("height", h)):
        if value is not None and value > settings.render_max_side:
            raise PicshaError(
                400,
                "limit_exceeded",
                f"output {name} {value}px exceeds render_max_side={settings.render_max_side}",
            )
    out_w, out_h = w or src.width, h or src.height
    if out_w * out_h > settings.render_max_pixels and (w and h):
        raise PicshaError(
            413,
            "limit_exceeded",
            f"output {out_w}x{out_h} exceeds render_max_pixels={settings.render_max_pixels}",
        )
    return Geometry(w, h)


def render(
    source: Path | bytes, src: RenderSource, params: RenderParams, geometry: Geometry
) -> pyvips.Image:
    fit = params.effective_fit
    size = "both" if params.up else "down"
    w, h = geometry.width, geometry.height
    if w is None and h is None:
        w, h = src.width, src.height
    if fit == "fill" and w and h:
        return imaging.thumbnail(source, w, h, size="force", to_srgb=src.has_icc)
    if fit == "cover" and w and h:
        crop = _SMART_CROP.get(params.g)
        if crop:
            return imaging.thumbnail(source, w, h, size=size, crop=crop, to_srgb=src.has_icc)
        # Compass gravity: scale to cover the box (one shrink-on-load), then cut.
        scale = max(w / src.width, h / src.height)
        if not params.up:
            scale = min(scale, 1.0)
        cover_w = max(1, math.ceil(src.width * scale))
        cover_h = max(1, math.ceil(src.height * scale))
        image = imaging.thumbnail(source, cover_w, cover_h, size=size, to_srgb=src.has_icc)
        return _gravity_crop(image, w, h, params.g)
    image = imaging.thumbnail(source, w or 10_000_000, h, size=size, to_srgb=src.has_icc)
    if fit == "contain" and w and h:
        image = _pad(image, w, h, params)
    return image


def _gravity_crop(image: pyvips.Image, w: int, h: int, gravity: str) -> pyvips.Image:
    w, h = min(w, image.width), min(h, image.height)
    dx, dy = image.width - w, image.height - h
    x = {"west": 0, "nw": 0, "sw": 0, "east": dx, "ne": dx, "se": dx}.get(gravity, dx // 2)
    y = {"north": 0, "nw": 0, "ne": 0, "south": dy, "sw": dy, "se": dy}.get(gravity, dy // 2)
    return image.crop(x, y, w, h)


def _pad(image: pyvips.Image, w: int, h: int, params: RenderParams) -> pyvips.Image:
    if image.width == w and image.height == h:
        return image
    background = background_rgb(params)
    if image.hasalpha() and params.bg is None:
        background = [*background, 0]  # transparent padding for alpha sources
    elif image.hasalpha():
        background = [*background, 255]
    if image.bands < 3:
        image = image.colourspace("srgb")
    return image.gravity("centre", w, h, extend="background", background=background)


def background_rgb(params: RenderParams) -> list[float]:
    text = params.bg or "ffffff"
    return [int(text[i : i + 2], 16) for i in (0, 2, 4)]
