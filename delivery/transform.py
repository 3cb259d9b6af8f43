"""The render pipeline: shrink-on-load resize to the asked geometry, then effects, overlays.

Order: geometry (resize + crop, rotation folded in so `wd`x`ht` is the final box) →
rotate/flip → AI edit (`edit=`, delivery/edits.py) → pad → tone (gray, blur, sharpen) →
watermark → text. thumbor URLs with operations beyond these run their own pipeline
(delivery/thumbor/pipeline.py).
"""

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

import pyvips

from delivery import compass
from delivery.params import RenderParams
from delivery.source import RenderSource
from shared import imaging
from shared.errors import PicshaError
from shared.settings import Settings

Source = Path | bytes
Box = tuple[float, float, float, float]  # left, top, width, height in source pixels

FONTS = {"sans": "DejaVu Sans", "serif": "DejaVu Serif", "mono": "DejaVu Sans Mono"}
# Gaussian blur as libvips' "approximate" precision (a sum of box filters) with the mask out
# to 0.05 of its peak (2.4 sigma; libvips' default 0.2 cuts the tails at 1.8). Its default on
# 8-bit images, integer precision, rounds the mask into fixed point and shifts brightness
# with sigma (+2.4 % at 3, -1.1 % at 20; 34-58 dB from the exact gaussian); approximate
# stays within 0.1 % and 56-63 dB for sigma 1-50, for ~3x the integer CPU (bench/README.md).
BLUR_OPTIONS = {"min_ampl": 0.05, "precision": "approximate"}
_SMART = {"attention": "attention", "entropy": "entropy"}
# Resampling a pyramid page by less than this blurs: a 50 MP photo fitted to 500 px from its
# 512 px page lost 1.2 dB against the original's render, 0.2 dB at 1.35x (docs/decisions.md).
PAGE_MARGIN = 1.4
_ANIMATED_FORMATS = ("gif", "webp")


@dataclass(frozen=True)
class Geometry:
    width: int | None
    height: int | None


@dataclass(frozen=True)
class Watermark:
    data: Source  # the path or bytes to decode
    info: RenderSource  # what is known of them: size, profile, alpha


@dataclass
class Job:
    data: Source  # the path or bytes to decode
    info: RenderSource  # what is known of them: size, profile, alpha, animation
    params: RenderParams
    geometry: Geometry
    fmt: str
    watermark: Watermark | None = None
    faces: list[Box] = field(default_factory=list)
    marks: tuple[Watermark, ...] = ()  # a Recipe's `marks`, loaded, in order


@dataclass(frozen=True)
class Recipe:
    """One request's render as planned for its source: /render's is its params alone; a URL
    grammar with operations /render lacks (thumbor's) brings its own pipeline, and a
    `canonical_extra` that keeps its ETags and stored renders apart from /render's."""

    params: RenderParams
    canonical_extra: str = ""
    pipeline: Callable[[Job], pyvips.Image] | None = None  # None: `render` below
    marks: tuple[str, ...] = ()  # asset ids the pipeline composites, in order
    encode: Callable[[pyvips.Image, str, int | None, list[float]], bytes] | None = None
    cache_control: str | None = None  # instead of the configured Cache-Control
    edit: Callable[[pyvips.Image], pyvips.Image] | None = None  # `render`'s edit step


def target_geometry(params: RenderParams, src: RenderSource, settings: Settings) -> Geometry:
    """Requested box in output pixels (dpr applied), checked against the output limits."""
    if src.width * src.height > settings.max_source_pixels:
        # Ingest refuses such sources; this guards manifests written by older versions.
        raise PicshaError(
            413,
            "limit_exceeded",
            f"source {src.width}x{src.height} exceeds "
            f"max_source_pixels={settings.max_source_pixels}",
        )
    w = _output_side("width", params.wd, params.dpr, settings.render_max_side)
    h = _output_side("height", params.ht, params.dpr, settings.render_max_side)
    if w and h and w * h > settings.render_max_pixels:
        raise PicshaError(
            413,
            "limit_exceeded",
            f"output {w}x{h} exceeds render_max_pixels={settings.render_max_pixels}",
        )
    return Geometry(w, h)


def _output_side(name: str, side: int | None, dpr: float, max_side: int) -> int | None:
    """`side` x `dpr` in whole pixels, or 400 over `max_side`.

    The side is compared before it meets the float `dpr`: thumbor URLs, and callers that
    skip validation, can hand over integers too big for a float (OverflowError).
    """
    if not side:
        return None
    scaled = side * dpr if side <= max_side else math.inf
    if not scaled <= max_side:  # (`not <=` refuses a NaN too)
        asked = f"{scaled:.0f}px" if math.isfinite(scaled) else f"over {max_side}px"
        raise PicshaError(
            400, "limit_exceeded", f"output {name} {asked} exceeds render_max_side={max_side}"
        )
    return round(scaled)


def keeps_animation(job: Job) -> bool:
    """Animation survives geometry and tone; frame-aware overlays would need per-frame work."""
    p = job.params
    return (
        job.info.animated
        and job.fmt in _ANIMATED_FORMATS
        and p.effective_fit in ("inside", "fill", "cover")
        and p.g in ("center", "attention", "entropy")
        and not (p.rot or p.flip or p.wm or p.txt)
    )


def render(job: Job, edit: Callable[[pyvips.Image], pyvips.Image] | None = None) -> pyvips.Image:
    image = _geometry(job)
    p = job.params
    if p.rot or p.flip:
        # Rotations and flips read pixels out of order, which a sequential (shrink-on-load)
        # decode cannot serve; the resized image is small, so decode it to memory first.
        image = imaging.in_memory(image)
    if p.rot:
        image = image.rot(f"d{p.rot}")
    if p.flip:
        image = image.flip("horizontal" if p.flip == "h" else "vertical")
    if edit is not None:
        image = edit(image)
    if p.effective_fit == "contain" and job.geometry.width and job.geometry.height:
        image = _pad(image, *_final_box(job), p)
    image = _tone(image, p)
    if job.watermark:
        image = _watermark(image, job.watermark, p)
    if p.txt:
        image = _text(image, p)
    return image


def _final_box(job: Job) -> tuple[int, int]:
    g = job.geometry
    return g.width or 0, g.height or 0


def _geometry(job: Job) -> pyvips.Image:
    p, src = job.params, job.info
    fit = p.effective_fit
    size = "both" if p.up else "down"
    w, h = job.geometry.width, job.geometry.height
    if p.rot in (90, 270):  # resize for the box the rotated result must fill
        w, h = h, w
    data = job.data
    if keeps_animation(job) and isinstance(data, Path):
        data = Path(f"{data}[n=-1]")
    if w is None and h is None:
        w, h = src.width, src.height
    srgb = src.has_icc
    if fit == "fill" and w and h:
        shrink = _jpeg_shrink(src, data, max(w / src.width, h / src.height))
        return imaging.thumbnail(data, w, h, size="force", to_srgb=srgb, jpeg_shrink=shrink)
    if fit == "cover" and w and h:
        if not p.up:
            w, h = _box_within(w, h, src.width, src.height)
        scale = max(w / src.width, h / src.height)
        shrink = _jpeg_shrink(src, data, scale)
        if p.g == "face" and not job.faces:
            return imaging.thumbnail(data, w, h, size=size, crop="attention", to_srgb=srgb,
                                     jpeg_shrink=shrink)  # fmt: skip
        if p.g in _SMART:
            return imaging.thumbnail(data, w, h, size=size, crop=_SMART[p.g], to_srgb=srgb,
                                     jpeg_shrink=shrink)  # fmt: skip
        if p.g != "face" and (cut := _cut_then_resize(job, data, w, h, shrink, size)):
            return cut
        # Face gravity, or an EXIF-rotated source: scale to cover the box, then cut.
        if not p.up:
            scale = min(scale, 1.0)
        cover_w = max(1, math.ceil(src.width * scale))
        cover_h = max(1, math.ceil(src.height * scale))
        image = imaging.thumbnail(data, cover_w, cover_h, size=size, to_srgb=srgb,
                                  jpeg_shrink=shrink)  # fmt: skip
        if p.g == "face":
            return _face_crop(image, w, h, job.faces, image.width / src.width)
        return _gravity_crop(image, w, h, p.g)
    scale = min(v for v in (w and w / src.width, h and h / src.height) if v)
    shrink = _jpeg_shrink(src, data, scale)
    if src.full_size:  # pyramid pages round their sides up: keep the source's own aspect
        w, h, size = *_inside(src.full_size, w, h), "force"
    return imaging.thumbnail(data, w or 10_000_000, h, size=size, to_srgb=srgb,
                             jpeg_shrink=shrink)  # fmt: skip


def _box_within(w: int, h: int, src_w: int, src_h: int) -> tuple[int, int]:
    """The cover box `w`x`h`, or, when filling it would need upscaling, the largest box of
    the same aspect ratio that needs none (DESIGN.md: 640x480 at 500x500 gives 480x480,
    never 500x480). libvips' size="down" would keep the side that fits and clip the other.
    """
    factor = min(1.0, src_w / w, src_h / h)
    return max(1, min(src_w, round(w * factor))), max(1, min(src_h, round(h * factor)))


def _inside(full: tuple[int, int], w: int | None, h: int | None) -> tuple[int, int]:
    """The size libvips' thumbnail gives an image of size `full` fitted inside `w` x `h`."""
    scale = min(v for v in (w and w / full[0], h and h / full[1]) if v)
    return max(1, round(full[0] * scale)), max(1, round(full[1] * scale))


def _cut_then_resize(
    job: Job, data: Source, w: int, h: int, shrink: int, size: str
) -> pyvips.Image | None:
    """Compass-gravity cover in thumbor's order: cut the window the box will show out of the
    (shrink-on-load) decode, then resize only that window.

    The same pixels as resize-then-cut (78 dB apart on the bench PNG) for ~20 % less CPU on
    a 4 MP PNG cut to 500x500, where libvips' premultiplied float resize is most of the
    work. None for byte sources and EXIF-rotated files (the window would be cut from
    unrotated pixels): the caller then resizes first.
    """
    if not isinstance(data, Path) or job.info.animated:
        return None
    base = imaging.load_sequential(data, shrink)
    if base.get_typeof("orientation") and base.get("orientation") != 1:
        return None
    scale = max(w / base.width, h / base.height)
    if size == "down":
        scale = min(scale, 1.0)
    win_w = min(base.width, max(1, round(w / scale)))
    win_h = min(base.height, max(1, round(h / scale)))
    x, y = compass.offset(base.width - win_w, base.height - win_h, job.params.g)
    window = base.extract_area(x, y, win_w, win_h)
    # crop="centre" trims the odd pixel that rounding the window may add.
    return imaging.thumbnail_image(window, w, h, size=size, crop="centre",
                                   to_srgb=job.info.has_icc)  # fmt: skip


def _jpeg_shrink(src: RenderSource, data: Source, scale: float) -> int:
    """The largest JPEG DCT shrink (8, 4, 2) that still decodes at least the target size, or
    the pyramid page to read (as its shrink, 2**page).

    libvips leaves a 2x margin when it chooses a JPEG shrink; decoding right at the target
    costs about 0.5-1 dB PSNR (measured in bench/render_vs_thumbor.py) for up to 2x less
    decode work.
    """
    if src.levels:  # a pyramid, as a file or (from S3) as bytes
        return _pyramid_shrink(src.levels, scale)
    if not isinstance(data, Path) or src.animated:
        return 1
    if not src.is_jpeg:
        return 1
    for factor in (8, 4, 2):
        if scale <= 1 / factor:
            return factor
    return 1


def _pyramid_shrink(levels: int, scale: float) -> int:
    """2**page of the smallest page at least PAGE_MARGIN times the output's size, or exactly
    it. (libvips' thumbnail takes the smallest page that is not smaller.)"""
    for page in range(levels - 1, 0, -1):
        ratio = 1 / (scale * 2**page)  # page pixels per output pixel
        if ratio >= PAGE_MARGIN or math.isclose(ratio, 1):
            return 2**page
    return 1


def source_scale(p: RenderParams, geometry: Geometry, src: RenderSource) -> float | None:
    """Output pixels per source pixel the render needs at most (rotation and `up` included);
    None when it reads the source's own pixel grid (no size, face boxes)."""
    w, h = geometry.width, geometry.height
    if p.g == "face" or (w is None and h is None):
        return None
    if p.rot in (90, 270):
        w, h = h, w
    scales = [v for v in (w and w / src.width, h and h / src.height) if v]
    return max(scales) if p.effective_fit in ("cover", "fill") else min(scales)


def _gravity_crop(image: pyvips.Image, w: int, h: int, gravity: str) -> pyvips.Image:
    w, h = min(w, image.width), min(h, image.height)
    x, y = compass.offset(image.width - w, image.height - h, gravity)
    return image.crop(x, y, w, h)


def _face_crop(image: pyvips.Image, w: int, h: int, faces: list[Box], scale: float) -> pyvips.Image:
    """Centre the window on the box around all faces, clamped to the image."""
    w, h = min(w, image.width), min(h, image.height)
    left = min(f[0] for f in faces) * scale
    top = min(f[1] for f in faces) * scale
    right = max(f[0] + f[2] for f in faces) * scale
    bottom = max(f[1] + f[3] for f in faces) * scale
    cx, cy = (left + right) / 2, (top + bottom) / 2
    x = int(min(max(cx - w / 2, 0), image.width - w))
    y = int(min(max(cy - h / 2, 0), image.height - h))
    return image.crop(x, y, w, h)


def _pad(image: pyvips.Image, w: int, h: int, params: RenderParams) -> pyvips.Image:
    if image.width >= w and image.height >= h:
        return image
    background = background_rgb(params)
    if image.hasalpha():
        background = [*background, 0 if params.bg is None else 255]
    if image.bands < 3:
        image = image.colourspace("srgb")
    return image.gravity("centre", max(w, image.width), max(h, image.height),
                         extend="background", background=background)  # fmt: skip


def _tone(image: pyvips.Image, p: RenderParams) -> pyvips.Image:
    if p.gray:
        image = image.colourspace("b-w")
    if p.blur:
        image = image.gaussblur(p.blur, **BLUR_OPTIONS)
    if p.sharpen:
        image = image.sharpen(sigma=p.sharpen)
    return image


def _with_alpha(image: pyvips.Image) -> pyvips.Image:
    image = imaging.web_ready(image)
    if image.bands < 3:
        image = image.colourspace("srgb")
    return image if image.hasalpha() else image.bandjoin(255)


def _place(base: pyvips.Image, over: pyvips.Image, position: str) -> tuple[int, int]:
    margin = max(2, round(min(base.width, base.height) * 0.02))
    return compass.offset(base.width - over.width, base.height - over.height, position, margin)


def _composite(base: pyvips.Image, over: pyvips.Image, position: str) -> pyvips.Image:
    x, y = _place(base, over, position)
    had_alpha = base.hasalpha()
    out = _with_alpha(base).composite2(over, "over", x=x, y=y)
    return out if had_alpha else out.flatten()


def _watermark(image: pyvips.Image, wm: Watermark, p: RenderParams) -> pyvips.Image:
    width = max(1, round(image.width * p.wm_scale))
    mark = imaging.thumbnail(wm.data, width, image.height, size="both", to_srgb=wm.info.has_icc)
    mark = _with_alpha(mark)
    alpha = mark[mark.bands - 1] * p.wm_opacity
    mark = mark.extract_band(0, n=mark.bands - 1).bandjoin(alpha.cast("uchar"))
    return _composite(image, mark.copy(interpretation="srgb"), p.wm_pos)


def _text(image: pyvips.Image, p: RenderParams) -> pyvips.Image:
    margin = max(2, round(min(image.width, image.height) * 0.02))
    # dpi=72 makes Pango points equal output pixels; the text is escaped, never markup.
    try:
        mask = pyvips.Image.text(
            escape(p.txt or ""),
            font=f"{FONTS[p.txt_font]} {p.txt_size}",
            dpi=72,
            width=max(1, image.width - 2 * margin),
            align="centre",
        )
    except pyvips.Error as exc:
        # Text that passed validation can still lay out to no ink at all (a braille blank,
        # U+2800): "no text to render". The request asked for it, so the request is wrong.
        detail = (exc.detail or str(exc)).strip()
        raise PicshaError(400, "invalid_parameter", f"txt: cannot be drawn ({detail})") from exc
    colour = [int(p.txt_color[i : i + 2], 16) for i in (0, 2, 4)]
    ink = (mask.new_from_image(colour).copy(interpretation="srgb")).bandjoin(mask)
    return _composite(image, ink, p.txt_pos)


def background_rgb(params: RenderParams) -> list[float]:
    text = params.bg or "ffffff"
    return [int(text[i : i + 2], 16) for i in (0, 2, 4)]
